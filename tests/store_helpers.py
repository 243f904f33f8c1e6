"""Store fixtures shared by the store's test modules (issue 14): a CLI runner, tiny photos, the
hand-made cities and plans whose right answers the tests know. No tests here (tests/test_packaging:
no test module imports another)."""

from __future__ import annotations

import io
from dataclasses import replace

import geopandas as gpd
import pandas as pd

from geo.cli import main
from geo.config import Program, load_config
from geo.data.city import CityData
from geo.plan import run_plan
from geo.store.schema import PlanPick, SavedPlan
from tests.helpers import square_city

PICKS = 3_000


def run(capsys, monkeypatch, *args, password=None, stdin=None):
    if password is not None:
        monkeypatch.setenv("PLANNER_PASSWORD", password)
    else:
        monkeypatch.delenv("PLANNER_PASSWORD", raising=False)
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


# Smallest files of each kind whose first bytes say what they are.
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 60


WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 60


def small_city() -> CityData:
    """Three 100 m squares: C000 (a set inside), C001 2 km east and C002 4 km east (none); district
    450202 holds C000 and C001, 450203 holds C002."""
    communities, paths = square_city([(0, 0), (2000, 0), (4000, 0)], [1000, 2000, 3000], paths_xy=[(50, 50)])
    communities.loc[2, ["district_code", "district_name"]] = ["450203", "鱼峰区"]
    districts = gpd.GeoDataFrame(
        {"district_code": ["450202", "450203"], "district_name": ["城中区", "鱼峰区"]},
        geometry=[communities.geometry.iloc[:2].union_all().envelope, communities.geometry.iloc[2].envelope],
        crs="EPSG:4326",
    )
    return CityData(districts, communities, paths, source="test")


def centre(city: CityData, community_id: str) -> tuple[float, float]:
    point = city.communities.set_index("community_id").geometry[community_id].centroid
    return point.x, point.y


def seed_plan(store, city: CityData, picks=("C001", "C002"), name="2026年第一批", status="approved", cost=50_000):
    """An approved plan (as A1's save and approve would leave it) buying one set in each of ``picks``."""
    communities = city.communities.set_index("community_id")
    with store.session() as session, session.begin():
        plan = SavedPlan(
            name=name,
            status=status,
            mode="rank",
            data_sha256="0" * 64,
            parameters="{}",
            metrics="{}",
            created_by="chief",
            approved_by="chief" if status == "approved" else None,
        )
        session.add(plan)
        session.flush()
        for rank, community_id in enumerate(picks, start=1):
            lon, lat = centre(city, community_id)
            session.add(
                PlanPick(
                    plan_id=plan.id,
                    program="city",
                    rank=rank,
                    community_id=community_id,
                    district_code=str(communities.at[community_id, "district_code"]),
                    lon=lon,
                    lat=lat,
                    cost_cny=cost,
                )
            )
        return plan.id


SET_CNY = 50_000


def handmade_city() -> CityData:
    """Four lone square communities 2 km apart (a 500 m walk reaches none from another), two in each
    of two districts, one applied for; an existing set in none of them."""
    communities, paths = square_city([(0, 0), (2000, 0), (4000, 0), (6000, 0)], [1000, 2000, 3000, 400])
    communities["district_code"] = ["450202", "450202", "450203", "450203"]
    districts = gpd.GeoDataFrame(
        {"district_code": ["450202", "450203"], "district_name": ["城中区", "鱼峰区"]},
        geometry=[communities.union_all().envelope] * 2,
        crs="EPSG:4326",
    )
    applications = pd.DataFrame({"community_id": ["C003"], "application_date": pd.to_datetime(["2020-01-02"])})
    return CityData(districts, communities, paths, "hand-made", applications)


def config_with(budget: int, standard: str = "walk"):
    return replace(load_config(), standard=standard, programs=(Program("city", "市本级", "City budget", budget),))


def handmade_plan(budget: int = 2 * SET_CNY, mode: str = "rank"):
    city = handmade_city()
    return run_plan(city.communities, city.fitness_paths, config_with(budget), ["city"], mode, city.applications)


def big_plan(count: int = PICKS):
    """``count`` lone square communities 1.2 km apart (each reached only by its own set), every one bought."""
    side = int(count**0.5) + 1
    xy = [((k % side) * 1200, (k // side) * 1200) for k in range(count)]
    communities, paths = square_city(xy, [100 + k % 997 for k in range(count)])
    config = replace(
        load_config(), standard="walk", programs=(Program("city", "市本级", "City budget", count * SET_CNY),)
    )
    return run_plan(communities, paths, config, ["city"], "rank")


def picture(kind: str) -> bytes:
    """A real 4 × 3 image in ``kind`` (JPEG, PNG, WEBP), as a phone would send."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 60)).save(buffer, format=kind)
    return buffer.getvalue()


def approved_plan_of(store, *community_ids: str, district_code: str = "", name: str = "已批准") -> int:
    """An approved plan buying one set in each of ``community_ids`` (sites at 0°, 0°: only the ids matter)."""
    with store.session() as session, session.begin():
        plan = SavedPlan(name=name, status="approved", mode="rank", data_sha256="0" * 64, parameters="{}",
                         metrics="{}", created_by="chief", approved_by="chief")  # fmt: skip
        session.add(plan)
        session.flush()
        for rank, community_id in enumerate(community_ids, start=1):
            session.add(PlanPick(plan_id=plan.id, program="city", rank=rank, community_id=community_id,
                                 district_code=district_code, lon=0.0, lat=0.0, cost_cny=50_000))  # fmt: skip
        return plan.id
