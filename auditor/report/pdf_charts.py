"""Charts of the PDF report, drawn with reportlab.graphics: spend by month and provider (stacked bars), shares,
and the scenarios' savings against their risk level with low / base / high ranges.

Amounts are converted to float for drawing only; every figure a chart shows is also in a table. Labels are
data drawn as plain strings (never markup); a label wider than its room is shortened with "…" (tables give
the full names).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Circle, Drawing, Group, Line, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics

from auditor.hybrid import short_name
from auditor.report.formatting import clean_text, money
from auditor.report.pdf_fonts import FALLBACK, FONT, FONT_BOLD, drawable, runs, text_width, visual
from auditor.report.pdf_layout import INK, LEVEL_COLOURS, LEVEL_TEXT, level_of
from auditor.report.pdf_tables import GREY, RULE
from auditor.result import AuditResult, Scenario

# Series colours (colour-blind safe, Okabe-Ito order), then grey for "other".
PALETTE = [colors.HexColor(c) for c in ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")]
OTHER = colors.HexColor("#9e9e9e")


def _drawing(width: float, height: float) -> Drawing:
    """A drawing whose renderer starts in the bundled font (no Helvetica in the PDF)."""
    drawing = Drawing(width, height)
    drawing.initialFontName = FONT
    return drawing


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """`text` shortened with "…" to fit `width` points (a chart label; tables show it whole); characters the fonts
    cannot draw shown as their code points, as in the tables."""
    text = " ".join(drawable(clean_text(text)).split())
    if text_width(text, font, size) <= width:
        return text
    while text and text_width(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def label(x: float, y: float, text: str, width: float, size: float = 6.5) -> Group:
    """A chart's data label at (x, y), fitted to `width` points (`fit_text`): a string per run of one font, so
    Chinese, Japanese and Korean are drawn in the fallback font beside the rest."""
    group = Group()
    for part, in_fallback in runs(visual(fit_text(text, FONT, size, width))):
        font = FALLBACK if in_fallback else FONT
        group.add(String(x, y, part, fontName=font, fontSize=size))
        x += pdfmetrics.stringWidth(part, font, size)
    return group


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering low..high (0 included)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high - low <= 0:
        return [0.0, 1.0]
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = [start]
    while ticks[-1] < high - 1e-9:
        ticks.append(ticks[-1] + step)
    return ticks


def axis_money(value: float) -> str:
    """A tick label: `$1.2k`, `$350`, `-$20`."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1_000_000:
        return f"{sign}${value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{sign}${value / 1_000:g}k"
    return f"{sign}${value:g}"


def provider_colours(result: AuditResult) -> dict[str, colors.Color]:
    """One colour per provider in every chart: the providers with the most list (else billed) cost first;
    beyond the palette, grey."""
    amounts: dict[str, Decimal] = {}
    for u in result.usage:
        amounts[u.provider] = amounts.get(u.provider, Decimal(0)) + (u.list_cost or u.billed_cost or Decimal(0))
    ranked = sorted(amounts, key=lambda name: (-amounts[name], name))
    return {name: PALETTE[i] if i < len(PALETTE) else OTHER for i, name in enumerate(ranked)}


def colour_of(colours: dict[str, colors.Color], name: str) -> colors.Color:
    return colours.get(name, OTHER)


def month_range(months: Sequence[str]) -> list[str]:
    """Every calendar month from the first to the last of `months` (YYYY-MM), gaps filled."""
    if not months:
        return []
    year, month = map(int, min(months).split("-"))
    last = max(months)
    out = []
    while (current := f"{year:04d}-{month:02d}") <= last:
        out.append(current)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def month_provider_data(result: AuditResult, basis: str) -> tuple[list[str], list[str], list[list[float]]]:
    """Months (gaps filled), series names (the providers with a colour of their own, then "other") and values
    per series and month. basis "list": list cost of priced usage; "billed": billed cost where stated."""
    months = month_range([m.month for m in result.usage_by_month])
    colours = provider_colours(result)
    cells: dict[tuple[str, str], Decimal] = {}
    for m in result.usage_by_month:
        value = m.list_cost if basis == "list" else m.billed_cost
        if value is None:
            continue
        name = m.provider if colour_of(colours, m.provider) is not OTHER else "other"
        cells[(name, m.month)] = cells.get((name, m.month), Decimal(0)) + value
    named = [p for p in colours if colours[p] is not OTHER and any(k[0] == p for k in cells)]
    series = named + (["other"] if any(k[0] == "other" for k in cells) else [])
    values = [[float(cells.get((name, month), Decimal(0))) for month in months] for name in series]
    return months, series, values


def stacked_month_chart(result: AuditResult, basis: str, width: float, height: float, title: str) -> Drawing:
    """Stacked bars: one bar per month, one segment per provider, with a legend on the right."""
    months, series, values = month_provider_data(result, basis)
    drawing = _drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName=FONT_BOLD, fontSize=8.5, fillColor=INK))
    if not months or not values or not any(any(v) for v in values):
        drawing.add(String(0, height / 2, "no amounts to chart", fontName=FONT, fontSize=8, fillColor=GREY))
        return drawing
    legend_w = 92.0
    chart = VerticalBarChart()
    chart.x, chart.y = 34, 28
    chart.width, chart.height = width - legend_w - chart.x - 6, height - 48
    chart.data = values
    chart.categoryAxis.categoryNames = [m[2:] for m in months]  # YY-MM
    chart.categoryAxis.style = "stacked"
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 90 if len(months) > 8 else 0
    chart.categoryAxis.labels.boxAnchor = "e" if len(months) > 8 else "n"
    chart.categoryAxis.labels.dy = -2
    stack_top = max(sum(col) for col in zip(*values, strict=True))
    ticks = nice_ticks(0.0, stack_top, 4)
    chart.valueAxis.valueMin, chart.valueAxis.valueMax = ticks[0], ticks[-1]
    chart.valueAxis.valueSteps = ticks
    chart.valueAxis.labelTextFormat = axis_money
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = RULE
    chart.valueAxis.gridStrokeWidth = 0.3
    chart.barSpacing = 0
    chart.groupSpacing = 3
    chart.bars.strokeWidth = 0
    colours = provider_colours(result)
    for i, name in enumerate(series):
        chart.bars[i].fillColor = colour_of(colours, name)
    drawing.add(chart)
    _legend(drawing, series, colours, width - legend_w + 4, height - 24, legend_w - 6)
    return drawing


def _legend(
    drawing: Drawing, series: Sequence[str], colours: dict[str, colors.Color], x: float, top: float, width: float
) -> None:
    for i, name in enumerate(series):
        y = top - i * 11
        colour = colour_of(colours, name)
        drawing.add(Rect(x, y, 7, 7, fillColor=colour, strokeWidth=0))
        drawing.add(label(x + 10, y + 0.5, name, width - 10))


def share_chart(
    title: str, shares: Sequence[tuple[str, Decimal]], width: float, colours: dict[str, colors.Color] | None = None
) -> Drawing:
    """Horizontal bars: each name's amount and its share of the total (in the order given)."""
    rows = [(name, amount) for name, amount in shares if amount > 0]
    total = sum((amount for _, amount in rows), Decimal(0))
    row_h, label_w, value_w = 11.0, width * 0.34, 78.0
    height = 16 + row_h * max(len(rows), 1)
    drawing = _drawing(width, height)
    drawing.add(String(0, height - 10, title, fontName=FONT_BOLD, fontSize=8.5, fillColor=INK))
    if not rows or total <= 0:
        drawing.add(String(0, height - 24, "no amounts to chart", fontName=FONT, fontSize=8, fillColor=GREY))
        return drawing
    bar_w = width - label_w - value_w - 8
    largest = max(amount for _, amount in rows)
    for i, (name, amount) in enumerate(rows):
        y = height - 16 - row_h * (i + 1) + 2
        drawing.add(label(0, y + 1, name, label_w - 4))
        length = bar_w * float(amount / largest)
        colour = colour_of(colours, name) if colours is not None else PALETTE[i % len(PALETTE)]
        drawing.add(Rect(label_w, y, max(length, 0.5), 7, fillColor=colour, strokeWidth=0))
        text = f"{money(amount)} ({float(amount / total) * 100:.1f}%)"
        drawing.add(String(label_w + length + 3, y + 1, text, fontName=FONT, fontSize=6.5, fillColor=INK))
    return drawing


def top_shares(amounts: dict[str, Decimal], keep: int) -> list[tuple[str, Decimal]]:
    """The `keep` largest amounts by name, then the rest summed as "other"."""
    ranked = sorted(amounts.items(), key=lambda kv: (-kv[1], kv[0]))
    head = ranked[:keep]
    rest = sum((amount for _, amount in ranked[keep:]), Decimal(0))
    return [*head, *([(f"other ({len(ranked) - keep})", rest)] if rest > 0 else [])]


_LANES = ("blocked", "red", "amber", "green", "none")


def savings_range(s: Scenario) -> tuple[Decimal, Decimal] | None:
    """The scenario's savings at the high-cost and low-cost ends of its assumptions' ranges."""
    if s.low_cost is None or s.high_cost is None:
        return None
    return s.baseline_cost - s.high_cost, s.baseline_cost - s.low_cost


def savings_risk_chart(ranked: Sequence[Scenario], width: float) -> Drawing:
    """Each scenario's savings (dot: base; line: low..high) in lanes by risk level, numbered as in the table."""
    rank = {id(s): i for i, s in enumerate(ranked, start=1)}
    lanes = [(lane, [s for s in ranked if level_of(s.risk.level if s.risk else None) == lane]) for lane in _LANES]
    lanes = [(lane, items) for lane, items in lanes if items]
    row_h, lane_gap, label_w, top_pad, bottom_pad = 10.0, 6.0, 150.0, 20.0, 26.0
    rows = sum(len(items) for _, items in lanes)
    height = top_pad + bottom_pad + rows * row_h + lane_gap * max(len(lanes) - 1, 0)
    drawing = _drawing(width, height)
    title = "Savings against risk level: dot base case, line low – high"
    drawing.add(String(0, height - 10, title, fontName=FONT_BOLD, fontSize=8.5, fillColor=INK))
    if not ranked:
        return drawing
    values = [float(s.savings) for s in ranked]
    for s in ranked:
        span = savings_range(s)
        if span is not None:
            values += [float(span[0]), float(span[1])]
    ticks = nice_ticks(min(values), max(values), 6)
    x0, x1 = label_w, width - 8
    lo, hi = ticks[0], ticks[-1]

    def x_of(value: float) -> float:
        return x0 + (value - lo) / (hi - lo) * (x1 - x0)

    plot_top, plot_bottom = height - top_pad, bottom_pad
    for tick in ticks:
        x = x_of(tick)
        drawing.add(Line(x, plot_bottom, x, plot_top, strokeColor=RULE, strokeWidth=0.3))
        drawing.add(String(x, plot_bottom - 10, axis_money(tick), fontName=FONT, fontSize=6, textAnchor="middle"))
    drawing.add(Line(x_of(0), plot_bottom, x_of(0), plot_top, strokeColor=INK, strokeWidth=0.8))
    drawing.add(
        String(
            (x0 + x1) / 2,
            2,
            "savings over the audited period (negative: costs more)",
            fontName=FONT,
            fontSize=6.5,
            fillColor=GREY,
            textAnchor="middle",
        )
    )
    y = plot_top
    for lane, items in lanes:
        colour = LEVEL_COLOURS[lane]
        lane_top = y
        for s in items:
            y -= row_h
            mid = y + row_h / 2
            # A hybrid's name counts its segments and candidates, which the table gives: the lane's label says what
            # it routes by ("Route by project (32 segments, 2 c…" was cut).
            name = short_name(s)
            drawing.add(label(12, mid - 2.2, f"{rank[id(s)]}. {name}", label_w - 18))
            span = savings_range(s)
            if span is not None:
                drawing.add(
                    Line(x_of(float(span[0])), mid, x_of(float(span[1])), mid, strokeColor=colour, strokeWidth=1.6)
                )
            drawing.add(
                Circle(x_of(float(s.savings)), mid, 2.6, fillColor=colour, strokeColor=colors.white, strokeWidth=0.5)
            )
        drawing.add(Rect(0, y + 1, 7, lane_top - y - 2, fillColor=colour, strokeWidth=0))
        drawing.add(
            String(
                3.5,
                (y + lane_top) / 2,
                LEVEL_TEXT[lane][0],
                fontName=FONT_BOLD,
                fontSize=6,
                fillColor=colors.white,
                textAnchor="middle",
            )
        )
        y -= lane_gap
    return drawing
