"""Folding of names, e-mails and codes for search and duplicate checks: what staff type must find what
organisers wrote."""

from __future__ import annotations

import re
import unicodedata

# Latin letters that look like Cyrillic ones creep into names from copy-paste («Иванов» with a Latin «о»),
# and staff on a Russian keyboard type Cyrillic twins into Latin codes. One list of pairs, case kept,
# serves every direction: folding, fixing a word, reading a code.
_LATIN_TWINS = "AaBCcEeHKkMOoPpTXxYy"
_CYRILLIC_TWINS = "АаВСсЕеНКкМОоРрТХхУу"
_TO_CYRILLIC = str.maketrans(_LATIN_TWINS, _CYRILLIC_TWINS)
_TO_LATIN = str.maketrans(_CYRILLIC_TWINS, _LATIN_TWINS)
# Folded text is lower case: B, H, M and T count too once lowered («в», «н», «м», «т»).
_LOOKALIKES = str.maketrans(_LATIN_TWINS.lower(), _CYRILLIC_TWINS.lower())
_CYRILLIC = re.compile("[а-яё]")
_CYRILLIC_LETTER = re.compile("[А-Яа-яЁё]")
_LATIN_LETTER = re.compile("[A-Za-z]")


def email_key(email: str) -> str:
    """An e-mail as duplicates are found: «Anna@MFC.ru » and «anna@mfc.ru» are one person."""
    return email.strip().lower()


def fold(text: str | None) -> str:
    """Lower case, ё → е, Latin look-alikes inside Cyrillic words → Cyrillic, spaces collapsed."""
    if not text:
        return ""
    text = unicodedata.normalize("NFC", text).casefold().replace("ё", "е")
    return " ".join(_fold_word(word) for word in text.split())


def _fold_word(word: str) -> str:
    # Only words that already contain Cyrillic are mended, so e-mails and Latin names stay as they are.
    if _CYRILLIC.search(word):
        return word.translate(_LOOKALIKES)
    return word


# Punctuation around and inside words («МФЦ», (Якутия), Петрова-Водкина): search reads it as a space, so
# that the first letters of the word after it find that word. E-mail addresses keep their "@" and dots.
_WORD_SEPARATORS = re.compile(r"[«»“”„\"'()\[\]{},;/\\\-–—]")


def fold_for_search(text: str | None) -> str:
    """fold(), with quotes, brackets, hyphens and dashes read as spaces: for search texts and queries."""
    return fold(_WORD_SEPARATORS.sub(" ", text or ""))


def has_mixed_scripts(word: str) -> bool:
    """True for a word with both Cyrillic and Latin letters: a typo the import report points at."""
    return bool(_CYRILLIC_LETTER.search(word)) and bool(_LATIN_LETTER.search(word))


def fix_mixed_scripts(word: str) -> str:
    """Turn look-alike letters of the minority alphabet into the majority's («Иванoв» → «Иванов»).

    A word may still mix scripts afterwards (a Latin «s» has no Cyrillic twin): check it again."""
    if not has_mixed_scripts(word):
        return word
    cyrillic = len(_CYRILLIC_LETTER.findall(word))
    latin = len(_LATIN_LETTER.findall(word))
    return word.translate(_TO_CYRILLIC if cyrillic >= latin else _TO_LATIN)


def fold_code(text: str | None) -> str:
    """A participant code as typed (any case, Cyrillic look-alikes, spaces) → the code as stored."""
    if not text:
        return ""
    # Participant codes are Latin; upper case leaves only the capital twins («А», «К», «М»...) to read.
    return "".join(text.split()).upper().translate(_TO_LATIN)
