"""Conditions: filters on an event's properties and tests on a customer's profile.

Event filters (`where`) are written as a mapping, `{property: value}` for equality or
`{property: {operator: value}}`; `PropertyFilter.predicates()` gives the engine the same rules
as a flat list. Branch conditions test a trait (a column of `marts.customers`) or audience
membership, combined with `all`, `any` and `not`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    Discriminator,
    Field,
    PlainValidator,
    RootModel,
    Tag,
    WithJsonSchema,
    model_validator,
)

from waymark.core.types import Model, Name, Scalar, ScalarValue, kind, one_key_of

PropertyOperator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists"]
PROPERTY_OPERATORS: tuple[PropertyOperator, ...] = PropertyOperator.__args__  # type: ignore[attr-defined]
_ORDERED = ("gt", "gte", "lt", "lte")


def _filter_value(value: Any) -> ScalarValue:
    if value is None:
        raise ValueError("null never matches; test for a missing property with {exists: false}")
    if isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"expected a single value (text, number or true/false), got {value!r}")


FilterValue = Annotated[
    ScalarValue,
    PlainValidator(_filter_value),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]


class PropertyComparison(Model):
    """Operators on one event property; every operator given must hold. A missing or null
    property passes none of them except `exists: false`, as with null in SQL."""

    eq: FilterValue = None
    """Equal to."""
    ne: FilterValue = None
    """Not equal to."""
    gt: FilterValue = None
    """Greater than (numbers compare as numbers, text as text)."""
    gte: FilterValue = None
    """Greater than or equal to."""
    lt: FilterValue = None
    """Less than."""
    lte: FilterValue = None
    """Less than or equal to."""
    in_: list[FilterValue] | None = Field(default=None, alias="in", min_length=1)
    """One of these values."""
    not_in: list[FilterValue] | None = Field(default=None, min_length=1)
    """None of these values."""
    exists: bool | None = None
    """true: the property is present and not null; false: it is missing or null."""

    @model_validator(mode="after")
    def _at_least_one(self) -> PropertyComparison:
        if not self.model_fields_set:
            raise ValueError(f"give at least one operator: {', '.join(PROPERTY_OPERATORS)}")
        for op in _ORDERED:
            value = getattr(self, op)
            if op in self.model_fields_set and isinstance(value, bool):
                raise ValueError(f"{op} compares with a number or text, not {value!r}")
        return self


def _comparison_or_value(value: Any) -> str:
    return "<comparison>" if isinstance(value, dict | PropertyComparison) else "<value>"


PropertyTest = Annotated[
    Annotated[FilterValue, Tag("<value>")] | Annotated[PropertyComparison, Tag("<comparison>")],
    Discriminator(_comparison_or_value),
]


@dataclass(frozen=True)
class PropertyPredicate:
    """One normalised test on an event property, as the engine evaluates it."""

    property: str
    op: PropertyOperator
    value: ScalarValue | list[ScalarValue]


class PropertyFilter(RootModel[dict[str, PropertyTest]]):
    """`{property: value}` (equality) or `{property: {operator: value}}`; all must hold."""

    model_config = {"frozen": True}

    def predicates(self) -> list[PropertyPredicate]:
        """The filter as a flat list of (property, operator, value), in file order."""
        found: list[PropertyPredicate] = []
        for name, test in self.root.items():
            if not isinstance(test, PropertyComparison):
                found.append(PropertyPredicate(name, "eq", test))
                continue
            for field in PropertyComparison.model_fields:
                if field not in test.model_fields_set:
                    continue
                op = "in" if field == "in_" else field
                found.append(PropertyPredicate(name, op, getattr(test, field)))  # type: ignore[arg-type]
        return found

    def matches(self, properties: Mapping[str, Any]) -> bool:
        """Whether an event's properties pass every predicate."""
        return all(_holds(p, properties) for p in self.predicates())


def _holds(predicate: PropertyPredicate, properties: Mapping[str, Any]) -> bool:
    actual, expected = properties.get(predicate.property), predicate.value
    match predicate.op:
        case "exists":
            return (actual is not None) is expected
        case "eq":
            return actual is not None and actual == expected
        case "ne":
            return actual is not None and actual != expected
        case "in":
            return actual is not None and actual in expected  # type: ignore[operator]
        case "not_in":
            return actual is not None and actual not in expected  # type: ignore[operator]
    if isinstance(actual, bool) or not _comparable(actual, expected):
        return False
    return {
        "gt": actual > expected,  # type: ignore[operator]
        "gte": actual >= expected,  # type: ignore[operator]
        "lt": actual < expected,  # type: ignore[operator]
        "lte": actual <= expected,  # type: ignore[operator]
    }[predicate.op]


def _comparable(actual: Any, expected: Any) -> bool:
    both_numbers = isinstance(actual, int | float) and isinstance(expected, int | float)
    return both_numbers or (isinstance(actual, str) and isinstance(expected, str))


TraitOperator = Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "is_null", "not_null"]


class TraitCondition(Model):
    """A test on one profile trait, a column of `marts.customers`."""

    trait: Name
    """The column, such as `lifecycle_stage` or `revenue`."""
    op: TraitOperator = "eq"
    """How to compare; `is_null` and `not_null` take no value, `in` and `not_in` a list."""
    value: Scalar | list[Scalar] = None
    """What to compare with; a list for `in` and `not_in`."""

    @model_validator(mode="after")
    def _value_fits_operator(self) -> TraitCondition:
        given = "value" in self.model_fields_set
        if self.op in ("is_null", "not_null"):
            if given:
                raise ValueError(f"op {self.op} takes no value")
        elif self.op in ("in", "not_in"):
            if not isinstance(self.value, list) or not self.value:
                raise ValueError(f"op {self.op} needs a non-empty list as value")
        elif not given or self.value is None or isinstance(self.value, list):
            hint = "; to test for null use op is_null" if given and self.value is None else ""
            raise ValueError(f"op {self.op} needs a single non-null value{hint}")
        return self

    @property
    def is_ordered(self) -> bool:
        return self.op in _ORDERED


class AudienceCondition(Model):
    """True while the customer is a current member of the audience."""

    in_audience: Name
    """An audience model name (`dbt_project/models/audiences/`)."""


class AllCondition(Model):
    """True when every condition is true."""

    all: list[Condition] = Field(min_length=1)


class AnyCondition(Model):
    """True when at least one condition is true."""

    any: list[Condition] = Field(min_length=1)


class NotCondition(Model):
    """True when the condition is false."""

    not_: Condition = Field(alias="not")


CONDITION_KINDS = ("trait", "in_audience", "all", "any", "not")

Condition = Annotated[
    Annotated[TraitCondition, kind("trait")]
    | Annotated[AudienceCondition, kind("in_audience")]
    | Annotated[AllCondition, kind("all")]
    | Annotated[AnyCondition, kind("any")]
    | Annotated[NotCondition, kind("not")],
    *one_key_of("a condition", CONDITION_KINDS),
]
"""A profile test: `{trait: ..., op: ..., value: ...}`, `{in_audience: ...}`, or a
combination `{all: [...]}`, `{any: [...]}`, `{not: ...}`."""

AllCondition.model_rebuild()
AnyCondition.model_rebuild()
NotCondition.model_rebuild()
