"""Deterministic generator of a synthetic sample city (communities and fitness paths) on real boundaries.

The communities, their attributes and the fitness paths are invented; only the district
boundaries are real. The same ``seed`` and size always give the same frames, so the bundled
``data/liuzhou_sample.gpkg`` can be rebuilt and checked, and benchmarks can draw cities of any
size from the same distribution.

How the city is laid out (all in metres, in the UTM CRS of the districts):

* the area is cut into square cells; a cell is a candidate when it lies inside one district
  shrunk by ``border_margin_m`` (district borders follow the Liu River in several places);
* candidate cells are weighted by a mixture of Gaussian kernels — the old centre and sub-centres
  of the urban districts, and each county seat — and ``n_communities`` cells are drawn without
  replacement (Efraimidis–Spirakis keys, vectorised);
* each chosen cell holds one community: a rectangle rotated by at most 20°, whose half-diagonal
  is smaller than half the cell, so it stays inside the cell's inscribed circle and communities
  never overlap; about 3 % are split in two parts by an internal road (MultiPolygon);
* attributes follow the distance to the old centre: older communities (built before 2000) lie
  near it, have more elderly residents, less open space, and more often park cars on their
  public space; newer ones more often had sports land planned and already have a set.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.data.crs import metric_crs_for
from geo.data.identity import IDENTITY_LAYER, CityIdentity

DEFAULT_SEED = 20180801
DEFAULT_COMMUNITIES = 2500
# Output vertices are snapped to 1e-7° (about 1 cm) so the sample is stable through file formats.
GRID_DEG = 1e-7
MAX_ROTATION_DEG = 20.0


@dataclass(frozen=True)
class Kernel:
    """A centre of settlement: WGS84 position, spread (km) and relative weight."""

    lon: float
    lat: float
    sigma_km: float
    weight: float
    county_code: str | None = None  # set for a county seat: its kernel only covers that county


# Approximate positions (WGS84) of Liuzhou's old centre, urban sub-centres and county seats.
OLD_CENTRE = (109.4150, 24.3180)
URBAN_KERNELS = (
    Kernel(109.4150, 24.3180, 2.2, 1.0),  # 城中区, inside the river bend
    Kernel(109.4050, 24.3650, 2.5, 0.55),  # 柳北区
    Kernel(109.3750, 24.3000, 2.5, 0.55),  # 柳南区
    Kernel(109.4400, 24.2950, 2.3, 0.45),  # 鱼峰区
    Kernel(109.4450, 24.3350, 1.8, 0.35),  # 河东
    Kernel(109.3350, 24.2550, 2.0, 0.35),  # 柳江区 拉堡
)
COUNTY_SEATS = (
    Kernel(109.2450, 24.6500, 1.3, 1.0, "450222"),  # 柳城县 大埔镇
    Kernel(109.7510, 24.4730, 1.3, 1.0, "450223"),  # 鹿寨县 鹿寨镇
    Kernel(109.3980, 25.2240, 1.2, 1.0, "450224"),  # 融安县 长安镇
    Kernel(109.2560, 25.0660, 1.2, 1.0, "450225"),  # 融水县 融水镇
    Kernel(109.6070, 25.7830, 1.1, 1.0, "450226"),  # 三江县 古宜镇
)
COUNTY_SHARE = 0.12

FIRST_CHARS = list("翠锦华金银绿青福康和泰安明阳光新东西南江山湖桥林竹桂柳荣兴景瑞祥丰宁德嘉悦盛龙凤鹅潭屏")
SECOND_CHARS = list("苑林园湖山水城庭景华府湾庄岸峰溪河堤苑阁轩台湾亭坊")
OLD_SUFFIXES = ("小区", "新村", "宿舍区", "住宅区", "小区")
NEW_SUFFIXES = ("花园", "家园", "华庭", "名都", "雅居", "公寓")
STREET_NAMES = ("文昌", "东环", "西环", "潭中", "屏山", "航银", "五一", "友谊", "跃进", "胜利", "桂中", "柳石")


def _kernel_weights(x, y, kernels, centres_xy):
    """Sum of Gaussian kernels at cell centres (x, y in metres)."""
    weights = np.zeros_like(x)
    for kernel, (cx, cy) in zip(kernels, centres_xy):
        d2 = (x - cx) ** 2 + (y - cy) ** 2
        weights += kernel.weight * np.exp(-d2 / (2.0 * (kernel.sigma_km * 1000.0) ** 2))
    return weights


def _weighted_sample(rng, weights, k):
    """Indices of ``k`` items drawn without replacement with probability ∝ weights."""
    if k > np.count_nonzero(weights > 0):
        raise ValueError(f"cannot place {k} communities: only {np.count_nonzero(weights > 0)} cells available")
    # Efraimidis–Spirakis: keep the k smallest E/w with E ~ Exp(1), compared in log space so
    # that vanishing kernel weights do not overflow.
    keys = np.full(weights.shape, np.inf)
    positive = weights > 0
    keys[positive] = np.log(rng.exponential(size=np.count_nonzero(positive))) - np.log(weights[positive])
    chosen = np.argpartition(keys, k - 1)[:k] if k else np.array([], dtype=int)
    return np.sort(chosen)


def _candidate_cells(districts_m, cell_m, margin_m):
    """Cell centres (x, y) fully inside a district shrunk by ``margin_m``, with the district's row."""
    minx, miny, maxx, maxy = districts_m.total_bounds
    xs = np.arange(minx + cell_m / 2, maxx, cell_m)
    ys = np.arange(miny + cell_m / 2, maxy, cell_m)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    # A cell lies inside the shrunk district when its centre lies inside the district shrunk by
    # margin + half the cell diagonal; the circle test is stricter than the square and cheaper.
    inner = shapely.buffer(districts_m.geometry.values, -(margin_m + cell_m / np.sqrt(2)))
    district_row = np.full(gx.shape, -1)
    for row, polygon in enumerate(inner):
        shapely.prepare(polygon)
        inside = shapely.contains_xy(polygon, gx, gy)
        district_row[inside] = row
    keep = district_row >= 0
    return gx[keep], gy[keep], district_row[keep]


def _rectangles(rng, cx, cy, cell_m, gap_m):
    """Rotated rectangles inside each cell's inscribed circle; returns corners, shape (n, 4, 2)."""
    n = cx.size
    half_diag = rng.uniform(0.45, 1.0, n) * (cell_m / 2 - gap_m)
    aspect_angle = rng.uniform(np.radians(25), np.radians(65), n)  # angle of the diagonal
    half_w = half_diag * np.cos(aspect_angle)
    half_h = half_diag * np.sin(aspect_angle)
    theta = np.radians(rng.uniform(-MAX_ROTATION_DEG, MAX_ROTATION_DEG, n))
    local = np.stack(
        [
            np.stack([-half_w, -half_h], -1),
            np.stack([half_w, -half_h], -1),
            np.stack([half_w, half_h], -1),
            np.stack([-half_w, half_h], -1),
        ],
        axis=1,
    )
    cos, sin = np.cos(theta)[:, None], np.sin(theta)[:, None]
    x = cx[:, None] + local[..., 0] * cos - local[..., 1] * sin
    y = cy[:, None] + local[..., 0] * sin + local[..., 1] * cos
    return np.stack([x, y], -1), half_w, half_h, theta


def _polygons(corners, split, road_m):
    """Polygons from corners; rows in ``split`` become two parts divided by a road of ``road_m``."""
    geoms = shapely.polygons(corners)
    if split.any():
        c = corners[split]
        # Cut across the long side (0→1 / 3→2 edges) at its middle, leaving a road gap.
        a0, a1, b1, b0 = c[:, 0], c[:, 1], c[:, 2], c[:, 3]
        length = np.linalg.norm(a1 - a0, axis=-1, keepdims=True)
        road = np.minimum(road_m, 0.3 * length)  # tiny cells (huge benchmark cities) get a narrower road
        t_lo = 0.5 - (road / 2) / length
        t_hi = 0.5 + (road / 2) / length
        m0_lo, m0_hi = a0 + (a1 - a0) * t_lo, a0 + (a1 - a0) * t_hi
        m1_lo, m1_hi = b0 + (b1 - b0) * t_lo, b0 + (b1 - b0) * t_hi
        left = shapely.polygons(np.stack([a0, m0_lo, m1_lo, b0], 1))
        right = shapely.polygons(np.stack([m0_hi, a1, b1, m1_hi], 1))
        geoms[split] = shapely.multipolygons(np.stack([left, right], 1))
    return geoms


def _points_in_rectangles(rng, cx, cy, half_w, half_h, theta, split):
    """A random point well inside each rectangle (in its central band; off the road of split ones)."""
    n = cx.size
    u = rng.uniform(0.25, 0.8, n) * rng.choice([-1.0, 1.0], n)  # |u| ≥ 0.25 avoids the road
    v = rng.uniform(-0.6, 0.6, n)
    u = np.where(split, u, u * rng.uniform(0, 1, n))
    lx, ly = u * half_w, v * half_h
    cos, sin = np.cos(theta), np.sin(theta)
    return cx + lx * cos - ly * sin, cy + lx * sin + ly * cos


def _unique_names(rng, n, is_old):
    """``n`` distinct plausible (invented) community names; old ones get older-style suffixes."""
    stems = np.array(list(dict.fromkeys(a + b for a in FIRST_CHARS for b in SECOND_CHARS if a != b)))
    old_names = np.array([s + suffix for s in stems for suffix in dict.fromkeys(OLD_SUFFIXES)])
    new_names = np.array([s + suffix for s in stems for suffix in NEW_SUFFIXES])
    names = np.empty(n, dtype=object)
    n_old = int(is_old.sum())
    names[is_old] = _names_with_phases(rng, old_names, n_old)
    names[~is_old] = _names_with_phases(rng, new_names, n - n_old)
    return names


def _names_with_phases(rng, pool, k):
    """Draw ``k`` names from ``pool``; beyond the pool's size add 二期, 三期 … to stay unique."""
    phases = ["", "二期", "三期", "四期", "五期", "六期", "七期", "八期", "九期"]
    rounds = -(-k // len(pool)) if k else 0
    if rounds > len(phases):
        # Very large benchmark cities: fall back to numbered phases.
        phases = phases + [f"{i}期" for i in range(10, rounds + 1)]
    draws = [pool[rng.permutation(len(pool))] for _ in range(rounds)]
    return np.concatenate([np.char.add(d.astype(str), phases[i]) for i, d in enumerate(draws)])[:k] if k else []


def _community_attributes(rng, area_m2, distance_km, is_county):
    """Invented but plausible attributes; older communities lie nearer the centre."""
    n = area_m2.size
    base = np.where(is_county, 1982.0 + 6.0 * distance_km, 1968.0 + 5.5 * distance_km)
    built_year = np.clip(np.round(base + rng.normal(0.0, 7.0, n)), 1958, 2023).astype(int)
    old = built_year < 2000
    households = np.maximum(
        20, np.round(area_m2 * np.where(old, rng.uniform(0.010, 0.022, n), rng.uniform(0.012, 0.030, n)))
    )
    population = np.round(households * rng.uniform(2.3, 3.1, n))
    share_60plus = np.round(np.where(old, rng.uniform(0.20, 0.38, n), rng.uniform(0.08, 0.22, n)), 3)
    share_under14 = np.round(np.where(old, rng.uniform(0.06, 0.14, n), rng.uniform(0.10, 0.22, n)), 3)
    parking = rng.random(n) < np.where(old, 0.65, 0.20)
    sports_land = rng.random(n) < np.where(old, 0.05, np.where(built_year >= 2010, 0.80, 0.55))
    open_share = np.where(
        old, np.where(parking, rng.uniform(0.0, 0.015, n), rng.uniform(0.01, 0.08, n)), rng.uniform(0.08, 0.30, n)
    )
    open_space_m2 = np.round(area_m2 * open_share)
    return pd.DataFrame(
        {
            "built_year": built_year,
            "households": households.astype(int),
            "population": population.astype(int),
            "share_60plus": share_60plus,
            "share_under14": share_under14,
            "open_space_m2": open_space_m2,
            "public_space_used_for_parking": parking,
            "sports_land_planned": sports_land,
        }
    )


def _to_wgs84(geoms, metric_crs):
    """Project metric geometries to EPSG:4326 and snap them to the 1e-7° grid."""
    series = gpd.GeoSeries(geoms, crs=metric_crs).to_crs("EPSG:4326")
    return shapely.set_precision(series.values, GRID_DEG)


def generate_sample(
    districts: gpd.GeoDataFrame,
    n_communities: int = DEFAULT_COMMUNITIES,
    seed: int = DEFAULT_SEED,
    served_share: float = 0.38,
    border_margin_m: float = 100.0,
    roads: bool = False,
) -> dict[str, gpd.GeoDataFrame]:
    """Generate a synthetic city inside real ``districts``.

    Parameters
    ----------
    districts : GeoDataFrame
        EPSG:4326 polygons with ``district_code``, ``district_name``, ``district_name_en``, ``kind``
        (``"district"`` or ``"county"``). Liuzhou's codes place the county seats; other cities get
        urban kernels at the centroid of their ``kind == "district"`` rows.
    n_communities : int
        Number of community polygons.
    seed : int
        Seed of ``numpy.random.default_rng``; the same seed and inputs give identical output.
    served_share : float
        Share of communities that receive a fitness path inside them (0–1).
    border_margin_m : float
        Minimum distance in metres between a community and its district's border.
    roads : bool
        Also return ``roads``: a synthetic street network (see :func:`_roads`), drawn last from a stream of
        its own so that every other layer is the same with or without it.

    Returns
    -------
    dict of GeoDataFrame
        ``districts``, ``communities`` and ``fitness_paths``, all in EPSG:4326, columns as in
        :mod:`geo.data.schema`, and ``applications`` (a plain table: ``community_id``,
        ``application_date`` as ISO text) — about 5 % of the communities without a set, old
        ones three times as likely, dated August 2018 to December 2019; and ``public_sites``
        (EPSG:4326, ``geo.data.schema.PUBLIC_SITE_COLUMNS``, points and polygons: see :func:`_public_sites`);
        with ``roads=True`` also ``roads`` (EPSG:4326 LineStrings, ``geo.data.schema.ROAD_COLUMNS``).
    """
    if n_communities < 1:
        raise ValueError("n_communities must be at least 1")
    rng = np.random.default_rng(seed)
    districts = districts.reset_index(drop=True)
    metric_crs = metric_crs_for(districts)
    districts_m = districts.to_crs(metric_crs)

    # Cell size: 300 m for a city like the sample, smaller when many communities must fit.
    total_area = float(districts_m.area.sum())
    cell_m = float(min(300.0, np.sqrt(total_area / (n_communities * 40.0))))
    gap_m = cell_m * 0.05
    cx, cy, district_row = _candidate_cells(districts_m, cell_m, border_margin_m)

    kernels, _codes = _kernels_for(districts)
    kernel_xy = _project_points([(k.lon, k.lat) for k in kernels], metric_crs)
    is_county_cell = districts["kind"].to_numpy()[district_row] == "county"
    cell_code = districts["district_code"].to_numpy()[district_row]

    urban = [i for i, k in enumerate(kernels) if k.county_code is None]
    county = [i for i, k in enumerate(kernels) if k.county_code is not None]
    urban_w = _kernel_weights(cx, cy, [kernels[i] for i in urban], [kernel_xy[i] for i in urban]) * ~is_county_cell
    n_county = int(round(n_communities * COUNTY_SHARE)) if county else 0
    chosen = [_weighted_sample(rng, urban_w, n_communities - n_county)]
    for j, i in enumerate(county):
        weights = _kernel_weights(cx, cy, [kernels[i]], [kernel_xy[i]]) * (cell_code == kernels[i].county_code)
        share = n_county // len(county) + (1 if j < n_county % len(county) else 0)
        chosen.append(_weighted_sample(rng, weights, share))
    cells = np.concatenate(chosen)
    # A stable order: by district, then north to south, then west to east.
    order = np.lexsort((np.round(cx[cells]), -np.round(cy[cells]), district_row[cells]))
    cells = cells[order]
    ccx, ccy, crow = cx[cells], cy[cells], district_row[cells]
    n = cells.size

    corners, half_w, half_h, theta = _rectangles(rng, ccx, ccy, cell_m, gap_m)
    split = rng.random(n) < 0.03
    geoms_m = _polygons(corners, split, road_m=max(4.0, gap_m))
    area_m2 = shapely.area(geoms_m)

    old_xy = _project_points([OLD_CENTRE], metric_crs)[0]
    county_seat_xy = {kernels[i].county_code: kernel_xy[i] for i in county}
    ref_x = np.array([county_seat_xy.get(c, old_xy)[0] for c in cell_code[cells]])
    ref_y = np.array([county_seat_xy.get(c, old_xy)[1] for c in cell_code[cells]])
    distance_km = np.hypot(ccx - ref_x, ccy - ref_y) / 1000.0
    attrs = _community_attributes(rng, area_m2, distance_km, is_county_cell[cells])
    old = attrs["built_year"].to_numpy() < 2000

    code = districts["district_code"].to_numpy()[crow]
    within_district = pd.Series(code).groupby(code).cumcount().to_numpy() + 1
    communities = gpd.GeoDataFrame(
        {
            "community_id": [f"{c}-{k:04d}" for c, k in zip(code, within_district)],
            "name": _unique_names(rng, n, old),
            "district_code": code,
            "district_name": districts["district_name"].to_numpy()[crow],
            **{col: attrs[col].to_numpy() for col in attrs.columns},
        },
        geometry=_to_wgs84(geoms_m, metric_crs),
        crs="EPSG:4326",
    )

    paths, served = _fitness_paths(
        rng, communities, attrs, served_share, ccx, ccy, half_w, half_h, theta, split, cx, cy, cells, cell_m, metric_crs
    )
    applications = _applications(rng, communities, old, served)
    out_districts = districts[["district_code", "district_name", "district_name_en", "kind", "geometry"]].copy()
    # Drawn last, from a stream of their own, so that asking for them changes none of the layers below.
    names = communities["name"].to_numpy()
    geometry = (ccx, ccy, corners, cell_m)
    extra = (
        {"roads": _roads(seed, districts, districts_m, metric_crs, geometry, names, kernels, kernel_xy)}
        if roads
        else {}
    )
    return {
        "districts": out_districts,
        "communities": _typed(communities),
        "fitness_paths": paths,
        "applications": applications,
        # Drawn last, from a stream of their own, so that adding them changed none of the layers above.
        "public_sites": _public_sites(seed, districts, communities, metric_crs, n, paths),
        # The file says it is synthetic, so that the pages and the notice say so (geo.data.identity).
        IDENTITY_LAYER: CityIdentity(synthetic=True).table(),
        **extra,
    }


def _applications(rng, communities, old, served, share=0.05):
    """Applications through district offices since the August 2018 survey, mostly from old communities."""
    n = len(communities)
    weights = np.where(old, 3.0, 1.0)
    weights[served] = 0.0
    k = min(int(round(share * n)), int(np.count_nonzero(weights)))
    applicants = _weighted_sample(rng, weights, k)
    first = np.datetime64("2018-08-01")
    days = rng.integers(0, 517, k)  # up to the end of 2019
    return pd.DataFrame(
        {
            "community_id": pd.array(communities["community_id"].to_numpy()[applicants], dtype="string"),
            "application_date": pd.array((first + days).astype(str), dtype="string"),
        }
    )


def _fitness_paths(
    rng, communities, attrs, served_share, ccx, ccy, half_w, half_h, theta, split, cx, cy, cells, cell_m, metric_crs
):
    """Sets inside served communities (a few with two), plus some in parks and along streets."""
    n = len(communities)
    old = attrs["built_year"].to_numpy() < 2000
    has_space = attrs["open_space_m2"].to_numpy() >= 150
    likelihood = np.where(
        old,
        np.where(has_space, 0.30, 0.03),
        np.where(attrs["sports_land_planned"].to_numpy(), 0.75, 0.35),
    )
    n_served = int(round(served_share * n))
    served = _weighted_sample(rng, likelihood, n_served)
    second = served[rng.random(served.size) < 0.045]
    hosts = np.concatenate([served, second])
    px, py = _points_in_rectangles(
        rng, ccx[hosts], ccy[hosts], half_w[hosts], half_h[hosts], theta[hosts], split[hosts]
    )

    # Parks: empty candidate cells near the chosen ones; streets: midpoints of chosen cells' edges.
    n_outside = max(1, int(round(0.1 * (n_served + second.size))))
    n_parks = n_outside // 2
    free = np.ones(cx.size, bool)
    free[cells] = False
    near = np.zeros(cx.size)
    near[free] = 1.0
    park_cells = _weighted_sample(rng, near, min(n_parks, int(free.sum())))
    street_hosts = rng.choice(n, n_outside - park_cells.size, replace=False)
    side = rng.integers(0, 4, street_hosts.size)
    dx = np.array([0.5, -0.5, 0.0, 0.0])[side] * cell_m
    dy = np.array([0.0, 0.0, 0.5, -0.5])[side] * cell_m
    ox = np.concatenate([cx[park_cells], ccx[street_hosts] + dx])
    oy = np.concatenate([cy[park_cells], ccy[street_hosts] + dy])

    names = communities["name"].to_numpy()
    host_year = attrs["built_year"].to_numpy()[hosts]
    inside_names = [f"{names[h]}健身路径" for h in hosts]
    park_names = [f"{STREET_NAMES[i % len(STREET_NAMES)]}{i + 1}号游园健身点" for i in range(park_cells.size)]
    street_names = [f"{STREET_NAMES[i % len(STREET_NAMES)]}路{i + 1}号健身点" for i in range(street_hosts.size)]

    x = np.concatenate([px, ox])
    y = np.concatenate([py, oy])
    m = x.size
    earliest = np.concatenate([np.maximum(host_year, 2003), np.full(ox.size, 2003)])
    install_year = (earliest + np.floor(rng.random(m) * (2025 - earliest))).astype(int)
    age = 2025 - install_year
    wear = rng.random(m)
    # Equipment wears out: after 5 years it is mostly "fair", and each year adds 3 % chance of "poor".
    condition = np.where((age <= 5) | (wear > 0.92), "good", np.where(wear < 0.03 * age, "poor", "fair"))
    funding = rng.choice(["city", "region", "lottery", "developer"], m, p=[0.3, 0.2, 0.35, 0.15])
    # Sets installed with a community built after 2000 were mostly paid by its developer.
    inside_years = install_year[: hosts.size]
    developer_built = np.concatenate([(host_year >= 2000) & (inside_years - host_year <= 2), np.zeros(ox.size, bool)])
    funding = np.where(developer_built, "developer", funding)
    geometry = _to_wgs84(shapely.points(x, y), metric_crs)
    frame = gpd.GeoDataFrame(
        {
            "path_id": [f"FP{i + 1:05d}" for i in range(m)],
            "name": inside_names + park_names + street_names,
            "install_year": install_year,
            "n_pieces": rng.integers(6, 17, m),
            "condition": condition,
            "funding_source": funding,
        },
        geometry=geometry,
        crs="EPSG:4326",
    )
    return _typed(frame), served


# --------------------------------------------------------------------------- public sites (issue 15)

SITES_STREAM = 15
"""The public sites draw from their own stream, ``default_rng([seed, SITES_STREAM])``, after everything else."""
# How many sites of each kind the 2,500-community sample gets (scaled with the number of communities).
SITE_COUNTS = {
    "park": 22,
    "greenway": 12,
    "square": 20,
    "pocket_park": 50,
    "school_ground": 26,
    "street_corner": 20,
    "other": 6,
}
SITE_CONSENT_SHARES = {"yes": 0.77, "no": 0.08, "unknown": 0.15}
SITE_AREA_UNKNOWN_SHARE = 0.04
SITE_CLEARANCE_M = 5.0  # a site keeps at least this far from every community polygon
SITE_SPACING_M = 80.0  # and from every other site
GAP_M = 500.0  # a land-less community with no set this near (m) is where sites are most often proposed
SITE_TRIES = 4000  # candidates drawn per kind; the first that fit are kept
RIVER_REACH_M = 4500.0  # riverside sites lie this close to the old centre
SITE_STEMS = (
    "文惠",
    "滨江",
    "龙城",
    "鹅山",
    "箭盘",
    "马鞍",
    "窑埠",
    "蟠龙",
    "柳堤",
    "雀儿山",
    "灯台",
    "桂中",
    "潭中",
    "河东",
    "东堤",
    "江滨",
    "百花",
    "驾鹤",
    "立鱼",
    "三门",
    "白沙",
    "沙塘",
    "东环",
    "西堤",
    "南站",
    "柳东",
)
STREETS_OFFICES = ("城中", "公园", "中南", "荣军", "天马", "雀儿山", "河东", "柳石", "鹅山", "白露", "胜利", "解放")
SCHOOL_KINDS = ("小学", "小学", "中学", "实验学校")


def _public_sites(seed, districts, communities, metric_crs, n_communities, paths=None):
    """A credible synthetic ``public_sites`` layer around the sample's communities (EPSG:4326, schema columns).

    Drawn from its own stream (``default_rng([seed, SITES_STREAM])``) after everything else, so the
    other layers stay as they were. Metres in ``metric_crs``. Parks (polygons) and greenway corners
    (points) lie 40–130 m inside 城中区's borders with its neighbours (the Liu River) within
    ``RIVER_REACH_M`` of the old centre; squares, pocket parks and street corners 60–450 m from old
    communities without open space (under 150 m²), four times as often near those with no set within
    ``GAP_M`` (a district office proposes a site where residents have nothing in reach, not where a
    set already stands around the corner); school grounds near any community of the urban
    districts; a park at some county seats; a few other plots anywhere. No site comes within
    ``SITE_CLEARANCE_M`` of a community nor ``SITE_SPACING_M`` of another site.
    """
    rng = np.random.default_rng([seed, SITES_STREAM])
    scale = n_communities / DEFAULT_COMMUNITIES
    counts = {kind: max(1, int(round(count * scale))) for kind, count in SITE_COUNTS.items()}
    communities_m = communities.geometry.to_crs(metric_crs).to_numpy()
    tree = shapely.STRtree(communities_m)
    districts_m = districts.to_crs(metric_crs).reset_index(drop=True)
    codes = districts["district_code"].to_numpy()
    urban = shapely.union_all(districts_m.geometry[(districts["kind"] == "district").to_numpy()].to_numpy())
    city = shapely.union_all(districts_m.geometry.to_numpy())
    shapely.prepare(city)
    centre = shapely.points(_project_points([OLD_CENTRE], metric_crs)[0])
    old = communities["built_year"].to_numpy() < 2000
    landless = old & (communities["open_space_m2"].to_numpy(dtype=float) < 150)
    nearest_set = np.full(len(communities), np.inf)
    if paths is not None and len(paths):
        paths_m = paths.geometry.to_crs(metric_crs).to_numpy()
        (rows, _), distance = shapely.STRtree(paths_m).query_nearest(communities_m, return_distance=True)
        np.minimum.at(nearest_set, rows, distance)
    landless_weight = np.where(nearest_set > GAP_M, 4.0, 1.0)
    anchor_xy = shapely.get_coordinates(shapely.centroid(communities_m))
    in_urban = shapely.contains_xy(urban, anchor_xy[:, 0], anchor_xy[:, 1])
    if not in_urban.any():  # a city drawn without urban districts: every community counts
        in_urban[:] = True
    placed_kinds: list[str] = []
    placed: list = []

    def place(kind, shapes, limit):
        """Keep the first of ``shapes`` clear of communities and of placed sites, up to ``limit``."""
        clearance = np.full(len(shapes), np.inf)
        (rows, _), distance = tree.query_nearest(shapes, return_distance=True)
        np.minimum.at(clearance, rows, distance)
        fits = (clearance >= SITE_CLEARANCE_M) & shapely.within(shapes, city)
        kept = 0
        for k in np.flatnonzero(fits):
            if kept == limit:
                break
            if placed and shapely.distance(shapes[k], np.asarray(placed)).min() < SITE_SPACING_M:
                continue
            placed.append(shapes[k])
            placed_kinds.append(kind)
            kept += 1

    def near(mask, low, high, weight=None):
        """Candidate centres ``low``–``high`` metres from communities drawn from ``mask`` (all when it holds none),
        each in proportion to ``weight`` (default: alike)."""
        rows = np.flatnonzero(mask) if mask.any() else np.arange(mask.size)
        p = None if weight is None else weight[rows] / weight[rows].sum()
        anchors = rng.choice(rows, SITE_TRIES, p=p)
        r, t = rng.uniform(low, high, SITE_TRIES), rng.uniform(0, 2 * np.pi, SITE_TRIES)
        return anchor_xy[anchors, 0] + r * np.cos(t), anchor_xy[anchors, 1] + r * np.sin(t)

    def rectangles(x, y, low, high, aspect_low, aspect_high):
        half = rng.uniform(low, high, x.size) / 2
        aspect = rng.uniform(aspect_low, aspect_high, x.size)
        return _rotated_rectangles(x, y, half, half * aspect, rng.uniform(0, np.pi, x.size))

    # Along the river: 城中区's borders with its neighbours near the old centre (another city: the urban edge).
    by_code = dict(zip(codes, districts_m.geometry))
    if "450202" in by_code:
        borders = [shapely.intersection(by_code["450202"].boundary, g.boundary) for c, g in by_code.items()]
        riverbank = shapely.union_all([b for c, b in zip(by_code, borders) if c != "450202"])
    else:
        riverbank = urban.boundary
    riverbank = shapely.line_merge(shapely.intersection(riverbank, shapely.buffer(centre, RIVER_REACH_M)))
    if riverbank.is_empty or riverbank.length == 0:  # no border near the centre: the parks go by communities
        around = shapely.union_all(shapely.buffer(shapely.points(anchor_xy[in_urban]), 150.0))
        riverbank = shapely.line_merge(around.boundary)
    along = rng.uniform(0, riverbank.length, SITE_TRIES)
    foot = shapely.get_coordinates(shapely.line_interpolate_point(riverbank, along))
    ahead = shapely.get_coordinates(
        shapely.line_interpolate_point(riverbank, np.minimum(along + 20.0, riverbank.length))
    )
    direction = (ahead - foot) / np.maximum(np.hypot(*(ahead - foot).T), 1e-9)[:, None]
    normal = np.stack([-direction[:, 1], direction[:, 0]], -1) * rng.choice([-1.0, 1.0], (SITE_TRIES, 1))
    xy = foot + normal * rng.uniform(70.0, 130.0, (SITE_TRIES, 1))
    angle = np.arctan2(direction[:, 1], direction[:, 0])
    half_long, half_short = rng.uniform(60.0, 130.0, SITE_TRIES), rng.uniform(18.0, 30.0, SITE_TRIES)
    seats = [k for k in COUNTY_SEATS if k.county_code in set(codes)][: counts["park"] // 4]
    place("park", _rotated_rectangles(xy[:, 0], xy[:, 1], half_long, half_short, angle), counts["park"] - len(seats))
    xy = foot + normal * rng.uniform(40.0, 90.0, (SITE_TRIES, 1))
    place("greenway", shapely.points(xy), counts["greenway"])

    # Between old communities without open space: squares, pocket parks (polygons and points), street corners.
    x, y = near(landless & in_urban, 60.0, 450.0, landless_weight)
    place("square", rectangles(x, y, 35.0, 70.0, 0.6, 1.0), counts["square"])
    x, y = near(landless & in_urban, 60.0, 400.0, landless_weight)
    shapes = np.where(rng.random(SITE_TRIES) < 0.6, rectangles(x, y, 18.0, 45.0, 0.5, 1.0), shapely.points(x, y))
    place("pocket_park", shapes, counts["pocket_park"])
    x, y = near(landless & in_urban, 60.0, 300.0, landless_weight)
    place("street_corner", shapely.points(x, y), counts["street_corner"])
    x, y = near(in_urban, 80.0, 400.0)
    place("school_ground", rectangles(x, y, 60.0, 100.0, 0.55, 0.8), counts["school_ground"])
    for seat in seats:  # a park by each of the first county seats
        sx, sy = _project_points([(seat.lon, seat.lat)], metric_crs)[0]
        r, t = rng.uniform(200.0, 1500.0, 200), rng.uniform(0, 2 * np.pi, 200)
        place("park", rectangles(sx + r * np.cos(t), sy + r * np.sin(t), 80.0, 160.0, 0.5, 0.7), 1)
    x, y = near(np.ones(len(communities), bool), 60.0, 400.0)
    place("other", shapely.points(x, y), counts["other"])
    return _site_attributes(rng, np.asarray(placed_kinds), np.asarray(placed), metric_crs)


def _rotated_rectangles(x, y, half_long, half_short, angle):
    """Rectangles centred on (x, y) with half-sides in metres, the long side at ``angle`` (radians)."""
    unit = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])
    lx = unit[None, :, 0] * np.asarray(half_long)[:, None]
    ly = unit[None, :, 1] * np.asarray(half_short)[:, None]
    cos, sin = np.cos(angle)[:, None], np.sin(angle)[:, None]
    return shapely.polygons(np.stack([x[:, None] + lx * cos - ly * sin, y[:, None] + lx * sin + ly * cos], -1))


# Usable share of a polygon site's area, and usable m² of a point site, by kind (low, high).
_USABLE_SHARE = {"park": (0.05, 0.2), "square": (0.3, 0.6), "pocket_park": (0.5, 0.9), "school_ground": (0.3, 0.5)}
_POINT_AREA_M2 = {"greenway": (150, 800), "pocket_park": (150, 1200), "street_corner": (60, 400), "other": (100, 600)}


def _site_attributes(rng, kinds, shapes_m, metric_crs):
    """Names, usable areas, owners, consent and notes for the placed sites (invented but plausible)."""
    n = kinds.size
    is_polygon = shapely.get_type_id(shapes_m) == 3
    usable = np.zeros(n)
    for kind, (low, high) in _USABLE_SHARE.items():
        rows = (kinds == kind) & is_polygon
        usable[rows] = shapely.area(shapes_m[rows]) * rng.uniform(low, high, rows.sum())
    for kind, (low, high) in _POINT_AREA_M2.items():
        rows = (kinds == kind) & ~is_polygon
        usable[rows] = rng.uniform(low, high, rows.sum())
    usable = np.round(usable, -1)
    usable[rng.random(n) < SITE_AREA_UNKNOWN_SHARE] = np.nan
    # The consent shares are kept exactly (to the nearest site), their order drawn.
    n_of = {answer: int(round(share * n)) for answer, share in SITE_CONSENT_SHARES.items() if answer != "yes"}
    consent = rng.permutation(
        np.repeat(["no", "unknown", "yes"], [n_of["no"], n_of["unknown"], n - sum(n_of.values())])
    )
    stem = rng.choice(SITE_STEMS, n)
    first = rng.integers(0, len(STREET_NAMES), n)
    second = (first + rng.integers(1, len(STREET_NAMES), n)) % len(STREET_NAMES)  # two different streets
    street = np.asarray(STREET_NAMES)[np.stack([first, second], -1)]
    office = np.char.add(rng.choice(STREETS_OFFICES, n), "街道办事处")
    number = np.arange(1, n + 1)
    names = np.select(
        [kinds == k for k in ("park", "greenway", "square", "pocket_park", "school_ground", "street_corner")],
        [
            np.char.add(stem, "公园"),
            [f"滨江绿道{s}段{i}号节点" for s, i in zip(stem, number)],
            np.char.add(stem, "广场"),
            np.char.add(stem, "口袋公园"),
            [f"柳州市{s}{k}操场" for s, k in zip(stem, rng.choice(SCHOOL_KINDS, n))],
            [f"{a}路与{b}路街角" for a, b in zip(street[:, 0], street[:, 1])],
        ],
        [f"{s}路{i}号空地" for s, i in zip(street[:, 0], number)],
    )
    repeat = pd.Series(names).groupby(names).cumcount().to_numpy()  # a second 滨江公园 is 滨江公园二号 …
    names = [
        name if k == 0 else f"{name}{'二三四五六七八九'[k - 1]}号" if k < 9 else f"{name}{k + 1}号"
        for name, k in zip(names, repeat)
    ]
    owners = np.select(
        [np.isin(kinds, ("park", "greenway")), kinds == "school_ground", kinds == "other"],
        [
            np.where(kinds == "park", "柳州市园林局", rng.choice(["柳州市园林局", "柳州市水利局"], n)),
            [name.replace("操场", "") for name in names],
            rng.choice(["柳州市城市管理行政执法局", "社区居民委员会", "柳州市供销合作社"], n),
        ],
        office,
    )
    notes = np.where(
        kinds == "school_ground",
        "课余时间和节假日对外开放",
        np.where(
            consent == "unknown", "尚未征求产权或管理单位意见", np.where(consent == "no", "产权或管理单位不同意", "")
        ),
    )
    geometry = _to_wgs84(shapes_m, metric_crs)
    frame = gpd.GeoDataFrame(
        {
            "site_id": [f"PS-{i:04d}" for i in number],
            "name": names,
            "kind": kinds,
            "usable_area_m2": usable,
            "owner": owners,
            "consent": consent,
            "notes": pd.Series(notes).replace("", pd.NA),
        },
        geometry=geometry,
        crs="EPSG:4326",
    )
    return _typed(frame)


def _kernels_for(districts):
    """Kernels for Liuzhou, or for another city one kernel per urban district centroid."""
    codes = set(districts["district_code"])
    kernels = list(URBAN_KERNELS)
    kernels += [k for k in COUNTY_SEATS if k.county_code in codes]
    if not codes & {"450202", "450203", "450204", "450205"}:
        urban = districts[districts["kind"] == "district"]
        points = urban.to_crs(metric_crs_for(districts)).geometry.representative_point().to_crs("EPSG:4326")
        kernels = [Kernel(p.x, p.y, 2.5, 1.0) for p in points]
    return kernels, codes


def _project_points(lonlat, metric_crs):
    """Project WGS84 (lon, lat) pairs to the metric CRS; returns a list of (x, y)."""
    lon, lat = np.asarray(lonlat, dtype=float).T
    projected = gpd.GeoSeries(shapely.points(lon, lat), crs="EPSG:4326").to_crs(metric_crs)
    return list(zip(projected.x, projected.y))


_ID_COLUMNS = {"communities": "community_id", "public_sites": "site_id", "roads": "road_id"}


def _typed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give every schema column its declared dtype (string, Int64, float64, boolean)."""
    from geo.data.schema import layer_dtypes

    kind = next((k for k, key in _ID_COLUMNS.items() if key in frame.columns), "fitness_paths")
    for column, dtype in layer_dtypes(kind).items():
        frame[column] = frame[column].astype(dtype)
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- roads (issue 16)

ROADS_STREAM = 16
"""The roads draw from their own stream, ``default_rng([seed, ROADS_STREAM])``, after everything else."""
DENSE_RADIUS_M = 3000.0  # around the old centre every lattice line is a street; farther out every second one
STREET_REACH_CELLS = {"urban": 2, "county": 1}  # streets run this many cells beyond the communities
ACCESS_M = 50.0  # a community farther than this from a street gets a footway to its cell's nearest street
BRIDGE_COUNT = 10
BRIDGE_SPACING_M = 2000.0  # bridges at least this far apart (relaxed until at least 6 fit)
MOTORWAY_BEND_M = 800.0  # a county's motorway bows this far off its walkable road so the two never coincide
# OSM highway value of a lattice line by its index: every 8th a secondary road, every 4th a tertiary one.
LINE_KINDS = ((8, "secondary"), (4, "tertiary"), (1, "residential"))
ROAD_SUFFIX = {"primary": "大道", "secondary": "路", "tertiary": "街", "residential": "巷"}
LANE_NUMBERS = "一二三四五六七"


def _river_course(districts, districts_m):
    """The approximated Liu River (metres): 城中区's borders with its neighbours; empty for another city."""
    by_code = dict(zip(districts["district_code"], districts_m.geometry))
    if "450202" not in by_code:
        return shapely.LineString()
    inner = by_code["450202"].boundary
    borders = [shapely.intersection(inner, g.boundary) for c, g in by_code.items() if c != "450202"]
    return shapely.line_merge(shapely.union_all([b for b in borders if not b.is_empty]))


def _lattice(cells_ij, reach):
    """Every edge of the cell lattice around ``cells_ij`` (global cell indices (i, j), shape (n, 2)).

    Returns ``a``, ``b`` (global node indices of the two ends, shape (m, 2); node (i, j) is the south-west
    corner of cell (i, j)) and ``street``: the edge bounds a cell within ``reach`` cells of a community.
    """
    pad = reach + 2
    origin = cells_ij.min(0) - pad
    nx, ny = cells_ij.max(0) - origin + pad + 1
    chosen = np.zeros((nx, ny), bool)
    chosen[tuple((cells_ij - origin).T)] = True
    near = chosen.copy()
    for di in range(-reach, reach + 1):
        for dj in range(-reach, reach + 1):
            near |= np.roll(np.roll(chosen, di, 0), dj, 1)  # the padding keeps rolls from wrapping onto cells
    padded = np.zeros((nx + 2, ny + 2), bool)
    padded[1:-1, 1:-1] = near
    # A horizontal edge (i, j)→(i+1, j) bounds cells (i, j) and (i, j-1); a vertical (i, j)→(i, j+1) (i, j), (i-1, j).
    hi, hj = (g.ravel() for g in np.meshgrid(np.arange(nx), np.arange(ny + 1), indexing="ij"))
    vi, vj = (g.ravel() for g in np.meshgrid(np.arange(nx + 1), np.arange(ny), indexing="ij"))
    street = np.concatenate([padded[hi + 1, hj + 1] | padded[hi + 1, hj], padded[vi + 1, vj + 1] | padded[vi, vj + 1]])
    a = np.concatenate([np.stack([hi, hj], 1), np.stack([vi, vj], 1)]) + origin
    b = a + np.concatenate([np.tile([1, 0], (hi.size, 1)), np.tile([0, 1], (vi.size, 1))])
    return a, b, street


def _graph(u, v, weight, n):
    """Undirected sparse graph (CSR) of ``n`` nodes from edges (u, v) with ``weight``."""
    from scipy.sparse import coo_matrix

    rows, cols = np.concatenate([u, v]), np.concatenate([v, u])
    return coo_matrix((np.concatenate([weight, weight]), (rows, cols)), shape=(n, n)).tocsr()


def _trace(predecessors, node):
    """Nodes from ``node`` back to its Dijkstra source along ``predecessors``."""
    path = [int(node)]
    while predecessors[path[-1]] >= 0:
        path.append(int(predecessors[path[-1]]))
    return path


def _path_edges(path, edge_of):
    """Rows of the edges along a path of nodes; ``edge_of`` maps (smaller node, larger node) to the row."""
    path = np.asarray(path)
    if path.size < 2:
        return np.array([], dtype=int)
    pairs = list(zip(np.minimum(path[:-1], path[1:]).tolist(), np.maximum(path[:-1], path[1:]).tolist()))
    return edge_of.loc[pairs].to_numpy()


def _spread(points, centre_xy, k):
    """Rows of up to ``k`` ``points`` nearest ``centre_xy`` and BRIDGE_SPACING_M apart (spacing relaxed for 6)."""
    order = np.argsort(np.hypot(*(points - centre_xy).T))
    spacing = BRIDGE_SPACING_M
    while True:
        taken: list[int] = []
        for i in order:
            if all(np.hypot(*(points[i] - points[j])) >= spacing for j in taken):
                taken.append(int(i))
            if len(taken) == k:
                break
        if len(taken) >= min(6, k, order.size) or spacing < 200.0:
            return np.asarray(taken, dtype=int)
        spacing /= 1.5


def _region_streets(cells_ij, reach, dense, grid, river, centre_xy, targets_xy, n_bridges):
    """Street edges of one region (the urban area or a county seat), joined into one piece.

    Keeps the lattice edges that bound cells near communities — every lattice line within DENSE_RADIUS_M
    of ``centre_xy`` (or everywhere when ``dense``), every second one farther out — never across ``river``
    except at up to ``n_bridges`` bridges, then joins every other piece to the one at ``centre_xy`` by the
    shortest run of further dry lattice edges (multi-source Dijkstra). The shortest streets from the centre
    to ``targets_xy`` (other district centres) become primary roads. ``grid`` is (x0, y0, cell_m), metres.

    Returns a dict of arrays over the kept edges: ``a``, ``b`` (global node indices), ``xy`` (metres,
    shape (m, 2, 2)), ``line`` (lattice line index), ``bridge``, ``primary``.
    """
    from scipy.sparse.csgraph import connected_components, dijkstra

    x0, y0, cell_m = grid
    a, b, street = _lattice(cells_ij, reach)
    xy = np.stack(
        [
            np.stack([x0 + a[:, 0] * cell_m, y0 + a[:, 1] * cell_m], -1),
            np.stack([x0 + b[:, 0] * cell_m, y0 + b[:, 1] * cell_m], -1),
        ],
        1,
    )
    mid = xy.mean(1)
    line = np.where(a[:, 1] == b[:, 1], a[:, 1], a[:, 0])
    near_centre = np.hypot(*(mid - centre_xy).T) <= DENSE_RADIUS_M
    wet = np.zeros(a.shape[0], bool)
    if not river.is_empty:
        shapely.prepare(river)
        wet = shapely.intersects(shapely.linestrings(xy), river)
    keep = street & (dense | near_centre | (line % 2 == 0)) & ~wet
    low = np.minimum(a.min(0), b.min(0))
    height = int(max(a[:, 1].max(), b[:, 1].max()) - low[1] + 1)
    ua, ub = (a[:, 0] - low[0]) * height + a[:, 1] - low[1], (b[:, 0] - low[0]) * height + b[:, 1] - low[1]
    n_nodes = int(max(ua.max(), ub.max())) + 1
    node_xy = np.zeros((n_nodes, 2))
    node_xy[ua], node_xy[ub] = xy[:, 0], xy[:, 1]
    touched = np.zeros(n_nodes, bool)
    touched[ua[keep]] = touched[ub[keep]] = True
    bridge = np.zeros(a.shape[0], bool)
    candidates = np.flatnonzero(wet & touched[ua] & touched[ub])
    if candidates.size and n_bridges:
        bridge[candidates[_spread(mid[candidates], centre_xy, n_bridges)]] = True
    keep |= bridge
    touched[ua[keep]] = touched[ub[keep]] = True
    # Join the pieces: kept edges cost almost nothing, further dry lattice edges their length.
    usable = ~wet | bridge
    graph = _graph(ua[usable], ub[usable], np.where(keep, 1e-3, cell_m)[usable], n_nodes)
    _, piece = connected_components(_graph(ua[keep], ub[keep], np.ones(keep.sum()), n_nodes), directed=False)
    touched_rows = np.flatnonzero(touched)
    centre_node = touched_rows[np.argmin(np.hypot(*(node_xy[touched_rows] - centre_xy).T))]
    main = np.flatnonzero(touched & (piece == piece[centre_node]))
    distance, predecessors, _ = dijkstra(graph, indices=main, min_only=True, return_predecessors=True)
    edge_of = pd.Series(np.arange(ua.size), index=pd.MultiIndex.from_arrays([np.minimum(ua, ub), np.maximum(ua, ub)]))
    others = np.flatnonzero(touched & (piece != piece[centre_node]) & np.isfinite(distance))
    if others.size:
        nearest = pd.Series(distance[others], index=others).groupby(piece[others]).idxmin().to_numpy()
        for node in nearest[np.argsort(distance[nearest])]:
            keep[_path_edges(_trace(predecessors, node), edge_of)] = True
    # Primary roads: the shortest streets from the centre to the other district centres.
    primary = np.zeros(a.shape[0], bool)
    if len(targets_xy):
        street_graph = _graph(ua[keep], ub[keep], np.full(keep.sum(), cell_m), n_nodes)
        _, predecessors = dijkstra(street_graph, indices=centre_node, return_predecessors=True)
        kept_nodes = np.flatnonzero(touched)
        for target in targets_xy:
            nearest = kept_nodes[np.argmin(np.hypot(*(node_xy[kept_nodes] - target).T))]
            primary[_path_edges(_trace(predecessors, nearest), edge_of)] = True
    rows = np.flatnonzero(keep)
    return {
        "a": a[rows],
        "b": b[rows],
        "xy": xy[rows],
        "line": line[rows],
        "bridge": bridge[rows],
        "primary": primary[rows],
    }


def _access_lanes(corners, cells_ij, keys, grid):
    """Footways from communities farther than ACCESS_M from a street to the nearest street on their cell's sides.

    ``corners`` (n, 4, 2) metres; ``cells_ij`` global cell indices; ``keys`` the sorted keys (see
    :func:`_edge_keys`) of the street edges. Returns the community rows, the lane ends (corner, foot on the
    side; metres, shape (k, 2, 2)), the key of the edge each foot lies on, and each community's distance (m)
    to its nearest street before the lanes.
    """
    x0, y0, cell_m = grid
    i, j = cells_ij.T
    # Sides: west (i, j)→(i, j+1), east (i+1, j)→…, south (i, j)→(i+1, j), north (i, j+1)→…
    side_a = np.stack(
        [np.stack([i, j], -1), np.stack([i + 1, j], -1), np.stack([i, j], -1), np.stack([i, j + 1], -1)], 1
    )
    vertical = np.array([True, True, False, False])
    present = np.isin(_edge_keys(side_a.reshape(-1, 2), np.tile(vertical, i.size)), keys).reshape(-1, 4)
    xs, ys = corners[..., 0], corners[..., 1]
    left, right = x0 + i * cell_m, x0 + (i + 1) * cell_m
    bottom, top = y0 + j * cell_m, y0 + (j + 1) * cell_m
    gaps = np.stack([xs.min(1) - left, right - xs.max(1), ys.min(1) - bottom, top - ys.max(1)], 1)
    gaps = np.where(present, gaps, np.inf)
    side = np.argmin(gaps, 1)
    distance = gaps[np.arange(i.size), side]
    rows = np.flatnonzero(distance > ACCESS_M)
    corner_of = np.stack([xs.argmin(1), xs.argmax(1), ys.argmin(1), ys.argmax(1)], 1)[rows, side[rows]]
    start = corners[rows, corner_of]
    s = side[rows]
    foot = start.copy()
    foot[:, 0] = np.select([s == 0, s == 1], [left[rows], right[rows]], start[:, 0])
    foot[:, 1] = np.select([s == 2, s == 3], [bottom[rows], top[rows]], start[:, 1])
    # A foot within a metre of a corner of the cell moves onto it, so that no street piece is shorter than that.
    for axis, low, high in ((0, left[rows], right[rows]), (1, bottom[rows], top[rows])):
        foot[:, axis] = np.where(
            foot[:, axis] - low < 1.0, low, np.where(high - foot[:, axis] < 1.0, high, foot[:, axis])
        )
    keys_of = _edge_keys(side_a[rows, s], vertical[s])
    return rows, np.stack([start, foot], 1), keys_of, distance


def _edge_keys(a, vertical):
    """One int64 per lattice edge: its south-west node (i, j) and whether it runs north."""
    a = np.asarray(a, dtype=np.int64)
    return ((a[:, 0] + 2**20) * 2**21 + a[:, 1] + 2**20) * 2 + np.asarray(vertical, dtype=np.int64)


def _split_at(xy, feet, on):
    """Split the 2-point segments ``xy`` (m, 2, 2) at ``feet`` (k, 2) lying on rows ``on`` of ``xy``.

    Feet less than a metre apart, or from an end, are merged onto the first of them. Returns the segments,
    the row of ``xy`` each came from, and the feet as merged (metres).
    """
    feet = feet.copy()
    parts, source = [xy], [np.arange(xy.shape[0])]
    cut = np.zeros(xy.shape[0], bool)
    for row, group in pd.Series(np.arange(on.size)).groupby(on):
        members = group.to_numpy()
        along = np.hypot(*(feet[members] - xy[row, 0]).T)
        members, along = members[np.argsort(along, kind="stable")], np.sort(along, kind="stable")
        length = np.hypot(*(xy[row, 1] - xy[row, 0]))
        stops = [(0.0, xy[row, 0])]
        for member, t in zip(members, along):
            if t - stops[-1][0] < 1.0:
                feet[member] = stops[-1][1]
            elif length - t < 1.0:
                feet[member] = xy[row, 1]
            else:
                stops.append((t, feet[member]))
        points = np.array([p for _, p in stops] + [xy[row, 1]])
        parts.append(np.stack([points[:-1], points[1:]], 1))
        source.append(np.full(len(points) - 1, row))
        cut[row] = True
    keep = np.concatenate([~cut, np.ones(sum(len(p) for p in parts[1:]), bool)])
    return np.concatenate(parts)[keep], np.concatenate(source)[keep], feet


def _link(here, there, here_centre, there_centre, river):
    """Ends (metres) of a road from nodes ``here`` to nodes ``there``, and the bend of its motorway.

    The ends are the nodes of each side nearest the other side's centre; on ``there``'s side the next
    nearest is taken while the road or its motorway would cross ``river``.
    """
    start = here[np.argmin(np.hypot(*(here - there_centre).T))]
    candidates = there[np.argsort(np.hypot(*(there - here_centre).T))]
    along = candidates - start
    normal = np.stack([-along[:, 1], along[:, 0]], 1) / np.maximum(np.hypot(*along.T), 1.0)[:, None]
    bend = (start + candidates) / 2 + normal * MOTORWAY_BEND_M
    dry = np.ones(len(candidates), bool)
    if not river.is_empty:
        roads = shapely.linestrings(np.stack([np.broadcast_to(start, candidates.shape), candidates], 1))
        motorways = shapely.linestrings(np.stack([np.broadcast_to(start, candidates.shape), bend, candidates], 1))
        dry = ~shapely.intersects(roads, river) & ~shapely.intersects(motorways, river)
    k = int(np.argmax(dry))
    return start, candidates[k], bend[k]


def _roads(seed, districts, districts_m, metric_crs, cells, names, kernels, kernel_xy):
    """A credible synthetic street network for the sample (EPSG:4326, ``geo.data.schema.ROAD_COLUMNS``).

    Drawn from its own stream (``default_rng([seed, ROADS_STREAM])``) after everything else. Metres in
    ``metric_crs``. ``cells`` is ``(ccx, ccy, corners, cell_m)``: the communities' cell centres, their
    rectangles' corners (n, 4, 2) and the cell size. Streets run along the lattice of the cells, so they lie
    in the gaps between communities and never cross one; a community whose edge is farther than ACCESS_M
    from them gets a footway (its gate) to the nearest side of its cell; the Liu River
    (:func:`_river_course`) is crossed only at bridges; each county seat is linked to the nearest region
    already linked by a walkable road and a motorway. Lines meet at shared end points. The stems of street
    and bridge names are drawn from the stream. See data/README.md.
    """
    rng = np.random.default_rng([seed, ROADS_STREAM])
    ccx, ccy, corners, cell_m = cells
    x0, y0 = districts_m.total_bounds[:2]
    grid = (x0, y0, cell_m)
    cells_ij = np.stack([np.round((ccx - x0) / cell_m - 0.5), np.round((ccy - y0) / cell_m - 0.5)], 1).astype(int)
    point_in = [shapely.contains_xy(g, ccx, ccy) for g in districts_m.geometry]
    row_of = np.argmax(np.stack(point_in), 0)
    region = np.where(
        districts["kind"].to_numpy()[row_of] == "county", districts["district_code"].to_numpy()[row_of], ""
    )
    river = _river_course(districts, districts_m)
    urban_kernels = [xy for k, xy in zip(kernels, kernel_xy) if k.county_code is None]
    seats = {k.county_code: xy for k, xy in zip(kernels, kernel_xy) if k.county_code is not None}
    regions = {}
    for code in pd.unique(region):
        rows = region == code
        centre = np.asarray(urban_kernels[0] if code == "" else seats.get(code, (ccx[rows].mean(), ccy[rows].mean())))
        targets = np.asarray(urban_kernels[1:]) if code == "" else np.empty((0, 2))
        regions[code] = _region_streets(
            cells_ij[rows],
            STREET_REACH_CELLS["county" if code else "urban"],
            bool(code),
            grid,
            river if code == "" else shapely.LineString(),
            centre,
            targets,
            BRIDGE_COUNT if code == "" else 0,
        )
        regions[code]["centre"] = centre
    streets = {
        k: np.concatenate([r[k] for r in regions.values()]) for k in ("a", "b", "xy", "line", "bridge", "primary")
    }
    vertical = streets["a"][:, 0] == streets["b"][:, 0]
    keys = _edge_keys(streets["a"], vertical)
    order = np.argsort(keys)
    lane_rows, lane_xy, lane_keys, _ = _access_lanes(corners, cells_ij, keys[order], grid)
    on = order[np.searchsorted(keys[order], lane_keys)]
    xy, source, lane_xy[:, 1] = _split_at(streets["xy"], lane_xy[:, 1], on)
    line = streets["line"][source]
    kind = np.select(
        [streets["primary"][source]] + [line % k == 0 for k, _ in LINE_KINDS[:-1]],
        ["primary"] + [v for _, v in LINE_KINDS[:-1]],
        LINE_KINDS[-1][1],
    )
    stems = np.asarray(list(dict.fromkeys(STREET_NAMES + SITE_STEMS)))
    stems = stems[rng.permutation(stems.size)]
    is_vertical = vertical[source]
    stem = np.where(
        is_vertical,
        stems[(line // 4) % (stems.size // 2)],
        stems[stems.size // 2 + (line // 4) % (stems.size - stems.size // 2)],
    )
    suffix = np.vectorize(ROAD_SUFFIX.get)(kind)
    lane_number = np.asarray(list(LANE_NUMBERS))[(line % 4 - 1) % len(LANE_NUMBERS)]
    name = np.char.add(np.char.add(stem, np.where(kind == "residential", lane_number, "")), suffix)
    bridge = streets["bridge"][source]
    bridge_stems = rng.choice(np.asarray(SITE_STEMS), bridge.sum(), replace=bridge.sum() > len(SITE_STEMS))
    name[bridge] = np.char.add(bridge_stems, "大桥")
    lines = list(shapely.linestrings(xy))
    kinds, names_out, walkable, bridges = list(kind), list(name), [True] * len(lines), list(bridge)
    # Gates: a footway from each far community to its street.
    lines += list(shapely.linestrings(lane_xy))
    kinds += ["footway"] * len(lane_rows)
    names_out += [f"{names[r]}步行道" for r in lane_rows]
    walkable += [True] * len(lane_rows)
    bridges += [False] * len(lane_rows)
    # County seats: a walkable road and a motorway to the nearest region already linked, nearest seat first.
    node_sets = {code: np.unique(r["xy"].reshape(-1, 2), axis=0) for code, r in regions.items()}
    linked = [""] if "" in regions else list(regions)[:1]
    waiting = [c for c in regions if c not in linked]
    by_code = dict(zip(districts["district_code"], districts["district_name"]))
    while waiting:
        gaps = [[np.hypot(*(regions[c]["centre"] - regions[d]["centre"])) for d in linked] for c in waiting]
        c_i, d_i = np.unravel_index(np.argmin(gaps), (len(waiting), len(linked)))
        code, other = waiting.pop(c_i), linked[d_i]
        here, there = node_sets[code], node_sets[other]
        start, end, bend = _link(here, there, regions[code]["centre"], regions[other]["centre"], river)
        short = by_code[code][:2]
        lines += [shapely.LineString([start, end]), shapely.LineString([start, bend, end])]
        kinds += ["secondary", "motorway"]
        names_out += [f"{short}公路", f"{short}高速"]
        walkable += [True, False]
        bridges += [False, False]
        linked.append(code)
    frame = gpd.GeoDataFrame(
        {
            "road_id": [f"R{i + 1:06d}" for i in range(len(lines))],
            "name": names_out,
            "kind": kinds,
            "walkable": walkable,
            "bridge": bridges,
        },
        geometry=_to_wgs84(np.asarray(lines, dtype=object), metric_crs),
        crs="EPSG:4326",
    )
    return _typed(frame)
