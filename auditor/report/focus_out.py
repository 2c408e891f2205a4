"""`--focus PATH`: the normalised ledger as a FinOps FOCUS 1.2 cost and usage CSV (see docs/focus.md).

Grain: one row per ledger aggregate (vendor, model as written, project, API key, service tier, UTC day, input
file) × token class × list unit price, one charge row per aggregate whose source states money besides credits,
and one credit row per aggregate with credit or refund lines. Token rows carry the tokens and their list cost;
the charge row carries what the source says was charged, the credit row what it credited (a source bills a line,
not a token class, so the bill is never split across classes). Token classes do not overlap:
`input` excludes cache reads and writes, `output` here EXCLUDES reasoning and `reasoning` is its own row,
so `ConsumedQuantity` adds up to every token once. Money is exact (USD, the result's currency, after
`--fx`); a figure nobody states is an empty cell (FOCUS null), never 0: `ListCost` of an unpriced model,
`BilledCost` of a usage-only export. Those empty cells break FOCUS's "MUST NOT be null" rules on purpose;
docs/focus.md lists the rules the file meets and the ones it does not.

The rows are built from the ledger inside the run (`FocusLedger` is handed to `run_audit` as `on_ledger`):
the ledger is not in the JSON result, so a FOCUS file can be written only by a run over the inputs.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Context, Decimal
from pathlib import Path
from types import MappingProxyType
from typing import TextIO

import numpy as np
import pandas as pd

from auditor.key_days import KeyDays
from auditor.ledger import NANOS_PER_UNIT, TOKEN_COLUMNS
from auditor.report.files import write_atomically
from auditor.report.formatting import safe_text
from auditor.workload import MODEL_REF, RATE_ID, Pricebook
from pricing.catalog import providers_by_id
from pricing.ratebook import NO_RATE

# FOCUS 1.2's 57 columns, in the spec's (alphabetical) order; then the extension columns this tool adds.
FOCUS_COLUMNS: tuple[str, ...] = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName", "BillingAccountType",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "CapacityReservationId",
    "CapacityReservationStatus", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargeFrequency",
    "ChargePeriodEnd", "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "CommitmentDiscountUnit", "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
    "EffectiveCost", "InvoiceId", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory", "ServiceName",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags",
)  # fmt: skip
EXTENSION_COLUMNS: tuple[str, ...] = (
    "x_TokenClass", "x_Model", "x_CatalogModel", "x_ServiceTier", "x_ApiKey", "x_ListCostStatus",
    "x_SourceListCost", "x_BilledNonTokenCost", "x_ByokUpstreamCost", "x_SourceFile",
)  # fmt: skip
COLUMNS: tuple[str, ...] = (*FOCUS_COLUMNS, *EXTENSION_COLUMNS)

CURRENCY = "USD"
PER_MILLION = Decimal(1_000_000)
# FOCUS token classes of a row (`x_TokenClass`), each with its ledger column and meter text. `output` is
# the ledger's output less reasoning; `reasoning` is the rest, so no token is on two rows.
CLASSES: tuple[tuple[str, str, str], ...] = (
    ("input", "input_tokens", "input tokens"),
    ("cache_read", "cache_read_tokens", "cache read tokens"),
    ("cache_write_5m", "cache_write_tokens", "cache write tokens (5 minutes)"),
    ("cache_write_1h", "cache_write_1h_tokens", "cache write tokens (1 hour)"),
    ("output", "output_tokens", "output tokens (reasoning excluded)"),
    ("reasoning", "reasoning_tokens", "reasoning tokens"),
)
_CLASS_ORDER = {name: i for i, (name, _, _) in enumerate((*CLASSES, ("requests", "", "")))}
_AGGREGATE = ("provider", "model_raw", MODEL_REF, "project", "api_key", "service_tier", "day", "source_file")
_MONEY = ("billed_nanos", "billed_lines", "billed_non_token_nanos", "source_list_nanos", "source_list_lines",
          "byok_upstream_nanos", "billed_credit_nanos", "billed_discount_nanos", "adjustment_lines")  # fmt: skip

Row = dict[str, str | int | Decimal | None]


@dataclass
class FocusLedger:
    """Keeps a run's ledger (the usage by API key and day) for its FOCUS rows; `contracted` is False when a contract
    file re-prices the usage (its prices are not applied here, so ContractedCost stays empty rather than claim list
    prices)."""

    contracted: bool = True
    key_days: KeyDays | None = None
    pricebook: Pricebook = field(default_factory=Pricebook)
    files: list[str] = field(default_factory=list)
    on_day: Callable[[int, int, int], None] | None = None
    """Told, once each UTC day's rows are made: the days made, the days in all, and the rows made so far."""

    def __call__(self, key_days: KeyDays, pricebook: Pricebook, files: list[str]) -> None:
        self.key_days, self.pricebook, self.files = key_days, pricebook, files

    def rows(self) -> Iterator[Row]:
        """The rows in order, made a UTC day at a time (the order's first key), from the usage by key and day read a
        day at a time (`KeyDays`): over many API keys the file has millions of rows, made whole they took gigabytes
        (1M requests over 1,000 keys: 3.3M rows, 10 GiB)."""
        if self.key_days is None:
            return
        made = 0
        days = self.key_days.days()
        for done, usage in enumerate(self.key_days.by_day(), start=1):
            for part in by_vendor_and_model(usage):
                rows = focus_rows(part, self.pricebook, self.files, contracted=self.contracted)
                yield from rows
                made += len(rows)
            if self.on_day is not None:
                self.on_day(done, days, made)


PART_ROWS = 2_000
"""Usage rows (each some four FOCUS rows) from which a day's are made in parts (`by_vendor_and_model`)."""


def by_vendor_and_model(usage: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """A day's usage in parts, each of whole vendors (by the name the file gives them) and models as written, in the
    order of the file's rows (`_order`: day, vendor, model, then the rest), so that each part's rows, made and sorted
    on their own, follow each other as the day's would. A part takes vendors and models until it holds `PART_ROWS`
    rows: a day's rows are held a part at a time (over 1,000 keys a day's took about 100 MiB), and a day of few rows
    is one part (each part costs a group-by)."""
    if len(usage) <= PART_ROWS:
        yield usage
        return
    vendors = usage["provider"].astype(str).map(_provider_name)
    held: list[np.ndarray] = []
    rows = 0
    for _, at in sorted(usage.groupby([vendors, usage["model_raw"]], sort=False).indices.items()):
        held.append(np.asarray(at))
        rows += len(at)
        if rows >= PART_ROWS:
            yield usage.take(np.concatenate(held))
            held, rows = [], 0
    if held:
        yield usage.take(np.concatenate(held))


def _provider_name(provider: str) -> str:
    known = providers_by_id().get(provider)
    return known.name if known is not None else provider


def _nanos(value: int) -> Decimal:
    return Decimal(int(value)) / NANOS_PER_UNIT


def _stamp(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


@functools.lru_cache(maxsize=4096)
def _periods(day_text: str) -> Mapping[str, str]:
    """Charge period: the UTC day; billing period: its calendar month (ends exclusive, as FOCUS has them). Kept (read
    only) for every aggregate of the day."""
    day = date.fromisoformat(day_text)
    month = day.replace(day=1)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return MappingProxyType(
        {
            "ChargePeriodStart": _stamp(day),
            "ChargePeriodEnd": _stamp(day + timedelta(days=1)),
            "BillingPeriodStart": _stamp(month),
            "BillingPeriodEnd": _stamp(next_month),
        }
    )


def _common(key: tuple[object, ...], files: list[str]) -> Row:
    provider, model_raw, model_ref, project, api_key, tier, day, source_file = (str(k) for k in key)
    name = _provider_name(provider)
    return {
        "BillingCurrency": CURRENCY,
        **_periods(day),
        "ChargeFrequency": "Usage-Based",
        "InvoiceIssuerName": name,
        "ProviderName": name,
        "PublisherName": name,
        "ServiceCategory": "AI and Machine Learning",
        "ServiceName": name,
        "ServiceSubcategory": "Generative AI",
        "SkuId": model_ref or None,
        "SubAccountId": project or None,
        "x_Model": model_raw,
        "x_CatalogModel": model_ref or None,
        "x_ServiceTier": tier,
        "x_ApiKey": api_key or None,
        "x_SourceFile": files[int(source_file)],
    }


def focus_rows(usage: pd.DataFrame, pricebook: Pricebook, files: list[str], contracted: bool = True) -> list[Row]:
    """The FOCUS rows of the usage by API key and day (money in USD nano-units, as the pipeline holds it), in a stable
    order."""
    if usage.empty:
        return []
    rates = pricebook.rates.rates
    table = usage.copy()
    table["_output"] = table["output_tokens"] - table["reasoning_tokens"]
    token_sums = [c for c in TOKEN_COLUMNS if c != "output_tokens"] + ["_output", "requests"]
    grouped = table.groupby([*_AGGREGATE, RATE_ID], sort=True)[[*token_sums, *_MONEY]].sum().reset_index()
    quantities: dict[tuple[object, ...], int] = {}  # (aggregate, class, unit price or None) → tokens
    money: dict[tuple[object, ...], dict[str, int]] = {}
    names = list(grouped.columns)
    for values in zip(*(grouped[c].tolist() for c in names), strict=True):
        record = dict(zip(names, values, strict=True))
        key = tuple(record[k] for k in _AGGREGATE)
        rate_id = int(record[RATE_ID])
        class_rates = rates[rate_id] if rate_id != NO_RATE else None
        for i, (name, column, _) in enumerate(CLASSES):
            count = int(record["_output" if column == "output_tokens" else column])
            if count:
                price = class_rates.per_token[i] if class_rates is not None else None
                quantities[(*key, name, price)] = quantities.get((*key, name, price), 0) + count
        if class_rates is not None and class_rates.per_request and record["requests"]:
            slot = (*key, "requests", class_rates.per_request)
            quantities[slot] = quantities.get(slot, 0) + int(record["requests"])
        sums = money.setdefault(key, dict.fromkeys(_MONEY, 0))
        for column in _MONEY:
            sums[column] += int(record[column])
    # The columns every row of an aggregate shares, made once per aggregate: a copy of them starts each of its rows.
    common = {key: _common(key, files) for key in money}
    rows = [_token_row(common[tuple(k[:-2])], k, n, contracted) for k, n in quantities.items()]
    rows += [_charge_row(common[k], k, m) for k, m in money.items() if _has_charges(m)]
    rows += [_credit_row(common[k], k, m) for k, m in money.items() if _credit_lines(m)]
    return sorted(rows, key=_order)


_EXACT = Context(prec=60)
"""Products of exact decimals: no rounding anywhere."""
_METER = {name: meter for name, _, meter in CLASSES}


def _credit_lines(sums: dict[str, int]) -> int:
    """What the aggregate's credit and refund lines credited: credits a source nets into its charge lines (Google
    Cloud's) stay on the charge row, as the source bills them."""
    return sums["billed_credit_nanos"] if sums["adjustment_lines"] else 0


def _has_charges(sums: dict[str, int]) -> bool:
    """Whether the aggregate states money besides its credits: charge lines, discount lines, a list price, BYOK."""
    charge_lines = sums["billed_lines"] - sums["adjustment_lines"]
    return bool(
        charge_lines or sums["billed_discount_nanos"] or sums["source_list_lines"] or sums["byok_upstream_nanos"]
    )


def _token_row(common: Row, slot: tuple[object, ...], quantity: int, contracted: bool) -> Row:
    *key, name, price = slot
    row = dict(common)
    is_requests = name == "requests"
    meter = "requests" if is_requests else _METER[str(name)]
    unit_price: Decimal | None = None
    list_cost: Decimal | None = None
    pricing_quantity = Decimal(quantity) if is_requests else Decimal(quantity) / PER_MILLION
    if isinstance(price, Decimal):
        unit_price = price if is_requests else _EXACT.multiply(price, PER_MILLION)
        list_cost = _EXACT.multiply(unit_price, pricing_quantity)
    row.update(
        {
            "ChargeCategory": "Usage",
            "ChargeDescription": f"{key[1]} {meter} ({key[5]})",
            "ConsumedQuantity": quantity,
            "ConsumedUnit": "Requests" if is_requests else "Tokens",
            "ContractedCost": list_cost if contracted else None,
            "ContractedUnitPrice": unit_price if contracted else None,
            "ListCost": list_cost,
            "ListUnitPrice": unit_price,
            "PricingCategory": "Standard" if unit_price is not None else None,
            "PricingQuantity": pricing_quantity,
            "PricingUnit": "Requests" if is_requests else "1M Tokens",
            "SkuMeter": meter,
            "x_TokenClass": str(name),
            "x_ListCostStatus": "priced" if unit_price is not None else "unpriced",
        }
    )
    return row


def _charge_row(common: Row, key: tuple[object, ...], sums: dict[str, int]) -> Row:
    """What the aggregate was charged (its discount lines netted in), its credits on their own row."""
    row = dict(common)
    stated = bool(sums["billed_lines"])
    credit = _credit_lines(sums)
    billed = _nanos(sums["billed_nanos"] - credit) if stated else None
    row.update(
        {
            "BilledCost": billed,
            "ChargeCategory": "Usage",
            "ChargeDescription": f"{key[1]} charges as billed, all token classes ({key[5]})",
            "EffectiveCost": billed,
            "x_ListCostStatus": "on token rows",
            "x_SourceListCost": _nanos(sums["source_list_nanos"]) if sums["source_list_lines"] else None,
            "x_BilledNonTokenCost": _nanos(sums["billed_non_token_nanos"] - credit) if stated else None,
            "x_ByokUpstreamCost": _nanos(sums["byok_upstream_nanos"]) if sums["byok_upstream_nanos"] else None,
        }
    )
    return row


def _credit_row(common: Row, key: tuple[object, ...], sums: dict[str, int]) -> Row:
    """The aggregate's credit and refund lines (money without tokens), as FOCUS's `Credit` charge category."""
    row = dict(common)
    credit = _nanos(_credit_lines(sums))
    row.update(
        {
            "BilledCost": credit,
            "ChargeCategory": "Credit",
            "ChargeDescription": f"{key[1]} credits and refunds as billed ({key[5]})",
            "EffectiveCost": credit,
            "x_ListCostStatus": "on token rows",
            "x_BilledNonTokenCost": credit,
        }
    )
    return row


def _order(row: Row) -> tuple[str, ...]:
    """Day, vendor, model, attribution, file; token rows in class order, then by price; the charge row, then the
    credit row, last."""
    token_class = str(row.get("x_TokenClass") or "")
    rank = _CLASS_ORDER.get(token_class, len(_CLASS_ORDER))
    price = row.get("ListUnitPrice")
    return (
        str(row["ChargePeriodStart"]), str(row["ProviderName"]), str(row["x_Model"]), str(row["SubAccountId"] or ""),
        str(row["x_ApiKey"] or ""), str(row["x_ServiceTier"]), str(row["x_SourceFile"]), _RANKS[rank],
        "" if price is None else _price_order(price), "1" if row["ChargeCategory"] == "Credit" else "0",
    )  # fmt: skip


_RANKS = [f"{rank:02d}" for rank in range(len(_CLASS_ORDER) + 1)]


@functools.lru_cache(maxsize=4096)
def _price_order(price: object) -> str:
    """A unit price as text that sorts as the price does (a file has a few distinct prices, on millions of rows)."""
    return f"{Decimal(str(price)):040.20f}"


def _cell(value: str | int | Decimal | None) -> str:
    """A value as its CSV field: text quoted as the csv module quotes it, numbers as they are (no number needs
    quotes: plain notation, digits, a sign and a point)."""
    if isinstance(value, str):  # most cells
        return _text_cell(value)
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value, "f")  # exact, plain notation; trailing zeros of the exponent dropped
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


_KEPT_TEXTS = 100_000
_LINE_END = "\r\n"


@functools.lru_cache(maxsize=_KEPT_TEXTS)
def _text_cell(text: str) -> str:
    """`safe_text` of a text cell as the csv module writes it as a field (quoted where it must be), kept: a file's
    texts (vendors, models, keys, days, meters) recur on every row of their aggregates, and over many keys the file
    has millions of rows."""
    field = io.StringIO()
    csv.writer(field, lineterminator=_LINE_END).writerow([safe_text(text), ""])  # a lone empty field is quoted
    return field.getvalue().removesuffix("," + _LINE_END)


_POSITION = {column: i for i, column in enumerate(COLUMNS)}


def _write_rows(stream: TextIO, rows: Iterable[Row]) -> None:
    """The FOCUS CSV: the columns of `COLUMNS` in order, CRLF line ends. A row sets about 25 of its 67 columns; the
    others are empty (FOCUS null). Each line is its fields, made by `_cell`, joined: what the csv module's writer
    writes, without its pass over every field of every row (most of a row's time, over millions of rows)."""
    csv.writer(stream, lineterminator=_LINE_END).writerow(COLUMNS)
    empty = [""] * len(COLUMNS)
    text, position = _text_cell, _POSITION
    for row in rows:
        cells = empty.copy()
        for column, value in row.items():  # text, most cells, without a call to `_cell`
            cells[position[column]] = text(value) if type(value) is str else _cell(value)
        stream.write(",".join(cells) + _LINE_END)


def render_focus(rows: Iterable[Row]) -> str:
    """The FOCUS CSV text of these rows."""
    buffer = io.StringIO()
    _write_rows(buffer, rows)
    return buffer.getvalue()


def write_focus(ledger: FocusLedger, path: Path) -> None:
    """Write the FOCUS CSV of a run's ledger to `path` (UTF-8), atomically, as its rows are made."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as stream:
            _write_rows(stream, ledger.rows())

    write_atomically(path, write)
