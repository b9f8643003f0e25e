"""Which groups may be shown, on counts alone: primary, secondary and nested withholding."""

from services.feedback.disclosure import shown_groups


def test_too_few_in_all_shows_nothing():
    shown = shown_groups({("61", "a"): 4}, 5)
    assert (shown.total, shown.regions, shown.organisations) == (4, {}, {})


def test_a_group_that_is_everyone_is_shown():
    shown = shown_groups({("61", "a"): 7}, 5)
    assert shown.regions == {"61": 7} and shown.organisations == {"a": 7}


def test_a_small_group_takes_the_smallest_shown_one_with_it():
    shown = shown_groups({("61", None): 9, ("16", None): 6, ("77", None): 2}, 5)
    assert shown.regions == {"61": 9}  # 77 alone (2) would be the whole minus 61 and 16
    assert shown.organisations == {}  # nobody said their organisation: no such group


def test_withheld_groups_that_together_reach_the_threshold_need_no_more():
    shown = shown_groups({("61", None): 9, ("16", None): 3, ("77", None): 2}, 5)
    assert shown.regions == {"61": 9}  # 16 and 77 withheld together are 5: nothing more to withhold


def test_people_without_a_region_count_in_the_rest():
    assert shown_groups({("61", None): 9, (None, None): 2}, 5).regions == {}
    assert shown_groups({("61", None): 9, (None, None): 5}, 5).regions == {"61": 9}


def test_an_organisation_wholly_inside_a_region_may_not_leave_a_small_rest():
    # Region 61: 6 people, 5 of them from A (all of A). Every group is big enough and nothing is left over
    # overall, yet 61 minus A is one person from B.
    cells = {("61", "A"): 5, ("61", "B"): 1, ("16", "B"): 5, ("16", "C"): 6}
    shown = shown_groups(cells, 5)
    assert shown.regions == {"61": 6, "16": 11}
    assert shown.organisations == {"B": 6, "C": 6}  # C is inside 16 too, but leaves 5 beside it


def test_withholding_repeats_until_nothing_changes():
    # Withholding МФЦ Ростова for nesting leaves 5 + 1 organisations' people hidden, which is fine,
    # but the organisations' own rest must be checked again.
    cells = {("61", "A"): 5, ("61", "B"): 1, ("16", "C"): 5, ("16", "D"): 5}
    shown = shown_groups(cells, 5)
    hidden = shown.total - sum(shown.organisations.values())
    assert hidden == 0 or hidden >= 5
    for region, size in shown.regions.items():
        inside = sum(n for (r, o), n in cells.items() if r == region and o in shown.organisations)
        assert size - inside == 0 or size - inside >= 5
