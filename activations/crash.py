"""Named points where a run can be made to die, for proving that no effect is lost or doubled.

The delivery code calls `point(name)` between its durable steps. Nothing happens unless a hook
is installed: tests install one that raises `SimulatedCrash` (in process) or kills the process
with SIGKILL (in a subprocess), then run again and count effects at the destination.

Points: `sync.before_send` (operations marked in flight, nothing sent), `sync.after_send`
(destination answered, nothing recorded), `sync.after_record`, `send.before_send`,
`send.after_send`, `erasure.after_removals` (an erasure run recorded, not yet audited), and
inside clients `postgres.before_commit`, `files.after_delta`,
`webhook.after_request`, `smtp.after_data`, `meta.after_request`, `google_ads.after_request`,
`hubspot.after_request`, `salesforce.after_request`, `sendgrid.after_request`,
`twilio.after_request`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

_hook: Callable[[str], None] | None = None


class SimulatedCrash(BaseException):  # noqa: N818 - a crash, not an error to handle
    """Raised by test hooks; a BaseException so that no `except Exception` can swallow it."""


def point(name: str) -> None:
    if _hook is not None:
        _hook(name)


@contextmanager
def installed(hook: Callable[[str], None]) -> Iterator[None]:
    global _hook
    previous, _hook = _hook, hook
    try:
        yield
    finally:
        _hook = previous


def crash_at(name: str, occurrence: int = 1) -> Callable[[str], None]:
    """A hook that raises `SimulatedCrash` the `occurrence`-th time `name` is reached."""
    seen = 0

    def hook(reached: str) -> None:
        nonlocal seen
        if reached == name:
            seen += 1
            if seen == occurrence:
                raise SimulatedCrash(name)

    return hook
