"""Spreadsheet output that cannot run: a cell Excel or LibreOffice would read as a formula is kept as text
(OWASP, CSV injection). Every CSV and XLSX export of every process goes through `neutralise`."""

from __future__ import annotations

#: a cell starting with one of these is read as a formula (or a DDE command) by spreadsheet programs
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Texts that start like a formula get a leading apostrophe; other values pass unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
