"""A tick interrupted at every write point, then run again, leaves exactly the state of a tick
that was never interrupted: no duplicate transitions or outbox rows, none lost.

In-process crashes raise `SimulatedCrash` (a BaseException) at each named point, at every
occurrence of points reached more than once per tick; a few real SIGKILLs of
`waymark journeys tick` subprocesses check the same against a real process death.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from engine_support import T0, EngineBench

from waymark.core import crash
from waymark.journeys.engine.tick import CRASH_POINTS

H = timedelta(hours=1)
TICKS = [T0 + k * 6 * H for k in range(9)]  # every six hours over two days
CRASH_TICKS = (1, 4)  # entries, first sends and delays; second sends, profiles, exits, goals

CART = """
name: cart_flow
description: holdout, wait for checkout, split, capped email in a window, SMS branch
priority: 20
entry: {event: [product_added, checkout_started]}
instance_key: properties.cart_id
goal: {event: order_completed, within: 2d}
exit_when: [{event: order_completed}]
send_window: {start: "08:00", end: "20:00", fallback_timezone: UTC}
frequency_caps: [{channel: email, max: 1, per: 1d, scope: global}]
steps:
  - {id: hold_out, holdout: {percent: 20}}
  - id: wait_checkout
    wait_until_event: {event: checkout_started, timeout: 4h, on_event: later, on_timeout: pick}
  - {id: later, wait: {duration: 2h}, next: pick}
  - id: pick
    split:
      variants:
        - {name: plain, weight: 1, next: plain_mail}
        - {name: coded, weight: 1, next: coded_mail}
  - id: plain_mail
    send: {channel: email, destination: email_smtp, template: cart_email, purpose: email_marketing}
    next: remember
  - id: coded_mail
    send:
      channel: email
      destination: email_smtp
      template: cart_email
      purpose: email_marketing
      params: {code: "C-{{ event.cart_id | upper }}"}
  - id: remember
    update_profile: {attribute: last_cart, value: "{{ event.cart_id }}"}
  - {id: a_day, wait: {duration: 1d}}
  - id: sms_ok
    branch:
      conditions:
        - when: {trait: sms_marketing_consent, op: eq, value: granted}
          next: sms
      else: done
  - id: sms
    send: {channel: sms, destination: sms_twilio, template: hello_sms, purpose: sms_marketing}
  - {id: tagged, tag: reminded}
  - {id: done, exit: {reason: reminded}}
"""

LEADS = """
name: lead_mail
description: a competing email journey on an audience
priority: 10
entry: {audience: new_leads_no_purchase_7d}
steps:
  - {id: ten, wait: {until_time_of_day: "10:00"}}
  - id: mail
    send: {channel: email, destination: email_smtp, template: hello_email, purpose: email_marketing}
"""


def scenario(bench: EngineBench) -> None:
    bench.journey(CART)
    bench.journey(LEADS)
    zones = ["UTC", "Europe/Berlin", "America/Los_Angeles", "Asia/Tokyo"]
    for n in range(40):
        customer = f"c{n:02d}"
        consent = "denied" if n % 7 == 0 else "granted"
        bench.customer(customer, timezone=zones[n % 4], sms_marketing_consent=consent)
        start = T0 + timedelta(minutes=37 * n)
        bench.track(customer, start, "Product Added", cart_id=f"{customer}_a")
        if n % 3 == 0:
            bench.track(customer, start + H, "Checkout Started", cart_id=f"{customer}_a")
        if n % 5 == 0:
            bench.track(customer, start + 3 * H, "Order Completed", cart_id=f"{customer}_a")
        if n % 4 == 1:
            bench.track(customer, start + 20 * H, "Product Added", cart_id=f"{customer}_b")
        if n % 6 == 2:
            bench.join("new_leads_no_purchase_7d", customer, start)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[EngineBench], list[dict]]:
    """Benches copied before each crash tick, and the state after every tick, uninterrupted."""
    bench = EngineBench(tmp_path_factory.mktemp("reference"))
    scenario(bench)
    before: list[EngineBench] = []
    states = []
    for index, moment in enumerate(TICKS):
        if index in CRASH_TICKS:
            before.append(bench.copy_to(tmp_path_factory.mktemp("before") / "bench"))
        bench.tick(moment)
        states.append(bench.state())
    assert len(states[-1]["journey_outbox"]) >= 20 and states[-1]["profile_tags"]
    bench.close()
    return before, states


def settled(state: dict[str, list[tuple]]) -> dict[str, list[tuple]]:
    """The state without reruns that found nothing to do: a rerun after a crash that came after
    the commit is a second, empty run at the same as_of, recorded as such in `journey_ticks`."""
    ticks = [row for row in state["journey_ticks"] if row[1] == 1 or any(row[3:])]
    return {**state, "journey_ticks": ticks}


def test_the_scenario_exercises_every_write(reference) -> None:
    _, states = reference
    final = states[-1]
    actions = {row[5] for row in final["journey_step_log"]}
    assert {"entered", "branched", "sent", "suppressed", "exited", "converted"} <= actions
    assert final["profile_attributes"] and final["profile_tags"]


def crash_cases() -> list[tuple[int, str, int]]:
    cases = []
    for tick_index in CRASH_TICKS:
        for point in CRASH_POINTS:
            occurrences = 3 if point in ("tick.after_round", "tick.after_sends") else 1
            cases += [(tick_index, point, n) for n in range(1, occurrences + 1)]
    return cases


def test_a_crash_at_any_point_then_a_rerun_equals_an_uninterrupted_tick(
    reference, tmp_path: Path
) -> None:
    before, states = reference
    reached = 0
    for position, tick_index in enumerate(CRASH_TICKS):
        for index, point, occurrence in [c for c in crash_cases() if c[0] == tick_index]:
            bench = before[position].copy_to(tmp_path / f"{index}-{point}-{occurrence}")
            crashed = False
            with crash.installed(crash.crash_at(point, occurrence)):
                try:
                    bench.tick(TICKS[index])
                except crash.SimulatedCrash:
                    crashed = True
            if crashed:  # a point this tick reaches fewer times needs no rerun
                reached += 1
                bench.tick(TICKS[index])  # the rerun, on the same connection
            assert settled(bench.state()) == states[index], (index, point, occurrence)
            bench.close()
    # Every point was reached in every crash tick (rounds and send batches at least once).
    assert reached >= len(CRASH_TICKS) * len(CRASH_POINTS)
    print(f"{reached} interrupted ticks, each rerun to the uninterrupted state")


KILLER = """
import os, signal, sys
from waymark.core import crash
point = sys.argv[1]
crash._hook = lambda reached: os.kill(os.getpid(), signal.SIGKILL) if reached == point else None
from waymark.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


@pytest.mark.parametrize("point", ["tick.after_outbox", "tick.before_commit", "tick.after_commit"])
def test_a_sigkilled_tick_process_is_completed_by_the_next_tick(
    reference, tmp_path: Path, point: str
) -> None:
    before, states = reference
    index = CRASH_TICKS[1]
    bench = before[1].copy_to(tmp_path / "bench")
    bench.close()  # the subprocess needs the file to itself
    command = [
        sys.executable, "-c", KILLER, point, "journeys", "tick",
        "--as-of", TICKS[index].isoformat(), "--warehouse", str(bench.path),
        "--journeys", str(bench.journeys_dir),
    ]  # fmt: skip
    killed = subprocess.run(command, capture_output=True, timeout=120, env=dict(os.environ))
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]
    again = EngineBench(bench.root, create=False)
    again.tick(TICKS[index])
    assert settled(again.state()) == states[index]
    again.close()


def test_ticks_after_a_crash_carry_on_as_if_nothing_happened(reference, tmp_path: Path) -> None:
    before, states = reference
    bench = before[0].copy_to(tmp_path / "bench")
    hook = crash.crash_at("tick.after_outbox")
    with crash.installed(hook), pytest.raises(crash.SimulatedCrash):
        bench.tick(TICKS[CRASH_TICKS[0]])
    for moment in TICKS[CRASH_TICKS[0] :]:
        bench.tick(moment)
    assert bench.state() == states[-1]
    bench.close()
