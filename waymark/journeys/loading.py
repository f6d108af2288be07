"""Reading journey files into `Journey` objects, with every problem located in its file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from waymark.journeys.errors import JourneyIssue, JourneyValidationError, Problem
from waymark.journeys.graph import partial_step_problems
from waymark.journeys.journey import Journey
from waymark.journeys.yaml_source import YamlSource, read_yaml

M = TypeVar("M", bound=BaseModel)


@dataclass
class LoadedJourney:
    """A journey file as read: the journey when it is valid, and where its fields are."""

    source: YamlSource
    journey: Journey | None
    issues: list[JourneyIssue]


def journey_files(folder: Path) -> list[Path]:
    """Journey files in a folder: `*.yml`; names starting with `_` are catalogues."""
    return sorted(path for path in Path(folder).glob("*.yml") if not path.name.startswith("_"))


def read_journey(path: Path) -> LoadedJourney:
    """Parse and validate one file, collecting every problem rather than stopping at the first."""
    source, issues = read_yaml(Path(path))
    if issues:
        return LoadedJourney(source, None, issues)
    data = source.data
    if not isinstance(data, dict):
        return LoadedJourney(source, None, [source.issue((), "a journey file holds a mapping")])
    name = data.get("name")
    if isinstance(name, str) and name != source.path.stem:
        message = f"'{name}' must equal the file name without .yml, '{source.path.stem}'"
        issues.append(source.issue(("name",), message))
    problems: list[Problem] = []
    journey: Journey | None = None
    try:
        journey = Journey.model_validate(data, context={"problems": problems})
    except ValidationError as error:
        issues += [_pydantic_issue(source, detail) for detail in error.errors()]
        if isinstance(data.get("steps"), list):
            problems = partial_step_problems(data["steps"])
    issues += [source.issue(problem.loc, problem.message) for problem in problems]
    return LoadedJourney(source, journey if not issues else None, _in_file_order(issues))


def validate_model(
    model: type[M], data: Any, source: YamlSource
) -> tuple[M | None, list[JourneyIssue]]:
    """Validate `data` as `model`, each pydantic error located in `source`."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, [_pydantic_issue(source, detail) for detail in error.errors()]


def _pydantic_issue(source: YamlSource, detail: Any) -> JourneyIssue:
    loc = tuple(detail["loc"])
    kind = detail["type"]
    if kind == "extra_forbidden":
        return source.issue(loc, f"unknown field '{loc[-1]}'")
    if kind == "missing":
        return source.issue(loc, "required field is missing", missing=True)
    if kind == "union_tag_not_found":
        field = str(detail["ctx"]["discriminator"]).strip("'")
        return source.issue((*loc, field), "required field is missing", missing=True)
    message = str(detail["msg"]).removeprefix("Value error, ")
    if kind.startswith("literal_error"):
        message = f"{detail['input']!r} is not allowed: {message.removeprefix('Input should be ')}"
    return source.issue(loc, message)


def _in_file_order(issues: list[JourneyIssue]) -> list[JourneyIssue]:
    return sorted(issues, key=lambda issue: (issue.line, issue.column))


def load_journey(path: Path | str) -> Journey:
    """The journey in one file; raises `JourneyValidationError` listing every problem."""
    loaded = read_journey(Path(path))
    if loaded.journey is None:
        raise JourneyValidationError(loaded.issues)
    return loaded.journey


def load_journeys(folder: Path | str) -> list[Journey]:
    """Every journey in a folder, sorted by name; problems in all files are raised together."""
    loaded = [read_journey(path) for path in journey_files(Path(folder))]
    issues = [issue for item in loaded for issue in item.issues]
    if issues:
        raise JourneyValidationError(issues)
    return sorted((item.journey for item in loaded if item.journey), key=lambda j: j.name)
