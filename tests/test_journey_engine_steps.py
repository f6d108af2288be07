"""Each step kind against the clock: ticks at chosen instants over a hand-made warehouse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from engine_support import T0, EngineBench

from waymark.journeys.assignment import assignment_point, choose_variant, in_control_group
from waymark.journeys.spec import HoldoutStep, SplitStep

H = timedelta(hours=1)


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[EngineBench]:
    bench = EngineBench(tmp_path)
    yield bench
    bench.close()


EMAIL = (
    "send: {channel: email, destination: email_smtp, template: hello_email, "
    "purpose: email_marketing}"
)


def test_wait_duration_holds_until_due_then_sends(bench: EngineBench) -> None:
    bench.journey(
        f"""
        name: waiter
        description: waits an hour after adding to cart, then emails
        entry: {{event: product_added}}
        steps:
          - id: an_hour
            wait: {{duration: 1h}}
          - {{id: mail, {EMAIL}}}
        """
    )
    bench.customer("c1")
    bench.track("c1", T0 + timedelta(minutes=5), "Product Added", cart_id="k1")
    assert bench.tick(T0 + timedelta(minutes=10)).entered == 1
    assert bench.instance("c1")["next_due_at"] == T0 + timedelta(minutes=65)
    assert bench.tick(T0 + timedelta(minutes=64)).sent == 0
    assert bench.outbox() == []
    result = bench.tick(T0 + timedelta(minutes=65))
    assert result.sent == 1
    [row] = bench.outbox()
    assert row["idempotency_key"] == f"waiter:{bench.instance('c1')['instance_id']}:mail"
    assert row["queued_at"] == T0 + timedelta(minutes=65)
    payload = json.loads(row["payload"])
    assert payload == {"subject": "Hi C1", "html": "<p>Hello C1</p>", "text": "Hello C1 (mail)"}
    assert (row["channel"], row["destination"], row["template"], row["state"]) == (
        "email",
        "email_smtp",
        "hello_email",
        "pending",
    )
    assert bench.log("c1") == [
        ("an_hour", "entered", "event:product_added"),
        ("an_hour", "advanced", "wait_elapsed"),
        ("mail", "sent", None),
        ("mail", "exited", "completed"),
    ]
    assert bench.instance("c1")["status"] == "exited"


def test_a_late_tick_measures_the_next_wait_from_when_the_last_ended(bench: EngineBench) -> None:
    bench.journey(
        """
        name: two_waits
        description: two waits back to back
        entry: {event: product_added}
        steps:
          - {id: first, wait: {duration: 1h}}
          - {id: second, wait: {duration: 1h}}
          - {id: done, exit: {reason: waited}}
        """
    )
    bench.customer("c1")
    bench.track("c1", T0, "Product Added", cart_id="k1")
    bench.tick(T0 + timedelta(minutes=90))  # the first wait ended at T0+1h
    instance = bench.instance("c1")
    assert (instance["current_step"], instance["step_entered_at"]) == ("second", T0 + H)
    assert instance["next_due_at"] == T0 + 2 * H
    bench.tick(T0 + 2 * H)
    assert bench.instance("c1")["exit_reason"] == "waited"


def test_wait_until_time_of_day_uses_the_customers_clock(bench: EngineBench) -> None:
    bench.journey(
        """
        name: morning
        description: next 09:00 local
        entry: {audience: new_leads_no_purchase_7d}
        steps:
          - id: nine
            wait: {until_time_of_day: "09:00"}
          - {id: done, exit: {reason: morning}}
        """
    )
    bench.customer("berlin", timezone="Europe/Berlin")
    bench.customer("sydney", timezone="Australia/Sydney")
    bench.customer("unknown_zone", timezone="Mars/Olympus")
    bench.customer("no_zone", timezone=None)
    for customer in ("berlin", "sydney", "unknown_zone", "no_zone"):
        bench.join("new_leads_no_purchase_7d", customer, T0)
    bench.tick(T0)
    # 12:00 UTC is 14:00 in Berlin (summer time) and 22:00 in Sydney: both wait for tomorrow.
    assert bench.instance("berlin")["next_due_at"] == datetime(2026, 6, 16, 7, 0)
    assert bench.instance("sydney")["next_due_at"] == datetime(2026, 6, 15, 23, 0)
    # An unknown or missing zone falls back to UTC (no send window, so no fallback given).
    assert bench.instance("unknown_zone")["next_due_at"] == datetime(2026, 6, 16, 9, 0)
    assert bench.instance("no_zone")["next_due_at"] == datetime(2026, 6, 16, 9, 0)
    bench.tick(datetime(2026, 6, 15, 23, 0))
    assert bench.instance("sydney")["exit_reason"] == "morning"
    assert bench.instance("berlin")["status"] == "active"


def test_wait_until_a_profile_timestamp_plus_offset(bench: EngineBench) -> None:
    bench.journey(
        """
        name: anniversary
        description: a day before the first order's anniversary... of a week
        entry: {audience: high_value_at_risk}
        steps:
          - id: before
            wait: {until_profile_timestamp: first_order_at, offset: 7d}
          - {id: done, exit: {reason: reached}}
        """
    )
    bench.customer("future", first_order_at=T0 - timedelta(days=2))
    bench.customer("past", first_order_at=T0 - timedelta(days=30))
    bench.customer("never", first_order_at=None)
    for customer in ("future", "past", "never"):
        bench.join("high_value_at_risk", customer, T0)
    bench.tick(T0)
    assert bench.instance("past")["exit_reason"] == "reached"  # already passed: at once
    assert bench.instance("never")["exit_reason"] == "missing_profile_timestamp"
    assert bench.instance("future")["next_due_at"] == T0 + timedelta(days=5)
    # The trait moved while it waited: the wait follows it.
    bench.update_customer("future", first_order_at=T0)
    bench.tick(T0 + timedelta(days=5))
    assert bench.instance("future")["next_due_at"] == T0 + timedelta(days=7)
    bench.tick(T0 + timedelta(days=7))
    assert bench.instance("future")["exit_reason"] == "reached"


WAIT_FOR_CHECKOUT = """
    name: checkout_wait
    description: wait for checkout or give up
    entry: {event: product_added}
    instance_key: properties.cart_id
    steps:
      - id: wait_checkout
        wait_until_event:
          event: checkout_started
          where: {value: {gte: 20}}
          timeout: 2h
          on_event: checked_out
          on_timeout: gave_up
      - {id: checked_out, exit: {reason: checked_out}}
      - {id: gave_up, exit: {reason: gave_up}}
"""


def test_wait_until_event_first_wins_and_matches_the_instance_key(bench: EngineBench) -> None:
    bench.journey(WAIT_FOR_CHECKOUT)
    bench.customers(["quick", "slow", "cheap", "other_cart"])
    for customer in ("quick", "slow", "cheap", "other_cart"):
        bench.track(customer, T0, "Product Added", cart_id=f"{customer}_cart")
    bench.track(
        "quick", T0 + timedelta(minutes=30), "Checkout Started", cart_id="quick_cart", value=25
    )
    bench.track(
        "slow", T0 + timedelta(minutes=150), "Checkout Started", cart_id="slow_cart", value=25
    )
    bench.track(
        "cheap", T0 + timedelta(minutes=20), "Checkout Started", cart_id="cheap_cart", value=5
    )
    bench.track("other_cart", T0 + timedelta(minutes=20), "Checkout Started", cart_id="x", value=50)
    bench.tick(T0 + H)
    assert bench.instance("quick")["exit_reason"] == "checked_out"
    assert bench.log("quick")[1] == ("wait_checkout", "advanced", "event:checkout_started")
    for customer in ("slow", "cheap", "other_cart"):
        assert bench.instance(customer)["status"] == "active"
    # At 3h both the timeout (2h) and slow's checkout (2.5h) have passed: the timeout came first.
    bench.tick(T0 + 3 * H)
    for customer in ("slow", "cheap", "other_cart"):
        assert bench.instance(customer)["exit_reason"] == "gave_up", customer
    assert bench.log("slow")[1] == ("wait_checkout", "advanced", "timeout")


def test_branch_on_traits_and_audience_membership(bench: EngineBench) -> None:
    bench.journey(
        """
        name: brancher
        description: route by trait and audience
        entry: {audience: new_leads_no_purchase_7d}
        steps:
          - id: route
            branch:
              conditions:
                - when: {in_audience: vip_lookalike_seed}
                  next: vip
                - when:
                    all:
                      - {trait: revenue, op: gte, value: 100}
                      - {not: {trait: country, op: eq, value: DE}}
                  next: big
              else: small
          - {id: vip, exit: {reason: vip}}
          - {id: big, exit: {reason: big}}
          - {id: small, exit: {reason: small}}
        """
    )
    bench.customer("vip", revenue=10)
    bench.customer("rich", revenue=150, country="FR")
    bench.customer("rich_no_country", revenue=150, country=None)
    bench.customer("rich_de", revenue=150, country="DE")
    bench.customer("former_vip", revenue=10)
    bench.join("vip_lookalike_seed", "vip", T0 - H)
    bench.join("vip_lookalike_seed", "former_vip", T0 - 5 * H)
    bench.leave("vip_lookalike_seed", "former_vip", T0 - 2 * H)
    for customer in ("vip", "rich", "rich_no_country", "rich_de", "former_vip"):
        bench.join("new_leads_no_purchase_7d", customer, T0)
    bench.tick(T0)
    reasons = {
        c: bench.instance(c)["exit_reason"] for c in ("vip", "rich", "rich_de", "former_vip")
    }
    assert reasons == {"vip": "vip", "rich": "big", "rich_de": "small", "former_vip": "small"}
    # A null trait fails `eq`, so `not` of it holds.
    assert bench.instance("rich_no_country")["exit_reason"] == "big"
    assert ("route", "branched", "when[1]") in bench.log("rich")


def test_split_and_holdout_follow_the_reference_assignment(bench: EngineBench) -> None:
    bench.journey(
        """
        name: experiment
        description: holdout then A/B/C
        salt: exp_2026
        entry: {audience: new_leads_no_purchase_7d}
        steps:
          - id: control_group
            holdout: {percent: 25}
          - id: abc
            split:
              variants:
                - {name: a, weight: 1, next: done}
                - {name: b, weight: 2, next: done}
                - {name: c, weight: 1, next: done}
          - {id: done, exit: {reason: assigned}}
        """
    )
    customers = [f"cus_{n:04d}" for n in range(400)]
    bench.customers(customers)
    for customer in customers:
        bench.join("new_leads_no_purchase_7d", customer, T0)
    bench.tick(T0)
    journey = next(j for j in bench.project().journeys if j.name == "experiment")
    holdout, split = journey.step("control_group"), journey.step("abc")
    assert isinstance(holdout, HoldoutStep) and isinstance(split, SplitStep)
    rows = bench.query(
        "select customer_id, holdout_group, variant, exit_reason from journeys.journey_instances"
    )
    assert len(rows) == 400
    for customer, group, variant, reason in rows:
        control = in_control_group(
            holdout.holdout, assignment_point("exp_2026", "control_group", customer)
        )
        assert group == ("control" if control else "treatment")
        if control:
            assert (variant, reason) == (None, "holdout")
        else:
            expected = choose_variant(split.split, assignment_point("exp_2026", "abc", customer))
            assert (variant, reason) == (expected.name, "assigned")
    shares = dict(
        bench.query("select variant, count(*) from journeys.journey_instances group by 1")
    )
    assert 0.15 < shares[None] / 400 < 0.35 and shares["b"] > shares["a"]


def test_update_profile_tag_and_templated_values(bench: EngineBench) -> None:
    bench.journey(
        """
        name: profiler
        description: write attributes and a tag
        entry: {event: ticket_opened}
        steps:
          - id: flag
            update_profile: {attribute: route_to_senior_agent, value: true}
          - id: note
            update_profile: {attribute: last_ticket, value: "{{ event.ticket_id | upper }}"}
          - id: tagged
            tag: needs_care
        """
    )
    bench.customer("c1")
    bench.event("c1", T0, "ticket_opened", "billing", ticket_id="t-9", status="open")
    bench.tick(T0)
    attributes = bench.query(
        "select attribute, value from journeys.profile_attributes order by attribute"
    )
    assert attributes == [("last_ticket", '"T-9"'), ("route_to_senior_agent", "true")]
    assert bench.query("select customer_id, tag from journeys.profile_tags") == [
        ("c1", "needs_care")
    ]
    assert bench.instance("c1")["exit_reason"] == "completed"


def test_goal_exit_when_and_audience_exit(bench: EngineBench) -> None:
    bench.journey(
        """
        name: lead_flow
        description: exits when leaving the audience or ordering; goal on orders
        entry: {audience: new_leads_no_purchase_7d}
        goal: {event: order_placed, within: 3d}
        exit_when:
          - event: order_completed
          - audience_exit: new_leads_no_purchase_7d
        steps:
          - {id: hold, wait: {duration: 10d}}
        """
    )
    bench.customers(["orders", "leaves", "rejoins", "late_goal"])
    for customer in ("orders", "leaves", "rejoins", "late_goal"):
        bench.join("new_leads_no_purchase_7d", customer, T0)
    bench.tick(T0)
    bench.track("orders", T0 + H, "Order Completed", order_id="o1")
    bench.event("orders", T0 + H, "order_placed", "paid", order_id="o1", total=30)
    bench.leave("new_leads_no_purchase_7d", "leaves", T0 + H)
    bench.leave("new_leads_no_purchase_7d", "rejoins", T0 + H)
    bench.join("new_leads_no_purchase_7d", "rejoins", T0 + 2 * H)
    bench.event("late_goal", T0 + timedelta(days=4), "order_placed", "paid", order_id="o2")
    bench.tick(T0 + 3 * H)
    assert bench.instance("orders")["exit_reason"] == "exit_event:order_completed"
    assert bench.instance("orders")["converted_at"] == T0 + H
    assert bench.instance("leaves")["exit_reason"] == "audience_exit:new_leads_no_purchase_7d"
    assert bench.instance("rejoins")["status"] == "active"
    bench.tick(T0 + timedelta(days=5))
    assert bench.instance("late_goal")["converted_at"] is None  # outside the 3-day window
    # Exits are applied first in a tick, so the conversion is logged outside any step.
    assert [r for r in bench.log("orders") if r[1] == "converted"] == [
        (None, "converted", "goal:order_placed")
    ]


def test_the_same_tick_twice_changes_nothing(bench: EngineBench) -> None:
    bench.journey(WAIT_FOR_CHECKOUT)
    bench.customers(["a", "b"])
    bench.track("a", T0, "Product Added", cart_id="k1")
    bench.track("b", T0, "Product Added", cart_id="k2")
    bench.tick(T0 + 3 * H)
    state = bench.query("select * from journeys.journey_instances order by instance_id")
    log = bench.query("select * from journeys.journey_step_log order by instance_id, seq")
    again = bench.tick(T0 + 3 * H)
    assert (again.entered, again.advanced, again.sent, sum(again.exited.values())) == (0, 0, 0, 0)
    assert bench.query("select * from journeys.journey_instances order by instance_id") == state
    assert bench.query("select * from journeys.journey_step_log order by instance_id, seq") == log
