"""Bucketed exports: list cost within 0.5% of genai-prices applied per average request / at the label's tier."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from tests.conftest import AS_OF, SAMPLES
from tests.conftest import csv_rows as _rows


def _n(value: str) -> int:
    return int(float(value)) if value.strip() else 0


def _close(actual: Decimal | None, expected: Decimal) -> bool:
    assert actual is not None
    return abs(actual - expected) <= expected * Decimal("0.005")


@pytest.mark.parametrize("path", sorted((SAMPLES / "openai_usage_csv").glob("*.csv")), ids=lambda p: p.name)
def test_openai_usage_export_priced_per_average_request(path: Path) -> None:
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    expected: dict[str, Decimal] = {}
    for row in _rows(path):
        requests = _n(row["num_model_requests"])
        if not row["model"] or row["model"].startswith("ft:") or not requests:
            continue
        per_request = Usage(
            input_tokens=Decimal(_n(row["input_tokens"])) / requests,
            cache_read_tokens=Decimal(_n(row["input_cached_tokens"])) / requests,
            output_tokens=Decimal(_n(row["output_tokens"])) / requests,
        )
        at = datetime.fromtimestamp(int(row["start_time"]), UTC)
        context = {"processing": "batch"} if row["batch"] == "True" else None
        if row["service_tier"] in ("flex", "priority"):
            context = {"service_tier": row["service_tier"]}
        if context == {"processing": "batch"} and at < datetime(2026, 10, 14, tzinfo=UTC):
            # Batch before the catalog's batch prices: 50% since the Batch API launched (price overlay
            # `openai-batch-since-launch`); these models' standard prices did not change in between, so that is
            # the catalog's batch price of 2026-10-14.
            at = datetime(2026, 10, 14, tzinfo=UTC)
        price = calc_price(
            per_request, row["model"], provider_id="openai", genai_request_timestamp=at, price_context=context
        )
        expected[row["model"]] = expected.get(row["model"], Decimal(0)) + price.total_price * requests
    by_model = {u.model_raw: u.list_cost for u in result.usage}
    for model, cost in expected.items():
        assert _close(by_model[model], cost), (model, by_model[model], cost)


@pytest.mark.parametrize("path", sorted((SAMPLES / "anthropic_usage_csv").glob("*.csv")), ids=lambda p: p.name)
def test_anthropic_usage_export_priced_at_context_window_tier(path: Path) -> None:
    """Each row is split into requests that sit in its label's band (≤ 200k or > 200k) and priced one by one."""
    result = run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    expected: dict[str, Decimal] = {}
    for row in _rows(path):
        parts = {
            k: _n(row.get(k, ""))
            for k in (
                "usage_input_tokens_no_cache",
                "usage_input_tokens_cache_write_5m",
                "usage_input_tokens_cache_write_1h",
                "usage_input_tokens_cache_read",
                "usage_output_tokens",
            )
        }
        # The older export's single cache-write column holds 5-minute writes.
        parts["usage_input_tokens_cache_write_5m"] += _n(row.get("usage_input_tokens_cache_write", ""))
        total_input = sum(v for k, v in parts.items() if k != "usage_output_tokens")
        # Requests of ~150k (≤ 200k label) or ~250k (> 200k label) input tokens each.
        size = 250_000 if row["context_window"] == "> 200k" else 150_000
        n = max(1, total_input // size)
        writes = parts["usage_input_tokens_cache_write_5m"] + parts["usage_input_tokens_cache_write_1h"]
        usage = Usage(
            input_tokens=Decimal(total_input) / n,
            cache_read_tokens=Decimal(parts["usage_input_tokens_cache_read"]) / n,
            cache_write_tokens=Decimal(writes) / n,
            cache_write_5m_tokens=Decimal(parts["usage_input_tokens_cache_write_5m"]) / n,
            cache_write_1h_tokens=Decimal(parts["usage_input_tokens_cache_write_1h"]) / n,
            output_tokens=Decimal(parts["usage_output_tokens"]) / n,
        )
        at = datetime.fromisoformat(row["usage_date_utc"]).replace(hour=12, tzinfo=UTC)
        context = {"processing": "batch"} if row["usage_type"] == "batch" else None
        price = calc_price(
            usage,
            row["model_version"],
            provider_id="anthropic",
            genai_request_timestamp=at,
            price_context=context,
        )
        model = row["model_version"]
        total = price.total_price
        if context and at < datetime(2026, 10, 14, tzinfo=UTC):
            # Message Batches before the catalog's batch prices: 50% of every class since the 2024-10-08 launch
            # (price overlay `anthropic-batch-since-launch`).
            total /= 2
        expected[model] = expected.get(model, Decimal(0)) + total * n
    by_model = {u.model_raw: u.list_cost for u in result.usage}
    for model, cost in expected.items():
        assert _close(by_model[model], cost), (model, by_model[model], cost)


def test_openrouter_billed_total_is_the_sum_of_cost_total() -> None:
    folder = SAMPLES / "openrouter_logs_csv"
    result = run_audit(AuditOptions(inputs=(folder,), as_of=AS_OF, candidates=("openai:gpt-5-mini",)))
    rows = [r for path in sorted(folder.glob("*.csv")) for r in _rows(path)]
    assert result.totals.billed_cost == sum((Decimal(r["cost_total"]) for r in rows), Decimal(0))
