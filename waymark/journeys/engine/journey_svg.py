"""Drawing a journey map as SVG: steps in rows by their distance from the entry.

A small layered layout, enough for journeys of tens of steps: each node's row is its longest
path from the entry ignoring edges that loop back; rows are centred; loops are drawn as curves
on the right. Text is escaped; nothing is fetched from anywhere.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import duckdb

from waymark.journeys.engine.journey_map import (
    ENTRY,
    Edge,
    MapCounts,
    count_text,
    graph,
    mermaid,
    read_counts,
)
from waymark.journeys.engine.sql import EngineError
from waymark.journeys.engine.state import Tables
from waymark.journeys.journey import Journey
from waymark.journeys.steps import ExitStep

WIDTH, HEIGHT, GAP_X, GAP_Y, MARGIN = 230, 70, 30, 60, 30


def _rows(nodes: dict[str, str], edges: list[Edge]) -> tuple[dict[str, int], set[Edge]]:
    """Row per node (longest path from the entry) and the edges that loop back."""
    successors: dict[str, list[Edge]] = {node: [] for node in nodes}
    for edge in edges:
        successors[edge.source].append(edge)
    back: set[Edge] = set()
    state: dict[str, int] = {}

    def visit(node: str) -> None:  # depth-first: an edge to a node on the stack loops back
        state[node] = 1
        for edge in successors[node]:
            if state.get(edge.target) == 1:
                back.add(edge)
            elif edge.target not in state:
                visit(edge.target)
        state[node] = 2

    visit(ENTRY)
    row = {node: 0 for node in nodes}
    forward = [edge for edge in edges if edge not in back]
    for _ in nodes:  # relax: at most one pass per node in a DAG
        for edge in forward:
            row[edge.target] = max(row[edge.target], row[edge.source] + 1)
    return row, back


def journey_svg(journey: Journey, counts: MapCounts | None = None) -> str:
    nodes, edges = graph(journey, counts)
    row, back = _rows(nodes, edges)
    by_row: dict[int, list[str]] = {}
    for node in nodes:  # file order within a row
        by_row.setdefault(row[node], []).append(node)
    widest = max(len(items) for items in by_row.values())
    canvas_w = MARGIN * 2 + widest * WIDTH + (widest - 1) * GAP_X + 120
    canvas_h = MARGIN * 2 + len(by_row) * (HEIGHT + GAP_Y)
    position: dict[str, tuple[float, float]] = {}
    for r, items in by_row.items():
        span = len(items) * WIDTH + (len(items) - 1) * GAP_X
        left = (canvas_w - 120 - span) / 2
        for i, node in enumerate(items):
            position[node] = (left + i * (WIDTH + GAP_X), MARGIN + r * (HEIGHT + GAP_Y))
    exit_steps = {s.id for s in journey.steps if isinstance(s, ExitStep)}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{canvas_w:.0f}" '
        f'height="{canvas_h:.0f}" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    ]
    for edge in edges:
        parts.append(_edge(edge, position, edge in back, counts))
    for node, label in nodes.items():
        x, y = position[node]
        terminal = node == ENTRY or node.startswith("exit__") or node in exit_steps
        fill = "#e8f0fe" if node == ENTRY else "#f1f3f4" if terminal else "#ffffff"
        parts.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{WIDTH}" height="{HEIGHT}" '
            f'rx="{18 if terminal else 4}" fill="{fill}" stroke="#5f6368"/>'
        )
        lines = label.split("\n")
        if counts is not None:
            lines += [line for line in count_text(node, counts).split("\n") if line]
        for i, line in enumerate(lines[:4]):
            weight = ' font-weight="bold"' if i == 0 else ""
            parts.append(
                f'<text x="{x + WIDTH / 2:.0f}" y="{y + 18 + i * 15:.0f}" '
                f'text-anchor="middle"{weight}>{escape(line)}</text>'
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _edge(
    edge: Edge,
    position: dict[str, tuple[float, float]],
    loops_back: bool,
    counts: MapCounts | None,
) -> str:
    (sx, sy), (tx, ty) = position[edge.source], position[edge.target]
    label = edge.label.strip("~")
    if counts is not None:
        label = f"{label} {counts.edges.get((edge.source, edge.target), 0):,}".strip()
    dash = ' stroke-dasharray="4 3"' if edge.label == "~" else ""
    if loops_back:
        x1, y1, x2, y2 = sx + WIDTH, sy + HEIGHT / 2, tx + WIDTH, ty + HEIGHT / 2
        bend = max(x1, x2) + 60
        path = f"M{x1:.0f},{y1:.0f} C{bend:.0f},{y1:.0f} {bend:.0f},{y2:.0f} {x2:.0f},{y2:.0f}"
        lx, ly = bend - 10, (y1 + y2) / 2
    else:
        x1, y1, x2, y2 = sx + WIDTH / 2, sy + HEIGHT, tx + WIDTH / 2, ty
        path = f"M{x1:.0f},{y1:.0f} L{x2:.0f},{y2:.0f}"
        lx, ly = (x1 + x2) / 2 + 4, (y1 + y2) / 2
    text = f'<text x="{lx:.0f}" y="{ly:.0f}" fill="#1a73e8">{escape(label)}</text>' if label else ""
    return f'<path d="{path}" fill="none" stroke="#555"{dash} marker-end="url(#arrow)"/>{text}'


def journey_html(journey: Journey, mermaid_text: str, svg: str, note: str) -> str:
    """A standalone page: the drawing, the counts note and the Mermaid source."""
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>Journey map: {escape(journey.name)}</title>"
        "<style>body{font-family:sans-serif;margin:24px} pre{background:#f6f8fa;padding:12px}"
        "</style></head><body>\n"
        f"<h1>{escape(journey.name)}</h1>\n<p>{escape(journey.description)}</p>\n"
        f"<p>{escape(note)}</p>\n{svg}"
        "<h2>Mermaid</h2>\n<pre>" + escape(mermaid_text) + "</pre>\n</body></html>\n"
    )


def write_map(
    journey: Journey, output: Path, warehouse: Path | None, tables: Tables | None = None
) -> tuple[list[Path], str]:
    """Write `<journey>.mmd`, `.svg` and `.html` under `output`, with live counts when the
    warehouse has journey state (opened read-only); returns the files and the Mermaid text."""
    tables = tables or Tables()
    counts, note = None, "No warehouse given: the map shows the journey's structure only."
    if warehouse is not None:
        if not Path(warehouse).is_file():
            raise EngineError(f"no warehouse at {warehouse}; build one with `waymark demo`")
        with duckdb.connect(str(warehouse), read_only=True) as con:
            found = con.execute(
                "select count(*) from duckdb_tables() where schema_name = ? "
                "and table_name in ('journey_step_log', 'journey_instances')",
                [tables.state],
            ).fetchone()
            if found and found[0] == 2:
                counts = read_counts(con, journey.name, tables)
                latest = con.execute(f"select max(as_of) from {tables.ticks}").fetchone()
                when = f"{latest[0]:%Y-%m-%d %H:%M} UTC" if latest and latest[0] else "never"
                note = f"Counts from journey_step_log as of the latest tick ({when})."
            else:
                note = f"{warehouse} has no journey state yet (run `waymark journeys tick`)."
    text = mermaid(journey, counts)
    svg = journey_svg(journey, counts)
    output.mkdir(parents=True, exist_ok=True)
    files = {
        output / f"{journey.name}.mmd": text,
        output / f"{journey.name}.svg": svg,
        output / f"{journey.name}.html": journey_html(journey, text, svg, note),
    }
    for path, content in files.items():
        path.write_text(content, encoding="utf-8")
    return list(files), text
