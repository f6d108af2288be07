"""Delivers each batch as one Customer Match job: create, add operations in chunks, run.

The access token comes from the OAuth token endpoint (refresh-token grant) when the client
connects, and again once when the API answers 401. A job holds nothing until it runs, so a
run that dies before `:run` leaves no effect; the replay goes into a new job. Operations
refused inside an accepted request come back in `partialFailureError` and are mapped to
their rows by the index in the error's location.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from activations.destination import (
    DeliveryError,
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.google_ads.capabilities import CAPABILITIES, IDENTIFIERS_PER_REQUEST
from activations.destinations.google_ads.config import GoogleAdsConfig
from activations.destinations.google_ads.mapping import (
    create_job_body,
    identifier_count,
    job_operations,
)
from activations.http import retry_after_seconds
from activations.http_client import Answer, HttpSession
from activations.secrets import Secrets
from waymark.core import crash

_TRANSIENT_STATUSES = frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE", "INTERNAL", "ABORTED"})
_DURATION = re.compile(r"^([0-9.]+)s$")

Entry = tuple[Operation, dict[str, Any]]


class GoogleAdsClient:
    capabilities = CAPABILITIES

    def __init__(self, config: GoogleAdsConfig, secrets: Secrets, context: SyncContext | None):
        if context is None:
            raise DestinationUnavailable("Customer Match lists take audience syncs, not sends")
        self.config, self.context = config, context
        self.developer_token = secrets.require(config.developer_token_env)
        self.client_id = secrets.require(config.client_id_env)
        self.client_secret = secrets.require(config.client_secret_env)
        self.refresh_token = secrets.require(config.refresh_token_env)
        self.secrets = secrets
        self.api = HttpSession(config.base_url, config.timeout_seconds, "google_ads")
        token_url = urlsplit(config.token_url)
        self.token_path = token_url.path or "/"
        self.oauth = HttpSession(
            f"{token_url.scheme}://{token_url.netloc}", config.timeout_seconds, "google_ads token"
        )
        self.access_token = self._refresh()

    def _refresh(self) -> str:
        fields = {
            "grant_type": "refresh_token",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "refresh_token": self.refresh_token,
        }
        response = self.oauth.form("POST", self.token_path, fields, {"Accept": "application/json"})
        document = response.json() or {}
        if response.status == 200 and document.get("access_token"):
            token = str(document["access_token"])
            self.secrets.remember(token)
            return token
        if response.status >= 500 or response.status == 429:
            raise DeliveryError(
                f"oauth_http_{response.status}", "token endpoint unavailable", transient=True
            )
        raise DestinationUnavailable(
            f"the token endpoint refused the refresh token: {document.get('error')}: "
            f"{document.get('error_description', '')}".strip()
        )

    def _call(self, path: str, document: Any) -> Answer:
        for attempt in (1, 2):
            headers = {
                "Authorization": f"Bearer {self.access_token}",
                "developer-token": self.developer_token,
            }
            if self.config.login_customer_id:
                headers["login-customer-id"] = self.config.login_customer_id
            response = self.api.json(
                "POST", f"/{self.config.api_version}/{path}", document, headers
            )
            crash.point("google_ads.after_request")
            if response.status == 401 and attempt == 1 and not _developer_token_refused(response):
                self.access_token = self._refresh()  # expired: refresh once and try again
                continue
            if response.status in (401, 403):
                code, message, _ = _failure(response)
                raise DestinationUnavailable(
                    f"Google Ads refused the credentials: {code}: {message}"
                )
            return response
        raise AssertionError("unreachable")

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        results: dict[str, OperationResult] = {}
        entries: list[Entry] = []
        for op in batch:
            operations, problem = job_operations(op)
            if problem:
                results[op.op_id] = OperationResult(
                    op.op_id, False, error_code="invalid_user", error_message=problem
                )
            entries += [(op, operation) for operation in operations]
        if entries:
            self._job(entries, results)
        return [results.get(op.op_id) or OperationResult.success(op.op_id) for op in batch]

    def _job(self, entries: list[Entry], results: dict[str, OperationResult]) -> None:
        customer = self.config.customer_id
        try:
            created = self._call(
                f"customers/{customer}/offlineUserDataJobs:create",
                create_job_body(self.config, self.context),
            )
            if created.status != 200:
                return _fail_all(entries, _as_result(created), results)
            job = str((created.json() or {})["resourceName"])
            for chunk in _chunks(entries):
                body = {"enablePartialFailure": True, "operations": [o for _, o in chunk]}
                added = self._call(f"{job}:addOperations", body)
                if added.status != 200:
                    _fail_all(chunk, _as_result(added), results)
                    continue
                _partial_failures(added.json() or {}, chunk, results)
            if all(op.op_id in results for op, _ in entries):
                return  # nothing left to run
            ran = self._call(f"{job}:run", {})
            if ran.status != 200:
                _fail_all(entries, _as_result(ran), results, keep_rejections=True)
        except DeliveryError as error:
            failure = OperationResult(
                "",
                False,
                transient=True,
                error_code=error.code,
                error_message=error.message,
                ambiguous=error.ambiguous,
            )
            _fail_all(entries, failure, results, keep_rejections=True)

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        self.api.drop()
        self.oauth.drop()


def _chunks(entries: list[Entry]) -> list[list[Entry]]:
    chunks: list[list[Entry]] = [[]]
    count = 0
    for entry in entries:
        size = identifier_count(entry[1])
        if chunks[-1] and count + size > IDENTIFIERS_PER_REQUEST:
            chunks.append([])
            count = 0
        chunks[-1].append(entry)
        count += size
    return chunks


def _fail_all(entries, failure: OperationResult, results: dict, keep_rejections=False) -> None:
    for op, _ in entries:
        if keep_rejections and op.op_id in results:
            continue
        results[op.op_id] = OperationResult(
            op.op_id,
            False,
            failure.transient,
            failure.error_code,
            failure.error_message,
            failure.retry_after,
            failure.ambiguous,
        )


def _partial_failures(document: dict, chunk: list[Entry], results: dict) -> None:
    """`partialFailureError.details[].errors[]`, located at `operations[index]`."""
    status = document.get("partialFailureError") or {}
    for detail in status.get("details") or []:
        for error in detail.get("errors") or []:
            path = (error.get("location") or {}).get("fieldPathElements") or []
            index = next((p.get("index") for p in path if p.get("fieldName") == "operations"), None)
            if index is None or not 0 <= int(index) < len(chunk):
                continue
            op = chunk[int(index)][0]
            results[op.op_id] = OperationResult(
                op.op_id,
                False,
                error_code=_code(error),
                error_message=str(error.get("message") or ""),
            )


def _as_result(response: Answer) -> OperationResult:
    code, message, retry = _failure(response)
    status = ((response.json() or {}).get("error") or {}).get("status")
    transient = (
        response.status in (408, 429)
        or response.status >= 500
        or status in _TRANSIENT_STATUSES
        or code.endswith("CONCURRENT_MODIFICATION")  # another job on the same list
    )
    return OperationResult(
        "", False, transient=transient, error_code=code, error_message=message, retry_after=retry
    )


def _failure(response: Answer) -> tuple[str, str, float | None]:
    """The first GoogleAdsError's code and message, and any retry delay it carries."""
    error = (response.json() or {}).get("error") or {}
    code, message = error.get("status") or f"http_{response.status}", error.get("message") or ""
    retry = retry_after_seconds(response.headers.get("retry-after"))
    for detail in error.get("details") or []:
        for failure in detail.get("errors") or []:
            code, message = _code(failure), failure.get("message") or message
            delay = ((failure.get("details") or {}).get("quotaErrorDetails") or {}).get(
                "retryDelay"
            )
            retry = _seconds(delay) or retry
            break
        retry = _seconds(detail.get("retryDelay")) or retry  # google.rpc.RetryInfo
    return code, str(message), retry


def _code(error: dict) -> str:
    """`{"errorCode": {"offlineUserDataJobError": "INVALID_SHA256_FORMAT"}}` as one string."""
    pairs = list((error.get("errorCode") or {}).items())
    return f"{pairs[0][0]}.{pairs[0][1]}" if pairs else "unknown"


def _seconds(value: Any) -> float | None:
    match = _DURATION.match(str(value or ""))
    return float(match.group(1)) if match else None


def _developer_token_refused(response: Answer) -> bool:
    return "DEVELOPER_TOKEN" in _failure(response)[0]


def open_google_ads(
    config: GoogleAdsConfig, secrets: Secrets, context: SyncContext | None
) -> GoogleAdsClient:
    return GoogleAdsClient(config, secrets, context)
