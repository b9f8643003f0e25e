"""Folding of names for search and duplicate checks: what staff type must find what organisers wrote."""

from __future__ import annotations

import re
import unicodedata

# Latin letters that look like Cyrillic ones creep into names from copy-paste («Иванов» with a Latin «о»).
_LOOKALIKES = str.maketrans("aeopcxykmthb", "аеорсхукмтнв")
_CYRILLIC = re.compile("[а-яё]")


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
    has_cyrillic = bool(re.search("[А-Яа-яЁё]", word))
    has_latin = bool(re.search("[A-Za-z]", word))
    return has_cyrillic and has_latin


# Participant codes are Latin, but staff on a Russian keyboard type the Cyrillic twin of «А», «К», «М»...
_CODE_LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")


def fold_code(text: str | None) -> str:
    """A participant code as typed (any case, Cyrillic look-alikes, spaces) → the code as stored."""
    if not text:
        return ""
    return "".join(text.split()).upper().translate(_CODE_LOOKALIKES)
