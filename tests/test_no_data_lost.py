"""No data lost, anywhere (issue 13): a merged district return keeps the city's applications and adds its own,
and every operation that writes a city file gives back every layer and table that went in, row for row."""

from __future__ import annotations

import io
import shutil

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from openpyxl import load_workbook
from shapely.geometry import Point, box

from geo.analysis.coverage import community_coverage
from geo.config import DEFAULT_DATA_PATH, load_config
from geo.data.identity import CityIdentity
from geo.data.io import gpkg_layers, write_layers
from geo.intake.assemble import assemble_city
from geo.intake.importer import import_file, write_accepted
from geo.intake.newcity import NewCity, write_city
from geo.intake.template import survey_headers, survey_template_bytes
from geo.pipeline import load_city
from geo.plan import run_plan, score_covered

# --------------------------------------------------------------------------- the merge that dropped applications


def _survey_return(path, rows: list[dict], districts) -> None:
    """The survey template (as the data page offers it) filled with ``rows`` (header → value)."""
    book = load_workbook(io.BytesIO(survey_template_bytes(districts)))
    sheet = book.worksheets[0]
    headers = survey_headers("zh")
    for row in rows:
        sheet.append([row.get(header) for header in headers])
    book.save(path)


@pytest.fixture(scope="module")
def sample():
    return load_city(DEFAULT_DATA_PATH)


def _scored(city):
    config = load_config()
    covered = community_coverage(city.communities, city.fitness_paths, config.walk_radius_m)
    return score_covered(covered, config, city.applications)


def _city_programme_applicants(city) -> int:
    plan = run_plan(city.communities, city.fitness_paths, load_config(), ["city"], "rank", city.applications)
    return int(plan.outcomes[0].selected["applied"].sum())


def test_a_merged_district_return_keeps_the_citys_applications_and_adds_its_own(sample, tmp_path):
    # 柳南区 returns 20 of its communities through the survey template: 10 that applied, 10 that did not.
    # One that had not applied gives a date (a new application); one that had gives an earlier date than
    # the city holds (kept: the earlier wins), one a later date (already held: not added again).
    communities, table = sample.communities, sample.applications
    liunan = communities[communities["district_name"] == "柳南区"]
    applied = liunan[liunan["community_id"].isin(set(table["community_id"]))].head(10)
    not_applied = liunan[~liunan["community_id"].isin(set(table["community_id"]))].head(10)
    returned = pd.concat([applied, not_applied])
    first_held = table.set_index("community_id")["application_date"]
    dates = {
        not_applied["community_id"].iloc[0]: "2024-05-01",
        applied["community_id"].iloc[0]: "2017-01-02",
        applied["community_id"].iloc[1]: (first_held[applied["community_id"].iloc[1]] + pd.Timedelta(days=30)).date(),
    }
    points = returned.geometry.representative_point()
    rows = [
        {
            "小区编号": row.community_id,
            "名称": row["name"],
            "区县": "柳南区",
            "经度": points[index].x,
            "纬度": points[index].y,
            "坐标系": "WGS84",
            "人口": int(row.population),
            "申请日期": str(dates[row.community_id]) if row.community_id in dates else None,
        }
        for index, row in returned.iterrows()
    ]
    survey = tmp_path / "柳南区调查表.xlsx"
    _survey_return(survey, rows, sample.districts)

    # The page's path: import, assemble in merge mode, write, read back as every page does.
    upload = import_file(survey, "communities", "wgs84", load_config(), sample.districts, display_name=survey.name)
    assert len(upload.accepted) == 20
    assembled = assemble_city(sample, upload, "merge", source=survey.name)
    target = tmp_path / "uploaded_city_1.gpkg"
    write_layers(target, assembled.layers)
    merged = load_city(target)

    summary = assembled.summary()
    assert (summary["applications_before"], summary["applications_from_return"]) == (125, 2)
    assert (summary["applications_after"], summary["applications_unmatched"]) == (127, 0)
    kept = merged.applications.iloc[: len(table)].reset_index(drop=True)  # the city's rows, unchanged, first
    pd.testing.assert_frame_equal(kept[list(table.columns)], table, check_dtype=False)
    added = merged.applications.iloc[len(table) :]
    assert sorted(zip(added["community_id"], added["application_date"].dt.strftime("%Y-%m-%d"))) == sorted(
        [(not_applied["community_id"].iloc[0], "2024-05-01"), (applied["community_id"].iloc[0], "2017-01-02")]
    )

    before, after = _scored(sample), _scored(merged)
    in_liunan = (before["district_name"] == "柳南区").to_numpy()
    assert before["applied"].to_numpy()[in_liunan].sum() == 35  # the figures on the sample
    assert before["needs_land_solution"].to_numpy()[in_liunan].sum() == 16
    assert after["applied"].to_numpy()[in_liunan].sum() == 36  # was 1 when the table was lost
    new_one = (after["community_id"] == not_applied["community_id"].iloc[0]).to_numpy()
    assert after["needs_land_solution"].to_numpy()[in_liunan & ~new_one].sum() == 16  # was 0
    earliest = after.set_index("community_id")["application_date"]
    assert earliest[applied["community_id"].iloc[0]] == pd.Timestamp("2017-01-02")
    assert earliest[applied["community_id"].iloc[1]] == first_held[applied["community_id"].iloc[1]]
    # Every other community's application is exactly as before.
    others = ~np.isin(after["community_id"], list(dates))
    as_ns = "datetime64[ns]"
    pd.testing.assert_series_equal(
        after["application_date"][others].astype(as_ns), before["application_date"][others].astype(as_ns)
    )
    # 11 of the city programme's 12 sets go to applicants (12 before the land-less component weighed 15).
    assert _city_programme_applicants(merged) >= _city_programme_applicants(sample) == 11  # was 1


def test_a_return_whose_rows_disagree_on_a_date_adds_the_earliest_once(sample):
    one = sample.communities.iloc[[0, 0]].copy()
    one["application_date"] = pd.to_datetime(["2024-06-01", "2024-03-01"])
    one["geometry_approximate"] = pd.array([False, False], dtype="boolean")
    assembled = assemble_city(sample, one.reset_index(drop=True), "merge")
    table = assembled.layers["applications"]
    assert len(table) == len(sample.applications) + 1
    assert table.iloc[-1]["community_id"] == one["community_id"].iloc[0]
    assert table.iloc[-1]["application_date"] == pd.Timestamp("2024-03-01")
    # The merge still lists the disagreement for someone to resolve.
    assert (assembled.conflicts["column"] == "application_date").sum() == 1


# --------------------------------------------------------------------------- every operation that writes a city


def _square(x: float, y: float = 24.30, size: float = 0.002):
    return box(109.40 + x, y, 109.40 + x + size, y + size)


def _city_file(path) -> dict:
    """A small city with every kind of layer a city file holds; written to ``path``; returns the layers."""
    districts = gpd.GeoDataFrame(
        {
            "district_code": ["450202"],
            "district_name": ["城中区"],
            "district_name_en": ["Chengzhong"],
            "kind": ["district"],
        },
        geometry=[shapely.MultiPolygon([box(109.39, 24.29, 109.46, 24.32)])],
        crs="EPSG:4326",
    )
    communities = gpd.GeoDataFrame(
        {
            "community_id": pd.array(["450202-0001", "450202-0002", "450202-0003"], dtype="string"),
            "name": pd.array(["阳光花园", "ABC小区", "柳江新村"], dtype="string"),
            "district_code": pd.array(["450202"] * 3, dtype="string"),
            "district_name": pd.array(["城中区"] * 3, dtype="string"),
            "built_year": pd.array([1995, 2004, None], dtype="Int64"),
            "households": pd.array([400, 320, 210], dtype="Int64"),
            "population": pd.array([1000, 800, 500], dtype="Int64"),
            "share_60plus": [0.22, 0.15, 0.31],
            "share_under14": [0.12, 0.1, 0.08],
            "open_space_m2": [600.0, np.nan, 150.0],
            "public_space_used_for_parking": pd.array([False, True, None], dtype="boolean"),
            "sports_land_planned": pd.array([False, False, True], dtype="boolean"),
        },
        geometry=[shapely.MultiPolygon([_square(x)]) for x in (0.0, 0.01, 0.02)],
        crs="EPSG:4326",
    )
    fitness_paths = gpd.GeoDataFrame(
        {
            "path_id": pd.array(["FP1", "FP2"], dtype="string"),
            "name": pd.array(["一号", "二号"], dtype="string"),
        },
        geometry=[Point(109.4005, 24.3005), Point(109.4205, 24.3005)],
        crs="EPSG:4326",
    )
    applications = pd.DataFrame(
        {
            "community_id": pd.array(["450202-0001", "450202-0003"], dtype="string"),
            "application_date": pd.to_datetime(["2019-03-01", "2020-05-02"]),
        }
    )
    schools = gpd.GeoDataFrame(
        {"school": pd.array(["一中", "二小"], dtype="string")},
        geometry=[Point(109.401, 24.301), Point(109.43, 24.31)],
        crs="EPSG:4326",
    )
    notes = pd.DataFrame({"note": pd.array(["{{ 6*7 }}", "=1+2", "备注"], dtype="string"), "n": [1, 2, 3]})
    layers = {
        "districts": districts,
        "communities": communities,
        "fitness_paths": fitness_paths,
        "applications": applications,
        "city": CityIdentity("测试市", "Test City", "测试市体育局", contact_zh=("电话 0772-1234567",)).table(),
        "schools": schools,
        "notes": notes,
    }
    write_layers(path, layers)
    return layers


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as plain Python objects (missing → None, dates → ISO day, geometry → normalised WKT to 1e-9°)."""
    out = {}
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, gpd.array.GeometryDtype):
            shapes = shapely.normalize(shapely.set_precision(values.to_numpy(), 1e-9))
            out[column] = [None if g is None else shapely.to_wkt(g, rounding_precision=9) for g in shapes]
        elif pd.api.types.is_datetime64_any_dtype(values):
            out[column] = [None if pd.isna(v) else v.strftime("%Y-%m-%d") for v in values]
        else:
            out[column] = [None if pd.isna(v) else (round(float(v), 9) if isinstance(v, float) else v) for v in values]
            out[column] = [v.item() if isinstance(v, np.generic) else v for v in out[column]]
    return pd.DataFrame(out, dtype=object)


def _read_every_layer(path) -> dict:
    layers = {}
    for name in gpkg_layers(path):
        info = pyogrio.read_info(path, layer=name)
        layers[name] = pyogrio.read_dataframe(path, layer=name, read_geometry=info["geometry_type"] is not None)
    return layers


# Columns an operation may add to a layer with a value, and the value every original row then gets; any other
# column added must be empty (the readers add the schema's columns a file lacks).
ADDED = {"communities": {"geometry_approximate": False}}


def _assert_every_layer_kept(before: dict, path) -> None:
    after = _read_every_layer(path)
    assert set(before) <= set(after), f"layers lost: {sorted(set(before) - set(after))}"
    for name, frame in before.items():
        written = after[name]
        assert len(written) == len(frame), f"{name}: {len(frame)} rows in, {len(written)} out"
        for column in set(written.columns) - set(frame.columns):  # a reader's schema column: nothing in it
            assert column in ADDED.get(name, {}) or written[column].isna().all(), f"{name}: column {column} added"
        missing = set(frame.columns) - set(written.columns)
        assert not missing, f"{name}: columns lost {sorted(missing)}"
        pd.testing.assert_frame_equal(
            _comparable(written[list(frame.columns)]), _comparable(frame), check_dtype=False, obj=name
        )
        for column, value in ADDED.get(name, {}).items():
            if column in written.columns and column not in frame.columns:
                assert (written[column].astype(object) == value).all(), f"{name}.{column}"


def _replace(source, out):  # the city's communities and fitness paths uploaded as the city's data
    city = load_city(source)
    upload = import_file(source, "communities", "wgs84", districts=city.districts)
    paths = import_file(source, "fitness_paths", "wgs84", districts=city.districts)
    write_layers(out, assemble_city(city, upload, "replace", fitness_paths=paths, source=source.name).layers)


def _merge(source, out):
    city = load_city(source)
    upload = import_file(source, "communities", "wgs84", districts=city.districts)  # a return of the same rows
    write_layers(out, assemble_city(city, upload, "merge", source=source.name).layers)


def _import_into(source, out):
    shutil.copyfile(source, out)
    write_accepted(import_file(source, "communities", "wgs84", districts=load_city(source).districts), out)


def _write_layers(source, out):
    city = load_city(source)
    layers = {"districts": city.districts, "communities": city.communities, "fitness_paths": city.fitness_paths}
    write_layers(out, {**layers, "applications": city.applications, **city.other_layers})


def _write_city(source, out):  # geo city init and the new-city page both save through write_city
    city = load_city(source)
    write_city(NewCity(city, CityIdentity.from_table(city.other_layers["city"]), {}, "file", {}), out)


OPERATIONS = [_replace, _merge, _import_into, _write_layers, _write_city]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda f: f.__name__.strip("_"))
def test_every_operation_that_writes_a_city_keeps_every_layer_row_for_row(operation, tmp_path):
    source = tmp_path / "city.gpkg"
    before = _city_file(source)
    out = tmp_path / "out.gpkg"
    operation(source, out)
    _assert_every_layer_kept(before, out)


@pytest.mark.parametrize(
    "operation",
    OPERATIONS,
    ids=lambda f: f.__name__.strip("_"),
)
def test_a_city_file_written_by_the_intake_keeps_its_approximate_footprints(operation, tmp_path):
    """Read back (replace, merge, import into), a file's own flag is kept, ORed with the importer's."""
    # A city file our intake wrote: one community's outline is the square made from a surveyed point.
    source = tmp_path / "city.gpkg"
    layers = _city_file(source)
    layers["communities"]["geometry_approximate"] = pd.array([False, True, False], dtype="boolean")
    write_layers(source, layers)
    out = tmp_path / "out.gpkg"
    operation(source, out)
    _assert_every_layer_kept(layers, out)
