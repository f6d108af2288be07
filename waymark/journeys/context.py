"""The variables a template sees, and stand-in values to check templates without a warehouse.

`customer` holds the customer's row of `marts.customers`, `event` the entry event's
properties, `journey` the journey name, step id and split variant, and `params` the send
step's own values.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from waymark.journeys.project import EventDefinition, TraitColumn
from waymark.journeys.templates import Namespace

NO_EVENT_LABEL = "event (none: the journey does not start from an event)"


def template_context(
    customer: Mapping[str, Any],
    event: Mapping[str, Any] | None,
    journey: str,
    step: str,
    variant: str | None,
    params: Mapping[str, Any] | None = None,
    event_name: str | None = None,
) -> dict[str, Namespace]:
    """The context for one send: `event` None when the journey has no entry event."""
    if event is None:
        event_space = Namespace(NO_EVENT_LABEL, {})
    else:
        event_space = Namespace(f"event {event_name!r}" if event_name else "event", event)
    return {
        "customer": Namespace("customer", customer),
        "event": event_space,
        "journey": Namespace("journey", {"name": journey, "step": step, "variant": variant}),
        "params": Namespace("params", params or {}),
    }


def sample_customer(traits: Mapping[str, TraitColumn], *, nulls: bool) -> dict[str, Any]:
    """A stand-in customer with every column; with `nulls`, nullable columns are null, as for
    a customer who has never ordered or given a name."""
    return {
        name: None if nulls and column.nullable else _sample(column)
        for name, column in traits.items()
    }


def _sample(column: TraitColumn) -> Any:
    if column.accepted_values:
        return column.accepted_values[0]
    data_type = column.data_type
    if data_type.startswith(("decimal", "numeric")):
        return Decimal("123.45")
    if data_type in ("double", "float", "real"):
        return 1.5
    if data_type in ("bigint", "integer", "int", "smallint"):
        return 3
    if data_type == "boolean":
        return False
    if data_type.startswith("timestamp") or data_type == "date":
        return datetime(2026, 6, 29, 9, 30)
    return f"sample {column.name}"


_PROPERTY_SAMPLES = {"string": "sample", "number": 12.5, "integer": 2, "boolean": True}


def sample_event(definition: EventDefinition | None) -> dict[str, Any] | None:
    if definition is None:
        return None
    return {name: _PROPERTY_SAMPLES[kind] for name, kind in definition.properties.items()}
