"""`make ui`: the Dagster webserver and daemon over the data and warehouse in WAYMARK_HOME.

Runs `dagster dev` (webserver, daemon, code server) on 127.0.0.1 with a persistent instance in
`$WAYMARK_HOME/dagster`, and stops it, with every process it started, on Ctrl-C or SIGTERM.

`dagster dev` maps SIGTERM to its SIGINT handler, so when it is started with SIGINT ignored (any
background job of a non-interactive shell) it ignores both. This wrapper therefore starts it with
default signal handling in a process group of its own and forwards a stop to the whole group (as
a terminal's Ctrl-C would), then kills whatever is left after a grace period.
"""

from __future__ import annotations

import argparse
import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

import dagster as dg

from orchestration.warehouse import fail_abandoned_runs, set_warehouse_pool_limit
from waymark.core.environment import dot_env_values
from waymark.core.home import DEMO_DATA_DIR, PROJECT_ROOT, WaymarkHome
from waymark.warehouse.manifest import MANIFEST_PATH

INSTANCE_CONFIG = Path(__file__).parent / "instance" / "dagster.yaml"
WORKSPACE = PROJECT_ROOT / "workspace.yaml"
DEFAULT_PORT = 3000
# dagster dev stopped its services in 3-8 s on 2 shared cores, with a run interrupted mid-build
# recording its end; the rest is margin before anything left is killed.
GRACE_SECONDS = 15.0
STRAGGLER_SECONDS = 5.0
_PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>


def seed_demo_landing(landing: Path) -> int:
    """Copy the demo source files into an empty landing folder; returns the files copied.

    A landing folder that holds anything is left alone: files landed since are the user's.
    """
    if landing.exists() and any(path.is_file() for path in landing.rglob("*")):
        return 0
    shutil.copytree(
        DEMO_DATA_DIR, landing, ignore=shutil.ignore_patterns("_truth"), dirs_exist_ok=True
    )
    return sum(1 for path in landing.rglob("*") if path.is_file())


def ui_environment(home: WaymarkHome, environ: Mapping[str, str]) -> dict[str, str]:
    """The environment of the Dagster processes: warehouse and data directory from the home
    unless set explicitly; the instance and dbt artifacts always under the home."""
    env = dict(environ)
    env["WAYMARK_HOME"] = str(home.root)
    env.setdefault("WAYMARK_WAREHOUSE", str(home.warehouse))
    env.setdefault("WAYMARK_DATA_DIR", str(home.landing))
    env["DAGSTER_HOME"] = str(home.root / "dagster")
    # Each dbt invocation writes its artifacts to a folder of its own under this path.
    env["DBT_TARGET_PATH"] = str(home.dbt_target)
    return env


@contextmanager
def exclusive_home(dagster_home: Path) -> Iterator[None]:
    """Refuse a second UI on the same home: two daemons would run every schedule twice."""
    with open(dagster_home / "ui.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(f"Another `make ui` is already serving {dagster_home}.") from None
        yield


def prepare_instance(dagster_home: Path) -> list[str]:
    """Install the instance config, set the warehouse pool and fail runs a crash left behind."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(INSTANCE_CONFIG, dagster_home / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        set_warehouse_pool_limit(instance)
        return fail_abandoned_runs(instance)


def become_subreaper() -> None:
    """Adopt orphaned descendants (Linux), so they can be reaped here.

    Processes whose parent exits first are reparented to PID 1, which in containers often never
    reaps them; their zombies would stay in the process group and look alive.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def reap_exited_children() -> None:
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def signal_group(pgid: int, signum: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, signum)


def supervise(command: list[str], env: Mapping[str, str], cwd: Path) -> int:
    """Run `command` in its own process group until it exits or we are told to stop."""
    requests: list[int] = []

    def request_stop(signum: int, _frame: object) -> None:
        requests.append(signum)

    # Handlers (not SIG_IGN) are reset to the default in the child at exec: `dagster dev` gets
    # working SIGINT/SIGTERM even when this wrapper was started with them ignored.
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    become_subreaper()
    # stdin from /dev/null: a background process group reading the terminal would be stopped.
    child = subprocess.Popen(
        command, env=dict(env), cwd=cwd, process_group=0, stdin=subprocess.DEVNULL
    )
    pgid = child.pid
    deadline: float | None = None
    while child.poll() is None:
        if requests and deadline is None:
            print("Stopping Dagster...", file=sys.stderr, flush=True)
            signal_group(pgid, signal.SIGINT)
            deadline = time.monotonic() + GRACE_SECONDS
        elif deadline is not None and (len(requests) > 1 or time.monotonic() > deadline):
            signal_group(pgid, signal.SIGKILL)
        time.sleep(0.1)
    # Whatever `dagster dev` left behind (a code server still shutting down, a run worker or dbt
    # that ignored the interrupt) gets a moment, then is killed: nothing outlives `make ui`.
    stragglers_deadline = time.monotonic() + (STRAGGLER_SECONDS if requests else 0.0)
    give_up = stragglers_deadline + STRAGGLER_SECONDS
    while True:
        reap_exited_children()
        if not group_alive(pgid):
            break
        if time.monotonic() > give_up:
            print(f"Processes of group {pgid} did not exit after SIGKILL.", file=sys.stderr)
            return 1
        if time.monotonic() > stragglers_deadline:
            signal_group(pgid, signal.SIGKILL)
        time.sleep(0.05)
    return 0 if requests else child.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.ui", description=__doc__)
    parser.add_argument("--home", help="state directory (default $WAYMARK_HOME or ./.waymark)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("WAYMARK_UI_PORT", DEFAULT_PORT))
    )
    args = parser.parse_args(argv)

    if not MANIFEST_PATH.exists():
        print(f"No dbt manifest at {MANIFEST_PATH}: run `make manifest` first.", file=sys.stderr)
        return 2
    # `dagster dev` loads the project folder's .env (it runs there) over these variables; read
    # it here too, so the home chosen below is the one the Dagster processes see.
    environ = {**os.environ, **dot_env_values(PROJECT_ROOT)}
    home = WaymarkHome.resolve(args.home or environ.get("WAYMARK_HOME")).create()
    env = ui_environment(home, environ)
    if Path(env["WAYMARK_DATA_DIR"]) == home.landing:
        copied = seed_demo_landing(home.landing)
        if copied:
            print(f"Copied {copied} demo files into {home.landing}", file=sys.stderr)
    dagster_home = Path(env["DAGSTER_HOME"])
    dagster_home.mkdir(parents=True, exist_ok=True)
    with exclusive_home(dagster_home):
        abandoned = prepare_instance(dagster_home)
        if abandoned:
            print(f"Marked {len(abandoned)} unfinished run(s) failed", file=sys.stderr)
        print(
            f"Dagster UI on http://{args.host}:{args.port} | data {env['WAYMARK_DATA_DIR']} | "
            f"warehouse {env['WAYMARK_WAREHOUSE']} | instance {dagster_home}",
            file=sys.stderr,
            flush=True,
        )
        command = [
            sys.executable,
            "-m",
            "dagster",
            "dev",
            "--workspace",
            str(WORKSPACE),
            "--host",
            args.host,
            "--port",
            str(args.port),
        ]
        return supervise(command, env, PROJECT_ROOT)


if __name__ == "__main__":
    sys.exit(main())
