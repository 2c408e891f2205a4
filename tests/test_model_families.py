"""Per-model-family defaults of token_ratio and the verbosities (pricing/data/model_families.toml).

Expected figures are typed from the reference note "Quality, verbosity, tokenizer efficiency and speed — reference
data for re-pricing" (compiled 2026-11-28), section 5, and priced with genai_prices.calc_price.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

from genai_prices import Usage, calc_price

from auditor.families import family_of
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.result import AuditResult
from tests.conftest import AS_OF, SAMPLES

OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
SOURCE = "openai/gpt-4.1-2025-04-14"
SONNET = "anthropic:claude-sonnet-4-5"
NANO = Decimal("0.000000001")
# §5.1 English prose vs o200k: Claude "v3" (Sonnet 4.5) 1.05 / 1.09 / 1.20; o200k (GPT-4.1) 1.00 / 1.00 / 1.00.
TOKEN_RATIO = Decimal("1.09") / Decimal("1.00")
# §5.2 non-reasoning classes (the GPT-4.1 rows have no reasoning tokens): Claude 1.8 / 2.1 / 3.6, OpenAI 0.6 / 1.0 / 1.1
VERBOSITY = Decimal("2.1") / Decimal("1.0")


def _gpt41_rows(tmp_path: Path) -> tuple[Path, int, int]:
    """The OpenRouter sample's GPT-4.1 lines, byte for byte, with their prompt and completion tokens summed."""
    lines = OPENROUTER.read_bytes().splitlines(keepends=True)
    with OPENROUTER.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    keep = [r["model_permaslug"] == SOURCE for r in rows]
    mine = [r for r, k in zip(rows, keep, strict=True) if k]
    assert mine and all(r["tokens_reasoning"] == "0" and r["tokens_cached"] == "0" for r in mine)
    path = tmp_path / "gpt41.csv"
    path.write_bytes(lines[0] + b"".join(line for line, k in zip(lines[1:], keep, strict=True) if k))
    return path, sum(int(r["tokens_prompt"]) for r in mine), sum(int(r["tokens_completion"]) for r in mine)


def _audit(path: Path, *assume: str, to: tuple[str, ...]) -> AuditResult:
    return run_audit(AuditOptions(inputs=(path,), as_of=AS_OF, candidates=to, assume=assume))


def _per_token(ref: str, usage: Usage) -> Decimal:
    provider, model = ref.split(":", 1)
    return calc_price(usage, model, provider_id=provider).total_price / 100_000  # type: ignore[arg-type]


def test_gpt41_on_sonnet_45_scales_input_by_the_tokenizer_and_output_by_the_verbosity_class(tmp_path: Path) -> None:
    path, prompt, completion = _gpt41_rows(tmp_path)
    result = _audit(path, to=(SONNET,))
    (scenario,) = [s for s in result.scenarios if s.kind == "single"]
    used = {a.name: a for a in scenario.assumption_values}
    assert Decimal(str(used["token_ratio"].value)) == TOKEN_RATIO
    assert (used["token_ratio"].low, used["token_ratio"].high) == (1.05, 1.20)  # 1.05/1.00, 1.20/1.00
    assert Decimal(str(used["output_verbosity"].value)) == VERBOSITY
    assert used["output_verbosity"].low == round(1.8 / 1.1, 4) and used["output_verbosity"].high == 3.6 / 0.6
    assert "model family" in used["token_ratio"].source
    # Every request is under Sonnet 4.5's 200k long-context threshold: one price per token class.
    p_in = _per_token(SONNET, Usage(input_tokens=100_000))
    p_out = _per_token(SONNET, Usage(output_tokens=100_000))
    # AA verbosity counts native tokens: the tokenizer ratio applies to input only (reference note §5.0).
    expected = TOKEN_RATIO * prompt * p_in + VERBOSITY * completion * p_out
    assert scenario.projected_cost == expected.quantize(NANO)
    assert scenario.low_cost is not None and scenario.high_cost is not None
    assert scenario.low_cost < scenario.projected_cost < scenario.high_cost
    # The observed tokens priced unchanged are cheaper: the defaults moved the projection.
    neutral = next(s for s in _audit(path, "neutral", to=(SONNET,)).scenarios if s.kind == "single")
    assert neutral.projected_cost == (prompt * p_in + completion * p_out).quantize(NANO)
    assert any("Families of the candidates" in n and "Claude v3" in n for n in result.notes)


def test_assume_token_ratio_wins_and_still_spares_the_class_based_output(tmp_path: Path) -> None:
    path, prompt, completion = _gpt41_rows(tmp_path)
    result = _audit(path, "token_ratio=1.2", to=(SONNET,))
    (scenario,) = [s for s in result.scenarios if s.kind == "single"]
    p_in = _per_token(SONNET, Usage(input_tokens=100_000))
    p_out = _per_token(SONNET, Usage(output_tokens=100_000))
    expected = Decimal("1.2") * prompt * p_in + VERBOSITY * completion * p_out
    assert scenario.projected_cost == expected.quantize(NANO)


def test_same_family_is_one_and_an_unmatched_candidate_keeps_the_global_default(tmp_path: Path) -> None:
    path, _prompt, _completion = _gpt41_rows(tmp_path)
    unmatched = "anthropic:claude-2"
    assert family_of(unmatched, "tokenizer") is None and family_of(unmatched, "verbosity") is None
    result = _audit(path, to=("openai:gpt-5-mini", unmatched))
    glob = {a.name: a for a in result.assumptions}
    by_ref = {s.candidate: {a.name: a for a in s.assumption_values} for s in result.scenarios if s.kind == "single"}
    same = by_ref["openai:gpt-5-mini"]["token_ratio"]
    assert (same.value, same.low, same.high) == (1.0, 1.0, 1.0)  # both o200k: the same tokenizer
    for name in ("token_ratio", "output_verbosity", "reasoning_verbosity"):
        mine = by_ref[unmatched][name]
        assert (mine.value, mine.low, mine.high, mine.source) == (
            glob[name].value,
            glob[name].low,
            glob[name].high,
            glob[name].source,
        )
    assert any(f"{unmatched}: tokenizer no family (global default)" in n for n in result.notes)


def test_family_rules_follow_the_reference_mapping() -> None:
    expect = {
        "openai:gpt-4.1": ("o200k", "OpenAI"),
        "openrouter:openai/gpt-4.1": ("o200k", "OpenAI"),
        "anthropic:claude-sonnet-4-5": ("Claude v3", "Anthropic Claude"),
        "anthropic:claude-opus-4-7": ("Claude v4.7", "Anthropic Claude"),
        "aws:global.anthropic.claude-sonnet-4-5-20250929-v1:0": ("Claude v3", "Anthropic Claude"),
        "google:gemini-2.5-pro": ("Gemini (Gemma 3 vocabulary)", "Google Gemini"),
        "together:Qwen/Qwen3.7-Plus": ("Qwen3.5/3.6", "Qwen"),
        "deepseek:deepseek-v4-pro": ("DeepSeek", "DeepSeek"),
    }
    for ref, (tokenizer, verbosity) in expect.items():
        tok, verb = family_of(ref, "tokenizer"), family_of(ref, "verbosity")
        assert (tok and tok.name, verb and verb.name) == (tokenizer, verbosity), ref
