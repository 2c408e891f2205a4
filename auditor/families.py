"""Per-model defaults of the migration assumptions: tokenizer families and verbosity classes.

`pricing/data/model_families.toml` names tokenizer families (tokens per o200k token for English prose, low/base/high)
and verbosity classes (Artificial Analysis output-token multipliers, reasoning-enabled and non-reasoning,
low/base/high), and which catalog models belong to each (first matching model-id glob). For one candidate and the
workload's source models (the catalog models it ran on), the defaults of three assumptions become:

- `token_ratio` = Σ over source models of w·R(candidate)/R(source), w = the source's share of the input tokens
  (input, cache reads and writes); low = R_low(candidate)/R_high(source), high = R_high(candidate)/R_low(source).
  Same family: exactly 1 (the same tokenizer). A source or candidate in no family contributes the global default.
- `output_verbosity` (answer tokens) and `reasoning_verbosity` (reasoning tokens) = Σ over source models of
  w·V, w = the source's share of that part's tokens, V = class(candidate)/class(source) with low = low/high and
  high = high/low as above. A source model with reasoning tokens is reasoning-enabled traffic: its answer and its
  reasoning both take the reasoning class (AA's total-output multiplier); a source without reasoning tokens takes
  the non-reasoning class. The same model on both sides: exactly 1. No class on either side: the global default.
- AA counts tokens in each model's own tokenizer, so a class-based V already holds the tokenizer difference of the
  output (reference note §5.0): token_ratio then scales input and cache only. The share of a part's candidate-side
  tokens that comes from class-based V is that part's `native` share (`CostParts.answer_native`,
  `CostParts.reasoning_native`); the rest of the part is scaled by token_ratio as before.

An assumption set with `--assume NAME=VALUE` (or `--assume neutral`) is not replaced: the flag wins for every
candidate, and a fixed verbosity is "beyond the tokenizer" (native share 0).
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cache, lru_cache
from importlib.resources import files

import pandas as pd

from auditor.assumptions import Assumption

FAMILY_DRIVEN = ("token_ratio", "output_verbosity", "reasoning_verbosity")
Triple = tuple[Decimal, Decimal, Decimal]
ONE: Triple = (Decimal(1), Decimal(1), Decimal(1))
PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class Family:
    """A tokenizer family or verbosity class: its low/base/high triples by kind, match globs and source."""

    name: str
    triples: dict[str, Triple]  # "english" for a tokenizer; "reasoning" / "non_reasoning" for a verbosity class
    match: tuple[str, ...]
    providers: tuple[str, ...]
    assumed: tuple[str, ...]
    source: str

    def matches(self, provider: str, model_id: str) -> bool:
        mid = model_id.lower()
        in_provider = not self.providers or provider in self.providers
        return in_provider and any(fnmatch.fnmatchcase(mid, p) for p in self.match)

    def is_assumed(self, model_id: str) -> bool:
        return any(fnmatch.fnmatchcase(model_id.lower(), p) for p in self.assumed)


def _triple(values: Sequence[float]) -> Triple:
    low, base, high = (Decimal(str(v)) for v in values)
    assert 0 < low <= base <= high
    return low, base, high


@cache
def _families(kind: str) -> tuple[Family, ...]:
    raw = tomllib.loads(files("pricing").joinpath("data/model_families.toml").read_text(encoding="utf-8"))
    keys = ("english",) if kind == "tokenizer" else ("reasoning", "non_reasoning")
    return tuple(
        Family(
            name=e["name"],
            triples={k: _triple(e[k]) for k in keys if k in e},
            match=tuple(p.lower() for p in e["match"]),
            providers=tuple(e.get("provider", ())),
            assumed=tuple(p.lower() for p in e.get("assumed", ())),
            source=f"{e['source']} (checked {e['checked']})",
        )
        for e in raw[kind]
    )


def tokenizer_families() -> tuple[Family, ...]:
    return _families("tokenizer")


def verbosity_classes() -> tuple[Family, ...]:
    return _families("verbosity")


@cache
def family_of(ref: str, kind: str) -> Family | None:
    """The tokenizer family (`kind` "tokenizer") or verbosity class ("verbosity") of a `provider:model` ref."""
    provider, _, model_id = ref.partition(":")
    return next((f for f in _families(kind) if f.matches(provider, model_id)), None)


def _label(ref: str, family: Family | None) -> str:
    if family is None:
        return "no family (global default)"
    return family.name + (" (assumed)" if family.is_assumed(ref.partition(":")[2]) else "")


@dataclass(frozen=True)
class ScenarioAssumptions:
    """The assumptions of one candidate's scenario, and the share of answer / reasoning tokens already native."""

    assumptions: tuple[Assumption, ...]
    answer_native: Decimal = Decimal(0)
    reasoning_native: Decimal = Decimal(0)


def _ratio(cand: Triple, src: Triple) -> Triple:
    return cand[0] / src[2], cand[1] / src[1], cand[2] / src[0]


def _weighted(parts: list[tuple[int, Triple]]) -> Triple | None:
    total = sum(w for w, _ in parts)
    if not total:
        return None
    low, base, high = (sum((w * t[i] for w, t in parts), Decimal(0)) / total for i in range(3))
    return low.quantize(PLACES), base.quantize(PLACES), high.quantize(PLACES)


def source_sums(frame: pd.DataFrame, model_column: str | list[str]) -> pd.DataFrame:
    """Per source model: input-side tokens, answer tokens and reasoning tokens (the weights of the defaults)."""
    columns = ["input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens"]
    sums = frame.groupby(model_column, sort=True)[[*columns, "output_tokens", "reasoning_tokens"]].sum()
    return pd.DataFrame(
        {
            "input": sums["input_tokens"]
            + sums["cache_read_tokens"]
            + sums["cache_write_tokens"]
            + sums["cache_write_1h_tokens"],
            "answer": sums["output_tokens"] - sums["reasoning_tokens"],
            "reasoning": sums["reasoning_tokens"],
        }
    )


Source = tuple[str, int, int, int]
"""A source model's ref and its input-side, answer and reasoning tokens (a row of `source_sums`)."""


def source_rows(sources: pd.DataFrame) -> tuple[Source, ...]:
    """The rows of a `source_sums` frame as plain tuples."""
    columns = (sources[c].tolist() for c in ("input", "answer", "reasoning"))
    return tuple((str(ref), int(i), int(a), int(r)) for ref, i, a, r in zip(sources.index, *columns, strict=True))


@lru_cache(maxsize=8192)
def assumptions_for(
    assumptions: tuple[Assumption, ...], sources: tuple[Source, ...], candidate_ref: str
) -> ScenarioAssumptions:
    """The assumptions of the candidate's scenario on source models given as plain rows: each family-driven one
    that no flag set, from the families (the scenarios, the hybrid and the negotiation brief ask the same ones
    again)."""
    by_name = {a.name: a for a in assumptions}
    free = {n for n in FAMILY_DRIVEN if n in by_name and not by_name[n].source.startswith("--assume")}
    if not free:
        return ScenarioAssumptions(tuple(assumptions))
    cand_tok, cand_verb = family_of(candidate_ref, "tokenizer"), family_of(candidate_ref, "verbosity")
    tok_parts: list[tuple[int, Triple]] = []
    answer_parts: list[tuple[int, Triple]] = []
    reasoning_parts: list[tuple[int, Triple]] = []
    native_answer = native_reasoning = Decimal(0)
    glob = {n: (by_name[n].low, by_name[n].value, by_name[n].high) for n in FAMILY_DRIVEN if n in by_name}
    for src, input_side, answer, reasoning in sources:
        src_tok, src_verb = family_of(src, "tokenizer"), family_of(src, "verbosity")
        # token ratio
        if cand_tok is not None and src_tok is not None:
            tok = ONE if cand_tok is src_tok else _ratio(cand_tok.triples["english"], src_tok.triples["english"])
        else:
            tok = glob["token_ratio"]
        tok_parts.append((input_side, tok))
        # verbosity
        kind = "reasoning" if reasoning > 0 else "non_reasoning"
        matched = (
            cand_verb is not None and src_verb is not None and kind in cand_verb.triples and kind in src_verb.triples
        )
        if src == candidate_ref:
            verb: Triple | None = ONE
        elif matched:
            assert cand_verb is not None and src_verb is not None
            verb = _ratio(cand_verb.triples[kind], src_verb.triples[kind])
        else:
            verb = None
        answer_parts.append((answer, verb or glob["output_verbosity"]))
        reasoning_parts.append((reasoning, verb or glob["reasoning_verbosity"]))
        if verb is not None:
            native_answer += answer * verb[1]
            native_reasoning += reasoning * verb[1]
    out = dict(by_name)
    weighted = {
        "token_ratio": _weighted(tok_parts),
        "output_verbosity": _weighted(answer_parts),
        "reasoning_verbosity": _weighted(reasoning_parts),
    }
    for name in free:
        triple = weighted[name]
        if triple is None or triple == glob[name]:
            continue
        low, value, high = triple
        out[name] = replace(
            by_name[name],
            value=value,
            low=low,
            high=high,
            source=f"per model family, weighted by the workload's tokens of each source model: {_family_source(name)}",
        )
    native = {}
    for name, tokens, on_candidate in (
        ("output_verbosity", answer_parts, native_answer),
        ("reasoning_verbosity", reasoning_parts, native_reasoning),
    ):
        total = sum((w * t[1] for w, t in tokens), Decimal(0))
        native[name] = on_candidate / total if name in free and total else Decimal(0)
    return ScenarioAssumptions(tuple(out.values()), native["output_verbosity"], native["reasoning_verbosity"])


def _family_source(name: str) -> str:
    if name == "token_ratio":
        return (
            "R(candidate)/R(source) of English prose vs o200k, low = R_low/R_high and high = R_high/R_low "
            "(reference note §5.1, pricing/data/model_families.toml, checked 2026-11-28); it scales input and "
            "cache, and output only where the verbosity is not from AA classes"
        )
    part = "answer" if name == "output_verbosity" else "reasoning"
    return (
        f"class(candidate)/class(source) of AA output tokens for the {part} tokens (reasoning class for source "
        "models with reasoning tokens, non-reasoning class otherwise), low = low/high and high = high/low; AA "
        "counts native tokens, so token_ratio does not apply on top (reference note §5.0 and §5.2, "
        "pricing/data/model_families.toml, checked 2026-11-28)"
    )


FAMILY_NOTE = (
    "Per-model defaults: token_ratio, output_verbosity and reasoning_verbosity of each scenario come from the "
    "tokenizer families and verbosity classes of the candidate and of the workload's source models "
    "(pricing/data/model_families.toml; listed per scenario under assumption_values); a model in no family keeps "
    "the global default. When verbosity comes from the classes (AA counts native tokens), token_ratio scales input "
    "and cache only, not output. --assume NAME=VALUE still sets one for every candidate."
)


def families_line(ref: str) -> str:
    """`ref: tokenizer <family>, verbosity <class>` (either may be "no family (global default)")."""
    tokenizer, verbosity = _label(ref, family_of(ref, "tokenizer")), _label(ref, family_of(ref, "verbosity"))
    return f"{ref}: tokenizer {tokenizer}, verbosity {verbosity}"


def family_notes(
    assumptions: Sequence[Assumption], source_refs: Sequence[str], candidate_refs: Sequence[str]
) -> list[str]:
    """The note on per-model defaults and the families matched by the source models and the candidates; nothing
    when every family-driven assumption is set by a flag."""
    if all(a.source.startswith("--assume") for a in assumptions if a.name in FAMILY_DRIVEN):
        return []
    return [
        FAMILY_NOTE,
        "Families of the source models — " + "; ".join(families_line(r) for r in source_refs),
        "Families of the candidates — " + "; ".join(families_line(r) for r in candidate_refs),
    ]
