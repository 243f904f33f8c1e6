"""What the store checks of every value a user gives before it reaches the database: ids, texts, amounts.

Both databases answer alike because nothing they would treat differently reaches them: an id
outside 1 … 2³¹ − 1, the range of the tables' integer ids (beyond it SQLite overflows at 2⁶³ and
PostgreSQL, whose ids are 32-bit, says out of range), is simply not a row (:func:`row_id`); a
text holding a NUL character (PostgreSQL's text cannot hold it, SQLite would keep it) is refused
naming its field (:func:`checked_text`); an amount outside its column's range
is refused saying the range (:func:`checked_amount`).
"""

from __future__ import annotations

from geo.errors import Message, data_error

MAX_ID = 2**31 - 1
"""The largest row id (the id columns are ``Integer``: 32-bit on PostgreSQL, which casts the id asked
about to that type and fails on a larger one; a 64-bit id overflows SQLite too)."""
MAX_TEXT_CHARS = 1000
"""Characters an application's text field may hold, typed in one by one or uploaded as a table
(:mod:`geo.store.application_upload`): a survey's notes rarely pass a few hundred."""
MAX_COST_CNY = 2**31 - 1
"""The largest cost in CNY an installation may record (its column is a 32-bit integer): 2,147,483,647."""
MAX_PIECES = 10_000
"""The most pieces of equipment one installation may record (a set has a dozen or two)."""
NUL = "\x00"


def row_id(value) -> int | None:
    """``value`` as a row id (an integer 1 … :data:`MAX_ID`), or None when it cannot be one.

    Every store function taking an id reads it through this: None is "no such row" (the caller's
    ``*_unknown`` refusal), never a query the database would overflow on.
    """
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if isinstance(value, float) and number != value:
        return None
    return number if 0 < number <= MAX_ID else None


def field_name(field: str) -> Message:
    """The user-facing name of a store field (``[message] field_<field>``), said in the page's language."""
    return Message(f"field_{field}")


def checked_text(field: str, value, limit: int | None = None) -> str:
    """``value`` as text ("" for None), refused (DataError) when it holds a NUL character or, with
    ``limit``, more than ``limit`` characters; ``field`` names it in the message (:func:`field_name`)."""
    text = "" if value is None else str(value)
    if NUL in text:
        raise data_error("text_nul", field=field_name(field))
    if limit is not None and len(text) > limit:
        raise data_error("text_too_long_entry", field=field_name(field), length=len(text), limit=limit)
    return text


def checked_amount(field: str, value, maximum: int) -> int:
    """``value`` as a whole number 0 … ``maximum``; a negative one is refused as ``installation_negative``,
    a larger one as ``installation_out_of_range`` (saying the range)."""
    number = int(value)
    if number < 0:
        raise data_error("installation_negative", field=field, value=number)
    if number > maximum:
        raise data_error(
            "installation_out_of_range", field=field_name(field), value=f"{number:,}", maximum=f"{maximum:,}"
        )
    return number
