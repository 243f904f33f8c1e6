"""Many applications from one table (geo.store.application_upload) and the store's batch of them
(geo.store.applications.add_applications): every faulty row named with its row number and reason,
good rows stored all together or not at all, hostile cells kept as data in every CSV written."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pandas as pd
import pytest

from geo.errors import DataError, said
from geo.store.actors import Actor
from geo.store.application_upload import (
    REJECT_COLUMNS,
    UPLOAD_FIELDS,
    check_rows,
    matched_columns,
    parse_date,
    read_upload,
    rejects_csv_bytes,
    template_csv_bytes,
)
from geo.store.applications import (
    add_application,
    add_applications,
    allowed_steps,
    land_solution_applications,
    list_applications,
    set_status,
)
from geo.store.audit import audit_entries
from geo.store.db import open_store

TODAY = date(2026, 11, 30)
LIUNAN = Actor("liunan", "district", ("450204",))
PLANNER = Actor("planner1", "planner")
COMMUNITIES = pd.DataFrame(
    {
        "community_id": ["450204-0001", "450204-0002", "450204-0003", "450202-0001"],
        "district_code": ["450204", "450204", "450204", "450202"],
    }
)
NO_OPEN = pd.DataFrame(columns=["id", "community_id", "status"])
HOSTILE = ['=HYPERLINK("http://127.0.0.2:9/x","click")', "<script>alert(1)</script>", "../../etc/passwd"]


def write_csv(path, rows, encoding="utf-8-sig"):
    with open(path, "w", newline="", encoding=encoding) as handle:
        csv.writer(handle).writerows(rows)
    return path


def test_headers_are_recognised_in_chinese_and_english_loosely():
    assert matched_columns(["小区编号", "申请日期", "申请人", "联系方式", "居民诉求", "备注"]) == dict(
        zip(["小区编号", "申请日期", "申请人", "联系方式", "居民诉求", "备注"], UPLOAD_FIELDS)
    )
    assert matched_columns(["Community ID", "application-date", "APPLICANT", "Notes", "其他"]) == {
        "Community ID": "community_id",
        "application-date": "application_date",
        "APPLICANT": "applicant",
        "Notes": "notes",
    }


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-05-03", date(2026, 5, 3)),
        ("2026/5/3", date(2026, 5, 3)),
        ("2026.05.03", date(2026, 5, 3)),
        ("2026年5月3日", date(2026, 5, 3)),
        ("2026-05-03 00:00:00", date(2026, 5, 3)),  # an Excel date cell
        ("2026-02-30", None),
        ("3/5/2026", None),  # day and month order unknown: refused, not guessed
        ("昨天", None),
        (None, None),
    ],
)
def test_dates_as_clerks_type_them(cell, expected):
    assert parse_date(cell) == expected


def test_every_fault_of_a_row_is_named_with_its_row_number(tmp_path):
    path = write_csv(
        tmp_path / "申请.csv",
        [
            ["小区编号", "申请日期", "申请人", "联系方式", "居民诉求", "备注"],
            ["450204-0001", "2026-11-02", "王阿姨", "139", "适合老年人和儿童", ""],  # row 2: good
            ["450204-9999", "2026-11-02", "", "", "", ""],  # 3: unknown community
            ["450204-0002", "2027-01-01", "", "", "", ""],  # 4: future date
            ["450202-0001", "2026-11-02", "", "", "", ""],  # 5: another district
            ["450204-0001", "2026-11-03", "", "", "", ""],  # 6: duplicate of row 2
            ["450204-0003", "2026-11-02", "", "", "", ""],  # 7: an open application stored
            ["", "", "", "", "", ""],  # blank: not a row
            ["", "昨天", "x" * 1001, "", "", ""],  # 9: no community, bad date, too long
        ],
    )
    table, rows = read_upload(path, "申请.csv")
    assert list(rows) == [2, 3, 4, 5, 6, 7, 9]
    stored = pd.DataFrame({"id": [17], "community_id": ["450204-0003"], "status": ["district_review"]})
    statuses = {"district_review": ("区县审核", "District review")}
    good, rejects = check_rows(table, rows, COMMUNITIES, LIUNAN, stored, TODAY, statuses)
    assert list(good["sheet_row"]) == [2]
    assert good.iloc[0].to_dict() == {
        "sheet_row": 2,
        "community_id": "450204-0001",
        "application_date": date(2026, 11, 2),
        "applicant": "王阿姨",
        "contact": "139",
        "request": "适合老年人和儿童",
        "notes": "",
    }
    assert list(rejects.columns) == list(REJECT_COLUMNS)
    assert list(rejects["sheet_row"]) == [3, 4, 5, 6, 7, 9]
    assert list(rejects["reason_code"]) == [
        "unknown_community",
        "future_date",
        "not_your_district",
        "duplicate_id",
        "duplicate_stored",
        "missing_required;wrong_type;text_too_long",
    ]
    assert list(rejects["reason_zh"]) == [
        "小区编号“450204-9999”不是本市数据中的小区",
        "申请日期 2027-01-01 晚于今天（2026-11-30）",
        "小区 450202-0001 属于区县 450202，不在本账号所管区县内",
        "小区 450204-0001 在第 2 行已有一份申请（保留第 2 行）",
        "小区 450204-0003 已有一份未办结的申请（编号 17，状态：区县审核）",
        "缺少小区编号；无法将“昨天”读作日期（如 2026-05-03）；申请人：长 1001 个字符，超过 1000 个字符的上限，请缩短",
    ]
    assert (
        rejects["reason_en"].iloc[4]
        == "community 450204-0003 already has an open application (no. 17, status: District review)"
    )
    # A planner sees every district: the 城中区 row is good for the city.
    good, rejects = check_rows(table, rows, COMMUNITIES, PLANNER, NO_OPEN, TODAY)
    assert list(good["sheet_row"]) == [2, 5, 7]


def test_a_workbook_with_english_headers_and_excel_dates_is_read_like_a_csv(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["community_id", "application_date", "contact"])
    sheet.append(["450204-0002", date(2026, 10, 1), 13900000000])
    sheet.append([None, None, None])
    sheet.append(["450204-0003", "2026/10/2", None])
    book.save(tmp_path / "apps.xlsx")
    table, rows = read_upload(tmp_path / "apps.xlsx", "apps.xlsx")
    assert list(rows) == [2, 4]
    assert table.to_dict("list") == {
        "community_id": ["450204-0002", "450204-0003"],
        "application_date": ["2026-10-01", "2026/10/2"],
        "applicant": [None, None],
        "contact": ["13900000000", None],
        "request": [None, None],
        "notes": [None, None],
    }
    good, rejects = check_rows(table, rows, COMMUNITIES, LIUNAN, NO_OPEN, TODAY)
    assert list(good["application_date"]) == [date(2026, 10, 1), date(2026, 10, 2)] and rejects.empty


def test_a_file_without_the_required_columns_or_of_another_kind_is_refused_by_name(tmp_path):
    path = write_csv(tmp_path / "x.csv", [["小区", "时间"], ["450204-0001", "2026-11-02"]])
    with pytest.raises(DataError) as caught:
        read_upload(path, "../../etc/passwd.csv")
    message = said(caught.value, "zh")
    assert message == (
        "passwd.csv：缺少必需的列 小区编号 (community_id), 申请日期 (application_date)；文件中的列为 '小区', '时间'。"
        "请用模板的表头：小区编号, 申请日期, 申请人, 联系方式, 居民诉求, 备注"
    )
    (tmp_path / "x.json").write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(DataError) as caught:
        read_upload(tmp_path / "x.json", "x.json")
    assert said(caught.value, "en") == "x.json: upload an .xlsx or .csv file (this is a GeoJSON)"


def test_hostile_cells_stay_data_in_the_rejects_csv(tmp_path):
    rows = [["小区编号", "申请日期", "申请人", "联系方式", "居民诉求", "备注"]]
    rows += [["450204-9999", "2026-11-02", hostile, hostile, hostile, hostile] for hostile in HOSTILE]
    rows += [["=1+2", "2026-11-02", "", "", "", ""]]
    table, numbers = read_upload(write_csv(tmp_path / "h.csv", rows), "h.csv")
    good, rejects = check_rows(table, numbers, COMMUNITIES, LIUNAN, NO_OPEN, TODAY)
    assert good.empty and list(rejects["applicant"]) == [*HOSTILE, None]  # kept as given
    content = rejects_csv_bytes(rejects, "zh")
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Excel and WPS read the Chinese
    written = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert written[0] == ["行号", "未通过原因", "小区编号", "申请日期", "申请人", "联系方式", "居民诉求", "备注"]
    assert written[1][4] == "'" + HOSTILE[0]  # the formula guard: shown as text, never run
    assert written[1][7] == "'" + HOSTILE[0]
    assert written[2][4:] == [HOSTILE[1]] * 4 and written[3][4:] == [HOSTILE[2]] * 4
    assert written[4][2] == "'=1+2" and written[4][1] == "小区编号“=1+2”不是本市数据中的小区"
    english = list(csv.reader(io.StringIO(rejects_csv_bytes(rejects, "en").decode("utf-8-sig"))))
    assert english[0][:3] == ["Row", "Why it was rejected", "Community ID"]


def test_the_blank_template_is_read_back_as_an_empty_table(tmp_path):
    for lang in ("zh", "en"):
        path = tmp_path / f"template-{lang}.csv"
        path.write_bytes(template_csv_bytes(lang))
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
        table, rows = read_upload(path, path.name)
        assert list(table.columns) == list(UPLOAD_FIELDS) and table.empty and len(rows) == 0
    assert (
        template_csv_bytes("zh").decode("utf-8-sig").strip()
        == '"小区编号","申请日期","申请人","联系方式","居民诉求","备注"'
    )


# --------------------------------------------------------------------------- the store's batch


@pytest.fixture
def store(db_url):
    return open_store(db_url)


def entry(community, day=date(2026, 11, 2), **fields):
    return {"community_id": community, "application_date": day, **fields}


def test_a_batch_is_stored_whole_each_with_its_event_and_audit_row(store):
    stored = add_applications(
        store, LIUNAN, COMMUNITIES, [entry("450204-0001", applicant=HOSTILE[0]), entry("450204-0002")], TODAY
    )
    assert [row["id"] for row in stored] == [1, 2]
    listed = list_applications(store, LIUNAN)
    assert list(listed["community_id"]) == ["450204-0001", "450204-0002"]
    assert listed["applicant"].iloc[0] == HOSTILE[0]  # data, stored as given
    assert list(audit_entries(store)["action"]) == ["application_add", "application_add"]


@pytest.mark.parametrize(
    ("entries", "key"),
    [
        ([entry("450204-0003"), entry("450204-9999")], "application_unknown_community"),
        ([entry("450204-0003"), entry("450202-0001")], "not_your_district"),
        ([entry("450204-0003"), entry("450204-0002", date(2026, 12, 1))], "application_date_future"),
        ([entry("450204-0003"), entry("450204-0003")], "application_duplicate"),  # twice in the batch
        ([entry("450204-0003"), entry("450204-0001")], "application_duplicate"),  # stored before
    ],
)
def test_one_bad_entry_stores_none_of_the_batch(store, entries, key):
    add_application(store, LIUNAN, COMMUNITIES, "450204-0001", date(2026, 11, 1), today=TODAY)
    with pytest.raises(DataError) as caught:
        add_applications(store, LIUNAN, COMMUNITIES, entries, TODAY)
    assert caught.value.args[0].key == key
    assert list(list_applications(store, PLANNER)["community_id"]) == ["450204-0001"]
    assert len(audit_entries(store)) == 1


def test_the_steps_offered_are_the_steps_each_role_may_take():
    assert allowed_steps("district", "applied") == ("district_review", "rejected")
    assert allowed_steps("district", "district_review") == ("city_review", "rejected")
    assert allowed_steps("district", "city_review") == ()  # the city decides
    assert allowed_steps("planner", "city_review") == ("in_plan", "rejected")
    assert allowed_steps("planner", "in_plan") == ("installed",)
    assert allowed_steps("admin", "installed") == ("accepted",)
    assert allowed_steps("admin", "accepted") == allowed_steps("admin", "rejected") == ()
    assert allowed_steps("analyst", "applied") == ()


def test_land_solution_lists_open_applications_of_communities_without_land(store):
    for community in ("450204-0001", "450204-0002", "450204-0003", "450202-0001"):
        add_application(store, PLANNER, COMMUNITIES, community, date(2026, 11, 2), today=TODAY)
    set_status(store, PLANNER, 3, "rejected", "重复")
    assessed = pd.DataFrame(
        {
            "community_id": ["450204-0001", "450204-0002", "450204-0003", "450202-0001"],
            "eligible": [False, False, False, True],
            "served": [False, True, False, False],
            "reasons": ["no_open_space", "served_within_radius;no_open_space", "parking_no_space", ""],
        }
    )
    land = land_solution_applications(list_applications(store, PLANNER), assessed)
    # 0002 is served already, 0003's application was rejected, 0001 of 城中区 is eligible
    assert list(land["community_id"]) == ["450204-0001"] and list(land["reasons"]) == ["no_open_space"]
    assert land_solution_applications(list_applications(store, LIUNAN).iloc[:0], assessed).empty
