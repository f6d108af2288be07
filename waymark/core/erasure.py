"""Which customer ids right-to-erasure requests cover: the one rule every sending path applies.

Requests are recorded by `activations.erasure` in `activations.deletion_requests`. Each names a
customer id, an email or a phone, and keeps in `activations.deletion_identifiers` every
identifier the customers it covered held when it was recorded (anonymous ids, user ids, CRM ids,
emails, phones), each only as the SHA-256 of its normalised value. A request covers:

1. the customer id it names;
2. every customer who holds one of its identifiers now: `marts.customer_identifiers`, and the
   golden email and phone of `marts.customers`;
3. every customer id `marts.customer_id_history` has ever mapped one of them to, before or after
   the request: as `customer_id`, and as the `previous_customer_id` it merged or moved from.

Identity resolution therefore cannot lead the person out of their erasure: a merge that gives
them another customer id, any later merge or move, and a `--full-refresh` that derives every id
afresh all leave their identifiers with whoever they now are, and the history outlives full
refreshes. Over-covering is the chosen side: a customer who once held an erased identifier
stays dropped.

Comparing SHA-256 digests means hashing every identifier the warehouse holds; each stored
digest therefore comes with DuckDB's fast 64-bit `hash()` of the same value, which finds the
few candidates whose SHA-256 then decides. A canary (`hash()` of a constant, stored beside each
fast hash) shows whether DuckDB still hashes as it did; a request whose canary no longer
matches is compared by SHA-256 alone.

The journey engine (its send decision) and activations (sync plans, journey-send delivery,
erasure processing) both read this module, so neither imports the other.
"""

from __future__ import annotations

import duckdb

REQUESTS = "activations.deletion_requests"
REQUEST_IDENTIFIERS = "activations.deletion_identifiers"
CUSTOMERS = "marts.customers"
CUSTOMER_IDENTIFIERS = "marts.customer_identifiers"
CUSTOMER_ID_HISTORY = "marts.customer_id_history"
QUICK_CANARY = "waymark erasure quick hash"
ERASURE_REASON = "deleted:erasure_request"
"""Why a covered customer's row or message is dropped, in every log that records drops."""
NO_COVERAGE = (
    "(select cast(null as varchar) as request_id, cast(null as varchar) as customer_id where false)"
)


def quick_canary(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select hash(?)", [QUICK_CANARY]).fetchone()[0])


def existing_relations(con: duckdb.DuckDBPyConnection, catalog: str | None = None) -> set[str]:
    """Which of the relations erasure reads exist (`schema.name`), in `catalog` (an attached
    database) or in the connection's own database: one catalogue query for all of them."""
    wanted = [REQUESTS, REQUEST_IDENTIFIERS, CUSTOMERS, CUSTOMER_IDENTIFIERS, CUSTOMER_ID_HISTORY]
    rows = con.execute(
        "select schema_name || '.' || table_name from duckdb_tables() "
        "where database_name = coalesce(?, current_database()) "
        "union all select schema_name || '.' || view_name from duckdb_views() "
        "where database_name = coalesce(?, current_database())",
        [catalog, catalog],
    ).fetchall()
    return {row[0] for row in rows} & set(wanted)


def held_identifiers_sql(
    existing: set[str], *, catalog: str | None = None, among: str | None = None
) -> str | None:
    """Every (customer_id, identifier_type, identifier_value) the warehouse knows, current and
    past, from whichever of the identity marts exist (`existing_relations`); None when none
    does. `among`: a relation whose `customer_id`s limit the rows (the few customers a caller is
    deciding for)."""
    prefix = f"{catalog}." if catalog else ""
    within = f" and {{}} in (select customer_id from {among})" if among else ""
    parts = []
    if CUSTOMER_IDENTIFIERS in existing:
        parts.append(
            "select customer_id, identifier_type, identifier_value "
            f"from {prefix}{CUSTOMER_IDENTIFIERS} where true" + within.format("customer_id")
        )
    if CUSTOMER_ID_HISTORY in existing:
        for column in ("customer_id", "previous_customer_id"):
            parts.append(
                f"select {column} as customer_id, identifier_type, identifier_value "
                f"from {prefix}{CUSTOMER_ID_HISTORY} where {column} is not null"
                + within.format(column)
            )
    if CUSTOMERS in existing:
        for kind in ("email", "phone"):
            parts.append(
                f"select customer_id, '{kind}' as identifier_type, {kind} as identifier_value "
                f"from {prefix}{CUSTOMERS} where {kind} is not null" + within.format("customer_id")
            )
    return " union all ".join(parts) if parts else None


def covered_customers_sql(
    con: duckdb.DuckDBPyConnection,
    *,
    catalog: str | None = None,
    among: str | None = None,
    request_id: str | None = None,
) -> str:
    """A subquery of (request_id, customer_id): every customer id each request covers (see the
    module docstring), or only `request_id`'s. No request table (a warehouse that never had a
    request, or one opened read-only before activations created it) costs nothing."""
    prefix = f"{catalog}." if catalog else ""
    existing = existing_relations(con, catalog)
    if REQUESTS not in existing:
        return NO_COVERAGE
    only = ""
    if request_id is not None:
        only = " where request_id = '{}'".format(request_id.replace("'", "''"))
    requests = f"(select * from {prefix}{REQUESTS}{only})"
    named = (
        f"select request_id, customer_id from {requests} as requests where customer_id is not null"
    )
    if among:
        named += f" and customer_id in (select customer_id from {among})"
    wanted = [
        f"select request_id, '{kind}' as identifier_type, {kind}_sha256 as digest, "
        f"{kind}_quick as quick, quick_canary from {requests} as requests "
        f"where {kind}_sha256 is not null"
        for kind in ("email", "phone")
    ]
    if REQUEST_IDENTIFIERS in existing:
        wanted.append(
            "select request_id, identifier_type, identifier_sha256 as digest, "
            "identifier_quick as quick, quick_canary "
            f"from (select * from {prefix}{REQUEST_IDENTIFIERS}{only}) as snapshot"
        )
    held = held_identifiers_sql(existing, catalog=catalog, among=among)
    if held is None:
        return f"({named})"
    canary = quick_canary(con)
    by_sha256 = ""
    if _stale(con, wanted, canary):
        # Digests stored by a DuckDB that hashed differently: compared by SHA-256 alone.
        by_sha256 = f"""
            union all
            select wanted.request_id, held.customer_id
            from held
            inner join wanted
                on wanted.digest = sha256(held.identifier_value)
                and wanted.identifier_type = held.identifier_type
            where wanted.quick_canary is distinct from {canary}"""
    return f"""(
        with wanted as ({" union all ".join(wanted)}),

        held as ({held}),

        -- Candidates by the fast hash, then decided by SHA-256. A digest is lower-case hex, so
        -- `like` compares it exactly; unlike `=`, the engine cannot make it a join key, which
        -- would compute SHA-256 for every identifier (five times slower at 1,000,000).
        candidates as (
            select wanted.request_id, held.customer_id, held.identifier_value, wanted.digest
            from held
            inner join wanted
                on wanted.quick = hash(held.identifier_value)
                and wanted.identifier_type = held.identifier_type
                and wanted.quick_canary = {canary}
        ),

        matched as (
            select request_id, customer_id from candidates
            where sha256(identifier_value) like digest{by_sha256}
            union all
            {named}
        )

        select distinct request_id, customer_id from matched
    )"""


def erased_customers_sql(
    con: duckdb.DuckDBPyConnection, *, catalog: str | None = None, among: str | None = None
) -> str:
    """A subquery of the distinct `customer_id`s any request covers, for the sending paths."""
    covered = covered_customers_sql(con, catalog=catalog, among=among)
    return f"(select distinct customer_id from {covered} as covered)"


def _stale(con: duckdb.DuckDBPyConnection, wanted: list[str], canary: int) -> bool:
    found = con.execute(
        f"select count(*) from ({' union all '.join(wanted)}) as wanted "
        "where quick_canary is distinct from ?",
        [canary],
    ).fetchone()
    return bool(found and found[0])
