"""Shared set-up of the public-sites tests (issue 15): hand-made sites and cities, a bureau's sites file, a filled
survey template. Test modules import from here, never from each other (tests/test_packaging.py)."""

from __future__ import annotations

import csv
import dataclasses

import geopandas as gpd
import openpyxl
import pandas as pd
import pyproj
import shapely
from shapely.geometry import Point, box

from geo.config import BOUNDARIES_PATH, DEFAULT_DATA_PATH, load_config
from geo.data.io import read_districts, read_public_sites
from geo.intake.template import SITES_SHEET, SURVEY_SHEET, survey_template_bytes
from geo.plan import run_plan
from tests import othercity
from tests.helpers import square_city

# --------------------------------------------------------------------------- hand-made sites and cities (UTM 49N)

UTM, X0, Y0 = "EPSG:32649", 338_000.0, 2_690_000.0
SET_CNY = 50_000


def sites_at(*rows) -> gpd.GeoDataFrame:
    """Public sites from ``(site_id, x, y, kind, area_m2, consent)`` at metre offsets (points), EPSG:4326."""
    frame = pd.DataFrame(rows, columns=["site_id", "x", "y", "kind", "usable_area_m2", "consent"])
    return gpd.GeoDataFrame(
        {
            "site_id": pd.array(frame["site_id"], dtype="string"),
            "name": pd.array([f"场地{i}" for i in frame["site_id"]], dtype="string"),
            "kind": pd.array(frame["kind"], dtype="string"),
            "usable_area_m2": frame["usable_area_m2"].astype(float),
            "owner": pd.array(["园林局"] * len(frame), dtype="string"),
            "consent": pd.array(frame["consent"], dtype="string"),
            "notes": pd.array([None] * len(frame), dtype="string"),
        },
        geometry=[Point(X0 + x, Y0 + y) for x, y in zip(frame["x"], frame["y"])],
        crs=UTM,
    ).to_crs("EPSG:4326")


def config(budget: int = SET_CNY, standard: str = "inside", **weights):
    base = load_config()
    programs = tuple(dataclasses.replace(p, budget_cny=budget) for p in base.programs)
    return dataclasses.replace(
        base,
        programs=programs,
        standard=standard,
        priority_weights={**base.priority_weights, **weights},
        optimal_time_limit_s=30.0,
    )


def city(xy, population, landless_rows=(), paths_xy=()):
    """``square_city`` with the communities at ``landless_rows`` lacking open space (land-less)."""
    communities, paths = square_city(xy, population, paths_xy)
    communities.loc[list(landless_rows), "open_space_m2"] = 0.0
    return communities, paths


def plan_of(communities, paths, sites, mode, budget=SET_CNY, standard="inside", programs=("city",), **weights):
    return run_plan(communities, paths, config(budget, standard, **weights), list(programs), mode, public_sites=sites)


# C000 and C001 have no land, 800 m apart (edges 700 m apart): no set in either is possible, and one set
# between them (the site at x = 450) serves both. C002, 3 km away, can host a set and has more residents
# than either, but fewer than both together.
TWO_LANDLESS = dict(xy=[(0, 0), (800, 0), (3000, 0)], population=[400, 300, 600], landless_rows=(0, 1))


# --------------------------------------------------------------------------- a bureau's sites file (Hefei, CGCS2000)

HEADERS = ["场地编号", "场地名称", "场地类型", "可用面积（平方米）", "权属单位", "是否同意", "备注"]
# (id, name, kind, area, owner, consent, notes, geometry as metres east/north of the corner)
ROWS = [
    ("S-01", "蜀山口袋公园", "口袋公园", "400", "三里庵街道办事处", "同意", "", Point(475, 325)),
    ("S-02", "望江广场", "广场", "800", "稻香村街道办事处", "待定", "需征求意见", box(600, 600, 660, 660)),
    ("S-03", "包河小学操场", "学校操场", "2000", "合肥市包河小学", "不同意", "", Point(2200, 800)),
    ("S-04", "停车场旁空地", "停车场", "300", "街道办事处", "是", "", Point(900, 700)),  # unknown kind
    ("S-01", "重复编号", "广场", "300", "街道办事处", "是", "", Point(1000, 900)),  # repeats row 2's ID
    ("S-06", "远处空地", "其他", "300", "街道办事处", "是", "", Point(200_000, 900)),  # 200 km away
    ("S-07", "", "绿道", "300", "园林局", "是", "", Point(1100, 900)),  # no name
]


def _corner():
    to_utm = pyproj.Transformer.from_crs(4326, 32650, always_xy=True)
    return to_utm.transform(othercity.WEST, othercity.SOUTH)


def site_frame() -> gpd.GeoDataFrame:
    """The rows above in UTM 50N."""
    x0, y0 = _corner()
    geometry = [shapely.affinity.translate(row[-1], x0, y0) for row in ROWS]
    return gpd.GeoDataFrame([dict(zip(HEADERS, row[:-1])) for row in ROWS], geometry=geometry, crs=32650)


def hefei_files_with_sites(folder) -> dict:
    """The other city's survey files (:func:`tests.othercity.write_files`) and its sites CSV (``sites``)."""
    paths = othercity.write_files(folder)
    paths["sites"] = write_sites_csv(folder / "公共场地.csv")
    return paths


def write_sites_csv(path, crs=othercity.GK_WITH_ZONE):
    """The sites as WKT in ``crs`` in a CSV that declares no coordinate system (as a surveyor's export)."""
    frame = site_frame().to_crs(crs)
    with open(path, "w", newline="", encoding="utf-8-sig") as file:
        writer = csv.writer(file)
        writer.writerow([*HEADERS, "WKT"])
        for cells, geometry in zip(frame[HEADERS].itertuples(index=False), frame.geometry):
            writer.writerow([*cells, shapely.to_wkt(geometry, rounding_precision=3)])
    return path


# --------------------------------------------------------------------------- a district's filled survey template


def filled_template(path, lang="zh", site_names=("新口袋公园", "重报场地"), notes=None):
    """A district's return: one community on the survey sheet; 3 site rows (sheet rows 2–4), the last one bad."""
    import io

    book = openpyxl.load_workbook(io.BytesIO(survey_template_bytes(read_districts(BOUNDARIES_PATH), lang=lang)))
    survey = book[SURVEY_SHEET[lang]]
    headers = [cell.value for cell in survey[1]]
    row = dict.fromkeys(headers)
    district = "城中区"
    row.update({headers[1]: "示例新村", headers[2]: district, headers[3]: 109.4172, headers[4]: 24.3195})
    row[headers[5]] = "WGS84"
    survey.append([row[h] for h in headers])
    sites = book[SITES_SHEET[lang]]
    kind, consent = ("口袋公园", "是") if lang == "zh" else ("Pocket park", "Yes")
    sites.append(["S-NEW-1", site_names[0], kind, 109.4180, 24.3190, "WGS84", 400, "街道办事处", consent, notes])
    pocket = read_public_sites(DEFAULT_DATA_PATH).set_index("site_id").loc["PS-0001"]
    point = pocket.geometry.representative_point()
    sites.append(["PS-0001", site_names[1], kind, point.x, point.y, "WGS84", 1234, "街道办事处", consent, None])
    sites.append(["S-BAD", "停车场旁", "停车场", 109.4190, 24.3180, "WGS84", 300, "街道办事处", consent, None])
    book.save(path)
    return path
