"""What the import found: a refusal of the whole file, or a report row by row of what is wrong and what
was corrected, from which the rows to import are chosen.

Messages are English msgids with their values (see services.registration.errors); whoever shows them
passes a `translate` function (gettext in the API, in the caller's language).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from services.registration.errors import N_, FieldError, Invalid, Translate, Wording

OK, WARNING, ERROR, DUPLICATE = "ok", "warning", "error", "duplicate"


class ImportProblem(Invalid):
    """The file (or the choice made on it) cannot be imported; the message says why and what to do.

    `field` is the form field to blame: the file unless said otherwise."""

    message_is_detail = True

    def __init__(
        self,
        code: str,
        msgid: str,
        *,
        field: str | None = "file",
        errors: list[FieldError] | None = None,
        **params,
    ):
        super().__init__(code, msgid, field=field, errors=errors, **params)


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

    @property
    def wording(self) -> Wording:
        return Wording(self.msgid, {"value": self.value, "suggestion": self.suggestion, **self.params})

    def message(self, translate: Translate) -> str:
        return self.wording.render(translate)

    def to_dict(self, translate: Translate) -> dict:
        return {
            "severity": self.severity,
            "code": self.code,
            "field": self.field,
            "column": self.column,
            "value": self.value,
            "suggestion": self.suggestion,
            "message": self.message(translate),
        }


def row_problem(
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


def row_status(problems: list[RowProblem]) -> str:
    """The worst of a row's problems; a person already registered is skipped whatever else is wrong."""
    severities = {problem.severity for problem in problems}
    if DUPLICATE in severities and any(problem.code == "duplicate_existing" for problem in problems):
        return DUPLICATE
    for severity in (ERROR, DUPLICATE, WARNING):
        if severity in severities:
            return severity
    return OK


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

    def rows_to_import(self, accepted: Iterable[int] | None, rejected: Iterable[int] = ()) -> list[RowResult]:
        """The rows the organiser chose (`accepted`, or by default every row without an error, less the
        `rejected` ones) that are not already registered. All or nothing: an incomplete mapping, or a
        chosen row that is missing or has errors, refuses the whole import (ImportProblem)."""
        if self.mapping_problems:
            errors = [
                FieldError("mapping", problem.code, problem.wording) for problem in self.mapping_problems
            ]
            raise ImportProblem(
                "mapping_incomplete", N_("The column mapping is incomplete."), field=None, errors=errors
            )
        rows = self.by_row()
        chosen = set(self.importable() if accepted is None else accepted) - set(rejected)
        unknown = sorted(number for number in chosen if number not in rows)
        if unknown:
            raise ImportProblem(
                "unknown_row",
                N_("Rows %(rows)s hold no participant in this file."),
                field="accepted_rows",
                rows=_numbers(unknown),
            )
        broken = sorted(number for number in chosen if rows[number].status == ERROR)
        if broken:
            errors = [
                FieldError(
                    f"rows.{number}.{problem.field or ''}".rstrip("."),
                    problem.code,
                    problem.wording,
                    {"row": number, "column": problem.column},
                )
                for number in broken
                for problem in rows[number].problems
                if problem.severity == ERROR
            ]
            raise ImportProblem(
                "rows_with_errors",
                N_(
                    "Rows %(rows)s have errors. Correct them in the file or leave them out; nothing "
                    "was imported."
                ),
                field=None,
                errors=errors,
                rows=_numbers(broken),
            )
        return [rows[number] for number in sorted(chosen) if rows[number].status in (OK, WARNING)]

    def to_dict(self, translate: Translate) -> dict:
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


def _numbers(numbers: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(number) for number in numbers[:limit])
    return shown + (" …" if len(numbers) > limit else "")
