"""Helpers of the Dagster activation and alert tests: a sync project against a loopback webhook
receiver, its assets materialized one run at a time, and a loopback server that keeps alerts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg

from activations.sync_files import SyncPaths, load_project
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project
from orchestration.as_of import AS_OF_TAG
from waymark.core.instants import format_instant

HOOK_SECRET = "whsec-dagster-test-8d0a71"
ALERT_SECRET = "alert-signing-secret-4c1d9e"
ALERT_TOKEN = "tok-0b7f33a1"
SYNC = dg.AssetKey(["syncs", "at_risk_to_support"])
SENDS = dg.AssetKey("journey_sends")


def sample_warehouse(path: Path) -> SampleWarehouse:
    """Four customers in the at-risk audience; `dan` denied email marketing."""
    sample = SampleWarehouse(path)
    sample.execute("create table audiences.high_value_at_risk (customer_id varchar)")
    for name in ("ann", "bob", "cat"):
        sample.customer(name)
    sample.customer("dan", email_marketing_consent="denied")
    sample.execute(
        "insert into audiences.high_value_at_risk values ('ann'), ('bob'), ('cat'), ('dan')"
    )
    return sample


def project(tmp_path: Path, **spec: Any) -> SyncPaths:
    """One mirror sync of the at-risk audience to `support_hook`; `unconfigured_hook` names
    variables no test sets."""
    sync = {
        "type": "audience",
        "model": "audiences.high_value_at_risk",
        "destination": "support_hook",
        "mode": "mirror",
        "key": "customer_id",
        "fields": {"email": "customer.email"},
        "purpose": "email_marketing",
        "schedule": "0 8 * * mon-fri",
        **spec,
    }
    return write_project(
        tmp_path / "project",
        {
            "support_hook": {
                "kind": "webhook",
                "channel": "webhook",
                "env": ["HOOK_URL", "HOOK_SECRET"],
            },
            "unconfigured_hook": {
                "kind": "webhook",
                "channel": "webhook",
                "env": ["OTHER_HOOK_URL", "OTHER_HOOK_SECRET"],
            },
        },
        {
            "support_hook": {
                "config": {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"}
            },
            "unconfigured_hook": {
                "config": {"url_env": "OTHER_HOOK_URL", "signing_secret_env": "OTHER_HOOK_SECRET"}
            },
        },
        {"at_risk_to_support": sync},
    )


class Location:
    """The activation assets of one project, materialized one run at a time."""

    def __init__(self, paths: SyncPaths, manifest: dict[str, Any], warehouse: SampleWarehouse):
        from orchestration.activations import ActivationsResource, sync_definitions
        from orchestration.journey_sends import journey_sends_definitions

        self.loaded = load_project(paths)
        self.defs = dg.Definitions.merge(
            sync_definitions(self.loaded, manifest),
            journey_sends_definitions(self.loaded, manifest),
        )
        self.resources = {"activations": ActivationsResource(warehouse=str(warehouse.path))}
        self.warehouse = warehouse

    def asset(self, key: dg.AssetKey) -> dg.AssetsDefinition:
        return next(a for a in self.defs.assets or [] if key in a.keys)

    def materialize(
        self, key: dg.AssetKey, instance: dg.DagsterInstance | None = None
    ) -> dg.ExecuteInProcessResult:
        if instance is not None:
            return self._materialize(key, instance)
        with dg.instance_for_test() as fresh:
            return self._materialize(key, fresh)

    def _materialize(
        self, key: dg.AssetKey, instance: dg.DagsterInstance
    ) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [self.asset(key)],
            resources=self.resources,
            instance=instance,
            tags={AS_OF_TAG: format_instant(SAMPLE_AS_OF)},
            raise_on_error=False,
        )


def metadata(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    (event,) = result.get_asset_materialization_events()
    return {name: value.value for name, value in event.materialization.metadata.items()}


def checks(result: dg.ExecuteInProcessResult) -> dict[str, Any]:
    """The run's check evaluations by check name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


class AlertReceiver:
    """Keeps every POST; answers `statuses` in order first, then 204."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        # A token in the query string, as many hook URLs carry one: it must never be printed.
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/waymark?key={ALERT_TOKEN}"

    def alerts(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def verified(headers: dict[str, str], body: bytes) -> bool:
    """The alert's Standard Webhooks signature is right for ALERT_SECRET."""
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(ALERT_SECRET.encode(), signed, hashlib.sha256).digest())
    return headers["webhook-signature"] == "v1," + expected.decode()
