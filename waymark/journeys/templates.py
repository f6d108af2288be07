"""Message templates: one YAML file per template in `templates/`, its text fields in Jinja.

The file name (without `.yml`) is the template's name; `channel` says which fields it has:
email `subject`, `html` and `text`; sms `body`; webhook, crm and ads a `payload`
mapping whose text leaves are templates and whose other values pass through.

Templates render in Jinja's immutable sandbox with `StrictUndefined`: an unknown variable or
attribute is an error, never a blank, and anything that reaches for Python internals raises
`SecurityError`. Printing a null is an error too (`| default('...', true)` gives a fallback),
so no message ever says "Hi None". Only `html` is autoescaped. An email's `subject` is rendered
on one line (`waymark.core.text.single_line`): it becomes a header, and a line break in a profile
value would start another one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from jinja2 import StrictUndefined, TemplateRuntimeError, TemplateSyntaxError
from jinja2 import Template as JinjaTemplate
from jinja2.utils import missing, object_type_repr
from pydantic import Field

from waymark.core.errors import Issue, Loc
from waymark.core.text import single_line
from waymark.core.types import SNAKE_CASE, Model
from waymark.core.validation import validate_model
from waymark.core.yaml_source import YamlSource, read_yaml
from waymark.journeys.sandbox import BoundedSandbox


class EmailTemplate(Model):
    channel: Literal["email"]
    description: str = ""
    subject: str = Field(min_length=1)
    html: str = Field(min_length=1)
    """HTML body; values are HTML-escaped unless marked `|safe`."""
    text: str = Field(min_length=1)
    """Plain-text body for clients that do not show HTML."""


class SmsTemplate(Model):
    channel: Literal["sms"]
    description: str = ""
    body: str = Field(min_length=1)


class PayloadTemplate(Model):
    channel: Literal["webhook", "crm", "ads"]
    description: str = ""
    payload: dict[str, Any]
    """The JSON object sent; text values anywhere inside are templates."""


MessageTemplate = Annotated[
    EmailTemplate | SmsTemplate | PayloadTemplate, Field(discriminator="channel")
]


class Namespace(dict[str, Any]):
    """A context mapping whose missing keys are reported by their meaning, not as 'dict object'."""

    def __init__(self, label: str, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.label = label


class _Undefined(StrictUndefined):
    @property
    def _undefined_message(self) -> str:
        owner = self._undefined_obj
        if isinstance(owner, Namespace):
            return f"{owner.label} has no {self._undefined_name!r}"
        if owner is missing:
            return f"{self._undefined_name!r} is undefined"
        return f"{object_type_repr(owner)} has no attribute {self._undefined_name!r}"


def _refuse_null(value: Any) -> Any:
    # Printing a null would send "Hi None"; a template must say what to show instead.
    if value is None:
        raise TemplateRuntimeError("prints a null value; give a fallback: | default('...', true)")
    return value


_TEXT = BoundedSandbox(undefined=_Undefined, finalize=_refuse_null, keep_trailing_newline=True)
_HTML = BoundedSandbox(
    undefined=_Undefined, finalize=_refuse_null, keep_trailing_newline=True, autoescape=True
)


@dataclass(frozen=True)
class RenderedMessage:
    """One message ready for a destination; which fields are set depends on the channel."""

    channel: str
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    body: str | None = None
    payload: dict[str, Any] | None = None


@dataclass
class LoadedTemplate:
    """A valid template file with each text field compiled, keyed by its field path."""

    name: str
    source: YamlSource
    template: EmailTemplate | SmsTemplate | PayloadTemplate
    compiled: dict[Loc, JinjaTemplate] = field(default_factory=dict)

    @property
    def channel(self) -> str:
        return self.template.channel

    def render(self, context: Mapping[str, Any]) -> RenderedMessage:
        """Render every field; raises Jinja's `UndefinedError` or `SecurityError` as is."""
        values = {loc: compiled.render(context) for loc, compiled in self.compiled.items()}
        template = self.template
        if isinstance(template, EmailTemplate):
            subject = single_line(values[("subject",)])
            return RenderedMessage("email", subject, values[("html",)], values[("text",)])
        if isinstance(template, SmsTemplate):
            return RenderedMessage("sms", body=values[("body",)])
        payload = _replace_leaves(template.payload, ("payload",), values)
        return RenderedMessage(template.channel, payload=payload)


def _replace_leaves(value: Any, loc: Loc, rendered: Mapping[Loc, str]) -> Any:
    if isinstance(value, dict):
        return {key: _replace_leaves(item, (*loc, key), rendered) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_leaves(item, (*loc, i), rendered) for i, item in enumerate(value)]
    return rendered.get(loc, value)


def text_fields(template: EmailTemplate | SmsTemplate | PayloadTemplate) -> Iterator[Loc]:
    if isinstance(template, EmailTemplate):
        yield from (("subject",), ("html",), ("text",))
    elif isinstance(template, SmsTemplate):
        yield ("body",)
    else:
        yield from _string_leaves(template.payload, ("payload",))


def _string_leaves(value: Any, loc: Loc) -> Iterator[Loc]:
    if isinstance(value, str):
        yield loc
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _string_leaves(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _string_leaves(item, (*loc, index))


def compile_text(text: str, *, html: bool = False) -> JinjaTemplate:
    """Compile one template string in the sandbox; raises `TemplateSyntaxError`."""
    return (_HTML if html else _TEXT).from_string(text)


def read_template(path: Path) -> tuple[LoadedTemplate | None, list[Issue]]:
    """Parse, validate and compile one template file; syntax errors point at their line."""
    source, issues = read_yaml(path)
    if issues:
        return None, issues
    if not re.match(SNAKE_CASE, path.stem):
        return None, [source.issue((), f"template name '{path.stem}' is not snake_case")]
    template, issues = validate_model(_TemplateFile, {"template": source.data}, source)
    if template is None:
        return None, issues
    loaded = LoadedTemplate(path.stem, source, template.template)
    for loc in text_fields(loaded.template):
        text = _value_at(loaded.template.model_dump(), loc)
        try:
            loaded.compiled[loc] = compile_text(text, html=loc == ("html",))
        except TemplateSyntaxError as error:
            issues.append(
                template_issue(loaded, loc, f"syntax error: {error.message}", error.lineno)
            )
    return (None if issues else loaded), issues


class _TemplateFile(Model):
    template: MessageTemplate


def _value_at(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


def template_issue(loaded: LoadedTemplate, loc: Loc, message: str, lineno: int | None) -> Issue:
    """An issue on a template field, at the line inside a block scalar when Jinja knows it."""
    issue = loaded.source.issue(loc, message)
    node = loaded.source.value_node(loc)
    if lineno is None or node is None or getattr(node, "style", None) not in ("|", ">"):
        return issue
    # A block scalar's text starts on the line after its indicator.
    line = node.start_mark.line + 1 + lineno
    text = loaded.source.path.read_text(encoding="utf-8").splitlines()
    column = len(text[line - 1]) - len(text[line - 1].lstrip()) + 1 if line <= len(text) else 1
    return Issue(issue.file, line, column, issue.field, message)


def error_line(error: BaseException) -> int | None:
    """The template line an exception was raised at, from Jinja's rewritten traceback."""
    line, trace = None, error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def read_templates(folder: Path) -> tuple[dict[str, LoadedTemplate], list[Issue]]:
    templates: dict[str, LoadedTemplate] = {}
    issues: list[Issue] = []
    for path in sorted(Path(folder).glob("*.yml")):
        loaded, problems = read_template(path)
        issues += problems
        if loaded is not None:
            templates[loaded.name] = loaded
    return templates, issues
