"""Participant lists from spreadsheets: reading XLSX and CSV safely, guessing which column is which,
and a row-by-row report of what is wrong before anything is written.

Pure functions: no Flask, no database. Messages are English msgids (marked with N_) rendered through
a `translate` function; by default Russian, the language organisers read.

    rows = read_table(filename, data)          # refuses what is not a sane spreadsheet (ImportProblem)
    table = split_header(rows)                 # finds the header row, numbers the data rows
    mapping = guess_mapping(table.headers)     # column index → field
    report = validate(table, mapping, existing_email_keys)
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cache, lru_cache
from pathlib import Path, PurePosixPath

from babel.support import NullTranslations, Translations
from email_validator import EmailNotValidError, validate_email
from python_calamine import CalamineError, CalamineWorkbook

from services.registration.models import Participant
from services.registration.participants import email_key
from services.registration.regions import all_regions, match_region, suggest_region
from services.registration.snils import InvalidSnils, normalise_snils
from services.registration.text import fold, has_mixed_scripts

# --- limits ------------------------------------------------------------------------------------

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
MAX_CELL_CHARS = 1_000
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

# --- messages ------------------------------------------------------------------------------------

TRANSLATIONS_DIR = Path(__file__).resolve().parents[2] / "eventops" / "translations"
Translate = Callable[[str], str]


def N_(msgid: str) -> str:
    """Marks a message for extraction (pybabel); it is translated when shown."""
    return msgid


@cache
def _catalog(locale: str) -> NullTranslations:
    return Translations.load(str(TRANSLATIONS_DIR), [locale])


def russian(msgid: str) -> str:
    return _catalog("ru").gettext(msgid)


def _render(translate: Translate, msgid: str, params: dict) -> str:
    text = translate(msgid)
    return text % params if params else text


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", "\u00a0")


class ImportProblem(Exception):
    """The file as a whole cannot be imported; `message()` says why and what to do, for a person."""

    def __init__(self, code: str, msgid: str, **params):
        super().__init__(msgid % params if params else msgid)
        self.code, self.msgid, self.params = code, msgid, params

    def message(self, translate: Translate = russian) -> str:
        return _render(translate, self.msgid, self.params)


def _refuse_unsupported(filename: str) -> ImportProblem:
    return ImportProblem(
        "not_a_spreadsheet",
        N_("The file «%(name)s» is not a spreadsheet. Upload an Excel workbook (.xlsx) or a CSV file."),
        name=filename or "?",
    )


# --- reading -------------------------------------------------------------------------------------


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
            "The file has more than %(limit)s participant rows. Split it into files of at most %(limit)s rows."
        ),
        limit=_thousands(MAX_ROWS),
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
    _check_workbook_archive(data)
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
    return rows


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


def _check_workbook_archive(data: bytes) -> None:
    """Refuse zip bombs and sparse-sheet bombs before calamine touches the file."""
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
                "The file is a ZIP archive, not an Excel workbook. Upload an Excel workbook (.xlsx) or a CSV file."
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
            if extent.cells > MAX_SHEET_CELLS:
                raise ImportProblem(
                    "sheet_too_large",
                    N_(
                        "The first sheet reaches cell %(cell)s, too far to read. Delete the empty rows and "
                        "columns (or copy the list to a new sheet) and upload the file again."
                    ),
                    cell=extent.farthest_cell,
                )
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, OSError) as exc:
        raise _damaged() from exc  # RuntimeError: an encrypted part


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

    Empty formatted cells (<c r="J1048576" s="1"/>) are skipped, as calamine skips them. A cell with
    content but without a plain reference (r="B7") is refused: calamine would place it by counting, and
    Excel, LibreOffice and every common writer always give the reference.
    """

    _CELL = re.compile(rb"<(?:\w+:)?c(?=[\s/>])([^>]*)>")
    _REF = re.compile(rb"\br\s*=\s*[\"']([^\"']*)[\"']")
    _PLAIN_REF = re.compile(rb"([A-Z]{1,3})([0-9]{1,7})")
    #: text carried to the next chunk: what follows the last complete tag, so that no tag is cut in two
    _MAX_CARRY = 1 << 20

    def __init__(self):
        self.max_row = self.max_column = 0
        self._widest = b""
        self._tail = b""

    def feed(self, chunk: bytes) -> None:
        text = self._tail + chunk
        max_row, widest = self.max_row, self._widest
        for attributes in self._CELL.findall(text):
            if attributes.endswith(b"/"):
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
                "Row %(row)d of the CSV file cannot be read: a quote is not closed or a cell is far too long. "
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
            "The CSV file's encoding is not recognised. Save it from Excel as «CSV UTF-8» and upload it again."
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


# --- the header row ------------------------------------------------------------------------------


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
                    "No header row found: the first row must name the columns, e.g. Surname, First name, E-mail."
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


# --- mapping -------------------------------------------------------------------------------------

#: fields a column can be mapped to, in the order they are offered
FIELDS = (
    "surname",
    "first_name",
    "patronymic",
    "full_name",
    "email",
    "phone",
    "region",
    "organisation",
    "position",
    "birth_date",
    "gender",
    "snils",
    "citizenship",
    "education_level",
    "diploma_surname",
    "diploma_series",
    "diploma_number",
)

#: participant fields whose length the database limits, and the limit (from the model's columns)
LENGTH_LIMITS = {
    name: Participant.__table__.c[name].type.length
    for name in (
        "surname",
        "first_name",
        "patronymic",
        "email",
        "phone",
        "organisation",
        "position",
        "education_level",
        "diploma_surname",
        "diploma_series",
        "diploma_number",
    )
}

_HEADER_ALIASES = {
    "surname": ("фамилия", "фамилияучастника", "lastname", "surname", "familyname"),
    "first_name": ("имя", "имяучастника", "firstname", "givenname", "forename"),
    "patronymic": ("отчество", "отчествоприналичии", "middlename", "patronymic", "patronym"),
    "full_name": (
        "фио",
        "фиоучастника",
        "фамилияимяотчество",
        "фиополностью",
        "участник",
        "фиослушателя",
        "fullname",
        "name",
        "participant",
        "participantname",
    ),
    "email": (
        "email",
        "эmail",
        "емейл",
        "емэйл",
        "имейл",
        "имэйл",
        "электроннаяпочта",
        "элпочта",
        "эпочта",
        "почта",
        "адресэлектроннойпочты",
        "адресэлпочты",
        "mail",
        "emailaddress",
        "еmail",
    ),
    "phone": (
        "телефон",
        "тел",
        "номертелефона",
        "контактныйтелефон",
        "мобильныйтелефон",
        "сотовый",
        "phone",
        "phonenumber",
        "mobile",
        "telephone",
        "tel",
    ),
    "region": (
        "регион",
        "субъектрф",
        "субъект",
        "субъектроссийскойфедерации",
        "регионрф",
        "region",
        "областькрайреспублика",
    ),
    "organisation": (
        "организация",
        "местоработы",
        "учреждение",
        "наименованиеорганизации",
        "ведомство",
        "organisation",
        "organization",
        "company",
        "employer",
        "workplace",
    ),
    "position": ("должность", "занимаемаядолжность", "position", "jobtitle", "job"),
    "birth_date": ("датарождения", "др", "birthdate", "dateofbirth", "dob", "birthday"),
    "gender": ("пол", "gender", "sex"),
    "snils": ("снилс", "snils", "номерснилс", "страховойномер"),
    "citizenship": ("гражданство", "citizenship", "nationality", "кодоксм"),
    "education_level": ("уровеньобразования", "образование", "educationlevel", "education"),
    "diploma_surname": ("фамилиявдипломе", "фамилияуказаннаявдипломе", "diplomasurname"),
    "diploma_series": ("сериядиплома", "diplomaseries"),
    "diploma_number": ("номердиплома", "diplomanumber"),
}
_ALIAS_INDEX = {alias: name for name, aliases in _HEADER_ALIASES.items() for alias in aliases}

# Looser rules for headers that are not an exact alias, most specific first.
_HEADER_RULES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("диплом", "фамил"), "diploma_surname"),
    (("диплом", "сери"), "diploma_series"),
    (("диплом", "номер"), "diploma_number"),
    (("фамилияимяотчество",), "full_name"),
    (("фамилия", "имя"), "full_name"),
    (("фамил",), "surname"),
    (("отчеств",), "patronymic"),
    (("имя",), "first_name"),
    (("mail",), "email"),
    (("почт",), "email"),
    (("телефон",), "phone"),
    (("phone",), "phone"),
    (("регион",), "region"),
    (("субъект",), "region"),
    (("region",), "region"),
    (("организац",), "organisation"),
    (("месторабот",), "organisation"),
    (("учрежден",), "organisation"),
    (("organi",), "organisation"),
    (("должност",), "position"),
    (("рожд",), "birth_date"),
    (("birth",), "birth_date"),
    (("снилс",), "snils"),
    (("гражданств",), "citizenship"),
    (("образован",), "education_level"),
)

_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_ALNUM = re.compile(r"[\W_]+")


def header_key(header: str) -> str:
    """A header reduced for matching: folded (case, ё, look-alikes), without punctuation or spaces."""
    return _NOT_ALNUM.sub("", fold(header))


def guess_field(header: str) -> str | None:
    key = header_key(header)
    bare = header_key(_PARENTHESES.sub(" ", header))  # «Телефон (мобильный)», «Дата рождения (ДД.ММ.ГГГГ)»
    for candidate in (bare, key):
        if candidate in _ALIAS_INDEX:
            return _ALIAS_INDEX[candidate]
    for parts, name in _HEADER_RULES:
        if all(part in key for part in parts):
            return name
    return None


def guess_mapping(headers: Iterable[str]) -> dict[int, str]:
    """Column index → field for the headers that name a known field; the first column of a field wins."""
    mapping: dict[int, str] = {}
    for index, header in enumerate(headers):
        name = guess_field(header) if header else None
        if name and name not in mapping.values():
            mapping[index] = name
    return mapping


# --- the report ----------------------------------------------------------------------------------

OK, WARNING, ERROR, DUPLICATE = "ok", "warning", "error", "duplicate"


@dataclass
class RowProblem:
    #: "error" (the row cannot be imported), "warning" (imported as corrected) or "duplicate" (skipped)
    severity: str
    code: str
    msgid: str
    params: dict
    field: str | None = None
    column: str | None = None
    value: str = ""
    #: what the value will become, or what it probably should be
    suggestion: str | None = None

    def message(self, translate: Translate = russian) -> str:
        return _render(
            translate, self.msgid, {"value": self.value, "suggestion": self.suggestion, **self.params}
        )

    def to_dict(self, translate: Translate = russian) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "field": self.field,
            "column": self.column,
            "value": self.value,
            "suggestion": self.suggestion,
            "message": self.message(translate),
        }


@dataclass
class RowResult:
    row: int
    status: str = OK
    problems: list[RowProblem] = field(default_factory=list)
    #: the participant's cleaned fields (as ParticipantIn takes them), when the row has no errors
    values: dict | None = None


@dataclass
class ImportReport:
    rows: list[RowResult]
    #: what is wrong with the mapping itself (no e-mail column...): nothing can be imported until fixed
    mapping_problems: list[RowProblem] = field(default_factory=list)
    #: rows in the file, when they could not be checked because of the mapping
    unchecked: int = 0

    @property
    def counts(self) -> dict[str, int]:
        counts = {"total": len(self.rows) + self.unchecked, OK: 0, WARNING: 0, ERROR: 0, DUPLICATE: 0}
        for row in self.rows:
            counts[row.status] += 1
        return counts

    def by_row(self) -> dict[int, RowResult]:
        return {row.row: row for row in self.rows}

    def importable(self) -> list[int]:
        """Rows imported when the organiser accepts the default: every row without an error."""
        return [row.row for row in self.rows if row.status in (OK, WARNING)]

    def to_dict(self, translate: Translate = russian) -> dict:
        return {
            "counts": self.counts,
            "mapping_problems": [problem.message(translate) for problem in self.mapping_problems],
            "rows": [
                {
                    "row": row.row,
                    "status": row.status,
                    "problems": [problem.to_dict(translate) for problem in row.problems],
                }
                for row in self.rows
                if row.problems
            ],
        }


def validate(
    table: Table, mapping: dict[int, str], existing_email_keys: set[str] | frozenset[str]
) -> ImportReport:
    """Check every data row of `table` under `mapping` (column index → field) against the event's
    participants (`existing_email_keys`, see participants.email_key). Writes nothing."""
    mapping_problems = _check_mapping(table, mapping)
    if mapping_problems:
        return ImportReport(rows=[], mapping_problems=mapping_problems, unchecked=len(table.rows))
    checker = _RowChecker(table.headers, mapping, existing_email_keys)
    checked = (checker.check(number, cells) for number, cells in table.rows)
    return ImportReport(rows=[result for result in checked if result is not None])


def _check_mapping(table: Table, mapping: dict[int, str]) -> list[RowProblem]:
    problems = []
    fields = set(mapping.values())
    seen: dict[str, int] = {}
    for index, name in sorted(mapping.items()):
        if name in seen:
            problems.append(
                _problem(
                    ERROR,
                    "mapping_twice",
                    N_("Columns «%(first)s» and «%(second)s» are both chosen for the same field; leave one."),
                    first=table.headers[seen[name]],
                    second=table.headers[index],
                )
            )
        seen.setdefault(name, index)
    if not fields & {"surname", "full_name"}:
        problems.append(
            _problem(
                ERROR, "mapping_no_surname", N_("Choose the column with the surname (or with the full name).")
            )
        )
    if not fields & {"first_name", "full_name"}:
        problems.append(
            _problem(
                ERROR,
                "mapping_no_first_name",
                N_("Choose the column with the first name (or with the full name)."),
            )
        )
    if "email" not in fields:
        problems.append(_problem(ERROR, "mapping_no_email", N_("Choose the column with the e-mail.")))
    return problems


def _problem(
    severity: str,
    code: str,
    msgid: str,
    *,
    field: str | None = None,
    column: str | None = None,
    value: str = "",
    suggestion: str | None = None,
    **params,
) -> RowProblem:
    return RowProblem(
        severity=severity,
        code=code,
        msgid=msgid,
        params=params,
        field=field,
        column=column,
        value=value,
        suggestion=suggestion,
    )


# Latin letters that look like Cyrillic ones, and back, with case kept.
_TO_CYRILLIC = str.maketrans("AaBCcEeHKkMOoPpTXxYy", "АаВСсЕеНКкМОоРрТХхУу")
_TO_LATIN = str.maketrans("АаВСсЕеНКкМОоРрТХхУу", "AaBCcEeHKkMOoPpTXxYy")
_CYRILLIC_LETTER = re.compile("[А-Яа-яЁё]")
_LATIN_LETTER = re.compile("[A-Za-z]")
_NOT_IN_NAME = re.compile(r"[^\w\s'’.()-]|[\d_]")
_SPACES = re.compile(r"\s+")
_EMAIL_SEPARATORS = re.compile(r"[,;\s]+")

_GENDERS = {
    "м": "male",
    "муж": "male",
    "мужской": "male",
    "m": "male",
    "male": "male",
    "мужчина": "male",
    "ж": "female",
    "жен": "female",
    "женский": "female",
    "f": "female",
    "female": "female",
    "женщина": "female",
}
_COUNTRIES = {
    "россия": "643",
    "рф": "643",
    "российскаяфедерация": "643",
    "ru": "643",
    "rus": "643",
    "russia": "643",
    "беларусь": "112",
    "белоруссия": "112",
    "республикабеларусь": "112",
    "казахстан": "398",
    "республикаказахстан": "398",
    "армения": "051",
    "азербайджан": "031",
    "киргизия": "417",
    "кыргызстан": "417",
    "таджикистан": "762",
    "узбекистан": "860",
    "молдова": "498",
    "украина": "804",
    "абхазия": "895",
    "южнаяосетия": "896",
}
_EDUCATION_LEVELS = {
    "во": "ВО",
    "высшее": "ВО",
    "высшееобразование": "ВО",
    "спо": "СПО",
    "среднеепрофессиональное": "СПО",
    "среднееспециальное": "СПО",
}
_DATE_FORMATS = ("%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y %H:%M")


class _RowChecker:
    """Checks rows one by one, remembering what earlier rows used (e-mails) and what it has looked up."""

    def __init__(self, headers: list[str], mapping: dict[int, str], existing_email_keys):
        self.headers = headers
        self.columns = {name: index for index, name in sorted(mapping.items(), reverse=True)}
        self.existing = existing_email_keys
        self.seen_emails: dict[str, tuple[int, str]] = {}  # e-mail key → (row, folded name)
        self.regions: dict[str, tuple] = {}
        self.region_codes = {region.code: region for region in all_regions()}

    def check(self, number: int, cells: list[str]) -> RowResult | None:
        """The row's result, or None for a row with nothing in the mapped columns (a numbered blank)."""
        get = self._getter(cells)
        if not any(get(name)[0] for name in self.columns):
            return None
        result = RowResult(row=number)
        values: dict = {}
        problems = result.problems
        self._names(get, values, problems)
        email = self._email(get, values, problems)
        region = get("region")
        values["region_code"] = self._region(region, problems) if region[0] else None
        for name in (
            "phone",
            "organisation",
            "position",
            "diploma_surname",
            "diploma_series",
            "diploma_number",
        ):
            values[name] = self._text(name, get(name), problems)
        values["birth_date"] = self._birth_date(get("birth_date"), problems)
        values["gender"] = self._gender(get("gender"), problems)
        values["snils"] = self._snils(get("snils"), problems)
        values["citizenship"] = self._citizenship(get("citizenship"), problems)
        values["education_level"] = self._education(get("education_level"), problems)
        for name in ("phone", "organisation", "position"):
            values[name] = values[name] or ""
        self._duplicates(number, email, values, problems)
        result.status = _status(problems)
        if result.status != ERROR:
            result.values = values
        return result

    def _getter(self, cells: list[str]):
        def get(name: str) -> tuple[str, str | None]:
            index = self.columns.get(name)
            if index is None:
                return "", None
            return (cells[index] if index < len(cells) else ""), self.headers[index]

        return get

    # names ---------------------------------------------------------------------------------------

    def _names(self, get, values: dict, problems: list) -> None:
        parts = {name: get(name) for name in ("surname", "first_name", "patronymic")}
        full, full_column = get("full_name")
        if full and not (parts["surname"][0] and parts["first_name"][0]):
            words = _SPACES.sub(" ", full).strip().split(" ")
            if len(words) < 2:
                problems.append(
                    _problem(
                        ERROR,
                        "full_name_incomplete",
                        N_(
                            "The full name «%(value)s» has no first name. Write it as «Surname First-name Patronymic»."
                        ),
                        field="full_name",
                        column=full_column,
                        value=full,
                    )
                )
            split = {
                "surname": words[0],
                "first_name": words[1] if len(words) > 1 else "",
                "patronymic": " ".join(words[2:]),
            }
            for name, value in split.items():
                if not parts[name][0]:
                    parts[name] = (value, full_column)
        for name in ("surname", "first_name", "patronymic"):
            raw, column = parts[name]
            values[name] = self._name(name, raw, column, problems)
        if not values["surname"] and not _has(problems, "full_name_incomplete"):
            column = parts["surname"][1] or full_column
            problems.append(
                _problem(
                    ERROR,
                    "missing_surname",
                    N_("The surname is empty. Fill it in."),
                    field="surname",
                    column=column,
                )
            )
        if not values["first_name"] and not _has(problems, "full_name_incomplete"):
            column = parts["first_name"][1] or full_column
            problems.append(
                _problem(
                    ERROR,
                    "missing_first_name",
                    N_("The first name is empty. Fill it in."),
                    field="first_name",
                    column=column,
                )
            )
        values["patronymic"] = values["patronymic"] or None

    def _name(self, name: str, raw: str, column: str | None, problems: list) -> str:
        value = _SPACES.sub(" ", raw).strip()
        if not value:
            return ""
        if _NOT_IN_NAME.search(value):
            problems.append(
                _problem(
                    ERROR,
                    "name_characters",
                    N_("«%(value)s» has digits or signs that do not belong in a name. Leave only letters."),
                    field=name,
                    column=column,
                    value=raw,
                )
            )
            return value
        if any(has_mixed_scripts(word) for word in value.split()):
            fixed = " ".join(_fix_scripts(word) for word in value.split())
            if any(has_mixed_scripts(word) for word in fixed.split()):
                problems.append(
                    _problem(
                        ERROR,
                        "mixed_scripts",
                        N_("«%(value)s» mixes Latin and Cyrillic letters. Retype it in one alphabet."),
                        field=name,
                        column=column,
                        value=raw,
                    )
                )
            else:
                problems.append(
                    _problem(
                        WARNING,
                        "mixed_scripts_fixed",
                        N_(
                            "«%(value)s» mixes Latin and Cyrillic letters that look alike; it will be imported "
                            "as «%(fixed)s»."
                        ),
                        field=name,
                        column=column,
                        value=raw,
                        suggestion=fixed,
                        fixed=fixed,
                    )
                )
                value = fixed
        return self._length(name, value, column, problems)

    # e-mail --------------------------------------------------------------------------------------

    def _email(self, get, values: dict, problems: list) -> str | None:
        raw, column = get("email")
        values["email"] = None
        if not raw:
            problems.append(
                _problem(
                    ERROR,
                    "missing_email",
                    N_("The e-mail is empty. Every participant needs their own address."),
                    field="email",
                    column=column,
                )
            )
            return None
        candidates = [part for part in _EMAIL_SEPARATORS.split(raw) if part]
        if len(candidates) > 1 and sum("@" in part for part in candidates) > 1:
            problems.append(
                _problem(
                    ERROR,
                    "several_emails",
                    N_("The cell holds several addresses («%(value)s»). Keep one address per participant."),
                    field="email",
                    column=column,
                    value=raw,
                )
            )
            return None
        compact = "".join(raw.split()).strip(".,;")
        try:
            email = normalise_email(compact)
        except EmailNotValidError:
            problems.append(
                _problem(
                    ERROR,
                    "invalid_email",
                    N_(
                        "«%(value)s» is not a valid e-mail address. Check that it has one @ and a domain, "
                        "like ivanova@mail.ru."
                    ),
                    field="email",
                    column=column,
                    value=raw,
                )
            )
            return None
        if compact != raw.strip():
            problems.append(
                _problem(
                    WARNING,
                    "email_cleaned",
                    N_("Spaces and stray punctuation were removed from the e-mail: %(fixed)s."),
                    field="email",
                    column=column,
                    value=raw,
                    suggestion=email,
                    fixed=email,
                )
            )
        email = self._length("email", email, column, problems)
        values["email"] = email
        return email

    def _duplicates(self, number: int, email: str | None, values: dict, problems: list) -> None:
        if not email:
            return
        key = email_key(email)
        column = self.headers[self.columns["email"]]
        if key in self.existing:
            problems.append(
                _problem(
                    DUPLICATE,
                    "duplicate_existing",
                    N_(
                        "A participant with the e-mail %(email)s is already registered for this event; "
                        "the row will be skipped."
                    ),
                    field="email",
                    column=column,
                    value=email,
                    email=email,
                )
            )
            return
        name = fold(" ".join(filter(None, (values.get("surname"), values.get("first_name")))))
        earlier = self.seen_emails.get(key)
        if earlier is None:
            self.seen_emails[key] = (number, name)
        elif earlier[1] == name:
            problems.append(
                _problem(
                    DUPLICATE,
                    "repeated_row",
                    N_(
                        "The same person with the same e-mail is already in row %(other)d; this row will be skipped."
                    ),
                    field="email",
                    column=column,
                    value=email,
                    other=earlier[0],
                )
            )
        else:
            problems.append(
                _problem(
                    ERROR,
                    "duplicate_in_file",
                    N_(
                        "The e-mail %(email)s is also given in row %(other)d for another person. "
                        "Each participant needs their own address."
                    ),
                    field="email",
                    column=column,
                    value=email,
                    email=email,
                    other=earlier[0],
                )
            )

    # region --------------------------------------------------------------------------------------

    def _region(self, cell: tuple[str, str | None], problems: list) -> str | None:
        raw, column = cell
        if raw not in self.regions:
            self.regions[raw] = self._look_up_region(raw)
        code, severity, suggestion = self.regions[raw]
        if severity == WARNING:
            problems.append(
                _problem(
                    WARNING,
                    "region_mapped",
                    N_("Region «%(value)s» is read as «%(region)s»."),
                    field="region",
                    column=column,
                    value=raw,
                    suggestion=suggestion,
                    region=suggestion,
                )
            )
        elif severity == ERROR and suggestion:
            problems.append(
                _problem(
                    ERROR,
                    "unknown_region",
                    N_(
                        "Region «%(value)s» is not in the list of subjects of the Russian Federation. "
                        "Did you mean «%(suggestion)s»? Correct the name in the file."
                    ),
                    field="region",
                    column=column,
                    value=raw,
                    suggestion=suggestion,
                )
            )
        elif severity == ERROR:
            problems.append(
                _problem(
                    ERROR,
                    "unknown_region",
                    N_(
                        "Region «%(value)s» is not in the list of subjects of the Russian Federation. "
                        "Write its full name, e.g. «Rostov Oblast»."
                    ),
                    field="region",
                    column=column,
                    value=raw,
                )
            )
        return code

    def _look_up_region(self, raw: str) -> tuple[str | None, str | None, str | None]:
        """(region code, None/"warning"/"error", region name to show)."""
        if raw in self.region_codes:
            region = self.region_codes[raw]
            return region.code, WARNING, region.name
        region = match_region(raw)
        if region is not None:
            exact = _SPACES.sub(" ", raw).strip() == region.name
            return region.code, (None if exact else WARNING), region.name
        suggestion = suggest_region(raw)
        return None, ERROR, suggestion.name if suggestion else None

    # other fields --------------------------------------------------------------------------------

    def _length(self, name: str, value: str, column: str | None, problems: list) -> str:
        limit = LENGTH_LIMITS.get(name)
        if limit and len(value) > limit:
            problems.append(
                _problem(
                    ERROR,
                    "too_long",
                    N_("The value is %(length)d characters long; at most %(limit)d fit. Shorten it."),
                    field=name,
                    column=column,
                    value=value[:80] + "…",
                    length=len(value),
                    limit=limit,
                )
            )
        return value

    def _text(self, name: str, cell: tuple[str, str | None], problems: list) -> str | None:
        raw, column = cell
        value = _SPACES.sub(" ", raw).strip()
        return self._length(name, value, column, problems) if value else None

    def _birth_date(self, cell, problems: list) -> date | None:
        raw, column = cell
        if not raw:
            return None
        parsed = _parse_date(raw)
        if parsed is None:
            problems.append(
                _problem(
                    ERROR,
                    "invalid_date",
                    N_("«%(value)s» is not a date. Write it as DD.MM.YYYY, e.g. 07.10.1985."),
                    field="birth_date",
                    column=column,
                    value=raw,
                )
            )
            return None
        if not date(1900, 1, 1) <= parsed <= date.today() - timedelta(days=365 * 14):
            problems.append(
                _problem(
                    ERROR,
                    "implausible_date",
                    N_("The birth date %(value)s cannot be right. Check the year."),
                    field="birth_date",
                    column=column,
                    value=raw,
                )
            )
            return None
        return parsed

    def _gender(self, cell, problems: list) -> str | None:
        raw, column = cell
        if not raw:
            return None
        gender = _GENDERS.get(header_key(raw))
        if gender is None:
            problems.append(
                _problem(
                    ERROR,
                    "invalid_gender",
                    N_("«%(value)s» is not a gender. Write M or F."),
                    field="gender",
                    column=column,
                    value=raw,
                )
            )
        return gender

    def _snils(self, cell, problems: list) -> str | None:
        raw, column = cell
        if not raw:
            return None
        # Excel keeps a СНИЛС typed as a number without its leading zeros.
        padded = raw.isdigit() and len(raw) in (9, 10)
        try:
            formatted = normalise_snils(raw.zfill(11) if padded else raw)
        except InvalidSnils as exc:
            if exc.code == "snils_format":
                problems.append(
                    _problem(
                        ERROR,
                        "snils_format",
                        N_("A SNILS has 11 digits (XXX-XXX-XXX YY); «%(value)s» does not."),
                        field="snils",
                        column=column,
                        value=raw,
                    )
                )
            else:
                problems.append(
                    _problem(
                        ERROR,
                        "invalid_snils",
                        N_(
                            "The check number of SNILS %(value)s does not match. Compare the number with the document."
                        ),
                        field="snils",
                        column=column,
                        value=raw,
                    )
                )
            return None
        if padded:
            problems.append(
                _problem(
                    WARNING,
                    "snils_padded",
                    N_("SNILS %(value)s lost its leading zeros in Excel; it is read as %(fixed)s."),
                    field="snils",
                    column=column,
                    value=raw,
                    suggestion=formatted,
                    fixed=formatted,
                )
            )
        return formatted

    def _citizenship(self, cell, problems: list) -> str | None:
        raw, column = cell
        if not raw:
            return None
        if re.fullmatch(r"\d{1,3}", raw):
            return raw.zfill(3)
        code = _COUNTRIES.get(header_key(raw))
        if code is None:
            problems.append(
                _problem(
                    ERROR,
                    "invalid_citizenship",
                    N_(
                        "«%(value)s» is not a citizenship. Write the country's OKSM code (643 is Russia) or its name."
                    ),
                    field="citizenship",
                    column=column,
                    value=raw,
                )
            )
        return code

    def _education(self, cell, problems: list) -> str | None:
        raw, column = cell
        if not raw:
            return None
        level = _EDUCATION_LEVELS.get(header_key(raw), raw.strip())
        return self._length("education_level", level, column, problems)


_PLAIN_LOCAL_PART = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,64}(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def normalise_email(text: str) -> str:
    """The address as email-validator normalises it, or EmailNotValidError.

    A list's addresses share a few domains, and checking a domain is most of email-validator's work:
    plain ASCII local parts take a shortcut with the domain's verdict cached.
    """
    local, _, domain = text.rpartition("@")
    if len(text) <= 254 and len(local) <= 64 and _PLAIN_LOCAL_PART.fullmatch(local):
        return f"{local}@{_checked_domain(domain)}"
    return validate_email(text, check_deliverability=False).normalized


@lru_cache(maxsize=4096)
def _checked_domain(domain: str) -> str:
    return validate_email(f"probe@{domain}", check_deliverability=False).domain


def _has(problems: list[RowProblem], code: str) -> bool:
    return any(problem.code == code for problem in problems)


def _status(problems: list[RowProblem]) -> str:
    severities = {problem.severity for problem in problems}
    if DUPLICATE in severities and "duplicate_existing" in {p.code for p in problems}:
        return DUPLICATE  # already registered: skipped whatever else is wrong with the row
    for severity in (ERROR, DUPLICATE, WARNING):
        if severity in severities:
            return severity
    return OK


def _fix_scripts(word: str) -> str:
    """Turn look-alike letters of the minority alphabet into the majority's («Иванoв» → «Иванов»)."""
    if not has_mixed_scripts(word):
        return word
    cyrillic = len(_CYRILLIC_LETTER.findall(word))
    latin = len(_LATIN_LETTER.findall(word))
    return word.translate(_TO_CYRILLIC if cyrillic >= latin else _TO_LATIN)


_RUSSIAN_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")


def _parse_date(raw: str) -> date | None:
    text = raw.strip().rstrip("г.").strip()
    plain = _RUSSIAN_DATE.fullmatch(text)
    if plain:  # the usual case, without strptime's cost
        day, month, year = (int(part) for part in plain.groups())
        try:
            return date(year, month, day)
        except ValueError:
            return None
    for pattern in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        if pattern == "%d.%m.%y" and parsed > date.today():
            parsed = parsed.replace(year=parsed.year - 100)  # «07.10.85» is 1985, not 2085
        return parsed
    return None
