"""Consent, suppression and erasure hold over random customers and random histories.

Each example is a warehouse of random customers and a random history: consent granted and
withdrawn per purpose, addresses changed, unsubscribes, complaints and bounces (some dated after
the next run), audience members joining and leaving, journey messages queued, customers
leaving the marts and erasure requests. After every change the real sync runner, journey-send
pipeline and erasure processing run against a webhook receiver on loopback, and what it received
is checked against a model of the documented rules written here in Python, independently of
the SQL that enforces them:

- nothing reaches the receiver for a customer who lacks the purpose's consent at the run's
  `as_of`, is suppressed at that instant, or asked to be erased;
- every member or message kept back has a changelog row with exactly the model's reason;
- the mirror sync's audience at the receiver equals the eligible members, so members who lose
  consent are removed; nobody erased is held by any sync.
"""

from __future__ import annotations

import os
import random
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activations.erasure import record_request
from activations.erasure_run import process_erasures
from activations.ledger import rows_relation
from activations.plan import plan_sync
from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.sends import decided_outbox_rows, deliver_sends
from activations.sync_files import load_project
from activations.tables import ensure_tables
from activations.testing import SampleWarehouse, WebhookReceiver, write_project

SECRET = "whsec-properties-2b7e"
STATUSES = ("granted", "granted", "denied", "revoked", "unknown", None)
SYNC_PURPOSES = {"mirror_email": "email_marketing", "upsert_ads": "ads_personalisation"}
MESSAGE_PURPOSES = ("email_marketing", "transactional")
START = datetime(2026, 6, 1)


@dataclass
class Person:
    customer_id: str
    email: str | None
    consent: dict[str, str | None]
    member: bool
    in_marts: bool = True
    erased: bool = False


@dataclass
class Suppression:
    address: str
    event_type: str
    bounce: str | None
    occurred_at: datetime


@dataclass
class Model:
    people: dict[str, Person]
    events: list[Suppression] = field(default_factory=list)
    messages: dict[str, tuple[str, str]] = field(default_factory=dict)
    """idempotency key -> (customer_id, purpose)"""

    def reason(self, person: Person, purpose: str, as_of: datetime, message: bool) -> str | None:
        """Why nothing may go to the person for the purpose (None: it may), by the documented
        rules: a sync to a CRM webhook checks the purpose's channel; a journey email also the
        email channel, and needs an address."""
        if person.erased:
            return "deleted:erasure_request"
        email = person.email if person.in_marts else None
        if message and email is None:
            return "no_address"
        checked = message or purpose == "email_marketing"
        mine = [e for e in self.events if checked and e.address == email and e.occurred_at <= as_of]
        if any(e.event_type == "bounced" and e.bounce == "hard" for e in mine):
            return "suppressed:hard_bounced"
        if purpose == "transactional":
            return None
        if any(e.event_type == "complained" for e in mine):
            return "suppressed:complained"
        if not person.in_marts:
            return "no_consent:unknown_customer"
        status = person.consent[purpose]
        if status == "granted":
            return None
        if purpose == "email_marketing" and any(e.event_type == "unsubscribed" for e in mine):
            return "suppressed:unsubscribed"
        return f"no_consent:{status or 'unknown'}"


class World:
    """The warehouse, the project and the receiver of one example."""

    def __init__(self, root: Path, model: Model) -> None:
        self.model, self.receiver = model, WebhookReceiver(SECRET)
        self.decided: dict[str, str | None] = {}
        """Each message's fate, decided by the model at the first run that saw it."""
        self.warehouse = SampleWarehouse(root / "warehouse.duckdb")
        audience = {
            "type": "audience",
            "model": "audiences.members",
            "destination": "hook",
            "key": "customer_id",
            "fields": {"email": "customer.email"},
        }
        self.paths = write_project(
            root / "project",
            {"hook": {"kind": "webhook", "channel": "crm", "env": ["HOOK_URL", "HOOK_SECRET"]}},
            {"hook": {"config": {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"}}},
            {
                "mirror_email": {**audience, "mode": "mirror", "purpose": "email_marketing"},
                "upsert_ads": {**audience, "mode": "upsert", "purpose": "ads_personalisation"},
            },
        )
        self.project = load_project(self.paths)
        assert not self.project.issues, self.project.issues
        self.env = {"HOOK_URL": self.receiver.url, "HOOK_SECRET": SECRET}
        self.con = duckdb.connect(str(self.warehouse.path))
        ensure_tables(self.con)
        people = list(model.people.values())
        customers, params = rows_relation(
            [
                {
                    "customer_id": p.customer_id,
                    "email": p.email,
                    "email_marketing_consent": p.consent["email_marketing"],
                    "ads_personalisation_consent": p.consent["ads_personalisation"],
                }
                for p in people
                if p.in_marts
            ]
        )
        self.con.execute(
            "insert into marts.customers (customer_id, email, email_marketing_consent, "
            f"ads_personalisation_consent) select * from {customers}",
            params,
        )
        members, params = rows_relation([{"c": p.customer_id, "s": 1} for p in people if p.member])
        self.con.execute(f"insert into audiences.members select * from {members}", params)

    def close(self) -> None:
        if self.con is not None:
            self.con.close()
        self.receiver.close()

    def write_person(self, person: Person) -> None:
        self.con.execute("delete from marts.customers where customer_id = ?", [person.customer_id])
        if person.in_marts:
            consent = person.consent
            self.con.execute(
                "insert into marts.customers (customer_id, email, email_marketing_consent, "
                "ads_personalisation_consent) values (?, ?, ?, ?)",
                [
                    person.customer_id,
                    person.email,
                    consent["email_marketing"],
                    consent["ads_personalisation"],
                ],
            )
        self.con.execute(
            "delete from audiences.members where customer_id = ?", [person.customer_id]
        )
        if person.member:
            self.con.execute("insert into audiences.members values (?, 1)", [person.customer_id])

    def suppress(self, event: Suppression) -> None:
        self.model.events.append(event)
        self.con.execute(
            "insert into staging.stg_messaging__engagement values "
            "(gen_random_uuid()::varchar, 'email', ?, null, ?, ?, ?)",
            [event.address, event.event_type, event.bounce, event.occurred_at],
        )

    def queue(self, key: str, person: Person, purpose: str) -> None:
        self.model.messages[key] = (person.customer_id, purpose)
        self.con.execute(
            "insert into journeys.journey_outbox values (?, ?, 'email', 'hook', 'note', ?, "
            "'{\"subject\": \"Hello\"}', 'pending')",
            [key, person.customer_id, purpose],
        )

    def erase(self, person: Person, as_of: datetime) -> None:
        person.erased = True
        record_request(
            self.con,
            customer_id=person.customer_id,
            requested_at=as_of,
            received_at=as_of,
            external_ref=f"ticket-{person.customer_id}",
        )
        self.con.close()
        self.con = None
        outcomes = process_erasures(self.warehouse.path, self.project, self.options(as_of))
        assert [o.status for o in outcomes] == ["processed"]
        self.con = duckdb.connect(str(self.warehouse.path))

    def options(self, as_of: datetime) -> RunOptions:
        return RunOptions(
            as_of=as_of.strftime("%Y-%m-%d %H:%M:%S"),
            secrets=Secrets(self.env),
            sleep=lambda _: None,
            rng=random.Random(0),
        )

    def run(self, as_of: datetime) -> None:
        """Run both syncs and the journey sends at `as_of`, then check what happened."""
        self.con.close()
        self.con = None
        seen = len(self.receiver.applied)
        valid = self.project.valid()
        for name in SYNC_PURPOSES:
            report = run_sync(self.warehouse.path, valid[name], self.options(as_of))
            assert report.status == "success", report.summary()
        deliver_sends(self.warehouse.path, self.project.destinations, self.options(as_of))
        self.con = duckdb.connect(str(self.warehouse.path))
        self.check(as_of, self.receiver.applied[seen:])

    def check(self, as_of: datetime, arrived: list[dict]) -> None:
        people, model = self.model.people, self.model
        for event in arrived:
            if event["type"] == "send":
                customer_id, purpose = model.messages[event["key"]]
                assert model.reason(people[customer_id], purpose, as_of, True) is None, event
                assert event["purpose"] == purpose
            elif event["type"] != "remove":
                person = people[event["key"]]
                purpose = SYNC_PURPOSES[event["source"]]
                assert person.member, event
                assert model.reason(person, purpose, as_of, False) is None, event
        logged = {
            (sync, key): code
            for sync, key, code in self.con.execute(
                "select sync_name, record_key, arg_max(error_code, recorded_at) "
                "from activations.sync_changelog group by all"
            ).fetchall()
        }
        held = self.receiver.records
        for name, purpose in SYNC_PURPOSES.items():
            eligible = set()
            for person in people.values():
                key = (name, person.customer_id)
                why = model.reason(person, purpose, as_of, False)
                if person.member and why is None:
                    eligible.add(person.customer_id)
                    email = person.email if person.in_marts else None
                    # A null email is left out of the payload (on_null defaults to omit).
                    assert held[key] == ({} if email is None else {"email": email}), (key, as_of)
                elif person.member:
                    assert logged.get(key) == why, (key, why, as_of)
                if person.erased:
                    assert key not in held, key
            if name == "mirror_email":
                assert {k for s, k in held if s == name} == eligible, as_of
        states = dict(
            self.con.execute(
                "select idempotency_key, state from journeys.journey_outbox"
            ).fetchall()
        )
        for key, (customer_id, purpose) in model.messages.items():
            if key not in self.decided:
                self.decided[key] = model.reason(people[customer_id], purpose, as_of, True)
            why = self.decided[key]
            if why is None:
                assert states[key] == "sent", (key, states[key])
            else:
                assert states[key] == "dropped", (key, why, states[key])
                assert logged[("sends:hook", key)] == why, (key, why)


people_strategy = st.integers(min_value=40, max_value=240)
CHANGES = ("consent", "email", "suppress", "member", "message", "leave_marts", "erase")


@settings(
    max_examples=int(os.environ.get("WAYMARK_PROPERTY_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(size=people_strategy, seed=st.integers(0, 2**32 - 1), runs=st.integers(3, 6))
def test_nothing_goes_to_anyone_without_consent_or_under_suppression(size, seed, runs) -> None:
    scenario(size, seed, runs)


def scenario(size: int, seed: int, runs: int) -> None:
    """Random customers, then `runs` rounds of random changes each followed by a run."""
    rng = random.Random(seed)
    people = {}
    for n in range(size):
        customer_id = f"c{n:04d}"
        people[customer_id] = Person(
            customer_id,
            None if rng.random() < 0.05 else f"{customer_id}@example.org",
            {p: rng.choice(STATUSES) for p in ("email_marketing", "ads_personalisation")},
            member=rng.random() < 0.7,
        )
    model = Model(people)
    # On tmpfs when there is one: every durable step of a run commits, and what is checked here
    # is what was sent, not what survives a power cut.
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as folder:
        world = World(Path(folder), model)
        try:
            as_of = START
            world.run(as_of)
            for run in range(runs):
                for _ in range(rng.randint(1, max(2, size // 8))):
                    change(world, rng, as_of, f"{run}")
                as_of += timedelta(days=rng.randint(1, 3))
                world.run(as_of)
        finally:
            world.close()


def change(world: World, rng: random.Random, as_of: datetime, run: str) -> None:
    """One random change to the warehouse, mirrored in the model."""
    person = rng.choice(list(world.model.people.values()))
    kind = rng.choices(CHANGES, weights=(5, 2, 5, 4, 4, 1, 1))[0]
    if kind == "consent":
        person.consent[rng.choice(list(person.consent))] = rng.choice(STATUSES)
    elif kind == "email":
        person.email = f"{person.customer_id}.{rng.randrange(10**6)}@example.org"
    elif kind == "suppress" and person.email is not None:
        event_type, bounce = rng.choice(
            [("unsubscribed", None), ("complained", None), ("bounced", "hard"), ("bounced", "soft")]
        )
        # Some events are dated after the next run: they must not count before they happen.
        when = as_of + timedelta(hours=rng.randint(-48, 96))
        world.suppress(Suppression(person.email, event_type, bounce, when))
    elif kind == "member":
        person.member = not person.member
    elif kind == "message":
        key = f"journey:{person.customer_id}:{run}:{rng.randrange(10**6)}"
        world.queue(key, person, rng.choice(MESSAGE_PURPOSES))
    elif kind == "leave_marts":
        person.in_marts = False
    elif kind == "erase" and not person.erased:
        world.erase(person, as_of)
        return
    world.write_person(person)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(1000, 4000), seed=st.integers(0, 2**32 - 1), days=st.integers(0, 12))
def test_every_decision_of_a_plan_and_of_the_sends_follows_the_rules(size, seed, days) -> None:
    """The same rules over thousands of customers at once: what the sync plan keeps back (and
    why) and what the journey-send decision drops (and why), before anything is delivered."""
    decisions(size, seed, days)


def decisions(size: int, seed: int, days: int) -> None:
    rng = random.Random(seed)
    people = {
        f"c{n:05d}": Person(
            f"c{n:05d}",
            None if rng.random() < 0.05 else f"c{n:05d}@example.org",
            {p: rng.choice(STATUSES) for p in ("email_marketing", "ads_personalisation")},
            member=rng.random() < 0.7,
            in_marts=rng.random() > 0.03,
            erased=rng.random() < 0.03,
        )
        for n in range(size)
    }
    model = Model(people)
    as_of = START + timedelta(days=days)
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as folder:
        world = World(Path(folder), model)
        try:
            con = world.con
            events = []
            for person in rng.sample(list(people.values()), size // 3):
                if person.email is None:
                    continue
                event_type, bounce = rng.choice(
                    [
                        ("unsubscribed", None),
                        ("complained", None),
                        ("bounced", "hard"),
                        ("bounced", "soft"),
                    ]
                )
                when = START + timedelta(hours=rng.randint(-120, 360))
                events.append(Suppression(person.email, event_type, bounce, when))
            model.events.extend(events)
            relation, params = rows_relation(
                [
                    {"a": e.address, "t": e.event_type, "b": e.bounce, "w": e.occurred_at}
                    for e in events
                ]
            )
            con.execute(
                "insert into staging.stg_messaging__engagement select gen_random_uuid()::varchar, "
                f"'email', a, null, t, b, w from {relation}",
                params,
            )
            for person in people.values():
                if person.erased:
                    record_request(
                        con, customer_id=person.customer_id, requested_at=START, received_at=START
                    )
            messages = {
                f"journey:{p.customer_id}:{n}": (p.customer_id, rng.choice(MESSAGE_PURPOSES))
                for n, p in enumerate(rng.sample(list(people.values()), size // 2))
            }
            model.messages.update(messages)
            relation, params = rows_relation(
                [{"k": k, "c": c, "p": purpose} for k, (c, purpose) in messages.items()]
            )
            con.execute(
                "insert into journeys.journey_outbox select k, c, 'email', 'hook', 'note', p, "
                f"'{{}}', 'pending' from {relation}",
                params,
            )
            text = as_of.strftime("%Y-%m-%d %H:%M:%S")
            for name, purpose in SYNC_PURPOSES.items():
                plan = plan_sync(con, world.project.valid()[name], text)
                planned = {c.record_key: c for c in plan.changes}
                for person in people.values():
                    why = model.reason(person, purpose, as_of, False)
                    change = planned.get(person.customer_id)
                    if not person.member:
                        assert change is None
                    elif why is None:
                        assert change.change == "create", (name, person)
                    else:
                        assert (change.change, change.drop_reason) == ("drop", why), (name, person)
            for row in decided_outbox_rows(con, "hook", text):
                customer_id, purpose = messages[row["record_key"]]
                expected = model.reason(people[customer_id], purpose, as_of, True)
                assert row["drop_reason"] == expected, (row, people[customer_id])
        finally:
            world.close()
