"""The audit log in words (issue 14 review): actions, objects and changed fields in the page's language,
times in the city's zone; no code shown raw in either language."""

import ast
import json
import tomllib
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from geo.config import DEFAULT_CONFIG_PATH, ConfigError, parse_config
from geo.i18n import catalogue
from geo.render.audit import (
    FIELD_LABELS,
    action_in_words,
    audit_in_words,
    changes_in_words,
    entity_in_words,
    reason_in_words,
)
from geo.render.times import local_header, local_time_text, zone_name
from geo.store.applications import APPLICATION_COLUMNS
from geo.store.installations import ATTACHMENT_COLUMNS, INSPECTION_COLUMNS, INSTALLATION_COLUMNS
from geo.store.plans import PLAN_FIELDS

STORE = Path(__file__).resolve().parent.parent / "geo" / "store"


def recorded_codes() -> set[tuple[str, str]]:
    """(action, entity) of every ``record(session, actor, "action", "entity", …)`` call in geo/store."""
    found = set()
    for path in STORE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "record" and len(node.args) >= 4:
                action, entity = node.args[2], node.args[3]
                if isinstance(action, ast.Constant) and isinstance(entity, ast.Constant):
                    found.add((action.value, entity.value))
    return found


def test_every_recorded_action_and_object_has_words_in_both_catalogues():
    codes = recorded_codes()
    assert {"application_status", "plan_approve", "user_add", "data_upload", "inspection_add"} <= {a for a, _ in codes}
    for lang in ("zh", "en"):
        words = catalogue(lang)["text"]
        for action, entity in codes:
            assert f"action_{action}" in words and f"entity_{entity}" in words, (lang, action, entity)
            assert action_in_words(action, lang) != action and entity_in_words(entity, lang) != entity


def test_every_recorded_field_has_a_label_in_both_catalogues():
    fields = (
        set(APPLICATION_COLUMNS)
        | set(PLAN_FIELDS)
        | set(INSTALLATION_COLUMNS)
        | set(INSPECTION_COLUMNS)
        | set(ATTACHMENT_COLUMNS) - {"inspection_id", "file_name", "media_type", "size_bytes", "sha256"}
        | {"username", "role", "districts", "disabled", "photos", "file", "sha256", "layers", "picks", "minutes"}
    )
    assert fields <= set(FIELD_LABELS)
    for lang in ("zh", "en"):
        for field in fields:
            assert FIELD_LABELS[field] in catalogue(lang)["column"], (lang, field)


def test_a_status_change_says_only_the_changed_fields_with_codes_in_words():
    before = {"id": 2, "status": "applied", "status_reason": None, "updated_at": "2026-11-30T04:00:00", "notes": "x"}
    after = {**before, "status": "district_review", "status_reason": "材料齐全", "updated_at": "2026-11-30T05:00:00"}
    assert changes_in_words(json.dumps(before), json.dumps(after), "application", "zh") == (
        "状态：已申请 → 区县审核；不符合原因代码：— → 材料齐全".replace("不符合原因代码", "不予受理理由")
    )
    assert changes_in_words(before, after, "application", "en").startswith("Status: Applied → District review")


def test_a_new_record_lists_its_given_fields_and_an_account_its_role_in_words():
    after = {"username": "yufeng", "role": "district", "districts": ["A", "B"], "disabled": False}
    assert (
        changes_in_words(None, json.dumps(after), "user", "zh")
        == "用户名：yufeng；角色：区县文体部门；所管区县：A、B；已停用：否"
    )
    named = changes_in_words(None, after, "user", "en", districts={"A": "Yufeng"})
    assert named == "User name: yufeng; Role: District office; Districts: Yufeng, B; Disabled: No"
    plan = {"id": 3, "status": "proposed", "mode": "optimal", "created_by": "p", "created_at": "2026-11-30T00:00:00"}
    assert changes_in_words(plan, {**plan, "status": "approved"}, "plan", "zh") == "状态：待批准 → 已批准"
    assert changes_in_words(None, plan, "plan", "en") == "Status: Proposed; Mode: Optimal coverage"


def test_the_log_in_words_has_local_times_and_the_raw_json_last():
    log = pd.DataFrame(
        {
            "id": [1],
            "at": [datetime(2026, 11, 30, 20, 30)],  # UTC, as the store keeps it: 04:30 the next day in Beijing
            "actor": ["boss"],
            "action": ["plan_approve"],
            "entity": ["plan"],
            "entity_id": ["3"],
            "before": [json.dumps({"status": "proposed"})],
            "after": [json.dumps({"status": "approved"})],
        }
    )
    shown = audit_in_words(log, "zh", "Asia/Shanghai", raw=True)
    assert list(shown.columns) == ["id", "时间（北京时间）", "actor", "action", "entity", "entity_id", "changes"] + [
        "before_json",
        "after_json",
    ]
    row = shown.iloc[0]
    assert (row["时间（北京时间）"], row["action"], row["entity"]) == ("2026-12-01 04:30:00", "批准方案", "方案")
    assert row["changes"] == "状态：待批准 → 已批准" and json.loads(row["after_json"]) == {"status": "approved"}
    assert audit_in_words(log, "en", "Asia/Shanghai").columns[1] == "Time (Beijing time)"


def test_times_are_shown_in_the_citys_zone_and_said_so():
    assert list(local_time_text([datetime(2026, 11, 30, 4, 0), None], "Asia/Shanghai")) == ["2026-11-30 12:00:00", ""]
    assert local_header("created_at", "Asia/Shanghai", "zh") == "记录时间（北京时间）"
    assert zone_name("Asia/Kolkata", "en") == "UTC+5:30" and zone_name("UTC", "zh") == "UTC+0"


def with_value(dotted: str, value) -> dict:
    """The shipped configuration with the key ``a.b.c`` set to ``value``."""
    data = tomllib.loads(DEFAULT_CONFIG_PATH.read_text(encoding="utf-8"))
    *path, last = dotted.split(".")
    node = data
    for part in path:
        node = node[part]
    node[last] = value
    return data


def test_the_city_time_zone_is_configured_and_checked():
    assert parse_config(with_value("city.timezone", "Europe/Berlin")).timezone == "Europe/Berlin"
    for bad in ("Mars/Olympus", "../etc/passwd", "Asia", ""):
        with pytest.raises(ConfigError, match=r"'city\.timezone' must be"):
            parse_config(with_value("city.timezone", bad))


def test_geo_audit_since_is_a_day_of_the_citys_calendar(db_url, capsys, monkeypatch):
    from datetime import UTC

    from geo.store.db import open_store
    from geo.store.schema import AuditEntry
    from tests.store_helpers import run

    store = open_store(db_url)  # no account: the local single user acts
    with store.session() as session, session.begin():
        for entity_id, at in (("late", datetime(2026, 1, 1, 15, 59)), ("next", datetime(2026, 1, 1, 16, 0))):
            session.add(
                AuditEntry(at=at.replace(tzinfo=UTC), actor="x", action="user_add", entity="user", entity_id=entity_id)
            )
    status, out, _ = run(capsys, monkeypatch, "audit", "--db", db_url, "--since", "2026-01-02", "--json")
    # 16:00 UTC is midnight in Beijing: the second entry is of 2 January there, the first of 1 January
    assert status == 0 and [row["entity_id"] for row in json.loads(out)] == ["next"]


def test_a_data_upload_names_its_layers_in_words():
    after = {"file": "城市.gpkg", "sha256": "ab" * 32, "layers": {"communities": 1200, "fitness_paths": 3}}
    said = changes_in_words(None, after, "data", "zh")
    assert said == f"文件名：城市.gpkg；SHA-256：{'ab' * 32}；图层（行数）：小区 1,200，健身路径（套） 3"
    assert "Communities 1,200, Fitness paths (sets) 3" in changes_in_words(None, after, "data", "en")


def test_a_district_code_given_its_name_is_said_as_the_district():
    after = {"community_id": "C1", "district_code": "450203", "status": "applied"}
    said = changes_in_words(None, after, "application", "zh", districts={"450203": "鱼峰区"})
    assert said == "小区编号：C1；区县：鱼峰区；状态：已申请"
    assert changes_in_words(None, after, "application", "zh").startswith("小区编号：C1；区县代码：450203")


def test_the_stores_own_reasons_are_said_in_words_and_a_persons_as_written():
    assert reason_in_words("plan 3", "zh") == "方案 3 批准时列入计划"
    assert reason_in_words("installation 5", "en") == "installation record 5"
    assert reason_in_words("plan 3 was late", "zh") == "plan 3 was late"  # a person's words stay theirs
    after = {"id": 1, "status": "in_plan", "status_reason": "plan 2"}
    said = changes_in_words({**after, "status": "city_review", "status_reason": ""}, after, "application", "zh")
    assert "方案 2 批准时列入计划" in said and "plan 2" not in said
