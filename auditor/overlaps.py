"""Files that hold the same usage: each record, or each day, is counted from one file only.

A folder often holds the same data twice: two usage exports downloaded a fortnight apart, a request log
saved twice, a request log and its aggregated export. It also holds data that only looks the same: a
Cost and Usage Report split into parts, or two accounts' exports, cover the same days with different
records. So, for each family of formats (see `Importer.family`) and each day held by several files:

- an owner is chosen: the file with the most requests (rows, where a source does not count requests)
  that day, then the more detailed format (a request log before its aggregate), then the file covering
  more days (the fuller export), then the file first by name (the run orders its files by name);
- another file of the same format skips only its records the owner also holds (same record key: a
  request id, a bill line id, or a bucket's attribution columns), so parts and other accounts add up;
- another file of a different format in the family (records cannot be matched) skips the whole day.

Skipped rows name the file that counts them, in the row accounting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd


@dataclass
class OverlapPlan:
    """What one file leaves to others: whole days, and the days whose shared records another file owns."""

    skip_days: dict[str, str] = field(default_factory=dict)
    """day (YYYY-MM-DD) → the file that counts it."""
    shared_days: dict[str, int] = field(default_factory=dict)
    """day → index of the file that owns the records both files hold that day."""


def families_in_several_files(families: Sequence[str]) -> set[str]:
    return {f for f in families if families.count(f) > 1}


def plan_overlaps(
    families: Sequence[str],
    formats: Sequence[str],
    labels: Sequence[str],
    surveys: Sequence[pd.DataFrame],
    detail: Sequence[int],
) -> list[OverlapPlan]:
    """Per file, what it skips because another file counts it."""
    plans = [OverlapPlan() for _ in surveys]
    weight_by_day: dict[tuple[str, str], list[tuple[int, int]]] = {}
    days_held: list[int] = []
    for index, (family, survey) in enumerate(zip(families, surveys, strict=True)):
        per_day = _weight_by_day(survey)
        days_held.append(sum(weight > 0 for weight in per_day.values()))
        for day, weight in per_day.items():
            weight_by_day.setdefault((family, day), []).append((index, weight))
    for (_, day), holders in weight_by_day.items():
        if len(holders) < 2:
            continue
        owner = max(holders, key=lambda h: (h[1], detail[h[0]], days_held[h[0]], -h[0]))[0]
        for index, _ in holders:
            if index == owner:
                continue
            if formats[index] == formats[owner]:
                plans[index].shared_days[day] = owner
            else:
                plans[index].skip_days[day] = labels[owner]
    return plans


def _weight_by_day(survey: pd.DataFrame) -> dict[str, int]:
    """A survey's weight (`lines`) by day, days in order; rows without a day left out. Summed in Python: a survey has
    a row per model and day, and a group-by per file took most of the planning's time over many small files."""
    sums: dict[str, int] = {}
    for day, weight in zip(survey["day"].tolist(), survey["lines"].tolist(), strict=True):
        if not pd.isna(day):
            sums[str(day)] = sums.get(str(day), 0) + int(weight)
    return dict(sorted(sums.items()))
