"""Dry runs print exact payloads with personal data masked by what each field means: a value is
masked because of the column it comes from or the identifier it fills, whatever it looks like,
and what our own configuration supplies (From and Reply-To addresses) stays in clear."""

from __future__ import annotations

from pathlib import Path

from activations.dry_run import dry_run_sends, dry_run_sync
from activations.sync_files import load_project
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project

FROM = "Waymark Shop <hello@shop.waymark.example>"
REPLY_TO = "support@shop.waymark.example"


def project(tmp_path: Path, fields: dict[str, str]):
    paths = write_project(
        tmp_path / "project",
        {
            "crm_hubspot": {"kind": "hubspot", "channel": "crm", "env": ["HUBSPOT_TOKEN"]},
            "email_smtp": {"kind": "smtp", "channel": "email", "env": ["SMTP_HOST"]},
        },
        {
            "crm_hubspot": {"config": {"access_token_env": "HUBSPOT_TOKEN"}},
            "email_smtp": {
                "config": {"host_env": "SMTP_HOST", "from_address": FROM, "reply_to": REPLY_TO}
            },
        },
        {
            "contacts": {
                "type": "object",
                "model": "marts.customers",
                "destination": "crm_hubspot",
                "mode": "upsert",
                "key": "customer_id",
                "fields": fields,
                "purpose": "transactional",
            }
        },
    )
    loaded = load_project(paths)
    assert not loaded.issues, loaded.issues
    return loaded


def test_dry_run_masks_personal_data_by_meaning_not_by_pattern(tmp_path) -> None:
    warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
    warehouse.customer("ann", first_name="Olivia", phone="4155550101", email="o.t@example.org")
    fields = {
        "email": "email",
        "firstname": "customer.first_name",  # HubSpot's spelling: personal by its column
        "phone": "phone",  # digits without a '+': personal all the same
        "waymark_segment": "lifecycle_stage",
    }
    loaded = project(tmp_path, fields)
    text = dry_run_sync(warehouse.path, loaded.valid()["contacts"], SAMPLE_AS_OF)
    assert "Olivia" not in text and '"firstname": "O***"' in text
    assert "4155550101" not in text and '"phone": "********01"' in text
    assert "o.t@example.org" not in text and '"email": "o***@***.org"' in text
    assert '"waymark_segment": "lead"' in text and '"id": "o***@***.org"' in text

    warehouse.outbox(
        "welcome:1:s1",
        "ann",
        "email_smtp",
        payload={"subject": "Welcome, Olivia!", "text": "Hi OLIVIA, your code is OLI-42."},
    )
    text = dry_run_sends(warehouse.path, loaded.destinations, SAMPLE_AS_OF)
    assert "Olivia" not in text and "OLIVIA" not in text and "o.t@example.org" not in text
    assert '"To": "o***@***.org"' in text and '"Subject": "Welcome, O***!"' in text
    assert "Hi O***, your code is OLI-42." in text  # other words that start alike stay
    # Our own addresses are settings, not anyone's personal data.
    assert f'"From": "{FROM}"' in text and f'"Reply-To": "{REPLY_TO}"' in text
