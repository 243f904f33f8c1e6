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

    Returns
    -------
    dict of GeoDataFrame
        ``districts``, ``communities`` and ``fitness_paths``, all in EPSG:4326, columns as in
        :mod:`geo.data.schema`, and ``applications`` (a plain table: ``community_id``,
        ``application_date`` as ISO text) — about 5 % of the communities without a set, old
        ones three times as likely, dated August 2018 to December 2019; and ``public_sites``
        (EPSG:4326, ``geo.data.schema.PUBLIC_SITE_COLUMNS``, points and polygons: see :func:`_public_sites`).
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
    return {
        "districts": out_districts,
        "communities": _typed(communities),
        "fitness_paths": paths,
        "applications": applications,
        # Drawn last, from a stream of their own, so that adding them changed none of the layers above.
        "public_sites": _public_sites(seed, districts, communities, metric_crs, n, paths),
        # The file says it is synthetic, so that the pages and the notice say so (geo.data.identity).
        IDENTITY_LAYER: CityIdentity(synthetic=True).table(),
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


_ID_COLUMNS = {"communities": "community_id", "public_sites": "site_id"}


def _typed(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give every schema column its declared dtype (string, Int64, float64, boolean)."""
    from geo.data.schema import layer_dtypes

    kind = next((k for k, key in _ID_COLUMNS.items() if key in frame.columns), "fitness_paths")
    for column, dtype in layer_dtypes(kind).items():
        frame[column] = frame[column].astype(dtype)
    return frame.reset_index(drop=True)
