"""Operations as Custom Audience users: which hashed rows to remove and which to add.

A sync operation's payload arrives already normalised and hashed by Meta's rules
(`activations.payloads`); a journey send carries the template's plain identifiers, hashed here
by the same rules. A row lists the hashes in schema order, blank where a value is unknown.
A changed member (new email) is removed under the hashes it was added with, then added anew.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from activations.destination import Operation, SyncContext
from activations.destinations.meta.capabilities import CAPABILITIES, IDENTIFIER_KEYS
from activations.payloads import shaped_fields

Row = dict[str, str]
"""Meta schema key -> hash, only the keys with a value."""


def identifier_row(fields: Mapping[str, Any]) -> Row:
    return {
        key: str(fields[name])
        for name, key in IDENTIFIER_KEYS.items()
        if fields.get(name) not in (None, "")
    }


def send_fields(op: Operation) -> dict[str, Any]:
    """A journey message's identifiers, normalised and hashed like a sync's."""
    plain = {name: op.payload.get(name) for name in IDENTIFIER_KEYS if name in op.payload}
    return shaped_fields(plain, CAPABILITIES)


def changes(op: Operation) -> tuple[Row | None, Row | None, str | None]:
    """(row to remove, row to add, problem) for one operation."""
    previous = identifier_row(op.previous) if op.previous else None
    if op.kind == "remove":
        if not previous:
            return None, None, "the identifiers this member was added with are not known"
        return previous, None, None
    row = identifier_row(send_fields(op) if op.kind == "send" else op.payload)
    if not row:
        return None, None, "no identifier normalises to a value Meta can match"
    if previous and previous != row:
        return previous, row, None
    return None, row, None


def schema(rows: Sequence[Row]) -> list[str]:
    present = {key for row in rows for key in row}
    return [key for key in IDENTIFIER_KEYS.values() if key in present]


def users_payload(rows: Sequence[Row]) -> dict[str, Any]:
    keys = schema(rows)
    return {"schema": keys, "data": [[row.get(key, "") for key in keys] for row in rows]}


def session_id(method: str, audience_id: str, op_ids: Sequence[str]) -> int:
    """A 63-bit id derived from what the upload holds: the same upload, the same session."""
    digest = hashlib.sha256("\n".join([method, audience_id, *op_ids]).encode()).hexdigest()
    return int(digest[:15], 16)


def users_path(api_version: str, audience_id: str) -> str:
    return f"/{api_version}/{audience_id}/users"


def audience_for(op: Operation, config: Any, context: SyncContext | None) -> str | None:
    if context is not None:
        return context.settings.audience_id
    return config.audiences.get(str(op.payload.get("audience") or ""))


def preview(op: Operation, config: Any, context: SyncContext | None) -> dict[str, Any]:
    audience = audience_for(op, config, context) or "(no audience configured)"
    path = users_path(config.api_version, audience)
    removed, added, problem = changes(op)
    if problem:
        return {"refused": problem}
    requests = []
    if removed:
        requests.append({"method": "DELETE", "path": path, "payload": users_payload([removed])})
    if added:
        requests.append({"method": "POST", "path": path, "payload": users_payload([added])})
    return {"requests": requests}
