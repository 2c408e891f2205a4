"""Exports that cover the same days: each day of a format is counted from one file only.

Two usage exports downloaded a fortnight apart, or the same request log saved twice, hold the same
rows. For each format and day present in several files, the file with the most rows of that day counts
it (a file that holds only part of the day loses), then the file covering more days (the fuller
export), then the file given first; the others skip their rows of that day, with the owner named in
the row accounting.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def counted_elsewhere(
    formats: Sequence[str], labels: Sequence[str], surveys: Sequence[pd.DataFrame]
) -> list[dict[str, str]]:
    """Per file, the days it must skip and the file that counts each of them."""
    skip: list[dict[str, str]] = [{} for _ in surveys]
    rows_by_day: dict[tuple[str, str], list[tuple[int, int]]] = {}
    days_held: list[int] = []
    for index, (format_name, survey) in enumerate(zip(formats, surveys, strict=True)):
        per_day = survey.dropna(subset=["day"]).groupby("day")["lines"].sum()
        days_held.append(int((per_day > 0).sum()))
        for day, lines in per_day.items():
            rows_by_day.setdefault((format_name, str(day)), []).append((index, int(lines)))
    for (_, day), holders in rows_by_day.items():
        if len(holders) < 2:
            continue
        owner = max(holders, key=lambda h: (h[1], days_held[h[0]], -h[0]))[0]
        for index, _ in holders:
            if index != owner:
                skip[index][day] = labels[owner]
    return skip
