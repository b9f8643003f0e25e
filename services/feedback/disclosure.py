"""Which groups of respondents may be shown: the survey's threshold, kept against differences too.

A group smaller than the threshold (min_group_size) is never shown. That alone is not enough: with the
whole survey shown, showing every region but one shows that one region by subtraction. So each filter
dimension (region, organisation) is treated as a partition of the respondents:

1. primary: a value whose group is smaller than the threshold is withheld;
2. secondary: if the withheld groups together hold between 1 and threshold-1 respondents, the smallest
   shown group is withheld too, until what is withheld is nothing or at least the threshold;
3. across dimensions: a group nested in another (an organisation whose respondents are all in one region)
   would show the rest of the outer group by subtraction; the inner groups are withheld until that rest
   is nothing or at least the threshold. Then 2 is applied again, until nothing changes.

Respondents without a region or organisation count in the totals and are never a group of their own.
The same decision serves a filter of the results and a row of the cross-tab, so one cannot be used to
undo the other. Filters take one dimension at a time (see results.py): a filter on two would be a cell
of the region × organisation table, and its differences with both margins would have to be kept too.

Everything here works on counts already aggregated in SQL; nothing reads the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

#: (region, organisation) -> respondents
Cells = Mapping[tuple[Hashable, Hashable], int]


@dataclass(frozen=True)
class Shown:
    """The values of each dimension whose group may be shown, and the group sizes."""

    total: int
    regions: dict[Hashable, int]
    organisations: dict[Hashable, int]

    def allows(self, dimension: str, value: Hashable) -> bool:
        return value in (self.regions if dimension == "region" else self.organisations)


def _margins(cells: Cells) -> tuple[dict, dict]:
    regions, organisations = defaultdict(int), defaultdict(int)
    for (region, organisation), count in cells.items():
        regions[region] += count
        organisations[organisation] += count
    return regions, organisations


def _secondary(shown: set, sizes: Mapping, total: int, threshold: int) -> bool:
    """Withhold the smallest shown groups until the withheld rest is empty or big enough; True if changed."""
    rest = total - sum(sizes[value] for value in shown)
    if rest == 0 or rest >= threshold:
        return False
    for value in sorted(shown, key=lambda value: (sizes[value], str(value))):
        shown.remove(value)
        rest += sizes[value]
        if rest >= threshold:
            break
    return True


def _nesting(
    outer_shown: set,
    outer_sizes: Mapping,
    inner_shown: set,
    inner_sizes: Mapping,
    homes: Mapping,
    threshold: int,
) -> bool:
    """For each shown outer group, the shown inner groups wholly inside it must not leave a small rest.
    `homes` names, for each inner value, the one outer value all its respondents share (if they do)."""
    changed = False
    nested_in: dict[Hashable, set] = defaultdict(set)
    for inner in inner_shown:
        home = homes.get(inner)
        if home in outer_shown:
            nested_in[home].add(inner)
    for outer in sorted(nested_in, key=str):
        nested = nested_in[outer]
        while nested:
            rest = outer_sizes[outer] - sum(inner_sizes[inner] for inner in nested)
            if rest == 0 or rest >= threshold:
                break
            smallest = min(nested, key=lambda inner: (inner_sizes[inner], str(inner)))
            nested.remove(smallest)
            inner_shown.discard(smallest)
            changed = True
    return changed


def _homes(cells: Cells, inner_at: int) -> dict:
    """{inner value: the only outer value it occurs with}, for inner values that occur with one only."""
    outers: dict[Hashable, set] = defaultdict(set)
    for key, count in cells.items():
        if count:
            outers[key[inner_at]].add(key[1 - inner_at])
    return {inner: next(iter(found)) for inner, found in outers.items() if len(found) == 1}


def shown_groups(cells: Cells, threshold: int) -> Shown:
    """The groups of regions and of organisations that may be shown, from (region, organisation) counts."""
    regions, organisations = _margins(cells)
    total = sum(regions.values())
    if total < threshold:
        return Shown(total, {}, {})
    shown_regions = {v for v, n in regions.items() if v is not None and n >= threshold}
    shown_organisations = {v for v, n in organisations.items() if v is not None and n >= threshold}
    home_region, home_organisation = _homes(cells, 1), _homes(cells, 0)
    changed = True
    while changed:
        changed = _secondary(shown_regions, regions, total, threshold)
        changed |= _secondary(shown_organisations, organisations, total, threshold)
        changed |= _nesting(
            shown_regions, regions, shown_organisations, organisations, home_region, threshold
        )
        changed |= _nesting(
            shown_organisations, organisations, shown_regions, regions, home_organisation, threshold
        )
    return Shown(
        total,
        {v: regions[v] for v in shown_regions},
        {v: organisations[v] for v in shown_organisations},
    )
