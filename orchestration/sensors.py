"""A refresh when new source files land.

The sensor lists the files the dbt project would read (each source's folder and format from the
manifest, the same patterns as macros/landing.sql) and starts one `warehouse_refresh` per batch
of files it has not seen. Files land atomically (written under a temporary name, then renamed),
so a file is new when its landing time, the later of its modification and status-change times,
passes the cursor; the status-change time moves on rename and copy, so a file written long ago
and renamed into place late is still seen. The cursor keeps the latest landing time and the
names landed at exactly that time, and each batch's run key is derived from its files, so the
same files never start two runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.jobs import warehouse_refresh
from waymark.warehouse.manifest import load_manifest

# File name patterns per source format, as dbt reads them (macros/landing.sql).
PATTERNS_BY_FORMAT = {"jsonl": ("*.jsonl", "*.jsonl.gz"), "csv": ("*.csv", "*.csv.gz")}
NEW_FILES_TAG = "waymark/new_files"


class LandingZone(dg.ConfigurableResource):
    """The data directory source files land in: one folder per source (WAYMARK_DATA_DIR)."""

    data_dir: str


@dataclass(frozen=True, order=True)
class LandedFile:
    landed_ns: int
    path: str  # relative to the data directory, with forward slashes


@dataclass(frozen=True)
class LandingCursor:
    landed_ns: int = 0
    names: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def parse(cls, text: str | None) -> LandingCursor:
        if not text:
            return cls()
        value = json.loads(text)
        return cls(int(value["landed_ns"]), frozenset(value["names"]))

    def serialize(self) -> str:
        return json.dumps({"landed_ns": self.landed_ns, "names": sorted(self.names)})


def landing_folders(manifest: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Folder → file patterns, for every source whose YAML declares `meta.folder`/`format`."""
    folders: dict[str, tuple[str, ...]] = {}
    for source in manifest["sources"].values():
        meta = source.get("meta") or {}
        patterns = PATTERNS_BY_FORMAT.get(meta.get("format", ""))
        if meta.get("folder") and patterns:
            folders[meta["folder"]] = patterns
    return folders


@functools.cache
def project_landing_folders() -> dict[str, tuple[str, ...]]:
    # Read once per process: the code server restarts when the project (and manifest) changes.
    return landing_folders(load_manifest())


def scan_landed_files(data_dir: Path, folders: Mapping[str, Iterable[str]]) -> list[LandedFile]:
    files = set()
    for folder, patterns in folders.items():
        for pattern in patterns:
            for path in (data_dir / folder).glob(pattern):
                if not path.is_file():
                    continue
                status = path.stat()
                landed_ns = max(status.st_mtime_ns, status.st_ctime_ns)
                files.add(LandedFile(landed_ns, path.relative_to(data_dir).as_posix()))
    return sorted(files)


def new_files(files: Iterable[LandedFile], cursor: LandingCursor) -> list[LandedFile]:
    return [
        file
        for file in files
        if file.landed_ns > cursor.landed_ns
        or (file.landed_ns == cursor.landed_ns and file.path not in cursor.names)
    ]


def advance(cursor: LandingCursor, batch: list[LandedFile]) -> LandingCursor:
    latest = max(file.landed_ns for file in batch)
    at_latest = {file.path for file in batch if file.landed_ns == latest}
    if latest == cursor.landed_ns:
        at_latest |= cursor.names
    return LandingCursor(latest, frozenset(at_latest))


def batch_run_key(batch: list[LandedFile]) -> str:
    digest = hashlib.sha256()
    for file in sorted(batch):
        digest.update(f"{file.path}\t{file.landed_ns}\n".encode())
    return f"landed-{digest.hexdigest()[:20]}"


@dg.sensor(
    job=warehouse_refresh,
    minimum_interval_seconds=30,
    description="Starts a warehouse refresh when new source files land in the data directory.",
)
def new_landed_files(
    context: dg.SensorEvaluationContext, landing: LandingZone
) -> dg.SensorResult | dg.SkipReason:
    cursor = LandingCursor.parse(context.cursor)
    batch = new_files(scan_landed_files(Path(landing.data_dir), project_landing_folders()), cursor)
    if not batch:
        return dg.SkipReason(f"No new files in {landing.data_dir}.")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(run_key=batch_run_key(batch), tags={NEW_FILES_TAG: str(len(batch))})
        ],
        cursor=advance(cursor, batch).serialize(),
    )
