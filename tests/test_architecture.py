"""The import rules of docs/architecture.md, read from the code.

import-linter checks the contracts in pyproject.toml (`[tool.importlinter]`): the four layers
(entry points, features, warehouse, core), features that never import one another, and no
import cycles inside a package. These tests run it on the repository, prove that it catches a
planted upward import, and make sure no package of `waymark` is left out of the layers.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

from waymark.core.home import PROJECT_ROOT

PYPROJECT = PROJECT_ROOT / "pyproject.toml"
PACKAGES = ("waymark", "activations", "orchestration")


def _layered() -> set[str]:
    config = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    return {name.strip() for layer in layers for name in layer.split("|")}


def test_the_code_keeps_the_import_rules() -> None:
    assert lint_imports(str(PYPROJECT), no_cache=True, no_logo=True) == 0


def test_every_part_of_waymark_sits_in_a_layer() -> None:
    parts = {
        f"waymark.{path.stem if path.suffix == '.py' else path.name}"
        for path in (PROJECT_ROOT / "waymark").iterdir()
        if (path.suffix == ".py" and path.name != "__init__.py") or (path / "__init__.py").is_file()
    }
    assert parts - _layered() == set()


def _lint_copy(tmp_path: Path, plant: tuple[str, str] | None) -> subprocess.CompletedProcess:
    """import-linter over a copy of the packages, with `plant` (a file, an import) added."""
    for package in PACKAGES:
        shutil.copytree(
            PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc")
        )
    shutil.copy(PYPROJECT, tmp_path / "pyproject.toml")
    if plant is not None:
        path = tmp_path / plant[0]
        path.write_text(path.read_text(encoding="utf-8") + f"\n{plant[1]}\n", encoding="utf-8")
    script = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports('pyproject.toml', no_cache=True, no_logo=True))"
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_upward_import_breaks_the_rules(tmp_path: Path) -> None:
    plant = ("waymark/core/text.py", "import waymark.journeys.spec  # noqa")
    result = _lint_copy(tmp_path, plant)
    assert result.returncode != 0, result.stdout
    assert "waymark.core.text -> waymark.journeys.spec" in result.stdout


def test_a_feature_importing_another_breaks_the_rules(tmp_path: Path) -> None:
    plant = ("activations/pii.py", "from waymark.journeys.steps import SendStep  # noqa")
    result = _lint_copy(tmp_path, plant)
    assert result.returncode != 0, result.stdout
    assert "activations.pii -> waymark.journeys.steps" in result.stdout
