"""A new city from a bureau's own files: communities, and optionally districts, fitness paths, applications.

The steps, each reported so that the user can check and correct it:

1. districts from a polygon file (its code and name columns recognised or mapped), else drawn
   around the communities of each district their district column names (outlines marked
   ``outline_approximate``), else one district for the whole file;
2. communities validated row by row (:func:`geo.intake.importer.import_file`): "outside the city"
   is judged against the districts of step 1; a community naming no district is placed in the
   one it lies in; a missing population is estimated (:mod:`geo.intake.estimate`);
3. fitness paths (optional: a city may have none yet) and applications (optional);
4. the city's identity (its name) stored with it (:mod:`geo.data.identity`).

Nothing of Liuzhou is assumed: the city is what the files say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
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
from geo.errors import Message, data_error
from geo.intake.estimate import SOURCE_COLUMN
from geo.intake.importer import IntakeResult, import_file, write_rejects
from geo.intake.validate import validate_layer

MAP_LAYERS = ("districts", "communities", "fitness_paths", "applications")
APPLICATION_FIELDS = ("community_id", "application_date")
# Buffer (m) around a district's communities for its drawn outline.
OUTLINE_BUFFER_M = 300.0
# The code of the one district of a city whose file names none.
WHOLE_CITY_CODE = "000000"


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
        The import of each layer read from a file (``communities``, ``fitness_paths``).
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
    crs_of = crs if isinstance(crs, dict) else dict.fromkeys(("districts", "communities", "fitness_paths"), crs)
    display_names = display_names or {}
    warnings: list = []
    results: dict[str, IntakeResult] = {}

    if districts is not None:
        district_layer = read_district_file(
            districts, crs_of.get("districts"), column_map.get("districts"), config, display_names
        )
        source = "file"
        results["communities"] = import_file(
            communities,
            "communities",
            crs_of.get("communities"),
            config,
            district_layer,
            display_name=display_names.get("communities"),
            column_map=column_map.get("communities"),
        )
        community_layer = results["communities"].accepted
    else:
        results["communities"] = import_file(
            communities,
            "communities",
            crs_of.get("communities"),
            config,
            display_name=display_names.get("communities"),
            column_map=column_map.get("communities"),
            new_city=True,
        )
        community_layer, district_layer, source = districts_from_communities(results["communities"].accepted)
        if source == "column":
            warnings.append(Message("districts_drawn", count=len(district_layer)))
        else:
            warnings.append(Message("districts_whole"))
    if results["communities"].accepted.empty:
        raise data_error("no_community_accepted", file=str(display_names.get("communities") or Path(communities).name))
    community_layer = with_ids(community_layer, results["communities"].accepted_rows)

    if fitness_paths is not None:
        results["fitness_paths"] = import_file(
            fitness_paths,
            "fitness_paths",
            crs_of.get("fitness_paths"),
            config,
            district_layer,
            display_name=display_names.get("fitness_paths"),
            column_map=column_map.get("fitness_paths"),
        )
        path_layer = results["fitness_paths"].accepted[list(schema.LAYERS["fitness_paths"]) + ["geometry"]]
    else:
        path_layer = empty_fitness_paths()
        warnings.append(Message("no_fitness_paths"))
    application_table = None
    if applications is not None:
        application_table = read_application_table(applications, column_map.get("applications"))

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


def districts_from_communities(communities: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, str]:
    """Districts drawn around the communities, from their district column, else one for all.

    Returns the communities (every one with a ``district_code`` and ``district_name``), the
    districts (EPSG:4326, ``outline_approximate`` True: each the hull of its communities
    buffered by :data:`OUTLINE_BUFFER_M`) and the source, ``"column"`` or ``"whole"``.
    Codes are made up (D01, D02 … by first appearance) for districts given only by name; a
    community naming no district joins the nearest drawn district.
    """
    communities = communities.copy()
    code = communities["district_code"].astype("string").str.strip().replace("", pd.NA)
    name = communities["district_name"].astype("string").str.strip().replace("", pd.NA)
    if code.isna().all() and name.isna().all():
        source = "whole"
        code = pd.Series(WHOLE_CITY_CODE, index=communities.index, dtype="string")
        name = pd.Series(Message("whole_city_district").in_language("zh"), index=communities.index, dtype="string")
    else:
        source = "column"
        made_up = {v: f"D{i + 1:02d}" for i, v in enumerate(pd.unique(name[code.isna()].dropna()))}
        code = code.fillna(name.map(made_up))
        first_name = name.groupby(code).first()
        name = name.fillna(code.map(first_name)).fillna(code)
    communities["district_code"], communities["district_name"] = code, name
    metric = metric_crs_for(communities[~communities.geometry.isna()])
    projected = communities.to_crs(metric)
    known = code.notna().to_numpy()
    outlines = []
    for district in pd.unique(code[known]):
        members = (code == district).fillna(False).to_numpy(dtype=bool)
        buffered = projected.geometry[members].buffer(OUTLINE_BUFFER_M).to_numpy()
        hull = shapely.convex_hull(shapely.union_all(buffered))
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
    return communities, districts.to_crs(STORAGE_CRS), source


# --------------------------------------------------------------------------- the rest


def with_ids(communities: gpd.GeoDataFrame, row_numbers: np.ndarray) -> gpd.GeoDataFrame:
    """Communities without an ID get ``R<row>`` from their row in the file (unique, stable)."""
    communities = communities.copy()
    ids = communities["community_id"].astype("string").str.strip().replace("", pd.NA)
    made = pd.Series([f"R{int(n):05d}" for n in row_numbers], index=communities.index, dtype="string")
    communities["community_id"] = ids.fillna(made)
    return communities


def empty_fitness_paths() -> gpd.GeoDataFrame:
    """The fitness-path layer of a city that has none yet."""
    columns = {name: pd.Series(dtype=schema.DTYPES[kind]) for name, kind in schema.LAYERS["fitness_paths"].items()}
    return gpd.GeoDataFrame(columns, geometry=gpd.GeoSeries([], crs=STORAGE_CRS), crs=STORAGE_CRS)


def read_application_table(path, column_map: dict | None) -> pd.DataFrame:
    """Applications (``community_id``, ``application_date``) from a CSV or GeoPackage table."""
    from geo.data.io import read_applications

    if column_map:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        missing = [c for c in column_map.values() if c not in frame.columns]
        if missing:
            raise data_error(
                "map_missing_column",
                label=Path(path).name,
                field=next(f for f, c in column_map.items() if c == missing[0]),
                column=repr(missing[0]),
                columns=", ".join(repr(c) for c in frame.columns),
            )
        frame = frame.rename(columns={c: f for f, c in column_map.items()})
        frame["application_date"] = pd.to_datetime(frame["application_date"], errors="coerce")
        return frame
    return read_applications(path)


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
