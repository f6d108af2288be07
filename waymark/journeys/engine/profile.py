"""Profile values written from templates (`update_profile` with `{{ ... }}`), per instance."""

from __future__ import annotations

import json

from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.plan import JourneyPlan
from waymark.journeys.engine.render import Renderer, context_rows, error_text
from waymark.journeys.engine.sql import Binder
from waymark.journeys.steps import UpdateProfileStep


def profile_update_rows(
    ctx: TickContext, plan: JourneyPlan, step: UpdateProfileStep, batch: int
) -> None:
    """Render the value for every ready instance at `step` into `_profile_new`; an instance
    whose value fails to render gets no row and is listed in `_render_failures`."""
    b = Binder()
    relation = (
        f"select instance_id, {b.bind(step.id)} as step_id from _work "
        f"where journey = {b.bind(plan.name)} and current_step = {b.bind(step.id)} "
        "and ready and status = 'active'"
    )
    renderer = Renderer(ctx)
    template = str(step.update_profile.value)
    done: dict[str, list] = {name: [] for name in ("customer_id", "value", "instance_id")}
    failed: dict[str, list] = {"instance_id": [], "error": []}
    for row in context_rows(ctx, relation, b):
        try:
            value = renderer.text(row, template)
        except Exception as error:  # a template error must not stop the tick for everyone
            failed["instance_id"].append(row.instance_id)
            failed["error"].append(error_text(error))
            continue
        done["customer_id"].append(row.customer_id)
        done["value"].append(json.dumps(value))
        done["instance_id"].append(row.instance_id)
    count = len(done["instance_id"])
    ctx.insert_columns(
        "_profile_new",
        {
            "batch": ("integer", [batch] * count),
            "customer_id": ("varchar", done["customer_id"]),
            "attribute": ("varchar", [step.update_profile.attribute] * count),
            "value": ("json", done["value"]),
            "journey": ("varchar", [plan.name] * count),
            "instance_id": ("varchar", done["instance_id"]),
            "step_id": ("varchar", [step.id] * count),
        },
    )
    ctx.insert_columns(
        "_render_failures",
        {"instance_id": ("varchar", failed["instance_id"]), "error": ("varchar", failed["error"])},
    )
