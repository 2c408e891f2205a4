"""Negotiated prices: the contract file given with `--contract` (TOML, CSV or XLSX).

A contract holds three kinds of term:

- `discount`: a percent off list price, for a vendor (every model it bills) or for one model (of any
  vendor, or of the vendor named). A model's discount wins over its vendor's.
- `price`: custom prices of a model, per million tokens of each class (`input`, `cached_input`,
  `cache_write`, optional `cache_write_1h`, `output`; reasoning is output), in USD or another currency
  converted with `--fx`. For fine-tuned or private models the catalog does not price, and for any model
  whose price was negotiated. A custom price wins over every discount.
- `commitment`: a committed spend per period (`month`, `quarter` or `year`) from `start` to `end`, with
  the percent off list it buys (`percent_off`, default 0). It applies to the vendor's usage inside its
  term when no discount or custom price names that usage; the report says, per period, how much of the
  commitment the spend at contract prices uses, and the shortfall or the overage.

Models match by the name the source wrote, the catalog id (`openai:gpt-4.1-mini`) or the catalog
model id (`gpt-4.1-mini`), without regard to case; vendors by the provider id (`openai`, `anthropic`).
Every error names the file, the line (CSV, TOML) or sheet row (XLSX) and what to fix, in one line.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from auditor.errors import AuditorError

TERM_KINDS = ("discount", "price", "commitment")
CONTRACT_HINT = (
    "see 'Negotiated prices' in the README: [[discount]] vendor/model + percent_off, [[price]] model + input, "
    "cached_input, cache_write, output per million tokens, [[commitment]] vendor, amount, period, start, end"
)
PER_MILLION = Decimal(1_000_000)


class ContractError(AuditorError):
    """A contract file the auditor cannot use; the message names the file, line or row, and what to fix."""

    def __init__(self, path: Path | str, problem: str, where: str = "", hint: str = CONTRACT_HINT) -> None:
        super().__init__(f"{path}{', ' + where if where else ''}: {problem}", hint)


class _Term(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    line: int = Field(default=0, description="line (or sheet row) of the file the term was written on")

    @field_validator("*", mode="before")
    @classmethod
    def _plain_values(cls, value: Any) -> Any:
        # Floats (TOML, XLSX) become the decimal they print as, never their binary expansion.
        if isinstance(value, float):
            return str(value)
        if isinstance(value, datetime):
            return value.date()
        return value

    def vendor_matches(self, provider: str) -> bool:
        vendor = getattr(self, "vendor", None)
        return vendor is None or vendor == provider.lower()


def _lower(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    return value or None


def _currency_code(value: str) -> str:
    value = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError("currency is a 3-letter code such as USD or EUR")
    return value


class Discount(_Term):
    """A percent off list price, by vendor or by model."""

    vendor: str | None = None
    model: str | None = None
    percent_off: Decimal = Field(ge=0, le=100, description="e.g. 20 for 20% off list")

    @field_validator("vendor")
    @classmethod
    def _vendor(cls, value: str | None) -> str | None:
        return _lower(value)

    @field_validator("model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @model_validator(mode="after")
    def _names_something(self) -> Discount:
        if self.vendor is None and self.model is None:
            raise ValueError("a discount needs a vendor or a model")
        return self

    @property
    def factor(self) -> Decimal:
        return 1 - self.percent_off / 100

    def describe(self, numbered_by: str = "line") -> str:
        what = f"{self.vendor or 'any vendor'}" + (f" model {self.model}" if self.model else "")
        return f"{what}: {_pct(self.percent_off)}% off list (contract {numbered_by} {self.line})"


class CustomPrice(_Term):
    """Negotiated prices of one model, per million tokens of each class."""

    vendor: str | None = None
    model: str
    input: Decimal = Field(ge=0, description="per million input tokens (cache reads and writes excluded)")
    cached_input: Decimal | None = Field(default=None, ge=0, description="per million cache-read tokens")
    cache_write: Decimal | None = Field(default=None, ge=0, description="per million cache-write tokens (5 minutes)")
    cache_write_1h: Decimal | None = Field(default=None, ge=0, description="per million 1-hour cache-write tokens")
    output: Decimal = Field(ge=0, description="per million output tokens (reasoning included)")
    currency: str = "USD"

    @field_validator("vendor")
    @classmethod
    def _vendor(cls, value: str | None) -> str | None:
        return _lower(value)

    @field_validator("model")
    @classmethod
    def _model(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return _currency_code(value)

    def per_million(self) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal, Decimal]:
        """Prices of each ledger token class (input, cache read, cache write 5m and 1h, output, reasoning).

        A class the contract leaves out costs what input costs (cached input and cache writes) or what
        5-minute cache writes cost (1-hour writes)."""
        cached = self.input if self.cached_input is None else self.cached_input
        write = self.input if self.cache_write is None else self.cache_write
        write_1h = write if self.cache_write_1h is None else self.cache_write_1h
        return (self.input, cached, write, write_1h, self.output, self.output)

    def describe(self, numbered_by: str = "line") -> str:
        cls = ", ".join(
            f"{name} {value}"
            for name, value in (
                ("input", self.input),
                ("cached input", self.cached_input),
                ("cache write", self.cache_write),
                ("cache write 1h", self.cache_write_1h),
                ("output", self.output),
            )
            if value is not None
        )
        return f"{self.vendor or 'any vendor'} model {self.model}: {cls} {self.currency} per million tokens " + (
            f"(contract {numbered_by} {self.line})"
        )


class Commitment(_Term):
    """A committed spend per period, and the discount it buys."""

    vendor: str
    amount: Decimal = Field(gt=0, description="committed spend per period")
    period: Literal["month", "quarter", "year"]
    start: date
    end: date
    percent_off: Decimal = Field(default=Decimal(0), ge=0, le=100)
    currency: str = "USD"

    @field_validator("vendor")
    @classmethod
    def _names(cls, value: str) -> str:
        return _lower(value) or value

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        return _currency_code(value)

    @field_validator("period", mode="before")
    @classmethod
    def _period(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _ordered(self) -> Commitment:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    @property
    def factor(self) -> Decimal:
        return 1 - self.percent_off / 100

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    def describe(self, numbered_by: str = "line") -> str:
        off = f", {_pct(self.percent_off)}% off list" if self.percent_off else ""
        return (
            f"{self.vendor}: commitment of {self.amount} {self.currency} a {self.period} from {self.start} to "
            f"{self.end}{off} (contract {numbered_by} {self.line})"
        )


def _pct(value: Decimal) -> str:
    """20, 12.5: a percentage as written, without trailing zeros."""
    return format(value.normalize(), "f")


_Named = TypeVar("_Named", Discount, CustomPrice)
_MODELS: dict[str, type[_Term]] = {"discount": Discount, "price": CustomPrice, "commitment": Commitment}


class Contract(BaseModel):
    """The terms of a contract file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    numbered_by: Literal["line", "row"] = "line"
    discounts: tuple[Discount, ...] = ()
    prices: tuple[CustomPrice, ...] = ()
    commitments: tuple[Commitment, ...] = ()

    def price_for(self, provider: str, names: tuple[str, ...]) -> CustomPrice | None:
        wanted = {n.lower() for n in names if n}
        found = [p for p in self.prices if p.model.lower() in wanted and p.vendor_matches(provider)]
        return _most_specific(found)

    def discount_for(self, provider: str, names: tuple[str, ...]) -> Discount | None:
        wanted = {n.lower() for n in names if n}
        by_model = [d for d in self.discounts if d.model and d.model.lower() in wanted and d.vendor_matches(provider)]
        if by_model:
            return _most_specific(by_model)
        return next((d for d in self.discounts if d.model is None and d.vendor == provider.lower()), None)

    def commitment_for(self, provider: str, day: date) -> Commitment | None:
        return next((c for c in self.commitments if c.vendor == provider.lower() and c.covers(day)), None)


def _most_specific(found: list[_Named]) -> _Named | None:
    """The term that names the vendor over the one that does not."""
    return sorted(found, key=lambda t: t.vendor is None)[0] if found else None


def model_names(model_raw: str, model_ref: str) -> tuple[str, ...]:
    """The names a contract may use for a model: as written, catalog id, catalog model id."""
    return (model_raw, model_ref, model_ref.partition(":")[2]) if model_ref else (model_raw,)


def load_contract(path: Path) -> Contract:
    """Read and validate a contract file (TOML, CSV or XLSX, told apart by content)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ContractError(path, f"cannot be read ({exc.strerror or exc})") from exc
    if data.startswith(b"PK"):
        rows = _xlsx_rows(path)
        kind = "row"
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ContractError(path, "is not UTF-8 text, nor an XLSX workbook") from exc
        if path.suffix.lower() == ".csv" or _looks_like_csv(text):
            rows = _csv_rows(path, text)
            kind = "line"
        else:
            return _toml_contract(path, text)
    return _contract_of(path, rows, kind)


def _looks_like_csv(text: str) -> bool:
    first = next((line for line in text.splitlines() if line.strip()), "")
    return first.replace(" ", "").lower().startswith("term,")


# --- TOML ---------------------------------------------------------------------------------------------


def _toml_contract(path: Path, text: str) -> Contract:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"\(at line (\d+), column \d+\)", str(exc))
        problem = re.sub(r"\s*\(at line .*\)$", "", str(exc))
        raise ContractError(path, f"not valid TOML ({problem})", f"line {found.group(1)}" if found else "") from exc
    lines = text.splitlines()
    for key in raw:
        if key not in TERM_KINDS:
            raise ContractError(
                path, f"unknown section '{key}': use [[discount]], [[price]] or [[commitment]]", _toml_where(lines, key)
            )
    rows: list[tuple[int, str, dict[str, Any]]] = []
    for kind in TERM_KINDS:
        tables = raw.get(kind, [])
        if not isinstance(tables, list):
            raise ContractError(
                path, f"'{kind}' must be an array of tables: write [[{kind}]]", _toml_where(lines, kind)
            )
        headers = _toml_headers(lines, kind)
        for index, table in enumerate(tables):
            line = headers[index] if index < len(headers) else 0
            rows.append((line, kind, table))
    return _contract_of(path, rows, "line", lines)


def _toml_headers(lines: list[str], kind: str) -> list[int]:
    pattern = re.compile(rf"^\s*\[\[\s*{kind}\s*\]\]")
    return [n for n, text in enumerate(lines, start=1) if pattern.match(text)]


def _toml_where(lines: list[str], key: str, after: int = 0) -> str:
    """The line where `key` is set or opened, at or after line `after` (within its table), or ''."""
    pattern = re.compile(rf"^\s*(\[\[?\s*{re.escape(key)}\s*\]\]?|{re.escape(key)}\s*=)")
    for n, text in enumerate(lines[after:], start=after + 1):
        if after and n > after and text.lstrip().startswith("["):
            break
        if pattern.match(text):
            return f"line {n}"
    return f"line {after}" if after else ""


# --- CSV and XLSX: one term a row, `term` names its kind ----------------------------------------------


def _csv_rows(path: Path, text: str) -> list[tuple[int, str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise ContractError(path, "is empty: the first line is the header term,vendor,model,...") from None
    except csv.Error as exc:
        raise ContractError(path, f"not valid CSV ({exc})", "line 1") from exc
    rows = []
    try:
        for values in reader:
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        raise ContractError(path, f"not valid CSV ({exc})", f"line {reader.line_num}") from exc
    return _table_rows(path, header, rows, "line")


def _xlsx_rows(path: Path) -> list[tuple[int, str, dict[str, Any]]]:
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise ContractError(path, f"is not a readable workbook ({type(exc).__name__})") from exc
    try:
        names = [s.title for s in workbook.worksheets]
        sheet = workbook[next((n for n in names if n.strip().lower() == "contract"), names[0])]
        grid = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    if not grid:
        raise ContractError(path, "its sheet is empty: row 1 is the header term,vendor,model,...")
    header = ["" if v is None else str(v).strip().lower() for v in grid[0]]
    rows = [(n, list(values)) for n, values in enumerate(grid[1:], start=2)]
    return _table_rows(path, header, rows, "row")


_COLUMNS = ("term", *sorted({f for m in _MODELS.values() for f in m.model_fields} - {"line"}))


def _table_rows(
    path: Path, header: list[str], rows: list[tuple[int, list[Any]]], kind: str
) -> list[tuple[int, str, dict[str, Any]]]:
    while header and header[-1] == "":
        header.pop()
    unknown = [h for h in header if h not in _COLUMNS]
    if "term" not in header or unknown:
        what = f"unknown column '{unknown[0]}'" if unknown else "no 'term' column"
        raise ContractError(path, f"{what}; columns are {', '.join(_COLUMNS)}", f"{kind} 1")
    out = []
    for number, values in rows:
        cells = {
            name: value.strip() if isinstance(value, str) else value
            for name, value in zip(header, values, strict=False)
            if value is not None and (not isinstance(value, str) or value.strip())
        }
        if not cells or str(cells.get("term", "")).startswith("#"):
            continue
        term = str(cells.pop("term", "")).strip().lower()
        if term not in TERM_KINDS:
            raise ContractError(path, f"term '{term}' is not discount, price or commitment", f"{kind} {number}")
        out.append((number, term, cells))
    return out


# --- Validation ---------------------------------------------------------------------------------------


def _contract_of(
    path: Path, rows: list[tuple[int, str, dict[str, Any]]], kind: str, toml_lines: list[str] | None = None
) -> Contract:
    terms: dict[str, list[Any]] = {k: [] for k in TERM_KINDS}
    for number, term, values in rows:
        try:
            terms[term].append(_MODELS[term].model_validate({**values, "line": number}))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in first["loc"])
            where = f"{kind} {number}"
            if toml_lines is not None and field:
                where = _toml_where(toml_lines, field, number) or where
            message = str(first["msg"]).removeprefix("Value error, ")
            label = f"{term} '{field}'" if field else term
            if first["type"] == "extra_forbidden":
                message = f"unknown field; {term} takes {', '.join(sorted(set(_MODELS[term].model_fields) - {'line'}))}"
            raise ContractError(path, f"{label}: {message}", where) from None
        except (InvalidOperation, TypeError) as exc:
            raise ContractError(path, f"{term}: {exc}", f"{kind} {number}") from None
    _no_duplicates(path, kind, terms)
    return Contract(
        path=str(path),
        numbered_by="row" if kind == "row" else "line",
        discounts=tuple(terms["discount"]),
        prices=tuple(terms["price"]),
        commitments=tuple(terms["commitment"]),
    )


def _no_duplicates(path: Path, kind: str, terms: dict[str, list[Any]]) -> None:
    seen: dict[tuple[object, ...], int] = {}
    for term in terms["discount"] + terms["price"]:
        key = (type(term).__name__, term.vendor, (term.model or "").lower())
        if key in seen:
            raise ContractError(
                path, f"names the same vendor and model as {kind} {seen[key]}: keep one", f"{kind} {term.line}"
            )
        seen[key] = term.line
    by_vendor: dict[str, list[Commitment]] = {}
    for c in terms["commitment"]:
        for other in by_vendor.get(c.vendor, []):
            if c.start <= other.end and other.start <= c.end:
                raise ContractError(
                    path, f"commitment overlaps the one on {kind} {other.line} for {c.vendor}", f"{kind} {c.line}"
                )
        by_vendor.setdefault(c.vendor, []).append(c)
