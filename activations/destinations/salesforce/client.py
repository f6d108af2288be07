"""Salesforce REST: sObject Collections writes under an OAuth token refreshed on demand.

One batch of up to 200 operations becomes at most one request per kind: upserts and creates
go straight to the collection resources; updates and removals first look their records' Ids
up by external id (SOQL), then update or delete those Ids. Per-record results come back in
request order and become per-operation results. A 401 (INVALID_SESSION_ID) refreshes the
access token once and repeats the request; a refused refresh makes the destination
unavailable, so the run fails without charging any record.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from activations.destination import (
    DeliveryError,
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.salesforce.capabilities import CAPABILITIES
from activations.destinations.salesforce.config import SalesforceConfig, SalesforceSyncSettings
from activations.destinations.salesforce.mapping import (
    InvalidTask,
    already_deleted,
    api_path,
    keyed_record,
    lookup_query,
    query_chunks,
    record_results,
    task_record,
    update_record,
)
from activations.http import TRANSIENT_STATUSES, retry_after_seconds
from activations.http_client import Answer, HttpSession
from activations.secrets import Secrets
from waymark.core import crash

TOKEN_PATH = "/services/oauth2/token"
DAILY_LIMIT_WAIT = 3600.0
"""REQUEST_LIMIT_EXCEEDED names no wait; this is long enough to leave the rows to a later run."""


class SalesforceClient:
    capabilities = CAPABILITIES

    def __init__(
        self, config: SalesforceConfig, secrets: Secrets, context: SyncContext | None
    ) -> None:
        self.config, self.secrets = config, secrets
        self.settings: SalesforceSyncSettings | None = context.settings if context else None
        self.field_types = dict(context.field_types) if context else {}
        self.credentials = {
            "client_id": secrets.require(config.client_id_env),
            "client_secret": secrets.require(config.client_secret_env),
            "refresh_token": secrets.require(config.refresh_token_env),
        }
        if self.settings is not None:
            unknown = sorted(set(self.settings.fields) - set(self.field_types))
            if unknown:
                raise DestinationUnavailable(
                    f"settings.fields renames {', '.join(unknown)}, which the sync does not send"
                )
        self.login = HttpSession(config.login_url, config.timeout_seconds, "login_url")
        self.api: HttpSession | None = None
        self.token: str | None = None

    # -- operations ---------------------------------------------------------------------

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        handlers: dict[str, Callable[[list[Operation]], dict[str, OperationResult]]] = {
            "send": self._tasks,
            "upsert": self._upserts,
            "insert": self._creates,
            "update": self._updates,
            "remove": self._removes,
        }
        results: dict[str, OperationResult] = {}
        for kind, handler in handlers.items():
            ops = [op for op in batch if op.kind == kind]
            if not ops:
                continue
            if kind != "send" and self.settings is None:
                raise DestinationUnavailable("Salesforce record operations need sync settings")
            try:
                results.update(handler(ops))
            except DeliveryError as error:
                results.update({op.op_id: OperationResult.failed(op.op_id, error) for op in ops})
        return [results[op.op_id] for op in batch]

    def _tasks(self, ops: list[Operation]) -> dict[str, OperationResult]:
        results: dict[str, OperationResult] = {}
        valid, records = [], []
        for op in ops:
            try:
                records.append(task_record(op, self.config))
                valid.append(op)
            except InvalidTask as error:
                results[op.op_id] = OperationResult(
                    op.op_id, False, error_code="invalid_task", error_message=str(error)
                )
        if valid:
            field = self.config.task_external_id_field
            path = api_path(self.config, f"/composite/sobjects/Task/{field}")
            results.update(
                _guarded(valid, lambda: record_results(valid, self._write("PATCH", path, records)))
            )
        return results

    def _upserts(self, ops: list[Operation]) -> dict[str, OperationResult]:
        settings = self._settings()
        records = [keyed_record(op, settings, self.field_types) for op in ops]
        rest = f"/composite/sobjects/{settings.sobject}/{settings.external_id_field}"
        return record_results(ops, self._write("PATCH", api_path(self.config, rest), records))

    def _creates(self, ops: list[Operation]) -> dict[str, OperationResult]:
        """add_only: a record that already holds the external id is left as it is."""
        settings = self._settings()
        records = [keyed_record(op, settings, self.field_types) for op in ops]
        answers = self._write("POST", api_path(self.config, "/composite/sobjects"), records)
        field = settings.external_id_field.lower()

        def already_there(error: dict) -> bool:
            named = [str(name).lower() for name in error.get("fields") or []]
            return error.get("statusCode") == "DUPLICATE_VALUE" and (
                field in named or field in str(error.get("message", "")).lower()
            )

        return record_results(ops, answers, already_there)

    def _updates(self, ops: list[Operation]) -> dict[str, OperationResult]:
        settings = self._settings()
        ids = self._lookup([op.record_key for op in ops])
        found = [op for op in ops if op.record_key.lower() in ids]
        results = {
            op.op_id: OperationResult(
                op.op_id,
                False,
                error_code="not_found",
                error_message=f"no {settings.sobject} has {settings.external_id_field} "
                f"'{op.record_key}'",
            )
            for op in ops
            if op.record_key.lower() not in ids
        }
        if found:
            records = [
                update_record(op, settings, self.field_types, ids[op.record_key.lower()])
                for op in found
            ]
            path = api_path(self.config, "/composite/sobjects")
            results.update(
                _guarded(found, lambda: record_results(found, self._write("PATCH", path, records)))
            )
        return results

    def _removes(self, ops: list[Operation]) -> dict[str, OperationResult]:
        """A record already absent is removed; deleting it again changes nothing."""
        ids = self._lookup([op.record_key for op in ops])
        found = [op for op in ops if op.record_key.lower() in ids]
        results = {
            op.op_id: OperationResult.success(op.op_id)
            for op in ops
            if op.record_key.lower() not in ids
        }
        if found:
            record_ids = ",".join(ids[op.record_key.lower()] for op in found)
            query = urlencode(
                {"ids": record_ids, "allOrNone": "false"},
                safe=",",
            )
            path = api_path(self.config, f"/composite/sobjects?{query}")

            def delete() -> dict[str, OperationResult]:
                answers = self._request_list("DELETE", path, None)
                return record_results(found, answers, already_deleted)

            results.update(_guarded(found, delete))
        return results

    def _lookup(self, keys: list[str]) -> dict[str, str]:
        """External id -> record Id for the keys Salesforce holds. External ids match
        case-insensitively in Salesforce, so the map is keyed by the lower-cased value."""
        settings = self._settings()
        field = settings.external_id_field.lower()
        found: dict[str, str] = {}
        for chunk in query_chunks(settings, keys):
            path: str | None = api_path(
                self.config, "/query?" + urlencode({"q": lookup_query(settings, chunk)})
            )
            while path:
                answer = self._call("GET", path, None)
                if answer.status != 200:
                    raise self._refusal(answer)
                document = answer.json() or {}
                for record in document.get("records") or []:
                    value = next((v for k, v in record.items() if k.lower() == field), None)
                    if value is not None and record.get("Id"):
                        found[str(value).lower()] = str(record["Id"])
                path = None if document.get("done", True) else document.get("nextRecordsUrl")
        return found

    def _settings(self) -> SalesforceSyncSettings:
        assert self.settings is not None
        return self.settings

    # -- HTTP -----------------------------------------------------------------------------

    def _write(self, method: str, path: str, records: list[dict[str, Any]]) -> list[Any]:
        return self._request_list(method, path, {"allOrNone": False, "records": records})

    def _request_list(self, method: str, path: str, body: dict | None) -> list[Any]:
        answer = self._call(method, path, body)
        crash.point("salesforce.after_request")
        if answer.status not in (200, 201):
            raise self._refusal(answer)
        document = answer.json()
        if not isinstance(document, list):
            raise DeliveryError(
                "unexpected_answer", f"HTTP {answer.status}: {answer.text()}", transient=True
            )
        return document

    def _call(self, method: str, path: str, body: dict | None) -> Answer:
        if self.token is None:
            self._refresh()
        answer = self._send(method, path, body)
        if answer.status == 401:
            # INVALID_SESSION_ID: the session timed out or was revoked. Refresh once.
            self._refresh()
            answer = self._send(method, path, body)
            if answer.status == 401:
                code, message = _error(answer)
                raise DestinationUnavailable(f"Salesforce refused a fresh token: {code}: {message}")
        return answer

    def _send(self, method: str, path: str, body: dict | None) -> Answer:
        assert self.api is not None
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":"), default=str).encode()
        return self.api.request(method, path, headers=headers, body=data)

    def _refresh(self) -> None:
        form = urlencode({"grant_type": "refresh_token", **self.credentials}).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        try:
            answer = self.login.request("POST", TOKEN_PATH, headers=headers, body=form)
        except DeliveryError as error:
            # A token request has no effect on records: never ambiguous.
            message = f"token refresh: {error.message}"
            raise DeliveryError(error.code, message, transient=True) from error
        parsed = answer.json()
        document = parsed if isinstance(parsed, dict) else {}
        if answer.status == 200 and document.get("access_token") and document.get("instance_url"):
            self.token = str(document["access_token"])
            self.secrets.remember(self.token)
            instance = str(document["instance_url"]).rstrip("/")
            if self.api is None or self.api.origin != instance:
                if self.api is not None:
                    self.api.drop()
                self.api = HttpSession(instance, self.config.timeout_seconds, "instance_url")
            return
        described = f"{document.get('error', answer.status)}: {document.get('error_description')}"
        if answer.status in TRANSIENT_STATUSES or answer.status >= 500:
            retry_after = retry_after_seconds(answer.header("retry-after"))
            raise DeliveryError(
                "token_refresh_failed",
                f"HTTP {answer.status}: {described}",
                transient=True,
                retry_after=retry_after,
            )
        raise DestinationUnavailable(f"Salesforce refused the token refresh: {described}")

    def _refusal(self, answer: Answer) -> Exception:
        code, message = _error(answer)
        status = answer.status
        text = f"HTTP {status}: {message}"
        if status == 403 and code == "REQUEST_LIMIT_EXCEEDED":
            return DeliveryError(code, text, transient=True, retry_after=DAILY_LIMIT_WAIT)
        if status in (403, 404):
            # No permission on the object, or no such object, field or API version: nothing
            # in the run can succeed, and no record is at fault.
            return DestinationUnavailable(f"Salesforce answered {text} ({code})")
        if status in TRANSIENT_STATUSES or status >= 500:
            retry_after = retry_after_seconds(answer.header("retry-after"))
            return DeliveryError(code, text, transient=True, retry_after=retry_after)
        return DeliveryError(code, text, transient=False)

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        self.login.drop()
        if self.api is not None:
            self.api.drop()


def _error(answer: Answer) -> tuple[str, str]:
    """Salesforce errors are `[{"message", "errorCode", "fields"?}]`."""
    document = answer.json()
    first = document[0] if isinstance(document, list) and document else document
    if isinstance(first, dict) and (first.get("errorCode") or first.get("message")):
        return str(first.get("errorCode") or f"http_{answer.status}"), str(first.get("message"))
    return f"http_{answer.status}", answer.text() or "(no body)"


def _guarded(
    ops: list[Operation], send: Callable[[], dict[str, OperationResult]]
) -> dict[str, OperationResult]:
    """One request's results, or its failure for each of its operations."""
    try:
        return send()
    except DeliveryError as error:
        return {op.op_id: OperationResult.failed(op.op_id, error) for op in ops}


def open_salesforce(
    config: SalesforceConfig, secrets: Secrets, context: SyncContext | None
) -> SalesforceClient:
    return SalesforceClient(config, secrets, context)
