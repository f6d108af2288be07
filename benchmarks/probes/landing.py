"""Landing zone probes: hostile files beside generated data in one build, each input that must
stop a build in a build of its own, and a rebuild from a moved copy of the data folder.

Each input is accounted for clearly (loaded from its own path, quarantined with its file and
line or key, listed as not read with a reason, counted), or not: `silent` (nowhere to be seen,
or accepted as if it were good), `raw` (DuckDB's own error text), `traceback`, `wrong` (rows
read twice, or a bad line reported against other files), `unclear` (seen, not as promised).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from probes.common import Area, Run, query, waymark
from probes.landing_files import Expect, error_inputs, header_of, plant

AS_OF = "2026-06-30T00:00:00Z"
WAREHOUSE = "probed.duckdb"
"""Not named after a schema of the warehouse (landing, staging, marts, ...): DuckDB names the
file's catalog after it, and the two names clash."""
BASE_TABLES = {
    "events": ("staging.base_events__segment", "event_id"),
    "orders": ("staging.base_shop__orders", "order_id"),
    "crm": ("staging.base_crm__contacts", "crm_contact_id"),
}
GENERATED_EVENT_FILE = re.compile(r"^\d{4}-\d{2}-\d{2}-0\.jsonl$")


@dataclass
class Evidence:
    """What the warehouse and the build summary say about the probe inputs."""

    summary: str
    landed: dict[str, dict]
    quarantine: list[dict]
    base: dict[tuple[str, str], list[dict]]
    assumed_utc: dict[str, int]

    @classmethod
    def read(cls, warehouse: Path, summary: str, cwd: Path, home: Path) -> Evidence:
        def rows(sql: str) -> list[dict]:
            return query(warehouse, sql, cwd, home)

        landed = {r["file_path"]: r for r in rows("select * from staging.landed_files")}
        quarantine = rows(
            "select source_name, source_file, line_number, record_key, action, reason, "
            "left(raw_row, 300) as raw_row from staging.quarantine"
        )
        union = " union all ".join(
            f"select '{name}' as probe_table, {key} as probe_key, _source_file, "
            f"_quarantine_reason, _timestamp_assumed_utc from {table} where {key} like 'probe-%'"
            for name, (table, key) in BASE_TABLES.items()
        )
        base: dict[tuple[str, str], list[dict]] = {}
        for row in rows(union):
            base.setdefault((row["probe_table"], row["probe_key"]), []).append(row)
        quality = rows("select source_name, timestamps_assumed_utc from staging.source_quality")
        assumed = {r["source_name"]: r["timestamps_assumed_utc"] for r in quality}
        return cls(summary, landed, quarantine, base, assumed)

    def quarantined(self, path: str, action: str) -> list[dict]:
        return [r for r in self.quarantine if r["source_file"] == path and r["action"] == action]


def judge(expect: Expect, evidence: Evidence, planted: list[Expect]) -> tuple[str, str]:
    """The verdict on one input and what it rests on."""
    if expect.kind in ("refused", "not_read"):
        return _not_read(expect, evidence)
    if expect.kind == "bad_line":
        return _bad_line(expect, evidence)
    if expect.kind == "own_file":
        return _own_file(expect, evidence)
    if expect.kind in ("quarantined", "nulled"):
        return _set_aside(expect, evidence)
    return _loaded(expect, evidence, planted)


def _not_read(expect: Expect, evidence: Evidence) -> tuple[str, str]:
    path, landed = expect.path, evidence.landed.get(expect.path)
    missing = []
    if not landed or landed["is_read"] or not landed["reason"]:
        missing.append("no not-read reason in staging.landed_files")
    elif expect.mention and expect.mention not in landed["reason"]:
        missing.append(f"reason does not mention {expect.mention}/")
    if f"{path}:" not in evidence.summary:
        missing.append("not listed in the build summary")
    if expect.kind == "refused" and not evidence.quarantined(path, "file_not_read"):
        missing.append("no file_not_read quarantine row")
    if not missing:
        return "clear", landed["reason"]
    seen = (landed and not landed["is_read"]) or evidence.quarantined(path, "file_not_read")
    return ("unclear" if seen else "silent"), "; ".join(missing)


def _bad_line(expect: Expect, evidence: Evidence) -> tuple[str, str]:
    malformed = evidence.quarantined(expect.path, "malformed_row")
    at_line = [r for r in malformed if r["line_number"] == expect.line]
    if len(at_line) == 1 and at_line[0]["reason"]:
        return "clear", at_line[0]["reason"]
    if len(at_line) > 1:
        return "wrong", f"{len(at_line)} quarantine rows for one line"
    others = [r for r in evidence.quarantine if r["source_file"] == expect.path]
    return ("unclear" if others else "silent"), f"no malformed_row row at line {expect.line}"


def _own_file(expect: Expect, evidence: Evidence) -> tuple[str, str]:
    """`expect.line` reject rows for the file, none for the other files of its source."""
    landed = evidence.landed.get(expect.path)
    source = landed["source_name"] if landed else None
    malformed = evidence.quarantined(expect.path, "malformed_row")
    elsewhere = [
        r for r in evidence.quarantine
        if r["source_name"] == source and r["action"] == "malformed_row"
        and r["source_file"] != expect.path
    ]  # fmt: skip
    detail = f"{len(malformed)} reject rows for {expect.path}, {len(elsewhere)} for other files"
    return ("clear" if len(malformed) == expect.line and not elsewhere else "wrong"), detail


def _set_aside(expect: Expect, evidence: Evidence) -> tuple[str, str]:
    action = "row_quarantined" if expect.kind == "quarantined" else "field_nulled"
    found = [
        r for r in evidence.quarantined(expect.path, action)
        if r["record_key"] == expect.key or (expect.key or "") in (r["raw_row"] or "")
    ]  # fmt: skip
    if found:
        return "clear", found[0]["reason"]
    rows = evidence.base.get((expect.table or "", expect.key or ""), [])
    usable = [r for r in rows if r["_quarantine_reason"] is None]
    return "silent", ("accepted as a good row" if usable else f"no {action} row")


def _loaded(expect: Expect, evidence: Evidence, planted: list[Expect]) -> tuple[str, str]:
    """Usable, read once from its own path (and for `assumed_utc`, counted as read as UTC)."""
    keys = (expect.key or "").split(",")
    rows_by_key = {key: evidence.base.get((expect.table or "", key), []) for key in keys}
    problems = []
    for key, rows in rows_by_key.items():
        own = [r for r in rows if r["_source_file"] == expect.path and not r["_quarantine_reason"]]
        if len(rows) != 1 or len(own) != 1:
            problems.append(f"{key}: {len(rows)} rows, {len(own)} usable from {expect.path}")
        elif expect.kind == "assumed_utc" and not own[0]["_timestamp_assumed_utc"]:
            problems.append(f"{key}: not marked as read as UTC")
    if problems:
        seen = any(rows for rows in rows_by_key.values())
        return ("wrong" if seen else "silent"), "; ".join(problems)
    if expect.kind != "assumed_utc":
        return "clear", "loaded from its own path"
    landed = evidence.landed.get(expect.path)
    source = landed["source_name"] if landed else ""
    need = sum(1 for e in planted if e.kind == "assumed_utc" and e.table == expect.table)
    counted = evidence.assumed_utc.get(source, 0)
    if counted < need:
        return "unclear", f"source_quality counts {counted} for {source}, {need} planted"
    return "clear", f"read as UTC; {source} counts {counted}"


def build(data: Path, warehouse: Path, cwd: Path, home: Path) -> Run:
    args = ["build", "--data", str(data), "--warehouse", str(warehouse), "--as-of", AS_OF]
    return waymark([*args, "--quiet"], cwd, home)


def failed_build(run: Run) -> str:
    if run.traceback:
        return "traceback"
    return "raw" if run.raw_engine_error else "unclear"


def run_landing(work: Path, home: Path, customers: int) -> Area:
    area = Area(
        "landing zone",
        [("tried", "inputs tried"), ("clear", "accounted for clearly"),
         ("silent", "silent losses"), ("raw", "raw engine errors")],
        failing=("silent", "raw", "traceback", "wrong"),
    )  # fmt: skip
    data, warehouse = work / "data", work / WAREHOUSE
    args = ["generate", "--customers", str(customers), "--seed", "3", "--out", str(data)]
    generated = waymark(args, work, home)
    if generated.returncode != 0:
        raise RuntimeError(f"waymark generate failed: {generated.text}")
    expects = plant(data)
    started = time.monotonic()
    built = build(data, warehouse, work, home)
    area.extra = f"build {time.monotonic() - started:.0f} s"
    if built.returncode != 0:
        for expect in expects:
            area.add(expect.name, failed_build(built), f"the build failed: {built.lines[-1:]}")
    else:
        evidence = Evidence.read(warehouse, built.text, work, home)
        for expect in expects:
            area.add(expect.name, *judge(expect, evidence, expects))
        moved_copy(data, warehouse, work, home, area)

    headers = header_of(data / "orders"), header_of(data / "crm_contacts")
    for what, folder, relative, word in error_inputs(work / "stops", *headers):
        run = build(folder, work / f"{folder.name}.duckdb", work, home)
        naming = [line.strip() for line in run.lines if relative in line]
        if run.returncode == 0:
            area.add(what, "silent", "the build passed")
        elif run.traceback or run.raw_engine_error:
            area.add(what, failed_build(run), run.lines[-1] if run.lines else "")
        elif not naming:
            area.add(what, "unclear", f"the error does not name {relative}: {run.lines[-1:]}")
        elif not any(word in line for line in naming):
            area.add(what, "unclear", f"the error does not say {word!r}: {naming[0]}")
        else:
            area.add(what, "clear", naming[0])
    return area


def moved_copy(data: Path, warehouse: Path, work: Path, home: Path, area: Area) -> None:
    """Build the same warehouse from a copy of the folder (new paths, new modification
    times) with one event file withdrawn: nothing read twice, the withdrawn file's rows leave."""

    def per_file() -> tuple[Counter, Counter]:
        events = query(
            warehouse,
            "select _source_file as f, count(*) as n from staging.base_events__segment group by 1",
            work,
            home,
        )
        rejects = query(
            warehouse,
            "select source_file as f, count(*) as n from staging.quarantine "
            "where source_name = 'events.segment_events' group by 1",
            work,
            home,
        )
        return Counter({r["f"]: r["n"] for r in events}), Counter({r["f"]: r["n"] for r in rejects})

    rows_before, rejects_before = per_file()
    copy = work / "data-moved"
    shutil.copytree(data, copy)
    later = time.time() + 3600
    for path in copy.rglob("*"):
        os.utime(path, (later, later))
    withdrawn = sorted(
        p for p in (copy / "events").iterdir() if GENERATED_EVENT_FILE.match(p.name)
    )[0]
    name = withdrawn.relative_to(copy).as_posix()
    withdrawn.unlink()
    rebuilt = build(copy, warehouse, work, home)
    if rebuilt.returncode != 0:
        area.add("rebuild from a moved copy", failed_build(rebuilt), rebuilt.first_line())
        return
    rows_after, rejects_after = per_file()
    expected = (
        rows_before.total() - rows_before[name],
        rejects_before.total() - rejects_before[name],
    )
    got = rows_after.total(), rejects_after.total()
    detail = (
        f"base_events__segment {rows_before.total()} rows before, {got[0]} after "
        f"({expected[0]} expected); event quarantine {rejects_before.total()}, {got[1]} "
        f"({expected[1]} expected)"
    )
    area.add(
        "data folder moved: no event read twice", "clear" if got == expected else "wrong", detail
    )
    gone = rows_after[name] == 0 and rejects_after[name] == 0
    area.add(
        f"withdrawn {name}: its rows leave",
        "clear" if gone else "wrong",
        f"{rows_after[name]} rows left",
    )
