"""Tests for geo.data.files.atomic_write and the writers that use it: a failed write keeps the old file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from geo.data.files import atomic_write
from geo.data.io import write_layers
from geo.intake.importer import write_accepted
from geo.render.export import to_csv


def _leftovers(folder, keep):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def test_success_replaces_the_file_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_write(target) as staged:
        assert staged.parent.parent == tmp_path and staged.name == "out.txt"
        staged.write_text("new")
        assert target.read_text() == "old"  # not visible before the block ends
    assert target.read_text() == "new"
    assert _leftovers(tmp_path, {"out.txt"}) == []


def test_a_failing_write_keeps_the_previous_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="disk full"), atomic_write(target) as staged:
        staged.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert _leftovers(tmp_path, {"out.txt"}) == []


def test_nothing_written_keeps_the_previous_file(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(FileNotFoundError, match="nothing was written"), atomic_write(target):
        pass
    assert target.read_text() == "old"
    assert _leftovers(tmp_path, {"out.txt"}) == []


def test_missing_folder_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"), atomic_write(tmp_path / "absent" / "out.txt"):
        pass


def test_a_link_is_kept_and_its_file_replaced(tmp_path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    with atomic_write(link) as staged:
        staged.write_text("new")
    assert link.is_symlink() and real.read_text() == "new"
    assert _leftovers(tmp_path, {"real.txt", "link.txt"}) == []


def test_a_device_is_written_directly_not_replaced(tmp_path):
    link = tmp_path / "full.csv"
    link.symlink_to("/dev/full")  # a disk that is full: the write fails, nothing is replaced
    with pytest.raises(OSError), atomic_write(link) as staged:
        assert staged == link
        with open(staged, "wb") as handle:
            handle.write(b"x" * 100_000)
    assert link.is_symlink() and not Path("/dev/full").is_file()


def test_keep_existing_starts_from_a_copy(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with atomic_write(target, keep_existing=True) as staged:
        assert staged.read_text() == "old"
        staged.write_text(staged.read_text() + "+more")
    assert target.read_text() == "old+more"


def _points(n):
    return gpd.GeoDataFrame(
        {"name": [f"p{i}" for i in range(n)]}, geometry=shapely.points(range(n), range(n)), crs="EPSG:4326"
    )


def test_write_layers_failing_midway_keeps_the_previous_geopackage(tmp_path, monkeypatch):
    target = tmp_path / "city.gpkg"
    write_layers(target, {"communities": _points(2)})
    before = target.read_bytes()
    write = pyogrio.write_dataframe

    def fail_on_the_table(frame, path, layer=None, **kwargs):
        if layer == "applications":
            raise OSError("disk full")
        return write(frame, path, layer=layer, **kwargs)

    monkeypatch.setattr(pyogrio, "write_dataframe", fail_on_the_table)
    with pytest.raises(OSError, match="disk full"):
        write_layers(target, {"communities": _points(3), "applications": pd.DataFrame({"a": [1]})})
    assert target.read_bytes() == before
    assert _leftovers(tmp_path, {"city.gpkg"}) == []


class _Result:
    layer = "communities"
    accepted = _points(2)


def test_write_accepted_keeps_other_layers_and_is_atomic(tmp_path, monkeypatch):
    target = tmp_path / "city.gpkg"
    write_layers(target, {"districts": _points(1)})
    write_accepted(_Result, target)
    assert sorted(name for name, _ in pyogrio.list_layers(target)) == ["communities", "districts"]
    before = target.read_bytes()

    to_file = gpd.GeoDataFrame.to_file

    def broken(frame, path, **kwargs):  # writes half of its work, then fails
        to_file(frame.iloc[:1], path, **kwargs)
        raise OSError("disk full")

    monkeypatch.setattr(gpd.GeoDataFrame, "to_file", broken)
    with pytest.raises(OSError, match="disk full"):
        write_accepted(_Result, target)
    assert target.read_bytes() == before
    assert _leftovers(tmp_path, {"city.gpkg"}) == []


def test_export_failing_keeps_the_previous_csv(tmp_path, monkeypatch):
    target = tmp_path / "plan.csv"
    to_csv(pd.DataFrame({"name": ["a"]}), target)
    before = target.read_bytes()
    import geo.render.export as export

    monkeypatch.setattr(export, "csv_bytes", lambda table: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        to_csv(pd.DataFrame({"name": ["b"]}), target)
    assert target.read_bytes() == before
    assert _leftovers(tmp_path, {"plan.csv"}) == []
