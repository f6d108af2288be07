"""A loopback HubSpot CRM (v3 objects API) holding contacts and tasks.

Contacts: `POST /crm/v3/objects/contacts/batch/{upsert,update,read,archive}`, at most 100
inputs, addressed by object id or a unique property (`idProperty`: email, or one set up as
unique). Like HubSpot, a batch with an invalid input (unknown property, malformed email, a
value that is not a string) is refused whole with 400 `VALIDATION_ERROR`; inputs that name
contacts that do not exist come back as 207 Multi-Status `errors[]` with `OBJECT_NOT_FOUND`
and `context.ids`. Tasks: `POST /crm/v3/objects/tasks/batch/create` (hs_timestamp required,
priority and status checked, associations to existing contacts with type 204) and
`POST /crm/v3/objects/tasks/search` (`EQ`/`IN` filters, immediately consistent).

Requests need `Authorization: Bearer <token>` (401 `INVALID_AUTHENTICATION` otherwise). With
`limit_per_10s` set, the 101st request within ten seconds gets HubSpot's 429 body.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import deque
from collections.abc import Iterable
from typing import Any

from activations.standins.base import Failure, Reply, Request, StandIn

MAX_INPUTS = 100
CONTACT_PROPERTIES = frozenset(
    {
        "email",
        "firstname",
        "lastname",
        "phone",
        "lifecyclestage",
        "company",
        "city",
        "country",
        "zip",
        "hs_lead_status",
        "waymark_id",
        "waymark_segment",
        "total_revenue",
    }
)
TASK_PROPERTIES = frozenset(
    {
        "hs_timestamp",
        "hs_task_subject",
        "hs_task_body",
        "hs_task_priority",
        "hs_task_status",
        "hs_task_type",
        "hubspot_owner_id",
        "waymark_op_id",
        "waymark_journey",
    }
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PATH = re.compile(r"^/crm/v3/objects/(contacts|tasks)/(batch/\w+|search)$")


def hubspot_error(status: int, category: str, message: str, **extra: Any) -> Reply:
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }
    return Reply(status, body)


class HubSpotStandIn(StandIn):
    def __init__(
        self,
        access_token: str,
        unique_properties: Iterable[str] = ("email", "waymark_id"),
        limit_per_10s: int | None = None,
    ) -> None:
        super().__init__()
        self.access_token = access_token
        self.unique = frozenset(unique_properties)
        self.limit_per_10s = limit_per_10s
        self.recent: deque[float] = deque()
        self.contacts: dict[str, dict[str, str]] = {}
        self.archived: dict[str, dict[str, str]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}
        self.next_id = 100
        # (unique property, value) -> contact id, so that a batch costs its inputs, not the
        # whole CRM; rebuilt when contacts were added or removed behind the API's back.
        self._index: dict[tuple[str, str], str] = {}
        self._indexed = 0

    @staticmethod
    def rate_limited(policy: str = "TEN_SECONDLY_ROLLING", retry_after: str | None = None):
        body = {
            "status": "error",
            "message": f"You have reached your {policy.lower()} limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": policy,
        }
        headers = {
            "X-HubSpot-RateLimit-Interval-Milliseconds": "10000",
            "X-HubSpot-RateLimit-Max": "100",
            "X-HubSpot-RateLimit-Remaining": "0",
        }
        if retry_after:
            headers["Retry-After"] = retry_after
        return Failure(429, body, headers)

    def by_email(self) -> dict[str, dict[str, str]]:
        return {props.get("email", ""): props for props in self.contacts.values()}

    def handle(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return hubspot_error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
            )
        if self.limit_per_10s is not None:
            now = time.monotonic()
            while self.recent and now - self.recent[0] > 10:
                self.recent.popleft()
            if len(self.recent) >= self.limit_per_10s:
                failure = self.rate_limited()
                return Reply(failure.status, failure.body, failure.headers)
            self.recent.append(now)
        match = _PATH.match(request.path)
        if match is None or request.method != "POST":
            return hubspot_error(404, "OBJECT_NOT_FOUND", f"No route for {request.path}")
        document = request.json() if request.body else {}
        kind, action = match.group(1), match.group(2)
        if action == "search":
            return self._search(kind, document)
        inputs = document.get("inputs")
        if not isinstance(inputs, list) or len(inputs) > MAX_INPUTS:
            return hubspot_error(
                400, "VALIDATION_ERROR", f"inputs: the batch takes 1 to {MAX_INPUTS} inputs"
            )
        handler = {
            ("contacts", "batch/upsert"): self._upsert,
            ("contacts", "batch/update"): self._update,
            ("contacts", "batch/read"): self._read,
            ("contacts", "batch/archive"): self._archive,
            ("tasks", "batch/create"): self._create_tasks,
        }.get((kind, action))
        if handler is None:
            return hubspot_error(404, "OBJECT_NOT_FOUND", f"No route for {request.path}")
        return handler(document, inputs)

    # Contacts -------------------------------------------------------------------------

    def _invalid(self, inputs: list, id_property: str | None) -> Reply | None:
        problems = []
        for item in inputs:
            prop = item.get("idProperty", id_property)
            if prop is not None and prop not in self.unique:
                return hubspot_error(400, "VALIDATION_ERROR", f"{prop} is not a unique property")
            for name, value in (item.get("properties") or {}).items():
                if name not in CONTACT_PROPERTIES:
                    problems.append(
                        {
                            "isValid": False,
                            "message": f'Property "{name}" does not exist',
                            "error": "PROPERTY_DOESNT_EXIST",
                            "name": name,
                        }
                    )
                elif not isinstance(value, str):
                    problems.append(
                        {
                            "isValid": False,
                            "message": f"{value!r} is not a string",
                            "error": "INVALID_TYPE",
                            "name": name,
                        }
                    )
                elif name == "email" and value and not _EMAIL.match(value):
                    problems.append(
                        {
                            "isValid": False,
                            "message": f"Email address {value} is invalid",
                            "error": "INVALID_EMAIL",
                            "name": name,
                        }
                    )
        if problems:
            return hubspot_error(
                400, "VALIDATION_ERROR", f"Property values were not valid: {problems}"
            )
        return None

    def _find(self, key: str, prop: str | None) -> str | None:
        if prop is None:
            return key if key in self.contacts else None
        wanted = _normal(prop, key)
        if self._indexed != len(self.contacts):
            self._rebuild_index()
        object_id = self._index.get((prop, wanted))
        held = self.contacts.get(object_id or "", {})
        if object_id is None or _normal(prop, held.get(prop, "")) == wanted:
            return object_id
        self._rebuild_index()  # a contact was changed behind the API's back
        return self._index.get((prop, wanted))

    def _rebuild_index(self) -> None:
        self._index = {
            (prop, _normal(prop, value)): object_id
            for object_id, props in self.contacts.items()
            for prop, value in props.items()
            if prop in self.unique and value
        }
        self._indexed = len(self.contacts)

    def _set(self, object_id: str, props: dict[str, str], new: bool = False) -> None:
        """Change a contact through the index."""
        old = self.contacts.setdefault(object_id, {})
        for prop in self.unique & props.keys():
            if old.get(prop):
                self._index.pop((prop, _normal(prop, old[prop])), None)
            if props[prop]:
                self._index[(prop, _normal(prop, props[prop]))] = object_id
        old.update(props)
        self._indexed += int(new)

    def _result(self, object_id: str, new: bool = False) -> dict[str, Any]:
        return {
            "id": object_id,
            "properties": dict(self.contacts[object_id]),
            "new": new,
            "archived": False,
            "createdAt": "2026-06-30T00:00:00Z",
            "updatedAt": "2026-06-30T00:00:00Z",
        }

    def _batch_reply(self, results: list, errors: list, status: int = 200) -> Reply:
        body: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": "2026-06-30T00:00:00Z",
            "completedAt": "2026-06-30T00:00:01Z",
        }
        if errors:
            body.update(errors=errors, numErrors=len(errors))
        return Reply(207 if errors else status, body)

    def _upsert(self, document: dict, inputs: list) -> Reply:
        if any(not item.get("idProperty") or not item.get("id") for item in inputs):
            return hubspot_error(400, "VALIDATION_ERROR", "Upsert inputs need id and idProperty")
        refused = self._invalid(inputs, None)
        if refused:
            return refused
        results = []
        for item in inputs:
            object_id = self._find(str(item["id"]), item["idProperty"])
            new = object_id is None
            if new:
                object_id, self.next_id = str(self.next_id), self.next_id + 1
            props = {**item.get("properties", {}), item["idProperty"]: str(item["id"])}
            self._set(object_id, props, new)
            results.append(self._result(object_id, new))
        return self._batch_reply(results, [])

    def _update(self, document: dict, inputs: list) -> Reply:
        refused = self._invalid(inputs, None)
        if refused:
            return refused
        results, missing = [], []
        for item in inputs:
            object_id = self._find(str(item.get("id")), item.get("idProperty"))
            if object_id is None:
                missing.append(str(item.get("id")))
                continue
            self._set(object_id, item.get("properties") or {})
            results.append(self._result(object_id))
        errors = (
            [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "Could not "
                    "get some CONTACT objects, they may be deleted or not exist. Check that ids "
                    "are valid.",
                    "context": {"ids": missing},
                }
            ]
            if missing
            else []
        )
        return self._batch_reply(results, errors)

    def _read(self, document: dict, inputs: list) -> Reply:
        prop = document.get("idProperty")
        results, missing = [], []
        for item in inputs:
            object_id = self._find(str(item.get("id")), prop)
            if object_id is None:
                missing.append(str(item.get("id")))
            else:
                results.append(self._result(object_id))
        errors = (
            [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": "Could not "
                    "get some CONTACT objects, they may be deleted or not exist.",
                    "context": {"ids": missing},
                }
            ]
            if missing
            else []
        )
        return self._batch_reply(results, errors)

    def _archive(self, document: dict, inputs: list) -> Reply:
        for item in inputs:
            object_id = str(item.get("id"))
            if object_id in self.contacts:
                props = self.contacts.pop(object_id)
                self.archived[object_id] = props
                for prop in self.unique & props.keys():
                    if self._index.get((prop, _normal(prop, props[prop]))) == object_id:
                        del self._index[(prop, _normal(prop, props[prop]))]
                self._indexed -= 1
        return Reply(204)

    # Tasks ----------------------------------------------------------------------------

    def _create_tasks(self, document: dict, inputs: list) -> Reply:
        for item in inputs:
            props = item.get("properties") or {}
            unknown = sorted(set(props) - TASK_PROPERTIES)
            if unknown:
                return hubspot_error(
                    400, "VALIDATION_ERROR", f'Property "{unknown[0]}" does not exist'
                )
            if not props.get("hs_timestamp"):
                return hubspot_error(400, "VALIDATION_ERROR", "hs_timestamp is required")
            if props.get("hs_task_priority", "NONE") not in ("NONE", "LOW", "MEDIUM", "HIGH"):
                return hubspot_error(400, "VALIDATION_ERROR", "hs_task_priority is invalid")
            for association in item.get("associations") or []:
                target = str((association.get("to") or {}).get("id"))
                types = association.get("types") or []
                if target not in self.contacts or not any(
                    t.get("associationTypeId") == 204 for t in types
                ):
                    return hubspot_error(
                        400, "VALIDATION_ERROR", f"Invalid association to {target}"
                    )
        results = []
        for item in inputs:
            task_id, self.next_id = str(self.next_id), self.next_id + 1
            contacts = [str(a["to"]["id"]) for a in item.get("associations") or []]
            self.tasks[task_id] = {"properties": dict(item["properties"]), "contacts": contacts}
            results.append({"id": task_id, "properties": dict(item["properties"])})
        return self._batch_reply(results, [], status=201)

    def _search(self, kind: str, document: dict) -> Reply:
        if kind != "tasks":
            return hubspot_error(400, "VALIDATION_ERROR", "search is served for tasks only")
        groups = document.get("filterGroups") or []
        limit = int(document.get("limit") or 10)
        if limit > 200:
            return hubspot_error(400, "VALIDATION_ERROR", "limit must be at most 200")

        def matches(props: dict) -> bool:
            for group in groups:
                if all(_passes(props, f) for f in group.get("filters") or []):
                    return True
            return not groups

        found = [
            {"id": tid, "properties": t["properties"]}
            for tid, t in self.tasks.items()
            if matches(t["properties"])
        ]
        return Reply(200, {"total": len(found), "results": found[:limit]})


def _normal(prop: str, value: str) -> str:
    """HubSpot matches emails case-insensitively, other unique properties exactly."""
    return value.lower() if prop == "email" else value


def _passes(props: dict, condition: dict) -> bool:
    value = props.get(condition.get("propertyName"))
    if condition.get("operator") == "IN":
        return value in (condition.get("values") or [])
    if condition.get("operator") == "EQ":
        return value == condition.get("value")
    return False
