"""A loopback Graph API that holds Custom Audiences and speaks the Custom Audience Users contract.

`POST|DELETE /{version}/{audience_id}/users` with a form body of `payload` (`schema`, `data`)
and `session` (`session_id`, `batch_seq`, `last_batch_flag`, `estimated_num_total`), the token
in `Authorization: Bearer` (or an `access_token` field). It answers like the Graph API: errors
as `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}` (190 for a bad
token, 100 for a bad parameter, 2500 for an unknown path), and a success as `{"audience_id",
"session_id", "num_received", "num_invalid_entries", "invalid_entry_samples"}`, where a value
that is not a 64-character lower-case hex digest makes its row an invalid entry.

A member is the set of (key, hash) pairs of one row. Adding a row equal to a member changes
nothing; removing a row removes every member that shares any identifier with it, as matching
people on any of their identifiers does.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable
from typing import Any

from activations.standins.base import Failure, Reply, Request, StandIn

MAX_USERS = 10_000
KEYS = frozenset({"EMAIL", "PHONE", "FN", "LN", "ZIP", "COUNTRY", "CT", "ST", "GEN", "DOBY"})
_HASH = re.compile(r"^[0-9a-f]{64}$")
_PATH = re.compile(r"^/(v[0-9]+\.[0-9]+)/([0-9]+)/users$")

Member = frozenset[tuple[str, str]]


def graph_error(
    status: int,
    code: int,
    message: str,
    *,
    subcode: int | None = None,
    kind: str = "OAuthException",
) -> Reply:
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = secrets.token_urlsafe(8)
    return Reply(status, {"error": error})


class MetaStandIn(StandIn):
    def __init__(self, access_token: str, audiences: Iterable[str] = ("23850000000000001",)):
        super().__init__()
        self.access_token = access_token
        self.members: dict[str, set[Member]] = {audience: set() for audience in audiences}
        self.invalid_values: dict[str, str] = {}
        """hash -> reason: rows holding one of these count as invalid entries."""
        self.sessions: dict[tuple[str, str, int], int] = {}
        """(audience, method, session_id) -> last batch_seq received."""
        self.closed_sessions: set[tuple[str, str, int]] = set()
        self.applied: list[tuple[str, str, Member]] = []
        """(audience, method, row) for every row that changed an audience."""

    # Failures in Meta's own shapes, for `fail_next`.
    @staticmethod
    def error(status: int, code: int, message: str, *, subcode: int | None = None) -> Failure:
        reply = graph_error(status, code, message, subcode=subcode)
        return Failure(reply.status, reply.body)

    @staticmethod
    def throttled(minutes: int, code: int = 80003) -> Failure:
        usage = {
            "1234567890": [
                {
                    "type": "custom_audience",
                    "call_count": 100,
                    "total_cputime": 10,
                    "total_time": 10,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        reply = graph_error(400, code, "There have been too many calls to this ad-account.")
        return Failure(400, reply.body, {"X-Business-Use-Case-Usage": json.dumps(usage)})

    def audience(self, audience_id: str = "23850000000000001") -> set[Member]:
        return self.members[audience_id]

    def handle(self, request: Request) -> Reply:
        match = _PATH.match(request.path)
        if match is None:
            return graph_error(400, 2500, f"Unknown path components: {request.path}")
        audience_id = match.group(2)
        form = {name: values[-1] for name, values in request.form().items()}
        auth = request.headers.get("authorization", "")
        token = auth.partition(" ")[2] if auth.lower().startswith(("bearer ", "oauth ")) else ""
        token = token or form.get("access_token", "")
        if not token:
            return graph_error(
                400,
                2500,
                "An active access token must be used to query information about the current user.",
            )
        if token != self.access_token:
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.method not in ("POST", "DELETE"):
            return graph_error(
                400, 100, f"Unsupported {request.method} request.", kind="GraphMethodException"
            )
        if audience_id not in self.members:
            return graph_error(
                400,
                100,
                f"Unsupported {request.method.lower()} request. Object "
                f"with ID '{audience_id}' does not exist, cannot be loaded due "
                "to missing permissions, or does not support this operation",
                subcode=33,
                kind="GraphMethodException",
            )
        payload, problem = _json_field(form, "payload")
        if problem:
            return graph_error(400, 100, problem)
        schema = payload.get("schema") if isinstance(payload, dict) else None
        schema = [schema] if isinstance(schema, str) else schema
        data = payload.get("data") if isinstance(payload, dict) else None
        if not schema or not isinstance(schema, list) or any(k not in KEYS for k in schema):
            return graph_error(
                400, 100, "(#100) Invalid schema: the keys must be among " + ", ".join(sorted(KEYS))
            )
        if not isinstance(data, list) or not data:
            return graph_error(400, 100, "(#100) The parameter payload.data is required")
        if len(data) > MAX_USERS:
            return graph_error(
                400,
                100,
                f"(#100) Too many users in one request: {len(data)}; the maximum is {MAX_USERS}",
            )
        rows = [row if isinstance(row, list) else [row] for row in data]
        if any(len(row) != len(schema) for row in rows):
            return graph_error(400, 100, "(#100) Every data row must have one value per schema key")
        session, problem = self._session(form, audience_id, request.method)
        if problem:
            return graph_error(400, 100, problem)
        invalid: dict[str, str] = {}
        received = 0
        for row in rows:
            values = [str(value) if value is not None else "" for value in row]
            bad = next((v for v in values if v and not _HASH.match(v)), None)
            flagged = next((v for v in values if v in self.invalid_values), None)
            if bad is not None or flagged is not None or not any(values):
                reason = "not a SHA-256 hash" if bad else self.invalid_values.get(flagged or "")
                invalid[bad or flagged or ""] = reason or "no identifier"
                continue
            received += 1
            self._apply(
                audience_id,
                request.method,
                frozenset((k, v) for k, v in zip(schema, values, strict=True) if v),
            )
        return Reply(
            200,
            {
                "audience_id": audience_id,
                "session_id": str(session),
                "num_received": received + len(invalid),
                "num_invalid_entries": len(invalid),
                "invalid_entry_samples": dict(list(invalid.items())[:10]),
            },
        )

    def _session(self, form: dict, audience_id: str, method: str) -> tuple[int, str | None]:
        if "session" not in form:
            return 0, None
        session, problem = _json_field(form, "session")
        if problem or not isinstance(session, dict):
            return 0, problem or "(#100) session must be a JSON object"
        try:
            session_id, seq = int(session["session_id"]), int(session["batch_seq"])
            last = session["last_batch_flag"]
        except (KeyError, TypeError, ValueError):
            return 0, "(#100) session needs session_id, batch_seq and last_batch_flag"
        if not isinstance(last, bool):
            return 0, "(#100) session.last_batch_flag must be a boolean"
        key = (audience_id, method, session_id)
        previous = self.sessions.get(key, 0)
        if key in self.closed_sessions and seq > previous:
            return 0, f"(#100) Session {session_id} has already ended"
        if seq not in (previous, previous + 1):  # the same batch again is a retry
            return 0, f"(#100) batch_seq {seq} follows {previous} in session {session_id}"
        self.sessions[key] = seq
        if last:
            self.closed_sessions.add(key)
        return session_id, None

    def _apply(self, audience_id: str, method: str, row: Member) -> None:
        members = self.members[audience_id]
        if method == "POST":
            if row not in members:
                members.add(row)
                self.applied.append((audience_id, method, row))
            return
        matched = {member for member in members if member & row}
        if matched:
            members.difference_update(matched)
            self.applied.append((audience_id, method, row))


def _json_field(form: dict, name: str) -> tuple[Any, str | None]:
    if name not in form:
        return None, f"(#100) The parameter {name} is required"
    try:
        return json.loads(form[name]), None
    except ValueError:
        return None, f"(#100) Param {name} must be a JSON object"
