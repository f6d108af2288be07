"""Pacing and retries of `activations.delivery`, against a simulated clock."""

from __future__ import annotations

from activations.delivery import Pacer, effective_rate
from activations.destination import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_no_rolling_window_holds_more_calls_than_the_limit() -> None:
    clock = Clock()
    pacer = Pacer(RateLimit(100, 10.0), clock, clock.sleep)
    times = []
    for _ in range(350):
        pacer.acquire()
        times.append(clock.now)
        clock.now += 0.001  # each call takes a moment
    windows = [sum(1 for t in times if start <= t < start + 10.0) for start in times]
    assert max(windows) == 100
    assert times[99] < 1.0  # a burst is allowed...
    assert 10.0 <= times[100] < 10.2  # ...then the 101st waits for the window to roll
    assert times[-1] < 31.0


def test_a_configured_pace_spaces_every_call() -> None:
    clock = Clock()
    pacer = Pacer(effective_rate(RateLimit(100, 10.0), 2.0), clock, clock.sleep)
    times = []
    for _ in range(5):
        pacer.acquire()
        times.append(clock.now)
    assert times == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_no_limit_never_waits() -> None:
    clock = Clock()
    pacer = Pacer(None, clock, clock.sleep)
    for _ in range(1000):
        pacer.acquire()
    assert clock.now == 0.0
