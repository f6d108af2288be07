"""Erasure follows the person through identity resolution, on a warehouse built by dbt.

The committed demo data is built, two syncs (a webhook mirror and a PostgreSQL upsert) deliver a
few people, and `waymark forget` erases one of them. Identify events then land that link the
erased person's email to other customers' anonymous ids: incremental builds merge the person
into those customers (logged in `marts.customer_id_history`), and a full refresh derives every
id again. After each build, every sync, the journey engine's send decision and journey-send
delivery drop the person with `deleted:erasure_request`, nothing carrying their email leaves,
and erasure processing removes and audits what their new customer ids held.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.sync_files import load_project
from activations.testing import WebhookReceiver, write_project
from activations.testing_postgres import PostgresScratch
from tests.conftest import Builder, copy_data
from waymark.cli.main import main
from waymark.core.home import DEMO_AS_OF, DEMO_DATA_DIR, PROJECT_ROOT
from waymark.core.instants import format_instant
from waymark.journeys.engine import tick
from waymark.journeys.project import ProjectPaths
from waymark.journeys.validation import validate_project

SECRET = "whsec-erasure-identity-5d21"
ERASURE = "deleted:erasure_request"
FIELDS = {"email": "email", "first_name": "first_name"}
JOURNEY = """
name: checkout_note
description: A note to the shop's CRM hook for every checkout started.
entry:
  event: checkout_started
instance_key: properties.cart_id
steps:
  - id: note
    send:
      channel: crm
      destination: hook
      template: checkout_note
      purpose: transactional
"""
TEMPLATE = {
    "channel": "crm",
    "payload": {
        "subject": "Checkout {{ event.cart_id }} by {{ customer.email | default('-', true) }}"
    },
}
PEOPLE_SQL = """
with per_customer as (
    select customer_id,
        count(*) filter (where identifier_type = 'email') as emails,
        count(*) filter (where identifier_type = 'anonymous_id') as anonymous_ids,
        count(*) filter (where identifier_type <> 'anonymous_id') as others,
        min(first_seen_at) as first_seen_at,
        min(identifier_value) filter (where identifier_type = 'anonymous_id') as anonymous_id,
        min(identifier_value) filter (where identifier_type = 'email') as email
    from marts.customer_identifiers
    group by customer_id
)
"""


@dataclass
class People:
    erased: str
    email: str
    """The erased person's only email; identify events later give it to `merged_into`."""
    merged_into: str
    merged_into_anonymous_id: str
    later: str
    """An anonymous visitor seen before `merged_into`: a later merge makes them the survivor."""
    later_anonymous_id: str
    bystander: str
    bystander_anonymous_id: str


class Scenario:
    def __init__(self, root: Path, builder: Builder, receiver: WebhookReceiver, pg) -> None:
        self.builder, self.receiver, self.pg = builder, receiver, pg
        self.data = copy_data(DEMO_DATA_DIR, root / "data")
        self.warehouse = root / "warehouse.duckdb"
        self.env = {"HOOK_URL": receiver.url, "HOOK_SECRET": SECRET}
        profile = {"type": "object", "model": "scope.people", "key": "customer_id"}
        self.paths = write_project(
            root,
            {"hook": {"kind": "webhook", "channel": "crm", "env": ["HOOK_URL", "HOOK_SECRET"]}},
            {
                "hook": {"config": {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"}},
                "app_db": {
                    "kind": "postgres",
                    "config": {"dbname": pg.dbname, "user": "postgres", "schema_name": pg.schema},
                },
            },
            {
                "people_hook": {**profile, "destination": "hook", "mode": "mirror",
                                "fields": FIELDS, "purpose": "transactional"},
                "people_db": {**profile, "destination": "app_db", "mode": "upsert",
                              "fields": FIELDS, "purpose": "transactional",
                              "settings": {"table": "people"}},
            },
        )  # fmt: skip
        journeys = root / "journeys"
        journeys.mkdir()
        shutil.copy(PROJECT_ROOT / "journeys" / "_events.yml", journeys)
        (journeys / "checkout_note.yml").write_text(JOURNEY.lstrip())
        (root / "templates").mkdir()
        (root / "templates" / "checkout_note.yml").write_text(json.dumps(TEMPLATE))
        self.journeys = validate_project(ProjectPaths.for_journeys(journeys))
        assert self.journeys.issues == []
        self.landed = 0

    def build(self, *, full_refresh: bool = False) -> None:
        result = self.builder.build(self.data, self.warehouse, full_refresh=full_refresh)
        assert not result.failures, result.failures

    def land(self, *events: dict) -> None:
        """One new events file, as the collector lands it."""
        self.landed += 1
        lines = [
            json.dumps({"messageId": f"erasure-identity-{self.landed}-{n}", "userId": None, **e})
            for n, e in enumerate(events)
        ]
        path = self.data / "events" / f"2026-06-29-{90 + self.landed}.jsonl"
        path.write_text("\n".join(lines) + "\n")

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.warehouse)) as con:
            return con.execute(sql, params or []).fetchall()

    def options(self) -> RunOptions:
        return RunOptions(
            as_of=DEMO_AS_OF, secrets=Secrets(self.env), sleep=lambda _: None, rng=random.Random(1)
        )

    def sync(self, name: str):
        project = load_project(self.paths)
        assert not project.issues, project.issues
        report = run_sync(self.warehouse, project.valid()[name], self.options())
        assert report.status == "success", report.summary()
        return report

    def cli(self, *argv: str) -> int:
        common = ["--warehouse", str(self.warehouse), "--syncs", str(self.paths.syncs)]
        return main([*argv, *common, "--as-of", format_instant(DEMO_AS_OF)])

    def audit(self, customer_id: str) -> list[tuple]:
        return self.query(
            "select sync_name, destination, record_key, action, result "
            "from activations.deletion_audit where customer_id = ? order by 1, 3",
            [customer_id],
        )

    def holder(self, email: str) -> str:
        [(customer_id,)] = self.query(
            "select customer_id from marts.customer_identifiers "
            "where identifier_type = 'email' and identifier_value = ?",
            [email],
        )
        return customer_id


def pick_people(scenario: Scenario) -> People:
    """From the built data: the erased person has one email and was first seen late; two
    anonymous-only visitors first seen early (so they survive a merge with them), and one
    more anonymous-only bystander."""
    [(erased, email)] = scenario.query(
        PEOPLE_SQL + "select customer_id, email from per_customer where emails = 1 "
        "and anonymous_ids between 1 and 3 order by first_seen_at desc, customer_id limit 1"
    )
    anonymous = scenario.query(
        PEOPLE_SQL + "select customer_id, anonymous_id from per_customer "
        "where others = 0 and anonymous_ids = 1 order by first_seen_at, customer_id limit 3"
    )
    (later, later_anonymous), (merged_into, merged_anonymous), (bystander, bystander_anonymous) = (
        anonymous
    )
    return People(
        erased, email, merged_into, merged_anonymous, later, later_anonymous, bystander,
        bystander_anonymous,
    )  # fmt: skip


def identify(anonymous_id: str, email: str, at: str) -> dict:
    return {"type": "identify", "anonymousId": anonymous_id, "timestamp": at,
            "traits": {"email": email}}  # fmt: skip


def checkout(anonymous_id: str, cart_id: str, at: str) -> dict:
    properties = {"cart_id": cart_id, "value": 10, "currency": "USD"}
    return {"type": "track", "event": "Checkout Started", "anonymousId": anonymous_id,
            "timestamp": at, "properties": properties}  # fmt: skip


@pytest.fixture
def receiver():
    server = WebhookReceiver(SECRET)
    yield server
    server.close()


@pytest.fixture
def pg():
    scratch = PostgresScratch()
    yield scratch
    scratch.close()


@pytest.mark.slow
def test_erasure_survives_identity_merge(builder, tmp_path, receiver, pg, monkeypatch) -> None:
    scenario = Scenario(tmp_path, builder, receiver, pg)
    for name, value in scenario.env.items():
        monkeypatch.setenv(name, value)
    scenario.build()
    people = pick_people(scenario)
    # The people the syncs deliver: whoever holds these identifiers, whatever their id now.
    followed = [
        people.email,
        people.merged_into_anonymous_id,
        people.later_anonymous_id,
        people.bystander_anonymous_id,
    ]
    scenario.query(
        "create schema scope; create view scope.people as select * from marts.customers "
        "where customer_id in (select customer_id from marts.customer_identifiers "
        f"where identifier_value in ({', '.join(repr(v) for v in followed)}))"
    )
    everyone = {people.erased, people.merged_into, people.later, people.bystander}
    for name in ("people_hook", "people_db"):
        assert scenario.sync(name).sent == 4
    assert {key for _, key in receiver.records} == everyone

    assert scenario.cli("forget", "--customer", people.erased) == 0
    assert people.erased not in {key for _, key in receiver.records}
    assert pg.query("select count(*) from {schema}.people where email = %s", [people.email]) == [
        (0,)
    ]
    delivered_before = len(receiver.applied)

    # One login on a device the shop had only seen anonymously, and a checkout there.
    scenario.land(
        identify(people.merged_into_anonymous_id, people.email, "2026-06-29T12:00:00.000Z"),
        checkout(people.merged_into_anonymous_id, "cart-erased-1", "2026-06-29T12:05:00.000Z"),
        checkout(people.bystander_anonymous_id, "cart-bystander-1", "2026-06-29T12:06:00.000Z"),
    )
    scenario.build()
    assert scenario.holder(people.email) == people.merged_into
    assert scenario.query(
        "select customer_id, previous_customer_id, change_type from marts.customer_id_history "
        "where identifier_type = 'email' and identifier_value = ? order by recorded_at",
        [people.email],
    ) == [(people.erased, None, "assigned"), (people.merged_into, people.erased, "merged")]
    # The survivor's golden email is now the erased person's: what a sync would send.
    assert scenario.query(
        "select email from marts.customers where customer_id = ?", [people.merged_into]
    ) == [(people.email,)]

    for name in ("people_hook", "people_db"):
        report = scenario.sync(name)
        assert report.drop_reasons == {ERASURE: 1}, (name, report.summary())
    assert scenario.query(
        "select sync_name, operation, error_code from activations.sync_changelog "
        "where record_key = ? and error_code = ? order by 1, 2",
        [people.merged_into, ERASURE],
    ) == [("people_db", "drop", ERASURE), ("people_hook", "remove", ERASURE)]

    # The journey engine renders nothing for them; a message queued for them before the merge
    # is dropped at delivery. (Other demo customers' checkouts that day are sent.)
    with duckdb.connect(str(scenario.warehouse)) as con:
        tick(con, scenario.journeys.journeys, scenario.journeys.project, datetime(2026, 6, 29, 13))
        decided = con.execute(
            "select customer_id, action, reason from journeys.journey_step_log "
            "where step_id = 'note' and action in ('sent', 'suppressed') "
            "and customer_id in (?, ?) order by 1",
            [people.merged_into, people.bystander],
        ).fetchall()
        con.execute(
            "insert into journeys.journey_outbox (idempotency_key, customer_id, channel, "
            "destination, template, purpose, payload, journey, instance_id, step_id, queued_at) "
            "values ('checkout_note:early:note', ?, 'crm', 'hook', 'checkout_note', "
            "'transactional', '{\"subject\": \"Earlier\"}', 'checkout_note', 'early', 'note', "
            "timestamp '2026-06-29 11:00:00')",
            [people.merged_into],
        )
        rendered = con.execute(
            "select count(*) from journeys.journey_outbox where customer_id = ?",
            [people.merged_into],
        ).fetchone()
    assert sorted(decided) == sorted(
        [(people.merged_into, "suppressed", ERASURE), (people.bystander, "sent", None)]
    )
    assert rendered == (1,)  # only the message inserted above
    project = load_project(scenario.paths)
    [sends] = deliver_sends(scenario.warehouse, project.destinations, scenario.options())
    assert sends.dropped == 1 and sends.sent >= 1
    assert scenario.query(
        "select operation, error_code from activations.sync_changelog "
        "where record_key = 'checkout_note:early:note'"
    ) == [("drop", ERASURE)]

    # Erasure processing takes the request up again for the customer id it now covers.
    assert scenario.cli("syncs", "erase") == 0
    assert scenario.audit(people.merged_into) == [
        ("people_db", "app_db", people.merged_into, "remove", "removed"),
        ("people_hook", "hook", people.merged_into, "remove", "removed"),
    ]
    assert pg.query("select customer_id from {schema}.people order by 1") == sorted(
        [(people.later,), (people.bystander,)]
    )

    # A later merge moves the identifiers on again; then a full refresh derives every id anew.
    scenario.land(identify(people.later_anonymous_id, people.email, "2026-06-29T14:00:00.000Z"))
    scenario.build()
    assert scenario.holder(people.email) == people.later
    for name in ("people_hook", "people_db"):
        assert scenario.sync(name).drop_reasons == {ERASURE: 1}
    scenario.build(full_refresh=True)
    assert scenario.holder(people.email) == people.later
    for name in ("people_hook", "people_db"):
        report = scenario.sync(name)
        assert report.sent == 0 and set(report.drop_reasons) <= {ERASURE}, report.summary()
    assert scenario.cli("syncs", "erase") == 0
    assert [row[4] for row in scenario.audit(people.later)] == ["removed", "removed"]
    assert {key for source, key in receiver.records if source == "people_hook"} == {
        people.bystander
    }

    sent_since = json.dumps(receiver.applied[delivered_before:])
    assert people.email not in sent_since
    assert pg.query("select count(*) from {schema}.people where email = %s", [people.email]) == [
        (0,)
    ]
