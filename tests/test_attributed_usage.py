"""Usage by project and by API key: rows recomputed from the sample files with the csv module, exact sums against
the totals, the rounding that keeps them exact, and the PDF, XLSX and CSV that show them."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

import auditor.attributed_usage as attributed_usage
from auditor.ledger import SUM_COLUMNS, TOKEN_COLUMNS
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.csv_out import write_csv
from auditor.report.formatting import money
from auditor.report.pdf import write_pdf
from auditor.report.xlsx import COUNT_FORMAT, MONEY_FORMAT, write_xlsx
from auditor.result import NO_KEY, NO_PROJECT, AuditResult, KeyUsage, ProjectUsage
from auditor.summary import MODEL_LINE
from auditor.workload import LOCAL_DAY, RATE_ID, Pricebook
from tests.conftest import SAMPLES

AS_OF = date(2026, 11, 28)
OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
OPENAI = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"
LITELLM = SAMPLES / "litellm_spend_logs_csv" / "litellm_spend_logs_2026-10.csv"
CLASSES = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")


class By(NamedTuple):
    """One attribution: the result's rows and their naming field, and the sample columns that name it."""

    field: str
    none: str
    openrouter_column: str
    openai_column: str
    title: str  # the PDF subsection's heading and chart title
    sheet: str

    def rows(self, result: AuditResult) -> list[ProjectUsage] | list[KeyUsage]:
        return result.usage_by_project if self.field == "project" else result.usage_by_key

    def name(self, row: ProjectUsage | KeyUsage) -> str:
        return str(getattr(row, self.field))


PROJECT = By("project", NO_PROJECT, "app_name", "project_id", "By project Share of list cost by project",
             "Usage by project")  # fmt: skip
KEY = By("api_key", NO_KEY, "api_key_name", "api_key_id", "By API key Share of list cost by key", "Usage by key")
BOTH = pytest.mark.parametrize("by", [PROJECT, KEY], ids=["project", "key"])


def _audit(*paths: Path, tz: str = "UTC") -> AuditResult:
    # One candidate keeps the run short; the usage sections do not depend on the candidates.
    options = AuditOptions(inputs=paths, as_of=AS_OF, candidates=("openai:gpt-4o-mini",), timezone=tz)
    return run_audit(options)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _per(result: AuditResult, by: By) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = defaultdict(lambda: defaultdict(int))
    for row in by.rows(result):
        p = out[by.name(row)]
        p["requests"] = int(p["requests"]) + (row.requests or 0)  # type: ignore[call-overload]
        for c in CLASSES:
            p[c] = int(p[c]) + getattr(row, c)  # type: ignore[call-overload]
        if row.billed_cost is not None:
            p["billed"] = Decimal(p.get("billed", 0)) + row.billed_cost  # type: ignore[arg-type]
    return {k: dict(v) for k, v in out.items()}


def _assert_adds_up(result: AuditResult) -> None:
    """Every token class, requests, billed and list cost: the rows by project, and those by key, add up to the totals
    exactly."""
    t = result.totals
    for rows in (result.usage_by_project, result.usage_by_key):
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


@BOTH
def test_openrouter_log_by_app_and_key_recomputed_from_the_csv(openrouter: AuditResult, by: By) -> None:
    assert openrouter.inputs[0].rows_rejected == 0 and openrouter.inputs[0].rows_skipped == 0
    expected: dict[str, dict[str, object]] = defaultdict(lambda: defaultdict(int))
    for r in _rows(OPENROUTER):
        p = expected[r[by.openrouter_column] or by.none]
        p["requests"] = int(p["requests"]) + 1  # type: ignore[call-overload]
        cached, prompt = int(r["tokens_cached"]), int(r["tokens_prompt"])
        for c, value in (("input_tokens", prompt - cached), ("cache_read_tokens", cached),
                         ("cache_write_tokens", 0), ("output_tokens", int(r["tokens_completion"])),
                         ("reasoning_tokens", int(r["tokens_reasoning"]))):  # fmt: skip
            p[c] = int(p[c]) + value  # type: ignore[call-overload]
        p["billed"] = Decimal(p.get("billed", 0)) + Decimal(r["cost_total"])  # type: ignore[arg-type]
    assert _per(openrouter, by) == {k: dict(v) for k, v in expected.items()}
    named = {"project": {"Research", "SupportDesk"}, "api_key": {"prod-key", "batch-key", "byok-key"}}
    assert {by.name(r) for r in by.rows(openrouter)} == named[by.field]
    assert all(r.attributed for r in by.rows(openrouter))
    _assert_adds_up(openrouter)


@BOTH
def test_openai_usage_export_by_project_and_key_recomputed_from_the_csv(by: By) -> None:
    result = _audit(OPENAI)
    expected: dict[str, dict[str, object]] = defaultdict(lambda: defaultdict(int))
    for r in _rows(OPENAI):
        if not r["model"].strip():
            continue  # empty time buckets
        p = expected[r[by.openai_column] or by.none]
        count = {k: int(float(r[k] or 0)) for k in ("num_model_requests", "input_tokens", "input_cached_tokens",
                                                     "input_cache_write_tokens", "output_tokens")}  # fmt: skip
        read, write = count["input_cached_tokens"], count["input_cache_write_tokens"]
        for c, value in (("input_tokens", count["input_tokens"] - read - write), ("cache_read_tokens", read),
                         ("cache_write_tokens", write), ("output_tokens", count["output_tokens"]),
                         ("reasoning_tokens", 0), ("requests", count["num_model_requests"])):  # fmt: skip
            p[c] = int(p[c]) + value  # type: ignore[call-overload]
    assert _per(result, by) == {k: dict(v) for k, v in expected.items()}
    assert all(r.billed_cost is None for r in by.rows(result))  # the usage export states no charges
    _assert_adds_up(result)


@BOTH
def test_each_project_or_key_costs_what_its_rows_cost_audited_alone(tmp_path: Path, by: By) -> None:
    """The export split by project (or key) with the csv module: each part's list cost total is that project's."""
    result = _audit(OPENAI)
    with OPENAI.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        parts: dict[str, list[list[str]]] = defaultdict(list)
        for row in reader:
            parts[row[header.index(by.openai_column)]].append(row)
    assert len([p for p in parts if p]) >= 2
    listed: dict[str, Decimal] = {}
    for r in by.rows(result):
        if r.list_cost is not None:  # a fine-tuned model the catalog does not price has none
            listed[by.name(r)] = listed.get(by.name(r), Decimal(0)) + r.list_cost
    assert len(listed) >= 2
    for name, rows in parts.items():
        if not name:
            continue
        path = tmp_path / f"completions_usage_{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows([header, *rows])
        alone = _audit(path)
        assert alone.totals.list_cost == listed.get(name), name


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
    for by in (PROJECT, KEY):
        keys = [(by.name(r), r.attributed, r.provider, r.model_raw, r.month) for r in by.rows(result)]
        assert len(keys) == len(set(keys))
        # Model lines are those of usage[]; the catalog id is theirs.
        lines = {(u.provider, u.model_raw): u.model for u in result.usage}
        assert all(lines[(r.provider, r.model_raw)] == r.model for r in by.rows(result))
        assert {r.month for r in by.rows(result)} == {m.month for m in result.usage_by_month}


def test_litellm_team_aliases_and_unattributed_usage() -> None:
    result = _audit(LITELLM)
    projects = {r.project: r.attributed for r in result.usage_by_project}
    assert projects[NO_PROJECT] is False
    assert {"search", "research", "support-bot"} <= {p for p, named in projects.items() if named}


def test_litellm_keys_by_alias_else_hash() -> None:
    """A LiteLLM key is its alias (`metadata.user_api_key_alias`) where the log has one, else its hash (`api_key`)."""
    result = _audit(LITELLM)
    by_hash: dict[str, set[str]] = defaultdict(set)
    for r in _rows(LITELLM):
        by_hash[r["api_key"]].add(r["metadata"])
    keys = {r.api_key for r in result.usage_by_key}
    assert all(r.attributed for r in result.usage_by_key)
    assert {"prod-backend", "batch-jobs", "research-notebook"} <= keys
    hashes = {k for k in keys if k in by_hash}
    assert hashes and all('"user_api_key_alias": "' not in m for k in hashes for m in by_hash[k])


def test_unpriced_usage_has_no_list_cost_never_zero(tmp_path: Path) -> None:
    path = tmp_path / "openrouter_logs.csv"
    rows = _rows(OPENROUTER)
    rows[0]["model_permaslug"] = "acme/not-a-model-2026"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    result = _audit(path)
    for by in (PROJECT, KEY):
        unpriced = [r for r in by.rows(result) if r.model_raw == "acme/not-a-model-2026"]
        assert len(unpriced) == 1
        assert unpriced[0].list_cost is None and unpriced[0].model is None
        assert unpriced[0].billed_cost == Decimal(rows[0]["cost_total"])
        assert by.name(unpriced[0]) == rows[0][by.openrouter_column]
    _assert_adds_up(result)


@BOTH
def test_rounding_goes_to_the_largest_piece_so_the_rows_add_up(monkeypatch: pytest.MonkeyPatch, by: By) -> None:
    """Three pieces of one month line each cost 0.4 nano-dollars: each rounds to 0, the line to 1 nano-dollar;
    the rows must add up to the line, the extra nano-dollar on the largest piece."""
    frame = pd.DataFrame(
        {
            "provider": ["openai"] * 3,
            MODEL_LINE: ["gpt-4o-mini"] * 3,
            "model_raw": ["gpt-4o-mini"] * 3,
            by.field: ["a", "b", ""],
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

    monkeypatch.setattr(attributed_usage, "cost_by_group", fake_costs)
    build = attributed_usage.build_usage_by_project if by is PROJECT else attributed_usage.build_usage_by_key
    rows = build(frame, {("openai", "gpt-4o-mini"): ("gpt-4o-mini", [])}, Pricebook())
    by_name = {by.name(r): r.list_cost for r in rows}
    assert by_name == {"a": Decimal("0E-9"), "b": Decimal("1E-9"), by.none: Decimal("0E-9")}
    assert sum(by_name.values(), Decimal(0)) == Decimal("0.000000001")  # money(0.00000000125)
    assert [by.name(r) for r in rows] == ["a", "b", by.none]  # unattributed usage last


# --- the reports ---------------------------------------------------------------------------------------


def _pdf_text(result: AuditResult, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    write_pdf(result, path)
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(path).pages)


@BOTH
def test_pdf_shows_each_projects_and_keys_billed_and_list_cost(openrouter: AuditResult, tmp_path: Path, by: By) -> None:
    text = _pdf_text(openrouter, tmp_path)
    start = text.index(by.title)
    part = text[start : text.index("Audit findings", start)]
    if by is PROJECT:
        part = part[: part.index(KEY.title)]  # the keys' part follows the projects'
    assert "route-by-project" not in part and "as-of date's list prices" not in part
    for name, expected in _per(openrouter, by).items():
        listed = sum(
            (r.list_cost for r in by.rows(openrouter) if by.name(r) == name and r.list_cost is not None), Decimal(0)
        )
        assert f"{name} openrouter" in part
        assert money(expected["billed"]) in part and money(listed) in part  # type: ignore[arg-type]
    t = openrouter.totals
    assert f"Total {t.requests:,} {t.all_tokens():,} {money(t.billed_cost)} {money(t.list_cost)} 100.0%" in part
    assert f"the workbook's “{by.sheet}” sheet" in part


def test_pdf_says_when_no_usage_is_attributed(tmp_path: Path) -> None:
    result = _audit(SAMPLES / "openai_batch_jsonl")
    assert result.usage_by_project and not any(r.attributed for r in result.usage_by_project)
    assert result.usage_by_key and not any(r.attributed for r in result.usage_by_key)
    text = _pdf_text(result, tmp_path)
    assert "The inputs do not attribute usage to projects: all of it is “(no project)”" in text
    assert "The inputs do not attribute usage to keys: all of it is “(no key)”" in text


def test_pdf_lists_the_largest_keys_and_sums_the_others(tmp_path: Path) -> None:
    """30 keys, each spending more than the one before: the 25 largest are listed in order, the other five share
    one row whose figures are their sums."""
    rows = _rows(OPENROUTER)[:30]
    for i, r in enumerate(rows):
        r["api_key_name"] = f"key-{i:02d}"
        r["cost_total"] = f"{(i + 1) * 10}.000000"
    path = tmp_path / "openrouter_logs.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    result = _audit(path)
    text = _pdf_text(result, tmp_path)
    start = text.index(KEY.title)
    part = text[start : text.index("Audit findings", start)]
    table = part[part.index("share of list key-29") :]  # after the charts (the list cost chart ranks otherwise)
    positions = [table.index(f"key-{i:02d} openrouter 1 1 ") for i in range(29, 4, -1)]
    assert positions == sorted(positions)
    assert all(f"key-{i:02d} " not in table for i in range(5))
    others = rows[:5]
    lines = len({r["model_permaslug"] for r in others})
    tokens = sum(int(r["tokens_prompt"]) + int(r["tokens_completion"]) for r in others)
    billed = sum((Decimal(r["cost_total"]) for r in others), Decimal(0))
    assert f"other (5 keys) openrouter {lines} 5 {tokens:,} {money(billed)} " in table


@BOTH
def test_xlsx_usage_by_project_and_key_sheets(openrouter: AuditResult, tmp_path: Path, by: By) -> None:
    common = {"attributed": True, "month": "2026-10", "provider": "openai", "model_raw": "<font color=red>m</font>",
              "model": None, "requests": 1, "input_tokens": 5, "billed_cost": None, "list_cost": None}  # fmt: skip
    hostile: ProjectUsage | KeyUsage = (
        ProjectUsage(project='=HYPERLINK("http://x","y")', **common)  # type: ignore[arg-type]
        if by is PROJECT
        else KeyUsage(api_key='=HYPERLINK("http://x","y")', **common)  # type: ignore[arg-type]
    )
    field = "usage_by_project" if by is PROJECT else "usage_by_key"
    extended = [*by.rows(openrouter), hostile]
    result = openrouter.model_copy(update={field: extended})
    path = tmp_path / "report.xlsx"
    write_xlsx(result, path)
    book = load_workbook(path)
    names = book.sheetnames
    assert names.index("Usage by project") == names.index("Usage by month") + 1
    assert names.index("Usage by key") == names.index("Usage by project") + 1
    sheet = book[by.sheet]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:N{len(extended) + 1}"
    header = [c.value for c in sheet[1]]
    first = "project" if by is PROJECT else "API key"
    assert header[:6] == [first, "month", "provider", "model", "catalog id", "requests"]
    assert header[-2:] == ["billed", "list cost"]
    rows = list(sheet.iter_rows(min_row=2, max_row=len(extended) + 1))
    billed = sum((Decimal(str(r[12].value)) for r in rows if r[12].value != "n/a"), Decimal(0))
    assert billed == openrouter.totals.billed_cost
    for cells, row in zip(rows, extended, strict=True):
        assert cells[0].value == by.name(row) and cells[0].data_type == "s"
        assert cells[5].number_format == COUNT_FORMAT and cells[6].number_format == COUNT_FORMAT
        if row.list_cost is not None:
            assert cells[13].number_format == MONEY_FORMAT
            assert Decimal(str(cells[13].value)) == row.list_cost
    last = rows[-1]
    assert last[0].value == '=HYPERLINK("http://x","y")' and last[0].data_type == "s" and last[0].quotePrefix
    assert last[12].value == "n/a" and last[13].value == "unpriced"


def test_csv_usage_by_key_matches_the_result(openrouter: AuditResult, tmp_path: Path) -> None:
    written = write_csv(openrouter, tmp_path)
    assert tmp_path / "usage_by_key.csv" in written
    with (tmp_path / "usage_by_key.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0][:3] == ["api_key", "attributed", "month"]

    def amount(text: str) -> Decimal | None:
        return Decimal(text) if text else None

    assert [(r[0], r[2], r[4], amount(r[-2]), amount(r[-1])) for r in table[1:]] == [
        (k.api_key, k.month, k.model_raw, k.billed_cost, k.list_cost) for k in openrouter.usage_by_key
    ]
    billed = sum((Decimal(r[-2]) for r in table[1:] if r[-2]), Decimal(0))
    assert billed == openrouter.totals.billed_cost
