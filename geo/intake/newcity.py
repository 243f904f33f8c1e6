"""A new city from a bureau's own files: communities, and optionally districts, fitness paths, applications, sites.

The steps, each reported so that the user can check and correct it:

1. districts from a polygon file (its code and name columns recognised or mapped), else drawn
   around the communities of each district their district column names (outlines marked
   ``outline_approximate``), else one district for the whole file;
2. communities validated row by row (:func:`geo.intake.importer.import_file`): "outside the city"
   is judged against the districts of step 1; a community naming no district is placed in the
   one it lies in; a missing population is estimated (:mod:`geo.intake.estimate`);
3. fitness paths (optional: a city may have none yet), applications and public sites (optional;
   a site's missing kind is ``other``, its missing consent ``unknown``);
4. the city's identity (its name) stored with it (:mod:`geo.data.identity`).

Nothing of Liuzhou is assumed: the city is what the files say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.config import Config, load_config
from geo.data import schema
from geo.data.city import CityData
from geo.data.crs import metric_crs_for
from geo.data.gpkg import write_layers
from geo.data.headers import mappable_fields
from geo.data.identity import IDENTITY_LAYER, CityIdentity
from geo.data.io import read_raw_layer, shown_as
from geo.data.schema import STORAGE_CRS
from geo.errors import DataError, Message, data_error
from geo.i18n import label
from geo.intake.estimate import POPULATION_SOURCES, SOURCE_COLUMN, file_source_aside
from geo.intake.importer import IntakeResult, import_file, write_rejects
from geo.intake.validate import validate_layer

MAP_LAYERS = ("districts", "communities", "fitness_paths", "applications", "public_sites", "roads")
APPLICATION_FIELDS = ("community_id", "application_date")
# Buffer (m) around a district's communities for its drawn outline.
OUTLINE_BUFFER_M = 300.0
# The code of the one district of a city whose file names none.
WHOLE_CITY_CODE = "000000"
# How many rows (or IDs) a warning lists before "…".
LISTED = 10


class NoCommunityAccepted(DataError):
    """No community of the file was accepted (message ``no_community_accepted``).

    Attributes
    ----------
    results : dict of str to IntakeResult
        The import of each layer read so far (``communities``): its rejects say every row's
        reason, to be written for the user (``geo city init`` writes them and exits 3).
    """

    def __init__(self, message, results: dict):
        super().__init__(message)
        self.results = results

    def __reduce__(self):  # crosses the import's child process with its results
        return type(self), (self.args[0], self.results)


@dataclass(frozen=True)
class NewCity:
    """A city built by :func:`build_city`, with the report of how.

    Attributes
    ----------
    city : CityData
        Districts, communities, fitness paths (possibly none) and applications, EPSG:4326.
    identity : CityIdentity
        Its name (and bureau's), stored in the city file.
    results : dict of str to IntakeResult
        The import of each layer read from a file (``communities``, ``fitness_paths``, ``public_sites``).
    districts_source : {"file", "column", "whole"}
        Where the districts came from (see the module docstring).
    mapping : dict of str to dict of str to str
        For each layer, our field → the user's column it was read from (mapped or recognised).
    warnings : list of Message
    """

    city: CityData
    identity: CityIdentity
    results: dict
    districts_source: str
    mapping: dict
    warnings: list = field(default_factory=list)

    def summary(self, lang: str = "en") -> dict:
        """The JSON report of ``geo city init``."""
        from geo.errors import said

        def layer(name):
            result = self.results.get(name)
            if result is None:
                return None
            counts = result.summary()
            out = {k: counts[k] for k in ("input_rows", "accepted", "rejected", "repaired")}
            if name == "communities":
                sources = self.city.communities.get(SOURCE_COLUMN)
                out["population_estimated"] = (
                    int((sources.isin(["households", "area"])).sum()) if sources is not None else 0
                )
            out["crs"] = counts.get("crs")
            return out

        return {
            "city": self.identity.name_zh if lang == "zh" else (self.identity.name_en or self.identity.name_zh),
            "crs": (self.results["communities"].summary().get("crs") or {}),
            "districts": {"source": self.districts_source, "count": len(self.city.districts)},
            "communities": layer("communities"),
            "fitness_paths": layer("fitness_paths"),
            "public_sites": layer("public_sites"),
            "roads": layer("roads"),
            "applications": None if self.city.applications is None else len(self.city.applications),
            "mapping": self.mapping,
            "warnings": [said(w, lang) for w in self.warnings],
        }


def parse_map_options(options) -> dict[str, dict[str, str]]:
    """``["communities.name=小区名称", …]`` as ``{"communities": {"name": "小区名称"}}``.

    Raises a :class:`DataError` for an option not of the form ``LAYER.FIELD=COLUMN`` or naming
    a layer or field we do not have.
    """
    mapping: dict[str, dict[str, str]] = {}
    for option in options or ():
        match = re.fullmatch(r"\s*([a-z_]+)\.([a-z0-9_]+)\s*=(.*)", str(option))
        if not match or not match.group(3).strip():
            raise data_error("map_syntax", option=repr(option), layers=", ".join(MAP_LAYERS))
        layer, field_name, column = match.group(1), match.group(2), match.group(3).strip()
        if layer not in MAP_LAYERS:
            raise data_error("map_unknown_layer", option=repr(option), layers=", ".join(MAP_LAYERS))
        fields = APPLICATION_FIELDS if layer == "applications" else mappable_fields(layer)
        if field_name not in fields:
            raise data_error("map_unknown_field", layer=layer, field=repr(field_name), fields=", ".join(fields))
        mapping.setdefault(layer, {})[field_name] = column
    return mapping


def build_city(
    communities,
    *,
    districts=None,
    fitness_paths=None,
    applications=None,
    public_sites=None,
    roads=None,
    crs: str | dict | None = None,
    column_map: dict | None = None,
    name: str | None = None,
    name_en: str | None = None,
    config: Config | None = None,
    display_names: dict | None = None,
    contact: tuple[str, ...] = (),
) -> NewCity:
    """Build a city from a bureau's files (paths); see the module docstring for the steps.

    Parameters
    ----------
    communities : path
        Community polygons (or points), any import format (:func:`geo.intake.importer.import_file`).
    districts, fitness_paths, applications : path, optional
        District polygons; fitness-path points; applications (a table with ``community_id`` and
        ``application_date``).
    public_sites : path, optional
        Public sites where a set could go (points or polygons, any import format), imported as
        ``public_sites`` (:mod:`geo.data.schema`); rows outside the city or otherwise wrong are rejected.
    roads : path, optional
        The lines a resident can walk along (any import format, or an OpenStreetMap ``.osm.pbf``/``.osm``
        extract), imported as ``roads`` (:func:`geo.intake.importer.import_file`): kinds as codes,
        ``walkable`` from the file or by the kind; a row that is not a line, or lies outside the city, is rejected.
    crs : str or dict, optional
        The coordinate system of files that declare none (any spelling
        :func:`geo.data.crs.normalise_crs_name` takes, or ``EPSG:n``); a dict gives it per layer
        (``{"communities": "EPSG:4527", "fitness_paths": "wgs84"}``). Without one, a file's own
        CRS is used, else a guess from its coordinates, said in the warnings.
    column_map : dict, optional
        Layer → (our field → the user's column), e.g. from :func:`parse_map_options`.
    name, name_en : str, optional
        The city's name (Chinese, English); default: the communities file's stem.
    contact : tuple of str, optional
        The public notice's feedback lines (phone, e-mail …), stored with the city.
    config : Config, optional
        Import limits and estimation rules (default: ``load_config()``).
    display_names : dict, optional
        Layer → the name messages give its file (an upload stored under a fixed name).
    """
    config = config or load_config()
    column_map = column_map or {}
    crs_of = (
        crs
        if isinstance(crs, dict)
        else dict.fromkeys(("districts", "communities", "fitness_paths", "public_sites", "roads"), crs)
    )
    display_names = display_names or {}
    warnings: list = []
    results: dict[str, IntakeResult] = {}

    district_layer = None
    if districts is not None:
        district_layer = read_district_file(
            districts, crs_of.get("districts"), column_map.get("districts"), config, display_names
        )
    results["communities"] = import_file(
        communities,
        "communities",
        crs_of.get("communities"),
        config,
        district_layer,
        display_name=display_names.get("communities"),
        column_map=column_map.get("communities"),
        new_city=district_layer is None,
    )
    results["communities"] = _without_geometry_rejected(results["communities"])
    _raise_if_none_accepted(results, communities, display_names)
    if district_layer is not None:
        source, community_layer = "file", results["communities"].accepted
    else:
        community_layer, district_layer, source, district_warnings = districts_from_communities(
            results["communities"].accepted, results["communities"].accepted_rows
        )
        warnings += district_warnings
        warnings.append(
            Message("districts_drawn", count=len(district_layer)) if source == "column" else Message("districts_whole")
        )
    community_layer = _own_population_source(with_ids(community_layer, results["communities"].accepted_rows))

    def imported(layer: str, source):
        """The import of ``source`` as ``layer`` (kept in ``results``), with the layer's CRS, name and mapping."""
        results[layer] = import_file(
            source,
            layer,
            crs_of.get(layer),
            config,
            district_layer,
            display_name=display_names.get(layer),
            column_map=column_map.get(layer),
        )
        return results[layer]

    if fitness_paths is not None:
        path_layer = imported("fitness_paths", fitness_paths).accepted[
            list(schema.LAYERS["fitness_paths"]) + ["geometry"]
        ]
    else:
        path_layer = empty_fitness_paths()
        warnings.append(Message("no_fitness_paths"))
    site_layer = site_defaults(imported("public_sites", public_sites).accepted) if public_sites is not None else None
    road_layer = imported("roads", roads).accepted[[*schema.LAYERS["roads"], "geometry"]] if roads is not None else None
    application_table = None
    if applications is not None:
        application_table = read_application_table(applications, column_map.get("applications"))
        unknown = unknown_application_ids(application_table, community_layer)
        if unknown:
            shown = ", ".join(unknown[:LISTED]) + (" …" if len(unknown) > LISTED else "")
            warnings.append(Message("applications_unknown_ids", count=len(unknown), ids=shown))

    stem = Path(display_names.get("communities") or Path(communities).name).stem
    lines = tuple(line.strip() for line in contact if line and line.strip())
    identity = CityIdentity(name_zh=(name or stem).strip(), name_en=(name_en or "").strip(), contact_zh=lines)
    city = CityData(
        districts=district_layer,
        communities=community_layer.reset_index(drop=True),
        fitness_paths=path_layer,
        source="",
        applications=application_table,
        other_layers={IDENTITY_LAYER: identity.table()},
        public_sites=site_layer,
        roads=road_layer,
    )
    # The merge's note on missing IDs does not hold here: this city gives them now (with_ids).
    file_warnings = [
        Message("rows_ids_made", rows=w.values["rows"]) if getattr(w, "key", None) == "rows_no_id" else w
        for result in results.values()
        for w in result.warnings
    ]
    return NewCity(city, identity, results, source, _mapping_report(results, column_map), file_warnings + warnings)


def write_city(new_city: NewCity, out) -> dict[str, Path]:
    """Write the city GeoPackage ``out`` and each layer's rejects beside it (``<stem>.<layer>.rejects.csv``).

    Returns the paths written (``"city"``, and ``"rejects_<layer>"`` per imported layer).
    """
    out = Path(out)
    city = new_city.city
    layers = {"districts": city.districts, "communities": city.communities, "fitness_paths": city.fitness_paths}
    if city.applications is not None:
        layers["applications"] = city.applications
    if city.public_sites is not None:
        layers["public_sites"] = city.public_sites
    if city.roads is not None:
        layers["roads"] = city.roads
    layers.update(city.other_layers)
    write_layers(out, layers)
    written = {"city": out}
    for layer, result in new_city.results.items():
        rejects = out.with_name(f"{out.stem}.{layer}.rejects.csv")
        write_rejects(result, rejects)
        written[f"rejects_{layer}"] = rejects
    return written


# --------------------------------------------------------------------------- districts


def read_district_file(path, crs, column_map, config: Config, display_names: dict) -> gpd.GeoDataFrame:
    """District polygons from a file: ``district_code`` (made up as D01, D02 … when the file has
    none), ``district_name``, ``district_name_en`` (if given), EPSG:4326.

    Raises a :class:`DataError` when no row is a usable district polygon.
    """
    with shown_as(path, display_names.get("districts")):
        raw = read_raw_layer(
            path,
            "districts",
            max_upload_mb=config.max_upload_mb,
            max_unzipped_mb=config.max_unzipped_mb,
            max_rows=config.max_rows,
            max_vertices=config.max_vertices,
            column_map=column_map,
        )
    frame = raw.frame
    if "district_code" not in raw.headers:
        names = frame["district_name"].astype("string")
        order = {value: i for i, value in enumerate(pd.unique(names.dropna()))}
        frame = frame.assign(district_code=names.map(lambda v: f"D{order[v] + 1:02d}" if v in order else pd.NA))
    if "district_name" not in raw.headers:
        frame = frame.assign(district_name=frame["district_code"])
    raw = _replace_frame(raw, frame)
    accepted, _rejects, _report = validate_layer(raw, "districts", None, declared_crs=crs)
    accepted = accepted[~(accepted.geometry.isna() | accepted.geometry.is_empty)]
    if accepted.empty:
        raise data_error("no_district_accepted", file=str(display_names.get("districts") or Path(path).name))
    columns = [c for c in schema.LAYERS["districts"] if c in accepted.columns]
    out = gpd.GeoDataFrame(accepted[columns], geometry=accepted.geometry.to_numpy(), crs=STORAGE_CRS)
    out = out.dissolve(by="district_code", as_index=False, aggfunc="first")
    return out.reset_index(drop=True)


def districts_from_communities(
    communities: gpd.GeoDataFrame, row_numbers=None
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str, list]:
    """Districts drawn around the communities, from their district column, else one for all.

    Parameters
    ----------
    communities : geopandas.GeoDataFrame
        Accepted communities, EPSG:4326, every one with a geometry; ``district_code`` and
        ``district_name`` as given (either may be missing).
    row_numbers : array_like of int, optional
        Each community's row in the file, for the warnings (default: 1, 2 …).

    Returns
    -------
    communities : geopandas.GeoDataFrame
        Every one with a ``district_code`` and ``district_name``.
    districts : geopandas.GeoDataFrame
        EPSG:4326, ``outline_approximate`` True: each the hull of its communities buffered by
        :data:`OUTLINE_BUFFER_M`.
    source : {"column", "whole"}
    warnings : list of Message
        ``district_code_two_names`` for a code given with different names (the first is kept);
        ``rows_district_nearest`` naming the rows placed in the nearest district, and where.

    Notes
    -----
    A name given with a code on some rows and without on others is one district, of that code;
    codes are made up (D01, D02 … by first appearance) for districts given only by name; a
    community naming no district joins the nearest drawn district.
    """
    communities = communities.copy()
    rows = np.arange(1, len(communities) + 1) if row_numbers is None else np.asarray(row_numbers)
    warnings: list = []
    code = communities["district_code"].astype("string").str.strip().replace("", pd.NA)
    name = communities["district_name"].astype("string").str.strip().replace("", pd.NA)
    if code.isna().all() and name.isna().all():
        source = "whole"
        code = pd.Series(WHOLE_CITY_CODE, index=communities.index, dtype="string")
        name = pd.Series(Message("whole_city_district").in_language("zh"), index=communities.index, dtype="string")
    else:
        source = "column"
        # A name given with its code on some row is that code's district wherever it is given alone.
        coded = code.notna() & name.notna()
        code_of_name = code[coded].groupby(name[coded], sort=False).first()
        code = code.fillna(name.map(code_of_name).astype("string"))
        made_up = {v: f"D{i + 1:02d}" for i, v in enumerate(pd.unique(name[code.isna()].dropna()))}
        code = code.fillna(name.map(made_up))
        for district, names in name[code.notna() & name.notna()].groupby(code, sort=False):
            spellings = list(pd.unique(names))
            if len(spellings) > 1:
                shown = ", ".join(spellings[:LISTED])
                warnings.append(Message("district_code_two_names", code=district, names=shown, kept=spellings[0]))
        first_name = name.groupby(code).first()
        name = code.map(first_name).astype("string").fillna(name).fillna(code)  # one name per code
    communities["district_code"], communities["district_name"] = code, name
    metric = metric_crs_for(communities[~communities.geometry.isna()])
    projected = communities.to_crs(metric)
    known = code.notna().to_numpy()
    outlines = []
    for district in pd.unique(code[known]):
        members = (code == district).fillna(False).to_numpy(dtype=bool)
        # The hull of the buffered communities is the buffered hull of their vertices (and far faster).
        vertices = shapely.multipoints(shapely.get_coordinates(projected.geometry[members].to_numpy()))
        hull = shapely.convex_hull(vertices).buffer(OUTLINE_BUFFER_M)
        outlines.append((district, name[members].iloc[0], hull))
    districts = gpd.GeoDataFrame(
        {
            "district_code": pd.array([o[0] for o in outlines], dtype="string"),
            "district_name": pd.array([o[1] for o in outlines], dtype="string"),
            "outline_approximate": pd.array([True] * len(outlines), dtype="boolean"),
        },
        geometry=[o[2] for o in outlines],
        crs=metric,
    )
    if not known.all():  # a community naming no district, among ones that do: the nearest drawn one
        lost = projected[~known]
        nearest = gpd.sjoin_nearest(lost[["geometry"]], districts[["district_code", "geometry"]], how="left")
        nearest = nearest[~nearest.index.duplicated()]
        communities.loc[~known, "district_code"] = nearest["district_code"].to_numpy()
        communities.loc[~known, "district_name"] = communities.loc[~known, "district_code"].map(
            dict(zip(districts["district_code"], districts["district_name"]))
        )
        placed = [
            f"{int(row)} → {district_name}"
            for row, district_name in zip(rows[~known], communities.loc[~known, "district_name"])
        ]
        shown = ", ".join(placed[:LISTED]) + (" …" if len(placed) > LISTED else "")
        warnings.append(Message("rows_district_nearest", count=len(placed), placed=shown))
    return communities, districts.to_crs(STORAGE_CRS), source, warnings


# --------------------------------------------------------------------------- the rest


def with_ids(communities: gpd.GeoDataFrame, row_numbers: np.ndarray) -> gpd.GeoDataFrame:
    """Communities without an ID get ``R<row>`` from their row in the file (``R00007``), unique and stable.

    A made ID never repeats a given one: when ``R<row>`` is taken, ``R<row>-2``, ``R<row>-3`` …
    """
    communities = communities.copy()
    ids = communities["community_id"].astype("string").str.strip().replace("", pd.NA)
    taken = set(ids.dropna())
    made = []
    for missing, n in zip(ids.isna(), row_numbers):
        if not missing:
            made.append(pd.NA)
            continue
        candidate, number = f"R{int(n):05d}", 2
        while candidate in taken:
            candidate, number = f"R{int(n):05d}-{number}", number + 1
        taken.add(candidate)
        made.append(candidate)
    communities["community_id"] = ids.fillna(pd.Series(made, index=communities.index, dtype="string"))
    return communities


def empty_fitness_paths() -> gpd.GeoDataFrame:
    """The fitness-path layer of a city that has none yet."""
    columns = {name: pd.Series(dtype=schema.DTYPES[kind]) for name, kind in schema.LAYERS["fitness_paths"].items()}
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)


def site_defaults(accepted: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Imported public sites as the city file keeps them: the schema's columns and geometry, EPSG:4326; a
    missing ``kind`` is ``"other"`` and a missing ``consent`` ``"unknown"`` (as :func:`geo.data.io.read_public_sites`
    reads them)."""
    sites = accepted[[*schema.LAYERS["public_sites"], "geometry"]].copy()
    sites["kind"] = sites["kind"].fillna("other")
    sites["consent"] = sites["consent"].fillna("unknown")
    return sites.reset_index(drop=True)


def read_application_table(path, column_map: dict | None) -> pd.DataFrame:
    """Applications (``community_id``, ``application_date``) from a CSV or GeoPackage table.

    Read by :func:`geo.data.io.read_applications` (its checks: encoding, both columns, every date),
    ``column_map`` (field → the file's column) naming the columns.
    """
    from geo.data.io import read_applications

    return read_applications(path, column_map=column_map or None)


def unknown_application_ids(applications: pd.DataFrame, communities: pd.DataFrame) -> list[str]:
    """The distinct community IDs of ``applications`` that no community has, in file order."""
    ids = applications["community_id"].astype("string").str.strip()
    known = set(communities["community_id"].astype("string").str.strip().dropna())
    return [value for value in pd.unique(ids.dropna()) if value not in known]


def _raise_if_none_accepted(results: dict, communities, display_names: dict) -> None:
    """Raise :class:`NoCommunityAccepted` when no community row was accepted."""
    if results["communities"].accepted.empty:
        shown = str(display_names.get("communities") or Path(communities).name)
        raise NoCommunityAccepted(Message("no_community_accepted", file=shown), results)


def _without_geometry_rejected(result: IntakeResult) -> IntakeResult:
    """``result`` with its accepted communities that have no geometry moved to its rejects.

    The merge can find a community given only by its ID in the current city; a new city has
    none, so such a row cannot be placed (reason ``empty_geometry``). Its cells in the rejects
    are the accepted values under the file's headers.
    """
    geometry = result.accepted.geometry
    missing = (geometry.isna() | geometry.is_empty).to_numpy()
    if not missing.any():
        return result
    reasons = {
        lang: label(
            "row",
            "issue",
            lang,
            title=label("rejection", "empty_geometry", lang),
            detail=label("row", "no_geometry_new_city", lang),
        )
        for lang in ("zh", "en")
    }
    rows = result.accepted[missing]
    table = pd.DataFrame(
        {
            result.row_kind: result.accepted_rows[missing],
            "reason_code": "empty_geometry",
            "reason_zh": reasons["zh"],
            "reason_en": reasons["en"],
        }
    )
    header_of = {header: field for field, header in (result.headers or {}).items()}
    for column in result.rejects.columns[4:]:
        source = header_of.get(column, column)
        values = rows[source] if source in rows.columns and source != "geometry" else pd.Series(None, index=rows.index)
        table[column] = [None if pd.isna(v) else (v if isinstance(v, (int, float)) else str(v)) for v in values]
    rejects = pd.concat([result.rejects.astype(object), table.astype(object)], ignore_index=True)
    rejects = rejects.sort_values(result.row_kind, kind="stable", ignore_index=True)
    return replace(
        result,
        accepted=result.accepted[~missing].reset_index(drop=True),
        accepted_rows=result.accepted_rows[~missing],
        rejects=rejects,
    )


def _own_population_source(communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``population_source`` as the estimation says it, the file's own column (if it held other values) set aside.

    The estimation (:mod:`geo.intake.estimate`) runs only when a population is missing; otherwise
    a ``population_source`` column is the file's. Ours is ``surveyed`` for every population given.
    """
    if SOURCE_COLUMN not in communities.columns:
        return communities
    given = communities[SOURCE_COLUMN].astype("string").str.strip().replace("", pd.NA)
    has_population = communities["population"].notna()
    ours = given.isin(POPULATION_SOURCES).fillna(False) == has_population
    if ours.all() and (given.notna() == has_population).all():
        return communities
    communities = file_source_aside(communities)
    communities[SOURCE_COLUMN] = pd.Series(pd.NA, index=communities.index, dtype="string").mask(
        has_population, "surveyed"
    )
    return communities


def _replace_frame(raw, frame):
    from dataclasses import replace

    return replace(raw, frame=frame)


def _mapping_report(results: dict, column_map: dict) -> dict:
    """Layer → our field → the user's column, for every field read (mapped or recognised)."""
    report = {}
    for layer, result in results.items():
        headers = getattr(result, "headers", None) or {}
        report[layer] = {**headers, **{f: c for f, c in (column_map.get(layer) or {}).items() if c}}
    return report
