"""Journey engine benchmark: tick time for N customers with the shipped journeys.

    python benchmarks/journey_benchmark.py --customers 100000 1000000

For each N it synthesises the marts the engine reads directly in DuckDB (building N people
through dbt would take far longer and measure dbt): `marts.customers` with every contract
column, 30 days of `marts.customer_events` (journey events and filler, in time order as an
incremental load appends them) and `marts.audience_memberships` for every audience. Then:

- first tick: a warehouse with no journey state, as of the 30th day: it deploys the journeys,
  so the audience journeys enrol their current members, and the others take the entries of the
  last 24 hours (the default lookback); the data runs six hours further;
- steady state: the next hours, ticking hourly as the 15-minute schedule would (new events of
  the hour, instances due);
- idle: the same as_of again (nothing new), the fixed cost of a tick;
- catch-up: a fresh state ticked with a 7-day lookback, to show cost growing with the entries.

Figures are wall-clock seconds on this machine; rows looked at are the instances a tick loaded.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from waymark.core.home import DBT_PROJECT_DIR  # noqa: E402
from waymark.journeys.engine import tick  # noqa: E402
from waymark.journeys.project import customer_traits  # noqa: E402
from waymark.journeys.validation import validate_project  # noqa: E402

END = datetime(2026, 6, 30, 6, 0)
DAYS = 30
AFTER = timedelta(hours=6)  # data continues past the first tick, for the steady-state ticks
ZONES = [
    "Europe/London", "Europe/Berlin", "America/New_York", "America/Chicago", "America/Denver",
    "America/Los_Angeles", "Australia/Sydney", "Asia/Tokyo", None,
]  # fmt: skip
# Events per customer per day, by kind (the demo data's rates, rounded up).
RATES = {
    "product_added": 0.012,
    "checkout_started": 0.005,
    "order_completed": 0.004,
    "order_delivered": 0.004,
    "survey_submitted": 0.001,
    "support_call": 0.002,
    "ticket_solved": 0.001,
    "filler": 0.12,
}


def synthesise(con: duckdb.DuckDBPyConnection, customers: int) -> dict[str, int]:
    start = END - timedelta(days=DAYS)
    columns = {name: column.data_type for name, column in customer_traits(DBT_PROJECT_DIR).items()}
    con.execute("create schema marts")
    con.execute(
        "create table marts.customers ("
        + ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        + ")"
    )
    con.execute(
        """
        insert into marts.customers by name
        select 'c' || lpad(i::varchar, 8, '0') as customer_id,
            'First' || i as first_name, 'Last' || i as last_name,
            case when i % 20 <> 0 then 'c' || i || '@example.org' end as email,
            case when i % 3 = 0 then '+1555' || i end as phone,
            'US' as country, list_extract($zones, 1 + (hash(i) % len($zones))::integer) as timezone,
            (['lead', 'first_time_buyer', 'repeat_customer', 'loyal', 'at_risk'])[1 + i % 5]
                as lifecycle_stage,
            case when hash(i, 1) % 10 < 7 then 'granted' else 'denied' end
                as email_marketing_consent,
            case when hash(i, 2) % 10 < 4 then 'granted' else 'unknown' end
                as sms_marketing_consent,
            case when hash(i, 3) % 10 < 5 then 'granted' else 'denied' end
                as ads_personalisation_consent,
            i % 7 as order_count, (i % 900)::decimal(18, 2) as revenue,
            (hash(i, 4) % 200)::bigint as recency_days, 0 as days_since_last_activity,
            0 as email_delivered_90d, 0 as email_opened_90d, 0 as email_clicked_90d,
            0 as sms_delivered_90d, 0 as sms_clicked_90d, (i % 6)::bigint as web_sessions_30d,
            0 as web_events_30d, (i % 4 = 0)::bigint as open_tickets,
            false as is_email_suppressed, false as is_sms_suppressed,
            $start as first_seen_at, $end as last_seen_at,
            $start - to_days((i % 400)::bigint) as first_order_at,
            $end - to_days((i % 120)::bigint) as last_order_at,
            $end - to_hours((hash(i, 5) % (24 * 60))::bigint) as lifecycle_stage_since
        from range($n) as r(i)
        """,
        {"n": customers, "zones": ZONES, "start": start, "end": END},
    )
    _events(con, customers, start)
    _memberships(con, customers, start)
    return {
        "customers": customers,
        "events": con.execute("select count(*) from marts.customer_events").fetchone()[0],
        "memberships": con.execute("select count(*) from marts.audience_memberships").fetchone()[0],
    }


KINDS = {
    # kind: (event_type, event_name, properties SQL over i (customer) and k (event number))
    "product_added": ("track", "Product Added", "json_object('cart_id', 'cart_' || i || '_' || k, "
                      "'name', 'Lamp', 'price', 24.5, 'currency', 'USD', 'quantity', 1)"),
    "checkout_started": ("track", "Checkout Started", "json_object('cart_id', 'cart_' || i || "
                         "'_' || (k - 1), 'value', 24.5, 'currency', 'USD')"),
    "order_completed": ("track", "Order Completed", "json_object('order_id', 'o' || i || '_' || k,"
                        " 'cart_id', 'cart_' || i || '_' || (k - 2), 'revenue', 24.5)"),
    "order_delivered": ("order_delivered", "delivered", "json_object('order_id', 'o' || i || "
                        "'_' || k, 'status', 'delivered', 'total', 24.5, 'currency', 'USD')"),
    "survey_submitted": ("track", "Survey Submitted", "json_object('survey', 'csat', 'score', "
                         "(hash(i, k) % 11)::integer, 'order_id', 'o' || i || '_' || (k - 1))"),
    "support_call": ("call", "inbound", "json_object('call_id', 'call' || i || '_' || k, "
                     "'ticket_id', 'tkt' || (i % 50000), 'reason', 'billing')"),
    "ticket_solved": ("ticket_solved", "billing", "json_object('ticket_id', 'tkt' || "
                      "(i % 50000), 'reason', 'billing', 'csat_score', (hash(i) % 5 + 1)::integer)"),
    "filler": ("track", "Product Viewed", "json_object('product_id', 'p' || k, 'price', 9.5)"),
}  # fmt: skip


def _events(con: duckdb.DuckDBPyConnection, customers: int, start: datetime) -> None:
    selects = []
    minutes = int((timedelta(days=DAYS) + AFTER).total_seconds() // 60)
    for kind, (event_type, event_name, properties) in KINDS.items():
        count = int(customers * (DAYS + AFTER / timedelta(days=1)) * RATES[kind])
        selects.append(
            f"""
            select '{kind}:' || k as event_id, 'c' || lpad(i::varchar, 8, '0') as customer_id,
                '{event_type}' as event_type, '{event_name}' as event_name,
                {properties} as properties,
                $start + to_minutes((hash(k, '{kind}') % {minutes})::bigint)
                    + to_seconds((hash(k) % 60)::bigint) as occurred_at
            from (select k, hash(k, '{kind}', 'who') % {customers} as i from range({count}) as r(k))
            """
        )
    con.execute(
        "create table marts.customer_events as select event_id, customer_id, null::varchar as "
        "source_record_id, null::varchar as source_name, event_type, event_name, "
        "null::varchar as channel, properties::varchar as properties, null::varchar as "
        "attributed_by_type, null::varchar as attributed_by_value, occurred_at from ("
        + " union all ".join(selects)
        + ") order by occurred_at",
        {"start": start},
    )


def _memberships(con: duckdb.DuckDBPyConnection, customers: int, start: datetime) -> None:
    # audience: share of customers who joined in the 30 days; a tenth of those have left.
    shares = {
        "new_leads_no_purchase_7d": 0.15,
        "high_value_at_risk": 0.02,
        "vip_lookalike_seed": 0.02,
        "repeat_callers_open_ticket": 0.002,
        "csat_detractors": 0.003,
        "cart_abandoners": 0.01,
    }
    selects = []
    minutes = int((timedelta(days=DAYS) + AFTER).total_seconds() // 60)
    for audience, share in shares.items():
        count = int(customers * share)
        selects.append(
            f"""
            select '{audience}' as audience_name, 'c' || lpad(i::varchar, 8, '0') as customer_id,
                $start + to_minutes((hash(i, '{audience}', 't') % {minutes})::bigint)
                    as entered_at,
                hash(i, '{audience}', 'x') % 10 = 0 as leaves
            from (select distinct hash(k, '{audience}') % {customers} as i from range({count}) r(k))
            """
        )
    con.execute(
        f"""
        create table marts.audience_memberships as
        select audience_name || ':' || customer_id || ':' || strftime(entered_at, '%Y%m%d%H%M')
                as membership_id,
            audience_name, customer_id, not leaves as is_active, entered_at,
            case when leaves then entered_at + interval 3 day end as exited_at,
            entered_at as qualified_at, $end as evaluated_as_of
        from ({" union all ".join(selects)})
        order by entered_at
        """,
        {"start": start, "end": END},
    )


def timed(con, report, as_of, lookback=timedelta(hours=24)):
    started = time.perf_counter()
    result = tick(con, report.journeys, report.project, as_of, lookback=lookback)
    return time.perf_counter() - started, result


def run(customers: int, folder: Path, steady_hours: int) -> None:
    report = validate_project()
    assert not report.issues, report.issues
    base = folder / f"marts_{customers}.duckdb"
    started = time.perf_counter()
    with duckdb.connect(str(base)) as con:
        sizes = synthesise(con, customers)
    print(
        f"\nN = {customers:,}: {sizes['events']:,} events over {DAYS} days, "
        f"{sizes['memberships']:,} memberships (synthesised in {time.perf_counter() - started:.1f} s)"
    )
    work = folder / f"work_{customers}.duckdb"
    shutil.copy(base, work)
    with duckdb.connect(str(work)) as con:
        seconds, first = timed(con, report, END)
        line("first tick", seconds, first)
        steady = []
        for hour in range(1, steady_hours + 1):
            seconds, result = timed(con, report, END + timedelta(hours=hour))
            steady.append(seconds)
            line(f"steady tick +{hour}h", seconds, result)
        seconds, idle = timed(con, report, END + timedelta(hours=steady_hours))
        line("idle tick (same as_of)", seconds, idle)
        print(f"  steady state: median {statistics.median(steady):.2f} s, max {max(steady):.2f} s")
    shutil.copy(base, work)
    with duckdb.connect(str(work)) as con:
        seconds, catch_up = timed(con, report, END, lookback=timedelta(days=7))
        line("catch-up tick (7-day lookback)", seconds, catch_up)
    work.unlink()
    base.unlink()


def line(label: str, seconds: float, result) -> None:
    print(
        f"  {label:<32}{seconds:>7.2f} s  entered {result.entered:>8,}  advanced "
        f"{result.advanced:>8,}  sent {result.sent:>7,}  suppressed "
        f"{sum(result.suppressed.values()):>7,}  exited {sum(result.exited.values()):>7,}  "
        f"looked at {result.looked_at:>8,}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--steady-hours", type=int, default=3, help="at most 6")
    parser.add_argument("--dir", help="working folder (default a temporary one)")
    args = parser.parse_args()
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="journey-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"journey benchmark: {len(validate_project().journeys)} journeys, data ending {END}")
    for customers in args.customers:
        run(customers, folder, args.steady_hours)
    if not args.dir:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
