"""What a PostgreSQL table accepts, from PostgreSQL's own documentation."""

from __future__ import annotations

from activations.destination import Capabilities
from activations.destinations.webhook.capabilities import WAYMARK_IDENTIFIERS

CAPABILITIES = Capabilities(
    # Columns of any type: every Waymark identifier can be a column.
    identifiers=WAYMARK_IDENTIFIERS,
    hashing=None,
    # INSERT ... ON CONFLICT DO UPDATE / DO NOTHING, UPDATE and DELETE cover all four modes
    # (https://www.postgresql.org/docs/current/sql-insert.html#SQL-ON-CONFLICT).
    sync_modes=frozenset({"upsert", "update_only", "add_only", "mirror"}),
    journey_sends=False,
    # One transaction per batch. The extended protocol allows 65,535 parameters per statement
    # (Bind's parameter count is an Int16, https://www.postgresql.org/docs/current/protocol-message-formats.html);
    # rows are sent one statement each in a pipeline, so the limit is the transaction's size.
    max_batch_size=1000,
    rate_limit=None,
    # Each row stores the op id that last wrote it (`_waymark_op_id`); an upsert whose op id is
    # already there changes nothing (ON CONFLICT ... WHERE), and a DELETE repeated deletes nothing.
    idempotent=True,
    removal=True,
    # A cleared field is written NULL; a field left out keeps the column's value on update.
    clears_fields=True,
)
