"""SQL fragments built from journey rules, with every user-written value bound as a parameter.

Values from journey files (filter values, trait values, audience and event names, durations)
never reach SQL as text: `Binder.bind` returns a named parameter (`$p3`). Names of properties
and traits are snake_case by validation and are checked here again before they are quoted, so a
file that bypassed validation still cannot inject SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from waymark.journeys.conditions import (
    AllCondition,
    AnyCondition,
    AudienceCondition,
    Condition,
    NotCondition,
    PropertyFilter,
    PropertyPredicate,
    TraitCondition,
)

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class EngineError(Exception):
    """A journey cannot be evaluated against this warehouse (named journey, step and reason)."""


def identifier(name: str) -> str:
    """A quoted SQL identifier for a validated name."""
    if not _IDENTIFIER.match(name):
        raise EngineError(f"'{name}' is not a valid column or property name")
    return f'"{name}"'


@dataclass
class Binder:
    """Collects parameters for one statement; fragments refer to them by name."""

    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        return f"${name}"

    def timestamp(self, value: datetime) -> str:
        return f"cast({self.bind(value)} as timestamp)"

    def interval(self, value: timedelta) -> str:
        # Whole microseconds: to_microseconds keeps sub-second offsets exact.
        micros = value // timedelta(microseconds=1)
        return f"to_microseconds(cast({self.bind(micros)} as bigint))"

    def names(self, values: Sequence[Any]) -> str:
        return ", ".join(self.bind(value) for value in values)


def property_sql(alias: str, name: str, kind: str) -> str:
    """An event property read from the `properties` JSON with its catalogue type."""
    path = f"'$.{identifier(name)[1:-1]}'"
    text = f"json_extract_string({alias}.properties, {path})"
    if kind in ("number", "integer"):
        return f"try_cast({text} as double)"
    if kind == "boolean":
        return f"try_cast({text} as boolean)"
    return text


def filter_sql(
    binder: Binder, alias: str, where: PropertyFilter | None, kinds: dict[str, str]
) -> str:
    """A property filter as a condition on `alias.properties`; 'true' without a filter.

    SQL's null semantics are the filter's: a missing or null property passes no operator except
    `exists: false`."""
    if where is None:
        return "true"
    parts = [
        _predicate_sql(binder, alias, p, kinds.get(p.property, "string"))
        for p in where.predicates()
    ]
    return " and ".join(f"coalesce({part}, false)" for part in parts) or "true"


def _predicate_sql(binder: Binder, alias: str, predicate: PropertyPredicate, kind: str) -> str:
    value_sql = property_sql(alias, predicate.property, kind)
    op, value = predicate.op, predicate.value
    if op == "exists":
        return f"({value_sql} is {'not ' if value else ''}null)"
    if op in ("in", "not_in"):
        listed = binder.names(_typed(v, kind) for v in value)  # type: ignore[union-attr]
        return f"({value_sql} {'not ' if op == 'not_in' else ''}in ({listed}))"
    symbol = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
    return f"({value_sql} {symbol} {binder.bind(_typed(value, kind))})"


def _typed(value: Any, kind: str) -> Any:
    if kind in ("number", "integer") and not isinstance(value, bool):
        return float(value)
    return value


def condition_sql(
    binder: Binder, condition: Condition, customer: str, members: str, columns: dict[str, str]
) -> str:
    """A branch condition over the customer row `customer` and the current-membership relation
    `members` (audience_name, customer_id). Two-valued: a null trait makes a comparison false."""
    if isinstance(condition, AllCondition):
        inner = [condition_sql(binder, c, customer, members, columns) for c in condition.all]
        return "(" + " and ".join(inner) + ")"
    if isinstance(condition, AnyCondition):
        inner = [condition_sql(binder, c, customer, members, columns) for c in condition.any]
        return "(" + " or ".join(inner) + ")"
    if isinstance(condition, NotCondition):
        return f"(not {condition_sql(binder, condition.not_, customer, members, columns)})"
    if isinstance(condition, AudienceCondition):
        audience = binder.bind(condition.in_audience)
        return (
            f"exists (select 1 from {members} as m where m.audience_name = {audience}"
            f" and m.customer_id = {customer}.customer_id)"
        )
    assert isinstance(condition, TraitCondition)
    return _trait_sql(binder, condition, customer, columns)


def _trait_sql(binder: Binder, condition: TraitCondition, customer: str, columns: dict) -> str:
    if condition.trait not in columns:
        raise EngineError(f"trait '{condition.trait}' is not a column of marts.customers")
    column = f"{customer}.{identifier(condition.trait)}"
    op, data_type = condition.op, columns[condition.trait]
    if op == "is_null":
        return f"({column} is null)"
    if op == "not_null":
        return f"({column} is not null)"

    def value(v: Any) -> str:
        bound = binder.bind(v)
        return f"cast({bound} as timestamp)" if data_type.startswith("TIMESTAMP") else bound

    if op in ("in", "not_in"):
        listed = ", ".join(value(v) for v in condition.value)  # type: ignore[union-attr]
        test = f"{column} {'not ' if op == 'not_in' else ''}in ({listed})"
    else:
        symbol = {"eq": "=", "ne": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[op]
        test = f"{column} {symbol} {value(condition.value)}"
    return f"coalesce({test}, false)"


def point_sql(binder: Binder, salt: str, step_id: str, customer: str) -> str:
    """The customer's assignment point in [0, 1), as `waymark.journeys.assignment` computes it:
    the first 8 hex digits of md5(salt:step:customer) over 2**32."""
    prefix = binder.bind(f"{salt}:{step_id}:")
    digits = f"left(md5({prefix} || {customer}), 8)"
    return f"(cast(('0x' || {digits}) as bigint) / 4294967296.0)"


def local_time_sql(utc: str, zone: str) -> str:
    """A UTC timestamp as wall-clock time in `zone` (an expression naming a valid zone)."""
    return f"timezone({zone}, timezone('UTC', {utc}))"


def utc_time_sql(local: str, zone: str) -> str:
    """A wall-clock time in `zone` as a UTC timestamp."""
    return f"timezone('UTC', timezone({zone}, {local}))"
