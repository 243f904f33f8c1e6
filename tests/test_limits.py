"""Limits that hold under hostile files: zips that lie, SQL that never ends, too many rows or vertices.

Every hostile file is built here from code. A refusal must be one clear line, come within seconds
and take little memory: the heavy cases run in a child process whose peak resident memory
(``os.wait4``) must stay under PEAK_MB, and which is killed, failing the test, if it outlives
TIMEOUT_S (a guard against a hang, not a timing assertion).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import os
import re
import sqlite3
import struct
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import Point, Polygon

from geo.config import load_config
from geo.data import archives
from geo.data import io as gio
from geo.intake.importer import import_file
from tests.helpers import PEAK_MB, cli_import, run_measured

REPO = Path(__file__).resolve().parent.parent
# A lying member really unpacks to this many MB of zeros (about 2 MB zipped) but declares 10 bytes.
LIAR_MB = 2000
LIAR_DECLARED = 10
ONE_MB_OF_ZEROS = b"\0" * (1 << 20)


# --------------------------------------------------------------------------- running a child

# run_measured and cli_import (a child with its peak memory measured) are in tests/helpers.py.


def assert_refused(result, *fragments: str) -> None:
    """The child ended with exit status 2, one line on stderr holding every fragment, in bounded memory."""
    status, _, stderr, peak_mb = result
    assert status == 2, stderr
    assert stderr.count("\n") <= 1 and stderr.startswith("error: "), stderr
    for fragment in fragments:
        assert fragment in stderr, stderr
    assert "Traceback" not in stderr
    assert peak_mb < PEAK_MB, f"peak {peak_mb:.0f} MB"


# --------------------------------------------------------------------------- hostile zips


def deflated_zeros(megabytes: int) -> bytes:
    """A raw Deflate stream of ``megabytes`` MB of zero bytes, built in milliseconds.

    One MB of zeros is compressed and followed by a full flush, which resets the compressor, so
    that block decodes alike wherever it stands; repeated, then closed by an empty final block.
    """
    block = zlib.compressobj(9, zlib.DEFLATED, -15)
    one_mb = block.compress(ONE_MB_OF_ZEROS) + block.flush(zlib.Z_FULL_FLUSH)
    return one_mb * megabytes + zlib.compressobj(9, zlib.DEFLATED, -15).flush()


@functools.cache
def crc_of_zeros(megabytes: int) -> int:
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(ONE_MB_OF_ZEROS, crc)
    return crc


def patch_member(path: Path, name: str, **fields) -> None:
    """Overwrite what ``name`` declares, in its local header and in the central directory.

    ``fields``: any of ``flags``, ``method``, ``crc``, ``compress_size``, ``file_size``.
    """
    local = {
        "flags": (6, "<H"),
        "method": (8, "<H"),
        "crc": (14, "<I"),
        "compress_size": (18, "<I"),
        "file_size": (22, "<I"),
    }
    central = {
        "flags": (8, "<H"),
        "method": (10, "<H"),
        "crc": (16, "<I"),
        "compress_size": (20, "<I"),
        "file_size": (24, "<I"),
    }
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        header = archive.getinfo(name).header_offset
    assert data[header : header + 4] == b"PK\x03\x04"
    position, encoded = data.index(b"PK\x01\x02"), name.encode()
    while (
        struct.unpack_from("<H", data, position + 28)[0] != len(encoded)
        or data[position + 46 : position + 46 + len(encoded)] != encoded
    ):
        position = data.index(b"PK\x01\x02", position + 4)
    for field, value in fields.items():
        offset, layout = local[field]
        struct.pack_into(layout, data, header + offset, value)
        offset, layout = central[field]
        struct.pack_into(layout, data, position + offset, value)
    path.write_bytes(bytes(data))


def lying_zip(path: Path, members: dict[str, bytes], liar: str, checksum_of: str = "content") -> Path:
    """A zip of ``members`` whose member ``liar`` unpacks to LIAR_MB MB of zeros but declares 10 bytes.

    zipfile writes the zip (the liar's Deflate stream stored as it is); then struct patches the
    liar's method, size and checksum in both headers. ``checksum_of``: ``"content"`` (the real
    bytes' CRC, as a tampered file has) or ``"declared"`` (the CRC of the 10 bytes it declares,
    which zipfile's check cannot tell from an honest member).
    """
    stream = deflated_zeros(LIAR_MB)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            if name == liar:
                archive.writestr(name, stream, compress_type=zipfile.ZIP_STORED)
            else:
                archive.writestr(name, content)
    crc = crc_of_zeros(LIAR_MB) if checksum_of == "content" else zlib.crc32(b"\0" * LIAR_DECLARED)
    patch_member(path, liar, method=zipfile.ZIP_DEFLATED, crc=crc, compress_size=len(stream), file_size=LIAR_DECLARED)
    return path


PATHS = gpd.GeoDataFrame(
    {"path_id": ["P1", "P2"], "name": ["江滨公园", "龙潭公园"]},
    geometry=[Point(109.41, 24.31), Point(109.42, 24.32)],
    crs="EPSG:4326",
)


def shapefile_parts(folder: Path) -> dict[str, bytes]:
    """The parts (``.shp``, ``.shx``, ``.dbf``, ``.prj``, ``.cpg``) of a two-point UTF-8 Shapefile."""
    parts = folder / "parts"
    parts.mkdir()
    PATHS.to_file(parts / "layer.shp", engine="pyogrio", encoding="UTF-8")
    return {part.name: part.read_bytes() for part in sorted(parts.iterdir())}


def workbook_members() -> dict[str, bytes]:
    """The members of a small survey workbook (two fitness paths)."""
    book = openpyxl.Workbook()
    book.active.append(["健身路径编号", "经度", "纬度"])
    book.active.append(["P1", 109.41, 24.31])
    book.active.append(["P2", 109.42, 24.32])
    target = io.BytesIO()
    book.save(target)
    with zipfile.ZipFile(target) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def lying_file(tmp_path: Path, which: str, checksum_of: str = "content") -> Path:
    """The reported hostile files: a zipped Shapefile whose .cpg (or, without .cpg, .dbf) lies, or
    a workbook whose xl/styles.xml lies."""
    if which == "xlsx styles.xml":
        return lying_zip(tmp_path / "survey.xlsx", workbook_members(), "xl/styles.xml", checksum_of)
    parts = shapefile_parts(tmp_path)
    if which == "shp .dbf without .cpg":
        del parts["layer.cpg"]
        return lying_zip(tmp_path / "paths.zip", parts, "layer.dbf", checksum_of)
    return lying_zip(tmp_path / "paths.zip", parts, "layer.cpg", checksum_of)


LIARS = ["shp .cpg", "shp .dbf without .cpg", "xlsx styles.xml"]


@pytest.mark.parametrize("which", LIARS)
def test_member_lying_about_its_size_is_refused_by_import_in_bounded_memory(tmp_path, which):
    # Regression: 2 MB files like these drove `geo import` to 2.27 GB (the app server to 2.42 GB).
    path = lying_file(tmp_path, which)
    assert path.stat().st_size < 3 << 20
    member = {"shp .cpg": "layer.cpg", "shp .dbf without .cpg": "layer.dbf"}.get(which, "xl/styles.xml")
    assert_refused(
        cli_import(path, "fitness_paths", tmp_path),
        f"member '{member}' is damaged or does not unpack to what the zip declares",
    )


def test_member_lying_about_its_size_is_refused_by_the_strict_reader(tmp_path):
    path = lying_file(tmp_path, "shp .cpg")
    code = (
        "import sys\nfrom geo.data.io import read_fitness_paths\n"
        f"try:\n    read_fitness_paths({str(path)!r})\nexcept ValueError as error:\n"
        "    print('error: ' + str(error), file=sys.stderr)\n    sys.exit(2)\n"
    )
    assert_refused(run_measured([sys.executable, "-c", code]), "'layer.cpg' is damaged or does not unpack")


def test_member_lying_with_a_matching_checksum_is_read_as_what_it_declares(tmp_path):
    # zipfile stops at the declared 10 bytes, whose checksum this .cpg carries: it is read as 10
    # zero bytes (no code page), harmlessly, and the two paths are imported from the other parts.
    path = lying_file(tmp_path, "shp .cpg", checksum_of="declared")
    status, stdout, stderr, peak_mb = cli_import(path, "fitness_paths", tmp_path)
    assert status == 0, stderr
    assert json.loads(stdout)["accepted"] == 2
    assert peak_mb < PEAK_MB
    accepted = gpd.read_file(tmp_path / "accepted.gpkg")
    assert accepted["path_id"].tolist() == ["P1", "P2"] and accepted["name"].tolist() == ["江滨公园", "龙潭公园"]


def test_member_declaring_more_compressed_bytes_than_the_file_holds(tmp_path):
    # 500 MB of zeros in a 0.5 MB stream, declaring its true size but 10 MB compressed: the
    # declared ratio (50×) passes the listing check; unpacking runs out of compressed bytes, and
    # the member is refused as damaged before it can write more than a few MB.
    parts = shapefile_parts(tmp_path)
    stream = deflated_zeros(500)
    path = tmp_path / "paths.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            if name == "layer.dbf":
                archive.writestr(name, stream, compress_type=zipfile.ZIP_STORED)
            else:
                archive.writestr(name, content)
    patch_member(
        path,
        "layer.dbf",
        method=zipfile.ZIP_DEFLATED,
        crc=crc_of_zeros(500),
        compress_size=10 << 20,
        file_size=500 << 20,
    )
    with pytest.raises(ValueError, match=r"member 'layer.dbf' is damaged or does not unpack to what the zip declares"):
        gio.read_raw_layer(path, "fitness_paths")
    assert not list(Path(tempfile.gettempdir()).glob("intake-*/layer.dbf"))  # nothing left behind


def test_real_bytes_count_against_max_unzipped_mb(tmp_path):
    # The listing check sees declared sizes; the streaming cap counts what really comes out.
    path = tmp_path / "paths.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in shapefile_parts(tmp_path).items():
            archive.writestr(name, content)
    with pytest.raises(
        ValueError,
        match=r"unpacks to more than the limit of 0.0001 MB \(config.toml \[intake\] "
        r"max_unzipped_mb\), whatever its listing declares",
    ):
        archives._extract_shapefile(path, tmp_path, 0.0001)
    shp, member, encoding = archives._extract_shapefile(path, tmp_path, 1)
    assert (member, encoding) == ("layer.shp", "utf-8")
    assert gpd.read_file(shp)["path_id"].tolist() == ["P1", "P2"]


@pytest.mark.parametrize(
    "compression, flags, message",
    [
        (zipfile.ZIP_BZIP2, 0, "is compressed with bzip2; zip the files again with the usual (Deflate) compression"),
        (zipfile.ZIP_LZMA, 0, "is compressed with lzma"),
        (zipfile.ZIP_DEFLATED, 1, "is encrypted; zip the files again without a password"),
    ],
)
def test_members_zipfile_cannot_read_in_bounded_chunks_are_refused(tmp_path, compression, flags, message):
    # zipfile unpacks bzip2 and LZMA without an output bound: 4 KB of bzip2 unpack to 2 GB at once.
    path = tmp_path / "paths.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in shapefile_parts(tmp_path).items():
            archive.writestr(name, content, compress_type=compression if name == "layer.dbf" else zipfile.ZIP_DEFLATED)
    if flags:
        patch_member(path, "layer.dbf", flags=flags)
    with pytest.raises(ValueError, match=re.escape(f"member 'layer.dbf' {message}")):
        gio.read_raw_layer(path, "fitness_paths")


def test_zip_with_a_huge_directory_is_refused_before_listing(tmp_path):
    # A million empty members (88 MB) took 1 GB and 14 s just to list with zipfile.
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(100_000):
            archive.writestr(f"{i}.txt", b"")
    with pytest.raises(ValueError, match=r"many.zip has a zip directory of [\d,]+ bytes .* refused without listing it"):
        gio.read_raw_layer(path, "fitness_paths")


def test_a_zip_without_a_shapefile_lists_some_of_its_files_not_all(tmp_path):
    path = tmp_path / "notes.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(5000):
            archive.writestr(f"note{i:04d}.txt", b"")
    with pytest.raises(ValueError) as error:
        gio.read_raw_layer(path, "fitness_paths")
    assert "is a zip without a .shp file (it holds: note0000.txt, note0001.txt," in str(error.value)
    assert "note0019.txt … 5,000 files in all)" in str(error.value) and "note0020.txt" not in str(error.value)


def test_workbook_parts_openpyxl_reads_whole_have_their_own_limit(tmp_path):
    # A styles.xml of 34 MB (a comment of random hex, so it compresses only 2×): honest sizes,
    # within max_unzipped_mb, but openpyxl would parse it whole.
    members = workbook_members()
    members["xl/styles.xml"] += b"<!--" + os.urandom(17 << 20).hex().encode() + b"-->"
    path = tmp_path / "survey.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    assert archives._WORKBOOK_PART_MAX_MB == 32
    with pytest.raises(ValueError, match=r"survey.xlsx: workbook part 'xl/styles.xml' unpacks to more than 32 MB"):
        gio.read_raw_layer(path, "fitness_paths", max_unzipped_mb=1000)


def test_workbook_is_read_from_a_streamed_copy(tmp_path):
    # openpyxl never sees the upload: a copy whose members have their true sizes.
    source = tmp_path / "survey.xlsx"
    members = workbook_members()
    with zipfile.ZipFile(source, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    copy = archives._streamed_workbook(source, tmp_path / "copy.xlsx", 1)
    with zipfile.ZipFile(copy) as archive:
        assert {info.filename: archive.read(info) for info in archive.infolist()} == members
        assert all(info.file_size == len(members[info.filename]) for info in archive.infolist())


# --------------------------------------------------------------------------- SQL in a GeoPackage

SQUARES = [Polygon([(x, 24.30), (x + 0.01, 24.30), (x + 0.01, 24.31), (x, 24.31)]) for x in (109.40, 109.42, 109.44)]
COMMUNITIES = gpd.GeoDataFrame(
    {
        "community_id": ["C1", "C2", "C3"],
        "name": ["柳东", "河西", "城中"],
        "district_code": ["450202"] * 3,
        "district_name": ["城中区"] * 3,
        "population": [1200, 800, 450],
    },
    geometry=SQUARES,
    crs="EPSG:4326",
)
ENDLESS_COMMUNITIES = """
CREATE VIEW communities AS
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
  SELECT n.i AS fid, c.community_id || n.i AS community_id, c.name, c.district_code, c.district_name,
         c.population, c.geom
  FROM n, communities_data AS c;
INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id)
  VALUES ('communities', 'features', 'communities', 4326);
INSERT INTO gpkg_geometry_columns (table_name, column_name, geometry_type_name, srs_id, z, m)
  VALUES ('communities', 'geom', 'POLYGON', 4326, 0, 0);
"""


def gpkg_with_sql(path: Path, script: str, layer: str = "communities_data", city: bool = False) -> Path:
    """A GeoPackage of COMMUNITIES (as ``layer``), then ``script`` run on it with sqlite3.

    With ``city`` it also holds districts and fitness paths, as the pipeline reads a city.
    """
    COMMUNITIES.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")
    if city:
        districts = gpd.GeoDataFrame(
            {"district_code": ["450202"], "district_name": ["城中区"]},
            geometry=[Polygon([(109.3, 24.2), (109.5, 24.2), (109.5, 24.4), (109.3, 24.4)])],
            crs="EPSG:4326",
        )
        districts.to_file(path, layer="districts", driver="GPKG", engine="pyogrio")
        PATHS.to_file(path, layer="fitness_paths", driver="GPKG", engine="pyogrio")
    connection = sqlite3.connect(path)
    connection.executescript(script)
    connection.commit()
    connection.close()
    return path


def test_endless_view_is_refused_by_import(tmp_path):
    # Regression: a 98 KB GeoPackage like this one never finished validating (100 % CPU).
    path = gpkg_with_sql(tmp_path / "survey.gpkg", ENDLESS_COMMUNITIES)
    assert path.stat().st_size < 200_000
    assert_refused(
        cli_import(path, "communities", tmp_path),
        "layer 'communities' is a view, a query that runs when it is read",
        "Save the layer as a table",
    )


@pytest.mark.parametrize("view", ["communities", "applications"])
def test_endless_view_is_refused_by_the_pipeline(tmp_path, view):
    if view == "communities":
        script = ENDLESS_COMMUNITIES
        layer = "communities_data"
    else:  # the communities are a table, the applications an endless view
        script = """
        CREATE VIEW applications AS
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
          SELECT i AS fid, 'C1' AS community_id, '2018-09-01' AS application_date FROM n;
        INSERT INTO gpkg_contents (table_name, data_type, identifier)
          VALUES ('applications', 'attributes', 'applications');
        """
        layer = "communities"
    path = gpkg_with_sql(tmp_path / "city.gpkg", script, layer=layer, city=True)
    assert_refused(
        run_measured([sys.executable, "-m", "geo", "coverage", "--data", str(path)]), f"layer '{view}' is a view"
    )


def test_view_in_place_of_a_geopackage_table_is_refused_before_gdal_opens_it(tmp_path):
    # GDAL reads gpkg_contents on opening: as an endless view, even listing the layers never ends.
    path = gpkg_with_sql(
        tmp_path / "survey.gpkg",
        """
        ALTER TABLE gpkg_contents RENAME TO contents_data;
        CREATE VIEW gpkg_contents AS
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n)
          SELECT c.* FROM n, contents_data AS c WHERE n.i > 0;
    """,
        layer="communities",
    )
    assert_refused(cli_import(path, "communities", tmp_path), "its GeoPackage table 'gpkg_contents' is a view")
    with pytest.raises(ValueError, match="'gpkg_contents' is a view"):
        gio.gpkg_layers(path)


def test_computed_column_is_refused(tmp_path):
    # Each row's zeroblob(400 MB) is made on reading: the old import reached 6 GB, then failed.
    path = gpkg_with_sql(
        tmp_path / "survey.gpkg",
        """
        ALTER TABLE communities ADD COLUMN note BLOB GENERATED ALWAYS AS (zeroblob(400000000)) VIRTUAL;
    """,
        layer="communities",
    )
    assert_refused(
        cli_import(path, "communities", tmp_path), "layer 'communities' has computed (generated) columns (note)"
    )
    with pytest.raises(ValueError, match="computed"):
        gio.read_communities(path)


def test_view_calling_load_extension_is_refused(tmp_path):
    path = gpkg_with_sql(
        tmp_path / "survey.gpkg",
        ENDLESS_COMMUNITIES.replace(
            "FROM n, communities_data AS c;", "FROM n, communities_data AS c WHERE load_extension('/nonexistent/evil');"
        ),
    )
    with pytest.raises(ValueError, match="layer 'communities' is a view"):
        gio.read_raw_layer(path, "communities")


def test_triggers_never_run_and_the_file_is_not_changed(tmp_path):
    marker = tmp_path / "marker"
    path = gpkg_with_sql(
        tmp_path / "survey.gpkg",
        f"""
        CREATE TABLE log (x INTEGER);
        CREATE TRIGGER on_insert AFTER INSERT ON communities BEGIN
          INSERT INTO log VALUES (load_extension('{marker}'));
        END;
        CREATE TRIGGER on_update AFTER UPDATE ON communities BEGIN INSERT INTO log VALUES (1); END;
        CREATE TRIGGER on_delete AFTER DELETE ON communities BEGIN INSERT INTO log VALUES (1); END;
    """,
        layer="communities",
    )
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    raw = gio.read_raw_layer(path, "communities")
    assert raw.frame["community_id"].tolist() == ["C1", "C2", "C3"]
    assert gio.read_communities(path)["population"].tolist() == [1200, 800, 450]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not marker.exists()
    with contextlib.closing(sqlite3.connect(path)) as connection:
        assert connection.execute("SELECT count(*) FROM log").fetchone() == (0,)


# --------------------------------------------------------------------------- rows, features, vertices, depth


def million_row_csv(path: Path, rows: int = 1_000_000) -> Path:
    """A survey CSV of ``rows`` valid communities near Liuzhou (about 55 MB for a million)."""
    rng = np.random.default_rng(0)
    number = np.arange(1, rows + 1).astype(str)
    pd.DataFrame(
        {
            "community_id": np.char.add("C", np.char.zfill(number, 7)),
            "name": np.char.add("小区", number),
            "district_code": "450202",
            "population": np.arange(rows) % 5000 + 100,
            "longitude": np.round(109.38 + rng.random(rows) * 0.06, 6),
            "latitude": np.round(24.29 + rng.random(rows) * 0.05, 6),
        }
    ).to_csv(path, index=False)
    return path


@pytest.mark.slow
def test_million_row_csv_is_refused_at_the_row_limit(tmp_path):
    # Regression: validated in 24 s (2 GB) before anything said no; now refused after 200,001 rows.
    path = million_row_csv(tmp_path / "survey.csv")
    assert load_config().max_rows == 200_000
    assert_refused(
        cli_import(path, "communities", tmp_path),
        "has more than 200,000 data rows, above the limit of 200,000 (config.toml [intake] max_rows)",
        "Split the file by district",
    )


def csv_with_blank_lines(path: Path) -> Path:
    path.write_text(
        "健身路径编号,经度,纬度\nP1,109.41,24.31\n\n,,\nP2,109.42,24.32\n\nP3,109.43,24.33\n", encoding="utf-8"
    )
    return path


def xlsx_with_blank_rows(path: Path) -> Path:
    book = openpyxl.Workbook()
    for row in (
        ["健身路径编号", "经度", "纬度"],
        ["P1", 109.41, 24.31],
        [],
        ["P2", 109.42, 24.32],
        [None],
        ["P3", 109.43, 24.33],
    ):
        book.active.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("write", [csv_with_blank_lines, xlsx_with_blank_rows], ids=["csv", "xlsx"])
def test_row_limit_counts_data_rows_not_blank_ones(tmp_path, write):
    path = write(tmp_path / ("paths.csv" if write is csv_with_blank_lines else "paths.xlsx"))
    raw = gio.read_raw_layer(path, "fitness_paths", max_rows=3)
    assert raw.frame["path_id"].tolist() == ["P1", "P2", "P3"]
    with pytest.raises(
        ValueError,
        match=r"paths\.\w+ has more than 2 data rows, above the limit of 2 "
        r"\(config.toml \[intake\] max_rows\); refused before validation",
    ):
        gio.read_raw_layer(path, "fitness_paths", max_rows=2)


def write_geodata(path: Path, driver: str) -> Path:
    three = pd.concat([PATHS, PATHS.iloc[:1].assign(path_id="P3")], ignore_index=True)
    if driver == "zip":
        folder = path.parent / "parts"
        folder.mkdir()
        three.to_file(folder / "layer.shp", engine="pyogrio")
        with zipfile.ZipFile(path, "w") as archive:
            for part in folder.iterdir():
                archive.write(part, part.name)
        return path
    three.to_file(path, driver=driver, engine="pyogrio", **({"layer": "fitness_paths"} if driver == "GPKG" else {}))
    return path


@pytest.mark.parametrize(
    "name, driver", [("p.gpkg", "GPKG"), ("p.geojson", "GeoJSON"), ("p.kml", "KML"), ("p.zip", "zip")]
)
def test_features_are_counted_before_they_are_read(tmp_path, name, driver):
    path = write_geodata(tmp_path / name, driver)
    assert gio.read_raw_layer(path, "fitness_paths", max_rows=3).frame["path_id"].tolist() == ["P1", "P2", "P3"]
    with pytest.raises(
        ValueError,
        match=r"has 3 features, above the limit of 2 \(config.toml \[intake\] max_rows\); "
        r"refused before reading them",
    ):
        gio.read_raw_layer(path, "fitness_paths", max_rows=2)


def test_a_stored_feature_count_that_lies_does_not_lift_the_limit(tmp_path):
    path = write_geodata(tmp_path / "p.gpkg", "GPKG")
    connection = sqlite3.connect(path)
    connection.execute("UPDATE gpkg_ogr_contents SET feature_count = 1")
    connection.commit()
    connection.close()
    with pytest.raises(
        ValueError, match=r"has more than 2 features, above the limit of 2 .* refused while reading them"
    ):
        gio.read_raw_layer(path, "fitness_paths", max_rows=2)


@pytest.mark.parametrize("file_format", ["csv", "geojson"])
def test_vertices_are_counted_before_validation(tmp_path, file_format):
    # Three squares of 5 coordinates each (the first repeated to close the ring): 15 vertices.
    if file_format == "csv":
        path = tmp_path / "c.csv"
        table = pd.DataFrame(COMMUNITIES.drop(columns="geometry"))
        table["wkt"] = COMMUNITIES.geometry.to_wkt()
        table.to_csv(path, index=False)
    else:
        path = tmp_path / "c.geojson"
        COMMUNITIES.to_file(path, driver="GeoJSON", engine="pyogrio")
    assert len(gio.read_raw_layer(path, "communities", max_vertices=15).frame) == 3
    with pytest.raises(
        ValueError,
        match=r"has 15 vertices, above the limit of 14 \(config.toml \[intake\] "
        r"max_vertices\); refused before validation. Simplify the polygons",
    ):
        gio.read_raw_layer(path, "communities", max_vertices=14)


def test_import_file_applies_the_configured_limits(tmp_path):
    config = load_config()
    path = csv_with_blank_lines(tmp_path / "paths.csv")
    assert import_file(path, "fitness_paths", config=config).input_rows == 3
    with pytest.raises(ValueError, match="max_rows"):
        import_file(path, "fitness_paths", config=dataclasses.replace(config, max_rows=2))
    with pytest.raises(ValueError, match="max_vertices"):
        import_file(path, "fitness_paths", config=dataclasses.replace(config, max_vertices=2))


def workbook_with_sheet(path: Path, dimension: str, rows_xml: str) -> Path:
    """The survey workbook of ``workbook_members`` with its sheet's <dimension> and rows replaced."""
    members = workbook_members()
    sheet = members["xl/worksheets/sheet1.xml"].decode()
    sheet = re.sub(r'<dimension ref="[^"]*" ?/>', f'<dimension ref="{dimension}"/>', sheet)
    sheet = re.sub(r"<sheetData>.*</sheetData>", f"<sheetData>{rows_xml}</sheetData>", sheet, flags=re.DOTALL)
    members["xl/worksheets/sheet1.xml"] = sheet.encode()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def sheet_row(number: int, *cells: tuple[str, object]) -> str:
    """A <row> of cells given as (column letters, value): text inline, numbers as numbers."""
    xml = []
    for column, value in cells:
        reference = f"{column}{number}"
        if value is None:
            xml.append(f'<c r="{reference}" s="0"/>')  # a formatted cell without a value
        elif isinstance(value, str):
            xml.append(f'<c r="{reference}" t="inlineStr"><is><t>{value}</t></is></c>')
        else:
            xml.append(f'<c r="{reference}" t="n"><v>{value}</v></c>')
    return f'<row r="{number}">{"".join(xml)}</row>'


HEADER_ROW = sheet_row(1, ("A", "健身路径编号"), ("B", "经度"), ("C", "纬度"))


@pytest.mark.parametrize("dimension", ["A1", "A1:C2", "A1:XFD1048576"])
def test_rows_a_workbook_does_not_declare_are_read_and_blank_ones_cost_nothing(tmp_path, dimension):
    # openpyxl trusts <dimension>: it dropped every row below the declared one, and padded every
    # blank row in a gap to the declared width (16,384 × a million rows: hours).
    path = workbook_with_sheet(
        tmp_path / "paths.xlsx",
        dimension,
        HEADER_ROW
        + sheet_row(2, ("A", "P1"), ("B", 109.41), ("C", 24.31))
        + sheet_row(1_048_576, ("A", "P2"), ("B", 109.42), ("C", 24.32)),
    )
    code = (
        "from geo.data.io import read_raw_layer\n"
        f"raw = read_raw_layer({str(path)!r}, 'fitness_paths')\n"
        "print(raw.frame['path_id'].tolist(), raw.row_numbers.tolist())\n"
    )
    status, stdout, stderr, peak_mb = run_measured([sys.executable, "-c", code])
    assert status == 0, stderr
    assert stdout.strip() == "['P1', 'P2'] [2, 1048576]"
    assert peak_mb < PEAK_MB


def test_columns_beyond_the_limit_are_refused_when_filled_and_cut_when_blank(tmp_path):
    assert gio.MAX_COLUMNS == 256
    blank_far = workbook_with_sheet(
        tmp_path / "blank.xlsx",
        "A1:XFD2",
        HEADER_ROW + sheet_row(2, ("A", "P1"), ("B", 109.41), ("C", 24.31), ("XFD", None)),
    )
    raw = gio.read_raw_layer(blank_far, "fitness_paths")
    assert raw.frame["path_id"].tolist() == ["P1"] and len(raw.original.columns) == 3
    filled_far = workbook_with_sheet(
        tmp_path / "filled.xlsx",
        "A1:IW2",
        HEADER_ROW + sheet_row(2, ("A", "P1"), ("B", 109.41), ("C", 24.31), ("IW", "x")),
    )
    with pytest.raises(ValueError, match=r"filled.xlsx has 257 columns, above the 256 an import reads"):
        gio.read_raw_layer(filled_far, "fitness_paths")


@pytest.mark.parametrize("file_format", ["csv", "geojson"])
def test_a_table_wider_than_the_limit_is_refused_before_its_rows_are_read(tmp_path, file_format):
    # A 200 MB CSV of 1,000 columns took 5.8 GB and 112 s to import, within every other limit.
    frame = PATHS.assign(**{f"extra_{i}": "x" for i in range(300)})
    if file_format == "csv":
        path = tmp_path / "wide.csv"
        table = pd.DataFrame(frame.drop(columns="geometry")).assign(经度=frame.geometry.x, 纬度=frame.geometry.y)
        table.to_csv(path, index=False)
    else:
        path = tmp_path / "wide.geojson"
        frame.to_file(path, driver="GeoJSON", engine="pyogrio")
    with pytest.raises(ValueError, match=r"wide\.\w+ has 30\d columns, above the 256 an import reads"):
        gio.read_raw_layer(path, "fitness_paths", max_rows=10)


@pytest.mark.parametrize("depth", [100_000, 1_000_000])
def test_deeply_nested_geojson_is_refused(tmp_path, depth):
    path = tmp_path / "deep.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": null, '
        '"properties": {"a": ' + "[" * depth + "]" * depth + "}}]}"
    )
    assert_refused(
        cli_import(path, "communities", tmp_path), "cannot be read as GeoJSON", "Too many nested objects and/or arrays"
    )
