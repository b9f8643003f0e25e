"""СНИЛС: check number and the XXX-XXX-XXX YY form."""

from __future__ import annotations

import pytest

from services.registration.snils import InvalidSnils, check_number, normalise_snils


@pytest.mark.parametrize(
    ("number", "check"),
    [
        ("112233445", 95),  # sum 95 < 100: the sum itself
        ("002009898", 0),  # sum 100 → 00
        ("002009996", 0),  # sum 101 → 00
        ("002009989", 1),  # sum 102 → 102 mod 101
        ("987654321", 83),  # sum 285 → 285 mod 101
        ("003899996", 0),  # sum 201 → remainder 100 → 00
    ],
)
def test_check_number(number, check):
    assert check_number(number) == check


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("112-233-445 95", "112-233-445 95"),
        ("11223344595", "112-233-445 95"),
        (" 112 233 445-95 ", "112-233-445 95"),
        ("987-654-321 83", "987-654-321 83"),
        ("002-009-898 00", "002-009-898 00"),
        ("001-001-998 42", "001-001-998 42"),  # issued before check numbers existed: not checked
    ],
)
def test_valid_numbers_are_normalised(written, normalised):
    assert normalise_snils(written) == normalised


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("112-233-445 94", "snils_checksum"),
        ("987-654-321 84", "snils_checksum"),
        ("002-009-898 100", "snils_format"),
        ("112-233-445", "snils_format"),
        ("112-233-445 9", "snils_format"),
        ("ABC-233-445 95", "snils_format"),
        ("١١٢٢٣٣٤٤٥٩٥", "snils_format"),  # Arabic-Indic digits are digits to Python, not to the register
        ("", "snils_format"),
    ],
)
def test_invalid_numbers_are_refused(written, code):
    with pytest.raises(InvalidSnils) as refused:
        normalise_snils(written)
    assert refused.value.code == code
