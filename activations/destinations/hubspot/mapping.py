"""Operations as HubSpot batch inputs: contacts by their unique id property, journey tasks.

Every property value is sent as text (HubSpot's property values are strings). A null value is
not in the payload at all unless the sync declares `on_null: clear` for its field; then it is
sent as `""`, which clears the property. A contact is addressed by the sync's `id_property`:
the mapped field of that name, or the record key when the sync does not map it. When that value
changed since the last delivery (a new email), the contact is updated under the old value,
which moves it to the new one instead of creating a second contact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from activations.destination import Operation, SyncContext

TASK_TO_CONTACT = 204
"""HUBSPOT_DEFINED association type id, task to contact."""
PRIORITIES = frozenset({"LOW", "MEDIUM", "HIGH"})


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def contact_key(fields: Mapping[str, Any] | None, op: Operation, context: SyncContext) -> str:
    prop = context.settings.id_property
    if prop in context.field_types or (fields is not None and prop in fields):
        return text((fields or {}).get(prop))
    return op.record_key


def contact_change(op: Operation, context: SyncContext) -> tuple[str, dict[str, Any]] | str:
    """(endpoint, batch input) for a sync operation, or the problem that refuses it."""
    prop = context.settings.id_property
    old = contact_key(op.previous, op, context) if op.previous is not None else None
    if op.kind == "remove":
        key = old if old is not None else contact_key(None, op, context)
        return ("archive", {"idProperty": prop, "id": key}) if key else "no id to archive by"
    key = contact_key(op.payload, op, context)
    if not key:
        return f"no value for the id property '{prop}'"
    properties = {name: text(value) for name, value in op.payload.items()}
    properties[prop] = key
    if op.kind == "update" or (old and old != key):
        return "update", {"idProperty": prop, "id": old or key, "properties": properties}
    return "upsert", {"idProperty": prop, "id": key, "properties": properties}


def task_problem(op: Operation) -> str | None:
    payload = op.payload
    if payload.get("object", "task") != "task":
        return f"HubSpot sends create tasks, not '{payload.get('object')}'"
    if not payload.get("associated_contact_email"):
        return "the task names no contact (associated_contact_email is empty)"
    if not payload.get("subject"):
        return "the task has no subject"
    if str(payload.get("priority", "MEDIUM")).upper() not in PRIORITIES:
        return f"priority must be one of {', '.join(sorted(PRIORITIES))}"
    return None


def task_input(op: Operation, config: Any, contact_id: str | None, now: datetime) -> dict[str, Any]:
    payload = op.payload
    properties = {
        "hs_timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "hs_task_subject": text(payload.get("subject")),
        "hs_task_body": text(payload.get("body")),
        "hs_task_priority": text(payload.get("priority", "MEDIUM")).upper(),
        "hs_task_status": "NOT_STARTED",
        "hs_task_type": "TODO",
        config.op_id_property: op.op_id,
    }
    if payload.get("waymark_journey"):
        properties["waymark_journey"] = text(payload["waymark_journey"])
    if config.task_owner_id:
        properties["hubspot_owner_id"] = config.task_owner_id
    task: dict[str, Any] = {"properties": properties}
    if contact_id is not None:
        task["associations"] = [
            {
                "to": {"id": contact_id},
                "types": [
                    {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": TASK_TO_CONTACT}
                ],
            }
        ]
    return task


def preview(op: Operation, config: Any, context: SyncContext | None) -> dict[str, Any]:
    if context is None:
        problem = task_problem(op)
        if problem:
            raise ValueError(problem)
        task = task_input(op, config, "(the contact's id)", datetime(2000, 1, 1))
        task["properties"]["hs_timestamp"] = "(time of sending)"
        return {"endpoint": "/crm/v3/objects/tasks/batch/create", "input": task}
    change = contact_change(op, context)
    if isinstance(change, str):
        return {"refused": change}
    endpoint, body = change
    return {"endpoint": f"/crm/v3/objects/contacts/batch/{endpoint}", "input": body}
