"""Kill runs at every durable step and prove the destinations end up right, once.

In-process crashes raise `SimulatedCrash` at named points (a BaseException no handler catches;
the run's warehouse connection is closed without committing, as a dead process's would be).
A few real SIGKILLs of `waymark sync` subprocesses check the same against a real process death.
Between crashes the source keeps changing, so replays meet new values.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from activations.delivery import RetryPolicy
from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.sync_files import load_project
from activations.testing import (
    SAMPLE_AS_OF,
    MailSink,
    SampleWarehouse,
    WebhookReceiver,
    write_project,
)
from activations.testing_postgres import PostgresScratch
from waymark.core import crash
from waymark.core.instants import format_instant

SECRET = "whsec-crash-9d8c7b"
PEOPLE = [f"p{n:02d}" for n in range(16)]
SYNC_POINTS = ["sync.before_send", "sync.after_send", "sync.after_record"]


def members_sync(destination: str, batch_size: int, settings: dict | None = None) -> dict:
    return {
        "type": "audience",
        "model": "audiences.members",
        "destination": destination,
        "mode": "mirror",
        "key": "customer_id",
        "fields": {"email": "customer.email"},
        "purpose": "email_marketing",
        "batch_size": batch_size,
        "settings": settings or {},
    }


def destinations(tmp_path: Path, receiver_url: str, pg: PostgresScratch) -> dict:
    return {
        "shared": {
            "hook": {"kind": "webhook", "channel": "crm", "env": ["HOOK_URL", "HOOK_SECRET"]},
            "mail": {"kind": "smtp", "channel": "email", "env": ["MAIL_HOST", "MAIL_PORT"]},
        },
        "connectors": {
            "hook": {"config": {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"}},
            "mail": {
                "config": {
                    "host_env": "MAIL_HOST",
                    "port_env": "MAIL_PORT",
                    "starttls": False,
                    "from_address": "Shop <hello@shop.example>",
                }
            },
            "pg": {
                "kind": "postgres",
                "config": {"dbname": pg.dbname, "user": "postgres", "schema_name": pg.schema},
            },
            "drop": {"kind": "files", "config": {"root": str(tmp_path / "out")}},
        },
        "env": {"HOOK_URL": receiver_url, "HOOK_SECRET": SECRET, "MAIL_HOST": "127.0.0.1"},
    }


@pytest.fixture
def world(tmp_path: Path):
    receiver = WebhookReceiver(SECRET)
    mail = MailSink()
    pg = PostgresScratch()
    pg.audited_table("members", "customer_id", {"email": "text"})
    setup = destinations(tmp_path, receiver.url, pg)
    paths = write_project(
        tmp_path / "project",
        setup["shared"],
        setup["connectors"],
        {
            "to_hook": members_sync("hook", 1),
            "to_pg": members_sync("pg", 4, {"table": "members", "create_table": False}),
            "to_files": members_sync("drop", 5),
        },
    )
    env = {**setup["env"], "MAIL_PORT": str(mail.port)}
    warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
    yield paths, warehouse, receiver, mail, pg, env
    receiver.close()
    mail.close()
    pg.close()


def options(env: dict[str, str]) -> RunOptions:
    return RunOptions(
        as_of=SAMPLE_AS_OF,
        secrets=Secrets(env),
        sleep=lambda seconds: None,
        rng=random.Random(3),
        policy=RetryPolicy(max_attempts=2, base_delay=0.0),
    )


def mutate(
    warehouse: SampleWarehouse, rng: random.Random, step: int, consent: str = "email_marketing"
) -> None:
    """New emails, people joining and leaving the audience, consent withdrawn and restored."""
    with warehouse.batch():
        for person in rng.sample(PEOPLE, 3):
            granted = "denied" if rng.random() < 0.15 else "granted"
            warehouse.customer(
                person, email=f"{person}.{step}@example.org", **{f"{consent}_consent": granted}
            )
        warehouse.members(sorted(rng.sample(PEOPLE, rng.randint(5, 10))))


def expected(
    warehouse: SampleWarehouse, consent: str = "email_marketing_consent"
) -> dict[str, str]:
    rows = warehouse.execute(
        "select customers.customer_id, customers.email from audiences.members "
        "inner join marts.customers using (customer_id) "
        f"where customers.{consent} = 'granted'"
    )
    return dict(rows)


def crash_loop(
    run, warehouse, points: list[str], rounds: int, seed: int, consent: str = "email_marketing"
) -> Counter:
    """Each round changes the source and runs with a crash armed at one point."""
    rng, crashes = random.Random(seed), Counter()
    with warehouse.batch():
        for person in PEOPLE:
            warehouse.customer(person)
    for step in range(rounds):
        mutate(warehouse, rng, step, consent)
        point = points[step % len(points)]
        with crash.installed(crash.crash_at(point, rng.randint(1, 2))):
            try:
                run()
            except crash.SimulatedCrash:
                crashes[point] += 1
    return crashes


def settle(run) -> None:
    """Two clean runs: the first finishes what crashes left, the second must find nothing."""
    run()
    assert run().requests == 0


def test_webhook_sync_survives_crashes(world) -> None:
    paths, warehouse, receiver, _, _, env = world
    loaded = load_project(paths).valid()["to_hook"]

    def run():
        return run_sync(warehouse.path, loaded, options(env))

    crashes = crash_loop(run, warehouse, [*SYNC_POINTS, "webhook.after_request"], 64, seed=1)
    settle(run)
    held = {key: data["email"] for (source, key), data in receiver.records.items()}
    assert held == expected(warehouse)
    assert receiver.duplicate_effects() == 0 and receiver.bad_signatures == 0
    assert sum(crashes.values()) >= 60, crashes
    assert receiver.replays_absorbed > 0  # crashes after sending were replayed, and absorbed
    print(f"webhook: {sum(crashes.values())} crashes {dict(crashes)}, 0 duplicates, 0 missing")


def test_postgres_sync_survives_crashes(world) -> None:
    paths, warehouse, _, _, pg, env = world
    loaded = load_project(paths).valid()["to_pg"]

    def run():
        return run_sync(warehouse.path, loaded, options(env))

    points = [*SYNC_POINTS, "postgres.before_commit"]
    crashes = crash_loop(run, warehouse, points, 64, seed=2)
    settle(run)
    held = dict(pg.query("select customer_id, email from {schema}.members"))
    assert held == expected(warehouse)
    assert pg.duplicate_effects() == 0
    assert sum(crashes.values()) >= 60, crashes
    print(f"postgres: {sum(crashes.values())} crashes {dict(crashes)}, 0 duplicates, 0 missing")


def test_files_sync_survives_crashes(world, tmp_path: Path) -> None:
    paths, warehouse, _, _, _, env = world
    loaded = load_project(paths).valid()["to_files"]

    def run():
        return run_sync(warehouse.path, loaded, options(env))

    crashes = crash_loop(run, warehouse, [*SYNC_POINTS, "files.after_delta"], 40, seed=3)
    settle(run)
    folder = tmp_path / "out" / "to_files"
    current = pq.read_table(folder / "current.parquet").to_pylist()
    assert {row["customer_id"]: row["email"] for row in current} == expected(warehouse)
    op_ids = Counter(
        op_id
        for delta in (folder / "deltas").glob("*.parquet")
        for op_id in pq.read_table(delta, columns=["_op_id"]).column("_op_id").to_pylist()
    )
    assert all(count == 1 for count in op_ids.values())
    assert sum(crashes.values()) >= 36, crashes
    print(f"files: {sum(crashes.values())} crashes {dict(crashes)}, 0 duplicates, 0 missing")


def test_journey_sends_survive_crashes(world) -> None:
    paths, warehouse, receiver, mail, _, env = world
    project = load_project(paths)
    rng = random.Random(4)
    with warehouse.batch():
        for person in PEOPLE:
            warehouse.customer(person)
    crashes: Counter = Counter()
    keys: list[str] = []
    points = ["send.before_send", "send.after_send", "smtp.after_data", "webhook.after_request"]
    for step in range(44):
        with warehouse.batch():
            for n in range(3):
                key = f"journey:{step}:{n}"
                person = rng.choice(PEOPLE)
                keys.append(key)
                target = "mail" if n < 2 else "hook"
                channel = "email" if target == "mail" else "webhook"
                warehouse.outbox(
                    key,
                    person,
                    target,
                    channel=channel,
                    payload={"subject": f"Step {step}", "text": "Hello"},
                )
        point = points[step % len(points)]
        occurrence = 1 if point == "webhook.after_request" else rng.randint(1, 2)
        with crash.installed(crash.crash_at(point, occurrence)):
            try:
                deliver_sends(warehouse.path, project.destinations, options(env))
            except crash.SimulatedCrash:
                crashes[point] += 1
    deliver_sends(warehouse.path, project.destinations, options(env))
    outbox = warehouse.execute("select state from journeys.journey_outbox")
    states = Counter(state for (state,) in outbox)
    assert states == {"sent": len(keys)}

    from activations.destinations.smtp.mapping import message_id

    mail_keys = [k for k in keys if not k.endswith(":2")]
    received = mail.message_ids()
    assert all(received[message_id(k, "hello@shop.example")] >= 1 for k in mail_keys)  # 0 missing
    duplicated = {k for k in mail_keys if received[message_id(k, "hello@shop.example")] > 1}
    ambiguous_crashes = crashes["send.after_send"] + crashes["smtp.after_data"]
    assert sum(received.values()) - len(mail_keys) <= ambiguous_crashes
    flagged = {
        key
        for (key,) in warehouse.execute(
            "select record_key from activations.sync_changelog where ambiguous"
        )
    }
    assert duplicated <= flagged  # every duplicate message is flagged in the log
    hook_keys = {k for k in keys if k.endswith(":2")}
    assert {event["id"] for event in receiver.applied} == hook_keys
    assert receiver.duplicate_effects() == 0
    assert sum(crashes.values()) >= 40, crashes
    print(
        f"sends: {sum(crashes.values())} crashes {dict(crashes)}, smtp duplicates "
        f"{len(duplicated)} (all flagged), webhook duplicates 0, missing 0"
    )


KILLER = """
import os, signal, sys
from waymark.core import crash
point = sys.argv[1]
crash._hook = lambda reached: os.kill(os.getpid(), signal.SIGKILL) if reached == point else None
from waymark.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize(
    ("sync", "point"),
    [
        ("to_hook", "sync.after_send"),
        ("to_pg", "postgres.before_commit"),
        ("to_pg", "sync.before_send"),
    ],
)
def test_sigkilled_sync_process_is_completed_by_the_next_run(world, sync, point) -> None:
    paths, warehouse, receiver, _, pg, env = world
    with warehouse.batch():
        for person in PEOPLE:
            warehouse.customer(person)
        warehouse.members(PEOPLE[:10])
    command = [
        sys.executable,
        "-c",
        KILLER,
        point,
        "sync",
        sync,
        "--warehouse",
        str(warehouse.path),
        "--syncs",
        str(paths.syncs),
        "--destinations",
        str(paths.destinations),
        "--as-of",
        format_instant(SAMPLE_AS_OF),
    ]
    killed = subprocess.run(command, env={**os.environ, **env}, capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]

    report = run_sync(warehouse.path, load_project(paths).valid()[sync], options(env))
    assert report.status == "success"
    statuses = [row[0] for row in warehouse.execute("select status from activations.sync_runs")]
    assert sorted(statuses) == ["interrupted", "success"]
    if sync == "to_hook":
        held = {key: data["email"] for (_, key), data in receiver.records.items()}
        assert receiver.duplicate_effects() == 0
    else:
        held = dict(pg.query("select customer_id, email from {schema}.members"))
        assert pg.duplicate_effects() == 0
    assert held == expected(warehouse)
    assert json.dumps(held)  # the run held every member, once


# Vendor destinations, each against its loopback stand-in: the same crash loop, with the
# source changing between crashes, then the stand-in's account must equal the model exactly.


def vendor_run(tmp_path: Path, warehouse, kind: str, config: dict, env: dict, **sync):
    paths = write_project(
        tmp_path / f"project_{kind}",
        {},
        {"vendor": {"kind": kind, "env": sorted(env), "config": config}},
        {"to_vendor": {**members_sync("vendor", sync.pop("batch_size", 4)), **sync}},
    )
    loaded = load_project(paths).valid()["to_vendor"]
    return lambda: run_sync(warehouse.path, loaded, options(env))


def test_meta_sync_survives_crashes(tmp_path: Path) -> None:
    from activations.pii import sha256_hex
    from activations.standins.meta import MetaStandIn

    meta = MetaStandIn("meta-crash-token-71", ["42"])
    warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
    try:
        config = {"access_token_env": "META_TOKEN", "base_url": meta.url}
        run = vendor_run(
            tmp_path,
            warehouse,
            "meta",
            config,
            {"META_TOKEN": "meta-crash-token-71"},
            purpose="ads_personalisation",
            settings={"audience_id": "42"},
        )
        points = [*SYNC_POINTS, "meta.after_request"]
        crashes = crash_loop(run, warehouse, points, 40, seed=5, consent="ads_personalisation")
        settle(run)
        held = {dict(member)["EMAIL"] for member in meta.audience("42")}
        wanted = expected(warehouse, "ads_personalisation_consent")
        assert held == {sha256_hex(email) for email in wanted.values()}
        assert len(meta.audience("42")) == len(wanted)  # one member per person, none twice
        assert sum(crashes.values()) >= 36, crashes
        print(f"meta: {sum(crashes.values())} crashes {dict(crashes)}, 0 duplicates, 0 missing")
    finally:
        meta.close()


def test_google_ads_sync_survives_crashes(tmp_path: Path) -> None:
    from activations.pii import sha256_hex
    from activations.standins.google_ads import GoogleAdsStandIn

    credentials = {
        "developer_token": "dev-7",
        "client_id": "cid-7",
        "client_secret": "sec-7",
        "refresh_token": "ref-7",
    }
    google = GoogleAdsStandIn(**credentials)
    warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
    try:
        config = {f"{name}_env": f"G_{name.upper()}" for name in credentials}
        config.update(
            customer_id="1234567890", base_url=google.url, token_url=f"{google.url}/token"
        )
        env = {f"G_{name.upper()}": value for name, value in credentials.items()}
        run = vendor_run(
            tmp_path,
            warehouse,
            "google_ads",
            config,
            env,
            purpose="ads_personalisation",
            settings={"user_list_id": "555"},
        )
        points = [*SYNC_POINTS, "google_ads.after_request"]
        crashes = crash_loop(run, warehouse, points, 40, seed=6, consent="ads_personalisation")
        settle(run)
        wanted = expected(warehouse, "ads_personalisation_consent")
        assert google.members() == {
            frozenset({("hashedEmail", sha256_hex(email))}) for email in wanted.values()
        }
        assert sum(crashes.values()) >= 36, crashes
        print(
            f"google_ads: {sum(crashes.values())} crashes {dict(crashes)}, 0 duplicates, 0 missing"
        )
    finally:
        google.close()


def test_hubspot_contacts_and_tasks_survive_crashes(tmp_path: Path) -> None:
    from activations.standins.hubspot import HubSpotStandIn

    hubspot = HubSpotStandIn("pat-crash-5e")
    warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
    try:
        config = {"access_token_env": "HS_TOKEN", "base_url": hubspot.url}
        env = {"HS_TOKEN": "pat-crash-5e"}
        run = vendor_run(tmp_path, warehouse, "hubspot", config, env, mode="mirror")
        points = [*SYNC_POINTS, "hubspot.after_request"]
        crashes = crash_loop(run, warehouse, points, 40, seed=7)
        settle(run)
        held = sorted(props["email"] for props in hubspot.contacts.values())
        assert held == sorted(expected(warehouse).values())  # each person once, none missing

        # Journey tasks: one task per outbox row whatever the crashes.
        paths = write_project(
            tmp_path / "project_tasks",
            {"crm": {"kind": "hubspot", "channel": "crm", "env": ["HS_TOKEN"]}},
            {"crm": {"config": config}},
            {},
        )
        destinations = load_project(paths).destinations
        rng, keys = random.Random(8), []
        for step in range(30):
            with warehouse.batch():
                for n in range(2):
                    person = rng.choice(sorted(expected(warehouse)))
                    email = dict(
                        warehouse.execute("select customer_id, email from marts.customers")
                    )[person]
                    key = f"lead_nurture:{step}:{n}"
                    keys.append(key)
                    warehouse.outbox(
                        key,
                        person,
                        "crm",
                        channel="crm",
                        purpose="transactional",
                        payload={
                            "object": "task",
                            "subject": f"Call {step}",
                            "associated_contact_email": email,
                        },
                    )
            point = ["send.before_send", "send.after_send", "hubspot.after_request"][step % 3]
            occurrence = rng.randint(1, 3) if point == "hubspot.after_request" else 1
            with crash.installed(crash.crash_at(point, occurrence)):
                try:
                    deliver_sends(warehouse.path, destinations, options(env))
                except crash.SimulatedCrash:
                    crashes[point] += 1
        deliver_sends(warehouse.path, destinations, options(env))
        states = Counter(
            state
            for (state,) in warehouse.execute(
                "select state from journeys.journey_outbox where destination = 'crm'"
            )
        )
        assert states == {"sent": len(keys)}
        made = Counter(task["properties"]["waymark_op_id"] for task in hubspot.tasks.values())
        assert made == dict.fromkeys(keys, 1)  # 0 duplicates, 0 missing
        assert sum(crashes.values()) >= 64, crashes
        print(f"hubspot: {sum(crashes.values())} crashes {dict(crashes)}, 0 duplicates, 0 missing")
    finally:
        hubspot.close()


SF_ENV = {
    "SF_ID": "3MVG9-crash-key",
    "SF_SECRET": "crash-secret-77e1",
    "SF_REFRESH": "5Aep-crash-rt",
}
SF_CONTACT_ID = "Waymark_Customer_Id__c"


@pytest.fixture
def salesforce(tmp_path: Path):
    from activations.standins.salesforce import SalesforceStandIn

    org = SalesforceStandIn(
        client_id=SF_ENV["SF_ID"],
        client_secret=SF_ENV["SF_SECRET"],
        refresh_token=SF_ENV["SF_REFRESH"],
    )
    config = {
        "login_url": org.url,
        "client_id_env": "SF_ID",
        "client_secret_env": "SF_SECRET",
        "refresh_token_env": "SF_REFRESH",
    }
    sync = members_sync("sf", 4)
    sync["fields"] = {"email": "customer.email", "last_name": "customer.first_name"}
    sync["settings"] = {
        "sobject": "Contact",
        "external_id_field": SF_CONTACT_ID,
        "fields": {"last_name": "LastName"},
        "op_id_field": "Waymark_Op_Id__c",
    }
    paths = write_project(
        tmp_path / "sf-project",
        {"sf": {"kind": "salesforce", "channel": "crm", "env": sorted(SF_ENV)}},
        {"sf": {"config": config}},
        {"to_sf": sync},
    )
    yield org, load_project(paths), SampleWarehouse(tmp_path / "sf-warehouse.duckdb")
    org.close()


def written_twice(history: list[tuple[str, str, str]]) -> int:
    """Writes that changed a record under an op id that had already changed it."""
    counts = Counter(op_id for action, _, op_id in history if action in ("created", "updated"))
    return sum(n - 1 for n in counts.values())


def test_salesforce_sync_survives_crashes(salesforce) -> None:
    org, project, warehouse = salesforce
    loaded = project.valid()["to_sf"]

    def run():
        return run_sync(warehouse.path, loaded, options(SF_ENV))

    points = [*SYNC_POINTS, "salesforce.after_request"]
    crashes = crash_loop(run, warehouse, points, 64, seed=5)
    settle(run)
    held = {
        key: record["Email"] for key, record in org.by_external_id("Contact", SF_CONTACT_ID).items()
    }
    assert held == expected(warehouse)
    assert written_twice(org.org.history) == 0
    assert sum(1 for action, _, _ in org.org.history if action == "unchanged") > 0  # absorbed
    assert sum(crashes.values()) >= 60, crashes
    print(f"salesforce: {sum(crashes.values())} crashes {dict(crashes)}, 0 duplicates, 0 missing")


def test_salesforce_tasks_survive_crashes(salesforce) -> None:
    org, project, warehouse = salesforce
    rng, crashes, keys = random.Random(6), Counter(), []
    with warehouse.batch():
        for person in PEOPLE:
            warehouse.customer(person)
        warehouse.members(PEOPLE)
    run_sync(warehouse.path, project.valid()["to_sf"], options(SF_ENV))  # the Contacts
    points = ["send.before_send", "send.after_send", "salesforce.after_request"]
    for step in range(42):
        with warehouse.batch():
            for n in range(3):
                keys.append(f"journey:{step}:{n}")
                payload = {"object": "task", "subject": f"Call {step}/{n}", "priority": "HIGH"}
                warehouse.outbox(keys[-1], rng.choice(PEOPLE), "sf", channel="crm",
                                 purpose="transactional", payload=payload)  # fmt: skip
        with crash.installed(crash.crash_at(points[step % 3], 1)):
            try:
                deliver_sends(warehouse.path, project.destinations, options(SF_ENV))
            except crash.SimulatedCrash:
                crashes[points[step % 3]] += 1
    deliver_sends(warehouse.path, project.destinations, options(SF_ENV))
    outbox = Counter(
        state for (state,) in warehouse.execute("select state from journeys.journey_outbox")
    )
    assert outbox == {"sent": len(keys)}
    tasks = Counter(task["Waymark_Op_Id__c"] for task in org.of_type("Task"))
    assert set(tasks) == set(keys) and set(tasks.values()) == {1}  # 0 missing, 0 duplicates
    assert sum(crashes.values()) >= 40, crashes
    print(f"salesforce tasks: {sum(crashes.values())} crashes {dict(crashes)}, 0 duplicates")


def send_crash_loop(warehouse, targets, env, destination: str, channel: str, client_point: str):
    """44 rounds of three new messages each, a crash armed at a send step or in the client."""
    rng, crashes, keys = random.Random(7), Counter(), []
    with warehouse.batch():
        for n, person in enumerate(PEOPLE):
            warehouse.customer(person, phone=f"+1415555{n:04d}")
    points = ["send.before_send", "send.after_send", client_point]
    for step in range(44):
        with warehouse.batch():
            for n in range(3):
                keys.append(f"journey:{step}:{n}")
                payload = {"subject": f"Step {step}", "text": "Hello", "body": f"Step {step}/{n}"}
                warehouse.outbox(keys[-1], rng.choice(PEOPLE), destination, channel=channel,
                                 purpose="transactional", payload=payload)  # fmt: skip
        point = points[step % 3]
        with crash.installed(crash.crash_at(point, rng.randint(1, 2))):
            try:
                deliver_sends(warehouse.path, targets, options(env))
            except crash.SimulatedCrash:
                crashes[point] += 1
    deliver_sends(warehouse.path, targets, options(env))
    outbox = Counter(
        state for (state,) in warehouse.execute("select state from journeys.journey_outbox")
    )
    assert outbox == {"sent": len(keys)}
    flagged = {
        key
        for (key,) in warehouse.execute(
            "select record_key from activations.sync_changelog where ambiguous"
        )
    }
    return keys, crashes, flagged


def test_sendgrid_sends_survive_crashes(tmp_path: Path) -> None:
    from activations.standins.sendgrid import SendgridStandIn

    server = SendgridStandIn(api_key="SG.crash-key")
    try:
        config = {
            "api_key_env": "SG_KEY",
            "base_url": server.url,
            "from_address": "hi@shop.example",
        }
        paths = write_project(
            tmp_path / "project",
            {"mail": {"kind": "sendgrid", "channel": "email", "env": ["SG_KEY"]}},
            {"mail": {"config": config}},
            {},
        )
        warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
        env = {"SG_KEY": "SG.crash-key"}
        targets = load_project(paths).destinations
        keys, crashes, flagged = send_crash_loop(
            warehouse, targets, env, "mail", "email", "sendgrid.after_request"
        )
        received = Counter({key: len(messages) for key, messages in server.by_key().items()})
        assert all(received[key] >= 1 for key in keys)  # 0 missing
        duplicated = {key for key in keys if received[key] > 1}
        assert (
            sum(received.values()) - len(keys)
            <= crashes["send.after_send"] + crashes["sendgrid.after_request"]
        )
        assert duplicated <= flagged  # every duplicate is flagged
        assert sum(crashes.values()) >= 40, crashes
        total = sum(crashes.values())
        print(f"sendgrid: {total} crashes {dict(crashes)}, {len(duplicated)} duplicates (flagged)")
    finally:
        server.close()


def test_twilio_sends_survive_crashes(tmp_path: Path) -> None:
    from activations.standins.twilio import TwilioStandIn

    sid = "AC" + "c4" * 16
    server = TwilioStandIn(account_sid=sid, auth_token="crash-token-6b")
    try:
        config = {
            "account_sid_env": "TW_SID",
            "auth_token_env": "TW_TOKEN",
            "from_number_env": "TW_FROM",
            "base_url": server.url,
        }
        env_names = ["TW_SID", "TW_TOKEN", "TW_FROM"]
        paths = write_project(
            tmp_path / "project",
            {"text": {"kind": "twilio", "channel": "sms", "env": env_names}},
            {"text": {"config": config}},
            {},
        )
        warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
        env = {"TW_SID": sid, "TW_TOKEN": "crash-token-6b", "TW_FROM": "+15005550006"}
        targets = load_project(paths).destinations
        keys, crashes, flagged = send_crash_loop(
            warehouse, targets, env, "text", "sms", "twilio.after_request"
        )
        by_key = dict(
            zip(keys, (f"Step {k.split(':')[1]}/{k.split(':')[2]}" for k in keys), strict=True)
        )
        received = Counter(message["body"] for message in server.messages)
        assert all(received[body] >= 1 for body in by_key.values())  # 0 missing
        duplicated = {key for key, body in by_key.items() if received[body] > 1}
        possible = crashes["send.after_send"] + crashes["twilio.after_request"]
        assert sum(received.values()) - len(keys) <= possible
        assert duplicated <= flagged  # every duplicate is flagged
        assert sum(crashes.values()) >= 40, crashes
        total = sum(crashes.values())
        print(f"twilio: {total} crashes {dict(crashes)}, {len(duplicated)} duplicates (flagged)")
    finally:
        server.close()
