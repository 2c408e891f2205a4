"""run_audit: files → importers → ledger → workload → pricing → scenarios → AuditResult."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from auditor import __version__
from auditor.ingest import IngestedFile, ingest_file
from auditor.ledger import SEGMENT_KEYS, SUM_COLUMNS
from auditor.options import AuditOptions
from auditor.result import AuditResult, InputFile, Period, RejectedRowOut
from auditor.scenarios import MODEL_REF, PricedWorkload, build_scenarios
from auditor.sources import Source, collect_sources
from auditor.summary import summarise_usage
from auditor.workload import empty_segments
from pricing.catalog import catalog_version, default_candidates
from pricing.resolve import resolve_model

ProgressHook = Callable[[str], None]


def run_audit(options: AuditOptions, on_file: ProgressHook | None = None) -> AuditResult:
    """Audit the given inputs; the same options and inputs always give the same result."""
    candidate_refs = list(options.candidates) or [c.ref for c in default_candidates()]
    sources, skipped_files = collect_sources(options.inputs, options.format)
    ingested = [_ingest(source, options, on_file) for source in sources]
    segments = _merge_segments([f.segments for f in ingested])
    workload = _priced_workload(segments)
    usage, by_month, totals, notes, warnings = summarise_usage(segments, workload, ingested)
    scenarios = build_scenarios(workload, candidate_refs, options.as_of)
    days = sorted({d for f in ingested for d in (f.account.period_start, f.account.period_end) if d})
    return AuditResult(
        as_of=options.as_of,
        tool_version=__version__,
        catalog=f"genai-prices {catalog_version()}",
        period=Period(start=days[0] if days else None, end=days[-1] if days else None),
        inputs=[_input_file(f) for f in ingested],
        skipped_files=skipped_files,
        usage=usage,
        usage_by_month=by_month,
        totals=totals,
        scenarios=scenarios,
        notes=notes,
        warnings=warnings,
    )


def _ingest(source: Source, options: AuditOptions, on_file: ProgressHook | None) -> IngestedFile:
    if on_file is not None:
        on_file(str(source.sniffed.path))
    return ingest_file(source.sniffed, source.importer, options.block_bytes)


def _merge_segments(parts: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_segments()
    merged = pd.concat(parts, ignore_index=True)
    grouped = merged.groupby(list(SEGMENT_KEYS), sort=True)[list(SUM_COLUMNS)].sum().reset_index()
    return grouped


def _priced_workload(segments: pd.DataFrame) -> PricedWorkload:
    """Segments with tokens whose model the catalog prices, tagged with the catalog model."""
    pairs = segments[["provider", "model_raw"]].drop_duplicates()
    models = {}
    ref_of_pair: dict[tuple[str, str], str] = {}
    for provider, model_raw in pairs.itertuples(index=False):
        found = resolve_model(str(provider), str(model_raw)).model
        if found is not None:
            models[found.ref] = found
            ref_of_pair[(str(provider), str(model_raw))] = found.ref
    refs = [ref_of_pair.get((p, m), "") for p, m in zip(segments["provider"], segments["model_raw"], strict=True)]
    tagged = segments.assign(**{MODEL_REF: refs})
    has_tokens = tagged[["input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens",
                         "output_tokens"]].sum(axis=1) > 0
    priced = tagged[(tagged[MODEL_REF] != "") & has_tokens].reset_index(drop=True)
    return PricedWorkload(priced, models)


def _input_file(ingested: IngestedFile) -> InputFile:
    a = ingested.account
    return InputFile(
        path=a.path, format=a.format, sha256=a.sha256, rows_read=a.rows_read, rows_used=a.rows_used,
        rows_skipped=a.rows_skipped, rows_rejected=a.rows_rejected,
        skipped_reasons=dict(sorted(a.skipped_reasons.items())),
        rejected=[RejectedRowOut(line=r.line, column=r.column, reason=r.reason) for r in a.rejected],
        period_start=a.period_start, period_end=a.period_end,
    )

