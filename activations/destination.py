"""The one protocol every destination implements, and the capabilities it declares as data.

The sync engine and the journey-send pipeline talk to destinations only through `Destination`
and read `Capabilities` to decide batch sizes, pacing, which sync modes a sync file may ask for
and whether a replayed operation is safe. No code outside `activations/destinations/<kind>/`
knows a destination by name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from activations.pii import Platform

SyncMode = Literal["upsert", "update_only", "add_only", "mirror"]
"""upsert: create and update; update_only: change records that exist at the destination;
add_only: create new records only; mirror: create, update and remove so the destination equals
the source."""

OperationKind = Literal["upsert", "update", "insert", "remove", "send"]
"""What one operation asks of the destination; `send` is a journey message from the outbox."""

SYNC_MODES: tuple[SyncMode, ...] = ("upsert", "update_only", "add_only", "mirror")


@dataclass(frozen=True)
class RateLimit:
    """At most `requests` calls to the destination per `per_seconds`."""

    requests: int
    per_seconds: float


@dataclass(frozen=True)
class Capabilities:
    """What a destination accepts, declared beside its client with the vendor's reference."""

    identifiers: frozenset[str]
    """Identifier types an audience sync may send as fields (`email`, `phone`, ...)."""
    hashing: Platform | None
    """Whose normalise-then-SHA-256 rules identifiers must pass (`activations.pii`); None: plain."""
    sync_modes: frozenset[SyncMode]
    """Sync modes the destination can honour; empty for send-only destinations."""
    journey_sends: bool
    """Whether journey messages from the outbox may be sent here."""
    max_batch_size: int
    """Operations per call; also the number of operations that can be in flight at a crash."""
    rate_limit: RateLimit | None
    """The destination's published limit; a destination's config may lower it, never raise it."""
    idempotent: bool
    """Whether replaying an operation with the same `op_id` has no second effect. When False, an
    operation replayed after a crash may be duplicated and is flagged ambiguous in the log."""
    removal: bool
    """Whether records can be removed (needed by `mirror`)."""
    needs_previous: bool = False
    """Whether removals and changes must repeat what was last delivered (an audience matches
    members on their hashed identifiers; a CRM finds a record by its old email). The engine
    then keeps the delivered payload in `sync_state` and passes it as `Operation.previous`."""
    clears_fields: bool = False
    """Whether a record's field can be cleared at the destination (a CRM property, a column),
    so that a sync may declare `on_null: {field: clear}`. A null value is otherwise left out of
    the payload and the destination keeps what it holds (people edit CRMs by hand). Audiences
    match members on identifiers and have nothing to clear."""


@dataclass(frozen=True)
class SyncTarget:
    """What a sync writes at its destination: an audience, a table, a folder, a kind of record.

    Each destination declares how its settings name it (`Connector.target`), so validation can
    refuse two syncs filling one audience from different models, and dry runs and the asset
    page can say where the rows go without knowing any destination by name."""

    noun: str
    """What it is at the destination, such as `Custom Audience` or `table`."""
    identity: str
    """Where it is, spelled so that two syncs writing the same thing have equal identities."""
    name: str | None = None
    """The name the project's config gives it, when it has one (Meta's `audiences`)."""

    def __str__(self) -> str:
        return f"{self.noun} {self.identity}" + (f" ({self.name})" if self.name else "")


@dataclass(frozen=True)
class Operation:
    """One record operation or one message, identified by an idempotency key."""

    op_id: str
    """Idempotency key: the same operation replayed carries the same id."""
    kind: OperationKind
    record_key: str
    payload: Mapping[str, Any]
    """Mapped fields for a sync, the rendered message for a send. A sync field whose value is
    null is absent unless its sync declares `on_null: clear`; then it is present as None, and
    the destination sends its own way of clearing a value."""
    run_id: str
    """The run that planned the operation (a replay keeps it, so its effects keep their names)."""
    source: str
    """The sync name, or `journey` for outbox sends."""
    customer_id: str | None = None
    purpose: str | None = None
    previous: Mapping[str, Any] | None = None
    """What the destination holds for the record as last delivered, for destinations whose
    capabilities set `needs_previous`; None when nothing was delivered (or it is not kept)."""


@dataclass(frozen=True)
class OperationResult:
    """The destination's answer for one operation."""

    op_id: str
    ok: bool
    transient: bool = False
    """A failure worth retrying (rate limit, outage); otherwise the record itself was refused."""
    error_code: str | None = None
    error_message: str | None = None
    retry_after: float | None = None
    """Seconds the destination asked us to wait (HTTP Retry-After)."""
    ambiguous: bool = False
    """The operation may have taken effect although no success was seen."""

    @classmethod
    def success(cls, op_id: str) -> OperationResult:
        return cls(op_id, True)

    @classmethod
    def unbuildable(cls, op_id: str, error: Exception) -> OperationResult:
        """The answer for a message that cannot be made into what the destination takes: it
        is refused alone and for good, so the rest of the run proceeds, with the builder's own
        words (`InvalidMessage`) or the error that stopped it."""
        reason = (
            str(error) if isinstance(error, InvalidMessage) else f"{type(error).__name__}: {error}"
        )
        return cls(op_id, False, error_code="invalid_message", error_message=reason)

    @classmethod
    def failed(cls, op_id: str, error: DeliveryError) -> OperationResult:
        """The answer for an operation whose whole call failed."""
        return cls(
            op_id,
            False,
            transient=error.transient,
            error_code=error.code,
            error_message=error.message,
            retry_after=error.retry_after,
            ambiguous=error.ambiguous,
        )


class InvalidMessage(ValueError):
    """The outbox payload cannot make a message for the destination (no recipient, no text)."""


class DeliveryError(Exception):
    """A whole call failed (connection refused, 5xx, bad credentials), not one record."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        transient: bool,
        retry_after: float | None = None,
        ambiguous: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.transient = transient
        self.retry_after = retry_after
        self.ambiguous = ambiguous


@dataclass(frozen=True)
class SyncContext:
    """What a destination needs to know about the sync it serves (None for journey sends)."""

    name: str
    mode: SyncMode
    key_field: str
    """The name the record key has at the destination (the sync file's `key`)."""
    field_types: Mapping[str, str] = field(default_factory=dict)
    """Mapped field name -> warehouse type (DuckDB spelling, such as `VARCHAR`)."""
    settings: Any = None
    """The destination's typed per-sync settings (the sync file's `settings`)."""
    clears: frozenset[str] = frozenset()
    """Fields whose null clears the destination's value (`on_null: clear`). Every other field
    whose value is null is absent from `Operation.payload`."""


class Destination(Protocol):
    """A connected client. `deliver` is called with at most `max_batch_size` operations."""

    capabilities: Capabilities

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        """Apply the batch; one result per operation, in order. Raises `DeliveryError` when the
        call as a whole failed, so that the caller retries or gives up on every operation."""
        ...

    def finish(self, run_id: str) -> None:
        """Called once after the run's last batch (files write their snapshot here)."""
        ...

    def close(self) -> None: ...


class DestinationUnavailable(RuntimeError):
    """The destination cannot be used at all (bad URL, credentials refused). The run fails
    without charging any record with a rejection; its operations are retried next run."""
