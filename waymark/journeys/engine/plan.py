"""What the engine needs to know about each journey, worked out once per tick.

A `JourneyPlan` resolves every step's targets (an omitted target is the following step; none
after the last step means the instance completes) and lists the events and audiences the
journey reads, so a tick loads only what some journey looks at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from waymark.journeys.conditions import (
    AllCondition,
    AnyCondition,
    AudienceCondition,
    Condition,
    NotCondition,
)
from waymark.journeys.journey import (
    AudienceEntry,
    AudienceExit,
    EventEntry,
    EventExit,
    Journey,
    ScheduleEntry,
)
from waymark.journeys.project import EventDefinition
from waymark.journeys.steps import BranchStep, HoldoutStep, Step, WaitUntilEventStep
from waymark.journeys.templates import LoadedTemplate

COMPLETED = "completed"
"""Exit reason after the last step."""
HOLDOUT = "holdout"
"""Exit reason of a holdout's control group without `next_control`."""


@dataclass
class JourneyPlan:
    journey: Journey
    events: dict[str, EventDefinition]
    """Catalogue entries of every event the journey names."""
    templates: dict[str, LoadedTemplate]
    targets: dict[str, dict[str, str | None]] = field(default_factory=dict)
    """step id -> transition label -> target step id (None: the instance exits)."""

    def __post_init__(self) -> None:
        for step in self.journey.steps:
            self.targets[step.id] = dict(self.journey.successors(step.id))

    @property
    def name(self) -> str:
        return self.journey.name

    @property
    def first_step(self) -> str:
        return self.journey.steps[0].id

    def step(self, step_id: str) -> Step:
        return self.journey.step(step_id)

    def has_step(self, step_id: str) -> bool:
        return step_id in self.targets

    def target(self, step_id: str, label: str) -> str | None:
        return self.targets[step_id][label]

    def exit_reason_for(self, step_id: str, label: str) -> str:
        """Why an instance leaves when the transition has no target."""
        step = self.step(step_id)
        if isinstance(step, HoldoutStep) and label == "control":
            return HOLDOUT
        return COMPLETED

    def property_kinds(self, event: str) -> dict[str, str]:
        definition = self.events.get(event)
        return dict(definition.properties) if definition else {}

    @property
    def entry_events(self) -> tuple[str, ...]:
        entry = self.journey.entry
        return entry.event if isinstance(entry, EventEntry) else ()

    @property
    def wait_event_steps(self) -> list[WaitUntilEventStep]:
        return [s for s in self.journey.steps if isinstance(s, WaitUntilEventStep)]

    @property
    def exit_events(self) -> list[EventExit]:
        return [c for c in self.journey.exit_when if isinstance(c, EventExit)]

    @property
    def exit_audiences(self) -> list[str]:
        return [c.audience_exit for c in self.journey.exit_when if isinstance(c, AudienceExit)]

    def event_names(self) -> set[str]:
        """Every event the journey reads: entry, waits, exits and goal."""
        return set(self.entry_events) | self.trigger_events()

    def trigger_events(self) -> set[str]:
        """Events that can change an instance that is not due: waits, exits and the goal."""
        names = {s.wait_until_event.event for s in self.wait_event_steps}
        names |= {c.event for c in self.exit_events}
        if self.journey.goal:
            names.add(self.journey.goal.event)
        return names

    def condition_audiences(self) -> set[str]:
        found: set[str] = set()
        for step in self.journey.steps:
            if isinstance(step, BranchStep):
                for path in step.branch.conditions:
                    found |= _audiences(path.when)
        return found

    def keyed_property(self, event: str) -> str | None:
        """The instance key property, when `event` carries it: an awaited event of a keyed
        journey counts only for the instance with the same key (the same cart, ticket, order)."""
        key = self.journey.instance_property
        return key if key and key in self.property_kinds(event) else None

    @property
    def entry_audience(self) -> str | None:
        entry = self.journey.entry
        if isinstance(entry, AudienceEntry):
            return entry.audience
        if isinstance(entry, ScheduleEntry):
            return entry.schedule.audience
        return None


def _audiences(condition: Condition) -> set[str]:
    if isinstance(condition, AudienceCondition):
        return {condition.in_audience}
    if isinstance(condition, AllCondition):
        return set().union(*(_audiences(c) for c in condition.all))
    if isinstance(condition, AnyCondition):
        return set().union(*(_audiences(c) for c in condition.any))
    if isinstance(condition, NotCondition):
        return _audiences(condition.not_)
    return set()
