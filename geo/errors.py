"""The error for everything the user's data or settings got wrong (:class:`DataError`).

A :class:`DataError` (or any ``ValueError``) carries one line that says what was wrong and what to
do; the app shows it as a message and the CLI prints it after ``error:``. Anything else that
escapes is a bug: the app logs it with its traceback and shows a reference to that log entry.
"""

from __future__ import annotations


class DataError(ValueError):
    """The user's data or settings cannot be used; the message says what is wrong and what to do.

    A subclass of ``ValueError`` so that code catching ``ValueError`` keeps working.
    """
