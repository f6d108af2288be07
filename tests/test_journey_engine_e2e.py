"""The shipped journeys over the demo data for 14 simulated days, ticking hourly.

Expectations for a handful of customers per journey are computed here from the data and the
journey rules as written in the YAML files (waits, time-of-day in the customer's zone, send
windows, holdouts and splits from the reference hashing), not from the engine's own output.
Customers are chosen so that no other journey competes for them on the same channel, which keeps
each expectation a direct reading of one journey.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from waymark.journeys.assignment import assignment_point, choose_variant, in_control_group
from waymark.journeys.engine import tick
from waymark.journeys.spec import HoldoutStep, SplitStep
from waymark.journeys.validation import ProjectReport, validate_project

START, END = datetime(2026, 6, 1), datetime(2026, 6, 15)
SETTLED = START + timedelta(hours=1)  # entries after the first tick's lookback
QUIET_SINCE = START - timedelta(days=8)  # customers with no competing entry since
H, D = timedelta(hours=1), timedelta(days=1)
UTC = ZoneInfo("UTC")


@pytest.fixture(scope="module")
def replay(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("e2e") / "warehouse.duckdb"
    shutil.copy(demo_warehouse, path)
    report = validate_project()
    assert report.issues == []
    con = duckdb.connect(str(path))
    con.execute("set threads = 1")
    moment = START
    while moment <= END:
        tick(con, report.journeys, report.project, moment)
        moment += H
    yield con, report
    con.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cursor = con.execute(sql, params or [])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def ceil_hour(moment: datetime) -> datetime:
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + H


def zone_of(customer: dict, fallback: str = "UTC") -> ZoneInfo:
    try:
        return ZoneInfo(customer["timezone"]) if customer["timezone"] else ZoneInfo(fallback)
    except (KeyError, ValueError):
        return ZoneInfo(fallback)


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def utc(local_moment: datetime, zone: ZoneInfo) -> datetime:
    return local_moment.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def next_local(moment: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The next `at` on the customer's clock strictly after `moment` (UTC in and out)."""
    here = local(moment, zone)
    candidate = datetime.combine(here.date(), at)
    if candidate <= here:
        candidate += D
    return utc(candidate, zone)


def send_tick(due: datetime, zone: ZoneInfo, start: time, end: time) -> datetime:
    """The hourly tick at which a send due at `due` goes out under a send window."""
    moment = ceil_hour(due)
    clock = local(moment, zone).time()
    if start <= clock < end:
        return moment
    return next_local(moment, start, zone)


def outbox_of(con, customer_id: str) -> list[dict]:
    return rows(
        con,
        "select journey, step_id, queued_at, template, payload, idempotency_key, instance_id "
        "from journeys.journey_outbox where customer_id = ? order by queued_at, step_id",
        [customer_id],
    )


def customer(con, customer_id: str) -> dict:
    return rows(con, "select * from marts.customers where customer_id = ?", [customer_id])[0]


def journey(report: ProjectReport, name: str):
    return next(j for j in report.journeys if j.name == name)


# Customers any other journey touches in the replay window, by kind of entry. Audience journeys
# enrol their current members when first ticked, so any membership still open after the quiet
# time counts, not only those that started after it.
OTHER_ENTRIES = """
    select customer_id from marts.audience_memberships
    where audience_name in ({audiences}) and (exited_at is null or exited_at > '{quiet}')
    union select customer_id from marts.customer_events
    where occurred_at > '{quiet}' and (
        {events}
    )
"""
EVENT_KINDS = {
    "cart": "(event_type = 'track' and event_name in ('Product Added', 'Checkout Started'))",
    "delivery": "event_type = 'order_delivered'",
    "call": "event_type = 'call'",
    "ticket": "event_type = 'ticket_solved'",
}
AUDIENCES = ["new_leads_no_purchase_7d", "high_value_at_risk", "vip_lookalike_seed"]


def others(con, *, keep_audience: str | None = None, keep_events: tuple[str, ...] = ()) -> set[str]:
    audiences = ", ".join(f"'{a}'" for a in AUDIENCES if a != keep_audience)
    events = " or ".join(sql for kind, sql in EVENT_KINDS.items() if kind not in keep_events)
    sql = OTHER_ENTRIES.format(audiences=audiences, events=events, quiet=QUIET_SINCE)
    return {row[0] for row in con.execute(sql).fetchall()}


def test_outbox_rows_are_unique_and_each_was_logged_as_sent(replay) -> None:
    con, _ = replay
    keys = [
        r[0] for r in con.execute("select idempotency_key from journeys.journey_outbox").fetchall()
    ]
    assert len(keys) == len(set(keys)) and len(keys) > 200
    unlogged = con.execute(
        """
        select count(*) from journeys.journey_outbox as o
        where not exists (
            select 1 from journeys.journey_step_log as l
            where l.action = 'sent' and l.detail = o.idempotency_key
        )
        """
    ).fetchone()[0]
    assert unlogged == 0
    gaps = con.execute(
        """
        select count(*) from (
            select instance_id, count(*) as n, max(seq) as last, min(seq) as first
            from journeys.journey_step_log group by 1
        ) where n <> last or first <> 1
        """
    ).fetchone()[0]
    assert gaps == 0
    sent = dict(
        con.execute("select journey, count(*) from journeys.journey_outbox group by 1").fetchall()
    )
    assert set(sent) >= {
        "cart_abandonment",
        "welcome_series",
        "high_value_winback",
        "post_purchase_survey",
        "repeat_caller",
        "vip_ads",
    }


def test_cart_abandonment(replay) -> None:
    con, report = replay
    cart = journey(report, "cart_abandonment")
    holdout, split = cart.step("hold_out"), cart.step("choose_reminder")
    assert isinstance(holdout, HoldoutStep) and isinstance(split, SplitStep)
    busy = others(con, keep_events=("cart",))
    carts = rows(
        con,
        """
        select customer_id, json_extract_string(properties, '$.cart_id') as cart_id,
            min(occurred_at) as started, count(*) over (partition by customer_id) as carts
        from marts.customer_events
        where event_type = 'track' and event_name in ('Product Added', 'Checkout Started')
            and occurred_at > ?
        group by 1, 2 order by 1
        """,
        [QUIET_SINCE],
    )
    ordered = {
        r[0]
        for r in con.execute(
            "select customer_id from marts.customer_events where event_type = 'track' "
            "and event_name = 'Order Completed' and occurred_at > ?",
            [QUIET_SINCE],
        ).fetchall()
    }
    checked = {"treatment": 0, "control": 0}
    for row in carts:
        who = row["customer_id"]
        if row["carts"] != 1 or who in busy or who in ordered:
            continue
        if not (SETTLED <= row["started"] <= END - 3 * D):
            continue
        profile = customer(con, who)
        point = assignment_point(cart.split_salt, "hold_out", who)
        group = "control" if in_control_group(holdout.holdout, point) else "treatment"
        if group == "treatment" and (
            profile["email_marketing_consent"] != "granted" or not profile["email"]
        ):
            continue
        if checked[group] >= 3:
            continue
        checked[group] += 1
        sent = outbox_of(con, who)
        if group == "control":
            assert sent == [], who
            continue
        zone = zone_of(profile)
        email_at = send_tick(row["started"] + H, zone, time(8), time(21))
        variant = choose_variant(split.split, assignment_point(cart.split_salt, split.id, who))
        expected = [("cart_abandonment", f"email_{variant.name}", email_at)]
        if profile["sms_marketing_consent"] == "granted" and profile["phone"]:
            sms_at = send_tick(email_at + D, zone, time(8), time(21))
            if sms_at <= END:
                expected.append(("cart_abandonment", "sms_reminder", sms_at))
        assert [(s["journey"], s["step_id"], s["queued_at"]) for s in sent] == expected, who
        email = json.loads(sent[0]["payload"])
        assert f"/cart/{row['cart_id']}" in email["text"]
        if variant.name == "incentive":
            code = "CART10-" + row["cart_id"].replace("cart_", "").upper()
            assert code in email["text"] and email["subject"].startswith("10% off")
        assert sent[0]["idempotency_key"] == (
            f"cart_abandonment:{sent[0]['instance_id']}:email_{variant.name}"
        )
    assert checked["treatment"] >= 2 and checked["control"] >= 1, checked


def test_welcome_series(replay) -> None:
    con, _ = replay
    busy = others(con, keep_audience="new_leads_no_purchase_7d")
    leads = rows(
        con,
        """
        select m.customer_id, m.entered_at from marts.audience_memberships as m
        where m.audience_name = 'new_leads_no_purchase_7d'
            and m.entered_at between ? and ?
            and not exists (
                select 1 from marts.customer_events as e
                where e.customer_id = m.customer_id and e.event_type = 'order_placed'
            )
        order by 1
        """,
        [SETTLED, END - 8 * D],
    )
    checked = 0
    for lead in leads:
        who = lead["customer_id"]
        profile = customer(con, who)
        if who in busy or profile["email_marketing_consent"] != "granted" or not profile["email"]:
            continue
        zone = zone_of(profile)
        first = send_tick(next_local(lead["entered_at"], time(10), zone), zone, time(9), time(20))
        expected = [
            ("welcome_series", "welcome_email", first),
            ("welcome_series", "bestsellers_email", first + 3 * D),
            ("welcome_series", "first_order_email", first + 7 * D),
        ]
        if profile["web_sessions_30d"] >= 3 and first + 7 * D <= END:
            expected.append(("welcome_series", "sales_task", first + 7 * D))
        expected = [e for e in expected if e[2] <= END]
        sent = outbox_of(con, who)
        assert [(s["journey"], s["step_id"], s["queued_at"]) for s in sent] == expected, who
        offer = json.loads(sent[-1]["payload"]) if len(sent) >= 3 else None
        if offer is not None and sent[2]["step_id"] == "first_order_email":
            assert f"WELCOME-{who[-6:].upper()}" in offer["text"]
        checked += 1
        if checked == 3:
            break
    assert checked >= 2


def test_high_value_winback(replay) -> None:
    con, report = replay
    winback = journey(report, "high_value_winback")
    holdout, split = winback.step("hold_out"), winback.step("choose_offer")
    assert isinstance(holdout, HoldoutStep) and isinstance(split, SplitStep)
    busy = others(con, keep_audience="high_value_at_risk")
    members = rows(
        con,
        "select customer_id, entered_at from marts.audience_memberships "
        "where audience_name = 'high_value_at_risk' and entered_at between ? and ? order by 1",
        [SETTLED, END - 2 * D],
    )
    checked = 0
    for member in members:
        who = member["customer_id"]
        profile = customer(con, who)
        if who in busy or profile["email_marketing_consent"] != "granted" or not profile["email"]:
            continue
        sent = outbox_of(con, who)
        if in_control_group(holdout.holdout, assignment_point("winback_2026", "hold_out", who)):
            assert sent == [], who
            checked += 1
            continue
        zone = zone_of(profile)
        offer_at = send_tick(
            next_local(member["entered_at"], time(9, 30), zone), zone, time(8), time(21)
        )
        variant = choose_variant(split.split, assignment_point("winback_2026", "choose_offer", who))
        step = {"percent_off": "offer_percent", "free_delivery": "offer_free_delivery"}[
            variant.name
        ]
        emails = [(s["step_id"], s["queued_at"]) for s in sent if s["step_id"].startswith("offer")]
        assert emails == [(step, offer_at)], who
        code = ("BACK15-" if variant.name == "percent_off" else "SHIPFREE-") + who[-6:].upper()
        assert code in json.loads(sent[0]["payload"])["text"]
        recorded = con.execute(
            "select value from journeys.profile_attributes where customer_id = ? "
            "and attribute = 'winback_offer'",
            [who],
        ).fetchall()
        assert recorded == [(json.dumps(variant.name),)]
        checked += 1
    assert checked >= 2


def test_post_purchase_survey(replay) -> None:
    con, _ = replay
    # Buyers added to a cart before ordering; that cart's instance ended with the order, so
    # only carts started after a delivery compete with the survey email.
    busy = others(con, keep_events=("delivery", "cart"))
    deliveries = rows(
        con,
        """
        select customer_id, json_extract_string(properties, '$.order_id') as order_id,
            occurred_at, count(*) over (partition by customer_id) as n
        from marts.customer_events
        where event_type = 'order_delivered' and occurred_at between ? and ?
        order by 1
        """,
        [QUIET_SINCE, END],
    )
    checked = 0
    for delivery in deliveries:
        who = delivery["customer_id"]
        if who in busy or delivery["n"] != 1 or delivery["occurred_at"] < SETTLED:
            continue
        later_cart = con.execute(
            "select count(*) from marts.customer_events where customer_id = ? "
            "and event_type = 'track' and event_name in ('Product Added', 'Checkout Started') "
            "and occurred_at > ?",
            [who, delivery["occurred_at"] - 2 * D],
        ).fetchone()[0]
        profile = customer(con, who)
        if later_cart or not profile["email"]:
            continue
        zone = zone_of(profile)
        ask_at = send_tick(
            next_local(delivery["occurred_at"], time(10), zone), zone, time(8), time(20)
        )
        if ask_at > END:
            continue
        sent = outbox_of(con, who)
        assert [(s["step_id"], s["queued_at"]) for s in sent][:1] == [("ask_csat", ask_at)], who
        assert (
            json.loads(sent[0]["payload"])["subject"]
            == f"How was your order {delivery['order_id']}?"
        )
        detractor = con.execute(
            """
            select min(occurred_at) from marts.customer_events
            where customer_id = ? and event_type = 'track' and event_name = 'Survey Submitted'
                and json_extract_string(properties, '$.order_id') = ?
                and try_cast(json_extract_string(properties, '$.score') as integer) <= 6
                and occurred_at >= ? and occurred_at <= ?
            """,
            [who, delivery["order_id"], ask_at, ask_at + 7 * D],
        ).fetchone()[0]
        tasks = [(s["step_id"], s["queued_at"]) for s in sent[1:]]
        if detractor is not None and detractor <= END:
            assert tasks == [("senior_agent_task", send_tick(detractor, zone, time(8), time(20)))]
        else:
            assert tasks == []
        checked += 1
        if checked == 5:
            break
    assert checked >= 3


def test_repeat_caller(replay) -> None:
    con, _ = replay
    calls = rows(
        con,
        """
        select customer_id, json_extract_string(properties, '$.ticket_id') as ticket_id,
            list(occurred_at order by occurred_at) as times
        from marts.customer_events
        where event_type = 'call' and json_extract_string(properties, '$.ticket_id') is not null
            and occurred_at > ? and occurred_at <= ?
        group by 1, 2 order by 1, 2
        """,
        [START - D, END],
    )
    routed, checked = set(), 0
    per_customer: dict[str, list[dict]] = {}
    for call in calls:
        per_customer.setdefault(call["customer_id"], []).append(call)
    for who, tickets in per_customer.items():
        if len(tickets) != 1:
            continue
        times = tickets[0]["times"]
        if times[0] < SETTLED:
            continue
        third = None
        if len(times) >= 3 and times[1] - times[0] <= 7 * D and times[2] - times[1] <= 7 * D:
            third = times[2]
        solved = con.execute(
            "select min(occurred_at) from marts.customer_events where event_type = "
            "'ticket_solved' and json_extract_string(properties, '$.ticket_id') = ?",
            [tickets[0]["ticket_id"]],
        ).fetchone()[0]
        tasks = [
            (s["step_id"], s["queued_at"])
            for s in outbox_of(con, who)
            if s["journey"] == "repeat_caller"
        ]
        # Exits come first in a tick: a ticket solved before the tick after the third call
        # ends the instance before the task.
        if third is not None and (solved is None or solved > ceil_hour(third)):
            assert tasks == [("senior_agent_task", ceil_hour(third))], who
            routed.add(who)
        else:
            assert tasks == [], who
        checked += 1
    assert routed, "the demo data has a third call about one open ticket"
    flags = con.execute(
        "select customer_id, value from journeys.profile_attributes "
        "where attribute = 'route_to_senior_agent'"
    ).fetchall()
    assert {who for who, value in flags if value == "true"} >= routed
    assert checked >= 3


def test_vip_ads_adds_new_members_within_the_hour(replay) -> None:
    con, _ = replay
    members = rows(
        con,
        "select customer_id, entered_at from marts.audience_memberships "
        "where audience_name = 'vip_lookalike_seed' and entered_at between ? and ? order by 1",
        [SETTLED, END],
    )
    assert members
    for member in members[:5]:
        adds = [
            (s["step_id"], s["queued_at"], json.loads(s["payload"])["action"])
            for s in outbox_of(con, member["customer_id"])
            if s["journey"] == "vip_ads"
        ]
        assert adds == [("add_to_audience", ceil_hour(member["entered_at"]), "add")]
    # Every member is still in the audience (one build), so every instance loops daily.
    looping = con.execute(
        "select count(*) from journeys.journey_instances where journey = 'vip_ads' "
        "and status = 'active' and current_step = 'a_day'"
    ).fetchone()[0]
    assert looping >= len(members)


def test_vip_ads_enrols_every_current_vip_at_its_first_tick(replay) -> None:
    """Deployed at START, vip_ads takes in every VIP of that moment, not only those who joined
    within the first tick's lookback."""
    con, _ = replay
    current = {
        row[0]: row[1]
        for row in con.execute(
            "select customer_id, entered_at from marts.audience_memberships "
            "where audience_name = 'vip_lookalike_seed' and entered_at <= ? "
            "and (exited_at is null or exited_at > ?)",
            [START, START],
        ).fetchall()
    }
    earlier = {who for who, joined in current.items() if joined <= START - D}
    assert len(earlier) > 10
    entered = dict(
        con.execute(
            "select customer_id, reason from journeys.journey_step_log "
            "where journey = 'vip_ads' and action = 'entered' and tick_as_of = ?",
            [START],
        ).fetchall()
    )
    assert set(entered) == set(current)
    assert {entered[who] for who in earlier} == {"existing_member"}
    assert {entered[who] for who in set(current) - earlier} <= {"audience"}
    version = con.execute(
        "select number, decision, reason, members, enrolled from journeys.journey_versions "
        "where journey = 'vip_ads'"
    ).fetchall()
    assert version == [(1, "enrol", "first_deploy", len(current), len(current))]
    # Each was added at the first tick, or held back there with a reason (no ads consent).
    outcomes = dict(
        con.execute(
            "select customer_id, action from journeys.journey_step_log where journey = 'vip_ads' "
            "and step_id = 'add_to_audience' and action in ('sent', 'suppressed') "
            "and tick_as_of = ?",
            [START],
        ).fetchall()
    )
    assert set(outcomes) == set(current)


def test_no_send_broke_a_window_or_a_cap(replay) -> None:
    con, report = replay
    for plan in report.journeys:
        window = plan.send_window
        if window is None:
            continue
        sends = rows(
            con,
            "select o.queued_at, c.timezone from journeys.journey_outbox as o "
            "left join marts.customers as c using (customer_id) where o.journey = ?",
            [plan.name],
        )
        for send in sends:
            clock = local(send["queued_at"], zone_of(send, window.fallback_timezone)).time()
            inside = window.start <= clock < window.end
            assert inside if window.start < window.end else not inside, (plan.name, send)
        for cap in plan.frequency_caps:
            scope = "" if cap.scope == "global" else "and a.journey = b.journey"
            worst = con.execute(
                f"""
                select coalesce(max(n), 0) from (
                    select a.idempotency_key, count(*) as n
                    from journeys.journey_outbox as a
                    inner join journeys.journey_outbox as b
                        on a.customer_id = b.customer_id and a.channel = b.channel {scope}
                        and b.queued_at > a.queued_at - ? and b.queued_at <= a.queued_at
                    where a.journey = ? and a.channel = ?
                    group by 1
                )
                """,
                [cap.per, plan.name, cap.channel],
            ).fetchone()[0]
            assert worst <= cap.max, (plan.name, cap)
