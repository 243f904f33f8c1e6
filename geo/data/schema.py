"""Column schemas of the three layers: districts, communities and fitness paths.

Each schema maps a column name to its kind: ``"str"``, ``"int"``, ``"float"`` or ``"bool"``.
``REQUIRED_*`` columns must be present in any input; the others are optional and filled with
missing values when absent. Geometry is always in EPSG:4326 (WGS84 longitude/latitude).
"""

STORAGE_CRS = "EPSG:4326"

# The pandas dtype of each column kind: nullable types, so a missing cell stays missing (pd.NA)
# instead of turning an integer column into floats or a text column into objects.
DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}

DISTRICT_COLUMNS = {
    "district_code": "str",  # 6-digit administrative division code, e.g. "450202"
    "district_name": "str",  # Chinese name, e.g. "城中区"
    "district_name_en": "str",
    "kind": "str",  # "district" (市辖区) or "county" (县)
}

COMMUNITY_COLUMNS = {
    "community_id": "str",
    "name": "str",
    "district_code": "str",
    "district_name": "str",
    "built_year": "int",
    "households": "int",
    "population": "int",
    "share_60plus": "float",  # share of residents aged 60+, 0–1
    "share_under14": "float",  # share of residents under 14, 0–1
    "open_space_m2": "float",  # usable open space in square metres
    "public_space_used_for_parking": "bool",
    "sports_land_planned": "bool",
}
REQUIRED_COMMUNITY_COLUMNS = ("community_id", "name", "district_code", "population")

FITNESS_PATH_COLUMNS = {
    "path_id": "str",
    "name": "str",
    "install_year": "int",
    "n_pieces": "int",  # number of equipment pieces in the set
    "condition": "str",  # "good" | "fair" | "poor"
    "funding_source": "str",  # "city" | "region" | "lottery" | "developer"
}
REQUIRED_FITNESS_PATH_COLUMNS = ("path_id",)

# Public sites (issue 15): places outside communities where a set could go — a pocket park, a square,
# a greenway, a school ground open to the public … Points or polygons.
SITE_KINDS = ("pocket_park", "park", "square", "greenway", "school_ground", "street_corner", "other")
SITE_CONSENTS = ("yes", "no", "unknown")  # the owner's (or manager's) consent to host a set
PUBLIC_SITE_COLUMNS = {
    "site_id": "str",
    "name": "str",
    "kind": "str",  # one of SITE_KINDS; a missing cell reads as "other"
    "usable_area_m2": "float",  # usable area in square metres; missing = unknown
    "owner": "str",  # owner or manager
    "consent": "str",  # one of SITE_CONSENTS; a missing cell reads as "unknown"
    "notes": "str",
}
REQUIRED_PUBLIC_SITE_COLUMNS = ("site_id",)

# Roads (issue 16): the lines a resident can walk along — streets, paths, steps, bridges, underpasses.
# LineString or MultiLineString. ``kind`` is an OSM ``highway`` value (residential, footway …) or the code
# of a surveyor's word (ROAD_KIND_WORDS); ``walkable`` comes from the file's own column when it has
# one, else from the kind (NOT_WALKABLE_KINDS), see geo.data.osm.walkable_by_tags.
ROAD_COLUMNS = {
    "road_id": "str",
    "name": "str",
    "kind": "str",
    "walkable": "bool",
    "bridge": "bool",
}
REQUIRED_ROAD_COLUMNS = ()

# OSM ``highway`` values no one walks along: motorways and trunk roads (China's 高速公路 and 城市快速路,
# fenced, no pavement) and their ramps, roads being built or only planned, race tracks, bus guideways,
# emergency escape lanes. A trunk road with a pavement is tagged ``foot=yes`` (or has a sidewalk
# mapped as its own footway), which walkable_by_tags honours.
NOT_WALKABLE_KINDS = (
    "motorway",
    "motorway_link",
    "trunk",
    "trunk_link",
    "construction",
    "proposed",
    "raceway",
    "bus_guideway",
    "escape",
)
# ``foot``/``access`` values that close a way to people on foot.
NOT_WALKABLE_ACCESS = ("no", "private")

# Words a surveyor writes for a road's kind (compared casefolded without spaces, ``_`` or ``-``), by the
# code stored: the OSM highway value of the same class, so one walkability rule serves both sources.
# China's road classes (CJJ 37 城市道路工程设计规范): 快速路 expressway → trunk; 主干路 arterial → primary;
# 次干路 → secondary; 支路 → tertiary. A word not in this table is kept as written and walkable.
ROAD_KIND_WORDS = {
    "motorway": ("高速公路", "高速", "motorway", "expressway"),
    "motorway_link": ("高速匝道", "匝道", "motorway link", "ramp"),
    "trunk": ("快速路", "城市快速路", "快速干道", "高架路", "高架", "trunk"),
    "trunk_link": ("快速路匝道", "高架匝道", "trunk link"),
    "primary": ("主干路", "主干道", "主要道路", "primary", "arterial"),
    "secondary": ("次干路", "次干道", "secondary"),
    "tertiary": ("支路", "城市支路", "tertiary"),
    "residential": ("小区道路", "街巷", "巷道", "胡同", "居住区道路", "residential"),
    "service": ("内部道路", "辅路", "service"),
    "footway": ("人行道", "步道", "人行步道", "footway", "sidewalk"),
    "pedestrian": ("步行街", "步行广场", "pedestrian"),
    "path": ("小路", "小径", "游步道", "绿道", "path"),
    "steps": ("台阶", "阶梯", "踏步", "steps"),
    "cycleway": ("自行车道", "非机动车道", "cycleway"),
    "living_street": ("生活街道", "living street"),
    "bridge": ("桥", "桥梁", "人行桥", "天桥", "人行天桥", "步行桥", "bridge", "footbridge"),
    "underpass": ("地下通道", "人行地道", "地道", "underpass", "subway"),
    "construction": ("在建", "在建道路", "施工道路", "construction"),
    "proposed": ("规划道路", "规划", "proposed"),
}
# Codes that are bridges whatever the file's ``bridge`` column says nothing of.
BRIDGE_KINDS = ("bridge",)

LAYERS = {
    "districts": DISTRICT_COLUMNS,
    "communities": COMMUNITY_COLUMNS,
    "fitness_paths": FITNESS_PATH_COLUMNS,
    "public_sites": PUBLIC_SITE_COLUMNS,
    "roads": ROAD_COLUMNS,
}


def layer_dtypes(layer: str) -> dict[str, str]:
    """Column name → pandas dtype (see :data:`DTYPES`) of the schema columns of ``layer``."""
    return {column: DTYPES[kind] for column, kind in LAYERS[layer].items()}


REQUIRED_DISTRICT_COLUMNS = ("district_code", "district_name")

# --------------------------------------------------------------------------- intake (import of survey data)

# Columns an imported file may carry besides the schema's, by layer. They describe how the
# geometry is given (a point as longitude/latitude in a per-row coordinate system, with the
# land area used for its approximate footprint) or extra facts of the survey. ``"date"`` is a
# calendar date (datetime64, day precision).
INTAKE_COLUMNS = {
    "districts": {},
    "communities": {
        "longitude": "float",  # degrees in the row's (or the declared) coordinate system
        "latitude": "float",
        "land_area_m2": "float",  # land area of the community in m², for a point-only footprint
        "crs": "str",  # per-row coordinate system: WGS84, GCJ-02, BD-09 (any spelling)
        "application_date": "date",
        "existing_sets": "int",  # fitness-path sets the community already has
        # A city file our intake wrote says which outlines are squares made from a point; read back, the
        # flag is kept (geo.intake.importer ORs it with its own).
        "geometry_approximate": "bool",
    },
    "fitness_paths": {
        "longitude": "float",
        "latitude": "float",
        "crs": "str",
    },
    "public_sites": {
        "longitude": "float",  # a site given as a point: degrees in the row's (or the declared) coordinate system
        "latitude": "float",
        "crs": "str",
    },
    "roads": {
        "foot": "str",  # OSM foot=… (no closes the way to walkers)
        "access": "str",  # OSM access=… (no/private close it)
    },
}

# Headers recognised for each column besides its own name and its labels in
# ``geo.i18n.COLUMN_LABELS`` (Chinese and English, as our exports write them). Matching ignores
# case, spaces, ``_``, ``-`` and full-width/half-width differences (``（）`` = ``()``, ``m²`` = ``m2``).
# The survey template (``geo/intake/template.py``) writes these Chinese headers.
COLUMN_SYNONYMS = {
    "community_id": ("小区编号", "编号", "小区代码", "小区ID", "id", "community id", "community code"),
    "name": (
        "小区名称",
        "名称",
        "小区名",
        "小区",
        "住宅小区",
        "小区（楼盘）名称",
        "楼盘名称",
        "路径名称",
        "健身路径名称",
        "点位名称",
        "community",
        "community name",
    ),
    "district_name": (
        "区县",
        "所属区县",
        "区县名称",
        "所属区",
        "行政区名称",
        "行政区划名称",
        "行政区",
        "所属行政区",
        "所在区县",
        "所在区",
        "县区",
        "城区",
        "辖区",
        "district",
        "district name",
    ),
    "district_code": ("区县代码", "区县编码", "行政区划代码", "区划代码", "行政区代码", "district code"),
    "built_year": (
        "建成年份",
        "建成年代",
        "建成时间",
        "竣工年份",
        "竣工年代",
        "竣工时间",
        "建成年",
        "建设年代",
        "建造年代",
        "year built",
        "built year",
        "year of completion",
    ),
    "households": ("户数", "总户数", "住户数", "住户", "居民户数", "households", "number of households"),
    "population": (
        "人口",
        "常住人口",
        "人口数",
        "居住人口",
        "总人口",
        "人口数量",
        "居民人数",
        "residents",
        "population",
    ),
    "share_60plus": ("60岁以上占比", "60岁及以上占比", "老年人占比", "老年人口占比"),
    "share_under14": ("14岁以下占比", "14岁及以下占比", "儿童占比", "儿童人口占比"),
    "open_space_m2": (
        "可用空地（平方米）",
        "可用空地面积",
        "可用空地",
        "空地面积",
        "公共空间面积",
        "公共活动空间面积",
        "活动场地面积",
        "可用场地面积",
        "open space",
        "open space area",
    ),
    "public_space_used_for_parking": ("公共空间用于停车", "公共空间被占用停车", "公共空间停车"),
    "sports_land_planned": ("规划有体育用地", "有体育用地规划", "体育用地"),
    "longitude": ("经度", "lon", "lng", "long"),
    "latitude": ("纬度", "lat"),
    "land_area_m2": ("占地面积（平方米）", "占地面积", "用地面积", "land area (m²)", "land area"),
    "crs": ("坐标系", "坐标系统", "坐标类型", "coordinate system"),
    "application_date": ("申请日期", "申请时间"),
    "existing_sets": ("已有健身路径（套）", "已有健身路径", "现有健身路径（套）", "existing sets"),
    "path_id": ("健身路径编号", "路径编号", "点位编号", "编号", "id", "path id"),
    "install_year": ("安装年份", "安装年度", "建设年份", "year installed"),
    "n_pieces": ("器材件数", "器材数量", "器材数", "pieces"),
    "condition": ("状况", "器材状况", "设施状况"),
    "funding_source": ("资金来源", "经费来源"),
}

# Headers recognised for one layer's columns only, before COLUMN_SYNONYMS: a public site's 类型 or 面积 is not
# a district's kind nor a community's land area. The survey template's 公共场地 sheet writes the first of each.
LAYER_COLUMN_SYNONYMS = {
    "public_sites": {
        "site_id": ("场地编号", "编号", "场地代码", "场地ID", "id", "site id", "site code"),
        "name": ("场地名称", "名称", "场地", "地点名称", "site", "site name", "name"),
        "kind": ("场地类型", "类型", "场地类别", "类别", "种类", "site type", "site kind", "type", "kind"),
        "usable_area_m2": (
            "可用面积（平方米）",
            "可用面积",
            "面积（平方米）",
            "面积",
            "场地面积",
            "可用场地面积",
            "usable area",
            "usable area (m²)",
            "area",
        ),
        "owner": ("权属单位", "管理单位", "产权单位", "产权或管理单位", "权属", "产权方", "owner", "manager"),
        "consent": (
            "是否同意",
            "产权方意见",
            "产权方是否同意",
            "权属单位意见",
            "管理单位意见",
            "是否同意建设",
            "consent",
            "owner consent",
        ),
        "notes": ("备注", "说明", "notes", "remarks"),
    },
    "roads": {
        "road_id": ("道路编号", "编号", "道路代码", "道路ID", "id", "osm_id", "road id"),
        "name": ("道路名称", "路名", "名称", "name"),
        "kind": ("道路类型", "道路等级", "类型", "等级", "类别", "highway", "type", "kind", "class"),
        "walkable": ("可步行", "是否可步行", "步行", "walkable", "foot access"),
        "bridge": ("桥梁", "是否桥梁", "是否为桥", "bridge"),
        "foot": ("foot",),
        "access": ("access",),
    },
}

# Words recognised for the coded text columns (compared casefolded, spaces removed), by code.
VALUE_SYNONYMS = {
    "condition": {
        "good": ("good", "好", "良好", "完好"),
        "fair": ("fair", "一般", "中", "尚可"),
        "poor": ("poor", "差", "较差", "损坏", "破损", "已损坏"),
    },
    "funding_source": {
        "city": ("city", "市本级", "市级", "市财政"),
        "region": ("region", "自治区", "自治区补助", "区级补助"),
        "lottery": ("lottery", "体彩公益金", "体育彩票公益金", "彩票公益金", "公益金"),
        "developer": ("developer", "开发商", "开发商配建"),
    },
}

# Words recognised for a public site's kind and consent (compared casefolded, spaces and ``_`` removed,
# full-width brackets as half-width), by code; separate from VALUE_SYNONYMS because ``kind`` is also a
# district column (district/county).
SITE_VALUE_SYNONYMS = {
    "kind": {
        "pocket_park": ("pocket_park", "pocket park", "口袋公园", "小游园", "街头游园"),
        "park": ("park", "公园", "城市公园", "综合公园"),
        "square": ("square", "plaza", "广场", "市民广场"),
        "greenway": ("greenway", "绿道", "滨河绿道", "绿地"),
        "school_ground": (
            "school_ground",
            "school ground",
            "学校操场（对外开放）",
            "学校操场",
            "学校运动场",
            "校园操场",
            "学校体育场地",
            "school ground open to the public",  # the survey template's English word
        ),
        "street_corner": (
            "street_corner",
            "street corner",
            "street-corner plot",
            "街角空地",
            "街角",
            "街头空地",
            "边角地",
        ),
        "other": ("other", "其他", "其它"),
    },
    "consent": {
        "yes": ("yes", "y", "true", "1", "是", "同意", "已同意"),
        "no": ("no", "n", "false", "0", "否", "不同意"),
        "unknown": ("unknown", "未知", "待定", "待确认", "不详", "未征求"),
    },
}

# --------------------------------------------------------------------------- priority

# The components of the priority score, in the order of ``config.toml``'s [priority.weights]
# (defined in :mod:`geo.analysis.priority`). Here, not there, because :mod:`geo.config` checks the weight
# names when the file is read and :mod:`geo.analysis.priority` itself imports :mod:`geo.config`.
PRIORITY_COMPONENTS = (
    "population",
    "elderly_and_children",
    "distance_to_nearest_set",
    "old_community",
    "application_received",
    "neighbours_unserved",
    "landless_reached",
)
# Components a config written before them may leave out (their weight is then 0, so its scores stay as they were).
OPTIONAL_PRIORITY_COMPONENTS = ("landless_reached",)
