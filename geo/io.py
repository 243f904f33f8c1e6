"""Read and validate the district, community and fitness-path layers into EPSG:4326 GeoDataFrames."""

from __future__ import annotations

import codecs
import io
import os
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from geo import schema
from geo.schema import STORAGE_CRS

SUPPORTED_FORMATS = (
    "GeoPackage (.gpkg)",
    "GeoJSON (.geojson, .json)",
    "zipped Shapefile (.zip holding one .shp with its .dbf, .shx and .prj)",
    "CSV (.csv, UTF-8 or GBK; longitude/latitude columns or a WKT column)",
)

KINDS = tuple(schema.LAYERS)

# ``schema`` declares no required district columns yet; then none are required.
_REQUIRED_COLUMNS = {
    "districts": tuple(getattr(schema, "REQUIRED_DISTRICT_COLUMNS", ())),
    "communities": tuple(schema.REQUIRED_COMMUNITY_COLUMNS),
    "fitness_paths": tuple(schema.REQUIRED_FITNESS_PATH_COLUMNS),
}

_GEOMETRY_TYPES = {
    "districts": ("Polygon", "MultiPolygon"),
    "communities": ("Polygon", "MultiPolygon"),
    "fitness_paths": ("Point",),
}

# Pandas dtype of each schema kind: all nullable, so a missing cell stays missing.
_DTYPES = {"str": "string", "int": "Int64", "float": "float64", "bool": "boolean"}

_BOOL_WORDS = {
    "true": True, "1": True, "yes": True, "y": True, "是": True,
    "false": False, "0": False, "no": False, "n": False, "否": False,
}

_KIND_DESCRIPTIONS = {
    "int": "a whole number (e.g. 1250)",
    "float": "a number (e.g. 0.18 or 350.5)",
    "bool": "true/false (accepted: true, false, 1, 0, yes, no, y, n, 是, 否)",
}

# CSV headers for point coordinates, in order of preference (compared casefolded): any
# longitude name pairs with any latitude name; x pairs only with y.
_LON_NAMES = ("longitude", "lon", "lng", "经度")
_LAT_NAMES = ("latitude", "lat", "纬度")
_XY_NAMES = ("x", "y")
_WKT_COLUMNS = ("geometry", "wkt")

_SQLITE_MAGIC = b"SQLite format 3\x00"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_SHP_MAGIC = b"\x00\x00\x27\x0a"
_UTF8_BOM = b"\xef\xbb\xbf"
_SNIFF_BYTES = 4096

_EXTENSION_FORMATS = {
    ".gpkg": "gpkg",
    ".geojson": "geojson",
    ".json": "geojson",
    ".zip": "zip",
    ".csv": "csv",
    ".txt": "csv",
}


# --------------------------------------------------------------------------- public API


def read_layer(path, kind: str, layer: str | None = None, source_crs: str | None = None) -> gpd.GeoDataFrame:
    """Read one layer of districts, communities or fitness paths, checked against its schema.

    Parameters
    ----------
    path : str or os.PathLike
        A GeoPackage, GeoJSON, zipped Shapefile or CSV file. The format is recognised from the
        file's first bytes (SQLite header, zip magic, ``{``, otherwise text is CSV); the
        extension only sharpens the error when the content matches no supported format.
    kind : {"communities", "fitness_paths", "districts"}
        Which layer the file holds; selects the column schema of ``geo.schema.LAYERS`` and the
        allowed geometry types (Polygon/MultiPolygon for communities and districts, Point for
        fitness paths).
    layer : str, optional
        GeoPackage layer to read. By default the layer named ``kind``, else the only layer.
        Ignored for the other formats.
    source_crs : str, optional
        Coordinate system of files that carry none (CSV; Shapefile without ``.prj``):
        ``"wgs84"`` (the default), ``"gcj02"``, ``"bd09"`` or ``"EPSG:n"``, in any spelling
        accepted by :func:`geo.crs.normalise_crs_name`. GCJ-02 and BD-09 mean WGS84-like
        longitude/latitude degrees shifted by that Chinese offset; they are converted with
        :func:`geo.crs.convert_geometries`. A file whose own CRS is geographic WGS84
        (EPSG:4326 or OGC:CRS84 — GeoJSON always is, and GCJ-02 has no code of its own) is
        shifted if ``source_crs`` is ``"gcj02"``/``"bd09"``. A file with any other CRS is
        reprojected from that CRS and ``source_crs`` is ignored: the file's CRS wins.

    Returns
    -------
    geopandas.GeoDataFrame
        CRS EPSG:4326 (longitude, latitude in degrees), a fresh RangeIndex, and columns in the
        order: schema columns (declared dtypes: ``str`` → ``"string"``, ``int`` → ``"Int64"``,
        ``float`` → ``float64``, ``bool`` → ``"boolean"``; optional columns absent from the file
        are added, all missing), then the file's extra columns as read, then ``geometry``.

    Raises
    ------
    ValueError
        If the format is not supported, the layer cannot be chosen, a required column is missing
        (the message lists the columns present), a value cannot be converted to its column's
        kind (the message names the column, the 1-based data row — header not counted — and the
        value), the file has no geometry, or a row's geometry is missing or of the wrong type.
    FileNotFoundError
        If ``path`` does not exist.

    Notes
    -----
    Column names are matched to the schema case-insensitively. Shapefile field names are at
    most 10 characters, so GDAL truncates longer ones on writing (``district_code`` →
    ``district_c``, ``district_name_en`` → ``district_1`` after a clash); such names are mapped
    back to the schema name, computed as GDAL does for fields written in schema order. Extra
    columns keep their (possibly truncated) names.

    Text encodings: a CSV is decoded as UTF-8 (with or without BOM), else as GBK/GB18030; every
    CSV cell is read as text first, so codes keep leading zeros. A zipped Shapefile is decoded
    with the encoding its ``.cpg`` names (``UTF-8``, ``GBK``, ``936`` …); without ``.cpg`` and
    without a code page in the ``.dbf`` header, its text is decoded as UTF-8 if valid, else GBK.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown layer kind {kind!r}; use one of {', '.join(KINDS)}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; check the path")
    if path.is_dir():
        raise ValueError(f"{path} is a folder; pass a file ({_supported()})")

    file_format = _sniff_format(path)
    if file_format == "gpkg":
        layer = _choose_gpkg_layer(path, kind, layer)
        label = f"{kind} layer {layer!r} of {path.name}"
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    elif file_format == "geojson":
        label = f"{kind} file {path.name}"
        frame = gpd.read_file(path, engine="pyogrio")
    elif file_format == "zip":
        member, encoding = _shapefile_in_zip(path)
        label = f"{kind} shapefile {member} in {path.name}"
        vsi_path = f"/vsizip/{path.resolve().as_posix()}/{member}"
        frame = gpd.read_file(vsi_path, engine="pyogrio", **({"encoding": encoding} if encoding else {}))
    else:
        label = f"{kind} file {path.name}"
        frame = _read_csv(path, label)

    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise ValueError(f"{label} has no geometry column; give the features a geometry")
    if len(frame) == 0:
        if kind != "fitness_paths":
            raise ValueError(f"{label} has no features; check the file and layer")
        # A city may have no fitness paths yet: an empty layer is valid.
        empty, _ = _convert_columns(gpd.GeoDataFrame(geometry=[], crs=STORAGE_CRS), kind)
        return _ordered(empty, kind)

    frame = frame.reset_index(drop=True)
    if frame.geometry.name != "geometry":
        frame = frame.rename_geometry("geometry")
    frame = _match_schema_names(frame, kind, shapefile=file_format == "zip")
    _check_required(frame, kind, label)
    frame, problems = _convert_columns(frame, kind)
    _raise_first_problem(problems, label)
    _check_geometry(frame, kind, label)
    frame = _to_storage_crs(frame, source_crs)
    return _ordered(frame, kind)


def read_communities(path, **kw) -> gpd.GeoDataFrame:
    """Read community polygons; ``read_layer(path, "communities", **kw)``.

    Returns a GeoDataFrame in EPSG:4326 with ``geo.schema.COMMUNITY_COLUMNS`` and Polygon or
    MultiPolygon geometry; see :func:`read_layer` for the arguments and errors.
    """
    return read_layer(path, "communities", **kw)


def read_fitness_paths(path, **kw) -> gpd.GeoDataFrame:
    """Read existing fitness-path points; ``read_layer(path, "fitness_paths", **kw)``.

    Returns a GeoDataFrame in EPSG:4326 with ``geo.schema.FITNESS_PATH_COLUMNS`` and Point
    geometry; see :func:`read_layer` for the arguments and errors.
    """
    return read_layer(path, "fitness_paths", **kw)


def read_districts(path, **kw) -> gpd.GeoDataFrame:
    """Read district boundaries; ``read_layer(path, "districts", **kw)``.

    Returns a GeoDataFrame in EPSG:4326 with ``geo.schema.DISTRICT_COLUMNS`` and Polygon or
    MultiPolygon geometry; see :func:`read_layer` for the arguments and errors.
    """
    return read_layer(path, "districts", **kw)


def write_layers(path, layers: dict[str, gpd.GeoDataFrame]) -> None:
    """Write several layers to one GeoPackage, replacing the file if it exists.

    Parameters
    ----------
    path : str or os.PathLike
        GeoPackage file to create (conventionally ``.gpkg``). Its folder must exist.
    layers : dict of str to geopandas.GeoDataFrame or pandas.DataFrame
        Layer name → frame, written in dict order, each in its own CRS (normally EPSG:4326)
        with its dtypes; nullable missing values are stored as NULL. A plain DataFrame becomes
        an attribute table without geometry.

    Raises
    ------
    ValueError
        If ``layers`` is empty or a value is not a DataFrame.

    Notes
    -----
    The layers are written to a temporary file in the same folder that then replaces ``path``,
    so a failed write leaves an existing file untouched.
    """
    if not layers:
        raise ValueError("no layers to write; pass a dict of layer name to GeoDataFrame")
    for name, frame in layers.items():
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"layer {name!r} is a {type(frame).__name__}, not a (Geo)DataFrame")
    path = Path(path)
    folder = Path(tempfile.mkdtemp(prefix=f".{path.stem}-", dir=path.parent))
    try:
        staged = folder / path.name
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(staged, layer=name, driver="GPKG", engine="pyogrio")
            else:  # a plain attribute table, e.g. applications
                pyogrio.write_dataframe(frame, staged, layer=name, driver="GPKG")
        os.replace(staged, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --------------------------------------------------------------------------- formats


def _supported() -> str:
    return "supported formats: " + "; ".join(SUPPORTED_FORMATS)


def _sniff_format(path: Path) -> str:
    """Return "gpkg", "zip", "geojson" or "csv" from the file's first bytes (extension breaks ties)."""
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF_BYTES)
    if not head:
        raise ValueError(f"{path} is empty; {_supported()}")
    if head.startswith(_SQLITE_MAGIC):
        return "gpkg"
    if head.startswith(_ZIP_MAGICS):
        return "zip"
    text_head = head.removeprefix(_UTF8_BOM).lstrip()
    if text_head.startswith(b"{"):
        return "geojson"

    suffix = path.suffix.lower()
    if head.startswith(_SHP_MAGIC) or suffix == ".shp":
        raise ValueError(
            f"{path} is a bare Shapefile; zip it together with its .dbf, .shx, .prj (and .cpg) "
            f"files and read the .zip ({_supported()})"
        )
    expected = _EXTENSION_FORMATS.get(suffix)
    if expected not in (None, "csv"):
        raise ValueError(f"{path} has extension {suffix} but its content is not {expected}; {_supported()}")
    if b"\x00" in head or text_head.startswith(b"<"):
        raise ValueError(
            f"{path} is not in a supported format (binary, UTF-16 or XML content); {_supported()}"
        )
    return "csv"


def _choose_gpkg_layer(path: Path, kind: str, layer: str | None) -> str:
    """Pick the GeoPackage layer: ``layer`` if given, else the one named ``kind``, else the only one."""
    import pyogrio

    names = [str(name) for name in pyogrio.list_layers(path)[:, 0]]
    listed = ", ".join(names) or "(none)"
    if layer is not None:
        if layer not in names:
            raise ValueError(f"{path.name} has no layer {layer!r}; its layers are: {listed}")
        return layer
    if kind in names:
        return kind
    if len(names) == 1:
        return names[0]
    raise ValueError(
        f"{path.name} has {len(names)} layers and none is named {kind!r}; "
        f"pass layer= one of: {listed}"
    )


def _shapefile_in_zip(path: Path) -> tuple[str, str | None]:
    """Return the one ``.shp`` member of a zip and the encoding its ``.cpg`` (or ``.dbf``) implies.

    The zip is only listed and read in memory; nothing is extracted, so member names cannot
    escape any folder.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = [
                name for name in archive.namelist()
                if not name.endswith("/") and PurePosixPath(name).parts[0] != "__MACOSX"
            ]
            shapefiles = [name for name in members if name.lower().endswith(".shp")]
            if not shapefiles:
                raise ValueError(
                    f"{path.name} is a zip without a .shp file (it holds: {', '.join(members) or 'nothing'}); "
                    f"{_supported()}"
                )
            if len(shapefiles) > 1:
                raise ValueError(
                    f"{path.name} holds {len(shapefiles)} shapefiles ({', '.join(shapefiles)}); "
                    "zip one layer per file"
                )
            member = shapefiles[0]
            stem = member[:-4]
            siblings = {name[len(stem):].lower(): name for name in members if name[:-4] == stem}
            missing = [ext for ext in (".dbf", ".shx") if ext not in siblings]
            if missing:
                raise ValueError(
                    f"{member} in {path.name} lacks its {' and '.join(missing)} file; "
                    "zip all the parts of the shapefile together"
                )
            if ".cpg" in siblings:
                encoding = _cpg_encoding(archive.read(siblings[".cpg"]))
            else:
                encoding = _dbf_text_encoding(archive.read(siblings[".dbf"]))
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path.name} is not a readable zip ({error}); {_supported()}") from None
    return member, encoding


def _cpg_encoding(cpg: bytes) -> str | None:
    """Python codec named by a ``.cpg`` file (``UTF-8``, ``GBK``, ``936``, ``ANSI 936`` …), or None."""
    text = cpg.decode("ascii", errors="ignore").strip()
    if text.upper().startswith("ANSI "):
        text = text[5:].strip()
    if text.isdigit():
        text = "utf-8" if text == "65001" else f"cp{text}"
    try:
        name = codecs.lookup(text).name
    except LookupError:
        return None  # unknown to Python: leave it to GDAL, which also reads the .cpg
    # GB18030 is a superset of GB2312 and GBK, so decoding with it loses nothing.
    return "gb18030" if name in ("gb2312", "gbk") else name


def _dbf_text_encoding(dbf: bytes) -> str | None:
    """Encoding of a ``.dbf`` without ``.cpg``: None when its header names a code page (GDAL reads it).

    Otherwise GDAL would assume ISO-8859-1, which garbles the GBK text of Chinese files; the
    records are decoded as UTF-8, else GB18030, and the first that succeeds is used.
    """
    if len(dbf) < 32 or dbf[29] != 0:
        return None
    header_length = int.from_bytes(dbf[8:10], "little")
    records = dbf[header_length:]
    if records.isascii():
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            records.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return None


def _read_csv(path: Path, label: str) -> gpd.GeoDataFrame:
    """Read a CSV as text columns with a geometry from lon/lat or WKT columns, CRS unset."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ValueError(f"{label} is neither UTF-8 nor GBK text; save it as UTF-8 CSV")
    # Every cell as text so codes keep their leading zeros; only an empty cell is missing.
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    table.columns = [str(column).strip() for column in table.columns]
    folded = {}
    for column in table.columns:
        folded.setdefault(column.casefold(), column)

    wkt_column = next((folded[name] for name in _WKT_COLUMNS if name in folded), None)
    if wkt_column is not None:
        geometry = _geometry_from_wkt(table[wkt_column], wkt_column, label)
        return gpd.GeoDataFrame(table.drop(columns=[wkt_column]), geometry=geometry)

    lon_column = next((folded[name] for name in _LON_NAMES if name in folded), None)
    lat_column = next((folded[name] for name in _LAT_NAMES if name in folded), None)
    if lon_column is None or lat_column is None:
        lon_column, lat_column = (folded.get(name) for name in _XY_NAMES)
    if lon_column is not None and lat_column is not None:
        geometry = _points_from_lonlat(table[lon_column], table[lat_column], lon_column, lat_column, label)
        return gpd.GeoDataFrame(table.drop(columns=[lon_column, lat_column]), geometry=geometry)

    raise ValueError(
        f"{label} has no geometry: add longitude and latitude columns (or lon/lat, lng/lat, x/y, "
        f"经度/纬度) or a WKT column named geometry or wkt; columns present: {', '.join(table.columns)}"
    )


def _geometry_from_wkt(values: pd.Series, column: str, label: str) -> np.ndarray:
    """Parse WKT text to shapely geometries; a missing cell gives None."""
    text = values.astype(object).where(values.notna(), None).to_numpy()
    geometry = shapely.from_wkt(text, on_invalid="ignore")
    bad = pd.isna(geometry) & pd.notna(text)
    _raise_first_problem({column: (bad, values, "WKT geometry (e.g. POLYGON ((109.4 24.3, ...)))")}, label)
    return geometry


def _points_from_lonlat(lon_values, lat_values, lon_column, lat_column, label) -> np.ndarray:
    """Build points from text longitude/latitude; a row missing either gives None."""
    lon, lon_bad = _to_float(lon_values)
    lat, lat_bad = _to_float(lat_values)
    _raise_first_problem(
        {lon_column: (lon_bad, lon_values, "float"), lat_column: (lat_bad, lat_values, "float")}, label
    )
    geometry = shapely.points(np.column_stack([lon.to_numpy(), lat.to_numpy()]))
    geometry[lon.isna().to_numpy() | lat.isna().to_numpy()] = None
    return geometry


# --------------------------------------------------------------------------- schema


def _shapefile_field_names(names) -> dict[str, str]:
    """Map each name to the field name GDAL's Shapefile driver gives it when written in this order.

    Names are cut to 10 characters; a clash becomes the first 8 characters + ``_1`` … ``_9``,
    then the first 7 + ``_10`` … ``_99`` (clashes compared case-insensitively, as GDAL does).
    """
    used, laundered = set(), {}
    for name in names:
        candidate = name[:10]
        suffixes = [f"{name[:8]}_{i}" for i in range(1, 10)] + [f"{name[:7]}_{i}" for i in range(10, 100)]
        for alternative in suffixes:
            if candidate.upper() not in used:
                break
            candidate = alternative
        used.add(candidate.upper())
        laundered[name] = candidate
    return laundered


def _match_schema_names(frame: gpd.GeoDataFrame, kind: str, shapefile: bool) -> gpd.GeoDataFrame:
    """Rename columns that match a schema name case-insensitively (or as truncated by Shapefile)."""
    columns = schema.LAYERS[kind]
    present = set(frame.columns)
    by_folded: dict[str, list[str]] = {}
    for column in frame.columns:
        by_folded.setdefault(str(column).casefold(), []).append(column)
    truncated = _shapefile_field_names(columns) if shapefile else {}

    renames = {}
    for name in columns:
        if name in present:
            continue
        candidates = by_folded.get(name.casefold(), [])
        if not candidates and name in truncated:
            candidates = by_folded.get(truncated[name].casefold(), [])
        if len(candidates) == 1 and candidates[0] not in columns and candidates[0] not in renames:
            renames[candidates[0]] = name
    return frame.rename(columns=renames)


def _check_required(frame: gpd.GeoDataFrame, kind: str, label: str) -> None:
    """Raise ValueError naming the first required column of ``kind`` that ``frame`` lacks."""
    missing = [name for name in _REQUIRED_COLUMNS[kind] if name not in frame.columns]
    if missing:
        present = ", ".join(str(column) for column in frame.columns if column != frame.geometry.name)
        raise ValueError(
            f"{label} is missing required column {missing[0]!r}"
            + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
            + f"; columns present: {present or '(none)'}. Add or rename the column"
        )


def _convert_columns(frame: gpd.GeoDataFrame, kind: str):
    """Give every schema column its declared dtype; add absent optional columns as missing.

    Returns
    -------
    frame : geopandas.GeoDataFrame
        A copy with converted columns; unconvertible cells are missing.
    problems : dict
        Column → (bad-row boolean mask, original values, schema kind), one entry per schema
        column. Raising on the first problem is the caller's choice; a per-row rejects report
        can use the same masks.
    """
    frame = frame.copy()
    problems = {}
    for name, column_kind in schema.LAYERS[kind].items():
        if name not in frame.columns:
            frame[name] = pd.Series(index=frame.index, dtype=_DTYPES[column_kind])
            continue
        values = frame[name]
        converted, bad = _CONVERTERS[column_kind](values)
        frame[name] = converted
        problems[name] = (bad, values, column_kind)
    return frame, problems


def _raise_first_problem(problems: dict, label: str) -> None:
    """Raise ValueError for the earliest row with a bad value (first column in schema order)."""
    first_row, first_column = None, None
    for column, (bad, _, _) in problems.items():
        rows = np.flatnonzero(np.asarray(bad, dtype=bool))
        if rows.size and (first_row is None or rows[0] < first_row):
            first_row, first_column = int(rows[0]), column
    if first_row is None:
        return
    _, values, column_kind = problems[first_column]
    value = values.iloc[first_row]
    expected = _KIND_DESCRIPTIONS.get(column_kind, column_kind)
    raise ValueError(
        f"{label}: column {first_column!r}, data row {first_row + 1} (1-based, header not counted): "
        f"cannot read {value!r} as {expected}; correct the value or leave the cell empty"
    )


def _as_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Stripped text of ``values`` and a mask of missing (NA or empty) cells."""
    text = values.astype("string").str.strip()
    missing = text.isna() | (text == "")
    return text.mask(missing), missing.to_numpy(dtype=bool)


def _to_string(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to pandas ``"string"``; whole floats (from numeric storage) lose their ``.0``."""
    bad = np.zeros(len(values), dtype=bool)
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.notna() & np.isfinite(values) & (values % 1 == 0)
        text = values.astype("string")
        text[whole] = values[whole].astype("Int64").astype("string")
        return text, bad
    return values.astype("string"), bad


def _to_float(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to float64 (NaN for missing); text that is not a finite number is bad."""
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        numbers = values.astype("float64")
        return numbers, np.zeros(len(values), dtype=bool)
    text, missing = _as_text(values)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    bad = ~missing & ~np.isfinite(numbers.to_numpy())
    return numbers.where(~bad), bad


def _to_int(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to nullable Int64; a number with a fraction or non-numeric text is bad."""
    if pd.api.types.is_integer_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("Int64"), np.zeros(len(values), dtype=bool)
    numbers, bad = _to_float(values)
    fractional = (numbers % 1 != 0).to_numpy() & numbers.notna().to_numpy()
    bad = bad | fractional
    return numbers.where(~bad).astype("Int64"), bad


def _to_bool(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Convert to nullable boolean from bools, 0/1 numbers or the words of ``_BOOL_WORDS``."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean"), np.zeros(len(values), dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        numbers = values.astype("float64")
        bad = (numbers.notna() & ~numbers.isin([0.0, 1.0])).to_numpy()
        return (numbers == 1.0).astype("boolean").mask(numbers.isna() | bad), bad
    text, missing = _as_text(values)
    flags = text.str.lower().map(_BOOL_WORDS)
    bad = ~missing & flags.isna().to_numpy()
    return flags.astype(object).where(~bad & ~missing, None).astype("boolean"), bad


_CONVERTERS = {"str": _to_string, "int": _to_int, "float": _to_float, "bool": _to_bool}


# --------------------------------------------------------------------------- geometry and CRS


def _geometry_problems(geometry: gpd.GeoSeries, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Per-row masks: geometry missing or empty, and geometry of a type ``kind`` does not allow."""
    absent = (geometry.isna() | geometry.is_empty).to_numpy()
    wrong_type = ~absent & ~geometry.geom_type.isin(_GEOMETRY_TYPES[kind]).to_numpy()
    return absent, wrong_type


def _check_geometry(frame: gpd.GeoDataFrame, kind: str, label: str) -> None:
    """Raise ValueError if no row has geometry, or for the first row with missing/wrong geometry."""
    absent, wrong_type = _geometry_problems(frame.geometry, kind)
    allowed = " or ".join(_GEOMETRY_TYPES[kind])
    if absent.all():
        raise ValueError(f"{label} has no geometries (all missing or empty); {kind} need {allowed} geometries")
    bad_rows = np.flatnonzero(absent | wrong_type)
    if bad_rows.size:
        row = int(bad_rows[0])
        found = "no geometry" if absent[row] else f"a {frame.geometry.iloc[row].geom_type}"
        raise ValueError(
            f"{label}: data row {row + 1} (1-based) has {found}, but {kind} must be {allowed}; "
            "fix or remove that feature"
        )


def _is_wgs84_lonlat(crs) -> bool:
    """True for geographic WGS84 in either axis order (EPSG:4326, OGC:CRS84)."""
    return pyproj.CRS.from_user_input(crs).equals(pyproj.CRS.from_user_input(STORAGE_CRS), ignore_axis_order=True)


def _to_storage_crs(frame: gpd.GeoDataFrame, source_crs: str | None) -> gpd.GeoDataFrame:
    """Bring ``frame`` to EPSG:4326 from its own CRS, else from ``source_crs`` (see read_layer)."""
    declared = None
    if source_crs is not None:
        from geo.crs import normalise_crs_name

        declared = normalise_crs_name(source_crs)

    if frame.crs is not None and not _is_wgs84_lonlat(frame.crs):
        return frame.to_crs(STORAGE_CRS)  # the file's own CRS wins over a declared one
    if frame.crs is None and declared is not None and declared.startswith("EPSG:"):
        return frame.set_crs(declared).to_crs(STORAGE_CRS)
    if declared in ("gcj02", "bd09"):
        from geo.crs import convert_geometries

        shifted = convert_geometries(frame.geometry.to_numpy(), declared, "wgs84")
        frame = frame.set_geometry(gpd.GeoSeries(shifted, index=frame.index, name="geometry"), crs=None)
    return frame.set_crs(STORAGE_CRS, allow_override=True)


def _ordered(frame: gpd.GeoDataFrame, kind: str) -> gpd.GeoDataFrame:
    """Schema columns, then extras, then ``geometry``, on a fresh RangeIndex."""
    columns = list(schema.LAYERS[kind])
    extras = [column for column in frame.columns if column not in columns and column != "geometry"]
    return frame[columns + extras + ["geometry"]].reset_index(drop=True)


def read_applications(path, layer: str = "applications") -> pd.DataFrame:
    """Applications received through district offices: ``community_id`` and ``application_date``.

    Parameters
    ----------
    path : str or os.PathLike
        A GeoPackage (attribute table ``layer``) or a CSV (UTF-8 with or without BOM, or GBK).

    Returns
    -------
    DataFrame
        ``community_id`` (string) and ``application_date`` (datetime64, day precision); extra
        columns kept. A date that cannot be read raises ValueError naming the 1-based row.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; check the path")
    if _sniff_format(path) == "gpkg":
        frame = pyogrio.read_dataframe(path, layer=layer, read_geometry=False)
    else:
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise ValueError(f"{path.name}: text is neither UTF-8 nor GBK")
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    frame = frame.rename(columns={c: c.strip().lower() for c in frame.columns})
    frame = frame.rename(columns={"小区编号": "community_id", "申请日期": "application_date"})
    for column in ("community_id", "application_date"):
        if column not in frame.columns:
            raise ValueError(f"applications in {path.name}: required column '{column}' is missing")
    frame["community_id"] = frame["community_id"].astype("string").str.strip()
    dates = pd.to_datetime(frame["application_date"], errors="coerce")
    bad = np.flatnonzero(dates.isna().to_numpy())
    if bad.size:
        value = frame["application_date"].iloc[bad[0]]
        raise ValueError(
            f"applications in {path.name}: row {bad[0] + 1}, column 'application_date': cannot read {value!r} as a date"
        )
    frame["application_date"] = dates.astype("datetime64[ns]")
    return frame


def gpkg_layers(path) -> list[str]:
    """Names of the layers of a GeoPackage; ValueError (not a GDAL error) for anything else."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"data file not found: {path}")
    if path.is_dir() or _sniff_format(path) != "gpkg":
        raise ValueError(f"{path.name} is not a GeoPackage; the city data must be a .gpkg with the layers "
                         "districts, communities and fitness_paths")
    try:
        return [name for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as err:
        raise ValueError(f"{path.name} cannot be opened as a GeoPackage: {err}") from None
