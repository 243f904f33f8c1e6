"""The committed sample carries its street network (issue 16): ``geo sample`` writes the ``roads`` layer, the
committed file's roads are the generator's, and the city read from it walks (the river and its bridges)."""

from __future__ import annotations

import pyogrio
import pytest
from geopandas.testing import assert_geodataframe_equal

from geo.cli import main
from geo.config import BOUNDARIES_PATH, DEFAULT_DATA_PATH, load_config
from geo.data.io import read_districts, read_roads
from geo.data.sample import generate_sample
from geo.pipeline import coverage_report, load_city


@pytest.fixture(scope="module")
def generated():
    config = load_config()
    return generate_sample(
        read_districts(BOUNDARIES_PATH), n_communities=config.sample_communities, seed=config.sample_seed, roads=True
    )


def test_the_committed_sample_has_the_generators_roads(generated):
    assert "roads" in [name for name, _ in pyogrio.list_layers(DEFAULT_DATA_PATH)]
    assert_geodataframe_equal(read_roads(DEFAULT_DATA_PATH), generated["roads"], check_less_precise=False)


def test_the_sample_city_loads_its_roads_and_fewer_communities_are_served_on_foot():
    city = load_city(DEFAULT_DATA_PATH)
    assert len(city.roads) == 11_825 and int(city.roads["bridge"].sum()) == 10
    straight = coverage_report(city, 500.0, "straight").total
    on_foot = coverage_report(city, 500.0, "network").total
    assert straight["served_within_radius"] == 2224 and on_foot["served_within_radius"] == 1572


def test_geo_sample_writes_the_roads_layer(tmp_path, capsys, monkeypatch):
    out = tmp_path / "sample.gpkg"
    monkeypatch.setenv("PLANNER_LANG", "en")
    assert main(["sample", "--communities", "60", "--seed", "3", "--out", str(out)]) == 0
    assert "roads" in [name for name, _ in pyogrio.list_layers(out)]
    assert capsys.readouterr().out.rstrip().endswith(f"roads {len(read_roads(out))}")
