"""Deploying a journey whose entry is an audience: what happens to the customers who are already
members (`entry.existing_members`), decided once per journey version and recorded in
`journeys.journey_versions`, each entry logged with its reason."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_support import T0, EngineBench

from waymark.core.errors import ConfigError
from waymark.journeys.loading import load_journey

H, D = timedelta(hours=1), timedelta(days=1)
VIP = "vip_lookalike_seed"
JOURNEY = """
    name: {name}
    description: keeps current VIPs in a loop
    entry:
      audience: {audience}
      {existing}
    re_entry: {{mode: every_time}}
    steps:
{steps}
"""
LOOP = """
      - {id: a_day, wait: {duration: 1d}}
      - id: still_vip
        branch:
          conditions:
            - {when: {in_audience: vip_lookalike_seed}, next: a_day}
          else: done
      - {id: done, exit: {reason: left}}
"""
SHORT = "      - {id: hold, wait: {duration: 1h}}\n"


@pytest.fixture
def bench(tmp_path: Path) -> Iterator[EngineBench]:
    bench = EngineBench(tmp_path)
    yield bench
    bench.close()


def journey(
    name: str = "vips", *, existing: str = "", audience: str = VIP, steps: str = LOOP
) -> str:
    return JOURNEY.format(
        name=name,
        audience=audience,
        existing=f"existing_members: {existing}" if existing else "",
        steps=steps.strip("\n"),
    )


def versions(bench: EngineBench) -> list[dict[str, Any]]:
    cursor = bench.con.execute(
        "select * from journeys.journey_versions order by journey, first_tick_as_of"
    )
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def entered(bench: EngineBench, journey: str = "vips") -> dict[str, str]:
    """customer -> reason of their latest entry into the journey."""
    rows = bench.query(
        "select customer_id, reason from journeys.journey_step_log "
        "where journey = ? and action = 'entered' order by tick_as_of, customer_id",
        [journey],
    )
    return dict(rows)


def vips(bench: EngineBench, count: int, recent: int) -> None:
    """`count` VIPs, `recent` of them joined within the last hours before T0, the rest over the
    90 days before that; and one former VIP who left before T0."""
    for index in range(count):
        name = f"vip{index:02d}"
        bench.customer(name)
        joined = T0 - (2 + index) * H if index < recent else T0 - (2 + index) * D
        bench.join(VIP, name, joined)
    bench.customer("former")
    bench.join(VIP, "former", T0 - 60 * D)
    bench.leave(VIP, "former", T0 - 10 * D)


def test_audience_entry_journey_enrols_existing_members_on_first_deploy(
    bench: EngineBench,
) -> None:
    """A newly deployed VIP journey enrols all 48 current VIPs, not only the one who joined
    within the first tick's lookback."""
    vips(bench, 48, recent=1)
    bench.journey(journey())  # no existing_members: the default for audience entry is enrol
    result = bench.tick(T0)

    reasons = entered(bench)
    assert result.entered == 48 and len(reasons) == 48 and "former" not in reasons
    assert reasons["vip00"] == "audience"  # joined inside the lookback: entered as it joined
    assert {reasons[f"vip{i:02d}"] for i in range(1, 48)} == {"existing_member"}
    (version,) = versions(bench)
    assert version | {"version": None} == {
        "journey": "vips",
        "version": None,
        "number": 1,
        "first_tick_as_of": T0,
        "entry": f"audience:{VIP}",
        "existing_members": "enrol",
        "decision": "enrol",
        "reason": "first_deploy",
        "members": 48,
        "enrolled": 48,
        "skip_members_before": None,
    }
    assert len(version["version"]) == 16
    # Existing members start now: their clock, goal window and waits count from the deploy.
    started = bench.query(
        "select min(entered_at), max(entered_at) from journeys.journey_instances "
        "where customer_id <> 'vip00'"
    )
    assert started == [(T0, T0)]
    assert result.summary()["deployed"] == {
        "vips": f"version {version['version']}: existing members enrol (first_deploy), "
        "48 of 48 entered"
    }

    # Decided once: the next ticks of the same version enrol nobody again.
    bench.tick(T0 + H)
    bench.tick(T0 + 2 * D)
    assert len(versions(bench)) == 1
    assert bench.query("select count(*) from journeys.journey_instances") == [(48,)]


def test_skip_leaves_every_current_member_out_and_admits_later_joiners(bench: EngineBench) -> None:
    vips(bench, 5, recent=2)
    bench.journey(journey(existing="skip"))
    bench.tick(T0)
    assert entered(bench) == {}
    bench.customer("newcomer")
    bench.join(VIP, "newcomer", T0 + 30 * timedelta(minutes=1))
    # The window of this tick reaches back over the deploy: members from before it stay out.
    bench.tick(T0 + H)
    assert entered(bench) == {"newcomer": "audience"}
    (version,) = versions(bench)
    assert (version["decision"], version["reason"], version["members"], version["enrolled"]) == (
        "skip",
        "first_deploy",
        5,
        0,
    )
    assert version["skip_members_before"] == T0

    # Declaring `enrol` later is a decision of its own: the members skipped so far enter now.
    bench.journey(journey(existing="enrol"))
    bench.tick(T0 + 2 * H)
    assert set(entered(bench)) == {"newcomer", *(f"vip{i:02d}" for i in range(5))}
    latest = versions(bench)[-1]
    assert (latest["decision"], latest["reason"], latest["members"], latest["enrolled"]) == (
        "enrol",
        "entry_changed",
        6,
        5,
    )


def test_a_new_version_re_decides_only_when_its_entry_audience_changed(
    bench: EngineBench,
) -> None:
    vips(bench, 3, recent=0)
    bench.customers(["lead1", "lead2"])
    for lead in ("lead1", "lead2"):
        bench.join("new_leads_no_purchase_7d", lead, T0 - 2 * D)
    bench.journey(journey(steps=SHORT))
    bench.tick(T0)
    bench.tick(T0 + 2 * H)  # every instance has completed; all three are still VIPs
    assert bench.query("select count(*) from journeys.journey_instances where status = 'exited'")[
        0
    ] == (3,)

    # An edit that keeps the entry: members were decided by the first version, so nobody
    # re-enters, although every_time would let them.
    bench.journey(journey(steps=SHORT + "      - {id: hold_more, wait: {duration: 1h}}\n"))
    bench.tick(T0 + 3 * H)
    assert bench.query("select count(*) from journeys.journey_instances") == [(3,)]

    # A new entry audience is a new deployment for its members.
    bench.journey(journey(audience="new_leads_no_purchase_7d", steps=SHORT))
    bench.tick(T0 + 4 * H)
    rows = [
        (v["entry"], v["decision"], v["reason"], v["members"], v["enrolled"])
        for v in versions(bench)
    ]
    assert rows == [
        (f"audience:{VIP}", "enrol", "first_deploy", 3, 3),
        (f"audience:{VIP}", "none", "entry_unchanged", None, None),
        ("audience:new_leads_no_purchase_7d", "enrol", "entry_changed", 2, 2),
    ]
    assert entered(bench) == {
        "lead1": "existing_member",
        "lead2": "existing_member",
        "vip00": "existing_member",
        "vip01": "existing_member",
        "vip02": "existing_member",
    }
    # Back to a version already recorded: not decided again.
    bench.journey(journey(steps=SHORT))
    bench.tick(T0 + 5 * H)
    assert len(versions(bench)) == 3


def test_a_journey_deployed_disabled_decides_when_it_is_enabled(bench: EngineBench) -> None:
    vips(bench, 2, recent=0)
    bench.journey(journey().replace("description:", "enabled: false\n    description:", 1))
    bench.tick(T0)
    assert versions(bench) == [] and entered(bench) == {}
    bench.journey(journey())
    bench.tick(T0 + D)
    assert set(entered(bench)) == {"vip00", "vip01"}
    assert [(v["reason"], v["first_tick_as_of"]) for v in versions(bench)] == [
        ("first_deploy", T0 + D)
    ]


def test_a_journey_that_ran_before_versions_were_recorded_is_not_backfilled(
    bench: EngineBench,
) -> None:
    vips(bench, 2, recent=0)
    bench.journey(journey(steps=SHORT))
    bench.tick(T0)
    bench.tick(T0 + 2 * H)  # both instances completed
    bench.con.execute("drop table journeys.journey_versions")  # a warehouse from before them
    bench.tick(T0 + 3 * H)
    assert bench.query("select count(*) from journeys.journey_instances") == [(2,)]
    assert [(v["decision"], v["reason"]) for v in versions(bench)] == [("none", "already_running")]


def test_event_and_schedule_journeys_record_their_version_without_a_decision(
    bench: EngineBench,
) -> None:
    bench.journey(
        """
        name: tickets
        description: one email per ticket
        entry: {event: ticket_opened}
        steps:
          - {id: hold, wait: {duration: 1h}}
        """
    )
    bench.tick(T0)
    (version,) = versions(bench)
    assert (version["entry"], version["existing_members"], version["decision"]) == (
        "event:ticket_opened",
        None,
        "none",
    )
    assert version["reason"] == "not_audience_entry"


def test_existing_members_is_a_field_of_audience_entries_only(tmp_path: Path) -> None:
    path = tmp_path / "tickets.yml"
    path.write_text(
        "name: tickets\ndescription: d\nentry:\n  event: ticket_opened\n"
        "  existing_members: enrol\nsteps:\n  - {id: hold, wait: {duration: 1h}}\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_journey(path)
    assert "tickets.yml:5:3: entry.existing_members: unknown field" in str(raised.value)
    path.write_text(
        "name: tickets\ndescription: d\nentry:\n  audience: vip_lookalike_seed\n"
        "  existing_members: all\nsteps:\n  - {id: hold, wait: {duration: 1h}}\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_journey(path)
    assert "entry.existing_members: 'all' is not allowed" in str(raised.value)
