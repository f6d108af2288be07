"""Right-to-erasure requests: recorded in the warehouse, enforced wherever Waymark sends.

A request arrives the way the rest of the warehouse's data does: typed in with `waymark forget`
or landed as rows of a relation (a privacy tool's export, a support form) that
`waymark syncs erase --requests-from schema.table` imports, once per external reference. It
is kept in `activations.deletion_requests` and names a customer by `customer_id`, by an email
address or by a phone number. Addresses are kept only as the SHA-256 of their normalised form:
enough to recognise the person again, nothing to read back.

When it is recorded, a request also keeps every identifier the customers it covers hold at that
moment (`activations.deletion_identifiers`, hashed the same way): the person is then recognised
by those identifiers and by every customer id `marts.customer_id_history` maps them to, whatever
identity resolution does later (`waymark.core.erasure`). A customer id that is neither a customer
nor in the history, with no address to match, is refused: a typo must not look like an erasure.

From the moment a request is recorded, every sync and every journey send drops the customer
with the reason `deleted:erasure_request` (`activations.consent.decided_sql`, and the journey
engine's send decision), whatever the purpose and whatever `as_of` a run is replayed at: an
erasure is not undone by looking at an earlier instant. Removing what destinations already hold
is `activations.erasure_run`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from activations.sync_files import RELATION_PATTERN, relation_parts
from activations.tables import SCHEMA, ensure_tables
from waymark.core.erasure import (
    CUSTOMER_ID_HISTORY,
    CUSTOMER_IDENTIFIERS,
    CUSTOMERS,
    QUICK_CANARY,
    REQUEST_IDENTIFIERS,
    REQUESTS,
    covered_customers_sql,
    existing_relations,
)
from waymark.core.identifiers import normalize_email, normalize_phone_e164

AUDIT = f"{SCHEMA}.deletion_audit"


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
    recorded = con.execute(
        f"select count(*) from {REQUESTS} where request_id = ?", [request_id]
    ).fetchone()
    if recorded and recorded[0]:
        return request_id, False
    if customer_id is not None and email_hash is None and phone_hash is None:
        _check_known(con, customer_id)
    # The request and the identifiers it resolves to are recorded together.
    con.execute("begin")
    try:
        inserted = con.execute(
            f"""
            insert into {REQUESTS} (request_id, customer_id, email_sha256, phone_sha256,
                email_quick, phone_quick, quick_canary, requested_at, received_at, source,
                external_ref, status, attempts)
            values (?, ?, ?, ?, hash(cast(? as varchar)), hash(cast(? as varchar)), hash(?),
                ?, ?, ?, ?, 'open', 0)
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
        if inserted:
            resolve_identifiers(con, request_id, received_at)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return request_id, bool(inserted)


def _check_known(con: duckdb.DuckDBPyConnection, customer_id: str) -> None:
    """Refuse a customer id that names nobody the warehouse knows or has known."""
    lookups = [
        (CUSTOMERS, "customer_id = ?"),
        (CUSTOMER_IDENTIFIERS, "customer_id = ?"),
        (CUSTOMER_ID_HISTORY, "(customer_id = ? or previous_customer_id = ?)"),
    ]
    existing = existing_relations(con)
    for relation, condition in lookups:
        if relation not in existing:
            continue
        found = con.execute(
            f"select count(*) from {relation} where {condition}",
            [customer_id] * condition.count("?"),
        ).fetchone()
        if found and found[0]:
            return
    raise ErasureRequestError(
        f"customer id '{customer_id}' is unknown: it is not in {CUSTOMERS} or "
        f"{CUSTOMER_ID_HISTORY}; check the id, or give an email or phone to match the person"
    )


def resolve_identifiers(con: duckdb.DuckDBPyConnection, request_id: str, now: datetime) -> int:
    """Keep, hashed, every identifier the customers the request covers hold now: a current
    customer's identifiers and golden addresses, and for a customer id that exists no more
    (merged away) the identifiers the history gave it. Returns how many were new."""
    existing = existing_relations(con)
    current = [r for r in (CUSTOMER_IDENTIFIERS, CUSTOMERS) if r in existing]
    held = []
    if CUSTOMER_IDENTIFIERS in current:
        held.append(
            f"select identifier_type, identifier_value from {CUSTOMER_IDENTIFIERS} "
            "where customer_id in (select customer_id from covered)"
        )
    if CUSTOMERS in current:
        held += [
            f"select '{kind}', {kind} from {CUSTOMERS} where {kind} is not null "
            "and customer_id in (select customer_id from covered)"
            for kind in ("email", "phone")
        ]
    if CUSTOMER_ID_HISTORY in existing:
        gone = "select customer_id from covered" + "".join(
            f" except select customer_id from {relation}" for relation in current
        )
        held += [
            f"select identifier_type, identifier_value from {CUSTOMER_ID_HISTORY} "
            f"where {column} in ({gone})"
            for column in ("customer_id", "previous_customer_id")
        ]
    found = []
    if held:
        found = con.execute(
            f"""
            insert into {REQUEST_IDENTIFIERS}
            with covered as (
                select customer_id from {covered_customers_sql(con, request_id=request_id)}
            ),
            kept (identifier_type, identifier_value) as ({" union ".join(held)})
            select distinct ?, identifier_type, sha256(identifier_value),
                hash(identifier_value), hash(?)
            from kept
            on conflict do nothing
            returning 1
            """,
            [request_id, QUICK_CANARY],
        ).fetchall()
    con.execute(f"update {REQUESTS} set resolved_at = ? where request_id = ?", [now, request_id])
    return len(found)


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


def requests_to_process(con: duckdb.DuckDBPyConnection) -> list[ErasureRequest]:
    """Open requests, and processed ones that now cover a customer id their last processing
    did not (identity resolution moved the person to it), oldest first."""
    covered = covered_customers_sql(con)
    rows = con.execute(
        f"""
        select request_id, customer_id, email_sha256, phone_sha256, requested_at, attempts
        from {REQUESTS} as requests
        where status = 'open' or exists (
            select 1 from {covered} as covered
            where covered.request_id = requests.request_id
                and not list_contains(coalesce(requests.covered_customers, []),
                    covered.customer_id)
        )
        order by requested_at, request_id
        """
    ).fetchall()
    return [ErasureRequest(*row) for row in rows]


def resolve_pending(con: duckdb.DuckDBPyConnection, now: datetime) -> None:
    """Requests recorded before they kept identifiers get them now, once."""
    pending = con.execute(f"select request_id from {REQUESTS} where resolved_at is null").fetchall()
    for (request_id,) in pending:
        resolve_identifiers(con, request_id, now)


def resolved_customers(con: duckdb.DuckDBPyConnection, request: ErasureRequest) -> list[str]:
    """The customer ids a request covers (`waymark.core.erasure`)."""
    covered = covered_customers_sql(con, request_id=request.request_id)
    rows = con.execute(f"select distinct customer_id from {covered} as covered order by 1")
    return [row[0] for row in rows.fetchall()]


def record_request_in(warehouse: Path, **request: Any) -> tuple[str, bool]:
    """`record_request` on the warehouse file, its tables created if this is the first."""
    with duckdb.connect(str(warehouse)) as con:
        ensure_tables(con)
        return record_request(con, **request)


def import_requests_into(warehouse: Path, relation: str, received_at: datetime) -> int:
    """`import_requests` on the warehouse file, its tables created if this is the first."""
    with duckdb.connect(str(warehouse)) as con:
        ensure_tables(con)
        return import_requests(con, relation, received_at)
