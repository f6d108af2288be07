"""Secret canaries against a hostile receiver that echoes every request back in its errors.

Every HTTP destination is pointed at `EchoServer`, which answers each request with a 4xx or
5xx whose body repeats a secret the request carried, shifted by one character per answer, then
the whole request. One operation per request, each one recorded, until every secret has sat
across every cut position in every status and form. Then every table of the warehouse (all
schemas), the warehouse and project files byte for byte, the captured logs, stdout and stderr
(including the CLI's own runs and dry runs) are searched for each canary and for every prefix
of 8 or more of its characters: none may be found.
"""

from __future__ import annotations

import base64
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import duckdb
import pytest
from secret_echo import EchoServer

from activations.delivery import RetryPolicy
from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.sync_files import SyncPaths, load_project
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project
from waymark.cli.main import main
from waymark.core.instants import format_instant

HOOK_USER, HOOK_PASSWORD = "hkU7qM2v9x", "Zp4wR8sLq2nX6cTb"
HOOK_PATH_TOKEN, HOOK_QUERY_TOKEN = "T5xGv8Nq3mKz7Lw2", "Qk9fR2dW6hJm4Ys8"
HOOK_SIGNING = "whsec-Vn3Bq8Rt5Xz1"
HOOK_BASIC = base64.b64encode(f"{HOOK_USER}:{HOOK_PASSWORD}".encode()).decode()
HUBSPOT_TOKEN = "pat-na1-Hx7Kq2Vm9Wr4"
META_TOKEN = "EAAGm0Pz8Lq3Rv6Nt"
SF_CLIENT_ID, SF_CLIENT_SECRET = "3MVG9Kx7Pq2Lm5Rz", "Sc8Vn2Bq6Tx4Wm1Y"
SF_REFRESH, SF_ACCESS = "5AepR7mK3qZ9vL2x", "00Dx8Qz5Mv2Kp7Nw!"
GA_DEVELOPER, GA_ACCESS = "devTok9Rq4Mx7Lz2", "ya29-Hq5Vz8Kw3Nm"
GA_CLIENT_ID, GA_CLIENT_SECRET, GA_REFRESH = "8842-cli3nt-Ab7", "GOCSPX-Rv4Km8Tq2", "1//0gRk7Wq3Mz5"
SENDGRID_KEY = "SG.Kx4Vq8Nm2Rz7Lp"
TWILIO_SID, TWILIO_TOKEN = "AC7f3k9q2m5x8v1z4", "twAuth-Pq6Zr3Vm8K"
TWILIO_BASIC = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()

# One operation per request, so every answer is recorded; a refused row is not retried by the
# CLI run at the end.
SYNC = {"mode": "upsert", "key": "customer_id", "batch_size": 1, "give_up_after_runs": 1}
OBJECT = {**SYNC, "model": "marts.customers", "type": "object", "purpose": "transactional"}
AUDIENCE = {
    **SYNC,
    "model": "marts.customers",
    "type": "audience",
    "fields": {"email": "email"},
    "purpose": "ads_personalisation",
}
BOTH_FORMS = ((400, "text"), (400, "json"))
PREFIX = 8
"""A run of this many leading characters of a secret is a leak."""


@dataclass
class Case:
    """One destination: its settings, the secrets its requests carry (swept), every canary
    (searched for), and how to drive it."""

    kind: str
    channel: str
    env: dict[str, str]
    config: Callable[[EchoServer], dict[str, Any]]
    swept: list[str]
    sync: dict[str, Any] | None = None
    """Swept through this sync when there is no `payload`; otherwise run once afterwards."""
    tokens: dict[str, str] | None = None
    combinations: tuple[tuple[int, str], ...] = BOTH_FORMS
    token_sweep: list[str] | None = None
    """Secrets only the token request carries, swept after `swept` with the token endpoint
    echoing (the rows refused before are given up, so they are not sent again)."""
    payload: dict[str, Any] | None = None
    """Swept through journey sends with this payload (one message per request)."""
    refusal_echoed: bool = True
    """Whether a refused run's error (sync_runs.error, printed by the CLI) carries the body."""


CASES = {
    "webhook": Case(
        "webhook",
        "webhook",
        {"HOOK_SECRET": HOOK_SIGNING},
        lambda server: {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"},
        [HOOK_PATH_TOKEN, HOOK_QUERY_TOKEN, HOOK_BASIC],
        # sync_state too: a few members through a sync once the sends have swept.
        sync={**OBJECT, "model": "audiences.members", "fields": {"email": "customer.email"}},
        combinations=((422, "text"), (500, "json")),
        payload={"note": "hello"},
        refusal_echoed=False,
    ),
    "hubspot": Case(
        "hubspot",
        "crm",
        {"HS_TOKEN": HUBSPOT_TOKEN},
        lambda server: {"access_token_env": "HS_TOKEN", "base_url": server.url},
        [HUBSPOT_TOKEN],
        sync={**OBJECT, "fields": {"email": "email", "firstname": "first_name"}},
    ),
    "meta": Case(
        "meta",
        "ads",
        {"META_TOKEN": META_TOKEN},
        lambda server: {"access_token_env": "META_TOKEN", "base_url": server.url},
        [META_TOKEN],
        sync={**AUDIENCE, "settings": {"audience_id": "23850000000000001"}},
        refusal_echoed=False,
    ),
    "salesforce": Case(
        "salesforce",
        "crm",
        {"SF_ID": SF_CLIENT_ID, "SF_SECRET": SF_CLIENT_SECRET, "SF_REFRESH": SF_REFRESH},
        lambda server: {
            "login_url": server.url,
            "client_id_env": "SF_ID",
            "client_secret_env": "SF_SECRET",
            "refresh_token_env": "SF_REFRESH",
        },
        [SF_ACCESS],
        sync={
            **OBJECT,
            "fields": {"email": "email"},
            "settings": {"sobject": "Contact", "external_id_field": "Waymark_Id__c"},
        },
        tokens={"/services/oauth2/token": SF_ACCESS},
        token_sweep=[SF_CLIENT_ID, SF_CLIENT_SECRET, SF_REFRESH],
    ),
    "google_ads": Case(
        "google_ads",
        "ads",
        {
            "GA_DEV": GA_DEVELOPER,
            "GA_ID": GA_CLIENT_ID,
            "GA_SECRET": GA_CLIENT_SECRET,
            "GA_REFRESH": GA_REFRESH,
        },
        lambda server: {
            "developer_token_env": "GA_DEV",
            "client_id_env": "GA_ID",
            "client_secret_env": "GA_SECRET",
            "refresh_token_env": "GA_REFRESH",
            "customer_id": "1234567890",
            "base_url": server.url,
            "token_url": f"{server.url}/token",
        },
        [GA_ACCESS, GA_DEVELOPER],
        sync={**AUDIENCE, "settings": {"user_list_id": "555"}},
        tokens={"/token": GA_ACCESS},
    ),
    "sendgrid": Case(
        "sendgrid",
        "email",
        {"SG_KEY": SENDGRID_KEY},
        lambda server: {
            "api_key_env": "SG_KEY",
            "base_url": server.url,
            "from_address": "Shop <hello@shop.example>",
        },
        [SENDGRID_KEY],
        payload={"subject": "Hello", "text": "Hi there"},
    ),
    "twilio": Case(
        "twilio",
        "sms",
        {"TW_SID": TWILIO_SID, "TW_TOKEN": TWILIO_TOKEN, "TW_FROM": "+15005550006"},
        lambda server: {
            "account_sid_env": "TW_SID",
            "auth_token_env": "TW_TOKEN",
            "from_number_env": "TW_FROM",
            "base_url": server.url,
        },
        [TWILIO_SID, TWILIO_BASIC],
        payload={"body": "Hi there"},
    ),
}


def canaries(case: Case) -> list[str]:
    derived = {"webhook": [HOOK_USER, HOOK_PASSWORD], "twilio": [TWILIO_BASIC]}
    secret = [value for name, value in case.env.items() if name != "TW_FROM"]
    return sorted({*secret, *case.swept, *(case.token_sweep or []), *derived.get(case.kind, [])})


def leaks(texts: list[str], blobs: list[bytes], secrets: list[str]) -> list[str]:
    """Each canary (as it is, or percent-encoded) of which any run of 8+ leading characters
    is found: searching for the first 8 finds every longer prefix too."""
    text, data = "\n".join(texts), b"\n".join(blobs)
    found = []
    for secret in secrets:
        assert len(secret) > PREFIX
        for form in {secret, quote(secret, safe="")}:
            prefix = form[:PREFIX]
            if prefix in text or prefix.encode() in data:
                found.append(form)
    return found


def warehouse_texts(path: Path) -> list[str]:
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables order by 1, 2"
        ).fetchall()
        return [
            repr(con.execute(f'select * from "{schema}"."{name}"').fetchall())
            for schema, name in tables
        ]


@pytest.mark.parametrize("name", list(CASES))
def test_secret_canaries_never_reach_tables_logs_or_output(
    name: str, tmp_path: Path, monkeypatch, capfd, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    case = CASES[name]
    server = EchoServer([*case.swept, *(case.token_sweep or [])], tokens=case.tokens)
    try:
        env = dict(case.env)
        if case.kind == "webhook":
            env["HOOK_URL"] = (
                f"http://{HOOK_USER}:{HOOK_PASSWORD}@127.0.0.1:{server.server.server_address[1]}"
                f"/hooks/{HOOK_PATH_TOKEN}?token={HOOK_QUERY_TOKEN}&v=2"
            )
        for variable, value in env.items():
            monkeypatch.setenv(variable, value)
        paths = write_project(
            tmp_path / "project",
            {"dest": {"kind": case.kind, "channel": case.channel, "env": sorted(env)}},
            {"dest": {"config": case.config(server)}},
            {"to_dest": {**case.sync, "destination": "dest"}} if case.sync else {},
        )
        warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
        common = ["--warehouse", str(warehouse.path), "--syncs", str(paths.syncs)]
        common += [
            "--destinations",
            str(paths.destinations),
            "--as-of",
            format_instant(SAMPLE_AS_OF),
        ]
        server.combinations = list(case.combinations)
        rows = _sweep(case, server, warehouse, paths, 0, case.swept)
        if case.token_sweep:
            server.refuse_tokens, server.combinations = True, [(500, "json")]
            rows = _sweep(case, server, warehouse, paths, rows, case.token_sweep)
        if case.payload is not None and case.sync is not None:
            warehouse.members([f"c{number:04d}" for number in range(4)])
            run_sync(warehouse.path, load_project(paths).valid()["to_dest"], _options())

        # The CLI's own output: a dry run, then a run refused whole (credentials refused, or
        # the token endpoint refusing), whose error carries the echo into sync_runs.
        server.combinations, server.refuse_tokens = [(401, "json")], True
        _rows(case, warehouse, rows, rows + 1)
        command = ["sync", "to_dest"] if case.payload is None else ["syncs", "sends"]
        assert main([*command, "--dry-run", *common]) == 0
        main([*command, *common])
        printed = capfd.readouterr()
        refused = warehouse.execute(
            "select error from activations.sync_runs order by started_at desc limit 1"
        )
        if case.refusal_echoed:
            assert refused[0][0] and "[redacted]" in refused[0][0], refused

        texts = [printed.out, printed.err, caplog.text, *warehouse_texts(warehouse.path)]
        blobs = [path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()]
        planted = canaries(case)
        found = leaks(texts, blobs, planted)
        with capfd.disabled():  # shown by `pytest -s`; benchmarks/trust_probes.py reads it
            print(
                f"\nsecret canaries {name}: {len(planted)} planted, {len(found)} found, "
                f"{server.requests} requests answered with an echo"
            )
        assert found == []
        # Every secret the requests carried was echoed across every offset in every form.
        assert server.incomplete([*case.swept, *(case.token_sweep or [])]) == []
        logged = warehouse.execute("select error_message from activations.sync_changelog")
        assert any("[redacted]" in (message or "") for (message,) in logged)
    finally:
        server.close()


def _rows(case: Case, warehouse: SampleWarehouse, start: int, stop: int) -> None:
    with warehouse.batch():
        for number in range(start, stop):
            customer = f"c{number:04d}"
            warehouse.customer(customer, phone=f"+1415555{number:04d}")
            if case.payload is not None:
                warehouse.outbox(
                    f"j:{customer}:s",
                    customer,
                    "dest",
                    channel=case.channel,
                    purpose="transactional",
                    payload=case.payload,
                )


def _sweep(case, server, warehouse, paths: SyncPaths, rows: int, secrets: list[str]) -> int:
    """One operation per request until every secret has been echoed across every offset."""
    total = rows + server.needed(secrets)
    _rows(case, warehouse, rows, total)
    project = load_project(paths)
    assert not project.issues, project.issues
    if case.payload is None:
        run_sync(warehouse.path, project.valid()["to_dest"], _options())
    else:
        deliver_sends(warehouse.path, project.destinations, _options(), give_up_after_runs=50)
    return total


def _options() -> RunOptions:
    """Secrets from the environment, as the CLI reads them; one attempt per operation."""
    return RunOptions(
        as_of=SAMPLE_AS_OF,
        secrets=Secrets(),
        sleep=lambda _: None,
        rng=random.Random(3),
        policy=RetryPolicy(max_attempts=1, base_delay=0.0),
    )
