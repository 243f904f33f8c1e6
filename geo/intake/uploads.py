"""Where the app keeps a user's uploaded files and cities, and how they are removed.

Each session gets one folder of its own under :func:`uploads_root`. While the session's page is
open, the app touches the folder every :data:`HEARTBEAT_SECONDS` (:meth:`UploadFolder.touch`).
A folder is deleted

- when its :class:`UploadFolder` is garbage-collected (the app keeps that object in the
  session's state, which Streamlit drops some time after the session ends) or the server exits;
- by :func:`sweep`, which a background thread of the server runs every minute
  (:func:`start_sweeper`): when it has not been touched for :data:`IDLE_SECONDS` (its page
  was closed: Streamlit alone may keep a closed session for a long time on a quiet server), or
  when it is older than the configured maximum age, whatever its use.

A file's name from the user is never part of a path: files are stored under fixed names, with
at most a short, checked extension.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from pathlib import Path

ROOT_ENV = "PLANNER_UPLOADS"
"""Environment variable naming the folder for uploads; default ``$TMPDIR/fitness-path-planner-uploads``."""

HEARTBEAT_SECONDS = 60
"""How often an open page touches its session's folder."""

IDLE_SECONDS = 5 * HEARTBEAT_SECONDS
"""A folder untouched this long belongs to a closed page: five missed heartbeats."""

_FOLDER_PATTERN = re.compile(r"^session-(\d+)-[0-9a-f]{16}$")
_SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,8}$")


def uploads_root() -> Path:
    """The folder holding every session's upload folder (created if missing, private to this user)."""
    root = Path(os.environ.get(ROOT_ENV) or Path(tempfile.gettempdir()) / "fitness-path-planner-uploads")
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    return root


class UploadFolder:
    """One session's folder of uploads; removed with this object, at exit, or by :func:`sweep`.

    Parameters
    ----------
    root : pathlib.Path, optional
        Parent folder; default :func:`uploads_root`.
    """

    def __init__(self, root: Path | None = None):
        root = uploads_root() if root is None else Path(root)
        self.path = root / f"session-{int(time.time())}-{secrets.token_hex(8)}"
        self.path.mkdir(mode=0o700)
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.path), True)

    def file(self, stem: str, original_name: str | None = None) -> Path:
        """A path in the folder named ``stem`` plus the original name's extension when it is plain.

        ``stem`` is ours (letters, digits, ``_`` and ``-``); ``original_name`` is the user's and
        only lends its extension (``.csv``, ``.xlsx``: 1–8 letters or digits), so a name such
        as ``..`` or ``../../x`` or 300 characters long can never reach the file system.
        """
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", stem):
            raise ValueError(f"internal file stem must be letters, digits, _ or -, got {stem!r}")
        suffix = Path(str(original_name or "")).suffix
        suffix = suffix.lower() if _SAFE_SUFFIX.match(suffix) else ""
        self.touch()
        return self.path / f"{stem}{suffix}"

    def touch(self) -> None:
        """Mark the folder as in use, so :func:`sweep` leaves it alone for another full age."""
        if self.path.exists():
            os.utime(self.path)

    def remove(self) -> None:
        """Delete the folder and everything in it now."""
        self._finalizer()


def sweep(
    max_age_hours: float, root: Path | None = None, now: float | None = None, idle_seconds: float = IDLE_SECONDS
) -> list[Path]:
    """Delete upload folders whose page was closed or that are too old; return those deleted.

    A folder goes when it was last touched more than ``idle_seconds`` ago, or created more
    than ``max_age_hours`` ago. Only folders named as :class:`UploadFolder` names them are
    considered, so a root set to a shared folder by mistake loses nothing else.
    """
    root = uploads_root() if root is None else Path(root)
    now = time.time() if now is None else now
    removed = []
    for folder in root.iterdir():
        match = _FOLDER_PATTERN.match(folder.name)
        if not (match and folder.is_dir()):
            continue
        try:
            idle = now - folder.stat().st_mtime > idle_seconds
            if idle or now - int(match.group(1)) > max_age_hours * 3600:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except FileNotFoundError:  # another server's sweep got there first
            continue
    return removed


_sweeper_lock = threading.Lock()
_sweepers: dict[Path, dict] = {}


def start_sweeper(max_age_hours: float, interval_seconds: float = HEARTBEAT_SECONDS, root: Path | None = None) -> None:
    """Run :func:`sweep` on ``root`` every ``interval_seconds`` in a daemon thread (one per root and process).

    Calling it again only updates ``max_age_hours`` (the configuration may have been edited).
    """
    root = uploads_root() if root is None else Path(root)
    with _sweeper_lock:
        state = _sweepers.setdefault(root, {})
        state["max_age_hours"] = max_age_hours
        if "thread" in state:
            return

        def run() -> None:
            while True:
                time.sleep(interval_seconds)
                try:
                    sweep(state["max_age_hours"], root)
                except OSError:  # the root vanished or is unreadable for a moment: try again later
                    continue

        state["thread"] = threading.Thread(target=run, name=f"upload-sweeper {root}", daemon=True)
        state["thread"].start()
