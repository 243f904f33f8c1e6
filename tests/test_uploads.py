"""geo.intake.uploads: a session's upload folder, fixed file names, removal at session end and by age."""

import gc
import os
import time

import pytest

from geo.intake.uploads import UploadFolder, sweep
from tests import hostile


def test_user_file_names_never_reach_the_file_system(tmp_path):
    folder = UploadFolder(tmp_path)
    for name in [
        "..",
        "../../etc/passwd",
        "a/b.csv",
        "名" * 300 + ".csv",
        "![t](http://x/t.png).csv",
        *hostile.ALL,
        "",
        None,
    ]:
        path = folder.file("communities", name)
        assert path.parent == folder.path
        assert path.name in {"communities", "communities.csv", "communities.png"} or (
            path.name.startswith("communities.") and len(path.suffix) <= 9
        )
    assert folder.file("communities", "survey.XLSX").name == "communities.xlsx"
    assert folder.file("communities", "x.tar.gz").name == "communities.gz"
    with pytest.raises(ValueError, match="stem"):
        folder.file("../x", "a.csv")


def test_folder_is_removed_with_its_session_state(tmp_path):
    state = {"upload_folder": UploadFolder(tmp_path)}
    path = state["upload_folder"].path
    state["upload_folder"].file("communities", "a.csv").write_bytes(b"x")
    assert path.is_dir()
    state.clear()  # Streamlit drops a session's state when the session ends
    gc.collect()
    assert not path.exists()


def test_remove_now(tmp_path):
    folder = UploadFolder(tmp_path)
    folder.file("city", "c.gpkg").write_bytes(b"x")
    folder.remove()
    assert not folder.path.exists()


def test_sweep_removes_only_old_upload_folders(tmp_path):
    old, fresh = UploadFolder(tmp_path), UploadFolder(tmp_path)
    other = tmp_path / "not-ours"
    other.mkdir()
    day_ago = time.time() - 25 * 3600
    os.utime(old.path, (day_ago, day_ago))
    os.utime(other, (day_ago, day_ago))
    assert sweep(24, tmp_path) == [old.path]
    assert not old.path.exists() and fresh.path.exists() and other.exists()


def test_touch_keeps_a_folder_in_use(tmp_path):
    folder = UploadFolder(tmp_path)
    day_ago = time.time() - 25 * 3600
    os.utime(folder.path, (day_ago, day_ago))
    folder.touch()
    assert sweep(24, tmp_path) == [] and folder.path.exists()


def test_a_folder_whose_page_closed_goes_after_missed_heartbeats(tmp_path):
    from geo.intake.uploads import IDLE_SECONDS

    closed, open_ = UploadFolder(tmp_path), UploadFolder(tmp_path)
    now = time.time()
    os.utime(closed.path, (now - IDLE_SECONDS - 60, now - IDLE_SECONDS - 60))
    os.utime(open_.path, (now - 60, now - 60))  # touched a minute ago: its page is open
    assert sweep(24, tmp_path, now=now) == [closed.path]
    assert open_.path.exists()


def test_a_folder_older_than_the_maximum_age_goes_even_if_in_use(tmp_path):
    folder = UploadFolder(tmp_path)
    folder.touch()
    assert sweep(24, tmp_path, now=time.time() + 25 * 3600, idle_seconds=float("inf")) == [folder.path]


def test_the_sweeper_thread_removes_closed_folders(tmp_path):
    from geo.intake.uploads import start_sweeper

    folder = UploadFolder(tmp_path)
    long_ago = time.time() - 3600
    os.utime(folder.path, (long_ago, long_ago))
    start_sweeper(24, interval_seconds=0.1, root=tmp_path)
    deadline = time.monotonic() + 10
    while folder.path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not folder.path.exists()
