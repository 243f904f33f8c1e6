"""Render coverage maps with folium from the app's own web assets; render only, computes nothing.

Every JavaScript and CSS file the maps load comes from ``static/vendor`` (see its README.md):
in the Streamlit app they are served by Streamlit's static file serving at
``/app/static/vendor/...``, and :func:`standalone_html` inlines them into one file that opens
with no internet and no server. A map built here makes no request to any other host.

folium's base :class:`folium.Map` asks for jQuery, Bootstrap, Font Awesome and
Leaflet.awesome-markers; none of them is needed by what is drawn here (they serve popups,
awesome-marker icons and Bootstrap styling), so the maps load Leaflet and, for the clustered
fitness-path points, Leaflet.markercluster only. Tooltips are used instead of popups because
folium's popups call jQuery. Adding an element that brings assets of its own raises
``ValueError`` at build time until its files are vendored and listed in ``_VENDORED``.
"""

from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import FastMarkerCluster
from folium.template import Template

VENDOR_DIR = Path(__file__).resolve().parent.parent / "static" / "vendor"
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
STATUS_COLORS = {
    "served_inside": "#1a9850",         # green
    "served_within_radius": "#2b8cbe",  # blue
    "unserved": "#e34a33",              # orange-red
}
FITNESS_PATH_COLOR = "#54278f"          # purple: distinct from the three status colours

LABELS = {
    "zh": {
        "legend_title": "健身路径覆盖情况",
        "served_inside": "小区内已有健身路径",
        "served_within_radius": "步行范围内有健身路径",
        "unserved": "未覆盖小区",
        "fitness_paths": "健身路径",
        "districts": "行政区界",
        "name": "小区",
        "district_name": "所属城区",
        "population": "人口",
        "built_year": "建成年份",
        "n_sets_inside": "小区内健身路径（套）",
        "nearest_set_m": "距最近健身路径（米）",
    },
    "en": {
        "legend_title": "Fitness-path coverage",
        "served_inside": "Set inside the community",
        "served_within_radius": "Set within walk radius",
        "unserved": "Not served",
        "fitness_paths": "Fitness paths",
        "districts": "District boundaries",
        "name": "Community",
        "district_name": "District",
        "population": "Population",
        "built_year": "Built",
        "n_sets_inside": "Sets inside",
        "nearest_set_m": "Nearest set (m)",
    },
}
"""Legend, layer and tooltip labels per language (an i18n module may take these over)."""

_TOOLTIP_FIELDS = (
    "name", "district_name", "population", "built_year", "n_sets_inside", "nearest_set_m",
)
_REQUIRED = {
    "districts": ("district_code", "district_name", "district_name_en"),
    "communities": (
        "community_id", "name", "district_name", "population", "built_year",
        "n_sets_inside", "nearest_set_m", "served_inside", "served_within_radius",
    ),
    "fitness_paths": ("path_id", "name"),
}
_MISSING = "—"


def coverage_map(
    districts: gpd.GeoDataFrame,
    communities: gpd.GeoDataFrame,
    fitness_paths: gpd.GeoDataFrame,
    lang: str = "zh",
    asset_base: str = DEFAULT_ASSET_BASE,
) -> folium.Map:
    """Draw districts, communities coloured by coverage status, and fitness paths.

    Parameters
    ----------
    districts : geopandas.GeoDataFrame
        EPSG:4326 (multi)polygons with ``district_code``, ``district_name`` and
        ``district_name_en``. Drawn as outlines with a tooltip; the map is fitted to them.
    communities : geopandas.GeoDataFrame
        EPSG:4326 (multi)polygons with ``community_id``, ``name``, ``district_name``,
        ``population`` (int), ``built_year`` (int), ``n_sets_inside`` (int),
        ``nearest_set_m`` (float, metres), ``served_inside`` (bool) and
        ``served_within_radius`` (bool). A community with a set inside is drawn green, one
        served within the walk radius only blue, any other orange-red; one layer per status.
    fitness_paths : geopandas.GeoDataFrame
        EPSG:4326 points with ``path_id`` and ``name``; drawn as small circles, clustered
        when zoomed out (clustering stops at zoom 15).
    lang : {"zh", "en"}, default "zh"
        Language of the legend, layer names and tooltips.
    asset_base : str, default "/app/static/vendor"
        URL prefix under which the contents of ``static/vendor`` are served; every script and
        stylesheet of the map is loaded from below it.

    Returns
    -------
    folium.Map
        No base tiles; a legend with the number of communities per status; a layer control.
        Display geometry is simplified by :data:`DISPLAY_TOLERANCE_DEG` (~2 m) and rounded to
        :data:`COORDINATE_DECIMALS` (~0.1 m); features carry only the tooltip values and
        ``community_id``.

    Raises
    ------
    ValueError
        If a column is missing, a layer is not in EPSG:4326, ``districts`` has no geometry,
        ``fitness_paths`` holds anything but points, or ``lang`` is unknown.
    """
    if lang not in LABELS:
        raise ValueError(f"lang must be one of {sorted(LABELS)}, got {lang!r}")
    for layer_name, frame in (
        ("districts", districts), ("communities", communities), ("fitness_paths", fitness_paths),
    ):
        _validate(layer_name, frame)
    labels = LABELS[lang]
    asset_base = asset_base.rstrip("/")

    district_display = _display_geometry(districts)
    if district_display.empty:
        raise ValueError("districts has no non-empty geometry: the map needs it for its extent")
    min_lon, min_lat, max_lon, max_lat = district_display.total_bounds

    m = folium.Map(
        location=[(min_lat + max_lat) / 2, (min_lon + max_lon) / 2],
        zoom_start=11,
        tiles=None,
        prefer_canvas=True,   # thousands of polygons draw faster on one canvas than as SVG
        control_scale=True,
    )
    # Without tiles Leaflet knows no zoom limit, and Leaflet.markercluster then throws
    # "Map has no maxZoom specified", halting every script after it (legend, layer control).
    m.options["max_zoom"] = MAX_ZOOM
    _set_assets(m, _MAP_JS, _MAP_CSS, asset_base)
    _IconImagePath(f"{asset_base}/{_LEAFLET}/images/").add_to(m)

    _add_districts(m, district_display, labels, lang)
    status = _community_status(communities)
    for key in STATUSES:
        _add_communities(m, communities[status == key], districts, key, labels, lang)
    _add_fitness_paths(m, fitness_paths, labels, asset_base)

    counts = {key: int((status == key).sum()) for key in STATUSES}
    _Legend(_legend_html(counts, len(fitness_paths), labels)).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    m.fit_bounds([[min_lat, min_lon], [max_lat, max_lon]])

    _check_assets(m, asset_base)
    return m


def _community_status(communities: pd.DataFrame) -> pd.Series:
    """Name each community's coverage status from its two flags.

    ``"served_inside"`` where ``served_inside`` is true, else ``"served_within_radius"`` where
    ``served_within_radius`` is true, else ``"unserved"`` (a missing flag counts as false).
    """
    inside = communities["served_inside"].astype("boolean").fillna(False).to_numpy(bool)
    within = communities["served_within_radius"].astype("boolean").fillna(False).to_numpy(bool)
    return pd.Series(
        np.select([inside, within], [STATUSES[0], STATUSES[1]], STATUSES[2]),
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
        r"<script\b[^>]*\bsrc=[\"']([^\"']+)[\"'][^>]*>\s*</script>", inline_script, page,
        flags=re.IGNORECASE,
    )
    return re.sub(
        r"<link\b[^>]*\bhref=[\"']([^\"']+)[\"'][^>]*>", inline_stylesheet, page,
        flags=re.IGNORECASE,
    )


def _validate(layer_name: str, frame: gpd.GeoDataFrame) -> None:
    if not isinstance(frame, gpd.GeoDataFrame):
        raise ValueError(f"{layer_name} must be a GeoDataFrame, got {type(frame).__name__}")
    missing = [c for c in _REQUIRED[layer_name] if c not in frame.columns]
    if missing:
        raise ValueError(f"{layer_name} lacks column(s) {missing}; it has {list(frame.columns)}")
    if frame.crs is None or frame.crs.to_epsg() != 4326:
        raise ValueError(
            f"{layer_name} must be in EPSG:4326 (longitude/latitude), got {frame.crs}; "
            "reproject it before drawing"
        )
    if layer_name == "fitness_paths":
        kinds = set(frame.geometry[~frame.geometry.is_empty & frame.geometry.notna()].geom_type)
        if kinds - {"Point"}:
            raise ValueError(f"fitness_paths must hold points only, found {sorted(kinds)}")


def _display_geometry(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Rows that can be drawn, their geometry simplified and rounded for the browser."""
    drawable = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    geometry = shapely.transform(
        drawable.geometry.simplify(DISPLAY_TOLERANCE_DEG, preserve_topology=True).to_numpy(),
        lambda coords: np.round(coords, COORDINATE_DECIMALS),
    )
    return drawable.set_geometry(gpd.GeoSeries(geometry, index=drawable.index, crs=frame.crs))


def _feature_collection(frame: gpd.GeoDataFrame, columns: list[str]) -> dict:
    return json.loads(frame[[*columns, frame.geometry.name]].to_json(drop_id=True))


def _add_districts(m: folium.Map, display: gpd.GeoDataFrame, labels: dict, lang: str) -> None:
    name_column = "district_name_en" if lang == "en" else "district_name"
    names = display[name_column].fillna(display["district_name"]).fillna(display["district_code"])
    props = display.assign(label=names.astype(str).map(html.escape))
    layer = folium.FeatureGroup(name=labels["districts"])
    folium.GeoJson(
        _feature_collection(props, ["district_code", "label"]),
        style_function=lambda _: {
            "color": "#444444", "weight": 2, "fill": True,
            "fillColor": "#888888", "fillOpacity": 0.03,
        },
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        control=False,
    ).add_to(layer)
    layer.add_to(m)


def _add_communities(
    m: folium.Map,
    communities: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    status: str,
    labels: dict,
    lang: str,
) -> None:
    layer = folium.FeatureGroup(name=labels[status])
    layer.add_to(m)
    display = _display_geometry(communities)
    if display.empty:   # folium's tooltip cannot be built on an empty layer
        return
    district_names = display["district_name"]
    if lang == "en":
        english = dict(zip(districts["district_name"], districts["district_name_en"]))
        district_names = district_names.map(english).fillna(district_names)
    tooltip_values = pd.DataFrame(
        {
            "name": _text(display["name"]),
            "district_name": _text(district_names),
            "population": _whole_number(display["population"]),
            "built_year": _whole_number(display["built_year"], thousands=False),
            "n_sets_inside": _whole_number(display["n_sets_inside"]),
            "nearest_set_m": _whole_number(display["nearest_set_m"]),
        },
        index=display.index,
    )
    props = gpd.GeoDataFrame(
        tooltip_values.assign(community_id=display["community_id"].astype(str)),
        geometry=display.geometry,
    )
    color = STATUS_COLORS[status]
    folium.GeoJson(
        _feature_collection(props, ["community_id", *_TOOLTIP_FIELDS]),
        style_function=lambda _: {
            "color": color, "weight": 1, "fillColor": color, "fillOpacity": 0.55,
        },
        highlight_function=lambda _: {"weight": 3, "fillOpacity": 0.8},
        tooltip=folium.GeoJsonTooltip(
            fields=list(_TOOLTIP_FIELDS),
            aliases=[labels[field] for field in _TOOLTIP_FIELDS],
        ),
        control=False,
    ).add_to(layer)


def _add_fitness_paths(
    m: folium.Map, fitness_paths: gpd.GeoDataFrame, labels: dict, asset_base: str
) -> None:
    points = fitness_paths[fitness_paths.geometry.notna() & ~fitness_paths.geometry.is_empty]
    names = _text(points["name"].where(points["name"].notna(), points["path_id"]))
    rows = pd.DataFrame(
        {
            "lat": points.geometry.y.round(COORDINATE_DECIMALS),
            "lon": points.geometry.x.round(COORDINATE_DECIMALS),
            "label": names,
        }
    )
    cluster = FastMarkerCluster(
        rows.to_numpy().tolist(),
        callback=(
            "function (row) {"
            " return L.circleMarker(new L.LatLng(row[0], row[1]), {"
            f" radius: 4, weight: 1, color: '{FITNESS_PATH_COLOR}',"
            f" fillColor: '{FITNESS_PATH_COLOR}', fillOpacity: 0.85"
            " }).bindTooltip(row[2]); }"
        ),
        name=labels["fitness_paths"],
        disable_clustering_at_zoom=15,
        show_coverage_on_hover=False,
        max_cluster_radius=50,
        icon_create_function=(
            "function (cluster) {"
            " return L.divIcon({"
            " html: '<div><span>' + cluster.getChildCount() + '</span></div>',"
            " className: 'marker-cluster fp-cluster', iconSize: new L.Point(40, 40) }); }"
        ),
    )
    _set_assets(cluster, _CLUSTER_JS, _CLUSTER_CSS, asset_base)
    cluster.add_to(m)


def _text(values: pd.Series) -> pd.Series:
    """Strings safe to place in the tooltips' HTML (folium inserts values as markup)."""
    return values.astype("string").fillna(_MISSING).map(html.escape)


def _whole_number(values: pd.Series, thousands: bool = True) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    numbers = numbers.where(np.isfinite(numbers))
    pattern = "{:,.0f}" if thousands else "{:.0f}"
    return numbers.map(lambda x: _MISSING if pd.isna(x) else pattern.format(x))


def _legend_html(counts: dict, n_fitness_paths: int, labels: dict) -> str:
    # Single quotes only: the markup travels inside a JSON string in the page's script.
    rows = [f"<div class='fp-legend-title'>{html.escape(labels['legend_title'])}</div>"]
    for key in STATUSES:
        rows.append(
            f"<div class='fp-legend-row' data-status='{key}' data-count='{counts[key]}'>"
            f"<i style='background:{STATUS_COLORS[key]}'></i>"
            f"{html.escape(labels[key])} <b>{counts[key]:,}</b></div>"
        )
    rows.append(
        f"<div class='fp-legend-row' data-status='fitness_paths' data-count='{n_fitness_paths}'>"
        f"<i class='fp-dot' style='background:{FITNESS_PATH_COLOR}'></i>"
        f"{html.escape(labels['fitness_paths'])} <b>{n_fitness_paths:,}</b></div>"
    )
    return "".join(rows)


class _Legend(MacroElement):
    """A Leaflet control holding the legend; its style sits in the page header."""

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
                .marker-cluster.fp-cluster { background-color: rgba(84, 39, 143, 0.3); }
                .marker-cluster.fp-cluster div { background-color: rgba(84, 39, 143, 0.85);
                    color: #ffffff; }
            </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            (function () {
                var legend = L.control({position: "bottomright"});
                legend.onAdd = function () {
                    var div = L.DomUtil.create("div", "fp-legend");
                    div.innerHTML = {{ this.markup_js }};
                    L.DomEvent.disableClickPropagation(div);
                    return div;
                };
                legend.addTo({{ this._parent.get_name() }});
            })();
        {% endmacro %}
        """
    )

    def __init__(self, markup: str):
        super().__init__()
        self._name = "Legend"
        self.markup_js = json.dumps(markup, ensure_ascii=False).replace("</", "<\\/")


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
                url for _, url in [*element.default_js, *element.default_css]
                if not url.startswith(asset_base + "/")
                or url[len(asset_base) + 1:] not in _VENDORED
            ]
    if foreign:
        raise ValueError(
            f"the map links assets that are not vendored under {asset_base}: {foreign}; "
            "add them to static/vendor and geo/maps.py first"
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
