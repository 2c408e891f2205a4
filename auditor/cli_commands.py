"""The commands around the audit: `formats`, `detect`, `models`, `render`, `diff` (and what the wizard reuses)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.errors import AuditorError, InputFileError, OptionError
from auditor.importers import IMPORTERS
from auditor.importers.base import Importer
from auditor.importers.mapping import load_mapping
from auditor.importers.reader import Sniffed
from auditor.ledger import TOKEN_COLUMNS
from auditor.options import AuditOptions
from auditor.outputs import OutputPlan, write_outputs
from auditor.report.formatting import money
from auditor.report.json_out import load_result
from auditor.result import AuditResult, Scenario
from auditor.sources import DirectoryNotRead, open_sources
from pricing.catalog import CatalogModel, default_candidates, find_model, providers_by_id, suggest_models
from pricing.endpoints import endpoint_book
from pricing.rates import class_rates

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
NOON_SLOT = 24  # prices are shown as in force at 12:00 UTC (time-of-day prices differ by the half hour)
CLASS_LABELS = {
    "input_tokens": "input",
    "cache_read_tokens": "cache read",
    "cache_write_tokens": "cache write 5m",
    "cache_write_1h_tokens": "cache write 1h",
    "output_tokens": "output",
    "reasoning_tokens": "reasoning",
}
MILLION = Decimal(1_000_000)


def _console() -> Console:
    out = Console()
    return out if out.is_terminal else Console(width=160)


def _today() -> date:
    return datetime.now(UTC).date()


def parse_as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date:
    """The `--as-of` value as a date (today, UTC, when not given); a bad one is a usage error saying the form."""
    if value is None:
        return _today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2026-11-27") from None


# Output options shared by `audit run` and `audit render`.
JSON_OPTION = click.option("--json", "json_path", metavar="PATH", help="Write the result as JSON ('-' for stdout).")
XLSX_OPTION = click.option(
    "--xlsx", "xlsx_path", type=click.Path(path_type=Path), help="Write the finance workbook here."
)
PDF_OPTION = click.option("--pdf", "pdf_path", type=click.Path(path_type=Path), help="Write the PDF report here.")
OUT_OPTION = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Directory for audit-report.pdf and audit-report.xlsx (those --pdf and --xlsx do not name), besides the "
    "other outputs named. Default: the current directory, when no output option is given.",
)
CSV_OPTION = click.option(
    "--csv",
    "csv_dir",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Write usage, usage by month, by project and by API key, scenarios and rejected rows as CSV files into DIR.",
)
DEBUG_OPTION = click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")


# ---------------------------------------------------------------- formats


def importer_or_error(name: str) -> Importer:
    found = next((i for i in IMPORTERS if i.name == name), None)
    if found is None:
        close = difflib.get_close_matches(name, [i.name for i in IMPORTERS], n=2, cutoff=0.5)
        hint = f"did you mean {', '.join(close)}?" if close else "see: audit formats"
        raise OptionError(f"unknown format '{name}'", hint)
    return found


@click.command("formats", context_settings=CONTEXT, short_help="Supported input formats with an example header.")
@click.argument("name", required=False)
@DEBUG_OPTION
def formats(name: str | None, debug: bool) -> None:
    """Every supported input format with an example header (with NAME: its columns in full)."""
    out = _console()
    if name is not None:
        importer = importer_or_error(name)
        out.print(Text(f"{importer.name}: {importer.title} ({importer.kind})", style="bold"))
        what = "JSON fields" if importer.is_json_lines else "columns"
        out.print(Text(f"required {what}: {', '.join(importer.required_columns)}"))
        if importer.optional_columns:
            out.print(Text(f"optional {what}: {', '.join(importer.optional_columns)}"))
        if importer.day_option:
            out.print(Text(f"its lines carry no time: give the day with {importer.day_option}"))
        out.print(Text(f"example: {importer.example_header}"))
        return
    for importer in IMPORTERS:
        out.print(Text(f"{importer.name}", style="bold"), Text(f" {importer.title} ({importer.kind})"))
        out.print(Text(f"  {importer.example_header}"), soft_wrap=True)
    out.print(Text(f"{len(IMPORTERS)} formats; the format is detected from the content, or forced with --format NAME."))


# ---------------------------------------------------------------- detect


@dataclass(frozen=True)
class Detected:
    """What detection says about one file, and what a run of that file alone found."""

    label: str
    format: str | None
    title: str
    why: str
    rows_read: int | None = None
    rows_rejected: int | None = None
    period: str = ""
    billed: Decimal | None = None
    list_cost: Decimal | None = None
    problem: str = ""
    """Why the file could not be read alone (an exchange rate or a day it needs, a bad file): fix and retry."""
    refused: bool = False
    """An audit of the inputs as given stops here (a file named, or a directory holding nothing, that no importer
    reads); a file skipped inside a directory that holds others is not (the audit lists it as skipped)."""


def why_detected(sniffed: Sniffed, importer: Importer, importers: Sequence[Importer], forced: bool) -> str:
    """The evidence for the importer chosen: the columns found and the runner-up."""
    if forced:
        return "forced with --format"
    what = "schema" if sniffed.is_parquet else "header" if sniffed.kind == "csv" else "JSON fields"
    header = set(importer.canonical_header(sniffed.header))
    known = len(header & importer.known_columns)
    text = (
        f"{what} has its required {', '.join(importer.required_columns)}; "
        f"{known} of its {len(importer.known_columns)} known columns"
    )
    json_file = importer.is_json_lines
    others = [
        (len(set(i.canonical_header(sniffed.header)) & i.known_columns), i.name)
        for i in importers
        if i is not importer
        and i.is_json_lines == json_file
        and all(c in set(i.canonical_header(sniffed.header)) for c in i.required_columns)
    ]
    if others:
        count, name = max(others)
        text += f" (also fits {name}, with {count})"
    return text


def _dates_for(label: str, flags: tuple[str, ...]) -> tuple[str, ...]:
    """The --batch-date values that apply to one file, as plain days (the file is run alone)."""
    out = []
    for flag in flags:
        name, sep, day = flag.rpartition("=")
        if not sep:
            out.append(flag)
        elif name.strip() in (label, Path(label).name, label.rsplit("!", 1)[-1], Path(label.rsplit("!", 1)[-1]).name):
            out.append(day)
    return tuple(out[-1:])


def detect_files(
    inputs: tuple[Path, ...],
    *,
    as_of: date,
    forced: str | None = None,
    fx: tuple[str, ...] = (),
    rates_file: Path | None = None,
    batch_dates: tuple[str, ...] = (),
    map_file: Path | None = None,
    on_file: Callable[[str], None] | None = None,
) -> list[Detected]:
    """Each file of the inputs with its importer, why, and what an audit of that file alone finds."""
    own = (load_mapping(map_file),) if map_file else ()
    importers = (*own, *IMPORTERS)
    found: list[Detected] = []
    for given in inputs:
        try:
            found += _detect_one(given, importers, own, forced, on_file, as_of, fx, rates_file, batch_dates, map_file)
        except DirectoryNotRead as exc:  # each of its files on its row with why it is skipped, or the empty folder
            rows = [(s.path, s.reason) for s in exc.skipped] or [(exc.path, exc.problem)]
            found += [Detected(path, None, "", "", problem=problem, refused=True) for path, problem in rows]
        except InputFileError as exc:  # a named file no importer reads: said on its row, the others still shown
            found.append(Detected(exc.path, None, "", "", problem=exc.problem, refused=True))
    return found


def _detect_one(
    given: Path,
    importers: tuple[Importer, ...],
    own: tuple[Importer, ...],
    forced: str | None,
    on_file: Callable[[str], None] | None,
    as_of: date,
    fx: tuple[str, ...],
    rates_file: Path | None,
    batch_dates: tuple[str, ...],
    map_file: Path | None,
) -> list[Detected]:
    found: list[Detected] = []
    with open_sources((given,), forced, own) as (sources, skipped):
        for source in sources:
            label = source.sniffed.name
            why = why_detected(source.sniffed, source.importer, importers, forced is not None)
            base = Detected(label, source.importer.name, source.importer.title, why)
            if on_file is not None:
                on_file(label)
            options = AuditOptions(
                inputs=(source.sniffed.path,),
                format=source.importer.name,
                as_of=as_of,
                candidates=(default_candidates()[0].ref,),
                fx=fx,
                rates_file=rates_file,
                batch_dates=_dates_for(label, batch_dates),
                map_file=map_file,
            )
            found.append(_found(base, options))
        found += [Detected(s.path, None, "", "", problem=s.reason) for s in skipped]
    return found


def _found(base: Detected, options: AuditOptions) -> Detected:
    from auditor.pipeline import run_audit

    try:
        result = run_audit(options)
    except AuditorError as exc:
        return Detected(**{**base.__dict__, "problem": exc.message + (f" ({exc.hint})" if exc.hint else "")})
    (single,) = result.inputs
    period = f"{single.period_start} to {single.period_end}" if single.period_start else "no dated rows"
    return Detected(
        **{
            **base.__dict__,
            "rows_read": single.rows_read,
            "rows_rejected": single.rows_rejected,
            "period": period,
            "billed": result.totals.billed_cost,
            "list_cost": result.totals.list_cost,
        }
    )


def detected_table(found: list[Detected], why: bool = True) -> Table:
    table = Table(title="Detected", title_justify="left", show_lines=why)
    table.add_column("file", overflow="fold", ratio=1)
    table.add_column("format", overflow="fold", max_width=40 if why else None)
    table.add_column("period", overflow="fold", max_width=50)
    for column in ("rows", "rejected", "billed", "list cost"):
        table.add_column(column, justify="right", no_wrap=True)
    for d in found:
        if d.format is None:
            table.add_row(d.label, "not recognised", d.problem.split(";")[0], "", "", "", "")
            continue
        fmt = Text(d.format)
        if why:
            fmt.append(f"\n{d.why}", style="dim")
        if d.problem:
            table.add_row(d.label, fmt, Text(f"needs: {d.problem}", style="yellow"), "", "", "", "")
            continue
        table.add_row(
            d.label,
            fmt,
            d.period,
            f"{d.rows_read:,}",
            f"{d.rows_rejected:,}",
            money(d.billed),
            money(d.list_cost),
        )
    return table


@click.command("detect", context_settings=CONTEXT, short_help="Which importer reads each file, why, and what it holds.")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "format_name", metavar="NAME", help="Check the files against this importer only.")
@click.option("--fx", multiple=True, metavar="CUR=RATE", help="Exchange rate, USD per unit (as for audit run).")
@click.option("--batch-date", "batch_dates", multiple=True, metavar="[FILE=]YYYY-MM-DD", help="As for audit run.")
@click.option(
    "--as-of", callback=parse_as_of, metavar="YYYY-MM-DD", help="Price the list cost as of this date. Default: today."
)
@DEBUG_OPTION
def detect(
    inputs: tuple[Path, ...],
    format_name: str | None,
    fx: tuple[str, ...],
    batch_dates: tuple[str, ...],
    as_of: date,
    debug: bool,
) -> None:
    """Which importer reads each file and why (the columns it found), and what the file holds on its own:
    period, rows, rejected rows, billed and list cost."""
    if format_name is not None:
        importer_or_error(format_name)
    found = detect_files(inputs, as_of=as_of, forced=format_name, fx=fx, batch_dates=batch_dates)
    if not found:
        raise InputFileError(", ".join(map(str, inputs)), "holds no file", "give export files or folders")
    _console().print(detected_table(found))


# ---------------------------------------------------------------- models


def search_models(query: str) -> list[CatalogModel]:
    """Catalog models whose `provider:model` id or name holds every word of the query (case-insensitive)."""
    words = query.lower().split()
    hits = []
    for pid, provider in sorted(providers_by_id().items()):
        for model in provider.models:
            text = f"{pid}:{model.id} {model.name or ''} {provider.name}".lower()
            if all(w in text for w in words):
                hits.append(CatalogModel(provider, model))
    return sorted(hits, key=lambda m: m.ref)


def per_million(model: CatalogModel, as_of: date) -> dict[str, Decimal] | None:
    """USD per million tokens of each class at 12:00 UTC on as_of, standard tier, shortest context tier."""
    try:
        rates = class_rates(model, as_of, NOON_SLOT, "standard", 0)
    except (LookupError, ValueError, TypeError, AttributeError):
        return None
    return {c: (r * MILLION).normalize() for c, r in zip(TOKEN_COLUMNS, rates.per_token, strict=True)}


def price_line(model: CatalogModel, as_of: date) -> str:
    prices = per_million(model, as_of)
    if prices is None:
        return "no price on this date"
    shown = ("input_tokens", "cache_read_tokens", "output_tokens")
    return " / ".join(f"${prices[c]:f}" for c in shown) + " per MTok (input / cache read / output)"


def endpoint_line(model: CatalogModel) -> str:
    endpoint = endpoint_book().for_model(model.provider.id, model.model.id)
    if endpoint is None:
        return "no endpoint profile (every fact unknown)"
    return (
        f"{endpoint.name}: jurisdiction {endpoint.jurisdiction.value}, processing {endpoint.processing.value}, "
        f"training {endpoint.training.value}, ZDR {endpoint.zdr.value}, BAA {endpoint.baa.value}"
    )


@click.command("models", context_settings=CONTEXT, short_help="Search the catalog: prices, context window, endpoint.")
@click.argument("query", nargs=-1)
@click.option(
    "--as-of", callback=parse_as_of, metavar="YYYY-MM-DD", help="Show the prices in force on this date. Default: today."
)
@click.option("--limit", default=25, show_default=True, metavar="N", help="Show at most N models.")
@DEBUG_OPTION
def models(query: tuple[str, ...], as_of: date, limit: int, debug: bool) -> None:
    """Search the price catalog: each model's prices per token class (USD per million, at 12:00 UTC, standard
    tier), context window and the provider's endpoint profile (jurisdiction, processing, training, ZDR, BAA).
    One match shows every class and every sourced fact. Use the ids with --to."""
    hits = search_models(" ".join(query))
    if not hits:
        close = suggest_models(None, "-".join(query))
        hint = f"did you mean {', '.join(close)}?" if close else "try fewer words, e.g.: audit models openai"
        raise OptionError(f"no catalog model matches '{' '.join(query)}'", hint)
    out = _console()
    if len(hits) == 1:
        _model_detail(out, hits[0], as_of)
        return
    table = Table(title=f"Catalog models matching '{' '.join(query)}' (prices as of {as_of})", title_justify="left")
    for column in ("model (--to)", "context", "USD per MTok", "endpoint profile"):
        table.add_column(column)
    for model in hits[:limit]:
        window = f"{model.model.context_window:,}" if model.model.context_window else "—"
        table.add_row(model.ref, window, price_line(model, as_of), endpoint_line(model))
    out.print(table)
    if len(hits) > limit:
        out.print(Text(f"{len(hits) - limit} more; narrow the query or raise --limit"))


def _model_detail(out: Console, model: CatalogModel, as_of: date) -> None:
    out.print(Text(f"{model.ref}: {model.display_name}", style="bold"))
    window = f"{model.model.context_window:,} tokens" if model.model.context_window else "unknown"
    out.print(Text(f"context window: {window}"))
    prices = per_million(model, as_of)
    if prices is None:
        out.print(Text(f"no price on {as_of}"))
    else:
        for column, label in CLASS_LABELS.items():
            out.print(Text(f"  {label:<15} ${prices[column]:f} per million tokens (as of {as_of}, 12:00 UTC)"))
    book = endpoint_book()
    endpoint = book.for_model(model.provider.id, model.model.id)
    if endpoint is None:
        out.print(Text("endpoint profile: none; every fact scores as unknown"))
    else:
        out.print(Text(f"endpoint profile: {endpoint.name}"))
        for name in ("jurisdiction", "contracting_entity", "processing", "retention", "zdr", "training", "dpa", "baa"):
            out.print(Text(f"  {name:<19} {getattr(endpoint, name).cite()}"), soft_wrap=True)
    developer = book.developer_of(model.model.id)
    if developer is not None:
        out.print(Text(f"developer: {developer.developer}, {developer.nationality.cite()}"), soft_wrap=True)


# ---------------------------------------------------------------- render


@click.command("render", context_settings=CONTEXT, short_help="Write PDF, XLSX or JSON from a saved result.")
@click.argument("result_file", metavar="RESULT.json", type=click.Path(path_type=Path))
@JSON_OPTION
@XLSX_OPTION
@PDF_OPTION
@CSV_OPTION
@OUT_OPTION
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@DEBUG_OPTION
def render(
    result_file: Path,
    json_path: str | None,
    xlsx_path: Path | None,
    pdf_path: Path | None,
    csv_dir: Path | None,
    out_dir: Path | None,
    quiet: bool,
    debug: bool,
) -> None:
    """Write the PDF, XLSX, JSON or CSV of a saved result (audit --json) without running the audit again (the
    FOCUS ledger is not in the JSON: --focus needs the inputs)."""
    result = load_result(result_file)
    written = write_outputs(result, OutputPlan.from_flags(json_path, xlsx_path, pdf_path, out_dir, csv_dir))
    if not quiet:
        err = Console(stderr=True)
        for path in written:
            err.print(f"wrote {path}")


# ---------------------------------------------------------------- diff


def _change(old: Decimal | None, new: Decimal | None, pct: bool = True) -> str:
    if old == new:
        return f"{money(new)} (unchanged)"
    if old is None or new is None:
        return f"{money(old)} → {money(new)}"
    delta = new - old
    share = f", {delta / old * 100:+.1f}%" if old and pct else ""
    return f"{money(old)} → {money(new)} ({'+' if delta >= 0 else '−'}{money(abs(delta))}{share})"


def _level(scenario: Scenario | None) -> str:
    return "—" if scenario is None or scenario.risk is None else scenario.risk.level


def price_changes(old: AuditResult, new: AuditResult) -> list[str]:
    """Catalog price changes between the two as-of dates, for the candidates and the priced models of both."""
    if old.as_of == new.as_of:
        return []
    refs = {s.candidate for r in (old, new) for s in r.scenarios if s.kind == "single"}
    refs |= {u.model for r in (old, new) for u in r.usage if u.model}
    lines = []
    for ref in sorted(refs):
        provider_id, _, model_id = ref.partition(":")
        model = find_model(provider_id, model_id)
        if model is None:
            continue
        before, after = per_million(model, old.as_of), per_million(model, new.as_of)
        if before is None or after is None or before == after:
            if (before is None) != (after is None):
                lines.append(f"{ref}: {'no price' if before is None else 'priced'} on {old.as_of}, "
                             f"{'no price' if after is None else 'priced'} on {new.as_of}")  # fmt: skip
            continue
        moved = [f"{CLASS_LABELS[c]} ${before[c]:f} → ${after[c]:f}" for c in TOKEN_COLUMNS if before[c] != after[c]]
        lines.append(f"{ref}: " + ", ".join(moved) + " per MTok")
    return lines


def diff_lines(old: AuditResult, new: AuditResult) -> list[str]:
    lines = [
        f"as of: {old.as_of} → {new.as_of}" if old.as_of != new.as_of else f"as of: {new.as_of} (both)",
        f"period: {old.period.start} to {old.period.end} → {new.period.start} to {new.period.end}",
    ]
    if old.catalog != new.catalog:
        lines.append(f"catalog: {old.catalog} → {new.catalog}")
    t0, t1 = old.totals, new.totals
    lines += [
        f"billed: {_change(t0.billed_cost, t1.billed_cost)}",
        f"list cost: {_change(t0.list_cost, t1.list_cost)}",
        f"tokens: {t0.all_tokens():,} → {t1.all_tokens():,}; unpriced tokens: {t0.unpriced_tokens:,} → "
        f"{t1.unpriced_tokens:,}",
    ]
    before = {s.candidate: s for s in old.scenarios}
    after = {s.candidate: s for s in new.scenarios}
    best0, best1 = (old.scenarios[0] if old.scenarios else None), (new.scenarios[0] if new.scenarios else None)
    lines.append(
        f"best scenario: {best0.candidate if best0 else '—'} → {best1.candidate if best1 else '—'}"
        if (best0 and best0.candidate) != (best1 and best1.candidate)
        else f"best scenario: {best1.candidate if best1 else '—'} (both)"
    )
    lines.append("scenarios (projected cost; savings; risk):")
    for ref in sorted(set(before) | set(after)):
        s0, s1 = before.get(ref), after.get(ref)
        if s0 is None or s1 is None:
            lines.append(f"  {ref}: {'added' if s0 is None else 'removed'}")
            continue
        risk = _level(s0) if _level(s0) == _level(s1) else f"{_level(s0)} → {_level(s1)}"
        pct = f"{s0.savings_pct or 0:.1f}% → {s1.savings_pct or 0:.1f}%"
        if s0.projected_cost == s1.projected_cost and s0.savings == s1.savings:
            lines.append(f"  {ref}: {money(s1.projected_cost)} (unchanged); savings {pct}; risk {risk}")
        else:
            lines.append(
                f"  {ref}: {_change(s0.projected_cost, s1.projected_cost)}; "
                f"savings {_change(s0.savings, s1.savings, False)} ({pct}); risk {risk}"
            )
    changes = price_changes(old, new)
    if old.as_of != new.as_of:
        lines.append(f"price changes between {old.as_of} and {new.as_of} (12:00 UTC, standard tier):")
        lines += [f"  {c}" for c in changes] or ["  none among the candidates and priced models"]
    return lines


@click.command("diff", context_settings=CONTEXT, short_help="What changed between two audits, prices included.")
@click.argument("old_file", metavar="OLD.json", type=click.Path(path_type=Path))
@click.argument("new_file", metavar="NEW.json", type=click.Path(path_type=Path))
@DEBUG_OPTION
def diff(old_file: Path, new_file: Path, debug: bool) -> None:
    """What changed between two audits (audit --json): as-of, period, spend, each candidate's projected cost,
    savings and risk level, and, when the as-of dates differ, the catalog price changes between them."""
    old, new = load_result(old_file), load_result(new_file)
    out = _console()
    for line in diff_lines(old, new):
        out.print(Text(line), soft_wrap=True)


COMMANDS: tuple[click.Command, ...] = (formats, detect, models, render, diff)
