"""Hostile journey, template and sync files: every one a located error within moments.

`journeys validate` and `syncs validate` read files anyone can edit. Each case below once hung
for minutes (constant folding of `9 ** (9 ** 9)`, nested loops, a YAML alias bomb) or crashed
with a traceback (a 5,001-digit integer, a byte that is not UTF-8). The commands run in a child
process with a timeout, so a case that hangs again fails here instead of stalling the suite.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from test_journey_spec import PROBE, PROBE_TEMPLATE, position

from waymark.core.home import PROJECT_ROOT

BILLION_LAUGHS = """\
lol0: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
lol1: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
lol2: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
lol3: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
lol4: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
lol5: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
lol6: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
lol7: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
lol8: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""
BIG_INTEGER = "9" * 5001
NOT_UTF8 = b"\xff"

SYNC = """\
name: probe
type: audience
model: audiences.vip_lookalike_seed
destination: exports_files
mode: mirror
key: customer_id
fields:
  email: customer.email
purpose: ads_personalisation
give_up_after_runs: 3
"""

RUNNER = """
import contextlib, io, json, sys, time, traceback
from waymark.cli.main import main

results = {}
for name, argv in json.loads(sys.argv[1]).items():
    out = io.StringIO()
    wall, cpu = time.perf_counter(), time.thread_time()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        try:
            code = main(argv)
        except BaseException:
            code, out = -1, io.StringIO(traceback.format_exc())
    results[name] = {
        "code": code,
        "output": out.getvalue(),
        "wall": time.perf_counter() - wall,
        "cpu": time.thread_time() - cpu,
    }
print(json.dumps(results))
"""

# name -> (file written, the text, the token whose line the error must point at, words)
TEMPLATE_CASES: dict[str, tuple[str, str, str, str]] = {
    "power_folded_at_compile_time": (
        "template",
        PROBE_TEMPLATE.replace("  {{ event.name }}\n", "  {{ 9 ** (9 ** 9) }}\n"),
        "{{ 9 **",
        "9 ** 387420489 would have about 369,693,1",
    ),
    "power_at_render_time": (
        "template",
        PROBE_TEMPLATE.replace("  {{ event.name }}\n", "  {% set n = 9 %}{{ n ** (n ** n) }}\n"),
        "{% set n",
        "digits; at most 4,300",
    ),
    "power_in_journey_params": (
        "journey",
        PROBE.replace(
            "      purpose: email_marketing\n",
            "      purpose: email_marketing\n      params: {code: '{{ 9 ** (9 ** 9) }}'}\n",
        ),
        "code:",
        "digits; at most 4,300",
    ),
    "nested_range": (
        "template",
        PROBE_TEMPLATE.replace(
            "  {{ event.name }}\n",
            "  {% for i in range(100000) %}{% for j in range(100000) %}.{% endfor %}{% endfor %}\n",
        ),
        "{% for i",
        "more than 100,000 loop iterations and calls",
    ),
    "output_size": (
        "template",
        PROBE_TEMPLATE.replace(
            "  {{ event.name }}\n", "  {% for i in range(1000) %}{{ 'x' * 999999 }}{% endfor %}\n"
        ),
        "{% for i",
        "the output would be 1,999,",
    ),
    "render_time": (
        "template",
        PROBE_TEMPLATE.replace(
            "  {{ event.name }}\n",
            "  {% for i in range(50000) %}{{ ('x' * 999999).upper() | length }}{% endfor %}\n",
        ),
        "{% for i",
        "rendering took more than 0.5 s of CPU time",
    ),
    "alias_bomb_in_journey": ("journey", PROBE + BILLION_LAUGHS, "*d,", "aliases expand"),
    "alias_bomb_in_template": (
        "template",
        PROBE_TEMPLATE + BILLION_LAUGHS,
        "*d,",
        "aliases expand",
    ),
    "big_integer_in_journey": (
        "journey",
        PROBE.replace("duration: 1h", f"duration: {BIG_INTEGER}"),
        BIG_INTEGER,
        "an integer of 5,001 digits is out of range",
    ),
    "big_integer_in_template": (
        "template",
        PROBE_TEMPLATE + f"description: {BIG_INTEGER}\n",
        BIG_INTEGER,
        "an integer of 5,001 digits is out of range",
    ),
    "non_utf8_in_journey": (
        "journey",
        PROBE.replace("reminded", "remind\udcffed"),
        "\udcff",
        "UTF-8",
    ),
    "non_utf8_in_template": (
        "template",
        PROBE_TEMPLATE.replace("Hi", "H\udcffi"),
        "\udcff",
        "UTF-8",
    ),
}

CONNECTOR_SETTINGS = (PROJECT_ROOT / "syncs/_destinations.yml").read_text()

# name -> (file in syncs/, its text, the token whose line the error must point at, words)
SYNC_CASES: dict[str, tuple[str, str, str, str]] = {
    "alias_bomb_in_sync": ("probe.yml", SYNC + BILLION_LAUGHS, "*d,", "aliases expand"),
    "alias_bomb_in_connector_settings": (
        "_destinations.yml",
        CONNECTOR_SETTINGS + BILLION_LAUGHS,
        "*d,",
        "aliases expand",
    ),
    "big_integer_in_sync": (
        "probe.yml",
        SYNC.replace("give_up_after_runs: 3", f"give_up_after_runs: {BIG_INTEGER}"),
        BIG_INTEGER,
        "an integer of 5,001 digits is out of range",
    ),
    "non_utf8_in_sync": (
        "probe.yml",
        SYNC.replace("name: probe", "name: pr\udcffobe"),
        "\udcff",
        "UTF-8",
    ),
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Lone surrogates in the cases stand for raw bytes that are not UTF-8.
    path.write_bytes(text.encode("utf-8", "surrogateescape"))


def _journey_project(root: Path, kind: str, text: str) -> list[str]:
    root.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "destinations.yml", root / "destinations.yml")
    _write(root / "journeys" / "_events.yml", (PROJECT_ROOT / "journeys/_events.yml").read_text())
    _write(root / "journeys" / "probe.yml", text if kind == "journey" else PROBE)
    _write(root / "templates" / "probe_email.yml", text if kind == "template" else PROBE_TEMPLATE)
    return ["journeys", "validate", "--journeys", str(root / "journeys")]


def _sync_project(root: Path, file: str, text: str) -> list[str]:
    root.mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "destinations.yml", root / "destinations.yml")
    files = {"_destinations.yml": CONNECTOR_SETTINGS, "probe.yml": SYNC, file: text}
    for name, content in files.items():
        _write(root / "syncs" / name, content)
    return ["syncs", "validate", "--syncs", str(root / "syncs")]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every case validated once, each with its own project, in one child process."""
    root = tmp_path_factory.mktemp("hostile")
    runs = {"warm_up": _journey_project(root / "warm_up", "journey", PROBE)}
    for name, (kind, text, _, _) in TEMPLATE_CASES.items():
        runs[name] = _journey_project(root / name, kind, text)
    for name, (file, text, _, _) in SYNC_CASES.items():
        runs[name] = _sync_project(root / name, file, text)
    completed = subprocess.run(
        [sys.executable, "-c", RUNNER, json.dumps(runs)],
        capture_output=True,
        text=True,
        timeout=180,  # every case hung for minutes before it was bounded
        cwd=root,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout)


def _assert_located(outcome: dict[str, Any], file: str, line: int, words: str) -> None:
    """The first line printed is `<case>/<file>:<line>:<column>: ...` with the words."""
    output = outcome["output"]
    assert "Traceback" not in output, output
    assert outcome["code"] == 1, output
    first = output.splitlines()[0]
    assert first.startswith(f"{file}:{line}:"), output
    assert words in first, output
    # A bound, not a measurement afterwards: each case stops within a fraction of a second of
    # CPU (the wall clock also counts whatever else the machine is doing).
    assert outcome["cpu"] < 1.5, outcome


@pytest.mark.parametrize("case", list(TEMPLATE_CASES))
def test_dos_and_hostile_values_in_journeys_and_templates_are_located_errors(
    outcomes: dict[str, dict[str, Any]], case: str
) -> None:
    kind, text, token, words = TEMPLATE_CASES[case]
    assert outcomes["warm_up"]["code"] == 0, outcomes["warm_up"]["output"]
    file = "journeys/probe.yml" if kind == "journey" else "templates/probe_email.yml"
    _assert_located(outcomes[case], f"{case}/{file}", position(text, token)[0], words)


@pytest.mark.parametrize("case", list(SYNC_CASES))
def test_dos_and_hostile_values_in_sync_files_are_located_errors(
    outcomes: dict[str, dict[str, Any]], case: str
) -> None:
    file, text, token, words = SYNC_CASES[case]
    _assert_located(outcomes[case], f"{case}/syncs/{file}", position(text, token)[0], words)
