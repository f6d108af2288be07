"""Right-to-erasure requests: recorded in the warehouse, enforced wherever Waymark sends.

A request arrives the way the rest of the warehouse's data does: typed in with `waymark forget`
or landed as rows of a relation (a privacy tool's export, a support form) that
`waymark syncs erase --requests-from schema.table` imports, once per external reference. It
is kept in `activations.deletion_requests` and names a customer by `customer_id`, by an email
address or by a phone number. Addresses are kept only as the SHA-256 of their normalised form:
enough to recognise the person again (a re-import of old data, identity resolution moving them to
a new customer id), nothing to read back.

From the moment a request is recorded, every sync and every journey send drops the customer
with the reason `deleted:erasure_request` (`activations.consent.decided_sql`), whatever the
purpose and whatever `as_of` a run is replayed at: an erasure is not undone by looking at an
earlier instant. Removing what destinations already hold is `activations.erasure_run`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

import duckdb

from activations.consent import CUSTOMERS, NO_ERASURES
from activations.sync_files import RELATION_PATTERN, relation_parts
from activations.tables import SCHEMA, erasure_tables_exist
from waymark.identifiers import normalize_email, normalize_phone_e164

REQUESTS = f"{SCHEMA}.deletion_requests"
AUDIT = f"{SCHEMA}.deletion_audit"
IDENTIFIERS = "marts.customer_identifiers"


class ErasureRequestError(ValueError):
    """A request that cannot be recorded: nothing names the person, or an address is invalid."""


@dataclass(frozen=True)
class ErasureRequest:
    request_id: str
    customer_id: str | None
    email_sha256: str | None
    phone_sha256: str | None
    requested_at: datetime
    attempts: int


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def record_request(
    con: duckdb.DuckDBPyConnection,
    *,
    customer_id: str | None,
    email: str | None = None,
    phone: str | None = None,
    country: str | None = None,
    requested_at: datetime,
    received_at: datetime,
    source: str = "cli",
    external_ref: str | None = None,
) -> tuple[str, bool]:
    """Record one request; returns (request_id, whether it is new). A request with an
    `external_ref` already recorded from the same source is not recorded twice."""
    customer_id = (customer_id or "").strip() or None
    email_hash = phone_hash = None
    if email is not None and email.strip():
        normalised = normalize_email(email)
        if normalised is None:
            raise ErasureRequestError(f"email: '{email}' is not an email address")
        email_hash = sha256_hex(normalised)
    if phone is not None and phone.strip():
        e164 = normalize_phone_e164(phone, country)
        if e164 is None:
            raise ErasureRequestError(f"phone: '{phone}' does not normalise to E.164")
        phone_hash = sha256_hex(e164)
    if customer_id is None and email_hash is None and phone_hash is None:
        raise ErasureRequestError("a request names a customer id, an email or a phone")
    identity = external_ref or f"{customer_id}|{email_hash}|{phone_hash}|{received_at}"
    request_id = "del_" + sha256_hex(f"{source}|{identity}")[:20]
    inserted = con.execute(
        f"""
        insert into {REQUESTS} (request_id, customer_id, email_sha256, phone_sha256,
            requested_at, received_at, source, external_ref, status, attempts)
        values (?, ?, ?, ?, ?, ?, ?, ?, 'open', 0)
        on conflict (request_id) do nothing
        returning request_id
        """,
        [
            request_id,
            customer_id,
            email_hash,
            phone_hash,
            requested_at,
            received_at,
            source,
            external_ref,
        ],
    ).fetchall()
    return request_id, bool(inserted)


IMPORT_COLUMNS = ("request_ref", "customer_id", "email", "phone", "requested_at")


def import_requests(con: duckdb.DuckDBPyConnection, relation: str, received_at: datetime) -> int:
    """Record the rows of a landed relation with columns `request_ref` (unique per request in
    the tool it comes from), `requested_at`, and any of `customer_id`, `email`, `phone`. Rows
    already imported are skipped; a bad row fails the import naming its `request_ref`."""
    if not re.match(RELATION_PATTERN, relation):
        raise ErasureRequestError(f"--requests-from: '{relation}' is not written schema.name")
    schema, name = relation_parts(relation)
    present = {
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            [schema, name],
        ).fetchall()
    }
    if not present:
        raise ErasureRequestError(f"--requests-from: relation {relation} does not exist")
    missing = [c for c in ("request_ref", "requested_at") if c not in present]
    if missing:
        raise ErasureRequestError(f"{relation}: no column {', '.join(missing)}")
    selected = ", ".join(
        f'cast("{c}" as varchar)' if c in present else "null" for c in IMPORT_COLUMNS[:4]
    )
    rows = con.execute(
        f'select {selected}, cast("requested_at" as timestamp) from "{schema}"."{name}" '
        "order by 5, 1"
    ).fetchall()
    recorded = 0
    for ref, customer_id, email, phone, requested_at in rows:
        if ref is None or requested_at is None:
            raise ErasureRequestError(f"{relation}: a row has no request_ref or requested_at")
        try:
            _, new = record_request(
                con,
                customer_id=customer_id,
                email=email,
                phone=phone,
                requested_at=requested_at,
                received_at=received_at,
                source=relation,
                external_ref=ref,
            )
        except ErasureRequestError as error:
            raise ErasureRequestError(f"{relation}: request_ref {ref}: {error}") from None
        recorded += int(new)
    return recorded


def open_requests(con: duckdb.DuckDBPyConnection) -> list[ErasureRequest]:
    rows = con.execute(
        f"select request_id, customer_id, email_sha256, phone_sha256, requested_at, attempts "
        f"from {REQUESTS} where status = 'open' order by requested_at, request_id"
    ).fetchall()
    return [ErasureRequest(*row) for row in rows]


def resolved_customers(con: duckdb.DuckDBPyConnection, request: ErasureRequest) -> list[str]:
    """The customer ids a request covers: the one it names and every customer holding its
    address, as golden email or phone or as any identifier of the identity graph."""
    rows = con.execute(
        f"""
        with requests as (select * from {REQUESTS} where request_id = ?)
        select distinct customer_id from {_matching_sql(con, "requests")} as matched
        where customer_id is not null order by 1
        """,
        [request.request_id],
    ).fetchall()
    return [row[0] for row in rows]


def erased_customers_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A subquery of the customer ids every recorded request covers, for the sending path. No
    requests (or no table, in a warehouse opened read-only) cost nothing."""
    if not erasure_tables_exist(con):
        return NO_ERASURES
    found = con.execute(
        f"select count(*), count(email_sha256), count(phone_sha256) from {REQUESTS}"
    ).fetchone()
    if not found or not found[0]:
        return NO_ERASURES
    return _matching_sql(con, REQUESTS, emails=bool(found[1]), phones=bool(found[2]))


def _matching_sql(
    con: duckdb.DuckDBPyConnection, requests: str, *, emails: bool = True, phones: bool = True
) -> str:
    """Customer ids matched by the rows of `requests`. Golden addresses and identifier values
    are normalised in the marts by the same rules requests are (`waymark.identifiers`)."""
    parts = [f"select customer_id from {requests} as requests"]
    for wanted, kind in ((emails, "email"), (phones, "phone")):
        if not wanted:
            continue
        if _relation_exists(con, CUSTOMERS):
            parts.append(
                f"select customers.customer_id from {CUSTOMERS} as customers "
                f"inner join {requests} as requests "
                f"on requests.{kind}_sha256 = sha256(customers.{kind})"
            )
        if _relation_exists(con, IDENTIFIERS):
            parts.append(
                f"select identifiers.customer_id from {IDENTIFIERS} as identifiers "
                f"inner join {requests} as requests "
                f"on requests.{kind}_sha256 = sha256(identifiers.identifier_value) "
                f"and identifiers.identifier_type = '{kind}'"
            )
    return "(" + " union ".join(parts) + ")"


def _relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, name = relation_parts(relation)
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
        "union all select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
        [schema, name, schema, name],
    ).fetchall()
    return any(row[0] for row in found)
