"""The `audit` command line: a group whose default command runs the audit, and commands around it.

`audit FILE|DIR …` runs `audit run FILE|DIR …` (the explicit form, for an input named like a command);
`audit` alone on a terminal starts the wizard. Errors map to the documented exit codes in `main()`.
"""

from __future__ import annotations

import difflib
import errno
import sys
import threading
import traceback
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from auditor import __version__
from auditor.cli_commands import (
    COMMANDS,
    CSV_OPTION,
    DEBUG_OPTION,
    JSON_OPTION,
    OUT_OPTION,
    PDF_OPTION,
    XLSX_OPTION,
    parse_as_of,
)
from auditor.cli_gates import Gate, parse_gate, tripped
from auditor.config import merged_values, options_from, plan_from
from auditor.errors import AuditorError, ExitStatus, InputFileError, OptionError
from auditor.importers.reader import DEFAULT_LIMITS, MIB
from auditor.options import AuditOptions
from auditor.outputs import Aheads, OutputPlan, import_writers_aside, write_outputs, writers_ahead
from auditor.pipeline import run_audit
from auditor.progress import FocusProgress, ScanProgress
from auditor.report.focus_out import FocusLedger
from auditor.report.terminal import print_summary
from auditor.result import AuditResult
from auditor.sources import NO_SUCH_INPUT

RUN = "run"
WIZARD = "wizard"
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 110}
EXIT_CODES = (
    "Exit codes: 0 ok; 1 internal error (a bug: run again with --debug); 2 input or usage error (one line names "
    "the file or option, then a hint); 3 a --fail-if condition holds."
)


def _parse_gates(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[Gate, ...]:
    try:
        return tuple(parse_gate(text) for text in value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _complete_formats(incomplete: str) -> list[str]:
    from auditor.importers import IMPORTERS

    return [i.name for i in IMPORTERS if i.name.startswith(incomplete)]


def _complete_models(incomplete: str) -> list[str]:
    from pricing.catalog import providers_by_id

    refs = (f"{pid}:{m.id}" for pid, p in providers_by_id().items() for m in p.models)
    return sorted(r for r in refs if r.startswith(incomplete))[:200]


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


class AuditGroup(click.Group):
    """A group whose first word, when it is not a command, is the first input of `audit run`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args and not ctx.resilient_parsing:
            args = [WIZARD if _interactive() else RUN]
        elif args and args[0] not in self.commands and args[0] not in (*ctx.help_option_names, "--version"):
            args = [RUN, *args]
        return super().parse_args(ctx, args)


@click.group(cls=AuditGroup, context_settings=CONTEXT, epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="audit")
def cli() -> None:
    """Audit AI vendor billing exports and usage logs, offline.

    \b
    audit FILE|DIR …            run the audit (the same as `audit run FILE|DIR …`)
    audit                       on a terminal: the guided wizard
    audit --config audit.toml   re-run saved answers (flags given override them)

    Shell completion (bash, zsh, fish): eval "$(_AUDIT_COMPLETE=bash_source audit)", with zsh_source or
    fish_source for the other shells.
    """


@cli.command(RUN, context_settings=CONTEXT, epilog=EXIT_CODES, short_help="Run the audit (the default command).")
@click.argument("inputs", nargs=-1, required=False, type=click.Path(path_type=Path), metavar="[FILE|DIR]...")
@click.option(
    "--format",
    "format_name",
    metavar="NAME",
    shell_complete=lambda _ctx, _param, incomplete: _complete_formats(incomplete),
    help="Read every file with this importer instead of detecting it.",
)
@click.option(
    "--as-of",
    callback=parse_as_of,
    metavar="YYYY-MM-DD",
    help="Price candidates (and the scenario baseline) at this date. Default: today (UTC).",
)
@click.option(
    "--to",
    "candidates",
    multiple=True,
    shell_complete=lambda _ctx, _param, incomplete: _complete_models(incomplete),
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
    "--quality",
    "quality_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="CSV of your own evaluation results (columns model, segment or task, score) that the migration plan's "
    "recommendations use; without it the plan names the evaluation required before each canary.",
)
@click.option(
    "--sector",
    "sectors",
    multiple=True,
    metavar="LIST",
    help="Sector overlays, comma-separated: eu-financial (DORA), us-bank, education, tax. Adds their compliance "
    "checklist items.",
)
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Policy file (TOML): data classes, sectors, allowed and banned jurisdictions and providers, US-person "
    "counts, and per-project / key / model data classes. --data and --allow-jurisdiction replace the file's "
    "values; --ban-provider and --sector add to them.",
)
@CSV_OPTION
@click.option(
    "--focus",
    "focus_path",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="PATH",
    help="Write the normalised ledger as a FinOps FOCUS 1.2 CSV (one row per day, model and token class).",
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
@JSON_OPTION
@XLSX_OPTION
@PDF_OPTION
@OUT_OPTION
@click.option("--quiet", is_flag=True, help="Print nothing but errors (and JSON when --json -).")
@DEBUG_OPTION
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Saved answers (TOML, as `audit wizard` writes audit.toml): inputs and options; flags given override them.",
)
@click.option(
    "--fail-if",
    "fail_if",
    multiple=True,
    metavar="EXPR",
    callback=_parse_gates,
    help="Exit 3 with a one-line reason when the condition holds on the result (repeatable; outputs are written "
    "first): savings_pct>20, savings>1000, unpriced_share>0.05, rejected_rows>0, billed>5000, list_cost>5000, "
    "risk=blocked or risk>=red (the best scenario's risk).",
)
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
    out_dir: Path | None,
    quiet: bool,
    debug: bool,
    contract_file: Path | None = None,
    data_classes: tuple[str, ...] = (),
    allow_jurisdictions: tuple[str, ...] = (),
    ban_providers: tuple[str, ...] = (),
    quality_file: Path | None = None,
    sectors: tuple[str, ...] = (),
    policy_file: Path | None = None,
    config_file: Path | None = None,
    fail_if: tuple[Gate, ...] = (),
    csv_dir: Path | None = None,
    focus_path: Path | None = None,
    max_decompressed_bytes: int = DEFAULT_LIMITS.max_decompressed_bytes,
    max_compression_ratio: int = DEFAULT_LIMITS.max_compression_ratio,
    max_field_bytes: int = DEFAULT_LIMITS.max_field_bytes,
) -> None:
    """Audit AI vendor billing exports and usage logs (files, directories, ZIP archives).

    Prints spend by model and candidates ranked by savings, and writes a PDF report and an XLSX
    workbook (or the outputs you name).
    """
    ctx = click.get_current_context()
    if config_file is None:
        execute(dict(ctx.params))
        return
    try:
        execute(merged_values(ctx, config_file))
    except InputFileError as exc:
        _hint_config_paths(exc, config_file)
        raise


def _hint_config_paths(exc: InputFileError, config_file: Path) -> None:
    """A relative input of a config file not found: read from the directory `audit` runs in, not the file's."""
    missing = Path(exc.path)
    if exc.problem != NO_SUCH_INPUT or missing.is_absolute():
        return
    beside = config_file.parent / missing
    where = f"; {missing} is in {config_file.parent}: run audit there" if beside.exists() else ""
    exc.hint = f"relative paths in {config_file} are read from the directory audit runs in ({Path.cwd()}){where}"


def execute(values: dict[str, Any]) -> AuditResult:
    """Run the audit of parsed `audit run` parameters: options, run, summary, outputs, then the --fail-if gates."""
    if not values["inputs"]:
        raise click.UsageError("no inputs: give files or directories, or --config audit.toml (or run: audit wizard)")
    _check_inputs(values["inputs"])
    options = options_from(values)
    plan = plan_from(values)
    plan.refuse_unwritable()
    plan.refuse_writing_over(values["inputs"])
    quiet = bool(values["quiet"])
    focus = FocusLedger(contracted=options.contract_file is None) if plan.focus_path is not None else None
    err = Console(stderr=True)
    with writers_ahead(plan) as aheads:  # forked first: no thread is running yet
        result = _run(options, focus, err, quiet, import_writers_aside(plan, aheads))
        written = _write(result, plan, focus, err, quiet, aheads)
    if not quiet:
        for path in written:
            err.print(f"wrote {path}")
    tripped(values.get("fail_if") or (), result)
    return result


def _run(
    options: AuditOptions, focus: FocusLedger | None, err: Console, quiet: bool, importing: threading.Thread
) -> AuditResult:
    """The audit, with its progress on a terminal; `importing` (the writers' imports) joined when it ends."""
    try:
        if err.is_terminal and not quiet:
            with ScanProgress(err) as progress:
                return run_audit(options, progress=progress, on_ledger=focus)
        return run_audit(options, on_ledger=focus)
    finally:
        importing.join()


def _write(
    result: AuditResult,
    plan: OutputPlan,
    focus: FocusLedger | None,
    err: Console,
    quiet: bool,
    aheads: Aheads,
) -> list[Path]:
    """The outputs written, the terminal summary printed while the PDF renders; the paths written."""
    shown = err.is_terminal and not quiet

    def summary() -> None:  # printed while the PDF renders in its child process (`outputs.write_outputs`)
        if not quiet and not plan.json_to_stdout:
            out = Console()
            print_summary(result, out if out.is_terminal else Console(width=140))
        if shown:
            # A line, not a spinner: where the writers' children were not forked before the run, a spinner's refresh
            # thread would keep the PDF and the workbook from rendering in child processes beside the other outputs
            # (`report.aside`). The FOCUS file, which can take minutes, has a bar of its own.
            err.print("writing the reports…", highlight=False)

    days: AbstractContextManager[FocusProgress | None] = (
        FocusProgress(err) if shown and focus is not None else nullcontext()
    )
    with days as focus_days:
        if focus is not None:
            focus.on_day = focus_days
        return write_outputs(result, plan, focus, meanwhile=summary, aheads=aheads)


def _check_inputs(inputs: tuple[Path, ...]) -> None:
    """A first input that does not exist but is close to a command's name was meant as the command."""
    first = str(inputs[0])
    if Path(first).exists():
        return
    close = difflib.get_close_matches(first, [c for c in cli.commands if c != RUN], n=1, cutoff=0.6)
    if close:
        raise OptionError(f"{first}: no such file, directory or command", f"did you mean: audit {close[0]}?")


@cli.command(WIZARD, context_settings=CONTEXT, epilog=EXIT_CODES, short_help="The guided audit.")
@DEBUG_OPTION
def wizard(debug: bool) -> None:
    """Guided audit: pick files, check what was detected, choose the data profile, candidates, assumptions and
    outputs, confirm the assumption sheet, run. Prints the equivalent command and saves the answers to a TOML
    file that `audit --config` re-runs."""
    if not _interactive():
        raise click.UsageError("the wizard needs a terminal; without one, give the inputs: audit FILE|DIR …")
    from auditor.wizard import run_wizard

    run_wizard()


for _command in COMMANDS:
    cli.add_command(_command)


def _internal_error(exc: Exception, debug: bool, err: Console) -> ExitStatus:
    """An internal error: a bug, not the user's fault."""
    if debug:
        traceback.print_exc()
    err.print(f"internal error: {type(exc).__name__}: {exc}", markup=False)
    err.print("hint: run again with --debug and report the traceback", markup=False)
    return ExitStatus.INTERNAL_ERROR


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return (and exit with) a documented exit status."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        cli.main(args=args, prog_name="audit", standalone_mode=False)
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
        err.print("aborted; no output was half-written", markup=False)
        status = ExitStatus.INPUT_ERROR
    except KeyboardInterrupt:
        err.print("interrupted; no output was half-written", markup=False)
        status = ExitStatus.INPUT_ERROR
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            status = _internal_error(exc, debug, err)
        else:  # the files written say so themselves: here, the standard output (`--json -`, the summary)
            err.print(f"error: cannot write the standard output: {exc.strerror}", markup=False)
            err.print("hint: free some space where it goes, or send it elsewhere", markup=False)
            status = ExitStatus.INPUT_ERROR
    except Exception as exc:
        status = _internal_error(exc, debug, err)
    if argv is None:
        sys.exit(int(status))
    return int(status)
