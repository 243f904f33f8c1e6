"""Tests for geo.intake.merge: district returns merged into the city layer, every change and conflict reported."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from geopandas.testing import assert_geodataframe_equal
from shapely.geometry import Point, box

from geo.data.schema import COMMUNITY_COLUMNS
from geo.intake.merge import merge_returns, normalised_name

DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}


def square(x: float, y: float = 24.30, size: float = 0.001):
    return box(109.40 + x, y, 109.40 + x + size, y + size)


def communities(rows: list[dict], **extra_dtypes) -> gpd.GeoDataFrame:
    """A communities frame in the schema's dtypes from dicts (missing keys are missing values)."""
    columns = {name: DTYPES[kind] for name, kind in COMMUNITY_COLUMNS.items()}
    columns.update(extra_dtypes)
    present = [c for c in columns if any(c in row for row in rows)] if extra_dtypes else list(columns)
    present = list(dict.fromkeys(list(COMMUNITY_COLUMNS) + present))
    data = {c: pd.Series([row.get(c) for row in rows], dtype=columns[c]) for c in present}
    return gpd.GeoDataFrame(data, geometry=[row.get("geometry") for row in rows], crs="EPSG:4326")


def city() -> gpd.GeoDataFrame:
    return communities(
        [
            {
                "community_id": "450202-0001",
                "name": "阳光花园",
                "district_code": "450202",
                "district_name": "城中区",
                "population": 1000,
                "built_year": 1995,
                "geometry": square(0),
            },
            {
                "community_id": "450202-0002",
                "name": "ABC小区",
                "district_code": "450202",
                "district_name": "城中区",
                "population": 800,
                "geometry": square(0.01),
            },
            {
                "community_id": "450203-0001",
                "name": "柳江新村",
                "district_code": "450203",
                "district_name": "鱼峰区",
                "population": 500,
                "share_60plus": 0.2,
                "geometry": square(0.02),
            },
        ]
    )


def row(community_id=None, name=None, code="450202", district="城中区", geometry=None, **values) -> dict:
    return {
        "community_id": community_id,
        "name": name,
        "district_code": code,
        "district_name": district,
        "geometry": geometry,
        **values,
    }


def by_id(frame: gpd.GeoDataFrame, community_id: str) -> pd.Series:
    return frame.set_index("community_id").loc[community_id]


def test_match_by_id_updates_and_logs_the_change():
    returned = communities([row("450202-0001", "阳光花园", population=1200)])
    result = merge_returns(city(), {"城中区": returned})

    assert by_id(result.communities, "450202-0001")["population"] == 1200
    assert result.updates[["community_id", "column", "old", "new", "source"]].values.tolist() == [
        ["450202-0001", "population", 1000, 1200, "城中区"]
    ]
    assert result.conflicts.empty and result.added.empty
    assert result.matches["matched_by"].tolist() == ["id"]
    assert len(result.communities) == 3


def test_match_by_name_and_district_ignores_spaces_and_full_width():
    returned = communities(
        [
            row(None, "阳光　花园 ", households=400),  # ideographic and trailing space
            row(None, "ＡＢＣ 小区", households=300),  # full-width Latin letters
            row(None, "阳光花园", code="450203", district="鱼峰区", population=10),  # same name, other district
        ]
    )
    result = merge_returns(city(), [returned])

    assert result.matches["matched_by"].tolist() == ["name", "name", "new"]
    assert result.matches["community_id"].tolist()[:2] == ["450202-0001", "450202-0002"]
    assert by_id(result.communities, "450202-0001")["households"] == 400
    assert by_id(result.communities, "450202-0002")["households"] == 300
    # the name as spelt by the city is kept: the spellings have the same key
    assert by_id(result.communities, "450202-0001")["name"] == "阳光花园"
    assert set(result.updates["column"]) == {"households"}
    assert result.added["community_id"].tolist() == ["450203-N0001"]


def test_normalised_name():
    assert normalised_name("阳光　花园") == normalised_name(" 阳光花园") == "阳光花园"
    assert normalised_name("ＡＢＣ 小区") == "abc小区"
    assert normalised_name("  ") is None and normalised_name(None) is None


def test_two_returns_agreeing_give_one_update_and_no_conflict():
    first = communities([row("450202-0001", "阳光花园", population=1200, share_60plus=0.25)])
    second = communities([row(None, "阳光 花园", population=1200, share_60plus=0.25 + 1e-12)])
    result = merge_returns(city(), {"街道A": first, "街道B": second})

    assert result.conflicts.empty
    updates = result.updates.set_index("column")
    assert updates.loc["population", "source"] == "街道A; 街道B"
    assert updates.loc["share_60plus", "old"] is None  # a fill of a missing value is logged too
    assert by_id(result.communities, "450202-0001")["population"] == 1200


def test_two_returns_disagreeing_are_a_conflict_and_nothing_is_chosen():
    first = communities([row("450202-0001", "阳光花园", population=1200, households=400)])
    second = communities([row("450202-0001", "阳光花园", population=1300, households=410)])
    result = merge_returns(city(), {"A": first, "B": second})

    merged = by_id(result.communities, "450202-0001")
    assert merged["population"] == 1000  # the city's value is kept
    assert pd.isna(merged["households"])  # the city had none: left missing
    conflicts = result.conflicts.set_index("column")
    assert conflicts.loc["population", "values"] == [1200, 1300]
    assert conflicts.loc["population", "sources"] == ["A", "B"]
    assert conflicts.loc["population", "city_value"] == 1000
    assert conflicts.loc["population", "resolution"] == "kept the city's value"
    assert conflicts.loc["households", "resolution"].startswith("left missing")
    assert (result.conflicts["kind"] == "value").all()
    assert result.updates.empty
    assert result.summary()["communities_in_conflict"] == 1


def test_a_missing_value_never_erases_and_a_lone_return_overrides_the_city():
    first = communities(
        [row("450203-0001", "柳江新村", code="450203", district="鱼峰区", population=None, share_60plus=0.3)]
    )
    result = merge_returns(city(), [first])
    merged = by_id(result.communities, "450203-0001")
    assert merged["population"] == 500
    assert merged["share_60plus"] == pytest.approx(0.3)
    assert result.updates[["column", "old", "new"]].values.tolist() == [["share_60plus", 0.2, 0.3]]


def test_new_communities_are_appended_with_generated_ids():
    base = city()
    base.loc[1, "community_id"] = "450202-N0007"  # an ID an earlier merge generated
    returned = communities(
        [
            row(None, "新建小区", population=900, geometry=square(0.05)),
            row(None, "另一小区", population=100, geometry=square(0.06)),
            row("450202-9999", "自带编号小区", population=50, geometry=square(0.07)),
        ]
    )
    result = merge_returns(base, {"城中区": returned})

    assert result.added["community_id"].tolist() == ["450202-N0008", "450202-N0009", "450202-9999"]
    assert result.added["id_generated"].tolist() == [True, True, False]
    assert result.added["source"].tolist() == ["城中区"] * 3
    tail = result.communities.iloc[3:]
    assert tail["name"].tolist() == ["新建小区", "另一小区", "自带编号小区"]
    assert tail["population"].tolist() == [900, 100, 50]
    assert tail["district_code"].tolist() == ["450202"] * 3
    assert tail.geometry.equals(gpd.GeoSeries([square(0.05), square(0.06), square(0.07)], index=tail.index))
    assert result.updates.empty and result.conflicts.empty
    assert result.communities["population"].dtype == "Int64"
    assert list(result.communities.columns) == list(base.columns)


def test_the_same_new_community_in_two_returns():
    agreeing = merge_returns(
        city(),
        {
            "A": communities([row(None, "新建小区", population=900)]),
            "B": communities([row(None, "新建 小区", population=900, built_year=2001)]),
        },
    )
    assert agreeing.added[["community_id", "source", "rows"]].values.tolist() == [["450202-N0001", "A; B", 2]]
    assert agreeing.conflicts.empty
    assert agreeing.communities.iloc[3][["population", "built_year"]].tolist() == [900, 2001]

    disagreeing = merge_returns(
        city(),
        {
            "A": communities([row(None, "新建小区", population=900)]),
            "B": communities([row(None, "新建小区", population=950)]),
        },
    )
    assert len(disagreeing.added) == 1
    assert pd.isna(disagreeing.communities.iloc[3]["population"])
    conflict = disagreeing.conflicts.iloc[0]
    assert (conflict["community_id"], conflict["column"], conflict["values"]) == (
        "450202-N0001",
        "population",
        [900, 950],
    )


def test_a_polygon_replaces_an_approximate_footprint():
    base = city()
    base["geometry_approximate"] = pd.array([True, False, False], dtype="boolean")
    drawn = square(0.0005, size=0.002)
    result = merge_returns(
        base,
        {
            "A": communities([row("450202-0001", "阳光花园", geometry=drawn)]),
            # an approximate footprint from another return does not compete with a polygon
            "B": communities(
                [row("450202-0001", "阳光花园", geometry=square(0.3), geometry_approximate=True)],
                geometry_approximate="boolean",
            ),
            # nor does it replace a polygon the city already has
            "C": communities(
                [row("450202-0002", "ABC小区", geometry=square(0.4), geometry_approximate=True)],
                geometry_approximate="boolean",
            ),
        },
    )
    merged = result.communities.set_index("community_id")
    assert merged.geometry["450202-0001"].equals(drawn)
    assert not merged.loc["450202-0001", "geometry_approximate"]
    assert merged.geometry["450202-0002"].equals(square(0.01))
    # C's footprint lies ~40 km from the city's polygon: kept out, but listed, never dropped in silence.
    assert result.conflicts[["community_id", "kind", "resolution"]].values.tolist() == [
        ["450202-0002", "geometry", "kept the city's value"]
    ]
    assert sorted(result.updates["column"]) == ["geometry", "geometry_approximate"]


def test_two_different_polygons_are_a_conflict():
    result = merge_returns(
        city(),
        {
            "A": communities([row("450202-0001", "阳光花园", geometry=square(0.1))]),
            "B": communities([row("450202-0001", "阳光花园", geometry=square(0.2))]),
        },
    )
    assert by_id(result.communities, "450202-0001").geometry.equals(square(0))
    conflict = result.conflicts.iloc[0]
    assert (conflict["kind"], conflict["column"], conflict["sources"]) == ("geometry", "geometry", ["A", "B"])
    assert conflict["resolution"] == "kept the city's value"
    assert result.updates.empty


def test_equal_polygons_written_differently_agree():
    polygon = square(0.1)
    reversed_ring = type(polygon)(list(polygon.exterior.coords)[::-1])
    result = merge_returns(
        city(),
        {
            "A": communities([row("450202-0001", "阳光花园", geometry=polygon)]),
            "B": communities([row("450202-0001", "阳光花园", geometry=reversed_ring)]),
        },
    )
    assert result.conflicts.empty
    assert result.updates["column"].tolist() == ["geometry"]


def test_empty_city():
    empty = city().iloc[0:0]
    returned = communities(
        [
            row(None, "新建小区", population=900, geometry=square(0.05)),
            row(None, "柳江新村", code="450203", district="鱼峰区", population=500, geometry=square(0.06)),
        ]
    )
    result = merge_returns(empty, [returned])
    assert result.communities["community_id"].tolist() == ["450202-N0001", "450203-N0001"]
    assert result.communities.crs == "EPSG:4326"
    assert result.summary() == {
        "returns": 1,
        "rows_returned": 2,
        "matched_by_id": 0,
        "matched_by_name": 0,
        "rows_new": 2,
        "rows_not_merged": 0,
        "communities_before": 0,
        "communities_after": 2,
        "added": 2,
        "updates": 0,
        "communities_updated": 0,
        "conflicts": 0,
        "communities_in_conflict": 0,
    }


def test_extra_columns_of_returns_are_carried_and_source_is_not_compared():
    returned = communities(
        [
            row(
                "450202-0001", "阳光花园", existing_sets=0, application_date=pd.Timestamp("2018-05-03"), source="a.xlsx"
            ),
            row(None, "新建小区", existing_sets=1, source="a.xlsx"),
        ],
        existing_sets="Int64",
        application_date="datetime64[ns]",
        source="string",
    )
    other = communities(
        [row("450202-0001", "阳光花园", existing_sets=0, source="b.xlsx")], existing_sets="Int64", source="string"
    )
    result = merge_returns(city(), [returned, other])
    assert result.returns == ("a.xlsx", "b.xlsx")  # list returns are named by their source column
    assert result.conflicts.empty
    merged = result.communities
    assert merged["existing_sets"].dtype == "Int64"
    assert merged["existing_sets"].tolist()[0] == 0 and pd.isna(merged["existing_sets"].tolist()[1])
    assert merged["application_date"].iloc[0] == pd.Timestamp("2018-05-03")
    assert merged["source"].iloc[3] == "a.xlsx"  # an added row says which return it came from
    assert merged["source"].iloc[:3].isna().all()  # city rows keep their (missing) source


def test_district_code_is_found_from_the_district_name():
    returned = communities(
        [row(None, "阳光花园", code=None, households=400), row(None, "新建小区", code=None, population=10)]
    )
    result = merge_returns(city(), [returned])
    assert result.matches["matched_by"].tolist() == ["name", "new"]
    assert result.added[["community_id", "district_code"]].values.tolist() == [["450202-N0001", "450202"]]


def test_ambiguous_and_unmatchable_rows_are_reported_not_merged():
    base = city()
    base.loc[1, "name"] = "阳光花园"  # two city communities of 城中区 share a name
    returned = communities([row(None, "阳光花园", population=5), row(None, None, population=7)])
    result = merge_returns(base, {"A": returned})
    assert result.matches["matched_by"].tolist() == ["ambiguous_match", "unmatchable"]
    assert result.matches["community_id"].isna().all()
    assert result.conflicts["kind"].tolist() == ["ambiguous_match", "unmatchable"]
    assert result.conflicts["city_value"].iloc[0] == ["450202-0001", "450202-0002"]
    assert result.communities["population"].tolist() == [1000, 800, 500]
    assert result.summary()["rows_not_merged"] == 2


def test_two_returns_giving_different_ids_under_one_name_are_two_communities():
    # Regression (issue 10): the IDs are the evidence; one name does not make them one community.
    result = merge_returns(
        city(),
        {
            "A": communities([row("450202-7001", "新建小区", population=10)]),
            "B": communities([row("450202-7002", "新建小区", population=20)]),
        },
    )
    assert result.added["community_id"].tolist() == ["450202-7001", "450202-7002"]
    assert result.communities["population"].tolist()[3:] == [10, 20]
    assert result.conflicts[["community_id", "kind", "city_value", "resolution"]].values.tolist() == [
        ["450202-7001", "same_name_different_id", ["450202-7002"], "kept as separate communities"],
        ["450202-7002", "same_name_different_id", ["450202-7001"], "kept as separate communities"],
    ]


def test_no_returns_leaves_the_city_as_it_was():
    result = merge_returns(city(), [])
    assert_geodataframe_equal(result.communities, city())
    assert result.updates.empty and result.conflicts.empty and result.added.empty


@pytest.mark.parametrize("crs", ["EPSG:32649", None])
def test_a_return_in_another_crs_is_refused(crs):
    returned = communities([row("450202-0001", "阳光花园", geometry=Point(500000, 2700000))]).set_crs(
        crs, allow_override=True
    )
    with pytest.raises(ValueError, match="EPSG:4326"):
        merge_returns(city(), [returned])


def test_duplicate_city_ids_are_refused():
    base = city()
    base.loc[1, "community_id"] = "450202-0001"
    with pytest.raises(ValueError, match="unique"):
        merge_returns(base, [])


# --------------------------------------------------------------------------- one name, several places (issue 10)
# At latitude 24.3°, 0.05° of longitude is 5.07 km and 0.0005° is 51 m.

FIVE_KM = 0.05


def placed_or_listed(result) -> bool:
    """Every returned row is in the layer or listed as not merged, with its reason."""
    merged = result.matches["community_id"].notna()
    listed = {
        (source, row)
        for sources, rows in zip(result.conflicts["sources"], result.conflicts["rows"])
        for source, row in zip(sources, rows)
    }
    not_merged = result.matches.loc[~merged]
    return (
        set(result.matches.loc[merged, "community_id"]) <= set(result.communities["community_id"])
        and all((s, r) in listed for s, r in zip(not_merged["source"], not_merged["row"]))
        and set(not_merged["matched_by"]) <= {"ambiguous_match", "unmatchable"}
    )


def test_two_new_communities_with_one_name_and_different_ids_far_apart_stay_two():
    # Regression (issue 10): they became one community with no geometry, and every page failed.
    returned = communities(
        [
            row("450202-7001", "新苑", population=300, geometry=square(0.1)),
            row("450202-7002", "新苑", population=500, geometry=square(0.1 + FIVE_KM)),
        ]
    )
    result = merge_returns(city(), {"城中区": returned})

    added = result.communities.iloc[3:].set_index("community_id")
    assert list(added.index) == ["450202-7001", "450202-7002"]
    assert added.geometry["450202-7001"].equals(square(0.1))
    assert added.geometry["450202-7002"].equals(square(0.1 + FIVE_KM))
    assert added["population"].tolist() == [300, 500]
    assert result.communities.geometry.notna().all()
    assert result.conflicts[["community_id", "kind", "city_value"]].values.tolist() == [
        ["450202-7001", "same_name_different_id", ["450202-7002"]],
        ["450202-7002", "same_name_different_id", ["450202-7001"]],
    ]
    assert placed_or_listed(result)


def test_two_rows_with_one_name_and_no_id_far_apart_are_two_communities():
    returned = communities(
        [
            row(None, "新苑", population=300, geometry=square(0.1)),
            row(None, "新苑", population=500, geometry=square(0.1 + FIVE_KM)),
        ]
    )
    result = merge_returns(city(), {"城中区": returned})

    assert result.added[["community_id", "id_generated", "rows"]].values.tolist() == [
        ["450202-N0001", True, 1],
        ["450202-N0002", True, 1],
    ]
    added = result.communities.iloc[3:]
    assert added.geometry.tolist() == [square(0.1), square(0.1 + FIVE_KM)]
    assert added["population"].tolist() == [300, 500]
    assert result.conflicts["kind"].tolist() == ["same_name_different_place"] * 2
    assert result.conflicts["city_value"].tolist() == [["450202-N0002"], ["450202-N0001"]]
    assert placed_or_listed(result)


def test_two_rows_with_one_name_at_one_place_are_one_community():
    # a polygon and, 51 m off, a footprint made from a point: one estate returned twice
    result = merge_returns(
        city(),
        {
            "A": communities([row(None, "新苑", population=300, geometry=square(0.1))]),
            "B": communities(
                [row(None, "新苑", households=90, geometry=square(0.1011), geometry_approximate=True)],
                geometry_approximate="boolean",
            ),
        },
    )
    assert result.added[["community_id", "source", "rows"]].values.tolist() == [["450202-N0001", "A; B", 2]]
    merged = result.communities.iloc[3]
    assert merged.geometry.equals(square(0.1))  # the polygon beats the approximate footprint
    assert (merged["population"], merged["households"]) == (300, 90)
    assert result.conflicts.empty


def test_a_city_name_returned_far_from_the_city_community_is_a_new_community():
    returned = communities([row(None, "阳光花园", population=70, geometry=square(FIVE_KM))])
    result = merge_returns(city(), {"城中区": returned})

    assert by_id(result.communities, "450202-0001").geometry.equals(square(0))  # not moved 5 km
    assert by_id(result.communities, "450202-0001")["population"] == 1000
    assert result.added["community_id"].tolist() == ["450202-N0001"]
    assert by_id(result.communities, "450202-N0001").geometry.equals(square(FIVE_KM))
    conflict = result.conflicts.iloc[0]
    assert (conflict["community_id"], conflict["kind"], conflict["city_value"]) == (
        "450202-N0001",
        "same_name_different_place",
        ["450202-0001"],
    )
    assert result.updates.empty


def test_a_city_name_returned_at_the_city_community_updates_it():
    drawn = square(0.0002, size=0.0012)  # overlaps the city's outline
    result = merge_returns(city(), {"城中区": communities([row(None, "阳光花园", population=1200, geometry=drawn)])})
    assert result.matches["matched_by"].tolist() == ["name"]
    merged = by_id(result.communities, "450202-0001")
    assert merged.geometry.equals(drawn) and merged["population"] == 1200
    assert result.added.empty and result.conflicts.empty


def test_a_place_tells_apart_two_city_communities_of_one_name():
    base = city()
    base.loc[1, "name"] = "阳光花园"  # 450202-0001 at square(0), 450202-0002 at square(0.01), 1 km apart
    result = merge_returns(base, {"A": communities([row(None, "阳光花园", households=55, geometry=square(0.01))])})
    assert result.matches[["community_id", "matched_by"]].values.tolist() == [["450202-0002", "name"]]
    assert by_id(result.communities, "450202-0002")["households"] == 55
    assert pd.isna(by_id(result.communities, "450202-0001")["households"])
    assert result.conflicts.empty


def test_a_row_without_id_or_place_between_two_communities_of_its_name_is_listed_not_merged():
    returned = communities(
        [
            row("450202-7001", "新苑", geometry=square(0.1)),
            row("450202-7002", "新苑", geometry=square(0.1 + FIVE_KM)),
            row(None, "新苑", population=40),
        ]
    )
    result = merge_returns(city(), {"A": returned})
    assert result.matches["matched_by"].tolist() == ["new", "new", "ambiguous_match"]
    ambiguous = result.conflicts[result.conflicts["kind"] == "ambiguous_match"].iloc[0]
    assert (ambiguous["city_value"], ambiguous["rows"], ambiguous["resolution"]) == (
        ["450202-7001", "450202-7002"],
        [3],
        "row not merged",
    )
    assert result.communities["population"].isna().sum() == 2  # 40 went to neither
    assert placed_or_listed(result)


def test_one_id_at_two_places_keeps_a_geometry_and_lists_both():
    first, second = square(0.1), square(0.1 + FIVE_KM)
    result = merge_returns(
        city(),
        {
            "A": communities([row("450202-7001", "新苑", geometry=first)]),
            "B": communities([row("450202-7001", "新苑", geometry=second)]),
        },
    )
    assert result.added[["community_id", "rows"]].values.tolist() == [["450202-7001", 2]]
    assert result.communities.iloc[3].geometry.equals(first)
    conflict = result.conflicts.iloc[0]
    assert (conflict["kind"], conflict["sources"], conflict["resolution"]) == (
        "geometry",
        ["A", "B"],
        "took the geometry of the first row listed",
    )
    assert conflict["values"] == [shapely.to_wkt(first), shapely.to_wkt(second)]


def test_an_unknown_id_without_place_takes_the_only_place_given_for_its_name():
    result = merge_returns(
        city(),
        {
            "A": communities([row("450202-7001", "新苑", population=300)]),
            "B": communities([row(None, "新 苑", households=90, geometry=square(0.1))]),
        },
    )
    assert result.added[["community_id", "source", "rows"]].values.tolist() == [["450202-7001", "A; B", 2]]
    merged = result.communities.iloc[3]
    assert merged.geometry.equals(square(0.1)) and (merged["population"], merged["households"]) == (300, 90)
    assert result.conflicts.empty


def test_a_new_community_never_loses_the_geometry_a_row_gave():
    returns = {
        "A": communities(
            [
                row("450202-7001", "新苑", geometry=square(0.1)),
                row(None, "新苑", geometry=square(0.1 + FIVE_KM)),
                row(None, "阳光花园", geometry=square(2 * FIVE_KM)),
                row("450202-7003", "旧苑"),
                row(None, None, geometry=square(0.3)),
            ]
        ),
        "B": communities(
            [
                row("450202-7001", "新苑", geometry=square(0.1001)),
                row(None, "新苑", geometry=square(0.1 + FIVE_KM + 0.0003)),
                row(None, "新苑"),
            ]
        ),
    }
    result = merge_returns(city(), returns)
    assert placed_or_listed(result)
    matches = result.matches.assign(geometry=[g for frame in returns.values() for g in frame.geometry])
    given = matches.dropna(subset=["community_id", "geometry"])["community_id"].unique()
    merged = result.communities.set_index("community_id")
    assert merged.loc[given].geometry.notna().all()
    assert merged.loc["450202-7003"].geometry is None  # no row gave it one: the caller must place it


def test_same_place_m_must_be_a_distance():
    with pytest.raises(ValueError, match="same_place_m"):
        merge_returns(city(), [], same_place_m=float("nan"))


def test_a_footprint_far_from_the_citys_outline_is_listed_not_dropped():
    """Regression: a return row with a city ID, placed 20 km away as a point, kept the old outline silently."""
    from shapely.geometry import box as square_box

    city = gpd.GeoDataFrame(
        {"community_id": ["450202-0001"], "name": ["阳光花园"], "district_code": ["450202"], "population": [1200]},
        geometry=[square_box(109.400, 24.300, 109.402, 24.302)],
        crs="EPSG:4326",
    )
    far = gpd.GeoDataFrame(
        {
            "community_id": ["450202-0001"],
            "name": ["阳光花园"],
            "district_code": ["450202"],
            "population": [1200],
            "geometry_approximate": pd.array([True], dtype="boolean"),
        },
        geometry=[square_box(109.600, 24.450, 109.601, 24.451)],
        crs="EPSG:4326",
    )
    near = far.set_geometry([square_box(109.4005, 24.3005, 109.4012, 24.3012)], crs="EPSG:4326")
    moved = merge_returns(city, {"far.csv": far})
    assert moved.communities.geometry.iloc[0].equals(city.geometry.iloc[0])  # the surveyed outline stays
    listed = moved.conflicts[moved.conflicts["kind"] == "geometry"]
    assert len(listed) == 1 and listed["community_id"].iloc[0] == "450202-0001"
    assert merge_returns(city, {"near.csv": near}).conflicts.empty  # the same place: nothing to say
