"""What a folder of CSV and Parquet files accepts."""

from __future__ import annotations

from activations.destination import Capabilities
from activations.destinations.webhook.capabilities import WAYMARK_IDENTIFIERS

CAPABILITIES = Capabilities(
    identifiers=WAYMARK_IDENTIFIERS,
    hashing=None,
    # A file holds what was written, so "update only records that exist" has nothing to check
    # against outside our own snapshot; the three other modes are deltas plus a snapshot.
    sync_modes=frozenset({"upsert", "add_only", "mirror"}),
    journey_sends=False,
    # Each batch rewrites the current snapshot (current.parquet), so batches are large.
    # Formats: Apache Parquet (https://parquet.apache.org/docs/file-format/) and CSV with a
    # header row as RFC 4180 describes (https://www.rfc-editor.org/rfc/rfc4180).
    max_batch_size=50_000,
    rate_limit=None,
    # A batch's delta file is named by the run and the digest of its op ids, so a replayed batch
    # overwrites its own file; the snapshot is keyed by record, so applying it twice is a no-op.
    idempotent=True,
    removal=True,
    # A cleared field is null in the snapshot; a field left out keeps the snapshot's value.
    clears_fields=True,
)
