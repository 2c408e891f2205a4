"""Currency: amounts billed in another currency are converted at the user's rate, never at an assumed one."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
import pytest

from auditor.errors import OptionError
from pricing.fx import MONEY_NANO_COLUMNS, FxRate, convert_to_usd, parse_fx_flags


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
