"""The checks on activation assets (syncs and journey sends), evaluated by the asset's own step.

Each check judges what that step did, never what the warehouse logs say happened last, which
may be another context's run (a `waymark sync` from a shell, another Dagster run):

- `destination_configured` (WARN): every variable the destination's config names is set in this
  environment. When one is not, nothing is sent and the asset is **not materialized**: the step
  reports only this failing check, so the asset keeps its last real materialization and shows
  why it has no newer one, and the run (whose dbt build and other assets did their work) is not
  marked failed for a laptop or CI without credentials.
- `rejected_share_within_threshold` (ERROR, blocking): of the runs this step made (found by
  their run ids in `activations.sync_runs`), the share of attempted operations the destination
  refused. Blocking, so a failure fails the step once the materialization is recorded: the run
  fails and `alert_on_run_failure` posts the same alert as for any failed run. A step that made
  no run (nothing configured, nothing waiting) reports no result for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg

from activations.outcomes import RunCounts, judge_rejections, runs_by_id

if TYPE_CHECKING:  # the resource's module builds the assets that use these checks
    from orchestration.activations import ActivationsResource

REJECTED_SHARE_CHECK = "rejected_share_within_threshold"
DESTINATION_CONFIGURED_CHECK = "destination_configured"

DESTINATION_CONFIGURED_DESCRIPTION = (
    "Every environment variable the destination's config names (`*_env`) is set where the run "
    "executes. When one is not, nothing is sent and the asset is not materialized (WARN)."
)


def activation_check_specs(key: dg.AssetKey, rejected_share: str) -> list[dg.AssetCheckSpec]:
    """The two checks every activation asset declares."""
    return [
        dg.AssetCheckSpec(
            DESTINATION_CONFIGURED_CHECK, asset=key, description=DESTINATION_CONFIGURED_DESCRIPTION
        ),
        # Blocking: a failure fails the step, and so the run, which is what alerts.
        dg.AssetCheckSpec(
            REJECTED_SHARE_CHECK, asset=key, description=rejected_share, blocking=True
        ),
    ]


def destination_configured(
    key: dg.AssetKey, unconfigured: Mapping[str, str]
) -> dg.AssetCheckResult:
    """Passes when no destination this step needed is missing its configuration; `unconfigured`
    maps each destination that is to why (the variables not set)."""
    description = (
        "\n".join(f"{name}: {reason}" for name, reason in sorted(unconfigured.items()))
        or "Every destination this run needed is configured."
    )
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=DESTINATION_CONFIGURED_CHECK,
        passed=not unconfigured,
        severity=dg.AssetCheckSeverity.WARN,
        description=description,
        metadata={"unconfigured": dg.MetadataValue.json(dict(sorted(unconfigured.items())))},
    )


def rejected_share(
    key: dg.AssetKey,
    activations: ActivationsResource,
    run_ids: list[str],
    threshold: float | None = None,
    *,
    by_destination: bool = False,
) -> dg.AssetCheckResult:
    """ERROR when any run this step made had more of its attempted operations refused than the
    threshold (the sync file's, else the resource's)."""
    limit = activations.max_rejected_share if threshold is None else threshold
    with activations.read() as con:
        runs = runs_by_id(con, run_ids) if con is not None else {}
    missing = sorted(set(run_ids) - set(runs))
    if missing:  # every run the step made logs a row first; anything else is a broken warehouse
        raise dg.Failure(f"sync runs {', '.join(missing)} are not in activations.sync_runs")
    verdicts = [(run, judge_rejections(run, limit)) for run in runs.values()]
    lines = [
        f"{run.destination}: {verdict.description}" if by_destination else verdict.description
        for run, verdict in verdicts
    ]
    return dg.AssetCheckResult(
        asset_key=key,
        check_name=REJECTED_SHARE_CHECK,
        passed=all(verdict.passed for _, verdict in verdicts),
        severity=dg.AssetCheckSeverity.ERROR,
        description="\n".join(lines),
        metadata={"threshold": limit, **_run_metadata(list(runs.values()), by_destination)},
    )


def _run_metadata(runs: list[RunCounts], by_destination: bool) -> dict[str, Any]:
    if by_destination or len(runs) != 1:
        shares = {run.destination: round(run.rejected_share, 4) for run in runs}
        return {
            "rejected_shares": dg.MetadataValue.json(shares),
            "run_ids": dg.MetadataValue.json(sorted(run.run_id for run in runs)),
        }
    (run,) = runs
    return {
        "run_id": run.run_id,
        "status": run.status,
        "rejected_share": round(run.rejected_share, 4),
        "refused": run.refused,
        "attempted": run.attempted,
    }
