"""`waymark journeys` as a user runs it, and the example journeys against the demo warehouse."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest
from test_journey_spec import PROBE, make_project

from waymark.core.home import PROJECT_ROOT
from waymark.journeys.journey import AudienceEntry, EventEntry, Journey
from waymark.journeys.preview import preview_journey
from waymark.journeys.references import Project
from waymark.journeys.validation import validate_project

PREVIEW_SAMPLE = 10


def waymark(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "waymark.cli", *args],
        capture_output=True, text=True, check=False, cwd=PROJECT_ROOT,
    )  # fmt: skip


def read(warehouse: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def entering_customers(warehouse: Path, journey: Journey, project: Project) -> list[str]:
    """Customers the demo data would start the journey for, in a stable order."""
    entry = journey.entry
    if isinstance(entry, AudienceEntry):
        sql = (
            "select customer_id from marts.audience_memberships"
            " where audience_name = ? and is_active order by customer_id"
        )
        return [row[0] for row in read(warehouse, sql, [entry.audience])]
    assert isinstance(entry, EventEntry)
    rows = []
    for name in entry.event:
        match = project.catalogue.events[name].match
        sql = (
            "select customer_id, properties from marts.customer_events"
            " where event_type = ? and (? is null or event_name = ?) order by customer_id, event_id"
        )
        rows += read(warehouse, sql, [match.event_type, match.event_name, match.event_name])
    rows.sort(key=lambda row: row[0])
    passing = [
        cid for cid, props in rows if not entry.where or entry.where.matches(json.loads(props))
    ]
    return list(dict.fromkeys(passing))


@pytest.fixture(scope="module")
def project() -> Project:
    report = validate_project()
    assert report.issues == []
    return report.project


def test_validate_passes_on_the_repository() -> None:
    result = waymark("journeys", "validate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    assert "journeys and" in result.stderr and "templates are valid" in result.stderr


def test_validate_prints_a_line_per_error_and_exits_1(tmp_path: Path) -> None:
    broken = PROBE.replace("duration: 1h", "duration: 1 hour").replace("else: done", "else: x")
    paths = make_project(tmp_path, broken)
    (paths.journeys / "second.yml").write_text(PROBE.replace("name: probe", "name: second"))
    result = waymark("journeys", "validate", "--journeys", str(paths.journeys))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout
    assert lines[0].endswith("probe.yml:12:7: steps[0].wait.duration: '1 hour' is not a duration; "
                             "write a number and a unit: 30m, 24h, 7d, 2w")  # fmt: skip
    assert "probe.yml:24:7: steps[2].branch.else: no step has id 'x'" in lines[1]
    assert "2 problem(s)" in result.stderr


def test_schema_prints_the_committed_schema() -> None:
    result = waymark("journeys", "schema")
    assert result.returncode == 0
    assert result.stdout == (PROJECT_ROOT / "journeys" / "journey.schema.json").read_text()
    schema = json.loads(result.stdout)
    assert schema["additionalProperties"] is False
    assert {"name", "entry", "steps"} <= set(schema["required"])


def test_the_event_catalogue_matches_the_demo_warehouse(
    demo_warehouse: Path, project: Project
) -> None:
    python_types = {"string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,)}
    for name, event in project.catalogue.events.items():
        sql = (
            "select properties from marts.customer_events"
            " where event_type = ? and (? is null or event_name = ?)"
        )
        params = [event.match.event_type, event.match.event_name, event.match.event_name]
        rows = read(demo_warehouse, sql, params)
        assert rows, f"event {name} never happens in the demo data"
        seen: dict[str, set[type]] = defaultdict(set)
        for (properties,) in rows:
            for key, value in json.loads(properties or "{}").items():
                if value is not None:
                    seen[key].add(type(value))
        for key, kind in event.properties.items():
            assert key in seen, f"{name}.{key} is never present"
            assert all(issubclass(t, python_types[kind]) for t in seen[key]), (name, key, seen[key])


def test_every_example_journey_has_customers_entering_it(
    demo_warehouse: Path, project: Project
) -> None:
    for journey in validate_project().journeys:
        assert entering_customers(demo_warehouse, journey, project), journey.name


def test_every_example_journey_renders_for_real_customers(
    demo_warehouse: Path, project: Project
) -> None:
    for journey in validate_project().journeys:
        for customer_id in entering_customers(demo_warehouse, journey, project)[:PREVIEW_SAMPLE]:
            preview = preview_journey(journey, project, demo_warehouse, customer_id)
            assert preview.sends, journey.name
            errors = [(send.step.id, send.error) for send in preview.sends if send.error]
            assert errors == [], (journey.name, customer_id, errors)
    # The preview closed its read-only connection: a writer can open the file again.
    duckdb.connect(str(demo_warehouse)).close()


def test_preview_prints_each_send_for_a_demo_customer(
    demo_warehouse: Path, project: Project
) -> None:
    customer_id, first_name = read(
        demo_warehouse,
        "select c.customer_id, c.first_name from marts.customers c"
        " join marts.customer_events e using (customer_id)"
        " where e.event_type = 'track' and e.event_name = 'Product Added'"
        " and c.first_name is not null order by c.customer_id limit 1",
    )[0]
    (properties,) = read(
        demo_warehouse,
        "select properties from marts.customer_events where customer_id = ?"
        " and event_type = 'track' and event_name = 'Product Added'"
        " order by occurred_at desc, event_id desc limit 1",
        [customer_id],
    )[0]
    added = json.loads(properties)
    result = waymark(
        "journeys", "preview", "cart_abandonment", "--customer", customer_id,
        "--warehouse", str(demo_warehouse),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert f"journey cart_abandonment for customer {customer_id}" in out
    assert "[email_gentle] email via email_smtp (template cart_reminder_gentle" in out
    assert f"subject: {first_name}, your {added['name']} is still in your cart" in out
    assert f"subject: 10% off the {added['name']} in your cart" in out
    assert "[sms_reminder] sms via sms_twilio" in out
    assert f"https://shop.waymark.example/cart/{added['cart_id']}" in out
    assert "choose_reminder: gentle" in out or "choose_reminder: incentive" in out


def test_preview_explains_why_it_cannot_run(demo_warehouse: Path) -> None:
    unknown = waymark(
        "journeys", "preview", "welcome_series", "--customer", "cus_nobody",
        "--warehouse", str(demo_warehouse),
    )  # fmt: skip
    assert unknown.returncode == 1
    assert "no customer 'cus_nobody' in marts.customers" in unknown.stderr
    (never_rated,) = read(
        demo_warehouse,
        "select customer_id from marts.customers where customer_id not in"
        " (select customer_id from marts.customer_events where event_type = 'ticket_solved')"
        " order by customer_id limit 1",
    )[0]
    no_event = waymark(
        "journeys", "preview", "csat_service_recovery", "--customer", never_rated,
        "--warehouse", str(demo_warehouse),
    )  # fmt: skip
    assert no_event.returncode == 1
    assert "has no ticket_solved event that starts the journey" in no_event.stderr
    missing = waymark("journeys", "preview", "no_such_journey", "--customer", never_rated)
    assert missing.returncode == 1 and "no journey named 'no_such_journey'" in missing.stderr
