"""Finding the header row: regional lists often start with a title line or two above the column names."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.registration.errors import N_
from services.registration.importing.mapping import guess_mapping
from services.registration.importing.reading import HEADER_SEARCH_ROWS, MAX_ROWS, column_letter, too_many_rows
from services.registration.importing.report import ImportProblem


@dataclass
class Table:
    #: one name per column; empty header cells are named by their letter
    headers: list[str]
    #: the header's row number in the spreadsheet (1 unless there are title lines above)
    header_row: int
    #: (row number in the spreadsheet, cells) for every non-empty row below the header
    rows: list[tuple[int, list[str]]]


def split_header(rows: list[list[str]]) -> Table:
    """Find the header row (the best-recognised of the first few non-empty rows) and the data below it."""
    numbered = [(index + 1, cells) for index, cells in enumerate(rows) if cells]
    if not numbered:
        raise ImportProblem("empty", N_("The file is empty."))
    candidates = numbered[:HEADER_SEARCH_ROWS]
    scores = [len(guess_mapping(cells)) for _, cells in candidates]
    best = max(range(len(candidates)), key=lambda i: scores[i])
    if scores[best] == 0:
        best = 0
        if _looks_like_data(candidates[0][1]):
            raise ImportProblem(
                "no_header",
                N_(
                    "No header row found: the first row must name the columns, e.g. Surname, First "
                    "name, E-mail."
                ),
            )
    header_row, header_cells = candidates[best]
    data = numbered[numbered.index(candidates[best]) + 1 :]
    if not data:
        raise ImportProblem("no_data", N_("The file has only the header row and no participants."))
    if len(data) > MAX_ROWS:
        raise too_many_rows()
    width = max(len(cells) for _, cells in [*data, (header_row, header_cells)])
    headers = [
        header_cells[i] if i < len(header_cells) and header_cells[i] else column_letter(i)
        for i in range(width)
    ]
    return Table(headers=headers, header_row=header_row, rows=data)


def _looks_like_data(cells: list[str]) -> bool:
    filled = [cell for cell in cells if cell]
    if any("@" in cell for cell in filled):
        return True
    numeric = sum(1 for cell in filled if re.fullmatch(r"[\d\s.,:/+()-]+", cell))
    return numeric * 2 >= len(filled)
