"""run_audit: files → importers → ledger → workload → pricing → scenarios → AuditResult."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack, nullcontext
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from auditor import __version__
from auditor.assumptions import RANGE_NOTE, assumption_notes, resolve_assumptions
from auditor.attributed_usage import Names, build_usage_by_key, build_usage_by_project
from auditor.checklists import checklist_notes, checklist_scenarios
from auditor.contract_pricing import ContractPricing
from auditor.cost_lines import build_cost_model
from auditor.errors import OptionError
from auditor.families import family_notes
from auditor.findings import build_findings
from auditor.forecast import ForecastInput, build_forecast
from auditor.hybrid import build_hybrid, hybrid_note
from auditor.importers.mapping import load_mapping
from auditor.ingest import IngestedFile, ingest_all
from auditor.key_days import KeyDays
from auditor.ledger import SUM_COLUMNS
from auditor.localtime import zone_named
from auditor.options import AuditOptions
from auditor.plan import PlanInputs, build_plan, plan_notes, quality_notes
from auditor.policy import profile_of
from auditor.progress import ScanProgress
from auditor.quality import load_quality
from auditor.reconcile import build_reconciliation
from auditor.report.aside import computed_aside
from auditor.result import (
    AuditResult,
    CostModel,
    Finding,
    FxRateOut,
    InputFile,
    KeyUsage,
    Period,
    ProjectUsage,
    ReconciliationRow,
    RejectedRowOut,
)
from auditor.risk import assess_scenarios, risk_notes, route_filter
from auditor.scan import scanning
from auditor.scenarios import Repricing, assumption_outs, build_scenarios
from auditor.sources import Source, open_sources
from auditor.stream_checks import checks_decide, decided
from auditor.summary import SOURCE_FILE, Summary, model_lines, summarise_usage, with_lines_of
from auditor.workload import (
    KEY_USAGE_KEYS,
    LOCAL_DAY,
    LOCAL_MONTH,
    MODEL_REF,
    RATE_ID,
    SHAPE_KEYS,
    SHAPE_SUMS,
    USAGE_KEYS,
    Pricebook,
    merge_tables,
)
from pricing.catalog import CatalogModel, catalog_version, default_candidates, lookup_candidate
from pricing.contract import load_contract
from pricing.fx import FxRate, convert_part_to_usd, convert_to_usd, load_rates_file, parse_fx_flags
from pricing.overlays import overlay_notes

StageHook = Callable[[str, float], None]
SECTIONS_BESIDE = "list cost, summary, reconciliation, findings, by project and key, cost model (beside)"
"""The stage that waits for the sections computed beside the re-pricing (`_independent_sections`)."""
STAGES_AFTER_SCAN = "pricing, re-pricing the candidates, forecast, risk and plan"
"""What the terminal says while the stages after the scan run."""
CHECKS_STILL_RUNNING = "checking the large files to the end (their sha256 and the input limits)"
"""What the terminal says while the run waits for the checks of large files read beside the scan."""


def run_audit(
    options: AuditOptions,
    on_stage: StageHook | None = None,
    progress: ScanProgress | None = None,
    on_ledger: Callable[[KeyDays, Pricebook, list[str]], None] | None = None,
) -> AuditResult:
    """Audit the given inputs; the same options and inputs always give the same result. `on_ledger`, if given,
    is shown the usage by API key and day (`KeyDays`: read a day at a time, amounts in USD nano-units), its
    pricebook and the input files by index."""
    clock = _StageClock(on_stage)
    # The usage tables' text columns are Arrow's: its system allocator gives their memory back as it is freed, where
    # its default (mimalloc) kept it (over 100 API keys the peak after the ingest fell from 538 to 498 MiB).
    pa.set_memory_pool(pa.system_memory_pool())
    zone = zone_named(options.timezone)
    rates = parse_fx_flags(options.fx) + (load_rates_file(options.rates_file) if options.rates_file else [])
    candidates = [lookup_candidate(ref) for ref in options.candidates or [c.ref for c in default_candidates()]]
    assumptions = resolve_assumptions(options.assume)
    profile = profile_of(options)
    quality = load_quality(options.quality_file) if options.quality_file else None
    pricebook = Pricebook()
    key_days = KeyDays(rates) if on_ledger is not None else None  # a FOCUS file's rows are by API key and day
    key_days_file = key_days.path if key_days is not None else None
    contract = ContractPricing(load_contract(options.contract_file), rates) if options.contract_file else None
    own = (load_mapping(options.map_file),) if options.map_file else ()
    sources_of_run = open_sources(options.inputs, options.format, own, options.limits, True, progress)
    with sources_of_run as (found, skipped):
        # In name order, whatever order they were given in: the result (and who owns an overlap) stays the same.
        sources, skipped_files = sorted(found, key=lambda s: s.sniffed.name), sorted(skipped, key=lambda f: f.path)
        given = _given_days(options.batch_dates, sources)
        files = [(s.sniffed, s.importer) for s in sources]
        checks = [s.check for s in sources if s.check is not None]
        with checks_decide(checks) as read_on:

            def ingest(con: duckdb.DuckDBPyConnection) -> list[IngestedFile]:
                read_on(con)
                keys_named = any(s.kind == "api_key" for s in profile.segments)
                blocks = options.read_blocks
                return ingest_all(con, files, pricebook, blocks, progress, given, zone, key_days_file, keys_named)

            ingested = scanning(
                ingest,
                progress.more_memory if progress else None,
                json_lines=any(importer.is_json_lines for _, importer in files),
            )
        dated = [_dated_note(s, day) for s, day in zip(sources, given, strict=True) if day is not None]
        # The checks still running (see `stream_checks`) decide when the stages after the scan are done, before the
        # result is built: a refusal is the run's error. A file whose digest comes from elsewhere (its check, or the
        # file given, read from a copy) has it filled in then.
        working: AbstractContextManager[None] = progress.working(STAGES_AFTER_SCAN) if progress else nullcontext()
        waiting = partial(progress.working, CHECKS_STILL_RUNNING) if progress else None
        with decided(checks, waiting), working, ExitStack() as aside:
            tables = merged_tables(ingested, rates)
            usage_table, shape_table, fx_used = tables.usage, tables.shape, tables.fx_used
            if on_ledger is not None and key_days is not None:
                on_ledger(key_days, pricebook, [f.account.path for f in ingested])
            clock.lap("ingest and aggregate")
            # Each row's model line, found once for the sections that group on it.
            lines, line_names = model_lines(usage_table)
            repricing = Repricing.of(shape_table, options.as_of, tables.key_shape)
            # The sections that do not read the scenarios: computed on the other core during the re-pricing.
            key_lines = with_lines_of(tables.key_usage, lines)
            independent = partial(_independent_sections, lines, line_names, key_lines, shape_table, ingested, contract,
                                  repricing, pricebook, candidates)  # fmt: skip
            with progress.paused() if progress else nullcontext():  # its refresh thread would prevent the fork
                independent_sections = aside.enter_context(computed_aside(independent))
            scenarios = build_scenarios(shape_table, pricebook, candidates, options.as_of, assumptions, repricing)
            # The hybrid routes a segment only to candidates its data profile does not block (hard gates, per segment).
            allowed = route_filter(profile, repricing.priced)
            hybrid = build_hybrid(shape_table, pricebook, candidates, options.as_of, assumptions, repricing, allowed)
            if hybrid is not None:
                scenarios = sorted([*scenarios, hybrid], key=lambda s: (-s.savings, s.candidate))
            scenario_notes = [RANGE_NOTE, *assumption_notes(assumptions)] if scenarios else []
            scenario_notes += [hybrid_note(hybrid)] if hybrid else []
            if scenarios:
                source_models = sorted({str(r) for r in repricing.by_model[MODEL_REF]})
                scenario_notes += family_notes(assumptions, source_models, [c.ref for c in candidates])
            if contract is not None:
                scenarios = contract.apply_to_scenarios(scenarios, shape_table, pricebook, candidates, options.as_of)
            clock.lap("re-price candidates")
            by_file = [ForecastInput.of(f.account.path, s.importer) for f, s in zip(ingested, sources, strict=True)]
            forecast = build_forecast(
                lines, shape_table, pricebook, candidates, options.as_of, by_file, hybrid, repricing.priced
            )
            clock.lap("forecast")
            sections = independent_sections()
            usage, by_month, totals, notes, warnings = sections.summary
            warnings += [
                f"{f.account.path}: rows are dated up to {f.account.period_end}, after the as-of date {options.as_of}; "
                "check the file's dates (a clock or a time zone may be wrong)."
                for f in ingested
                if f.account.period_end and f.account.period_end > options.as_of.isoformat()
            ]
            reconciliation, findings = sections.reconciliation, sections.findings
            pricebook.rates.overlays_used |= sections.overlays_used
            clock.lap(SECTIONS_BESIDE)
            if scenarios:
                scenarios = assess_scenarios(scenarios, candidates, repricing.priced, profile, options.as_of)
                scenario_notes += risk_notes(profile)
                scenarios = checklist_scenarios(scenarios, candidates, profile, repricing.priced)
                scenario_notes += checklist_notes(profile)
            clock.lap("risk")
            days = sorted({d for f in ingested for d in (f.account.period_start, f.account.period_end) if d})
            plan = None
            if scenarios:
                active_days = int(lines["day"].nunique())  # requests per day are over the days with usage
                plan_inputs = PlanInputs(scenarios, candidates, profile, repricing, pricebook, shape_table, assumptions,
                                         usage, active_days, quality, options.as_of, reconciliation)  # fmt: skip
                plan = build_plan(plan_inputs)
                scenario_notes += (plan_notes(plan) if plan else []) + quality_notes(quality)
            clock.lap("plan")
        clock.lap("checks still running")
        for f, s in zip(ingested, sources, strict=True):
            f.account.sha256 = f.account.sha256 or s.sniffed.sha256()
        result = AuditResult(
            as_of=options.as_of,
            tool_version=__version__,
            catalog=f"genai-prices {catalog_version()}",
            period=Period(start=_day(days[0]) if days else None, end=_day(days[-1]) if days else None),
            timezone=options.timezone,
            inputs=[_input_file(f) for f in ingested],
            skipped_files=skipped_files,
            usage=usage,
            usage_by_month=by_month,
            totals=totals,
            scenarios=scenarios,
            fx_rates=[
                FxRateOut(currency=r.currency, month=r.month, usd_per_unit=r.usd_per_unit, source=r.source)
                for r in fx_used
            ],
            notes=notes
            + dated
            + [_fx_note(r) for r in fx_used]
            + scenario_notes
            + forecast.notes
            + (contract.notes() if contract else [])
            + overlay_notes(pricebook.rates.overlays_used),
            warnings=warnings,
            forecast=forecast.months,
            price_changes=forecast.price_changes,
            contract_file=options.contract_file.name if options.contract_file else None,
            commitments=contract.commitment_periods(usage_table, pricebook) if contract else [],
            reconciliation=reconciliation,
            findings=findings,
            assumptions=assumption_outs(assumptions),
            data_profile=profile.out(repricing.priced),
            plan=plan,
            cost_model=sections.cost_model if scenarios else None,
            usage_by_project=sections.usage_by_project,
            usage_by_key=sections.usage_by_key,
        )
        clock.lap("cost model and result")
        return result


@dataclass
class IndependentSections:
    """The sections of the result that do not read the scenarios (the ledger at its own prices; the rates and lines
    of the cost model), and the price overlays they applied (for the notes)."""

    summary: Summary
    reconciliation: list[ReconciliationRow]
    findings: list[Finding]
    usage_by_project: list[ProjectUsage]
    usage_by_key: list[KeyUsage]
    cost_model: CostModel | None
    overlays_used: set[str]


def _independent_sections(
    lines: pd.DataFrame,
    line_names: Names,
    key_lines: pd.DataFrame,
    shape: pd.DataFrame,
    ingested: list[IngestedFile],
    contract: ContractPricing | None,
    repricing: Repricing,
    pricebook: Pricebook,
    candidates: list[CatalogModel],
) -> IndependentSections:
    summary = summarise_usage(lines, line_names, shape, pricebook, ingested, contract)
    return IndependentSections(
        summary=summary,
        reconciliation=build_reconciliation(lines, line_names, pricebook, summary[1]),
        findings=build_findings(shape, pricebook, repricing.as_of),
        usage_by_project=build_usage_by_project(lines, line_names, pricebook),
        usage_by_key=build_usage_by_key(key_lines, line_names, pricebook),
        cost_model=build_cost_model(repricing, pricebook, candidates, f"genai-prices {catalog_version()}"),
        overlays_used=pricebook.rates.overlays_used,
    )


@dataclass
class MergedTables:
    """The files' workload tables, each as one (amounts in USD, each usage row with its file's index), and the
    exchange rates used: what the stages after the scan read."""

    usage: pd.DataFrame
    key_usage: pd.DataFrame
    shape: pd.DataFrame
    fx_used: list[FxRate]
    key_shape: pd.DataFrame | None = None
    """The shape by API key, where a stage reads the keys (see `ingest._workload_tables`)."""


def merged_tables(ingested: list[IngestedFile], rates: list[FxRate]) -> MergedTables:
    """The files' tables merged; the usage by API key converted to add up to the usage table, month by month."""
    usage = _merged(ingested, lambda f: f.usage, USAGE_KEYS)
    usage_usd, fx_used = convert_to_usd(usage, rates)
    key_usage = _merged(ingested, lambda f: f.key_usage, KEY_USAGE_KEYS)
    by_month = usage.assign(**{LOCAL_MONTH: usage[LOCAL_DAY].str.slice(0, 7)})
    keys = ["provider", "model_raw", MODEL_REF, RATE_ID, LOCAL_MONTH, SOURCE_FILE]
    key_usage_usd = convert_part_to_usd(key_usage, by_month, usage_usd, keys, rates)
    shape = merge_tables([f.shape for f in ingested], SHAPE_KEYS, SHAPE_SUMS)
    by_key = [f.key_shape for f in ingested if f.key_shape is not None]
    key_shape = merge_tables(by_key, SHAPE_KEYS, SHAPE_SUMS) if by_key else None
    return MergedTables(usage_usd, key_usage_usd, shape, fx_used, key_shape)


def _merged(
    ingested: list[IngestedFile], table_of: Callable[[IngestedFile], pd.DataFrame | None], keys: tuple[str, ...]
) -> pd.DataFrame:
    by_file = [t.assign(**{SOURCE_FILE: i}) for i, f in enumerate(ingested) if (t := table_of(f)) is not None]
    return merge_tables(by_file, (*keys, SOURCE_FILE), SUM_COLUMNS)


class _StageClock:
    """Reports the wall time of each stage to an optional hook (benchmarks use it)."""

    def __init__(self, hook: StageHook | None) -> None:
        self._hook = hook
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        if self._hook is not None:
            self._hook(stage, now - self._last)
        self._last = now


def _fx_note(rate: FxRate) -> str:
    when = f"in {rate.month}" if rate.month else "in every month"
    per = f"USD per {rate.currency}"
    return f"Amounts billed in {rate.currency} {when} were converted at {rate.usd_per_unit} {per} ({rate.source})."


def _given_days(flags: tuple[str, ...], sources: list[Source]) -> list[date | None]:
    """Per source, the day given for it (`--batch-date [FILE=]YYYY-MM-DD`) if its lines carry no time, else None."""
    default: date | None = None
    named: dict[str, date] = {}
    for flag in flags:
        name, sep, text = flag.rpartition("=")
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            raise OptionError(
                f"--batch-date {flag} is not [FILE=]YYYY-MM-DD",
                "write e.g. --batch-date 2026-10-14, or --batch-date msgbatch_01_results.jsonl=2026-10-14 for one file",
            ) from None
        if sep:
            named[name.strip()] = day
        else:
            default = day
    days: list[date | None] = []
    used: set[str] = set()
    for source in sources:
        if not source.importer.day_option:
            days.append(None)
            continue
        label = source.sniffed.name
        member = label.rsplit("!", 1)[-1]
        match = next((n for n in named if n in (label, member, Path(label).name, Path(member).name)), None)
        if match is not None:
            used.add(match)
        days.append(named[match] if match is not None else default)
    unused = sorted(set(named) - used)
    if unused:
        raise OptionError(
            f"--batch-date names {', '.join(unused)}, not a Message Batches results file among the inputs",
            "name the results file as given on the command line, or by its file name",
        )
    return days


def _dated_note(source: Source, day: date) -> str:
    return (
        f"{source.sniffed.name}: its lines carry no time; its usage is counted on {day.isoformat()}, "
        f"the day given with {source.importer.day_option}."
    )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _input_file(ingested: IngestedFile) -> InputFile:
    a = ingested.account
    return InputFile(
        path=a.path,
        format=a.format,
        sha256=a.sha256,
        rows_read=a.rows_read,
        rows_used=a.rows_used,
        rows_skipped=a.rows_skipped,
        rows_rejected=a.rows_rejected,
        skipped_reasons=dict(sorted(a.skipped_reasons.items())),
        rejected=[RejectedRowOut(line=r.line, where=r.where, column=r.column, reason=r.reason) for r in a.rejected],
        period_start=_day(a.period_start),
        period_end=_day(a.period_end),
        numbered_by=a.numbered_by,
    )
