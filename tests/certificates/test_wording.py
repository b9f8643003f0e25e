from datetime import date

import pytest

from services.certificates.wording import academic_hours, completed, long_date, period


@pytest.mark.parametrize(
    "hours,text",
    [
        (1, "1 академический час"),
        (2, "2 академических часа"),
        (4, "4 академических часа"),
        (5, "5 академических часов"),
        (11, "11 академических часов"),
        (16, "16 академических часов"),
        (21, "21 академический час"),
        (24, "24 академических часа"),
        (72, "72 академических часа"),
        (111, "111 академических часов"),
        (112, "112 академических часов"),
    ],
)
def test_hours_take_the_right_plural(hours, text):
    assert academic_hours(hours) == text


def test_verb_agrees_with_gender():
    assert (completed("male"), completed("female")) == ("прошёл", "прошла")


def test_dates_read_in_russian():
    assert long_date(date(2026, 10, 9)) == "9 октября 2026 г."
    assert period(date(2026, 10, 7), date(2026, 10, 9)) == "с 7 по 9 октября 2026 г."
    assert period(date(2026, 9, 30), date(2026, 10, 2)) == "с 30 сентября по 2 октября 2026 г."
    assert period(date(2026, 12, 30), date(2027, 1, 2)) == "с 30 декабря 2026 г. по 2 января 2027 г."
    assert period(date(2026, 10, 9), date(2026, 10, 9)) == "9 октября 2026 г."


def test_statement_words_agree_with_gender():
    from services.certificates.wording import mastered, pronoun, studied

    assert (studied("male"), studied("female"), studied(None)) == ("обучался", "обучалась", "обучался(-ась)")
    assert (mastered("male"), mastered("female")) == ("освоил", "освоила")
    assert pronoun("female") == "она"
    assert completed(None) == "прошёл(-ла)"


def test_fractional_hours_take_the_genitive_singular():
    assert academic_hours(20.5) == "20,5 академического часа"
    assert academic_hours(24.0) == "24 академических часа"


def test_full_name_skips_a_missing_patronymic():
    from services.certificates.wording import full_name

    assert full_name("Ёлкина", "Анна", None) == "Ёлкина Анна"
    assert full_name("Мамедов", "Руслан", "Алиевич оглы") == "Мамедов Руслан Алиевич оглы"
    assert full_name(" Римский-Корсаков ", "Николай", "") == "Римский-Корсаков Николай"
