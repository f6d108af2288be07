"""Right-to-erasure requests: recorded in the warehouse, enforced wherever Waymark sends.

A request arrives the way the rest of the warehouse's data does: typed in with `waymark forget`
or landed as rows of a relation (a privacy tool's export, a support form) that
`waymark syncs erase --requests-from schema.table` imports, once per external reference. It
is kept in `activations.deletion_requests` and names a customer by `customer_id`, by an email
address or by a phone number. Addresses are kept only as the SHA-256 of their normalised form:
enough to recognise the person again (a re-import of old data, identity resolution moving them to
a new customer id), nothing to read back. Comparing SHA-256 digests means hashing every
customer's address on every run; each request therefore also keeps DuckDB's fast 64-bit
`hash()` of the address, which finds the few candidate customers, whose SHA-256 then decides.
A canary (`hash()` of a constant, kept with the request) shows whether DuckDB still hashes as it
did when the request was recorded; if not, that request is matched by SHA-256 alone.

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
QUICK_CANARY = "waymark erasure quick hash"


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
    email_value = phone_value = email_hash = phone_hash = None
    if email is not None and email.strip():
        email_value = normalize_email(email)
        if email_value is None:
            raise ErasureRequestError(f"email: '{email}' is not an email address")
        email_hash = sha256_hex(email_value)
    if phone is not None and phone.strip():
        phone_value = normalize_phone_e164(phone, country)
        if phone_value is None:
            raise ErasureRequestError(f"phone: '{phone}' does not normalise to E.164")
        phone_hash = sha256_hex(phone_value)
    if customer_id is None and email_hash is None and phone_hash is None:
        raise ErasureRequestError("a request names a customer id, an email or a phone")
    identity = external_ref or f"{customer_id}|{email_hash}|{phone_hash}|{received_at}"
    request_id = "del_" + sha256_hex(f"{source}|{identity}")[:20]
    inserted = con.execute(
        f"""
        insert into {REQUESTS} (request_id, customer_id, email_sha256, phone_sha256,
            email_quick, phone_quick, quick_canary, requested_at, received_at, source,
            external_ref, status, attempts)
        values (?, ?, ?, ?, hash(cast(? as varchar)), hash(cast(? as varchar)), hash(?), ?, ?,
            ?, ?, 'open', 0)
        on conflict (request_id) do nothing
        returning request_id
        """,
        [
            request_id,
            customer_id,
            email_hash,
            phone_hash,
            email_value,
            phone_value,
            QUICK_CANARY,
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
        select distinct customer_id
        from {_matching_sql(con, "requests", stale=_stale(con, request.request_id))} as matched
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
    return _matching_sql(
        con, REQUESTS, emails=bool(found[1]), phones=bool(found[2]), stale=_stale(con)
    )


def _matching_sql(
    con: duckdb.DuckDBPyConnection,
    requests: str,
    *,
    emails: bool = True,
    phones: bool = True,
    stale: bool = True,
) -> str:
    """Customer ids matched by the rows of `requests`. Golden addresses and identifier values
    are normalised in the marts by the same rules requests are (`waymark.identifiers`).
    `stale`: some requests' fast hashes are no longer comparable and need SHA-256 alone."""
    canary = int(con.execute("select hash(?)", [QUICK_CANARY]).fetchone()[0])
    parts = [f"select customer_id from {requests} as requests"]
    for wanted, kind in ((emails, "email"), (phones, "phone")):
        if not wanted:
            continue
        sources = []
        if _relation_exists(con, CUSTOMERS):
            sources.append((CUSTOMERS, kind, "true"))
        if _relation_exists(con, IDENTIFIERS):
            sources.append((IDENTIFIERS, "identifier_value", f"identifier_type = '{kind}'"))
        for relation, column, condition in sources:
            # Candidates by the fast hash, then decided by SHA-256 (materialized, so that the
            # engine does not turn the SHA-256 test into a join key computed for everyone).
            parts.append(
                f"""select customer_id from (
                    with candidates as materialized (
                        select found.customer_id, found.{column} as value,
                            requests.{kind}_sha256 as digest
                        from {relation} as found
                        inner join {requests} as requests
                            on requests.{kind}_quick = hash(found.{column})
                            and requests.quick_canary = {canary}
                        where {condition}
                    )
                    select customer_id from candidates where sha256(value) = digest
                )"""
            )
            if stale:
                parts.append(
                    f"select found.customer_id from {relation} as found "
                    f"inner join {requests} as requests "
                    f"on requests.{kind}_sha256 = sha256(found.{column}) "
                    f"where {condition} and requests.quick_canary is distinct from {canary}"
                )
    return "(" + " union ".join(parts) + ")"


def _stale(con: duckdb.DuckDBPyConnection, request_id: str | None = None) -> bool:
    canary = con.execute("select hash(?)", [QUICK_CANARY]).fetchone()[0]
    found = con.execute(
        f"select count(*) from {REQUESTS} where quick_canary is distinct from ? "
        "and (? is null or request_id = ?)",
        [canary, request_id, request_id],
    ).fetchone()
    return bool(found and found[0])


def _relation_exists(con: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, name = relation_parts(relation)
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ? "
        "union all select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
        [schema, name, schema, name],
    ).fetchall()
    return any(row[0] for row in found)
