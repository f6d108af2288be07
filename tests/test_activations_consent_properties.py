"""Consent, suppression and erasure hold over random customers and random histories.

Each example is a warehouse of random customers and a random history: consent granted and
withdrawn per purpose, addresses changed, unsubscribes, complaints and bounces (some dated after
the next run), audience members joining and leaving, journey messages queued, customers
leaving the marts, identity merges and moves (`marts.customer_identifiers` and
`marts.customer_id_history` changed as dbt changes them) and erasure requests, including
requests for customer ids nobody knows. After every change the real erasure processing, sync
runner and journey-send pipeline run against a webhook receiver on loopback, as a warehouse
refresh runs them, and what it received is checked against a model of the documented rules
(`tests/consent_model.py`), written independently of the SQL that enforces them:

- nothing reaches the receiver for a customer who lacks the purpose's consent at the run's
  `as_of`, is suppressed at that instant, or is covered by an erasure request (named by it,
  holding an identifier the erased customer held, or mapped to one by the history);
- every member or message kept back has a changelog row with exactly the model's reason;
- the mirror sync's audience at the receiver equals the eligible members, so members who lose
  consent are removed; nobody erased is held by any sync;
- a request naming a customer id the warehouse never knew is refused.
"""

from __future__ import annotations

import os
import random
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from activations.erasure import ErasureRequestError, record_request
from activations.ledger import rows_relation
from activations.plan import plan_sync
from activations.sends import decided_outbox_rows
from tests.consent_model import Model, Person, Request, Suppression
from tests.consent_world import SYNC_PURPOSES, World

STATUSES = ("granted", "granted", "denied", "revoked", "unknown", None)
MESSAGE_PURPOSES = ("email_marketing", "transactional")
START = datetime(2026, 6, 1)


def new_person(rng: random.Random, customer_id: str, **values) -> Person:
    email = None if rng.random() < 0.05 else f"{customer_id}@example.org"
    return Person(
        customer_id,
        email,
        {p: rng.choice(STATUSES) for p in ("email_marketing", "ads_personalisation")},
        member=rng.random() < 0.7,
        anonymous_ids={f"anon-{customer_id}"},
        emails={email} if email else set(),
        **values,
    )


people_strategy = st.integers(min_value=40, max_value=240)
CHANGES = (
    "consent",
    "email",
    "suppress",
    "member",
    "message",
    "leave_marts",
    "merge",
    "move",
    "erase",
    "erase_unknown",
)


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
    people = {f"c{n:04d}": new_person(rng, f"c{n:04d}") for n in range(size)}
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
    people = list(world.model.people.values())
    person = rng.choice(people)
    kind = rng.choices(CHANGES, weights=(5, 2, 5, 4, 4, 1, 1, 1, 1, 1))[0]
    if kind == "consent":
        person.consent[rng.choice(list(person.consent))] = rng.choice(STATUSES)
    elif kind == "email":
        person.email = f"{person.customer_id}.{rng.randrange(10**6)}@example.org"
        if person.in_marts:
            person.emails.add(person.email)
            world.history([("email", person.email, person.customer_id, None)], "assigned")
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
    elif kind in ("merge", "move"):
        into = rng.choice(people)
        if into is not person and person.in_marts and into.in_marts:
            world.identity_change(rng, kind, person, into)
        return
    elif kind == "erase":
        world.erase(person.customer_id, as_of)
        return
    elif kind == "erase_unknown":
        world.erase(f"x{rng.randrange(10**6)}", as_of)
        return
    world.write_person(person)


def churn(world: World, rng: random.Random, changes: int) -> None:
    people = list(world.model.people.values())
    for _ in range(changes):
        person, into = rng.sample(people, 2)
        if person.in_marts and into.in_marts:
            world.identity_change(rng, rng.choice(["merge", "move"]), person, into)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(1000, 4000), seed=st.integers(0, 2**32 - 1), days=st.integers(0, 12))
def test_every_decision_of_a_plan_and_of_the_sends_follows_the_rules(size, seed, days) -> None:
    """The same rules over thousands of customers at once: what the sync plan keeps back (and
    why) and what the journey-send decision drops (and why), before anything is delivered."""
    decisions(size, seed, days)


def decisions(size: int, seed: int, days: int) -> None:
    rng = random.Random(seed)
    people = {
        f"c{n:05d}": new_person(rng, f"c{n:05d}", in_marts=rng.random() > 0.03) for n in range(size)
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
            # Identity resolution merges and moves customers before and after the requests.
            churn(world, rng, size // 40)
            for person in rng.sample(list(people.values()), size // 30):
                customer_id = person.customer_id
                model.requests.append(Request(customer_id, model.held_by(customer_id)))
                record_request(con, customer_id=customer_id, requested_at=START, received_at=START)
            with pytest.raises(ErasureRequestError, match="customer id 'nobody' is unknown"):
                record_request(con, customer_id="nobody", requested_at=START, received_at=START)
            churn(world, rng, size // 40)
            erased = model.erased()
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
            for name, purpose in SYNC_PURPOSES.items():
                plan = plan_sync(con, world.project.valid()[name], as_of)
                planned = {c.record_key: c for c in plan.changes}
                for person in people.values():
                    why = model.reason(person, purpose, as_of, False, erased)
                    change = planned.get(person.customer_id)
                    if not person.member:
                        assert change is None
                    elif why is None:
                        assert change.change == "create", (name, person)
                    else:
                        assert (change.change, change.drop_reason) == ("drop", why), (name, person)
            for row in decided_outbox_rows(con, "hook", as_of):
                customer_id, purpose = messages[row["record_key"]]
                expected = model.reason(people[customer_id], purpose, as_of, True, erased)
                assert row["drop_reason"] == expected, (row, people[customer_id])
        finally:
            world.close()
