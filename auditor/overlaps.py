"""Exports that cover the same days: each day of a family of formats is counted from one file only.

Two usage exports downloaded a fortnight apart, the same request log saved twice, or a request log and
its aggregated export hold the same usage. For each family of formats (see `Importer.family`) and day
present in several files, the file with the most requests (or rows, where a source does not count
requests) of that day counts it (a file that holds only part of the day loses), then the more detailed
format (a request log before its aggregate), then the file covering more days (the fuller export), then
the file given first; the others skip their rows of that day, with the owner named in the row accounting.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def counted_elsewhere(
    families: Sequence[str], labels: Sequence[str], surveys: Sequence[pd.DataFrame], detail: Sequence[int]
) -> list[dict[str, str]]:
    """Per file, the days it must skip and the file that counts each of them."""
    skip: list[dict[str, str]] = [{} for _ in surveys]
    weight_by_day: dict[tuple[str, str], list[tuple[int, int]]] = {}
    days_held: list[int] = []
    for index, (family, survey) in enumerate(zip(families, surveys, strict=True)):
        per_day = survey.dropna(subset=["day"]).groupby("day")["lines"].sum()
        days_held.append(int((per_day > 0).sum()))
        for day, weight in per_day.items():
            weight_by_day.setdefault((family, str(day)), []).append((index, int(weight)))
    for (_, day), holders in weight_by_day.items():
        if len(holders) < 2:
            continue
        owner = max(holders, key=lambda h: (h[1], detail[h[0]], days_held[h[0]], -h[0]))[0]
        for index, _ in holders:
            if index != owner:
                skip[index][day] = labels[owner]
    return skip
