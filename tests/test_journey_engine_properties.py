"""Properties over thousands of customers and days of ticks: no send breaks a frequency cap or a
send window, and split assignments are sticky and equal to the reference hashing.

Hypothesis draws the rules (caps, windows across midnight or not, tick spacing) and a seed from
which the customers' time zones and entry events are hashed in SQL, so each example is a few
thousand customers without a Python loop over them.
"""

from __future__ import annotations

import tempfile
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from engine_support import T0, EngineBench
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waymark.journeys.assignment import assignment_point, choose_variant
from waymark.journeys.spec import SplitStep

ZONES = ["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo", "Australia/Sydney",
         "Asia/Kolkata", None, "Not/AZone"]  # fmt: skip
CUSTOMERS, DAYS = 2000, 3
EMAIL = (
    "send: {channel: email, destination: email_smtp, template: hello_email, "
    "purpose: email_marketing}"
)


def journeys(bench: EngineBench, rules: dict) -> None:
    bench.journey(
        f"""
        name: offers
        description: capped, windowed, split email per ticket
        priority: 20
        entry: {{event: ticket_opened}}
        instance_key: properties.ticket_id
        send_window: {{start: "{rules["start"]:%H:%M}", end: "{rules["end"]:%H:%M}",
                       fallback_timezone: {rules["fallback"]}}}
        frequency_caps:
          - {{channel: email, max: {rules["journey_max"]}, per: {rules["journey_per"]}h,
              scope: journey}}
          - {{channel: email, max: {rules["global_max"]}, per: {rules["global_per"]}h,
              scope: global}}
        steps:
          - id: pick
            split:
              variants:
                - {{name: a, weight: {rules["weight_a"]}, next: mail}}
                - {{name: b, weight: 1, next: mail}}
          - {{id: mail, {EMAIL}}}
          - {{id: later, wait: {{duration: {rules["gap"]}h}}}}
          - {{id: again, {EMAIL}}}
        """
    )
    bench.journey(
        f"""
        name: notices
        description: an uncapped competing email on solved tickets
        priority: {rules["other_priority"]}
        entry: {{event: ticket_solved}}
        instance_key: properties.ticket_id
        steps:
          - {{id: notice, {EMAIL}}}
        """
    )


rules_strategy = st.fixed_dictionaries(
    {
        "start": st.sampled_from([time(8), time(9, 30), time(22), time(0), time(13)]),
        "end": st.sampled_from([time(20), time(21), time(6), time(2), time(18, 30)]),
        "fallback": st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo"]),
        "journey_max": st.integers(1, 3),
        "journey_per": st.sampled_from([6, 24, 48]),
        "global_max": st.integers(1, 4),
        "global_per": st.sampled_from([12, 24, 72]),
        "weight_a": st.integers(1, 4),
        "gap": st.sampled_from([1, 5, 30]),
        "other_priority": st.sampled_from([10, 30]),
        "every": st.sampled_from([2, 3, 4]),
        "seed": st.integers(0, 2**31),
    }
).filter(lambda r: r["start"] != r["end"])


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(rules=rules_strategy)
def test_no_send_breaks_a_cap_or_a_window_and_splits_are_sticky(rules: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        bench = EngineBench(Path(folder))
        try:
            journeys(bench, rules)
            bench.many_customers(CUSTOMERS, rules["seed"], ZONES)
            minutes = DAYS * 24 * 60
            bench.many_events("ticket_opened", CUSTOMERS, rules["seed"], 3, minutes)
            bench.many_events("ticket_solved", CUSTOMERS, rules["seed"] + 1, 2, minutes)
            bench.run(T0, T0 + timedelta(days=DAYS + 1), timedelta(hours=rules["every"]))
            check(bench, rules)
        finally:
            bench.close()


def check(bench: EngineBench, rules: dict) -> None:
    sends = bench.query(
        "select o.journey, o.customer_id, o.queued_at, c.timezone from journeys.journey_outbox "
        "as o join marts.customers as c using (customer_id) order by o.queued_at"
    )
    assert len(sends) > CUSTOMERS // 2  # the rules let plenty through
    start, end = rules["start"], rules["end"]
    history: dict[str, list[tuple[str, object]]] = {}
    for journey, customer, queued_at, zone_name in sends:
        history.setdefault(customer, []).append((journey, queued_at))
        if journey != "offers":
            continue
        try:
            zone = ZoneInfo(zone_name) if zone_name else ZoneInfo(rules["fallback"])
        except (KeyError, ValueError):
            zone = ZoneInfo(rules["fallback"])
        clock = queued_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).time()
        inside = start <= clock < end if start < end else clock >= start or clock < end
        assert inside, (customer, queued_at, zone, rules)
    journey_per = timedelta(hours=rules["journey_per"])
    global_per = timedelta(hours=rules["global_per"])
    for customer, sent in history.items():
        for journey, at in sent:
            if journey != "offers":
                continue
            mine = [t for j, t in sent if j == "offers" and at - journey_per < t <= at]
            every = [t for _, t in sent if at - global_per < t <= at]
            assert len(mine) <= rules["journey_max"], (customer, at, rules)
            assert len(every) <= rules["global_max"], (customer, at, rules)
    suppressed = dict(
        bench.query(
            "select reason, count(*) from journeys.journey_step_log "
            "where action = 'suppressed' group by 1"
        )
    )
    assert set(suppressed) <= {"frequency_cap", "quiet_hours", "priority"}
    assert suppressed.get("quiet_hours"), "the window held sends back"
    split = next(j for j in bench.project().journeys if j.name == "offers").step("pick")
    assert isinstance(split, SplitStep)
    variants = bench.query(
        "select customer_id, list(distinct variant) from journeys.journey_instances "
        "where journey = 'offers' and variant is not null group by 1"
    )
    assert len(variants) > CUSTOMERS // 3
    for customer, seen in variants:
        expected = choose_variant(split.split, assignment_point("offers", "pick", customer))
        assert seen == [expected.name], customer
