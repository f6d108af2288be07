"""A small warehouse shaped like the marts, and journey projects written from YAML text, for
testing the journey engine against the clock.

`EngineBench` owns a DuckDB file with `marts.customers` (every column of its contract),
`marts.customer_events` and `marts.audience_memberships`, a project folder with journeys and
templates, and ticks the engine over them.
"""

from __future__ import annotations

import json
import shutil
import textwrap
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb

from waymark.core.home import DBT_PROJECT_DIR, PROJECT_ROOT
from waymark.journeys.engine import TickResult, tick
from waymark.journeys.project import ProjectPaths, customer_traits
from waymark.journeys.validation import ProjectReport, validate_project

T0 = datetime(2026, 6, 15, 12, 0)  # a Monday, 12:00 UTC

TEMPLATES = {
    "hello_email": {
        "channel": "email",
        "subject": "Hi {{ customer.first_name | default('there', true) }}",
        "html": "<p>Hello {{ customer.first_name | default('there', true) }}</p>",
        "text": "Hello {{ customer.first_name | default('there', true) }} ({{ journey.step }})",
    },
    "cart_email": {
        "channel": "email",
        "subject": "Your cart {{ event.cart_id }}",
        "html": "<p>{{ params.code | default('none', true) }}</p>",
        "text": "{{ journey.variant | default('no variant', true) }}",
    },
    "hello_sms": {"channel": "sms", "body": "Hi {{ customer.first_name | default('', true) }}"},
    "agent_task": {
        "channel": "crm",
        "payload": {"subject": "Call {{ customer.customer_id }}", "priority": "HIGH"},
    },
}


def contract_columns() -> dict[str, str]:
    return {name: column.data_type for name, column in customer_traits(DBT_PROJECT_DIR).items()}


class EngineBench:
    def __init__(self, root: Path, *, create: bool = True) -> None:
        self.root = root
        self.path = root / "warehouse.duckdb"
        self.journeys_dir = root / "journeys"
        self.templates_dir = root / "templates"
        self._events = 0
        self.report: ProjectReport | None = None
        if not create:  # a copy of another bench's folder
            self.con = duckdb.connect(str(self.path))
            self.con.execute("set threads = 1")
            return
        self.journeys_dir.mkdir(parents=True)
        self.templates_dir.mkdir()
        shutil.copy(PROJECT_ROOT / "journeys" / "_events.yml", self.journeys_dir)
        shutil.copy(PROJECT_ROOT / "destinations.yml", root)
        for name, body in TEMPLATES.items():
            self.template(name, body)
        self.con = duckdb.connect(str(self.path))
        self.con.execute("set threads = 1")
        columns = ", ".join(f'"{n}" {t}' for n, t in contract_columns().items())
        self.con.execute("create schema marts")
        self.con.execute(f"create table marts.customers ({columns})")
        self.con.execute(
            "create table marts.customer_events (event_id varchar, customer_id varchar, "
            "source_record_id varchar, source_name varchar, event_type varchar, "
            "event_name varchar, channel varchar, properties varchar, "
            "attributed_by_type varchar, attributed_by_value varchar, occurred_at timestamp)"
        )
        self.con.execute(
            "create table marts.audience_memberships (membership_id varchar, audience_name "
            "varchar, customer_id varchar, is_active boolean, entered_at timestamp, exited_at "
            "timestamp, qualified_at timestamp, evaluated_as_of timestamp)"
        )

    def copy_to(self, root: Path) -> EngineBench:
        """A bench over a copy of this one's folder and warehouse, as it is now."""
        self.con.execute("checkpoint")
        shutil.copytree(self.root, root)
        return EngineBench(root, create=False)

    STATE_TABLES = (
        "journey_instances",
        "journey_step_log",
        "journey_outbox",
        "profile_attributes",
        "profile_tags",
        "journey_watermarks",
        "journey_ticks",
        "journey_versions",
    )

    def state(self) -> dict[str, list[tuple]]:
        """Every row of every engine table, in a stable order."""
        return {
            table: self.query(f"select * from journeys.{table} order by all")
            for table in self.STATE_TABLES
        }

    def close(self) -> None:
        self.con.close()

    # --- project ---------------------------------------------------------------------------

    def template(self, name: str, body: dict[str, Any]) -> None:
        (self.templates_dir / f"{name}.yml").write_text(json.dumps(body))

    def journey(self, text: str) -> None:
        """Add a journey from YAML text (its `name` line names the file)."""
        body = textwrap.dedent(text).strip() + "\n"
        name = next(
            line.split(":", 1)[1].strip() for line in body.splitlines() if line.startswith("name:")
        )
        (self.journeys_dir / f"{name}.yml").write_text(body)
        self.report = None

    def project(self) -> ProjectReport:
        if self.report is None:
            report = validate_project(ProjectPaths.for_journeys(self.journeys_dir))
            assert report.issues == [], "\n".join(str(issue) for issue in report.issues)
            self.report = report
        return self.report

    # --- data ------------------------------------------------------------------------------

    def customer(self, customer_id: str, **values: Any) -> None:
        row = {
            "customer_id": customer_id,
            "first_name": customer_id.title(),
            "email": f"{customer_id}@example.org",
            "phone": "+15550000000",
            "timezone": "UTC",
            "lifecycle_stage": "lead",
            "email_marketing_consent": "granted",
            "sms_marketing_consent": "granted",
            "ads_personalisation_consent": "granted",
            "order_count": 0,
            "revenue": 0,
            "days_since_last_activity": 0,
            "email_delivered_90d": 0,
            "email_opened_90d": 0,
            "email_clicked_90d": 0,
            "sms_delivered_90d": 0,
            "sms_clicked_90d": 0,
            "web_sessions_30d": 0,
            "web_events_30d": 0,
            "open_tickets": 0,
            "is_email_suppressed": False,
            "is_sms_suppressed": False,
            "first_seen_at": T0 - timedelta(days=30),
            "last_seen_at": T0,
            "lifecycle_stage_since": T0 - timedelta(days=30),
            **values,
        }
        names = ", ".join(f'"{n}"' for n in row)
        self.con.execute(
            f"insert into marts.customers ({names}) values ({', '.join('?' for _ in row)})",
            list(row.values()),
        )

    def many_customers(self, count: int, seed: int, zones: list[str | None]) -> None:
        """`count` customers `p0`, `p1`, ... with time zones drawn from `zones` by a hash of
        `seed`, every consent granted; inserted in one statement."""
        self.con.execute(
            """
            insert into marts.customers (customer_id, first_name, email, phone, timezone,
                lifecycle_stage, email_marketing_consent, sms_marketing_consent,
                ads_personalisation_consent, order_count, revenue, first_seen_at, last_seen_at,
                lifecycle_stage_since)
            select 'p' || i, 'P' || i, 'p' || i || '@example.org', '+1555' || i,
                list_extract($zones, 1 + (hash($seed, i) % len($zones))::integer),
                'lead', 'granted', 'granted', 'granted', 0, 0, $t0, $t0, $t0
            from range($count) as r(i)
            """,
            {"zones": zones, "seed": seed, "count": count, "t0": T0},
        )

    def many_events(
        self, event_type: str, count: int, seed: int, per_customer: int, minutes: int
    ) -> None:
        """Up to `per_customer` events of `event_type` per customer, each with its own ticket id,
        at hashed minutes within `minutes` after T0."""
        self.con.execute(
            """
            insert into marts.customer_events (event_id, customer_id, event_type, event_name,
                properties, occurred_at)
            select $type || ':' || i || ':' || k, 'p' || i, $type, 'x',
                '{"ticket_id": "' || $type || i || '_' || k || '"}',
                $t0 + to_minutes((hash($seed, i, k, 1) % $minutes)::bigint)
            from range($count) as c(i), range($per) as n(k)
            where hash($seed, i, k) % 2 = 0
            """,
            {
                "type": event_type,
                "count": count,
                "per": per_customer,
                "seed": seed,
                "minutes": minutes,
                "t0": T0,
            },
        )

    def customers(self, ids: Iterable[str], **values: Any) -> None:
        for customer_id in ids:
            self.customer(customer_id, **values)

    def update_customer(self, customer_id: str, **values: Any) -> None:
        sets = ", ".join(f'"{name}" = ?' for name in values)
        self.con.execute(
            f"update marts.customers set {sets} where customer_id = ?",
            [*values.values(), customer_id],
        )

    def event(
        self,
        customer_id: str,
        at: datetime,
        event_type: str,
        event_name: str | None = None,
        /,
        **properties: Any,
    ) -> str:
        self._events += 1
        event_id = f"ev{self._events:05d}"
        self.con.execute(
            "insert into marts.customer_events (event_id, customer_id, event_type, event_name, "
            "properties, occurred_at) values (?, ?, ?, ?, ?, ?)",
            [event_id, customer_id, event_type, event_name, json.dumps(properties), at],
        )
        return event_id

    def track(self, customer_id: str, at: datetime, event_name: str, /, **properties: Any) -> str:
        return self.event(customer_id, at, "track", event_name, **properties)

    def join(self, audience: str, customer_id: str, at: datetime) -> None:
        self.con.execute(
            "insert into marts.audience_memberships values (?, ?, ?, true, ?, null, ?, ?)",
            [f"{audience}:{customer_id}:{at.isoformat()}", audience, customer_id, at, at, at],
        )

    def leave(self, audience: str, customer_id: str, at: datetime) -> None:
        self.con.execute(
            "update marts.audience_memberships set exited_at = ?, is_active = false "
            "where audience_name = ? and customer_id = ? and exited_at is null",
            [at, audience, customer_id],
        )

    # --- engine ----------------------------------------------------------------------------

    def tick(self, as_of: datetime, lookback: timedelta = timedelta(hours=24)) -> TickResult:
        report = self.project()
        return tick(self.con, report.journeys, report.project, as_of, lookback=lookback)

    def run(self, start: datetime, end: datetime, every: timedelta = timedelta(hours=1)) -> None:
        moment = start
        while moment <= end:
            self.tick(moment)
            moment += every

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def outbox(self, journey: str | None = None) -> list[dict[str, Any]]:
        cursor = self.con.execute(
            "select * from journeys.journey_outbox where ? is null or journey = ? "
            "order by queued_at, idempotency_key",
            [journey, journey],
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def log(self, customer_id: str) -> list[tuple]:
        """(step, action, reason) in order for one customer's instances."""
        return self.query(
            "select step_id, action, reason from journeys.journey_step_log "
            "where customer_id = ? order by instance_id, seq",
            [customer_id],
        )

    def instance(self, customer_id: str) -> dict[str, Any]:
        cursor = self.con.execute(
            "select * from journeys.journey_instances where customer_id = ? order by entered_at",
            [customer_id],
        )
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        assert len(rows) == 1, rows
        return rows[0]
