"""Reading a participant list: the first sheet of an XLSX, or a CSV, as rows of trimmed strings.

Everything here expects a hostile file: a wrong or disguised format, a zip bomb, a sheet that claims a
billion cells, a cell of a megabyte, a broken quote, an unknown encoding. Each is refused with an
ImportProblem that says what to do, before it costs memory or time.
"""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import PurePosixPath

from python_calamine import CalamineError, CalamineWorkbook

from services.registration.errors import N_
from services.registration.importing.report import ImportProblem

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_CELL_CHARS = 1_000
#: a participant list has a few dozen columns; a wider row is refused before anything looks at its cells
MAX_COLUMNS = 200
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
#: calamine allocates the whole rectangle up to the farthest cell at once: one value in XFD1048576
#: of a 5 KB file would ask for 500 GB and abort the process, so the extent is checked beforehand.
MAX_SHEET_CELLS = 5_000_000
#: title lines above the header row that are tolerated («Список участников семинара ...»)
HEADER_SEARCH_ROWS = 10

XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
CSV_SUFFIXES = frozenset({".csv", ".txt", ".tsv"})
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, .doc, and password-protected .xlsx
_BINARY_MAGIC = (b"%PDF", b"MZ", b"\x7fELF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!", b"7z\xbc\xaf")


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", "\u00a0")


def _refuse_unsupported(filename: str) -> ImportProblem:
    return ImportProblem(
        "not_a_spreadsheet",
        N_("The file «%(name)s» is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file."),
        name=filename or "?",
    )


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """The first sheet of an XLSX, or a CSV, as rows of trimmed strings.

    Row i of the result is row i + 1 of the spreadsheet (empty rows are kept as []), so that reports
    can name rows as the organiser sees them. Raises ImportProblem for anything that is not a sane
    participant list.
    """
    if not data or not data.strip():
        raise ImportProblem("empty", N_("The file is empty."))
    if len(data) > MAX_FILE_BYTES:
        raise ImportProblem(
            "too_large", N_("The file is larger than %(limit)d MB."), limit=MAX_FILE_BYTES // (1024 * 1024)
        )
    kind = _file_kind(filename, data)
    rows = _read_xlsx(data) if kind == "xlsx" else _read_csv(data)
    if not any(rows):
        raise ImportProblem("empty", N_("The file is empty."))
    return rows


def _file_kind(filename: str, data: bytes) -> str:
    suffix = PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()
    if suffix == ".xls" or data.startswith(_OLE_MAGIC):
        raise ImportProblem(
            "old_excel",
            N_(
                "This is an old-format Excel file (.xls) or a password-protected workbook. Open it in Excel, "
                "remove the password if there is one, and save it as «Excel Workbook (.xlsx)»."
            ),
        )
    if suffix == ".ods":
        raise ImportProblem(
            "ods", N_("OpenDocument spreadsheets (.ods) are not accepted. Save the table as .xlsx or .csv.")
        )
    if suffix in XLSX_SUFFIXES:
        if not data.startswith(_ZIP_MAGIC):
            raise _refuse_unsupported(filename)
        return "xlsx"
    if suffix in CSV_SUFFIXES:
        if data.startswith(_ZIP_MAGIC) or data.startswith(_BINARY_MAGIC):
            raise _refuse_unsupported(filename)
        return "csv"
    raise _refuse_unsupported(filename)


class FormulaText(str):
    """The text of a cell that holds a formula: the value it showed when the file was saved (empty when the
    writer saved none), with the formula itself in `formula`. It counts as filled even when empty, so that
    the row check can say «formula» rather than «empty»."""

    formula: str

    def __new__(cls, value: str, formula: str):
        text = super().__new__(cls, value)
        text.formula = formula
        return text

    def __bool__(self) -> bool:
        return True


class _RowCounter:
    """Counts non-empty rows as they are read, so that a huge file is refused without loading it all."""

    limit = MAX_ROWS + HEADER_SEARCH_ROWS + 1

    def __init__(self):
        self.count = 0

    def add(self, row_number: int, cells: list[str]) -> list[str]:
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            return cells
        self.count += 1
        if self.count > self.limit:
            raise too_many_rows()
        if len(cells) > MAX_COLUMNS:
            raise too_many_columns(row_number, len(cells))
        for index, cell in enumerate(cells):
            if len(cell) > MAX_CELL_CHARS:
                raise ImportProblem(
                    "cell_too_long",
                    N_(
                        "Row %(row)d, column %(column)s: the cell holds %(length)d characters, more than "
                        "%(limit)d allowed. Shorten it and upload the file again."
                    ),
                    row=row_number,
                    column=column_letter(index),
                    length=len(cell),
                    limit=MAX_CELL_CHARS,
                )
        return cells


def too_many_rows() -> ImportProblem:
    return ImportProblem(
        "too_many_rows",
        N_(
            "The file has more than %(limit)s participant rows. Split it into files of at most "
            "%(limit)s rows."
        ),
        limit=_thousands(MAX_ROWS),
    )


def too_many_columns(row_number: int, count: int) -> ImportProblem:
    return ImportProblem(
        "too_many_columns",
        N_(
            "Row %(row)d has %(count)s columns (the last filled one is %(column)s); a participant list may "
            "have at most %(limit)d. Delete the columns that are not about participants and upload the "
            "file again."
        ),
        row=row_number,
        count=_thousands(count),
        column=column_letter(count - 1),
        limit=MAX_COLUMNS,
    )


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: columns as a spreadsheet names them."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# XLSX ---------------------------------------------------------------------------------------------


def _read_xlsx(data: bytes) -> list[list[str]]:
    formulas = _check_workbook_archive(data)
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        padding = [""] * (sheet.start[1] if sheet.start else 0)
        counter, rows = _RowCounter(), []
        for number, raw in enumerate(sheet.iter_rows(), start=1):
            cells = counter.add(
                number, [value.strip() if type(value) is str else _cell_text(value) for value in raw]
            )
            rows.append(padding + cells if cells and padding else cells)
    except (CalamineError, ValueError, OSError) as exc:
        raise _damaged() from exc
    _mark_formulas(rows, formulas)
    return rows


def _mark_formulas(rows: list[list[str]], formulas: dict[tuple[int, int], str]) -> None:
    """Put each formula cell of the first sheet in its place as FormulaText. calamine gives a formula's saved
    value, and leaves out a formula saved without one, as if the cell were empty."""
    for (row, column), formula in formulas.items():
        while len(rows) <= row:
            rows.append([])
        cells = rows[row]
        if len(cells) <= column:
            if column >= MAX_COLUMNS:
                raise too_many_columns(row + 1, column + 1)
            cells.extend([""] * (column + 1 - len(cells)))
        cells[column] = FormulaText(cells[column], formula)


def _damaged() -> ImportProblem:
    return ImportProblem(
        "damaged",
        N_(
            "The workbook is damaged and cannot be read. Open it in Excel, save it again as .xlsx "
            "and upload the new file."
        ),
    )


def _cell_text(value) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        # Phone numbers and СНИЛС typed as numbers come back as floats: 79161234567.0.
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y") if value.time() == time() else value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, timedelta | time):
        return str(value)
    return "" if value is None else str(value).strip()


def _check_workbook_archive(data: bytes) -> dict[tuple[int, int], str]:
    """Refuse zip bombs and sparse-sheet bombs before calamine touches the file; the first sheet's formulas
    by (row, column), both from 0."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise _damaged() from exc
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        raise ImportProblem(
            "not_a_spreadsheet",
            N_(
                "The file is a ZIP archive, not an Excel workbook. Upload an Excel workbook (.xlsx) "
                "or a CSV file."
            ),
        )
    declared = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if (
        len(infos) > 10_000
        or declared > MAX_UNCOMPRESSED_BYTES
        or declared > MAX_COMPRESSION_RATIO * max(packed, 1)
    ):
        raise _bomb()
    unpacked = 0
    with_formulas = set()
    try:
        for info in infos:
            # Declared sizes can lie: count what really comes out of every part calamine may read.
            # Every XML part is scanned for cells, not only the first sheet: which part that is can be
            # disguised (a sheet outside xl/worksheets/, a decoy <sheet> in a comment).
            if not info.filename.endswith((".xml", ".rels")):
                continue
            extent = _SheetExtent()
            with archive.open(info) as part:
                while chunk := part.read(1 << 20):
                    unpacked += len(chunk)
                    if unpacked > MAX_UNCOMPRESSED_BYTES:
                        raise _bomb()
                    extent.feed(chunk)
            if extent.formulas:
                with_formulas.add(info.filename)
            if extent.cells > MAX_SHEET_CELLS:
                raise ImportProblem(
                    "sheet_too_large",
                    N_(
                        "The first sheet reaches cell %(cell)s, too far to read. Delete the empty rows and "
                        "columns (or copy the list to a new sheet) and upload the file again."
                    ),
                    cell=extent.farthest_cell,
                )
        first = _first_sheet_part(archive)
        if first not in with_formulas:
            return {}
        return _formulas(archive.read(first))
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError) as exc:
        raise _damaged() from exc  # RuntimeError: an encrypted part


_SHEET = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)>")
_RELATIONSHIP_ID = re.compile(rb"\s\w+:id\s*=\s*[\"']([^\"']*)[\"']")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"\b(Id|Target)\s*=\s*[\"']([^\"']*)[\"']")


def _first_sheet_part(archive: zipfile.ZipFile) -> str | None:
    """The part of the workbook's first sheet, as calamine finds it: the first <sheet> of workbook.xml and
    its relationship. None when the workbook does not say (calamine then reads nothing either)."""
    sheet = _SHEET.search(archive.read("xl/workbook.xml"))
    relationship = _RELATIONSHIP_ID.search(sheet.group(1)) if sheet else None
    if relationship is None or "xl/_rels/workbook.xml.rels" not in archive.namelist():
        return None
    for attributes in _RELATIONSHIP.findall(archive.read("xl/_rels/workbook.xml.rels")):
        found = dict(_ATTRIBUTE.findall(attributes))
        if found.get(b"Id") == relationship.group(1) and b"Target" in found:
            target = found[b"Target"].decode("utf-8", "replace")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


#: a cell whose first child is a formula (the schema puts <f> before <v> and <is>)
_FORMULA_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*[^/])>\s*<(?:\w+:)?f\b[^>]*?(?:/>|>([^<]*)</(?:\w+:)?f>)")


def _formulas(xml: bytes) -> dict[tuple[int, int], str]:
    found = {}
    for attributes, formula in _FORMULA_CELL.findall(xml):
        ref = _SheetExtent._REF.search(attributes)
        plain = _SheetExtent._PLAIN_REF.fullmatch(ref.group(1)) if ref else None
        if plain is None:
            raise _damaged()
        letters, row = plain.groups()
        # A shared formula's other cells carry no text of their own: "=" says what they are all the same.
        text = "=" + html.unescape(formula.decode("utf-8", "replace")) if formula else "="
        found[(int(row) - 1, _column_number(letters) - 1)] = text
    return found


def _bomb() -> ImportProblem:
    return ImportProblem(
        "zip_bomb",
        N_(
            "The workbook unpacks to more than %(limit)d MB or is packed suspiciously tightly, so it was not "
            "read. Keep only the participant list in the file and save it again."
        ),
        limit=MAX_UNCOMPRESSED_BYTES // (1024 * 1024),
    )


class _SheetExtent:
    """The farthest row and column holding a value, from a part's XML as it streams past.

    Empty formatted cells (<c r="J1048576" s="1"/>, or <c ...></c> as openpyxl writes them) are skipped, as
    calamine skips them. A cell with
    content but without a plain reference (r="B7") is refused: calamine would place it by counting, and
    Excel, LibreOffice and every common writer always give the reference.
    """

    _CELL = re.compile(rb"<(?:\w+:)?c(?=[\s/>])([^>]*)>(</(?:\w+:)?c>)?")
    _REF = re.compile(rb"\br\s*=\s*[\"']([^\"']*)[\"']")
    _PLAIN_REF = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})")
    #: text carried to the next chunk: what follows the last complete tag, so that no tag is cut in two
    _MAX_CARRY = 1 << 20

    _FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")

    def __init__(self):
        self.max_row = self.max_column = 0
        self._widest = b""
        self._tail = b""
        #: whether the part holds a formula (then the first sheet's formulas are read: see _formulas)
        self.formulas = False

    def feed(self, chunk: bytes) -> None:
        text = self._tail + chunk
        if not self.formulas and self._FORMULA.search(text):
            self.formulas = True
        max_row, widest = self.max_row, self._widest
        for attributes, closed_at_once in self._CELL.findall(text):
            if attributes.endswith(b"/") or closed_at_once:
                continue
            ref = self._REF.search(attributes)
            plain = self._PLAIN_REF.fullmatch(ref.group(1)) if ref else None
            if plain is None:
                raise _damaged()
            letters, row = plain.groups()
            if len(letters) > len(widest) or (len(letters) == len(widest) and letters > widest):
                widest = letters
            max_row = max(max_row, int(row))
        self.max_row, self._widest = max_row, widest
        self.max_column = _column_number(widest) if widest else 0
        self._tail = text[text.rfind(b">") + 1 :]
        if len(self._tail) > self._MAX_CARRY:
            raise _damaged()  # a megabyte without a single '>' is no spreadsheet XML

    @property
    def cells(self) -> int:
        return self.max_row * self.max_column

    @property
    def farthest_cell(self) -> str:
        return f"{column_letter(max(self.max_column, 1) - 1)}{self.max_row}"


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


# CSV ----------------------------------------------------------------------------------------------


def _read_csv(data: bytes) -> list[list[str]]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    counter, rows = _RowCounter(), []
    try:
        for number, raw in enumerate(reader, start=1):
            rows.append(counter.add(number, [cell.strip() for cell in raw]))
    except csv.Error as exc:
        # The csv module's own limit (128 KB in one field) or a broken quote.
        raise ImportProblem(
            "bad_csv",
            N_(
                "Row %(row)d of the CSV file cannot be read: a quote is not closed or a cell is far "
                "too long. "
                "Save the file again from Excel as «CSV UTF-8»."
            ),
            row=reader.line_num,
        ) from exc
    return rows


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's «Unicode text»
        encodings = ("utf-16",)
    elif b"\x00" in data[:8192]:
        raise _refuse_unsupported("CSV")
    else:
        # Regional offices' Excel saves CSV in cp1251; anything else is UTF-8, perhaps with a BOM.
        encodings = ("utf-8-sig", "cp1251")
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            raise _refuse_unsupported("CSV")
        return text
    raise ImportProblem(
        "bad_encoding",
        N_(
            "The CSV file's encoding is not recognised. Save it from Excel as «CSV UTF-8» and upload "
            "it again."
        ),
    )


def _sniff_delimiter(text: str) -> str:
    """The delimiter used most, outside quotes, in the first lines; ties go to ';' (Russian Excel's)."""
    counts = {";": 0, "\t": 0, ",": 0}
    lines = 0
    for line in io.StringIO(text[:65536]):
        if not line.strip():
            continue
        lines += 1
        if lines > HEADER_SEARCH_ROWS + 5:
            break
        quoted = False
        for char in line:
            if char == '"':
                quoted = not quoted
            elif not quoted and char in counts:
                counts[char] += 1
    best = max(counts, key=lambda d: counts[d])  # max keeps the first of equals: ; then tab then ,
    return best if counts[best] else ","
