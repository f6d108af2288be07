"""`waymark syncs list|validate|sends|erase`, `waymark sync NAME [--dry-run]` and
`waymark forget`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from waymark.cli.args import existing_directory, instant, whole_number
from waymark.cli.errors import CommandError, problems_error, require_warehouse, unknown_name
from waymark.core.home import WaymarkHome
from waymark.core.instants import now, to_warehouse

if TYPE_CHECKING:
    from activations.sync_files import SyncPaths, SyncProject


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `syncs` command group and the `sync` command to the `waymark` parser."""
    syncs = subparsers.add_parser("syncs", help="list, validate and deliver activations")
    commands = syncs.add_subparsers(dest="syncs_command", required=True)

    listing = commands.add_parser("list", help="every sync file: model, destination, mode")
    _project_options(listing)
    listing.set_defaults(handler=_list)

    validate = commands.add_parser("validate", help="check sync and destination files; exit 1")
    _project_options(validate)
    validate.set_defaults(handler=_validate)

    sends = commands.add_parser("sends", help="deliver pending journey messages from the outbox")
    sends.add_argument("--destination", help="only this destination")
    sends.add_argument(
        "--give-up-after-runs", type=whole_number(1), default=5, help="for transient failures"
    )
    _run_options(sends)
    _project_options(sends)
    sends.set_defaults(handler=_sends)

    erase = commands.add_parser("erase", help="process open erasure requests: remove, drop, audit")
    erase.add_argument(
        "--requests-from",
        metavar="SCHEMA.TABLE",
        help="first import requests landed in this relation (request_ref, requested_at, and "
        "customer_id, email or phone)",
    )
    _run_options(erase, dry_run=False)
    _project_options(erase)
    erase.set_defaults(handler=_erase)

    forget = subparsers.add_parser(
        "forget", help="record a right-to-erasure request and process it"
    )
    forget.add_argument("--customer", help="the customer_id to erase")
    forget.add_argument("--email", help="an email address of the person (stored hashed)")
    forget.add_argument("--phone", help="a phone number of the person (stored hashed)")
    forget.add_argument("--country", help="ISO country of a national phone number")
    forget.add_argument(
        "--requested-at", type=instant, help="when the person asked (UTC; default now)"
    )
    forget.add_argument("--reference", help="the request's id in the tool it came from")
    forget.add_argument(
        "--record-only", action="store_true", help="record the request; process it later"
    )
    _run_options(forget, dry_run=False)
    _project_options(forget)
    forget.set_defaults(handler=_forget)

    sync = subparsers.add_parser("sync", help="run one sync (only what changed is sent)")
    sync.add_argument("name", help="sync name (syncs/<name>.yml)")
    _run_options(sync)
    _project_options(sync)
    sync.set_defaults(handler=_sync)


def _project_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--syncs", type=existing_directory, help="folder of sync files (default syncs/)"
    )
    parser.add_argument("--destinations", help="destinations file (default beside syncs/)")


def _run_options(parser: argparse.ArgumentParser, *, dry_run: bool = True) -> None:
    parser.add_argument("--warehouse", help="DuckDB file (default <home>/warehouse.duckdb)")
    parser.add_argument(
        "--as-of",
        type=instant,
        help="consent and suppression as of this UTC time (default now)",
    )
    if dry_run:
        parser.add_argument("--dry-run", action="store_true", help="print the plan; send nothing")
        parser.add_argument(
            "--sample", type=whole_number(0), default=3, help="payloads shown per change kind"
        )


def _paths(args: argparse.Namespace) -> SyncPaths:
    from activations.sync_files import SyncPaths

    return SyncPaths.default(args.syncs, args.destinations)


def _load(args: argparse.Namespace) -> SyncProject:
    from activations.sync_files import load_project

    return load_project(_paths(args))


def _list(args: argparse.Namespace) -> int:
    project = _load(args)
    rows = [("name", "type", "model", "destination", "mode", "purpose", "schedule")]
    for loaded in project.syncs:
        spec = loaded.spec
        if spec is None:
            rows.append((loaded.source.path.stem, "(invalid)", "", "", "", "", ""))
            continue
        kind = loaded.destination.kind if loaded.destination else "?"
        rows.append(
            (
                spec.name + (" (invalid)" if loaded.issues else ""),
                spec.type,
                spec.model,
                f"{spec.destination} ({kind})",
                spec.mode,
                spec.purpose,
                spec.schedule or "manual",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    if project.issues:
        raise problems_error(project.issues, "waymark syncs validate")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from activations.sync_checks import check_models

    project = _load(args)
    check_models(project)
    for issue in project.issues:
        print(issue)
    if project.issues:
        print(f"{len(project.issues)} problem(s)", file=sys.stderr)
        return 1
    print(f"{len(project.syncs)} syncs and their destinations are valid", file=sys.stderr)
    return 0


def _warehouse(args: argparse.Namespace) -> Path:
    """The warehouse the command reads (--warehouse or the home's); it must exist."""
    chosen = Path(args.warehouse) if args.warehouse else WaymarkHome.resolve(args.home).warehouse
    return require_warehouse(chosen)


def _as_of(args: argparse.Namespace) -> datetime:
    return args.as_of or now()


def _sync(args: argparse.Namespace) -> int:
    from activations.dry_run import dry_run_sync
    from activations.plan import PlanError
    from activations.runner import RunOptions, run_sync
    from activations.secrets import Secrets

    project = _load(args)
    names = [s.source.path.stem for s in project.syncs]
    loaded = next((s for s in project.syncs if s.source.path.stem == args.name), None)
    if loaded is None:
        raise unknown_name("sync", args.name, names, _paths(args).syncs)
    if loaded.issues or loaded.spec is None:
        raise problems_error(loaded.issues, "waymark syncs validate")
    warehouse = _warehouse(args)
    secrets = Secrets()
    if args.dry_run:
        try:
            print(dry_run_sync(warehouse, loaded, _as_of(args), args.sample))
        except PlanError as error:
            raise CommandError(secrets.redact(str(error)) or "") from None
        return 0
    report = run_sync(warehouse, loaded, RunOptions(as_of=_as_of(args), secrets=secrets))
    print(f"sync {loaded.spec.name} run {report.run_id}: {report.summary()}")
    return 0 if report.status == "success" else 1


def _sends(args: argparse.Namespace) -> int:
    import duckdb

    from activations.dry_run import dry_run_sends
    from activations.outcomes import waiting_messages
    from activations.runner import RunOptions
    from activations.secrets import Secrets
    from activations.sends import OUTBOX, deliver_sends

    project = _load(args)
    warehouse = _warehouse(args)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        waiting = waiting_messages(con)
    if waiting is None:
        # No journey tick has run on this warehouse: nothing was ever put in the outbox.
        print(
            f"no journey messages waiting: {OUTBOX} does not exist yet "
            "(the first journey tick creates it)",
            file=sys.stderr,
        )
        return 0
    known = set(project.destinations) | set(waiting)
    if args.destination and args.destination not in known:
        raise unknown_name(
            "destination", args.destination, sorted(known), _paths(args).destinations
        )
    if project.issues:
        warning = problems_error(project.issues, "waymark syncs validate")
        print(f"waymark syncs sends: warning: {warning}", file=sys.stderr)
    if args.dry_run:
        print(dry_run_sends(warehouse, project.destinations, _as_of(args), args.sample))
        return 0
    options = RunOptions(as_of=_as_of(args), secrets=Secrets())
    reports = deliver_sends(
        warehouse,
        project.destinations,
        options,
        only=args.destination,
        give_up_after_runs=args.give_up_after_runs,
    )
    for report in reports:
        print(f"sends to {report.destination} run {report.run_id}: {report.summary()}")
    if not reports:
        print("no journey messages waiting", file=sys.stderr)
    return 0 if all(report.status == "success" for report in reports) else 1


def _forget(args: argparse.Namespace) -> int:
    from activations.erasure import ErasureRequestError, record_request_in
    from activations.runs import utc_now

    warehouse = _warehouse(args)
    received_at = utc_now()
    try:
        requested_at = to_warehouse(args.requested_at) if args.requested_at else received_at
        request_id, new = record_request_in(
            warehouse,
            customer_id=args.customer,
            email=args.email,
            phone=args.phone,
            country=args.country,
            requested_at=requested_at,
            received_at=received_at,
            external_ref=args.reference,
        )
    except (ErasureRequestError, ValueError) as error:
        raise CommandError(str(error)) from None
    state = "recorded" if new else "already recorded"
    print(f"erasure request {request_id} {state}; syncs and sends drop the customer from now on")
    if args.record_only:
        return 0
    return _erase(args)


def _erase(args: argparse.Namespace) -> int:
    from activations.erasure import ErasureRequestError, import_requests_into
    from activations.erasure_run import process_erasures
    from activations.runner import RunOptions
    from activations.runs import utc_now
    from activations.secrets import Secrets

    project = _load(args)
    warehouse = _warehouse(args)
    relation = getattr(args, "requests_from", None)
    if relation:
        try:
            imported = import_requests_into(warehouse, relation, utc_now())
        except ErasureRequestError as error:
            raise CommandError(str(error)) from None
        print(f"{imported} new erasure request(s) imported from {relation}")
    options = RunOptions(as_of=_as_of(args), secrets=Secrets())
    outcomes = process_erasures(warehouse, project, options)
    for outcome in outcomes:
        print(outcome.summary())
    if not outcomes:
        print("no open erasure requests", file=sys.stderr)
    return 0 if all(outcome.status == "processed" for outcome in outcomes) else 1
