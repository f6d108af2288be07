"""One tick's working state: the connection, the clock, the journeys and the scratch tables.

A tick works in temporary tables and writes the journey tables once at the end, all in one
transaction: `_work` holds every instance the tick looks at (due, triggered by an event, or new),
`_moves` one round's decisions, `_log` the transitions, `_outbox_new`, `_profile_new` and
`_tags_new` what the tick will write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb

from waymark.journeys.engine.plan import JourneyPlan
from waymark.journeys.engine.sql import Binder
from waymark.journeys.engine.state import Tables

_PARAMETER = re.compile(r"\$(p\d+)\b")

MOVE_COLUMNS = """
    instance_id varchar, from_step varchar, outcome varchar, next_step varchar,
    clock timestamp, next_due_at timestamp, exit_reason varchar, action varchar,
    reason varchar, disposition varchar, detail varchar, variant varchar, holdout_group varchar
"""

SCRATCH = {
    "_moves": MOVE_COLUMNS,
    "_log": """batch integer, instance_id varchar, step_id varchar, action varchar,
        reason varchar, disposition varchar, next_step varchar, detail varchar,
        occurred_at timestamp""",
    "_sends": """instance_id varchar, journey varchar, step_id varchar, customer_id varchar,
        channel varchar, destination varchar, template varchar, purpose varchar,
        priority integer, entered_at timestamp""",
    "_outbox_new": """idempotency_key varchar, customer_id varchar, channel varchar,
        destination varchar, template varchar, purpose varchar, payload json, journey varchar,
        instance_id varchar, step_id varchar, variant varchar, queued_at timestamp""",
    "_profile_new": """batch integer, customer_id varchar, attribute varchar, value json,
        journey varchar, instance_id varchar, step_id varchar""",
    "_tags_new": """batch integer, customer_id varchar, tag varchar, journey varchar,
        instance_id varchar, step_id varchar""",
    "_render_failures": "instance_id varchar, error varchar",
}


@dataclass(frozen=True)
class Deployment:
    """A journey's version in this tick: recorded earlier, or decided now (`is_new`)."""

    journey: str
    version: str
    number: int
    entry: str
    existing_members: str | None
    decision: str
    """enrol | skip | none: what is done with the current members of the entry audience."""
    reason: str
    skip_members_before: datetime | None
    is_new: bool
    members: int | None = None
    enrolled: int | None = None

    @property
    def enrols_existing(self) -> bool:
        return self.is_new and self.decision == "enrol"

    def describe(self) -> str:
        """One line for the tick summary."""
        text = f"version {self.version}: "
        if self.decision == "none":
            return text + f"nothing to decide ({self.reason})"
        text += f"existing members {self.decision} ({self.reason}), "
        return text + f"{self.enrolled or 0} of {self.members or 0} entered"


@dataclass
class TickContext:
    con: duckdb.DuckDBPyConnection
    tables: Tables
    as_of: datetime
    plans: dict[str, JourneyPlan]
    lookback: timedelta
    windows: dict[str, datetime] = field(default_factory=dict)
    """journey -> start of its event window (events after it are looked at)."""
    customer_columns: dict[str, str] = field(default_factory=dict)
    event_counts: dict[str, int] = field(default_factory=dict)
    """catalogue event -> rows in `_events`, so journeys with nothing to read skip their SQL."""
    work_counts: dict[str, int] = field(default_factory=dict)
    """journey -> instances in `_work` after enrolment."""
    deployments: dict[str, Deployment] = field(default_factory=dict)
    """enabled journey -> its version in this tick, recorded earlier or deployed now."""

    @property
    def work_size(self) -> int:
        return sum(self.work_counts.values())

    pending_moves: int = 0
    held_sends: int = 0
    logged: int = 0
    written: set[str] = field(default_factory=set)
    """Scratch tables that received rows (the rest need no write-back)."""
    batch: int = 0
    statements: int = 0

    def run(self, sql: str, binder: Binder | None = None) -> duckdb.DuckDBPyConnection:
        self.statements += 1
        if binder is None or not binder.params:
            return self.con.execute(sql)
        # DuckDB refuses parameters a statement does not use; fragments built for one branch
        # of a query may bind values the final text leaves out.
        used = set(_PARAMETER.findall(sql))
        params = {name: value for name, value in binder.params.items() if name in used}
        return self.con.execute(sql, params) if params else self.con.execute(sql)

    def rebuild_work(self, select: str, binder: Binder | None = None) -> None:
        """Replace `_work` by a query over it. Built under another name first: replacing a
        table with a query that is still reading it loses rows once it spans row groups."""
        self.run(f"create or replace temp table _work_next as {select}", binder)
        self.run("drop table _work; alter table _work_next rename to _work")

    def count(self, sql: str, binder: Binder | None = None) -> int:
        """Run an INSERT and return how many rows it inserted."""
        row = self.run(sql, binder).fetchone()
        return int(row[0]) if row else 0

    def scalar(self, sql: str, binder: Binder | None = None) -> Any:
        row = self.run(sql, binder).fetchone()
        return row[0] if row else None

    def insert_columns(self, table: str, columns: dict[str, tuple[str, list[Any]]]) -> None:
        """Insert rows given as one list per column (name -> (SQL type, values)), unnested in
        SQL: one statement however many rows, and no pandas or Arrow."""
        first = next(iter(columns.values()))[1]
        if not first:
            return
        b = Binder()
        selects = [
            f"unnest(cast({b.bind(values)} as {kind}[])) as {name}"
            for name, (kind, values) in columns.items()
        ]
        self.run(f"insert into {table} by name select {', '.join(selects)}", b)
        self.written.add(table)

    def next_batch(self) -> int:
        """An increasing number per statement that writes `_log`, ordering each instance's
        transitions (one row per instance per statement)."""
        self.batch += 1
        return self.batch

    @property
    def window_start(self) -> datetime:
        return min(self.windows.values(), default=self.as_of)

    def create_scratch(self) -> None:
        instances = self.tables.instances
        self.run(
            "create or replace temp table _work as select *, false as is_new, false as ready, "
            "false as pending_send, false as dirty, transitions as base_transitions "
            f"from {instances} limit 0"
        )
        for name, columns in SCRATCH.items():
            self.run(f"create or replace temp table {name} ({columns})")
        self.run("create or replace temp table _zones as select name from pg_timezone_names()")

    def drop_scratch(self) -> None:
        for name in ("_work", "_events", "_journeys", "_triggers", "_members", *SCRATCH, "_zones"):
            self.run(f"drop table if exists {name}")
