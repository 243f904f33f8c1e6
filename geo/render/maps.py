"""Render coverage maps with folium from the app's own web assets; render only, computes nothing.

Every JavaScript and CSS file the maps load comes from ``static/vendor`` (see its README.md):
in the Streamlit app they are served by Streamlit's static file serving at
``/app/static/vendor/...``, and :func:`standalone_html` inlines them into one file that opens
with no internet and no server. A map built here makes no request to any other host, unless
the caller explicitly asks for base-map tiles (``base_layer``), which the browser then fetches
from that tile host.

folium's base :class:`folium.Map` asks for jQuery, Bootstrap, Font Awesome and
Leaflet.awesome-markers; none of them is needed by what is drawn here (they serve popups,
awesome-marker icons and Bootstrap styling), so the maps load Leaflet and, for the clustered
fitness-path points, Leaflet.markercluster only. Tooltips are used instead of popups because
folium's popups call jQuery. Adding an element that brings assets of its own raises
``ValueError`` at build time until its files are vendored and listed in ``_VENDORED``.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
import uuid
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import MarkerCluster
from folium.template import Template

from geo import i18n
from geo.analysis.eligibility import mark_estimates, reason_labels
from geo.config import DISTANCES
from geo.data.crs import convert_geometries, require_storage_crs
from geo.errors import DataError, data_error
from geo.render.compact import QUANTUM_DEG, encode_column, encode_shapes, grid_cells

VENDOR_DIR = Path(__file__).resolve().parents[2] / "static" / "vendor"
"""Folder of the vendored web assets; Streamlit serves it at ``/app/static/vendor``."""

DEFAULT_ASSET_BASE = "/app/static/vendor"

DISPLAY_TOLERANCE_DEG = 2.0 / 111_320
"""Simplification tolerance for display geometry, in degrees (EPSG:4326): about 2 m.

2 m divided by the length of one degree of latitude (111,320 m). A degree of longitude at
Liuzhou (24.3° N) is ~101 km, so the tolerance is ~1.8 m east–west: well below one screen
pixel at street zoom (~2.4 m/px at zoom 16), so simplified outlines look the same.
"""

MAX_ZOOM = 19
"""Deepest zoom of the maps (~0.3 m per pixel at Liuzhou); markercluster needs a limit."""

COORDINATE_DECIMALS = 6
"""Decimals kept in the coordinates sent to the browser: 1e-6 degree is about 0.1 m."""

_LEAFLET = "leaflet-1.9.3"
_MARKERCLUSTER = "leaflet.markercluster-1.5.3"

# Asset lists as (folium's name for the asset, path under VENDOR_DIR); folium's names are kept
# so that an element asking for the same library again replaces, not duplicates, the link.
_MAP_JS = (("leaflet", f"{_LEAFLET}/leaflet.js"),)
_MAP_CSS = (("leaflet_css", f"{_LEAFLET}/leaflet.css"),)
_CLUSTER_JS = (("markerclusterjs", f"{_MARKERCLUSTER}/leaflet.markercluster.js"),)
_CLUSTER_CSS = (
    ("markerclustercss", f"{_MARKERCLUSTER}/MarkerCluster.css"),
    ("markerclusterdefaultcss", f"{_MARKERCLUSTER}/MarkerCluster.Default.css"),
)
_VENDORED = frozenset(path for _, path in _MAP_JS + _MAP_CSS + _CLUSTER_JS + _CLUSTER_CSS)

STATUSES = ("served_inside", "served_within_radius", "unserved")
"""Community statuses of a map drawn from coverage flags only (no ``eligible`` column)."""

ELIGIBILITY_STATUSES = (
    "served_inside",
    "served_within_radius",
    "unserved_eligible",
    "unserved_ineligible",
)
"""Statuses when the communities carry an ``eligible`` column: "unserved" split in two."""

TO_SURVEY_STATUS = "unserved_to_survey"
"""Unserved, and not eligible only until its open space is surveyed on site (drawn when there are any)."""

SELECTED_STATUS = "selected"
"""Status of the communities in ``selected_ids``; it takes precedence over every other."""

# Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies.
STATUS_COLORS = {
    "served_inside": "#009E73",  # bluish green
    "served_within_radius": "#0072B2",  # blue
    "unserved": "#D55E00",  # vermillion
    "unserved_eligible": "#E69F00",  # orange
    "unserved_ineligible": "#8C8C8C",  # grey: nothing can be built there as things stand
    "unserved_to_survey": "#F0E442",  # yellow: open space unknown, to be surveyed on site
    "selected": "#CC79A7",  # reddish purple, with a dark outline
}
SELECTED_OUTLINE_COLOR = "#6A1B4D"
FOCUS_OUTLINE_COLOR = "#000000"
FITNESS_PATH_COLOR = "#222222"  # near-black dots: apart from every status colour

SITE_STATUSES = ("sites_ineligible", "sites_eligible", "sites_selected")
"""Layers of the public sites (bottom to top): those that cannot host a set, those that can, the plan's picks."""

SITE_COLORS = {
    "sites_eligible": "#56B4E9",  # sky blue, dark blue outline
    "sites_ineligible": "#FFFFFF",  # hollow, grey outline
    "sites_selected": "#CC79A7",  # the picks' reddish purple
}
SITE_OUTLINES = {"sites_eligible": "#1F4E79", "sites_ineligible": "#6E6E6E", "sites_selected": "#6A1B4D"}
SITE_DOT_RADIUS_PX = {"sites_eligible": 4, "sites_ineligible": 3, "sites_selected": 7}
"""Sites are drawn as dots (a polygon at its representative point): a pocket park is a pixel at city zoom."""

GRID_LAYER = "grid_cells"
"""Layer of the grid cells that stand for the communities of a large city at low zoom (``shapes_at_once``)."""

SHAPES_MIN_ZOOM = 15
"""Zoom from which a large city's map draws its communities' shapes (~4.3 m per pixel at Liuzhou: a
1,400 × 1,000 px view spans about 6 × 4.3 km)."""

GRID_LEVELS = ((12, 2000.0), (99, 500.0))
"""(deepest zoom, cell size in metres) of the grid levels: 2 km cells up to zoom 12, 500 m cells after."""

SERVED_STATUSES = ("served_inside", "served_within_radius")
"""The statuses a grid cell's "share served" counts."""

LANDLESS_STATUS = "landless"
LANDLESS_OUTLINE_COLOR = "#B2182B"  # dark red outline, no fill: the status colour underneath still shows
SERVICE_LINES = "service_lines"
SERVICE_LINE_COLOR = "#6A1B4D"

SELECTED_DOT_RADIUS_PX = 5
"""Radius of the dot drawn at each selected community (pixels), visible at any zoom."""

_SELECTED_PANE = "fp-selected"
_SELECTED_PANE_Z = 640  # Leaflet's markerPane (cluster icons) is 600, tooltipPane 650

FOCUS_MAX_ZOOM = 17
"""Deepest zoom the map opens at: fitted to ``focus_id``, or to the few communities a filter leaves
(~1.1 m per pixel at Liuzhou)."""

EXTENT_FENCE_IQR = 2.0
"""Fence of :func:`community_extent`: centroids beyond 2 interquartile ranges out from the quartiles are outliers.

Measured on the sample: 2.0 keeps exactly the 2,200 communities of the five urban districts for the
whole city, and leaves 1 of the 2,500 communities out of its own district's view (in Liujiang); Tukey's
usual 1.5 left 16 edge communities out of their district's view, 3.0 let 8 of Liucheng county's into the city's.
"""

EXTENT_MIN_SPREAD_DEG = 0.01
"""Smallest interquartile range the fences use, in degrees (~1 km): a tight cluster never loses its edge."""

BASE_NOTE_AFTER_MS = 8000
"""Milliseconds without any base-map tile loaded after which the map says the base map is unavailable.

The note shows at the first tile that fails (``tileerror``) or when no tile has loaded by then (a
host that hangs instead of failing fires no error), and goes at the first tile that loads.
"""

BASE_LAYERS = ("osm", "amap", "tianditu")
"""Names accepted by ``coverage_map(base_layer=...)``; ``None`` means no tiles (offline)."""

# (url template, subdomains, attribution's key in the [map] labels, deepest zoom with tiles);
# "{key}" takes tianditu_key.
_TILES = {
    "osm": (
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "abc",
        "attribution_osm",
        19,
    ),
    "amap": (
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "1234",
        "attribution_amap",
        18,
    ),
    "tianditu": (
        "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=vec&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk={key}",
        "01234567",
        "attribution_tianditu",
        18,
    ),
    "tianditu_labels": (
        "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
        "&LAYER=cva&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}"
        "&TILECOL={x}&tk={key}",
        "01234567",
        "attribution_tianditu",
        18,
    ),
}

LABELS = {lang: i18n.labels("map", lang) for lang in i18n.LANGS}
"""Legend, layer and tooltip words per language (the ``[map]`` table of ``geo/i18n/*.toml``)."""
"""Legend, layer and tooltip labels per language (an i18n module may take these over)."""

_TOOLTIP_FIELDS = (
    "name",
    "district_name",
    "population",
    "built_year",
    "n_sets_inside",
    "nearest_set_m",
)
_REQUIRED = {
    "districts": ("district_code", "district_name"),
    "communities": (
        "community_id",
        "name",
        "district_name",
        "population",
        "n_sets_inside",
        "nearest_set_m",
        "served_inside",
        "served_within_radius",
    ),
    "fitness_paths": ("path_id", "name"),
}
_MISSING = "—"
APPROXIMATE_DASH = "4 3"  # SVG/canvas dash pattern of approximate community outlines


def coverage_map(
    districts: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    lang: str = "zh",
    asset_base: str = DEFAULT_ASSET_BASE,
    selected_ids=None,
    selected_program: dict | None = None,
    base_layer: str | None = None,
    tianditu_key: str | None = None,
    focus_id: str | None = None,
    public_sites: gpd.GeoDataFrame | None = None,
    landless_ids=None,
    picks: gpd.GeoDataFrame | None = None,
    distance: str | None = None,
    walk_radius_m: float | None = None,
    shapes_at_once: int | None = None,
    shapes_min_zoom: int = SHAPES_MIN_ZOOM,
) -> folium.Map:
    """Draw districts, communities coloured by coverage status, and fitness paths.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        EPSG:4326 (multi)polygons with ``district_code``, ``district_name`` and
        ``district_name_en``. Drawn as outlines with a tooltip. The map opens fitted to
        :func:`community_extent` of ``communities`` (to ``focus_id`` when given), never to these
        outlines, except when no community has a geometry. The legend counts the sets inside them.
    communities : geopandas.GeoDataFrame
        EPSG:4326 (multi)polygons with ``community_id``, ``name``, ``district_name``,
        ``population`` (int), ``built_year`` (int), ``n_sets_inside`` (int),
        ``nearest_set_m`` (float, metres), ``served_inside`` (bool) and
        ``served_within_radius`` (bool). Optional: ``eligible`` (bool; missing counts as not
        eligible) splits the unserved ones into eligible (orange) and not eligible (grey);
        ``reasons`` (``;``-joined codes of :mod:`geo.analysis.eligibility`; with
        ``missing_fields`` "missing data" names the fields) and ``priority_score`` (0–100) are
        added to the tooltips. A community with a set inside is drawn green, one
        served within the walk radius only blue, any other vermillion (or orange/grey); one
        toggleable layer per status.
    fitness_paths : geopandas.GeoDataFrame
        EPSG:4326 points with ``path_id`` and ``name``; drawn as small dark circles,
        clustered when zoomed out (clustering stops at zoom 15).
    lang : {"zh", "en"}, default "zh"
        Language of the legend, layer names and tooltips.
    asset_base : str, default "/app/static/vendor"
        URL prefix under which the contents of ``static/vendor`` are served; every script and
        stylesheet of the map is loaded from below it.
    selected_ids : iterable of str, optional
        ``community_id`` of the communities selected in the current plan. When given, they
        form a status and layer of their own ("selected", reddish purple with a thick dark
        outline, drawn above the other communities, plus a dot of
        :data:`SELECTED_DOT_RADIUS_PX` at each so it shows at city zoom), whatever their
        coverage status; ids not among ``communities`` are ignored.
    selected_program : dict of str to str, optional
        ``community_id`` → label of the programme that selected it, shown in the tooltips of
        the selected communities.
    base_layer : {None, "osm", "amap", "tianditu"}, default None
        Tiles under the data. ``None`` draws none, and the map then requests nothing from any
        other host; with one, a note on the map says so when no tile can be loaded (offline,
        or the host refuses; see :data:`BASE_NOTE_AFTER_MS`). ``"osm"``: OpenStreetMap.
        ``"amap"``: Amap (高德); its tiles are in GCJ-02, so every layer drawn is shifted from
        WGS84 to GCJ-02 with :func:`geo.data.crs.convert_geometries` first (the inputs stay untouched). ``"tianditu"``:
        天地图 vector map and labels in web mercator on WGS84 (CGCS2000), no shift; needs
        ``tianditu_key``. Any base layer makes the browser fetch tiles from its host.
    tianditu_key : str, optional
        The user's 天地图 key (letters and digits); required with ``base_layer="tianditu"``.
    focus_id : str, optional
        A ``community_id``: the map opens fitted to that community (at most zoom
        :data:`FOCUS_MAX_ZOOM`) and outlines it thickly in black above everything else.
    public_sites : geopandas.GeoDataFrame, optional
        EPSG:4326 points or polygons with ``site_id``, ``name`` and, as
        :func:`geo.analysis.sites.assess_sites` adds them, ``eligible`` (bool), ``reasons`` (codes),
        ``kind``, ``usable_area_m2`` (m²) and ``consent`` codes. Drawn as dots (a polygon at a point
        inside it) in two layers, sites that can host a set and sites that cannot; the tooltip says
        name, kind, area, consent and the reasons in words.
    landless_ids : iterable of str, optional
        ``community_id`` of the communities without land of their own
        (:func:`geo.analysis.priority.landless`): outlined thickly in dark red in a layer of their own.
    picks : geopandas.GeoDataFrame, optional
        The plan's rows (:func:`geo.optimize.allocate.plan_rows`, EPSG:4326): ``community_id`` (a site's
        ``site_id``), ``candidate_kind``, ``name``, ``site_kind`` and ``served_communities``. A pick on a
        public site is drawn in the "selected sites" layer (its programme from ``selected_program``);
        from every pick a line runs to each other community of ``communities`` it newly serves.
    distance : {None, "straight", "network"}, optional
        How ``served_within_radius`` was measured (:data:`geo.config.DISTANCES`); with ``walk_radius_m``
        (metres) the legend's title says it: 健身路径覆盖情况 · 500 米内（步行，沿道路）. None: the title
        names no distance.
    walk_radius_m : float, optional
        The walk radius in metres, said in the legend's title with ``distance``.
    shapes_at_once : int, optional
        Most communities drawn as shapes from the start (``[map] shapes_at_once``). With more, the map
        opens on the district outlines and a grid of cells (:data:`GRID_LEVELS`; each cell coloured like
        the legend's status most of its communities have, its tooltip counting them and the share served),
        and draws the communities' shapes from zoom ``shapes_min_zoom`` on, only those in view. The legend
        still counts every community. None: every shape at once, whatever the number.
    shapes_min_zoom : int, default :data:`SHAPES_MIN_ZOOM`
        The zoom from which a map with more than ``shapes_at_once`` communities draws their shapes.

    Returns
    -------
    folium.Map
        A legend with the number of communities per status and of the sets inside ``districts``
        (all sets are drawn: one across a border still serves); a layer control.
        Display geometry is simplified by :data:`DISPLAY_TOLERANCE_DEG` (~2 m) and rounded to
        :data:`COORDINATE_DECIMALS` (~0.1 m); features carry only the tooltip values and
        ``community_id``.

    Raises
    ------
    ValueError
        If a column is missing, a layer is not in EPSG:4326, ``districts`` has no geometry,
        ``fitness_paths`` holds anything but points, ``lang`` or ``base_layer`` is unknown,
        ``tianditu_key`` is missing or malformed for ``"tianditu"``, ``selected_ids`` is a
        single string, or ``focus_id`` names no drawable community.
    """
    if lang not in LABELS:
        raise ValueError(f"lang must be one of {sorted(LABELS)}, got {lang!r}")
    for layer_name, frame in (
        ("districts", districts),
        ("communities", communities),
        ("fitness_paths", fitness_paths),
    ):
        _validate(layer_name, frame)
    tiles = _tile_layers(base_layer, tianditu_key)
    if isinstance(selected_ids, str):
        raise ValueError(
            "selected_ids must be an iterable of community ids, not one string; "
            f"pass [{selected_ids!r}] for a single community"
        )
    labels = _status_labels(communities, LABELS[lang])
    asset_base = asset_base.rstrip("/")

    if public_sites is not None:
        _validate_sites(public_sites)
    if base_layer == "amap":
        districts, communities, fitness_paths = (_to_gcj02(frame) for frame in (districts, communities, fitness_paths))
        public_sites = _to_gcj02(public_sites) if public_sites is not None else None
        picks = _to_gcj02(picks) if picks is not None and len(picks) else picks
    district_display = _display_geometry(districts, rounded=False)
    if district_display.empty:
        raise DataError("districts has no non-empty geometry: the map needs it for its extent")
    focus_display = None
    if focus_id is not None:
        focus_display = _display_geometry(communities[communities["community_id"].astype(str) == str(focus_id)])
        if focus_display.empty:
            raise ValueError(
                f"focus_id {focus_id!r} names no community with a geometry among the "
                f"{len(communities)} communities passed; check the id or the district filter"
            )
    if focus_display is not None:
        min_lon, min_lat, max_lon, max_lat = focus_display.total_bounds
    else:  # the communities' extent; the district outlines only when there is no community to show
        extent = community_extent(communities)
        extent = district_display.total_bounds if extent is None else np.round(extent, COORDINATE_DECIMALS)
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in extent)

    zoom = 11 if focus_display is None else FOCUS_MAX_ZOOM
    m, tile_layers = offline_map([(min_lat + max_lat) / 2, (min_lon + max_lon) / 2], zoom, tiles, labels, asset_base)

    # Layers are empty folium groups (for the layer control); what they hold travels as data.
    status = _community_status(communities, selected_ids)
    statuses = _statuses(communities, selected_ids)
    groups = {"districts": folium.FeatureGroup(name=labels["districts"])}
    groups.update({key: folium.FeatureGroup(name=labels[key]) for key in statuses})
    if focus_display is not None:
        groups["focus"] = folium.FeatureGroup(name=labels["focus"])
    if SELECTED_STATUS in statuses or public_sites is not None or (picks is not None and len(picks)):
        folium.map.CustomPane(_SELECTED_PANE, z_index=_SELECTED_PANE_Z, pointer_events=True).add_to(m)
    layers = [_districts_layer(district_display, lang)]
    tooltip_columns = _community_tooltip_values(communities, districts, labels, lang)
    programs = None
    if selected_program is not None:
        programs = _text(
            communities["community_id"].astype(str).map({str(k): v for k, v in dict(selected_program).items()})
        )
    origin = _grid_origin(communities)
    for key in statuses:
        in_status = (status == key).to_numpy()
        layers += _community_layers(
            communities[in_status],
            tooltip_columns[in_status],
            key,
            labels,
            programs[in_status] if key == SELECTED_STATUS and programs is not None else None,
            origin,
        )
    detail = None
    if shapes_at_once is not None and len(communities) > shapes_at_once:
        groups[GRID_LAYER] = folium.FeatureGroup(name=labels[GRID_LAYER])
        detail = _detail(communities, status, statuses, labels, origin, shapes_min_zoom)
    extra_rows = []
    landless_ids = None if landless_ids is None else {str(i) for i in landless_ids}
    if landless_ids:
        in_view = communities[communities["community_id"].astype(str).isin(landless_ids)]
        groups[LANDLESS_STATUS] = folium.FeatureGroup(name=labels[LANDLESS_STATUS])
        layers.append(_landless_layer(in_view))
        extra_rows.append(_legend_row(LANDLESS_STATUS, "transparent", LANDLESS_OUTLINE_COLOR, labels, len(in_view)))
    if picks is not None and len(picks):
        lines = _service_lines(picks, communities)
        groups[SERVICE_LINES] = folium.FeatureGroup(name=labels[SERVICE_LINES])
        layers.append(_service_line_layer(lines, labels))
        extra_rows.append(_legend_row(SERVICE_LINES, SERVICE_LINE_COLOR, None, labels, len(lines)))
    site_picks = _site_picks(picks)
    if public_sites is not None or len(site_picks):
        sites = public_sites if public_sites is not None else site_picks.iloc[0:0]
        site_layers, site_counts = _site_layers(sites, site_picks, labels, lang, selected_program)
        for key in SITE_STATUSES:
            if site_counts.get(key) or (key != "sites_selected" and public_sites is not None):
                groups[key] = folium.FeatureGroup(name=labels[key])
                extra_rows.append(
                    _legend_row(key, SITE_COLORS[key], SITE_OUTLINES[key], labels, site_counts[key], True)
                )
        layers += [layer for layer in site_layers if layer["key"] in groups]
    if focus_display is not None:
        layers.append(_focus_layer(focus_display))
    for key, group in groups.items():
        if key != "focus":
            group.add_to(m)
    cluster = _fitness_path_cluster(labels, asset_base)
    cluster.add_to(m)
    if focus_display is not None:
        groups["focus"].add_to(m)  # above the sets, as the top layer

    counts = {key: int((status == key).sum()) for key in statuses}
    data = {
        "layers": layers,
        "fitness_paths": _fitness_path_points(fitness_paths),
        "fitness_path_style": {
            "radius": 4,
            "weight": 1,
            "color": FITNESS_PATH_COLOR,
            "fillColor": FITNESS_PATH_COLOR,
            "fillOpacity": 0.85,
        },
        "legend": _legend(
            statuses,
            counts,
            count_within(fitness_paths, districts),
            labels,
            extra_rows,
            legend_title(lang, distance, walk_radius_m),
        ),
        # Said on the map when the base-map tiles cannot load; nothing to say without tiles.
        "base_note": labels["base_unavailable"] if tile_layers else None,
        "base_note_after_ms": BASE_NOTE_AFTER_MS,
        "controls": control_words(labels),
        "detail": detail,
    }
    _MapLayers(data, groups, cluster, tile_layers).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds(
        [[min_lat, min_lon], [max_lat, max_lon]],
        max_zoom=FOCUS_MAX_ZOOM,  # one community left by a filter does not fill the map at zoom 19
    )

    _check_assets(m, asset_base)
    return m


def offline_map(location: list[float], zoom_start: int, tiles: list[tuple], labels: dict, asset_base: str):
    """An empty Leaflet map whose scripts and styles the app serves itself (``asset_base``), centred on
    ``location`` (latitude, longitude; WGS84, or GCJ-02 on Amap tiles), with the base layers ``tiles``
    (:func:`_tile_layers`) named in the map's language (``labels``). Returns the map and its tile layers."""
    m = folium.Map(
        location=location,
        zoom_start=zoom_start,
        tiles=None,
        prefer_canvas=True,  # thousands of polygons draw faster on one canvas than as SVG
        control_scale=False,  # folium's scale bar shows feet and miles too: ours is metric (_MetricScale)
    )
    _MetricScale().add_to(m)
    # Without tiles Leaflet knows no zoom limit, and Leaflet.markercluster then throws
    # "Map has no maxZoom specified", halting every script after it (legend, layer control).
    m.options["max_zoom"] = MAX_ZOOM
    _set_assets(m, _MAP_JS, _MAP_CSS, asset_base)
    _IconImagePath(f"{asset_base}/{_LEAFLET}/images/").add_to(m)
    tile_layers = [
        folium.TileLayer(
            tiles=url,
            attr=labels[attribution],
            name=labels[f"base_{key}"],
            subdomains=subdomains,
            max_zoom=MAX_ZOOM,
            max_native_zoom=native_zoom,
            overlay=overlay,
        ).add_to(m)
        for key, url, subdomains, attribution, native_zoom, overlay in tiles
    ]
    return m, tile_layers


def _tile_layers(base_layer: str | None, tianditu_key: str | None) -> list[tuple]:
    """(label key, url, subdomains, attribution, native zoom, overlay) of each tile layer."""
    if base_layer is None:
        return []
    if base_layer not in BASE_LAYERS:
        raise ValueError(
            f"base_layer must be None (no tiles, offline) or one of {list(BASE_LAYERS)}, got {base_layer!r}"
        )
    if base_layer != "tianditu":
        url, subdomains, attribution, native_zoom = _TILES[base_layer]
        return [(base_layer, url, subdomains, attribution, native_zoom, False)]
    if not tianditu_key:
        raise data_error("tianditu_key_missing")
    if not isinstance(tianditu_key, str) or not re.fullmatch(r"[A-Za-z0-9]+", tianditu_key):
        raise data_error("tianditu_key_chars")
    layers = []
    for key, overlay in (("tianditu", False), ("tianditu_labels", True)):
        url, subdomains, attribution, native_zoom = _TILES[key]
        url = url.replace("{key}", tianditu_key)
        layers.append((key, url, subdomains, attribution, native_zoom, overlay))
    return layers


def _to_gcj02(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy of ``frame`` with its geometry shifted from WGS84 to GCJ-02 (for Amap tiles)."""
    return frame.set_geometry(convert_geometries(frame.geometry, "wgs84", "gcj02"))


def community_extent(
    communities: gpd.GeoDataFrame, fence: float = EXTENT_FENCE_IQR
) -> tuple[float, float, float, float] | None:
    """The extent the map opens at: the communities', without the far outliers.

    A community is an outlier when its centroid lies beyond Tukey-style fences on longitude or
    latitude: below the first quartile or above the third by more than ``fence`` interquartile
    ranges (an interquartile range under :data:`EXTENT_MIN_SPREAD_DEG` counts as that). The
    extent is the bounding box of the whole geometries of the others. On the sample city this is
    the urban core (the five urban districts); the county seats 30–170 km away are outliers.
    A quantile box (2nd–98th percentile) was not taken: the sample's five counties hold 12 % of
    the communities, so that box still spans the whole prefecture.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        Polygons (or any geometry) in EPSG:4326; centroids are taken in degrees, which is
        precise enough for telling outliers at city scale.
    fence : float, default :data:`EXTENT_FENCE_IQR`
        The fences' multiplier of the interquartile range.

    Returns
    -------
    tuple of float or None
        ``(min_lon, min_lat, max_lon, max_lat)`` in degrees, or None when no community has a
        geometry.
    """
    geometry = communities.geometry
    shapes = np.asarray(geometry[geometry.notna() & ~geometry.is_empty].to_numpy(), dtype=object)
    if not len(shapes):
        return None
    centres = shapely.centroid(shapes)
    keep = _inside_fences(shapely.get_x(centres), fence) & _inside_fences(shapely.get_y(centres), fence)
    return tuple(float(v) for v in shapely.total_bounds(shapes[keep]))


def _inside_fences(values: np.ndarray, fence: float) -> np.ndarray:
    """Whether each value lies within Tukey's fences ``[Q1 - fence·IQR, Q3 + fence·IQR]``."""
    q1, q3 = np.percentile(values, [25, 75])
    spread = fence * max(q3 - q1, EXTENT_MIN_SPREAD_DEG)
    return (values >= q1 - spread) & (values <= q3 + spread)


def count_within(points: gpd.GeoDataFrame, areas: gpd.GeoDataFrame) -> int:
    """How many of ``points`` lie inside (or on the edge of) any of ``areas`` (both EPSG:4326)."""
    drawable = points.geometry[points.geometry.notna() & ~points.geometry.is_empty]
    if drawable.empty or areas.empty:
        return 0
    inside, _ = areas.sindex.query(drawable.to_numpy(), predicate="covered_by")
    return int(len(np.unique(inside)))


def _statuses(communities: pd.DataFrame, selected_ids) -> tuple[str, ...]:
    """The statuses (= layers and legend rows) drawn, bottom to top."""
    base = ELIGIBILITY_STATUSES if "eligible" in communities.columns else STATUSES
    if "served" in communities.columns and not _served_within_only(communities).any():
        base = tuple(status for status in base if status != "served_within_radius")  # the inside standard
    if "eligible" in communities.columns and _to_survey(communities).any():  # a city without open-space data
        base = (*base, TO_SURVEY_STATUS)
    return base + ((SELECTED_STATUS,) if selected_ids is not None else ())


def _status_labels(communities: pd.DataFrame, labels: dict) -> dict:
    """``labels``, with the unserved statuses named "no set inside" when the inside standard is in force.

    The standard shows in the frame: a ``served`` column that leaves unserved a community with a set
    within the walk radius. Where no community has a set only within the radius, both standards
    agree and the general names stay.
    """
    if "served" not in communities.columns:
        return labels
    served = communities["served"].astype("boolean").fillna(False).to_numpy(bool)
    inside = communities["served_inside"].astype("boolean").fillna(False).to_numpy(bool)
    within = communities["served_within_radius"].astype("boolean").fillna(False).to_numpy(bool)
    if not (within & ~inside & ~served).any():
        return labels
    unserved = ("unserved_eligible", "unserved_ineligible", TO_SURVEY_STATUS)
    return {**labels, **{status: labels[f"{status}_inside"] for status in unserved}}


def _served_within_only(communities: pd.DataFrame) -> np.ndarray:
    """Served under the standard in force (``served``) by a set within the walk radius, none inside.

    Under the ``inside`` standard no community is: one with a set only within the radius is unserved.
    """
    served = communities["served"].astype("boolean").fillna(False).to_numpy(bool)
    inside = communities["served_inside"].astype("boolean").fillna(False).to_numpy(bool)
    return served & ~inside


def _to_survey(communities: pd.DataFrame) -> np.ndarray:
    """Not eligible only until their open space is surveyed on site (``needs_site_check``)."""
    if "needs_site_check" not in communities.columns or "eligible" not in communities.columns:
        return np.zeros(len(communities), dtype=bool)
    check = communities["needs_site_check"].astype("boolean").fillna(False).to_numpy(bool)
    return check & ~communities["eligible"].astype("boolean").fillna(False).to_numpy(bool)


def _community_status(communities: pd.DataFrame, selected_ids=None) -> pd.Series:
    """Name each community's status from its flags.

    ``"selected"`` where ``community_id`` is in ``selected_ids`` (when given), else
    ``"served_inside"`` where ``served_inside`` is true, else ``"served_within_radius"`` where
    ``served_within_radius`` is true (and, given a ``served`` column, the standard in force counts
    it as served: not under ``inside``), else ``"unserved_eligible"`` / ``"unserved_ineligible"``
    by the ``eligible`` column if there is one, else ``"unserved"``. A missing flag counts as
    false.
    """
    inside = communities["served_inside"].astype("boolean").fillna(False).to_numpy(bool)
    within = communities["served_within_radius"].astype("boolean").fillna(False).to_numpy(bool)
    if "served" in communities.columns:  # served under the standard in force: within counts only under walk
        within = _served_within_only(communities)
    if "eligible" in communities.columns:
        eligible = communities["eligible"].astype("boolean").fillna(False).to_numpy(bool)
        unserved = np.where(eligible, "unserved_eligible", "unserved_ineligible")
        unserved = np.where(_to_survey(communities), TO_SURVEY_STATUS, unserved)
    else:
        unserved = np.full(len(communities), "unserved", dtype=object)
    selected = np.zeros(len(communities), dtype=bool)
    if selected_ids is not None:
        wanted = {str(community_id) for community_id in selected_ids}
        selected = communities["community_id"].astype(str).isin(wanted).to_numpy(bool)
    return pd.Series(
        np.select(
            [selected, inside, within],
            [SELECTED_STATUS, "served_inside", "served_within_radius"],
            unserved,
        ).astype(object),
        index=communities.index,
        name="status",
    )


def standalone_html(m: folium.Map) -> str:
    """Return the map as one HTML document with every script and stylesheet inlined.

    The files are read from :data:`VENDOR_DIR`; images a stylesheet refers to (Leaflet's
    layer-control icon, for one) are inlined as ``data:`` URIs. The result opens from disk or
    an e-mail attachment with no internet and no server.

    Parameters
    ----------
    m : folium.Map
        A map from :func:`coverage_map` (any ``asset_base``).

    Raises
    ------
    ValueError
        If the map links a script or stylesheet that is not one of the vendored files.
    """
    page = m.get_root().render()

    def inline_script(match: re.Match) -> str:
        code = _strip_source_map(_vendored_file(match.group(1)).read_text(encoding="utf-8"))
        code = re.sub(r"</(script)", r"<\\/\1", code, flags=re.IGNORECASE)
        return "<script>" + code + "</script>"

    def inline_stylesheet(match: re.Match) -> str:
        path = _vendored_file(match.group(1))
        css = _inline_css_images(_strip_source_map(path.read_text(encoding="utf-8")), path.parent)
        return "<style>" + re.sub(r"</(style)", r"<\\/\1", css, flags=re.IGNORECASE) + "</style>"

    page = re.sub(
        r"<script\b[^>]*\bsrc=[\"']([^\"']+)[\"'][^>]*>\s*</script>",
        inline_script,
        page,
        flags=re.IGNORECASE,
    )
    return re.sub(
        r"<link\b[^>]*\bhref=[\"']([^\"']+)[\"'][^>]*>",
        inline_stylesheet,
        page,
        flags=re.IGNORECASE,
    )


def _validate(layer_name: str, frame: gpd.GeoDataFrame) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ValueError(f"{layer_name} must be a GeoDataFrame, got {type(frame).__name__}")
    missing = [c for c in _REQUIRED[layer_name] if c not in frame.columns]
    if missing:
        raise ValueError(f"{layer_name} lacks column(s) {missing}; it has {list(frame.columns)}")
    require_storage_crs(frame, layer_name)
    if layer_name == "fitness_paths":
        kinds = set(frame.geometry[~frame.geometry.is_empty & frame.geometry.notna()].geom_type)
        if kinds - {"Point"}:
            raise ValueError(f"fitness_paths must hold points only, found {sorted(kinds)}")


def _display_geometry(frame: gpd.GeoDataFrame, rounded: bool = True) -> gpd.GeoDataFrame:
    """Rows that can be drawn, their geometry simplified and (``rounded``) rounded for the browser."""
    drawable = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    if not rounded:
        geometry = drawable.geometry.simplify(DISPLAY_TOLERANCE_DEG, preserve_topology=True)
        return drawable.set_geometry(gpd.GeoSeries(geometry, index=drawable.index, crs=frame.crs))
    geometry = drawable.geometry.simplify(DISPLAY_TOLERANCE_DEG, preserve_topology=True).to_numpy()
    if rounded:  # compact shapes are rounded by their quantum instead
        geometry = shapely.transform(geometry, lambda coords: np.round(coords, COORDINATE_DECIMALS))
    return drawable.set_geometry(gpd.GeoSeries(geometry, index=drawable.index, crs=frame.crs))


def _feature_collection(frame: gpd.GeoDataFrame, columns: list[str]) -> dict:
    return json.loads(frame[[*columns, frame.geometry.name]].to_json(drop_id=True))


def _districts_layer(display: gpd.GeoDataFrame, lang: str) -> dict:
    """The district outlines: features with ``district_code`` and ``label`` (the name in ``lang``)."""
    codes = display["district_code"].astype(str)
    names = codes.map(i18n.district_names(display, lang)).fillna(codes)
    props = display.assign(district_code=display["district_code"].astype(str), label=_text(names))
    return {
        "key": "districts",
        "shapes": encode_shapes(display.geometry.to_numpy()),  # compact: see geo.render.compact
        "props": {"district_code": props["district_code"].tolist(), "label": props["label"].tolist()},
        "always": True,  # drawn at every zoom, also on a large city's map
        "style": {"color": "#444444", "weight": 2, "fill": True, "fillColor": "#888888", "fillOpacity": 0.03},
        "tooltip_fields": ["label"],
        "tooltip_aliases": None,
    }


def _district_names_in(frame: pd.DataFrame, districts: gpd.GeoDataFrame, lang: str) -> pd.Series:
    """The district of each row of ``frame`` named in ``lang``: by ``district_code`` where the
    frame has one (a name is not a key), else through the Chinese name; a district unknown to
    ``districts`` keeps the row's own name."""
    own = frame["district_name"]
    in_lang = i18n.district_names(districts, lang)
    by_name = own.map(dict(zip(districts["district_name"], districts["district_code"].astype(str)))).map(in_lang)
    if "district_code" in frame.columns:
        by_name = frame["district_code"].astype(str).map(in_lang).fillna(by_name)
    return by_name.fillna(own)


def _community_tooltip_values(
    communities: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, labels: dict, lang: str
) -> pd.DataFrame:
    """Tooltip text of every community (plain text, never markup), in tooltip order, and its id.

    The optional columns ``eligible``, ``reasons`` and ``priority_score`` add their fields
    only when present, so a frame with coverage flags alone gives the original tooltip. An
    estimated population (``population_source`` households or area) reads "1,200（估算）"; an
    unknown built year (empty, or no ``built_year`` column) reads 未知 / unknown.
    """
    district_names = _district_names_in(communities, districts, lang)
    built = communities.get("built_year", pd.Series(np.nan, index=communities.index))
    built_year = _whole_number(built, thousands=False)
    values = {
        "name": _text(communities["name"]),
        "district_name": _text(district_names),
        "population": mark_estimates(_whole_number(communities["population"]), communities, lang),
        "built_year": built_year.where(built_year != _MISSING, i18n.label("export", "unknown", lang)),
        "n_sets_inside": _whole_number(communities["n_sets_inside"]),
        "nearest_set_m": _whole_number(communities["nearest_set_m"]),
    }
    if "eligible" in communities.columns:
        eligible = communities["eligible"].astype("boolean")
        values["eligible"] = pd.Series(
            np.where(eligible.fillna(False), labels["yes"], labels["no"]),
            index=communities.index,
        ).where(eligible.notna(), _MISSING)
        if "reasons" in communities.columns:
            reasons = _distinct_reason_labels(communities, lang)
            values["reasons"] = _text(reasons.where(reasons != "", None))
    if "geometry_approximate" in communities.columns:
        approximate = communities["geometry_approximate"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if approximate.any():
            values["geometry_approximate"] = pd.Series(
                np.where(approximate, labels["approximate_yes"], labels["approximate_no"]), index=communities.index
            )
    if "priority_score" in communities.columns:
        score = pd.to_numeric(communities["priority_score"], errors="coerce").astype(float)
        values["priority_score"] = score.where(np.isfinite(score)).map(lambda x: _MISSING if pd.isna(x) else f"{x:.1f}")
    frame = pd.DataFrame(values, index=communities.index)
    frame.insert(0, "community_id", communities["community_id"].astype(str))
    return frame


def _distinct_reason_labels(communities: pd.DataFrame, lang: str) -> pd.Series:
    """:func:`reason_labels` of each community, worded once per distinct (reasons, missing fields) pair."""
    codes = communities["reasons"].astype("string")
    fields = communities.get("missing_fields", pd.Series(pd.NA, index=communities.index)).astype("string")
    pairs = pd.MultiIndex.from_arrays([codes.fillna("\0"), fields.fillna("\0")])
    where, _ = pd.factorize(pairs)
    first = np.unique(where, return_index=True)[1]  # the first row of each pair, in the order of the codes
    words = reason_labels(codes.iloc[first], lang, fields.iloc[first] if "missing_fields" in communities else None)
    return pd.Series(words.to_numpy(dtype=object)[where], index=communities.index, dtype=object)


def _community_layers(
    communities: gpd.GeoDataFrame,
    tooltip_values: pd.DataFrame,
    status: str,
    labels: dict,
    programs: pd.Series | None = None,
    origin: tuple[float, float] | None = None,
) -> list[dict]:
    """The layer data of the communities of ``status`` (and, for picks, their dots); ``programs`` adds a row.

    The communities travel compact (:mod:`geo.render.compact`, steps from ``origin``): ``shapes``, ``ids``
    (``community_id``), ``props`` (each tooltip field's texts, a column per field) and ``approximate`` (the
    positions of footprints drawn from a point, which are dashed); :func:`geo.render.compact.layer_features`
    reads them back as features.
    """
    drawable = (communities.geometry.notna() & ~communities.geometry.is_empty).to_numpy()
    display = _display_geometry(communities[drawable], rounded=False)
    values = tooltip_values[drawable]
    if programs is not None:
        values.insert(2, "selected_program", programs[drawable].to_numpy())
    fields = [c for c in values.columns if c != "community_id"]
    approximate = (
        communities.loc[drawable, "geometry_approximate"].astype("boolean").fillna(False).to_numpy(dtype=bool)
        if "geometry_approximate" in communities.columns
        else np.zeros(int(drawable.sum()), dtype=bool)
    )
    props = gpd.GeoDataFrame(values.set_axis(display.index), geometry=display.geometry)
    color = STATUS_COLORS[status]
    if status == SELECTED_STATUS:
        style = {"color": SELECTED_OUTLINE_COLOR, "weight": 3, "fillColor": color, "fillOpacity": 0.8}
        highlight = {"weight": 5, "fillOpacity": 0.95}
    else:
        style = {"color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.55}
        highlight = {"weight": 3, "fillOpacity": 0.8}
    aliases = [labels[f] for f in fields]
    layers = [
        {
            "key": status,
            # Compact (geo.render.compact): a fifth of GeoJSON's bytes, built without a loop over features.
            "shapes": encode_shapes(display.geometry.to_numpy(), origin=origin),
            "ids": values["community_id"].tolist(),
            "props": {field: encode_column(values[field]) for field in fields},
            "approximate": np.flatnonzero(approximate).tolist(),
            "style": style,
            "highlight": highlight,
            "dash": APPROXIMATE_DASH,
            "tooltip_fields": fields,
            "tooltip_aliases": aliases,
        }
    ]
    if status == SELECTED_STATUS and len(props):
        # A community is a few pixels wide at city zoom: a dot keeps each pick in sight.
        dots = props.set_geometry(
            shapely.transform(
                shapely.point_on_surface(props.geometry.to_numpy()),
                lambda coords: np.round(coords, COORDINATE_DECIMALS),
            )
        )
        layers.append(
            {
                "key": status,
                "features": _feature_collection(dots, ["community_id", *fields]),
                "style": {"color": SELECTED_OUTLINE_COLOR, "weight": 2, "fillColor": color, "fillOpacity": 0.9},
                "point_radius": SELECTED_DOT_RADIUS_PX,
                "pane": _SELECTED_PANE,  # above the fitness-path cluster icons
                "tooltip_fields": fields,
                "tooltip_aliases": aliases,
            }
        )
    return layers


def _grid_origin(communities: gpd.GeoDataFrame) -> tuple[float, float]:
    """The south-west corner of the communities (degrees, a whole number of quanta): where steps start."""
    geometry = communities.geometry
    drawable = geometry[geometry.notna() & ~geometry.is_empty]
    if drawable.empty:
        return (0.0, 0.0)
    min_lon, min_lat = drawable.total_bounds[:2]
    return (float(np.floor(min_lon / QUANTUM_DEG) * QUANTUM_DEG), float(np.floor(min_lat / QUANTUM_DEG) * QUANTUM_DEG))


def _detail(
    communities: gpd.GeoDataFrame, status: pd.Series, statuses, labels: dict, origin, shapes_min_zoom: int
) -> dict:
    """What a large city's map draws at low zoom: a grid of cells per level of :data:`GRID_LEVELS`.

    ``statuses`` gives each status its code (its position) in the cells' counts; ``served`` the codes a cell's
    share served counts. Communities are placed by a point on their surface.
    """
    drawable = (communities.geometry.notna() & ~communities.geometry.is_empty).to_numpy()
    points = shapely.point_on_surface(np.asarray(communities.geometry.to_numpy()[drawable], dtype=object))
    lon, lat = shapely.get_x(points), shapely.get_y(points)
    codes = pd.Series(status.to_numpy()[drawable]).map({key: code for code, key in enumerate(statuses)}).to_numpy()
    metres_per_degree_lon = 111_320 * np.cos(np.radians(float(np.median(lat)) if len(lat) else 0.0))
    levels = []
    for max_zoom, size_m in GRID_LEVELS:
        size = (size_m / metres_per_degree_lon, size_m / 111_320)
        levels.append({"max_zoom": max_zoom, **grid_cells(lon, lat, codes, len(statuses), size, origin)})
    return {
        "min_zoom": int(shapes_min_zoom),
        "statuses": list(statuses),
        "colors": [STATUS_COLORS[key] for key in statuses],
        "labels": [labels[key] for key in statuses],
        "served": [code for code, key in enumerate(statuses) if key in SERVED_STATUSES],
        "levels": levels,
        "words": {"communities": labels["cell_communities"], "served_share": labels["cell_served_share"]},
        "key": GRID_LAYER,
    }


def _legend_row(key: str, color: str, outline: str | None, labels: dict, count: int, dot: bool = False) -> dict:
    return {"status": key, "color": color, "outline": outline, "dot": dot, "label": labels[key], "count": int(count)}


def _validate_sites(sites: gpd.GeoDataFrame) -> None:
    if not isinstance(sites, gpd.GeoDataFrame):
        raise ValueError(f"public_sites must be a GeoDataFrame, got {type(sites).__name__}")
    missing = [c for c in ("site_id", "name") if c not in sites.columns]
    if missing:
        raise ValueError(f"public_sites lacks column(s) {missing}; it has {list(sites.columns)}")
    require_storage_crs(sites, "public_sites")


def _dots(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drawable rows of ``frame`` as points (a polygon at a point inside it), rounded for the browser."""
    drawable = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    points = shapely.transform(
        shapely.point_on_surface(np.asarray(drawable.geometry.to_numpy(), dtype=object)),
        lambda coords: np.round(coords, COORDINATE_DECIMALS),
    )
    return drawable.set_geometry(gpd.GeoSeries(points, index=drawable.index, crs=frame.crs))


def _site_picks(picks: pd.DataFrame | None) -> gpd.GeoDataFrame:
    """The picks on public sites (``candidate_kind`` "site"), or an empty frame."""
    if picks is None or not len(picks) or "candidate_kind" not in picks.columns:
        return gpd.GeoDataFrame({"community_id": []}, geometry=[], crs="EPSG:4326")
    return picks[(picks["candidate_kind"].astype("string") == "site").fillna(False).to_numpy(bool)]


def _site_tooltip_values(sites: pd.DataFrame, labels: dict, lang: str) -> pd.DataFrame:
    """Tooltip text of each public site (plain text): name, kind, area, consent, can host a set, reasons."""

    def words(column: str, prefix: str, section: str) -> pd.Series:
        codes = sites[column].astype("string") if column in sites.columns else pd.Series(pd.NA, index=sites.index)
        table = i18n.labels(section, lang)
        return _text(codes.map(lambda c: table.get(f"{prefix}{c}", c), na_action="ignore"))

    ids = sites["site_id" if "site_id" in sites.columns else "community_id"].astype("string")
    values = {
        "site_name": _text(sites.get("name", pd.Series(pd.NA, index=sites.index)).astype("string").fillna(ids)),
        "site_kind": words("kind" if "kind" in sites.columns else "site_kind", "site_kind_", "export"),
        "usable_area_m2": _whole_number(sites.get("usable_area_m2", pd.Series(np.nan, index=sites.index))),
        "consent": words("consent", "consent_", "map"),
    }
    if "eligible" in sites.columns:
        eligible = sites["eligible"].astype("boolean")
        values["site_eligible"] = pd.Series(
            np.where(eligible.fillna(False), labels["yes"], labels["no"]), index=sites.index
        ).where(eligible.notna(), _MISSING)
        reasons = reason_labels(sites.get("reasons", pd.Series("", index=sites.index)).astype("string"), lang)
        values["site_reasons"] = _text(reasons.where(reasons != "", None))
    frame = pd.DataFrame(values, index=sites.index)
    frame.insert(0, "community_id", ids.astype(str))
    return frame


def _site_layers(
    sites: gpd.GeoDataFrame, site_picks: gpd.GeoDataFrame, labels: dict, lang: str, selected_program: dict | None
) -> tuple[list[dict], dict]:
    """The layers of the public sites (:data:`SITE_STATUSES`) and how many each holds.

    A site the plan picked is drawn once, in ``sites_selected``, from its plan row (with its programme).
    """
    picked_ids = set(site_picks["community_id"].astype(str))
    sites = _dots(sites[~sites["site_id"].astype(str).isin(picked_ids)])
    eligible = (
        sites["eligible"].astype("boolean").fillna(False).to_numpy(bool)
        if "eligible" in sites.columns
        else np.ones(len(sites), dtype=bool)
    )
    picked = _dots(site_picks)
    parts = {"sites_ineligible": sites[~eligible], "sites_eligible": sites[eligible], "sites_selected": picked}
    layers, counts = [], {}
    for key in SITE_STATUSES:
        part = parts[key]
        counts[key] = len(part)
        values = _site_tooltip_values(part, labels, lang)
        if key == "sites_selected":
            values = values.drop(columns=[c for c in ("site_eligible", "site_reasons") if c in values.columns])
            program = part["community_id"].astype(str).map({str(k): v for k, v in dict(selected_program or {}).items()})
            values.insert(2, "selected_program", _text(program))
        fields = [c for c in values.columns if c != "community_id"]
        props = gpd.GeoDataFrame(values, geometry=part.geometry)
        style = {"color": SITE_OUTLINES[key], "weight": 3 if key == "sites_selected" else 2}
        style.update({"fillColor": SITE_COLORS[key], "fillOpacity": 0.9 if key == "sites_selected" else 0.75})
        layers.append(
            {
                "key": key,
                "features": _feature_collection(props, ["community_id", *fields]),
                "style": style,
                "highlight": {"weight": 4},
                "point_radius": SITE_DOT_RADIUS_PX[key],
                # The picks above the communities and the sets' cluster icons; the other sites among the communities.
                "pane": _SELECTED_PANE if key == "sites_selected" else "overlayPane",
                "tooltip_fields": fields,
                "tooltip_aliases": [labels[f] for f in fields],
            }
        )
    return layers, counts


def _landless_layer(communities: gpd.GeoDataFrame) -> dict:
    """A thick dark-red outline around each community without land of its own; hovers pass through."""
    display = _display_geometry(communities)
    return {
        "key": LANDLESS_STATUS,
        "features": _feature_collection(
            display.assign(community_id=display["community_id"].astype(str)), ["community_id"]
        ),
        "style": {"color": LANDLESS_OUTLINE_COLOR, "weight": 3, "opacity": 0.9, "fill": False, "dashArray": "6 3"},
        "interactive": False,
    }


def _service_lines(picks: pd.DataFrame, communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A line from each pick to each other community of ``communities`` it newly serves (EPSG:4326).

    Columns ``community_id`` (the served community), ``pick_name`` and ``served_name`` (text). A community
    pick's own community is not joined to itself; served ids not among ``communities`` are skipped.
    """
    columns = {"community_id": [], "pick_name": [], "served_name": []}
    if "served_communities" not in picks.columns or not len(communities):
        return gpd.GeoDataFrame({name: pd.Series([], dtype=object) for name in columns}, geometry=[], crs="EPSG:4326")
    ends = _dots(communities)
    where = dict(zip(ends["community_id"].astype(str), ends.geometry))
    names = dict(zip(ends["community_id"].astype(str), _text(ends["name"])))
    starts = _dots(picks)
    pick_names = _text(starts["name"] if "name" in starts.columns else starts["community_id"])
    geometry = []
    for pick_id, pick_name, start, served in zip(
        starts["community_id"].astype(str), pick_names, starts.geometry, starts["served_communities"].astype("string")
    ):
        for served_id in ("" if pd.isna(served) else str(served)).split(";"):
            if served_id and served_id != pick_id and served_id in where:
                columns["community_id"].append(served_id)
                columns["pick_name"].append(pick_name)
                columns["served_name"].append(names[served_id])
                geometry.append(shapely.LineString([start, where[served_id]]))
    # Text columns even when no line is drawn (picks that serve only themselves): an empty list is float.
    frame = {name: pd.Series(values, dtype=object) for name, values in columns.items()}
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _service_line_layer(lines: gpd.GeoDataFrame, labels: dict) -> dict:
    """The lines of :func:`_service_lines`; the tooltip names the pick and the community it serves."""
    props = lines.assign(line=_text(lines["pick_name"] + " → " + lines["served_name"]))
    return {
        "key": SERVICE_LINES,
        "features": _feature_collection(props, ["community_id", "line"]),
        "style": {"color": SERVICE_LINE_COLOR, "weight": 2, "opacity": 0.85},
        "highlight": {"weight": 4},
        "tooltip_fields": ["line"],
        "tooltip_aliases": [labels["service_line"]],
    }


def _focus_layer(display: gpd.GeoDataFrame) -> dict:
    """A thick outline around the focused community, above everything, letting hovers through."""
    return {
        "key": "focus",
        "features": _feature_collection(
            display.assign(community_id=display["community_id"].astype(str)), ["community_id"]
        ),
        "style": {"color": FOCUS_OUTLINE_COLOR, "weight": 5, "opacity": 1, "fill": False},
        "interactive": False,  # the community's own tooltip underneath stays reachable
    }


def _fitness_path_points(fitness_paths: gpd.GeoDataFrame) -> list[list]:
    """``[lat, lon, label]`` of every drawable set (label = name, else id, else "—")."""
    points = fitness_paths[fitness_paths.geometry.notna() & ~fitness_paths.geometry.is_empty]
    names = _text(points["name"].where(points["name"].notna(), points["path_id"]))
    return (
        pd.DataFrame(
            {
                "lat": points.geometry.y.round(COORDINATE_DECIMALS),
                "lon": points.geometry.x.round(COORDINATE_DECIMALS),
                "label": names,
            }
        )
        .to_numpy()
        .tolist()
    )


def _fitness_path_cluster(labels: dict, asset_base: str) -> MarkerCluster:
    """An empty Leaflet.markercluster group; the page's data script fills it with the sets."""
    cluster = MarkerCluster(
        name=labels["fitness_paths"],
        options={
            "disableClusteringAtZoom": 15,
            "showCoverageOnHover": False,
            "maxClusterRadius": 50,
        },
        icon_create_function=(
            "function (cluster) {"
            " return L.divIcon({"
            " html: '<div><span>' + cluster.getChildCount() + '</span></div>',"
            " className: 'marker-cluster fp-cluster', iconSize: new L.Point(40, 40) }); }"
        ),
    )
    _set_assets(cluster, _CLUSTER_JS, _CLUSTER_CSS, asset_base)
    return cluster


def _text(values: pd.Series) -> pd.Series:
    """Plain text for the page: missing as "—". The browser sets it as text, never as markup."""
    return values.astype("string").fillna(_MISSING).astype(object)


def _whole_number(values: pd.Series, thousands: bool = True) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    numbers = numbers.where(np.isfinite(numbers))
    pattern = "{:,.0f}" if thousands else "{:.0f}"
    codes, distinct = pd.factorize(numbers)  # each distinct number formatted once (100,000 rows: 0.1 s less)
    words = np.array([pattern.format(x) for x in distinct] + [_MISSING], dtype=object)
    return pd.Series(words[codes], index=values.index, dtype=object)


def legend_title(lang: str = "zh", distance: str | None = None, walk_radius_m: float | None = None) -> str:
    """The coverage legend's title in ``lang``: with a distance (``straight``/``network``) and a walk radius
    (metres) it says both — 健身路径覆盖情况 · 500 米内（直线距离） / … · 500 米内（步行，沿道路）."""
    labels = LABELS[lang]
    if distance is None or walk_radius_m is None:
        return labels["legend_title"]
    if distance not in DISTANCES:
        raise ValueError(f"distance must be one of {list(DISTANCES)}, got {distance!r}")
    radius = float(walk_radius_m)
    shown = f"{radius:,.0f}" if radius == round(radius) else f"{radius:,.1f}"
    return i18n.label("map", f"legend_title_{distance}", lang, radius=shown)


def _legend(statuses, counts: dict, n_fitness_paths: int, labels: dict, extra_rows=(), title=None) -> dict:
    """The legend's title (``title``, else the plain one) and rows (status, colour, outline, label, count),
    drawn by the page; ``extra_rows`` (land-less communities, lines, public sites) after the communities'
    statuses."""
    rows = [
        {
            "status": key,
            "color": STATUS_COLORS[key],
            "outline": SELECTED_OUTLINE_COLOR if key == SELECTED_STATUS else None,
            "label": labels[key],
            "count": counts[key],
        }
        for key in statuses
    ]
    rows += list(extra_rows)
    rows.append(
        {
            "status": "fitness_paths",
            "color": FITNESS_PATH_COLOR,
            "outline": None,
            "dot": True,
            "label": labels["fitness_paths"],
            "count": n_fitness_paths,
        }
    )
    return {"title": labels["legend_title"] if title is None else title, "rows": rows}


def map_data_json(data: dict) -> str:
    """``data`` as JSON that can sit inside ``<script type="application/json">`` whatever its text holds.

    ``<``, ``>`` and ``&`` are written as ``\\u003c``, ``\\u003e`` and ``\\u0026`` (so no
    ``</script>`` or ``<!--`` can end or bend the element), and U+2028/U+2029 as escapes;
    ``JSON.parse`` restores every string exactly. NaN and infinity are refused: the layers
    carry text, not floats, except coordinates, which are finite.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for raw, escaped in _JSON_SCRIPT_ESCAPES:
        text = text.replace(raw, escaped)
    return text


_JSON_SCRIPT_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


class _VerbatimHtml(Element):
    """Markup placed in the page as given: rendered without any template (see :class:`_MapLayers`)."""

    def __init__(self, markup: str):
        super().__init__()
        self._markup = markup

    def render(self, **kwargs) -> str:
        return self._markup


def control_words(labels: dict) -> dict[str, str]:
    """The tooltips of Leaflet's own controls (zoom in, zoom out, its credit) from a map's ``[map]`` labels."""
    return {"zoom_in": labels["zoom_in"], "zoom_out": labels["zoom_out"], "leaflet": labels["leaflet_title"]}


class _MapLayers(MacroElement):
    """Every community, district and set of the map, drawn in the browser from one JSON element.

    Why: folium 0.20 / branca 0.8.2 render a MacroElement's script, wrap the result in an
    ``Element`` and render that again as Jinja2 source, so text inside a folium layer (a
    GeoJSON property, a FastMarkerCluster row, a tooltip) is compiled as a template: a
    community named ``{{ 6*7 }}`` showed 42, and ``{{ lipsum.__globals__.os... }}`` ran code
    on the server. So no user text is given to folium at all. The layers' data are written
    by :class:`_VerbatimHtml` into a ``<script type="application/json">`` element (a value
    in the page's template, never template source), and the static script below reads it
    with ``JSON.parse`` and builds every tooltip and legend row with ``textContent``, so the
    browser never parses a name as markup either.
    """

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <style>
                .fp-legend { background: rgba(255, 255, 255, 0.92); padding: 6px 10px;
                    border-radius: 4px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35);
                    font: 12px/1.6 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; }
                .fp-legend-title { font-weight: bold; margin-bottom: 2px; }
                .fp-legend i { display: inline-block; width: 12px; height: 12px;
                    margin-right: 6px; vertical-align: -1px; border-radius: 2px; opacity: 0.8; }
                .fp-legend i.fp-dot { border-radius: 50%; }
                .fp-legend b { float: right; margin-left: 12px; font-weight: normal; }
                .fp-tooltip table { border-collapse: collapse; }
                .fp-tooltip th { text-align: left; font-weight: bold; padding-right: 8px;
                    white-space: nowrap; vertical-align: top; }
                /* As wide as the text up to 28em, then wrapped: CJK text may break after any
                   character, so without a width the tooltip shrank to one character a line. */
                .fp-value { display: block; width: max-content; max-width: 28em;
                    white-space: normal; overflow-wrap: break-word; unicode-bidi: isolate; }
                .fp-base-note { background: rgba(255, 248, 225, 0.95); color: #5d4037;
                    padding: 4px 8px; border-radius: 4px; box-shadow: 0 1px 5px rgba(0, 0, 0, 0.35);
                    font: 12px/1.5 "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; max-width: 24em; }
                .marker-cluster.fp-cluster { background-color: rgba(34, 34, 34, 0.3); }
                .marker-cluster.fp-cluster div { background-color: rgba(34, 34, 34, 0.85);
                    color: #ffffff; }
            </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            (function () {
                var map = {{ this._parent.get_name() }};
                var groups = {{ this.groups_js }};
                var cluster = {{ this.cluster_js }};
                var data = JSON.parse(document.getElementById("{{ this.data_id }}").textContent);

                function cell(tag, text) {
                    var element = document.createElement(tag);
                    element.textContent = text;
                    return element;
                }
                function value(text) {
                    var element = cell("div", text);
                    element.className = "fp-value";
                    return element;
                }
                function tooltip(fields, aliases, props) {
                    if (!aliases) { return value(props[fields[0]]); }
                    var table = document.createElement("table");
                    fields.forEach(function (field, i) {
                        var row = table.insertRow();
                        row.appendChild(cell("th", aliases[i]));
                        row.insertCell().appendChild(value(props[field]));
                    });
                    return table;
                }
                performance.mark("fp-data-parsed");
                var stats = window.__mapStats = {shapes: 0, cells: 0, communities: 0, mode: "all"};

                function bindTooltip(shape, layer, props) {
                    if (layer.tooltip_fields) {
                        shape.bindTooltip(function () {
                            return tooltip(layer.tooltip_fields, layer.tooltip_aliases, props());
                        }, {sticky: true, className: "fp-tooltip"});
                    }
                }
                // A compact layer (geo/render/compact.py): vertices are running sums of integer steps.
                function compactLayer(layer) {
                    var g = layer.shapes, q = g.quantum, n = g.coords.length / 2;
                    var lats = new Float64Array(n), lons = new Float64Array(n), x = 0, y = 0, i, k;
                    for (i = 0, k = 0; i < n; i++, k += 2) {
                        x += g.coords[k]; y += g.coords[k + 1];
                        lons[i] = g.origin[0] + x * q; lats[i] = g.origin[1] + y * q;
                    }
                    var columns = {};
                    Object.keys(layer.props).forEach(function (name) {
                        var column = layer.props[name];
                        columns[name] = Array.isArray(column) ? column
                            : column.repeat ? new Array(column.repeat).fill(column.values[0])
                            : column.codes.map(function (code) { return column.values[code]; });
                    });
                    var dashed = new Set(layer.approximate), features = [], ring = 0, poly = 0, vertex = 0;
                    var count = layer.ids ? layer.ids.length : g.parts.length;
                    for (var index = 0; index < count; index++) {
                        var id = layer.ids ? layer.ids[index] : null;
                        var first = vertex, rings = [], parts = [];
                        for (var part = 0; part < g.parts[index]; part++) {
                            var shape = [];
                            for (var r = g.polys[poly++]; r > 0; r--) {
                                shape.push([vertex, g.rings[ring]]);
                                vertex += g.rings[ring++];
                            }
                            parts.push(shape);
                        }
                        var south = Infinity, west = Infinity, north = -Infinity, east = -Infinity;
                        for (i = first; i < vertex; i++) {
                            south = Math.min(south, lats[i]); north = Math.max(north, lats[i]);
                            west = Math.min(west, lons[i]); east = Math.max(east, lons[i]);
                        }
                        features.push({id: id, index: index, parts: parts, box: [south, west, north, east],
                                       lat: (south + north) / 2, lon: (west + east) / 2});
                    }
                    function props(feature) {
                        var values = feature.id === null ? {} : {community_id: feature.id};
                        Object.keys(columns).forEach(function (name) { values[name] = columns[name][feature.index]; });
                        return values;
                    }
                    function latlngs(feature) {
                        var polygons = feature.parts.map(function (shape) {
                            return shape.map(function (span) {
                                var points = new Array(span[1]);
                                for (var v = 0; v < span[1]; v++) {
                                    points[v] = [lats[span[0] + v], lons[span[0] + v]];
                                }
                                return points;
                            });
                        });
                        return polygons.length === 1 ? polygons[0] : polygons;
                    }
                    function make(feature) {
                        var style = dashed.has(feature.index)
                            ? Object.assign({}, layer.style, {dashArray: layer.dash}) : layer.style;
                        var options = Object.assign({interactive: layer.interactive !== false}, style);
                        var shape = L.polygon(latlngs(feature), options);
                        // As a GeoJSON layer's: what tests and tools read back (tests/browser.py counts drawn
                        // communities by community_id).
                        shape.feature = {type: "Feature", properties: props(feature)};
                        bindTooltip(shape, layer, function () { return shape.feature.properties; });
                        if (layer.highlight) {
                            shape.on("mouseover", function () { shape.setStyle(layer.highlight); });
                            shape.on("mouseout", function () { shape.setStyle(style); });
                        }
                        return shape;
                    }
                    return {key: layer.key, features: features, make: make, made: {}, always: layer.always};
                }
                var compact = [], shown = [], detail = data.detail;
                function showLayer(n, features) {
                    var layer = compact[n], group = groups[layer.key], before = shown[n] || {}, now = {};
                    features.forEach(function (feature) {
                        var shape = layer.made[feature.index] || (layer.made[feature.index] = layer.make(feature));
                        now[feature.index] = shape;
                        if (!before[feature.index]) { group.addLayer(shape); }
                    });
                    Object.keys(before).forEach(function (index) {
                        if (!now[index]) { group.removeLayer(before[index]); }
                    });
                    shown[n] = now;
                }
                function showShapes(wanted) {
                    compact.forEach(function (layer, n) { showLayer(n, wanted(layer)); });
                    stats.shapes = shown.reduce(function (sum, now) { return sum + Object.keys(now).length; }, 0);
                }
                function all(layer) { return layer.features; }
                // Layers are drawn in their order (a canvas answers the pointer for the shape drawn last).
                data.layers.forEach(function (layer) {
                    if (layer.shapes) {
                        compact.push(compactLayer(layer));
                        var added = compact[compact.length - 1];
                        if (!detail || added.always) { showLayer(compact.length - 1, added.features); }
                        return;
                    }
                    var drawn = L.geoJSON(layer.features, {
                        interactive: layer.interactive !== false,
                        style: function (feature) {
                            return feature.properties.approximate
                                ? Object.assign({}, layer.style, {dashArray: layer.dash})
                                : layer.style;
                        },
                        pointToLayer: function (feature, latlng) {
                            return L.circleMarker(latlng, Object.assign(
                                {radius: layer.point_radius, pane: layer.pane}, layer.style));
                        },
                        onEachFeature: function (feature, shape) {
                            bindTooltip(shape, layer, function () { return feature.properties; });
                            if (layer.highlight) {
                                shape.on("mouseover", function () { shape.setStyle(layer.highlight); });
                                shape.on("mouseout", function () { drawn.resetStyle(shape); });
                            }
                        }
                    });
                    drawn.addTo(groups[layer.key]);
                });
                compact.forEach(function (layer) { stats.communities += layer.always ? 0 : layer.features.length; });

                // Shapes: all at once, or (a large city, data.detail) grid cells at low zoom and the shapes in view
                // from detail.min_zoom on.
                if (!detail) {
                    showShapes(all);
                } else {
                    stats.mode = "cells";
                    var cellGroup = groups[detail.key], cellLevel = null;
                    var buckets = {}, bucket = 0.01;  // features by 0.01° squares of their centre, for "in view"
                    compact.forEach(function (layer, n) {
                        if (layer.always) { return; }
                        layer.features.forEach(function (feature) {
                            var key = Math.floor(feature.lon / bucket) + ":" + Math.floor(feature.lat / bucket);
                            (buckets[key] = buckets[key] || []).push([n, feature]);
                        });
                    });
                    function inView() {
                        var view = map.getBounds().pad(0.25), found = compact.map(function () { return []; });
                        var east = Math.floor(view.getEast() / bucket);
                        for (var bx = Math.floor(view.getWest() / bucket) - 1; bx <= east; bx++) {
                            for (var by = Math.floor(view.getSouth() / bucket) - 1;
                                 by <= Math.floor(view.getNorth() / bucket); by++) {
                                (buckets[bx + ":" + by] || []).forEach(function (entry) {
                                    var box = entry[1].box;
                                    if (view.intersects([[box[0], box[1]], [box[2], box[3]]])) {
                                        found[entry[0]].push(entry[1]);
                                    }
                                });
                            }
                        }
                        return function (layer) {
                            return layer.always ? layer.features : found[compact.indexOf(layer)];
                        };
                    }
                    function cellTooltip(counts, total) {
                        var table = document.createElement("table"), served = 0;
                        var row = table.insertRow();
                        row.appendChild(cell("th", detail.words.communities));
                        row.insertCell().appendChild(value(total.toLocaleString("en-US")));
                        detail.served.forEach(function (code) { served += counts[code]; });
                        row = table.insertRow();
                        row.appendChild(cell("th", detail.words.served_share));
                        row.insertCell().appendChild(value((100 * served / total).toFixed(0) + "%"));
                        counts.forEach(function (count, code) {
                            if (!count) { return; }
                            row = table.insertRow();
                            row.appendChild(cell("th", detail.labels[code]));
                            row.insertCell().appendChild(value(count.toLocaleString("en-US")));
                        });
                        return table;
                    }
                    function drawCells(level) {
                        cellGroup.clearLayers();
                        cellLevel = level;
                        stats.cells = 0;
                        if (!level) { return; }
                        var w = level.size[0], h = level.size[1], x0 = level.origin[0], y0 = level.origin[1];
                        level.cells.forEach(function (row) {
                            var counts = row.slice(2), total = 0, most = 0;
                            counts.forEach(function (count, code) {
                                total += count;
                                if (count > counts[most]) { most = code; }
                            });
                            var west = x0 + row[0] * w, south = y0 + row[1] * h, color = detail.colors[most];
                            L.rectangle([[south, west], [south + h, west + w]], {
                                color: color, weight: 0.5, fillColor: color, fillOpacity: 0.6
                            }).bindTooltip(function () { return cellTooltip(counts, total); },
                                           {sticky: true, className: "fp-tooltip"}).addTo(cellGroup);
                            stats.cells += 1;
                        });
                    }
                    function update() {
                        var zoom = map.getZoom();
                        if (zoom >= detail.min_zoom) {
                            if (cellLevel) { drawCells(null); }
                            stats.mode = "shapes";
                            showShapes(inView());
                        } else {
                            showShapes(function (layer) { return layer.always ? layer.features : []; });
                            stats.mode = "cells";
                            var level = detail.levels.find(function (l) { return zoom <= l.max_zoom; });
                            if (level !== cellLevel) { drawCells(level); }
                        }
                        stats.zoom = zoom;
                    }
                    map.on("moveend", update);
                    update();
                }
                performance.mark("fp-layers-drawn");
                stats.drawn_ms = performance.now();
                requestAnimationFrame(function () { stats.first_frame_ms = performance.now(); });  // the first view
                function setsDrawn() {
                    performance.mark("fp-sets-drawn");
                    stats.sets_drawn_ms = performance.now();
                }
                if (cluster && data.fitness_paths.length) {
                    var style = data.fitness_path_style;
                    cluster.addLayers(data.fitness_paths.map(function (row) {
                        return L.circleMarker([row[0], row[1]], style).bindTooltip(function () {
                            return value(row[2]);
                        }, {className: "fp-tooltip"});
                    }));
                }
                setsDrawn();
                var legend = L.control({position: "bottomright"});
                legend.onAdd = function () {
                    var div = L.DomUtil.create("div", "fp-legend");
                    div.appendChild(cell("div", data.legend.title)).className = "fp-legend-title";
                    data.legend.rows.forEach(function (entry) {
                        var row = L.DomUtil.create("div", "fp-legend-row", div);
                        row.setAttribute("data-status", entry.status);
                        row.setAttribute("data-count", String(entry.count));
                        var swatch = L.DomUtil.create("i", entry.dot ? "fp-dot" : "", row);
                        swatch.style.background = entry.color;
                        if (entry.outline) { swatch.style.boxShadow = "inset 0 0 0 2px " + entry.outline; }
                        row.appendChild(document.createTextNode(entry.label + " "));
                        row.appendChild(cell("b", entry.count.toLocaleString("en-US")));
                    });
                    L.DomEvent.disableClickPropagation(div);
                    return div;
                };
                legend.addTo(map);

                // The layer list (top right, added after this script) and the legend (bottom right) share the
                // right edge: on a short map the list scrolls above the legend instead of running under it.
                function fitLayerList() {
                    var box = map.getContainer();
                    var list = box.querySelector(".leaflet-control-layers-expanded");
                    var key = box.querySelector(".fp-legend");
                    if (!list || !key) { return; }
                    list.style.maxHeight = "";
                    list.style.overflowY = "";
                    var room = key.getBoundingClientRect().top - list.getBoundingClientRect().top - 24;
                    if (list.getBoundingClientRect().bottom > key.getBoundingClientRect().top - 4 && room > 60) {
                        list.style.maxHeight = room + "px";
                        list.style.overflowY = "auto";
                    }
                }
                setTimeout(fitLayerList, 0);
                map.on("resize", fitLayerList);

                // Leaflet's own words (its zoom buttons' and its credit's tooltips) in the page's language:
                // titles set as attributes, the credit's HTML rebuilt by the DOM (its text never parsed as markup).
                if (data.controls) {
                    var zoom = map.zoomControl;
                    [[zoom && zoom._zoomInButton, data.controls.zoom_in],
                     [zoom && zoom._zoomOutButton, data.controls.zoom_out]].forEach(function (pair) {
                        if (pair[0]) { pair[0].title = pair[1]; pair[0].setAttribute("aria-label", pair[1]); }
                    });
                    var credit = map.attributionControl;
                    if (credit && typeof credit.options.prefix === "string") {
                        var holder = document.createElement("div");
                        holder.innerHTML = credit.options.prefix;
                        holder.querySelectorAll("a[title]").forEach(function (link) {
                            link.title = data.controls.leaflet;
                        });
                        credit.setPrefix(holder.innerHTML);
                    }
                }

                // A base map whose tiles cannot load says so instead of showing grey.
                var tiles = {{ this.tiles_js }};
                if (data.base_note && tiles.length) {
                    var note = L.control({position: "bottomleft"});
                    note.onAdd = function () {
                        var div = L.DomUtil.create("div", "fp-base-note");
                        div.setAttribute("role", "status");
                        div.textContent = data.base_note;
                        return div;
                    };
                    var loaded = false, shown = false;
                    var show = function () {
                        if (!loaded && !shown) { note.addTo(map); shown = true; }
                    };
                    tiles.forEach(function (layer) {
                        layer.on("tileerror", show);
                        layer.on("tileload", function () {
                            loaded = true;
                            if (shown) { note.remove(); shown = false; }
                        });
                    });
                    setTimeout(show, data.base_note_after_ms);
                }
            })();
        {% endmacro %}
        """
    )

    def __init__(self, data: dict, groups: dict, cluster: MarkerCluster | None, tile_layers=()):
        super().__init__()
        self._name = "MapLayers"
        self.data_id = f"fp-map-data-{uuid.uuid4().hex}"
        # Our own identifiers only (folium's generated variable names), never user text.
        self.groups_js = (
            "{" + ", ".join(f"{json.dumps(key)}: {group.get_name()}" for key, group in groups.items()) + "}"
        )
        self.cluster_js = cluster.get_name() if cluster is not None else "null"
        self.tiles_js = "[" + ", ".join(layer.get_name() for layer in tile_layers) + "]"
        self._data_json = map_data_json(data)

    def render(self, **kwargs):
        data = f'<script type="application/json" id="{self.data_id}">{self._data_json}</script>'
        self.get_root().html.add_child(_VerbatimHtml(data), name=self.data_id)
        super().render(**kwargs)


class _MetricScale(MacroElement):
    """Leaflet's scale bar in metres and kilometres only (China's maps and the app's figures are metric)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.scale({imperial: false}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self):
        super().__init__()
        self._name = "MetricScale"


class _IconImagePath(MacroElement):
    """Point Leaflet's default marker images at the vendored copies, before any marker."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.Icon.Default.imagePath = {{ this.path|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, path: str):
        super().__init__()
        self._name = "IconImagePath"
        self.path = path


def _set_assets(element: JSCSSMixin, js, css, asset_base: str) -> None:
    # Instance attributes: folium's class-level lists (and other maps) stay untouched.
    element.default_js = [(name, f"{asset_base}/{path}") for name, path in js]
    element.default_css = [(name, f"{asset_base}/{path}") for name, path in css]


def _check_assets(m: folium.Map, asset_base: str) -> None:
    """Fail now, not in an offline browser, if any element links an asset not vendored."""
    stack, foreign = [m], []
    while stack:
        element = stack.pop()
        stack.extend(element._children.values())
        if isinstance(element, JSCSSMixin):
            foreign += [
                url
                for _, url in [*element.default_js, *element.default_css]
                if not url.startswith(asset_base + "/") or url[len(asset_base) + 1 :] not in _VENDORED
            ]
    if foreign:
        raise ValueError(
            f"the map links assets that are not vendored under {asset_base}: {foreign}; "
            "add them to static/vendor and geo/render/maps.py first"
        )


def _vendored_file(url: str) -> Path:
    relative = next((path for path in _VENDORED if url == path or url.endswith("/" + path)), None)
    if relative is None:
        raise ValueError(f"cannot inline {url!r}: it is not one of the files in {VENDOR_DIR}")
    return VENDOR_DIR / relative


def _strip_source_map(code: str) -> str:
    # The .map files are not vendored; the comment would make dev tools look for them.
    return re.sub(r"^\s*(//|/\*)# sourceMappingURL=.*$", "", code, flags=re.MULTILINE)


def _inline_css_images(css: str, folder: Path) -> str:
    def to_data_uri(match: re.Match) -> str:
        target = match.group(2)
        path = folder / target
        if target.startswith(("data:", "#")) or "://" in target or not path.is_file():
            return match.group(0)
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        encoded = base64.b64encode(path.read_bytes()).decode("ascii")
        return f"url(data:{mime};base64,{encoded})"

    return re.sub(r"url\(\s*([\"']?)([^\"')]+)\1\s*\)", to_data_uri, css)
