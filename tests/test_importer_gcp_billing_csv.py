"""Google Cloud billing export: Vertex AI / Gemini API SKUs audited (credits netted, (Long) tier), the rest skipped."""

from __future__ import annotations

import json
from decimal import Decimal

from tests.conftest import AS_OF, SAMPLES
from tests.conftest import csv_rows as _rows

SAMPLE = SAMPLES / "gcp_billing_csv" / "gcp_billing_export_2026-09.csv"
AI = {"Vertex AI", "Gemini API"}


def test_billed_is_cost_plus_credits_of_the_ai_lines_and_the_rest_is_skipped(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(str(SAMPLE), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    rows = _rows(SAMPLE)
    ai = [r for r in rows if r["service.description"] in AI]
    net = sum(Decimal(r["cost"]) + sum(Decimal(str(c["amount"])) for c in json.loads(r["credits"])) for r in ai)
    assert Decimal(data["totals"]["billed_cost"]) == net
    entry = data["inputs"][0]
    assert entry["skipped_reasons"] == {"not AI usage": len(rows) - len(ai)}


def test_sku_descriptions_give_model_class_and_long_context_tier(run_cli) -> None:  # type: ignore[no-untyped-def]
    data = run_cli(str(SAMPLE), "--as-of", AS_OF.isoformat(), "--json", "-").json()
    usage = {u["model_raw"]: u for u in data["usage"]}
    flash = usage["gemini-2.5-flash"]
    # Text input, cached input, output + thinking output (thinking is reasoning, inside output), batch output.
    assert (flash["input_tokens"], flash["cache_read_tokens"], flash["output_tokens"], flash["reasoning_tokens"]) == (
        1_200_000, 800_000, 400_000, 200_000,
    )  # fmt: skip
    pro = usage["gemini-2.5-pro"]
    # (Long) SKUs are the > 200k tier: 500k at 1.25 + 500k at 2.50 + 10k output at 15.00 per million.
    assert Decimal(pro["list_cost"]) == Decimal("0.625") + Decimal("1.25") + Decimal("0.15")
    # Cache storage (per hour) and tax are money only: not unpriced usage.
    assert data["totals"]["unpriced_models"] == 0
