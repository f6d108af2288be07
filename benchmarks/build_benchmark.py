"""Benchmark `waymark build`: full, incremental after ~1% new events, and the identity step alone.

    python benchmarks/build_benchmark.py --customers 100000 [--workdir DIR]

Generates N people (kept in the work directory for reuse), holds back the last days of events,
builds everything, lands the held-back files and builds again, then times the identity graph's
connected components in Waymark's SQL and in Splink's clustering on the same edges. Each step
runs in its own process so its peak memory (max RSS) is its own. Prints one line per step.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HELD_BACK_DAYS = 2  # of 180 daily event files: about 1.1% of events


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _count_rows(data: Path) -> int:
    import duckdb

    total = 0
    for folder in sorted(p for p in data.iterdir() if p.is_dir() and p.name != "_truth"):
        files = [str(f) for f in folder.iterdir() if f.is_file()]
        if not files:
            continue
        if folder.name == "events":
            reader = "read_csv({files}, columns={{'l': 'varchar'}}, header=false, delim=chr(1), quote='', escape='')"
        else:
            reader = "read_csv({files}, header=true, all_varchar=true)"
        total += duckdb.sql(f"select count(*) from {reader.format(files=files)}").fetchall()[0][0]
    return total


def step_generate(args: argparse.Namespace) -> dict:
    from waymark.generate import generate

    started = time.perf_counter()
    stats = generate(customers=args.customers, seed=args.seed, out=Path(args.data), workers=2)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rows": stats.total_rows}


def step_build(args: argparse.Namespace) -> dict:
    from waymark.core.home import DEMO_AS_OF
    from waymark.warehouse.build import dbt_environment, run_dbt

    work = Path(args.workdir)
    env = dbt_environment(
        Path(args.data), Path(args.warehouse), DEMO_AS_OF, work / "target", work / "logs"
    )
    result = run_dbt(["build", "--exclude", "test_type:unit"], env)
    timings = {n.name: n.seconds for n in result.nodes if n.resource_type == "model"}
    identity = sum(v for k, v in timings.items() if k.startswith("int_identity__"))
    tests = sum(n.seconds for n in result.nodes if n.resource_type == "test")
    slowest = sorted(((n.seconds, n.name) for n in result.nodes), reverse=True)[:8]
    return {"seconds": result.seconds, "identity_models_seconds": identity, "tests_seconds": tests,
            "slowest": [f"{name} {seconds:.1f}s" for seconds, name in slowest]}  # fmt: skip


def step_identity(args: argparse.Namespace) -> dict:
    """Connected components on the built graph: Waymark's compiled SQL vs Splink, same edges."""
    import duckdb
    from splink import DuckDBAPI
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    compiled = (
        Path(args.workdir)
        / "target/compiled/waymark/models/intermediate/identity"
        / "int_identity__components.sql"
    ).read_text()
    # Splink writes working tables, so both run in memory beside the attached warehouse
    # (attached under its file stem, the database name the compiled SQL refers to).
    con = duckdb.connect()
    con.execute("set threads = 2")
    con.execute(f"attach '{args.warehouse}' as {Path(args.warehouse).stem} (read_only)")
    warehouse = Path(args.warehouse).stem
    con.execute(
        f"create table nodes as select node_key from {warehouse}.intermediate.int_identity__nodes"
    )
    con.execute(
        f"create table edges as select node_key_a, node_key_b from {warehouse}.intermediate.int_identity__edges"
    )
    nodes, edges = (
        con.sql(f"select count(*) from {t}").fetchall()[0][0] for t in ("nodes", "edges")
    )

    started = time.perf_counter()
    con.execute(f"create table waymark_components as {compiled}")
    waymark_seconds = time.perf_counter() - started

    started = time.perf_counter()
    clusters = cluster_pairwise_predictions_at_threshold(
        "nodes",
        "edges",
        db_api=DuckDBAPI(con),
        node_id_column_name="node_key",
        edge_id_column_name_left="node_key_a",
        edge_id_column_name_right="node_key_b",
    )
    splink_table = clusters.physical_name
    splink_seconds = time.perf_counter() - started

    agree = con.sql(
        f"select count(distinct component_key) = (select count(distinct cluster_id) from {splink_table}) "
        "from waymark_components"
    ).fetchall()[0][0]
    return {
        "nodes": nodes,
        "edges": edges,
        "waymark_seconds": waymark_seconds,
        "splink_seconds": splink_seconds,
        "same_component_count": bool(agree),
    }


STEPS = {"generate": step_generate, "build": step_build, "identity": step_identity}


def run_step(name: str, args: argparse.Namespace, **overrides: str) -> dict:
    """Run one step in a fresh interpreter and return its measurements plus its peak RSS."""
    command = [sys.executable, __file__, "--step", name, "--customers", str(args.customers),
               "--seed", str(args.seed), "--workdir", args.workdir, "--data", overrides.get("data", args.data),
               "--warehouse", args.warehouse]  # fmt: skip
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    # Other work on the machine slows every step; the 1-minute load average says how much.
    result["load_after"] = os.getloadavg()[0]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--data", default=None)
    parser.add_argument("--warehouse", default=None)
    parser.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir = args.workdir or str(ROOT / ".waymark" / "bench" / f"n{args.customers}")
    args.data = args.data or str(Path(args.workdir) / "data")
    args.warehouse = args.warehouse or str(Path(args.workdir) / "warehouse.duckdb")

    if args.step:
        result = STEPS[args.step](args)
        result["peak_rss_mb"] = _peak_rss_mb()
        print(json.dumps(result))
        return

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine      {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start, "
          f"DuckDB memory limit {os.environ.get('WAYMARK_DUCKDB_MEMORY_LIMIT', '80%')}", flush=True)  # fmt: skip
    generated = work / "generated"
    if not (generated / "_truth").exists():
        shutil.rmtree(generated, ignore_errors=True)
        gen = run_step("generate", args, data=str(generated))
        print(f"generate     {args.customers:,} people, {gen['rows']:,} rows in {gen['seconds']:.1f} s "
              f"({gen['rows'] / gen['seconds']:,.0f} rows/s, peak {gen['peak_rss_mb']:.0f} MB per process)", flush=True)  # fmt: skip

    data = Path(args.data)
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(generated, data, ignore=shutil.ignore_patterns("_truth"))
    held_back = sorted((data / "events").iterdir())[-HELD_BACK_DAYS * _shards(data) :]
    parked = work / "held_back"
    shutil.rmtree(parked, ignore_errors=True)
    parked.mkdir()
    for path in held_back:
        shutil.move(path, parked / path.name)
    Path(args.warehouse).unlink(missing_ok=True)

    rows = _count_rows(data)
    full = run_step("build", args)
    print(f"full build   {rows:>12,} rows  {full['seconds']:7.1f} s  {rows / full['seconds']:>10,.0f} rows/s  "
          f"identity models {full['identity_models_seconds']:.1f} s  tests {full['tests_seconds']:.1f} s  "
          f"peak {full['peak_rss_mb']:.0f} MB  load {full['load_after']:.1f}\n             slowest: {', '.join(full['slowest'])}", flush=True)  # fmt: skip

    new_rows = sum(_lines(p) for p in parked.iterdir())
    for path in parked.iterdir():
        shutil.move(path, data / "events" / path.name)
    incremental = run_step("build", args)
    print(f"incremental  {new_rows:>12,} new event rows ({new_rows / rows:.1%})  {incremental['seconds']:7.1f} s  "
          f"= {incremental['seconds'] / full['seconds']:.0%} of full  tests {incremental['tests_seconds']:.1f} s  "
          f"peak {incremental['peak_rss_mb']:.0f} MB  load {incremental['load_after']:.1f}\n             slowest: {', '.join(incremental['slowest'])}", flush=True)  # fmt: skip

    identity = run_step("identity", args)
    print(f"identity     {identity['nodes']:,} nodes, {identity['edges']:,} edges: "
          f"waymark {identity['waymark_seconds']:.2f} s, splink {identity['splink_seconds']:.2f} s, "
          f"ratio waymark/splink {identity['waymark_seconds'] / identity['splink_seconds']:.2f}, "
          f"same component count: {identity['same_component_count']}  peak {identity['peak_rss_mb']:.0f} MB")  # fmt: skip


def _shards(data: Path) -> int:
    names = [p.name for p in (data / "events").iterdir()]
    first_day = min(n[:10] for n in names)
    return sum(1 for n in names if n.startswith(first_day))


def _lines(path: Path) -> int:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return sum(1 for line in handle if line.strip())


if __name__ == "__main__":
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    main()
