"""The command line: the default command, --fail-if, diff, detect, formats, models, render, --config, and help
that the README's CLI section matches."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import click
import pytest
from genai_prices import calc_price
from genai_prices.types import Usage

from auditor.cli import cli
from auditor.cli_commands import detect_files
from auditor.importers import IMPORTERS
from tests.conftest import AS_OF, ROOT, SAMPLES

OPENAI = str(SAMPLES / "openai_usage_csv")
GEMINI = "google:gemini-3.8-flash"  # its catalog price doubles on 2027-01-01


def _audit(run_cli, tmp_path: Path, name: str, *args: str):  # type: ignore[no-untyped-def]
    out = tmp_path / name
    run = run_cli(OPENAI, "--to", GEMINI, "--to", "openai:gpt-5-mini", "--json", str(out), "--quiet", *args)
    assert run.status == 0, run.err
    return out


def test_fail_if_trips_with_exit_3_and_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = _audit(run_cli, tmp_path, "r.json", "--as-of", AS_OF.isoformat())
    best = json.loads(out.read_text())["scenarios"][0]
    pct = best["savings_pct"]
    run = run_cli(OPENAI, "--to", GEMINI, "--to", "openai:gpt-5-mini", "--as-of", AS_OF.isoformat(), "--json",
                  str(tmp_path / "g.json"), "--quiet", "--fail-if", f"savings_pct>{int(pct) - 1}")  # fmt: skip
    assert run.status == 3
    lines = run.err.strip().splitlines()
    assert len(lines) == 1
    assert f"savings_pct>{int(pct) - 1}" in lines[0] and f"{pct:.1f}" in lines[0] and best["candidate"] in lines[0]
    assert (tmp_path / "g.json").exists()  # outputs are written before the gate is checked
    # Not tripped: exit 0.
    run = run_cli(OPENAI, "--to", GEMINI, "--as-of", AS_OF.isoformat(), "--json", str(tmp_path / "h.json"),
                  "--quiet", "--fail-if", "savings_pct>1000", "--fail-if", "unpriced_share>0.5")  # fmt: skip
    assert run.status == 0, run.err


def test_fail_if_unpriced_share_and_risk(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = _audit(run_cli, tmp_path, "r.json", "--as-of", AS_OF.isoformat())
    totals = json.loads(out.read_text())["totals"]
    classes = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens")
    share = Decimal(totals["unpriced_tokens"]) / sum(Decimal(totals[c]) for c in classes)
    assert 0 < share < 1
    base = [OPENAI, "--to", GEMINI, "--as-of", AS_OF.isoformat(), "--json", str(tmp_path / "x.json"), "--quiet"]
    tripped = run_cli(*base, "--fail-if", f"unpriced_share>{share - Decimal('0.0001')}")
    assert tripped.status == 3 and f"unpriced_share is {share:.4f}" in tripped.err
    assert run_cli(*base, "--fail-if", f"unpriced_share>{share}").status == 0
    # A PRC-only allowance blocks every US candidate: the best scenario is then rated blocked.
    blocked = run_cli(*base, "--allow-jurisdiction", "PRC", "--fail-if", "risk=blocked")
    assert blocked.status == 3 and "is rated blocked" in blocked.err
    assert run_cli(*base, "--fail-if", "risk=blocked").status == 0


@pytest.mark.parametrize(
    ("expr", "said"),
    [("savngs>20", "did you mean savings?"), ("risk=purple", "not one of green"), ("savings_pct", "not an expression")],
)
def test_a_bad_fail_if_is_a_usage_error(run_cli, expr: str, said: str) -> None:  # type: ignore[no-untyped-def]
    run = run_cli(OPENAI, "--fail-if", expr)
    assert run.status == 2
    assert said in run.err and "savings_pct>20, unpriced_share>0.05, risk=blocked" in run.err


def test_diff_of_two_as_of_dates_lists_the_price_changes(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = _audit(run_cli, tmp_path, "old.json", "--as-of", "2026-11-27")
    new = _audit(run_cli, tmp_path, "new.json", "--as-of", "2027-01-15")
    run = run_cli("diff", str(old), str(new))
    assert run.status == 0, run.err
    text = run.out

    def per_mtok(day: str, **tokens: int) -> Decimal:
        price = calc_price(Usage(**tokens), "gemini-3.8-flash", provider_id="google",
                           genai_request_timestamp=datetime.fromisoformat(f"{day}T12:00:00+00:00"))  # fmt: skip
        return price.total_price

    before = per_mtok("2026-11-27", input_tokens=1_000_000)
    after = per_mtok("2027-01-15", input_tokens=1_000_000)
    assert before != after
    assert f"{GEMINI}: input ${before.normalize():f} → ${after.normalize():f}" in text
    assert "as of: 2026-11-27 → 2027-01-15" in text
    # gpt-5-mini's price did not move: not listed among the price changes.
    changes = text[text.index("price changes between") :]
    assert "openai:gpt-5-mini" not in changes
    o, n = (json.loads(p.read_text()) for p in (old, new))
    g0 = next(s for s in o["scenarios"] if s["candidate"] == GEMINI)
    g1 = next(s for s in n["scenarios"] if s["candidate"] == GEMINI)
    assert f"{GEMINI}: ${Decimal(g0['projected_cost']):,.2f} → ${Decimal(g1['projected_cost']):,.2f}" in text


def test_diff_of_the_same_day_lists_no_price_changes(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = _audit(run_cli, tmp_path, "old.json", "--as-of", "2026-11-27")
    run = run_cli("diff", str(old), str(old))
    assert run.status == 0 and "price changes" not in run.out and "as of: 2026-11-27 (both)" in run.out


def test_render_rewrites_outputs_from_a_saved_result(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    saved = _audit(run_cli, tmp_path, "r.json", "--as-of", AS_OF.isoformat())
    run = run_cli("render", str(saved), "--json", str(tmp_path / "again.json"), "--xlsx", str(tmp_path / "r.xlsx"))
    assert run.status == 0, run.err
    assert (tmp_path / "again.json").read_bytes() == saved.read_bytes()
    assert (tmp_path / "r.xlsx").stat().st_size > 0
    (tmp_path / "bad.json").write_text('{"schema_version": "1"}')
    bad = run_cli("render", str(tmp_path / "bad.json"), "--json", "-")
    assert bad.status == 2 and "not an audit result" in bad.err


def test_detect_says_which_importer_why_and_what_it_found(run_cli) -> None:  # type: ignore[no-untyped-def]
    path = SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv"
    run = run_cli("detect", str(path), "--as-of", AS_OF.isoformat())
    assert run.status == 0, run.err
    import csv

    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    days = sorted(r["start_time_iso"][:10] for r in rows)
    flat = re.sub(r"[\s│┃]+", " ", run.out)
    assert "openai_usage_csv" in flat and f"{days[0]} to {days[-1]}" in flat
    assert f" {len(rows)} " in flat and "required start_time" in flat


def test_detect_lists_each_file_of_a_folder_it_cannot_read(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A folder none of whose files is recognised: `audit run` refuses it in one line; `detect` shows each file on
    its row with why, and an empty folder on one row."""
    unknown, empty = tmp_path / "unknown", tmp_path / "empty"
    unknown.mkdir()
    empty.mkdir()
    (unknown / "invoice.csv").write_text("date,amount\n2026-10-01,12.00\n", encoding="utf-8")
    (unknown / "notes.txt").write_text("call the vendor\n", encoding="utf-8")
    found = detect_files((unknown, empty), as_of=AS_OF)
    assert [(d.label, d.format, d.refused) for d in found] == [
        (str(unknown / "invoice.csv"), None, True),
        (str(unknown / "notes.txt"), None, True),
        (str(empty), None, True),
    ]
    assert found[0].problem.startswith("not a format the auditor knows (header: date,amount)")
    assert found[2].problem.startswith("holds no file")
    run = run_cli("detect", str(unknown), str(empty), "--as-of", AS_OF.isoformat())
    assert run.status == 0, run.err
    flat = re.sub(r"[\s│┃]+", " ", run.out)
    assert flat.count(" not recognised ") == 3 and "holds no file" in flat, "a row each: the two files, the folder"


def test_formats_lists_every_importer_with_its_header(run_cli) -> None:  # type: ignore[no-untyped-def]
    run = run_cli("formats")
    assert run.status == 0
    for importer in IMPORTERS:
        assert importer.name in run.out and importer.example_header[:60] in run.out
    one = run_cli("formats", "openai_usage_cvs")
    assert one.status == 2 and "did you mean openai_usage_csv" in one.err


def test_models_shows_prices_window_and_endpoint(run_cli) -> None:  # type: ignore[no-untyped-def]
    run = run_cli("models", "openai:gpt-5-mini", "--as-of", AS_OF.isoformat())
    assert run.status == 0, run.err
    price = calc_price(Usage(input_tokens=1_000_000), "gpt-5-mini", provider_id="openai",
                       genai_request_timestamp=datetime(2026, 11, 27, 12, tzinfo=UTC)).total_price  # fmt: skip
    assert f"input           ${price.normalize():f} per million" in run.out
    assert "context window: 400,000 tokens" in run.out and "OpenAI API" in run.out
    miss = run_cli("models", "gtp-5-mini")
    assert miss.status == 2 and "did you mean" in miss.err


def test_an_unknown_command_or_option_says_what_was_meant(run_cli) -> None:  # type: ignore[no-untyped-def]
    run = run_cli("fromats")
    assert run.status == 2 and "did you mean: audit formats?" in run.err
    run = run_cli(OPENAI, "--jsn", "-")
    assert run.status == 2 and "--json" in run.err
    run = run_cli(OPENAI, "--format", "openai_usage")
    assert run.status == 2 and "did you mean openai_usage_csv" in run.err


def test_no_arguments_off_a_terminal_is_a_usage_error(run_cli) -> None:  # type: ignore[no-untyped-def]
    run = run_cli()
    assert run.status == 2 and "no inputs" in run.err
    run = run_cli("wizard")
    assert run.status == 2 and "the wizard needs a terminal" in run.err


def test_config_values_are_overridden_by_flags(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "audit.toml"
    config.write_text(f'inputs = ["{OPENAI}"]\nas-of = "2026-11-27"\nto = ["{GEMINI}"]\nquiet = true\n'
                      f'json = "{tmp_path / "a.json"}"\n')  # fmt: skip
    assert run_cli("--config", str(config)).status == 0
    assert run_cli("--config", str(config), "--as-of", "2027-01-15", "--json", str(tmp_path / "b.json")).status == 0
    a, b = (json.loads((tmp_path / n).read_text()) for n in ("a.json", "b.json"))
    assert (a["as_of"], b["as_of"]) == ("2026-11-27", "2027-01-15")
    assert {s["candidate"] for s in a["scenarios"]} == {GEMINI, "hybrid"} == {s["candidate"] for s in b["scenarios"]}
    config.write_text('tto = ["x"]\n')
    bad = run_cli("--config", str(config))
    assert bad.status == 2 and f"{config}: unknown setting 'tto'" in bad.err and "did you mean to?" in bad.err


def test_a_config_s_relative_input_not_found_says_where_it_is_read_from(  # type: ignore[no-untyped-def]
    run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "usage.csv").write_bytes(
        (SAMPLES / "openai_usage_csv" / "completions_usage_2026-10-01_2026-10-14.csv").read_bytes()
    )
    (saved / "audit.toml").write_text('inputs = ["usage.csv"]\nas-of = "2026-11-27"\nquiet = true\n', encoding="utf-8")
    (saved / "other.toml").write_text('inputs = ["gone.csv"]\nquiet = true\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    away = run_cli("--config", "saved/audit.toml", "--json", "-")
    assert away.status == 2 and away.err.splitlines() == [
        "error: usage.csv: no such file or directory",
        f"hint: relative paths in saved/audit.toml are read from the directory audit runs in ({tmp_path}); usage.csv "
        "is in saved: run audit there",
    ]
    gone = run_cli("--config", "saved/other.toml", "--json", "-")
    assert (
        gone.err.splitlines()[1]
        == f"hint: relative paths in saved/other.toml are read from the directory audit runs in ({tmp_path})"
    )
    monkeypatch.chdir(saved)
    assert run_cli("--config", "audit.toml", "--json", "-").status == 0
    plain = run_cli("gone.csv", "--json", "-")  # no config: the plain hint
    assert plain.status == 2 and plain.err.splitlines()[1] == "hint: check the path"


START = "<!-- cli-help:start -->"
END = "<!-- cli-help:end -->"


def cli_help_block() -> str:
    """Every command's --help as printed (110 columns), the README's CLI reference."""
    from click.testing import CliRunner

    parts = []
    for args in ([], *([name] for name in cli.commands)):
        text = CliRunner().invoke(cli, [*args, "--help"], prog_name="audit", terminal_width=110).output
        parts.append(f"```text\n$ {' '.join(['audit', *args, '--help'])}\n{text.rstrip()}\n```")
    return "\n\n".join(parts)


def test_every_command_and_option_has_help_and_is_in_the_readme(update_goldens: bool) -> None:
    """The README's CLI section holds each command's --help verbatim (rewrite it with --update-goldens)."""
    readme_path = ROOT / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    assert cli.help
    for name, command in cli.commands.items():
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"audit {name} {param.opts} has no help"
    block = cli_help_block()
    head, rest = readme.split(START)
    _, tail = rest.split(END)
    if update_goldens:
        readme_path.write_text(f"{head}{START}\n{block}\n{END}{tail}", encoding="utf-8")
        return
    section = rest.split(END)[0]
    for name, command in cli.commands.items():
        assert f"$ audit {name} --help" in section, name
        for param in command.params:
            if isinstance(param, click.Option):
                long = next(o for o in param.opts if o.startswith("--"))
                assert long in section, f"audit {name} {long} is not in the README"
    assert section.strip() == block, "the README's CLI section differs from --help: run this test with --update-goldens"


def test_the_command_runs_with_the_collector_enabled_and_the_imports_frozen(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import gc
    import tomllib

    from auditor import launch

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["audit"] == "auditor.launch:main"
    seen: list[tuple[bool, int]] = []
    made: list[list[int]] = []

    def run() -> int:
        seen.append((gc.isenabled(), gc.get_freeze_count()))
        made.extend([i] for i in range(1000))  # objects of the run, alive at its end
        return 0

    monkeypatch.setattr("auditor.cli.main", run)
    gc.unfreeze()
    try:
        assert launch.main() == 0
        after = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    enabled, frozen = seen[0]
    assert enabled and gc.isenabled(), "paused only while importing"
    assert frozen > 0, "the imported modules' objects are left out of later collections"
    assert after >= frozen + len(made), "the run's objects are frozen at its end: shutdown does not walk them"
