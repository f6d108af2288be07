"""Environment variables for the length of one command: `.env` loaded as Dagster loads it.

Dagster's commands (`dagster dev`, `dagster job launch`, ...) read `.env` in the directory they
run in with python-dotenv and set its variables for the command, over the shell's
(`dagster._cli.utils._inject_local_env_file`). `waymark` does the same, so one `.env`
(`.env.example` lists the variables) configures the command line and the Dagster code location
alike, and the two never disagree about a value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

DOT_ENV = ".env"


def dot_env_values(directory: Path | None = None) -> dict[str, str]:
    """The variables `.env` in `directory` (default the working directory) sets; none if absent.

    A name without a value (`NAME` alone on a line) sets nothing, as in Dagster.
    """
    path = (directory or Path.cwd()) / DOT_ENV
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {name: value for name, value in dotenv_values(path).items() if value is not None}


@contextmanager
def temporary_environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set `values` in this process's environment, and restore what was there afterwards."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def dot_env(directory: Path | None = None) -> Iterator[dict[str, str]]:
    """`.env` of the working directory in the environment while the block runs."""
    values = dot_env_values(directory)
    with temporary_environment(values):
        yield values
