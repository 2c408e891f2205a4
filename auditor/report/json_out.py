"""The JSON output: the AuditResult itself, with stable key order and a trailing newline."""

from __future__ import annotations

from pathlib import Path

from auditor.report.files import write_atomically
from auditor.result import AuditResult


def render_json(result: AuditResult) -> str:
    return result.model_dump_json(indent=2) + "\n"


def write_json(result: AuditResult, path: Path) -> None:
    text = render_json(result)
    write_atomically(path, lambda tmp: _write_text(tmp, text))


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def load_result(path: Path) -> AuditResult:
    return AuditResult.model_validate_json(path.read_text(encoding="utf-8"))
