"""Operations as Salesforce sObject records, SOQL lookups and journey Tasks.

- A synced record is `{"attributes": {"type": <sobject>}, <external id field>: <key>, ...}`
  with each mapped field under its Salesforce name (`settings.fields`, else the sync's name:
  Salesforce field names are case-insensitive). Timestamps become ISO 8601 UTC, as the REST
  API reads dateTime fields. A field whose sync declares `on_null: clear` is sent as null,
  which empties it; any other null value is left out, so Salesforce keeps the field's value.
- Answers: per-record `{"id", "success", "errors": [{"statusCode", "message", "fields"}]}`
  become one result per operation, in request order.
- A journey send on the crm channel is a Task: the template payload's `subject`, `body`
  (Description) and `priority` (HIGH/MEDIUM/LOW as High/Normal/Low), keyed by the send's
  idempotency key in `task_external_id_field` and linked to the customer's Contact through its
  external id (`task_contact_field`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from activations.destination import DeliveryError, Operation, OperationResult, SyncContext
from activations.destinations.salesforce.config import SalesforceConfig, SalesforceSyncSettings

TRANSIENT_RECORD_CODES = frozenset({"UNABLE_TO_LOCK_ROW"})
"""Per-record failures worth retrying: another transaction held the record's lock."""
MAX_QUERY_URI = 12_000
"""Bytes of the encoded SOQL in one lookup: room under the 16,384-byte URI limit."""
TASK_PRIORITIES = {"HIGH": "High", "MEDIUM": "Normal", "NORMAL": "Normal", "LOW": "Low"}


class InvalidTask(ValueError):
    """The outbox payload cannot make a Task."""


def api_path(config: SalesforceConfig, rest: str) -> str:
    return f"/services/data/v{config.api_version}{rest}"


def wire_value(value: Any, warehouse_type: str | None) -> Any:
    """dateTime fields take ISO 8601; DuckDB's JSON writes `2026-06-01 10:00:00`."""
    if isinstance(value, str) and warehouse_type and warehouse_type.startswith("TIMESTAMP"):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment.isoformat(timespec="milliseconds") + "Z"
    return value


def record_fields(
    op: Operation, settings: SalesforceSyncSettings, field_types: Mapping[str, str]
) -> dict[str, Any]:
    fields = {
        settings.fields.get(name, name): wire_value(value, field_types.get(name))
        for name, value in op.payload.items()
    }
    if settings.op_id_field:
        fields[settings.op_id_field] = op.op_id
    return fields


def keyed_record(
    op: Operation, settings: SalesforceSyncSettings, field_types: Mapping[str, str]
) -> dict[str, Any]:
    """For upserts and creates: matched (or created) by the external id."""
    return {
        "attributes": {"type": settings.sobject},
        settings.external_id_field: op.record_key,
        **record_fields(op, settings, field_types),
    }


def update_record(
    op: Operation,
    settings: SalesforceSyncSettings,
    field_types: Mapping[str, str],
    record_id: str,
) -> dict[str, Any]:
    return {
        "attributes": {"type": settings.sobject},
        "Id": record_id,
        **record_fields(op, settings, field_types),
    }


def soql_literal(value: str) -> str:
    """A SOQL string literal: backslash and quote escaped (SOQL and SOSL Reference, Quoted
    String Escape Sequences)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def lookup_query(settings: SalesforceSyncSettings, keys: Iterable[str]) -> str:
    listed = ", ".join(soql_literal(key) for key in keys)
    field = settings.external_id_field
    return f"SELECT Id, {field} FROM {settings.sobject} WHERE {field} IN ({listed})"


def task_record(op: Operation, config: SalesforceConfig) -> dict[str, Any]:
    payload = op.payload
    if str(payload.get("object", "task")).lower() != "task":
        raise InvalidTask(f"Salesforce takes Task payloads, not '{payload.get('object')}'")
    subject = str(payload.get("subject") or "").strip()
    if not subject:
        raise InvalidTask("the outbox payload needs a `subject`")
    priority = str(payload.get("priority") or "MEDIUM").upper()
    if priority not in TASK_PRIORITIES:
        raise InvalidTask(f"priority '{payload.get('priority')}' is not HIGH, MEDIUM or LOW")
    task: dict[str, Any] = {
        "attributes": {"type": "Task"},
        config.task_external_id_field: op.op_id,
        "Subject": subject[:255],
        "Description": str(payload.get("body") or ""),
        "Priority": TASK_PRIORITIES[priority],
        "Status": config.task_status,
    }
    if config.task_contact_field and op.customer_id:
        task["Who"] = {
            "attributes": {"type": "Contact"},
            config.task_contact_field: op.customer_id,
        }
    return task


def record_results(
    ops: list[Operation],
    answers: list[Any],
    counts_as_done: Callable[[dict], bool] = lambda error: False,
) -> dict[str, OperationResult]:
    """SaveResult/UpsertResult items, in request order: `{"id", "success", "errors"}`."""
    if len(answers) != len(ops):
        message = f"{len(answers)} results for {len(ops)} records"
        raise DeliveryError("unexpected_answer", message, transient=True)
    results = {}
    for op, item in zip(ops, answers, strict=True):
        errors = [e for e in (item.get("errors") or []) if isinstance(e, dict)]
        if item.get("success") or (errors and counts_as_done(errors[0])):
            results[op.op_id] = OperationResult.success(op.op_id)
            continue
        code = str(errors[0].get("statusCode")) if errors else "unknown_error"
        message = "; ".join(described(error) for error in errors) or "no error given"
        results[op.op_id] = OperationResult(
            op.op_id,
            False,
            transient=code in TRANSIENT_RECORD_CODES,
            error_code=code,
            error_message=message,
        )
    return results


def query_chunks(settings: SalesforceSyncSettings, keys: list[str]) -> list[list[str]]:
    """Keys split so that each lookup URI stays under Salesforce's 16,384-byte limit."""
    chunks: list[list[str]] = [[]]
    for key in keys:
        candidate = [*chunks[-1], key]
        size = len(urlencode({"q": lookup_query(settings, candidate)}))
        if chunks[-1] and size > MAX_QUERY_URI:
            chunks.append([key])
        else:
            chunks[-1] = candidate
    return [chunk for chunk in chunks if chunk]


def already_deleted(error: dict) -> bool:
    return error.get("statusCode") == "ENTITY_IS_DELETED"


def described(error: dict) -> str:
    fields = error.get("fields") or []
    return str(error.get("message")) + (
        f" (fields: {', '.join(map(str, fields))})" if fields else ""
    )


def preview(op: Operation, config: SalesforceConfig, context: SyncContext | None) -> dict:
    """The request the operation becomes; lookups by external id are shown as their query."""
    if op.kind == "send":
        return {
            "method": "PATCH",
            "path": api_path(config, f"/composite/sobjects/Task/{config.task_external_id_field}"),
            "record": task_record(op, config),
        }
    assert context is not None
    settings: SalesforceSyncSettings = context.settings
    types = context.field_types
    collection = api_path(config, "/composite/sobjects")
    if op.kind == "upsert":
        return {
            "method": "PATCH",
            "path": f"{collection}/{settings.sobject}/{settings.external_id_field}",
            "record": keyed_record(op, settings, types),
        }
    if op.kind == "insert":
        return {"method": "POST", "path": collection, "record": keyed_record(op, settings, types)}
    lookup = {
        "method": "GET",
        "path": api_path(config, "/query"),
        "q": lookup_query(settings, [op.record_key]),
    }
    if op.kind == "update":
        record = update_record(op, settings, types, "<Id found by the lookup>")
        return {"lookup": lookup, "method": "PATCH", "path": collection, "record": record}
    return {
        "lookup": lookup,
        "method": "DELETE",
        "path": f"{collection}?ids=<Id found by the lookup>",
    }
