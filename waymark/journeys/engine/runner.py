"""Ticking a warehouse file: validate the project, open DuckDB, tick, close.

The warehouse is held open only while a tick runs (DuckDB allows one writer per file), and a
project with any validation problem is not ticked: a typo must not silently pause a journey.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from waymark.journeys.engine.sql import EngineError
from waymark.journeys.engine.tick import DEFAULT_LOOKBACK, TickResult, tick
from waymark.journeys.project import ProjectPaths
from waymark.journeys.validation import ProjectReport, validate_project


class ProjectInvalid(EngineError):
    """The journey project has validation problems; each is listed in `issues`."""

    def __init__(self, report: ProjectReport) -> None:
        self.issues = report.issues
        lines = "\n".join(str(issue) for issue in report.issues)
        super().__init__(f"{len(report.issues)} problem(s) in the journey project:\n{lines}")


def open_project(paths: ProjectPaths | None = None) -> ProjectReport:
    """The validated project; raises `ProjectInvalid` when anything in it is wrong."""
    report = validate_project(paths or ProjectPaths.for_journeys())
    if report.issues:
        raise ProjectInvalid(report)
    return report


def tick_warehouse(
    warehouse: Path,
    as_of: datetime,
    *,
    paths: ProjectPaths | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> TickResult:
    report = open_project(paths)
    if not Path(warehouse).is_file():
        raise EngineError(f"no warehouse at {warehouse}; build one with `waymark demo`")
    with duckdb.connect(str(warehouse)) as con:
        return tick(con, report.journeys, report.project, as_of, lookback=lookback)
