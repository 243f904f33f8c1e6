"""Public sites through an upload (issue 15): merged into the city's by site_id; every other layer kept.

The hand-made city of tests/handmade_city.py (communities 450202-0001 … 0003, paths FP1 and FP2, two
applications) with two sites: S-01, a 300 m² pocket park, and S-02, an 800 m² square.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from geo.data.io import gpkg_layers, write_layers
from geo.data.schema import PUBLIC_SITE_COLUMNS
from geo.intake.assemble import assemble_city
from geo.intake.importer import IntakeResult
from geo.pipeline import load_city
from tests.handmade_city import community, current_city, frame, imported, square


def site(site_id, name, kind="pocket_park", area=300.0, consent="yes", x=0.005, notes=None) -> dict:
    return {
        "site_id": site_id,
        "name": name,
        "kind": kind,
        "usable_area_m2": area,
        "owner": "街道办事处",
        "consent": consent,
        "notes": notes,
        "geometry": Point(109.40 + x, 24.3005),
    }


def sites_import(rows: list[dict], sheet_rows=None, rejected: int = 0) -> IntakeResult:
    """What importing a sites sheet with these accepted rows gives (sheet rows 2, 3, … unless given)."""
    accepted = frame(rows, PUBLIC_SITE_COLUMNS)
    sheet_rows = np.arange(2, len(rows) + 2) if sheet_rows is None else np.asarray(sheet_rows)
    rejects = pd.DataFrame({"sheet_row": range(100, 100 + rejected)})
    return IntakeResult("public_sites", accepted, rejects, len(rows) + rejected, 0, (), "sheet_row", sheet_rows)


def city_with_sites():
    sites = frame([site("S-01", "口袋公园"), site("S-02", "广场", "square", 800.0, x=0.015)], PUBLIC_SITE_COLUMNS)
    return replace(current_city(), public_sites=sites)


def change_row(assembled, layer="public_sites") -> list:
    return [None if pd.isna(v) else int(v) for v in assembled.changes().loc[layer]]


def test_a_return_updates_a_site_by_id_adds_a_new_one_and_keeps_the_others():
    upload = sites_import(
        [site("S-02", "广场", "square", 600.0, x=0.015), site("S-03", "新绿道", "greenway", 500.0, x=0.025)],
        sheet_rows=[2, 4],
        rejected=1,
    )
    assembled = assemble_city(
        city_with_sites(), imported([community("450202-0002", "ABC小区", population=900)]), "merge", public_sites=upload
    )
    sites = assembled.layers["public_sites"]
    assert sites["site_id"].tolist() == ["S-01", "S-02", "S-03"]  # S-02 in its place, S-03 after
    assert sites["usable_area_m2"].tolist() == [300.0, 600.0, 500.0]
    assert sites.crs.to_epsg() == 4326
    updates = assembled.site_updates
    assert updates[["row", "site_id", "column", "city_value", "new_value"]].values.tolist() == [
        [2, "S-02", "usable_area_m2", 800.0, 600.0]
    ]
    # before, added, updated, unchanged, removed, rejected, after
    assert change_row(assembled) == [2, 1, 1, 1, 0, 1, 3]
    assert assembled.summary()["public_sites_imported"] == 2


def test_a_site_sent_again_unchanged_is_unchanged_and_a_move_is_said_as_a_place():
    upload = sites_import([site("S-01", "口袋公园"), site("S-02", "广场", "square", 800.0, x=0.016)])
    assembled = assemble_city(city_with_sites(), imported([]), "merge", public_sites=upload)
    assert change_row(assembled) == [2, 0, 1, 1, 0, 0, 2]
    moved = assembled.site_updates.iloc[0]
    assert (moved["site_id"], moved["column"]) == ("S-02", "geometry")
    assert (moved["city_value"].x, moved["new_value"].x) == pytest.approx((109.415, 109.416))


def test_a_merge_without_sites_keeps_the_citys_sites(tmp_path):
    city = city_with_sites()
    assembled = assemble_city(city, imported([community(None, "新苑", square(0.1), population=300)]), "merge")
    assert assembled.layers["public_sites"] is city.public_sites
    assert change_row(assembled) == [2, 0, 0, 2, 0, 0, 2]
    target = tmp_path / "city.gpkg"
    write_layers(target, assembled.layers)
    again = load_city(target)
    assert again.public_sites["site_id"].tolist() == ["S-01", "S-02"]
    assert again.public_sites["kind"].tolist() == ["pocket_park", "square"]
    assert len(again.communities) == 4


@pytest.mark.parametrize("mode", ["merge", "replace"])
def test_a_return_with_sites_keeps_communities_paths_applications_and_other_layers(mode, tmp_path):
    city = current_city()
    notes = pd.DataFrame({"note": pd.array(["巡查记录 {{ 6*7 }}", "=1+2"], dtype="string")})
    source = tmp_path / "city.gpkg"
    write_layers(
        source,
        {
            "districts": city.districts,
            "communities": city.communities,
            "fitness_paths": city.fitness_paths,
            "applications": city.applications,
            "inspections": notes,
        },
    )
    loaded = load_city(source)
    upload = imported(
        [
            community("450202-0001", "阳光花园", square(0), population=1000),
            community("450202-0002", "ABC小区", square(0.01), population=800),
            community("450202-0003", "柳江新村", square(0.02), population=500),
        ]
    )
    hostile = "![t](http://127.0.0.2:9/leak.png) {{ 6*7 }}"
    sites = sites_import([site("S-01", hostile, notes="=1+2"), site("S-02", "广场", "square", 800.0, x=0.015)])
    assembled = assemble_city(loaded, upload, mode, public_sites=sites)
    target = tmp_path / "after.gpkg"
    write_layers(target, assembled.layers)
    assert sorted(gpkg_layers(target)) == [
        "applications",
        "communities",
        "districts",
        "fitness_paths",
        "inspections",
        "public_sites",
    ]
    again = load_city(target)
    assert again.communities["community_id"].tolist() == ["450202-0001", "450202-0002", "450202-0003"]
    assert sorted(again.fitness_paths["path_id"]) == (["FP1", "FP2"] if mode == "merge" else [])
    assert again.applications["community_id"].tolist() == ["450202-0001", "450202-0002"]
    assert again.other_layers["inspections"]["note"].tolist() == ["巡查记录 {{ 6*7 }}", "=1+2"]
    assert again.public_sites["name"].tolist() == [hostile, "广场"]  # text, as given
    assert again.public_sites["notes"].tolist()[0] == "=1+2"
    assert change_row(assembled) == [0, 2, 0, 0, 0, 0, 2]


def test_a_replace_with_sites_makes_them_the_citys_sites():
    upload = sites_import([site("S-02", "广场", "square", 800.0, x=0.015), site("S-09", "学校操场", "school_ground")])
    assembled = assemble_city(
        city_with_sites(), imported([community("450202-0001", "阳光花园")]), "replace", public_sites=upload
    )
    assert assembled.layers["public_sites"]["site_id"].tolist() == ["S-02", "S-09"]
    assert change_row(assembled) == [2, 1, 0, 1, 1, 0, 2]


def test_a_site_named_as_a_community_is_not_written_and_a_later_file_wins_over_the_workbook_sheet():
    sheet = sites_import([site("S-01", "口袋公园（表）", area=200.0), site("450202-0003", "撞号场地")])
    file = sites_import([site("S-01", "口袋公园（文件）", area=250.0)], sheet_rows=[7])
    assembled = assemble_city(
        city_with_sites(), imported([]), "merge", public_sites={"城中区.xlsx": sheet, "场地.csv": file}
    )
    sites = assembled.layers["public_sites"]
    assert sites["site_id"].tolist() == ["S-01", "S-02"]
    assert sites["name"].tolist() == ["口袋公园（文件）", "广场"]
    unplaced = assembled.sites_unplaced
    assert unplaced[["source", "row", "site_id", "reason_code"]].values.tolist() == [
        ["城中区.xlsx", 2, "S-01", "site_id_repeated"],
        ["城中区.xlsx", 3, "450202-0003", "site_id_is_community"],
    ]
    assert unplaced["reason_zh"].str.contains("小区的编号").tolist() == [False, True]
    assert set(assembled.site_updates["source"]) == {"场地.csv"}
    assert change_row(assembled) == [2, 0, 1, 1, 0, 2, 2]


def test_a_city_without_sites_and_an_upload_without_sites_has_no_sites_row():
    assembled = assemble_city(current_city(), imported([]), "merge")
    assert "public_sites" not in assembled.layers and "public_sites" not in assembled.changes().index
