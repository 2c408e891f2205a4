"""Endpoint profiles: every fact is sourced and dated or unknown, and every default candidate has a profile."""

from __future__ import annotations

import tomllib
from importlib.resources import files

import pytest
from pydantic import ValidationError

from pricing.catalog import default_candidates
from pricing.endpoints import endpoint_book, parse_endpoints

FACTS = (
    "jurisdiction", "contracting_entity", "processing", "retention", "zdr", "training", "certifications",
    "dpa", "sccs", "baa", "pci", "eu_residency", "us_residency", "restrictions",
)  # fmt: skip


def _raw() -> dict:
    return tomllib.loads(files("pricing").joinpath("data/endpoints.toml").read_text(encoding="utf-8"))


def test_every_fact_has_a_source_and_checked_date_or_is_unknown() -> None:
    raw = _raw()
    for entry in raw["endpoint"]:
        for name in FACTS:
            fact = entry[name]
            if fact["value"] == "unknown":
                continue
            assert fact.get("source"), (entry["id"], name)
            assert str(fact.get("checked", "")) >= "2025-01-01", (entry["id"], name)
    for dev in raw["developer"]:
        assert dev["nationality"]["value"] == "unknown" or dev["nationality"].get("source")


def test_every_default_candidate_has_an_endpoint_and_a_developer() -> None:
    book = endpoint_book()
    for candidate in default_candidates():
        provider, model = candidate.ref.split(":", 1)
        assert book.for_model(provider, model) is not None, candidate.ref
        assert book.developer_of(model) is not None, candidate.ref


def test_the_same_weights_have_different_endpoints_by_host() -> None:
    book = endpoint_book()
    first_party = book.for_model("deepseek", "deepseek-flash")
    together = book.for_model("together", "deepseek-ai/DeepSeek-V4.1-Flash")
    fireworks_us = book.for_model("fireworks", "deepseek-v4p1-flash-us")
    assert first_party is not None and together is not None and fireworks_us is not None
    # The compliance note: DeepSeek stores in the PRC; Together runs the weights in its North-American centres.
    assert first_party.processing.value == "PRC" and first_party.inference_in_prc() == "yes"
    assert together.processing.value == "US" and together.inference_in_prc() == "no"
    assert fireworks_us.id == "fireworks-us" and fireworks_us.processing.value == "US"
    # The developer follows the weights.
    assert book.developer_of("deepseek-ai/DeepSeek-V4.1-Flash") == book.developer_of("deepseek-flash")


def test_a_fact_without_source_is_rejected() -> None:
    text = files("pricing").joinpath("data/endpoints.toml").read_text(encoding="utf-8")
    line = (
        'baa = { value = "no", detail = "DeepSeek has no BAA", '
        'source = "infercheck.eu/en/provider/deepseek; aiprovidertrust.com/offerings/deepseek-api", '
    )
    bare = 'baa = { value = "no", detail = "DeepSeek has no BAA" }'
    broken = text.replace(line + 'checked = "2026-11-28" }', bare, 1)
    assert broken != text
    with pytest.raises(ValidationError, match="needs a source"):
        parse_endpoints(broken)


def test_an_unknown_value_word_is_rejected() -> None:
    text = files("pricing").joinpath("data/endpoints.toml").read_text(encoding="utf-8")
    broken = text.replace('baa = { value = "no", detail = "DeepSeek has no BAA"', 'baa = { value = "maybe"', 1)
    with pytest.raises(ValidationError, match="baa"):
        parse_endpoints(broken)


def test_zhipu_china_platform_is_not_the_international_one() -> None:
    book = endpoint_book()
    china = book.for_model("zhipuai", "glm-4.6")
    international = book.for_model("zai", "GLM-5.3")
    assert china is not None and international is not None
    # The compliance note: z.ai processes generally in Singapore; bigmodel.cn in the PRC.
    assert (china.processing.value, international.processing.value) == ("PRC", "SG")
