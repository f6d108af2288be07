"""Files: CSV and Parquet deltas per batch and snapshots per run in a folder (see README.md)."""

from activations.connectors import Connector
from activations.destinations.files.capabilities import CAPABILITIES
from activations.destinations.files.client import open_files
from activations.destinations.files.config import (
    FilesConfig,
    FilesSyncSettings,
    sync_target,
)
from activations.destinations.files.mapping import preview

CONNECTOR = Connector(
    kind="files",
    capabilities=CAPABILITIES,
    config_model=FilesConfig,
    sync_settings_model=FilesSyncSettings,
    open=open_files,
    preview=preview,
    target=sync_target,
)
