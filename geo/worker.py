"""Run one piece of work in a child process with a time limit, a memory limit and a way to abandon it.

The app reads and validates a user's upload this way: a hostile or merely huge file can then
cost at most ``memory_mb`` of memory and ``seconds`` of time, and the work stops as soon as
the user's session ends (the caller's ``heartbeat`` raises), instead of running on in the
server after the tab is closed.

Children come from a fork server whose process imports :mod:`geo.intake` once, so a child
starts in a few milliseconds with GeoPandas already loaded, and is never forked from the
multi-threaded app server itself.
"""

from __future__ import annotations

import multiprocessing
import resource
import time
import traceback
from collections.abc import Callable

_MB = 1 << 20
_POLL_SECONDS = 0.2
_PRELOAD = ["geo.intake", "geo.validate", "geo.io"]
_context = None


class WorkLimitError(ValueError):
    """The work went over its time or memory limit and was stopped.

    ``limit`` is ``"time"`` or ``"memory"`` and ``value`` the limit (seconds or MB), so a user
    interface can say it in its own language; ``str(error)`` says it in English.
    """

    def __init__(self, limit: str, value: float, message: str):
        super().__init__(message)
        self.limit = limit
        self.value = value


def run_bounded(function: Callable, args: tuple = (), *, seconds: float, memory_mb: float,
                heartbeat: Callable[[float], None] | None = None, what: str = "the work"):
    """Return ``function(*args)`` computed in a child process, within the limits.

    Parameters
    ----------
    function : callable
        A module-level function (it is pickled by reference); its arguments and result are
        pickled across the process boundary.
    args : tuple
        Its positional arguments.
    seconds : float
        Wall-clock limit in seconds; the child is killed when it is reached.
    memory_mb : float
        Address-space limit of the child in MB (``RLIMIT_AS``); allocating beyond it raises
        ``MemoryError`` inside the child.
    heartbeat : callable, optional
        Called about every 0.2 s in the caller's thread with the seconds elapsed. If it raises
        (the app's session ended or the user asked for something else), the child is killed at
        once and the exception propagates.
    what : str
        Names the work in messages ("reading communities.csv").

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
    if seconds <= 0 or memory_mb <= 0:
        raise ValueError(f"limits must be positive, got seconds={seconds!r}, memory_mb={memory_mb!r}")
    receiver, sender = _get_context().Pipe(duplex=False)
    child = _get_context().Process(target=_child, args=(sender, int(memory_mb * _MB), function, args), daemon=True)
    started = time.monotonic()
    child.start()
    sender.close()
    try:
        while not receiver.poll(_POLL_SECONDS):
            elapsed = time.monotonic() - started
            if not child.is_alive():
                break
            if elapsed > seconds:
                raise WorkLimitError(
                    "time", seconds,
                    f"{what} took longer than {seconds:g} s and was stopped (config.toml [intake] "
                    "max_import_seconds); split the file, e.g. by district, or ask the administrator to raise the limit"
                )
            if heartbeat is not None:
                heartbeat(elapsed)
        try:
            kind, payload = receiver.recv()
        except EOFError:
            raise WorkLimitError(
                "memory", memory_mb,
                f"{what} stopped without an answer (exit code {child.exitcode}); it most likely needed more "
                f"than {memory_mb:g} MB of memory (config.toml [intake] max_import_memory_mb)"
            ) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(timeout=5)
        receiver.close()
    if kind == "ok":
        return payload
    if kind == "memory":
        raise WorkLimitError(
            "memory", memory_mb,
            f"{what} needed more than {memory_mb:g} MB of memory and was stopped (config.toml [intake] "
            "max_import_memory_mb); split the file, e.g. by district, or ask the administrator to raise the limit"
        )
    if kind == "value":
        raise ValueError(payload)
    error = RuntimeError(payload[0])
    error.add_note(payload[1])
    raise error


def _child(sender, memory_bytes: int, function: Callable, args: tuple) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    try:
        result = ("ok", function(*args))
    except MemoryError:
        result = ("memory", None)
    except (ValueError, OSError) as error:
        result = ("value", str(error))
    except Exception as error:  # a bug: the caller logs it; the user sees a plain message
        result = ("error", (f"{type(error).__name__}: {error}", traceback.format_exc()))
    try:
        sender.send(result)
    except MemoryError:
        sender.send(("memory", None))
    sender.close()


def _get_context():
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        _context = context
    return _context
