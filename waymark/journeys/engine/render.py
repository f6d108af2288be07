"""Rendering the messages and profile values a tick produces: Python per message, in the sandbox.

Deciding who gets what is set-based SQL; only the sends a tick actually makes (and templated
profile values) are rendered here, with the same context as `waymark journeys preview`:
`customer` (the row of `marts.customers`), `event` (the entry event's catalogue properties, a
missing one as null), `journey` (name, step, variant) and `params`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from jinja2 import Template as JinjaTemplate

from waymark.journeys.context import template_context
from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.plan import JourneyPlan
from waymark.journeys.engine.sql import Binder
from waymark.journeys.templates import RenderedMessage, compile_text


@dataclass
class ContextRow:
    instance_id: str
    journey: str
    step_id: str
    customer_id: str
    known: bool
    variant: str | None
    entry_event: str | None
    event: dict[str, Any] | None
    customer: dict[str, Any]


def context_rows(
    ctx: TickContext, relation: str, binder: Binder | None = None
) -> Iterator[ContextRow]:
    """Rows of `relation` (instance_id, step_id) with everything a template sees."""
    cursor = ctx.run(
        f"""
        select r.instance_id, w.journey, r.step_id, w.customer_id, c.customer_id is not null,
            w.variant, w.entry_event, w.entry_properties, c.*
        from ({relation}) as r
        inner join _work as w on w.instance_id = r.instance_id
        left join _customers as c on c.customer_id = w.customer_id
        order by r.instance_id
        """,
        binder,
    )
    names = [column[0] for column in cursor.description][8:]
    for row in cursor.fetchall():
        plan = ctx.plans[row[1]]
        yield ContextRow(
            instance_id=row[0],
            journey=row[1],
            step_id=row[2],
            customer_id=row[3],
            known=row[4],
            variant=row[5],
            entry_event=row[6],
            event=_event(plan, row[6], row[7]),
            customer=dict(zip(names, row[8:], strict=True)),
        )


def _event(plan: JourneyPlan, name: str | None, properties: str | None) -> dict[str, Any] | None:
    if name is None:
        return None
    parsed = json.loads(properties) if properties else {}
    return {key: parsed.get(key) for key in plan.property_kinds(name)}


class Renderer:
    """Renders one tick's messages, compiling each step's text params once."""

    def __init__(self, ctx: TickContext) -> None:
        self.ctx = ctx
        self._params: dict[tuple[str, str], dict[str, Any]] = {}

    def context(self, row: ContextRow, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        return template_context(
            row.customer,
            row.event,
            row.journey,
            row.step_id,
            row.variant,
            params,
            event_name=row.entry_event,
        )

    def text(self, row: ContextRow, text: str) -> str:
        return compile_text(text).render(self.context(row))

    def message(self, row: ContextRow) -> RenderedMessage:
        """The send step's message for this instance; raises what the template raises."""
        plan = self.ctx.plans[row.journey]
        step = plan.step(row.step_id)
        send = step.send  # type: ignore[union-attr]
        key = (row.journey, row.step_id)
        if key not in self._params:
            self._params[key] = {
                name: compile_text(value) if isinstance(value, str) else value
                for name, value in send.params.items()
            }
        base = self.context(row)
        params = {
            name: value.render(base) if isinstance(value, JinjaTemplate) else value
            for name, value in self._params[key].items()
        }
        return plan.templates[send.template].render(self.context(row, params))


def payload_json(message: RenderedMessage) -> str:
    """The outbox payload: email subject/html/text, SMS body, or the JSON payload itself."""
    if message.channel == "email":
        document: Any = {"subject": message.subject, "html": message.html, "text": message.text}
    elif message.channel == "sms":
        document = {"body": message.body}
    else:
        document = message.payload
    return json.dumps(document, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def error_text(error: BaseException) -> str:
    detail = getattr(error, "message", None) or str(error)
    return f"{type(error).__name__}: {detail}"[:500]
