"""Instance keys in event matching: which events belong to which instance of a keyed journey."""

from __future__ import annotations

from waymark.journeys.engine.plan import JourneyPlan
from waymark.journeys.engine.sql import identifier


def keyed_sql(plan: JourneyPlan, event: str) -> str:
    """For a keyed journey, an event carrying the key property counts only for its instance:
    the same cart's order, the same ticket's solution."""
    key = plan.keyed_property(event)
    if key is None:
        return "true"
    return f"json_extract_string(e.properties, '$.{identifier(key)[1:-1]}') = w.instance_key"
