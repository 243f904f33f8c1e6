"""Atomic file writes: every writer of the product stages its file and then replaces the target."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path, keep_existing: bool = False) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder that replaces ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or os.PathLike
        File to create or replace; its folder must exist.
    keep_existing : bool
        Start the temporary file as a copy of ``path`` when it exists, for writers that add to a
        file (a layer into a GeoPackage) rather than write it whole.

    Yields
    ------
    pathlib.Path
        Where to write: a file of ``path``'s name in a hidden temporary folder beside ``path``
        (same file system, so the final :func:`os.replace` is atomic; same suffix, so drivers that
        choose a format by suffix choose the right one).

    Raises
    ------
    FileNotFoundError
        If ``path``'s folder does not exist.

    Notes
    -----
    If the block raises, or writes nothing, ``path`` is left as it was; the temporary folder is
    removed either way. A reader therefore sees the old file or the new one, never half of one.
    A symbolic link is followed: the file it points to is replaced and the link kept. A path that
    is not a regular file (a device such as ``/dev/stdout``, a pipe) is yielded as it is and
    written directly, since it cannot be replaced.
    """
    path = Path(path)
    if path.is_symlink() or path.exists():
        target = path.resolve()
        if target.exists() and not target.is_file():
            # A device or a pipe (/dev/stdout, /dev/full): nothing to replace; write straight to it.
            yield path
            return
        path = target  # a link keeps pointing at the file, which is replaced
    if not path.parent.is_dir():
        raise FileNotFoundError(f"folder {path.parent} does not exist; create it first")
    folder = Path(tempfile.mkdtemp(prefix=f".{path.stem}-", dir=path.parent))
    try:
        staged = folder / path.name
        if keep_existing and path.is_file():
            shutil.copy2(path, staged)
        yield staged
        if not staged.exists():
            raise FileNotFoundError(f"nothing was written for {path.name}; the previous file is kept")
        os.replace(staged, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
