"""The analysis notebook runs top to bottom on the sample and shows the pipeline's own numbers."""

import os
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.pipeline import load_city
from geo.plan import run_plan

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOK = NOTEBOOKS / "liuzhou_analysis.ipynb"
CELL_TIMEOUT_S = 300
PROGRAMS = ["city", "region"]
# Executing the notebook starts a kernel and runs the whole pipeline.
pytestmark = pytest.mark.slow
SUMMARY_LINE = re.compile(
    r"^(?P<program>\w+) (?P<mode>rank|optimal): (?P<sets>\d+) sets, CNY [\d,]+, "
    r"(?P<newly>[\d,]+) residents newly served",
    re.MULTILINE,
)


def _text(cell) -> str:
    """Everything a cell printed or displayed as text (stdout, stderr, text/plain)."""
    parts = []
    for output in cell.get("outputs", []):
        parts.append(output.get("text", ""))
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "".join(parts)


def _venv_kernel(spec_dir: Path) -> AsyncKernelManager:
    """A ``python3`` kernel on this interpreter, whatever other python3 kernelspecs the machine has."""
    write_kernel_spec(spec_dir / "python3")
    km = AsyncKernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir)]))
    assert km.format_kernel_cmd()[0] == sys.executable
    return km


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    work = tmp_path_factory.mktemp("notebook")
    copy = shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    notebook = nbformat.read(copy, as_version=4)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "Agg")  # nothing in this process may open a window
        # The kernel draws inline (Agg into PNG outputs), so the charts are really rendered and a
        # missing glyph shows up as a warning in the outputs. TMPDIR keeps the export out of /tmp.
        kernel_env = {**os.environ, "MPLBACKEND": "module://matplotlib_inline.backend_inline", "TMPDIR": str(work)}
        client = NotebookClient(
            notebook,
            km=_venv_kernel(work / "kernels"),
            timeout=CELL_TIMEOUT_S,
            resources={"metadata": {"path": str(NOTEBOOKS)}},  # cwd as when opened in Jupyter
        )
        client.execute(env=kernel_env)  # raises CellExecutionError on the first failing cell
    nbformat.write(notebook, work / "executed.ipynb")  # kept for a look when a test below fails
    return notebook


@pytest.fixture(scope="module")
def plans():
    city = load_city(DEFAULT_DATA_PATH)
    return {
        mode: run_plan(city.communities, city.fitness_paths, load_config(), PROGRAMS, mode, city.applications)
        for mode in ("rank", "optimal")
    }


def test_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert notebook.metadata.kernelspec.name == "python3"


def test_every_cell_ran_without_error(executed):
    code = [cell for cell in executed.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert not [o for cell in code for o in cell.outputs if o.output_type == "error"]


def test_every_chart_is_drawn_with_all_its_glyphs(executed):
    charts = [cell for cell in executed.cells if cell.cell_type == "code" and "plt.show()" in cell.source]
    assert len(charts) >= 5
    for cell in charts:
        assert any("image/png" in o.get("data", {}) for o in cell.outputs), cell.source
    assert not [cell.source for cell in executed.cells if "missing from font" in _text(cell)]


def test_summary_shows_the_numbers_of_run_plan(executed, plans):
    shown = {
        (m["program"], m["mode"]): (int(m["sets"]), int(m["newly"].replace(",", "")))
        for m in SUMMARY_LINE.finditer(_text(executed.cells[-1]))
    }
    expected = {
        (s["program"], mode): (s["sets"], s["population_newly_served"])
        for mode, plan in plans.items()
        for s in plan.summaries()
    }
    assert shown == expected
    assert [shown[(key, "optimal")][0] for key in PROGRAMS] == [12, 100]
    assert [shown[(key, "rank")][0] for key in PROGRAMS] == [12, 100]
    for key in PROGRAMS:
        assert shown[(key, "optimal")][1] >= shown[(key, "rank")][1]


def test_export_writes_one_sheet_per_programme_and_the_parameters(executed):
    export_cell = next(cell for cell in executed.cells if "export(" in cell.source)
    assert "sheets: ['市本级', '自治区补助', '参数']" in _text(export_cell)
