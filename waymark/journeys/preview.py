"""Render a journey's messages for one real customer, read from the warehouse.

The warehouse is opened read-only and closed before anything renders: DuckDB allows one writer
per file, and a preview must never hold up an orchestrated run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from waymark.journeys.assignment import assignment_point, choose_variant, in_control_group
from waymark.journeys.context import template_context
from waymark.journeys.graph import variants_leading_to
from waymark.journeys.journey import EventEntry, Journey
from waymark.journeys.references import Project
from waymark.journeys.steps import HoldoutStep, SendStep, SplitStep
from waymark.journeys.templates import RenderedMessage, compile_text

CONSENT_COLUMNS = {
    "email_marketing": "email_marketing_consent",
    "sms_marketing": "sms_marketing_consent",
    "ads_personalisation": "ads_personalisation_consent",
}


class PreviewError(Exception):
    """The preview cannot run: unknown customer, no entry event, unreadable warehouse."""


@dataclass(frozen=True)
class EntryEvent:
    event_id: str
    occurred_at: datetime
    properties: dict[str, Any]
    event: str | None = None
    """The catalogue name of the event, one of the journey's entry events."""


@dataclass
class PreviewedSend:
    step: SendStep
    variant: str | None
    consent: str | None
    """The customer's consent status for the send's purpose; None for transactional sends."""
    message: RenderedMessage | None = None
    error: str | None = None


@dataclass
class JourneyPreview:
    journey: Journey
    customer: dict[str, Any]
    entry_event: EntryEvent | None
    assignments: dict[str, str] = field(default_factory=dict)
    """Split and holdout step id -> the customer's variant, or `control` / `treatment`."""
    sends: list[PreviewedSend] = field(default_factory=list)


def read_customer(
    warehouse: Path, customer_id: str, journey: Journey, project: Project
) -> tuple[dict[str, Any], EntryEvent | None]:
    """The customer's row of `marts.customers` and their latest matching entry event."""
    if not warehouse.is_file():
        raise PreviewError(f"no warehouse at {warehouse}; build one with `waymark demo`")
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            cursor = con.execute(
                "select * from marts.customers where customer_id = ?", [customer_id]
            )
            row = cursor.fetchone()
            columns = [column[0] for column in cursor.description]
            events = _entry_event_rows(con, customer_id, journey, project) if row else []
    except duckdb.Error as error:
        raise PreviewError(f"cannot read {warehouse}: {error}") from error
    if row is None:
        raise PreviewError(f"no customer '{customer_id}' in marts.customers")
    customer = dict(zip(columns, row, strict=True))
    entry = journey.entry
    if not isinstance(entry, EventEntry):
        return customer, None
    for event_id, occurred_at, properties, name in events:
        parsed = json.loads(properties) if properties else {}
        if entry.where is None or entry.where.matches(parsed):
            return customer, EntryEvent(event_id, occurred_at, parsed, name)
    names = " or ".join(entry.event)
    raise PreviewError(f"customer '{customer_id}' has no {names} event that starts the journey")


def _entry_event_rows(
    con: duckdb.DuckDBPyConnection, customer_id: str, journey: Journey, project: Project
) -> list[tuple[Any, ...]]:
    if not isinstance(journey.entry, EventEntry):
        return []
    rows: list[tuple[Any, ...]] = []
    sql = (
        "select event_id, occurred_at, properties, ? from marts.customer_events"
        " where customer_id = ? and event_type = ? and (? is null or event_name = ?)"
    )
    for name in journey.entry.event:
        match = project.catalogue.events[name].match
        params = [name, customer_id, match.event_type, match.event_name, match.event_name]
        rows += con.execute(sql, params).fetchall()
    return sorted(rows, key=lambda row: (row[1], row[0]), reverse=True)


def preview_journey(
    journey: Journey, project: Project, warehouse: Path, customer_id: str
) -> JourneyPreview:
    customer, entry_event = read_customer(warehouse, customer_id, journey, project)
    preview = JourneyPreview(journey, customer, entry_event)
    for step in journey.steps:
        point = assignment_point(journey.split_salt, step.id, customer_id)
        if isinstance(step, SplitStep):
            preview.assignments[step.id] = choose_variant(step.split, point).name
        elif isinstance(step, HoldoutStep):
            control = in_control_group(step.holdout, point)
            preview.assignments[step.id] = "control" if control else "treatment"
    leading = variants_leading_to(journey.steps)
    chosen = {preview.assignments[s.id] for s in journey.steps if isinstance(s, SplitStep)}
    for step in journey.steps:
        if isinstance(step, SendStep):
            # A send behind one variant shows that variant; one reached from several shows the
            # customer's own.
            names = leading.get(step.id, set())
            variant = next(iter(names)) if len(names) == 1 else min(names & chosen, default=None)
            preview.sends.append(_render(step, variant, preview, project))
    return preview


def _render(
    step: SendStep, variant: str | None, preview: JourneyPreview, project: Project
) -> PreviewedSend:
    consent_column = CONSENT_COLUMNS.get(step.send.purpose)
    consent = preview.customer.get(consent_column) if consent_column else None
    sent = PreviewedSend(step, variant, consent)
    event = preview.entry_event.properties if preview.entry_event else None
    event_name = preview.entry_event.event if preview.entry_event else None
    args = (preview.customer, event, preview.journey.name, step.id, variant)
    try:
        params = {
            key: compile_text(value).render(template_context(*args, event_name=event_name))
            if isinstance(value, str)
            else value
            for key, value in step.send.params.items()
        }
        context = template_context(*args, params, event_name=event_name)
        sent.message = project.templates[step.send.template].render(context)
    except Exception as error:
        sent.error = f"{type(error).__name__}: {getattr(error, 'message', None) or error}"
    return sent
