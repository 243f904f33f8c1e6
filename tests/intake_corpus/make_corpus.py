"""Write the intake corpus: small bad files, each with the outcome it must give, into this folder.

Run from the repository root:  .venv/bin/python tests/intake_corpus/make_corpus.py
It rewrites every corpus file and ``expected.csv`` (one row per file: layer, declared CRS,
limits, counts, the reason code or "warning"/"repaired"/"error", and a message the outcome must
contain). ``tests/test_intake.py`` reads ``expected.csv``; the writers below are also used there
to build the good files of every format.

Each file starts from the same three valid communities (or fitness paths) in Liuzhou and breaks
one thing, so the expected counts are 2 accepted / 1 rejected unless said otherwise.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
from shapely.geometry import Point, box

from geo.data.schema import COMMUNITY_COLUMNS, FITNESS_PATH_COLUMNS
from geo.i18n import column_label

HERE = Path(__file__).resolve().parent
ZIP_DATE = (2018, 8, 1, 0, 0, 0)  # fixed member dates: the same bytes on every run

# Headers of the survey template beyond geo.i18n's column labels (geo/intake/template.py uses the same).
TEMPLATE_EXTRA_HEADERS = {
    "longitude": ("经度", "Longitude"),
    "latitude": ("纬度", "Latitude"),
    "land_area_m2": ("占地面积（平方米）", "Land area (m²)"),
    "crs": ("坐标系", "Coordinate system"),
    "application_date": ("申请日期", "Application date"),
    "existing_sets": ("已有健身路径（套）", "Existing sets"),
}
CONDITION_ZH = {"good": "良好", "fair": "一般", "poor": "差"}
FUNDING_ZH = {"city": "市本级", "region": "自治区", "lottery": "体彩公益金", "developer": "开发商"}

COMMUNITIES = [
    dict(
        community_id="450202-0001",
        name="柳东小区",
        district_code="450202",
        district_name="城中区",
        built_year=1995,
        households=400,
        population=1200,
        share_60plus=0.2,
        share_under14=0.1,
        open_space_m2=300.0,
        public_space_used_for_parking=True,
        sports_land_planned=False,
        longitude=109.458,
        latitude=24.3704,
        land_area_m2=20000.0,
    ),
    dict(
        community_id="450203-0001",
        name="河西小区",
        district_code="450203",
        district_name="鱼峰区",
        built_year=2005,
        households=800,
        population=2500,
        share_60plus=0.15,
        share_under14=0.12,
        open_space_m2=0.0,
        public_space_used_for_parking=False,
        sports_land_planned=True,
        longitude=109.5011,
        latitude=24.3194,
        land_area_m2=None,
    ),
    dict(
        community_id="450205-0001",
        name="雅儒小区",
        district_code="450205",
        district_name="柳北区",
        built_year=1988,
        households=300,
        population=900,
        share_60plus=0.3,
        share_under14=0.08,
        open_space_m2=150.5,
        public_space_used_for_parking=True,
        sports_land_planned=False,
        longitude=109.4006,
        latitude=24.4524,
        land_area_m2=12000.0,
    ),
]
PATHS = [
    dict(
        path_id="FP00001",
        name="江滨公园健身路径",
        install_year=2015,
        n_pieces=8,
        condition="good",
        funding_source="lottery",
        longitude=109.4123456,
        latitude=24.3256789,
    ),
    dict(
        path_id="FP00002",
        name="龙潭公园",
        install_year=None,
        n_pieces=10,
        condition="fair",
        funding_source="city",
        longitude=109.4501,
        latitude=24.2987,
    ),
    dict(
        path_id="FP00003",
        name=None,
        install_year=2021,
        n_pieces=6,
        condition="poor",
        funding_source="region",
        longitude=109.38,
        latitude=24.35,
    ),
]
SCHEMAS = {"communities": COMMUNITY_COLUMNS, "fitness_paths": FITNESS_PATH_COLUMNS}
INTAKE = {"communities": ("longitude", "latitude", "land_area_m2"), "fitness_paths": ("longitude", "latitude")}


# --------------------------------------------------------------------------- writers (also used by the tests)


def records(layer: str) -> list[dict]:
    """A fresh copy of the three valid rows of ``layer``."""
    return copy.deepcopy(COMMUNITIES if layer == "communities" else PATHS)


def columns_of(layer: str, rows: list[dict]) -> list[str]:
    """Schema columns, then the intake columns, then any extra key the rows carry, in first-seen order."""
    columns = [*SCHEMAS[layer], *INTAKE[layer]]
    for row in rows:
        columns += [key for key in row if key not in columns]
    return [c for c in columns if any(c in row for row in rows)]


def header(column: str, lang: str) -> str:
    if column in TEMPLATE_EXTRA_HEADERS:
        return TEMPLATE_EXTRA_HEADERS[column][0 if lang == "zh" else 1]
    return column_label(column, lang)


def cell_text(column: str, value, lang: str) -> str:
    """A value as a district office would type it in a CSV (Chinese words when ``lang`` is zh)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("Yes" if value else "No")
    if lang == "zh" and column == "condition":
        return CONDITION_ZH.get(value, value)
    if lang == "zh" and column == "funding_source":
        return FUNDING_ZH.get(value, value)
    return str(value)


def write_csv(path: Path, rows: list[dict], layer: str, lang: str = "zh", encoding: str = "utf-8") -> Path:
    columns = columns_of(layer, rows)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([header(c, lang) for c in columns])
    for row in rows:
        writer.writerow([cell_text(c, row.get(c), lang) for c in columns])
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_xlsx(
    path: Path,
    rows: list[dict],
    layer: str,
    lang: str = "zh",
    sheet: str | None = "小区调查",
    title_rows: list | None = None,
    other_sheets: dict | None = None,
) -> Path:
    """A workbook whose sheet ``sheet`` holds the rows, numbers as numbers; other sheets first."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, content in (other_sheets or {}).items():
        extra = book.create_sheet(name)
        for line in content:
            extra.append(line)
    target = book.create_sheet(sheet or "Sheet1")
    for line in title_rows or []:
        target.append(line)
    columns = columns_of(layer, rows)
    target.append([header(c, lang) for c in columns])
    for row in rows:
        target.append([_xlsx_value(c, row.get(c), lang) for c in columns])
    book.save(path)
    return path


def _xlsx_value(column, value, lang):
    if isinstance(value, (bool, str)) or value is None:
        return cell_text(column, value, lang) or None
    return value


def frame(rows: list[dict], layer: str, geometry: str = "point", crs="EPSG:4326") -> gpd.GeoDataFrame:
    """A GeoDataFrame of the rows under schema names: points, or ~200 m squares around the points."""
    table = pd.DataFrame([{c: row.get(c) for c in columns_of(layer, rows)} for row in rows])
    shapes = []
    for row in rows:
        if "geometry" in row:
            shapes.append(row["geometry"])
        elif geometry == "point":
            shapes.append(Point(row["longitude"], row["latitude"]))
        else:
            x, y = row["longitude"], row["latitude"]
            shapes.append(box(x - 0.001, y - 0.001, x + 0.001, y + 0.001))
    keep = [c for c in table.columns if c not in ("longitude", "latitude", "geometry")]
    for column in ("built_year", "households", "population", "install_year", "n_pieces"):
        if column in keep:
            table[column] = table[column].astype("Int64")
    for column in ("public_space_used_for_parking", "sports_land_planned"):
        if column in keep:
            table[column] = table[column].astype("boolean")
    for column in ("land_area_m2", "share_60plus", "share_under14", "open_space_m2"):
        if column in keep:
            table[column] = table[column].astype("float64")
    result = gpd.GeoDataFrame(table[keep], geometry=shapes, crs="EPSG:4326")
    return result.to_crs(crs) if crs != "EPSG:4326" else result


def write_geodata(path: Path, data: gpd.GeoDataFrame, driver: str, layer: str | None = None) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL warns about Shapefile names cut to 10 characters
        data.to_file(path, driver=driver, engine="pyogrio", **({"layer": layer} if layer else {}))
    return path


def write_shapefile_zip(
    path: Path, data: gpd.GeoDataFrame, encoding: str | None = None, cpg: bool = True, folder_in_zip: str = ""
) -> Path:
    """A zipped Shapefile (parts written by GDAL into a scratch folder next to ``path``)."""
    scratch = path.with_suffix(".parts")
    scratch.mkdir(exist_ok=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data.to_file(
                scratch / "layer.shp",
                driver="ESRI Shapefile",
                engine="pyogrio",
                **({"encoding": encoding} if encoding else {}),
            )
        members = {part.name: part.read_bytes() for part in sorted(scratch.iterdir()) if cpg or part.suffix != ".cpg"}
    finally:
        for part in scratch.iterdir():
            part.unlink()
        scratch.rmdir()
    return write_zip(path, {folder_in_zip + name: content for name, content in members.items()})


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_DATE), content, compress_type=zipfile.ZIP_DEFLATED)
    return path


def write_geojson(path: Path, features: list[tuple[dict, dict | None]]) -> Path:
    """A GeoJSON written by hand, so that invalid or odd geometries stay exactly as given."""
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": properties, "geometry": geometry} for properties, geometry in features
        ],
    }
    path.write_text(json.dumps(collection, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _square(x, y, half=0.001):
    return [
        [x - half, y - half],
        [x + half, y - half],
        [x + half, y + half],
        [x - half, y + half],
        [x - half, y - half],
    ]


def _properties(row: dict, layer: str) -> dict:
    return {c: row.get(c) for c in SCHEMAS[layer]}


# --------------------------------------------------------------------------- the corpus

CORPUS: list[dict] = []


def case(
    file,
    layer="communities",
    *,
    accepted=2,
    rejected=1,
    repaired=0,
    rows="",
    code,
    message,
    crs="",
    max_upload_mb="",
    max_unzipped_mb="",
):
    """Register one corpus file's expectation (``rows``: the rejected row numbers, ``;``-separated)."""
    input_rows = "" if code == "error" else accepted + rejected
    CORPUS.append(
        dict(
            file=file,
            layer=layer,
            crs=crs,
            max_upload_mb=max_upload_mb,
            max_unzipped_mb=max_unzipped_mb,
            input_rows=input_rows,
            accepted="" if code == "error" else accepted,
            rejected="" if code == "error" else rejected,
            repaired="" if code == "error" else repaired,
            rejected_rows=rows,
            code=code,
            message=message,
        )
    )
    return HERE / file


def changed(layer: str, index: int, **values) -> list[dict]:
    rows = records(layer)
    rows[index].update(values)
    return rows


def build_csv_cases():
    c = "communities"
    # As the survey template says: population is recommended, an ID is only for communities the
    # city already lists, coordinates may be left out when the ID is given.
    write_csv(
        case(
            "csv_missing_population.csv",
            accepted=3,
            rejected=0,
            code="warning",
            message="row 3: no population given: estimated from households or land area",
        ),
        changed(c, 1, population=None),
        c,
    )
    write_csv(
        case(
            "csv_missing_id.csv",
            accepted=3,
            rejected=0,
            code="warning",
            message="row 2: no community ID (小区编号): taken as new communities",
        ),
        changed(c, 0, community_id=None),
        c,
    )
    write_csv(
        case(
            "csv_id_without_coordinates.csv",
            accepted=3,
            rejected=0,
            code="warning",
            message="row 4: no coordinates: located by their community ID",
        ),
        changed(c, 2, longitude=None, latitude=None),
        c,
    )
    rows = records(c)
    for row in rows:  # neither a name nor an ID: a community cannot be found
        row.pop("name")
        row.pop("community_id")
    write_csv(
        case(
            "csv_no_name_column.csv",
            accepted=0,
            rejected=3,
            rows="2;3;4",
            code="missing_required",
            message="名称 (name) (the file has no such column)",
        ),
        rows,
        c,
    )
    write_csv(
        case(
            "csv_missing_district.csv",
            accepted=3,
            rejected=0,
            code="warning",
            message="row 3: no district given: placed in the district it lies in",
        ),
        changed(c, 1, district_name=None, district_code=None),
        c,
    )
    write_csv(
        case("csv_population_text.csv", rows="3", code="wrong_type", message="cannot read '很多' as a whole number"),
        changed(c, 1, population="很多"),
        c,
    )
    write_csv(
        case("csv_bool_word.csv", rows="4", code="wrong_type", message="cannot read '也许' as yes/no"),
        changed(c, 2, public_space_used_for_parking="也许"),
        c,
    )
    write_csv(
        case(
            "csv_fractional_households.csv", rows="2", code="wrong_type", message="cannot read '12.5' as a whole number"
        ),
        changed(c, 0, households=12.5),
        c,
    )
    write_csv(
        case(
            "csv_empty_coordinates.csv",
            rows="4",
            code="empty_geometry",
            message="longitude/latitude (经度/纬度) are empty, and there is no community ID",
        ),
        changed(c, 2, longitude=None, latitude=None, community_id=None),
        c,
    )
    write_csv(
        case("csv_bad_longitude.csv", rows="3", code="wrong_type", message="经度 (longitude): cannot read '东经109度'"),
        changed(c, 1, longitude="东经109度"),
        c,
    )
    write_csv(
        case(
            "csv_swapped.csv",
            accepted=3,
            rejected=0,
            code="warning",
            message="row 3: longitude and latitude were swapped",
        ),
        changed(c, 1, longitude=24.3194, latitude=109.5011),
        c,
    )
    write_csv(
        case("csv_outside_city.csv", rows="4", code="outside_city", message="more than 2 km outside the city"),
        changed(c, 2, longitude=108.32, latitude=22.82),
        c,
    )
    write_csv(
        case("csv_projected_as_wgs84.csv", rows="2", code="outside_city", message="are not longitude/latitude degrees"),
        changed(c, 0, longitude=500000, latitude=2690000),
        c,
    )
    write_csv(
        case("csv_duplicate_id.csv", rows="4", code="duplicate_id", message="'450202-0001' was already given on row 2"),
        changed(c, 2, community_id="450202-0001"),
        c,
    )
    write_csv(
        case(
            "csv_negative_population.csv",
            rows="3",
            code="implausible_value",
            message="人口 (population) = -5: cannot be negative",
        ),
        changed(c, 1, population=-5),
        c,
    )
    write_csv(
        case(
            "csv_negative_households.csv",
            rows="2",
            code="implausible_value",
            message="户数 (households) = -1: cannot be negative",
        ),
        changed(c, 0, households=-1),
        c,
    )
    write_csv(
        case("csv_share_above_one.csv", rows="4", code="implausible_value", message="a share must lie between 0 and 1"),
        changed(c, 2, share_60plus=18.0),
        c,
    )
    write_csv(
        case(
            "csv_shares_sum_above_one.csv",
            rows="3",
            code="implausible_value",
            message="share_60plus + share_under14 exceed 1",
        ),
        changed(c, 1, share_60plus=0.7, share_under14=0.4),
        c,
    )
    write_csv(
        case("csv_built_in_future.csv", rows="2", code="implausible_value", message="a year must lie between 1900 and"),
        changed(c, 0, built_year=2099),
        c,
    )
    write_csv(
        case("csv_built_1850.csv", rows="3", code="implausible_value", message="建成年份 (built_year) = 1850"),
        changed(c, 1, built_year=1850),
        c,
    )
    write_csv(
        case(
            "csv_negative_open_space.csv",
            rows="4",
            code="implausible_value",
            message="open_space_m2) = -10.0: cannot be negative",
        ),
        changed(c, 2, open_space_m2=-10.0),
        c,
    )
    write_csv(
        case(
            "csv_negative_land_area.csv",
            rows="2",
            code="implausible_value",
            message="land_area_m2) = -100.0: must be greater than 0",
        ),
        changed(c, 0, land_area_m2=-100.0),
        c,
    )
    write_csv(
        case(
            "csv_unknown_district.csv",
            rows="2",
            code="unknown_district",
            message="'城中' is not a district of the city; did you mean 城中区?",
        ),
        changed(c, 0, district_name="城中", district_code=None),
        c,
    )
    write_csv(
        case(
            "csv_unknown_district_code.csv",
            rows="3",
            code="unknown_district",
            message="'450299' is not a district code of the city",
        ),
        changed(c, 1, district_name=None, district_code="450299"),
        c,
    )
    write_csv(
        case(
            "csv_district_mismatch.csv",
            rows="4",
            code="district_mismatch",
            message="'城中区' has code 450202, not 450205",
        ),
        changed(c, 2, district_name="城中区"),
        c,
    )
    rows = records(c)
    for row, value in zip(rows, ("WGS84", "北京54", "wgs-84")):
        row["crs"] = value
    write_csv(
        case(
            "csv_unknown_row_crs.csv", rows="3", code="unknown_crs", message="'北京54' is not a known coordinate system"
        ),
        rows,
        c,
    )
    write_csv(
        case("csv_gbk_negative_population.csv", rows="3", code="implausible_value", message="人口 (population) = -5"),
        changed(c, 1, population=-5),
        c,
        encoding="gbk",
    )
    rows = records(c)
    for row, value in zip(rows, ("2018-09-01", "下周", "2019/1/15")):
        row["application_date"] = value
    write_csv(
        case("csv_bom_bad_date.csv", rows="3", code="wrong_type", message="cannot read '下周' as a date"),
        rows,
        c,
        encoding="utf-8-sig",
    )
    write_csv(
        case("csv_application_in_future.csv", rows="4", code="implausible_value", message="the date is in the future"),
        changed(c, 2, application_date="2099-01-01"),
        c,
    )
    path = write_csv(
        case("csv_blank_lines.csv", rows="5", code="missing_required", message="名称 (name)"),
        changed(c, 1, name=None, community_id=None),
        c,
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0], lines[1], "", ",,,,", lines[2], lines[3]]) + "\n", encoding="utf-8")
    path = case("csv_ragged_row.csv", code="error", message="cannot be read as CSV")
    write_csv(path, records(c), c)
    path.write_text(
        path.read_text(encoding="utf-8") + "x,y,z,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\n", encoding="utf-8"
    )
    case("csv_no_known_columns.csv", code="error", message="has no recognisable column").write_text(
        "foo,bar\n1,2\n", encoding="utf-8"
    )
    write_csv(
        case("csv_formula_text_in_name.csv", rows="3", code="implausible_value", message="cannot be negative"),
        changed(c, 1, name='=HYPERLINK("http://example.com","点我")', population=-1),
        c,
    )
    write_csv(
        case("csv_english_headers_missing_name.csv", rows="4", code="missing_required", message="Name (name)"),
        changed(c, 2, name=None, community_id=None),
        c,
        lang="en",
    )
    write_csv(
        case(
            "csv_name_too_long.csv",
            rows="3",
            code="text_too_long",
            message="名称: 1,001 characters, above the limit of 1,000",
        ),
        changed(c, 1, name="长" * 1001),
        c,
    )

    p = "fitness_paths"
    write_csv(
        case(
            "paths_bad_condition.csv", p, rows="3", code="invalid_value", message="'很好' is not one of good/fair/poor"
        ),
        changed(p, 1, condition="很好"),
        p,
    )
    write_csv(
        case(
            "paths_bad_funding.csv",
            p,
            rows="2",
            code="invalid_value",
            message="'众筹' is not one of city/region/lottery/developer",
        ),
        changed(p, 0, funding_source="众筹"),
        p,
    )
    write_csv(
        case("paths_negative_pieces.csv", p, rows="4", code="implausible_value", message="器材件数 (n_pieces) = -8"),
        changed(p, 2, n_pieces=-8),
        p,
    )
    write_csv(
        case(
            "paths_installed_in_future.csv",
            p,
            rows="2",
            code="implausible_value",
            message="安装年份 (install_year) = 2099",
        ),
        changed(p, 0, install_year=2099),
        p,
    )
    write_csv(
        case(
            "paths_duplicate_id.csv", p, rows="4", code="duplicate_id", message="'FP00002' was already given on row 3"
        ),
        changed(p, 2, path_id="FP00002"),
        p,
    )
    write_csv(
        case("paths_missing_id.csv", p, rows="3", code="missing_required", message="健身路径编号 (path_id)"),
        changed(p, 1, path_id=None),
        p,
    )
    write_csv(
        case(
            "paths_no_coordinates.csv",
            p,
            rows="2",
            code="empty_geometry",
            message="empty geometry: longitude/latitude (经度/纬度) are empty",
        ),
        changed(p, 0, longitude=None, latitude=None),
        p,
    )


def build_geojson_cases():
    c = "communities"
    rows = records(c)
    x, y = rows[1]["longitude"], rows[1]["latitude"]
    polygons = [_square(row["longitude"], row["latitude"]) for row in rows]

    def features(geometries, without_id=()):
        return [
            ({**_properties(row, c), **({"community_id": None} if i in without_id else {})}, geometry)
            for i, (row, geometry) in enumerate(zip(rows, geometries))
        ]

    bowtie = [
        [x - 0.001, y - 0.001],
        [x + 0.001, y + 0.001],
        [x + 0.001, y - 0.001],
        [x - 0.001, y + 0.001],
        [x - 0.001, y - 0.001],
    ]
    write_geojson(
        case("geojson_bowtie.geojson", rows="2", code="invalid_geometry", message="invalid polygon (Self-intersection"),
        features(
            [
                {"type": "Polygon", "coordinates": [polygons[0]]},
                {"type": "Polygon", "coordinates": [bowtie]},
                {"type": "Polygon", "coordinates": [polygons[2]]},
            ]
        ),
    )
    spike = [
        [x - 0.001, y - 0.001],
        [x + 0.001, y - 0.001],
        [x + 0.001, y + 0.001],
        [x, y + 0.001],
        [x, y + 0.002],
        [x, y + 0.001],
        [x - 0.001, y + 0.001],
        [x - 0.001, y - 0.001],
    ]
    write_geojson(
        case(
            "geojson_spike_repaired.geojson",
            accepted=3,
            rejected=0,
            repaired=1,
            code="repaired",
            message="feature 2: invalid polygon repaired",
        ),
        features(
            [
                {"type": "Polygon", "coordinates": [polygons[0]]},
                {"type": "Polygon", "coordinates": [spike]},
                {"type": "Polygon", "coordinates": [polygons[2]]},
            ]
        ),
    )
    write_geojson(
        case(
            "geojson_line_among_polygons.geojson",
            rows="3",
            code="geometry_type",
            message="a LineString, but communities must be Polygon or MultiPolygon or Point",
        ),
        features(
            [
                {"type": "Polygon", "coordinates": [polygons[0]]},
                {"type": "Polygon", "coordinates": [polygons[1]]},
                {"type": "LineString", "coordinates": polygons[2][:2]},
            ]
        ),
    )
    write_geojson(
        case(
            "geojson_null_geometry.geojson",
            rows="1",
            code="empty_geometry",
            message="the feature has no geometry, and there is no community ID",
        ),
        features(
            [
                None,
                {"type": "Polygon", "coordinates": [polygons[1]]},
                {"type": "Polygon", "coordinates": [polygons[2]]},
            ],
            without_id=(0,),
        ),
    )
    write_geojson(
        case("geojson_empty_polygon.geojson", rows="2", code="empty_geometry", message="the feature has no geometry"),
        features(
            [
                {"type": "Polygon", "coordinates": [polygons[0]]},
                {"type": "Polygon", "coordinates": []},
                {"type": "Polygon", "coordinates": [polygons[2]]},
            ],
            without_id=(1,),
        ),
    )
    write_geojson(
        case("geojson_polygon_in_beijing.geojson", rows="3", code="outside_city", message="(116.39"),
        features(
            [
                {"type": "Polygon", "coordinates": [polygons[0]]},
                {"type": "Polygon", "coordinates": [polygons[1]]},
                {"type": "Polygon", "coordinates": [_square(116.4, 39.9)]},
            ]
        ),
    )
    swapped = [[b, a] for a, b in polygons[1]]
    write_geojson(
        case(
            "geojson_swapped_polygon.geojson",
            accepted=3,
            rejected=0,
            code="warning",
            message="feature 2: longitude and latitude were swapped",
        ),
        features(
            [
                {"type": "Polygon", "coordinates": [polygons[0]]},
                {"type": "Polygon", "coordinates": [swapped]},
                {"type": "Polygon", "coordinates": [polygons[2]]},
            ]
        ),
    )
    case("binary.geojson", code="error", message="extension .geojson but its content is not geojson").write_bytes(
        bytes(range(256)) * 4
    )
    case("geojson_truncated.geojson", code="error", message="cannot be read as GeoJSON").write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"community_id": ',
        encoding="utf-8",
    )


def build_gpkg_cases():
    c, p = "communities", "fitness_paths"
    rows = records(p)
    rows[1]["geometry"] = box(109.45, 24.29, 109.451, 24.291)
    write_geodata(
        case(
            "gpkg_polygon_among_points.gpkg",
            p,
            rows="2",
            code="geometry_type",
            message="a Polygon, but fitness_paths must be Point",
        ),
        frame(rows, p),
        "GPKG",
        "fitness_paths",
    )
    write_geodata(
        case(
            "gpkg_utm_declared_gcj02.gpkg",
            accepted=3,
            rejected=0,
            crs="gcj02",
            code="warning",
            message="the file's own coordinate system (EPSG:32649, from its .prj or header) is used; the "
            "declared gcj02 is ignored",
        ),
        frame(records(c), c, "polygon", crs="EPSG:32649"),
        "GPKG",
        "communities",
    )
    write_geodata(
        case("gpkg_duplicate_id.gpkg", rows="3", code="duplicate_id", message="was already given on feature 1"),
        frame(changed(c, 2, community_id="450202-0001"), c, "polygon"),
        "GPKG",
        "communities",
    )
    case("fake.gpkg", code="error", message="extension .gpkg but its content is not gpkg").write_text(
        "community_id,name\nC1,x\n", encoding="utf-8"
    )


def build_zip_cases():
    c, p = "communities", "fitness_paths"
    write_shapefile_zip(
        case(
            "shp_gbk_no_cpg_unknown_district.zip",
            rows="2",
            code="unknown_district",
            message="'鱼峰' is not a district of the city; did you mean 鱼峰区?",
        ),
        frame(changed(c, 1, district_name="鱼峰", district_code=None), c, "polygon"),
        encoding="GBK",
        cpg=False,
    )
    write_shapefile_zip(
        case(
            "shp_utm_prj_declared_gcj02.zip",
            accepted=3,
            rejected=0,
            crs="gcj02",
            code="warning",
            message="the file's own coordinate system (EPSG:32649",
        ),
        frame(records(c), c, "polygon", crs="EPSG:32649"),
    )
    good = {"layer.shp": b"\x00\x00\x27\x0a" + b"\x00" * 96, "layer.shx": b"", "layer.dbf": b""}
    write_zip(
        case("zip_path_traversal.zip", code="error", message="leaves the archive's folder ('../evil.shp'"),
        {"../evil.shp": good["layer.shp"], "../evil.shx": b"", "../evil.dbf": b""},
    )
    write_zip(
        case("zip_absolute_path.zip", code="error", message="leaves the archive's folder ('/tmp/evil.shp'"),
        {"/tmp/evil.shp": good["layer.shp"], "/tmp/evil.shx": b"", "/tmp/evil.dbf": b""},
    )
    write_zip(
        case("zip_bomb.zip", code="error", message="times its compressed size (limit 100×)"),
        {**good, "layer.dbf": b"\x00" * (8 << 20)},
    )
    write_shapefile_zip(
        case(
            "zip_over_unzipped_limit.zip",
            code="error",
            max_unzipped_mb="0.0005",
            message="above the limit of 0.0005 MB",
        ),
        frame(records(p), p),
    )
    write_zip(
        case("zip_without_shapefile.zip", code="error", message="zip without a .shp file"),
        {"readme.txt": "说明".encode()},
    )
    write_shapefile_zip(
        case(
            "csv_really_zip.csv",
            p,
            code="warning",
            rows="2",
            message="has the extension .csv but holds a zipped Shapefile",
        ),
        frame(changed(p, 1, path_id=None), p),
    )
    case("bare.shp", code="error", message="bare Shapefile").write_bytes(good["layer.shp"])


def build_kml_cases():
    p = "fitness_paths"
    write_geodata(
        case("kml_bad_condition.kml", p, rows="1", code="invalid_value", message="'很好' is not one of"),
        frame(changed(p, 0, condition="很好"), p),
        "KML",
    )
    rows = records(p)
    rows[2]["geometry"] = box(109.38, 24.35, 109.381, 24.351)
    write_geodata(
        case(
            "kml_polygon_path.kml",
            p,
            rows="3",
            code="geometry_type",
            message="a Polygon, but fitness_paths must be Point",
        ),
        frame(rows, p),
        "KML",
    )
    path = case("kml_truncated.kml", p, code="error", message="cannot be read as KML")
    write_geodata(path, frame(records(p), p), "KML")
    path.write_bytes(path.read_bytes()[:600])


def build_xlsx_cases():
    c, p = "communities", "fitness_paths"
    write_xlsx(
        case(
            "xlsx_formula_cell.xlsx",
            rows="3",
            code="formula",
            message="人口 (population): holds a formula without a stored result",
        ),
        changed(c, 1, population="=1000*3"),
        c,
    )
    write_xlsx(
        case(
            "xlsx_template_bad_share.xlsx",
            rows="4",
            code="implausible_value",
            message="60岁以上占比 (share_60plus) = 1.8",
        ),
        changed(c, 2, share_60plus=1.8),
        c,
        other_sheets={"填表说明": [["请在“小区调查”表中填写"], ["每个小区一行"]]},
    )
    write_xlsx(
        case("xlsx_english_missing_name.xlsx", rows="2", code="missing_required", message="Name (name)"),
        changed(c, 0, name=None, community_id=None),
        c,
        lang="en",
        sheet="Communities",
    )
    write_xlsx(
        case(
            "xlsx_title_rows_bad_population.xlsx",
            rows="6",
            code="wrong_type",
            message="cannot read '约2000' as a whole number",
        ),
        changed(c, 1, population="约2000"),
        c,
        title_rows=[["柳州市小区健身设施调查表"], [], ["填表单位：城中区体育局"]],
    )
    book = openpyxl.Workbook()
    book.active.append(["这里", "没有", "表头"])
    book.active.append([1, 2, 3])
    book.save(case("xlsx_no_headers.xlsx", code="error", message="no sheet has recognisable column headers"))
    write_xlsx(
        case("xlsx_paths_bad_funding.xlsx", p, rows="3", code="invalid_value", message="'众筹' is not one of"),
        changed(p, 1, funding_source="众筹"),
        p,
        sheet="健身路径调查",
    )
    case("legacy.xls", code="error", message="old-style Excel .xls").write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    )


def build_misc_cases():
    c = "communities"
    case("empty.csv", code="error", message="is empty").write_bytes(b"")
    write_csv(
        case("oversize.csv", code="error", max_upload_mb="0.0001", message="above the upload limit of 0.0001 MB"),
        records(c),
        c,
    )
    case("utf16.csv", code="error", message="not in a supported format").write_bytes(
        "小区编号,名称\nC1,x\n".encode("utf-16")
    )


def main() -> None:
    for old in HERE.iterdir():
        if old.name not in ("make_corpus.py", "__pycache__") and old.is_file():
            old.unlink()
    build_csv_cases()
    build_geojson_cases()
    build_gpkg_cases()
    build_zip_cases()
    build_kml_cases()
    build_xlsx_cases()
    build_misc_cases()
    pd.DataFrame(CORPUS).to_csv(HERE / "expected.csv", index=False, encoding="utf-8")
    print(f"wrote {len(CORPUS)} corpus files and expected.csv to {HERE}")


if __name__ == "__main__":
    main()
