"""Render a journey's templates against stand-in customers, so template mistakes fail validation.

Each text is rendered twice: once with a value in every trait, once with every nullable trait
null (a customer who never ordered or gave a name). An unknown trait or event property, a sandbox
violation, or a null printed without a fallback is reported where it is written.
"""

from __future__ import annotations

from typing import Any

from waymark.journeys.context import sample_customer, sample_event, template_context
from waymark.journeys.errors import JourneyIssue, Loc, Problem
from waymark.journeys.journey import EventEntry, Journey
from waymark.journeys.project import Catalogue
from waymark.journeys.templates import LoadedTemplate, compile_text, error_line, template_issue


class SampleRenderer:
    def __init__(self, journey: Journey, catalogue: Catalogue) -> None:
        self.journey, self.catalogue = journey, catalogue
        entry = journey.entry
        self.entry_event = entry.event if isinstance(entry, EventEntry) else None

    @property
    def can_render(self) -> bool:
        """False when the entry event is unknown: `event.*` cannot be checked, and that error is
        reported on the journey instead."""
        return self.entry_event is None or self.entry_event in self.catalogue.events

    def values(
        self, loc: Loc, step_id: str, variant: str | None, values: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, list[Problem]]:
        """Text values rendered as templates (others kept); None and the problem if one fails."""
        rendered: dict[str, Any] = {}
        for key, value in values.items():
            if not isinstance(value, str):
                rendered[key] = value
                continue
            for nulls in (False, True):
                try:
                    context = self.context(step_id, variant, nulls)
                    rendered[key] = compile_text(value).render(context)
                except Exception as error:
                    return None, [Problem((*loc, key), render_message(error, nulls))]
        return rendered, []

    def template(
        self,
        template: LoadedTemplate,
        step_id: str,
        variant: str | None,
        params: dict[str, Any],
        used_by: str,
    ) -> list[JourneyIssue]:
        """Problems in each field of a template, located in the template file."""
        issues: list[JourneyIssue] = []
        for loc, compiled in template.compiled.items():
            for nulls in (False, True):
                try:
                    compiled.render(self.context(step_id, variant, nulls, params))
                except Exception as error:
                    message = f"{render_message(error, nulls)} (sent by {used_by})"
                    issues.append(template_issue(template, loc, message, error_line(error)))
                    break
        return issues

    def context(
        self, step_id: str, variant: str | None, nulls: bool, params: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        definition = self.catalogue.events.get(self.entry_event) if self.entry_event else None
        return template_context(
            sample_customer(self.catalogue.traits, nulls=nulls),
            sample_event(definition) if self.entry_event else None,
            self.journey.name,
            step_id,
            variant,
            params,
            event_name=self.entry_event,
        )


def render_message(error: Exception, nulls: bool) -> str:
    # Template code can raise anything (TypeError on None + 1, ZeroDivisionError, ...), so the
    # exception type is part of the message except for the common, self-explaining undefined.
    detail = getattr(error, "message", None) or str(error)
    name = type(error).__name__
    message = detail if name == "UndefinedError" else f"{name}: {detail}"
    return f"{message} (with nullable traits null)" if nulls else message
