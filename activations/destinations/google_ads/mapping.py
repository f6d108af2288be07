"""Operations as Customer Match operations: `UserData` with hashed `userIdentifiers`.

Sync payloads arrive normalised by Google's rules: email, phone and names SHA-256 hashed,
country and zip in clear (`activations.payloads`). `addressInfo` needs all four of first name,
last name, country and zip; a row without them sends only its email and phone. A member whose
identifiers changed is removed under the identifiers it was added with, then created anew, in
that order inside one job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activations.destination import Operation, SyncContext

_ADDRESS = {
    "first_name": "hashedFirstName",
    "last_name": "hashedLastName",
    "country": "countryCode",
    "zip": "postalCode",
}


def user_data(fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """`UserData` for the fields, or None when no identifier has a value."""
    identifiers: list[dict[str, Any]] = []
    if fields.get("email"):
        identifiers.append({"hashedEmail": str(fields["email"])})
    if fields.get("phone"):
        identifiers.append({"hashedPhoneNumber": str(fields["phone"])})
    if all(fields.get(name) for name in _ADDRESS):
        address = {key: str(fields[name]) for name, key in _ADDRESS.items()}
        identifiers.append({"addressInfo": address})
    return {"userIdentifiers": identifiers} if identifiers else None


def job_operations(op: Operation) -> tuple[list[dict[str, Any]], str | None]:
    """The job operations for one Waymark operation, or a problem that refuses it."""
    previous = user_data(op.previous) if op.previous else None
    if op.kind == "remove":
        if previous is None:
            return [], "the identifiers this member was added with are not known"
        return [{"remove": previous}], None
    current = user_data(op.payload)
    if current is None:
        return [], "no identifier normalises to a value Google can match"
    if previous is not None and previous != current:
        return [{"remove": previous}, {"create": current}], None
    return [{"create": current}], None


def identifier_count(operation: Mapping[str, Any]) -> int:
    data = operation.get("create") or operation.get("remove") or {}
    return len(data.get("userIdentifiers", []))


def user_list(config: Any, context: SyncContext) -> str:
    return f"customers/{config.customer_id}/userLists/{context.settings.user_list_id}"


def create_job_body(config: Any, context: SyncContext) -> dict[str, Any]:
    """Consent is granted for every member: rows without ads_personalisation consent never
    reach a job (`activations.consent`)."""
    return {
        "job": {
            "type": "CUSTOMER_MATCH_USER_LIST",
            "customerMatchUserListMetadata": {
                "userList": user_list(config, context),
                "consent": {"adUserData": "GRANTED", "adPersonalization": "GRANTED"},
            },
        }
    }


def preview(op: Operation, config: Any, context: SyncContext | None) -> dict[str, Any]:
    operations, problem = job_operations(op)
    if problem:
        return {"refused": problem}
    assert context is not None
    return {"userList": user_list(config, context), "operations": operations}
