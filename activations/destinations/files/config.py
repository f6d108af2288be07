"""Typed settings of a files destination and of each sync into it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from activations.connectors import ConnectorConfig
from waymark.journeys.types import Model, Name

FileFormat = Literal["csv", "parquet"]


class FilesConfig(ConnectorConfig):
    root: str
    """Folder the syncs write under, one sub-folder per sync; relative to the working directory."""
    formats: list[FileFormat] = Field(["parquet"], min_length=1)


class FilesSyncSettings(Model):
    folder: Name | None = None
    """Sub-folder of the root; default the sync's name."""
