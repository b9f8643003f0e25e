"""Spreadsheet output that cannot run and cannot fail. Every CSV and XLSX export of every process writes its
cells through here.

- CSV: a text that Excel or LibreOffice would read as a formula (or a DDE command) gets a leading
  apostrophe (OWASP, CSV injection): CSV has no types, the program guesses.
- XLSX: a text is written as a string cell, which no spreadsheet program evaluates, so it stays exactly as
  typed («+7 900 …» without an apostrophe); numbers and dates keep their types.
- both: characters that XML (so XLSX) cannot hold, such as C0 control characters, are dropped. Records saved
  before input was checked must not make an export fail for everybody.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

#: a cell starting with one of these is read as a formula (or a DDE command) by spreadsheet programs
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: what XML 1.0 cannot carry: C0 controls but tab, LF and CR; lone surrogates; the two non-characters
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
DATE_FORMAT = "DD.MM.YYYY"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM"


def scrub(text: str) -> str:
    """The text without characters a spreadsheet file cannot hold."""
    return _UNWRITABLE.sub("", text)


def csv_text(value: str) -> str:
    """A CSV field: scrubbed, and with a leading apostrophe if it starts like a formula."""
    value = scrub(value)
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def xlsx_cell(sheet, value, *, font: Font | None = None):
    """A cell of `sheet` (write-only or not) holding `value`: texts as string cells, scrubbed; dates with a
    Russian number format; anything else (numbers, None) as it is."""
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=scrub(value))
        cell.data_type = "s"  # openpyxl would make "=..." a formula otherwise
    else:
        cell = WriteOnlyCell(sheet, value=value)
        if isinstance(value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT
    if font is not None:
        cell.font = font
    return cell
