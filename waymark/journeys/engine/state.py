"""The journey engine's tables in the warehouse: what it decided, for anyone to query.

- `journey_instances`: one row per instance (a customer, or a customer and instance key, going
  through a journey once): where it is, since when, when it is next looked at, how it ended.
- `journey_step_log`: one row per transition (entered, advanced, branched, sent, suppressed,
  exited, converted) with a reason code; `(instance_id, seq)` orders an instance's history.
- `journey_outbox`: one row per message to deliver; activations move `state` on from `pending`.
- `profile_attributes`, `profile_tags`: what journeys wrote about customers, kept apart from the
  derived `marts.customers`.
- `journey_watermarks`: per journey, the as_of of its latest tick (where the next tick's event
  window starts); `journey_ticks`: one row per tick with its counts.
- `journey_versions`: one row per version of a journey that was ticked enabled: when it was
  deployed, and what was decided then about the customers already in its entry audience.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb


@dataclass(frozen=True)
class Tables:
    """Where the engine reads and writes. Simulation points `state` at a scratch schema and the
    sources at a read-only attached warehouse."""

    customers: str = "marts.customers"
    events: str = "marts.customer_events"
    memberships: str = "marts.audience_memberships"
    state: str = "journeys"

    @property
    def catalog(self) -> str | None:
        """The attached database the sources are read from (`warehouse` in a simulation), or
        None for the connection's own: where the identity marts and erasure requests are."""
        parts = self.customers.split(".")
        return parts[0] if len(parts) == 3 else None

    @property
    def instances(self) -> str:
        return f"{self.state}.journey_instances"

    @property
    def step_log(self) -> str:
        return f"{self.state}.journey_step_log"

    @property
    def outbox(self) -> str:
        return f"{self.state}.journey_outbox"

    @property
    def attributes(self) -> str:
        return f"{self.state}.profile_attributes"

    @property
    def tags(self) -> str:
        return f"{self.state}.profile_tags"

    @property
    def watermarks(self) -> str:
        return f"{self.state}.journey_watermarks"

    @property
    def ticks(self) -> str:
        return f"{self.state}.journey_ticks"

    @property
    def versions(self) -> str:
        return f"{self.state}.journey_versions"


INSTANCE_COLUMNS = """
    instance_id varchar not null primary key,  -- md5 of journey, entry_ref and customer
    journey varchar not null,
    customer_id varchar not null,
    instance_key varchar,           -- the instance_key property's value; null: one per customer
    entry_kind varchar not null,    -- event | audience | schedule
    entry_ref varchar not null,     -- event_id, membership_id or schedule:<fire time>
    entry_event varchar,            -- catalogue name of the entry event
    entry_event_id varchar,
    entry_properties varchar,       -- the entry event's properties (JSON), for templates
    entered_at timestamp not null,  -- when the entry happened (event time, membership start)
    status varchar not null,        -- active | exited
    current_step varchar,           -- null once exited
    step_entered_at timestamp,      -- the instance's clock: when it reached current_step
    next_due_at timestamp,          -- when its wait, timeout or delayed send is next looked at
    variant varchar,                -- the latest split variant it took
    holdout_group varchar,          -- control | treatment, once past a holdout
    exit_reason varchar,
    exited_at timestamp,            -- the as_of of the tick that ended it
    converted_at timestamp,         -- the goal event's time, when within the goal window
    goal_event_id varchar,
    transitions integer not null,   -- rows in journey_step_log so far (the last seq)
    updated_at timestamp not null   -- the as_of of the tick that last changed it
"""

STEP_LOG_COLUMNS = """
    journey varchar not null,
    instance_id varchar not null,
    seq integer not null,           -- 1 = entered; unique per instance
    customer_id varchar not null,
    step_id varchar,                -- the step it happened at (null for exits outside a step)
    action varchar not null,        -- entered advanced branched sent suppressed exited converted
    reason varchar,                 -- reason code (docs/journeys.md, "Reason codes")
    disposition varchar,            -- suppressed sends: delayed | dropped
    next_step varchar,              -- where the instance went
    detail varchar,
    occurred_at timestamp not null, -- on the instance's clock
    tick_as_of timestamp not null
"""

OUTBOX_COLUMNS = """
    idempotency_key varchar not null primary key,  -- journey:instance_id:step
    customer_id varchar not null,
    channel varchar not null,
    destination varchar not null,
    template varchar not null,
    purpose varchar not null,
    payload json not null,          -- the rendered message
    state varchar not null default 'pending',  -- owned by activations after insert
    journey varchar not null,
    instance_id varchar not null,
    step_id varchar not null,
    variant varchar,
    queued_at timestamp not null    -- the as_of of the tick that queued it
"""

VERSION_COLUMNS = """
    journey varchar not null,
    version varchar not null,       -- digest of the journey as validated (Journey.version)
    number integer not null,        -- 1 for the journey's first version, then 2, 3, ...
    first_tick_as_of timestamp not null,  -- the as_of of the tick that deployed it
    entry varchar not null,         -- audience:<name>, event:<name>[,<name>...] or schedule
    existing_members varchar,       -- what the file declares (audience entry): enrol | skip
    decision varchar not null,      -- what was done with current members: enrol | skip | none
    reason varchar not null,        -- first_deploy entry_changed entry_unchanged already_running
                                    -- not_audience_entry (docs/journeys.md, "Existing members")
    members bigint,                 -- current members of the entry audience at that tick
    enrolled bigint,                -- of them, how many entered at that tick
    skip_members_before timestamp,  -- memberships started at or before this never enter (skip)
    primary key (journey, version)
"""


def ddl(tables: Tables) -> list[str]:
    return [
        f"create schema if not exists {tables.state}",
        f"create table if not exists {tables.instances} ({INSTANCE_COLUMNS})",
        f"create table if not exists {tables.step_log} ({STEP_LOG_COLUMNS})",
        f"create table if not exists {tables.outbox} ({OUTBOX_COLUMNS})",
        f"""create table if not exists {tables.attributes} (
            customer_id varchar not null,
            attribute varchar not null,
            value json,
            journey varchar not null,
            instance_id varchar not null,
            step_id varchar not null,
            updated_at timestamp not null,
            primary key (customer_id, attribute)
        )""",
        f"""create table if not exists {tables.tags} (
            customer_id varchar not null,
            tag varchar not null,
            journey varchar not null,
            instance_id varchar not null,
            step_id varchar not null,
            tagged_at timestamp not null,
            primary key (customer_id, tag)
        )""",
        f"""create table if not exists {tables.watermarks} (
            journey varchar not null primary key,
            first_tick_as_of timestamp not null,
            last_tick_as_of timestamp not null
        )""",
        f"""create table if not exists {tables.ticks} (
            as_of timestamp not null,
            run integer not null,           -- 1 for the first tick at this as_of
            journeys integer not null,
            entered bigint not null,
            advanced bigint not null,
            sent bigint not null,
            suppressed bigint not null,
            exited bigint not null,
            converted bigint not null,
            primary key (as_of, run)
        )""",
        f"create table if not exists {tables.versions} ({VERSION_COLUMNS})",
    ]


def ensure_state(con: duckdb.DuckDBPyConnection, tables: Tables) -> None:
    """Create the engine's schema and tables where missing (inside the caller's transaction)."""
    for statement in ddl(tables):
        con.execute(statement)
