"""Journey versions: what deploying a journey decides about the customers already in its audience.

A version is a digest of the journey as validated (`Journey.version`). The first tick that sees
a version of an enabled journey deploys it and records one row in `journey_versions`, with one
of these reasons (docs/journeys.md, "Existing members"):

- `first_deploy`: the journey has no earlier version; its `entry.existing_members` applies;
- `entry_changed`: the previous version entered another way (another audience, an event or a
  schedule) or declared another `existing_members`: this version's declaration applies to the
  current members of its audience;
- `entry_unchanged`: the previous version had the same entry and declaration, so the members
  were decided then (an edit to the steps enrols nobody again); an earlier `skip` keeps
  applying;
- `already_running`: no version is recorded but the journey has instances (it ran before
  versions were recorded); treated as unchanged, so an upgrade re-enrols nobody;
- `not_audience_entry`: event and schedule entries have no members to decide about.

`enrol` admits every current member at the deploying tick (`existing_member` in the step log;
those who joined within the tick's window enter as they joined). `skip` admits only memberships
that start after that tick, in this and every later tick: `skip_members_before` bounds them. A
recorded version is never decided again, so reverting a file does not re-enrol anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from waymark.journeys.engine.context import Deployment, TickContext
from waymark.journeys.engine.sql import Binder
from waymark.journeys.journey import AudienceEntry, EventEntry, Journey


@dataclass(frozen=True)
class Recorded:
    """The latest recorded version of a journey, as the next decision needs it."""

    version: str
    number: int
    entry: str
    existing_members: str | None
    skip_members_before: datetime | None


def entry_label(journey: Journey) -> str:
    entry = journey.entry
    if isinstance(entry, AudienceEntry):
        return f"audience:{entry.audience}"
    if isinstance(entry, EventEntry):
        return "event:" + ",".join(entry.event)
    return "schedule"


def decide(
    journey: Journey, as_of: datetime, previous: Recorded | None, ran_before: bool
) -> Deployment:
    """The deployment of `journey`'s version, which no earlier tick recorded."""
    entry = journey.entry
    label = entry_label(journey)
    number = previous.number + 1 if previous else 1
    declared = entry.existing_members if isinstance(entry, AudienceEntry) else None
    decision, carried = "none", None
    if declared is None:
        reason = "not_audience_entry"
    elif previous is None and ran_before:
        reason = "already_running"
    elif previous is not None and (previous.entry, previous.existing_members) == (label, declared):
        reason, carried = "entry_unchanged", previous.skip_members_before
    else:
        reason = "entry_changed" if previous else "first_deploy"
        decision = declared
        carried = as_of if declared == "skip" else None
    return Deployment(
        journey.name, journey.version, number, label, declared, decision, reason, carried, True
    )


def load_deployments(ctx: TickContext) -> None:
    """`ctx.deployments`: every enabled journey's version, recorded or decided now."""
    enabled = [plan.journey for plan in ctx.plans.values() if plan.journey.enabled]
    if not enabled:
        return
    b = Binder()
    names = b.names([journey.name for journey in enabled])
    rows = ctx.run(
        f"select journey, version, number, entry, existing_members, skip_members_before "
        f"from {ctx.tables.versions} where journey in ({names}) order by journey, number",
        b,
    ).fetchall()
    recorded: dict[str, dict[str, Recorded]] = {}
    latest: dict[str, Recorded] = {}
    for journey, version, number, entry, declared, skip_before in rows:
        row = Recorded(version, number, entry, declared, skip_before)
        recorded.setdefault(journey, {})[version] = row
        latest[journey] = row
    unrecorded = [journey.name for journey in enabled if journey.name not in latest]
    ran = _journeys_with_instances(ctx, unrecorded)
    for journey in enabled:
        known = recorded.get(journey.name, {}).get(journey.version)
        if known is not None:
            ctx.deployments[journey.name] = Deployment(
                journey.name, known.version, known.number, known.entry, known.existing_members,
                "none", "recorded", known.skip_members_before, False,
            )  # fmt: skip
            continue
        previous = latest.get(journey.name)
        ctx.deployments[journey.name] = decide(journey, ctx.as_of, previous, journey.name in ran)


def _journeys_with_instances(ctx: TickContext, names: list[str]) -> set[str]:
    if not names:
        return set()
    b = Binder()
    rows = ctx.run(
        f"select distinct journey from {ctx.tables.instances} where journey in ({b.names(names)})",
        b,
    ).fetchall()
    return {row[0] for row in rows}


def count_members(ctx: TickContext) -> None:
    """For each audience journey deployed now: its entry audience's current members, and how
    many of them entered in this tick (after enrolment, from `_work`)."""
    for name, deployment in ctx.deployments.items():
        entry = ctx.plans[name].journey.entry
        if not deployment.is_new or not isinstance(entry, AudienceEntry):
            continue
        if deployment.reason in ("entry_unchanged", "already_running"):
            continue
        b = Binder()
        as_of = b.timestamp(ctx.as_of)
        members, enrolled = ctx.run(
            f"""
            select count(distinct m.customer_id), count(distinct w.customer_id)
            from {ctx.tables.memberships} as m
            left join _work as w
                on w.is_new and w.journey = {b.bind(name)} and w.customer_id = m.customer_id
            where m.audience_name = {b.bind(entry.audience)} and m.entered_at <= {as_of}
                and (m.exited_at is null or m.exited_at > {as_of})
            """,
            b,
        ).fetchone()
        ctx.deployments[name] = replace(deployment, members=members, enrolled=enrolled)


def write_versions(ctx: TickContext) -> None:
    """Record the versions deployed in this tick (inside the tick's transaction)."""
    new = [d for d in ctx.deployments.values() if d.is_new]
    if not new:
        return
    as_of = ctx.as_of
    columns: dict[str, tuple[str, list]] = {
        "journey": ("varchar", [d.journey for d in new]),
        "version": ("varchar", [d.version for d in new]),
        "number": ("integer", [d.number for d in new]),
        "first_tick_as_of": ("timestamp", [as_of for _ in new]),
        "entry": ("varchar", [d.entry for d in new]),
        "existing_members": ("varchar", [d.existing_members for d in new]),
        "decision": ("varchar", [d.decision for d in new]),
        "reason": ("varchar", [d.reason for d in new]),
        "members": ("bigint", [d.members for d in new]),
        "enrolled": ("bigint", [d.enrolled for d in new]),
        "skip_members_before": ("timestamp", [d.skip_members_before for d in new]),
    }
    ctx.insert_columns(ctx.tables.versions, columns)
