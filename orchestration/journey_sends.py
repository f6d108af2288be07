"""Journey sends as a Dagster asset: the outbox the journey tick wrote, delivered.

`journey_sends` runs after `journey_tick` (the journey engine's asset, which writes
`journeys.journey_outbox`) and after the customer mart it reads addresses and consent from. It
hands every destination with messages waiting to `activations/sends.py`: one run per
destination, consent and suppression checked on the way out, each message's state committed at
every step. A destination whose credentials are not set in this environment is left alone, its
messages still pending, and fails the `destination_configured` check (orchestration/checks.py);
when no destination with messages waiting could be run, the asset is not materialized. A
warehouse without an outbox yet (no journey engine) has nothing to send and says so.
"""

import os
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
import duckdb

from activations.dry_run import mask
from activations.outcomes import not_ready, top_rejection_reasons, waiting_messages
from activations.runner import RunOptions
from activations.runs import RunReport
from activations.secrets import Secrets
from activations.sends import OUTBOX, deliver_sends
from activations.sync_files import SyncProject
from orchestration.activations import GROUP, ActivationsResource, dbt_model_key
from orchestration.as_of import run_as_of
from orchestration.checks import activation_check_specs, destination_configured, rejected_share
from orchestration.warehouse import WAREHOUSE_POOL

JOURNEY_SENDS = dg.AssetKey("journey_sends")
JOURNEY_TICK = dg.AssetKey("journey_tick")
"""Defined by the journey engine (orchestration/journeys.py); referenced by key only."""

_DESTINATION_COLUMNS = [
    dg.TableColumn("destination", "string"),
    dg.TableColumn("status", "string"),
    dg.TableColumn("waiting", "int"),
    dg.TableColumn("sent", "int"),
    dg.TableColumn("rejected", "int"),
    dg.TableColumn("given_up", "int"),
    dg.TableColumn("retried", "int"),
    dg.TableColumn("dropped", "int"),
    dg.TableColumn("note", "string"),
]


def _row(destination: str, waiting: int, report: RunReport | None, note: str) -> dg.TableRecord:
    counts = {
        name: getattr(report, name, 0) if report else 0
        for name in ("sent", "rejected", "given_up", "retried", "dropped")
    }
    status = report.status if report else "skipped"
    return dg.TableRecord(
        {"destination": destination, "status": status, "waiting": waiting, **counts, "note": note}
    )


def materialize_sends(
    context: dg.AssetExecutionContext, activations: ActivationsResource, project: SyncProject
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    if JOURNEY_SENDS not in context.selected_asset_keys:
        raise dg.Failure(
            description="the checks of journey_sends judge the runs its materialization makes: "
            "materialize the asset to evaluate them"
        )
    warehouse = activations.warehouse_path()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        waiting = waiting_messages(con)
    if waiting is None:
        reason = f"{OUTBOX} does not exist yet (the journey tick creates it)"
        context.log.info(f"journey sends: nothing to send, {reason}")
        yield dg.MaterializeResult(
            asset_key=JOURNEY_SENDS,
            metadata={"status": "no outbox", "reason": reason},
            check_results=[destination_configured(JOURNEY_SENDS, {})],
        )
        return
    options = RunOptions(as_of=run_as_of(context), secrets=Secrets())
    rows, reports, unconfigured = [], [], {}
    for name, count in waiting.items():
        note = not_ready(project.destinations.get(name), os.environ)
        if note:
            context.log.warning(f"journey sends to {name} not run: {note}")
            rows.append(_row(name, count, None, note))
            unconfigured[name] = note
            continue
        for report in deliver_sends(
            warehouse,
            project.destinations,
            options,
            only=name,
            give_up_after_runs=activations.sends_give_up_after_runs,
        ):
            with duckdb.connect(str(warehouse), read_only=True) as con:
                reasons = top_rejection_reasons(con, report.run_id)
            note = "; ".join(mask(str(reason)) for reason in reasons) or (report.error or "")
            context.log.info(f"journey sends to {name} run {report.run_id}: {report.summary()}")
            rows.append(_row(name, count, report, note))
            reports.append(report)
    configured = destination_configured(JOURNEY_SENDS, unconfigured)
    if unconfigured and not reports:
        # Messages wait and nothing could be sent: not a materialization, only the reason.
        context.log.warning(
            "journey sends not materialized: no destination with messages waiting is configured"
        )
        yield configured
        return
    metadata: dict[str, Any] = {
        "status": _overall(reports, skipped=bool(unconfigured)),
        "destinations": dg.MetadataValue.table(rows, dg.TableSchema(_DESTINATION_COLUMNS)),
        "waiting": sum(waiting.values()),
        **{
            name: sum(getattr(report, name) for report in reports)
            for name in ("sent", "rejected", "given_up", "retried", "dropped", "ambiguous")
        },
    }
    failed = [report.destination for report in reports if report.status == "failed"]
    if failed:
        raise dg.Failure(
            description=f"journey sends failed for {', '.join(failed)}", metadata=metadata
        )
    checks = [configured]
    if reports:
        run_ids = [report.run_id for report in reports]
        checks.append(rejected_share(JOURNEY_SENDS, activations, run_ids, by_destination=True))
    yield dg.MaterializeResult(asset_key=JOURNEY_SENDS, metadata=metadata, check_results=checks)


def _overall(reports: list[RunReport], *, skipped: bool) -> str:
    statuses = {report.status for report in reports}
    if not reports:  # with destinations skipped, nothing is materialized at all
        return "nothing waiting"
    if statuses == {"success"}:
        return "success (some destinations skipped)" if skipped else "success"
    return "partial"


def journey_sends_definitions(project: SyncProject, manifest: Mapping[str, Any]) -> dg.Definitions:
    customers = dbt_model_key(manifest, "marts.customers")

    # A multi-asset of one, like the syncs: a step may report its checks without materializing.
    @dg.multi_asset(
        name="journey_sends",
        specs=[
            dg.AssetSpec(
                JOURNEY_SENDS,
                # The tick writes the outbox; addresses, consent and suppression come from the
                # marts.
                deps=[JOURNEY_TICK, *([customers] if customers else [])],
                group_name=GROUP,
                description=(
                    "Messages of journeys.journey_outbox delivered per destination, exactly once "
                    "where the destination allows, consent and suppression enforced on the way "
                    "out."
                ),
                skippable=True,
            )
        ],
        check_specs=activation_check_specs(
            JOURNEY_SENDS,
            "Every destination's run in this materialization kept its refused messages within "
            "the activations resource's `max_rejected_share` (5%). Blocking: a failure fails "
            "the step and so alerts.",
        ),
        can_subset=True,
        pool=WAREHOUSE_POOL,
    )
    def journey_sends(context: dg.AssetExecutionContext, activations: ActivationsResource):
        yield from materialize_sends(context, activations, project)

    return dg.Definitions(assets=[journey_sends])
