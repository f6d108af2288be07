"""Send rules and entry rules against the clock: caps, quiet hours, priority, consent, re-entry,
instance keys, and time that only moves forward."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from engine_support import T0, EngineBench

from waymark.journeys.engine.sql import EngineError

H, D = timedelta(hours=1), timedelta(days=1)
SEND = (
    "send: {{channel: {channel}, destination: {destination}, template: {template}, "
    "purpose: {purpose}}}"
)
EMAIL = SEND.format(
    channel="email", destination="email_smtp", template="hello_email", purpose="email_marketing"
)
SMS = SEND.format(
    channel="sms", destination="sms_twilio", template="hello_sms", purpose="sms_marketing"
)


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[EngineBench]:
    bench = EngineBench(tmp_path)
    yield bench
    bench.close()


def mailer(name: str, *, extra: str = "", priority: int = 0, entry: str = "ticket_opened") -> str:
    """A journey that emails once per ticket (an instance per ticket id)."""
    return f"""
        name: {name}
        description: emails each time
        priority: {priority}
        entry: {{event: {entry}}}
        instance_key: properties.ticket_id
        {extra}
        steps:
          - {{id: mail, {EMAIL}}}
        """


def test_journey_and_global_caps_over_rolling_windows(bench: EngineBench) -> None:
    caps = (
        "frequency_caps:\n"
        "          - {channel: email, max: 2, per: 1d, scope: journey}\n"
        "          - {channel: email, max: 3, per: 7d, scope: global}"
    )
    bench.journey(mailer("capped", extra=caps))
    bench.journey(mailer("other", entry="ticket_solved"))
    bench.customer("c1")
    # Three entries in one tick: the journey cap (2 a day) stops the third.
    for minute in (1, 2, 3):
        bench.event(
            "c1", T0 + timedelta(minutes=minute), "ticket_opened", "x", ticket_id=f"t{minute}"
        )
    bench.tick(T0 + timedelta(minutes=5))
    sent = [row["journey"] for row in bench.outbox()]
    assert sent == ["capped", "capped"]
    suppressed = bench.query(
        "select reason, disposition, detail from journeys.journey_step_log "
        "where action = 'suppressed'"
    )
    assert suppressed == [("frequency_cap", "dropped", "journey email max 2 per 1d")]
    # Another journey's email counts toward the global cap only.
    bench.event("c1", T0 + 2 * H, "ticket_solved", "x", ticket_id="s1")
    bench.tick(T0 + 3 * H)
    # A day later the journey cap has room again, the global one (3 in 7 days) does not.
    bench.event("c1", T0 + D + 2 * H, "ticket_opened", "x", ticket_id="t4")
    bench.tick(T0 + D + 3 * H)
    assert [row["journey"] for row in bench.outbox()] == ["capped", "capped", "other"]
    last = bench.query(
        "select detail from journeys.journey_step_log where action = 'suppressed' "
        "order by tick_as_of desc limit 1"
    )
    assert last == [("global email max 3 per 7d",)]
    # Seven days after the first sends the window has rolled past them.
    bench.event("c1", T0 + 7 * D + 2 * H, "ticket_opened", "x", ticket_id="t5")
    bench.tick(T0 + 7 * D + 3 * H)
    assert len(bench.outbox("capped")) == 3


def test_a_dropped_delivery_does_not_count_toward_caps(bench: EngineBench) -> None:
    bench.journey(mailer("capped", extra="frequency_caps: [{channel: email, max: 1, per: 1d}]"))
    bench.customer("c1")
    bench.event("c1", T0, "ticket_opened", "x", ticket_id="t1")
    bench.tick(T0)
    bench.con.execute("update journeys.journey_outbox set state = 'dropped'")
    bench.event("c1", T0 + H, "ticket_opened", "x", ticket_id="t2")
    bench.tick(T0 + H)
    assert len(bench.outbox()) == 2


def test_quiet_hours_delay_to_the_next_window_start_in_the_customers_zone(
    bench: EngineBench,
) -> None:
    window = 'send_window: {start: "08:00", end: "21:00", fallback_timezone: America/New_York}'
    bench.journey(mailer("windowed", extra=window))
    bench.customer("tokyo", timezone="Asia/Tokyo")  # 12:00 UTC = 21:00 in Tokyo: closed
    bench.customer("london", timezone="Europe/London")  # 13:00: open
    bench.customer("nowhere", timezone=None)  # fallback New York, 08:00: open
    for customer in ("tokyo", "london", "nowhere"):
        bench.event(customer, T0, "ticket_opened", "x", ticket_id=customer)
    bench.tick(T0)
    assert sorted(row["customer_id"] for row in bench.outbox()) == ["london", "nowhere"]
    tokyo = bench.instance("tokyo")
    assert (tokyo["current_step"], tokyo["next_due_at"]) == ("mail", datetime(2026, 6, 15, 23, 0))
    assert bench.log("tokyo")[-1] == ("mail", "suppressed", "quiet_hours")
    bench.tick(datetime(2026, 6, 15, 22, 59))
    assert len(bench.outbox()) == 2
    bench.tick(datetime(2026, 6, 15, 23, 0))  # 08:00 in Tokyo
    assert sorted(row["customer_id"] for row in bench.outbox()) == ["london", "nowhere", "tokyo"]
    assert bench.outbox()[-1]["queued_at"] == datetime(2026, 6, 15, 23, 0)


def test_a_window_across_midnight(bench: EngineBench) -> None:
    bench.journey(mailer("night_owl", extra='send_window: {start: "22:00", end: "02:00"}'))
    bench.customer("c1", timezone="UTC")
    bench.event("c1", T0, "ticket_opened", "x", ticket_id="t1")
    bench.tick(T0)
    assert bench.instance("c1")["next_due_at"] == datetime(2026, 6, 15, 22, 0)
    bench.tick(datetime(2026, 6, 16, 1, 59))
    assert len(bench.outbox()) == 1


def test_priority_one_journey_per_customer_and_channel_per_tick(bench: EngineBench) -> None:
    bench.journey(mailer("important", priority=50))
    bench.journey(mailer("ordinary", priority=10))
    bench.journey(mailer("texting").replace(EMAIL, SMS))
    bench.customer("c1")
    bench.event("c1", T0, "ticket_opened", "x", ticket_id="t1")
    bench.tick(T0)
    assert sorted((r["journey"], r["channel"]) for r in bench.outbox()) == [
        ("important", "email"),
        ("texting", "sms"),
    ]
    log = bench.query(
        "select journey, reason, detail from journeys.journey_step_log where action = 'suppressed'"
    )
    assert log == [("ordinary", "priority", "important")]


def test_consent_address_and_transactional_sends(bench: EngineBench) -> None:
    bench.journey(mailer("marketing"))
    transactional = mailer("receipts", entry="ticket_solved").replace(
        "email_marketing", "transactional"
    )
    bench.journey(transactional)
    bench.customer("denied", email_marketing_consent="denied")
    bench.customer("no_email", email=None)
    for customer in ("denied", "no_email"):
        bench.event(customer, T0, "ticket_opened", "x", ticket_id=customer)
        bench.event(customer, T0, "ticket_solved", "x", ticket_id=customer)
    bench.event("ghost", T0, "ticket_opened", "x", ticket_id="ghost")  # merged away
    bench.tick(T0)
    reasons = bench.query(
        "select customer_id, journey, reason from journeys.journey_step_log "
        "where action = 'suppressed' order by all"
    )
    assert reasons == [
        ("denied", "marketing", "no_consent:denied"),
        ("ghost", "marketing", "unknown_customer"),
        ("no_email", "marketing", "no_address"),
        ("no_email", "receipts", "no_address"),
    ]
    assert [(r["customer_id"], r["journey"]) for r in bench.outbox()] == [("denied", "receipts")]


RE_ENTRY = """
    name: {name}
    description: re-entry rule {mode}
    entry: {{audience: new_leads_no_purchase_7d}}
    re_entry: {rule}
    steps:
      - {{id: hold, wait: {{duration: 2d}}}}
"""


@pytest.mark.parametrize(
    ("mode", "rule", "expected"),
    [
        ("never", "{mode: never}", 1),
        ("cooldown", "{mode: after_cooldown, cooldown: 5d}", 2),
        ("every_time", "{mode: every_time}", 3),
    ],
)
def test_re_entry_rules(bench: EngineBench, mode: str, rule: str, expected: int) -> None:
    bench.journey(RE_ENTRY.format(name=f"re_{mode}", mode=mode, rule=rule))
    bench.customer("c1")
    # Memberships start at day 0, 3 (the first instance ended at day 2) and 6.
    for day in (0, 3, 6):
        bench.join("new_leads_no_purchase_7d", "c1", T0 + day * D)
        bench.tick(T0 + day * D)
        bench.leave("new_leads_no_purchase_7d", "c1", T0 + day * D + H)
        bench.tick(T0 + day * D + 2 * D)
    entries = bench.query("select entered_at from journeys.journey_instances order by 1")
    assert len(entries) == expected
    if mode == "cooldown":  # day 3 is within 5 days of day 0; day 6 is not
        assert [row[0] for row in entries] == [T0, T0 + 6 * D]


def test_every_time_never_runs_two_instances_at_once(bench: EngineBench) -> None:
    bench.journey(RE_ENTRY.format(name="overlap", mode="every_time", rule="{mode: every_time}"))
    bench.customer("c1")
    bench.join("new_leads_no_purchase_7d", "c1", T0)
    bench.leave("new_leads_no_purchase_7d", "c1", T0 + H)
    bench.join("new_leads_no_purchase_7d", "c1", T0 + 2 * H)  # while the first still waits
    bench.tick(T0 + 3 * H)
    bench.tick(T0 + 4 * H)
    assert len(bench.query("select * from journeys.journey_instances")) == 1


def test_instance_keys_let_one_customer_have_two_carts(bench: EngineBench) -> None:
    bench.journey(
        """
        name: carts
        description: one instance per cart
        entry: {event: [product_added, checkout_started]}
        instance_key: properties.cart_id
        steps:
          - {id: hold, wait: {duration: 1d}}
        """
    )
    bench.customer("c1")
    bench.track("c1", T0, "Product Added", cart_id="k1", name="Lamp", price=20)
    bench.track("c1", T0 + H, "Product Added", cart_id="k1", name="Mug", price=5)
    bench.track("c1", T0 + H, "Checkout Started", cart_id="k2", value=30)
    bench.track("c1", T0 + H, "Product Added", name="no cart")  # no key: no instance
    bench.tick(T0 + 2 * H)
    rows = bench.query(
        "select instance_key, entry_event, entered_at from journeys.journey_instances order by 1"
    )
    assert rows == [("k1", "product_added", T0), ("k2", "checkout_started", T0 + H)]


def test_ticks_only_move_forward(bench: EngineBench) -> None:
    bench.journey(mailer("m"))
    bench.customer("c1")
    bench.tick(T0)
    with pytest.raises(EngineError, match="before the latest tick"):
        bench.tick(T0 - H)


def test_a_late_event_within_the_lookback_still_enters(bench: EngineBench) -> None:
    bench.journey(mailer("m"))
    bench.customer("c1")
    bench.tick(T0)
    bench.event("c1", T0 - 3 * H, "ticket_opened", "x", ticket_id="late")  # lands after the tick
    bench.tick(T0 + H)
    assert len(bench.outbox()) == 1
    bench.event("c1", T0 - 30 * H, "ticket_opened", "x", ticket_id="too_late")
    bench.tick(T0 + 2 * H)
    assert len(bench.outbox()) == 1


def test_schedule_entry_fires_once_per_firing_for_current_members(bench: EngineBench) -> None:
    bench.journey(
        """
        name: weekly
        description: every Monday at 09:00 Berlin time, current VIPs
        entry:
          schedule: {cron: "0 9 * * mon", timezone: Europe/Berlin, audience: vip_lookalike_seed}
        re_entry: {mode: every_time}
        steps:
          - {id: hold, wait: {duration: 1h}}
        """
    )
    bench.customers(["member", "former", "later"])
    bench.join("vip_lookalike_seed", "member", T0 - 10 * D)
    bench.join("vip_lookalike_seed", "former", T0 - 10 * D)
    bench.leave("vip_lookalike_seed", "former", T0 - 5 * D)
    bench.join("vip_lookalike_seed", "later", T0 + 2 * D)
    monday = datetime(2026, 6, 15, 7, 0)  # 09:00 in Berlin (summer time)
    bench.tick(monday - timedelta(minutes=1))
    assert bench.query("select count(*) from journeys.journey_instances") == [(0,)]
    bench.tick(monday)
    bench.tick(monday + H)  # the same firing again within the window: recognised
    rows = bench.query("select customer_id, entry_ref, entered_at from journeys.journey_instances")
    assert rows == [("member", "schedule:2026-06-15T07:00:00", monday)]
    bench.tick(monday + 7 * D)
    members = bench.query(
        "select customer_id from journeys.journey_instances where entered_at = ? order by 1",
        [monday + 7 * D],
    )
    assert members == [("later",), ("member",)]


EDITED = """
    name: edited
    description: a journey whose file changes while customers are in it
    enabled: {enabled}
    entry: {{audience: new_leads_no_purchase_7d}}
    steps:
{steps}
"""


def test_a_disabled_journey_admits_nobody_and_an_edited_one_exits_orphans(
    bench: EngineBench,
) -> None:
    steps = "      - {id: first, wait: {duration: 1h}}\n      - {id: second, wait: {duration: 1h}}"
    bench.journey(EDITED.format(enabled="true", steps=steps))
    bench.customers(["early", "late"])
    bench.join("new_leads_no_purchase_7d", "early", T0)
    bench.tick(T0)
    bench.journey(EDITED.format(enabled="false", steps=steps))
    bench.join("new_leads_no_purchase_7d", "late", T0 + H)
    bench.tick(T0 + H)  # disabled: "late" does not enter, "early" carries on
    assert [
        row[0] for row in bench.query("select customer_id from journeys.journey_instances")
    ] == ["early"]
    assert bench.instance("early")["current_step"] == "second"
    bench.journey(EDITED.format(enabled="true", steps="      - {id: first, wait: {duration: 1h}}"))
    bench.tick(T0 + 2 * H)
    assert bench.instance("early")["exit_reason"] == "step_removed"
    assert bench.log("early")[-1] == ("second", "exited", "step_removed")
