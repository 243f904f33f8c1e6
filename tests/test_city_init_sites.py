"""``geo city init --sites FILE``: a bureau's public sites, in CGCS2000 Gauss–Krüger, checked row by row.

The city is tests/othercity.py's (Hefei, two 2 km districts, communities of 150 m in a row 250 m inside);
the sites are placed in the gaps between its communities, in UTM 50N metres from its south-west corner.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.cli import main
from geo.data.io import read_public_sites
from geo.intake.newcity import build_city
from geo.pipeline import load_city
from tests import othercity
from tests.site_helpers import hefei_files_with_sites, site_frame


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return hefei_files_with_sites(tmp_path_factory.mktemp("hefei"))


def test_city_init_with_sites_in_gauss_kruger_keeps_the_good_rows_and_explains_the_others(files, tmp_path, capsys):
    out = tmp_path / "hefei.gpkg"
    argv = ["city", "init", "--out", str(out), "--communities", str(files["communities"])]
    argv += ["--districts", str(files["districts"]), "--sites", str(files["sites"]), "--json"]
    status = main(argv)
    captured = capsys.readouterr()
    assert status == 0, captured.err
    report = json.loads(captured.out)
    assert report["public_sites"] | {"crs": None} == {
        "input_rows": 7,
        "accepted": 3,
        "rejected": 4,
        "repaired": 0,
        "crs": None,
    }
    assert report["public_sites"]["crs"] == {"used": othercity.GK_WITH_ZONE, "assumed": True}
    assert report["mapping"]["public_sites"]["kind"] == "场地类型"
    rejects = pd.read_csv(report["rejects"]["rejects_public_sites"], encoding="utf-8-sig")
    assert rejects["sheet_row"].tolist() == [5, 6, 7, 8]
    assert rejects["reason_code"].tolist() == ["invalid_value", "duplicate_id", "outside_city", "missing_required"]
    assert rejects["场地编号"].tolist() == ["S-04", "S-01", "S-06", "S-07"]

    sites = read_public_sites(out)
    assert sites["site_id"].tolist() == ["S-01", "S-02", "S-03"]
    assert sites["kind"].tolist() == ["pocket_park", "square", "school_ground"]
    assert sites["consent"].tolist() == ["yes", "unknown", "no"]
    assert sites["usable_area_m2"].tolist() == [400.0, 800.0, 2000.0]
    assert sites.crs.to_epsg() == 4326
    expected = site_frame().to_crs(4326).geometry.iloc[:3].reset_index(drop=True)
    # To the millimetre: the CSV's WKT has 3 decimals of a metre.
    assert (sites.to_crs(32650).distance(expected.to_crs(32650)) < 0.01).all()
    assert sites.geom_type.tolist() == ["Point", "Polygon", "Point"]
    assert load_city(out).public_sites["site_id"].tolist() == ["S-01", "S-02", "S-03"]


def test_a_sites_geopackage_with_its_own_crs_and_a_missing_kind_and_consent(files, tmp_path):
    frame = site_frame().iloc[:3].to_crs(othercity.GK_WITHOUT_ZONE)
    frame.loc[0, ["场地类型", "是否同意"]] = [None, None]
    path = tmp_path / "场地.gpkg"
    frame.to_file(path, layer="公共场地", driver="GPKG")
    new_city = build_city(files["communities"], districts=files["districts"], public_sites=path)
    sites = new_city.city.public_sites
    assert new_city.results["public_sites"].crs == othercity.GK_WITHOUT_ZONE
    assert sites["kind"].tolist() == ["other", "square", "school_ground"]
    assert sites["consent"].tolist() == ["unknown", "unknown", "no"]
    assert new_city.summary()["public_sites"]["accepted"] == 3


def test_without_sites_the_city_has_no_sites_layer(files):
    new_city = build_city(files["communities"], districts=files["districts"])
    assert new_city.city.public_sites is None and new_city.summary()["public_sites"] is None
