"""The list of subjects of the Russian Federation and the matcher for organisers' spellings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import services.registration.regions as regions_module
from services.registration.regions import Region, all_regions, match_region, normalise, suggest_region

DATA = json.loads(
    (Path(regions_module.__file__).with_name("data") / "regions.json").read_text(encoding="utf-8")
)


def by_code(code: str) -> Region:
    return next(region for region in all_regions() if region.code == code)


def test_there_are_exactly_89_subjects():
    assert len(all_regions()) == 89
    assert len(DATA) == 89


def test_codes_and_names_are_unique_and_well_formed():
    codes = [region.code for region in all_regions()]
    names = [region.name for region in all_regions()]
    assert len(set(codes)) == len(codes)
    assert len(set(names)) == len(names)
    assert all(isinstance(code, str) and len(code) == 2 and code.isdigit() for code in codes)


def test_all_regions_is_cached():
    assert all_regions() is all_regions()


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("77", "г. Москва"),
        ("78", "г. Санкт-Петербург"),
        ("92", "г. Севастополь"),
        ("61", "Ростовская область"),
        ("23", "Краснодарский край"),
        ("16", "Республика Татарстан"),
        ("14", "Республика Саха (Якутия)"),
        ("86", "Ханты-Мансийский автономный округ — Югра"),
        ("79", "Еврейская автономная область"),
    ],
)
def test_well_known_codes(code, name):
    assert by_code(code).name == name


@pytest.mark.parametrize("item", DATA, ids=lambda item: item["code"])
def test_every_name_and_alias_matches_its_own_region(item):
    expected = Region(item["code"], item["name"])
    for spelling in (item["name"], *item["aliases"]):
        assert match_region(spelling) == expected, spelling


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Республика Татарстан (Татарстан)", "16"),
        ("Татарстан Республика", "16"),
        ("Татарстан", "16"),
        ("Ростовская обл.", "61"),
        ("Ростовская область ", "61"),
        ("  ростовская   ОБЛАСТЬ", "61"),
        ("Ростовская", "61"),
        ("г. Москва", "77"),
        ("город Москва", "77"),
        ("москва", "77"),
        ("«Москва»", "77"),
        ("Санкт Петербург", "78"),
        ("СПб", "78"),
        ("Питер", "78"),
        ("Респ. Башкортостан", "02"),
        ("Башкирия", "02"),
        ("Ханты-Мансийский АО — Югра", "86"),
        ("Ханты-Мансийский авт. округ - Югра", "86"),
        ("ХМАО", "86"),
        ("Ненецкий АО", "83"),
        ("Еврейская авт. обл.", "79"),
        ("Кемеровская обл.", "42"),
        ("Кузбасс", "42"),
        ("Чувашская Республика - Чувашия", "21"),
        ("Республика Северная Осетия-Алания", "15"),
        ("РСО-Алания", "15"),
        ("Кабардино-Балкарская Респ.", "07"),
        ("КБР", "07"),
        ("КЧР", "09"),
        ("Саха (Якутия)", "14"),
        ("Якутия", "14"),
        ("Краснодарский кр.", "23"),
        ("ЯНАО", "89"),
        ("Югра", "86"),
    ],
)
def test_messy_spellings_match(text, code):
    assert match_region(text) == by_code(code)


def test_latin_look_alikes_inside_cyrillic_words():
    assert match_region("Mосква") == by_code("77")  # Latin M
    assert match_region("Cамарская oбл.") == by_code("63")  # Latin C and o
    assert match_region("Tатарстан") == by_code("16")  # Latin T


def test_yo_and_ye_are_the_same():
    assert normalise("Орёл") == normalise("Орел")
    assert match_region("Республика Марий Эл") == match_region("РЕСПУБЛИКА МАРИЙ ЭЛ") == by_code("12")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        None,
        "Атлантида",
        "Россия",
        "Казахстан",
        "Москва область",
        "Республика",
        "область",
        "Ростовска обл",  # a typo: only a suggestion, never a match
    ],
)
def test_unknown_spellings_do_not_match(text):
    assert match_region(text) is None


def test_federal_city_and_its_region_stay_apart():
    assert match_region("Москва") != match_region("Московская область")
    assert match_region("Санкт-Петербург") != match_region("Ленинградская область")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Ростовска обл", "61"),
        ("Краснодарскй край", "23"),
        ("Свердлвская область", "66"),
        ("Ставрапольский край", "26"),
        ("Башкартастан", "02"),
        ("Дагестн", "05"),
        ("Ярославская облать", "76"),
        ("Ростовская обл.", "61"),  # an exact match is its own best suggestion
    ],
)
def test_suggestions_for_typos(text, code):
    assert suggest_region(text) == by_code(code)


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "Атлантида",
        "Россия",
        "Беларусь",
        "Казахстан",
        "Абхазия",
        "Южная Осетия",
        "не знаю",
        "123",
        "xyz",
        "Республика",
        "область",
        "край",
    ],
)
def test_garbage_gets_no_suggestion(text):
    assert suggest_region(text) is None
