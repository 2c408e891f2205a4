"""Generate synthetic request logs in real export formats for benchmarks (never committed: written at run time).

`python bench/generate.py openrouter N PATH` writes an OpenRouter logs export of N requests;
`python bench/generate.py openai-usage N PATH` writes an OpenAI usage export of N bucket rows (1-minute buckets
over 90 days, as the request log spans); `python bench/generate.py openai-response N PATH` writes N Chat Completions
responses as JSON lines (the objects the API returns, as an application logs them; 4 models over the same 90 days,
no API key in the format). A fourth argument sets the number of API keys of the CSV kinds (4 unless given); a fifth,
`one-app`, gives every request of an OpenRouter log the same application (the route-by-segment scenario then
segments by API key). `claude_code_sessions` writes Claude Code session logs (`bench/many_files.py`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

OPENROUTER_MODELS = np.array(
    [
        "anthropic/claude-4.5-sonnet-20250929",
        "openai/gpt-4.1-2025-04-14",
        "google/gemini-2.5-pro",
        "deepseek/deepseek-chat-v3.1",
        "openai/gpt-oss-120b",
        "qwen/qwen3.7-plus",
        "openai/gpt-4o-mini",
        "anthropic/claude-haiku-4.5",
    ]
)
KEYS = np.array(["prod-key", "batch-key", "staging-key", "ci-key"])
APPS = np.array(["SupportDesk", "Research", "Search", ""])
START_SECONDS = 1_788_220_800  # 2026-09-01 00:00 UTC
SPAN_SECONDS = 90 * 86_400
CHUNK_ROWS = 1_000_000
SESSION = (
    Path(__file__).resolve().parent.parent
    / "samples"
    / "claude_code_jsonl"
    / "0c4b8a52-6f1e-4d0e-9a3b-2f6d1c7e8a90.jsonl"
)


def openrouter_chunk(
    rng: np.random.Generator, first: int, n: int, rows: int, keys: np.ndarray, apps: np.ndarray = APPS
) -> pa.Table:
    seconds = START_SECONDS + np.sort(rng.integers(0, SPAN_SECONDS, n))
    millis = rng.integers(0, 1000, n)
    stamps = seconds.astype("datetime64[s]").astype(str).astype(object)
    created = [f"{s.replace('T', ' ')}.{m:03d}" for s, m in zip(stamps, millis, strict=True)]
    prompt = rng.lognormal(8.5, 1.2, n).astype(np.int64).clip(1, 900_000)
    cached = (prompt * rng.choice([0, 0, 0.5, 0.8], n)).astype(np.int64)
    completion = rng.lognormal(6, 1, n).astype(np.int64).clip(1, 60_000)
    reasoning = (completion * rng.choice([0, 0, 0.3], n)).astype(np.int64)
    cost = np.round(prompt * 2e-6 + completion * 8e-6, 6)
    models = OPENROUTER_MODELS[rng.integers(0, len(OPENROUTER_MODELS), n)]
    zeros = np.zeros(n, dtype=np.int64)
    return pa.table(
        {
            "generation_id": [f"gen-{s}-{first + i:020d}" for i, s in enumerate(seconds)],
            "created_at": created,
            "cost_total": [f"{c:.6f}" for c in cost],
            "cost_web_search": zeros,
            "cost_cache": zeros,
            "cost_file_processing": zeros,
            "byok_usage_inference": zeros,
            "tokens_prompt": prompt,
            "tokens_completion": completion,
            "tokens_reasoning": reasoning,
            "tokens_cached": cached,
            "model_permaslug": models,
            "provider_name": np.full(n, "Host"),
            "variant": np.full(n, "standard"),
            "cancelled": np.full(n, "false"),
            "streamed": np.full(n, "true"),
            "user": np.full(n, ""),
            "finish_reason_raw": np.full(n, "stop"),
            "finish_reason_normalized": np.full(n, "stop"),
            "generation_time_ms": rng.integers(100, 20_000, n),
            "time_to_first_token_ms": rng.integers(50, 3_000, n),
            "api_key_disabled": np.full(n, "false"),
            "api_key_name": keys[rng.integers(0, len(keys), n)],
            "app_name": apps[rng.integers(0, len(apps), n)],
        }
    )


def openai_usage_chunk(rng: np.random.Generator, first: int, n: int, rows: int, keys: np.ndarray) -> pa.Table:
    models = np.array(["gpt-5-2025-08-07", "gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14", "o3-2025-04-16"])
    # 1-minute buckets over the same 90 days whatever the row count: more rows are more rows per minute (as an
    # export of more models, keys and projects is), not a longer period.
    start = START_SECONDS + (np.arange(first, first + n) * (SPAN_SECONDS // 60) // rows) * 60
    requests = rng.integers(1, 50, n)
    inp = requests * rng.integers(500, 20_000, n)
    cached = (inp * rng.choice([0, 0.5], n)).astype(np.int64)
    out = requests * rng.integers(20, 2_000, n)

    def f(values: np.ndarray) -> list[str]:  # the export prints integers as floats
        return [f"{float(v)}" for v in values]

    return pa.table(
        {
            "start_time": start,
            "end_time": start + 60,
            "start_time_iso": np.full(n, ""),
            "end_time_iso": np.full(n, ""),
            "project_id": np.full(n, "proj_x"),
            "num_model_requests": f(requests),
            "user_id": np.full(n, "user-1"),
            "api_key_id": keys[rng.integers(0, len(keys), n)],
            "model": models[rng.integers(0, len(models), n)],
            "batch": np.full(n, "False"),
            "service_tier": np.full(n, "default"),
            "compute_units": np.full(n, ""),
            "input_tokens": f(inp),
            "output_tokens": f(out),
            "input_cached_tokens": f(cached),
            "input_cache_write_tokens": f(np.zeros(n)),
            "input_uncached_tokens": f(inp - cached),
        }
    )


def key_names(count: int | None) -> np.ndarray:
    """The API keys' names: the four usual ones, or `key-00000`, `key-00001`... for `count` of them."""
    return KEYS if count is None else np.array([f"key-{i:05d}" for i in range(count)])


def openai_responses(rows: int, path: Path, seed: int) -> None:
    """Chat Completions response objects, one a line, written by DuckDB (as compact as the API's own JSON). Tokens
    are drawn from a hash of the line number and the seed; a third of the lines have cached input, half reasoning."""
    models = ["gpt-4o-2024-08-06", "gpt-5-mini-2025-08-07", "gpt-5-2025-08-07", "gpt-4.1-2025-04-14"]
    tiers = ["default", "flex", "default", "priority"]
    drawn = (
        f"SELECT i, CAST(10 + hash(i, {seed}, 1) % 20000 AS BIGINT) AS p, "
        f"CAST(5 + hash(i, {seed}, 2) % 3000 AS BIGINT) AS c FROM range({rows}) t(i)"
    )
    tokens = (
        "SELECT *, CASE WHEN i % 3 = 0 THEN p // 2 ELSE 0 END AS k, CASE WHEN i % 2 = 0 THEN c // 2 ELSE 0 END AS r "
        f"FROM ({drawn})"
    )
    message = (
        "{'role': 'assistant', 'content': 'The invoice total matches the purchase order.', "
        "'refusal': CAST(NULL AS VARCHAR), 'annotations': CAST([] AS VARCHAR[])}"
    )
    usage = (
        "{'prompt_tokens': p, 'completion_tokens': c, 'total_tokens': p + c, "
        "'prompt_tokens_details': {'cached_tokens': k, 'audio_tokens': 0}, "
        "'completion_tokens_details': {'reasoning_tokens': r, 'audio_tokens': 0, 'accepted_prediction_tokens': 0, "
        "'rejected_prediction_tokens': 0}}"
    )
    lines = (
        "SELECT 'chatcmpl-' || lpad(CAST(i AS VARCHAR), 20, '0') AS id, 'chat.completion' AS object, "
        f"{START_SECONDS} + CAST(i * {SPAN_SECONDS} // {rows} AS BIGINT) AS created, {models}[i % 4 + 1] AS model, "
        f"[{{'index': 0, 'message': {message}, 'logprobs': CAST(NULL AS VARCHAR), 'finish_reason': 'stop'}}] "
        f"AS choices, {usage} AS usage, {tiers}[(i // 7) % 4 + 1] AS service_tier, "
        f"'fp_cbf1785567' AS system_fingerprint FROM ({tokens}) ORDER BY i"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect().execute(f"COPY ({lines}) TO '{path}' (FORMAT JSON)")


def claude_code_sessions(folder: Path, count: int, projects: int = 1) -> None:
    """`count` Claude Code session logs (`<session>.jsonl`, read one by one: their lines are folded by record), each
    the bundled sample session with its own session, message and request ids, spread over `projects` folders."""
    lines = SESSION.read_text(encoding="utf-8").splitlines()
    for n in range(count):
        session = f"00000000-0000-4000-8000-{n:012d}"
        records = []
        for line in lines:
            record = json.loads(line)
            if "sessionId" in record:
                record["sessionId"] = session
            if isinstance(record.get("message"), dict) and "id" in record["message"]:
                record["message"]["id"] = f"{record['message']['id']}_{n}"
            if "requestId" in record:
                record["requestId"] = f"{record['requestId']}_{n}"
            records.append(json.dumps(record))
        project = folder / f"project-{n % projects:02d}" if projects > 1 else folder
        project.mkdir(parents=True, exist_ok=True)
        (project / f"{session}.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")


def generate(kind: str, rows: int, path: Path, seed: int = 1, keys: int | None = None, one_app: bool = False) -> None:
    if kind == "openai-response":
        openai_responses(rows, path, seed)
        return
    rng = np.random.default_rng(seed)
    names = key_names(keys)
    if one_app and kind != "openrouter":
        raise ValueError("one application: OpenRouter logs only")
    apps = APPS[:1] if one_app else APPS
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = None
    for first in range(0, rows, CHUNK_ROWS):
        n = min(CHUNK_ROWS, rows - first)
        if kind == "openrouter":
            table = openrouter_chunk(rng, first, n, rows, names, apps)
        else:
            table = openai_usage_chunk(rng, first, n, rows, names)
        if writer is None:
            writer = pa_csv.CSVWriter(str(path), table.schema, write_options=pa_csv.WriteOptions(quoting_style="none"))
        writer.write_table(table)
    if writer is not None:
        writer.close()


if __name__ == "__main__":
    keys = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[4] != "-" else None
    generate(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), keys=keys, one_app=sys.argv[5:6] == ["one-app"])
