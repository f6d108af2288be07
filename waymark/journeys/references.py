"""Checks that a journey's names exist in the project and its templates render.

Each journey is checked against the catalogue (`waymark.journeys.project`): audiences, events
and their properties, traits and their types and accepted values, destinations and templates on
the right channel. Every template a send uses is rendered against a stand-in customer, twice (once
with every nullable trait null; `waymark.journeys.template_checks`), so an unknown trait or a
null printed without a fallback is a validation error rather than a failed send.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from waymark.core.channels import PURPOSES_BY_CHANNEL
from waymark.core.errors import Issue, Loc, Problem
from waymark.core.yaml_source import YamlSource
from waymark.journeys.conditions import (
    AllCondition,
    AnyCondition,
    AudienceCondition,
    NotCondition,
    PropertyFilter,
    TraitCondition,
)
from waymark.journeys.graph import variants_leading_to
from waymark.journeys.journey import AudienceEntry, EventEntry, EventExit, Journey, ScheduleEntry
from waymark.journeys.project import Catalogue, ProjectPaths, TraitColumn, read_catalogue
from waymark.journeys.steps import (
    BranchStep,
    SendStep,
    UpdateProfileStep,
    WaitStep,
    WaitUntilEventStep,
    WaitUntilProfileTimestamp,
)
from waymark.journeys.template_checks import SampleRenderer
from waymark.journeys.templates import LoadedTemplate, read_templates

_NUMERIC = ("bigint", "integer", "int", "smallint", "decimal", "numeric", "double", "float")
_PROPERTY_TYPES = {"string": (str,), "number": (int, float), "integer": (int,), "boolean": (bool,)}


@dataclass
class Project:
    """The catalogue and templates journeys are checked against, and problems reading them."""

    paths: ProjectPaths
    catalogue: Catalogue
    templates: dict[str, LoadedTemplate]
    issues: list[Issue] = field(default_factory=list)
    broken_templates: set[str] = field(default_factory=set)
    """Templates whose files have errors: reported there, so sends using them stay quiet."""


def load_project(paths: ProjectPaths) -> Project:
    catalogue = read_catalogue(paths)
    templates, template_issues = read_templates(paths.templates)
    broken = {issue.file.stem for issue in template_issues}
    return Project(paths, catalogue, templates, catalogue.issues + template_issues, broken)


class _Checker:
    def __init__(self, journey: Journey, source: YamlSource, project: Project) -> None:
        self.journey, self.source, self.project = journey, source, project
        self.catalogue = project.catalogue
        self.problems: list[Problem] = []
        self.template_issues: list[Issue] = []
        self.renderer = SampleRenderer(journey, project.catalogue)

    def fail(self, loc: Loc, message: str) -> None:
        self.problems.append(Problem(loc, message))

    def audience(self, loc: Loc, name: str) -> None:
        if name not in self.catalogue.audiences:
            known = ", ".join(sorted(self.catalogue.audiences))
            self.fail(loc, f"audience '{name}' not found (known: {known})")

    def event(self, loc: Loc, name: str, where: PropertyFilter | None, where_loc: Loc) -> None:
        definition = self.catalogue.events.get(name)
        if definition is None:
            self.fail(loc, f"event '{name}' is not in the event catalogue")
            return
        for predicate in where.predicates() if where else []:
            here = (*where_loc, predicate.property)
            kind = definition.properties.get(predicate.property)
            if kind is None:
                self.fail(here, f"event '{name}' has no property '{predicate.property}'")
                continue
            values = predicate.value if isinstance(predicate.value, list) else [predicate.value]
            if predicate.op == "exists":
                continue
            if kind == "boolean" and predicate.op in ("gt", "gte", "lt", "lte"):
                self.fail(here, f"{predicate.op} cannot compare true/false values")
            wrong = [v for v in values if not _is_property_type(v, kind)]
            if wrong:
                self.fail(here, f"{wrong[0]!r} is not a {kind}, the type of '{predicate.property}'")

    def trait(self, loc: Loc, name: str) -> TraitColumn | None:
        column = self.catalogue.traits.get(name)
        if column is None:
            self.fail(loc, f"trait '{name}' is not a column of marts.customers")
        return column

    def condition(self, loc: Loc, condition: Any) -> None:
        if isinstance(condition, AudienceCondition):
            self.audience((*loc, "in_audience"), condition.in_audience)
        elif isinstance(condition, AllCondition | AnyCondition):
            key = "all" if isinstance(condition, AllCondition) else "any"
            for index, inner in enumerate(getattr(condition, key)):
                self.condition((*loc, key, index), inner)
        elif isinstance(condition, NotCondition):
            self.condition((*loc, "not"), condition.not_)
        elif isinstance(condition, TraitCondition):
            column = self.trait((*loc, "trait"), condition.trait)
            if column is not None:
                self.trait_value((*loc, "value"), condition, column)

    def trait_value(self, loc: Loc, condition: TraitCondition, column: TraitColumn) -> None:
        if condition.op in ("is_null", "not_null"):
            return
        if column.data_type == "boolean" and condition.is_ordered:
            self.fail(loc, f"{condition.op} cannot compare true/false values")
        values = condition.value if isinstance(condition.value, list) else [condition.value]
        for value in values:
            problem = _trait_value_problem(value, column)
            if problem:
                self.fail(loc, problem)
                return

    def send(self, index: int, step: SendStep, variant: str | None) -> None:
        loc, send = ("steps", index, "send"), step.send
        if send.purpose not in PURPOSES_BY_CHANNEL[send.channel]:
            allowed = ", ".join(PURPOSES_BY_CHANNEL[send.channel])
            self.fail((*loc, "purpose"), f"{send.channel} sends may have purpose: {allowed}")
        destination = self.catalogue.destinations.get(send.destination)
        if destination is None:
            self.fail((*loc, "destination"), f"destination '{send.destination}' not found")
        elif destination.channel != send.channel:
            message = f"destination '{send.destination}' is a {destination.channel} destination"
            self.fail((*loc, "destination"), message)
        template = self.project.templates.get(send.template)
        if send.template in self.project.broken_templates:
            return
        if template is None:
            self.fail((*loc, "template"), f"template '{send.template}' not found")
        elif template.channel != send.channel:
            message = f"template '{send.template}' is a {template.channel} template"
            self.fail((*loc, "template"), message)
        elif self.renderer.can_render:
            params, problems = self.renderer.values((*loc, "params"), step.id, variant, send.params)
            self.problems += problems
            if params is not None:
                used_by = f"{self.source.path.name} steps[{index}]"
                self.template_issues += self.renderer.template(
                    template, step.id, variant, params, used_by
                )


def check_journey(journey: Journey, source: YamlSource, project: Project) -> list[Issue]:
    """Every reference problem in one valid journey, located in its file or its templates."""
    check = _Checker(journey, source, project)
    _check_top_level(check, journey)
    variants = variants_leading_to(journey.steps)
    for index, step in enumerate(journey.steps):
        loc = ("steps", index)
        # Behind a split, templates see one of the variants that lead here (any will do).
        variant = min(variants.get(step.id, ()), default=None)
        if isinstance(step, WaitStep) and isinstance(step.wait, WaitUntilProfileTimestamp):
            here = (*loc, "wait", "until_profile_timestamp")
            column = check.trait(here, step.wait.until_profile_timestamp)
            if column is not None and not column.data_type.startswith("timestamp"):
                check.fail(here, f"trait '{column.name}' is a {column.data_type}, not a timestamp")
        elif isinstance(step, WaitUntilEventStep):
            wait = step.wait_until_event
            here = (*loc, "wait_until_event")
            check.event((*here, "event"), wait.event, wait.where, (*here, "where"))
        elif isinstance(step, BranchStep):
            for i, path in enumerate(step.branch.conditions):
                check.condition((*loc, "branch", "conditions", i, "when"), path.when)
        elif isinstance(step, SendStep):
            check.send(index, step, variant)
        elif isinstance(step, UpdateProfileStep):
            here = (*loc, "update_profile")
            if step.update_profile.attribute in check.catalogue.traits:
                message = "is a column of marts.customers, which journeys cannot overwrite"
                check.fail((*here, "attribute"), f"'{step.update_profile.attribute}' {message}")
            if check.renderer.can_render:
                value = {"value": step.update_profile.value}
                check.problems += check.renderer.values(here, step.id, variant, value)[1]
    located = [source.issue(problem.loc, problem.message) for problem in check.problems]
    return located + check.template_issues


def _check_top_level(check: _Checker, journey: Journey) -> None:
    entry = journey.entry
    if isinstance(entry, AudienceEntry):
        check.audience(("entry", "audience"), entry.audience)
    elif isinstance(entry, EventEntry):
        for index, name in enumerate(entry.event):
            loc = ("entry", "event") if len(entry.event) == 1 else ("entry", "event", index)
            check.event(loc, name, entry.where, ("entry", "where"))
            definition = check.catalogue.events.get(name)
            key = journey.instance_property
            if key and definition is not None and key not in definition.properties:
                check.fail(("instance_key",), f"event '{name}' has no property '{key}'")
    elif isinstance(entry, ScheduleEntry) and entry.schedule.audience:
        check.audience(("entry", "schedule", "audience"), entry.schedule.audience)
    if journey.goal:
        check.event(("goal", "event"), journey.goal.event, journey.goal.where, ("goal", "where"))
    for index, criterion in enumerate(journey.exit_when):
        loc = ("exit_when", index)
        if isinstance(criterion, EventExit):
            check.event((*loc, "event"), criterion.event, criterion.where, (*loc, "where"))
        else:
            check.audience((*loc, "audience_exit"), criterion.audience_exit)


def _is_property_type(value: Any, kind: str) -> bool:
    if isinstance(value, bool):
        return kind == "boolean"
    return value is not None and isinstance(value, _PROPERTY_TYPES[kind])


def _trait_value_problem(value: Any, column: TraitColumn) -> str | None:
    data_type = column.data_type
    if data_type.startswith(_NUMERIC):
        fits = isinstance(value, int | float) and not isinstance(value, bool)
    elif data_type == "boolean":
        fits = isinstance(value, bool)
    elif data_type.startswith("timestamp"):
        fits = isinstance(value, str) and _is_timestamp(value)
    else:
        fits = isinstance(value, str)
    if not fits:
        return f"{value!r} does not fit trait '{column.name}' ({data_type})"
    if column.accepted_values is not None and value not in column.accepted_values:
        allowed = ", ".join(str(v) for v in column.accepted_values)
        return f"{value!r} is never a value of '{column.name}' (one of: {allowed})"
    return None


def _is_timestamp(value: str) -> bool:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True
