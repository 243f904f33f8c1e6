"""Run one piece of work in a child process with a time limit, a memory limit and a way to abandon it.

The app reads and validates a user's upload this way: a hostile or merely huge file can then
cost at most ``memory_mb`` of memory and ``seconds`` of time, and the work stops as soon as
the user's session ends (the caller's ``heartbeat`` raises), instead of running on in the
server after the tab is closed.

The child is a fresh interpreter (``python -m geo.intake.worker JOB RESULT``), not a fork: the app
server is multi-threaded (a fork could inherit a lock another thread held), and
``multiprocessing``'s spawn and forkserver children re-run the parent's ``__main__``, which
inside Streamlit is the app script itself. The job (function and arguments) and the result
travel as pickles in a private temporary folder; starting the child and importing GeoPandas
costs about 1 s.
"""

from __future__ import annotations

import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from geo.errors import DataError

_MB = 1 << 20
_POLL_SECONDS = 0.2
_OUT_OF_MEMORY = ("bad_alloc", "out of memory", "cannot allocate memory")

_slots_lock = threading.Lock()
_slots = {"limit": None, "semaphore": None}


def _slot(limit: int) -> threading.BoundedSemaphore:
    """The process-wide semaphore admitting ``limit`` children at once (rebuilt if the limit changes)."""
    with _slots_lock:
        if _slots["limit"] != limit:
            _slots["limit"], _slots["semaphore"] = limit, threading.BoundedSemaphore(limit)
        return _slots["semaphore"]


class WorkLimitError(ValueError):
    """The work went over its time or memory limit and was stopped.

    ``limit`` is ``"time"`` or ``"memory"`` and ``value`` the limit (seconds or MB), so a user
    interface can say it in its own language; ``str(error)`` says it in English.
    """

    def __init__(self, limit: str, value: float, message: str):
        super().__init__(message)
        self.limit = limit
        self.value = value


def run_bounded(
    function: Callable,
    args: tuple = (),
    kwargs: dict | None = None,
    *,
    seconds: float,
    memory_mb: float,
    heartbeat: Callable[[float], None] | None = None,
    what: str = "the work",
    max_children: int | None = None,
    waiting: Callable[[float], None] | None = None,
):
    """Return ``function(*args, **kwargs)`` computed in a child process, within the limits.

    Parameters
    ----------
    function : callable
        A function importable by its module and name (it is pickled by reference); its
        arguments and result are pickled across the process boundary.
    args : tuple
        Its positional arguments.
    kwargs : dict, optional
        Its keyword arguments.
    seconds : float
        Wall-clock limit in seconds; the child is killed when it is reached.
    memory_mb : float
        Address-space limit of the child in MB (``RLIMIT_AS``); allocating beyond it raises
        ``MemoryError`` inside the child (or ends it, if a C library aborts).
    heartbeat : callable, optional
        Called about every 0.2 s in the caller's thread with the seconds elapsed. If it raises
        (the app's session ended or the user asked for something else), the child is killed at
        once and the exception propagates.
    what : str
        Names the work in messages ("reading communities.csv").
    max_children : int, optional
        At most this many children of this process run at once (several users uploading
        together): a caller waits for a free slot, calling ``waiting`` (else ``heartbeat``)
        with the seconds waited, so it can say so and still be abandoned. The wait does not
        count against ``seconds``.
    waiting : callable, optional
        Called instead of ``heartbeat`` while waiting for a slot.

    Returns
    -------
    object
        What ``function`` returned.

    Raises
    ------
    WorkLimitError
        The work ran out of time or memory (a ``ValueError``, so the app shows it plainly).
    ValueError
        ``function`` raised ``ValueError`` or ``OSError``: the same message, re-raised here.
    RuntimeError
        ``function`` raised anything else (a bug): its type and message; the child's traceback
        is kept in ``__notes__`` for the server log.
    """
    if not (seconds > 0 and memory_mb > 0):
        raise ValueError(f"limits must be positive, got seconds={seconds!r}, memory_mb={memory_mb!r}")
    if max_children is None:
        return _run_child(function, args, kwargs, seconds, memory_mb, heartbeat, what)
    slot, asked = _slot(int(max_children)), time.monotonic()
    while not slot.acquire(timeout=_POLL_SECONDS):
        (waiting or heartbeat or (lambda _: None))(time.monotonic() - asked)
    try:
        return _run_child(function, args, kwargs, seconds, memory_mb, heartbeat, what)
    finally:
        slot.release()


def _run_child(function, args, kwargs, seconds, memory_mb, heartbeat, what):
    folder = Path(tempfile.mkdtemp(prefix="planner-work-"))
    job, answer = folder / "job.pickle", folder / "result.pickle"
    try:
        with open(job, "wb") as handle:  # two pickles: the limit, then the work
            pickle.dump(int(memory_mb * _MB), handle)
            pickle.dump((function, tuple(args), dict(kwargs or {})), handle, protocol=pickle.HIGHEST_PROTOCOL)
        started = time.monotonic()
        child = subprocess.Popen(
            [sys.executable, "-m", "geo.intake.worker", str(job), str(answer)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            # geo itself comes from the installed project (`make` installs it); the parent's import
            # path goes along only so that a function from a module outside geo (a test's helper)
            # is found by the same module name. The child's temporary files go in the job's folder,
            # removed below even if it is killed.
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, sys.path)), "TMPDIR": str(folder)},
        )
        try:
            while child.poll() is None:
                elapsed = time.monotonic() - started
                if elapsed > seconds:
                    raise WorkLimitError(
                        "time",
                        seconds,
                        f"{what} took longer than {seconds:g} s and was stopped (config.toml [intake] "
                        "max_import_seconds); split the file, e.g. by district, or ask the administrator to "
                        "raise the limit",
                    )
                if heartbeat is not None:
                    heartbeat(elapsed)
                time.sleep(_POLL_SECONDS)
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            stderr = child.stderr.read().decode("utf-8", "replace")[-4000:]
            child.stderr.close()
        if not answer.exists():
            raise WorkLimitError(
                "memory",
                memory_mb,
                f"{what} stopped without an answer (exit status {child.returncode}); it most likely needed "
                f"more than {memory_mb:g} MB of memory (config.toml [intake] max_import_memory_mb)",
            ) from (RuntimeError(stderr) if stderr else None)
        with open(answer, "rb") as handle:
            kind, payload = pickle.load(handle)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if kind == "ok":
        return payload
    if kind == "memory":
        raise WorkLimitError(
            "memory",
            memory_mb,
            f"{what} needed more than {memory_mb:g} MB of memory and was stopped (config.toml [intake] "
            "max_import_memory_mb); split the file, e.g. by district, or ask the administrator to raise the limit",
        )
    if kind == "value":
        if isinstance(payload, (ValueError, OSError)):
            raise payload
        raise DataError(payload)
    error = RuntimeError(payload[0])
    error.add_note(payload[1])
    raise error


def _picklable(error: BaseException) -> BaseException | None:
    """``error`` if it survives a pickle round trip whole (same type and message), else None."""
    try:
        copy = pickle.loads(pickle.dumps(error))
    except Exception:
        return None
    return copy if type(copy) is type(error) and str(copy) == str(error) else None


def _child(job: Path, answer: Path) -> None:
    """The child's side: limit memory first, run the job, write the answer (also for failures)."""
    with open(job, "rb") as handle:
        memory_bytes = pickle.load(handle)  # only the limit, before anything large is loaded
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        try:
            function, args, kwargs = pickle.load(handle)
            result = ("ok", function(*args, **kwargs))
        except MemoryError:
            result = ("memory", None)
        except Exception as error:
            if any(sign in str(error).lower() for sign in _OUT_OF_MEMORY):  # C++ libraries (GEOS, GDAL)
                result = ("memory", None)
            elif isinstance(error, (ValueError, OSError)):
                # The error itself when it pickles (a DataError keeps its type and what the page
                # needs to say it in the user's language), else its message.
                result = ("value", _picklable(error) or str(error))
            else:  # a bug: the caller logs it; the user sees a plain message
                result = ("error", (f"{type(error).__name__}: {error}", traceback.format_exc()))
    staged = answer.with_suffix(".partial")
    try:
        with open(staged, "wb") as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except MemoryError:
        with open(staged, "wb") as handle:
            pickle.dump(("memory", None), handle)
    os.replace(staged, answer)  # the parent sees a whole answer or none


if __name__ == "__main__":
    _child(Path(sys.argv[1]), Path(sys.argv[2]))
