"""Participant lists from spreadsheets: reading XLSX and CSV safely, guessing which column is which,
and a row-by-row report of what is wrong before anything is written.

Pure functions: no Flask, no database. The pipeline, one module a stage:

    rows = read_table(filename, data)                # reading: refuses what is not a sane spreadsheet
    table = split_header(rows)                       # header: finds the header row, numbers the data rows
    mapping = guess_mapping(table.headers)           # mapping: column index → field (or the organiser's)
    report = validate(table, mapping, email_keys)    # checking, row by row, into a report
    chosen = report.rows_to_import(accepted, rejected)   # report: the organiser's rows, all or nothing

`preview` runs the first four for the import API. Refusals are ImportProblem (see report.py); messages
are English msgids rendered by whoever shows them, in the reader's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.registration.importing.checking import check_rows
from services.registration.importing.header import Table, split_header
from services.registration.importing.mapping import FIELDS, check_mapping, chosen_mapping, guess_mapping
from services.registration.importing.reading import MAX_FILE_BYTES, read_table
from services.registration.importing.report import ImportProblem, ImportReport, RowProblem, RowResult

__all__ = [
    "FIELDS",
    "MAX_FILE_BYTES",
    "ImportProblem",
    "ImportReport",
    "Preview",
    "RowProblem",
    "RowResult",
    "Table",
    "guess_mapping",
    "preview",
    "read_table",
    "split_header",
    "validate",
]


def validate(
    table: Table, mapping: dict[int, str], existing_email_keys: set[str] | frozenset[str]
) -> ImportReport:
    """Check every data row of `table` under `mapping` (column index → field) against the event's
    participants (`existing_email_keys`, see text.email_key). Writes nothing."""
    mapping_problems = check_mapping(table.headers, mapping)
    if mapping_problems:
        return ImportReport(rows=[], mapping_problems=mapping_problems, unchecked=len(table.rows))
    return ImportReport(rows=check_rows(table, mapping, existing_email_keys))


@dataclass
class Preview:
    table: Table
    #: column index → field, as guessed from the headers
    guessed_mapping: dict[int, str]
    #: column index → field, as used: the organiser's choice, or the guess
    mapping: dict[int, str]
    report: ImportReport


def preview(
    filename: str,
    data: bytes,
    existing_email_keys: set[str] | frozenset[str],
    chosen: Mapping[str, str | None] | None = None,
) -> Preview:
    """The file read, its columns mapped (`chosen`, JSON-style: column number as text → field; or
    guessed) and every row checked. Raises ImportProblem when the file or the mapping is unusable."""
    table = split_header(read_table(filename, data))
    guessed = guess_mapping(table.headers)
    mapping = guessed if chosen is None else chosen_mapping(chosen, table.headers)
    return Preview(table, guessed, mapping, validate(table, mapping, existing_email_keys))
