"""Chinese and English labels for columns and messages shown to users (Chinese first)."""

from __future__ import annotations

import pandas as pd

LANGS = ("zh", "en")

# column name -> (Chinese, English)
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "district_code": ("区县代码", "District code"),
    "district_name": ("区县", "District"),
    "district_name_en": ("区县（英文）", "District (English)"),
    "community_id": ("小区编号", "Community ID"),
    "name": ("名称", "Name"),
    "built_year": ("建成年份", "Year built"),
    "households": ("户数", "Households"),
    "population": ("人口", "Population"),
    "share_60plus": ("60岁以上占比", "Share aged 60+"),
    "share_under14": ("14岁以下占比", "Share under 14"),
    "open_space_m2": ("可用空地（平方米）", "Open space (m²)"),
    "public_space_used_for_parking": ("公共空间用于停车", "Public space used for parking"),
    "sports_land_planned": ("规划有体育用地", "Sports land planned"),
    "n_sets_inside": ("小区内健身路径（套）", "Sets inside"),
    "nearest_set_m": ("距最近健身路径（米）", "Distance to nearest set (m)"),
    "communities": ("小区数", "Communities"),
    "served_inside": ("小区内已有", "Served inside"),
    "served_within_radius": ("步行范围内已覆盖", "Served within walk radius"),
    "population_served_inside": ("已覆盖人口（小区内）", "Population served inside"),
    "population_served_within_radius": ("已覆盖人口（步行范围）", "Population served within radius"),
    "share_served_inside": ("小区内覆盖率", "Share served inside"),
    "share_served_within_radius": ("步行范围覆盖率", "Share served within radius"),
    "eligible": ("符合建设条件", "Eligible"),
    "reasons": ("不符合原因代码", "Reason codes"),
    "reason_text": ("不符合原因", "Reasons not eligible"),
    "missing_fields": ("缺失字段", "Missing fields"),
    "applied": ("已申请", "Applied"),
    "application_date": ("申请日期", "Application date"),
    "needs_land_solution": ("需解决用地", "Needs a land solution"),
    "priority_score": ("优先得分", "Priority score"),
    "priority_rank": ("优先序号", "Priority rank"),
    "c_population": ("人口分项", "Population component"),
    "c_elderly_and_children": ("老人儿童分项", "Elderly & children component"),
    "c_distance_to_nearest_set": ("距离分项", "Distance component"),
    "c_old_community": ("老旧小区分项", "Old community component"),
    "c_application_received": ("申请分项", "Application component"),
    "c_neighbours_unserved": ("周边未覆盖人口分项", "Unserved neighbours component"),
    "neighbours_unserved_population": ("周边未覆盖人口", "Unserved residents nearby"),
    "program": ("资金项目", "Program"),
    "program_name": ("资金项目名称", "Program name"),
    "mode": ("方式", "Mode"),
    "rank": ("序号", "Rank"),
    "cost_cny": ("造价（元）", "Cost (CNY)"),
    "cumulative_cost_cny": ("累计金额（元）", "Cumulative cost (CNY)"),
    "money_left_cny": ("剩余资金（元）", "Money left (CNY)"),
    "population_newly_served": ("新增覆盖人口", "Residents newly served"),
    "served_communities": ("新增覆盖小区", "Communities newly served"),
    "budget_cny": ("预算（元）", "Budget (CNY)"),
    "spent_cny": ("已用资金（元）", "Spent (CNY)"),
    "sets": ("套数", "Sets"),
    "optimality_gap": ("最优性差距", "Optimality gap"),
    "solve_seconds": ("求解时间（秒）", "Solve time (s)"),
    "status": ("状态", "Status"),
    "path_id": ("健身路径编号", "Path ID"),
    "install_year": ("安装年份", "Year installed"),
    "n_pieces": ("器材件数", "Pieces"),
    "condition": ("状况", "Condition"),
    "funding_source": ("资金来源", "Funding source"),
}

TEXT: dict[str, tuple[str, str]] = {
    "city_total": ("全市合计", "City total"),
    "walk_radius": ("步行服务半径", "Walk radius"),
    "app_title": ("健身路径覆盖分析", "Fitness-path coverage"),
    "app_caption": (
        "柳州市体育局 · 小区健身路径覆盖情况（按区县）",
        "Liuzhou Sports Bureau · fitness-path coverage of residential communities, by district",
    ),
    "language": ("语言 / Language", "语言 / Language"),
    "walk_radius_input": ("步行服务半径（米）", "Walk radius (m)"),
    "districts_filter": ("区县", "District"),
    "whole_city": ("全市", "Whole city"),
    "metric_communities": ("小区总数", "Communities"),
    "metric_served_inside": ("小区内已有健身路径", "With a set inside"),
    "metric_served_within_radius": ("步行范围内已覆盖", "Served within walk radius"),
    "metric_population_served": ("步行范围内覆盖人口", "Residents within walk radius"),
    "metric_unserved": ("尚未覆盖的小区", "Communities not served"),
    "by_district": ("各区县覆盖情况", "Coverage by district"),
    "map": ("覆盖地图", "Coverage map"),
    "map_caption": (
        "绿色：小区内已有健身路径；蓝色：步行范围内有；橙红：尚未覆盖。点为现有健身路径。无底图（离线）。",
        "Green: a set inside; blue: a set within the walk radius; orange-red: not served. Dots are existing sets. No base map (offline).",
    ),
    "data_source": ("数据文件", "Data file"),
    "error_data": ("无法读取数据：", "Cannot read the data: "),
    "error_internal": (
        "发生内部错误，请将此页面截图发给系统管理员。",
        "An internal error occurred; please send a screenshot of this page to your administrator.",
    ),
    "synthetic_notice": (
        "示例数据：区县边界为柳州市真实行政区划；小区与健身路径均为程序生成的虚构数据。",
        "Sample data: district boundaries are Liuzhou's real divisions; communities and fitness paths are synthetic.",
    ),
}


REASON_LABELS: dict[str, tuple[str, str]] = {
    "served_inside": ("小区内已有健身路径", "Already has a set inside"),
    "served_within_radius": ("步行范围内已有健身路径", "A set within the walk radius"),
    "no_open_space": ("可用空地不足一套健身路径占地", "Open space smaller than one set's footprint"),
    "parking_no_space": ("公共空间已用于停车，无其他空地", "Public space used for parking, no other open space"),
    "not_residential": ("非住宅小区", "Not residential"),
    "missing_data": ("数据缺失", "Missing data"),
}


def reason_label(code: str, lang: str = "zh") -> str:
    """The user-facing label of an eligibility reason code (the code itself when unknown)."""
    labels = REASON_LABELS.get(code)
    return labels[LANGS.index(check_lang(lang))] if labels else code


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise ValueError naming the choices."""
    if lang not in LANGS:
        raise ValueError(f"unsupported language {lang!r}; choose one of {', '.join(LANGS)}")
    return lang


def column_label(column: str, lang: str = "zh") -> str:
    """The user-facing header of ``column`` (the column name itself when none is defined)."""
    labels = COLUMN_LABELS.get(column)
    return labels[LANGS.index(check_lang(lang))] if labels else column


def text(key: str, lang: str = "zh") -> str:
    """A user-facing phrase in ``lang``."""
    return TEXT[key][LANGS.index(check_lang(lang))]


def labelled(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A copy of ``frame`` with user-facing column headers."""
    return frame.rename(columns={c: column_label(c, lang) for c in frame.columns})


def humanised(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """Like :func:`labelled`, with yes/no columns shown as 是/否 (Yes/No)."""
    yes, no = ("是", "否") if check_lang(lang) == "zh" else ("Yes", "No")
    shown = frame.copy()
    for column in shown.columns:
        if pd.api.types.is_bool_dtype(shown[column]):
            shown[column] = shown[column].map({True: yes, False: no}).fillna("")
    return labelled(shown, lang)
