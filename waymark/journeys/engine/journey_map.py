"""The journey map: a journey's steps as a graph, annotated with live counts from the step log.

`mermaid()` gives Mermaid flowchart text (for Markdown, Dagster, docs); `journey_svg()` lays the
same graph out in rows and draws it as a standalone SVG, so the map needs no JavaScript or
network to view. Counts per step: instances that arrived, are waiting there now, messages sent
and suppressed; per transition: how many instances took it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import duckdb

from waymark.journeys.engine.plan import COMPLETED, HOLDOUT
from waymark.journeys.engine.state import Tables
from waymark.journeys.journey import AudienceEntry, EventEntry, Journey, ScheduleEntry
from waymark.journeys.steps import (
    BranchStep,
    ExitStep,
    HoldoutStep,
    SendStep,
    SplitStep,
    Step,
    TagStep,
    UpdateProfileStep,
    WaitDuration,
    WaitStep,
    WaitUntilEventStep,
    WaitUntilTimeOfDay,
)

ENTRY = "__entry__"


@dataclass
class MapCounts:
    arrived: Counter[str] = field(default_factory=Counter)
    waiting: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    suppressed: Counter[str] = field(default_factory=Counter)
    edges: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(from step, to step or exit node) -> instances that moved along it."""
    entered: int = 0
    converted: int = 0


def read_counts(con: duckdb.DuckDBPyConnection, journey: str, tables: Tables) -> MapCounts:
    """Counts for one journey from `journey_step_log` and `journey_instances`."""
    counts = MapCounts()
    rows = con.execute(
        f"""select step_id, action, reason, next_step, count(*) from {tables.step_log}
        where journey = ? group by all""",
        [journey],
    ).fetchall()
    for step_id, action, reason, next_step, n in rows:
        if action == "entered":
            counts.entered += n
            counts.arrived[step_id] += n
            counts.edges[(ENTRY, step_id)] += n
        elif action == "converted":
            counts.converted += n
        elif action == "exited":
            counts.edges[(step_id, exit_node(reason))] += n
        else:
            if action == "sent":
                counts.sent[step_id] += n
            elif action == "suppressed":
                counts.suppressed[step_id] += n
            if next_step is not None:
                counts.arrived[next_step] += n
                counts.edges[(step_id, next_step)] += n
    waiting = con.execute(
        f"""select current_step, count(*) from {tables.instances}
        where journey = ? and status = 'active' group by 1""",
        [journey],
    ).fetchall()
    counts.waiting.update(dict(waiting))
    return counts


def exit_node(reason: str) -> str:
    return f"exit__{reason}"


def entry_label(journey: Journey) -> str:
    entry = journey.entry
    if isinstance(entry, EventEntry):
        return "event " + " or ".join(entry.event)
    if isinstance(entry, AudienceEntry):
        return f"joins {entry.audience}"
    assert isinstance(entry, ScheduleEntry)
    audience = f" ({entry.schedule.audience})" if entry.schedule.audience else ""
    return f"schedule {entry.schedule.cron} {entry.schedule.timezone}{audience}"


def step_label(step: Step) -> str:
    if isinstance(step, WaitStep):
        wait = step.wait
        if isinstance(wait, WaitDuration):
            return f"wait {_duration(wait.duration)}"
        if isinstance(wait, WaitUntilTimeOfDay):
            return f"wait until {wait.until_time_of_day:%H:%M} local"
        sign = "+" if wait.offset.total_seconds() >= 0 else "-"
        offset = f" {sign} {_duration(abs(wait.offset))}"
        return f"wait until {wait.until_profile_timestamp}{offset}"
    if isinstance(step, WaitUntilEventStep):
        wait = step.wait_until_event
        return f"wait for {wait.event}, at most {_duration(wait.timeout)}"
    if isinstance(step, BranchStep):
        return "branch"
    if isinstance(step, SplitStep):
        return "split " + "/".join(v.name for v in step.split.variants)
    if isinstance(step, HoldoutStep):
        return f"holdout {step.holdout.percent:g}%"
    if isinstance(step, SendStep):
        return f"{step.send.channel}: {step.send.template}"
    if isinstance(step, UpdateProfileStep):
        return f"set {step.update_profile.attribute}"
    if isinstance(step, TagStep):
        return f"tag {step.tag}"
    assert isinstance(step, ExitStep)
    return f"exit: {step.exit.reason}"


def _duration(value: object) -> str:
    seconds = int(value.total_seconds())  # type: ignore[attr-defined]
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    label: str


def graph(journey: Journey, counts: MapCounts | None = None) -> tuple[dict[str, str], list[Edge]]:
    """Nodes (id -> label) and edges, with an entry node and one node per exit reason. With
    counts, exits that happened outside the drawn paths (exit criteria, a missing profile
    timestamp) appear as dotted edges (label starting with `~`)."""
    nodes = {ENTRY: entry_label(journey)}
    edges = [Edge(ENTRY, journey.steps[0].id, "")]
    for step in journey.steps:
        nodes[step.id] = f"{step.id}\n{step_label(step)}"
        if isinstance(step, ExitStep):
            continue
        for label, target in journey.successors(step.id):
            if target is None:
                control = isinstance(step, HoldoutStep) and label == "control"
                reason = HOLDOUT if control else COMPLETED
                target = exit_node(reason)
                nodes[target] = f"exit: {reason}"
            edges.append(Edge(step.id, target, "" if label == "next" else label))
    drawn = {(edge.source, edge.target) for edge in edges}
    terminal = {step.id for step in journey.steps if isinstance(step, ExitStep)}
    for (source, target), _ in sorted((counts.edges if counts else {}).items()):
        if source in terminal or (source, target) in drawn or source not in nodes:
            continue
        if target.startswith("exit__"):
            nodes.setdefault(target, f"exit: {target.removeprefix('exit__')}")
            edges.append(Edge(source, target, "~"))
    return nodes, edges


def mermaid(journey: Journey, counts: MapCounts | None = None) -> str:
    """Mermaid flowchart text; with counts, each node and edge carries its numbers."""
    nodes, edges = graph(journey, counts)
    exit_steps = {s.id for s in journey.steps if isinstance(s, ExitStep)}
    lines = ["flowchart TD"]
    for node, label in nodes.items():
        text = _escape(label).replace("\n", "<br/>")
        if counts is not None:
            text += _escape(count_text(node, counts)).replace("\n", "<br/>")
        if node == ENTRY or node.startswith("exit__") or node in exit_steps:
            lines.append(f'    {_id(node)}(["{text}"])')
        else:
            lines.append(f'    {_id(node)}["{text}"]')
    for edge in edges:
        dotted, label = edge.label == "~", edge.label.strip("~")
        if counts is not None:
            taken = counts.edges.get((edge.source, edge.target), 0)
            label = f"{label} {taken:,}".strip()
        line = "-.->" if dotted else "-->"
        arrow = f' {line}|"{_escape(label)}"| ' if label else f" {line} "
        lines.append(f"    {_id(edge.source)}{arrow}{_id(edge.target)}")
    return "\n".join(lines) + "\n"


def count_text(node: str, counts: MapCounts) -> str:
    if node == ENTRY:
        return f"\nentered {counts.entered:,} · converted {counts.converted:,}"
    if node.startswith("exit__"):
        reached = sum(n for (_, target), n in counts.edges.items() if target == node)
        return f"\n{reached:,}"
    parts = [f"arrived {counts.arrived.get(node, 0):,}"]
    if counts.waiting.get(node):
        parts.append(f"waiting {counts.waiting[node]:,}")
    if counts.sent.get(node) or counts.suppressed.get(node):
        parts.append(f"sent {counts.sent.get(node, 0):,}")
        parts.append(f"suppressed {counts.suppressed.get(node, 0):,}")
    return "\n" + " · ".join(parts)


def _id(node: str) -> str:
    """A Mermaid node id: exit reasons such as `exit_event:order_completed` hold a colon."""
    return "journey_entry__" if node == ENTRY else re.sub(r"[^A-Za-z0-9_]", "_", node)


def _escape(text: str) -> str:
    return text.replace('"', "#quot;").replace("|", "#124;")
