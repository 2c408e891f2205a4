"""The wizard driven end to end through prompt_toolkit's pipe input: it builds the options and the result of the
equivalent command, and the answers it saves re-run the same audit with `audit --config`."""

from __future__ import annotations

import io
import json
import shlex
import tomllib
from pathlib import Path

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from auditor.cli import RUN, cli
from auditor.config import options_from, parse_words
from auditor.options import AuditOptions
from auditor.report.json_out import render_json
from auditor.wizard import run_wizard
from tests.conftest import AS_OF, SAMPLES

DOWN = "\x1b[B"
ERASE = "\x7f" * 12
# The questions in order, and the keys that answer each.
ANSWERS = [
    ("File or folder to audit", f"{SAMPLES / 'openai_usage_csv'}\r"),
    ("Add another file or folder?", "y"),
    ("File or folder to audit", f"{SAMPLES / 'anthropic_usage_csv'}\r"),
    ("Add another file or folder?", "n"),
    ("Audit these 4 files?", "\r"),
    ("Data classes (first: personal)", " \r"),
    ("Jurisdictions (none)", "\r"),
    ("Banned providers", "deepseek\r"),
    ("Candidates: search and pick", f"{DOWN}\r"),
    ("Search the catalog", "openai:gpt-5-mini\r"),
    ("Pick", " \r"),
    ("Search the catalog", "google:gemini-3.8-flash\r"),
    ("Pick (the first: google:gemini-3.8-flash)", " \r"),
    ("Search the catalog: done", "\r"),
    ("As of (default: the given today)", "\r"),
    ("Change any assumption?", "y"),
    ("token_ratio", f"{ERASE}1.1\r"),
    ("output_verbosity", "\r"),
    ("reasoning_verbosity", "\r"),
    ("cache_hit_share", f"{ERASE}0.5\r"),
    ("batch_share", "\r"),
    ("offpeak_share", "\r"),
    ("Outputs: JSON only", f" {DOWN} {DOWN} \r"),
    ("Folder for the outputs", f"{ERASE}out\r"),
    ("Save the answers to", "\r"),
    ("Run the audit?", "\r"),
]


def _drive(keys: str) -> tuple[object, str]:
    console = Console(file=io.StringIO(), width=160)
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        result = run_wizard(input=pipe, output=DummyOutput(), console=console, today=AS_OF)
    assert isinstance(console.file, io.StringIO)
    return result, console.file.getvalue()


def _options_of(words: list[str]) -> AuditOptions:
    return options_from(parse_words(cli.commands[RUN], words, "test").params)


def test_wizard_builds_the_options_and_result_of_its_equivalent_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_cli
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    import auditor.cli

    seen: list[AuditOptions] = []  # the options each run is given, wizard and command alike
    real_run = auditor.cli.run_audit

    def recording_run(options: AuditOptions, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(options)
        return real_run(options, **kwargs)

    monkeypatch.setattr(auditor.cli, "run_audit", recording_run)
    result, shown = _drive("".join(keys for _, keys in ANSWERS))
    assert result is not None
    # What it detected, per file, before asking to go on.
    detected = shown[shown.index("Detected") : shown.index("Data classes") if "Data classes" in shown else None]
    assert "openai_usage_csv" in detected and "anthropic_usage_csv" in detected
    assert "2026-10-01 to 2026-10-14" in detected and "$91.56" in detected

    saved = tomllib.loads((tmp_path / "audit.toml").read_text(encoding="utf-8"))
    assert saved == {
        "inputs": [str(SAMPLES / "openai_usage_csv"), str(SAMPLES / "anthropic_usage_csv")],
        "data": ["personal"],
        "ban-provider": ["deepseek"],
        "to": ["openai:gpt-5-mini", "google:gemini-3.8-flash"],
        "as-of": AS_OF.isoformat(),
        "assume": ["token_ratio=1.1", "cache_hit_share=0.5"],
        "json": "out/audit-report.json",
    }
    # The equivalent command, as printed, builds the same options as the wizard's answers.
    command = next(line for line in shown.splitlines() if line.startswith("audit "))
    words = shlex.split(command)[1:]
    expected = AuditOptions(
        inputs=(SAMPLES / "openai_usage_csv", SAMPLES / "anthropic_usage_csv"),
        as_of=AS_OF,
        candidates=("openai:gpt-5-mini", "google:gemini-3.8-flash"),
        assume=("token_ratio=1.1", "cache_hit_share=0.5"),
        data_classes=("personal",),
        ban_providers=("deepseek",),
    )
    assert _options_of(words) == expected
    assert seen == [expected]  # the wizard ran on exactly these options
    wizard_json = (tmp_path / "out" / "audit-report.json").read_text(encoding="utf-8")
    assert wizard_json == render_json(result)  # type: ignore[arg-type]
    assert json.loads(wizard_json)["data_profile"]["banned_providers"] == ["deepseek"]

    # The command run without questions gives the same result.
    assert run_cli(*words, "--json", "command.json").status == 0
    assert (tmp_path / "command.json").read_text(encoding="utf-8") == wizard_json
    # And so do the saved answers, a flag overriding one of them.
    assert run_cli("--config", "audit.toml", "--json", "config.json", "--quiet").status == 0
    assert (tmp_path / "config.json").read_text(encoding="utf-8") == wizard_json
    assert seen == [expected] * 3


def test_the_wizard_writes_nothing_when_the_sheet_is_declined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    keys = [k for _, k in ANSWERS[:-1]] + ["n"]
    result, shown = _drive("".join(keys))
    assert result is None
    assert "Nothing was run or written." in shown
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_in_the_wizard_leaves_nothing_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    keys = "".join(k for _, k in ANSWERS[:8]) + "\x03"
    with pytest.raises(KeyboardInterrupt):
        _drive(keys)
    assert list(tmp_path.iterdir()) == []
