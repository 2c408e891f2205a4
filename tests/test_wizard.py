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
from auditor.errors import AuditorError
from auditor.options import AuditOptions
from auditor.outputs import OutputPlan
from auditor.policy import load_policy
from auditor.quality import load_quality
from auditor.report.json_out import render_json
from auditor.wizard import _loads, _writable, run_wizard
from tests.conftest import AS_OF, ROOT, SAMPLES

DOWN = "\x1b[B"
ERASE = "\x7f" * 12
POLICY = ROOT / "docs" / "policy-example.toml"
QUALITY = ROOT / "docs" / "quality-example.csv"
UNDER_A_FILE = SAMPLES / "README.md" / "out"
# The questions in order, and the keys that answer each.
ANSWERS = [
    ("File or folder to audit", f"{SAMPLES / 'openai_usage_csv'}\r"),
    ("Add another file or folder?", "y"),
    ("File or folder to audit", f"{SAMPLES / 'anthropic_usage_csv'}\r"),
    ("Add another file or folder?", "n"),
    ("Audit these 4 files?", "\r"),
    ("Policy file", f"{POLICY}\r"),
    ("Data classes (first: personal; replaces the file's)", " \r"),
    ("Sector overlays (first: eu-financial; added to the file's)", " \r"),
    ("Jurisdictions (none)", "\r"),
    ("Banned providers", "deepseek\r"),
    ("Candidates: search and pick", f"{DOWN}\r"),
    ("Search the catalog", "openai:gpt-5-mini\r"),
    ("Pick", " \r"),
    ("Search the catalog", "google:gemini-3.8-flash\r"),
    ("Pick (the first: google:gemini-3.8-flash)", " \r"),
    ("Search the catalog: done", "\r"),
    # A file that is not there is refused (the loader's message, test_a_file_the_wizard_asks_for_...): the
    # question stays open with the answer in it, so the keys erase it and give the right file.
    ("Evaluation results: a file that is not there", "missing.csv\r"),
    ("Evaluation results, asked again", f"{ERASE}{QUALITY}\r"),
    ("As of (default: the given today)", "\r"),
    ("Change any assumption?", "y"),
    ("token_ratio", f"{ERASE}1.1\r"),
    ("output_verbosity", "\r"),
    ("reasoning_verbosity", "\r"),
    ("cache_hit_share", f"{ERASE}0.5\r"),
    ("batch_share", "\r"),
    ("offpeak_share", "\r"),
    ("Outputs: JSON only", f" {DOWN} {DOWN} \r"),
    # A folder that cannot be (under a file) is refused as `audit run` refuses it before the run; asked again.
    ("Folder for the outputs: under a file", f"{ERASE}{UNDER_A_FILE}\r"),
    ("Folder for the outputs, asked again", f"{ERASE * 20}out\r"),
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
    # The policy file's values are shown, and how the answers meet them.
    assert "data personal, california-personal; sectors us-bank; allowed jurisdictions US, EU" in shown
    assert "replace the file's (as --data and --allow-jurisdiction do)" in shown
    # What it detected, per file, before asking to go on.
    detected = shown[shown.index("Detected") : shown.index("Data classes") if "Data classes" in shown else None]
    assert "openai_usage_csv" in detected and "anthropic_usage_csv" in detected
    assert "2026-10-01 to 2026-10-14" in detected and "$91.56" in detected

    saved = tomllib.loads((tmp_path / "audit.toml").read_text(encoding="utf-8"))
    assert saved == {
        "inputs": [str(SAMPLES / "openai_usage_csv"), str(SAMPLES / "anthropic_usage_csv")],
        "policy": str(POLICY),
        "data": ["personal"],
        "sector": ["eu-financial"],
        "ban-provider": ["deepseek"],
        "to": ["openai:gpt-5-mini", "google:gemini-3.8-flash"],
        "quality": str(QUALITY),
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
        quality_file=QUALITY,
        sectors=("eu-financial",),
        policy_file=POLICY,
    )
    assert _options_of(words) == expected
    assert seen == [expected]  # the wizard ran on exactly these options
    wizard_json = (tmp_path / "out" / "audit-report.json").read_text(encoding="utf-8")
    assert wizard_json == render_json(result)  # type: ignore[arg-type]
    # The policy file met the answers as it meets the flags: data and jurisdictions replace, the lists add.
    profile = json.loads(wizard_json)["data_profile"]
    assert profile["policy_file"] == "policy-example.toml"
    assert profile["data_classes"] == ["personal"]
    assert profile["allowed_jurisdictions"] == ["US", "EU"]
    assert profile["sectors"] == ["us-bank", "eu-financial"]
    assert profile["banned_providers"] == ["deepseek", "openrouter"]
    assert json.loads(wizard_json)["plan"]["quality_file"] == "quality-example.csv"

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


def test_a_file_the_wizard_asks_for_is_checked_by_the_run_s_own_loader(tmp_path: Path) -> None:
    bad_scores = tmp_path / "scores.csv"
    bad_scores.write_text("model,segment,score\ngpt-5,*,high\n", encoding="utf-8")
    bad_policy = tmp_path / "policy.toml"
    bad_policy.write_text('sectors = ["banking"]\n', encoding="utf-8")
    check_quality, check_policy = _loads(load_quality), _loads(load_policy)
    assert check_quality("missing.csv") == "missing.csv: cannot be read (No such file or directory)"
    assert check_quality(str(bad_scores)) == "scores.csv, line 2, column 'score': 'high' is not a number"
    assert check_policy(str(bad_policy)).startswith(f"{bad_policy}: sectors: unknown sector 'banking'")
    assert check_quality(str(tmp_path)) == f"{tmp_path.name}: cannot be read (Is a directory)"
    for check, good in ((check_quality, QUALITY), (check_policy, POLICY)):
        assert check(str(good)) is True
        assert check("  ") is True  # empty: no file
    with pytest.raises(AuditorError):
        load_quality(bad_scores)  # the run itself refuses what the wizard refuses


def test_the_outputs_folder_and_answers_file_are_checked_as_the_run_checks_its_outputs(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    folder, answers = _writable(".", "audit-report.pdf"), _writable("audit.toml")
    assert (
        folder(str(blocker / "out"))
        == f"cannot write {blocker / 'out' / 'audit-report.pdf'}: {blocker} is not a directory"
    )
    assert answers(str(tmp_path)) == f"cannot write {tmp_path}: it is a directory"
    assert answers(str(blocker / "audit.toml")).endswith(f"{blocker} is not a directory")
    for good in (folder(str(tmp_path / "new" / "deeper")), folder(""), answers(str(tmp_path / "a.toml")), answers("")):
        assert good is True
    assert not (tmp_path / "new").exists(), "checked, not made"
    with pytest.raises(AuditorError, match="is not a directory"):
        OutputPlan(None, False, None, blocker / "out" / "audit-report.pdf").refuse_unwritable()  # the run's own check


def test_inputs_the_audit_would_refuse_are_said_at_once_and_asked_again(tmp_path: Path) -> None:
    """An empty folder, or a folder none of whose files is recognised, stops the audit: the wizard says so after
    detection and asks for the inputs again, instead of asking every other question first."""
    empty, unknown = tmp_path / "empty", tmp_path / "unknown"
    empty.mkdir()
    unknown.mkdir()
    (unknown / "notes.txt").write_text("call the vendor\n", encoding="utf-8")
    console = Console(file=io.StringIO(), width=160)
    with create_pipe_input() as pipe, pytest.raises(KeyboardInterrupt):
        # Ctrl-C at the question that follows the third inputs' detection.
        pipe.send_text(f"{empty}\rn{unknown}\rn{SAMPLES / 'openai_usage_csv'}\rn\x03")
        run_wizard(input=pipe, output=DummyOutput(), console=console, today=AS_OF)
    assert isinstance(console.file, io.StringIO)
    shown = console.file.getvalue()
    refusals = [line for line in shown.splitlines() if line.startswith("The audit cannot read these inputs")]
    assert refusals == [
        f"The audit cannot read these inputs ({empty}): give others.",
        f"The audit cannot read these inputs ({unknown / 'notes.txt'}): give others.",
    ]
    assert shown.count("Detected") == 3, "the third inputs detected, and no longer refused"


def test_answers_that_cannot_be_saved_are_a_one_line_error(tmp_path: Path) -> None:
    from auditor.config import save_config

    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    with pytest.raises(AuditorError, match=f"cannot write {blocker / 'audit.toml'}: {blocker} is not a directory"):
        save_config({"inputs": ["x.csv"]}, blocker / "audit.toml")
    assert blocker.read_text(encoding="utf-8") == "not a directory"
