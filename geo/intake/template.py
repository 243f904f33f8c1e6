"""The community survey template (Excel) that district offices fill in and return to the city."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.data.cells import append_xlsx_row
from geo.data.crs import is_storage_crs
from geo.data.files import atomic_write
from geo.i18n import COLUMN_LABELS, LANGS, check_lang, column_label

SURVEY_SHEET = {"zh": "小区调查", "en": "Community survey"}
INSTRUCTIONS_SHEET = {"zh": "填写说明", "en": "Instructions"}
LISTS_SHEET = "_lists"

# Rows 2..LAST_ROW carry the drop-down lists and checks: room for the largest district's returns.
LAST_ROW = 2000
CRS_CHOICES = ("WGS84", "GCJ-02", "BD-09")
YES_NO = {"zh": ("是", "否"), "en": ("Yes", "No")}
FIRST_YEAR = 1900
FIRST_APPLICATION_DATE = dt.date(2000, 1, 1)
# Mainland China's extent in degrees: catches longitude and latitude typed in each other's cell.
LONGITUDE_RANGE = (73.0, 136.0)
LATITUDE_RANGE = (3.0, 54.0)
BUREAU_OFFICE = {"zh": "市体育局群众体育科", "en": "the mass-sports section of the city sports bureau (市体育局群众体育科)"}

_REQUIRED_FILL = "FCE4D6"  # light orange: the header cells of required columns
_HEADER_FILL = "DDEBF7"    # light blue: the other header cells
_COLUMN_WIDTH_MIN = 8
_WIDE_CHARACTERS = re.compile(
    "[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf"
    "\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]"
)


@dataclass(frozen=True)
class _Column:
    """One survey column: its checks and the words the instructions sheet says about it."""

    name: str
    check: str                       # key of _CHECKS, or "" for free text
    required: tuple[str, str]        # (zh, en)
    meaning: tuple[str, str]
    unit: tuple[str, str] = ("", "")
    allowed: tuple[str, str] = ("", "")
    width: float = 12
    number_format: str = ""


# Headers the i18n table does not define (yet), (Chinese, English).
_EXTRA_HEADERS = {
    "longitude": ("经度", "Longitude"),
    "latitude": ("纬度", "Latitude"),
    "crs": ("坐标系", "Coordinate system"),
    "land_area_m2": ("占地面积（平方米）", "Land area (m²)"),
    "existing_sets": ("已有健身路径（套）", "Existing sets"),
    "application_date": ("申请日期", "Application date"),
    "remarks": ("备注", "Remarks"),
}

_REQUIRED = ("必填", "Required")
_OPTIONAL = ("选填", "Optional")
_RECOMMENDED = ("建议填写", "Recommended")
_LOCATION = ("经纬度与小区编号二选一", "Coordinates or community ID")

SURVEY_COLUMNS: tuple[_Column, ...] = (
    _Column("community_id", "", _LOCATION,
            ("市里已登记小区的编号（如 450202-0012）；新小区留空", "ID of a community the city already lists (e.g. 450202-0012); empty for a new one"),
            allowed=("与市里下发名单中的编号一致", "As in the list the city sent"), width=16, number_format="@"),
    _Column("name", "", _REQUIRED, ("小区名称，与门牌或物业名称一致", "Name of the community, as on its gate or management office"),
            allowed=("文字", "Text"), width=24, number_format="@"),
    _Column("district_name", "district", _REQUIRED, ("小区所在区县", "District or county the community lies in"),
            allowed=("从下拉列表中选择", "Choose from the drop-down list"), width=16),
    _Column("longitude", "longitude", _LOCATION, ("小区中心点经度", "Longitude of the community's centre"),
            ("度（小数）", "degrees (decimal)"), ("如 109.415321；填写时注明坐标系", "e.g. 109.415321; say which coordinate system"),
            width=12, number_format="0.000000"),
    _Column("latitude", "latitude", _LOCATION, ("小区中心点纬度", "Latitude of the community's centre"),
            ("度（小数）", "degrees (decimal)"), ("如 24.325678", "e.g. 24.325678"), width=12, number_format="0.000000"),
    _Column("crs", "crs", ("填了经纬度时必填", "Required with coordinates"),
            ("经纬度所用的坐标系", "Coordinate system of the longitude and latitude"),
            allowed=("WGS84、GCJ-02、BD-09（见下方说明）", "WGS84, GCJ-02, BD-09 (see below)"), width=12),
    _Column("land_area_m2", "area", _OPTIONAL, ("小区占地面积；没有小区边界时用来估算小区范围", "Land area; used to approximate the outline when none is drawn"),
            ("平方米", "m²"), ("≥ 0", "≥ 0"), width=14, number_format="0"),
    _Column("built_year", "year", _OPTIONAL, ("小区建成年份", "Year the community was built"),
            ("年", "year"), (f"{FIRST_YEAR}–今年", f"{FIRST_YEAR}–this year"), width=10, number_format="0"),
    _Column("households", "count", _OPTIONAL, ("住户数", "Number of households"), ("户", "households"), ("整数 ≥ 0", "whole number ≥ 0"),
            width=10, number_format="0"),
    _Column("population", "count", _RECOMMENDED, ("常住人口；不填则无法参与优先排序", "Residents; without it the community cannot be ranked"),
            ("人", "persons"), ("整数 ≥ 0", "whole number ≥ 0"), width=10, number_format="0"),
    _Column("share_60plus", "share", _OPTIONAL, ("60岁及以上居民占比", "Share of residents aged 60 and over"),
            ("0–1 小数", "fraction 0–1"), ("如 22% 填 0.22", "e.g. 22% is 0.22"), width=12, number_format="0.00"),
    _Column("share_under14", "share", _OPTIONAL, ("14岁以下居民占比", "Share of residents under 14"),
            ("0–1 小数", "fraction 0–1"), ("如 12% 填 0.12", "e.g. 12% is 0.12"), width=12, number_format="0.00"),
    _Column("open_space_m2", "area", _OPTIONAL, ("可用于安装健身器材的空地面积", "Open space usable for fitness equipment"),
            ("平方米", "m²"), ("≥ 0", "≥ 0"), width=14, number_format="0"),
    _Column("public_space_used_for_parking", "yes_no", _OPTIONAL, ("公共空间是否已被用作停车", "Is public space used for parking?"),
            allowed=("是 / 否", "Yes / No"), width=12),
    _Column("sports_land_planned", "yes_no", _OPTIONAL, ("建设时是否规划了体育用地", "Was land for sports planned when it was built?"),
            allowed=("是 / 否", "Yes / No"), width=12),
    _Column("existing_sets", "count", _OPTIONAL, ("小区内现有健身路径套数；没有填 0", "Fitness-path sets inside the community now; 0 if none"),
            ("套", "sets"), ("整数 ≥ 0", "whole number ≥ 0"), width=12, number_format="0"),
    _Column("application_date", "date", _OPTIONAL, ("小区（或社区）提出建设申请的日期；未申请留空", "Date the community applied for a set; empty if it has not"),
            allowed=("日期，如 2018-05-03", "A date, e.g. 2018-05-03"), width=14, number_format="yyyy-mm-dd"),
    _Column("remarks", "", _OPTIONAL, ("其他情况，如可用空地的位置", "Anything else, e.g. where the open space is"),
            allowed=("文字", "Text"), width=30, number_format="@"),
)

# The instructions sheet's fixed text, (Chinese, English); lists are paragraphs.
_TEXT = {
    "title": ("柳州市小区健身路径调查表 · 填写说明", "Liuzhou community fitness-path survey · instructions"),
    "purpose_heading": ("一、调查目的", "1. What the survey is for"),
    "purpose": (
        ["按照市体育局健身路径整改工作安排，请各区县摸清辖区内尚未建设健身路径的小区，",
         "市里汇总后确定建设优先顺序，安排市本级和自治区补助资金。",
         "请在“小区调查”工作表中每个小区填一行；已有健身路径的小区也请填写（“已有健身路径（套）”填实际套数）。"],
        ["The city sports bureau is finding the residential communities that still lack a fitness path (健身路径).",
         "The city combines the districts' returns to set priorities and spend the city budget and the regional grant.",
         "Fill one row per community in the “Community survey” sheet; list communities that already have a set too (with their number of sets)."],
    ),
    "required_heading": ("二、必填项", "2. Required"),
    "required": (
        ["每行必须填写：名称、区县；",
         "并且二选一：经度＋纬度（同时填写坐标系），或市里名单中已有的小区编号。",
         "表头为橙色的列为必填列（小区编号与经纬度二选一）；建议填写人口，否则该小区无法参与优先排序。"],
        ["Every row needs: Name and District;",
         "and either Longitude + Latitude (with the Coordinate system) or the ID of a community on the city's list.",
         "Orange headers mark required columns (the ID or the coordinates); please give the population too, or the community cannot be ranked."],
    ),
    "columns_heading": ("三、各列说明", "3. The columns"),
    "columns_header": (["列名", "含义", "单位", "是否必填", "填写要求 / 可选值"],
                       ["Column", "Meaning", "Unit", "Required?", "Allowed values"]),
    "crs_heading": ("四、坐标系怎么选", "4. Which coordinate system"),
    "crs": (
        ["高德地图、腾讯地图取的坐标：选 GCJ-02；",
         "百度地图取的坐标：选 BD-09；",
         "GPS 设备、手机定位原始坐标、天地图：选 WGS84。",
         "不确定时请在备注中写明坐标来源（例如“高德地图拾取”）。"],
        ["Coordinates picked on Amap (高德) or Tencent maps: GCJ-02;",
         "picked on Baidu maps: BD-09;",
         "from a GPS device, a phone's raw location or Tianditu (天地图): WGS84.",
         "If unsure, say in Remarks where the coordinates come from (e.g. “picked on Amap”)."],
    ),
    "submit_heading": ("五、如何提交", "5. How to submit"),
    "submit": (
        ["请勿修改表头、工作表名称和列的顺序；不要在“小区调查”表中填写示例行。",
         "填好后以 Excel 文件（.xlsx）报送市体育局群众体育科，文件名请注明区县名称和日期，例如“城中区_小区调查_20180503.xlsx”。"],
        ["Do not change the headers, the sheet names or the order of the columns; do not copy the example into the survey sheet.",
         f"Return the filled-in file (.xlsx) to {BUREAU_OFFICE['en']}, named with the district and the date, "
         "e.g. “Chengzhong_survey_20180503.xlsx”."],
    ),
    "example_heading": ("六、填写示例（仅供参考，请勿提交此行）", "6. An example row (for reference only; do not submit it)"),
    "example_name": ("示例：阳光花园", "Example: Sunshine Garden"),
    "example_remarks": ("小区东侧有约300平方米空地", "About 300 m² of open space on the east side"),
}

_CHECK_MESSAGES = {
    "district": ("请从下拉列表中选择区县。", "Choose a district from the list."),
    "yes_no": ("请从下拉列表中选择“是”或“否”。", "Choose Yes or No from the list."),
    "crs": ("请从下拉列表中选择坐标系：WGS84、GCJ-02 或 BD-09。", "Choose WGS84, GCJ-02 or BD-09 from the list."),
    "year": (f"建成年份应为 {FIRST_YEAR} 至今年之间的整数。", f"The year must be a whole number from {FIRST_YEAR} to this year."),
    "share": ("占比应为 0 到 1 之间的小数，例如 22% 填 0.22。", "A share is a fraction from 0 to 1: 22% is 0.22."),
    "count": ("请填写大于或等于 0 的整数。", "Enter a whole number of 0 or more."),
    "area": ("面积应为大于或等于 0 的数字（平方米）。", "The area must be a number of 0 or more (m²)."),
    "longitude": (f"经度应为 {LONGITUDE_RANGE[0]:g} 到 {LONGITUDE_RANGE[1]:g} 之间的小数（柳州约为 109），请检查是否与纬度填反。",
                  f"Longitude must be between {LONGITUDE_RANGE[0]:g} and {LONGITUDE_RANGE[1]:g} (Liuzhou is about 109); "
                  "check it is not swapped with latitude."),
    "latitude": (f"纬度应为 {LATITUDE_RANGE[0]:g} 到 {LATITUDE_RANGE[1]:g} 之间的小数（柳州约为 24），请检查是否与经度填反。",
                 f"Latitude must be between {LATITUDE_RANGE[0]:g} and {LATITUDE_RANGE[1]:g} (Liuzhou is about 24); "
                 "check it is not swapped with longitude."),
    "date": ("请填写日期，例如 2018-05-03。", "Enter a date, e.g. 2018-05-03."),
}
_CHECK_TITLE = ("输入有误", "Invalid entry")


# --------------------------------------------------------------------------- public API


def survey_header(column: str, lang: str = "zh") -> str:
    """The header of survey column ``column`` in ``lang`` (from :mod:`geo.i18n` where it has one)."""
    check_lang(lang)
    if column in COLUMN_LABELS:
        return column_label(column, lang)
    if column in _EXTRA_HEADERS:
        return _EXTRA_HEADERS[column][LANGS.index(lang)]
    raise ValueError(f"{column!r} is not a survey column; the columns are {', '.join(c.name for c in SURVEY_COLUMNS)}")


def survey_headers(lang: str = "zh") -> list[str]:
    """The survey sheet's header row in ``lang``, in column order."""
    return [survey_header(column.name, lang) for column in SURVEY_COLUMNS]


def write_survey_template(path, districts: pd.DataFrame, lang: str = "zh") -> Path:
    """Write the Excel template in which a district office lists its communities.

    Parameters
    ----------
    path : str or os.PathLike
        ``.xlsx`` file to create or replace; its folder must exist.
    districts : pandas.DataFrame or geopandas.GeoDataFrame
        The districts layer: ``district_name`` (offered in the 区县 drop-down, in
        ``district_code`` order when that column exists). A geometry in EPSG:4326, when
        present, places the example row's coordinates inside the first district.
    lang : {"zh", "en"}
        Language of sheet names, headers, messages and instructions.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        If ``lang`` is unknown or ``districts`` has no district names.
    FileNotFoundError
        If the folder of ``path`` does not exist.

    Notes
    -----
    Sheets: ``小区调查`` (``Community survey``) with only the header row (bold, frozen with the
    ID and name columns, required columns in orange) and, over rows 2–2000, drop-down lists
    (区县 from the hidden sheet ``_lists``; 是/否; WGS84/GCJ-02/BD-09) and range checks with an
    error message; ``填写说明`` (``Instructions``) with the purpose, one line per column, the
    coordinate-system advice, how to submit, and an example row kept off the survey sheet so it
    is never returned by mistake; and the hidden ``_lists``. See :func:`survey_headers`.

    Every cell is written by :func:`geo.data.cells.append_xlsx_row`: a district name from the city's
    file is stored as text, never as a formula (control and invisible characters removed, a
    leading ``=``, ``+``, ``-``, ``@`` … prefixed with ``'``), and the 区县 drop-down refers to
    those cells by range, so no name is ever part of a validation formula.
    """
    path = Path(path)
    content = survey_template_bytes(districts, lang=lang)
    with atomic_write(path) as staged:
        staged.write_bytes(content)
    return path


def survey_template_bytes(districts: pd.DataFrame, lang: str = "zh") -> bytes:
    """The template of :func:`write_survey_template` as the bytes of an .xlsx (for a download button)."""
    buffer = io.BytesIO()
    _survey_workbook(districts, lang).save(buffer)
    return buffer.getvalue()


# --------------------------------------------------------------------------- workbook


def _survey_workbook(districts: pd.DataFrame, lang: str):
    from openpyxl import Workbook

    check_lang(lang)
    names = _district_names(districts)
    workbook = Workbook()
    survey = workbook.active
    survey.title = SURVEY_SHEET[lang]
    instructions = workbook.create_sheet(INSTRUCTIONS_SHEET[lang])
    lists = workbook.create_sheet(LISTS_SHEET)
    district_range = _fill_lists(lists, names, lang)
    _fill_survey(survey, district_range, lang)
    _fill_instructions(instructions, names[0], _example_point(districts), lang)
    workbook.active = 0
    return workbook


def _district_names(districts: pd.DataFrame) -> list[str]:
    if not isinstance(districts, pd.DataFrame) or "district_name" not in districts.columns:
        raise ValueError("districts must be a (Geo)DataFrame with a district_name column, e.g. the "
                         "districts layer or data/boundaries/liuzhou_districts.geojson")
    table = pd.DataFrame(districts.drop(columns=districts.select_dtypes("geometry").columns, errors="ignore"))
    if "district_code" in table.columns:
        table = table.sort_values("district_code", kind="stable", na_position="last")
    names = table["district_name"].dropna().astype(str).str.strip()
    names = names[names != ""].drop_duplicates().tolist()
    if not names:
        raise ValueError("districts has no district names; the 区县 drop-down list would be empty")
    return names


def _example_point(districts: pd.DataFrame) -> tuple[float, float]:
    """Longitude and latitude (WGS84) of a point inside the first district, else central Liuzhou."""
    fallback = (109.415, 24.326)
    if not isinstance(districts, gpd.GeoDataFrame) or districts.geometry.name not in districts.columns:
        return fallback
    if not is_storage_crs(districts.crs):
        return fallback
    table = districts.sort_values("district_code") if "district_code" in districts.columns else districts
    shapes = table.geometry.dropna()
    shapes = shapes[~shapes.is_empty]
    if shapes.empty:
        return fallback
    point = shapely.point_on_surface(shapes.iloc[0])
    return round(point.x, 6), round(point.y, 6)


def _fill_lists(sheet, names: list[str], lang: str) -> str:
    """Write the drop-down lists to the hidden sheet; return the absolute range of district names."""
    index = LANGS.index(lang)
    append_xlsx_row(sheet, [survey_header("district_name", lang), ("是否", "Yes/No")[index], survey_header("crs", lang)])
    yes_no = YES_NO[lang]
    for row in range(max(len(names), len(yes_no), len(CRS_CHOICES))):
        append_xlsx_row(sheet, [
            names[row] if row < len(names) else None,
            yes_no[row] if row < len(yes_no) else None,
            CRS_CHOICES[row] if row < len(CRS_CHOICES) else None,
        ])
    sheet.sheet_state = "hidden"
    return f"'{LISTS_SHEET}'!$A$2:$A${len(names) + 1}"


def _fill_survey(sheet, district_range: str, lang: str) -> None:
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    index = LANGS.index(lang)
    headers = survey_headers(lang)
    append_xlsx_row(sheet, headers)
    bold = Font(bold=True)
    for column, cell in zip(SURVEY_COLUMNS, sheet[1]):
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        colour = _REQUIRED_FILL if column.required in (_REQUIRED, _LOCATION) else _HEADER_FILL
        cell.fill = PatternFill(fill_type="solid", start_color=colour, end_color=colour)
    sheet.row_dimensions[1].height = 32
    sheet.freeze_panes = "C2"  # header row and the ID and name columns stay in view

    checks = _checks(district_range, lang)
    for position, (column, header) in enumerate(zip(SURVEY_COLUMNS, headers), start=1):
        letter = get_column_letter(position)
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(column.width, _display_width(header) + 2, _COLUMN_WIDTH_MIN)
        if column.number_format:
            dimension.number_format = column.number_format
        if column.check:
            validation = checks[column.check]()
            validation.error = _CHECK_MESSAGES[column.check][index]
            validation.errorTitle = _CHECK_TITLE[index]
            validation.prompt = column.allowed[index]
            validation.promptTitle = header[:32]  # Excel's limit for a prompt title
            validation.showErrorMessage = True
            validation.showInputMessage = True
            validation.add(f"{letter}2:{letter}{LAST_ROW}")
            sheet.add_data_validation(validation)


def _checks(district_range: str, lang: str) -> dict:
    """Factories of the data validations, one per kind of check (each column gets its own object)."""
    from openpyxl.worksheet.datavalidation import DataValidation

    yes, no = YES_NO[lang]
    this_year = dt.date.today().year
    first_date = "DATE({0.year},{0.month},{0.day})".format(FIRST_APPLICATION_DATE)

    def make(**kw):
        return lambda: DataValidation(allow_blank=True, errorStyle="stop", **kw)

    return {
        "district": make(type="list", formula1=district_range),
        "yes_no": make(type="list", formula1=f'"{yes},{no}"'),
        "crs": make(type="list", formula1='"' + ",".join(CRS_CHOICES) + '"'),
        "year": make(type="whole", operator="between", formula1=str(FIRST_YEAR), formula2=str(this_year)),
        "share": make(type="decimal", operator="between", formula1="0", formula2="1"),
        "count": make(type="whole", operator="greaterThanOrEqual", formula1="0"),
        "area": make(type="decimal", operator="greaterThanOrEqual", formula1="0"),
        "longitude": make(type="decimal", operator="between",
                          formula1=f"{LONGITUDE_RANGE[0]:g}", formula2=f"{LONGITUDE_RANGE[1]:g}"),
        "latitude": make(type="decimal", operator="between",
                         formula1=f"{LATITUDE_RANGE[0]:g}", formula2=f"{LATITUDE_RANGE[1]:g}"),
        "date": make(type="date", operator="greaterThanOrEqual", formula1=first_date),
    }


def _fill_instructions(sheet, example_district: str, example_point: tuple[float, float], lang: str) -> None:
    from openpyxl.styles import Alignment, Font

    index = LANGS.index(lang)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")

    def heading(key: str, size: int = 12) -> None:
        append_xlsx_row(sheet, [_TEXT[key][index]])
        sheet.cell(sheet.max_row, 1).font = Font(bold=True, size=size)

    def paragraphs(key: str) -> None:
        for line in _TEXT[key][index]:
            append_xlsx_row(sheet, [line])
        append_xlsx_row(sheet, [])

    heading("title", size=14)
    append_xlsx_row(sheet, [])
    heading("purpose_heading")
    paragraphs("purpose")
    heading("required_heading")
    paragraphs("required")

    heading("columns_heading")
    append_xlsx_row(sheet, _TEXT["columns_header"][index])
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    for column in SURVEY_COLUMNS:
        append_xlsx_row(sheet, [survey_header(column.name, lang), column.meaning[index], column.unit[index],
                      column.required[index], column.allowed[index]])
        for cell in sheet[sheet.max_row]:
            cell.alignment = wrap
    append_xlsx_row(sheet, [])

    heading("crs_heading")
    paragraphs("crs")
    heading("submit_heading")
    paragraphs("submit")

    heading("example_heading")
    append_xlsx_row(sheet, survey_headers(lang))
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    yes, no = YES_NO[lang]
    example = {
        "community_id": None, "name": _TEXT["example_name"][index], "district_name": example_district,
        "longitude": example_point[0], "latitude": example_point[1], "crs": "WGS84",
        "land_area_m2": 25000, "built_year": 1995, "households": 480, "population": 1350,
        "share_60plus": 0.22, "share_under14": 0.12, "open_space_m2": 300,
        "public_space_used_for_parking": yes, "sports_land_planned": no, "existing_sets": 0,
        "application_date": dt.date(2018, 5, 3), "remarks": _TEXT["example_remarks"][index],
    }
    append_xlsx_row(sheet, [example[column.name] for column in SURVEY_COLUMNS])
    for column, cell in zip(SURVEY_COLUMNS, sheet[sheet.max_row]):
        if column.number_format and column.number_format != "@":
            cell.number_format = column.number_format

    # The first columns hold both the prose and the example's cells: wide enough for both.
    widths = {"A": 22, "B": 44, "C": 16, "D": 22, "E": 44}
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width


def _display_width(text: str) -> int:
    """Width of ``text`` in a spreadsheet, CJK and full-width characters counted double."""
    return len(text) + len(_WIDE_CHARACTERS.findall(text))
