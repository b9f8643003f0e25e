"""Subjects of the Russian Federation and a matcher for the ways organisers spell them.

``match_region`` maps a spelling onto a region only when it is the same name after normalisation
(case, ё, Latin look-alikes, punctuation, abbreviations, word order). ``suggest_region`` finds the
closest name for anything else, for a human to confirm; it is never used to map automatically.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rapidfuzz import fuzz, process

from services.registration.text import fold

_DATA = Path(__file__).with_name("data") / "regions.json"

_WORD = re.compile(r"[^\W_]+")

# Abbreviations expanded word by word; an empty expansion drops the word ("г. Москва" == "Москва").
_ABBREVIATIONS = {
    "г": (),
    "гор": (),
    "город": (),
    "обл": ("область",),
    "респ": ("республика",),
    "республ": ("республика",),
    "кр": ("край",),
    "ао": ("автономный", "округ"),
    "окр": ("округ",),
    # One spelling for every form of "autonomous": "авт. округ", "автономная область", ...
    "авт": ("автономный",),
    "автон": ("автономный",),
    "автономная": ("автономный",),
}

# Words that name the kind of subject. A spelling without any of them ("Ростовская", "Татарстан")
# may match a name with them stripped; a spelling with one must match a full name.
_KIND_WORDS = frozenset({"республика", "область", "край", "автономный", "округ"})

# Fuzzy suggestions: the least similarity (0–100) worth showing, and the shortest name compared,
# so that abbreviations like "РТ" or "СПб" do not attract short garbage.
_SUGGEST_CUTOFF = 80
_SUGGEST_MIN_LENGTH = 4


@dataclass(frozen=True)
class Region:
    code: str
    name: str


def normalise(text: str | None) -> str:
    """A region spelling reduced to a key: folded words, abbreviations expanded, sorted, no repeats."""
    words: set[str] = set()
    for word in _WORD.findall(fold(text)):
        words.update(_ABBREVIATIONS.get(word, (word,)))
    return " ".join(sorted(words))


def _without_kind(key: str) -> str:
    return " ".join(word for word in key.split() if word not in _KIND_WORDS)


@cache
def all_regions() -> list[Region]:
    return [Region(item["code"], item["name"]) for item in _load()]


def _load() -> list[dict]:
    return json.loads(_DATA.read_text(encoding="utf-8"))


@cache
def regions_by_code() -> dict[str, Region]:
    return {region.code: region for region in all_regions()}


def region_name(code: str | None) -> str:
    """The region's name for a stored code; empty for none."""
    region = regions_by_code().get(code or "")
    return region.name if region else ""


@cache
def _index() -> dict[str, Region]:
    """Normalised name or alias → region, plus the same keys without kind words where unambiguous."""
    index: dict[str, Region] = {}
    bare: dict[str, set[Region]] = {}
    for item, region in zip(_load(), all_regions(), strict=True):
        for spelling in (item["name"], *item["aliases"]):
            key = normalise(spelling)
            if index.get(key, region) != region:
                raise ValueError(f"region spelling {spelling!r} is ambiguous: {index[key]} and {region}")
            index[key] = region
            bare.setdefault(_without_kind(key), set()).add(region)
    for key, regions in bare.items():
        if key and len(regions) == 1:
            index.setdefault(key, next(iter(regions)))
    return index


def match_region(text: str | None) -> Region | None:
    """The region this spelling names, or None. Exact after normalisation: no guessing."""
    return _index().get(normalise(text))


def suggest_region(text: str | None) -> Region | None:
    """The closest region for an unknown spelling, or None if nothing is close. Only a suggestion."""
    key = normalise(text)
    if not _without_kind(key):  # nothing but "область", "республика"...: no name to go by
        return None
    if key in _index():
        return _index()[key]
    choices = _suggest_choices()
    best = process.extractOne(key, choices.keys(), scorer=fuzz.ratio, score_cutoff=_SUGGEST_CUTOFF)
    return choices[best[0]] if best else None


@cache
def _suggest_choices() -> dict[str, Region]:
    return {key: region for key, region in _index().items() if len(key) >= _SUGGEST_MIN_LENGTH}
