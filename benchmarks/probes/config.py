"""Config probes: one hostile journey, template or sync file at a time in a copy of the
project's `journeys/`, `templates/`, `syncs/` and `destinations.yml`, validated by
`waymark journeys validate` / `waymark syncs validate` (folders given as options: by default
they read the project's own folders, whatever the working directory).

Verdicts: `located` (non-zero exit, an error at `file:line`), `unlocated` (an error without
one), `traceback`, `hang` (killed at the timeout), `accepted` (exit 0).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from probes.common import ROOT, Area, waymark

TEMPLATE = "templates/welcome_bestsellers.yml"
JOURNEY = "journeys/welcome_series.yml"
SYNC = "syncs/new_leads_to_hubspot.yml"
META_SYNC = "syncs/high_value_at_risk_to_meta.yml"
JOURNEYS = ["journeys", "validate", "--journeys", "journeys", "--templates", "templates"]
JOURNEYS += ["--destinations", "destinations.yml"]
SYNCS = ["syncs", "validate", "--syncs", "syncs", "--destinations", "destinations.yml"]

ALIAS_BOMB = b"x_bomb:\n  a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    b"  %c: &%c [%s]\n" % (98 + i, 98 + i, b", ".join([b"*%c" % (97 + i)] * 9)) for i in range(8)
)
"""Nine to the ninth values (387 million) from 700 bytes."""
BIG_INTEGER = b"1" + b"0" * 5000


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    """The file changed (or created), relative to the project copy; the error must locate it."""
    edit: Callable[[bytes], bytes]
    command: list[str]


def line(prefix: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """Replace the first line starting with `prefix` by `new`."""
    return lambda text: re.sub(rb"(?m)^" + re.escape(prefix) + rb".*$", new, text, count=1)


def after(prefix: bytes, added: bytes) -> Callable[[bytes], bytes]:
    """Insert `added` as lines after the first line starting with `prefix`."""
    pattern = rb"(?m)^(" + re.escape(prefix) + rb".*\n)"
    return lambda text: re.sub(pattern, lambda m: m.group(1) + added, text, count=1)


def subject(template: str) -> Callable[[bytes], bytes]:
    return line(b"subject:", b'subject: "' + template.encode() + b'"')


def new_file(content: bytes) -> Callable[[bytes], bytes]:
    return lambda _text: content


def clash_sync() -> bytes:
    """The Meta sync's twin fed by another model, writing the same Custom Audience."""
    text = (ROOT / META_SYNC).read_bytes()
    text = line(b"name:", b"name: probe_vip_to_meta")(text)
    return line(b"model:", b"model: audiences.vip_lookalike_seed")(text)


CASES = [
    Case("template {{ 9 ** (9 ** 9) }}", TEMPLATE, subject("{{ 9 ** (9 ** 9) }}"), JOURNEYS),
    Case(
        "template: nested range(100000) loops",
        TEMPLATE,
        subject(
            "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"
        ),
        JOURNEYS,
    ),
    Case(
        "template: 90 MB of output",
        TEMPLATE,
        subject("{% for i in range(90000) %}{{ 'x' * 999 }}{% endfor %}"),
        JOURNEYS,
    ),
    Case("template: 'x' * 10 ** 9", TEMPLATE, subject("{{ 'x' * 10 ** 9 }}"), JOURNEYS),
    Case(
        "template: 'x' | center(10 ** 9)",
        TEMPLATE,
        subject("{{ 'x' | center(10 ** 9) }}"),
        JOURNEYS,
    ),
    Case(
        "template: long-running render",
        TEMPLATE,
        subject(
            "{% set ns = namespace(s=0) %}{% for a in range(99999) %}"
            "{% set ns.s = ns.s + (a ** 3) % 7 %}{% endfor %}{{ ns.s }}"
        ),
        JOURNEYS,
    ),
    Case(
        "template: non-UTF-8 byte",
        TEMPLATE,
        after(b"channel:", b"description: caf\xe9\n"),
        JOURNEYS,
    ),
    Case("journey: YAML alias bomb", JOURNEY, after(b"priority:", ALIAS_BOMB), JOURNEYS),
    Case(
        "journey: 5,001-digit integer",
        JOURNEY,
        line(b"priority:", b"priority: " + BIG_INTEGER),
        JOURNEYS,
    ),
    Case("journey: non-UTF-8 byte", JOURNEY, line(b"name:", b"name: welcome_s\xe9ries"), JOURNEYS),
    Case("journey: control character", JOURNEY, line(b"priority:", b"priority: 10\x07"), JOURNEYS),
    Case(
        "destinations.yml: non-UTF-8 byte",
        "destinations.yml",
        after(b"destinations:", b"  # caf\xe9\n"),
        JOURNEYS,
    ),
    Case("sync: YAML alias bomb", SYNC, after(b"mode:", ALIAS_BOMB), SYNCS),
    Case(
        "sync: 5,001-digit integer",
        SYNC,
        after(b"mode:", b"batch_size: " + BIG_INTEGER + b"\n"),
        SYNCS,
    ),
    Case("sync: non-UTF-8 byte", SYNC, line(b"description:", b"description: caf\xe9"), SYNCS),
    Case("sync: control character", SYNC, line(b"mode:", b"mode: upsert\x1b"), SYNCS),
    Case(
        "sync: 5,001-digit integer in _destinations.yml",
        "syncs/_destinations.yml",
        after(b"      starttls: true\n", b"      port: " + BIG_INTEGER + b"\n"),
        SYNCS,
    ),
    Case(
        "sync maps customer.frist_name",
        SYNC,
        line(b"  firstname:", b"  firstname: customer.frist_name"),
        SYNCS,
    ),
    Case(
        "two syncs of different models write one audience",
        "syncs/probe_vip_to_meta.yml",
        new_file(clash_sync()),
        SYNCS,
    ),
    Case(
        "a sync of another model writes the Meta audience journey vip_ads feeds",
        META_SYNC,
        line(b"  audience_id:", b'  audience_id: "23850000000000002"'),
        SYNCS,
    ),
]


def project_copy(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in ("journeys", "templates", "syncs"):
        shutil.copytree(ROOT / name, folder / name)
    shutil.copy2(ROOT / "destinations.yml", folder / "destinations.yml")
    return folder


def run_config(work: Path, home: Path, timeout: float) -> Area:
    area = Area(
        "config",
        [("cases", "cases"), ("located", "located errors (file:line)"),
         ("traceback", "tracebacks"), ("hang", "hangs"), ("accepted", "silently accepted")],
        failing=("traceback", "hang", "accepted"),
    )  # fmt: skip
    pristine = project_copy(work / "config" / "pristine")
    for command in (JOURNEYS, SYNCS):
        run = waymark(command, pristine, home, timeout=120)
        if run.returncode != 0:
            raise RuntimeError(f"the project's own config does not validate: {run.text}")
    for number, case in enumerate(CASES, 1):
        project = project_copy(work / "config" / f"case{number:02d}")
        target = project / case.path
        target.write_bytes(case.edit(target.read_bytes() if target.exists() else b""))
        run = waymark(case.command, project, home, timeout=timeout)
        located = re.search(re.escape(case.path) + r":\d+", run.text)
        if run.timed_out:
            area.add(case.name, "hang", f"killed after {timeout:.0f} s")
        elif run.traceback:
            area.add(case.name, "traceback", run.lines[-1])
        elif run.returncode == 0:
            area.add(case.name, "accepted", run.first_line())
        elif located:
            message = next(text for text in run.lines if located.group(0) in text)
            area.add(case.name, "located", f"{message[:160]} ({run.seconds:.1f} s)")
        else:
            area.add(case.name, "unlocated", run.first_line())
    return area
