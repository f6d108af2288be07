"""Value types shared by every config file: journeys, templates, catalogues, syncs, destinations.

Each type validates the text a person writes and publishes the same rule in the JSON Schema, so an
editor flags a bad value before `waymark journeys validate` does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    PlainValidator,
    Tag,
    WithJsonSchema,
)


class Model(BaseModel):
    """Base for every file model: unknown keys are errors, attribute docstrings document fields."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


SNAKE_CASE = r"^[a-z][a-z0-9_]*$"
_SNAKE = re.compile(SNAKE_CASE)


def _snake_case(value: str) -> str:
    if not _SNAKE.match(value):
        raise ValueError(f"'{value}' is not snake_case (lowercase letters, digits, underscores)")
    return value


Name = Annotated[
    str, AfterValidator(_snake_case), WithJsonSchema({"type": "string", "pattern": SNAKE_CASE})
]
"""A snake_case identifier: journey, step, audience, event, template, destination, trait."""

_DURATION = re.compile(r"^(-?)(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
DURATION_PATTERN = r"^[1-9][0-9]*[mhdw]$"
SIGNED_DURATION_PATTERN = r"^-?[0-9]+[mhdw]$"


def parse_duration(value: Any, *, signed: bool = False) -> timedelta:
    """`30m`, `24h`, `7d`, `2w` (and `-1d` when `signed`) as a timedelta."""
    if isinstance(value, timedelta):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or (match.group(1) and not signed):
        example = "-1d, 0m, 12h" if signed else "30m, 24h, 7d, 2w"
        raise ValueError(f"{value!r} is not a duration; write a number and a unit: {example}")
    amount = int(match.group(2)) * (-1 if match.group(1) else 1)
    if amount <= 0 and not signed:
        raise ValueError(f"{value!r} must be longer than zero")
    return timedelta(**{_UNITS[match.group(3)]: amount})


Duration = Annotated[
    timedelta,
    PlainValidator(parse_duration),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["30m", "24h"]}),
]
"""A positive duration: a whole number and a unit, m (minutes), h, d or w (weeks)."""

SignedDuration = Annotated[
    timedelta,
    PlainValidator(lambda value: parse_duration(value, signed=True)),
    WithJsonSchema({"type": "string", "pattern": SIGNED_DURATION_PATTERN, "examples": ["-1d"]}),
]
"""A duration that may be zero or negative (before a timestamp), such as `-1d`."""

TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _time_of_day(value: Any) -> time:
    if isinstance(value, time):
        return value
    if not isinstance(value, str) or not re.match(TIME_OF_DAY_PATTERN, value):
        raise ValueError(f"{value!r} is not a time of day; write HH:MM on a 24-hour clock")
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


TimeOfDay = Annotated[
    time,
    PlainValidator(_time_of_day),
    WithJsonSchema({"type": "string", "pattern": TIME_OF_DAY_PATTERN, "examples": ["09:00"]}),
]
"""A wall-clock time, `HH:MM` on a 24-hour clock."""


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not an IANA time zone such as Europe/Berlin") from None
    return value


Timezone = Annotated[str, AfterValidator(_timezone)]
"""An IANA time zone name, such as `Europe/Berlin` or `UTC`."""

ScalarValue = str | int | float | bool | None


def _scalar(value: Any) -> ScalarValue:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError(f"expected a single value (text, number, true/false or null), got {value!r}")


Scalar = Annotated[
    ScalarValue,
    PlainValidator(_scalar),
    WithJsonSchema({"type": ["string", "number", "boolean", "null"]}),
]
"""One JSON value that is not a list or an object."""


def kind_tag(key: str) -> str:
    """The union tag for members chosen by `key`; the brackets keep it out of error paths."""
    return f"<{key}>"


def kind(key: str) -> Tag:
    return Tag(kind_tag(key))


def one_key_of(what: str, keys: Sequence[str]) -> tuple[Discriminator, BeforeValidator]:
    """Annotations for a union whose member is chosen by which one of `keys` a mapping has.

    YAML such as `{wait: ...}` or `{send: ...}` names its kind by its key. Choosing the member
    up front gives one clear error ("needs exactly one of ...") instead of one error per member.
    """
    listed = ", ".join(keys)

    def tag(value: Any) -> str | None:
        if isinstance(value, BaseModel):
            fields = type(value).model_fields
            present = [key for key in keys if key in fields or f"{key}_" in fields]
        else:
            present = [key for key in keys if isinstance(value, dict) and key in value]
        return kind_tag(present[0]) if len(present) == 1 else None

    def require_one(value: Any) -> Any:
        if not isinstance(value, dict):
            raise ValueError(f"{what} must be a mapping with one of: {listed}")
        present = [key for key in keys if key in value]
        if len(present) > 1:
            raise ValueError(f"{what} has {' and '.join(present)}; give exactly one of: {listed}")
        if not present:
            unknown = [str(key) for key in value if key not in ("id", "next")]
            found = f" (found {', '.join(unknown)})" if unknown else ""
            raise ValueError(f"{what} needs exactly one of: {listed}{found}")
        return value

    return Discriminator(tag), BeforeValidator(require_one)
