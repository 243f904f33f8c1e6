"""config.toml: the shipped file carries the seed's numbers; every mistake is one line naming key, value and range."""

import dataclasses
import math
import tomllib
from pathlib import Path

import pytest

from geo.config import (
    DEFAULT_CONFIG_PATH,
    DEFAULT_DATA_PATH,
    MAX_WALK_RADIUS_M,
    NUMERIC_KEYS,
    WALK_RADIUS_RULE,
    Config,
    ConfigError,
    check_walk_radius,
    config_error_text,
    load_config,
    parse_config,
    with_overrides,
)
from geo.errors import DataError


def raw():
    return tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))


def test_shipped_config_has_the_bureau_numbers():
    config = load_config()
    assert config.walk_radius_m == 500
    assert config.set_cost_cny == 50_000
    assert config.program("city").budget_cny == 600_000  # 12 sets in 2017
    assert config.program("region").budget_cny == 5_000_000  # the regional grant: 100 sets
    assert config.program("city").budget_cny // config.set_cost_cny == 12
    assert config.program("region").budget_cny // config.set_cost_cny == 100
    assert config.min_open_space_m2 == 150 and config.old_before_year == 2000


def test_missing_key_is_named():
    data = raw()
    del data["coverage"]["walk_radius_m"]
    with pytest.raises(ValueError, match=r"coverage.walk_radius_m"):
        parse_config(data)


def test_wrong_type_is_named():
    data = raw()
    data["cost"]["set_cost_cny"] = "fifty thousand"
    with pytest.raises(ValueError, match=r"cost.set_cost_cny"):
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
    with pytest.raises(ValueError, match=r"config.toml"):
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


CITY_FIELDS = {
    "city_name_zh",
    "city_name_en",
    "bureau_name_zh",
    "bureau_name_en",
    "contact_zh",
    "contact_en",
    "timezone",
}


def test_every_numeric_setting_has_a_rule():
    # A new number in Config without a rule would load nan or -1 unchecked.
    handled = (
        {name for name, _ in NUMERIC_KEYS.values()}
        | {"programs", "priority_weights", "site_extra_cost_cny", "standard", "distance", "unknown_open_space"}
        | {"sso_email_domain"}
        | CITY_FIELDS
    )
    assert {f.name for f in dataclasses.fields(Config)} == handled


@pytest.mark.parametrize("dotted", list(NUMERIC_KEYS))
@pytest.mark.parametrize(
    "value, shown",
    [
        (math.nan, "nan"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (-1, "-1"),
        (-0.5, "-0.5"),
    ],
)
def test_non_finite_or_negative_number_is_refused_by_name(dotted, value, shown):
    with pytest.raises(ConfigError) as caught:
        parse_config(with_value(dotted, value))
    message = str(caught.value)
    assert message.startswith(f"config.toml: '{dotted}' must be ")
    assert message.endswith(f", got {shown}")
    assert "\n" not in message


POSITIVE_KEYS = [
    "coverage.walk_radius_m",
    "cost.set_cost_cny",
    "optimal.time_limit_s",
    "priority.distance_cap_m",
    "intake.max_upload_mb",
    "intake.max_unzipped_mb",
    "intake.default_footprint_m2",
    "intake.max_rows",
    "intake.max_vertices",
    "intake.max_import_seconds",
    "intake.max_import_memory_mb",
    "intake.upload_max_age_hours",
    "sample.communities",
    "eligibility.old_before_year",
    "notice.period_days",
    "accounts.session_idle_minutes",
]


@pytest.mark.parametrize("dotted", POSITIVE_KEYS)
def test_zero_is_refused_where_it_makes_no_sense(dotted):
    with pytest.raises(ConfigError, match=f"'{dotted}' must be .*, got 0$"):
        parse_config(with_value(dotted, 0))


@pytest.mark.parametrize(
    "dotted, value, field",
    [
        ("optimal.mip_rel_gap", 0, "optimal_mip_rel_gap"),
        ("optimal.mip_rel_gap", 0.999, "optimal_mip_rel_gap"),
        ("intake.repair_max_area_change", 0, "repair_max_area_change"),
        ("intake.repair_max_area_change", 1, "repair_max_area_change"),
        ("eligibility.min_open_space_m2", 0, "min_open_space_m2"),
        ("sample.seed", 0, "sample_seed"),
        ("cost.set_cost_cny", 5e4, "set_cost_cny"),  # a whole number written as a float
    ],
)
def test_edges_of_the_allowed_ranges_load(dotted, value, field):
    assert getattr(parse_config(with_value(dotted, value)), field) == value


@pytest.mark.parametrize(
    "dotted, value, allowed",
    [
        ("optimal.mip_rel_gap", 1, "a share ≥ 0 and < 1"),
        ("optimal.mip_rel_gap", 5, "a share ≥ 0 and < 1"),
        ("intake.repair_max_area_change", 1.01, "a share from 0 to 1"),
        ("intake.max_rows", 1.5, "a whole number of rows from 1 to 10,000,000"),
        ("cost.set_cost_cny", 50000.5, "a whole number of yuan from 1 to 1,000,000,000,000"),
        ("sample.communities", "2500", "a whole number of communities from 1 to 1,000,000"),
        ("coverage.walk_radius_m", True, "a positive number of metres up to 5,000"),
    ],
)
def test_out_of_range_or_wrong_kind_names_the_allowed_range(dotted, value, allowed):
    with pytest.raises(ConfigError, match=f"'{dotted}' must be {allowed}"):
        parse_config(with_value(dotted, value))


def test_the_issue_example_reads_exactly():
    with pytest.raises(ConfigError) as caught:
        parse_config(with_value("optimal.time_limit_s", -5))
    assert str(caught.value) == (
        "config.toml: 'optimal.time_limit_s' must be a positive number of seconds up to 86,400 (one day), got -5"
    )


@pytest.mark.parametrize(
    "value, shown", [(math.nan, "nan"), (math.inf, "inf"), (-1, "-1"), (1.5, "1.5"), ("lots", "'lots'")]
)
def test_bad_budget_is_named(value, shown):
    data = raw()
    data["programs"][1]["budget_cny"] = value
    with pytest.raises(
        ConfigError,
        match=rf"'programs\[1\].budget_cny' must be a whole number of yuan from 0 to "
        rf"1,000,000,000,000, got {shown}$",
    ):
        parse_config(data)


@pytest.mark.parametrize("value, shown", [(math.nan, "nan"), (math.inf, "inf"), (-math.inf, "-inf"), (-1, "-1")])
def test_bad_weight_is_named(value, shown):
    with pytest.raises(
        ConfigError, match=f"'priority.weights.population' must be a number from 0 to 1,000,000, got {shown}$"
    ):
        parse_config(with_value("priority.weights.population", value))


def test_all_zero_weights_are_refused():
    data = raw()
    data["priority"]["weights"] = dict.fromkeys(data["priority"]["weights"], 0)
    with pytest.raises(ConfigError, match="not all zero"):
        parse_config(data)


@pytest.mark.parametrize("value, shown", [(-1, "-1"), (math.nan, "nan"), (2.5, "2.5")])
def test_bad_district_limit_is_named(value, shown):
    data = raw()
    data["programs"][0]["district_max_sets"] = {"450202": value}
    with pytest.raises(
        ConfigError,
        match=rf"'programs\[0\].district_max_sets.450202' must be a whole number of sets "
        rf"from 0 to 1,000,000, got {shown}$",
    ):
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
    assert str(caught.value) == (
        "config.toml: 'programs[1].key' repeats 'city' of programs[0]; each programme needs its own key"
    )


def test_duplicate_programme_key_in_a_file_is_refused(tmp_path):
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace('key = "region"', 'key = "city"')
    path = tmp_path / "bureau.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"^bureau.toml: 'programs\[1\].key' repeats 'city'"):
        load_config(path)


@pytest.mark.parametrize(
    "key, allowed",
    [
        ("", "a non-empty text"),
        ("   ", "a non-empty text"),
        (7, "a non-empty text"),
        ("city,region", "one word without spaces, commas or '='"),
        ("a=b", "one word"),
        ("my budget", "one word"),
    ],
)
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


def refusal(tmp_path, line: str, replacement: str) -> str:
    """The ConfigError message for the default config.toml with ``line`` replaced."""
    text = DEFAULT_CONFIG_PATH.read_text(encoding="utf-8")
    assert line in text
    path = tmp_path / "config.toml"
    path.write_text(text.replace(line, replacement, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


@pytest.mark.parametrize(
    "line, replacement, expected",
    [
        (
            "walk_radius_m = 500",
            "walk_radius_m = nan",
            "'coverage.walk_radius_m' must be a positive number of metres up to 5,000, got nan",
        ),
        (
            "walk_radius_m = 500",
            "walk_radius_m = -inf",
            "'coverage.walk_radius_m' must be a positive number of metres up to 5,000, got -inf",
        ),
        (
            "population = 25",
            "population = +inf",
            "'priority.weights.population' must be a number from 0 to 1,000,000, got inf",
        ),
        (
            "mip_rel_gap = 1e-6",
            "mip_rel_gap = -1e-6",
            "'optimal.mip_rel_gap' must be a share ≥ 0 and < 1 (1e-6 = 0.0001 %), got -1e-06",
        ),
        (
            "max_upload_mb = 200",
            "max_upload_mb = -200",
            "'intake.max_upload_mb' must be a positive number of MB up to 1,048,576 (1 TB), got -200",
        ),
        (
            "budget_cny = 600000",
            "budget_cny = 1e400",
            "'programs[0].budget_cny' must be a whole number of yuan from 0 to 1,000,000,000,000, got inf",
        ),
    ],
)
def test_toml_nan_and_inf_in_the_file_are_refused(tmp_path, line, replacement, expected):
    assert refusal(tmp_path, line, replacement) == f"config.toml: {expected}"


def test_unreadable_files_are_one_line_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "absent.toml")
    with pytest.raises(ConfigError, match="cannot read the configuration file"):
        load_config(tmp_path)  # a folder
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00walk")
    with pytest.raises(ConfigError, match=r"binary.toml: not UTF-8 text"):
        load_config(binary)
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"deep.toml: arrays or tables nested too deeply"):
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


# ---------------------------------------------------------------- upper bounds (issue 10, re-test N12)

# key, the largest value that loads, the smallest above it that is refused, the bound as the message says it
UPPER_BOUNDS = [
    ("coverage.walk_radius_m", 5_000, 5_000.5, "up to 5,000"),
    ("coverage.max_pairs", 2_000_000_000, 2_000_000_001, "from 1 to 2,000,000,000"),
    ("cost.set_cost_cny", 10**12, 10**12 + 1, "from 1 to 1,000,000,000,000"),
    ("optimal.time_limit_s", 86_400, 86_400.5, "up to 86,400 (one day)"),
    ("optimal.mip_rel_gap", 0.999, 1, "≥ 0 and < 1"),
    ("eligibility.min_open_space_m2", 1_000_000, 1_000_000.5, "from 0 to 1,000,000"),
    ("eligibility.old_before_year", 9999, 10_000, "a year from 1 to 9999"),
    ("priority.distance_cap_m", 1_000_000, 1_000_001, "up to 1,000,000"),
    ("intake.max_upload_mb", 1_048_576, 1_048_577, "up to 1,048,576 (1 TB)"),
    ("intake.max_unzipped_mb", 1_048_576, 1_048_577, "up to 1,048,576 (1 TB)"),
    ("intake.default_footprint_m2", 1_000_000, 1_000_001, "up to 1,000,000"),
    ("intake.persons_per_household", 20, 20.5, "up to 20"),
    ("intake.residents_per_hectare", 10_000, 10_001, "up to 10,000"),
    ("intake.repair_max_area_change", 1, 1.01, "from 0 to 1"),
    ("intake.max_rows", 10_000_000, 10_000_001, "from 1 to 10,000,000"),
    ("intake.max_vertices", 1_000_000_000, 1_000_000_001, "from 1 to 1,000,000,000"),
    ("intake.max_import_seconds", 86_400, 86_401, "up to 86,400 (one day)"),
    ("intake.max_import_memory_mb", 1_048_576, 1e15, "up to 1,048,576 (1 TB)"),
    ("intake.upload_max_age_hours", 8_760, 8_761, "up to 8,760 (one year)"),
    ("intake.max_concurrent_imports", 100, 101, "from 1 to 100"),
    ("map.max_communities", 1_000_000, 1_000_001, "from 1 to 1,000,000"),
    ("map.shapes_at_once", 1_000_000, 1_000_001, "from 1 to 1,000,000"),
    ("map.shapes_min_zoom", 19, 20, "from 10 to 19"),
    ("sample.seed", 2**32 - 1, 2**32, "from 0 to 4,294,967,295"),
    ("sample.communities", 1_000_000, 1_000_001, "from 1 to 1,000,000"),
    ("notice.period_days", 366, 367, "a whole number of days from 1 to 366"),
    ("accounts.session_idle_minutes", 10_080, 10_081, "a whole number of minutes from 1 to 10,080"),
    ("sites.min_usable_area_m2", 1_000_000, 1_000_000.5, "from 0 to 1,000,000"),
    ("network.segment_m", 1_000, 1_000.5, "up to 1,000"),
    ("network.snap_m", 10, 10.5, "up to 10"),
    ("network.access_m", 5_000, 5_000.5, "up to 5,000"),
]


def test_every_numeric_key_has_an_upper_bound_in_this_table():
    # A new key without a bound (or without a row here) fails: 1e300 must never load unnoticed.
    assert sorted(key for key, *_ in UPPER_BOUNDS) == sorted(NUMERIC_KEYS)
    assert all(math.isfinite(rule.high) for _, rule in NUMERIC_KEYS.values())


@pytest.mark.parametrize("dotted, largest, refused, bound", UPPER_BOUNDS)
def test_the_upper_bound_loads_and_the_next_value_is_refused_naming_it(dotted, largest, refused, bound):
    field = NUMERIC_KEYS[dotted][0]
    assert getattr(parse_config(with_value(dotted, largest)), field) == largest
    with pytest.raises(ConfigError) as caught:
        parse_config(with_value(dotted, refused))
    assert str(caught.value).startswith(f"config.toml: '{dotted}' must be ")
    assert bound in str(caught.value)


@pytest.mark.parametrize(
    "line, replacement, expected",
    [
        # the re-test's reproductions: each loaded before, then failed later or misled
        (
            "walk_radius_m = 500",
            "walk_radius_m = 1e300",
            "'coverage.walk_radius_m' must be a positive number of metres up to 5,000, got 1e+300",
        ),
        (
            "population = 25",
            "population = 1e308",
            "'priority.weights.population' must be a number from 0 to 1,000,000, got 1e+308",
        ),
        (
            "max_import_memory_mb = 4096",
            "max_import_memory_mb = 1e15",
            "'intake.max_import_memory_mb' must be a positive number of MB up to 1,048,576 (1 TB), "
            "got 1000000000000000.0",
        ),
        (
            "max_rows = 200000",
            "max_rows = 9223372036854775807",
            "'intake.max_rows' must be a whole number of rows from 1 to 10,000,000, got 9223372036854775807",
        ),
        (
            "budget_cny = 600000",
            "budget_cny = 1" + "0" * 399,  # TOML reads it as a Python int of 400 digits
            "'programs[0].budget_cny' must be a whole number of yuan from 0 to 1,000,000,000,000, got 1"
            + "0" * 58
            + "…",
        ),
    ],
)
def test_huge_values_in_the_file_are_refused_by_name(tmp_path, line, replacement, expected):
    assert refusal(tmp_path, line, replacement) == f"config.toml: {expected}"


def test_a_number_longer_than_python_reads_is_a_config_error(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(
        DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace(
            "walk_radius_m = 500", "walk_radius_m = " + "9" * 5000, 1
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        ConfigError, match=r"^config.toml: a number too long to read .*no setting needs more than 13 digits$"
    ):
        load_config(path)


def test_a_file_too_large_to_be_the_configuration_is_refused_at_once(tmp_path):
    big = tmp_path / "data.toml"
    big.write_text(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8") + "# " + "x" * (1 << 20) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"data.toml: larger than 1 MB, so not a configuration file"):
        load_config(big)
    if Path("/dev/zero").exists():  # an endless file: read before as a whole, until memory ran out
        with pytest.raises(ConfigError, match=r"^/dev/zero: larger than 1 MB"):
            load_config("/dev/zero")


# ---------------------------------------------------------------- priority weight names


def test_the_weight_names_are_the_priority_components():
    from geo.analysis.priority import COMPONENTS
    from geo.data.schema import PRIORITY_COMPONENTS

    assert COMPONENTS == PRIORITY_COMPONENTS
    assert tuple(load_config().priority_weights) == COMPONENTS


def test_a_mistyped_weight_name_is_refused_listing_the_names(tmp_path):
    # The re-test: `populaton = 25` was refused by the CLI but weighted 0 in the app.
    path = tmp_path / "config.toml"
    path.write_text(
        DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace("population = 25", "populaton = 25", 1),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == (
        "config.toml: unknown priority weight 'populaton' in [priority.weights] (did you mean 'population'?); "
        "the weights are: population, "
        "elderly_and_children, distance_to_nearest_set, old_community, application_received, neighbours_unserved, "
        "landless_reached"
    )


def test_a_missing_weight_is_refused_and_zero_is_how_to_leave_one_out():
    data = raw()
    del data["priority"]["weights"]["old_community"], data["priority"]["weights"]["neighbours_unserved"]
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert str(caught.value).startswith(
        "config.toml: [priority.weights] lacks old_community, neighbours_unserved; give each of population, "
    )
    assert str(caught.value).endswith("a weight (0 leaves a component out of the score)")
    data["priority"]["weights"].update(old_community=0, neighbours_unserved=0)
    assert parse_config(data).priority_weights["old_community"] == 0.0


def test_a_config_written_before_the_landless_component_weighs_it_zero():
    """``landless_reached`` came later: a city's older config.toml without it still loads, and weighs it 0
    (its scores stay as they were); the shipped config gives it a weight."""
    data = raw()
    assert parse_config(data).priority_weights["landless_reached"] > 0
    del data["priority"]["weights"]["landless_reached"]
    assert parse_config(data).priority_weights["landless_reached"] == 0.0


def test_weights_at_the_upper_bound_give_the_shipped_scores():
    """The score is normalised by the sum of weights: the shipped weights × 40,000 (population at the
    bound, 1,000,000) rank every community exactly as the shipped ones (1e308 broke the app)."""
    import numpy as np

    from geo.pipeline import load_city
    from geo.plan import score_communities

    shipped = load_config()
    scaled = {name: weight * 40_000 for name, weight in shipped.priority_weights.items()}
    assert max(scaled.values()) == 1_000_000
    data = raw()
    data["priority"]["weights"] = scaled
    at_bound = parse_config(data)
    city = load_city(DEFAULT_DATA_PATH)
    a = score_communities(city.communities, city.fitness_paths, shipped, city.applications)
    b = score_communities(
        city.communities,
        city.fitness_paths,
        dataclasses.replace(shipped, priority_weights=at_bound.priority_weights),
        city.applications,
    )
    np.testing.assert_allclose(b["priority_score"], a["priority_score"], rtol=1e-12)
    assert b["priority_rank"].equals(a["priority_rank"])
    eligible = b["eligible"].to_numpy(bool)
    assert np.isfinite(b["priority_score"][eligible]).all() and b["priority_score"][~eligible].isna().all()


def test_the_largest_memory_limit_still_runs_an_import_child(tmp_path):
    """max_import_memory_mb = 1e15 loaded, then every upload failed 'needing more than 1e+15 MB'
    (the child could not set such a limit); at the bound, 1,048,576 MB, the import runs."""
    from geo.intake.importer import import_file
    from geo.intake.worker import run_bounded

    path = tmp_path / "config.toml"
    path.write_text(
        DEFAULT_CONFIG_PATH.read_text(encoding="utf-8").replace(
            "max_import_memory_mb = 4096", "max_import_memory_mb = 1048576", 1
        ),
        encoding="utf-8",
    )
    config = load_config(path)
    corpus = DEFAULT_CONFIG_PATH.parent / "tests" / "intake_corpus" / "csv_missing_population.csv"
    result = run_bounded(
        import_file, (corpus, "communities", None, config), seconds=120, memory_mb=config.max_import_memory_mb
    )
    assert (result.summary()["input_rows"], result.summary()["accepted"]) == (3, 3)


# ---------------------------------------------------------------- nothing but ConfigError, whatever the value

HOSTILE_VALUES = [math.nan, -math.inf, 1e308, -(10**400), 10**400, "1e3", "", True, [], [1, 2], {}, {"a": 1}, 0.0, -0.0]


def _leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, (*path, i))
    else:
        yield path


@pytest.mark.parametrize("path", list(_leaves(raw())), ids=lambda p: ".".join(map(str, p)))
def test_any_value_anywhere_loads_or_is_one_config_error(path):
    for value in HOSTILE_VALUES:
        data = raw()
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value
        try:
            parse_config(data)
        except ConfigError as error:
            assert "\n" not in str(error) and len(str(error)) < 400


# ---------------------------------------------------------------- unknown keys (issue 11: a typo was silently ignored)


@pytest.mark.parametrize(
    "line, replacement, expected",
    [
        (
            "walk_radius_m = 500",
            "walk_radius = 500",
            "unknown key 'coverage.walk_radius'; did you mean 'walk_radius_m'? "
            "(the keys of [coverage] are: walk_radius_m, max_pairs, standard, distance)",
        ),
        (
            "set_cost_cny = 50000",
            "set_cost_yuan = 50000",
            "unknown key 'cost.set_cost_yuan'; did you mean 'set_cost_cny'?",
        ),
        (
            "[optimal]",
            "[optimall]",
            "unknown key 'optimall'; did you mean 'optimal'? (the keys of the file's top level are: city,",
        ),
        (
            "max_communities = 200000",
            "max_communities = 200000\nzoom = 12",
            "unknown key 'map.zoom' (the keys of [map] are: max_communities, shapes_at_once, shapes_min_zoom)",
        ),
        (
            'name_en = "City budget"',
            'name_en = "City budget"\nbudget = 5',
            "unknown key 'programs[0].budget'; did you mean 'budget_cny'?",
        ),
        (
            'bureau_en = "Liuzhou Sports Bureau"',
            'bureau_en = "Liuzhou Sports Bureau"\nbureau_em = "x"',
            "unknown key 'city.bureau_em'; did you mean 'bureau_en'?",
        ),
    ],
)
def test_an_unknown_key_is_named_with_the_nearest_valid_one(tmp_path, line, replacement, expected):
    message = refusal(tmp_path, line, replacement)
    assert message.startswith(f"config.toml: {expected}")
    assert "\n" not in message


def test_a_misspelt_key_is_refused_even_when_the_right_one_is_also_there():
    data = raw()
    data["intake"]["max_upload_mbs"] = 10  # before: silently ignored, the limit stayed 200
    with pytest.raises(ConfigError, match=r"unknown key 'intake.max_upload_mbs'; did you mean 'max_upload_mb'\?"):
        parse_config(data)


def test_a_table_written_as_a_value_is_refused_by_name():
    data = raw()
    data["coverage"] = 500
    with pytest.raises(
        ConfigError, match=r"^config.toml: 'coverage' must be a table \(\[coverage\] followed by its keys\), got 500$"
    ):
        parse_config(data)
    data = raw()
    data["priority"]["weights"] = [1, 2]
    with pytest.raises(ConfigError, match=r"'priority.weights' has the wrong type \(list: \[1, 2\]\)"):
        parse_config(data)
    data = raw()
    data["coverage"]["standard"] = 1  # a number where a word belongs
    with pytest.raises(ConfigError, match=r"'coverage.standard' must be \"inside\" or \"walk\", got 1"):
        parse_config(data)


def test_the_service_standard_is_inside_by_default_and_the_old_switch_says_what_replaced_it():
    data = raw()
    assert parse_config(data).standard == "inside"
    del data["coverage"]["standard"]
    assert parse_config(data).standard == "inside"  # a configuration written before the key
    data["coverage"]["standard"] = "walk"
    assert parse_config(data).standard == "walk"
    data["coverage"]["standard"] = "15min"
    with pytest.raises(ConfigError, match=r"'coverage.standard' must be \"inside\" or \"walk\", got '15min'"):
        parse_config(data)
    data = raw()
    data["eligibility"]["served_within_radius_is_served"] = True
    with pytest.raises(ConfigError, match=r"replaced by 'coverage.standard': write standard = \"walk\""):
        parse_config(data)


# ---------------------------------------------------------------- the city's and the bureau's names


def test_city_and_bureau_names_come_from_the_file():
    config = load_config()
    assert (config.city_name("zh"), config.city_name("en")) == ("柳州市", "Liuzhou")
    assert (config.bureau_name("zh"), config.bureau_name("en")) == ("柳州市体育局", "Liuzhou Sports Bureau")
    data = raw()
    data["city"] = {
        "name_zh": "桂林市",
        "name_en": "Guilin",
        "bureau_zh": "桂林市体育局",
        "bureau_en": "Guilin Sports Bureau",
    }
    other = parse_config(data)
    assert (other.city_name(), other.bureau_name("en")) == ("桂林市", "Guilin Sports Bureau")


@pytest.mark.parametrize("key", ["name_zh", "name_en", "bureau_zh", "bureau_en"])
@pytest.mark.parametrize("value", ["", "  ", 7])
def test_city_names_must_be_non_empty_text(key, value):
    with pytest.raises(ConfigError, match=rf"^config.toml: 'city.{key}' must be a non-empty text in quotes, got "):
        parse_config(with_value(f"city.{key}", value))


def test_a_missing_city_table_is_named():
    data = raw()
    del data["city"]
    with pytest.raises(ConfigError, match=r"^config.toml: missing key 'city'$"):
        parse_config(data)


# ---------------------------------------------------------------- one radius rule (issue 11: five places, four rules)


@pytest.mark.parametrize("radius", [0.5, 1, 500, 5_000])
def test_the_radius_rule_accepts_the_range(radius):
    assert check_walk_radius(radius) == radius
    assert with_overrides(load_config(), walk_radius_m=radius).walk_radius_m == radius


@pytest.mark.parametrize("radius", [0, -1, 5_000.5, 50_000, math.nan, math.inf, True, "500", None])
def test_the_radius_rule_refuses_the_rest_as_a_data_error(radius):
    with pytest.raises(DataError, match=r"^the walk radius must be a positive number of metres up to 5,000, got "):
        check_walk_radius(radius)
    if radius is not None:  # None in with_overrides means "keep the configured radius"
        with pytest.raises(DataError):
            with_overrides(load_config(), walk_radius_m=radius)


def test_config_and_the_radius_rule_are_the_same_rule():
    assert NUMERIC_KEYS["coverage.walk_radius_m"][1] is WALK_RADIUS_RULE
    assert WALK_RADIUS_RULE.high == MAX_WALK_RADIUS_M == 5_000 and WALK_RADIUS_RULE.low == 0
    assert not WALK_RADIUS_RULE.low_inclusive


def test_config_error_is_a_data_error():
    assert issubclass(ConfigError, DataError) and issubclass(DataError, ValueError)


def test_with_overrides_replaces_only_what_it_is_given():
    base = load_config()
    changed = with_overrides(base, walk_radius_m=250, weights={"population": 1}, budgets={"city": 100_000, "extra": 7})
    assert changed.walk_radius_m == 250.0 and changed.priority_weights == {"population": 1}
    assert changed.program("city").budget_cny == 100_000 and changed.program("region").budget_cny == 5_000_000
    assert changed.program("extra").budget_cny == 7
    assert base.walk_radius_m == 500 and base.program("city").budget_cny == 600_000  # the original is untouched
    assert with_overrides(base) == base


def test_every_door_uses_the_one_radius_rule(capsys):
    """config.toml (above), both CLI --radius and the app's radius input share WALK_RADIUS_RULE."""
    from streamlit.testing.v1 import AppTest

    from geo.cli import main

    for command in ("coverage", "plan"):
        assert main([command, "--radius", "5000.5"]) == 2
        assert "must be a positive number of metres up to 5,000, got '5000.5'" in capsys.readouterr().err
        assert main([command, "--radius", "0"]) == 2
        assert "got '0'" in capsys.readouterr().err
    app = AppTest.from_file("../app.py", default_timeout=120)
    app.run()
    radius = app.sidebar.number_input(key="widget_walk_radius_m")
    assert (radius.min, radius.max) == (1, MAX_WALK_RADIUS_M)
    assert WALK_RADIUS_RULE.accepts(radius.min) and WALK_RADIUS_RULE.accepts(radius.max)
    assert not WALK_RADIUS_RULE.accepts(radius.max + 0.5)


def test_the_notice_period_is_read_and_a_file_without_notice_table_keeps_seven_days():
    assert load_config().notice_period_days == 7
    data = raw()
    data["notice"]["period_days"] = 10
    assert parse_config(data).notice_period_days == 10
    del data["notice"]
    assert parse_config(data).notice_period_days == 7


def test_accounts_idle_minutes_and_sso_domain_default_and_are_checked():
    assert load_config().session_idle_minutes == 30 and load_config().sso_email_domain == ""
    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    del data["accounts"]  # a config.toml written before [accounts]: 30 minutes, no e-mail mapping
    assert parse_config(data).session_idle_minutes == 30
    data["accounts"] = {"sso_email_domain": " City.Gov.CN "}
    assert parse_config(data).sso_email_domain == "city.gov.cn"
    for bad in ("@city.gov.cn", "city", "a b.cn", 3):
        data["accounts"] = {"sso_email_domain": bad}
        with pytest.raises(ConfigError, match=r"'accounts\.sso_email_domain' must be"):
            parse_config(data)


def test_distance_is_straight_or_network_and_straight_when_left_out():
    data = raw()
    assert parse_config(data).distance == "straight"
    data["coverage"]["distance"] = "network"
    assert parse_config(data).distance == "network"
    del data["coverage"]["distance"]
    assert parse_config(data).distance == "straight"
    data["coverage"]["distance"] = "walking"
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert "coverage.distance" in str(caught.value) and "straight" in str(caught.value)
