"""File-level messages (notes, warnings, errors of reading and importing a file) in the page's language.

A message is a :class:`geo.errors.Message`: its ``str()`` is the English phrase (the CLI, logs and
tests that match English keep reading it), and it carries the catalogue key and values that say
it in Chinese on the app's pages.
"""

import ast
import pickle
import re
import string
import tomllib
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo.config import load_config
from geo.errors import DataError, Message, data_error, said
from geo.intake.importer import import_file
from geo.intake.worker import run_bounded
from views import shared

ROOT = Path(__file__).resolve().parents[1]
CHINESE = re.compile(r"[\u4e00-\u9fff]")
APP = "../app.py"

# A survey whose notes and warnings touch most of what a check says about a file: repeated
# headers (one with a leading space), a column named as the city file's feature ID, a row without
# community ID nor population, and an extension that does not match the content.
SURVEY = (
    "小区编号,名称,区县,人口,经度,纬度,备注, 备注,fid\n"
    ",阳光花园,城中区,,109.41,24.31,a,b,1\n"
    "450202-0001,河东小区,城中区,1200,109.42,24.32,c,d,2\n"
)
USER_NAME = "城中区调查.csv"


def catalogue(lang):
    with open(ROOT / "geo" / "i18n" / f"{lang}.toml", "rb") as file:
        return tomllib.load(file)["message"]


def fields(phrase):
    return sorted((name, spec) for _, name, spec, _ in string.Formatter().parse(phrase) if name is not None)


def keys_in_code():
    """(module, key) of every ``Message("key", …)`` and ``data_error("key", …)`` with a literal key,
    and the prefixes of keys built with an f-string (``Message(f"kind_{kind}")``)."""
    literal, prefixes = set(), set()
    for path in sorted((ROOT / "geo").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("Message", "data_error")):
                continue
            if not node.args:
                continue
            first = node.args[0]
            where = str(path.relative_to(ROOT))
            if isinstance(first, ast.Constant):
                literal.add((where, first.value))
            elif isinstance(first, ast.JoinedStr) and isinstance(first.values[0], ast.Constant):
                prefixes.add((where, first.values[0].value))
    return literal, prefixes


@pytest.fixture(scope="module")
def config():
    return load_config()


@pytest.fixture(scope="module")
def survey_result(tmp_path_factory, config):
    folder = tmp_path_factory.mktemp("survey")
    path = folder / "upload.txt"  # stored under a fixed name, shown under the user's
    path.write_text(SURVEY, encoding="utf-8")
    return import_file(path, "communities", None, config, display_name=USER_NAME)


# --------------------------------------------------------------------------- the catalogue


def test_every_message_key_in_the_code_is_in_both_catalogues_with_the_same_placeholders():
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en), sorted(set(zh) ^ set(en))
    for key in zh:
        assert fields(zh[key]) == fields(en[key]), key
    literal, prefixes = keys_in_code()
    assert len(literal) > 50 and prefixes  # the scan sees the messages
    assert [(where, key) for where, key in literal if key not in en] == []
    for where, prefix in prefixes:
        assert any(key.startswith(prefix) for key in en), (where, prefix)
    # Keys built from a code: every code they are built from has its phrase.
    for code in ("gpkg", "geojson", "zip", "csv", "kml", "xlsx"):
        assert f"format_{code}" in en and f"format_a_{code}" in en
    for kind in ("communities", "fitness_paths", "districts"):
        assert f"kind_{kind}" in en
    for name in ("fid", "geom", "geometry", "geometry_approximate"):
        assert f"reserved_use_{name}" in en
    for noun in ("row", "feature"):
        assert {f"rows_{noun}", f"rows_{noun}_many", f"rows_{noun}_more"} <= set(en)


def test_the_supported_formats_said_by_messages_are_the_ones_the_readers_list():
    from geo.data.io import IMPORT_FORMATS, SUPPORTED_FORMATS

    assert Message("formats_supported") == "supported formats: " + "; ".join(SUPPORTED_FORMATS)
    assert Message("formats_import", sheet="小区调查") == "supported formats: " + "; ".join(IMPORT_FORMATS)


def test_a_key_missing_from_the_catalogue_is_an_error():
    with pytest.raises(KeyError):
        Message("no_such_message")


# --------------------------------------------------------------------------- the message object


def test_a_message_is_its_english_text_and_says_itself_in_chinese():
    inner = Message("label_file", kind=Message("kind_communities"), file="调查.csv")
    message = Message("file_too_large", file=inner, size=12_345_678, limit=50)
    assert isinstance(message, str)
    assert message == (
        "communities file 调查.csv is 12,345,678 bytes, above the upload limit of 50 MB (config.toml [intake] "
        "max_upload_mb); split the file or ask the administrator to raise the limit"
    )
    assert message.in_language("en") == str(message)
    chinese = message.in_language("zh")
    assert chinese.startswith("小区文件 调查.csv 有 12,345,678 字节") and "communities" not in chinese
    assert said(message, "zh") == chinese and said("plain text", "zh") == "plain text"


def test_a_message_and_its_error_survive_a_pickle_with_key_and_values():
    error = data_error("file_empty", file="a.csv", supported=Message("formats_supported"))
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is DataError and isinstance(copy, ValueError) and str(copy) == str(error)
    assert copy.args[0].key == "file_empty" and said(copy, "zh").startswith("a.csv 是空文件；支持的格式：")
    assert said(ValueError("not keyed"), "zh") == "not keyed"


# --------------------------------------------------------------------------- a real import


def english_outside_data(message: str) -> str:
    """``message`` without what it quotes of the user's data: the file's name, quoted headers, and
    a Chinese header named in parentheses after its English word (``community ID (小区编号)``)."""
    stripped = message.replace(USER_NAME, "")
    stripped = re.sub(r"'[^']*'", "", stripped)
    return re.sub(r"\([^)]*\)", "", stripped)


def test_the_notes_and_warnings_of_an_import_are_said_in_the_pages_language(survey_result):
    warnings = survey_result.warnings
    assert len(warnings) >= 4 and all(isinstance(w, Message) for w in warnings)
    english = [said(w, "en") for w in warnings]
    assert english == [str(w) for w in warnings]  # the CLI's words, unchanged
    assert any("columns 7, 8 have the same header '备注' / ' 备注'" in w for w in english)
    assert any("the column 'fid' is kept as 'fid_2'" in w for w in english)
    assert any(w.startswith("row 2: no community ID (小区编号)") for w in english)
    assert all(USER_NAME in w for w in english if "file" in w)  # the user's name, not the stored one
    assert [w for w in english if CHINESE.search(english_outside_data(w))] == []

    chinese = [said(w, "zh") for w in warnings]
    assert any(w.startswith(f"小区文件 {USER_NAME}：第 7, 8 列的表头相同") for w in chinese)
    assert any("'fid' 改名为 'fid_2'" in w for w in chinese)
    assert any(w.startswith("第 2 行：没有小区编号") for w in chinese)
    assert any(w.startswith("第 2 行：未填人口，已按户数或占地面积估算") for w in chinese)
    for w in chinese:  # no English sentence left: only the file's headers and names
        assert not re.search(r"\b(the|is|are|has|have|column|columns|row|file|read)\b", english_outside_data(w)), w


def test_an_extension_that_does_not_match_is_a_note_in_the_pages_language(tmp_path, config):
    path = tmp_path / "upload.xlsx"
    path.write_text(SURVEY, encoding="utf-8")
    with pytest.raises(DataError) as raised:
        import_file(path, "communities", None, config, display_name="调查.xlsx")
    assert str(raised.value).startswith("调查.xlsx has extension .xlsx but its content is not xlsx")
    assert said(raised.value, "zh").startswith("调查.xlsx 的扩展名是 .xlsx，但内容不是 xlsx；支持的格式：")

    geojson = tmp_path / "upload.csv"
    geojson.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    result = import_file(geojson, "communities", None, config, display_name="调查.csv")
    [note] = [w for w in result.warnings if w.key == "note_extension"]
    assert note == "调查.csv has the extension .csv but holds a GeoJSON; read as a GeoJSON"
    assert said(note, "zh") == "调查.csv 的扩展名是 .csv，但内容是GeoJSON 文件；已按GeoJSON 文件读取"


def zip_bomb(path: Path) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("layer.shp", b"\0" * (8 << 20))
        archive.writestr("layer.dbf", b"")
        archive.writestr("layer.shx", b"")
    return path


@pytest.mark.parametrize(
    "write, english, chinese",
    [
        (lambda p: p.write_bytes(b""), "调查.csv is empty; supported formats:", "调查.csv 是空文件；支持的格式："),
        (
            lambda p: p.write_text("甲,乙\n1,2\n", encoding="utf-8"),
            "communities file 调查.csv has no recognisable column (columns present: 甲, 乙)",
            "小区文件 调查.csv 没有可识别的列（现有的列：甲, 乙）",
        ),
        (
            lambda p: p.write_text('名称,人口\n"a,1\n', encoding="utf-8"),
            "communities file 调查.csv cannot be read as CSV:",
            "小区文件 调查.csv 无法按 CSV 读取：",
        ),
        (
            lambda p: p.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100),
            "调查.csv is an old-style Excel .xls",
            "调查.csv 是旧版 Excel .xls 文件",
        ),
        (zip_bomb, "调查.csv: member 'layer.shp' would unpack to", "调查.csv：成员 'layer.shp' 解压后将是压缩大小的"),
    ],
    ids=["empty", "no-column", "bad-csv", "xls", "zip-bomb"],
)
def test_file_level_errors_are_said_in_the_pages_language(tmp_path, config, write, english, chinese):
    path = tmp_path / "upload.csv"
    write(path)
    with pytest.raises(DataError) as raised:
        import_file(path, "communities", None, config, display_name="调查.csv")
    assert str(raised.value).startswith(english)  # the CLI's English, as before
    assert said(raised.value, "zh").startswith(chinese)
    assert not re.search(r"\b(the|is|has|cannot|file)\b", said(raised.value, "zh").split("（")[0])


def test_limits_are_said_in_the_pages_language(tmp_path, config):
    from dataclasses import replace

    path = tmp_path / "upload.csv"
    path.write_text(SURVEY * 3, encoding="utf-8")
    small = replace(config, max_upload_mb=0.0001)
    with pytest.raises(DataError) as raised:
        import_file(path, "communities", None, small, display_name="调查.csv")
    assert " bytes, above the upload limit of 0.0001 MB" in str(raised.value)
    assert "字节，超过上传上限 0.0001 MB" in said(raised.value, "zh")

    few = replace(config, max_rows=1)
    with pytest.raises(DataError) as raised:
        import_file(path, "communities", None, few, display_name="调查.csv")
    assert str(raised.value).startswith("communities file 调查.csv has more than 1 data rows, above the limit of 1")
    assert said(raised.value, "zh").startswith("小区文件 调查.csv 有超过 1 个数据行，超过上限 1 行")
    assert "校验前已拒绝" in said(raised.value, "zh")


def test_an_error_from_the_bounded_import_keeps_its_key(tmp_path, config):
    """The app imports in a child process: the error comes back whole, still said in either language."""
    path = tmp_path / "upload.csv"
    path.write_bytes(b"")
    with pytest.raises(DataError) as raised:
        run_bounded(
            import_file, (path, "communities", None, config), {"display_name": "调查.csv"}, seconds=60, memory_mb=4096
        )
    assert said(raised.value, "zh").startswith("调查.csv 是空文件")
    assert str(raised.value).startswith("调查.csv is empty")


# --------------------------------------------------------------------------- the app


class FakeStreamlit:
    def __init__(self, lang):
        self.session_state = {"lang": lang}
        self.errors: list[str] = []

    def error(self, message):
        self.errors.append(message)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_fail_gently_says_a_keyed_error_in_the_pages_language(monkeypatch, lang):
    fake = FakeStreamlit(lang)
    monkeypatch.setattr(shared, "st", fake)
    shared.fail_gently(data_error("file_empty", file="调查.csv", supported=Message("formats_import", sheet="小区调查")))
    [shown] = fake.errors
    if lang == "zh":
        assert "调查\\.csv 是空文件" in shown and "empty" not in shown
    else:
        assert "调查\\.csv is empty" in shown and not CHINESE.search(shown.replace("小区调查", "").replace("调查", ""))


@pytest.fixture(scope="module")
def assembled(survey_result):
    from geo.config import DEFAULT_DATA_PATH
    from geo.intake.assemble import assemble_city
    from geo.pipeline import load_city

    return assemble_city(load_city(DEFAULT_DATA_PATH), survey_result, "merge")


@pytest.mark.parametrize("language", ["中文", "English"])
def test_the_intake_page_shows_the_files_notes_in_its_language(survey_result, assembled, language):
    """One run of the app with a checked upload in the session (AppTest cannot upload a file)."""
    assert "kept the city's value" in set(assembled.conflicts["resolution"])  # the CLI's English
    app = AppTest.from_file(APP, default_timeout=120)
    app.run()
    if language == "English":
        app.sidebar.radio(key="language_choice").set_value("English").run()
    app.switch_page("views/intake.py")
    app.session_state["intake_results"] = (survey_result, None, assembled, USER_NAME)
    app.run()
    cells = {str(value) for table in app.dataframe for column in table.value.columns for value in table.value[column]}
    if language == "中文":
        assert {"保留当前数据的取值", "图形不同"} <= cells and "kept the city's value" not in cells
    else:
        assert {"kept the city's value", "geometry"} <= cells
    assert not app.exception, app.exception
    shown = [warning.value for warning in app.warning]
    assert len(shown) >= len(survey_result.warnings)
    text = " ".join(shown).replace("\\", "")
    if language == "中文":
        assert "第 7, 8 列的表头相同" in text and "第 2 行：没有小区编号" in text
        assert "have the same header" not in text and "no community ID" not in text
    else:
        assert "columns 7, 8 have the same header" in text and "row 2: no community ID" in text
        assert [w for w in shown if CHINESE.search(english_outside_data(w.replace("\\", "")))] == []


# --------------------------------------------------------------------------- the strict reader (the bureau's own data)


def test_the_strict_readers_errors_are_said_in_the_pages_language(tmp_path):
    import geopandas as gpd
    from shapely.geometry import Point

    from geo.data.io import read_layer

    table = tmp_path / "小区.csv"
    table.write_text("name,longitude,latitude\nA,109.4,24.3\n", encoding="utf-8")
    with pytest.raises(DataError) as raised:
        read_layer(table, "communities")
    assert str(raised.value).startswith("communities file 小区.csv is missing required column 'community_id' (also")
    assert said(raised.value, "zh").startswith("小区文件 小区.csv 缺少必需的列 'community_id'（另缺：")

    bad = tmp_path / "paths.csv"
    bad.write_text("path_id,name,longitude,latitude\nP1,A,east,24.3\n", encoding="utf-8")
    with pytest.raises(DataError) as raised:
        read_layer(bad, "fitness_paths")
    assert "column 'longitude', data row 1 (1-based, header not counted): cannot read 'east' as a number" in str(
        raised.value
    )
    assert "列 'longitude'，第 1 个数据行（从 1 起数，不含表头）：无法把 'east' 读作数字" in said(raised.value, "zh")

    layers = tmp_path / "city.gpkg"
    for name in ("a", "b"):
        gpd.GeoDataFrame({"x": [1]}, geometry=[Point(109.4, 24.3)], crs=4326).to_file(layers, layer=name)
    with pytest.raises(DataError) as raised:
        read_layer(layers, "communities")
    assert str(raised.value) == "city.gpkg has 2 layers and none is named 'communities'; pass layer= one of: a, b"
    assert (
        said(raised.value, "zh")
        == "city.gpkg 有 2 个图层，但没有名为 'communities' 的图层；请指定其中一个图层（layer=）：a, b"
    )


def test_a_city_with_repeated_ids_is_said_in_the_pages_language():
    import geopandas as gpd
    from shapely.geometry import box

    from geo.intake.merge import merge_returns

    city = gpd.GeoDataFrame(
        {"community_id": ["A", "A"], "name": ["x", "y"], "district_code": ["1", "1"]},
        geometry=[box(0, 0, 1, 1), box(1, 1, 2, 2)],
        crs=4326,
    )
    with pytest.raises(DataError) as raised:
        merge_returns(city, [city.iloc[:0]])
    assert str(raised.value) == "the city's community_id values must be unique; repeated: A"
    assert said(raised.value, "zh") == "当前数据的小区编号（community_id）必须唯一；重复的有：A"


@pytest.mark.parametrize(
    "typed, zh, en",
    [
        ("EPSG:999999", "'EPSG:999999' 不是 PROJ 已知的 EPSG 代码", "'EPSG:999999' is not an EPSG code known to PROJ"),
        (
            "北京54",
            "未知的坐标系 '北京54'；请使用 wgs84, gcj02, bd09 之一",
            "unknown coordinate system '北京54'; use one of wgs84",
        ),
    ],
)
def test_an_unknown_coordinate_system_typed_on_the_data_page_is_said_in_both_languages(typed, zh, en):
    from geo.data.crs import normalise_crs_name

    with pytest.raises(DataError) as caught:
        normalise_crs_name(typed)
    assert str(caught.value).startswith(en)
    assert said(caught.value, "zh").startswith(zh) and said(caught.value, "en").startswith(en)
