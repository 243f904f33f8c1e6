"""config.toml: the shipped file carries the seed's numbers; mistakes are named."""

import tomllib

import pytest

from geo.config import DEFAULT_CONFIG_PATH, load_config, parse_config


def raw():
    return tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def test_shipped_config_has_the_bureau_numbers():
    config = load_config()
    assert config.walk_radius_m == 500
    assert config.set_cost_cny == 50_000
    assert config.program("city").budget_cny == 600_000     # 12 sets in 2017
    assert config.program("region").budget_cny == 5_000_000  # the regional grant: 100 sets
    assert config.program("city").budget_cny // config.set_cost_cny == 12
    assert config.program("region").budget_cny // config.set_cost_cny == 100
    assert config.min_open_space_m2 == 150 and config.old_before_year == 2000


def test_missing_key_is_named():
    data = raw()
    del data["coverage"]["walk_radius_m"]
    with pytest.raises(ValueError, match="coverage.walk_radius_m"):
        parse_config(data)


def test_wrong_type_is_named():
    data = raw()
    data["cost"]["set_cost_cny"] = "fifty thousand"
    with pytest.raises(ValueError, match="cost.set_cost_cny"):
        parse_config(data)
    data = raw()
    data["coverage"]["walk_radius_m"] = True
    with pytest.raises(ValueError, match="walk_radius_m"):
        parse_config(data)


def test_unknown_program_lists_known_ones():
    with pytest.raises(ValueError, match="city, region"):
        load_config().program("province")


def test_syntax_error_reported_with_file_name(tmp_path):
    bad = tmp_path / "config.toml"
    bad.write_text("[coverage\nwalk_radius_m = 500\n", encoding="utf-8")
    with pytest.raises(ValueError, match="config.toml"):
        load_config(bad)
