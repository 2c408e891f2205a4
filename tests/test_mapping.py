"""A user's own format, described by a mapping file: the same ledger semantics as a built-in importer."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from genai_prices import Usage, calc_price

from tests.conftest import AS_OF

LOG = """ts,team,vendor,llm,calls,prompt_tokens,cached_tokens,completion_tokens,reasoning,cost,cur
2026-10-05T09:00:00Z,search,openai,gpt-4o-mini-2024-07-18,10,120000,20000,8000,0,0.0240,USD
2026-10-05T10:30:00Z,search,anthropic,claude-haiku-4-5-20251001,4,50000,0,2000,0,0.0600,USD
2026-10-06T11:00:00Z,support,openai,gpt-4o-mini-2024-07-18,2,9000,0,1000,0,0.0020,EUR
2026-10-06T12:00:00Z,support,openai,our-private-model,1,100,0,10,0,0.0001,USD
2026-10-06T13:00:00Z,support,openai,gpt-4o-mini-2024-07-18,1,lots,0,10,0,0.0001,USD
"""
MAPPING = """
[source]
name = "acme_gateway"
provider_column = "vendor"
model_column = "llm"
time_column = "ts"
project_column = "team"
requests_column = "calls"

[tokens]
input = "prompt_tokens"
input_includes_cached = true
cached = "cached_tokens"
output = "completion_tokens"
reasoning = "reasoning"

[cost]
column = "cost"
currency_column = "cur"
"""


def _files(tmp_path: Path, mapping: str = MAPPING) -> tuple[Path, Path]:
    log, spec = tmp_path / "gateway.csv", tmp_path / "mapping.toml"
    log.write_text(LOG, encoding="utf-8")
    spec.write_text(mapping, encoding="utf-8")
    return log, spec


def test_an_in_house_log_is_audited_through_its_mapping(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log, spec = _files(tmp_path)
    result = run_cli(str(log), "--map", str(spec), "--fx", "EUR=1.08", "--as-of", AS_OF.isoformat(), "--json", "-")
    assert result.status == 0, result.err
    data = result.json()
    entry = data["inputs"][0]
    assert entry["format"] == "map:acme_gateway"
    assert (entry["rows_read"], entry["rows_used"], entry["rows_rejected"]) == (5, 4, 1)
    assert entry["rejected"] == [
        {"line": 6, "where": "", "column": "prompt_tokens", "reason": "'lots' is not a number"}
    ]
    usage = {(u["provider"], u["model_raw"]): u for u in data["usage"]}
    mini = usage[("openai", "gpt-4o-mini-2024-07-18")]
    # Input includes cached tokens in this source: the ledger's input does not.
    assert (mini["requests"], mini["input_tokens"], mini["cache_read_tokens"]) == (12, 109000, 20000)
    assert usage[("openai", "our-private-model")]["list_cost"] is None
    assert Decimal(data["totals"]["billed_cost"]) == Decimal("0.0240") + Decimal("0.0600") + Decimal(
        "0.0020"
    ) * Decimal("1.08") + Decimal("0.0001")
    haiku = usage[("anthropic", "claude-haiku-4-5-20251001")]
    per_request = Usage(input_tokens=Decimal(50000) / 4, output_tokens=Decimal(2000) / 4)
    expected = calc_price(per_request, "claude-haiku-4-5", provider_id="anthropic").total_price * 4
    assert Decimal(haiku["list_cost"]) == expected.quantize(Decimal("1e-9"))


def test_a_mapping_missing_a_column_name_says_which(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    log, spec = _files(tmp_path, MAPPING.replace('model_column = "llm"\n', ""))
    result = run_cli(str(log), "--map", str(spec), "--json", "-")
    assert result.status == 2
    assert "source.model_column is missing" in result.err.splitlines()[0]
