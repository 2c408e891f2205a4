"""The PDF report: sections, totals traced to the JSON, risk and checklists, hostile text, determinism, layout."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.formatting import money, percent, tokens
from auditor.report.pdf import WIDTH, write_pdf
from auditor.report.pdf_fonts import FONT, register_fonts
from auditor.report.pdf_tables import Column, fitted_table, wrap_markup
from auditor.result import AuditResult, ChecklistItem, DataProfile, Period, Risk, RiskFinding, Totals
from tests.conftest import AS_OF, SAMPLES

FIXTURE = Path(__file__).parent / "fixtures" / "result_small.json"
SECTIONS = [
    "Executive summary",
    "Spend",
    "Audit findings",
    "Scenario comparison",
    "Risk register",
    "Compliance checklists",
    "Forecast and scheduled price changes",
    "Methodology and assumptions",
    "Appendix",
]
SUBSECTIONS = [
    "By provider",
    "By month",
    "By model",
    "Billing variances",
    "Unpriced models",
    "Rejected rows",
    "Glossary",
    "Inputs and row accounting",
    "Savings against risk",
]
HOSTILE = ["<font color=red>x</font>", '=HYPERLINK("http://x")']


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return AuditResult.model_validate_json(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pdf(result: AuditResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "report.pdf"
    write_pdf(result, path)
    return path


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _pages(path: Path) -> list[str]:
    return [_flat(page.extract_text()) for page in PdfReader(path).pages]


def _between(pages: list[str], start: str, end: str) -> str:
    """The text from one heading to the next after the contents (page footers included)."""
    text = " ".join(pages[3:])
    first = text.index(start)
    return text[first : text.index(end, first)]


def _usd(amount: str | None) -> str:
    """A JSON money string as the report prints it, computed here without the report's formatter."""
    if amount is None:
        return "n/a"
    cents = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return ("-" if cents < 0 else "") + f"${abs(cents):,.2f}"


def _raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return data


def test_money_tokens_and_percent_formatting() -> None:
    assert money(Decimal("1234.565")) == "$1,234.56"  # half to even
    assert money(Decimal("2.675")) == "$2.68"
    assert money(Decimal("-1216.305")) == "-$1,216.30"
    assert money(Decimal(0)) == money(Decimal("0E-9")) == "$0.00"
    assert money(Decimal("0.004")) == "<$0.01"  # not zero: never shown as free
    assert money(Decimal("-0.004")) == ">-$0.01"
    assert money(Decimal("0.005")) == "<$0.01"  # rounds to $0.00 (half to even), and is less than a cent
    assert money(None) == "n/a"
    assert tokens(1234567) == "1,234,567"
    assert percent(86.2849) == "86.3%"


def test_every_section_is_in_the_outline_and_the_contents(pdf: Path) -> None:
    reader = PdfReader(pdf)
    top = [item.title for item in reader.outline if not isinstance(item, list)]
    assert top == SECTIONS
    nested = [child.title for group in reader.outline if isinstance(group, list) for child in group]
    for sub in SUBSECTIONS:
        assert sub in nested
    contents = _pages(pdf)[2]
    assert contents.split()[0:3] == ["AI", "spend", "audit"] and "Contents" in contents
    for title in [*SECTIONS[1:], *SUBSECTIONS]:
        assert title in contents


def test_cover_then_a_one_page_summary(pdf: Path, result: AuditResult) -> None:
    pages = _pages(pdf)
    cover, summary = pages[0], pages[1]
    assert cover.startswith("AI spend audit 2025-01-01 – 2025-03-31 · prices as of 2025-06-30")
    assert "genai-prices 0.2.3" in cover and "264 rows read" in cover
    assert "exports/openrouter/activity & logs <march>.csv" in cover
    assert summary.count("Executive summary") == 1 and "Key facts" in summary
    assert "Contents" in pages[2] and "Key facts" not in pages[2]
    raw = _raw()
    assert _usd(raw["totals"]["billed_cost"]) == "$174.38" and "Billed total $174.38" in summary
    assert _usd(raw["totals"]["list_cost"]) == "$295.01" and "List cost $295.01" in summary
    # no risk ratings in the fixture: the best safe saving is the best saving
    best = max(raw["scenarios"], key=lambda s: Decimal(s["savings"]))
    assert f"Best safe saving {_usd(best['savings'])}" in summary and "86.3% · DeepSeek Chat" in summary
    assert "1. Evaluate moving to DeepSeek Chat (deepseek:deepseek-chat): it saves $251.57" in summary
    assert "2. Price 2 unpriced model(s)" in summary


def test_page_numbers_say_page_n_of_m(pdf: Path) -> None:
    reader = PdfReader(pdf)
    total = len(reader.pages)
    assert "page 1 of" not in reader.pages[0].extract_text()  # the cover has no footer
    for number, page in enumerate(reader.pages[1:], start=2):
        assert f"page {number} of {total}" in page.extract_text()


def test_spend_totals_trace_to_the_json(pdf: Path) -> None:
    raw = _raw()
    pages = _pages(pdf)
    by_provider = _between(pages, "By provider", "By month")
    for provider in sorted({u["provider"] for u in raw["usage"]}):
        lines = [u for u in raw["usage"] if u["provider"] == provider]
        billed = [Decimal(u["billed_cost"]) for u in lines if u["billed_cost"] is not None]
        listed = [Decimal(u["list_cost"]) for u in lines if u["list_cost"] is not None]
        tokens_sum = sum(u[c] for u in lines for c in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                                                       "cache_write_1h_tokens", "output_tokens"))  # fmt: skip
        row = f"{provider} {len(lines)} {sum(u['requests'] for u in lines):,} {tokens_sum:,} "
        row += f"{_usd(str(sum(billed))) if billed else 'n/a'} {_usd(str(sum(listed)))}"
        assert row in by_provider
    t = raw["totals"]
    all_tokens = sum(t[c] for c in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                                    "cache_write_1h_tokens", "output_tokens"))  # fmt: skip
    assert f"Total 7 {t['requests']:,} {all_tokens:,} {_usd(t['billed_cost'])} {_usd(t['list_cost'])}" in by_provider
    by_month = _between(pages, "By month", "By model")
    for month in sorted({m["month"] for m in raw["usage_by_month"]}):
        lines = [m for m in raw["usage_by_month"] if m["month"] == month]
        listed = sum(Decimal(m["list_cost"]) for m in lines if m["list_cost"] is not None)
        billed = sum(Decimal(m["billed_cost"]) for m in lines if m["billed_cost"] is not None)
        month_tokens = sum(m[c] for m in lines for c in ("input_tokens", "cache_read_tokens", "cache_write_tokens",
                                                         "cache_write_1h_tokens", "output_tokens"))  # fmt: skip
        row = f"{month} {len({m['provider'] for m in lines})} {len(lines)} {sum(m['requests'] for m in lines):,} "
        assert row + f"{month_tokens:,} {_usd(str(billed))} {_usd(str(listed))}" in by_month
    by_model = _between(pages, "By model", "By project")
    expected = [
        f"{t['requests']:,}",
        f"{t['input_tokens']:,}",
        f"{t['cache_read_tokens']:,}",
        f"{t['cache_write_tokens'] + t['cache_write_1h_tokens']:,}",
        f"{t['output_tokens']:,}",
        _usd(t["billed_cost"]),
        _usd(t["list_cost"]),
    ]
    assert "Total " + " ".join(expected) in by_model


def test_each_scenario_cost_and_savings_trace_to_the_json(pdf: Path) -> None:
    raw = _raw()
    table = _between(_pages(pdf), "Scenario comparison #", "Savings against risk")
    ranked = sorted(sorted(raw["scenarios"], key=lambda s: s["candidate"]), key=lambda s: -Decimal(s["savings"]))
    positions = []
    for rank, s in enumerate(ranked, start=1):
        figures = f"{_usd(s['baseline_cost'])} {_usd(s['projected_cost'])} {_usd(s['savings'])} {s['savings_pct']:.1f}%"
        assert figures in table, s["candidate"]
        positions.append(table.index(f"{rank} {s['candidate_name']}"))
    assert positions == sorted(positions)
    assert "-$1,216.31 -417.3%" in table


def test_unpriced_models_show_unpriced_never_zero(pdf: Path, result: AuditResult) -> None:
    page = _between(_pages(pdf), "By model", "By project")
    unpriced = [u for u in result.usage if u.list_cost is None]
    assert len(unpriced) == 2
    assert page.count("unpriced") == len(unpriced)  # the list cost of each unpriced row
    assert "$0.00" not in page
    for u in unpriced:
        assert re.search(re.escape(f"{tokens(u.output_tokens)} {money(u.billed_cost)} unpriced"), page)


def test_unpriced_section_lists_reason_and_suggestions(pdf: Path) -> None:
    page = _between(_pages(pdf), "Unpriced models provider", "Waste and quick wins")
    assert "no catalog model matches this name" in page
    assert "fireworks:llama-v3p1-70b-instruct" in page.replace(" ", "")  # may be wrapped after a "-"
    assert "no close catalog model" in page


def test_hostile_names_appear_literally(pdf: Path) -> None:
    text = " ".join(_pages(pdf))
    for name in HOSTILE:
        assert name in text
    assert "=cmd|' /C calc'!A0 is not a model name" in text
    assert "& has <angle> brackets" in text


def test_rejected_rows_and_accounting_are_listed(pdf: Path, result: AuditResult) -> None:
    text = " ".join(_pages(pdf))
    appendix = text[text.rindex("Inputs and row accounting") :]
    for f in result.inputs:
        assert f.sha256 in appendix.replace(" ", "")
        for row in f.rejected:
            assert row.reason in appendix
    read = sum(f.rows_read for f in result.inputs)
    assert f"Total {read:,}" in appendix
    assert "zero usage: 4" in appendix
    assert "exports/README.txt" in appendix


def test_only_the_bundled_fonts_are_used_and_embedded(pdf: Path) -> None:
    for page in PdfReader(pdf).pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            font = font.get_object()
            assert "DejaVuSans" in font["/BaseFont"]
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            assert "/FontFile2" in descendant["/FontDescriptor"].get_object()


def test_same_result_gives_same_bytes_dated_as_of(result: AuditResult, tmp_path: Path) -> None:
    write_pdf(result, tmp_path / "a.pdf")
    write_pdf(result, tmp_path / "b.pdf")
    assert (tmp_path / "a.pdf").read_bytes() == (tmp_path / "b.pdf").read_bytes()
    meta = PdfReader(tmp_path / "a.pdf").metadata
    assert meta is not None and meta.creation_date == datetime(2025, 6, 30, tzinfo=UTC)


def test_reportlab_accelerators_render_the_same_bytes(pdf: Path, tmp_path: Path) -> None:
    """reportlab's C accelerators (the `accel` extra, rl_accel) are installed: the report renders in about three
    quarters of the time. Where they cannot be imported, reportlab's Python fallbacks give the same bytes."""
    from reportlab.lib import rl_accel

    assert rl_accel._py_funcs == {}, f"reportlab falls back to Python for {sorted(rl_accel._py_funcs)}"
    fallback = tmp_path / "fallback.pdf"
    script = (
        "import sys; sys.modules['_rl_accel'] = None\n"
        "from pathlib import Path\n"
        "from reportlab.lib import rl_accel\n"
        "assert 'fp_str' in rl_accel._py_funcs\n"
        "from auditor.report.pdf import write_pdf\n"
        "from auditor.result import AuditResult\n"
        "write_pdf(AuditResult.model_validate_json(Path(sys.argv[1]).read_text(encoding='utf-8')), Path(sys.argv[2]))\n"
    )
    root = Path(__file__).resolve().parent.parent
    subprocess.run([sys.executable, "-c", script, str(FIXTURE), str(fallback)], check=True, cwd=root)
    assert fallback.read_bytes() == pdf.read_bytes()


def test_every_model_priced_and_an_empty_result(result: AuditResult, tmp_path: Path) -> None:
    priced = result.model_copy(update={"usage": [u for u in result.usage if u.list_cost is not None]})
    write_pdf(priced, tmp_path / "priced.pdf")
    assert "Every model was priced" in " ".join(_pages(tmp_path / "priced.pdf"))

    empty = AuditResult(
        as_of=date(2025, 6, 30),
        tool_version="0.1.0",
        catalog="genai-prices 0.2.3",
        period=Period(start=None, end=None),
        inputs=[],
        usage=[],
        usage_by_month=[],
        scenarios=[],
        totals=Totals(
            requests=0,
            billed_cost=None,
            list_cost=None,
            unpriced_requests=0,
            unpriced_models=0,
            unpriced_tokens=0,
        ),
    )
    write_pdf(empty, tmp_path / "empty.pdf")
    text = " ".join(_pages(tmp_path / "empty.pdf"))
    assert "Best safe saving n/a" in text and "No scenarios were computed." in text
    assert "no amounts to chart" in text and "No input file." in text


def test_long_words_are_broken_to_fit() -> None:
    register_fonts()
    name = "accounts/fireworks/models/llama-v3p1-405b-instruct-extended-context-preview-2025-04-01" * 3
    for width in (30.0, 80.0, 140.0):
        lines = wrap_markup(name, FONT, 7, width).split("<br/>")
        assert "".join(lines) == name
        assert all(pdfmetrics.stringWidth(line, FONT, 7) <= width for line in lines)


def test_columns_never_exceed_the_page_width() -> None:
    columns = [Column("name", "flex"), *(Column(f"n{i}") for i in range(9))]
    huge = [["x" * 80, *(tokens(10**15 + i) for i in range(9))]]
    table = fitted_table(columns, huge, WIDTH)
    assert sum(table._colWidths) <= WIDTH + 0.01


def test_control_characters_in_data_do_not_break_the_pdf(result: AuditResult, tmp_path: Path) -> None:
    odd = result.usage[0].model_copy(update={"model_raw": "bell\x07and\x00nul & <b>bold</b>"})
    write_pdf(result.model_copy(update={"usage": [odd]}), tmp_path / "odd.pdf")
    assert "bell\ufffdand\ufffdnul & <b>bold</b>" in " ".join(_pages(tmp_path / "odd.pdf"))


def _rated(result: AuditResult) -> AuditResult:
    """The fixture with risk ratings and checklists: the largest saving blocked, the next amber."""
    ranked = sorted(result.scenarios, key=lambda s: -s.savings)
    blocked, amber = ranked[0], ranked[1]
    gate = RiskFinding(
        code="phi-no-baa",
        severity="blocking",
        message="PHI would go to an endpoint with no BAA.",
        inputs={"data_classes": "phi", "deepseek.baa": "no (vendor terms [12]; as of 2025-06-01)"},
        sources=["HIPAA 45 CFR 164.502(e)", "vendor terms [12] (as of 2025-06-01)"],
    )
    posture = RiskFinding(
        code="vendor-posture",
        severity="amber",
        message="Posture gaps: dpa unknown.",
        inputs={"google.dpa": "unknown: request from vendor", "requests_over_window": 1234},
        sources=["unknown: request from vendor"],
    )
    items = [
        ChecklistItem(regime="HIPAA", item="BAA signed", status="blocking", source="45 CFR 164.504(e)",
                      as_of=date(2025, 6, 1)),
        ChecklistItem(regime="HIPAA", item="Retention matches policy", status="met", source="vendor terms [12]",
                      as_of=date(2025, 6, 1)),
        ChecklistItem(regime="GDPR Art. 28", item="DPA signed", status="verify",
                      source="GDPR Art. 28; google.dpa: unknown: request from vendor"),
    ]  # fmt: skip
    scenarios = []
    for s in result.scenarios:
        if s is blocked:
            s = s.model_copy(update={"risk": Risk(level="blocked", compliance_score=80.0, operational_score=0.0,
                                                  findings=[gate]), "checklist": items})  # fmt: skip
        elif s is amber:
            s = s.model_copy(update={"risk": Risk(level="amber", compliance_score=40.0, operational_score=12.5,
                                                  findings=[posture]), "checklist": items[1:]})  # fmt: skip
        else:
            s = s.model_copy(update={"risk": Risk(level="green", compliance_score=0.0, operational_score=0.0)})
        scenarios.append(s)
    profile = DataProfile(data_classes=["phi"])
    return result.model_copy(update={"scenarios": scenarios, "data_profile": profile})


def test_the_best_safe_saving_passes_over_a_red_candidate(result: AuditResult, tmp_path: Path) -> None:
    ranked = sorted(result.scenarios, key=lambda s: -s.savings)
    red = RiskFinding(code="eu-transfer-unverified", severity="red", message="EU data outside the EU.", inputs={},
                      sources=["GDPR Ch. V"])  # fmt: skip
    levels = {ranked[0].candidate: ("red", [red]), ranked[1].candidate: ("amber", [])}
    rated = result.model_copy(
        update={
            "scenarios": [
                s.model_copy(update={"risk": Risk(level=levels.get(s.candidate, ("red", [red]))[0],
                                                  compliance_score=50.0, operational_score=0.0,
                                                  findings=levels.get(s.candidate, ("red", [red]))[1])})
                for s in result.scenarios
            ]
        }
    )  # fmt: skip
    write_pdf(rated, tmp_path / "rated.pdf")
    summary = _pages(tmp_path / "rated.pdf")[1]
    assert f"Best safe saving {money(ranked[1].savings)}" in summary  # the amber one, not the larger red one
    assert f"({money(ranked[0].savings)}), rates Red by eu-transfer-unverified" in summary
    # Every candidate red: the largest saving not blocked, titled as such (never called safe).
    all_red = result.model_copy(
        update={"scenarios": [s.model_copy(update={"risk": Risk(level="red", compliance_score=70.0,
                                                                operational_score=0.0, findings=[red])})
                              for s in result.scenarios]}
    )  # fmt: skip
    write_pdf(all_red, tmp_path / "red.pdf")
    summary = _pages(tmp_path / "red.pdf")[1]
    assert f"Best saving not blocked {money(ranked[0].savings)}" in summary
    assert f"Best safe saving {money(ranked[0].savings)}" not in summary


def test_risk_register_and_checklists_show_levels_facts_and_tick_boxes(result: AuditResult, tmp_path: Path) -> None:
    rated = _rated(result)
    write_pdf(rated, tmp_path / "rated.pdf")
    pages = _pages(tmp_path / "rated.pdf")
    summary = pages[1]
    ranked = sorted(rated.scenarios, key=lambda s: -s.savings)
    # the best safe saving skips the blocked candidate
    assert f"Best safe saving {money(ranked[1].savings)}" in summary
    assert f"The largest saving, {ranked[0].candidate_name} ({money(ranked[0].savings)}), is blocked by phi-no-baa" in (
        summary
    )
    register = _between(pages, "Risk register", "Compliance checklists")
    assert "Data profile: phi." in register
    assert "1 blocking" in register and "Blocked" in register and "Amber" in register
    assert "deepseek.baa: no (vendor terms [12]; as of 2025-06-01)" in register
    assert "google.dpa: unknown: request from vendor" in register
    assert "requests_over_window: 1,234" in register
    assert "HIPAA 45 CFR 164.502(e)" in register
    lists = _between(pages, "Compliance checklists", "Forecast and scheduled price changes")
    assert "☒ blocking HIPAA BAA signed 45 CFR 164.504(e) 2025-06-01" in lists
    assert "☑ met" in lists and "Retention matches policy" in lists
    assert "☐ to verify GDPR Art. 28 DPA signed GDPR Art. 28; google.dpa: unknown: request from vendor" in lists
    assert "no vendor fact" in lists
    table = _between(pages, "Scenario comparison #", "Savings against risk")
    assert table.count("Blocked") == 1 and table.count("Amber") == 1 and table.count("Green") == len(ranked) - 2


def test_hostile_names_render_safely(result: AuditResult, tmp_path: Path) -> None:
    long_name = "accounts/acme/models/" + "x" * 4979  # 5,000 characters, one word
    names = ['=HYPERLINK("http://evil.example","click")', '<font size="40" color="red">big</font>', long_name,
             "gpt-4o 🚀🔥 smile", "מודל-עברי نموذج-عربي"]  # fmt: skip
    usage = [
        u.model_copy(update={"model_raw": n, "provider": n[:40]}) for u, n in zip(result.usage, names, strict=False)
    ]
    usage += result.usage[len(names) :]
    hostile = result.model_copy(update={"usage": usage})
    write_pdf(hostile, tmp_path / "hostile.pdf")
    pages = _pages(tmp_path / "hostile.pdf")
    text = " ".join(pages)
    footer = re.compile(r"AI spend audit · \S+ – \S+ · prices as of \S+ page \d+ of \d+")
    joined = "".join(footer.sub("", text).split())  # long words are wrapped, over pages too
    assert names[0] in joined and "".join(names[1].split()) in joined  # literal, not markup
    # wrapped over lines and split over pages (the row's other cells and the repeated header in between), never cut
    assert "accounts/acme/models/" in joined and joined.count("x") >= 4979
    assert "smile" in text and ("מודל" in text or "לדומ" in text)
    assert len(pages) < 40
    write_pdf(hostile, tmp_path / "again.pdf")
    assert (tmp_path / "again.pdf").read_bytes() == (tmp_path / "hostile.pdf").read_bytes()


def test_a_row_taller_than_a_page_is_split_not_an_error(result: AuditResult, tmp_path: Path) -> None:
    many = [f"sugg-{i}" for i in range(300)]  # short lines, each its own line: one row taller than a page
    odd = [u.model_copy(update={"suggestions": many}) if u.list_cost is None else u for u in result.usage]
    write_pdf(result.model_copy(update={"usage": odd}), tmp_path / "tall.pdf")
    text = " ".join(_pages(tmp_path / "tall.pdf"))
    assert all(f"sugg-{i} " in text + " " for i in (0, 150, 299))


def test_a_project_named_like_markup_reads_as_itself_in_the_contents(tmp_path: Path) -> None:
    """Headings made of data (a plan's phases, by project) are lines of the contents too, which reportlab draws as
    markup: the name must show literally there as well as in the heading."""
    sample = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"
    name = 'R&D <ops> &amp; "x"'
    renamed = tmp_path / sample.name
    renamed.write_text(sample.read_text(encoding="utf-8").replace("proj_support", name), encoding="utf-8")
    audited = run_audit(AuditOptions(inputs=(renamed,), as_of=AS_OF))
    assert any(s.segment == name and s.phases for s in audited.plan.segments)
    write_pdf(audited, tmp_path / "report.pdf")
    pages = _pages(tmp_path / "report.pdf")
    contents = next(page for page in pages if "Contents" in page and "Executive summary" in page)
    assert f"Phases: {name} to " in contents
    assert f"Phases: {name} to " in " ".join(pages[3:])


def test_the_savings_chart_names_a_hybrid_by_what_it_routes_by(tmp_path: Path) -> None:
    """The chart's lane labels are cut to their width: a hybrid's name, which counts its segments and candidates in
    brackets (the table beside gives them), is shown as what it routes by, whole ("Route by project (32 segments,
    2 c…" was cut on the samples)."""
    from auditor.options import AuditOptions
    from auditor.pipeline import run_audit
    from auditor.report.pdf import write_pdf

    samples = run_audit(AuditOptions(inputs=(SAMPLES,), as_of=AS_OF))
    hybrid = next(s for s in samples.scenarios if s.kind == "hybrid")
    assert hybrid.candidate_name.startswith("Route by project (")  # the premise
    write_pdf(samples, tmp_path / "s.pdf")
    chart = _between(_pages(tmp_path / "s.pdf"), "Savings against risk level", "Lanes by risk level")
    assert "Route by project" in chart and "Route by project (" not in chart
