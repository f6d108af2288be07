"""Checks on a journey's steps as a graph.

Unreachable steps are errors, not warnings: a step nothing leads to is almost always a `next`
pointing at the wrong id, and a warning would let that journey ship. A loop must contain a step
that always pauses (a timed wait or a wait for an event); otherwise one tick of the engine could
run it forever.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from waymark.core.errors import Problem
from waymark.journeys.steps import SplitStep, Step


def step_problems(steps: Sequence[Step]) -> list[Problem]:
    """Duplicate ids, dangling targets, unreachable steps and loops without a pause."""
    problems: list[Problem] = []
    counts = Counter(step.id for step in steps)
    seen: set[str] = set()
    for index, step in enumerate(steps):
        if counts[step.id] > 1 and step.id in seen:
            problems.append(Problem(("steps", index, "id"), f"step id '{step.id}' is used twice"))
        seen.add(step.id)
        if isinstance(step, SplitStep):
            names = [variant.name for variant in step.split.variants]
            problems += [
                Problem(("steps", index, "split", "variants", i, "name"), f"variant '{name}' twice")
                for i, name in enumerate(names)
                if name in names[:i]
            ]
    ids = set(counts)
    for index, step in enumerate(steps):
        for transition in step.transitions():
            if transition.target is not None and transition.target not in ids:
                problems.append(
                    Problem(
                        ("steps", index, *transition.loc),
                        f"no step has id '{transition.target}'",
                    )
                )
    if problems:
        return problems
    edges = successor_ids(steps)
    problems += _unreachable(steps, edges)
    problems += _loops_without_pause(steps, edges)
    return problems


def partial_step_problems(raw_steps: list[Any]) -> list[Problem]:
    """Graph problems in steps as written, for a journey that failed validation elsewhere.

    Reporting a dangling `next` together with, say, a bad duration saves a round trip. When
    every step is valid on its own the full checks run; otherwise only targets are checked, as
    reachability and loops are meaningless with steps missing.
    """
    adapter = TypeAdapter(Step)
    valid: list[tuple[int, Step]] = []
    for index, raw in enumerate(raw_steps):
        try:
            valid.append((index, adapter.validate_python(raw)))
        except ValidationError:
            continue
    if valid and len(valid) == len(raw_steps):
        return step_problems([step for _, step in valid])
    ids = {raw.get("id") for raw in raw_steps if isinstance(raw, dict)}
    return [
        Problem(("steps", index, *transition.loc), f"no step has id '{transition.target}'")
        for index, step in valid
        for transition in step.transitions()
        if transition.target is not None and transition.target not in ids
    ]


def successor_ids(steps: Sequence[Step]) -> dict[str, list[str]]:
    """Step id -> the ids it can move to (exits left out)."""
    order = [step.id for step in steps]
    edges: dict[str, list[str]] = {}
    for index, step in enumerate(steps):
        following = order[index + 1] if index + 1 < len(order) else None
        targets = []
        for transition in step.transitions():
            target = transition.target
            if target is None and transition.when_omitted == "following":
                target = following
            if target is not None and target not in targets:
                targets.append(target)
        edges[step.id] = targets
    return edges


def _unreachable(steps: Sequence[Step], edges: dict[str, list[str]]) -> list[Problem]:
    reached, queue = {steps[0].id}, [steps[0].id]
    while queue:
        for target in edges[queue.pop()]:
            if target not in reached:
                reached.add(target)
                queue.append(target)
    return [
        Problem(("steps", index, "id"), f"step '{step.id}' is never reached from the first step")
        for index, step in enumerate(steps)
        if step.id not in reached
    ]


def _loops_without_pause(steps: Sequence[Step], edges: dict[str, list[str]]) -> list[Problem]:
    """Cycles among steps that never pause, each reported once at its first step in the file."""
    instant = {step.id for step in steps if not step.pauses}
    index_of = {step.id: index for index, step in enumerate(steps)}
    reported: set[str] = set()
    problems: list[Problem] = []
    for step in steps:
        if step.id not in instant or step.id in reported:
            continue
        cycle = _cycle_through(step.id, edges, instant)
        if cycle:
            reported.update(cycle)
            loop = " -> ".join([*cycle, cycle[0]])
            message = f"steps loop with no wait in between ({loop}); add a wait step to the loop"
            problems.append(Problem(("steps", index_of[step.id], "id"), message))
    return problems


def _cycle_through(start: str, edges: dict[str, list[str]], instant: set[str]) -> list[str]:
    """A path start -> ... -> start through non-pausing steps only, or [] if there is none."""
    stack: list[tuple[str, list[str]]] = [(start, [start])]
    visited: set[str] = set()
    while stack:
        node, path = stack.pop()
        for target in edges[node]:
            if target == start:
                return path
            if target in instant and target not in visited:
                visited.add(target)
                stack.append((target, [*path, target]))
    return []


def variants_leading_to(steps: Sequence[Step]) -> dict[str, set[str]]:
    """Step id -> names of the split variants whose path reaches it before another split."""
    edges = successor_ids(steps)
    splits = {step.id for step in steps if isinstance(step, SplitStep)}
    found: dict[str, set[str]] = {}
    for step in steps:
        if not isinstance(step, SplitStep):
            continue
        for variant in step.split.variants:
            queue, seen = [variant.next], {variant.next}
            while queue:
                current = queue.pop()
                found.setdefault(current, set()).add(variant.name)
                for target in edges[current]:
                    if target not in seen and target not in splits:
                        seen.add(target)
                        queue.append(target)
    return found
