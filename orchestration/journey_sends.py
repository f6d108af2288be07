"""Journey sends as a Dagster asset: the outbox the journey tick wrote, delivered.

`journey_sends` runs after `journey_tick` (the journey engine's asset, which writes
`journeys.journey_outbox`) and after the customer mart it reads addresses and consent from. It
hands every destination with messages waiting to `activations/sends.py`: one run per
destination, consent and suppression checked on the way out, each message's state committed at
every step. A destination whose credentials are not set in this environment is left alone, its
messages still pending; a warehouse without an outbox yet (no journey engine) has nothing to
send and says so.
"""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
import duckdb

from activations.dry_run import mask
from activations.outcomes import (
    judge_rejections,
    latest_send_runs,
    not_ready,
    top_rejection_reasons,
    waiting_messages,
)
from activations.runner import RunOptions
from activations.runs import RunReport
from activations.secrets import Secrets
from activations.sends import OUTBOX, deliver_sends
from activations.sync_files import SyncProject
from orchestration.activations import (
    GROUP,
    REJECTED_SHARE_CHECK,
    ActivationsResource,
    dbt_model_key,
)
from orchestration.as_of import format_as_of, run_as_of
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
) -> dg.MaterializeResult:
    warehouse = activations.warehouse_path()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        waiting = waiting_messages(con)
    if waiting is None:
        reason = f"{OUTBOX} does not exist yet (the journey tick creates it)"
        context.log.info(f"journey sends: nothing to send, {reason}")
        return dg.MaterializeResult(
            metadata={"status": "no outbox", "reason": reason},
            check_results=[sends_check(activations)],
        )
    options = RunOptions(as_of=format_as_of(run_as_of(context)), secrets=Secrets())
    rows, reports = [], []
    for name, count in waiting.items():
        note = not_ready(project.destinations.get(name), os.environ)
        if note:
            context.log.warning(f"journey sends to {name} skipped: {note}")
            rows.append(_row(name, count, None, note))
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
    metadata: dict[str, Any] = {
        "status": _overall(reports, skipped=len(rows) > len(reports)),
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
    return dg.MaterializeResult(metadata=metadata, check_results=[sends_check(activations)])


def _overall(reports: list[RunReport], *, skipped: bool) -> str:
    statuses = {report.status for report in reports}
    if not reports:
        return "skipped" if skipped else "nothing waiting"
    if statuses == {"success"}:
        return "success (some destinations skipped)" if skipped else "success"
    return "partial"


def sends_check(activations: ActivationsResource) -> dg.AssetCheckResult:
    """ERROR when any destination's latest send run refused too many messages."""
    limit = activations.max_rejected_share
    with activations.read() as con:
        runs = latest_send_runs(con) if con is not None else {}
    verdicts = {name: judge_rejections(run, limit) for name, run in runs.items()}
    failing = [name for name, verdict in verdicts.items() if not verdict.passed]
    description = (
        "\n".join(f"{name}: {verdict.description}" for name, verdict in verdicts.items())
        or "No journey send run recorded yet."
    )
    return dg.AssetCheckResult(
        check_name=REJECTED_SHARE_CHECK,
        passed=not failing,
        severity=dg.AssetCheckSeverity.ERROR,
        description=description,
        metadata={
            "threshold": limit,
            "rejected_shares": dg.MetadataValue.json(
                {name: round(run.rejected_share, 4) for name, run in runs.items()}
            ),
        },
    )


def journey_sends_definitions(project: SyncProject, manifest: Mapping[str, Any]) -> dg.Definitions:
    customers = dbt_model_key(manifest, "marts.customers")

    @dg.asset(
        key=JOURNEY_SENDS,
        # The tick writes the outbox; addresses, consent and suppression come from the marts.
        deps=[JOURNEY_TICK, *([customers] if customers else [])],
        group_name=GROUP,
        pool=WAREHOUSE_POOL,
        check_specs=[
            dg.AssetCheckSpec(
                REJECTED_SHARE_CHECK,
                asset=JOURNEY_SENDS,
                description=(
                    "Every destination's latest send run kept its refused messages within the "
                    "activations resource's `max_rejected_share` (5%)."
                ),
            )
        ],
        description=(
            "Messages of journeys.journey_outbox delivered per destination, exactly once where "
            "the destination allows, consent and suppression enforced on the way out."
        ),
    )
    def journey_sends(
        context: dg.AssetExecutionContext, activations: ActivationsResource
    ) -> dg.MaterializeResult:
        return materialize_sends(context, activations, project)

    return dg.Definitions(assets=[journey_sends])
