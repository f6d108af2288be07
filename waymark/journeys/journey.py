"""The Journey model: one YAML file in `journeys/`, validated into typed objects.

A constructed `Journey` is internally consistent: its steps form a valid graph (see
`waymark.journeys.graph`). References to audiences, events, traits, templates and destinations are
checked against the project by `waymark.journeys.references`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, WithJsonSchema, model_validator

from waymark.core.channels import Channel
from waymark.core.cron import Cron
from waymark.core.errors import Problem, display_path
from waymark.core.types import (
    SNAKE_CASE,
    Duration,
    Model,
    Name,
    TimeOfDay,
    Timezone,
    kind,
    one_key_of,
)
from waymark.journeys.conditions import PropertyFilter
from waymark.journeys.graph import step_problems
from waymark.journeys.steps import Step

INSTANCE_KEY_PATTERN = r"^properties\.[A-Za-z_][A-Za-z0-9_]*$"


class AudienceEntry(Model):
    """Enter when the customer joins an audience (each new membership, including a rejoin)."""

    audience: Name
    """An audience model (`dbt_project/models/audiences/`)."""
    existing_members: Literal["enrol", "skip"] = "enrol"
    """Customers already in the audience when this entry is deployed (the journey's first tick,
    or the first tick of a version whose audience or `existing_members` changed): `enrol` them
    at that tick, or `skip` them so that only memberships starting later enter. Decided once per
    journey version and recorded in `journeys.journey_versions`."""


def _one_or_more_names(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


EventNames = Annotated[
    tuple[Name, ...],
    BeforeValidator(_one_or_more_names),
    Field(min_length=1),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": SNAKE_CASE},
                {
                    "type": "array",
                    "items": {"type": "string", "pattern": SNAKE_CASE},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            ]
        }
    ),
]
"""One event name, or a list of them: `product_added` or `[product_added, checkout_started]`."""


class EventEntry(Model):
    """Enter when the customer does an event (any of the events listed) that passes the filter."""

    event: EventNames
    """An event from the event catalogue (`journeys/_events.yml`), or a list of them; the
    journey starts at the first of them. Read back as a tuple of names."""
    where: PropertyFilter | None = None
    """Only events whose properties pass this filter start the journey; with several events,
    each filtered property must be declared on every one of them."""

    @model_validator(mode="after")
    def _distinct(self) -> EventEntry:
        if len(set(self.event)) != len(self.event):
            raise ValueError("an entry event is listed twice")
        return self


class Schedule(Model):
    cron: Cron
    """When to run, five cron fields, such as `0 9 * * mon`."""
    timezone: Timezone = "UTC"
    """The time zone the cron expression is read in."""
    audience: Name | None = None
    """Only current members of this audience enter; default every customer."""


class ScheduleEntry(Model):
    """Enter everyone (or an audience's current members) at scheduled times."""

    schedule: Schedule


Entry = Annotated[
    Annotated[AudienceEntry, kind("audience")]
    | Annotated[EventEntry, kind("event")]
    | Annotated[ScheduleEntry, kind("schedule")],
    *one_key_of("entry", ("audience", "event", "schedule")),
]
"""How customers enter: `{audience: ...}`, `{event: ..., where: ...}` or `{schedule: ...}`."""


class ReEntry(Model):
    """Whether a customer who has been through the journey may enter it again.

    An instance is one customer (or one customer and instance key); it never runs twice at once.
    """

    mode: Literal["never", "after_cooldown", "every_time"] = "never"
    cooldown: Duration | None = None
    """With `after_cooldown`: time from the previous entry before the next may start."""

    @model_validator(mode="after")
    def _cooldown_fits_mode(self) -> ReEntry:
        if self.mode == "after_cooldown" and self.cooldown is None:
            raise ValueError("mode after_cooldown needs a cooldown, such as 7d")
        if self.mode != "after_cooldown" and self.cooldown is not None:
            raise ValueError(f"cooldown only applies to mode after_cooldown, not {self.mode}")
        return self


class Goal(Model):
    """The conversion the journey is measured on (holdout uplift, goal rate). It does not exit."""

    event: Name
    where: PropertyFilter | None = None
    within: Duration
    """Counted when it happens within this time of entry."""


class EventExit(Model):
    """Exit as soon as the customer does this event (checked before every step)."""

    event: Name
    where: PropertyFilter | None = None


class AudienceExit(Model):
    """Exit as soon as the customer leaves this audience."""

    audience_exit: Name


ExitCriterion = Annotated[
    Annotated[EventExit, kind("event")] | Annotated[AudienceExit, kind("audience_exit")],
    *one_key_of("an exit criterion", ("event", "audience_exit")),
]


class SendWindow(Model):
    """Quiet hours: sends outside start-end (customer's local time) wait for the next start."""

    start: TimeOfDay
    end: TimeOfDay
    """May be earlier than start for a window across midnight (22:00 to 06:00)."""
    fallback_timezone: Timezone = "UTC"
    """Used for customers whose time zone is unknown."""

    @model_validator(mode="after")
    def _not_empty(self) -> SendWindow:
        if self.start == self.end:
            raise ValueError("start and end are equal; omit send_window to send at any hour")
        return self


class FrequencyCap(Model):
    """At most `max` sends on a channel per rolling `per`; capped sends are dropped, logged."""

    channel: Channel
    max: int = Field(ge=1)
    per: Duration
    scope: Literal["journey", "global"] = "journey"
    """`journey` counts this journey's sends; `global` counts sends from every journey."""


class Journey(Model):
    """A customer journey: who enters, what happens to them step by step, and when they leave."""

    name: Name
    """Equal to the file name without `.yml`."""
    description: str = Field(min_length=1)
    enabled: bool = True
    """A disabled journey admits nobody; customers already in it carry on."""
    priority: int = 0
    """When journeys want the same customer on the same channel in one tick, the higher wins."""
    salt: str | None = None
    """Seed for splits and holdouts; default the name. Changing it reshuffles every assignment."""
    entry: Entry
    instance_key: str | None = Field(default=None, pattern=INSTANCE_KEY_PATTERN)
    """Entry event property that tells instances apart, such as `properties.cart_id`, so one
    customer can be in the journey once per key; default once per customer."""
    re_entry: ReEntry = ReEntry()
    goal: Goal | None = None
    exit_when: list[ExitCriterion] = []
    """Leave the journey at once when any of these happens."""
    send_window: SendWindow | None = None
    frequency_caps: list[FrequencyCap] = []
    steps: list[Step] = Field(min_length=1)
    """Run in order from the first; `next` and branch targets jump by step id."""

    @model_validator(mode="after")
    def _valid_graph(self, info: ValidationInfo) -> Journey:
        problems = self._structure_problems()
        # The loader passes a list to collect problems with their field paths, so it can report
        # each at its line; anyone else gets them all in one error.
        collected = info.context.get("problems") if isinstance(info.context, dict) else None
        if isinstance(collected, list):
            collected.extend(problems)
        elif problems:
            raise ValueError("; ".join(f"{display_path(p.loc)}: {p.message}" for p in problems))
        return self

    def _structure_problems(self) -> list[Problem]:
        problems = step_problems(self.steps)
        if self.instance_key and not isinstance(self.entry, EventEntry):
            message = "needs an event entry: it names a property of the entry event"
            problems.append(Problem(("instance_key",), message))
        seen: set[tuple[str, str]] = set()
        for index, cap in enumerate(self.frequency_caps):
            if (cap.channel, cap.scope) in seen:
                message = f"a second {cap.scope} cap for {cap.channel}; keep one per channel"
                problems.append(Problem(("frequency_caps", index), message))
            seen.add((cap.channel, cap.scope))
        return problems

    @property
    def version(self) -> str:
        """A digest of the journey as validated: an edit that changes what the journey does
        gives a new version; comments, layout and key order do not."""
        # Python mode: the JSON mode of the duration and time-of-day validators warns. Values
        # that are not JSON (durations, times) are written by `str`, which is stable.
        text = json.dumps(self.model_dump(), sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @property
    def split_salt(self) -> str:
        return self.salt or self.name

    @property
    def instance_property(self) -> str | None:
        """The entry event property named by `instance_key`, such as `cart_id`."""
        return self.instance_key.removeprefix("properties.") if self.instance_key else None

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def following(self, step_id: str) -> str | None:
        """The step after `step_id` in file order; None after the last step (exit)."""
        ids = [step.id for step in self.steps]
        index = ids.index(step_id) + 1
        return ids[index] if index < len(ids) else None

    def successors(self, step_id: str) -> list[tuple[str, str | None]]:
        """Each way out of a step as (label, step id), None meaning the instance exits."""
        found: list[tuple[str, str | None]] = []
        for transition in self.step(step_id).transitions():
            target = transition.target
            if target is None and transition.when_omitted == "following":
                target = self.following(step_id)
            found.append((transition.label, target))
        return found
