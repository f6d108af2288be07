"""Uploads users to Custom Audiences over the Graph API, one session per direction and audience.

Each delivery groups its operations by audience into removals (DELETE) and additions (POST),
removals first so a changed member is re-added under its new hashes. Each group is one upload
session of requests of at most 10,000 users. A request that fails leaves the requests before it
applied: results are per operation, so only the operations of the failed and later requests
are retried.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from activations.destination import (
    DeliveryError,
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.meta.capabilities import CAPABILITIES, USERS_PER_REQUEST
from activations.destinations.meta.config import MetaConfig
from activations.destinations.meta.mapping import (
    Row,
    audience_for,
    changes,
    session_id,
    users_path,
    users_payload,
)
from activations.http_client import Answer, HttpSession
from activations.secrets import Secrets
from waymark.core import crash

# Graph API error codes (https://developers.facebook.com/docs/graph-api/guides/error-handling,
# https://developers.facebook.com/docs/graph-api/overview/rate-limiting).
AUTH_CODES = frozenset({102, 190})  # session key invalid; access token invalid or expired
PERMISSION_CODES = frozenset({10, *range(200, 300)})
THROTTLE_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
TRANSIENT_CODES = frozenset({1, 2})  # unknown error; service temporarily unavailable

Item = tuple[Operation, Row]


class MetaClient:
    capabilities = CAPABILITIES

    def __init__(self, config: MetaConfig, secrets: Secrets, context: SyncContext | None):
        self.config, self.context = config, context
        self.token = secrets.require(config.access_token_env)
        self.session = HttpSession(config.base_url, config.timeout_seconds, "meta")

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        failed: dict[str, OperationResult] = {}
        removals: dict[str, list[Item]] = {}
        additions: dict[str, list[Item]] = {}
        for op in batch:
            audience = audience_for(op, self.config, self.context)
            removed, added, problem = changes(op)
            if audience is None:
                named = op.payload.get("audience")
                problem = f"no Custom Audience id for audience '{named}' (config `audiences`)"
            if problem:
                failed[op.op_id] = OperationResult(
                    op.op_id, False, error_code="invalid_user", error_message=problem
                )
                continue
            if removed:
                removals.setdefault(audience, []).append((op, removed))
            if added:
                additions.setdefault(audience, []).append((op, added))
        for audience, items in removals.items():
            self._upload("DELETE", audience, items, failed)
        for audience, items in additions.items():
            self._upload("POST", audience, [i for i in items if i[0].op_id not in failed], failed)
        return [failed.get(op.op_id) or OperationResult.success(op.op_id) for op in batch]

    def _upload(
        self, method: str, audience: str, items: list[Item], failed: dict[str, OperationResult]
    ) -> None:
        if not items:
            return
        chunks = [items[i : i + USERS_PER_REQUEST] for i in range(0, len(items), USERS_PER_REQUEST)]
        session = session_id(method, audience, [op.op_id for op, _ in items])
        for seq, chunk in enumerate(chunks, start=1):
            fields = {
                "payload": json.dumps(
                    users_payload([row for _, row in chunk]), separators=(",", ":")
                ),
                "session": json.dumps(
                    {
                        "session_id": session,
                        "batch_seq": seq,
                        "last_batch_flag": seq == len(chunks),
                        "estimated_num_total": len(items),
                    },
                    separators=(",", ":"),
                ),
            }
            headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
            path = users_path(self.config.api_version, audience)
            try:
                response = self.session.form(method, path, fields, headers)
                crash.point("meta.after_request")
            except DeliveryError as error:
                # This request may have been applied (ambiguous); later ones were never sent.
                for index, later in enumerate(chunks[seq - 1 :]):
                    for op, _ in later:
                        failed[op.op_id] = OperationResult(
                            op.op_id,
                            False,
                            transient=True,
                            error_code=error.code,
                            error_message=error.message,
                            ambiguous=error.ambiguous and index == 0,
                        )
                return
            outcome = _outcome(response)
            if outcome is None:
                _reject_invalid_entries(response.json() or {}, chunk, failed)
                continue
            # A throttled or failing service refuses the rest of the upload as well.
            rest = [item for later in chunks[seq - 1 :] for item in later]
            for op, _ in rest if outcome.transient else chunk:
                failed[op.op_id] = replace(outcome, op_id=op.op_id)
            if outcome.transient:
                return

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        self.session.drop()


def _outcome(response: Answer) -> OperationResult | None:
    """None for success; otherwise the failure, with Meta's code and message."""
    document = response.json()
    error = document.get("error") if isinstance(document, dict) else None
    if 200 <= response.status < 300 and not error:
        return None
    if not isinstance(error, dict):
        transient = response.status >= 500 or response.status == 429
        return OperationResult(
            "",
            False,
            transient=transient,
            error_code=f"http_{response.status}",
            error_message=f"HTTP {response.status}: {response.text()}".strip(),
        )
    code = _int(error.get("code"))
    subcode = _int(error.get("error_subcode"))
    message = str(error.get("message") or "")
    if error.get("error_user_msg"):
        message += f" ({error['error_user_msg']})"
    if error.get("fbtrace_id"):
        message += f" [fbtrace_id {error['fbtrace_id']}]"
    if code in AUTH_CODES:
        raise DestinationUnavailable(f"Meta refused the access token (code {code}): {message}")
    if code in PERMISSION_CODES:
        raise DestinationUnavailable(f"Meta refused the permission (code {code}): {message}")
    throttled = code in THROTTLE_CODES
    transient = (
        throttled
        or code in TRANSIENT_CODES
        or bool(error.get("is_transient"))
        or response.status >= 500
    )
    return OperationResult(
        "",
        False,
        transient=transient,
        error_code=f"{code}/{subcode}" if subcode else str(code),
        error_message=message,
        retry_after=_regain_seconds(response) if throttled else None,
    )


def _regain_seconds(response: Answer) -> float | None:
    """`estimated_time_to_regain_access` (minutes) of the Business Use Case usage header."""
    waits = []
    for header in ("x-business-use-case-usage", "x-ad-account-usage"):
        try:
            usage: Any = json.loads(response.headers.get(header) or "null")
        except ValueError:
            continue
        entries = usage.values() if isinstance(usage, dict) else []
        for entry in entries:
            for item in entry if isinstance(entry, list) else [entry]:
                if isinstance(item, dict) and item.get("estimated_time_to_regain_access"):
                    waits.append(float(item["estimated_time_to_regain_access"]) * 60)
    retry_after = response.headers.get("retry-after", "")
    if retry_after.isdigit():
        waits.append(float(retry_after))
    return max(waits) if waits else None


def _reject_invalid_entries(document: dict, chunk: list[Item], failed: dict) -> None:
    """Meta answers 200 and counts the rows it could not use, with samples of them."""
    samples = document.get("invalid_entry_samples") or {}
    if isinstance(samples, list):
        samples = {str(value): "invalid entry" for value in samples}
    for value, reason in samples.items():
        for op, row in chunk:
            if value in row.values() and op.op_id not in failed:
                failed[op.op_id] = OperationResult(
                    op.op_id,
                    False,
                    error_code="invalid_entry",
                    error_message=f"Meta counted the entry invalid: {reason}",
                )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def open_meta(config: MetaConfig, secrets: Secrets, context: SyncContext | None) -> MetaClient:
    return MetaClient(config, secrets, context)
