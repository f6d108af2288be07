"""One worker's job: generate a contiguous range of people into its own shard of files."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from waymark.generate.behaviour import Plan, plan_person
from waymark.generate.clock import Clock
from waymark.generate.contracts import TRUTH_DIR
from waymark.generate.events import EventWriter
from waymark.generate.messaging import write_messaging
from waymark.generate.orders import money, write_order
from waymark.generate.people import Person, build_person
from waymark.generate.runtime import Ctx
from waymark.generate.sources import write_crm, write_support
from waymark.generate.writer import ShardWriter

_TYPE_ORDER = {"user_id": 0, "email": 1, "phone": 2, "crm_contact_id": 3, "anonymous_id": 4}


@dataclass(frozen=True)
class ShardJob:
    """People ``[first, stop)`` of a run, written as shard number ``shard``."""

    shard: int
    first: int
    stop: int
    customers: int
    seed: int
    out: str
    days: int
    end_date: date
    gzip_events: bool
    malformed_rate: float


def run_shard(job: ShardJob) -> dict[str, int]:
    """Generate the shard's people and return its row counts per source."""
    out = Path(job.out)
    clock = Clock(job.end_date, job.days)
    writer = ShardWriter(out, job.shard, job.gzip_events)
    ctx = Ctx(job.seed, job.customers, clock, writer, job.malformed_rate)
    events = EventWriter(ctx)
    truth_dir = out / TRUTH_DIR
    truth_dir.mkdir(parents=True, exist_ok=True)
    with (
        (truth_dir / f"identity-{job.shard}.part").open("w", newline="", encoding="utf-8") as ih,
        (truth_dir / f"people-{job.shard}.part").open("w", newline="", encoding="utf-8") as ph,
    ):
        identity = csv.writer(ih, lineterminator="\n")
        people = csv.writer(ph, lineterminator="\n")
        for index in range(job.first, job.stop):
            person = build_person(job.seed, index, job.customers)
            plan = plan_person(person, clock)
            write_messaging(ctx, person, plan)
            plan.sessions.sort(key=lambda s: s.start_ms)
            for session in plan.sessions:
                events.session(person, plan, session)
            for order in plan.orders:
                write_order(ctx, person, order)
            write_support(ctx, person, plan)
            write_crm(ctx, person, plan)
            for kind, value in sorted(person.truth, key=lambda k: (_TYPE_ORDER[k[0]], k[1])):
                identity.writerow((kind, value, person.person_id))
            people.writerow(_people_row(person, plan, clock))
    writer.close()
    return writer.counts


def _people_row(person: Person, plan: Plan, clock: Clock) -> list[str]:
    """What a journey or lifecycle check needs to know about the person (``people.csv``)."""
    orders = [o for o in plan.orders if clock.contains(o.created_ms)]
    kept = [o for o in orders if o.final_status not in ("cancelled", "refunded")]
    since = [m for m in (plan.account_ms, plan.lead_ms) if m is not None]
    since += [o.created_ms for o in orders[:1]]
    anon = sum(1 for kind, _ in person.truth if kind == "anonymous_id")
    return [
        person.person_id,
        person.persona,
        plan.lifecycle,
        person.country.code,
        person.timezone,
        person.locale,
        person.country.currency,
        person.first_name,
        person.last_name,
        person.user_id or "",
        person.email or "",
        person.work_email or "",
        person.phone or "",
        clock.utc(min(since)) if since else "",
        str(anon),
        "true" if person.in_crm else "false",
        person.household_id,
        "true" if person.shared_device else "false",
        "true" if person.unlinked_device else "false",
        "true" if person.repeat_caller else "false",
        str(len(orders)),
        money(sum(o.total for o in kept)),
        clock.utc(orders[0].created_ms) if orders else "",
        clock.utc(orders[-1].created_ms) if orders else "",
    ]
