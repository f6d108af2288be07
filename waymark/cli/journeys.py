"""`waymark journeys`: validate journey files, publish their JSON Schema, preview messages, and
run the engine (`tick`)."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from waymark.cli.args import duration, existing_directory, instant, non_negative_number
from waymark.cli.errors import CommandError, problems_error, unknown_name
from waymark.core.home import PROJECT_ROOT, WaymarkHome
from waymark.core.instants import now

if TYPE_CHECKING:
    from waymark.journeys.journey import Journey
    from waymark.journeys.project import ProjectPaths
    from waymark.journeys.validation import ProjectReport


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `journeys` command group to the `waymark` parser."""
    journeys = subparsers.add_parser("journeys", help="validate, document and preview journeys")
    commands = journeys.add_subparsers(dest="journeys_command", required=True)

    validate = commands.add_parser("validate", help="check every journey file; exit 1 on errors")
    _project_options(validate)
    validate.set_defaults(handler=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of journey files")
    schema.add_argument(
        "--output", help="write it to this file, such as journeys/journey.schema.json"
    )
    schema.set_defaults(handler=_schema)

    preview = commands.add_parser("preview", help="render a journey's messages for one customer")
    preview.add_argument("journey", help="journey name")
    preview.add_argument("--customer", required=True, help="customer_id in marts.customers")
    preview.add_argument("--warehouse", help="DuckDB file (default <home>/warehouse.duckdb)")
    preview.add_argument("--html", action="store_true", help="also print email HTML bodies")
    _project_options(preview)
    preview.set_defaults(handler=_preview)

    tick = commands.add_parser("tick", help="run one journey evaluation over the warehouse")
    tick.add_argument(
        "--as-of", type=instant, help="evaluate as of this UTC time (ISO 8601; default now)"
    )
    tick.add_argument("--warehouse", help="DuckDB file (default <home>/warehouse.duckdb)")
    tick.add_argument(
        "--lookback-hours",
        type=non_negative_number,
        default=24.0,
        help="late-event allowance (default 24)",
    )
    _project_options(tick)
    tick.set_defaults(handler=_tick)

    simulate = commands.add_parser(
        "simulate", help="replay history through a journey without sending anything"
    )
    simulate.add_argument("journey", help="journey name")
    simulate.add_argument(
        "--from", dest="start", type=instant, required=True, help="first tick (ISO 8601, UTC)"
    )
    simulate.add_argument(
        "--to", dest="end", type=instant, required=True, help="last tick (ISO 8601, UTC)"
    )
    simulate.add_argument(
        "--every", type=duration, default="1h", help="tick interval such as 15m, 1h (default)"
    )
    simulate.add_argument("--warehouse", help="DuckDB file, read only (default <home>/...)")
    simulate.add_argument(
        "--output", help="would-send list, JSON lines (default <home>/outputs/simulate_*.jsonl)"
    )
    _project_options(simulate)
    simulate.set_defaults(handler=_simulate)

    journey_map = commands.add_parser(
        "map", help="draw a journey (Mermaid, SVG, HTML) with live counts per step"
    )
    journey_map.add_argument("journey", help="journey name")
    journey_map.add_argument("--warehouse", help="DuckDB file, read only (default <home>/...)")
    journey_map.add_argument("--no-counts", action="store_true", help="structure only")
    journey_map.add_argument("--output", help="folder for the files (default <home>/outputs)")
    _project_options(journey_map)
    journey_map.set_defaults(handler=_map)


def _project_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journeys", type=existing_directory, help="journeys folder (default journeys/)"
    )
    parser.add_argument("--templates", help="templates folder (default beside the journeys folder)")
    parser.add_argument("--destinations", help="destinations file (default beside journeys/)")
    parser.add_argument("--events", help="event catalogue (default <journeys>/_events.yml)")


def _paths(args: argparse.Namespace) -> ProjectPaths:
    # Imported here so `waymark --help` and the other commands do not load pydantic and Jinja.
    from waymark.journeys.project import ProjectPaths

    return ProjectPaths.for_journeys(
        args.journeys or PROJECT_ROOT / "journeys",
        templates=args.templates,
        destinations=args.destinations,
        events=args.events,
    )


def _validate(args: argparse.Namespace) -> int:
    from waymark.journeys.validation import validate_project

    report = validate_project(_paths(args))
    for issue in report.issues:
        print(issue)
    if report.issues:
        print(f"{len(report.issues)} problem(s)", file=sys.stderr)
        return 1
    templates = len(report.project.templates)
    print(f"{len(report.journeys)} journeys and {templates} templates are valid", file=sys.stderr)
    return 0


def _schema(args: argparse.Namespace) -> int:
    from waymark.journeys.spec import journey_json_schema_text

    text = journey_json_schema_text()
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _preview(args: argparse.Namespace) -> int:
    from waymark.journeys.preview import PreviewError, preview_journey
    from waymark.journeys.preview_format import format_preview

    report, journey = _journey(args)
    warehouse = warehouse_path(args)
    try:
        preview = preview_journey(journey, report.project, warehouse, args.customer)
    except PreviewError as error:
        raise CommandError(str(error)) from None
    print(format_preview(preview, html=args.html))
    return 1 if any(send.error for send in preview.sends) else 0


def warehouse_path(args: argparse.Namespace) -> Path:
    return Path(args.warehouse) if args.warehouse else WaymarkHome.resolve(args.home).warehouse


def _tick(args: argparse.Namespace) -> int:
    from waymark.journeys.engine import tick_warehouse
    from waymark.journeys.engine.format import format_tick
    from waymark.journeys.engine.sql import EngineError

    try:
        result = tick_warehouse(
            warehouse_path(args),
            args.as_of or now(),
            paths=_paths(args),
            lookback=timedelta(hours=args.lookback_hours),
        )
    except EngineError as error:
        raise CommandError(str(error)) from None
    print(format_tick(result))
    return 0


def _journey(args: argparse.Namespace) -> tuple[ProjectReport, Journey]:
    """The validated project and the journey named on the command line, or a one-line error:
    its first problem when its file is invalid, the nearest name when there is no such file."""
    from waymark.journeys.loading import journey_files
    from waymark.journeys.validation import validate_project

    paths = _paths(args)
    report = validate_project(paths)
    journey = next((j for j in report.journeys if j.name == args.journey), None)
    if journey is not None:
        return report, journey
    problems = [issue for issue in report.issues if Path(issue.file).stem == args.journey]
    if problems:
        raise problems_error(problems, "waymark journeys validate")
    files = {path.stem for path in journey_files(paths.journeys)}
    names = sorted({j.name for j in report.journeys} | files)
    raise unknown_name("journey", args.journey, names, paths.journeys)


def _simulate(args: argparse.Namespace) -> int:
    from waymark.journeys.engine.simulate import format_simulation, simulate, write_would_send
    from waymark.journeys.engine.sql import EngineError

    report, journey = _journey(args)
    start, end = args.start, args.end
    try:
        result = simulate(
            warehouse_path(args), journey, report.project, start, end, every=args.every
        )
    except EngineError as error:
        raise CommandError(str(error)) from None
    home = WaymarkHome.resolve(args.home)
    default = f"simulate_{journey.name}_{start:%Y%m%dT%H%M}_{end:%Y%m%dT%H%M}.jsonl"
    output = Path(args.output) if args.output else home.outputs / default
    write_would_send(result, output)
    print(format_simulation(result))
    print(f"\nwould-send list: {output} ({result.sends:,} messages)")
    return 0


def _map(args: argparse.Namespace) -> int:
    from waymark.journeys.engine.journey_svg import write_map
    from waymark.journeys.engine.sql import EngineError

    _, journey = _journey(args)
    output = Path(args.output) if args.output else WaymarkHome.resolve(args.home).outputs
    warehouse = None if args.no_counts else warehouse_path(args)
    try:
        files, text = write_map(journey, output, warehouse)
    except EngineError as error:
        raise CommandError(str(error)) from None
    sys.stdout.write(text)
    print("wrote " + ", ".join(str(path) for path in files), file=sys.stderr)
    return 0
