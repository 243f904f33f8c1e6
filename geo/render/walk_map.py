"""The comparison map: communities served in a straight line but not on foot, and their walks; render only.

A map of its own, beside the coverage map: the communities are drawn by how the two measures judge them
(:func:`geo.analysis.walk_compare.straight_vs_foot`), the ones lost on foot highlighted, and each route of
:func:`geo.analysis.walk_compare.walking_routes` as a line whose tooltip names the community and gives both
distances. It is built as :func:`geo.render.maps.coverage_map` builds its layers: every name travels as data in
one JSON element and the page sets it as text (never as markup, never through a template), from the app's own
vendored Leaflet; no request to any other host unless a base layer is asked for.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geo import i18n
from geo.data.crs import require_storage_crs
from geo.errors import DataError
from geo.render.maps import (
    BASE_NOTE_AFTER_MS,
    COORDINATE_DECIMALS,
    DEFAULT_ASSET_BASE,
    FITNESS_PATH_COLOR,
    FOCUS_MAX_ZOOM,
    _check_assets,
    _display_geometry,
    _districts_layer,
    _feature_collection,
    _fitness_path_cluster,
    _fitness_path_points,
    _legend_row,
    _MapLayers,
    _text,
    _tile_layers,
    _to_gcj02,
    _whole_number,
    community_extent,
    control_words,
    offline_map,
)

WALK_STATUSES = ("walk_not_served", "walk_served_on_foot", "walk_lost")
"""The communities' layers, bottom to top: served neither way, served on foot, served in a straight line only."""

WALK_COLORS = {
    "walk_not_served": "#8C8C8C",  # grey: no set within reach either way
    "walk_served_on_foot": "#009E73",  # bluish green, as "served" on the coverage map
    "walk_lost": "#D55E00",  # vermillion: what the straight line promised and the streets do not give
}
LOST_OUTLINE_COLOR = "#7A2E00"
ROUTE_COLOR = "#6A1B4D"  # reddish purple: apart from every community colour
WALK_ROUTES = "walk_routes"
WALK_STREETS = "walk_streets"
STREET_COLOR = "#B8A17A"  # muted tan, as streets on a paper map: apart from the grey of communities served neither way
WALK_SETS = "fitness_paths"  # the legend's row of the sets (drawn clustered, as on the coverage map)

_TABLE_COLUMNS = ("community_id", "name", "straight_m", "on_foot_m", "served_on_foot", "lost_on_foot")
_ROUTE_COLUMNS = ("community_id", "path_id", "length_m")


def walk_comparison_map(
    districts: gpd.GeoDataFrame,
    table: gpd.GeoDataFrame,
    routes: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    walk_radius_m: float,
    lang: str = "zh",
    asset_base: str = DEFAULT_ASSET_BASE,
    base_layer: str | None = None,
    tianditu_key: str | None = None,
    roads: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Draw the communities by straight line against on foot, the lost ones highlighted, and their walks.

    Parameters
    ----------
    districts : GeoDataFrame
        EPSG:4326 polygons with ``district_code``, ``district_name`` (``district_name_en``): outlines.
    table : GeoDataFrame
        :func:`geo.analysis.walk_compare.straight_vs_foot` output (EPSG:4326): ``community_id``, ``name``,
        ``straight_m``, ``on_foot_m`` (m; NaN when no set can be reached), ``served_on_foot`` and
        ``lost_on_foot``. One layer per :data:`WALK_STATUSES`; the tooltip gives the name and both distances.
    routes : GeoDataFrame
        :func:`geo.analysis.walk_compare.walking_routes` output (EPSG:4326 lines; usually of the lost
        communities): ``community_id``, ``path_id``, ``length_m``. Rows without a line are not drawn. The
        tooltip gives the community's name, the straight distance, the walk and the set walked to.
    fitness_paths : GeoDataFrame
        EPSG:4326 points with ``path_id`` and ``name``: drawn as dots.
    walk_radius_m : float
        The walk radius (m), said in the legend's title.
    lang : {"zh", "en"}
        Language of the legend, layer names and tooltips (the ``[map]`` table of the catalogues).
    asset_base : str
        URL prefix of ``static/vendor``, as for :func:`geo.render.maps.coverage_map`.
    base_layer, tianditu_key
        Tiles under the data, as for :func:`geo.render.maps.coverage_map` (``"amap"`` shifts every layer to
        GCJ-02); None draws none and the map asks nothing of any other host.
    roads : GeoDataFrame, optional
        The city's roads layer (EPSG:4326 lines; a ``walkable`` column keeps the walkable ones): drawn as thin
        grey lines under everything, so that a route is seen to follow the streets and cross at a bridge.

    Returns
    -------
    folium.Map
        Opened on the lost communities and their routes (on the communities when none is lost); a legend with
        the count of each layer and a layer control.

    Raises
    ------
    ValueError
        If a column is missing, a layer is not in EPSG:4326, or ``lang`` or ``base_layer`` is unknown.
    """
    i18n.check_lang(lang)
    for name, frame, columns in (
        ("districts", districts, ("district_code", "district_name")),
        ("table", table, _TABLE_COLUMNS),
        ("routes", routes, _ROUTE_COLUMNS),
        ("fitness_paths", fitness_paths, ("path_id", "name")),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(f"{name} lacks column(s) {missing}; it has {list(frame.columns)}")
        require_storage_crs(frame, name)
    labels = i18n.labels("map", lang)
    tiles = _tile_layers(base_layer, tianditu_key)
    asset_base = asset_base.rstrip("/")
    if roads is not None:
        require_storage_crs(roads, "roads")
        if "walkable" in roads.columns:
            roads = roads[roads["walkable"].astype("boolean").fillna(True).to_numpy(dtype=bool)]
    if base_layer == "amap":
        districts, table, routes, fitness_paths = (_to_gcj02(f) for f in (districts, table, routes, fitness_paths))
        roads = _to_gcj02(roads) if roads is not None else None
    district_display = _display_geometry(districts)
    if district_display.empty:
        raise DataError("districts has no non-empty geometry: the map needs it for its extent")

    status = _walk_status(table)
    drawn_routes = routes[routes.geometry.notna() & ~routes.geometry.is_empty]
    min_lon, min_lat, max_lon, max_lat = _extent(table[status == "walk_lost"], drawn_routes, table, district_display)
    m, tile_layers = offline_map([(min_lat + max_lat) / 2, (min_lon + max_lon) / 2], 12, tiles, labels, asset_base)

    groups = {"districts": folium.FeatureGroup(name=labels["districts"])}
    layers = [_districts_layer(district_display, lang)]
    rows = []
    if roads is not None:
        street_display = _display_geometry(roads)
        groups[WALK_STREETS] = folium.FeatureGroup(name=labels[WALK_STREETS])
        layers.append(_street_layer(street_display))
        rows.append(_legend_row(WALK_STREETS, STREET_COLOR, None, labels, len(street_display)))
    values = _community_values(table, labels)
    for key in WALK_STATUSES:
        in_status = (status == key).to_numpy()
        groups[key] = folium.FeatureGroup(name=labels[key])
        layers.append(_community_layer(table[in_status], values[in_status], key, labels))
        outline = LOST_OUTLINE_COLOR if key == "walk_lost" else None
        rows.append(_legend_row(key, WALK_COLORS[key], outline, labels, int(in_status.sum())))
    groups[WALK_ROUTES] = folium.FeatureGroup(name=labels[WALK_ROUTES])
    layers.append(_route_layer(drawn_routes, table, fitness_paths, labels))
    rows.append(_legend_row(WALK_ROUTES, ROUTE_COLOR, None, labels, len(drawn_routes)))
    set_points = _fitness_path_points(fitness_paths)
    rows.append(_legend_row(WALK_SETS, FITNESS_PATH_COLOR, None, labels, len(set_points), dot=True))
    for group in groups.values():
        group.add_to(m)
    # The sets as the coverage map draws them: dots, clustered when zoomed out.
    cluster = _fitness_path_cluster(labels, asset_base)
    cluster.add_to(m)
    data = {
        "layers": layers,
        "fitness_paths": set_points,
        "fitness_path_style": {
            "radius": 4,
            "weight": 1,
            "color": FITNESS_PATH_COLOR,
            "fillColor": FITNESS_PATH_COLOR,
            "fillOpacity": 0.85,
        },
        "legend": {"title": labels["walk_legend_title"].format(radius=f"{walk_radius_m:,.0f}"), "rows": rows},
        "base_note": labels["base_unavailable"] if tile_layers else None,
        "base_note_after_ms": BASE_NOTE_AFTER_MS,
        "controls": control_words(labels),
    }
    _MapLayers(data, groups, cluster, tile_layers).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[min_lat, min_lon], [max_lat, max_lon]], max_zoom=FOCUS_MAX_ZOOM)
    _check_assets(m, asset_base)
    return m


def _walk_status(table: pd.DataFrame) -> pd.Series:
    """Each community's layer: lost on foot, else served on foot, else served neither way."""
    lost = table["lost_on_foot"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    on_foot = table["served_on_foot"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    status = np.where(lost, "walk_lost", np.where(on_foot, "walk_served_on_foot", "walk_not_served"))
    return pd.Series(status, index=table.index)


def _extent(lost, routes, table, district_display) -> tuple[float, float, float, float]:
    """Where the map opens: the lost communities and their routes, without the far outliers
    (:func:`geo.render.maps.community_extent`: on the sample, the city rather than the whole prefecture); else
    the communities; else the districts."""
    shown = gpd.GeoDataFrame(geometry=pd.concat([lost.geometry, routes.geometry]).to_numpy(), crs="EPSG:4326")
    extent = community_extent(shown)
    if extent is None:
        extent = community_extent(table)
    bounds = district_display.total_bounds if extent is None else extent
    return tuple(float(v) for v in np.round(bounds, COORDINATE_DECIMALS))


def _community_values(table: pd.DataFrame, labels: dict) -> pd.DataFrame:
    """Tooltip text of each community (plain text): name, straight distance, distance on foot ("1,900"). A walk
    that cannot be made reads :data:`walk_unreachable`; with no set at all both distances read "—"."""
    straight = pd.to_numeric(table["straight_m"], errors="coerce")
    on_foot = _whole_number(table["on_foot_m"])
    no_way = straight.notna() & pd.to_numeric(table["on_foot_m"], errors="coerce").isna()
    return pd.DataFrame(
        {
            "community_id": table["community_id"].astype(str),
            "name": _text(table["name"]),
            "walk_straight_m": _whole_number(straight),
            "walk_on_foot_m": on_foot.where(~no_way, labels["walk_unreachable"]),
        },
        index=table.index,
    )


def _community_layer(communities: gpd.GeoDataFrame, values: pd.DataFrame, status: str, labels: dict) -> dict:
    drawable = (communities.geometry.notna() & ~communities.geometry.is_empty).to_numpy()
    display = _display_geometry(communities[drawable])
    props = gpd.GeoDataFrame(values[drawable].set_axis(display.index), geometry=display.geometry)
    color = WALK_COLORS[status]
    if status == "walk_lost":
        style = {"color": LOST_OUTLINE_COLOR, "weight": 3, "fillColor": color, "fillOpacity": 0.8}
    else:
        style = {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.35}
    fields = ["name", "walk_straight_m", "walk_on_foot_m"]
    return {
        "key": status,
        "features": _feature_collection(props, ["community_id", *fields]),
        "style": style,
        "highlight": {"weight": 5 if status == "walk_lost" else 3, "fillOpacity": 0.9},
        "tooltip_fields": fields,
        "tooltip_aliases": [labels[f] for f in fields],
    }


def _route_layer(routes: gpd.GeoDataFrame, table: pd.DataFrame, fitness_paths: pd.DataFrame, labels: dict) -> dict:
    """The walks as lines; each tooltip: the community, the straight distance, the walk, the set walked to."""
    ids = routes["community_id"].astype(str)
    by_id = table.assign(community_id=table["community_id"].astype(str)).drop_duplicates("community_id")
    by_id = by_id.set_index("community_id")
    set_names = dict(zip(fitness_paths["path_id"].astype(str), fitness_paths["name"].astype("string")))
    path_ids = routes["path_id"].astype("string")
    geometry = _display_geometry(routes).geometry
    props = gpd.GeoDataFrame(
        {
            "community_id": ids.to_numpy(),
            "name": _text(ids.map(by_id["name"])).to_numpy(),
            "walk_straight_m": _whole_number(ids.map(by_id["straight_m"])).to_numpy(),
            "walk_on_foot_m": _whole_number(routes["length_m"]).to_numpy(),
            "walk_nearest_set": _text(path_ids.map(set_names).fillna(path_ids)).to_numpy(),
        },
        geometry=geometry.to_numpy(),
        crs="EPSG:4326",
    )
    fields = ["name", "walk_straight_m", "walk_on_foot_m", "walk_nearest_set"]
    return {
        "key": WALK_ROUTES,
        "features": _feature_collection(props, ["community_id", *fields]),
        "style": {"color": ROUTE_COLOR, "weight": 3, "opacity": 0.9},
        "highlight": {"weight": 6},
        "tooltip_fields": fields,
        "tooltip_aliases": [labels[f] for f in fields],
    }


def _street_layer(streets: gpd.GeoDataFrame) -> dict:
    """The walkable streets: thin grey lines carrying no text, letting hovers through to what lies above."""
    props = gpd.GeoDataFrame({"street": np.ones(len(streets), dtype=bool)}, geometry=streets.geometry.to_numpy())
    return {
        "key": WALK_STREETS,
        "features": _feature_collection(props.set_crs("EPSG:4326"), []),
        "style": {"color": STREET_COLOR, "weight": 1, "opacity": 0.8},
        "interactive": False,
    }
