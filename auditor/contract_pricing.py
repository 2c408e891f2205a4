"""Negotiated prices applied: contract costs of usage lines, months and totals, scenarios and commitments.

Which term prices a row of usage (its vendor, model and UTC day): the model's custom price, else the
model's discount, else its vendor's discount, else a commitment of its vendor in force that day, else
none (list price). A discounted part of a line costs its list cost (rounded to the nano-dollar, as the
line shows it) times (1 - percent off), so a line with one discount shows exactly list × factor.
A custom price costs each token class at its price per million. Money stays Decimal throughout.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from auditor.costing import cost_by_group
from auditor.ledger import NANOS_PER_UNIT, TOKEN_COLUMNS
from auditor.result import CommitmentPeriod, MonthlyUsage, Scenario, Totals, UsageEntry, money
from auditor.scenarios import priced_shape
from auditor.workload import MODEL_REF, RATE_ID, Pricebook
from pricing.catalog import CatalogModel
from pricing.contract import PER_MILLION, Commitment, Contract, ContractError, CustomPrice, Discount, model_names
from pricing.fx import FxRate
from pricing.ratebook import NO_RATE
from pricing.rates import ClassRates, cost_of

Term = Discount | CustomPrice | Commitment
_Row = TypeVar("_Row", UsageEntry, MonthlyUsage)
_TERM = "_contract_term"
_NONE = -1
_PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class GroupCost:
    """A group's cost at contract prices (list price where no term applies) and the terms that applied."""

    cost: Decimal
    terms: tuple[int, ...]
    priced: bool


class ContractPricing:
    """A contract with its custom prices in USD per token, ready to price tables of the workload."""

    def __init__(self, contract: Contract, fx: Sequence[FxRate]) -> None:
        self.contract = contract
        self.terms: list[Term] = [*contract.prices, *contract.discounts, *contract.commitments]
        self._rates = {i: self._usd_rates(t, fx) for i, t in enumerate(self.terms) if isinstance(t, CustomPrice)}
        self._amounts = {
            i: t.amount * self._usd_per_unit(t.currency, t.line, fx)
            for i, t in enumerate(self.terms)
            if isinstance(t, Commitment)
        }
        self._cache: dict[tuple[str, str, str, str], int] = {}

    # --- which term prices what -----------------------------------------------------------------------

    def _usd_per_unit(self, currency: str, line: int, fx: Sequence[FxRate]) -> Decimal:
        if currency == "USD":
            return Decimal(1)
        found = [r for r in fx if r.currency == currency and r.month is None]
        if not found:
            raise ContractError(
                self.contract.path,
                f"amounts in {currency} need an exchange rate for every month",
                f"line {line}",
                f"give --fx {currency}=RATE (USD per {currency}); a rate is never assumed",
            )
        return found[-1].usd_per_unit

    def _usd_rates(self, price: CustomPrice, fx: Sequence[FxRate]) -> ClassRates:
        usd = self._usd_per_unit(price.currency, price.line, fx)
        return ClassRates(tuple(p * usd / PER_MILLION for p in price.per_million()), Decimal(0))

    def term_of(self, provider: str, model_raw: str, model_ref: str, day: str) -> int:
        """Index of the term pricing this usage, or -1 (list price)."""
        key = (provider, model_raw, model_ref, day)
        found = self._cache.get(key)
        if found is None:
            names = model_names(model_raw, model_ref)
            term: Term | None = self.contract.price_for(provider, names) or self.contract.discount_for(provider, names)
            if term is None:
                term = self.contract.commitment_for(provider, date.fromisoformat(day))
            found = _NONE if term is None else next(i for i, t in enumerate(self.terms) if t is term)
            self._cache[key] = found
        return found

    def _with_terms(self, frame: pd.DataFrame, day: date | None = None) -> pd.DataFrame:
        days = np.full(len(frame), day.isoformat(), dtype=object) if day else frame["day"].to_numpy()
        keys = pd.DataFrame(
            {"p": frame["provider"].to_numpy(), "m": frame["model_raw"].to_numpy(), "r": frame[MODEL_REF].to_numpy()}
        ).assign(d=days)
        combos = keys.drop_duplicates()
        ids = [self.term_of(str(p), str(m), str(r), str(d)) for p, m, r, d in combos.itertuples(index=False)]
        merged = keys.merge(combos.assign(t=ids), on=["p", "m", "r", "d"], how="left", sort=False)
        return frame.assign(**{_TERM: merged["t"].to_numpy(dtype=np.int64)})

    def _factor(self, term: int) -> Decimal:
        if term == _NONE:
            return Decimal(1)
        found = self.terms[term]
        assert not isinstance(found, CustomPrice)
        return found.factor

    # --- costs ----------------------------------------------------------------------------------------

    def group_costs(
        self, frame: pd.DataFrame, rate_ids: np.ndarray, rates: list[ClassRates], keys: list[str]
    ) -> dict[tuple[object, ...], GroupCost]:
        """Per group of `keys`: the cost at contract prices of its priced rows (custom prices, discounted
        list, list) and which terms applied. `frame` must carry a term column (`_with_terms`)."""
        custom = frame[_TERM].map(lambda t: t in self._rates).to_numpy(dtype=bool)
        listed = ~custom & (rate_ids != NO_RATE)
        costs: dict[tuple[object, ...], Decimal] = {}
        terms: dict[tuple[object, ...], set[int]] = {}
        parts = cost_by_group(frame[listed], rate_ids[listed], rates, [*keys, _TERM]) if listed.any() else {}
        for (*group, term), cost in parts.items():
            key = tuple(group)
            costs[key] = costs.get(key, Decimal(0)) + money(money(cost) * self._factor(_index(term)))
            if _index(term) != _NONE:
                terms.setdefault(key, set()).add(_index(term))
        if custom.any():
            sums = frame[custom].groupby([*keys, _TERM], sort=True)[list(TOKEN_COLUMNS)].sum()
            for index, row in zip(sums.index, sums.to_dict("records"), strict=True):
                *group, term = index if isinstance(index, tuple) else (index,)
                key = tuple(group)
                tokens = {c: int(row[c]) for c in TOKEN_COLUMNS}
                costs[key] = costs.get(key, Decimal(0)) + cost_of(self._rates[_index(term)], tokens, 0)
                terms.setdefault(key, set()).add(_index(term))
        return {k: GroupCost(money(v), tuple(sorted(terms.get(k, ()))), True) for k, v in costs.items()}

    def _source_costs(self, frame: pd.DataFrame, keys: list[str]) -> dict[tuple[object, ...], GroupCost]:
        """A cost export's stated list price at contract prices (discounts only: it has no tokens)."""
        rows = frame[(frame["source_list_lines"] > 0) & frame[_TERM].map(lambda t: t not in self._rates)]
        if rows.empty:
            return {}
        sums = rows.groupby([*keys, _TERM], sort=True)["source_list_nanos"].sum()
        costs: dict[tuple[object, ...], Decimal] = {}
        terms: dict[tuple[object, ...], set[int]] = {}
        for index, nanos in sums.items():
            *group, term = index if isinstance(index, tuple) else (index,)
            key = tuple(group)
            part = money(Decimal(int(nanos)) / NANOS_PER_UNIT)
            costs[key] = costs.get(key, Decimal(0)) + money(part * self._factor(_index(term)))
            if _index(term) != _NONE:
                terms.setdefault(key, set()).add(_index(term))
        return {k: GroupCost(v, tuple(sorted(terms.get(k, ()))), True) for k, v in costs.items()}

    def _costs(self, lines: pd.DataFrame, pricebook: Pricebook, keys: list[str]) -> dict[Any, GroupCost]:
        return self.group_costs(lines, lines[RATE_ID].to_numpy(), pricebook.rates.rates, keys)

    # --- the result's sections ------------------------------------------------------------------------

    def apply_to_summary(
        self,
        lines: pd.DataFrame,
        line_column: str,
        pricebook: Pricebook,
        usage: list[UsageEntry],
        by_month: list[MonthlyUsage],
        utc_months: list[MonthlyUsage],
        month_day_column: str,
    ) -> tuple[list[UsageEntry], list[MonthlyUsage], list[MonthlyUsage]]:
        """Usage lines and months with their contract cost where a term applies."""
        lines = self._with_terms(lines)
        keys = ["provider", line_column]
        with_month = lines.assign(
            _month=lines[month_day_column].str.slice(0, 7), _utc_month=lines["day"].str.slice(0, 7)
        )
        per_line = self._costs(lines, pricebook, keys)
        per_line_source = self._source_costs(lines, keys)
        usage = [self._priced(u, (u.provider, u.model_raw), per_line, per_line_source) for u in usage]
        monthly = [*keys, "_month"]
        months = self._costs(with_month, pricebook, monthly)
        months_source = self._source_costs(with_month, monthly)
        by_month = [self._priced(m, (m.provider, m.model_raw, m.month), months, months_source) for m in by_month]
        if month_day_column == "day":
            return usage, by_month, by_month
        utc = [*keys, "_utc_month"]
        utc_costs, utc_source = self._costs(with_month, pricebook, utc), self._source_costs(with_month, utc)
        return usage, by_month, [self._priced(m, (m.provider, m.model_raw, m.month), utc_costs, utc_source)
                                 for m in utc_months]  # fmt: skip

    def _priced(
        self, row: _Row, key: tuple[object, ...], costs: dict[Any, GroupCost], source: dict[Any, GroupCost]
    ) -> _Row:
        has_tokens = any(getattr(row, c) for c in TOKEN_COLUMNS) or bool(row.requests)
        found = costs.get(key) if has_tokens else source.get(key)
        if found is None or not found.terms:
            return row
        update: dict[str, object] = {"contract_cost": found.cost}
        if isinstance(row, UsageEntry):
            update["contract_terms"] = [self.terms[t].describe(self.contract.numbered_by) for t in found.terms]
        return row.model_copy(update=update)

    def total(self, totals: Totals, utc_months: list[MonthlyUsage]) -> Totals:
        """Totals with the contract cost: each month at contract prices where a term applies, else list,
        counted as the list cost total is (a cost export's list price only where no usage export covers)."""
        with_tokens = {(m.provider, m.month) for m in utc_months if any(getattr(m, c) for c in TOKEN_COLUMNS)}
        costs = []
        for m in utc_months:
            cost = m.contract_cost if m.contract_cost is not None else m.list_cost
            has_tokens = any(getattr(m, c) for c in TOKEN_COLUMNS)
            if cost is not None and (has_tokens or (m.provider, m.month) not in with_tokens):
                costs.append(cost)
        return totals.model_copy(update={"contract_cost": sum(costs, Decimal(0)) if costs else None})

    def apply_to_scenarios(
        self,
        scenarios: list[Scenario],
        shape: pd.DataFrame,
        pricebook: Pricebook,
        candidates: list[CatalogModel],
        as_of: date,
    ) -> list[Scenario]:
        """The baseline at contract prices for the models the contract names (on their vendor, at as-of);
        a candidate at contract prices only when the contract names it (its model or its vendor)."""
        priced = priced_shape(shape)
        if priced.empty or not scenarios:
            return scenarios
        price_keys = ["time_slot", "service_tier", "request_size_floor_tokens"]
        sums = ["requests", *TOKEN_COLUMNS]
        model_keys = ["provider", "model_raw", MODEL_REF]
        by_model = self._with_terms(
            priced.groupby([*model_keys, *price_keys], sort=True)[sums].sum().reset_index(), as_of
        )
        book = pricebook.rates
        ids = book.rate_ids(by_model, pricebook.models, on_day=as_of)
        found = self.group_costs(by_model.assign(_all=0), ids, book.rates, ["_all"]).get((0,))
        baseline_terms = found.terms if found else ()
        workload = by_model.groupby(price_keys, sort=True)[sums].sum().reset_index()
        tokens = {c: int(workload[c].sum()) for c in TOKEN_COLUMNS}
        by_ref = {c.ref: c for c in candidates}
        out = []
        for s in scenarios:
            baseline = found.cost if found and baseline_terms else s.baseline_cost
            projected, named = s.projected_cost, False
            # The assumption range moves with the contract: scaled by a discount; unknown under custom prices.
            ranged: dict[str, object] = {}
            candidate = by_ref.get(s.candidate)
            if candidate is not None:
                term = self.term_of(candidate.provider.id, candidate.model.id, candidate.ref, as_of.isoformat())
                if term in self._rates:
                    projected, named = money(cost_of(self._rates[term], tokens, 0)), True
                    ranged = {"low_cost": None, "high_cost": None, "drivers": []}
                elif term != _NONE:
                    factor = self._factor(term)
                    projected, named = money(s.projected_cost * factor), True
                    ranged = {
                        "low_cost": None if s.low_cost is None else money(s.low_cost * factor),
                        "high_cost": None if s.high_cost is None else money(s.high_cost * factor),
                        "drivers": [d.model_copy(update={"effect": money(d.effect * factor)}) for d in s.drivers],
                    }
            savings = baseline - projected
            out.append(
                s.model_copy(
                    update={
                        "baseline_cost": baseline,
                        "projected_cost": projected,
                        "savings": savings,
                        "savings_pct": round(float(savings / baseline * 100), 2) if baseline else None,
                        "baseline_basis": "contract" if baseline_terms else "list",
                        "projected_basis": "contract" if named else "list",
                        **ranged,
                    }
                )
            )
        return sorted(out, key=lambda s: (-s.savings, s.candidate))

    def commitment_periods(self, lines: pd.DataFrame, pricebook: Pricebook) -> list[CommitmentPeriod]:
        """Each period of each commitment that the audited days reach: committed, spent, short or over."""
        if lines.empty or not self.contract.commitments:
            return []
        first, last = date.fromisoformat(str(lines["day"].min())), date.fromisoformat(str(lines["day"].max()))
        lines = self._with_terms(lines)
        out = []
        for index, term in enumerate(self.terms):
            if not isinstance(term, Commitment):
                continue
            for start, end in _periods(term):
                if end < first or start > last:
                    continue
                days = lines["day"].astype(str)
                inside = lines[
                    (lines["provider"] == term.vendor) & (days >= start.isoformat()) & (days <= end.isoformat())
                ]
                # Each model's spend in the period is rounded as a usage line is, then summed.
                costs = self._costs(inside, pricebook, ["model_raw"]) if not inside.empty else {}
                spend = sum((c.cost for c in costs.values()), Decimal(0))
                committed = money(self._amounts[index])
                observed = (min(end, last) - max(start, first)).days + 1
                out.append(
                    CommitmentPeriod(
                        vendor=term.vendor,
                        period_start=start,
                        period_end=end,
                        committed=committed,
                        spend=money(spend),
                        used_pct=round(float(spend / committed * 100), 2),
                        shortfall=money(max(committed - spend, Decimal(0))),
                        overage=money(max(spend - committed, Decimal(0))),
                        days_observed=observed,
                        days_in_period=(end - start).days + 1,
                        complete=start >= first and end <= last,
                        term=term.describe(self.contract.numbered_by),
                    )
                )
        return out

    def notes(self) -> list[str]:
        described = "; ".join(t.describe(self.contract.numbered_by) for t in self.terms)
        return [
            f"Negotiated prices from {self.contract.path} win over list prices where they apply: {described}. "
            "Usage lines show the contract cost beside the list cost; a custom price wins over a model's discount, "
            "which wins over its vendor's, which wins over a commitment's.",
            "Scenarios: the baseline uses the contract's prices for the current models it names; a candidate keeps "
            "its list price unless the contract names it (its model or its vendor). Models priced only by the "
            "contract (fine-tuned, private) are not re-priced on candidates.",
        ]


def _index(value: object) -> int:
    return int(str(value))


def _date(value: Hashable) -> date:
    return date.fromisoformat(str(value))


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1, day=1)


def _periods(term: Commitment) -> list[tuple[date, date]]:
    """The term's periods from its start: calendar-length steps (a period starting on the 1st is a calendar
    month, quarter or year), the last one ending with the term."""
    step = _PERIOD_MONTHS[term.period]
    out = []
    start = term.start
    while start <= term.end:
        following = _add_months(start.replace(day=1), step)
        if start.day != 1:
            following = following.replace(day=min(start.day, 28))
        end = min(following - timedelta(days=1), term.end)
        out.append((start, end))
        start = end + timedelta(days=1)
    return out
