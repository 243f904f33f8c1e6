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
        "颜色说明见地图右下角图例；黑点为现有健身路径，可在右上角切换图层。默认无底图（离线）。",
        "The legend (bottom right) explains the colours; black dots are existing sets; switch layers at the top right. No base map by default (offline).",
    ),
    "data_source": ("数据文件", "Data file"),
    "error_data": ("无法读取数据：", "Cannot read the data: "),
    "error_host": (
        "此地址未获准访问本系统。请使用管理员提供的地址；如需新增地址，请管理员在 PLANNER_ALLOWED_HOSTS 中列出。",
        "This address is not allowed to use the planner. Use the address your administrator gave you; to add one, "
        "the administrator lists it in PLANNER_ALLOWED_HOSTS.",
    ),
    "error_file": (
        "服务器无法读写所需的文件，请重试；如仍出错，请联系系统管理员。",
        "The server could not read or write a file it needs; please try again, and tell your administrator if it recurs.",
    ),
    "map_too_many": (
        "共 {count:,} 个小区，超过一张地图可流畅显示的 {limit:,} 个（config.toml [map] max_communities）。请先选择一个区县。",
        "{count:,} communities: more than the {limit:,} one map can show smoothly (config.toml [map] max_communities). "
        "Choose a district first.",
    ),
    "error_upload_gone": (
        "上传的数据已按保存期限从服务器删除，请重新上传，或在侧栏返回示例数据。",
        "The uploaded data was removed from the server after its retention period; upload it again, or go back to the sample in the sidebar.",
    ),
    "intake_limit_time": (
        "导入（读取、校验与合并）超过 {limit} 秒，已停止（config.toml [intake] max_import_seconds）。请按区县拆分文件后分别上传，或请管理员调高上限。",
        "The import (reading, checking and merging) took longer than {limit} s and was stopped (config.toml [intake] max_import_seconds). "
        "Split the file, e.g. by district, or ask the administrator to raise the limit.",
    ),
    "intake_limit_memory": (
        "导入（读取、校验与合并）需要超过 {limit} MB 内存，已停止（config.toml [intake] max_import_memory_mb）。请按区县拆分文件后分别上传，或请管理员调高上限。",
        "The import (reading, checking and merging) needed more than {limit} MB of memory and was stopped (config.toml [intake] "
        "max_import_memory_mb). Split the file, e.g. by district, or ask the administrator to raise the limit.",
    ),
    "intake_elapsed": ("已用时 {seconds} 秒（上限 {limit} 秒）", "{seconds} s so far (limit {limit} s)"),
    "error_pairs": (
        "在 {radius:,g} 米步行半径内，(选址, 小区) 组合超过 {limit:,} 对（config.toml [coverage] max_pairs），未进行计算。"
        "请减小步行半径，检查数据中是否有大量小区位于同一位置，或请管理员调高上限。",
        "At a walk radius of {radius:,g} m there are more than {limit:,} (site, community) pairs within reach "
        "(config.toml [coverage] max_pairs); nothing was computed. Use a smaller walk radius, check the data for many "
        "communities at the same place, or ask the administrator to raise the limit.",
    ),
    "error_internal": (
        "发生内部错误，请将此页面截图发给系统管理员。",
        "An internal error occurred; please send a screenshot of this page to your administrator.",
    ),
    "page_coverage": ("覆盖地图", "Coverage map"),
    "page_eligibility": ("资格核查", "Eligibility"),
    "page_priority": ("优先排序与预算", "Priority & budget"),
    "page_publish": ("发布", "Publish"),
    "metric_unserved_eligible": ("未覆盖且可建设", "Unserved, eligible"),
    "metric_unserved_ineligible": ("未覆盖且无法建设", "Unserved, not eligible"),
    "chart_by_district": ("各区县覆盖率（%）", "Coverage by district (%)"),
    "search_community": ("查找小区（定位到地图）", "Find a community (fly to it)"),
    "search_placeholder": ("输入小区名称", "Type a community name"),
    "base_map": ("底图", "Base map"),
    "base_none": ("无底图（离线）", "None (offline)"),
    "base_osm": ("OpenStreetMap（需联网）", "OpenStreetMap (needs internet)"),
    "base_amap": ("高德地图（需联网，GCJ-02）", "Amap (needs internet, GCJ-02)"),
    "base_tianditu": ("天地图（需联网和密钥）", "Tianditu (needs internet and a key)"),
    "tianditu_key": ("天地图密钥", "Tianditu key"),
    "tianditu_key_missing": ("请输入天地图密钥，或选择其他底图。", "Enter a Tianditu key, or choose another base map."),
    "show_plan_on_map": ("在地图上显示当前方案", "Show the current plan on the map"),
    "eligibility_intro": (
        "选择区县，查看辖区内每个小区能否建设健身路径及原因。",
        "Choose a district to see which of its communities can get a fitness path, and why not the others.",
    ),
    "filter_status": ("资格", "Eligibility"),
    "filter_all": ("全部", "All"),
    "filter_eligible": ("符合条件", "Eligible"),
    "filter_ineligible": ("不符合条件", "Not eligible"),
    "filter_reasons": ("不符合原因", "Reasons"),
    "filter_applied": ("仅看已申请的小区", "Applicants only"),
    "filter_name": ("名称包含", "Name contains"),
    "metric_eligible": ("符合建设条件", "Eligible"),
    "metric_ineligible": ("不符合条件", "Not eligible"),
    "metric_applied": ("已申请", "Applied"),
    "metric_land": ("需解决用地", "Need a land solution"),
    "land_solution_title": ("已申请但需解决用地的小区（请区县跟进）", "Applicants that need a land solution (district follow-up)"),
    "download_excel": ("下载 Excel", "Download Excel"),
    "download_csv": ("下载 CSV", "Download CSV"),
    "download_geojson": ("下载 GeoJSON", "Download GeoJSON"),
    "download_gpkg": ("下载 GeoPackage", "Download GeoPackage"),
    "rows_shown": ("显示 {shown} / {total} 个小区", "Showing {shown} of {total} communities"),
    "program_choice": ("资金项目", "Budget program"),
    "program_city": ("市本级（60万元，12套）", "City budget (CNY 600,000, 12 sets)"),
    "program_region": ("自治区补助（500万元，100套）", "Regional grant (CNY 5,000,000, 100 sets)"),
    "program_both": ("先市本级、后自治区补助", "City budget, then regional grant"),
    "program_custom": ("自定义预算", "Custom budget"),
    "custom_budget": ("自定义预算（元）", "Custom budget (CNY)"),
    "mode_choice": ("方式", "Mode"),
    "mode_rank": ("按优先顺序", "By priority rank"),
    "mode_optimal": ("最优覆盖", "Optimal coverage"),
    "weights": ("优先得分权重", "Priority weights"),
    "weights_help": (
        "各分项 0–1 标准化后加权，得分 0–100。默认值见 config.toml。",
        "Each component is normalised to 0–1 and weighted; the score runs from 0 to 100. Defaults in config.toml.",
    ),
    "weights_reset": ("恢复默认权重", "Reset weights"),
    "weight_population": ("人口", "Residents"),
    "weight_elderly_and_children": ("老人与儿童占比", "Share of elderly and children"),
    "weight_distance_to_nearest_set": ("距最近健身路径", "Distance to nearest set"),
    "weight_old_community": ("老旧小区", "Old community"),
    "weight_application_received": ("已提出申请", "Application received"),
    "weight_neighbours_unserved": ("周边未覆盖居民", "Unserved residents nearby"),
    "rank_vs_optimal": ("按优先顺序 与 最优覆盖：新增覆盖人口", "Rank vs optimal: residents newly served"),
    "difference": ("差值", "Difference"),
    "selected_list": ("入选小区", "Selected communities"),
    "sets_bought": ("套数", "Sets"),
    "sets_unit": ("套", "sets"),
    "budget_of": ("预算 {budget}", "budget {budget}"),
    "spent": ("已用资金", "Spent"),
    "newly_served": ("新增覆盖人口", "Residents newly served"),
    "gap_proven": ("已证明最优", "Proven optimal"),
    "gap_value": ("最优性差距 {gap}", "Optimality gap {gap}"),
    "no_selection": ("没有可入选的小区（预算不足或无符合条件的小区）。", "No community selected (budget too small or none eligible)."),
    "publish_intro": (
        "生成一个独立的 HTML 页面（地图、入选名单、参数），无需联网和服务器即可打开，用于整改公开。",
        "Build one self-contained HTML page (map, selected list, parameters) that opens with no internet and no server, for the public notice.",
    ),
    "publish_title": ("公示标题", "Notice title"),
    "publish_default_title": ("柳州市健身路径建设计划（公示）", "Liuzhou fitness-path construction plan (public notice)"),
    "publish_lang": ("公示语言", "Notice language"),
    "publish_download": ("下载公示页面（HTML）", "Download the notice page (HTML)"),
    "publish_uses_plan": ("公示内容使用“优先排序与预算”页面当前的方案设置。", "The notice uses the current settings of the Priority & budget page."),
    "page_intake": ("数据导入", "Data intake"),
    "back_to_sample": ("返回示例数据", "Back to the sample data"),
    "intake_intro": (
        "各城区文体新局按调查表填报尚未拥有健身路径的小区；在此上传调查表或测绘数据，逐行校验，"
        "有问题的行连同行号和原因列出并可下载，其余行用于所有页面的分析。",
        "District offices report their communities on the survey template; upload it (or survey-bureau data) here. "
        "Every row is checked; a rejected row is listed with its row number and reason, and the rest is analysed on every page.",
    ),
    "intake_template_title": ("1. 调查表模板", "1. Survey template"),
    "intake_template_help": (
        "Excel 模板：每行一个小区，含下拉选项（区县、是/否、坐标系）和填写说明。",
        "An Excel template: one row per community, with drop-downs (district, yes/no, coordinate system) and instructions.",
    ),
    "intake_template_download": ("下载调查表模板（Excel）", "Download the survey template (Excel)"),
    "intake_upload_title": ("2. 上传与校验", "2. Upload and check"),
    "intake_communities_file": ("小区数据文件", "Communities file"),
    "intake_paths_file": ("健身路径数据文件（可选）", "Fitness-path file (optional)"),
    "intake_formats": (
        "支持 GeoPackage、GeoJSON、Shapefile（zip 压缩）、KML、CSV、Excel；不超过 {limit} MB。",
        "GeoPackage, GeoJSON, zipped Shapefile, KML, CSV or Excel; at most {limit} MB.",
    ),
    "intake_crs": ("坐标系（文件自带坐标系时以文件为准）", "Coordinate system (a file's own CRS wins)"),
    "crs_wgs84": ("WGS84（GPS、天地图）", "WGS84 (GPS, Tianditu)"),
    "crs_gcj02": ("GCJ-02（高德、腾讯）", "GCJ-02 (Amap, Tencent)"),
    "crs_bd09": ("BD-09（百度）", "BD-09 (Baidu)"),
    "crs_epsg": ("EPSG 代码", "EPSG code"),
    "crs_epsg_code": ("EPSG 代码（如 4490、4545）", "EPSG code (e.g. 4490, 4545)"),
    "intake_mode": ("导入方式", "How to use it"),
    "intake_mode_replace": ("作为全市数据（替换示例数据）", "As the city's data (replaces the sample)"),
    "intake_mode_merge": ("作为区县填报，合并到当前数据", "As a district return, merged into the current data"),
    "intake_run": ("校验", "Check"),
    "intake_running": ("正在读取和校验…", "Reading and checking…"),
    "intake_rows": ("数据行", "Rows"),
    "intake_accepted": ("通过", "Accepted"),
    "intake_rejected": ("未通过", "Rejected"),
    "intake_repaired": ("已自动修复", "Repaired"),
    "rejects_first": (
        "此处列出前 {shown:,} 行（共 {total:,} 行未通过）；全部行请下载 CSV。",
        "The first {shown:,} of {total:,} rejected rows are listed here; download the CSV for all of them.",
    ),
    "intake_waiting": (
        "其他用户的导入正在进行，排队等候 {seconds} 秒…", "Another user's import is running; waiting {seconds} s…"),
    "rejects_sheet_row": ("行号", "Row"),
    "rejects_feature": ("要素序号", "Feature"),
    "rejects_reason": ("未通过原因", "Why it was rejected"),
    "intake_rejects_download": ("下载未通过的行（CSV）", "Download the rejected rows (CSV)"),
    "intake_nothing_accepted": ("没有通过校验的行，请按原因修改后重新上传。", "No row passed the checks; correct them as the reasons say and upload again."),
    "intake_merge_title": ("导入后的数据", "The data after this import"),
    "assembly_figure": ("项目", "Figure"),
    "assembly_count": ("数量", "Count"),
    "assembly_communities_before": ("当前小区数", "Communities now"),
    "assembly_communities_after": ("导入后小区数", "Communities after the import"),
    "assembly_communities_added": ("新增小区", "Communities added"),
    "assembly_rows_placed": ("采用的行", "Rows used"),
    "assembly_rows_located": ("无坐标、按当前数据中的小区定位的行", "Rows without coordinates placed by the current data"),
    "assembly_rows_unplaced": ("无法定位、未采用的行", "Rows that could not be placed (not used)"),
    "assembly_conflicts": ("需核实的冲突", "Conflicts to check"),
    "assembly_fitness_paths_before": ("当前健身路径（套）", "Fitness paths now"),
    "assembly_fitness_paths_after": ("导入后健身路径（套）", "Fitness paths after the import"),
    "assembly_applications_before": ("当前申请数", "Applications now"),
    "assembly_applications_after": ("导入后申请数", "Applications after the import"),
    "assembly_applications_unmatched": (
        "申请的小区不在导入后的数据中（单独保存，未丢失）", "Applications whose community is not in the data (kept apart, not lost)"),
    "assembly_empty": (
        "导入后没有可分析的小区（所有行都无法定位），因此不能采用。请按上表原因补充坐标或小区编号后重新上传。",
        "After this import no community could be placed, so it cannot be used. Add coordinates or community IDs as "
        "the table above says, and upload again.",
    ),
    "assembly_no_fitness_paths": (
        "导入后没有任何健身路径，所有小区都将显示为未覆盖。请同时上传健身路径文件，或在调查表中填写各小区现有健身路径套数。",
        "After this import there are no fitness paths, so every community will show as not served. Upload a "
        "fitness-path file too, or fill in each community's existing sets in the survey.",
    ),
    "assembly_located_note": (
        "以下行没有坐标，已按小区编号或名称采用当前数据中该小区的边界：",
        "These rows have no coordinates and were given the outline of the current data's community with that ID or name:",
    ),
    "assembly_unplaced_note": (
        "以下行无法定位，未采用（原因见表）；请补充坐标或核对小区编号后重新上传：",
        "These rows could not be placed and were not used (see the reasons); add coordinates or check the IDs and upload again:",
    ),
    "intake_conflicts": (
        "以下数据与其他来源不一致，未自动采用，请核实：",
        "These values disagree with another source and were not taken; please check them:",
    ),
    "intake_use": ("3. 在所有页面中分析这些数据", "3. Analyse this data on every page"),
    "intake_in_use": (
        "已采用：{communities} 个小区、{paths} 套健身路径。各页面现在分析上传的数据；侧栏可返回示例数据。",
        "In use: {communities} communities, {paths} fitness paths. Every page now analyses the upload; the sidebar goes back to the sample.",
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
