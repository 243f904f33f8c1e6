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
