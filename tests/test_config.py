"""config.toml: the shipped file carries the seed's numbers; every mistake is one line naming key, value and range."""

import dataclasses
import math
import tomllib

import pytest

from geo.config import (
    DEFAULT_CONFIG_PATH,
    NUMERIC_KEYS,
    Config,
    ConfigError,
    config_error_text,
    load_config,
    parse_config,
)


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


# ---------------------------------------------------------------- every value is checked on load

def with_value(dotted: str, value) -> dict:
    """The shipped configuration with the key ``a.b.c`` set to ``value``."""
    data = raw()
    *path, last = dotted.split(".")
    node = data
    for part in path:
        node = node[part]
    node[last] = value
    return data


def test_every_numeric_setting_has_a_rule():
    # A new number in Config without a rule would load nan or -1 unchecked.
    handled = {name for name, _ in NUMERIC_KEYS.values()} | {"programs", "priority_weights", "served_within_radius_is_served"}
    assert {f.name for f in dataclasses.fields(Config)} == handled


@pytest.mark.parametrize("dotted", list(NUMERIC_KEYS))
@pytest.mark.parametrize("value, shown", [
    (math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"), (-1, "-1"), (-0.5, "-0.5"),
])
def test_non_finite_or_negative_number_is_refused_by_name(dotted, value, shown):
    with pytest.raises(ConfigError) as caught:
        parse_config(with_value(dotted, value))
    message = str(caught.value)
    assert message.startswith(f"config.toml: '{dotted}' must be ")
    assert message.endswith(f", got {shown}")
    assert "\n" not in message


POSITIVE_KEYS = [
    "coverage.walk_radius_m", "cost.set_cost_cny", "optimal.time_limit_s", "priority.distance_cap_m",
    "intake.max_upload_mb", "intake.max_unzipped_mb", "intake.default_footprint_m2", "intake.max_rows",
    "intake.max_vertices", "intake.max_import_seconds", "intake.max_import_memory_mb",
    "intake.upload_max_age_hours", "sample.communities", "eligibility.old_before_year",
]


@pytest.mark.parametrize("dotted", POSITIVE_KEYS)
def test_zero_is_refused_where_it_makes_no_sense(dotted):
    with pytest.raises(ConfigError, match=f"'{dotted}' must be .*, got 0$"):
        parse_config(with_value(dotted, 0))


@pytest.mark.parametrize("dotted, value, field", [
    ("optimal.mip_rel_gap", 0, "optimal_mip_rel_gap"),
    ("optimal.mip_rel_gap", 0.999, "optimal_mip_rel_gap"),
    ("intake.repair_max_area_change", 0, "repair_max_area_change"),
    ("intake.repair_max_area_change", 1, "repair_max_area_change"),
    ("eligibility.min_open_space_m2", 0, "min_open_space_m2"),
    ("sample.seed", 0, "sample_seed"),
    ("cost.set_cost_cny", 5e4, "set_cost_cny"),  # a whole number written as a float
])
def test_edges_of_the_allowed_ranges_load(dotted, value, field):
    assert getattr(parse_config(with_value(dotted, value)), field) == value


@pytest.mark.parametrize("dotted, value, allowed", [
    ("optimal.mip_rel_gap", 1, "a share ≥ 0 and < 1"),
    ("optimal.mip_rel_gap", 5, "a share ≥ 0 and < 1"),
    ("intake.repair_max_area_change", 1.01, "a share from 0 to 1"),
    ("intake.max_rows", 1.5, "a positive whole number of rows"),
    ("cost.set_cost_cny", 50000.5, "a positive whole number of yuan"),
    ("sample.communities", "2500", "a whole number ≥ 1"),
    ("coverage.walk_radius_m", True, "a positive number of metres"),
])
def test_out_of_range_or_wrong_kind_names_the_allowed_range(dotted, value, allowed):
    with pytest.raises(ConfigError, match=f"'{dotted}' must be {allowed}"):
        parse_config(with_value(dotted, value))


def test_the_issue_example_reads_exactly():
    with pytest.raises(ConfigError) as caught:
        parse_config(with_value("optimal.time_limit_s", -5))
    assert str(caught.value) == "config.toml: 'optimal.time_limit_s' must be a positive number of seconds, got -5"


@pytest.mark.parametrize("value, shown", [(math.nan, "nan"), (math.inf, "inf"), (-1, "-1"), (1.5, "1.5"), ("lots", "'lots'")])
def test_bad_budget_is_named(value, shown):
    data = raw()
    data["programs"][1]["budget_cny"] = value
    with pytest.raises(ConfigError, match=rf"'programs\[1\].budget_cny' must be a whole number of yuan ≥ 0, got {shown}$"):
        parse_config(data)


@pytest.mark.parametrize("value, shown", [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"), (-1, "-1")])
def test_bad_weight_is_named(value, shown):
    with pytest.raises(ConfigError, match=f"'priority.weights.population' must be a number ≥ 0, got {shown}$"):
        parse_config(with_value("priority.weights.population", value))


def test_all_zero_weights_are_refused():
    data = raw()
    data["priority"]["weights"] = {name: 0 for name in data["priority"]["weights"]}
    with pytest.raises(ConfigError, match="not all zero"):
        parse_config(data)


@pytest.mark.parametrize("value, shown", [(-1, "-1"), (math.nan, "nan"), (2.5, "2.5")])
def test_bad_district_limit_is_named(value, shown):
    data = raw()
    data["programs"][0]["district_max_sets"] = {"450202": value}
    with pytest.raises(ConfigError, match=rf"'programs\[0\].district_max_sets.450202' must be a whole number of sets ≥ 0, got {shown}$"):
        parse_config(data)


def test_district_minimum_above_maximum_is_refused():
    data = raw()
    data["programs"][0]["district_min_sets"] = {"450202": 5}
    data["programs"][0]["district_max_sets"] = {"450202": 2}
    with pytest.raises(ConfigError, match="at least 5 and at most 2 sets in district 450202"):
        parse_config(data)


def test_duplicate_programme_key_is_refused():
    data = raw()
    data["programs"][1]["key"] = "city"
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert str(caught.value) == ("config.toml: 'programs[1].key' repeats 'city' of programs[0]; "
                                 "each programme needs its own key")


def test_duplicate_programme_key_in_a_file_is_refused(tmp_path):
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace('key = "region"', 'key = "city"')
    path = tmp_path / "bureau.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^bureau.toml: 'programs\[1\].key' repeats 'city'"):
        load_config(path)


@pytest.mark.parametrize("key, allowed", [
    ("", "a non-empty text"), ("   ", "a non-empty text"), (7, "a non-empty text"),
    ("city,region", "one word without spaces, commas or '='"), ("a=b", "one word"), ("my budget", "one word"),
])
def test_programme_key_must_be_typable_on_the_command_line(key, allowed):
    data = raw()
    data["programs"][0]["key"] = key
    with pytest.raises(ConfigError, match=rf"'programs\[0\].key' must be {allowed}"):
        parse_config(data)


def test_programme_entries_must_be_tables_and_complete():
    data = raw()
    data["programs"] = []
    with pytest.raises(ConfigError, match="'programs' is empty"):
        parse_config(data)
    data = raw()
    data["programs"][0] = 600000
    with pytest.raises(ConfigError, match=r"'programs\[0\]' must be a table"):
        parse_config(data)
    data = raw()
    del data["programs"][1]["name_en"]
    with pytest.raises(ConfigError, match=r"programs\[1\] lacks key 'name_en'"):
        parse_config(data)


@pytest.mark.parametrize("line, replacement, expected", [
    ("walk_radius_m = 500", "walk_radius_m = nan", "'coverage.walk_radius_m' must be a positive number of metres, got nan"),
    ("walk_radius_m = 500", "walk_radius_m = -inf", "'coverage.walk_radius_m' must be a positive number of metres, got -inf"),
    ("population = 25", "population = +inf", "'priority.weights.population' must be a number ≥ 0, got inf"),
    ("mip_rel_gap = 1e-6", "mip_rel_gap = -1e-6", "'optimal.mip_rel_gap' must be a share ≥ 0 and < 1 (1e-6 = 0.0001 %), got -1e-06"),
    ("max_upload_mb = 200", "max_upload_mb = -200", "'intake.max_upload_mb' must be a positive number of MB, got -200"),
    ("budget_cny = 600000", "budget_cny = 1e400", "'programs[0].budget_cny' must be a whole number of yuan ≥ 0, got inf"),
])
def test_toml_nan_and_inf_in_the_file_are_refused(tmp_path, line, replacement, expected):
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert line in text
    path = tmp_path / "config.toml"
    path.write_text(text.replace(line, replacement, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"config.toml: {expected}"


def test_unreadable_files_are_one_line_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_config(tmp_path)  # a folder
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00walk")
    with pytest.raises(ConfigError, match="binary.toml: not UTF-8 text"):
        load_config(binary)
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="deep.toml: arrays or tables nested too deeply"):
        load_config(deep)
    broken = tmp_path / "broken.toml"
    broken.write_text("[coverage\nwalk_radius_m = 500\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(broken)
    assert "\n" not in str(caught.value) and "line 1" in str(caught.value)


def test_config_error_is_a_value_error_and_the_app_line_repeats_the_cli_line():
    assert issubclass(ConfigError, ValueError)
    try:
        parse_config(with_value("optimal.time_limit_s", -5))
    except ConfigError as error:
        cli_line = str(error)
        zh, en = config_error_text(error, "zh"), config_error_text(error, "en")
    assert zh.startswith("配置文件有误") and zh.endswith(cli_line)
    assert en.startswith("The configuration file has an error") and en.endswith(cli_line)
    assert "\n" not in zh and "\n" not in en


def test_a_very_long_bad_value_is_shortened_to_one_line():
    with pytest.raises(ConfigError) as caught:
        parse_config(with_value("coverage.walk_radius_m", "x\n" * 1000))
    message = str(caught.value)
    assert "\n" not in message and len(message) < 200 and message.endswith("…")
