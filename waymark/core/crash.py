"""Named points where a run can be made to die, for proving that no effect is lost or doubled.

Code that writes in several durable steps (a journey tick, a sync, a send, an erasure) calls
`point(name)` between them. Nothing happens unless a hook is installed: tests install one that
raises `SimulatedCrash` (in process, `crash_at`) or kills the process with SIGKILL (in a
subprocess), then run again and compare the effects with an uninterrupted run. Each package
lists the points it calls beside the code that calls them: the journey engine in
`waymark/journeys/engine/tick.py` (`CRASH_POINTS`), activations in `activations/__init__.py`.
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
