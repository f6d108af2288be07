"""Shared plumbing of the vendor destination tests: a project on disk, runs through the real
sync runner and journey-send pipeline, and the warehouse logs they leave."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from activations.delivery import RetryPolicy
from activations.runner import RunOptions, run_sync
from activations.runs import RunReport
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.sync_files import load_project
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project


class VendorProject:
    """destinations.yml, syncs/_destinations.yml and sync files for one vendor destination."""

    def __init__(
        self,
        root: Path,
        warehouse: SampleWarehouse,
        destinations: dict[str, Any],
        connectors: dict[str, Any],
        syncs: dict[str, Any],
        env: dict[str, str],
    ) -> None:
        self.warehouse, self.env = warehouse, env
        self.paths = write_project(root, destinations, connectors, syncs)
        self.sleeps: list[float] = []

    def project(self):
        project = load_project(self.paths)
        assert not project.issues, project.issues
        return project

    def options(self, policy: RetryPolicy | None = None) -> RunOptions:
        return RunOptions(
            as_of=SAMPLE_AS_OF,
            secrets=Secrets(self.env),
            sleep=self.sleeps.append,
            rng=random.Random(5),
            policy=policy or RetryPolicy(base_delay=0.0),
        )

    def run(self, name: str, policy: RetryPolicy | None = None) -> RunReport:
        return run_sync(self.warehouse.path, self.project().valid()[name], self.options(policy))

    def send(self, policy: RetryPolicy | None = None, give_up: int = 5) -> list[RunReport]:
        destinations = self.project().destinations
        return deliver_sends(
            self.warehouse.path, destinations, self.options(policy), give_up_after_runs=give_up
        )

    def changelog(self, run_id: str | None = None) -> list[tuple]:
        return self.warehouse.execute(
            "select record_key, operation, result, error_code, error_message "
            "from activations.sync_changelog where ? is null or run_id = ? "
            "order by recorded_at, record_key",
            [run_id, run_id],
        )

    def run_row(self, run_id: str) -> dict[str, Any]:
        cursor_rows = self.warehouse.execute(
            "select status, planned_creates, planned_updates, planned_removes, unchanged, sent, "
            "rejected, retried, given_up, error from activations.sync_runs where run_id = ?",
            [run_id],
        )
        names = "status creates updates removes unchanged sent rejected retried given_up error"
        return dict(zip(names.split(), cursor_rows[0], strict=True))

    def state(self, key: str) -> tuple:
        return self.warehouse.execute(
            "select status, last_error_code, last_error_message from activations.sync_state "
            "where record_key = ?",
            [key],
        )[0]
