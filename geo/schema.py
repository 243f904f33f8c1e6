"""Column schemas of the three layers: districts, communities and fitness paths.

Each schema maps a column name to its kind: ``"str"``, ``"int"``, ``"float"`` or ``"bool"``.
``REQUIRED_*`` columns must be present in any input; the others are optional and filled with
missing values when absent. Geometry is always in EPSG:4326 (WGS84 longitude/latitude).
"""

STORAGE_CRS = "EPSG:4326"

DISTRICT_COLUMNS = {
    "district_code": "str",   # 6-digit administrative division code, e.g. "450202"
    "district_name": "str",   # Chinese name, e.g. "城中区"
    "district_name_en": "str",
    "kind": "str",            # "district" (市辖区) or "county" (县)
}

COMMUNITY_COLUMNS = {
    "community_id": "str",
    "name": "str",
    "district_code": "str",
    "district_name": "str",
    "built_year": "int",
    "households": "int",
    "population": "int",
    "share_60plus": "float",          # share of residents aged 60+, 0–1
    "share_under14": "float",         # share of residents under 14, 0–1
    "open_space_m2": "float",         # usable open space in square metres
    "public_space_used_for_parking": "bool",
    "sports_land_planned": "bool",
}
REQUIRED_COMMUNITY_COLUMNS = ("community_id", "name", "district_code", "population")

FITNESS_PATH_COLUMNS = {
    "path_id": "str",
    "name": "str",
    "install_year": "int",
    "n_pieces": "int",                # number of equipment pieces in the set
    "condition": "str",               # "good" | "fair" | "poor"
    "funding_source": "str",          # "city" | "region" | "lottery" | "developer"
}
REQUIRED_FITNESS_PATH_COLUMNS = ("path_id",)

LAYERS = {
    "districts": DISTRICT_COLUMNS,
    "communities": COMMUNITY_COLUMNS,
    "fitness_paths": FITNESS_PATH_COLUMNS,
}
REQUIRED_DISTRICT_COLUMNS = ("district_code", "district_name")
