"""СНИЛС, the insurance number the federal register of qualification documents asks for.

Eleven digits: a nine-digit number and a two-digit check number computed from it.
"""

from __future__ import annotations

import re

# What people put between the digits: "112-233-445 95", "112 233 445-95", "11223344595".
_SEPARATORS = re.compile(r"[\s\-]+")

# Numbers up to 001-001-998 were issued before the check number existed; they carry no checksum.
_LAST_WITHOUT_CHECKSUM = 1_001_998


class InvalidSnils(ValueError):
    """`code` says what is wrong: "snils_format" (not 11 digits) or "snils_checksum"."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def check_number(number: str) -> int:
    """The check number of a nine-digit СНИЛС number."""
    total = sum(int(digit) * (9 - position) for position, digit in enumerate(number))
    if total < 100:
        return total
    if total in (100, 101):
        return 0
    return total % 101 % 100  # a remainder of 100 is written as 00


def normalise_snils(text: str) -> str:
    """The СНИЛС written as XXX-XXX-XXX YY, or InvalidSnils."""
    digits = _SEPARATORS.sub("", text)
    if len(digits) != 11 or not digits.isascii() or not digits.isdigit():
        raise InvalidSnils("snils_format")
    number, check = digits[:9], int(digits[9:])
    if int(number) > _LAST_WITHOUT_CHECKSUM and check_number(number) != check:
        raise InvalidSnils("snils_checksum")
    return f"{number[:3]}-{number[3:6]}-{number[6:9]} {digits[9:]}"
