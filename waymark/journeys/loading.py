"""Reading journey files into `Journey` objects, with every problem located in its file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from waymark.core.errors import ConfigError, Issue, Problem
from waymark.core.validation import in_file_order, pydantic_issue
from waymark.core.yaml_source import YamlSource, read_yaml
from waymark.journeys.graph import partial_step_problems
from waymark.journeys.journey import Journey


@dataclass
class LoadedJourney:
    """A journey file as read: the journey when it is valid, and where its fields are."""

    source: YamlSource
    journey: Journey | None
    issues: list[Issue]


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
        issues += [pydantic_issue(source, detail) for detail in error.errors()]
        if isinstance(data.get("steps"), list):
            problems = partial_step_problems(data["steps"])
    issues += [source.issue(problem.loc, problem.message) for problem in problems]
    return LoadedJourney(source, journey if not issues else None, in_file_order(issues))


def load_journey(path: Path | str) -> Journey:
    """The journey in one file; raises `ConfigError` listing every problem."""
    loaded = read_journey(Path(path))
    if loaded.journey is None:
        raise ConfigError(loaded.issues)
    return loaded.journey


def load_journeys(folder: Path | str) -> list[Journey]:
    """Every journey in a folder, sorted by name; problems in all files are raised together."""
    loaded = [read_journey(path) for path in journey_files(Path(folder))]
    issues = [issue for item in loaded for issue in item.issues]
    if issues:
        raise ConfigError(issues)
    return sorted((item.journey for item in loaded if item.journey), key=lambda j: j.name)
