"""Journey files: the typed model, its located errors, the graph rules and the published schema."""

from __future__ import annotations

import shutil
from datetime import time, timedelta
from pathlib import Path

import pytest

from waymark.core.errors import Issue
from waymark.core.home import PROJECT_ROOT
from waymark.core.yaml_source import read_yaml
from waymark.journeys.assignment import assignment_point, choose_variant, in_control_group
from waymark.journeys.project import ProjectPaths
from waymark.journeys.spec import (
    ConfigError,
    EventEntry,
    HoldoutStep,
    Journey,
    PropertyPredicate,
    SplitStep,
    WaitStep,
    journey_json_schema_text,
    load_journey,
    load_journeys,
)
from waymark.journeys.validation import validate_project

JOURNEYS = PROJECT_ROOT / "journeys"

PROBE = """\
# yaml-language-server: $schema=./journey.schema.json
name: probe
description: A small journey the tests break in one place at a time.
entry:
  event: product_added
  where:
    category: home
instance_key: properties.cart_id
steps:
  - id: wait_an_hour
    wait:
      duration: 1h
  - id: remind
    send:
      channel: email
      destination: email_smtp
      template: probe_email
      purpose: email_marketing
  - id: sms_allowed
    branch:
      conditions:
        - when: {trait: sms_marketing_consent, op: eq, value: granted}
          next: done
      else: done
  - id: done
    exit:
      reason: reminded
"""

PROBE_TEMPLATE = """\
channel: email
subject: "Hi {{ customer.first_name | default('there', true) }}"
html: |
  <p>{{ event.name }}</p>
  <p>{{ customer.lifecycle_stage }}</p>
text: |
  {{ event.name }}
"""


def make_project(root: Path, journey: str, template: str = PROBE_TEMPLATE) -> ProjectPaths:
    """A project in ``root`` with the repository's catalogue, destinations and one journey."""
    (root / "journeys").mkdir(parents=True)
    shutil.copy(JOURNEYS / "_events.yml", root / "journeys" / "_events.yml")
    shutil.copy(PROJECT_ROOT / "destinations.yml", root / "destinations.yml")
    (root / "templates").mkdir()
    (root / "templates" / "probe_email.yml").write_text(template)
    (root / "journeys" / "probe.yml").write_text(journey)
    return ProjectPaths.for_journeys(root / "journeys")


def issues_for(
    root: Path, old: str = "", new: str = "", template: str = PROBE_TEMPLATE
) -> list[Issue]:
    text = PROBE.replace(old, new, 1) if old else PROBE
    assert text != PROBE or not old, f"{old!r} is not in the probe journey"
    return validate_project(make_project(root, text, template)).issues


def position(text: str, token: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based line and column of the n-th occurrence of ``token``."""
    start = -1
    for _ in range(occurrence):
        start = text.index(token, start + 1)
    line = text.count("\n", 0, start) + 1
    return line, start - (text.rfind("\n", 0, start) + 1) + 1


def only(issues: list[Issue]) -> Issue:
    assert len(issues) == 1, "\n".join(str(issue) for issue in issues)
    return issues[0]


def assert_issue(
    issue: Issue, text: str, token: str, field: str, words: str, occurrence: int = 1
) -> None:
    assert (issue.line, issue.column) == position(text, token, occurrence), str(issue)
    assert issue.field == field, str(issue)
    assert words in issue.message, str(issue)
    assert str(issue).endswith(f":{issue.line}:{issue.column}: {field}: {issue.message}")


def test_every_example_journey_validates_against_the_project() -> None:
    report = validate_project()
    assert report.issues == [], "\n".join(str(issue) for issue in report.issues)
    names = {journey.name for journey in report.journeys}
    shipped = {
        "cart_abandonment",
        "welcome_series",
        "high_value_winback",
        "post_purchase_survey",
        "repeat_caller",
        "vip_ads",
        "csat_service_recovery",
    }
    assert shipped <= names


def test_example_files_point_editors_at_the_schema() -> None:
    for path in sorted(JOURNEYS.glob("[!_]*.yml")):
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=./journey.schema.json", path


def test_the_committed_schema_is_generated_from_the_model() -> None:
    committed = (JOURNEYS / "journey.schema.json").read_text()
    assert committed == journey_json_schema_text(), "run: waymark journeys schema --output " + (
        "journeys/journey.schema.json"
    )


def test_the_probe_journey_is_valid(tmp_path: Path) -> None:
    assert issues_for(tmp_path) == []


def test_a_bad_duration_names_file_line_and_field(tmp_path: Path) -> None:
    issue = only(issues_for(tmp_path, "duration: 1h", "duration: 1x"))
    assert issue.file.name == "probe.yml"
    text = PROBE.replace("duration: 1h", "duration: 1x")
    assert_issue(issue, text, "duration: 1x", "steps[0].wait.duration", "'1x' is not a duration")


def test_an_unknown_step_kind_is_named(tmp_path: Path) -> None:
    issue = only(issues_for(tmp_path, "    wait:\n", "    snooze:\n"))
    text = PROBE.replace("    wait:\n", "    snooze:\n")
    assert_issue(issue, text, "id: wait_an_hour", "steps[0]", "needs exactly one of: wait,")
    assert "(found snooze)" in issue.message


def test_two_kinds_in_one_step_is_an_error(tmp_path: Path) -> None:
    old = "  - id: remind\n"
    issue = only(issues_for(tmp_path, old, old + "    tag: reminded\n"))
    text = PROBE.replace(old, old + "    tag: reminded\n")
    assert_issue(issue, text, "id: remind", "steps[1]", "has send and tag")


def test_a_next_to_a_missing_step_is_an_error(tmp_path: Path) -> None:
    issue = only(issues_for(tmp_path, "else: done", "else: finished"))
    text = PROBE.replace("else: done", "else: finished")
    assert_issue(issue, text, "else: finished", "steps[2].branch.else", "no step has id 'finished'")


def test_a_loop_without_a_wait_is_an_error(tmp_path: Path) -> None:
    issue = only(issues_for(tmp_path, "else: done", "else: remind"))
    text = PROBE.replace("else: done", "else: remind")
    assert_issue(issue, text, "id: remind", "steps[1].id", "loop with no wait")
    assert "remind -> sms_allowed -> remind" in issue.message


def test_a_loop_through_a_timed_wait_is_allowed(tmp_path: Path) -> None:
    assert issues_for(tmp_path, "else: done", "else: wait_an_hour") == []


def test_an_unreachable_step_is_an_error(tmp_path: Path) -> None:
    extra = "  - id: orphan\n    tag: never_applied\n"
    issues = validate_project(make_project(tmp_path, PROBE + extra)).issues
    assert_issue(only(issues), PROBE + extra, "id: orphan", "steps[4].id", "never reached")


REFERENCE_CASES = [
    ("{trait: sms_marketing_consent, op: eq, value: granted}", "{in_audience: vip_lookalikes}",
     "in_audience", "steps[2].branch.conditions[0].when.in_audience",
     "audience 'vip_lookalikes' not found"),
    ("trait: sms_marketing_consent", "trait: sms_consent", "trait: sms_consent",
     "steps[2].branch.conditions[0].when.trait", "'sms_consent' is not a column"),
    ("value: granted", "value: grantd", "value: grantd",
     "steps[2].branch.conditions[0].when.value", "'grantd' is never a value"),
    ("event: product_added", "event: product_add", "event: product_add", "entry.event",
     "event 'product_add' is not in the event catalogue"),
    ("category: home", "colour: home", "colour: home", "entry.where.colour",
     "has no property 'colour'"),
    ("instance_key: properties.cart_id", "instance_key: properties.basket",
     "instance_key", "instance_key", "has no property 'basket'"),
    ("destination: email_smtp", "destination: sms_twilio", "destination: sms_twilio",
     "steps[1].send.destination", "is a sms destination"),
    ("purpose: email_marketing", "purpose: sms_marketing", "purpose: sms_marketing",
     "steps[1].send.purpose", "email sends may have purpose"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("old", "new", "token", "field", "words"),
    REFERENCE_CASES,
    ids=[case[3] for case in REFERENCE_CASES],
)
def test_unknown_names_and_values_are_located(
    tmp_path: Path, old: str, new: str, token: str, field: str, words: str
) -> None:
    issues = issues_for(tmp_path, old, new)
    assert_issue(only(issues), PROBE.replace(old, new, 1), token, field, words)


def test_an_unknown_template_is_named(tmp_path: Path) -> None:
    issue = only(issues_for(tmp_path, "template: probe_email", "template: cart_reminder"))
    text = PROBE.replace("template: probe_email", "template: cart_reminder")
    assert_issue(
        issue, text, "template: cart_reminder", "steps[1].send.template",
        "template 'cart_reminder' not found",
    )  # fmt: skip


def test_duplicate_keys_are_an_error(tmp_path: Path) -> None:
    old = "description: A small"
    text = PROBE.replace(old, "name: probe\n" + old)
    issue = only(validate_project(make_project(tmp_path, text)).issues)
    assert_issue(issue, text, "name: probe", "name", "duplicate key 'name'", occurrence=2)
    assert "first given on line 2" in issue.message


def test_the_name_must_equal_the_file_stem(tmp_path: Path) -> None:
    issue = only(issues_for(tmp_path, "name: probe", "name: probe_journey"))
    text = PROBE.replace("name: probe", "name: probe_journey")
    assert_issue(issue, text, "name: probe_journey", "name", "must equal the file name")


def test_all_errors_in_a_file_are_reported_together(tmp_path: Path) -> None:
    text = PROBE.replace("duration: 1h", "duration: soon").replace("reason: reminded", "why: x")
    text = text.replace("channel: email", "channel: carrier_pigeon")
    issues = validate_project(make_project(tmp_path, text)).issues
    fields = [issue.field for issue in issues]
    assert fields == [
        "steps[0].wait.duration",
        "steps[1].send.channel",
        "steps[3].exit.reason",
        "steps[3].exit.why",
    ], "\n".join(map(str, issues))
    assert "'carrier_pigeon' is not allowed" in issues[1].message
    assert "required field is missing" in issues[2].message
    assert "unknown field 'why'" in issues[3].message


def test_yaml_syntax_errors_are_located(tmp_path: Path) -> None:
    text = PROBE.replace("      duration: 1h", "      duration: [1h")
    issue = only(validate_project(make_project(tmp_path, text)).issues)
    assert issue.message.startswith("invalid YAML")
    assert issue.line > position(text, "duration: [1h")[0]


def test_load_journey_raises_one_error_listing_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "probe.yml"
    path.write_text(PROBE.replace("1h", "0m").replace("name: probe", "name: other"))
    with pytest.raises(ConfigError) as raised:
        load_journey(path)
    lines = str(raised.value).splitlines()
    assert len(lines) == 2 == len(raised.value.issues)
    assert lines[0].endswith("probe.yml:2:1: name: 'other' must equal the file name without .yml, "
                             "'probe'")  # fmt: skip
    assert ":12:7: steps[0].wait.duration: '0m' must be longer than zero" in lines[1]


def test_a_journey_built_in_python_checks_its_graph_too() -> None:
    data = {
        "name": "x",
        "description": "x",
        "entry": {"audience": "cart_abandoners"},
        "steps": [{"id": "a", "tag": "t", "next": "b"}],
    }
    with pytest.raises(ValueError, match=r"steps\[0\]\.next: no step has id 'b'"):
        Journey.model_validate(data)


def test_the_model_exposes_typed_values() -> None:
    cart = load_journey(JOURNEYS / "cart_abandonment.yml")
    assert isinstance(cart.entry, EventEntry)
    assert cart.entry.event == ("product_added", "checkout_started")
    assert cart.instance_property == "cart_id"
    assert cart.split_salt == "cart_abandonment"
    assert cart.goal is not None and cart.goal.within == timedelta(days=7)
    assert cart.send_window is not None and cart.send_window.end == time(21, 0)
    assert isinstance(cart.steps[0], HoldoutStep) and cart.steps[0].holdout.percent == 10
    wait = cart.step("an_hour")
    assert isinstance(wait, WaitStep) and wait.wait.duration == timedelta(hours=1)
    assert cart.successors("hold_out") == [("next", "an_hour"), ("control", None)]
    assert cart.successors("sms_reminder") == [("next", "no_order")]
    assert cart.successors("no_order") == []
    survey = load_journey(JOURNEYS / "post_purchase_survey.yml")
    assert survey.successors("detractor_reply") == [
        ("on_event", "senior_agent_task"),
        ("on_timeout", "satisfied"),
    ]
    recovery = load_journey(JOURNEYS / "csat_service_recovery.yml")
    assert isinstance(recovery.entry, EventEntry) and recovery.entry.where is not None
    assert recovery.entry.where.predicates() == [PropertyPredicate("csat_score", "lte", 2)]
    assert recovery.entry.where.matches({"csat_score": 1})
    assert not recovery.entry.where.matches({"csat_score": 4})
    assert not recovery.entry.where.matches({"csat_score": None})


def test_times_of_day_are_not_read_as_yaml_1_1_sexagesimal_numbers(tmp_path: Path) -> None:
    text = PROBE.replace("steps:\n", "send_window: {start: 08:00, end: 21:00}\nsteps:\n")
    path = tmp_path / "probe.yml"
    path.write_text(text)
    window = load_journey(path).send_window
    assert window is not None and (window.start, window.end) == (time(8, 0), time(21, 0))


def test_plain_scalars_resolve_like_json_not_yaml_1_1(tmp_path: Path) -> None:
    path = tmp_path / "values.yml"
    path.write_text("a: 21:00\nb: no\nc: 2026-01-01\nd: 007\ne: 1.5\nf: -3\ng: null\nh: true\n")
    source, issues = read_yaml(path)
    assert issues == []
    assert source.data == {
        "a": "21:00",
        "b": "no",
        "c": "2026-01-01",
        "d": "007",
        "e": 1.5,
        "f": -3,
        "g": None,
        "h": True,
    }


def test_load_journeys_skips_catalogues_and_sorts_by_name() -> None:
    names = [journey.name for journey in load_journeys(JOURNEYS)]
    assert names == sorted(names) and "_events" not in names and len(names) >= 4


def test_split_and_holdout_assignment_is_sticky_and_proportional() -> None:
    cart = load_journey(JOURNEYS / "cart_abandonment.yml")
    split = cart.step("choose_reminder")
    holdout = cart.step("hold_out")
    assert isinstance(split, SplitStep) and isinstance(holdout, HoldoutStep)
    customers = [f"cus_{n:06d}" for n in range(20_000)]

    def variant(customer: str) -> str:
        return choose_variant(split.split, assignment_point("s", split.id, customer)).name

    variants = [variant(customer) for customer in customers]
    assert abs(variants.count("gentle") / len(customers) - 0.5) < 0.02
    assert [variant(customer) for customer in customers] == variants
    points = [assignment_point("s", holdout.id, customer) for customer in customers]
    control = [in_control_group(holdout.holdout, point) for point in points]
    assert abs(sum(control) / len(customers) - 0.10) < 0.01
    assert assignment_point("s", "a", "cus_1") != assignment_point("s", "b", "cus_1")
