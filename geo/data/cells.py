"""Text for spreadsheet cells: the one writer of every CSV and XLSX cell, so user text is never a formula.

Every table the product writes for people (plan and eligibility exports, the rejects of an
import, the survey template) goes through this module, cells and headers alike:

1. **Normalise** the text (:func:`normalised_text`): remove characters that are invisible, that
   reorder what is shown, or that an .xlsx cannot hold —

   - C0 control characters other than tab, line feed and carriage return, DEL, and the C1
     controls U+0080–U+009F (``"\\x01=HYPERLINK(…)"`` would otherwise hide its ``=`` from a check
     of the first character, and openpyxl refuses most of them);
   - format characters: soft hyphen U+00AD, Arabic letter mark U+061C, Mongolian vowel
     separator U+180E, zero-width space/joiners and left-to-right/right-to-left marks
     U+200B–U+200F, bidirectional embeddings and overrides U+202A–U+202E, word joiner and
     invisible operators U+2060–U+2064, bidirectional isolates U+2066–U+2069, deprecated format
     characters U+206A–U+206F, the byte-order mark / zero-width no-break space U+FEFF and the
     interlinear annotation marks U+FFF9–U+FFFB (a right-to-left override makes a cell show
     text other than what it holds);
   - lone surrogates U+D800–U+DFFF and the non-characters U+FFFE, U+FFFF, which UTF-8 cannot
     encode or XML 1.0 does not allow.

   Visible text is kept as it is: letters, punctuation, full-width forms, and spaces of every
   kind, the no-break space U+00A0 and the ideographic space U+3000 included.

2. **Neutralise** formulas (:func:`spreadsheet_text`): if the normalised text starts with a
   formula trigger, put an apostrophe ``'`` in front of it. Triggers:

   - ``=``, ``+``, ``-``, ``@``, tab, carriage return and line feed — OWASP "CSV Injection"
     (owasp.org/www-community/attacks/CSV_Injection; line feed added in 2025, OWASP/www-community
     pull request 1116) and OWASP WSTG-INPV-21 "Testing for CSV Injection";
   - their full-width forms ``＝ ＋ － ＠`` (U+FF1D, U+FF0B, U+FF0D, U+FF20), which WSTG-INPV-21
     lists "depending on locale/application behavior" (an Excel or WPS with a Chinese input
     method takes a full-width ``＝`` as the start of a formula), and by the same reasoning the
     small forms ``﹦ ﹢ ﹣ ﹫`` (U+FE66, U+FE62, U+FE63, U+FE6B), which Unicode NFKC also maps to
     the ASCII signs — our extrapolation, not a documented case;
   - any of these after leading whitespace (``" =1+2"``, ``"\\u00a0=1+2"``, ``"\\u3000＝1"``):
     Google Sheets, LibreOffice and several CSV-to-XLSX converters strip leading whitespace
     before they evaluate a cell (the bypass fixed in zvory/csv-safe pull request 25; the
     no-break-space variant raised in the review of Asymmetric-al/core pull request 518).

   ``|`` and ``%`` alone are not triggers: DDE payloads such as ``=cmd|' /C calc'!A0`` need a
   leading ``=``, ``+``, ``-`` or ``@``. The apostrophe is OWASP's remedy: Excel, WPS and
   LibreOffice show the cell as text and hide the apostrophe when they open a CSV; in an .xlsx
   the cell is also stored as a string (:func:`xlsx_row`), the apostrophe stays visible and keeps
   the cell text if someone edits it. WSTG-INPV-21 warns that Excel may drop the apostrophe when
   a user saves the CSV again: the protection is for the file we write.

Numbers, booleans, dates and missing values are not text and pass unchanged, so ``-5`` the
number stays a number while ``"-5"`` the text becomes ``"'-5"``. Normalising and neutralising
are idempotent: a cell written twice is the same as a cell written once.

CSV files (:func:`csv_bytes`) are UTF-8 with a byte-order mark (Excel and WPS then read Chinese
correctly), CRLF line ends, and every text cell quoted, so that in a locale whose list separator
is ``;`` a ``;`` inside a name cannot start a new cell with ``=`` (WSTG-INPV-21 "cell breakout").
"""

from __future__ import annotations

import re

import pandas as pd

_REMOVED = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    r"\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    r"\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff]"
)
"""Characters :func:`normalised_text` removes: controls, invisible and bidirectional format marks,
and code points that UTF-8 or XML cannot carry."""

FORMULA_SIGNS = "=+-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b"
"""Signs that start a formula, also after leading whitespace: ASCII, full-width and small forms."""

FORMULA_START = re.compile(r"[\t\r\n]|\s*[" + re.escape(FORMULA_SIGNS) + "]")
"""Matches at the start of normalised text that a spreadsheet could run as a formula."""

NEUTRALISING_PREFIX = "'"

_LINE_BREAKS = re.compile(r"\r\n?")


def normalised_text(text: str) -> str:
    """``text`` without control, invisible and bidirectional format characters (see the module notes).

    Parameters
    ----------
    text : str
        Any text.

    Returns
    -------
    str
        ``text`` with the removed characters dropped; tab, line feed, carriage return and all
        visible characters kept. Use it for text that is not a cell, such as a sheet name.
    """
    return _REMOVED.sub("", text)


def spreadsheet_text(text: str) -> str:
    """``text`` as a spreadsheet cell holds it: normalised, then prefixed ``'`` if it would be a formula.

    Parameters
    ----------
    text : str
        A cell's or a header's text, e.g. a community name from a user's file.

    Returns
    -------
    str
        :func:`normalised_text` of ``text``, with a leading ``'`` when that starts with a formula
        trigger (see the module notes): ``"\\x01=1+2"`` → ``"'=1+2"``, ``"＝1"`` → ``"'＝1"``,
        ``"柳东社区"`` → ``"柳东社区"``.

    Raises
    ------
    TypeError
        If ``text`` is not a str (numbers and dates are written as they are, not through here).
    """
    if not isinstance(text, str):
        raise TypeError(f"spreadsheet_text takes text, got a {type(text).__name__}; write numbers as numbers")
    text = normalised_text(text)
    return NEUTRALISING_PREFIX + text if FORMULA_START.match(text) else text


def unneutralised_cells(values: pd.Series) -> pd.Series:
    """Text cells read back from a spreadsheet we wrote.

    The ``'`` that :func:`spreadsheet_text` put before a formula start is dropped.

    A district office that corrects the rejects file and uploads it again gets ``=1+2`` back,
    not ``'=1+2``. Only a ``'`` directly followed by a formula start is dropped; other cells,
    and non-text values, are unchanged. (The name is text from then on: every writer
    neutralises it again.)
    """
    is_text = values.map(lambda v: isinstance(v, str)).astype(bool)
    if not is_text.any():
        return values
    text = values.where(is_text, "").astype(str)
    prefixed = is_text & text.str.startswith(NEUTRALISING_PREFIX) & text.str[1:].str.match(FORMULA_START.pattern)
    return values.where(~prefixed, text.str[1:])


def spreadsheet_cells(values: pd.Series) -> pd.Series:
    """:func:`spreadsheet_text` applied to the text cells of a column; other cells unchanged.

    Parameters
    ----------
    values : pandas.Series
        A column of any dtype; text cells are ``str``, the others numbers, booleans, dates or
        missing.

    Returns
    -------
    pandas.Series
        Object dtype, same index and name; text cells normalised and neutralised, every other
        cell (a negative number included) as it was.
    """
    cells = pd.Series(values).astype(object)
    is_text = cells.map(lambda value: isinstance(value, str)).astype(bool)
    if not is_text.any():
        return cells
    text = cells[is_text].str.replace(_REMOVED, "", regex=True)
    risky = text.str.match(FORMULA_START).astype(bool)
    text = text.where(~risky, NEUTRALISING_PREFIX + text)
    result = cells.copy()
    result[is_text] = text.astype(object)
    return result


def spreadsheet_table(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every text cell and every header through :func:`spreadsheet_text`.

    Parameters
    ----------
    table : pandas.DataFrame
        Any table; headers are made text with ``str``. Duplicate headers are kept.

    Returns
    -------
    pandas.DataFrame
        Object columns on the same index, headers neutralised.
    """
    columns = [spreadsheet_cells(table.iloc[:, position]) for position in range(table.shape[1])]
    headers = [spreadsheet_text(str(label)) for label in table.columns]
    if not columns:
        return pd.DataFrame(columns=headers, index=table.index)
    return pd.concat(columns, axis=1, ignore_index=True).set_axis(headers, axis=1)


def csv_bytes(table: pd.DataFrame) -> bytes:
    """The bytes of a CSV of ``table`` that Excel, WPS and LibreOffice open without running anything.

    Parameters
    ----------
    table : pandas.DataFrame
        Cells of text, numbers, booleans, dates or missing values; headers as they should read.

    Returns
    -------
    bytes
        UTF-8 with a byte-order mark, comma-separated, CRLF line ends, no index column; headers
        and text cells through :func:`spreadsheet_text` and quoted, numbers unquoted, missing
        values empty (``""``).
    """
    import csv

    text = spreadsheet_table(table).to_csv(index=False, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    return text.encode("utf-8-sig")


def xlsx_text(text: str) -> str:
    """:func:`spreadsheet_text` of ``text`` with CR and CRLF line breaks as LF (what reading an .xlsx gives)."""
    return _LINE_BREAKS.sub("\n", spreadsheet_text(text))


def xlsx_row(sheet, values) -> list:
    """openpyxl cells for one row of ``sheet``, text always stored as text, never as a formula.

    Parameters
    ----------
    sheet : openpyxl.worksheet.worksheet.Worksheet
        The sheet the row will be appended to with ``sheet.append``.
    values : iterable
        Cell values: text, numbers, booleans, dates or None.

    Returns
    -------
    list of openpyxl.cell.cell.Cell
        One cell per value. Text goes through :func:`xlsx_text` and is typed as a string
        (``data_type "s"``): openpyxl would otherwise store text starting with ``=`` as a
        formula and ``#N/A`` and the other error words as errors.
    """
    from openpyxl.cell.cell import Cell

    cells = []
    for value in values:
        if isinstance(value, str):
            cell = Cell(sheet, value=xlsx_text(value))
            cell.data_type = "s"
        else:
            cell = Cell(sheet, value=value)
        cells.append(cell)
    return cells


def append_xlsx_row(sheet, values) -> None:
    """Append one row to ``sheet`` through :func:`xlsx_row`; the only way rows reach a workbook."""
    sheet.append(xlsx_row(sheet, values))
