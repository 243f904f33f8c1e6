"""Where the app keeps a user's uploaded files and cities, and how they are removed.

Each session gets one folder of its own under :func:`uploads_root`. The folder is deleted when
its :class:`UploadFolder` is garbage-collected (the app keeps that object in the session's
state, which Streamlit drops when the session ends) or when the server process exits, and
:func:`sweep` deletes any folder not used for longer than the configured age (left by a crash
or a session that never ended cleanly). A file's name from the user is never part of a path:
files are stored under fixed names, with at most a short, checked extension.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import tempfile
import time
import weakref
from pathlib import Path

ROOT_ENV = "PLANNER_UPLOADS"
"""Environment variable naming the folder for uploads; default ``$TMPDIR/fitness-path-planner-uploads``."""

_FOLDER_PATTERN = re.compile(r"^session-\d+-[0-9a-f]{16}$")
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


def sweep(max_age_hours: float, root: Path | None = None, now: float | None = None) -> list[Path]:
    """Delete upload folders not used for more than ``max_age_hours``; return those deleted.

    Only folders named as :class:`UploadFolder` names them are considered, so a root set to a
    shared folder by mistake loses nothing else.
    """
    root = uploads_root() if root is None else Path(root)
    limit = (time.time() if now is None else now) - max_age_hours * 3600
    removed = []
    for folder in root.iterdir():
        if not (_FOLDER_PATTERN.match(folder.name) and folder.is_dir()):
            continue
        try:
            if folder.stat().st_mtime < limit:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        except FileNotFoundError:   # another server's sweep got there first
            continue
    return removed
