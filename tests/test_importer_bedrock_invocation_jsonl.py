"""Bedrock model invocation logs: an S3 log folder read whole, priced at the catalog's AWS Bedrock prices."""

from __future__ import annotations

import gzip
import json
import re
import shutil
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from pricing.resolve import resolve_model
from tests.conftest import AS_OF, SAMPLES

FOLDER = SAMPLES / "bedrock_invocation_jsonl"
FILES = sorted(FOLDER.rglob("*.json.gz"))


def _audit(*paths: Path):  # type: ignore[no-untyped-def]
    return run_audit(AuditOptions(inputs=paths, as_of=AS_OF, candidates=("openai:gpt-5-mini",)))


def _records() -> list[dict[str, Any]]:
    """Every whole line of every file, read with gzip and json only (a truncated line is not one)."""
    records = []
    for path in FILES:
        for line in gzip.decompress(path.read_bytes()).decode("utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records


def _model_id(model: str) -> str:
    """The model id of a foundation-model or system inference-profile ARN; any other id as written."""
    for kind in (":foundation-model/", ":inference-profile/"):
        if model.startswith("arn:") and kind in model:
            return model.split(kind, 1)[1]
    return model


def test_the_s3_layout_is_walked_and_every_file_read() -> None:
    layout = re.compile(r"AWSLogs/\d{12}/BedrockModelInvocationLogs/[a-z0-9-]+/\d{4}/\d\d/\d\d/\d\d/"
                        r"\d{8}T\d{9}Z_[0-9a-f]{16}\.json\.gz")  # fmt: skip
    assert len(FILES) == 4 and all(layout.fullmatch(p.relative_to(FOLDER).as_posix()) for p in FILES)
    result = _audit(FOLDER)
    assert sorted(Path(i.path) for i in result.inputs) == FILES
    assert {i.format for i in result.inputs} == {"bedrock_invocation_jsonl"}
    rows = [(i.rows_read, i.rows_used, i.rows_skipped, i.rows_rejected) for i in result.inputs]
    assert tuple(map(sum, zip(*rows, strict=True))) == (12, 10, 1, 1)
    (truncated,) = [i for i in result.inputs if i.rows_rejected]
    assert [(r.line, r.reason) for r in truncated.rejected] == [(2, "not valid JSON")]
    (failed,) = [i for i in result.inputs if i.rows_skipped]
    assert failed.skipped_reasons == {"the invocation failed (errorCode set, no usage)": 1}


def test_tokens_and_list_cost_equal_genai_prices_record_by_record() -> None:
    tokens: dict[str, list[int]] = defaultdict(lambda: [0] * 5)
    cost: dict[str, Decimal | None] = defaultdict(Decimal)
    for r in _records():
        if r.get("errorCode"):
            continue
        i, o = r["input"], r.get("output", {})
        counts = (
            1,
            i["inputTokenCount"],
            i.get("cacheReadInputTokenCount", 0),
            i.get("cacheWriteInputTokenCount", 0),
            o.get("outputTokenCount", 0),
        )
        model = _model_id(r["modelId"])
        for k, n in enumerate(counts):
            tokens[model][k] += n
        usage = Usage(input_tokens=sum(counts[1:4]), cache_read_tokens=counts[2], cache_write_tokens=counts[3],
                      output_tokens=counts[4])  # fmt: skip
        at = datetime.fromisoformat(r["timestamp"])
        try:
            # genai-prices matches the id as written, ARN and all.
            price = calc_price(usage, r["modelId"], provider_id="aws", genai_request_timestamp=at).total_price
        except LookupError:
            cost[model] = None
            continue
        cost[model] = None if cost[model] is None else cost[model] + price  # type: ignore[operator]
    result = _audit(FOLDER)
    assert {
        u.model_raw: (u.requests, u.input_tokens, u.cache_read_tokens, u.cache_write_tokens, u.output_tokens)
        for u in result.usage
    } == {m: tuple(t) for m, t in tokens.items()}
    assert {u.model_raw: u.list_cost for u in result.usage} == {
        m: None if c is None else c.quantize(Decimal("1e-9")) for m, c in cost.items()
    }
    unpriced = [u for u in result.usage if u.list_cost is None]
    assert [u.model_raw.rsplit(":", 1)[-1] for u in unpriced] == ["application-inference-profile/k3x9v2m7q1ab"]
    assert unpriced[0].requests == 1 and unpriced[0].output_tokens > 0


def test_attribution_is_the_project_tag_else_the_account_and_the_caller() -> None:
    result = _audit(FOLDER)
    projects = {(r.get("requestMetadata") or {}).get("project") or r["accountId"] for r in _records()}
    assert projects == {"support-bot", "localisation", "mail-filter", "legal-assistant", "123456789012"}
    assert {u.model_raw for u in result.usage if u.model_raw.startswith("eu.")} == {
        "eu.anthropic.claude-sonnet-4-5-20250929-v1:0",
        "eu.anthropic.claude-sonnet-4-6",
    }


@pytest.mark.parametrize(
    ("cur_meter_model", "invocation_model_id"),
    [
        ("Claude4.5Sonnet", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("Claude4.5Sonnet", "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("Claude4.5Sonnet", "anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("global.Claude4.5Sonnet", "global.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        ("Claude4.5Haiku", "us.anthropic.claude-haiku-4-5-20251001-v1:0"),
        ("Claude4.6Sonnet", "eu.anthropic.claude-sonnet-4-6"),
        ("Claude3Haiku", "anthropic.claude-3-haiku-20240307-v1:0"),
        ("NovaPro", "amazon.nova-pro-v1:0"),
    ],
)
def test_invocation_ids_resolve_to_the_catalog_model_of_the_cur_meter(
    cur_meter_model: str, invocation_model_id: str
) -> None:
    """The same usage read from the CUR and from the invocation logs is priced at the same catalog model."""
    cur, log = resolve_model("aws", cur_meter_model).model, resolve_model("aws", invocation_model_id).model
    assert cur is not None and log is not None and cur.ref == log.ref


def test_a_folder_with_other_objects_and_records_reads_the_invocations(tmp_path: Path) -> None:
    copy = tmp_path / "logs"
    shutil.copytree(FOLDER, copy)
    # The object Bedrock writes to check its permission on the bucket, and a record of another schema.
    (copy / "AWSLogs" / "123456789012" / "BedrockModelInvocationLogs" / "amazon-bedrock-logs-permission-check").touch()
    first = FILES[-1]
    lines = gzip.decompress(first.read_bytes()).decode("utf-8").splitlines()
    other = json.dumps({**json.loads(lines[0]), "schemaType": "SomeOtherLog", "requestId": "other-1"})
    target = copy / first.relative_to(FOLDER)
    target.write_bytes(gzip.compress(("\n".join([*lines, other]) + "\n").encode("utf-8")))
    result = _audit(copy)
    assert [Path(s.path).name for s in result.skipped_files] == ["amazon-bedrock-logs-permission-check"]
    assert sum(i.rows_used for i in result.inputs) == 10
    assert sum(i.skipped_reasons.get("not a model invocation record", 0) for i in result.inputs) == 1


def test_a_broken_line_is_rejected_with_its_number_and_the_rest_counts(tmp_path: Path) -> None:
    lines = gzip.decompress(FILES[1].read_bytes()).decode("utf-8").splitlines()
    broken = [
        lines[0],
        '{"schemaType":"ModelInvocationLog","schemaVersion":"1.0","timestamp":"2026-10-14T09:1',
        *lines[1:],
    ]
    path = tmp_path / "invocations.jsonl"
    path.write_text("\n".join(broken) + "\n", encoding="utf-8")
    entry = _audit(path).inputs[0]
    assert entry.format == "bedrock_invocation_jsonl"
    assert (entry.rows_read, entry.rows_used, entry.rows_rejected) == (len(lines) + 1, len(lines), 1)
    assert [(r.line, r.reason) for r in entry.rejected] == [(2, "not valid JSON")]
