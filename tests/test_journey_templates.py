"""Message templates: the sandbox, strictness about unknown and null values, and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2.exceptions import SecurityError, TemplateRuntimeError, UndefinedError
from test_journey_spec import PROBE, PROBE_TEMPLATE, make_project, only, position

from waymark.home import PROJECT_ROOT
from waymark.journeys.context import template_context
from waymark.journeys.templates import compile_text, read_template, read_templates
from waymark.journeys.validation import validate_project

CUSTOMER = {"customer_id": "cus_1", "first_name": "Ada", "last_name": None}


def context(**customer: object) -> dict:
    return template_context({**CUSTOMER, **customer}, {"cart_id": "c1"}, "j", "s", "a")


def template_issues(tmp_path: Path, template: str) -> list:
    return validate_project(make_project(tmp_path, PROBE, template)).issues


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ customer.__class__.__base__.__subclasses__() }}",
        "{{ customer.update({'first_name': 'x'}) }}",
        "{{ journey.name.__class__ }}",
    ],
)
def test_sandbox_escapes_raise_security_error(source: str) -> None:
    with pytest.raises(SecurityError):
        compile_text(source).render(context())


def test_unknown_variables_and_attributes_raise_with_their_meaning() -> None:
    with pytest.raises(UndefinedError, match="customer has no 'favourite_colour'"):
        compile_text("{{ customer.favourite_colour }}").render(context())
    with pytest.raises(UndefinedError, match="'order' is undefined"):
        compile_text("{{ order.id }}").render(context())
    with pytest.raises(UndefinedError, match="customer has no 'vip'"):
        compile_text("{% if customer.vip %}x{% endif %}").render(context())


def test_printing_a_null_is_refused_but_a_fallback_is_fine() -> None:
    with pytest.raises(TemplateRuntimeError, match="prints a null value"):
        compile_text("Hi {{ customer.last_name }}").render(context())
    fallback = "Hi {{ customer.last_name | default('you', true) }}"
    assert compile_text(fallback).render(context()) == "Hi you"


def test_only_html_is_autoescaped() -> None:
    name = "<script>alert(1)</script>"
    html = compile_text("<p>{{ customer.first_name }}</p>", html=True).render(
        context(first_name=name)
    )
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
    assert compile_text("{{ customer.first_name }}").render(context(first_name=name)) == name


def test_every_shipped_template_compiles() -> None:
    templates, issues = read_templates(PROJECT_ROOT / "templates")
    assert issues == [], "\n".join(map(str, issues))
    channels = {template.channel for template in templates.values()}
    assert {"email", "sms", "webhook", "crm", "ads"} <= channels


def test_a_payload_template_renders_text_leaves_and_keeps_other_values(tmp_path: Path) -> None:
    path = tmp_path / "task.yml"
    path.write_text(
        "channel: webhook\n"
        "payload:\n"
        "  id: '{{ customer.customer_id }}'\n"
        "  urgent: true\n"
        "  tags: ['journey:{{ journey.name }}', 3]\n"
        "  cart: {id: '{{ event.cart_id }}'}\n"
    )
    loaded, issues = read_template(path)
    assert issues == [] and loaded is not None
    message = loaded.render(context())
    assert message.payload == {
        "id": "cus_1",
        "urgent": True,
        "tags": ["journey:j", 3],
        "cart": {"id": "c1"},
    }


def test_a_template_syntax_error_points_at_its_line(tmp_path: Path) -> None:
    broken = PROBE_TEMPLATE.replace(
        "{{ customer.lifecycle_stage }}", "{{ customer.lifecycle_stage }"
    )
    issue = only(template_issues(tmp_path, broken))
    assert issue.file.name == "probe_email.yml" and issue.field == "html"
    assert issue.line == position(broken, "<p>{{ customer.lifecycle")[0]
    assert issue.column == 3
    assert issue.message.startswith("syntax error: unexpected '}'")
    assert validate_project(make_project(tmp_path / "again", PROBE, broken)).journeys == []


def test_an_unknown_trait_in_a_template_is_a_validation_error(tmp_path: Path) -> None:
    template = PROBE_TEMPLATE.replace("customer.lifecycle_stage", "customer.favourite_colour")
    issue = only(template_issues(tmp_path, template))
    assert issue.file.name == "probe_email.yml" and issue.field == "html"
    assert (issue.line, issue.column) == (position(template, "<p>{{ customer.favourite")[0], 3)
    assert "customer has no 'favourite_colour'" in issue.message
    assert "(sent by probe.yml steps[1])" in issue.message


def test_an_unknown_event_property_in_a_template_is_a_validation_error(tmp_path: Path) -> None:
    template = PROBE_TEMPLATE.replace('subject: "Hi', 'subject: "{{ event.coupon }} Hi')
    issue = only(template_issues(tmp_path, template))
    assert (issue.line, issue.field) == (2, "subject")
    assert "event 'product_added' has no 'coupon'" in issue.message


def test_a_trait_that_can_be_null_must_have_a_fallback(tmp_path: Path) -> None:
    template = PROBE_TEMPLATE.replace(
        "{{ customer.first_name | default('there', true) }}", "{{ customer.first_name }}"
    )
    issue = only(template_issues(tmp_path, template))
    assert issue.field == "subject"
    assert "prints a null value" in issue.message and "(with nullable traits null)" in issue.message


def test_a_sandbox_escape_in_a_template_file_is_a_validation_error(tmp_path: Path) -> None:
    template = PROBE_TEMPLATE.replace("<p>{{ event.name }}", "<p>{{ ''.__class__.__mro__ }}")
    issue = only(template_issues(tmp_path, template))
    assert issue.field == "html" and "SecurityError" in issue.message


def test_template_fields_follow_the_channel(tmp_path: Path) -> None:
    issue = only(template_issues(tmp_path, PROBE_TEMPLATE.split("text:")[0]))
    assert (issue.field, issue.line) == ("text", 1)
    assert issue.message == "required field is missing"
    sms = "channel: sms\nbody: Hi\n"
    issue = only(template_issues(tmp_path / "sms", sms))
    assert issue.field == "steps[1].send.template"
    assert "is a sms template" in issue.message
