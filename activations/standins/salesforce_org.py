"""The data of the Salesforce stand-in: sObject types, records and the rules an org enforces.

`Org` applies one record of a collection request at a time, the way Salesforce validates each
record independently when `allOrNone` is false: unknown fields refuse the whole request
(`RequestError`), a record that breaks a rule is refused alone (`RecordError`, a per-record
`{"statusCode", "message", "fields"}`). Field names match case-insensitively, as in Salesforce.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from typing import Any

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class SObjectType:
    prefix: str
    """Key prefix of record ids (003 Contact, 00T Task)."""
    fields: set[str]
    external_ids: set[str] = field(default_factory=set)
    required: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    picklists: dict[str, set[str]] = field(default_factory=dict)
    relationships: dict[str, tuple[str, set[str]]] = field(default_factory=dict)
    """Relationship name -> (id field, types it may point to): `Who` -> (WhoId, Contact)."""


def default_objects() -> dict[str, SObjectType]:
    return {
        "Contact": SObjectType(
            "003",
            {"FirstName", "LastName", "Email", "Phone", "Waymark_Customer_Id__c",
             "Waymark_Stage__c", "Waymark_Revenue__c", "Waymark_Op_Id__c"},
            external_ids={"Waymark_Customer_Id__c"},
            required={"LastName"},
            emails={"Email"},
        ),
        "Task": SObjectType(
            "00T",
            {"Subject", "Description", "Priority", "Status", "WhoId", "Waymark_Op_Id__c"},
            external_ids={"Waymark_Op_Id__c"},
            picklists={
                "Priority": {"High", "Normal", "Low"},
                "Status": {"Not Started", "In Progress", "Completed", "Deferred"},
            },
            relationships={"Who": ("WhoId", {"Contact"})},
        ),
    }  # fmt: skip


class RequestError(Exception):
    """A malformed request: 400 with the error list, nothing applied."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class RecordError(Exception):
    """One record refused; the others of the request go on (allOrNone false)."""

    def __init__(self, code: str, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.result = record_error(code, message, fields)


class Org:
    """Records by Id, the recycle bin, a write history, and failures to inject."""

    def __init__(self, objects: dict[str, SObjectType] | None = None) -> None:
        self.objects = objects or default_objects()
        self.records: dict[str, dict[str, Any]] = {}
        """Record id -> fields under their canonical names, the type under `_type`."""
        self.deleted: set[str] = set()
        self.history: list[tuple[str, str, str]] = []
        """(action, record id, Waymark_Op_Id__c or ''); created updated unchanged deleted."""
        self.reject: dict[tuple[str, str], tuple[str, str, list[str]]] = {}
        """(type, external id value) -> (statusCode, message, fields) for every write."""
        self.lock_once: set[tuple[str, str]] = set()
        """(type, external id value) refused once with UNABLE_TO_LOCK_ROW."""
        self.ids = itertools.count(1)
        self.index: dict[tuple[str, str], dict[str, str]] = {}
        """(type, external id field) -> lower-cased value -> record id."""

    def snapshot(self) -> tuple:
        records = {key: dict(record) for key, record in self.records.items()}
        return records, set(self.deleted), list(self.history)

    def restore(self, snapshot: tuple) -> None:
        self.records, self.deleted, self.history = snapshot
        self.index = {}
        for record_id, record in self.records.items():
            self._track(record_id, None, record)

    def _track(self, record_id: str, before: dict | None, after: dict | None) -> None:
        """Keep the external id index (what makes Salesforce's matching fast) current."""
        record = after or before or {}
        for field_name in self.objects[record["_type"]].external_ids:
            entries = self.index.setdefault((record["_type"], field_name), {})
            if before is not None and before.get(field_name) is not None:
                entries.pop(str(before[field_name]).lower(), None)
            if after is not None and after.get(field_name) is not None:
                entries[str(after[field_name]).lower()] = record_id

    def by_external_id(self, sobject: str, field_name: str) -> dict[str, dict[str, Any]]:
        return {
            str(record[field_name]): record
            for record in self.records.values()
            if record["_type"] == sobject and record.get(field_name) is not None
        }

    def of_type(self, sobject: str) -> list[dict[str, Any]]:
        return [record for record in self.records.values() if record["_type"] == sobject]

    def matching(self, type_name: str, field_name: str, wanted: set[str]) -> list[dict]:
        lowered = {value.lower() for value in wanted}
        if (type_name, field_name) in self.index:
            entries = self.index[(type_name, field_name)]
            ids = sorted({entries[value] for value in lowered if value in entries})
            return [self.records[record_id] for record_id in ids]
        return [
            record
            for record in self.records.values()
            if record["_type"] == type_name
            and record.get(field_name) is not None
            and str(record[field_name]).lower() in lowered
        ]

    def apply(
        self, action: str, record: Any, url_type: str | None, external_id: str | None, seen: set
    ) -> dict:
        if not isinstance(record, dict) or not isinstance(record.get("attributes"), dict):
            raise RequestError("INVALID_TYPE", "Must send a concrete entity type.")
        type_name = record["attributes"].get("type")
        if action == "upsert" and type_name != url_type:
            raise RequestError("INVALID_TYPE", f"Records must be of type {url_type}")
        sobject = self.type(type_name)
        given = {k: v for k, v in record.items() if k != "attributes"}
        record_id = next((str(v) for k, v in given.items() if k.lower() == "id"), None)
        values = self._values(type_name, sobject, {k: v for k, v in given.items() if k != "Id"})
        self._rejection(type_name, sobject, values)
        if action == "update":
            return self._update(type_name, sobject, record_id, values)
        if record_id:
            raise RequestError("INVALID_FIELD", "Don't set the Id of a record to create or upsert")
        if action == "upsert" and external_id is not None:
            key = values.get(external_id)
            if key is None:
                raise RecordError("MISSING_ARGUMENT", f"{external_id} not specified", [external_id])
            if str(key).lower() in seen:
                message = f"Duplicate external id specified: {key}"
                raise RecordError("DUPLICATE_EXTERNAL_ID", message, [external_id])
            seen.add(str(key).lower())
            existing = self.find(type_name, external_id, key)
            if existing:
                return self._update(type_name, sobject, existing, values)
        for unique in sobject.external_ids:
            holder = self.find(type_name, unique, values.get(unique))
            if holder:
                message = f"duplicate value found: {unique} duplicates value on record with id: "
                raise RecordError("DUPLICATE_VALUE", message + holder, [unique])
        _require(sobject, values, every=True)
        new_id = f"{sobject.prefix}{next(self.ids):012d}AAA"
        self.records[new_id] = {"_type": type_name, "Id": new_id, **values}
        self._track(new_id, None, self.records[new_id])
        self.history.append(("created", new_id, str(values.get("Waymark_Op_Id__c") or "")))
        return {"id": new_id, "success": True, "errors": [], "created": True}

    def _update(
        self, type_name: str, sobject: SObjectType, record_id: str | None, values: dict
    ) -> dict:
        current = self.records.get(record_id or "")
        if current is None or current["_type"] != type_name:
            if record_id in self.deleted:
                raise RecordError("ENTITY_IS_DELETED", "entity is deleted")
            raise RecordError("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id")
        _require(sobject, values, every=False)
        changed = any(current.get(name) != value for name, value in values.items())
        before = dict(current)
        current.update(values)
        self._track(str(record_id), before, current)
        action = "updated" if changed else "unchanged"
        self.history.append((action, str(record_id), str(values.get("Waymark_Op_Id__c") or "")))
        return {"id": record_id, "success": True, "errors": [], "created": False}

    def _values(self, type_name: str, sobject: SObjectType, given: dict) -> dict:
        values: dict[str, Any] = {}
        for name, value in given.items():
            relation = next((r for r in sobject.relationships if r.lower() == name.lower()), None)
            if relation is not None:
                id_field, targets = sobject.relationships[relation]
                values[id_field] = self._reference(value, targets)
                continue
            canonical = self.field(type_name, name)
            if canonical in sobject.emails and value is not None and not _EMAIL.match(str(value)):
                message = f"{canonical}: invalid email address: {value}"
                raise RecordError("INVALID_EMAIL_ADDRESS", message, [canonical])
            allowed = sobject.picklists.get(canonical)
            if allowed is not None and value is not None and value not in allowed:
                message = f"{canonical}: bad value for restricted picklist field: {value}"
                raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", message, [canonical])
            values[canonical] = value
        return values

    def _reference(self, value: Any, targets: set[str]) -> str:
        if not isinstance(value, dict) or not isinstance(value.get("attributes"), dict):
            raise RequestError("INVALID_FIELD", "A relationship needs an attributes map")
        type_name = value["attributes"].get("type")
        if type_name not in targets:
            raise RequestError("INVALID_FIELD", f"Cannot reference {type_name} here")
        keys = [(k, v) for k, v in value.items() if k != "attributes"]
        if len(keys) != 1:
            raise RequestError("INVALID_FIELD", "A relationship names one external id field")
        field_name = self.field(type_name, keys[0][0])
        found = self.find(type_name, field_name, keys[0][1])
        if not found:
            message = f"Foreign key external ID: {keys[0][1]} not found for field {field_name} "
            raise RecordError("INVALID_FIELD", message + f"in entity {type_name}")
        return found

    def _rejection(self, type_name: str, sobject: SObjectType, values: dict) -> None:
        for external_id in sobject.external_ids:
            key = (type_name, str(values.get(external_id)))
            if key in self.lock_once:
                self.lock_once.discard(key)
                message = "unable to obtain exclusive access to this record or 1 records"
                raise RecordError("UNABLE_TO_LOCK_ROW", message)
            if key in self.reject:
                raise RecordError(*self.reject[key])

    def delete(self, ids: list[str]) -> list[dict]:
        results = []
        for record_id in ids:
            if record_id in self.records:
                record = self.records.pop(record_id)
                self._track(record_id, record, None)
                self.deleted.add(record_id)
                op_id = str(record.get("Waymark_Op_Id__c") or "")
                self.history.append(("deleted", record_id, op_id))
                results.append({"id": record_id, "success": True, "errors": []})
            elif record_id in self.deleted:
                results.append(record_error("ENTITY_IS_DELETED", "entity is deleted", id=record_id))
            else:
                message = "invalid cross reference id"
                results.append(record_error("INVALID_CROSS_REFERENCE_KEY", message, id=record_id))
        return results

    def type(self, name: str | None) -> SObjectType:
        if name not in self.objects:
            raise RequestError("NOT_FOUND", f"sObject type '{name}' is not supported.", 404)
        return self.objects[name]

    def field(self, type_name: str | None, name: str | None) -> str:
        sobject = self.type(type_name)
        found = next((f for f in sobject.fields if f.lower() == str(name).lower()), None)
        if found is None:
            message = f"No such column '{name}' on sobject of type {type_name}"
            raise RequestError("INVALID_FIELD", message)
        return found

    def find(self, type_name: str, field_name: str, value: Any) -> str | None:
        if value is None:
            return None
        wanted = str(value).lower()
        if (type_name, field_name) in self.index or field_name in self.objects[
            type_name
        ].external_ids:
            return self.index.get((type_name, field_name), {}).get(wanted)
        return next(
            (
                record_id
                for record_id, record in self.records.items()
                if record["_type"] == type_name
                and str(record.get(field_name, "")).lower() == wanted
            ),
            None,
        )


def _require(sobject: SObjectType, values: dict, *, every: bool) -> None:
    """Required fields must be set on create (`every`) and never blanked on update."""
    missing = sorted(
        name
        for name in sobject.required
        if (every or name in values) and values.get(name) in (None, "")
    )
    if missing:
        message = f"Required fields are missing: [{', '.join(missing)}]"
        raise RecordError("REQUIRED_FIELD_MISSING", message, missing)


def record_error(
    code: str, message: str, fields: list[str] | None = None, id: str | None = None
) -> dict:
    return {
        "id": id,
        "success": False,
        "errors": [{"statusCode": code, "message": message, "fields": fields or []}],
    }
