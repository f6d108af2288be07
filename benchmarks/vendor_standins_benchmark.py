"""Benchmark syncs and sends through the Salesforce, SendGrid and Twilio loopback stand-ins.

    python benchmarks/vendor_standins_benchmark.py --customers 20000 --messages 1000

Builds a sample warehouse of N customers, upserts them as Salesforce Contacts (200 per
request), runs the sync again with 1% of the rows changed, then delivers M journey emails
through SendGrid and M SMS through Twilio (one request each, as neither has an idempotency
key). Prints one line per step: rows, requests, seconds, rows per second. The stand-ins run
in this process on loopback, so the figures measure Waymark's side (planning, bookkeeping,
HTTP) plus the stand-ins' validation, not the vendors' latency.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from activations.runner import RunOptions, run_sync  # noqa: E402
from activations.secrets import Secrets  # noqa: E402
from activations.sends import deliver_sends  # noqa: E402
from activations.standins.salesforce import SalesforceStandIn  # noqa: E402
from activations.standins.sendgrid import SendgridStandIn  # noqa: E402
from activations.standins.twilio import TwilioStandIn  # noqa: E402
from activations.sync_files import load_project  # noqa: E402
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project  # noqa: E402

SID = "AC" + "b3" * 16
ENV = {
    "SF_ID": "bench-id", "SF_SECRET": "bench-secret", "SF_REFRESH": "bench-refresh",
    "SG_KEY": "SG.bench", "TW_SID": SID, "TW_TOKEN": "bench-token", "TW_FROM": "+15005550006",
}  # fmt: skip


def project(root: Path, org, sendgrid, twilio):
    sync = {
        "type": "object",
        "model": "marts.customers",
        "destination": "sf",
        "mode": "upsert",
        "key": "customer_id",
        "fields": {"email": "email", "last_name": "first_name", "stage": "lifecycle_stage"},
        "purpose": "transactional",
        "settings": {
            "sobject": "Contact",
            "external_id_field": "Waymark_Customer_Id__c",
            "fields": {"last_name": "LastName", "stage": "Waymark_Stage__c"},
        },
    }
    shared = {
        "sf": {"kind": "salesforce", "channel": "crm", "env": ["SF_ID", "SF_SECRET", "SF_REFRESH"]},
        "mail": {"kind": "sendgrid", "channel": "email", "env": ["SG_KEY"]},
        "text": {"kind": "twilio", "channel": "sms", "env": ["TW_SID", "TW_TOKEN", "TW_FROM"]},
    }
    connectors = {
        "sf": {"config": {"login_url": org.url, "client_id_env": "SF_ID",
                          "client_secret_env": "SF_SECRET", "refresh_token_env": "SF_REFRESH"}},
        "mail": {"config": {"api_key_env": "SG_KEY", "base_url": sendgrid.url,
                            "from_address": "Shop <hi@shop.example>"}},
        "text": {"config": {"account_sid_env": "TW_SID", "auth_token_env": "TW_TOKEN",
                            "from_number_env": "TW_FROM", "base_url": twilio.url}},
    }  # fmt: skip
    return load_project(write_project(root / "project", shared, connectors, {"contacts": sync}))


def fill(warehouse: SampleWarehouse, customers: int, messages: int) -> None:
    warehouse.execute(
        "insert into marts.customers select 'c' || lpad(i::varchar, 7, '0'), 'Name' || i, "
        "'c' || i || '@example.org', '+1415' || lpad(i::varchar, 7, '0'), 'lead', 0, "
        "'granted', 'granted', 'granted' from range(?) t(i)",
        [customers],
    )
    for destination, channel in (("mail", "email"), ("text", "sms")):
        warehouse.execute(
            "insert into journeys.journey_outbox select ? || ':' || i, "
            "'c' || lpad((i % ?)::varchar, 7, '0'), ?, ?, 'bench', 'transactional', "
            "json_object('subject', 'Hello', 'text', 'Hi there', 'body', 'Hi ' || i), "
            "'pending' from range(?) t(i)",
            [destination, customers, channel, destination, messages],
        )


def line(step: str, rows: int, requests: int, seconds: float) -> None:
    rate = rows / seconds if seconds else float("inf")
    print(f"{step:<34} {rows:>8} rows {requests:>6} requests {seconds:>7.2f} s {rate:>9.0f} rows/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--messages", type=int, default=1_000)
    args = parser.parse_args()
    org = SalesforceStandIn(client_id="bench-id", client_secret="bench-secret",
                            refresh_token="bench-refresh")  # fmt: skip
    sendgrid, twilio = SendgridStandIn(api_key="SG.bench"), TwilioStandIn(account_sid=SID,
                                                                          auth_token="bench-token")  # fmt: skip
    try:
        with tempfile.TemporaryDirectory() as folder:
            root = Path(folder)
            warehouse = SampleWarehouse(root / "warehouse.duckdb")
            fill(warehouse, args.customers, args.messages)
            loaded = project(root, org, sendgrid, twilio)
            options = RunOptions(as_of=SAMPLE_AS_OF, secrets=Secrets(ENV))
            for step in ("salesforce upsert (all new)", "salesforce upsert (1% changed)"):
                started = time.perf_counter()
                report = run_sync(warehouse.path, loaded.valid()["contacts"], options)
                line(step, report.sent, report.requests, time.perf_counter() - started)
                assert report.status == "success", report.summary()
                warehouse.execute(
                    "update marts.customers set lifecycle_stage = 'customer' "
                    "where hash(customer_id) % 100 = 0"
                )
            for name, label in (("mail", "sendgrid mail send"), ("text", "twilio messages")):
                started = time.perf_counter()
                [report] = deliver_sends(warehouse.path, loaded.destinations, options, only=name)
                line(label, report.sent, report.requests, time.perf_counter() - started)
                assert report.status == "success", report.summary()
    finally:
        for server in (org, sendgrid, twilio):
            server.close()


if __name__ == "__main__":
    main()
