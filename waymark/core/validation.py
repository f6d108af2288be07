"""Validating a parsed file against its model, every pydantic error located in the file.

Journeys, templates, catalogues, sync files and destinations files are all pydantic models read
from YAML; this is the one place a pydantic error becomes `file:line:column: field: message`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from waymark.core.errors import Issue
from waymark.core.yaml_source import YamlSource

M = TypeVar("M", bound=BaseModel)


def validate_model(model: type[M], data: Any, source: YamlSource) -> tuple[M | None, list[Issue]]:
    """Validate `data` as `model`, each pydantic error located in `source`."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        return None, [pydantic_issue(source, detail) for detail in error.errors()]


def pydantic_issue(source: YamlSource, detail: Any) -> Issue:
    """One pydantic error detail as a located issue, worded for a person editing the file."""
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


def in_file_order(issues: list[Issue]) -> list[Issue]:
    """Issues sorted by line and column, as an editor lists them."""
    return sorted(issues, key=lambda issue: (issue.line, issue.column))
