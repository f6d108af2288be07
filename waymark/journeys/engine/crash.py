"""Named points where a tick can be made to die, for proving that nothing is lost or doubled.

The engine calls `point(name)` between its writes. Nothing happens unless a hook is installed:
tests install one that raises `SimulatedCrash` (in process) or kills the process, then tick
again and compare the state with an uninterrupted run. The same pattern as activations' crash
points, kept here so the engine does not depend on the delivery package.

Points, in the order a tick reaches them: `tick.begin`, `tick.after_enrol`, `tick.after_exits`,
`tick.after_goals`, `tick.after_round` (every advance round), `tick.after_sends` (every batch of
send decisions), `tick.before_write`, `tick.after_instances`, `tick.after_step_log`,
`tick.after_outbox`, `tick.after_profiles`, `tick.after_watermarks`, `tick.before_commit`,
`tick.after_commit`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

_hook: Callable[[str], None] | None = None

POINTS = (
    "tick.begin",
    "tick.after_enrol",
    "tick.after_exits",
    "tick.after_goals",
    "tick.after_round",
    "tick.after_sends",
    "tick.before_write",
    "tick.after_instances",
    "tick.after_step_log",
    "tick.after_outbox",
    "tick.after_profiles",
    "tick.after_watermarks",
    "tick.before_commit",
    "tick.after_commit",
)


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
