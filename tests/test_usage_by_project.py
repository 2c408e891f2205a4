"""Usage by project: rows recomputed from the sample files with the csv module, exact sums against the totals,
the rounding that keeps them exact, and the PDF and XLSX that show them."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

import auditor.project_usage as project_usage
from auditor.ledger import SUM_COLUMNS, TOKEN_COLUMNS
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.formatting import money
from auditor.report.pdf import write_pdf
from auditor.report.xlsx import COUNT_FORMAT, MONEY_FORMAT, write_xlsx
from auditor.result import NO_PROJECT, AuditResult, ProjectUsage
from auditor.summary import MODEL_LINE
from auditor.workload import LOCAL_DAY, RATE_ID, Pricebook
from tests.conftest import SAMPLES

AS_OF = date(2026, 11, 28)
OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
OPENAI = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"
LITELLM = SAMPLES / "litellm_spend_logs_csv" / "litellm_spend_logs_2026-10.csv"
CLASSES = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")


def _audit(*paths: Path, tz: str = "UTC") -> AuditResult:
    # One candidate keeps the run short; the usage sections do not depend on the candidates.
    options = AuditOptions(inputs=paths, as_of=AS_OF, candidates=("openai:gpt-4o-mini",), timezone=tz)
    return run_audit(options)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _per_project(result: AuditResult) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = defaultdict(lambda: defaultdict(int))
    for row in result.usage_by_project:
        p = out[row.project]
        p["requests"] = int(p["requests"]) + (row.requests or 0)  # type: ignore[call-overload]
        for c in CLASSES:
            p[c] = int(p[c]) + getattr(row, c)  # type: ignore[call-overload]
        if row.billed_cost is not None:
            p["billed"] = Decimal(p.get("billed", 0)) + row.billed_cost  # type: ignore[arg-type]
    return {k: dict(v) for k, v in out.items()}


def _assert_adds_up(result: AuditResult) -> None:
    """Every token class, requests, billed and list cost: the rows add up to the totals exactly."""
    rows, t = result.usage_by_project, result.totals
    assert rows
    for c in TOKEN_COLUMNS:
        assert sum(getattr(r, c) for r in rows) == getattr(t, c), c
    assert sum(r.requests or 0 for r in rows) == t.requests
    billed = [r.billed_cost for r in rows if r.billed_cost is not None]
    assert (sum(billed, Decimal(0)) if billed else None) == t.billed_cost
    listed = [r.list_cost for r in rows if r.list_cost is not None]
    assert (sum(listed, Decimal(0)) if listed else None) == t.list_cost


@pytest.fixture(scope="module")
def openrouter() -> AuditResult:
    return _audit(OPENROUTER)


def test_openrouter_log_by_app_recomputed_from_the_csv(openrouter: AuditResult) -> None:
    assert openrouter.inputs[0].rows_rejected == 0 and openrouter.inputs[0].rows_skipped == 0
    expected: dict[str, dict[str, object]] = defaultdict(lambda: defaultdict(int))
    for r in _rows(OPENROUTER):
        p = expected[r["app_name"] or NO_PROJECT]
        p["requests"] = int(p["requests"]) + 1  # type: ignore[call-overload]
        cached, prompt = int(r["tokens_cached"]), int(r["tokens_prompt"])
        for c, value in (("input_tokens", prompt - cached), ("cache_read_tokens", cached),
                         ("cache_write_tokens", 0), ("output_tokens", int(r["tokens_completion"])),
                         ("reasoning_tokens", int(r["tokens_reasoning"]))):  # fmt: skip
            p[c] = int(p[c]) + value  # type: ignore[call-overload]
        p["billed"] = Decimal(p.get("billed", 0)) + Decimal(r["cost_total"])  # type: ignore[arg-type]
    assert _per_project(openrouter) == {k: dict(v) for k, v in expected.items()}
    assert {r.project for r in openrouter.usage_by_project} == {"Research", "SupportDesk"}
    assert all(r.attributed for r in openrouter.usage_by_project)
    _assert_adds_up(openrouter)


def test_openai_usage_export_by_project_recomputed_from_the_csv() -> None:
    result = _audit(OPENAI)
    expected: dict[str, dict[str, object]] = defaultdict(lambda: defaultdict(int))
    for r in _rows(OPENAI):
        if not r["model"].strip():
            continue  # empty time buckets
        p = expected[r["project_id"] or NO_PROJECT]
        count = {k: int(float(r[k] or 0)) for k in ("num_model_requests", "input_tokens", "input_cached_tokens",
                                                     "input_cache_write_tokens", "output_tokens")}  # fmt: skip
        read, write = count["input_cached_tokens"], count["input_cache_write_tokens"]
        for c, value in (("input_tokens", count["input_tokens"] - read - write), ("cache_read_tokens", read),
                         ("cache_write_tokens", write), ("output_tokens", count["output_tokens"]),
                         ("reasoning_tokens", 0), ("requests", count["num_model_requests"])):  # fmt: skip
            p[c] = int(p[c]) + value  # type: ignore[call-overload]
    assert _per_project(result) == {k: dict(v) for k, v in expected.items()}
    assert all(r.billed_cost is None for r in result.usage_by_project)  # the usage export states no charges
    _assert_adds_up(result)


def test_each_project_costs_what_its_rows_cost_audited_alone(tmp_path: Path) -> None:
    """The export split by project with the csv module: each part's list cost total is that project's."""
    result = _audit(OPENAI)
    with OPENAI.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        parts: dict[str, list[list[str]]] = defaultdict(list)
        for row in reader:
            parts[row[header.index("project_id")]].append(row)
    assert len([p for p in parts if p]) >= 2
    listed: dict[str, Decimal] = {}
    for r in result.usage_by_project:
        if r.list_cost is not None:  # a fine-tuned model the catalog does not price has none
            listed[r.project] = listed.get(r.project, Decimal(0)) + r.list_cost
    assert len(listed) >= 2
    for project, rows in parts.items():
        if not project:
            continue
        path = tmp_path / f"completions_usage_{project}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows([header, *rows])
        alone = _audit(path)
        assert alone.totals.list_cost == listed.get(project), project


@pytest.mark.parametrize(
    ("paths", "tz"),
    [
        ((LITELLM,), "UTC"),
        ((SAMPLES / "anthropic_usage_csv", SAMPLES / "anthropic_cost_csv"), "UTC"),
        ((SAMPLES / "focus_csv", SAMPLES / "workload_csv", SAMPLES / "aws_cur_legacy_csv"), "America/New_York"),
    ],
)
def test_rows_add_up_to_the_totals(paths: tuple[Path, ...], tz: str) -> None:
    result = _audit(*paths, tz=tz)
    _assert_adds_up(result)
    keys = [(r.project, r.attributed, r.provider, r.model_raw, r.month) for r in result.usage_by_project]
    assert len(keys) == len(set(keys))
    # Model lines are those of usage[]; the catalog id is theirs.
    lines = {(u.provider, u.model_raw): u.model for u in result.usage}
    assert all(lines[(r.provider, r.model_raw)] == r.model for r in result.usage_by_project)
    assert {r.month for r in result.usage_by_project} == {m.month for m in result.usage_by_month}


def test_litellm_team_aliases_and_unattributed_usage() -> None:
    result = _audit(LITELLM)
    projects = {r.project: r.attributed for r in result.usage_by_project}
    assert projects[NO_PROJECT] is False
    assert {"search", "research", "support-bot"} <= {p for p, named in projects.items() if named}


def test_unpriced_usage_has_no_list_cost_never_zero(tmp_path: Path) -> None:
    path = tmp_path / "openrouter_logs.csv"
    rows = _rows(OPENROUTER)
    rows[0]["model_permaslug"] = "acme/not-a-model-2026"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    result = _audit(path)
    unpriced = [r for r in result.usage_by_project if r.model_raw == "acme/not-a-model-2026"]
    assert len(unpriced) == 1
    assert unpriced[0].list_cost is None and unpriced[0].model is None
    assert unpriced[0].billed_cost == Decimal(rows[0]["cost_total"])
    assert unpriced[0].project == rows[0]["app_name"]
    _assert_adds_up(result)


def test_rounding_goes_to_the_largest_piece_so_the_rows_add_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three pieces of one month line each cost 0.4 nano-dollars: each rounds to 0, the line to 1 nano-dollar;
    the rows must add up to the line, the extra nano-dollar on the largest piece."""
    frame = pd.DataFrame(
        {
            "provider": ["openai"] * 3,
            MODEL_LINE: ["gpt-4o-mini"] * 3,
            "model_raw": ["gpt-4o-mini"] * 3,
            "project": ["a", "b", ""],
            "day": ["2026-10-01"] * 3,
            LOCAL_DAY: ["2026-10-01"] * 3,
            RATE_ID: [0, 0, 0],
            **{c: [0, 0, 0] for c in SUM_COLUMNS},
        }
    )
    frame["input_tokens"] = [3, 4, 2]
    frame["requests"] = [1, 1, 1]
    frame["requests_known_lines"] = [1, 1, 1]
    exact = {("a",): Decimal("0.00000000040"), ("b",): Decimal("0.00000000045"), ("",): Decimal("0.00000000040")}

    def fake_costs(table, rate_ids, rates, keys):  # type: ignore[no-untyped-def]
        return {(p, line, m, project, mm): exact[(project,)] for p, line, m, project, mm in
                table[keys].drop_duplicates().itertuples(index=False)}  # fmt: skip

    monkeypatch.setattr(project_usage, "cost_by_group", fake_costs)
    rows = project_usage.build_usage_by_project(frame, {("openai", "gpt-4o-mini"): ("gpt-4o-mini", [])}, Pricebook())
    by_project = {r.project: r.list_cost for r in rows}
    assert by_project == {"a": Decimal("0E-9"), "b": Decimal("1E-9"), NO_PROJECT: Decimal("0E-9")}
    assert sum(by_project.values(), Decimal(0)) == Decimal("0.000000001")  # money(0.00000000125)
    assert [r.project for r in rows] == ["a", "b", NO_PROJECT]  # unattributed usage last


# --- the reports ---------------------------------------------------------------------------------------


def test_pdf_by_project_shows_each_projects_billed_and_list_cost(openrouter: AuditResult, tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    write_pdf(openrouter, path)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages[3:])
    start = text.index("By project Share of list cost by project")
    part = text[start : text.index("Audit findings", start)]
    assert "route-by-project" not in part and "as-of date's list prices" not in part
    for project, expected in _per_project(openrouter).items():
        listed = sum(
            (r.list_cost for r in openrouter.usage_by_project if r.project == project and r.list_cost is not None),
            Decimal(0),
        )
        assert f"{project} openrouter" in part
        assert money(expected["billed"]) in part and money(listed) in part  # type: ignore[arg-type]
    t = openrouter.totals
    assert f"Total {t.requests:,} {t.all_tokens():,} {money(t.billed_cost)} {money(t.list_cost)} 100.0%" in part


def test_pdf_says_when_no_usage_is_attributed(tmp_path: Path) -> None:
    result = _audit(SAMPLES / "openai_batch_jsonl")
    assert result.usage_by_project and not any(r.attributed for r in result.usage_by_project)
    path = tmp_path / "report.pdf"
    write_pdf(result, path)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)
    assert "The inputs do not attribute usage to projects" in text


def test_xlsx_usage_by_project_sheet(openrouter: AuditResult, tmp_path: Path) -> None:
    hostile = ProjectUsage(project='=HYPERLINK("http://x","y")', attributed=True, month="2026-10", provider="openai",
                           model_raw="<font color=red>m</font>", model=None, requests=1, input_tokens=5,
                           billed_cost=None, list_cost=None)  # fmt: skip
    result = openrouter.model_copy(update={"usage_by_project": [*openrouter.usage_by_project, hostile]})
    path = tmp_path / "report.xlsx"
    write_xlsx(result, path)
    book = load_workbook(path)
    names = book.sheetnames
    assert names.index("Usage by project") == names.index("Usage by month") + 1
    sheet = book["Usage by project"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{len(result.usage_by_project) + 1}"
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["project", "month", "provider", "model", "catalog id", "requests"]
    assert header[-2:] == ["billed", "list cost"]
    rows = list(sheet.iter_rows(min_row=2, max_row=len(result.usage_by_project) + 1))
    billed = sum((Decimal(str(r[12].value)) for r in rows if r[12].value != "n/a"), Decimal(0))
    assert billed == openrouter.totals.billed_cost
    for cells, row in zip(rows, result.usage_by_project, strict=True):
        assert cells[0].value == row.project and cells[0].data_type == "s"
        assert cells[5].number_format == COUNT_FORMAT and cells[6].number_format == COUNT_FORMAT
        if row.list_cost is not None:
            assert cells[13].number_format == MONEY_FORMAT
            assert Decimal(str(cells[13].value)) == row.list_cost
    last = rows[-1]
    assert last[0].value == '=HYPERLINK("http://x","y")' and last[0].data_type == "s" and last[0].quotePrefix
    assert last[12].value == "n/a" and last[13].value == "unpriced"
