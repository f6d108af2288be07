"""Secret canaries: the canary test module run by pytest in a subprocess, its printed counts
read back (each destination's canaries planted and found across tables, logs and output)."""

from __future__ import annotations

import re
import subprocess

from probes.common import PYTHON, ROOT, Area

TEST = "tests/test_activations_secret_canaries.py"
PRINTED = re.compile(r"secret canaries (\w+): (\d+) planted, (\d+) found, (\d+) requests")


def run_canaries() -> Area:
    area = Area(
        "secrets",
        [("destinations", "destinations"), ("clean", "without a leak"), ("hit", "with a hit")],
        failing=("hit", "failed"),
    )
    done = subprocess.run(
        [str(PYTHON), "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", TEST],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    planted = found = requests = 0
    for name, *counts in PRINTED.findall(done.stdout):
        canaries, hits, answers = map(int, counts)
        planted, found, requests = planted + canaries, found + hits, requests + answers
        area.add(name, "hit" if hits else "clean", f"{canaries} canaries, {hits} found")
    if done.returncode != 0:
        tail = done.stdout.strip().splitlines()[-1:] or ["no output"]
        area.add("pytest " + TEST, "failed", tail[0])
    area.extra = f"{planted} canaries planted, {found} hits, {requests} echoing answers"
    return area
