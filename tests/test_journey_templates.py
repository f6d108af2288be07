"""Message templates: the sandbox, strictness about unknown and null values, and their errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2.exceptions import (
    SecurityError,
    TemplateRuntimeError,
    TemplateSyntaxError,
    UndefinedError,
)
from test_journey_spec import PROBE, PROBE_TEMPLATE, make_project, only, position

from waymark.core.home import PROJECT_ROOT
from waymark.journeys.context import template_context
from waymark.journeys.sandbox import TemplateLimitError
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


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("{{ 2 ** 20000 }}", "2 ** 20000 would have about 6,021 digits"),
        ("{{ 'x' | center(2000000) }}", "the result of | center would be 2,000,000 long"),
        ("{{ 'x\ny' | indent(2000000) }}", "the result of | indent would be 2,000,000 long"),
        ("{{ [1] | batch(2000000, 0) | list }}", "| batch would be 2,000,000 long"),
        ("{{ '%02000000d' | format(1) }}", "a formatted field would be 2,000,000 long"),
        ("{{ '%.2000000f' % 1.5 }}", "a formatted field would be 2,000,000 long"),
        ("{{ '{:>2000000}'.format(1) }}", "a formatted field would be 2,000,000 long"),
        ("{{ 'x'.ljust(2000000) }}", "a string padded by ljust would be 2,000,000 long"),
        ("{{ 'x' * 2000000 }}", "a repeated sequence would be 2,000,000 long"),
        ("{{ ('a' * 2000) | replace('a', 'a' * 1000) }}", "a replaced string would be 2,000,000"),
        ("{{ ('a' * 2000).replace('a', 'a' * 1000) }}", "a replaced string would be 2,000,000"),
        ("{{ (['x' * 1000] * 2000) | join }}", "a joined string would be 2,000,000 long"),
        (
            "{% set ns = namespace(s='x') %}{% for i in range(21) %}{% set ns.s = ns.s ~ ns.s %}"
            "{% endfor %}{{ ns.s | length }}",
            "a joined string would be 1,048,576 long",
        ),
    ],
)
def test_dos_sandbox_refuses_growth_before_it_happens(source: str, words: str) -> None:
    with pytest.raises(TemplateLimitError, match=re.escape(words)):
        compile_text(source).render(context())
    with pytest.raises(TemplateLimitError, match=re.escape(words)):
        compile_text(source, html=True).render(context())


def test_dos_sandbox_keeps_ordinary_templates_working() -> None:
    source = (
        "{{ customer.first_name | upper }} {{ '%05.1f' | format(3.14159) }} {{ '{:>3}'.format(7) }}"
        " {% for i in range(3) %}{{ i }}{% endfor %} {{ 2 ** 10 }} {{ [1, 2] | join(',') }}"
        " {{ 'ab' * 3 }} {{ 'x' ~ 'y' }} {{ '%s!' % 'hi' }}"
    )
    assert compile_text(source).render(context()) == "ADA 003.1   7 012 1024 1,2 ababab xy hi!"
    with pytest.raises(UndefinedError, match="'lipsum' is undefined"):
        compile_text("{{ lipsum(999999999) }}").render(context())
    # Exponential recursion stops on the step count or the CPU time, whichever comes first.
    twice = "{% macro twice(n) %}{% if n %}{{ twice(n - 1) }}{{ twice(n - 1) }}{% endif %}"
    with pytest.raises(TemplateLimitError, match="more than"):
        compile_text(twice + "{% endmacro %}{{ twice(60) }}").render(context())
    with pytest.raises(TemplateSyntaxError, match="nested too deeply"):
        compile_text("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")
