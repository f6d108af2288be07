"""Right-to-erasure requests as a Dagster asset, processed in every warehouse refresh.

Requests are recorded by `waymark forget` or imported with `waymark syncs erase
--requests-from` into `activations.deletion_requests`; the sending path refuses the customer
from that moment. `erasure_requests` does the rest on the refresh after the customer mart is
rebuilt (so a request by email finds the customer's current ids): it removes the customer from
every destination that holds them and can remove, drops their waiting journey messages, and
audits each action in `activations.deletion_audit` (`activations/erasure_run.py`). An action
that failed stays open and is retried by the next refresh; the asset then reports `open`.
"""

from collections import Counter
from collections.abc import Mapping
from typing import Any

import dagster as dg

from activations.erasure_run import process_erasures
from activations.runner import RunOptions
from activations.secrets import Secrets
from activations.sync_files import SyncProject
from orchestration.activations import GROUP, ActivationsResource, dbt_model_key
from orchestration.as_of import run_as_of
from orchestration.warehouse import WAREHOUSE_POOL


def erasure_definitions(project: SyncProject, manifest: Mapping[str, Any]) -> dg.Definitions:
    customers = dbt_model_key(manifest, "marts.customers")

    @dg.asset(
        deps=[customers] if customers else [],
        group_name=GROUP,
        pool=WAREHOUSE_POOL,
        description=(
            "Open right-to-erasure requests processed: the customer removed from every "
            "destination that holds them and supports removal, waiting journey messages "
            "dropped, one activations.deletion_audit row per action."
        ),
    )
    def erasure_requests(
        context: dg.AssetExecutionContext, activations: ActivationsResource
    ) -> dg.MaterializeResult:
        warehouse = activations.warehouse_path()
        if not warehouse.is_file():
            return dg.MaterializeResult(metadata={"status": "no warehouse yet", "requests": 0})
        options = RunOptions(as_of=run_as_of(context), secrets=Secrets())
        outcomes = process_erasures(warehouse, project, options)
        actions: Counter[str] = Counter()
        for outcome in outcomes:
            context.log.info(outcome.summary())
            actions.update(outcome.results)
        still_open = [outcome.request_id for outcome in outcomes if outcome.status != "processed"]
        if still_open:
            context.log.warning(
                f"{len(still_open)} erasure request(s) still open; retried next refresh"
            )
        return dg.MaterializeResult(
            metadata={
                "status": "open" if still_open else "processed",
                "requests": len(outcomes),
                "still_open": len(still_open),
                "actions": dg.MetadataValue.json(dict(sorted(actions.items()))),
            }
        )

    return dg.Definitions(assets=[erasure_requests])
