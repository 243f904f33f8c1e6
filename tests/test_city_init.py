"""``geo city init`` and ``geo import`` on files shaped like another city's survey (tests/othercity.py).

Hefei (Anhui), CGCS2000 Gauss–Krüger zone 39, the surveyor's column names, no population, no open
space, no IDs: the answers are worked in tests/othercity.py.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from geo.cli import main
from geo.data.identity import identity_of
from geo.errors import DataError, said
from geo.intake.newcity import build_city, parse_map_options, write_city
from geo.pipeline import coverage_report, load_city
from tests import othercity


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return othercity.write_files(tmp_path_factory.mktemp("hefei"))


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize("with_districts", [True, False])
def test_city_init_coverage_and_plan_on_another_citys_files(files, tmp_path, capsys, with_districts):
    out = tmp_path / "hefei.gpkg"
    argv = ["city", "init", "--out", str(out), "--communities", str(files["communities"])]
    argv += ["--fitness-paths", str(files["fitness_paths"]), "--name", "合肥市", "--name-en", "Hefei", "--json"]
    if with_districts:
        argv += ["--districts", str(files["districts"])]
    status, printed, err = run(capsys, *argv)
    assert status == 0, err
    report = json.loads(printed)
    # The CRS was guessed from the zone number in the eastings, and said so.
    assert report["crs"] == {"used": othercity.GK_WITH_ZONE, "assumed": True}
    assert any("39" in w and othercity.GK_WITH_ZONE in w for w in report["warnings"])
    assert report["districts"] == {"source": "file" if with_districts else "column", "count": 2}
    assert report["communities"] | {"crs": None} == {
        "input_rows": 12,
        "accepted": 12,
        "rejected": 0,
        "repaired": 0,
        "population_estimated": 12,
        "crs": None,
    }
    assert report["fitness_paths"]["accepted"] == 1
    assert report["mapping"]["communities"] == {
        "name": "小区名称",
        "district_name": "所属行政区",
        "households": "户数（户）",
        "built_year": "竣工年份",
    }

    city = load_city(out)
    assert identity_of(city.other_layers).name_zh == "合肥市"
    communities = city.communities.set_index("name")
    for i in range(othercity.N_COMMUNITIES):
        assert communities.loc[f"测试小区{i}", "population"] == othercity.expected_population(i)
    assert set(communities["population_source"]) == {"households", "area"}
    # Community 5 names no district: placed in the one it lies in (蜀山区, the first six).
    assert communities.loc["测试小区5", "district_name"] == "蜀山区"
    assert sorted(city.districts["district_name"]) == ["包河区", "蜀山区"]
    if with_districts:
        assert sorted(city.districts["district_code"]) == ["340104", "340111"]
    else:
        assert city.districts["outline_approximate"].all()

    # Coverage, worked on paper: the path is at community 0's centre; communities 300 m apart
    # (150 m wide), so community 1 is 225 m away and community 2 525 m away: 2 served within 500 m.
    report = coverage_report(city, 500)
    assert report.total["served_inside"] == 1 and report.total["served_within_radius"] == 2
    assert report.total["population_served_within_radius"] == 2 * othercity.expected_population(0)

    status, printed, err = run(capsys, "coverage", "--data", str(out), "--json", "--lang", "zh")
    assert status == 0, err
    assert json.loads(printed)["total"]["served_within_radius"] == 2
    status, printed, err = run(capsys, "plan", "--data", str(out), "--json")
    assert status == 0, err
    xlsx = tmp_path / "plan.xlsx"
    assert run(capsys, "eligibility", "--data", str(out), "--out", str(tmp_path / "e.csv"))[0] == 0
    assert run(capsys, "plan", "--data", str(out), "--out", str(xlsx))[0] == 0
    assert xlsx.stat().st_size > 0


def test_a_declared_crs_per_file_and_a_bare_easting(files, tmp_path, capsys):
    """Eastings without the zone number cannot be placed by a guess: the user declares the zone."""
    bare = othercity.write_files(tmp_path / "bare", gk_crs=othercity.GK_WITHOUT_ZONE)
    out = tmp_path / "bare.gpkg"
    base = ["city", "init", "--out", str(out), "--communities", str(bare["communities"])]
    status, _, err = run(capsys, *base)
    assert status == 2 and "EPSG:" in err  # asks for the central meridian, naming candidates
    status, printed, err = run(
        capsys, *base, "--crs", othercity.GK_WITHOUT_ZONE, "--districts", str(bare["districts"]), "--json"
    )
    assert status == 0, err
    report = json.loads(printed)
    assert report["crs"] == {"used": othercity.GK_WITHOUT_ZONE, "assumed": False}
    assert report["communities"]["accepted"] == 12
    # One --crs for the GK file, another for a WGS84 file: LAYER=CRS.
    status, printed, err = run(
        capsys,
        *base,
        "--crs",
        othercity.GK_WITHOUT_ZONE,
        "--crs",
        "fitness_paths=wgs84",
        "--fitness-paths",
        str(bare["fitness_paths"]),
        "--json",
    )
    assert status == 0, err
    assert json.loads(printed)["fitness_paths"]["accepted"] == 1


def test_map_names_the_users_column_and_a_wrong_one_lists_the_files(files, tmp_path):
    renamed = tmp_path / "survey.csv"
    table = pd.read_csv(files["communities"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table = table.rename(columns={"小区名称": "楼盘", "户数（户）": "住户总计"})
    table.to_csv(renamed, index=False, encoding="utf-8-sig")
    mapping = parse_map_options(["communities.name=楼盘", "communities.households=住户总计"])
    new_city = build_city(renamed, column_map=mapping, name="合肥市")
    assert new_city.mapping["communities"]["name"] == "楼盘"
    assert new_city.city.communities["name"].tolist()[0] == "测试小区0"
    assert (new_city.city.communities["population_source"] == "households").sum() == 8

    with pytest.raises(DataError) as wrong:
        build_city(renamed, column_map=parse_map_options(["communities.name=小区名"]))
    message = said(wrong.value, "zh")
    assert "小区名" in message and "'楼盘'" in message and "'住户总计'" in message  # the file's columns listed
    for bad in (["communities.nom=楼盘"], ["parks.name=楼盘"], ["communities.name"], ["name=楼盘"]):
        with pytest.raises(DataError):
            parse_map_options(bad)


def test_nothing_accepted_exits_3_with_its_json(files, tmp_path, capsys):
    """A file read but wholly rejected is exit 3 (2 stays "could not read"), the JSON printed."""
    out, rejects = tmp_path / "a.gpkg", tmp_path / "r.csv"
    # The Hefei file imported into the Liuzhou sample's districts: every row is outside the city.
    status, printed, _ = run(
        capsys,
        "import",
        str(files["communities"]),
        "--layer",
        "communities",
        "--out",
        str(out),
        "--rejects",
        str(rejects),
        "--json",
    )
    assert status == 3
    summary = json.loads(printed)
    assert summary["input_rows"] == 12 and summary["accepted"] == 0 and summary["rejected"] == 12
    assert len(pd.read_csv(rejects, encoding="utf-8-sig")) == 12  # nothing lost: every row in the rejects


def test_import_into_a_new_city_checks_its_own_districts(files, tmp_path, capsys):
    city = tmp_path / "hefei.gpkg"
    write_city(build_city(files["communities"], districts=files["districts"], name="合肥市"), city)
    status, printed, err = run(
        capsys,
        "import",
        str(files["fitness_paths"]),
        "--layer",
        "fitness_paths",
        "--data",
        str(city),
        "--out",
        str(tmp_path / "p.gpkg"),
        "--rejects",
        str(tmp_path / "p.csv"),
        "--json",
    )
    assert status == 0, err
    assert json.loads(printed)["accepted"] == 1


def test_the_rejects_keep_every_row_and_the_counts_add_up(files, tmp_path):
    broken = tmp_path / "broken.csv"
    table = pd.read_csv(files["communities"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.loc[3, "WKT"] = "POLYGON ((1 2, 3"  # unreadable
    table.loc[4, "小区名称"] = ""  # neither a name nor an ID
    table.to_csv(broken, index=False, encoding="utf-8-sig")
    new_city = build_city(broken, districts=files["districts"], crs=othercity.GK_WITH_ZONE)
    result = new_city.results["communities"]
    assert len(result.accepted) + len(result.rejects) == result.input_rows == 12
    assert sorted(result.rejects["sheet_row"]) == [5, 6]


def test_the_alias_table_in_data_readme_lists_every_recognised_header():
    from pathlib import Path

    from geo.data import schema

    readme = (Path(__file__).resolve().parents[1] / "data" / "README.md").read_text(encoding="utf-8")
    for field_name, synonyms in schema.COLUMN_SYNONYMS.items():
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{field_name}` |"))
        assert all(synonym in row for synonym in synonyms), field_name


@pytest.mark.parametrize(
    "header, field_name",
    [
        ("小区名称", "name"),
        ("小区", "name"),
        ("Community Name", "name"),
        ("所属行政区", "district_name"),
        ("ＤＩＳＴＲＩＣＴ", "district_name"),  # full-width
        ("常住人口（人）", "population"),
        ("人口数(人)", "population"),
        ("户数(户)", "households"),
        ("竣工年份", "built_year"),
        ("建成年代", "built_year"),
        ("空地面积(㎡)", "open_space_m2"),
        ("公共空间面积（平方米）", "open_space_m2"),
        ("占地面积 m2", "land_area_m2"),
        ("行政区划代码", "district_code"),
        ("小区ID", "community_id"),
    ],
)
def test_headers_as_people_write_them_are_recognised(header, field_name):
    from geo.data.headers import _rename_recognised

    renamed, headers = _rename_recognised(pd.DataFrame(columns=[header, "备注"]), "communities")
    assert headers == {field_name: header} and list(renamed.columns) == [field_name, "备注"]


def test_the_citys_name_and_contact_lines_are_stored_in_its_file(files, tmp_path, capsys):
    out = tmp_path / "hefei.gpkg"
    status, _, err = run(
        capsys,
        "city",
        "init",
        "--out",
        str(out),
        "--communities",
        str(files["communities"]),
        "--name",
        "合肥市",
        "--contact",
        "电话：0551-1234567",
        "--contact",
        "邮箱：tiyu@example.cn",
    )
    assert status == 0, err
    identity = identity_of(load_city(out).other_layers)
    assert (identity.name_zh, identity.contact_zh, identity.synthetic) == (
        "合肥市",
        ("电话：0551-1234567", "邮箱：tiyu@example.cn"),
        False,
    )


def test_a_plan_on_a_city_without_open_space_says_why_in_the_commands_language(files, tmp_path, capsys):
    """No open-space column: every community is to be surveyed on site; the plan buys nothing and
    says why, in --lang's language."""
    out = tmp_path / "hefei.gpkg"
    write_city(build_city(files["communities"], fitness_paths=files["fitness_paths"], name="合肥市"), out)
    status, printed, err = run(capsys, "plan", "--data", str(out), "--lang", "en", "--program", "city")
    assert status == 0, err
    standard, distance, head, *notes = printed.splitlines()
    assert standard == "Service standard: A set in every community"
    assert distance == "Distance: in a straight line"
    assert head.startswith("City budget [rank]: 0 sets")
    note = next(line for line in notes if "not considered" in line)
    assert "11 communities were not considered" in note
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in standard + distance + head + note)
    status, printed, err = run(capsys, "plan", "--data", str(out), "--lang", "zh", "--program", "city")
    assert any("11 个小区未纳入考虑" in line for line in printed.splitlines())


def test_the_map_and_counts_show_the_communities_to_be_surveyed(files):
    """Without open-space data, the unserved communities are 'to be surveyed on site': their own
    map layer and legend row, and their own count, not lumped with those that cannot host a set."""
    import json as json_module
    import re

    from geo.analysis.eligibility import eligibility_counts
    from geo.config import load_config
    from geo.plan import score_communities
    from geo.render import maps

    city = build_city(files["communities"], fitness_paths=files["fitness_paths"], name="合肥市").city
    scored = score_communities(city.communities, city.fitness_paths, load_config())
    counts = eligibility_counts(scored)
    # Under the standard in force (inside), the 11 without a set of their own: the plan's 11 left out.
    assert (counts["unserved_to_survey"], counts["unserved_ineligible"], counts["unserved_eligible"]) == (11, 0, 0)
    page = maps.coverage_map(city.districts, scored, city.fitness_paths, lang="en").get_root().render()
    data = json_module.loads(re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S).group(1))
    legend = {row["status"]: (row["count"], row["label"]) for row in data["legend"]["rows"]}
    assert legend["unserved_to_survey"] == (11, "No set inside, open space to be surveyed on site")
    assert legend["unserved_ineligible"][0] == 0


def test_a_field_mapped_to_nothing_is_not_read_even_when_recognised(files):
    """The user says the column detected for households is not households: it is not read, so the
    population is estimated from the area instead; the column stays in the city as the file's."""
    new_city = build_city(files["communities"], column_map={"communities": {"households": ""}}, name="合肥市")
    communities = new_city.city.communities
    assert set(communities["population_source"]) == {"area"}
    assert communities["households"].isna().all()
    assert "households" not in new_city.mapping["communities"] or not new_city.mapping["communities"]["households"]
    assert any(getattr(w, "key", None) == "rows_ids_made" for w in new_city.warnings)


@pytest.mark.parametrize("bad_wkt", ["POINT (117.21 31.81)", "POINT (0 0)", "POINT (3951933 3519942)"])
def test_one_mistyped_row_does_not_hide_the_files_coordinate_system(files, tmp_path, bad_wkt):
    """Eleven rows in Gauss–Krüger zone 39 and one in degrees, at the origin or with a digit dropped:
    the file is still taken as EPSG:4527 (said), and only that row is rejected, with its reason."""
    table = pd.read_csv(files["communities"], dtype=str, keep_default_na=False, encoding="utf-8-sig")
    table.loc[2, "WKT"] = bad_wkt
    survey = tmp_path / "survey.csv"
    table.to_csv(survey, index=False, encoding="utf-8-sig")
    result = build_city(survey, districts=files["districts"], name="合肥市").results["communities"]
    assert (result.crs, result.crs_assumed) == (othercity.GK_WITH_ZONE, True)
    assert len(result.accepted) == 11 and result.rejects["sheet_row"].tolist() == [4]
    assert result.rejects["reason_code"].iloc[0] in ("outside_city", "geometry_type", "invalid_geometry")
