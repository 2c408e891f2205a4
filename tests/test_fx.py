"""Currency: amounts billed in another currency are converted at the user's rate, never at an assumed one."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from auditor.errors import OptionError
from pricing.fx import MONEY_NANO_COLUMNS, FxRate, convert_part_to_usd, convert_to_usd, parse_fx_flags


def _usage(currency: str, billed_nanos: int, day: str = "2026-10-05", credit_nanos: int = 0) -> pd.DataFrame:
    return pd.DataFrame({
        "provider": ["deepseek"], "model_raw": ["deepseek-chat"], "day": [day], "currency": [currency],
        **{column: [0] for column in MONEY_NANO_COLUMNS},
        "billed_nanos": [billed_nanos], "billed_credit_nanos": [credit_nanos],
    })  # fmt: skip


def test_flags_parse_currency_rate_and_month() -> None:
    assert parse_fx_flags(("cny=0.1405", "EUR@2026-10=1.08")) == [
        FxRate("CNY", Decimal("0.1405"), "--fx"),
        FxRate("EUR", Decimal("1.08"), "--fx", "2026-10"),
    ]


@pytest.mark.parametrize("flag", ["CNY", "CNY=", "CNY=abc", "CNY=-1", "YUAN=0.14"])
def test_bad_flags_are_refused_with_a_hint(flag: str) -> None:
    with pytest.raises(OptionError, match="not CURRENCY=RATE"):
        parse_fx_flags((flag,))


def test_amounts_are_converted_exactly_and_the_rate_is_reported() -> None:
    converted, used = convert_to_usd(_usage("CNY", 100_000_000_000), parse_fx_flags(("CNY=0.1405",)))
    assert converted["billed_nanos"].tolist() == [14_050_000_000]  # 100 CNY = 14.05 USD
    assert converted["currency"].tolist() == ["USD"]
    assert used == [FxRate("CNY", Decimal("0.1405"), "--fx")]


def test_a_credit_is_converted_with_the_amount_it_is_part_of() -> None:
    converted, _ = convert_to_usd(
        _usage("CNY", -20_000_000_000, credit_nanos=-20_000_000_000), parse_fx_flags(("CNY=0.1405",))
    )
    assert converted["billed_nanos"].tolist() == converted["billed_credit_nanos"].tolist() == [-2_810_000_000]


def test_a_month_rate_wins_over_a_general_one() -> None:
    rates = parse_fx_flags(("CNY=0.14", "CNY@2026-10=0.15"))
    converted, used = convert_to_usd(_usage("CNY", 1_000_000_000), rates)
    assert converted["billed_nanos"].tolist() == [150_000_000]
    assert used[0].month == "2026-10"


def test_a_missing_rate_stops_the_audit_naming_currency_and_month() -> None:
    with pytest.raises(OptionError, match="no exchange rate for CNY in 2026-10"):
        convert_to_usd(_usage("CNY", 1_000_000_000), parse_fx_flags(("EUR=1.08",)))


def test_usd_only_usage_is_left_alone() -> None:
    usage = _usage("USD", 5)
    converted, used = convert_to_usd(usage, [])
    assert converted is usage and used == []


def _rows(key: str, days: list[str], billed: list[int], currency: str = "CNY") -> pd.DataFrame:
    return pd.concat([_usage(currency, b, day).assign(api_key=key) for day, b in zip(days, billed, strict=True)])


def test_a_cut_by_month_adds_up_to_the_days_it_sums_once_converted() -> None:
    """Two keys' days (the usage table sums them over the keys) and each key's month (the usage by key): converted
    row by row they round apart; the cut by month is made to add up to the days, the rest on its largest row."""
    rates = parse_fx_flags(("CNY=0.1405",))
    days = ["2026-10-01", "2026-10-02", "2026-10-03"]
    by_key_day = pd.concat([_rows("a", days, [3, 3, 3]), _rows("b", days, [7, 1, 1])], ignore_index=True)
    whole = by_key_day.groupby(["provider", "model_raw", "day", "currency"], as_index=False)[
        list(MONEY_NANO_COLUMNS)
    ].sum()  # 10, 4, 4 nanos a day: 1.405, 0.562, 0.562 USD nanos, rounded to 1, 1, 1
    part = (
        by_key_day.assign(month=by_key_day["day"].str.slice(0, 7))
        .groupby(["provider", "model_raw", "api_key", "month", "currency"], as_index=False)[list(MONEY_NANO_COLUMNS)]
        .sum()
    )  # a: 9 nanos → 1.2645, b: 9 → 1.2645; rounded to 1 and 1
    whole_usd, _ = convert_to_usd(whole, rates)
    plain, _ = convert_to_usd(part, rates)
    assert whole_usd["billed_nanos"].sum() == 3 and plain["billed_nanos"].sum() == 2, "the premise: they round apart"
    made = convert_part_to_usd(part, whole, whole_usd, ["provider", "model_raw"], rates)
    assert made["billed_nanos"].tolist() == [2, 1]  # the nano between them on the first of the two largest
    assert made["currency"].tolist() == ["USD", "USD"]
    assert made["billed_credit_nanos"].tolist() == [0, 0]


def test_a_cut_in_dollars_is_only_copied() -> None:
    part = _usage("USD", 5).assign(month="2026-10")
    made = convert_part_to_usd(part, _usage("USD", 5), _usage("USD", 5), ["provider"], [])
    pd.testing.assert_frame_equal(made, part)
