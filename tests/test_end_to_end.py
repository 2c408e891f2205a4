"""End to end: the CLI on the samples; the JSON contract, determinism, chunk-size invariance, outputs."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.json_out import render_json
from auditor.result import KeyUsage, MonthlyUsage, ProjectUsage, UsageEntry
from bench.generate import generate
from pricing.catalog import default_candidates
from tests.conftest import AS_OF, SAMPLES

INPUT_KEYS = {"path", "format", "sha256", "rows_read", "rows_used", "rows_skipped", "rows_rejected"}
USAGE_KEYS = {
    "provider",
    "model_raw",
    "model",
    "requests",
    "input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "output_tokens",
    "reasoning_tokens",
    "billed_cost",
    "list_cost",
}
TOTAL_KEYS = {"requests", "billed_cost", "list_cost", "unpriced_requests"}
SCENARIO_KEYS = {"candidate", "baseline_cost", "projected_cost", "savings", "savings_pct"}


def test_json_contract_on_the_samples(run_cli) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(SAMPLES), "--as-of", AS_OF.isoformat(), "--json", "-")
    assert result.status == 0, result.err
    data = result.json()
    assert (data["schema_version"], data["as_of"], data["currency"]) == ("1", "2026-11-27", "USD")
    assert len(data["inputs"]) == len(
        [p for p in SAMPLES.glob("*/**/*") if p.name.endswith((".csv", ".jsonl", ".json", ".gz", ".parquet"))]
    )
    for entry in data["inputs"]:
        assert set(entry) >= INPUT_KEYS
        assert entry["rows_read"] == entry["rows_used"] + entry["rows_skipped"] + entry["rows_rejected"]
    for entry in data["usage"]:
        assert set(entry) >= USAGE_KEYS
        for key in ("billed_cost", "list_cost"):
            assert entry[key] is None or (isinstance(entry[key], str) and Decimal(entry[key]) >= 0)
    assert set(data["totals"]) >= TOTAL_KEYS
    assert len([s for s in data["scenarios"] if s["kind"] == "single"]) == len(default_candidates())
    assert [s["candidate"] for s in data["scenarios"] if s["kind"] == "hybrid"] == ["hybrid"]
    for scenario in data["scenarios"]:
        assert set(scenario) >= SCENARIO_KEYS
        assert Decimal(scenario["baseline_cost"]) - Decimal(scenario["projected_cost"]) == Decimal(scenario["savings"])
    savings = [Decimal(s["savings"]) for s in data["scenarios"]]
    assert savings == sorted(savings, reverse=True)


# The first four formats' samples: tests that name exact models and figures read only these.
CORE_SAMPLES = tuple(
    SAMPLES / name for name in ("openai_usage_csv", "anthropic_usage_csv", "anthropic_cost_csv", "openrouter_logs_csv")
)


def test_unpriced_models_are_listed_with_tokens_never_zero(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(*map(str, CORE_SAMPLES), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    unpriced = {u["model_raw"]: u for u in data["usage"] if u["list_cost"] is None}
    assert set(unpriced) == {"ft:gpt-4.1-mini-2025-04-14:acme:support-bot:AbC123", "acme/support-ft-v2"}
    finetune = unpriced["ft:gpt-4.1-mini-2025-04-14:acme:support-bot:AbC123"]
    assert (finetune["model"], finetune["requests"], finetune["input_tokens"]) == (None, 764, 1146000)
    assert finetune["unpriced_reason"] and finetune["suggestions"]
    assert data["totals"]["unpriced_requests"] == 765
    # Every Anthropic month has a usage export: the cost export's own list prices are not added again.
    catalog = [Decimal(u["list_cost"]) for u in data["usage"] if u["list_cost_basis"] == "catalog"]
    assert data["totals"]["list_cost"] == format(sum(catalog, Decimal(0)), "f")


def test_default_candidates_span_the_required_groups() -> None:
    groups = {c.group for c in default_candidates()}
    refs = {c.ref.split(":")[0] for c in default_candidates()}
    assert len(default_candidates()) >= 12
    assert {"deepseek", "minimax", "moonshotai", "zai", "openai", "anthropic", "google", "mistral"} <= refs
    assert {"PRC first-party API", "Open weights, US host", "EU vendor"} <= groups


def test_two_runs_give_byte_identical_json(tmp_path: Path) -> None:
    options = AuditOptions(inputs=(SAMPLES,), as_of=AS_OF)
    assert render_json(run_audit(options)) == render_json(run_audit(options))


def test_results_do_not_depend_on_the_block_size(tmp_path: Path) -> None:
    log, buckets = tmp_path / "openrouter.csv", tmp_path / "openai_usage.csv"
    generate("openrouter", 20_000, log)
    generate("openai-usage", 5_000, buckets)  # a bucketed export: one row per model, key and minute
    inputs = (log, buckets, *CORE_SAMPLES)
    one_block = run_audit(AuditOptions(inputs=inputs, as_of=AS_OF, block_bytes=1 << 30))
    tiny_blocks = run_audit(AuditOptions(inputs=inputs, as_of=AS_OF, block_bytes=16 * 1024))
    assert render_json(one_block) == render_json(tiny_blocks)
    used = {Path(f.path).name: (f.format, f.rows_used) for f in one_block.inputs}
    assert used["openrouter.csv"] == ("openrouter_logs_csv", 20_000)
    assert used["openai_usage.csv"] == ("openai_usage_csv", 5_000)


def test_plain_run_writes_pdf_and_xlsx_into_out_dir(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(SAMPLES), "--as-of", AS_OF.isoformat(), "--out", str(tmp_path))
    assert result.status == 0, result.err
    assert "Spend by model" in result.out and "Candidates ranked by savings" in result.out
    for name in ("audit-report.pdf", "audit-report.xlsx"):
        assert (tmp_path / name).stat().st_size > 1000
        assert f"wrote {tmp_path / name}" in result.err.replace("\n", "")
    assert not list(tmp_path.glob(".*partial")), "no temporary files are left behind"


def test_pdf_and_xlsx_totals_equal_the_json(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import openpyxl
    from pypdf import PdfReader

    from auditor.report.formatting import money

    pdf, xlsx = tmp_path / "r.pdf", tmp_path / "r.xlsx"
    result = run_cli(str(SAMPLES), "--as-of", AS_OF.isoformat(), "--json", "-", "--pdf", str(pdf), "--xlsx", str(xlsx))
    data = result.json()
    totals = data["totals"]
    billed, listed = Decimal(totals["billed_cost"]), Decimal(totals["list_cost"])
    best = max(data["scenarios"], key=lambda s: Decimal(s["savings"]))

    text = "\n".join(page.extract_text() for page in PdfReader(str(pdf)).pages)
    for figure in (money(billed), money(listed), money(Decimal(best["savings"])), f"{totals['requests']:,}"):
        assert figure in text
    for section in ("Executive summary", "By model", "Scenario comparison", "Unpriced models", "Rejected rows"):
        assert section in text

    summary = {row[0]: row[1] for row in openpyxl.load_workbook(xlsx)["Summary"].iter_rows(values_only=True)}
    assert Decimal(str(summary["Billed total"])) == billed
    assert Decimal(str(summary["List cost total (priced usage)"])) == listed
    scenarios = list(openpyxl.load_workbook(xlsx, data_only=True)["Scenarios"].iter_rows(values_only=True))[1:]
    assert {r[1]: Decimal(str(r[4])) for r in scenarios if r[1]} == {
        s["candidate"]: Decimal(s["projected_cost"]) for s in data["scenarios"]
    }


def test_gzip_and_zip_inputs_give_the_same_result_as_the_plain_files(tmp_path: Path) -> None:
    import gzip
    import zipfile

    plain = sorted((SAMPLES / "openrouter_logs_csv").glob("*.csv"))
    for path in plain:
        (tmp_path / (path.name + ".gz")).write_bytes(gzip.compress(path.read_bytes()))
    with zipfile.ZipFile(tmp_path / "more.zip", "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.write(SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv", "usage.csv")
        bundle.writestr("notes.txt", "not an export\n")
    packed = run_audit(AuditOptions(inputs=(tmp_path,), as_of=AS_OF))
    direct = run_audit(
        AuditOptions(
            inputs=(*plain, SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"), as_of=AS_OF
        )
    )
    files = {"token_files", "billed_files"}  # named as given: `more.zip!usage.csv` against the plain path
    assert [u.model_dump(exclude=files) for u in packed.usage] == [u.model_dump(exclude=files) for u in direct.usage]
    assert packed.totals == direct.totals and packed.scenarios == direct.scenarios
    assert sorted(i.rows_read for i in packed.inputs) == sorted(i.rows_read for i in direct.inputs)
    assert {f for u in packed.usage for f in u.token_files} == {
        *(str(tmp_path / (p.name + ".gz")) for p in plain),
        f"{tmp_path / 'more.zip'}!usage.csv",
    }
    assert [s.path for s in packed.skipped_files] == [f"{tmp_path / 'more.zip'}!notes.txt"]


def test_a_model_first_seen_after_the_surveyed_head_is_priced_exactly(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The survey reads only the head of a file; a tiered model seen later triggers a second, exact scan."""
    import auditor.ingest

    log = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    header, *rows = log.read_text(encoding="utf-8").splitlines()
    late = sorted(rows, key=lambda r: "gemini-2.5-pro" in r)  # the >200k-tier model's rows last
    path = tmp_path / "log.csv"
    path.write_text("\n".join([header, *late]) + "\n", encoding="utf-8")
    options = AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("google:gemini-2.5-pro", "openai:gpt-5.4"))
    whole_survey = run_audit(options)
    monkeypatch.setattr(auditor.ingest, "SURVEY_HEAD_ROWS", 2)
    head_survey = run_audit(options)
    assert render_json(head_survey) == render_json(whole_survey)


def test_every_table_of_list_cost_adds_up_to_the_total() -> None:
    """The list cost of the usage by model, by month, by project and by key each add up to the total. A list price a
    cost export states itself, in a month a usage export gives the same vendor's tokens, is left out of the total
    (the same spend may be among those tokens): its rows show it as `stated_list_cost`, not as list cost, so that no
    table's rows add up to more than its total row (the samples' Azure reservation, $260, did)."""
    result = run_audit(AuditOptions(inputs=(SAMPLES,), as_of=AS_OF))
    total = result.totals.list_cost
    assert total is not None

    def listed(rows: Sequence[UsageEntry | MonthlyUsage | ProjectUsage | KeyUsage]) -> Decimal:
        return sum((r.list_cost for r in rows if r.list_cost is not None), Decimal(0))

    for rows in (result.usage, result.usage_by_month, result.usage_by_project, result.usage_by_key):
        assert listed(rows) == total
    stated = [u for u in result.usage if u.stated_list_cost is not None]
    assert {u.model_raw for u in stated} >= {"Azure OpenAI Provisioned Managed reservation"}  # the premise
    by_month = sum((m.stated_list_cost for m in result.usage_by_month if m.stated_list_cost), Decimal(0))
    assert sum((u.stated_list_cost or Decimal(0) for u in stated), Decimal(0)) == by_month > 0
    # The reconciliation still compares such a line's charges with the list price its bill states.
    (reservation,) = [r for r in result.reconciliation if r.model_raw == "Azure OpenAI Provisioned Managed reservation"]
    assert reservation.list_cost == Decimal(260) and reservation.unpriced == 0
