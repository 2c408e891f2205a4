"""The `audit` command line: parse options, run the audit, write outputs, map errors to exit codes."""

from __future__ import annotations

import sys
import traceback
from datetime import UTC, date, datetime
from pathlib import Path

import click
from rich.console import Console

from auditor import __version__
from auditor.errors import AuditorError, ExitStatus
from auditor.importers.reader import DEFAULT_LIMITS, MIB
from auditor.options import AuditOptions
from auditor.outputs import OutputPlan, write_outputs
from auditor.pipeline import run_audit
from auditor.progress import ScanProgress
from auditor.report.terminal import print_summary


def _today() -> date:
    return datetime.now(UTC).date()


def _parse_as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date:
    if value is None:
        return _today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not a date; use YYYY-MM-DD, e.g. 2026-11-27") from None


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "format_name",
    metavar="NAME",
    help="Read every file with this importer instead of detecting it.",
)
@click.option(
    "--as-of",
    callback=_parse_as_of,
    metavar="YYYY-MM-DD",
    help="Price candidates (and the scenario baseline) at this date. Default: today (UTC).",
)
@click.option(
    "--to",
    "candidates",
    multiple=True,
    metavar="PROVIDER:MODEL",
    help="Candidate to re-price the workload on (repeatable); replaces the default set.",
)
@click.option(
    "--fx",
    "fx",
    multiple=True,
    metavar="CUR=RATE",
    help="Exchange rate, USD per unit, for amounts billed in another currency "
    "(repeatable; CUR@YYYY-MM=RATE for one month).",
)
@click.option(
    "--rates",
    "rates_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="TOML file of exchange rates ([[rate]] currency, usd_per_unit, month, source).",
)
@click.option(
    "--map",
    "map_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Mapping file (TOML) naming the columns of an in-house log: model, time, tokens, cost.",
)
@click.option(
    "--batch-date",
    "batch_dates",
    multiple=True,
    metavar="[FILE=]YYYY-MM-DD",
    help="The day an Anthropic Message Batches results file ran (its lines carry no time); "
    "FILE=YYYY-MM-DD for one file (repeatable).",
)
@click.option(
    "--tz",
    "timezone",
    default="UTC",
    show_default=True,
    metavar="ZONE",
    help="Group the report's days and months in this IANA time zone, e.g. Europe/Berlin (prices keep UTC).",
)
@click.option(
    "--contract",
    "contract_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Contract file (TOML, CSV or XLSX) of negotiated prices: discounts by vendor or model, custom prices "
    "per million tokens, committed spend. Contract prices win over list prices and are labelled.",
)
@click.option(
    "--assume",
    "assume",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a migration assumption (repeatable): token_ratio, output_verbosity, reasoning_verbosity, "
    "cache_hit_share, batch_share, offpeak_share; 'neutral' sets all to unchanged.",
)
@click.option(
    "--data",
    "data_classes",
    multiple=True,
    metavar="CLASSES",
    help="Data classes in the traffic, comma-separated: personal, special-category, phi, card, eu-personal, "
    "uk-personal, california-personal, prc-personal, us-government, dod, source-code, none. Turns on the "
    "compliance gates of each candidate's risk rating.",
)
@click.option(
    "--allow-jurisdiction",
    "allow_jurisdictions",
    multiple=True,
    metavar="LIST",
    help="Jurisdictions a candidate's vendor may be in, comma-separated (US, EU, UK, PRC, SG, APAC); others are "
    "Blocked.",
)
@click.option(
    "--ban-provider",
    "ban_providers",
    multiple=True,
    metavar="LIST",
    help="Providers no traffic may move to, comma-separated (catalog provider ids, e.g. deepseek); Blocked.",
)
@click.option(
    "--max-decompressed-bytes",
    "max_decompressed_bytes",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMITS.max_decompressed_bytes,
    show_default=True,
    help="Refuse archives (ZIP, XLSX) and gzip files inflating past this many bytes in all (a bomb).",
)
@click.option(
    "--max-compression-ratio",
    "max_compression_ratio",
    type=click.IntRange(min=1),
    default=DEFAULT_LIMITS.max_compression_ratio,
    show_default=True,
    help="Refuse an archive member or gzip file inflating more than this many times its compressed size.",
)
@click.option(
    "--max-field-bytes",
    "max_field_bytes",
    type=click.IntRange(min=MIB),
    default=DEFAULT_LIMITS.max_field_bytes,
    show_default=True,
    help="Refuse a CSV file with a line (a row's fields together) longer than this many bytes.",
)
@click.option("--json", "json_path", metavar="PATH", help="Write the result as JSON ('-' for stdout).")
@click.option("--xlsx", "xlsx_path", type=click.Path(path_type=Path), help="Write the finance workbook here.")
@click.option("--pdf", "pdf_path", type=click.Path(path_type=Path), help="Write the PDF report here.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory for audit-report.pdf and audit-report.xlsx when no output option is given.",
)
@click.option("--quiet", is_flag=True, help="Print nothing but errors (and JSON when --json -).")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.version_option(__version__, prog_name="audit")
def audit(
    map_file: Path | None,
    fx: tuple[str, ...],
    rates_file: Path | None,
    batch_dates: tuple[str, ...],
    timezone: str,
    assume: tuple[str, ...],
    inputs: tuple[Path, ...],
    format_name: str | None,
    as_of: date,
    candidates: tuple[str, ...],
    json_path: str | None,
    xlsx_path: Path | None,
    pdf_path: Path | None,
    out_dir: Path,
    quiet: bool,
    debug: bool,
    contract_file: Path | None = None,
    data_classes: tuple[str, ...] = (),
    allow_jurisdictions: tuple[str, ...] = (),
    ban_providers: tuple[str, ...] = (),
    max_decompressed_bytes: int = DEFAULT_LIMITS.max_decompressed_bytes,
    max_compression_ratio: int = DEFAULT_LIMITS.max_compression_ratio,
    max_field_bytes: int = DEFAULT_LIMITS.max_field_bytes,
) -> None:
    """Audit AI vendor billing exports and usage logs (files or directories).

    Prints spend by model and candidates ranked by savings, and writes a PDF report and an XLSX
    workbook (or the outputs you name). Exit codes: 0 ok, 1 internal error, 2 input or usage error.
    """
    options = AuditOptions(
        inputs=inputs,
        format=format_name,
        as_of=as_of,
        candidates=candidates,
        fx=fx,
        rates_file=rates_file,
        map_file=map_file,
        batch_dates=batch_dates,
        timezone=timezone,
        contract_file=contract_file,
        assume=assume,
        data_classes=data_classes,
        allow_jurisdictions=allow_jurisdictions,
        ban_providers=ban_providers,
        max_decompressed_bytes=max_decompressed_bytes,
        max_compression_ratio=max_compression_ratio,
        max_field_bytes=max_field_bytes,
    )
    plan = OutputPlan.from_flags(json_path, xlsx_path, pdf_path, out_dir)
    err = Console(stderr=True)
    if err.is_terminal and not quiet:
        with ScanProgress(err) as progress:
            result = run_audit(options, progress=progress)
    else:
        result = run_audit(options)
    if not quiet and not plan.json_to_stdout:
        out = Console()
        print_summary(result, out if out.is_terminal else Console(width=140))
    written = write_outputs(result, plan)
    if not quiet:
        for path in written:
            err.print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return (and exit with) a documented exit status."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        audit.main(args=args, prog_name="audit", standalone_mode=False)
        status = ExitStatus.OK
    except AuditorError as exc:
        err.print(f"error: {exc.message}", markup=False)
        if exc.hint:
            err.print(f"hint: {exc.hint}", markup=False)
        status = exc.exit_status
    except click.ClickException as exc:
        exc.show()
        status = ExitStatus.INPUT_ERROR
    except click.exceptions.Abort:
        err.print("aborted", markup=False)
        status = ExitStatus.INPUT_ERROR
    except KeyboardInterrupt:
        err.print("interrupted; no output was half-written", markup=False)
        status = ExitStatus.INPUT_ERROR
    except Exception as exc:  # an internal error: a bug, not the user's fault
        if debug:
            traceback.print_exc()
        err.print(f"internal error: {type(exc).__name__}: {exc}", markup=False)
        err.print("hint: run again with --debug and report the traceback", markup=False)
        status = ExitStatus.INTERNAL_ERROR
    if argv is None:
        sys.exit(int(status))
    return int(status)
