"""The importer contract: an importer declares its columns, their types, and SQL that maps them to the ledger.

Reading, decoding, detection, number parsing, validation, row accounting and aggregation are shared
(`reader.py` sniffs and detects, `engine.py` scans with DuckDB); an importer owns only its column map,
unit conversions and the quirks of its source, written as SQL expressions over its own columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal


@dataclass(frozen=True)
class Importer:
    """A source format: what identifies it and how its rows become ledger lines.

    In the SQL expressions, a source column is written as a double-quoted identifier. Before the
    importer's SQL sees them, columns are cleaned by the shared engine: a count column is a BIGINT
    (empty = 0), a money column a DECIMAL(38, 9) (empty = 0) with a boolean `"<name>__present"`, a
    time column a TIMESTAMPTZ in UTC (or NULL), any other column a VARCHAR ("" when empty or absent).
    """

    name: str
    """Module name, samples folder and `--format` value, e.g. `openai_usage_csv`."""
    title: str
    """What a user calls this file, e.g. "OpenAI platform usage export (completions_usage_*.csv)"."""
    kind: Literal["usage", "cost", "requests"]
    """usage: bucketed token counts; cost: billed money by line item; requests: one row per request."""
    required_columns: tuple[str, ...]
    """Columns that must all be present for the file to be this format."""
    optional_columns: tuple[str, ...]
    """Columns the importer uses when present (variants of the export differ)."""
    count_columns: tuple[str, ...]
    """Token and request counts: non-negative whole numbers, possibly printed as floats (`31422.0`)."""
    money_columns: tuple[str, ...]
    """Money columns: exact decimals (nano-unit precision)."""
    ledger: Mapping[str, str]
    """Ledger column → SQL expression. Omitted columns take their neutral value (0, "", -1), but for which lines
    are credits: where the importer does not map `adjustment` (nor, then, `billed_credit` and `billed_discount`),
    a line billed below zero is a credit or refund (`credits_by_sign`)."""
    example_header: str
    """The header line of a real export, for error hints."""
    time_columns: tuple[str, ...] = ()
    """Timestamps read as TIMESTAMPTZ (a value that is not one rejects its row, with its line)."""
    skip_when: tuple[tuple[str, str], ...] = ()
    """(SQL condition, reason): rows that are not usage, counted as skipped."""
    reject_when: tuple[tuple[str, str, str], ...] = ()
    """(SQL condition, reason, column): rows that cannot be used, counted as rejected with their line."""
    unused_columns: tuple[str, ...] = field(default=())
    """Known columns the mapping never reads: they count for detection but are not converted."""
    record_key: tuple[str, ...] = ()
    """Columns that identify one record (a request id, a bill line id, or a bucket's attribution columns):
    a record found in two files of this format is counted once. Empty: every column read."""
    json_fields: Mapping[str, str] = field(default_factory=dict)
    """For JSON-lines sources: column name → JSON path (`$.message.usage.input_tokens`). Each line is read
    whole and these fields are extracted; `required_columns` then name top-level keys, for detection."""
    dedupe_within_file: str = ""
    """For a source that writes one record on several lines (Claude Code): the SQL order of a record's
    lines; only the first line of each record key counts, the others are skipped. Empty: no such lines."""
    split_log: bool = False
    """A log kept in many files, by session, storage object or batch job (Claude Code, Bedrock invocation logs):
    together its files cover every day from their first to their last, and a day without a file had no usage.
    False: each file is an export of the days it spans (the forecast reads no further: `auditor.forecast`)."""
    header_aliases: Mapping[str, str] = field(default_factory=dict)
    """Header names other variants of the export write (lower-cased) → this importer's column names. When set,
    the header is matched case-insensitively too (Azure's EA export writes `MeterName` where MCA writes
    `meterName`, its legacy export `PreTaxCost` for the cost)."""
    day_option: str = ""
    """For a source whose lines carry no time (Message Batches results): the command-line option that gives a
    file's day, read in SQL with `engine.given_day()`. Empty: every line carries its time."""
    family: str = ""
    """Formats of one family describe the same usage (a request log and its aggregated export): a day in
    several files of a family is counted from one. Empty: the format is its own family."""
    carried: Mapping[str, str] = field(default_factory=dict)
    """For JSON-lines sources whose lines depend on earlier lines of the file (a session log names the model
    once per turn, before the turn's token counts): new column → SQL over the line's cleaned columns, NULL
    on a line that does not set the value. The column holds the value of the latest line, in the file's line
    order and this line included, where the SQL is not NULL (NULL before the first such line); the importer's
    other SQL reads it like a source column. Computed with window functions over the line numbers."""
    previous: Mapping[str, str] = field(default_factory=dict)
    """As `carried`, but from the lines before this one only: the value this line follows (a running total
    compared with the one written before it)."""
    derived: Mapping[str, str] = field(default_factory=dict)
    """Named SQL computed once a line, in order: new column (named `__…`) → SQL over the line's cleaned columns
    (with `carried` and `previous`) and the derived columns before it. The importer's other SQL (`ledger`,
    `skip_when`, `reject_when`) reads it like a source column. For an expression that several columns or rules
    share: written in each, it is planned again in each, and DuckDB's planning time grows with the query's text
    (a FOCUS file's mapping pasted whole was 47 KiB of SQL and 75 ms to plan, as long as reading a small file).
    Every line computes it: an expression that only some lines need, or that can fail on a line that skips it
    (a cast), keeps the guard it has where it is used (`CASE WHEN … THEN … ELSE '' END`)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ledger", credits_by_sign(self.ledger))
        own = [name for name in self.derived if not name.startswith("__")]
        if own:
            raise TypeError(f"derived columns are named `__…`, apart from the source's and the ledger's: {own}")

    def canonical_header(self, header: tuple[str, ...]) -> tuple[str, ...]:
        """The file's header under this importer's column names (unchanged unless it has `header_aliases`)."""
        if not self.header_aliases:
            return header
        names = {c.lower(): c for c in (*self.required_columns, *self.optional_columns)} | dict(self.header_aliases)
        return tuple(names.get(h.strip().lower(), h) for h in header)

    @property
    def is_json_lines(self) -> bool:
        return bool(self.json_fields)

    @property
    def in_line_order(self) -> bool:
        """Whether a line's mapping reads values carried from earlier lines (`carried`, `previous`)."""
        return bool(self.carried or self.previous)

    @property
    def usage_family(self) -> str:
        return self.family or self.name

    @property
    def known_columns(self) -> frozenset[str]:
        return frozenset(self.required_columns) | frozenset(self.optional_columns)

    @property
    def read_columns(self) -> tuple[str, ...]:
        """Columns the engine loads, in a stable order: required first, then optional (JSON: the fields)."""
        if self.json_fields:
            return tuple(self.json_fields)
        unused = set(self.unused_columns) - set(self.record_key)
        return tuple(c for c in (*self.required_columns, *self.optional_columns) if c not in unused)


_ADJUSTMENT_PARTS = ("billed_credit", "billed_discount")


def credits_by_sign(ledger: Mapping[str, str]) -> Mapping[str, str]:
    """The mapping, with a line billed below zero a credit or refund where it does not say which lines are.

    A source that types its lines (an AWS CUR's `LineItemType`, FOCUS's `ChargeCategory`) maps `adjustment` (the
    line is a credit, refund or discount line, not a charge) and which part of `billed` is a credit
    (`billed_credit`) and which a discount (`billed_discount`), on those lines or netted into a charge line (Google
    Cloud's credits); one that does not has only the sign of each line to go by. Such a credit is then none of the
    tokens' charges (`billed_non_token`), as a typed credit is not, even on a line that counts tokens. A mapping
    with parts and no `adjustment` is a mistake of the importer."""
    if "adjustment" in ledger:
        return ledger
    stated = [part for part in _ADJUSTMENT_PARTS if part in ledger]
    if stated:
        raise TypeError(f"the mapping of {stated} needs `adjustment`: which lines are not charges")
    billed = ledger.get("billed", "0").strip()
    if billed == "0":
        return ledger
    non_token = ledger.get("billed_non_token", "0")
    return {
        **ledger,
        "billed_credit": f"least({billed}, 0)",
        "adjustment": f"({billed}) < 0",
        "billed_non_token": f"CASE WHEN ({billed}) < 0 THEN {billed} ELSE {non_token} END",
    }


def as_json_records(
    importer: Importer,
    *,
    name: str,
    title: str,
    required_keys: tuple[str, ...],
    paths: Mapping[str, str] | None = None,
    example: str,
    reject_when: tuple[tuple[str, str, str], ...] | None = None,
) -> Importer:
    """The same source read from JSON records (an API's answer, flattened by `documents.py`) instead of CSV.

    Each column the CSV importer reads is the JSON field of the same name, or the one at `paths[column]`
    (`amount_value` → `$.amount.value`); the mapping, rules and token semantics stay the CSV importer's, so
    both read the same data into the same ledger. `required_keys` identify the records (detection)."""
    paths = dict(paths or {})
    fields = {column: paths.get(column, f'$."{column}"') for column in importer.read_columns}
    top_level = {path.removeprefix("$.").split(".")[0].strip('"') for path in fields.values()}
    return replace(
        importer,
        name=name,
        title=title,
        required_columns=required_keys,
        optional_columns=tuple(sorted(top_level - set(required_keys))),
        unused_columns=(),
        json_fields=fields,
        reject_when=importer.reject_when if reject_when is None else reject_when,
        example_header=example,
        family=importer.usage_family,
    )
