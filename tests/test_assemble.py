"""Tests for geo.intake.assemble: the city written after an upload keeps every row and every table that went in."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from shapely.geometry import Point

from geo.config import DEFAULT_DATA_PATH, load_config
from geo.data.io import gpkg_layers, write_layers
from geo.data.schema import FITNESS_PATH_COLUMNS
from geo.intake.assemble import assemble_city
from geo.intake.importer import import_file
from geo.pipeline import load_city
from geo.plan import run_plan
from tests.handmade_city import FIVE_KM, applications, community, current_city, frame, imported, square


def by_id(communities: gpd.GeoDataFrame, community_id: str) -> pd.Series:
    return communities.set_index("community_id").loc[community_id]


# --------------------------------------------------------------------------- the reproduced bug (issue 10)


@pytest.mark.parametrize(
    "ids, kind",
    [
        (["450202-7001", "450202-7002"], "same_name_different_id"),
        ([None, None], "same_name_different_place"),
    ],
)
def test_two_new_communities_with_one_name_far_apart_are_both_written(ids, kind):
    upload = imported(
        [
            community(ids[0], "新苑", square(0.1), population=300),
            community(ids[1], "新苑", square(0.1 + FIVE_KM), population=500),
        ]
    )
    result = assemble_city(current_city(), upload, "merge", source="城中区.xlsx")

    written = result.communities
    assert len(written) == 5 and written.geometry.notna().all()
    new = written.iloc[3:]
    assert new.geometry.tolist() == [square(0.1), square(0.1 + FIVE_KM)]
    assert new["population"].tolist() == [300, 500]
    expected_ids = ids if ids[0] else ["450202-N0001", "450202-N0002"]
    assert new["community_id"].tolist() == expected_ids
    assert result.conflicts["kind"].tolist() == [kind, kind]
    assert result.conflicts["rows"].tolist() == [[2], [3]]  # the survey's sheet rows
    assert result.unplaced.empty
    assert result.summary()["communities_added"] == 2


# --------------------------------------------------------------------------- rows without coordinates


def test_an_id_only_replace_takes_the_city_outline_and_says_so():
    upload = imported(
        [
            community("450202-0001", "阳光花园", population=1200),  # no coordinates
            community("450202-0002", "ABC小区", population=900),
            community(None, "新苑", square(0.1), population=300),
        ]
    )
    result = assemble_city(current_city(), upload, "replace")

    written = result.communities
    assert written["community_id"].tolist() == ["450202-0001", "450202-0002", "450202-N0001"]
    assert written.geometry.tolist() == [square(0), square(0.01), square(0.1)]
    assert written["population"].tolist() == [1200, 900, 300]  # the upload's values, the city's outlines
    assert result.located.values.tolist() == [[2, "450202-0001", "阳光花园", "id"], [3, "450202-0002", "ABC小区", "id"]]
    assert result.unplaced.empty
    summary = result.summary()
    assert (summary["rows_located"], summary["rows_placed"], summary["communities_after"]) == (2, 3, 3)


def test_an_id_only_replace_writes_the_id_as_the_city_spells_it():
    upload = imported([community("４５０２０２－０００２ ", "ABC小区", population=900)])  # full-width, a space
    result = assemble_city(current_city(), upload, "replace")
    assert result.communities["community_id"].tolist() == ["450202-0002"]
    assert result.communities.geometry.tolist() == [square(0.01)]
    assert result.layers["applications"]["community_id"].tolist() == ["450202-0002"]


def test_an_id_only_merge_keeps_the_city_outline():
    upload = imported([community("450202-0001", "阳光花园", population=1200)])
    result = assemble_city(current_city(), upload, "merge")
    assert by_id(result.communities, "450202-0001").geometry.equals(square(0))
    assert by_id(result.communities, "450202-0001")["population"] == 1200
    assert result.located.values.tolist() == [[2, "450202-0001", "阳光花园", "id"]]


@pytest.mark.parametrize("mode", ["replace", "merge"])
def test_a_row_naming_an_unknown_id_without_coordinates_is_reported_not_written(mode):
    upload = imported(
        [
            community("450202-0001", "阳光花园", square(0), population=1000),
            community("450202-9999", "无坐标小区", population=50),
            community(None, "无名小区", population=5),
        ],
        sheet_rows=[4, 7, 8],
    )
    result = assemble_city(current_city(), upload, mode, source="城中区.xlsx")

    assert not {"无坐标小区", "无名小区"} & set(result.communities["name"])
    assert result.communities.geometry.notna().all()
    assert result.unplaced[["source", "row", "community_id", "reason_code"]].values.tolist() == [
        ["城中区.xlsx", 7, "450202-9999", "unknown_id"],
        ["城中区.xlsx", 8, None, "no_place"],
    ]
    unplaced = result.unplaced.iloc[0]
    assert "经度/纬度" in unplaced["reason_zh"] and "longitude/latitude" in unplaced["reason_en"]
    assert result.summary()["rows_unplaced"] == 2 and result.summary()["rows_placed"] == 1


def test_a_row_that_fits_two_communities_is_reported_with_its_sheet_row():
    base = current_city()
    base.communities.loc[1, "name"] = "阳光花园"  # two communities of 城中区 named 阳光花园
    result = assemble_city(base, imported([community(None, "阳光花园", population=5)], sheet_rows=[12]), "merge")
    assert result.unplaced[["row", "reason_code"]].values.tolist() == [[12, "ambiguous_match"]]
    assert result.conflicts[["kind", "rows", "city_value"]].values.tolist() == [
        ["ambiguous_match", [12], ["450202-0001", "450202-0002"]]
    ]
    assert result.communities["population"].tolist() == [1000, 800, 500]


def test_a_city_community_without_outline_is_listed_not_written():
    base = current_city()
    base.communities.loc[2, "geometry"] = None  # 柳江新村 has no outline in the current city
    upload = imported([community("450202-0003", "柳江新村", population=520)], sheet_rows=[6])
    result = assemble_city(base, upload, "merge")
    assert result.communities["community_id"].tolist() == ["450202-0001", "450202-0002"]
    assert result.unplaced[["row", "community_id", "reason_code"]].astype(object).values.tolist() == [
        [6, "450202-0003", "city_without_geometry"],
        [pd.NA, "450202-0003", "city_without_geometry"],
    ]
    assert result.summary()["communities_dropped"] == 1


# --------------------------------------------------------------------------- every table kept


@pytest.mark.parametrize("mode", ["replace", "merge"])
def test_applications_are_kept(mode):
    upload = imported(
        [community("450202-0001", "阳光花园", population=1200), community("450202-0002", "ABC小区", population=900)]
    )
    result = assemble_city(current_city(), upload, mode)
    pd.testing.assert_frame_equal(result.layers["applications"], applications())
    assert "applications_unmatched" not in result.layers
    summary = result.summary()
    assert (summary["applications_before"], summary["applications_after"], summary["applications_unmatched"]) == (
        2,
        2,
        0,
    )


def test_an_application_whose_community_a_replace_left_out_is_kept_aside_and_comes_back():
    # The plan refuses applications naming unknown communities; none may be lost either.
    only_first = imported([community("450202-0001", "阳光花园", population=1200)])
    first = assemble_city(current_city(), only_first, "replace")
    assert first.layers["applications"]["community_id"].tolist() == ["450202-0001"]
    assert first.layers["applications_unmatched"]["community_id"].tolist() == ["450202-0002"]
    assert (first.summary()["applications_after"], first.summary()["applications_unmatched"]) == (2, 1)

    both = imported(
        [
            community("450202-0001", "阳光花园", square(0), population=1200),
            community("450202-0002", "ABC小区", square(0.01), population=900),
        ]
    )
    second = assemble_city(first.layers, both, "replace")
    assert sorted(second.layers["applications"]["community_id"]) == ["450202-0001", "450202-0002"]
    assert second.layers["applications_unmatched"].empty


def test_other_layers_are_written_unchanged(tmp_path):
    city = current_city()
    notes = pd.DataFrame({"note": pd.array(["{{ 6*7 }}", "=1+2"], dtype="string")})
    layers = {
        "districts": city.districts,
        "communities": city.communities,
        "fitness_paths": city.fitness_paths,
        "applications": city.applications,
        "notes": notes,
    }
    result = assemble_city(layers, imported([community(None, "新苑", square(0.1), population=300)]), "merge")
    assert list(result.layers) == ["districts", "communities", "fitness_paths", "applications", "notes"]
    assert result.layers["notes"] is notes and result.layers["districts"] is city.districts

    target = tmp_path / "city.gpkg"
    write_layers(target, result.layers)
    assert gpkg_layers(target) == ["districts", "communities", "fitness_paths", "applications", "notes"]
    assert pyogrio.read_dataframe(target, layer="notes", read_geometry=False)["note"].tolist() == ["{{ 6*7 }}", "=1+2"]


# --------------------------------------------------------------------------- fitness paths


def test_merge_adds_survey_sets_with_final_ids_and_a_paths_file_supersedes_by_path_id():
    upload = imported([community(None, "新苑", square(0.1), population=300, existing_sets=2)])
    paths_file = frame(
        [{"path_id": "FP1", "name": "一号（更新）", "n_pieces": 12, "geometry": Point(109.4006, 24.3006)}],
        FITNESS_PATH_COLUMNS,
    )
    result = assemble_city(current_city(), upload, "merge", fitness_paths=paths_file)

    paths = result.fitness_paths
    assert paths["path_id"].tolist() == ["FP2", "450202-N0001-S1", "450202-N0001-S2", "FP1"]
    assert paths.set_index("path_id").loc["FP1", "n_pieces"] == 12
    assert all(square(0.1).contains(point) for point in paths.geometry.iloc[1:3])
    summary = result.summary()
    assert (
        summary["fitness_paths_before"],
        summary["fitness_paths_after"],
        summary["fitness_paths_from_survey"],
        summary["fitness_paths_superseded"],
    ) == (2, 4, 2, 1)


def test_replace_makes_the_upload_the_city_paths_and_counts_those_replaced():
    upload = imported([community("450202-0001", "阳光花园", population=1200, existing_sets=1)])
    result = assemble_city(current_city(), upload, "replace")
    assert result.fitness_paths["path_id"].tolist() == ["450202-0001-S1"]
    assert square(0).contains(result.fitness_paths.geometry.iloc[0])  # placed in the city's outline
    assert result.summary()["fitness_paths_replaced"] == 2


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="replace, merge"):
        assemble_city(current_city(), imported([]), "append")


# --------------------------------------------------------------------------- round trip on the sample city

SURVEY = """小区编号,名称,区县,经度,纬度,人口,已有健身路径（套）
450202-0001,新府公寓,城中区,,,1300,
450202-9999,无坐标小区,城中区,,,50,
,新苑,城中区,109.4172,24.3195,300,1
,新苑,城中区,109.4672,24.3195,500,
"""


@pytest.mark.parametrize("mode", ["replace", "merge"])
def test_the_assembled_city_is_written_read_and_planned(mode, tmp_path):
    survey = tmp_path / "survey.csv"
    survey.write_text(SURVEY, encoding="utf-8")
    upload = import_file(survey, "communities")
    current = load_city(DEFAULT_DATA_PATH)
    result = assemble_city(current, upload, mode, source=survey.name)

    target = tmp_path / "city.gpkg"
    write_layers(target, result.layers)
    city = load_city(target)
    assert len(city.communities) == len(result.communities) == (3 if mode == "replace" else 2502)
    assert city.communities.geometry.notna().all()
    assert len(city.applications) + result.summary()["applications_unmatched"] == len(current.applications)
    new = city.communities[city.communities["name"] == "新苑"]
    assert len(new) == 2 and new.geometry.iloc[0].distance(new.geometry.iloc[1]) > 0.04  # 5 km apart
    located = city.communities.set_index("community_id").loc["450202-0001"]
    assert located.geometry.equals(current.communities.set_index("community_id").geometry["450202-0001"])
    assert result.unplaced[["row", "reason_code"]].values.tolist() == [[3, "unknown_id"]]

    plan = run_plan(city.communities, city.fitness_paths, load_config(), ["city"], "rank", city.applications)
    scored = plan.outcomes[0].scored
    assert len(scored) == len(city.communities)
    assert (scored["name"] == "新苑").sum() == 2


def test_a_city_files_extra_layers_survive_load_assemble_write_load(tmp_path):
    """What the app does: load_city of the file in use, assemble an upload, write, load again."""
    from geo.pipeline import load_city

    city = current_city()
    notes = pd.DataFrame({"note": pd.array(["巡查记录 {{ 6*7 }}", "=1+2"], dtype="string")})
    sites = gpd.GeoDataFrame({"site": ["广场"]}, geometry=[Point(109.4006, 24.3006)], crs="EPSG:4326")
    source = tmp_path / "city.gpkg"
    write_layers(
        source,
        {
            "districts": city.districts,
            "communities": city.communities,
            "fitness_paths": city.fitness_paths,
            "applications": city.applications,
            "inspections": notes,
            "parks_survey": sites,
        },
    )
    loaded = load_city(source)
    assert sorted(loaded.other_layers) == ["inspections", "parks_survey"]
    result = assemble_city(loaded, imported([community(None, "新苑", square(0.1), population=300)]), "merge")
    target = tmp_path / "after.gpkg"
    write_layers(target, result.layers)
    again = load_city(target)
    assert again.other_layers["inspections"]["note"].tolist() == ["巡查记录 {{ 6*7 }}", "=1+2"]
    assert again.other_layers["parks_survey"]["site"].tolist() == ["广场"]
    assert len(again.applications) == len(city.applications)
    assert len(again.communities) == len(city.communities) + 1
