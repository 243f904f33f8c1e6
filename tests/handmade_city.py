"""A hand-made current city and survey imports for the intake tests (tests/test_assemble.py,
tests/test_intake_summary.py): three communities in 城中区, two sets, two applications."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point, box

from geo.data.schema import COMMUNITY_COLUMNS, FITNESS_PATH_COLUMNS
from geo.intake.importer import IntakeResult
from geo.pipeline import CityData

DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}
# At latitude 24.3°, 0.05° of longitude is 5.07 km.
FIVE_KM = 0.05


def square(x: float, y: float = 24.30, size: float = 0.001):
    return box(109.40 + x, y, 109.40 + x + size, y + size)


def frame(rows: list[dict], schema: dict, **extra) -> gpd.GeoDataFrame:
    """A frame in the schema's dtypes (plus ``extra`` columns) from dicts; missing keys are missing values."""
    columns = {name: DTYPES[kind] for name, kind in schema.items()} | extra
    data = {c: pd.Series([row.get(c) for row in rows], dtype=dtype) for c, dtype in columns.items()}
    return gpd.GeoDataFrame(data, geometry=[row.get("geometry") for row in rows], crs="EPSG:4326")


def community(community_id=None, name=None, geometry=None, **values) -> dict:
    return {
        "community_id": community_id,
        "name": name,
        "district_code": "450202",
        "district_name": "城中区",
        "geometry": geometry,
        **values,
    }


def imported(rows: list[dict], sheet_rows=None) -> IntakeResult:
    """What the import of a survey with these accepted rows gives (sheet rows 2, 3, … unless given)."""
    accepted = frame(rows, COMMUNITY_COLUMNS, geometry_approximate="boolean", existing_sets="Int64")
    sheet_rows = np.arange(2, len(rows) + 2) if sheet_rows is None else np.asarray(sheet_rows)
    return IntakeResult("communities", accepted, pd.DataFrame(), len(rows), 0, (), "sheet_row", sheet_rows)


def applications() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "community_id": pd.array(["450202-0001", "450202-0002"], dtype="string"),
            "application_date": pd.to_datetime(["2019-03-01", "2020-05-02"]),
        }
    )


def current_city() -> CityData:
    districts = gpd.GeoDataFrame(
        {
            "district_code": ["450202"],
            "district_name": ["城中区"],
            "district_name_en": ["Chengzhong"],
            "kind": ["district"],
        },
        geometry=[box(109.39, 24.29, 109.60, 24.32)],
        crs="EPSG:4326",
    )
    communities = frame(
        [
            community("450202-0001", "阳光花园", square(0), population=1000),
            community("450202-0002", "ABC小区", square(0.01), population=800),
            community("450202-0003", "柳江新村", square(0.02), population=500),
        ],
        COMMUNITY_COLUMNS,
    )
    paths = frame(
        [
            {"path_id": "FP1", "name": "一号", "geometry": Point(109.4005, 24.3005)},
            {"path_id": "FP2", "name": "二号", "geometry": Point(109.4205, 24.3005)},
        ],
        FITNESS_PATH_COLUMNS,
    )
    return CityData(districts, communities, paths, "hand-made", applications())
