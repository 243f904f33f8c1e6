"""geo.intake.worker: work in a child process within a time and a memory limit, abandoned on request."""

import os
import time

import numpy as np
import pytest

from geo.errors import DataError
from geo.intake.worker import WorkLimitError, run_bounded


def double(x):
    return 2 * x


def allocate_gigabytes(n):
    return np.ones(n * (1 << 27))  # n GB of float64


def spin_forever():
    while True:
        pass


def refuse():
    raise ValueError("row 3: bad longitude")


def crash():
    raise KeyError("a bug")


def pid():
    return os.getpid()


def test_result_comes_back_from_another_process():
    assert run_bounded(double, (21,), seconds=30, memory_mb=2000) == 42
    assert run_bounded(pid, seconds=30, memory_mb=2000) != os.getpid()


def test_memory_beyond_the_limit_stops_the_work_with_a_message():
    with pytest.raises(WorkLimitError, match="more than 1000 MB") as caught:
        run_bounded(allocate_gigabytes, (4,), seconds=60, memory_mb=1000, what="reading big.csv")
    assert caught.value.limit == "memory" and caught.value.value == 1000
    assert "reading big.csv" in str(caught.value) and "max_import_memory_mb" in str(caught.value)


def test_endless_work_is_stopped_at_the_time_limit():
    started = time.monotonic()
    with pytest.raises(WorkLimitError, match="longer than 1 s") as caught:
        run_bounded(spin_forever, seconds=1, memory_mb=1000)
    assert caught.value.limit == "time"
    assert time.monotonic() - started < 30  # stopped, not waited for


def test_a_heartbeat_that_raises_kills_the_child_at_once():
    """What the app relies on: Streamlit raises in the heartbeat when the session ends."""

    class SessionEnded(Exception):
        pass

    beats = []

    def heartbeat(elapsed):
        beats.append(elapsed)
        if elapsed > 0.5:
            raise SessionEnded

    with pytest.raises(SessionEnded):
        run_bounded(spin_forever, seconds=600, memory_mb=1000, heartbeat=heartbeat)
    assert 1 <= len(beats) < 50


def test_value_errors_keep_their_message_and_bugs_are_named():
    with pytest.raises(ValueError, match="row 3: bad longitude") as caught:
        run_bounded(refuse, seconds=30, memory_mb=1000)
    assert not isinstance(caught.value, WorkLimitError)
    with pytest.raises(RuntimeError, match="KeyError") as caught:
        run_bounded(crash, seconds=30, memory_mb=1000)
    assert any("Traceback" in note for note in caught.value.__notes__)


@pytest.mark.parametrize("seconds, memory_mb", [(0, 100), (10, -1)])
def test_limits_must_be_positive(seconds, memory_mb):
    with pytest.raises(ValueError, match="positive"):
        run_bounded(double, (1,), seconds=seconds, memory_mb=memory_mb)


def scaled(x, *, factor=1):
    return x * factor


def test_keyword_arguments_reach_the_function():
    assert run_bounded(scaled, (3,), {"factor": 5}, seconds=30, memory_mb=1000) == 15


def leave_temporary_file(record):
    import tempfile

    folder = tempfile.mkdtemp(prefix="intake-")
    with open(f"{folder}/workbook.xlsx", "wb") as handle:
        handle.write(b"x" * 1000)
    with open(record, "w") as handle:
        handle.write(folder)
    while True:
        pass


def test_a_killed_childs_temporary_files_are_removed(tmp_path):
    """Regression: an import stopped at its time limit left the user's workbook in /tmp/intake-*."""
    record = tmp_path / "where.txt"
    with pytest.raises(WorkLimitError):
        run_bounded(leave_temporary_file, (str(record),), seconds=2, memory_mb=1000)
    left = record.read_text()
    assert left and not os.path.exists(left)


def raise_bad_alloc():
    raise RuntimeError("std::bad_alloc")  # what GEOS and GDAL report when an allocation fails


def test_out_of_memory_in_a_c_library_is_the_memory_limit():
    with pytest.raises(WorkLimitError, match="memory") as caught:
        run_bounded(raise_bad_alloc, seconds=30, memory_mb=1000)
    assert caught.value.limit == "memory"


def sleep_then(value):
    time.sleep(1.5)
    return value


def test_children_beyond_the_limit_wait_for_a_slot():
    import threading

    results, waited = {}, []

    def one(name, waiting=None):
        results[name] = run_bounded(sleep_then, (name,), seconds=60, memory_mb=1000, max_children=1, waiting=waiting)

    first = threading.Thread(target=one, args=("a",))
    first.start()
    time.sleep(0.5)  # the first child holds the only slot
    started = time.monotonic()
    one("b", waiting=waited.append)
    first.join()
    assert results == {"a": "a", "b": "b"}
    assert waited and time.monotonic() - started >= 1.5  # it waited, then ran its own 1.5 s


class KeyedError(DataError):
    """A data error that carries more than its text (as the app's translated messages do)."""

    def __init__(self, key, values):
        super().__init__(f"{key}: {values}")
        self.key, self.values = key, values

    def __reduce__(self):
        return type(self), (self.key, self.values)


class Unpicklable(ValueError):
    def __init__(self, a, b):  # pickle would call it with one argument: the round trip fails
        super().__init__(f"{a}/{b}")


def raise_keyed():
    raise KeyedError("file_empty", {"name": "东片区.csv"})


def raise_unpicklable():
    raise Unpicklable(1, 2)


def raise_os_error():
    raise FileNotFoundError(2, "No such file or directory", "/srv/secret/path")


def test_errors_cross_the_process_boundary_with_their_type_and_fields():
    with pytest.raises(KeyedError) as caught:
        run_bounded(raise_keyed, seconds=30, memory_mb=2048)
    assert (caught.value.key, caught.value.values) == ("file_empty", {"name": "东片区.csv"})
    with pytest.raises(DataError, match="1/2"):  # type lost, message kept, still a data error
        run_bounded(raise_unpicklable, seconds=30, memory_mb=2048)
    with pytest.raises(FileNotFoundError):  # the app shows its fixed file message, not the path
        run_bounded(raise_os_error, seconds=30, memory_mb=2048)
