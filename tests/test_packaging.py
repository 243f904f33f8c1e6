"""The project installs as a package: its dependencies, its console script, no import-path edits."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _ranges(lines) -> dict[str, str]:
    """``{"name": "range"}`` from requirement strings (comments and spaces dropped, names lower-cased)."""
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].replace(" ", "")
        if line:
            name = re.match(r"[A-Za-z0-9_.\-]+", line).group(0)
            found[name.lower().replace("_", "-")] = line[len(name) :]
    return found


def test_requirements_txt_lists_the_ranges_of_pyproject():
    """requirements.txt (ranges with tested versions) and pyproject.toml (what `make` installs) agree."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = _ranges(project["dependencies"]) | _ranges(project["optional-dependencies"]["test"])
    listed = _ranges((REPO / "requirements.txt").read_text(encoding="utf-8").splitlines())
    assert listed == declared


def test_geo_imports_from_any_folder_without_an_import_path(tmp_path):
    """The installed project (not the current folder, not PYTHONPATH) provides geo, its console
    script, and the worker's child process (`python -m geo.intake.worker`)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    code = (
        "import geo, pathlib, sys\n"
        "from geo.intake.worker import run_bounded\n"
        "assert run_bounded(len, ('abc',), seconds=60, memory_mb=2000) == 3\n"
        "print(pathlib.Path(geo.__file__).resolve().parent)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == REPO / "geo"
    script = Path(sys.executable).parent / "geo"
    assert script.is_file(), "the `geo` console script: run `make` (pip install -e .[test])"
    done = subprocess.run(
        [str(script), "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0 and "coverage" in done.stdout, done.stderr


def test_no_code_edits_the_import_path():
    """Scripts, benchmarks, tests and the notebook import the installed package; none inserts into sys.path."""
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.ipynb"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    pattern = re.compile(r"sys\.path\.(insert|append|extend)|sys\.path\s*(\[[^\]]*\])?\s*[+]?=")
    offenders = [
        name
        for name in tracked
        if name != "tests/test_packaging.py"
        and pattern.search((REPO / name).read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []


def test_no_test_module_imports_another():
    """Shared helpers live in tests/helpers.py and fixtures in tests/conftest.py, not in a test module."""
    pattern = re.compile(r"^\s*(from\s+tests\.test_\w+\s+import|import\s+tests\.test_)", re.MULTILINE)
    offenders = [
        path.name for path in sorted((REPO / "tests").glob("*.py")) if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
