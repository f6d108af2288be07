"""Activations as Dagster assets: one per sync file, downstream of the dbt model it reads.

The assets are derived from `syncs/*.yml` when the code location loads, never from a list: a
new sync file is a new asset (`syncs/<name>`, group `activations`), with the checks of
orchestration/checks.py (destination configured here; share of operations refused by this
run's destination), and, when the file has a `schedule`, a job and a schedule of its own.
Because every sync depends on a dbt model, `warehouse_refresh` runs it after each build.

Each asset only wires the warehouse and the environment to the sync runner
(`activations/runner.py`): the run's `as_of` is its tag, secrets are the environment variables
the destination's config names, and the figures come back as materialization metadata. A sync
file that does not validate still gets an asset; materializing it fails with every located
problem, so one bad file does not take the code location down.
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from activations.dry_run import mask
from activations.outcomes import (
    DEFAULT_MAX_REJECTED_SHARE,
    RejectionReason,
    missing_environment,
    top_rejection_reasons,
)
from activations.runner import RunOptions, run_sync
from activations.runs import RunReport
from activations.secrets import Secrets
from activations.sync_files import LoadedSync, SyncPaths, SyncProject, load_project
from orchestration.as_of import as_of_tags, run_as_of
from orchestration.checks import activation_check_specs, destination_configured, rejected_share
from orchestration.dbt import waymark_dbt_models
from orchestration.warehouse import WAREHOUSE_POOL, WarehouseResource
from waymark.core.instants import format_instant
from waymark.warehouse.manifest import load_manifest

GROUP = "activations"
SYNC_KEY_PREFIX = "syncs"


class ActivationsResource(WarehouseResource):
    """The warehouse the syncs read and log to, and how strict their checks are."""

    max_rejected_share: float = DEFAULT_MAX_REJECTED_SHARE
    """Default threshold of the rejected-share checks; a sync file's `max_rejected_share` wins."""
    sends_give_up_after_runs: int = 5
    """Journey sends: runs a transiently failing message is retried before it is given up."""

    @contextmanager
    def read(self):
        """A read-only connection, or None when no warehouse has been built yet."""
        warehouse = self.warehouse_path()
        if not warehouse.is_file():
            yield None
            return
        with duckdb.connect(str(warehouse), read_only=True) as con:
            yield con


def sync_asset_key(name: str) -> dg.AssetKey:
    return dg.AssetKey([SYNC_KEY_PREFIX, name])


def dbt_model_key(manifest: Mapping[str, Any], relation: str) -> dg.AssetKey | None:
    """The dbt model materialized as `schema.name`, or None when the project has none."""
    if "." not in relation:
        return None
    schema, name = relation.split(".", 1)
    for node in manifest["nodes"].values():
        if (
            node["resource_type"] == "model"
            and node["schema"] == schema
            and (node.get("alias") or node["name"]) == name
        ):
            return get_asset_key_for_model([waymark_dbt_models], node["name"])
    return None


def report_metadata(report: RunReport, reasons: list[RejectionReason]) -> dict[str, Any]:
    """A run's figures as they appear on the materialization."""
    attempted = report.sent + report.rejected + report.given_up + report.retried
    refused = report.rejected + report.given_up
    metadata: dict[str, Any] = {
        "status": report.status,
        "run_id": report.run_id,
        "as_of": report.as_of and format_instant(report.as_of),
        "planned_creates": report.planned_creates,
        "planned_updates": report.planned_updates,
        "planned_removes": report.planned_removes,
        "unchanged": report.unchanged,
        "sent": report.sent,
        "rejected": report.rejected,
        "given_up": report.given_up,
        "retried": report.retried,
        "dropped": report.dropped,
        "replayed": report.replayed,
        "ambiguous": report.ambiguous,
        "requests": report.requests,
        "rejected_share": round(refused / attempted, 4) if attempted else 0.0,
        "top_rejection_reasons": dg.MetadataValue.md(
            # Messages often quote the record (an email address): personal data is masked.
            "\n".join(f"- `{r.code}` ×{r.count}: {mask(r.example or '')}" for r in reasons)
            or "none"
        ),
    }
    if report.source_rows is not None:
        metadata["source_rows"] = report.source_rows
    if report.drop_reasons:
        metadata["drop_reasons"] = dg.MetadataValue.json(report.drop_reasons)
    if report.plan_seconds is not None:
        metadata["plan_seconds"] = report.plan_seconds
    if report.deliver_seconds is not None:
        metadata["deliver_seconds"] = report.deliver_seconds
    if report.error:
        metadata["error"] = report.error
    return metadata


def materialize_sync(
    context: dg.AssetExecutionContext, activations: ActivationsResource, loaded: LoadedSync
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    """Run the sync as of the run's `as_of`; fail the step when nothing could be delivered.

    A destination not configured in this environment (a laptop, CI) is not run and the asset is
    not materialized: only the failing `destination_configured` check is reported. Nothing is
    planned or marked in flight, so the sync picks up exactly where it is once the variables
    are set."""
    name = loaded.spec.name if loaded.spec else loaded.source.path.stem
    key = sync_asset_key(name)
    if key not in context.selected_asset_keys:
        raise dg.Failure(
            description=f"the checks of {key.to_user_string()} judge the run its materialization "
            "makes: materialize the asset to evaluate them"
        )
    if loaded.issues or loaded.spec is None or loaded.destination is None:
        problems = "\n".join(str(issue) for issue in loaded.issues)
        raise dg.Failure(description=f"{loaded.source.path.name} is not a valid sync:\n{problems}")
    if loaded.destination.config is None:
        raise dg.Failure(
            description=f"destination '{loaded.spec.destination}' has an invalid config; "
            "`waymark syncs validate` lists each problem"
        )
    destination = loaded.spec.destination
    missing = missing_environment(loaded.destination, os.environ)
    if missing:
        reason = f"needs {', '.join(missing)} (not set)"
        context.log.warning(f"sync {name} not run, not materialized: {destination} {reason}")
        yield destination_configured(key, {destination: reason})
        return
    warehouse = activations.warehouse_path()
    options = RunOptions(as_of=run_as_of(context), secrets=Secrets())
    report = run_sync(warehouse, loaded, options)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        reasons = top_rejection_reasons(con, report.run_id)
    metadata = report_metadata(report, reasons)
    context.log.info(f"sync {name} run {report.run_id}: {report.summary()}")
    if report.status == "failed":
        raise dg.Failure(description=f"sync {name}: {report.summary()}", metadata=metadata)
    yield dg.MaterializeResult(
        asset_key=key,
        metadata=metadata,
        check_results=[
            destination_configured(key, {}),
            rejected_share(key, activations, [report.run_id], loaded.spec.max_rejected_share),
        ],
    )


def build_sync_asset(loaded: LoadedSync, model_key: dg.AssetKey | None) -> dg.AssetsDefinition:
    spec = loaded.spec
    name = spec.name if spec else loaded.source.path.stem
    destination = loaded.destination
    described = {
        "sync_file": f"syncs/{loaded.source.path.name}",
        "model": spec.model if spec else "",
        "destination": f"{spec.destination} ({destination.kind})" if spec and destination else "",
        "writes": str(loaded.target or ""),
        "mode": spec.mode if spec else "",
        "purpose": spec.purpose if spec else "",
        "schedule": (spec.schedule or "manual") if spec else "",
    }
    key = sync_asset_key(name)

    # A multi-asset of one, so that a step may report its checks without a materialization (a
    # destination not configured here) and a check without a run of its own is not reported.
    @dg.multi_asset(
        name=key.to_python_identifier(),
        specs=[
            dg.AssetSpec(
                key,
                deps=[model_key] if model_key else [],
                group_name=GROUP,
                kinds={destination.kind} if destination else None,
                description=(spec.description.strip() if spec and spec.description else None)
                or f"The sync declared in syncs/{loaded.source.path.name}.",
                metadata=described,
                skippable=True,
            )
        ],
        check_specs=activation_check_specs(key, REJECTED_SHARE_DESCRIPTION),
        can_subset=True,
        pool=WAREHOUSE_POOL,  # plans in, and logs to, the warehouse
    )
    def _sync(context: dg.AssetExecutionContext, activations: ActivationsResource):
        yield from materialize_sync(context, activations, loaded)

    return _sync


REJECTED_SHARE_DESCRIPTION = (
    "Of the run this materialization made, the refused operations (rejected or given up) over "
    "those attempted stay within the threshold: the sync file's `max_rejected_share`, else the "
    "activations resource's (5%). Blocking: a failure fails the step and so alerts."
)


def build_sync_schedule(name: str, cron: str, asset_key: dg.AssetKey) -> dg.ScheduleDefinition:
    """A job of the one sync asset on the file's cron, as of each tick's scheduled time."""
    job = dg.define_asset_job(
        f"sync_{name}",
        selection=dg.AssetSelection.assets(asset_key),
        description=f"Runs the sync {name} alone (syncs/{name}.yml).",
    )

    @dg.schedule(
        name=f"sync_{name}_schedule",
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        description=f"The schedule of syncs/{name}.yml: {cron} (UTC).",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(tags=as_of_tags(context.scheduled_execution_time))

    return _schedule


def sync_definitions(project: SyncProject, manifest: Mapping[str, Any]) -> dg.Definitions:
    """Assets, checks, jobs and schedules of every sync file of the project."""
    assets, schedules = [], []
    for loaded in project.syncs:
        spec = loaded.spec
        model_key = dbt_model_key(manifest, spec.model) if spec else None
        assets.append(build_sync_asset(loaded, model_key))
        if spec is not None and spec.schedule:
            schedules.append(
                build_sync_schedule(spec.name, spec.schedule, sync_asset_key(spec.name))
            )
    return dg.Definitions(assets=assets, schedules=schedules)


def activation_definitions(paths: SyncPaths | None = None) -> dg.Definitions:
    """Everything activations add to the code location: syncs, journey sends, erasure
    requests, alerts."""
    from orchestration.alerts import AlertWebhook, alert_sensors
    from orchestration.erasure import erasure_definitions
    from orchestration.journey_sends import journey_sends_definitions

    project = load_project(paths or SyncPaths.default())
    manifest = load_manifest()
    return dg.Definitions.merge(
        sync_definitions(project, manifest),
        journey_sends_definitions(project, manifest),
        erasure_definitions(project, manifest),
        dg.Definitions(
            sensors=alert_sensors,
            resources={
                "activations": ActivationsResource(),
                "alerts": AlertWebhook(),
            },
        ),
    )
