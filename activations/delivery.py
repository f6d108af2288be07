"""Getting one batch to a destination: pacing, retries with backoff and jitter, Retry-After.

Transient failures (rate limits, timeouts, 5xx, dropped connections) are retried within the run
with exponential backoff and full jitter, waiting at least as long as the destination's
Retry-After asks. A Retry-After longer than `max_wait` ends the run's attempts instead of
blocking it: the operation stays transient and the next run retries it with the latest values.
Permanent failures are never retried here; the caller records them.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from activations.destination import (
    DeliveryError,
    Destination,
    Operation,
    OperationResult,
    RateLimit,
)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    """Calls per operation within one run (the first try included)."""
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_wait: float = 120.0
    """The longest Retry-After honoured within a run; longer waits defer to the next run."""


class Pacer:
    """At most `rate.requests` calls in any window of `rate.per_seconds`: the rolling windows
    vendors publish (HubSpot's 100 per 10 seconds). A token bucket of the same size would let
    twice that through the first window."""

    def __init__(
        self,
        rate: RateLimit | None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.sent: deque[float] = deque()

    def acquire(self) -> None:
        if self.rate is None:
            return
        if len(self.sent) >= self.rate.requests:
            wait = self.sent[0] + self.rate.per_seconds - self.clock()
            if wait > 0:
                self.sleep(wait)
            self.sent.popleft()
        self.sent.append(self.clock())


def effective_rate(
    published: RateLimit | None, requests_per_second: float | None
) -> RateLimit | None:
    """The stricter of the destination's published limit and a configured pace."""
    if requests_per_second is None:
        return published
    configured = RateLimit(1, 1 / requests_per_second)
    if published is None:
        return configured
    published_rate = published.requests / published.per_seconds
    return configured if requests_per_second < published_rate else published


@dataclass
class DeliveryStats:
    requests: int = 0
    retries: int = 0
    waits: list[float] = field(default_factory=list)


@dataclass
class Deliverer:
    """Delivers batches to one open destination under one retry policy and pace."""

    destination: Destination
    policy: RetryPolicy
    pacer: Pacer
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    stats: DeliveryStats = field(default_factory=DeliveryStats)

    def deliver(self, batch: Sequence[Operation]) -> dict[str, tuple[OperationResult, int]]:
        """Final result and number of attempts per op_id."""
        final: dict[str, tuple[OperationResult, int]] = {}
        # An attempt that may have taken effect keeps the operation ambiguous even if a later
        # attempt succeeds: at a destination without idempotency that is a possible duplicate.
        ambiguous: set[str] = set()
        pending = list(batch)
        for attempt in range(1, self.policy.max_attempts + 1):
            self.pacer.acquire()
            self.stats.requests += 1
            try:
                results = self.destination.deliver(pending)
            except DeliveryError as error:
                results = [OperationResult.failed(op.op_id, error) for op in pending]
            retry: list[Operation] = []
            waits: list[float] = []
            for op, result in zip(pending, results, strict=True):
                if result.ambiguous:
                    ambiguous.add(op.op_id)
                elif op.op_id in ambiguous:
                    result = replace(result, ambiguous=True)
                final[op.op_id] = (result, attempt)
                if not result.ok and result.transient:
                    retry.append(op)
                    waits.append(result.retry_after or 0.0)
            if not retry or attempt == self.policy.max_attempts:
                break
            wait = max(self._backoff(attempt), max(waits))
            if wait > self.policy.max_wait:
                break
            self.stats.retries += 1
            self.stats.waits.append(wait)
            self.sleep(wait)
            pending = retry
        return final

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.policy.max_delay, self.policy.base_delay * 2 ** (attempt - 1))
        return self.rng.uniform(0, ceiling)
