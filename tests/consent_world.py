"""The warehouse, sync project and webhook receiver of one consent property example
(`test_activations_consent_properties.py`), kept in step with the model
(`tests/consent_model.py`): every change is written to both."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import duckdb

from activations.erasure import ErasureRequestError, record_request
from activations.erasure_run import process_erasures
from activations.ledger import rows_relation
from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.sync_files import load_project
from activations.tables import ensure_tables
from activations.testing import SampleWarehouse, WebhookReceiver, write_project
from tests.consent_model import Model, Person, Request, Suppression

SECRET = "whsec-properties-2b7e"
SYNC_PURPOSES = {"mirror_email": "email_marketing", "upsert_ads": "ads_personalisation"}
IDENTITY_DDL = """
create table marts.customer_identifiers (
    identifier_type varchar, identifier_value varchar, customer_id varchar
);
create table marts.customer_id_history (
    identifier_type varchar, identifier_value varchar, customer_id varchar,
    previous_customer_id varchar, change_type varchar
);
"""


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
        self.con.execute(IDENTITY_DDL)
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
        # Everyone was a customer once: the history assigned their identifiers.
        assigned = [
            (kind, value, p.customer_id, None)
            for p in people
            for kind, value in sorted(
                {("anonymous_id", a) for a in p.anonymous_ids} | {("email", e) for e in p.emails}
            )
        ]
        self.history(assigned, "assigned")
        held = [(t, v, p.customer_id) for p in people for t, v in sorted(p.identifiers())]
        if held:
            rows, params = rows_relation([dict(zip("tvc", row, strict=True)) for row in held])
            self.con.execute(f"insert into marts.customer_identifiers select * from {rows}", params)

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
        self.con.execute(
            "delete from marts.customer_identifiers where customer_id = ?", [person.customer_id]
        )
        for kind, value in sorted(person.identifiers()):
            self.con.execute(
                "insert into marts.customer_identifiers values (?, ?, ?)",
                [kind, value, person.customer_id],
            )

    def history(self, rows: list[tuple[str, str, str, str | None]], change: str) -> None:
        """Append to marts.customer_id_history (and the model's copy), as a build does."""
        self.model.history += rows
        if rows:
            relation, params = rows_relation(
                [{"t": t, "v": v, "c": c, "p": p, "k": change} for t, v, c, p in rows]
            )
            self.con.execute(
                f"insert into marts.customer_id_history select * from {relation}", params
            )

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

    def erase(self, customer_id: str, as_of: datetime) -> None:
        """Record a request for the customer id, as `waymark forget --customer` does, and
        process it; an id the warehouse never knew is refused."""
        known = self.model.known(customer_id)
        held = self.model.held_by(customer_id)
        try:
            record_request(
                self.con,
                customer_id=customer_id,
                requested_at=as_of,
                received_at=as_of,
                external_ref=f"ticket-{customer_id}-{len(self.model.requests)}",
            )
        except ErasureRequestError as error:
            assert not known and "is unknown" in str(error), error
            return
        assert known, customer_id
        self.model.requests.append(Request(customer_id, held))
        self.process(as_of)

    def process(self, as_of: datetime) -> None:
        self.con.close()
        self.con = None
        outcomes = process_erasures(self.warehouse.path, self.project, self.options(as_of))
        assert {o.status for o in outcomes} <= {"processed"}
        self.con = duckdb.connect(str(self.warehouse.path))

    def options(self, as_of: datetime) -> RunOptions:
        return RunOptions(
            as_of=as_of,
            secrets=Secrets(self.env),
            sleep=lambda _: None,
            rng=random.Random(0),
        )

    def run(self, as_of: datetime) -> None:
        """Run erasure processing, both syncs and the journey sends at `as_of`, as a refresh
        does, then check what happened."""
        self.process(as_of)
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
        erased = model.erased()
        for event in arrived:
            if event["type"] == "send":
                customer_id, purpose = model.messages[event["key"]]
                why = model.reason(people[customer_id], purpose, as_of, True, erased)
                assert why is None, event
                assert event["purpose"] == purpose
            elif event["type"] != "remove":
                person = people[event["key"]]
                purpose = SYNC_PURPOSES[event["source"]]
                assert person.member, event
                assert model.reason(person, purpose, as_of, False, erased) is None, event
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
                why = model.reason(person, purpose, as_of, False, erased)
                if person.member and why is None:
                    eligible.add(person.customer_id)
                    email = person.email if person.in_marts else None
                    # A null email is left out of the payload (on_null defaults to omit).
                    assert held[key] == ({} if email is None else {"email": email}), (key, as_of)
                elif person.member:
                    assert logged.get(key) == why, (key, why, as_of)
                if person.customer_id in erased:
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
                self.decided[key] = model.reason(people[customer_id], purpose, as_of, True, erased)
            why = self.decided[key]
            if why is None:
                assert states[key] == "sent", (key, states[key])
            else:
                assert states[key] == "dropped", (key, why, states[key])
                assert logged[("sends:hook", key)] == why, (key, why)

    def identity_change(self, rng: random.Random, kind: str, person: Person, into: Person):
        """What a build does when new evidence joins two customers: a merge gives every identifier
        of `person` to `into` and `person`'s id ends (leaving its audiences); a move gives one."""
        if kind == "merge":
            moved = sorted(person.identifiers())
            person.in_marts, person.member = False, False
        else:
            if not person.anonymous_ids:
                return
            moved = [("anonymous_id", rng.choice(sorted(person.anonymous_ids)))]
        for identifier_type, value in moved:
            (person.emails if identifier_type == "email" else person.anonymous_ids).discard(value)
            (into.emails if identifier_type == "email" else into.anonymous_ids).add(value)
        self.history(
            [(t, v, into.customer_id, person.customer_id) for t, v in moved],
            "merged" if kind == "merge" else "moved",
        )
        self.write_person(person)
        self.write_person(into)
