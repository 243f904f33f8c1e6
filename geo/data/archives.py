"""Archive safety: caps on zip archives (size, ratio, methods) and streaming their members to disk."""

from __future__ import annotations

import codecs
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from geo.data.formats import _COPY_CHUNK, _MB, _one_line, _shown, _supported, _text_encoding
from geo.errors import Message, data_error

# A zip member that unpacks to more than this many times its compressed size is refused (a
# "zip bomb"); below _ZIP_RATIO_MIN_BYTES unpacked the ratio is not checked, since tiny files of
# repeated bytes compress very well and are harmless.
MAX_ZIP_RATIO = 100
_ZIP_RATIO_MIN_BYTES = 1 << 20

# Sizes a zip declares are never trusted: members are unpacked in chunks of _COPY_CHUNK, counting
# the bytes that really come out. Only Deflate and stored members are read: zipfile bounds what one
# read of those unpacks to, but not for bzip2 or LZMA (a few KB of either can unpack to gigabytes).
_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
# Workbook parts openpyxl parses whole even in read-only mode (it streams the worksheets and the
# shared strings): each may unpack to at most this many bytes, so parsing them stays small.
_WORKBOOK_WHOLE_PARTS = re.compile(
    r"\[Content_Types\]\.xml|.*\.rels|docProps/(core|custom)\.xml|xl/theme/theme1\.xml|xl/styles\.xml"
    r"|xl/workbook\.xml|xl/(chartsheets|drawings|charts)/[^/]+\.xml"
)
_WORKBOOK_PART_MAX_MB = 32
_SHAPEFILE_PARTS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_LISTED_MEMBERS = 20  # member names a message lists at most


def _shapefile_parts(archive: zipfile.ZipFile, path: Path) -> tuple[str, dict[str, zipfile.ZipInfo]]:
    """The one ``.shp`` member of a zip and its parts by suffix (``.shp``, ``.dbf``, ``.shx``, …).

    Only the listing is read.
    """
    members = [
        info for info in archive.infolist() if not info.is_dir() and PurePosixPath(info.filename).parts[0] != "__MACOSX"
    ]
    names = [info.filename for info in members]
    shapefiles = [name for name in names if name.lower().endswith(".shp")]
    if not shapefiles:
        listed = ", ".join(names[:_LISTED_MEMBERS]) or Message("nothing")
        if len(names) > _LISTED_MEMBERS:
            listed = Message("zip_listed_more", listed=listed, count=len(names))
        raise data_error("zip_no_shapefile", file=_shown(path), listed=listed, supported=_supported())
    if len(shapefiles) > 1:
        raise data_error(
            "zip_several_shapefiles", file=_shown(path), count=len(shapefiles), names=", ".join(shapefiles)
        )
    member = shapefiles[0]
    stem = member[:-4]
    parts = {info.filename[len(stem) :].lower(): info for info in members if info.filename[:-4] == stem}
    missing = [ext for ext in (".dbf", ".shx") if ext not in parts]
    if missing:
        both = Message("both", first=missing[0], second=missing[-1]) if len(missing) > 1 else missing[0]
        raise data_error("zip_parts_missing", member=member, file=_shown(path), missing=both)
    return member, {suffix: info for suffix, info in parts.items() if suffix in _SHAPEFILE_PARTS}


def _cpg_encoding(cpg: bytes) -> str | None:
    """Python codec named by a ``.cpg`` file (``UTF-8``, ``GBK``, ``936``, ``ANSI 936`` …), or None."""
    text = cpg.decode("ascii", errors="ignore").strip()
    if text.upper().startswith("ANSI "):
        text = text[5:].strip()
    if text.isdigit():
        text = "utf-8" if text == "65001" else f"cp{text}"
    try:
        name = codecs.lookup(text).name
    except (LookupError, ValueError):  # ValueError: a NUL byte in the name
        return None  # unknown to Python: leave it to GDAL, which also reads the .cpg
    # GB18030 is a superset of GB2312 and GBK, so decoding with it loses nothing.
    return "gb18030" if name in ("gb2312", "gbk") else name


def _dbf_text_encoding(dbf: Path) -> str | None:
    """Encoding of a ``.dbf`` without ``.cpg``: None when its header names a code page (GDAL reads it).

    Otherwise GDAL would assume ISO-8859-1, which garbles the GBK text of Chinese files; the
    records are decoded as UTF-8, else GB18030, and the first that succeeds is used. The file is
    read in chunks, so a large ``.dbf`` is never held whole.
    """
    with open(dbf, "rb") as handle:
        header = handle.read(32)
        if len(header) < 32 or header[29] != 0:
            return None
        handle.seek(int.from_bytes(header[8:10], "little"))
        return _text_encoding(handle, ("utf-8", "gb18030"), none_if_ascii=True)


def _check_zip_archive(path: Path, max_unzipped_mb: float | None) -> None:
    """Refuse a zip whose members would leave their folder or declare absurd sizes.

    Only the central directory is read: member names (absolute, drive letters, ``..``), each
    member's declared size against its compressed size, and the declared sizes' sum. This only
    refuses early what declares itself a bomb: declared sizes may lie, so every member is also
    unpacked through :func:`_stream_member`, which counts what really comes out.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise data_error(
            "zip_unreadable", file=_shown(path), detail=_one_line(error), supported=_supported(extended=True)
        ) from None
    total = 0
    for member in members:
        name = member.filename
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
            raise data_error("zip_unsafe_path", file=_shown(path), member=repr(name))
        packed = max(member.compress_size, 1)
        if member.file_size > _ZIP_RATIO_MIN_BYTES and member.file_size > MAX_ZIP_RATIO * packed:
            raise data_error(
                "zip_bomb_declared",
                file=_shown(path),
                member=repr(name),
                ratio=member.file_size / packed,
                limit=MAX_ZIP_RATIO,
            )
        total += member.file_size
    if max_unzipped_mb is not None and total > max_unzipped_mb * _MB:
        raise data_error("zip_too_large_declared", file=_shown(path), size=total, limit=max_unzipped_mb)


@dataclass
class _Unzipped:
    """Bytes unpacked so far from one zip, counted as they come out (declared sizes are not trusted)."""

    path: Path
    max_unzipped_mb: float | None
    total: int = 0


def _stream_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, sink, unzipped: _Unzipped, part_max_mb: float | None = None
) -> None:
    """Unpack ``member`` into the binary file ``sink`` in chunks, within every limit.

    Each read unpacks at most ``_COPY_CHUNK`` bytes, whatever the member declares, and the bytes
    are counted as they come: the copy stops with ValueError as soon as the member unpacks to
    more than ``MAX_ZIP_RATIO`` times its compressed size (above ``_ZIP_RATIO_MIN_BYTES``), more
    than ``part_max_mb``, or the whole zip to more than ``unzipped.max_unzipped_mb``. A member
    that ends at another size than it declares, or fails its checksum, is refused too: zipfile
    stops reading at the declared size, so a member that unpacks to more shows as a wrong
    checksum.
    """
    name, archive_name = member.filename, _shown(unzipped.path)
    if member.flag_bits & 0x1:
        raise data_error("zip_member_encrypted", file=archive_name, member=repr(name))
    if member.compress_type not in _ZIP_METHODS:
        method = zipfile.compressor_names.get(member.compress_type, f"method {member.compress_type}")
        raise data_error("zip_member_method", file=archive_name, member=repr(name), method=method)
    # Its compressed bytes cannot be more than the file holds, whatever the member declares.
    packed = max(1, min(member.compress_size, unzipped.path.stat().st_size))
    written = 0
    try:
        with archive.open(member) as source:
            while chunk := source.read(_COPY_CHUNK):
                written += len(chunk)
                unzipped.total += len(chunk)
                if written > _ZIP_RATIO_MIN_BYTES and written > MAX_ZIP_RATIO * packed:
                    raise data_error("zip_bomb_unpacking", file=archive_name, member=repr(name), limit=MAX_ZIP_RATIO)
                if part_max_mb is not None and written > part_max_mb * _MB:
                    raise data_error(
                        "zip_workbook_part_too_large", file=archive_name, member=repr(name), limit=part_max_mb
                    )
                if unzipped.max_unzipped_mb is not None and unzipped.total > unzipped.max_unzipped_mb * _MB:
                    raise data_error("zip_too_large_unpacking", file=archive_name, limit=unzipped.max_unzipped_mb)
                sink.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise data_error("zip_member_damaged", file=archive_name, member=repr(name), detail=_one_line(error)) from None
    if written != member.file_size:
        raise data_error(
            "zip_member_size", file=archive_name, member=repr(name), written=written, declared=member.file_size
        )


def _extract_shapefile(path: Path, folder: Path, max_unzipped_mb: float | None) -> tuple[Path, str, str | None]:
    """Unpack the zip's one Shapefile into ``folder`` as ``layer.*``: its path, member name and encoding.

    The parts are written under fixed names, so nothing a member's path says can place a file
    elsewhere; each is streamed through :func:`_stream_member`. The encoding is the one the
    ``.cpg`` names; without a ``.cpg``, or with one naming nothing Python knows (garbage, NUL
    bytes), the one the ``.dbf`` records decode with (see :func:`_dbf_text_encoding`).
    """
    unzipped = _Unzipped(path, max_unzipped_mb)
    try:
        with zipfile.ZipFile(path) as archive:
            member, parts = _shapefile_parts(archive, path)
            for suffix, info in parts.items():
                with open(folder / f"layer{suffix}", "wb") as sink:
                    _stream_member(archive, info, sink, unzipped)
    except zipfile.BadZipFile as error:
        raise data_error("zip_unreadable", file=_shown(path), detail=_one_line(error), supported=_supported()) from None
    encoding = None
    if (folder / "layer.cpg").exists():
        with open(folder / "layer.cpg", "rb") as handle:
            encoding = _cpg_encoding(handle.read(256))
    if encoding is None:  # no .cpg, or one naming no encoding Python knows
        encoding = _dbf_text_encoding(folder / "layer.dbf")
    return folder / "layer.shp", member, encoding


def _streamed_workbook(path: Path, target: Path, max_unzipped_mb: float | None) -> Path:
    """Copy the workbook ``path`` to ``target``, every member streamed through :func:`_stream_member`.

    openpyxl reads some members whole, trusting the sizes they declare (CPython's zipfile then
    asks zlib for up to 2 GB at once). The copy holds the same members, each at its true size
    and within the limits: ``max_unzipped_mb`` in all, and ``_WORKBOOK_PART_MAX_MB`` for each
    part openpyxl parses whole.
    """
    unzipped = _Unzipped(path, max_unzipped_mb)
    try:
        with (
            zipfile.ZipFile(path) as archive,
            zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as copy,
        ):
            for info in archive.infolist():
                if info.is_dir():
                    continue
                whole = _WORKBOOK_WHOLE_PARTS.fullmatch(info.filename) is not None
                with copy.open(info.filename, "w", force_zip64=True) as sink:
                    _stream_member(archive, info, sink, unzipped, _WORKBOOK_PART_MAX_MB if whole else None)
    except zipfile.BadZipFile as error:
        raise data_error("zip_workbook_unreadable", file=_shown(path), detail=_one_line(error)) from None
    return target
