"""Journey steps: each step has an `id` and exactly one kind key (`wait`, `send`, ...).

A step moves on along its `transitions()`. An omitted target means "the following step in the
list", and after the last step the instance exits; a holdout's omitted control target means exit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, ClassVar, Literal

from pydantic import Field

from waymark.core.channels import Channel, Purpose
from waymark.core.errors import Loc
from waymark.core.types import (
    Duration,
    Model,
    Name,
    Scalar,
    SignedDuration,
    TimeOfDay,
    kind,
    one_key_of,
)
from waymark.journeys.conditions import Condition, PropertyFilter


@dataclass(frozen=True)
class Transition:
    """One way out of a step. `target` None means `when_omitted`: the following step or exit."""

    label: str
    target: str | None
    loc: Loc
    when_omitted: Literal["following", "exit"] = "following"


class _Step(Model):
    kind: ClassVar[str]

    id: Name
    """Unique within the journey; other steps point here by this id."""

    def transitions(self) -> list[Transition]:
        return []

    @property
    def pauses(self) -> bool:
        """Whether the step always holds the instance until a later tick."""
        return False


class _ContinuingStep(_Step):
    next: Name | None = None
    """The step to go to next; default the following step (after the last step: exit)."""

    def transitions(self) -> list[Transition]:
        return [Transition("next", self.next, ("next",))]


class WaitDuration(Model):
    """Wait a fixed time."""

    duration: Duration


class WaitUntilTimeOfDay(Model):
    """Wait until the next time the customer's clock shows this time (always later than now)."""

    until_time_of_day: TimeOfDay


class WaitUntilProfileTimestamp(Model):
    """Wait until a timestamp trait plus an offset; continue at once if that time has passed.

    A customer whose trait is null exits with reason `missing_profile_timestamp`.
    """

    until_profile_timestamp: Name
    """A timestamp column of `marts.customers`, such as `last_order_at`."""
    offset: SignedDuration = timedelta(0)
    """Added to the timestamp; negative means before it."""


Wait = Annotated[
    Annotated[WaitDuration, kind("duration")]
    | Annotated[WaitUntilTimeOfDay, kind("until_time_of_day")]
    | Annotated[WaitUntilProfileTimestamp, kind("until_profile_timestamp")],
    *one_key_of("a wait", ("duration", "until_time_of_day", "until_profile_timestamp")),
]


class WaitStep(_ContinuingStep):
    """Hold the instance, then continue."""

    kind: ClassVar[str] = "wait"
    wait: Wait

    @property
    def pauses(self) -> bool:
        return not isinstance(self.wait, WaitUntilProfileTimestamp)


class WaitUntilEvent(Model):
    """Wait for an event or a timeout, whichever comes first, and branch on which it was."""

    event: Name
    """An event name from the event catalogue (`journeys/_events.yml`)."""
    where: PropertyFilter | None = None
    """Only events whose properties pass this filter count."""
    timeout: Duration
    """How long to wait for the event."""
    on_event: Name | None = None
    """Where to go when the event happens; default the following step."""
    on_timeout: Name | None = None
    """Where to go when the timeout passes first; default the following step."""


class WaitUntilEventStep(_Step):
    """Wait for an event or a timeout and branch on which came first."""

    kind: ClassVar[str] = "wait_until_event"
    wait_until_event: WaitUntilEvent

    def transitions(self) -> list[Transition]:
        wait = self.wait_until_event
        return [
            Transition("on_event", wait.on_event, ("wait_until_event", "on_event")),
            Transition("on_timeout", wait.on_timeout, ("wait_until_event", "on_timeout")),
        ]

    @property
    def pauses(self) -> bool:
        return True


class BranchPath(Model):
    """One branch: the first path whose condition holds is taken."""

    when: Condition
    next: Name


class Branch(Model):
    """Send the customer down the first path whose condition holds, else to `else`."""

    conditions: list[BranchPath] = Field(min_length=1)
    else_: Name | None = Field(default=None, alias="else")
    """Where to go when no condition holds; default the following step."""


class BranchStep(_Step):
    """Branch on profile traits and audience membership."""

    kind: ClassVar[str] = "branch"
    branch: Branch

    def transitions(self) -> list[Transition]:
        paths = [
            Transition(f"when[{i}]", path.next, ("branch", "conditions", i, "next"))
            for i, path in enumerate(self.branch.conditions)
        ]
        return [*paths, Transition("else", self.branch.else_, ("branch", "else"))]


class Variant(Model):
    name: Name
    """Recorded on the instance and available to templates as `journey.variant`."""
    weight: int = Field(gt=0)
    """Relative share; weights 50 and 50 (or 1 and 1) split evenly."""
    next: Name


class Split(Model):
    """Sticky A/B/n: the variant is a pure function of the journey salt, step id and customer."""

    variants: list[Variant] = Field(min_length=2)


class SplitStep(_Step):
    """Split customers into sticky A/B/n variants."""

    kind: ClassVar[str] = "split"
    split: Split

    def transitions(self) -> list[Transition]:
        return [
            Transition(f"variant {v.name}", v.next, ("split", "variants", i, "next"))
            for i, v in enumerate(self.split.variants)
        ]


class Holdout(Model):
    """A control group: recorded, sent nothing, compared with the rest to measure uplift."""

    percent: float = Field(gt=0, lt=100)
    """Share of customers held out, sticky per customer like a split."""
    next_control: Name | None = None
    """Where the control group goes; default it exits (reason `holdout`)."""


class HoldoutStep(_ContinuingStep):
    """Hold a share of customers out as a control group; the rest continue to `next`."""

    kind: ClassVar[str] = "holdout"
    holdout: Holdout

    def transitions(self) -> list[Transition]:
        control = Transition(
            "control", self.holdout.next_control, ("holdout", "next_control"), "exit"
        )
        return [*super().transitions(), control]


class Send(Model):
    """Queue one message for a destination; consent and suppression are enforced at delivery."""

    channel: Channel
    destination: Name
    """A destination in `destinations.yml` on the same channel."""
    template: Name
    """A template in `templates/` for the same channel."""
    purpose: Purpose
    """The consent purpose the message needs; `transactional` needs none."""
    params: dict[Name, Scalar] = {}
    """Values for the template as `params.<name>`; text values are Jinja templates themselves."""


class SendStep(_ContinuingStep):
    """Send a message rendered from a template to a destination."""

    kind: ClassVar[str] = "send"
    send: Send


class ProfileUpdate(Model):
    """Set a journey-owned profile attribute (kept apart from the derived `marts.customers`)."""

    attribute: Name
    value: Scalar
    """A literal; text is rendered as a Jinja template with the send context."""


class UpdateProfileStep(_ContinuingStep):
    """Set a profile attribute owned by journeys."""

    kind: ClassVar[str] = "update_profile"
    update_profile: ProfileUpdate


class TagStep(_ContinuingStep):
    """Add a tag to the customer's profile (a journey-owned attribute set)."""

    kind: ClassVar[str] = "tag"
    tag: Name


class Exit(Model):
    reason: Name
    """Recorded on the instance, such as `purchased` or `not_eligible`."""


class ExitStep(_Step):
    """Leave the journey with a reason."""

    kind: ClassVar[str] = "exit"
    exit: Exit


STEP_KINDS = (
    "wait",
    "wait_until_event",
    "branch",
    "split",
    "holdout",
    "send",
    "update_profile",
    "tag",
    "exit",
)

Step = Annotated[
    Annotated[WaitStep, kind("wait")]
    | Annotated[WaitUntilEventStep, kind("wait_until_event")]
    | Annotated[BranchStep, kind("branch")]
    | Annotated[SplitStep, kind("split")]
    | Annotated[HoldoutStep, kind("holdout")]
    | Annotated[SendStep, kind("send")]
    | Annotated[UpdateProfileStep, kind("update_profile")]
    | Annotated[TagStep, kind("tag")]
    | Annotated[ExitStep, kind("exit")],
    *one_key_of("a step", STEP_KINDS),
]
"""One journey step: an `id` and exactly one of the kinds in `STEP_KINDS`."""
