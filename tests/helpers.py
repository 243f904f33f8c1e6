"""Helpers shared by several test modules (fixtures shared by them are in conftest.py).

* Spreadsheet cells: :func:`csv_rows`, :func:`workbook_cells`, :func:`starts_a_formula` and
  ``INVISIBLE`` read an export as a spreadsheet would, failing on a formula (test_cells, test_export,
  test_intake, test_template).
* Child processes: :func:`run_measured` and :func:`cli_import` run a command with its peak memory
  measured and a time guard (test_limits, test_import_hardening, test_pairs_limit).
* Budget problems: :func:`random_problem` and :func:`brute_force_best` (test_allocate, test_cover_bound).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from geo.optimize.allocate import CoverageProblem, demand_groups

REPO = Path(__file__).resolve().parent.parent
PEAK_MB = 600
TIMEOUT_S = 60


# --------------------------------------------------------------------------- spreadsheet cells

# Written out by hand, independently of geo.data.cells: what a spreadsheet could run as a formula.
_SIGNS = set("=+-@＝＋－＠﹦﹢﹣﹫")
_BREAKS = set("\t\r\n")
# Characters no cell may hold after normalising (a hand-written list, not geo.data.cells' pattern).
INVISIBLE = (
    [chr(c) for c in range(0x20) if chr(c) not in _BREAKS]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + ["\u00ad", "\u061c", "\u180e", "\ufeff", "\ufff9", "\ufffa", "\ufffb"]
    + [chr(c) for c in range(0x200B, 0x2010)]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2060, 0x2065)]
    + [chr(c) for c in range(0x2066, 0x2070)]
)


def starts_a_formula(text: str) -> bool:
    """Would Excel, WPS, LibreOffice or Google Sheets take this cell text as a formula?"""
    if text[:1] in _BREAKS:
        return True
    visible = "".join(ch for ch in text if ch not in INVISIBLE).lstrip()
    return visible[:1] in _SIGNS


def csv_rows(data: bytes) -> list[list]:
    """The rows of a CSV as a spreadsheet reads them: text cells quoted (str), numbers bare (float).

    Fails if the file lacks the UTF-8 BOM or CRLF line ends, has an unquoted cell that is not a
    number (such a cell would be open to separator tricks), or a text cell that would be a formula.
    """
    assert data.startswith(b"\xef\xbb\xbf"), "a CSV for Excel and WPS starts with the UTF-8 byte-order mark"
    text = data[3:].decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline=""), quoting=csv.QUOTE_NONNUMERIC))
    assert text.endswith("\r\n")
    for row in rows:
        for cell in row:
            assert not (isinstance(cell, str) and starts_a_formula(cell)), f"formula in a CSV cell: {cell!r}"
    return rows


def workbook_cells(data: bytes) -> dict[str, list[list]]:
    """Sheet name → rows of cell values of an .xlsx, failing on any formula or error cell.

    Checks twice: openpyxl's cell types, and the worksheet XML itself for ``<f>`` elements.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = archive.read(name).decode("utf-8")
                assert not re.search(r"<(\w+:)?f[ >/]", xml), f"formula element in {name}"
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheets = {}
    for sheet in book.worksheets:
        rows = []
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type not in ("f", "e"), (
                    f"{sheet.title}!{cell.coordinate} is {cell.data_type}: {cell.value!r}"
                )
                if isinstance(cell.value, str):
                    assert not starts_a_formula(cell.value), f"{sheet.title}!{cell.coordinate}: {cell.value!r}"
            rows.append([cell.value for cell in row])
        sheets[sheet.title] = rows
    return sheets


# --------------------------------------------------------------------------- running a child


# Runs a command in a grandchild and writes its peak resident memory (KB) to argv[1]. A child's
# ru_maxrss counts the memory of the process it was forked from until it execs (Linux keeps that
# high-water mark across exec), so a child of pytest would report pytest's size; forked from this
# small launcher, it reports its own.
_LAUNCHER = """
import os, sys
peak_file, args = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    os.execv(args[0], args)
_, status, usage = os.wait4(pid, 0)
with open(peak_file, "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(args: list[str], timeout: float = TIMEOUT_S) -> tuple[int, str, str, float]:
    """Run ``args`` from the repository: exit status, stdout, stderr and peak resident memory (MB).

    The command and its launcher are killed, and the test fails, if still running after ``timeout`` s.
    """
    with tempfile.TemporaryDirectory() as folder:
        peak_file = Path(folder) / "peak_kb"
        child = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(peak_file), *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            stdout, stderr = child.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.communicate()
            pytest.fail(f"{' '.join(args)} was still running after {timeout} s")
        return child.returncode, stdout.decode(), stderr.decode(), int(peak_file.read_text()) / 1024


def cli_import(path: Path, layer: str, tmp_path: Path) -> tuple[int, str, str, float]:
    """``python -m geo import`` of ``path`` in a child: exit status, stdout, stderr, peak MB."""
    return run_measured(
        [
            sys.executable,
            "-m",
            "geo",
            "import",
            str(path),
            "--layer",
            layer,
            "--out",
            str(tmp_path / "accepted.gpkg"),
            "--rejects",
            str(tmp_path / "rejects.csv"),
            "--json",
        ]
    )


# --------------------------------------------------------------------------- budget problems


def random_problem(rng, n_candidates, n_demand=30, density=0.15, unit_cost=True, districts=("A", "B", "C")):
    cover = sp.csr_array(rng.random((n_candidates, n_demand)) < density)
    cost = np.full(n_candidates, 50_000.0) if unit_cost else rng.choice([30_000.0, 50_000.0, 80_000.0], n_candidates)
    return CoverageProblem(
        candidates=np.arange(n_candidates),
        cost_cny=cost,
        district=rng.choice(list(districts), n_candidates),
        demand=np.arange(n_demand),
        weight=rng.integers(50, 3000, n_demand),
        cover=cover,
    )


def brute_force_best(problem, budget, district_min=None, district_max=None):
    """Enumerate every subset: the best residents newly served among affordable, feasible ones."""
    district_min, district_max = district_min or {}, district_max or {}
    n = problem.candidates.size
    dense = problem.cover.toarray()
    best = -1
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            subset = list(subset)
            if problem.cost_cny[subset].sum() > budget:
                continue
            counts = pd.Series(problem.district[subset]).value_counts()
            if any(counts.get(d, 0) < k for d, k in district_min.items()):
                continue
            if any(counts.get(d, 0) > k for d, k in district_max.items()):
                continue
            reached = dense[subset].any(axis=0) if subset else np.zeros(dense.shape[1], bool)
            best = max(best, int(problem.weight[reached].sum()))
    return best


# Three communities 200 m apart: one set in any of them brings all three within a 500 m walk.
CLUSTER = [(0, 0), (200, 0), (400, 0)]


def square_city(xy, population, paths_xy=(), side=100.0):
    """Square communities (``side`` m) at metre offsets ``xy`` from a point in Liuzhou (UTM 49N), with
    ``population`` residents each and open space for a set; existing sets at ``paths_xy`` (offsets too).

    Returns (communities, fitness_paths) in EPSG:4326, as :mod:`geo.data.io` reads them.
    """
    import geopandas as gpd
    import pandas as pd
    from shapely.geometry import Point, box

    utm, x0, y0 = "EPSG:32649", 338_000.0, 2_690_000.0
    n = len(xy)
    communities = gpd.GeoDataFrame(
        {
            "community_id": [f"C{k:03d}" for k in range(n)],
            "name": [f"小区{k}" for k in range(n)],
            "district_code": ["450202"] * n,
            "district_name": ["城中区"] * n,
            "population": pd.array(population, dtype="Int64"),
            "households": pd.array([None] * n, dtype="Int64"),
            "built_year": pd.array([1995] * n, dtype="Int64"),
            "open_space_m2": [500.0] * n,
            "public_space_used_for_parking": [False] * n,
            "share_60plus": [0.2] * n,
            "share_under14": [0.1] * n,
        },
        geometry=[box(x0 + x, y0 + y, x0 + x + side, y0 + y + side) for x, y in xy],
        crs=utm,
    ).to_crs("EPSG:4326")
    paths = gpd.GeoDataFrame(
        {
            "path_id": [f"P{k}" for k in range(len(paths_xy))],
            "name": [f"点{k}" for k in range(len(paths_xy))],
        },
        geometry=[Point(x0 + x, y0 + y) for x, y in paths_xy],
        crs=utm,
    ).to_crs("EPSG:4326")
    return communities, paths


# --------------------------------------------------------------------------- map pages


def map_data(page):
    """The layers, sets and legend the page draws: its one ``application/json`` element, parsed."""
    found = re.findall(r'<script type="application/json" id="fp-map-data-[0-9a-f]+">(.*?)</script>', page, re.S)
    assert len(found) == 1, "the page must carry its map data in exactly one JSON element"
    return json.loads(found[0])


def spatial_problem(rng, n, radius, unit_cost=True):
    """Communities scattered on a 10 km square; each is demand and a candidate covering what
    lies within ``radius`` metres (the no-sets-yet city in miniature)."""
    xy = rng.random((n, 2)) * 10_000
    distance = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    cost = np.full(n, 50_000.0) if unit_cost else rng.choice([40_000.0, 50_000.0, 70_000.0], n)
    return CoverageProblem(
        np.arange(n),
        cost,
        rng.choice(["A", "B", "C"], n),
        np.arange(n),
        rng.integers(200, 4000, n),
        sp.csr_array(distance <= radius),
    )


def lp_optimum(cover, weight, cost, budget):
    """The LP relaxation solved whole by scipy's HiGHS: the reference for column generation."""
    n, m = cover.shape
    a = sp.vstack(
        [
            sp.hstack([-sp.csr_array(cover.T, dtype=float), sp.eye_array(m)]),
            sp.csr_array(np.concatenate([cost, np.zeros(m)])[None, :]),
        ],
        format="csr",
    )
    result = linprog(
        np.concatenate([np.zeros(n), -weight.astype(float)]),
        A_ub=a,
        b_ub=np.concatenate([np.zeros(m), [budget]]),
        bounds=(0, 1),
        method="highs",
    )
    return -result.fun


# --------------------------------------------------------------------------- coverage problems (issue 17)


def grouped_of(problem):
    """A :class:`CoverageProblem`'s demand grouped (:func:`geo.optimize.allocate.demand_groups`): the
    group × candidate relation as floats and each group's residents."""
    grouped, weight = demand_groups(problem.cover, problem.weight)
    return sp.csr_array(grouped, dtype=float), weight.astype(float)


def feasible(problem, plan, budget, district_max=None):
    """Whether ``plan`` (candidate positions) picks no candidate twice, keeps the budget (CNY) and the
    district maximums."""
    plan = np.asarray(plan, dtype=int)
    if plan.size != np.unique(plan).size or problem.cost_cny[plan].sum() > budget + 1e-6:
        return False
    return all((problem.district[plan] == code).sum() <= limit for code, limit in (district_max or {}).items())
