"""The workbook's live part: Assumptions and Prices (inputs), the cost lines, and Scenarios as formulas over them.

Live: each single scenario's projected cost is the sum of its cost lines ('Scenario lines'), each line the tokens
of one source model at one price row of the candidate, priced by INDEX into Prices and scaled by the Assumptions
as `auditor.assumptions.cost_at` does; the baseline is the sum of 'Baseline lines' at the source models' own rates.
Fixed (values from the engine, labelled): which price row each token is priced at (service tier, half hour,
request-size tier, the candidate's cheapest half hour), the hybrid scenario's routing and cost, costs at contract
prices, and the low/high range and drivers.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from openpyxl.chart import BarChart, Reference
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from auditor.report.formatting import ranked_scenarios, top_driver
from auditor.report.xlsx_costs import (
    FAMILY_DRIVEN,
    Inputs,
    baseline_cost,
    line_cost,
    run_inputs,
    variant_weight,
)
from auditor.report.xlsx_table import (
    COUNT_FORMAT,
    FACTOR_FORMAT,
    MONEY_FORMAT,
    PERCENT_FORMAT,
    RATE_FORMAT,
    Cells,
    Formula,
    Input,
    Row,
    write_table,
)
from auditor.result import AuditResult, CostModel, Scenario, money

ASSUMPTIONS, PRICES, LINES, BASELINE_LINES, SCENARIOS = (
    "Assumptions",
    "Prices",
    "Scenario lines",
    "Baseline lines",
    "Scenarios",
)
BASELINE_NAME = "baseline_cost"
LIVE = "live: formulas over Scenario lines, Prices and Assumptions"
_PER_FAMILY = "per model family (see Scenario lines)"
_PRICE_COLUMNS = [
    ("input", "price_input"),
    ("cache_read", "price_cache_read"),
    ("cache_write", "price_cache_write"),
    ("cache_write_1h", "price_cache_write_1h"),
    ("output", "price_output"),
    ("reasoning", "price_reasoning"),
    ("requests", "price_requests"),
]
_VARIANTS = ("as_served", "batch", "off_peak", "batch_off_peak")


def _name(book: Workbook, name: str, sheet: str, ref: str) -> None:
    book.defined_names[name] = DefinedName(name, attr_text=f"'{sheet}'!{ref}")


def _column(book: Workbook, name: str, sheet: str, letter: str, last_row: int) -> None:
    _name(book, name, sheet, f"${letter}$2:${letter}${max(last_row, 2)}")


# ---------------------------------------------------------------------------------------------------------------
# Assumptions


ASSUMPTION_HEADERS = ["assumption", "your value (input)", "in effect", "run value", "low", "high", "description",
                      "source"]  # fmt: skip


def assumptions_sheet(book: Workbook, sheet: Worksheet, result: AuditResult, cells: Cells) -> Inputs:
    """The six assumptions, each input cell a defined name; returns the inputs as written."""
    inputs = run_inputs(result.assumptions)
    rows: list[Row] = []
    for n, a in enumerate(result.assumptions, start=2):
        value = inputs[a.name]
        family = a.name in FAMILY_DRIVEN and value is None
        rows.append(
            [
                a.name,
                Input(value),
                Formula(f'=IF(ISNUMBER(B{n}),B{n},"{_PER_FAMILY}")', _PER_FAMILY if family else value, FACTOR_FORMAT),
                Decimal(repr(a.value)) if not family else _PER_FAMILY,
                Decimal(repr(a.low)),
                Decimal(repr(a.high)),
                a.description,
                a.source,
            ]
        )
    notes = [
        "Yellow cells are inputs: change one and the Scenarios sheet recomputes (so do Summary's live rows).",
        "token_ratio, output_verbosity, reasoning_verbosity: empty = the per-model-family defaults of each candidate "
        "and source model (Scenario lines); a value holds for every candidate and source model, as --assume "
        "NAME=VALUE does (a verbosity you set is then beyond the tokenizer: token_ratio scales it too).",
        "cache_hit_share, batch_share, offpeak_share: shares from 0 to 1; the other three: positive multipliers.",
        "low / high: the range of the run; the Scenarios sheet's low and high columns are the run's figures (fixed).",
    ]
    factor_columns = dict.fromkeys((4, 5, 6), FACTOR_FORMAT)  # run value, low, high
    write_table(sheet, ASSUMPTION_HEADERS, rows, cells, notes, widths={7: 60, 8: 60}, formats=factor_columns)
    shares = DataValidation(type="decimal", operator="between", formula1="0", formula2="1", allow_blank=True)
    factors = DataValidation(type="decimal", operator="greaterThan", formula1="0", allow_blank=True)
    for dv, title in ((shares, "a share from 0 to 1"), (factors, "a positive multiplier, or empty")):
        dv.error, dv.errorTitle, dv.showErrorMessage = f"Enter {title}.", "Assumption", True
        sheet.add_data_validation(dv)
    for n, a in enumerate(result.assumptions, start=2):
        (shares if a.name.endswith("_share") else factors).add(f"B{n}")
        _name(book, a.name, ASSUMPTIONS, f"$B${n}")
    return inputs


# ---------------------------------------------------------------------------------------------------------------
# Prices


PRICE_HEADERS = ["price id", "model", "model name", "role", "service tiers", "time of day (UTC)", "request size",
                 "input $/Mtok", "cache read $/Mtok", "cache write 5m $/Mtok", "cache write 1h $/Mtok",
                 "output $/Mtok", "reasoning $/Mtok", "$ per 1000 requests", "source"]  # fmt: skip


def prices_sheet(book: Workbook, sheet: Worksheet, model: CostModel, cells: Cells) -> None:
    rows: list[Row] = [
        [
            p.id,
            p.model,
            p.model_name,
            p.role,
            ", ".join(p.service_tiers),
            p.time_of_day,
            p.request_size,
            *(Input(getattr(p, field), RATE_FORMAT) for field, _ in _PRICE_COLUMNS),
            p.source,
        ]
        for p in model.prices
    ]
    notes = [
        "The list rates the baseline and the scenarios use, per model and price regime at as-of (yellow: inputs; "
        "change a rate and every line priced at it recomputes). Which rows a token is priced at is fixed.",
    ]
    write_table(sheet, PRICE_HEADERS, rows, cells, notes, widths={15: 60})
    last = len(rows) + 1
    _column(book, "price_id", PRICES, "A", last)
    for n, (_, name) in enumerate(_PRICE_COLUMNS):
        _column(book, name, PRICES, chr(ord("H") + n), last)


# ---------------------------------------------------------------------------------------------------------------
# Cost lines

LINE_HEADERS = ["scenario", "source model", "price id", "as served", "batch", "off-peak", "batch + off-peak",
                "requests", "input", "cache read", "cache write 5m", "cache write 1h", "answer (output less reasoning)",
                "reasoning", "token ratio (per model)", "output verbosity (per model)",
                "reasoning verbosity (per model)", "answer native share", "reasoning native share", "token ratio used",
                "output verbosity used", "reasoning verbosity used", "answer native used", "reasoning native used",
                "price row", "variant weight", "cost"]  # fmt: skip


def _priced(n: int, name: str) -> str:
    return f"INDEX({name},Y{n})"


def _pick(value: Decimal | None, default: Decimal) -> Decimal:
    return default if value is None else value


def lines_sheet(book: Workbook, sheet: Worksheet, model: CostModel, inputs: Inputs, cells: Cells) -> None:
    prices = {p.id: p for p in model.prices}
    order = {p.id: i for i, p in enumerate(model.prices, start=1)}
    own = {(s.scenario, s.source_model): s for s in model.source_assumptions}
    rows: list[Row] = []
    lines = [line for line in model.lines if line.scenario != "baseline"]
    for n, line in enumerate(lines, start=2):
        mine = own[(line.scenario, line.source_model)]
        price = prices[line.price]
        r_used = _pick(inputs["token_ratio"], mine.token_ratio)
        a_used = _pick(inputs["output_verbosity"], mine.output_verbosity)
        q_used = _pick(inputs["reasoning_verbosity"], mine.reasoning_verbosity)
        wa = Decimal(0) if inputs["output_verbosity"] is not None else mine.answer_native
        wq = Decimal(0) if inputs["reasoning_verbosity"] is not None else mine.reasoning_native
        tokens_part = (
            f"T{n}*(I{n}*{_priced(n, 'price_input')}+cache_hit_share*J{n}*{_priced(n, 'price_cache_read')}"
            f"+(1-cache_hit_share)*J{n}*{_priced(n, 'price_input')}+K{n}*{_priced(n, 'price_cache_write')}"
            f"+L{n}*{_priced(n, 'price_cache_write_1h')})/1000000"
        )
        output_part = (
            f"U{n}*M{n}*{_priced(n, 'price_output')}/1000000*(W{n}+(1-W{n})*T{n})"
            f"+V{n}*N{n}*{_priced(n, 'price_reasoning')}/1000000*(X{n}+(1-X{n})*T{n})"
        )
        rows.append(
            [
                line.scenario,
                line.source_model,
                line.price,
                *(int(v in line.variants) for v in _VARIANTS),
                line.requests,
                line.input_tokens,
                line.cache_read_tokens,
                line.cache_write_tokens,
                line.cache_write_1h_tokens,
                line.answer_tokens,
                line.reasoning_tokens,
                mine.token_ratio,
                mine.output_verbosity,
                mine.reasoning_verbosity,
                mine.answer_native,
                mine.reasoning_native,
                Formula(f"=IF(ISNUMBER(token_ratio),token_ratio,O{n})", r_used, FACTOR_FORMAT),
                Formula(f"=IF(ISNUMBER(output_verbosity),output_verbosity,P{n})", a_used, FACTOR_FORMAT),
                Formula(f"=IF(ISNUMBER(reasoning_verbosity),reasoning_verbosity,Q{n})", q_used, FACTOR_FORMAT),
                Formula(f"=IF(ISNUMBER(output_verbosity),0,R{n})", wa, FACTOR_FORMAT),
                Formula(f"=IF(ISNUMBER(reasoning_verbosity),0,S{n})", wq, FACTOR_FORMAT),
                Formula(f"=MATCH(C{n},price_id,0)", order[line.price], COUNT_FORMAT),
                Formula(
                    f"=D{n}*(1-batch_share)*(1-offpeak_share)+E{n}*batch_share*(1-offpeak_share)"
                    f"+F{n}*(1-batch_share)*offpeak_share+G{n}*batch_share*offpeak_share",
                    variant_weight(line.variants, inputs),
                    FACTOR_FORMAT,
                ),
                Formula(
                    f"=Z{n}*({tokens_part}+{output_part}+H{n}*{_priced(n, 'price_requests')}/1000)",
                    money(line_cost(line, price, mine, inputs)),
                    RATE_FORMAT,
                ),
            ]
        )
    notes = [
        "One line per scenario, source model and price row: the tokens of the priced workload of that source model "
        "that the candidate prices at that row, under the price variants marked 1 (weights from batch_share and "
        "offpeak_share). The per-model columns are the family defaults (used when the Assumptions input is empty).",
        "cost = weight × (token ratio × (input + cache reads kept × cache-read rate + the rest at the input rate + "
        "cache writes) + verbosity × answer or reasoning × (native share + (1 − native share) × token ratio) + "
        "requests), each class at its rate per million tokens (requests per thousand).",
    ]
    write_table(sheet, LINE_HEADERS, rows, cells, notes, formats=dict.fromkeys(range(15, 20), FACTOR_FORMAT))  # O-S
    last = len(rows) + 1
    _column(book, "line_scenario", LINES, "A", last)
    _column(book, "line_cost", LINES, "AA", last)


BASELINE_HEADERS = ["source model", "price id", "requests", "input", "cache read", "cache write 5m", "cache write 1h",
                    "answer (output less reasoning)", "reasoning", "price row", "cost"]  # fmt: skip


def baseline_sheet(book: Workbook, sheet: Worksheet, model: CostModel, cells: Cells) -> Decimal:
    """The baseline's lines (each source model at its own rates); returns the baseline total."""
    prices = {p.id: p for p in model.prices}
    order = {p.id: i for i, p in enumerate(model.prices, start=1)}
    rows: list[Row] = []
    total = Decimal(0)
    for n, line in enumerate((x for x in model.lines if x.scenario == "baseline"), start=2):
        cost = baseline_cost(line, prices[line.price])
        total += cost
        per_million = "+".join(
            f"{c}{n}*INDEX({name},J{n})"
            for c, name in zip("DEFGHI", [name for _, name in _PRICE_COLUMNS[:6]], strict=True)
        )
        rows.append(
            [
                line.source_model,
                line.price,
                line.requests,
                line.input_tokens,
                line.cache_read_tokens,
                line.cache_write_tokens,
                line.cache_write_1h_tokens,
                line.answer_tokens,
                line.reasoning_tokens,
                Formula(f"=MATCH(B{n},price_id,0)", order[line.price], COUNT_FORMAT),
                Formula(f"=({per_million})/1000000+C{n}*INDEX(price_requests,J{n})/1000", money(cost), RATE_FORMAT),
            ]
        )
    notes = ["The priced workload on its current models at their list rates at as-of: the scenarios' baseline."]
    write_table(sheet, BASELINE_HEADERS, rows, cells, notes)
    _column(book, "baseline_line_cost", BASELINE_LINES, "K", len(rows) + 1)
    return total


# ---------------------------------------------------------------------------------------------------------------
# Scenarios

SCENARIO_HEADERS = ["rank", "candidate", "name", "baseline", "projected", "savings", "savings %", "how computed",
                    "low (fixed)", "high (fixed)", "top driver (fixed)", "kind", "context window", "baseline basis",
                    "projected basis"]  # fmt: skip


def _how(s: Scenario, live_projected: bool) -> str:
    text = _how_projected(s, live_projected)
    return text + ("; baseline fixed at contract prices" if s.baseline_basis == "contract" else "")


def _how_projected(s: Scenario, live_projected: bool) -> str:
    if live_projected:
        return LIVE
    if s.kind == "hybrid":
        return "fixed: the hybrid's routing and cost are the engine's"
    if s.projected_basis == "contract":
        return "fixed: projected at contract prices"
    return "fixed: no cost lines for this scenario"


def scenarios_sheet(
    book: Workbook, sheet: Worksheet, result: AuditResult, cells: Cells, live: bool, baseline_cell: str | None
) -> None:
    """Scenarios ranked as the engine ranks them; the rank, savings and (for single scenarios at list prices) the
    projected cost are formulas."""
    scenarios = ranked_scenarios(result)
    last = len(scenarios) + 1
    have_lines = {line.scenario for line in result.cost_model.lines} if result.cost_model else set()
    rows: list[Row] = []
    for n, (rank, s) in enumerate(enumerate(scenarios, start=1), start=2):
        live_projected = live and s.kind == "single" and s.projected_basis == "list" and s.candidate in have_lines
        # A fixed projected cost keeps its baseline fixed: savings of a live baseline less a fixed cost would mix
        # the edited prices with the engine's.
        live_baseline = live_projected and baseline_cell is not None and s.baseline_basis == "list"
        baseline: Formula | Decimal = s.baseline_cost
        if live_baseline:
            baseline = Formula(f"={BASELINE_NAME}", s.baseline_cost)
        projected: Formula | Decimal = (
            Formula(f"=SUMPRODUCT(EXACT(line_scenario,B{n})*line_cost)", s.projected_cost)
            if live_projected
            else s.projected_cost
        )
        pct = s.savings / s.baseline_cost if s.baseline_cost else None
        rows.append(
            [
                Formula(f"=RANK(F{n},$F$2:$F${last})", rank, COUNT_FORMAT),
                s.candidate,
                s.candidate_name,
                baseline,
                projected,
                Formula(f"=D{n}-E{n}", s.savings),
                Formula(f'=IF(D{n}=0,"",F{n}/D{n})', pct if pct is not None else "", PERCENT_FORMAT),
                _how(s, live_projected),
                s.low_cost,
                s.high_cost,
                top_driver(s, ""),
                s.kind,
                s.context_window,
                s.baseline_basis,
                s.projected_basis,
            ]
        )
    notes = [
        "Live: the baseline (Baseline lines), each single scenario's projected cost at list prices (Scenario lines), "
        "savings, savings % and rank recompute when an Assumptions input or a Prices rate changes.",
        "Fixed (the engine's figures): which price row each token is priced at, the hybrid scenario's routing and "
        "cost, costs at contract prices, the low/high range and the top driver. A row whose projected cost is fixed "
        "keeps its baseline fixed too, so its savings stay the engine's.",
    ]
    write_table(sheet, SCENARIO_HEADERS, rows, cells, notes, widths={8: 40})
    if scenarios:
        chart = BarChart()
        chart.type, chart.style, chart.title = "bar", 10, "Projected cost at as-of prices (live)"
        chart.y_axis.title, chart.y_axis.numFmt = "USD", MONEY_FORMAT
        chart.add_data(Reference(sheet, min_col=5, min_row=1, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=3, min_row=2, max_row=last))
        chart.height, chart.width, chart.legend = max(7.5, 0.6 * len(scenarios)), 18, None
        sheet.add_chart(chart, f"A{last + 6}")


def summary_live_rows(result: AuditResult, baseline_cell: str | None, scenario_count: int) -> list[Row]:
    """Summary rows that recompute: the baseline and the best projected cost and saving."""
    if baseline_cell is None or not result.scenarios:
        return []
    last = scenario_count + 1
    best = min(s.projected_cost for s in result.scenarios)
    most = max(s.savings for s in result.scenarios)
    return [
        ["Lowest projected cost (live)", Formula(f"=MIN('{SCENARIOS}'!$E$2:$E${last})", best, MONEY_FORMAT)],
        ["Largest saving (live)", Formula(f"=MAX('{SCENARIOS}'!$F$2:$F${last})", most, MONEY_FORMAT)],
    ]


def name_baseline(book: Workbook, sheet_title: str, cell: str) -> None:
    _name(book, BASELINE_NAME, sheet_title, cell)


def baseline_formula(total: Decimal) -> Formula:
    return Formula("=SUM(baseline_line_cost)", money(total), MONEY_FORMAT)


__all__: Sequence[str] = (
    "assumptions_sheet",
    "baseline_formula",
    "baseline_sheet",
    "lines_sheet",
    "name_baseline",
    "prices_sheet",
    "scenarios_sheet",
    "summary_live_rows",
)
