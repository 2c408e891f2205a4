"""Local days: timestamps stay UTC inside; `--tz` only regroups the report's days and months in a zone.

Usage is kept by UTC day and half hour of the day (`time_slot`, -1 for a daily bucket). In a zone whose
offset from UTC is a whole number of half hours (every zone but Asia/Kathmandu, Australia/Eucla and
Pacific/Chatham), a local day starts on a UTC half hour, and only on a few of them: 10:00 or 08:00 UTC
for New York (EST, EDT), 15:00 for Tokyo, 18:30 for Kolkata. These are the zone's `day_starts`. So the
scan need not keep every line's half hour: it keeps its `day_part` (the first half hour of the span between
two day starts that its half hour falls in), and the local day of each UTC day and part is derived after
aggregation with zoneinfo, daylight saving time included (offsets are looked up for each date). A daily
bucket (no time of day) keeps the day its vendor gave it. Zones with a 15- or 45-minute offset are refused:
a half hour there straddles local midnight, and its requests cannot be split between the two days.
"""

from __future__ import annotations

import difflib
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pandas as pd

from auditor.errors import OptionError

DEFAULT_ZONE = "UTC"
SLOT = timedelta(minutes=30)
_DAY = timedelta(days=1)
# The years whose offsets a zone is checked over (usage data is recent; older history of some zones has
# offsets in seconds that no export of AI usage can reach).
_CHECKED_YEARS = range(2000, 2038)


def zone_named(name: str) -> ZoneInfo | None:
    """The zone of an IANA name; None when it is UTC all year (days are then the UTC days as kept).

    An unknown name, or a zone whose offset is not a whole number of half hours, is an `OptionError`."""
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        close = _close_names(name)
        raise OptionError(
            f"unknown time zone '{name}' for --tz",
            f"did you mean {', '.join(close)}?" if close else "give an IANA name such as Europe/Berlin or UTC",
        ) from None
    offsets = {
        _offset(zone, datetime(year, month, 1, tzinfo=UTC)) for year in _CHECKED_YEARS for month in (1, 4, 7, 10)
    }
    odd = sorted(o for o in offsets if o % SLOT)
    if odd:
        raise OptionError(
            f"time zone '{name}' is UTC{_signed(odd[0])}: usage is kept by UTC half hour, so days can only be "
            "grouped in zones whose offset is a whole number of half hours",
            "give a neighbouring zone with a half-hour offset (e.g. Asia/Kolkata, Asia/Dhaka) or UTC",
        )
    return None if offsets == {timedelta(0)} else zone


@lru_cache(maxsize=64)
def day_starts(zone: ZoneInfo) -> tuple[int, ...]:
    """The half hours of the UTC day (0-47) at which a day of the zone starts, in the checked years."""
    starts = set()
    day = datetime(_CHECKED_YEARS.start, 1, 1, tzinfo=UTC)
    end = datetime(_CHECKED_YEARS.stop, 1, 1, tzinfo=UTC)
    offset = _offset(zone, day)
    while day < end:
        following = _offset(zone, day + _DAY)
        if following == offset:  # one offset all day: the local day starts at UTC midnight minus the offset
            starts.add(int((-offset % _DAY) / SLOT))
        else:  # the offset changes that day: every half hour is looked at
            dates = [(day + n * SLOT).astimezone(zone).date() for n in range(-1, 48)]
            starts.update(n for n in range(48) if dates[n + 1] != dates[n])
        day, offset = day + _DAY, following
    return tuple(sorted(starts | {0}))


def local_days(days: pd.Series, parts: pd.Series, zone: ZoneInfo) -> list[str]:
    """The local day (YYYY-MM-DD) of each UTC day and day part; a daily bucket (part -1) keeps its day."""
    return [_local_day(str(day), int(part), zone) for day, part in zip(days, parts, strict=True)]


@lru_cache(maxsize=1 << 16)
def _local_day(day: str, part: int, zone: ZoneInfo) -> str:
    if part < 0:
        return day
    starts = day_starts(zone)
    end = next((s for s in starts if s > part), 48)
    midnight = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    first = (midnight + part * SLOT).astimezone(zone).date()
    last = (midnight + end * SLOT - timedelta(microseconds=1)).astimezone(zone).date()
    if first != last:  # a day start outside the checked years (or a quarter-hour offset then)
        raise OptionError(
            f"usage on {day} cannot be grouped by day in {zone.key}: its days start at other times then",
            "give UTC or a zone whose offset is a whole number of half hours on that date",
        )
    return first.isoformat()


def _offset(zone: ZoneInfo, when: datetime) -> timedelta:
    return when.astimezone(zone).utcoffset() or timedelta(0)


def _signed(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _close_names(name: str) -> list[str]:
    """Zone names close to a mistyped one: the same name in other case, the same city, or a near spelling."""
    wanted = name.strip().replace(" ", "_").lower()
    names = sorted(available_timezones())
    exact = [n for n in names if wanted in (n.lower(), n.rsplit("/", 1)[-1].lower())]
    if exact:
        return exact[:2]
    by_lower = {n.lower(): n for n in names}
    by_city = {n.rsplit("/", 1)[-1].lower(): n for n in names}
    close = difflib.get_close_matches(wanted, list(by_lower), n=3, cutoff=0.75)
    close += difflib.get_close_matches(wanted, list(by_city), n=3, cutoff=0.75)
    found = [by_lower.get(c) or by_city[c] for c in close]
    return list(dict.fromkeys(found))[:2]
