"""A user's own format: an importer built from a small mapping file (`--map mapping.toml`).

For an in-house log or gateway the auditor does not know. The file names the columns that hold the
model, the time, each token class and the cost, and says how the source counts (whether input includes
cached tokens, whether output includes reasoning), so the usual ledger semantics hold:

```toml
[source]
name = "acme_gateway"            # shown in reports as the format
provider = "openai"              # a catalog provider id, or provider_column = "vendor"
model_column = "model"
time_column = "ts"               # ISO timestamps (UTC unless an offset is given) or dates (daily buckets)
project_column = "team"          # optional
api_key_column = "key"           # optional
requests_column = "calls"        # optional: without it, each row is one request

[tokens]                         # each optional but output and input
input = "prompt_tokens"
input_includes_cached = true     # OpenAI style; false: Anthropic style (cached tokens apart)
cached = "cached_tokens"
cache_write = "cache_write_tokens"
output = "completion_tokens"
reasoning = "reasoning_tokens"
output_includes_reasoning = true # false: reasoning is added to output (Gemini style)

[cost]                           # optional
column = "cost"
currency = "USD"                 # or currency_column = "currency"
```
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from auditor.errors import OptionError
from auditor.importers.base import Importer
from auditor.importers.engine import ident, literal, utc_day, utc_slot


def load_mapping(path: Path) -> Importer:
    """The importer a mapping file describes, or a clear error naming what is missing."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OptionError(f"{path}: not a readable mapping file ({exc})", "see the example in the README") from exc
    source, tokens, cost = raw.get("source", {}), raw.get("tokens", {}), raw.get("cost", {})
    name = str(source.get("name", "mapped")).strip() or "mapped"
    model, time = _needed(path, source, "model_column"), _needed(path, source, "time_column")
    inp, out = _needed(path, tokens, "input", "tokens."), _needed(path, tokens, "output", "tokens.")
    if "provider" not in source and "provider_column" not in source:
        raise OptionError(f"{path}: [source] needs provider or provider_column", 'e.g. provider = "openai"')
    columns = _present(
        {k: source.get(k) for k in ("provider_column", "project_column", "api_key_column", "requests_column")}
    )
    token_columns = _present({k: tokens.get(k) for k in ("cached", "cache_write", "reasoning")})
    counts = (
        inp,
        out,
        *token_columns.values(),
        *([columns["requests_column"]] if "requests_column" in columns else []),
    )
    money = (str(cost["column"]),) if cost.get("column") else ()
    return Importer(
        name=f"map:{name}",
        title=f"{name} (mapped by {path.name})",
        kind="requests" if "requests_column" not in columns else "usage",
        required_columns=tuple(dict.fromkeys((model, time, inp, out, *columns.values(), *token_columns.values(),
                                              *money, *_currency_column(cost)))),
        optional_columns=(),
        count_columns=counts,
        money_columns=money,
        time_columns=(time,),
        ledger=_ledger(source, tokens, cost, columns, token_columns, model, time, inp, out),
        reject_when=(
            (f"{ident(time)} IS NULL", "no readable time", time),
            (f"trim({ident(model)}) = ''", "no model", model),
        ),
        example_header=", ".join((model, time, inp, out)),
    )  # fmt: skip


def _needed(path: Path, table: dict[str, Any], key: str, prefix: str = "source.") -> str:
    value = str(table.get(key, "")).strip()
    if not value:
        raise OptionError(f"{path}: {prefix}{key} is missing", "name the column that holds it")
    return value


def _present(values: dict[str, Any]) -> dict[str, str]:
    return {k: str(v).strip() for k, v in values.items() if v and str(v).strip()}


def _currency_column(cost: dict[str, Any]) -> tuple[str, ...]:
    return (str(cost["currency_column"]),) if cost.get("currency_column") else ()


def _ledger(
    source: dict[str, Any],
    tokens: dict[str, Any],
    cost: dict[str, Any],
    columns: dict[str, str],
    token_columns: dict[str, str],
    model: str,
    time: str,
    inp: str,
    out: str,
) -> dict[str, str]:
    cached = ident(token_columns["cached"]) if "cached" in token_columns else "0"
    write = ident(token_columns["cache_write"]) if "cache_write" in token_columns else "0"
    reasoning = ident(token_columns["reasoning"]) if "reasoning" in token_columns else "0"
    includes_cached = bool(tokens.get("input_includes_cached", True))
    includes_reasoning = bool(tokens.get("output_includes_reasoning", True))
    ledger = {
        "provider": f"lower(trim({ident(columns['provider_column'])}))"
        if "provider_column" in columns
        else literal(str(source["provider"]).strip().lower()),
        "model_raw": f"trim({ident(model)})",
        "day": utc_day(ident(time)),
        # A date (read as midnight UTC) is a day's bucket: it has no time of day.
        "time_slot": f"CASE WHEN epoch_us({ident(time)}) % 86400000000 <> 0 THEN {utc_slot(ident(time))} ELSE -1 END",
        "size_basis": "'average'" if "requests_column" in columns else "'request'",
        "requests": ident(columns["requests_column"]) if "requests_column" in columns else "1",
        "requests_known": "1",
        # The ledger's input excludes cache reads and writes.
        "input_tokens": f"greatest({ident(inp)} - {cached} - {write}, 0)" if includes_cached else ident(inp),
        "cache_read_tokens": cached,
        "cache_write_tokens": write,
        "output_tokens": ident(out) if includes_reasoning else f"{ident(out)} + {reasoning}",
        "reasoning_tokens": reasoning,
    }
    for key, column in (("project", "project_column"), ("api_key", "api_key_column")):
        if column in columns:
            ledger[key] = f"trim({ident(columns[column])})"
    if cost.get("column"):
        ledger |= {"billed": ident(str(cost["column"])), "billed_present": ident(f"{cost['column']}__present")}
        ledger["currency"] = (
            f"upper(trim({ident(str(cost['currency_column']))}))"
            if cost.get("currency_column")
            else literal(str(cost.get("currency", "USD")).upper())
        )
    return ledger
