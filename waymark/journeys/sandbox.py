"""The Jinja sandbox templates render in, bounded in work, size and time.

Jinja's immutable sandbox stops templates reaching Python internals, but not from asking for
more than a machine has: `{{ 9 ** (9 ** 9) }}` is folded while the template compiles and runs
for minutes; nested `range(100000)` loops, `'x' * 10**9` and `'x' | center(10**9)` exhaust time
or memory. A message template is hostile input to `journeys validate`, so here:

- operations that can grow a value (`**`, `*`, `+`, `%`, `~`, the filters and string methods
  that take a width, `replace`, `join`) are checked BEFORE they run, and refused when the result
  would pass `MAX_DIGITS` digits or `MAX_SIZE` characters or items. The operators are
  intercepted, so Jinja cannot fold them at compile time, and every filter takes the render
  context, which keeps the optimizer from calling it at compile time too;
- each render counts loop iterations and calls (`MAX_STEPS`), and checks the thread's CPU time
  (`MAX_SECONDS`) at every loop iteration, call and intercepted operator, so a runaway render
  stops where it is instead of being measured afterwards (between two checks a template can do
  no more than its own text spells out, each step bounded in size);
- what a render outputs, and every buffer a macro or `{% set %}` block joins, is counted as it
  is joined and refused past `MAX_SIZE` characters.

A refusal raises `TemplateLimitError` at the template line that asked for too much.
"""

from __future__ import annotations

import math
import re
import string
import sys
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from jinja2 import Template, nodes, pass_context
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_SECONDS = 0.5
"""CPU seconds one render may use; a real message renders in about a millisecond."""
MAX_STEPS = 100_000
"""Loop iterations plus calls (macros, filters, methods) in one render."""
MAX_SIZE = 1_000_000
"""Characters of output, and characters or items of any string or list a template builds."""
MAX_DIGITS = sys.get_int_max_str_digits() or 4300
"""Digits of an integer; Python itself refuses to print a longer one."""


class TemplateLimitError(SecurityError):
    """A template asked for more work, memory or time than a message may take."""


@dataclass
class _Budget:
    """One render's allowance. The CPU clock is a system call that costs microseconds, the wall
    clock a few nanoseconds, and CPU time never runs ahead of wall time: so every hook reads the
    wall clock, and only when the wall deadline passes is the CPU clock read, to fail the render
    or to set the next wall deadline at the CPU time still left."""

    cpu_start: float = field(default_factory=time.thread_time)
    wall_deadline: float = field(default_factory=lambda: time.perf_counter() + MAX_SECONDS)
    steps: int = 0


_BUDGET: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _spend(steps: int = 0) -> None:
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.steps += steps
    if budget.steps > MAX_STEPS:
        raise TemplateLimitError(f"more than {MAX_STEPS:,} loop iterations and calls")
    if time.perf_counter() > budget.wall_deadline:
        left = MAX_SECONDS - (time.thread_time() - budget.cpu_start)
        if left <= 0:
            raise TemplateLimitError(f"rendering took more than {MAX_SECONDS} s of CPU time")
        budget.wall_deadline = time.perf_counter() + left


def _refuse_size(size: int, what: str) -> None:
    if size > MAX_SIZE:
        raise TemplateLimitError(f"{what} would be {size:,} long; at most {MAX_SIZE:,}")


def _checked(value: Any, what: str = "a value") -> Any:
    if isinstance(value, str | bytes | list | tuple | dict | set | frozenset):
        _refuse_size(len(value), what)
    return value


def _digits(number: int) -> float:
    return math.log10(abs(number)) if number else 0.0


def _check_power(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1:
        digits = int(right * _digits(left)) + 1
        if digits > MAX_DIGITS:
            shown = left if abs(left) < 10**20 else f"({int(_digits(left)) + 1} digits)"
            raise TemplateLimitError(
                f"{shown} ** {right} would have about {digits:,} digits; at most {MAX_DIGITS:,}"
            )


def _check_times(left: Any, right: Any) -> None:
    if isinstance(left, int) and isinstance(right, int):
        digits = int(_digits(left) + _digits(right)) + 1
        if digits > MAX_DIGITS:
            raise TemplateLimitError(
                f"a product of about {digits:,} digits; at most {MAX_DIGITS:,}"
            )
        return
    for sequence, count in ((left, right), (right, left)):
        if isinstance(count, int) and isinstance(sequence, str | bytes | list | tuple):
            _refuse_size(len(sequence) * max(count, 0), "a repeated sequence")


def _check_plus(left: Any, right: Any) -> None:
    if hasattr(left, "__len__") and hasattr(right, "__len__"):
        _refuse_size(len(left) + len(right), "a joined sequence")


_PRINTF_WIDTH = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\d*)(?:\.(\d*))?")


def _check_widths(text: Any, style: str) -> None:
    """Refuse a format string that pads or fills past `MAX_SIZE` (`%0999999999d`, `{:>1e9}`)."""
    if not isinstance(text, str):
        return
    if style == "printf":
        numbers = [n for match in _PRINTF_WIDTH.finditer(text) for n in match.groups() if n]
    else:
        try:
            specs = [spec for _, _, spec, _ in string.Formatter().parse(text) if spec]
        except ValueError:
            return  # Python reports the malformed format string itself
        numbers = [n for spec in specs for n in re.findall(r"\d+", spec)]
    for number in numbers:
        _refuse_size(int(number) if len(number) < 20 else sys.maxsize, "a formatted field")


def _check_modulo(left: Any, right: Any) -> None:
    _check_widths(left, "printf")


_BINOP_CHECKS: dict[str, Callable[[Any, Any], None]] = {
    "**": _check_power,
    "*": _check_times,
    "+": _check_plus,
    "%": _check_modulo,
}


def _joined_size(separator: Any, items: Any) -> int | None:
    if not isinstance(items, list | tuple):
        return None
    lengths = sum(len(item) if isinstance(item, str) else 20 for item in items)
    gaps = len(separator) * max(len(items) - 1, 0) if isinstance(separator, str) else 0
    return lengths + gaps


def _check_replace(value: Any, old: Any, new: Any) -> None:
    if isinstance(value, str) and isinstance(old, str) and isinstance(new, str):
        count = value.count(old) if old else len(value) + 1
        _refuse_size(len(value) + count * max(len(new) - len(old), 0), "a replaced string")


def _check_call(target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """String methods whose result can be far larger than their inputs."""
    owner = getattr(target, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(target, "__name__", "")
    if name in ("ljust", "rjust", "center", "zfill") and args and isinstance(args[0], int):
        _refuse_size(args[0], f"a string padded by {name}")
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            _refuse_size(len(owner) + owner.count("\t") * size, "a string with tabs expanded")
    elif name == "replace" and len(args) >= 2:
        _check_replace(owner, args[0], args[1])
    elif name == "join" and args:
        _refuse_size(_joined_size(owner, args[0]) or 0, "a joined string")
    elif name in ("format", "format_map"):
        _check_widths(owner, "format")
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
        _refuse_size(len(owner) * longest, "a translated string")


_FILTER_WIDTHS = {"center": "width", "indent": "width", "batch": "linecount", "slice": "slices"}


def _check_filter(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    width = args[0] if args else kwargs.get(_FILTER_WIDTHS.get(name, ""))
    if name in _FILTER_WIDTHS and isinstance(width, int):
        _refuse_size(width, f"the result of | {name}")
    elif name == "format":
        _check_widths(value, "printf")
    elif name == "replace" and len(args) >= 2:
        _check_replace(value, args[0], args[1])
    elif name == "join":
        separator = args[0] if args else kwargs.get("d", "")
        _refuse_size(_joined_size(separator, value) or 0, "a joined string")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """The filter, taking the render context so that Jinja never runs it while compiling."""
    passed = getattr(getattr(function, "jinja_pass_arg", None), "name", None)

    @pass_context
    @wraps(function)
    def bounded(context: Context, value: Any, *args: Any, **kwargs: Any) -> Any:
        _spend(1)
        _check_filter(name, value, args, kwargs)
        if passed == "context":
            result = function(context, value, *args, **kwargs)
        elif passed == "eval_context":
            result = function(context.eval_ctx, value, *args, **kwargs)
        elif passed == "environment":
            result = function(context.environment, value, *args, **kwargs)
        else:
            result = function(value, *args, **kwargs)
        return _checked(result, f"the result of | {name}")

    return bounded


class _BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator with a hook in every loop and on every `~` concatenation: neither
    goes through the sandbox's call or operator hooks otherwise."""

    def visit_Template(self, node: nodes.Template, frame: Frame | None = None) -> None:
        # Every loop iterates `environment.bounded_items(<its iterable>)` instead.
        for loop in list(node.find_all(nodes.For)):
            counted = nodes.EnvironmentAttribute("bounded_items", lineno=loop.iter.lineno)
            loop.iter = nodes.Call(counted, [loop.iter], [], None, None, lineno=loop.iter.lineno)
        super().visit_Template(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_value(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedTemplate(Template):
    """A template whose every render runs under a fresh budget of steps and CPU time."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        token = _BUDGET.set(_Budget())
        try:
            return super().render(*args, **kwargs)
        finally:
            _BUDGET.reset(token)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with the bounds described in this module's docstring."""

    intercepted_binops = frozenset(_BINOP_CHECKS)
    code_generator_class = _BoundedCodeGenerator
    template_class = BoundedTemplate

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        # Placeholder text generated in pure Python, unbounded in its arguments; no message
        # needs it.
        del self.globals["lipsum"]

    def compile(self, source: Any, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """Jinja parses and generates code recursively: deep nesting is a syntax error here, not
        a `RecursionError` from deep inside the compiler."""
        try:
            return super().compile(source, *args, **kwargs)
        except RecursionError:
            message = "expressions or blocks are nested too deeply"
            raise TemplateSyntaxError(message, 1) from None

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _spend()
        _BINOP_CHECKS[operator](left, right)
        return _checked(super().call_binop(context, operator, left, right))

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _spend(1)
        _check_call(getattr(__obj, "__wrapped__", __obj), args, kwargs)
        return _checked(super().call(__context, __obj, *args, **kwargs), "a call's result")

    def bounded_items(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            _spend(1)
            yield item

    def bounded_value(self, value: Any) -> Any:
        _spend()
        return _checked(value, "a joined string")

    def concat(self, parts: Iterable[str]) -> str:  # type: ignore[override]
        """Join a render's output (or a macro's buffer), refusing it once it grows too long.
        Time is checked by the hooks that produce the parts, not here."""
        collected: list[str] = []
        size = 0
        for part in parts:
            size += len(part)
            if size > MAX_SIZE:
                error = TemplateLimitError(
                    f"the output would be {size:,} long; at most {MAX_SIZE:,}"
                )
                if isinstance(parts, Generator):
                    # Raised where the template yielded, so the error names that line.
                    parts.throw(error)
                raise error
            collected.append(part)
        return "".join(collected)
