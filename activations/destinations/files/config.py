"""Typed settings of a files destination and of each sync into it."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Literal

from pydantic import Field

from activations.connectors import ConnectorConfig
from activations.destination import SyncTarget
from waymark.core.types import Model, Name

FileFormat = Literal["csv", "parquet"]


class FilesConfig(ConnectorConfig):
    root: str
    """Folder the syncs write under, one sub-folder per sync; relative to the working directory."""
    formats: list[FileFormat] = Field(["parquet"], min_length=1)


class FilesSyncSettings(Model):
    folder: Name | None = None
    """Sub-folder of the root; default the sync's name."""


def sync_target(config: FilesConfig, settings: FilesSyncSettings, sync: str) -> SyncTarget:
    """The folder the sync's deltas and snapshots go to."""
    return SyncTarget("folder", str(PurePosixPath(config.root) / (settings.folder or sync)))
