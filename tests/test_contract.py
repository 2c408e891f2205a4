"""Negotiated prices (`--contract`): discounts, custom prices, committed spend, labels, and bad contract files.

Expected figures come from runs without the contract (list prices) and from the sample CSV read with the csv
module, never from the contract code under test.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from auditor.report.pdf_tables import list_cost_text
from auditor.report.xlsx import build_workbook
from auditor.result import AuditResult
from tests.conftest import AS_OF, ROOT, SAMPLES, csv_rows

NANO = Decimal("0.000000001")
OPENAI_OCT = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"
ANTHROPIC = SAMPLES / "anthropic_usage_csv"
EXAMPLES = (ROOT / "docs" / "contract-example.toml", ROOT / "docs" / "contract-example.csv")
FINE_TUNED = "ft:gpt-4.1-mini-2025-04-14:acme:support-bot:AbC123"


def _audit(run_cli, *args: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    run = run_cli(*args, "--as-of", AS_OF.isoformat(), "--json", "-", "--quiet")
    assert run.status == 0, run.err
    result: dict[str, Any] = run.json()
    return result


def _d(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _times(value: str, factor: str) -> Decimal:
    return (Decimal(value) * Decimal(factor)).quantize(NANO)


# --- a 20% discount on one vendor --------------------------------------------------------------------------


def test_vendor_discount_of_20_percent_changes_exactly_that_vendors_figures(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contract = _write(tmp_path, "contract.toml", '[[discount]]\nvendor = "anthropic"\npercent_off = 20\n')
    inputs = (str(OPENAI_OCT), str(ANTHROPIC))
    listed = _audit(run_cli, *inputs)
    negotiated = _audit(run_cli, *inputs, "--contract", str(contract))
    assert {u["provider"] for u in listed["usage"]} == {"openai", "anthropic"}

    # Usage lines and months: every other vendor's line is unchanged; the vendor's lines are unchanged but
    # for their contract cost, which is their list cost × 0.8 exactly.
    for section in ("usage", "usage_by_month"):
        assert len(listed[section]) == len(negotiated[section])
        for before, after in zip(listed[section], negotiated[section], strict=True):
            if before["provider"] != "anthropic":
                assert after == before
                continue
            assert {k: v for k, v in after.items() if k not in ("contract_cost", "contract_terms")} == {
                k: v for k, v in before.items() if k not in ("contract_cost", "contract_terms")
            }
            assert before["contract_cost"] is None and before["list_cost"] is not None
            assert Decimal(after["contract_cost"]) == _times(before["list_cost"], "0.8")
            if section == "usage":
                assert after["contract_terms"] == ["anthropic: 20% off list (contract line 1)"]

    # Totals: list figures unchanged; the contract total is the months' costs with the vendor's at 80%.
    expected_total = sum(
        (_times(m["list_cost"], "0.8") if m["provider"] == "anthropic" else Decimal(m["list_cost"]))
        for m in listed["usage_by_month"]
        if m["list_cost"] is not None
    )
    assert {k: v for k, v in negotiated["totals"].items() if k != "contract_cost"} == {
        k: v for k, v in listed["totals"].items() if k != "contract_cost"
    }
    assert Decimal(negotiated["totals"]["contract_cost"]) == expected_total

    # Scenarios: the baseline's anthropic part (its list cost at as-of, from an audit of anthropic alone) at
    # 80%, the openai part unchanged; anthropic candidates at 80% of their list projection, others unchanged.
    anthropic_base = Decimal(_audit(run_cli, str(ANTHROPIC))["scenarios"][0]["baseline_cost"])
    openai_base = Decimal(_audit(run_cli, str(OPENAI_OCT))["scenarios"][0]["baseline_cost"])
    assert Decimal(listed["scenarios"][0]["baseline_cost"]) == anthropic_base + openai_base
    expected_baseline = (anthropic_base * Decimal("0.8")).quantize(NANO) + openai_base
    before_by = {s["candidate"]: s for s in listed["scenarios"]}
    assert len(negotiated["scenarios"]) == len(before_by)
    for s in negotiated["scenarios"]:
        before = before_by[s["candidate"]]
        assert Decimal(s["baseline_cost"]) == expected_baseline and s["baseline_basis"] == "contract"
        if s["candidate"].startswith("anthropic:"):
            assert Decimal(s["projected_cost"]) == _times(before["projected_cost"], "0.8")
            assert s["projected_basis"] == "contract"
        else:
            assert s["projected_cost"] == before["projected_cost"] and s["projected_basis"] == "list"
        assert Decimal(s["savings"]) == Decimal(s["baseline_cost"]) - Decimal(s["projected_cost"])
    assert any(s["candidate"].startswith("anthropic:") for s in negotiated["scenarios"])
    assert negotiated["contract_file"] == "contract.toml" and listed["contract_file"] is None
    assert any("Negotiated prices from" in n for n in negotiated["notes"])


def test_a_model_discount_wins_over_its_vendors(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contract = _write(
        tmp_path,
        "contract.csv",
        "term,vendor,model,percent_off\ndiscount,openai,,10\ndiscount,,gpt-5,25\n",
    )
    listed = _audit(run_cli, str(OPENAI_OCT))
    negotiated = _audit(run_cli, str(OPENAI_OCT), "--contract", str(contract))
    for before, after in zip(listed["usage"], negotiated["usage"], strict=True):
        if before["list_cost"] is None:
            assert after["contract_cost"] is None  # a discount never prices what the catalog does not
            continue
        factor = "0.75" if before["model"] == "openai:gpt-5" else "0.9"
        assert Decimal(after["contract_cost"]) == _times(before["list_cost"], factor)


# --- custom prices of a fine-tuned model ------------------------------------------------------------------

_FT_PRICES = {"input": "0.80", "cached_input": "0.20", "output": "3.20"}


def _fine_tuned_cost(usd_per_unit: str = "1") -> Decimal:
    """The fine-tuned model's cost at the contract's prices, from the CSV's own columns."""
    rows = [r for r in csv_rows(OPENAI_OCT) if r["model"] == FINE_TUNED]
    assert rows
    cached = sum(int(float(r["input_cached_tokens"])) for r in rows)
    uncached = sum(int(float(r["input_tokens"])) for r in rows) - cached
    output = sum(int(float(r["output_tokens"])) for r in rows)
    per_million = (
        uncached * Decimal(_FT_PRICES["input"])
        + cached * Decimal(_FT_PRICES["cached_input"])
        + output * Decimal(_FT_PRICES["output"])
    )
    return (per_million / 1_000_000 * Decimal(usd_per_unit)).quantize(NANO)


def _ft_contract(tmp_path: Path, currency: str = "USD") -> Path:
    return _write(
        tmp_path,
        "contract.toml",
        f'[[price]]\nvendor = "openai"\nmodel = "{FINE_TUNED}"\ninput = "{_FT_PRICES["input"]}"\n'
        f'cached_input = "{_FT_PRICES["cached_input"]}"\noutput = "{_FT_PRICES["output"]}"\ncurrency = "{currency}"\n',
    )


def test_custom_price_makes_a_fine_tuned_model_priced(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    listed = _audit(run_cli, str(OPENAI_OCT))
    negotiated = _audit(run_cli, str(OPENAI_OCT), "--contract", str(_ft_contract(tmp_path)))
    (before,) = [u for u in listed["usage"] if u["model_raw"] == FINE_TUNED]
    (after,) = [u for u in negotiated["usage"] if u["model_raw"] == FINE_TUNED]
    assert before["list_cost"] is None and before["contract_cost"] is None
    assert after["list_cost"] is None  # the catalog still has no list price
    assert Decimal(after["contract_cost"]) == _fine_tuned_cost()
    assert after["contract_terms"] and after["contract_terms"][0].endswith("(contract line 1)")
    # No longer unpriced: not warned about, not counted as unpriced, in the contract total.
    assert any(FINE_TUNED in w for w in listed["warnings"])
    assert not any(FINE_TUNED in w for w in negotiated["warnings"])
    assert negotiated["totals"]["unpriced_models"] == listed["totals"]["unpriced_models"] - 1
    assert Decimal(negotiated["totals"]["contract_cost"]) == Decimal(listed["totals"]["list_cost"]) + _fine_tuned_cost()
    # Other lines and the scenarios (a fine-tuned model is not re-priced on candidates) are unchanged.
    assert [u for u in negotiated["usage"] if u["model_raw"] != FINE_TUNED] == [
        u for u in listed["usage"] if u["model_raw"] != FINE_TUNED
    ]
    assert negotiated["scenarios"] == listed["scenarios"]


def test_custom_price_in_another_currency_needs_and_uses_fx(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contract = _ft_contract(tmp_path, "EUR")
    refused = run_cli(str(OPENAI_OCT), "--contract", str(contract), "--json", "-", "--quiet")
    assert refused.status == 2
    assert f"error: {contract}, line 1: amounts in EUR need an exchange rate" in refused.err
    assert "--fx EUR=" in refused.err
    negotiated = _audit(run_cli, str(OPENAI_OCT), "--contract", str(contract), "--fx", "EUR=1.08")
    (after,) = [u for u in negotiated["usage"] if u["model_raw"] == FINE_TUNED]
    assert Decimal(after["contract_cost"]) == _fine_tuned_cost("1.08")


# --- committed spend ----------------------------------------------------------------------------------------


def _commitment(tmp_path: Path, amount: str, percent_off: str = "0") -> Path:
    return _write(
        tmp_path,
        "contract.toml",
        "[[commitment]]\n"
        f'vendor = "openai"\namount = "{amount}"\nperiod = "month"\nstart = 2026-09-01\nend = 2027-08-31\n'
        f"percent_off = {percent_off}\n",
    )


@pytest.mark.parametrize("amount", ["500", "50"])
def test_commitment_reports_use_shortfall_and_overage(run_cli, tmp_path: Path, amount: str) -> None:  # type: ignore[no-untyped-def]
    listed = _audit(run_cli, str(OPENAI_OCT))
    negotiated = _audit(run_cli, str(OPENAI_OCT), "--contract", str(_commitment(tmp_path, amount, "10")))
    # The audited days (2026-10-01 to 2026-10-14) reach one monthly period of the term.
    (period,) = negotiated["commitments"]
    assert (period["period_start"], period["period_end"]) == ("2026-10-01", "2026-10-31")
    assert (period["days_observed"], period["days_in_period"], period["complete"]) == (14, 31, False)
    # Spend: each priced model at its list cost less the commitment's 10%.
    spend = sum(_times(u["list_cost"], "0.9") for u in listed["usage"] if u["list_cost"] is not None)
    committed = Decimal(amount)
    assert Decimal(period["spend"]) == spend
    assert Decimal(period["committed"]) == committed
    assert Decimal(period["shortfall"]) == max(committed - spend, Decimal(0))
    assert Decimal(period["overage"]) == max(spend - committed, Decimal(0))
    assert period["used_pct"] == round(float(spend / committed * 100), 2)
    assert (Decimal(period["shortfall"]) > 0) == (amount == "500")


def test_commitment_outside_the_audited_days_reports_nothing_and_prices_nothing(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contract = _write(
        tmp_path,
        "c.toml",
        '[[commitment]]\nvendor = "openai"\namount = 100\nperiod = "quarter"\nstart = 2027-01-01\n'
        "end = 2027-12-31\npercent_off = 30\n",
    )
    listed = _audit(run_cli, str(OPENAI_OCT))
    negotiated = _audit(run_cli, str(OPENAI_OCT), "--contract", str(contract))
    assert negotiated["commitments"] == []
    assert negotiated["usage"] == listed["usage"]


# --- one contract, three file formats; labels in every output ----------------------------------------------


def _cell(text: str) -> object:
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text)
    return float(text) if re.fullmatch(r"[\d.]+", text) else text


def test_toml_csv_and_xlsx_contracts_price_the_same(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    toml_path, csv_path = EXAMPLES
    # The CSV example as a workbook, numbers stored as numbers and dates as dates, as a spreadsheet keeps them.
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    rows = csv_rows(csv_path)
    sheet.append(list(rows[0]))
    for row in rows:
        sheet.append([_cell(v) for v in row.values()])
    xlsx_path = tmp_path / "contract.xlsx"
    workbook.save(xlsx_path)
    results = [
        _audit(run_cli, str(OPENAI_OCT), str(ANTHROPIC), "--contract", str(path))
        for path in (toml_path, csv_path, xlsx_path)
    ]
    costs = [[(u["model_raw"], u["contract_cost"]) for u in r["usage"]] for r in results]
    assert costs[0] == costs[1] == costs[2]
    assert any(c is not None for _, c in costs[0])
    assert [r["commitments"][0]["spend"] for r in results] == [results[0]["commitments"][0]["spend"]] * 3
    assert "contract row 2" in " ".join(results[2]["notes"])


def test_reports_label_contract_prices(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    contract = EXAMPLES[0]
    run = run_cli(
        str(OPENAI_OCT), "--as-of", AS_OF.isoformat(), "--contract", str(contract), "--json", str(tmp_path / "r.json")
    )
    assert run.status == 0, run.err
    assert "contract $" in run.out and "(contract)" in run.out and "commitment openai" in run.out
    result = AuditResult.model_validate_json((tmp_path / "r.json").read_text(encoding="utf-8"))
    (ft,) = [u for u in result.usage if u.model_raw == FINE_TUNED]
    assert list_cost_text(ft).startswith("contract $")
    book = build_workbook(result)
    usage = list(book["Usage by model"].values)
    column = usage[0].index("contract cost")
    assert Decimal(str(next(r for r in usage if r[1] == FINE_TUNED)[column])) == ft.contract_cost
    assert list(book["Commitments"].values)[1][0] == "openai"
    scenarios = list(book["Scenarios"].values)
    assert scenarios[1][scenarios[0].index("baseline basis")] == "contract"


# --- bad contract files -------------------------------------------------------------------------------------

_BAD = [
    ("c.toml", '[[discount]]\nvendor = "openai"\npercent_off = 120\n', r"line 3: discount 'percent_off': .*100"),
    ("c.toml", "[[discount]]\npercent_off = 5\n", r"line 1: discount: a discount needs a vendor or a model"),
    ("c.toml", '[[price]]\nmodel = "x"\ninput = 1\noutput = 2\nouptut = 3\n', r"line 5: price 'ouptut': unknown field"),
    ("c.toml", '[[price]]\nmodel = "x"\ninput = "one"\noutput = 2\n', r"line 3: price 'input': .*decimal"),
    ("c.toml", "[[discount]\nvendor = 1\n", r"line 1: not valid TOML"),
    ("c.toml", '[discounts]\nvendor = "x"\n', r"line 1: unknown section 'discounts'"),
    (
        "c.toml",
        '[[commitment]]\nvendor = "openai"\namount = 10\nperiod = "week"\nstart = 2026-01-01\nend = 2026-12-31\n',
        r"line 4: commitment 'period': .*'month', 'quarter' or 'year'",
    ),
    (
        "c.toml",
        '[[commitment]]\nvendor = "openai"\namount = 10\nperiod = "month"\nstart = 2026-02-01\nend = 2026-01-31\n',
        r"line 1: commitment: end 2026-01-31 is before start 2026-02-01",
    ),
    ("c.csv", "term,vendor,percent_off\ndiscount,openai,10\ndiscont,openai,5\n", r"line 3: term 'discont' is not"),
    ("c.csv", "term,vendor,percent\ndiscount,openai,10\n", r"line 1: unknown column 'percent'"),
    ("c.csv", "term,vendor,model,percent_off\ndiscount,openai,,10\ndiscount,OpenAI,,5\n", r"line 3: names the same"),
]


@pytest.mark.parametrize(("name", "text", "pattern"), _BAD)
def test_bad_contract_file_exits_2_with_one_line(run_cli, tmp_path: Path, name: str, text: str, pattern: str) -> None:  # type: ignore[no-untyped-def]
    contract = _write(tmp_path, name, text)
    run = run_cli(str(OPENAI_OCT), "--contract", str(contract), "--json", "-", "--quiet")
    assert run.status == 2
    lines = run.err.strip().splitlines()
    assert lines[0].startswith(f"error: {contract}, ")
    assert re.search(pattern, lines[0]), lines[0]
    assert len(lines) == 2 and lines[1].startswith("hint: ")
    assert "Traceback" not in run.err and run.out == ""


def test_bad_xlsx_contract_names_the_sheet_row(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["term", "vendor", "percent_off"])
    sheet.append(["discount", "openai", 10])
    sheet.append(["discount", "anthropic", -5])
    path = tmp_path / "contract.xlsx"
    workbook.save(path)
    run = run_cli(str(OPENAI_OCT), "--contract", str(path), "--json", "-", "--quiet")
    assert run.status == 2
    assert run.err.splitlines()[0].startswith(f"error: {path}, row 3: discount 'percent_off': ")
