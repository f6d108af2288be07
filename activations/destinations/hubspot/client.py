"""Contacts by batch upsert/update/archive, tasks by batch create after an op-id search.

Per-row outcomes: a 207 Multi-Status names the refused inputs in `errors[].context.ids`; a
batch refused whole with 400 (HubSpot validates a batch as one) is redone input by input, so
only the bad rows are rejected, with HubSpot's category and message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from activations.destination import (
    DeliveryError,
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.hubspot.capabilities import CAPABILITIES
from activations.destinations.hubspot.config import HubSpotConfig
from activations.destinations.hubspot.mapping import contact_change, task_input, task_problem
from activations.http import retry_after_seconds
from activations.http_client import Answer, HttpSession
from activations.secrets import Secrets
from waymark.core import crash

OBJECTS = "/crm/v3/objects"
DAILY_WAIT = 3600.0
"""A daily limit lifts at midnight in the account's time zone: wait for the next run."""

Results = dict[str, OperationResult]
_ok = OperationResult("", True)


class HubSpotClient:
    capabilities = CAPABILITIES

    def __init__(self, config: HubSpotConfig, secrets: Secrets, context: SyncContext | None):
        self.config, self.context = config, context
        self.token = secrets.require(config.access_token_env)
        self.session = HttpSession(config.base_url, config.timeout_seconds, "hubspot")

    def _post(self, path: str, document: Any) -> Answer:
        headers = {"Authorization": f"Bearer {self.token}"}
        response = self.session.json("POST", f"{OBJECTS}/{path}", document, headers)
        crash.point("hubspot.after_request")
        if response.status in (401, 403):
            error = response.json() or {}
            raise DestinationUnavailable(
                f"HubSpot refused the access token (HTTP {response.status} "
                f"{error.get('category', '')}): {error.get('message', '')}"
            )
        return response

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        results: Results = {}
        try:
            if self.context is None:
                self._tasks(list(batch), results)
            else:
                self._contacts(list(batch), results)
        except DeliveryError as error:
            for op in batch:
                results.setdefault(op.op_id, OperationResult.failed(op.op_id, error))
        return [results.get(op.op_id) or OperationResult.success(op.op_id) for op in batch]

    # Contacts ---------------------------------------------------------------------------

    def _contacts(self, batch: list[Operation], results: Results) -> None:
        assert self.context is not None
        groups: dict[str, list[tuple[Operation, dict]]] = {}
        for op in batch:
            change = contact_change(op, self.context)
            if isinstance(change, str):
                results[op.op_id] = _rejected(op, "invalid_record", change)
            else:
                groups.setdefault(change[0], []).append((op, change[1]))
        self._archive(groups.get("archive", []), results)
        self._write("contacts/batch/update", groups.get("update", []), results)
        # A contact moved to a new email and then replayed (or one that a person deleted in
        # HubSpot) is no longer under the old email: upsert it under the new one.
        moved = [
            (op, {**item, "id": item["properties"][item["idProperty"]]})
            for op, item in groups.get("update", [])
            if op.kind != "update" and results.get(op.op_id, _ok).error_code == "OBJECT_NOT_FOUND"
        ]
        for op, _ in moved:
            del results[op.op_id]
        self._write("contacts/batch/upsert", groups.get("upsert", []) + moved, results)

    def _write(self, path: str, items: list[tuple[Operation, dict]], results: Results) -> None:
        if not items:
            return
        response = self._post(path, {"inputs": [item for _, item in items]})
        if response.status == 400 and len(items) > 1:
            for item in items:  # one bad input refuses the batch: find it
                self._write(path, [item], results)
            return
        document = response.json() or {}
        if response.status >= 300:
            for op, _ in items:
                results[op.op_id] = _from_response(op, response)
            return
        for error in document.get("errors") or []:
            ids = {str(i) for i in (error.get("context") or {}).get("ids") or []}
            for op, item in items:
                if str(item["id"]) in ids:
                    results[op.op_id] = _rejected(
                        op, str(error.get("category") or "error"), str(error.get("message", ""))
                    )

    def _archive(self, items: list[tuple[Operation, dict]], results: Results) -> None:
        """Archive takes object ids: read the contacts by id property first. A contact that is
        gone already needs nothing."""
        if not items:
            return
        prop = items[0][1]["idProperty"]
        read = self._post(
            "contacts/batch/read",
            {
                "idProperty": prop,
                "properties": [prop],
                "inputs": [{"id": item["id"]} for _, item in items],
            },
        )
        if read.status >= 300 and read.status != 207:
            for op, _ in items:
                results[op.op_id] = _from_response(op, read)
            return
        found = {
            str((row.get("properties") or {}).get(prop, "")).lower(): str(row["id"])
            for row in (read.json() or {}).get("results") or []
        }
        ids = sorted({found[key] for _, item in items if (key := str(item["id"]).lower()) in found})
        if not ids:
            return
        archived = self._post("contacts/batch/archive", {"inputs": [{"id": i} for i in ids]})
        if archived.status >= 300:
            for op, _ in items:
                results[op.op_id] = _from_response(op, archived)

    # Tasks ------------------------------------------------------------------------------

    def _tasks(self, batch: list[Operation], results: Results) -> None:
        for op in batch:
            problem = task_problem(op)
            if problem:
                results[op.op_id] = _rejected(op, "invalid_task", problem)
        pending = [op for op in batch if op.op_id not in results]
        created = self._created_already([op.op_id for op in pending]) if pending else set()
        pending = [op for op in pending if op.op_id not in created]
        if not pending:
            return
        emails = sorted({str(op.payload["associated_contact_email"]).lower() for op in pending})
        read = self._post(
            "contacts/batch/read",
            {
                "idProperty": "email",
                "properties": ["email"],
                "inputs": [{"id": email} for email in emails],
            },
        )
        if read.status >= 300 and read.status != 207:
            for op in pending:
                results[op.op_id] = _from_response(op, read)
            return
        contacts = {
            str((row.get("properties") or {}).get("email", "")).lower(): str(row["id"])
            for row in (read.json() or {}).get("results") or []
        }
        now = datetime.now(UTC)
        ready = []
        for op in pending:
            contact = contacts.get(str(op.payload["associated_contact_email"]).lower())
            if contact is None:
                message = "no HubSpot contact has the customer's email; sync contacts first"
                results[op.op_id] = _rejected(op, "contact_not_found", message)
            else:
                ready.append((op, task_input(op, self.config, contact, now)))
        if ready:
            self._write_tasks(ready, results)

    def _created_already(self, op_ids: list[str]) -> set[str]:
        prop = self.config.op_id_property
        search = {
            "filterGroups": [
                {"filters": [{"propertyName": prop, "operator": "IN", "values": op_ids}]}
            ],
            "properties": [prop],
            "limit": 100,
        }
        response = self._post("tasks/search", search)
        if response.status != 200:
            raise DeliveryError(
                *_code_message(response),
                transient=_transient(response),
                retry_after=_retry_after(response),
            )
        rows = (response.json() or {}).get("results") or []
        return {str((row.get("properties") or {}).get(prop)) for row in rows}

    def _write_tasks(self, ready: list[tuple[Operation, dict]], results: Results) -> None:
        response = self._post("tasks/batch/create", {"inputs": [task for _, task in ready]})
        if response.status == 400 and len(ready) > 1:
            for item in ready:
                self._write_tasks([item], results)
            return
        if response.status >= 300 and response.status != 207:
            for op, _ in ready:
                results[op.op_id] = _from_response(op, response)
            return
        prop = self.config.op_id_property
        made = {
            str((row.get("properties") or {}).get(prop))
            for row in (response.json() or {}).get("results") or []
        }
        for op, _ in ready:
            if op.op_id not in made:
                results[op.op_id] = _from_response(op, response)

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        self.session.drop()


def _code_message(response: Answer) -> tuple[str, str]:
    document = response.json()
    if not isinstance(document, dict):
        return f"http_{response.status}", f"HTTP {response.status}: {response.text()}".strip()
    errors = document.get("errors") or []
    first = errors[0] if errors and isinstance(errors[0], dict) else document
    code = first.get("category") or document.get("errorType") or f"http_{response.status}"
    return str(code), str(first.get("message") or document.get("message") or "")


def _transient(response: Answer) -> bool:
    return response.status in (408, 409, 425, 429) or response.status >= 500


def _retry_after(response: Answer) -> float | None:
    if response.status != 429:
        return None
    if ((response.json() or {}).get("policyName") or "").upper() == "DAILY":
        return DAILY_WAIT
    header = retry_after_seconds(response.headers.get("retry-after"))
    interval = response.headers.get("x-hubspot-ratelimit-interval-milliseconds", "")
    return header or (int(interval) / 1000 if interval.isdigit() else None)


def _from_response(op: Operation, response: Answer) -> OperationResult:
    code, message = _code_message(response)
    return OperationResult(
        op.op_id,
        False,
        transient=_transient(response),
        error_code=code,
        error_message=message,
        retry_after=_retry_after(response),
    )


def _rejected(op: Operation, code: str, message: str) -> OperationResult:
    return OperationResult(op.op_id, False, error_code=code, error_message=message)


def open_hubspot(
    config: HubSpotConfig, secrets: Secrets, context: SyncContext | None
) -> HubSpotClient:
    return HubSpotClient(config, secrets, context)
