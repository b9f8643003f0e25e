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


# --- a filter on a region and an organisation together: a cell of the region × organisation table ---


def test_organisations_inside_their_regions_show_as_cells():
    cells = {("61", "A"): 5, ("61", "B"): 6, ("16", "C"): 7}
    assert shown_groups(cells, 5).cells == cells


def test_a_block_of_cells_each_big_enough_shows_whole():
    cells = {("61", "A"): 5, ("61", "B"): 5, ("16", "A"): 6, ("16", "B"): 7}
    assert shown_groups(cells, 5).cells == cells


def test_a_cell_beside_a_small_one_is_not_shown():
    # (61, B) would show (61, A), 2 people, as region 61 minus it; B would then go on to 16.
    cells = {("61", "A"): 2, ("61", "B"): 10, ("16", "B"): 6, ("16", "C"): 8}
    shown = shown_groups(cells, 5)
    assert shown.regions == {"61": 12, "16": 14}
    assert shown.cells == {}


def test_people_without_an_organisation_keep_their_region_out_of_the_block():
    cells = {("61", "A"): 6, ("61", None): 1, ("16", "B"): 6}
    shown = shown_groups(cells, 5)
    assert ("61", "A") not in shown.cells  # 61 minus A is the one person who named no organisation
    assert shown.size((("region", "61"), ("organisation", "A"))) == 0


def test_every_shown_cell_adds_up_to_its_region_and_organisation():
    import random

    rng = random.Random(5)
    for _ in range(300):
        regions, organisations = ["61", "16", "77", None], ["A", "B", "C", "D", None]
        cells = {}
        for _n in range(rng.randint(1, 14)):
            key = (rng.choice(regions), rng.choice(organisations))
            cells[key] = cells.get(key, 0) + rng.choice([0, 1, 2, 5, 6, 9])
        shown = shown_groups(cells, 5)
        for (region, organisation), count in shown.cells.items():
            assert count >= 5 and region in shown.regions and organisation in shown.organisations
            # Nothing of the region, nor of the organisation, lies outside the shown cells.
            assert shown.regions[region] == sum(n for (r, _o), n in shown.cells.items() if r == region)
            assert shown.organisations[organisation] == sum(
                n for (_r, o), n in shown.cells.items() if o == organisation
            )
