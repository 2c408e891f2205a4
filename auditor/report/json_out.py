"""The JSON output: the AuditResult itself, with stable key order and a trailing newline; and its JSON Schema.

`load_result` reads a saved result back: `render_json(load_result(path))` is the saved text byte for byte, so
every other output can be written again from it (`audit render`). The schema of the written JSON is
generated from the pydantic models (`json_schema_text`) and committed as docs/audit-result.schema.json;
regenerate it with `python -m auditor.report.json_out > docs/audit-result.schema.json`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from auditor.errors import InputFileError
from auditor.report.files import write_bytes_atomically
from auditor.result import AuditResult

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def render_json(result: AuditResult) -> str:
    return result.model_dump_json(indent=2) + "\n"


def write_json(result: AuditResult, path: Path) -> None:
    write_bytes_atomically(path, render_json(result).encode("utf-8"))


def load_result(path: Path) -> AuditResult:
    """A result saved with `--json`; a file that is not one is a one-line input error."""
    from pydantic import ValidationError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(
            str(path), f"cannot read it: {exc}", "give the JSON file an audit wrote with --json"
        ) from None
    try:
        return AuditResult.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise InputFileError(
            str(path),
            f"not an audit result: {where}: {first['msg']} ({exc.error_count()} problem(s))",
            "give the JSON file an audit wrote with --json (schema_version 1)",
        ) from None


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of what `render_json` writes."""
    schema = AuditResult.model_json_schema(mode="serialization")
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


def json_schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(json_schema_text())
