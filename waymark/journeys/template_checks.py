"""Render a journey's templates against stand-in customers, so template mistakes fail validation.

Each text is rendered twice: once with a value in every trait, once with every nullable trait
null (a customer who never ordered or gave a name). An unknown trait or event property, a sandbox
violation, or a null printed without a fallback is reported where it is written.
"""

from __future__ import annotations

from typing import Any

from waymark.core.errors import Issue, Loc, Problem
from waymark.journeys.context import sample_customer, sample_event, template_context
from waymark.journeys.journey import EventEntry, Journey
from waymark.journeys.project import Catalogue
from waymark.journeys.templates import LoadedTemplate, compile_text, error_line, template_issue


class SampleRenderer:
    def __init__(self, journey: Journey, catalogue: Catalogue) -> None:
        self.journey, self.catalogue = journey, catalogue
        entry = journey.entry
        # A journey entered by any of several events renders once per event: `event.*` holds
        # the properties of whichever started the instance.
        self.entry_events: tuple[str | None, ...] = (
            entry.event if isinstance(entry, EventEntry) else (None,)
        )

    @property
    def can_render(self) -> bool:
        """False when an entry event is unknown: `event.*` cannot be checked, and that error is
        reported on the journey instead."""
        return all(name is None or name in self.catalogue.events for name in self.entry_events)

    def values(
        self, loc: Loc, step_id: str, variant: str | None, values: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, list[Problem]]:
        """Text values rendered as templates (others kept); None and the problem if one fails."""
        rendered: dict[str, Any] = {}
        for key, value in values.items():
            if not isinstance(value, str):
                rendered[key] = value
                continue
            for event in self.entry_events:
                for nulls in (False, True):
                    try:
                        context = self.context(step_id, variant, nulls, event=event)
                        rendered[key] = compile_text(value).render(context)
                    except Exception as error:
                        message = render_message(error, nulls, self._other_event(event))
                        return None, [Problem((*loc, key), message)]
        return rendered, []

    def _other_event(self, event: str | None) -> str | None:
        """The entry event to name in a message, when there is more than one."""
        return event if len(self.entry_events) > 1 else None

    def template(
        self,
        template: LoadedTemplate,
        step_id: str,
        variant: str | None,
        params: dict[str, Any],
        used_by: str,
    ) -> list[Issue]:
        """Problems in each field of a template, located in the template file."""
        issues: list[Issue] = []
        for loc, compiled in template.compiled.items():
            failed = False
            for event in self.entry_events:
                for nulls in (False, True):
                    try:
                        compiled.render(self.context(step_id, variant, nulls, params, event))
                    except Exception as error:
                        detail = render_message(error, nulls, self._other_event(event))
                        message = f"{detail} (sent by {used_by})"
                        issues.append(template_issue(template, loc, message, error_line(error)))
                        failed = True
                        break
                if failed:
                    break
        return issues

    def context(
        self,
        step_id: str,
        variant: str | None,
        nulls: bool,
        params: dict[str, Any] | None = None,
        event: str | None = None,
    ) -> dict[str, Any]:
        event = event or self.entry_events[0]
        definition = self.catalogue.events.get(event) if event else None
        return template_context(
            sample_customer(self.catalogue.traits, nulls=nulls),
            sample_event(definition) if event else None,
            self.journey.name,
            step_id,
            variant,
            params,
            event_name=event,
        )


def render_message(error: Exception, nulls: bool, event: str | None = None) -> str:
    # Template code can raise anything (TypeError on None + 1, ZeroDivisionError, ...), so the
    # exception type is part of the message except for the common, self-explaining undefined.
    detail = getattr(error, "message", None) or str(error)
    name = type(error).__name__
    message = detail if name == "UndefinedError" else f"{name}: {detail}"
    if event:
        message = f"{message} (entered by {event})"
    return f"{message} (with nullable traits null)" if nulls else message
