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
undo the other.

A filter on both (a region and an organisation) is a cell of the region × organisation table. Cells
could be subtracted from the margins shown above, from each other, and along chains of them, so a cell
is shown only inside a closed block: a set of shown regions and shown organisations such that every
respondent of those regions is in those organisations and the other way round, and every non-empty cell
of the block holds at least the threshold. Each region and organisation of the block is then exactly the
sum of its shown cells, and no shown cell touches a region or organisation outside it: the cells add
groups of at least the threshold and tell nothing about any withheld group that the margins did not.
(The common case is an organisation that lies in one region: its cell is the organisation itself.)

Everything here works on counts already aggregated in SQL; nothing reads the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field

#: (region, organisation) -> respondents
Cells = Mapping[tuple[Hashable, Hashable], int]


#: a filter: ((dimension, value), ...), "region" and/or "organisation", each at most once, in that order
Narrow = tuple[tuple[str, Hashable], ...]


@dataclass(frozen=True)
class Shown:
    """The values of each dimension whose group may be shown, the (region, organisation) cells a filter
    on both may show, and the group sizes."""

    total: int
    regions: dict[Hashable, int]
    organisations: dict[Hashable, int]
    cells: dict[tuple[Hashable, Hashable], int] = field(default_factory=dict)

    def allows(self, dimension: str, value: Hashable) -> bool:
        return value in (self.regions if dimension == "region" else self.organisations)

    def size(self, narrow: Narrow) -> int:
        """The size of the group a filter narrows to, or 0 when that group may not be shown."""
        given = dict(narrow)
        if not given:
            return self.total
        if set(given) == {"region", "organisation"}:
            return self.cells.get((given["region"], given["organisation"]), 0)
        ((dimension, value),) = narrow
        return (self.regions if dimension == "region" else self.organisations).get(value, 0)


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
        _block_cells(cells, set(shown_regions), set(shown_organisations), threshold),
    )


def _block_cells(cells: Cells, regions: set, organisations: set, threshold: int) -> dict:
    """The cells of the largest closed block (see above) within the shown regions and organisations: a
    region leaves it when any of its respondents is in a cell that cannot be shown (too small, or in an
    organisation outside the block, or without one), an organisation likewise, until nothing changes."""
    filled = {key: count for key, count in cells.items() if count}
    changed = True
    while changed:
        changed = False
        for (region, organisation), count in filled.items():
            if count >= threshold and region in regions and organisation in organisations:
                continue
            if region in regions:
                regions.discard(region)
                changed = True
            if organisation in organisations:
                organisations.discard(organisation)
                changed = True
    return {
        (region, organisation): count
        for (region, organisation), count in filled.items()
        if region in regions and organisation in organisations
    }
