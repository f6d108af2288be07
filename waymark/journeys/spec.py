"""The journey specification: typed models of `journeys/*.yml` and the functions that load them.

This module is the stable API other components (the journey engine, activations) build on:

- `load_journey(path)` / `load_journeys(folder)` parse and validate files into `Journey`
  objects, raising `ConfigError` with every problem as `file:line:column: field`.
- `Journey.steps` is an ordered list of step objects, one class per kind (`WaitStep`,
  `SendStep`, ...); `Journey.successors(step_id)` resolves implicit "following step" targets.
- `journey_json_schema()` is the JSON Schema editors use, committed as
  `journeys/journey.schema.json`.
"""

from __future__ import annotations

import json
from typing import Any

from waymark.core.channels import Channel, Purpose
from waymark.core.errors import ConfigError, Issue
from waymark.journeys.conditions import (
    AllCondition,
    AnyCondition,
    AudienceCondition,
    Condition,
    NotCondition,
    PropertyComparison,
    PropertyFilter,
    PropertyPredicate,
    TraitCondition,
)
from waymark.journeys.journey import (
    AudienceEntry,
    AudienceExit,
    Entry,
    EventEntry,
    EventExit,
    ExitCriterion,
    FrequencyCap,
    Goal,
    Journey,
    ReEntry,
    Schedule,
    ScheduleEntry,
    SendWindow,
)
from waymark.journeys.loading import load_journey, load_journeys
from waymark.journeys.steps import (
    Branch,
    BranchPath,
    BranchStep,
    Exit,
    ExitStep,
    Holdout,
    HoldoutStep,
    ProfileUpdate,
    Send,
    SendStep,
    Split,
    SplitStep,
    Step,
    TagStep,
    Transition,
    UpdateProfileStep,
    Variant,
    WaitDuration,
    WaitStep,
    WaitUntilEvent,
    WaitUntilEventStep,
    WaitUntilProfileTimestamp,
    WaitUntilTimeOfDay,
)

SCHEMA_ID = "https://waymark.dev/schemas/journey.schema.json"


def journey_json_schema() -> dict[str, Any]:
    """The JSON Schema of a journey file, as editors read it."""
    schema = Journey.model_json_schema(mode="validation")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def journey_json_schema_text() -> str:
    """The schema as committed: sorted keys would scramble field order, so keep pydantic's."""
    return json.dumps(journey_json_schema(), indent=2, ensure_ascii=False) + "\n"


__all__ = [
    "AllCondition",
    "AnyCondition",
    "AudienceCondition",
    "AudienceEntry",
    "AudienceExit",
    "Branch",
    "BranchPath",
    "BranchStep",
    "Channel",
    "Condition",
    "Entry",
    "EventEntry",
    "EventExit",
    "Exit",
    "ExitCriterion",
    "ExitStep",
    "FrequencyCap",
    "Goal",
    "Holdout",
    "HoldoutStep",
    "Journey",
    "Issue",
    "ConfigError",
    "NotCondition",
    "ProfileUpdate",
    "PropertyComparison",
    "PropertyFilter",
    "PropertyPredicate",
    "Purpose",
    "ReEntry",
    "Schedule",
    "ScheduleEntry",
    "Send",
    "SendStep",
    "SendWindow",
    "Split",
    "SplitStep",
    "Step",
    "TagStep",
    "TraitCondition",
    "Transition",
    "UpdateProfileStep",
    "Variant",
    "WaitDuration",
    "WaitStep",
    "WaitUntilEvent",
    "WaitUntilEventStep",
    "WaitUntilProfileTimestamp",
    "WaitUntilTimeOfDay",
    "journey_json_schema",
    "journey_json_schema_text",
    "load_journey",
    "load_journeys",
]
