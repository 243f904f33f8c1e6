"""One storage-CRS check (geo.data.crs.is_storage_crs): EPSG:4326 and OGC:CRS84 pass everywhere, others nowhere."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box

from geo.analysis.coverage import community_coverage
from geo.data.crs import is_storage_crs, require_storage_crs
from geo.data.schema import COMMUNITY_COLUMNS, DTYPES
from geo.intake.merge import merge_returns
from geo.render import maps
from geo.render.export import to_geojson

LONLAT = ["EPSG:4326", "OGC:CRS84"]
OTHER = ["EPSG:32649", "EPSG:3857", "EPSG:4490"]  # UTM 49N, web mercator, CGCS2000 (not WGS84)


@pytest.mark.parametrize("crs", [*LONLAT, 4326, "epsg:4326"])
def test_wgs84_lonlat_in_either_axis_order_is_the_storage_crs(crs):
    assert is_storage_crs(crs)


@pytest.mark.parametrize("crs", [*OTHER, None])
def test_other_or_missing_crs_is_not(crs):
    assert not is_storage_crs(crs)


def test_require_names_the_frame_and_the_fix():
    frame = gpd.GeoDataFrame(geometry=[Point(500000, 2700000)], crs="EPSG:32649")
    with pytest.raises(ValueError, match=r"communities must be in EPSG:4326 .*to_crs\('EPSG:4326'\)"):
        require_storage_crs(frame, "communities")
    with pytest.raises(ValueError, match="not set"):
        require_storage_crs(frame.set_crs(None, allow_override=True), "communities")


def test_unset_crs_is_accepted_only_without_geometry_when_asked():
    empty = gpd.GeoDataFrame({"a": [1, 2]}, geometry=[None, Point()])
    require_storage_crs(empty, "rows", unset_if_no_geometry=True)
    with pytest.raises(ValueError):
        require_storage_crs(empty, "rows")
    placed = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(109.4, 24.3)])
    with pytest.raises(ValueError):
        require_storage_crs(placed, "rows", unset_if_no_geometry=True)


def _communities(crs):
    columns = {name: DTYPES[kind] for name, kind in COMMUNITY_COLUMNS.items()}
    rows = [
        ("450202-0001", "阳光花园", 1000, box(109.400, 24.300, 109.405, 24.305)),
        ("450202-0002", "ABC小区", 800, box(109.420, 24.300, 109.425, 24.305)),
    ]
    data = {c: pd.Series([None] * len(rows), dtype=columns[c]) for c in columns}
    data["community_id"] = pd.Series([r[0] for r in rows], dtype="string")
    data["name"] = pd.Series([r[1] for r in rows], dtype="string")
    data["population"] = pd.Series([r[2] for r in rows], dtype="Int64")
    data["district_code"] = pd.Series(["450202"] * 2, dtype="string")
    data["district_name"] = pd.Series(["城中区"] * 2, dtype="string")
    data["built_year"] = pd.Series([1995, 2005], dtype="Int64")
    return gpd.GeoDataFrame(data, geometry=[r[3] for r in rows], crs=crs)


def _paths(crs):
    return gpd.GeoDataFrame({"path_id": ["P-1"], "name": ["柳南健身路径"]}, geometry=[Point(109.402, 24.302)], crs=crs)


def _districts(crs):
    return gpd.GeoDataFrame(
        {"district_code": ["450202"], "district_name": ["城中区"], "district_name_en": ["Chengzhong"]},
        geometry=[box(109.39, 24.29, 109.43, 24.31)],
        crs=crs,
    )


@pytest.mark.parametrize("crs", LONLAT)
def test_coverage_accepts_both_and_gives_the_same_numbers(crs):
    covered = community_coverage(_communities(crs), _paths(crs), walk_radius_m=500)
    reference = community_coverage(_communities("EPSG:4326"), _paths("EPSG:4326"), walk_radius_m=500)
    assert covered["n_sets_inside"].tolist() == reference["n_sets_inside"].tolist() == [1, 0]
    assert covered["nearest_set_m"].tolist() == reference["nearest_set_m"].tolist()


@pytest.mark.parametrize("crs", LONLAT)
def test_maps_accept_both(crs):
    covered = community_coverage(_communities(crs), _paths(crs), walk_radius_m=500)
    html = maps.standalone_html(maps.coverage_map(_districts(crs), covered, _paths(crs), asset_base="/v"))
    assert "阳光花园" in html


@pytest.mark.parametrize("crs", LONLAT)
def test_export_accepts_both(crs, tmp_path):
    path = to_geojson(_paths(crs), tmp_path / "paths.geojson")
    assert gpd.read_file(path).geometry.iloc[0].equals(Point(109.402, 24.302))


@pytest.mark.parametrize("crs", LONLAT)
def test_merge_accepts_both(crs):
    result = merge_returns(_communities(crs), [_communities(crs).iloc[:1]])
    assert len(result.communities) == 2


@pytest.mark.parametrize("crs", OTHER)
def test_every_stage_refuses_another_crs(crs, tmp_path):
    communities = _communities("EPSG:4326").to_crs(crs)
    paths = _paths("EPSG:4326").to_crs(crs)
    with pytest.raises(ValueError, match="must be in EPSG:4326"):
        community_coverage(communities, paths, walk_radius_m=500)
    covered = community_coverage(_communities("EPSG:4326"), _paths("EPSG:4326"), walk_radius_m=500)
    with pytest.raises(ValueError, match="must be in EPSG:4326"):
        maps.coverage_map(_districts("EPSG:4326"), covered.to_crs(crs), _paths("EPSG:4326"), asset_base="/v")
    with pytest.raises(ValueError, match="must be in EPSG:4326"):
        to_geojson(paths, tmp_path / "paths.geojson")
    with pytest.raises(ValueError, match="must be in EPSG:4326"):
        merge_returns(_communities("EPSG:4326"), [communities])
