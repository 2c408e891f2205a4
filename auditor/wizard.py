"""`audit wizard`: a guided first audit. It asks, shows, and builds answers; it holds no audit logic.

The answers are the settings of a config file (`auditor.config`): they are turned into the words of the
equivalent command and parsed by `audit run` itself, so the wizard, `audit --config audit.toml` and the flags
build the same AuditOptions and run the same code. Nothing is written before the last confirmation: the
outputs and the answers file are written atomically after the run, so Ctrl-C leaves nothing half-written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import questionary
from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor.assumptions import default_assumptions, resolve_assumptions
from auditor.cli_commands import Detected, detect_files, detected_table, price_line, search_models
from auditor.config import command_line, parse_words, save_config, words_of
from auditor.errors import AuditorError, OptionError
from auditor.importers import importer_named
from auditor.outputs import DEFAULT_STEM, refuse_unwritable_file
from auditor.policy import load_policy
from auditor.quality import load_quality
from auditor.result import AuditResult
from auditor.risk import DATA_CLASSES, SECTORS
from pricing.catalog import CatalogModel, default_candidates, providers_by_id
from pricing.endpoints import JURISDICTIONS

RECOMMENDED = "The recommended set"
PICK = "Search the catalog and pick"
_NO_RATE = re.compile(r"no exchange rate for ([A-Z]{3})")
SEARCH_LIMIT = 15


class _Ask:
    """questionary prompts on one input and output (a terminal, or a pipe in tests); Ctrl-C propagates."""

    def __init__(self, input: Any = None, output: Any = None) -> None:
        self.io = {k: v for k, v in (("input", input), ("output", output)) if v is not None}

    def path(self, message: str, **kw: Any) -> str:
        return str(questionary.path(message, **kw, **self.io).unsafe_ask())

    def file(self, message: str, loader: Any, suffix: str) -> str:
        """An optional file (empty: none), with path completion of folders and `suffix` files; checked on Enter by
        `loader`, the run's own, so a bad file is its one-line message and the question stays open."""
        return self.path(
            message,
            validate=_loads(loader),
            validate_while_typing=False,
            file_filter=lambda name: Path(name).is_dir() or name.lower().endswith(suffix),
        ).strip()

    def text(self, message: str, **kw: Any) -> str:
        return str(questionary.text(message, **kw, **self.io).unsafe_ask())

    def confirm(self, message: str, default: bool = True) -> bool:
        return bool(questionary.confirm(message, default=default, **self.io).unsafe_ask())

    def select(self, message: str, choices: list[str]) -> str:
        return str(questionary.select(message, choices=choices, **self.io).unsafe_ask())

    def checkbox(self, message: str, choices: list[questionary.Choice]) -> list[str]:
        return list(questionary.checkbox(message, choices=choices, **self.io).unsafe_ask())


def _exists(text: str) -> bool | str:
    return True if text.strip() and Path(text.strip()).exists() else "no such file or folder"


def _writable(empty: str, name: str = "") -> Callable[[str], bool | str]:
    """The answer (`empty` when none is typed) is a place a file can be written, or with `name` a folder for a file
    of that name: checked as `audit run` checks its outputs before the run."""
    return _loads(lambda path: refuse_unwritable_file(path / name if name else path), empty)


def _day(text: str) -> bool | str:
    try:
        date.fromisoformat(text.strip())
    except ValueError:
        return "a date as YYYY-MM-DD, e.g. 2026-11-27"
    return True


def _positive(text: str) -> bool | str:
    try:
        ok = Decimal(text.strip()) > 0
    except InvalidOperation:
        ok = False
    return True if ok else "a positive number, USD per one unit of the currency"


def _providers(text: str) -> bool | str:
    import difflib

    known = providers_by_id()
    for name in (n.strip().lower() for n in text.split(",") if n.strip()):
        if name not in known:
            close = difflib.get_close_matches(name, list(known), n=1)
            return f"unknown provider '{name}'" + (f"; did you mean {close[0]}?" if close else "")
    return True


def _loads(loader: Any, empty: str = "") -> Callable[[str], bool | str]:
    """The answer checked by `loader` (its one-line message, or True); an empty answer stands for `empty`, and for
    no file where that is empty too."""

    def check(text: str) -> bool | str:
        given = text.strip() or empty
        if not given:
            return True
        try:
            loader(Path(given))
        except AuditorError as exc:
            return exc.message
        return True

    return check


def _assumption_ok(name: str) -> Any:
    def check(text: str) -> bool | str:
        try:
            resolve_assumptions([f"{name}={text.strip()}"])
        except OptionError as exc:
            return exc.message.split(": ", 1)[-1]
        return True

    return check


def ask_inputs(ask: _Ask, console: Console, as_of: date) -> tuple[list[str], list[Detected]]:
    """Paths until the user has no more, then what was detected in each file; again until confirmed."""
    while True:
        inputs: list[str] = []
        while True:
            inputs.append(ask.path("File or folder to audit:", validate=_exists).strip())
            if not ask.confirm("Add another file or folder?", default=False):
                break
        with console.status("Detecting the format of each file…") as status:
            found = detect_files(
                tuple(Path(p) for p in inputs), as_of=as_of, on_file=lambda label: status.update(f"Reading {label}…")
            )
        console.print(detected_table(found, why=False))
        refused = sorted({d.label for d in found if d.refused})
        if refused or not any(d.format is not None for d in found):
            # The run would stop at once: said now, and the inputs asked again, before the other questions.
            named = f" ({', '.join(refused)})" if refused else ""
            console.print(Text(f"The audit cannot read these inputs{named}: give others.", style="yellow"))
            continue
        if ask.confirm(f"Audit these {sum(d.format is not None for d in found)} files?"):
            return inputs, found


def ask_fixes(ask: _Ask, found: list[Detected]) -> dict[str, Any]:
    """Exchange rates and batch days that the detected files need."""
    answers: dict[str, Any] = {}
    currencies = sorted({m.group(1) for d in found for m in [_NO_RATE.search(d.problem)] if m})
    fx = []
    for c in currencies:
        rate = ask.text(f"USD per 1 {c} (amounts are billed in {c}; a rate is never assumed):", validate=_positive)
        fx.append(f"{c}={rate.strip()}")
    if fx:
        answers["fx"] = fx
    dated = [d for d in found if d.format and (i := importer_named(d.format)) is not None and i.day_option]
    days = []
    for d in dated:
        day = ask.text(f"Day {d.label} ran (its lines carry no time), YYYY-MM-DD:", validate=_day).strip()
        days.append(f"{Path(d.label).name}={day}" if len(dated) > 1 else day)
    if days:
        answers["batch-date"] = days
    return answers


def _listed(values: list[str], empty: str) -> str:
    return ", ".join(values) if values else empty


def ask_profile(ask: _Ask, console: Console) -> dict[str, Any]:
    """The data profile: a policy file (optional), data classes, sectors, jurisdictions, banned providers. The
    answers are the flags, so they meet the file as the flags do (`auditor.policy.profile_of`)."""
    answers: dict[str, Any] = {}
    path = ask.file("Policy file (TOML, as docs/policy-example.toml; empty: none):", load_policy, ".toml")
    policy = load_policy(Path(path)) if path else None
    if policy is None:
        unpicked = {
            "data": "none picked: not given, no compliance gates",
            "sector": "none picked: none",
            "allow": "none picked: all allowed",
            "ban": "empty: none",
        }
    else:
        answers["policy"] = path
        data, allow = _listed(policy.data, "not given"), _listed(policy.allow_jurisdictions, "all allowed")
        sectors, ban = _listed(policy.sectors, "none"), _listed(policy.ban_providers, "none")
        console.print(
            Text(
                f"{path}: data {data}; sectors {sectors}; allowed jurisdictions {allow}; banned providers {ban}. "
                "Data classes and jurisdictions picked next replace the file's (as --data and --allow-jurisdiction "
                "do); sectors and banned providers picked are added to the file's (as --sector and --ban-provider)."
            )
        )
        unpicked = {
            "data": f"none picked keeps the file's: {data}",
            "sector": f"those picked are added to the file's: {sectors}",
            "allow": f"none picked keeps the file's: {allow}",
            "ban": f"empty: none; added to the file's: {ban}",
        }
    classes = ask.checkbox(
        f"Data classes in the traffic (space picks; {unpicked['data']}):", [questionary.Choice(c) for c in DATA_CLASSES]
    )
    if classes:
        answers["data"] = [",".join(classes)]
    sectors_picked = ask.checkbox(
        f"Sector overlays, each adding its checklist items ({unpicked['sector']}):",
        [questionary.Choice(c) for c in SECTORS],
    )
    if sectors_picked:
        answers["sector"] = [",".join(sectors_picked)]
    allowed = ask.checkbox(
        f"Jurisdictions a candidate's vendor may be in ({unpicked['allow']}):",
        [questionary.Choice(j) for j in JURISDICTIONS],
    )
    if allowed:
        answers["allow-jurisdiction"] = [",".join(allowed)]
    banned = ask.text(
        f"Providers no traffic may move to (comma-separated ids, {unpicked['ban']}):", validate=_providers
    )
    if banned.strip():
        answers["ban-provider"] = [",".join(b.strip().lower() for b in banned.split(",") if b.strip())]
    return answers


def ask_candidates(ask: _Ask, console: Console, as_of: date) -> dict[str, Any]:
    recommended = default_candidates()
    how = ask.select(
        "Candidates to re-price the workload on:",
        [f"{RECOMMENDED} ({len(recommended)} models)", PICK],
    )
    if how.startswith(RECOMMENDED):
        return {}
    picked: list[str] = []
    while True:
        query = ask.text("Search the catalog (a provider or model name; empty when done):").strip()
        if not query:
            if picked:
                return {"to": picked}
            console.print(Text("No candidate picked: the recommended set is used."))
            return {}
        hits = search_models(query)
        if not hits:
            console.print(Text(f"No catalog model matches '{query}'."))
            continue
        choices = [
            questionary.Choice(f"{m.ref} — {price_line(m, as_of)}{_window(m)}", value=m.ref, checked=m.ref in picked)
            for m in hits[:SEARCH_LIMIT]
        ]
        more = f" (first {SEARCH_LIMIT} of {len(hits)})" if len(hits) > SEARCH_LIMIT else ""
        chosen = ask.checkbox(f"Pick candidates{more}:", choices)
        picked += [c for c in chosen if c not in picked]
        console.print(Text("Candidates: " + (", ".join(picked) or "none yet")))


def ask_evidence(ask: _Ask) -> dict[str, Any]:
    """Your own evaluation results, which the migration plan's recommendations use."""
    path = ask.file(
        "Evaluation results for the migration plan (CSV: model, segment or task, score, as docs/quality-example.csv; "
        "empty: none, the plan names the evaluations required):",
        load_quality,
        ".csv",
    )
    return {"quality": path} if path else {}


def _window(model: CatalogModel) -> str:
    window = model.model.context_window
    return f", context {window // 1000:,}k" if window else ", context unknown"


def ask_assumptions(ask: _Ask, console: Console, today: date) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    as_of = ask.text("Price the candidates as of (YYYY-MM-DD):", default=today.isoformat(), validate=_day)
    answers["as-of"] = as_of.strip()
    table = Table(title="Migration assumptions (defaults)", title_justify="left")
    for column in ("name", "default", "range", "what it is"):
        table.add_column(column, overflow="fold")
    defaults = default_assumptions()
    for a in defaults:
        table.add_row(a.name, f"{a.value}", f"{a.low}..{a.high}", a.description)
    console.print(table)
    console.print(Text("Defaults of token_ratio and the verbosities are set per model family unless you set them."))
    if not ask.confirm("Change any assumption?", default=False):
        return answers
    changed = []
    for a in defaults:
        value = ask.text(f"{a.name}:", default=f"{a.value}", validate=_assumption_ok(a.name)).strip()
        if Decimal(value) != a.value:
            changed.append(f"{a.name}={value}")
    if changed:
        answers["assume"] = changed
    return answers


def ask_outputs(ask: _Ask) -> tuple[dict[str, Any], Path]:
    kinds = ask.checkbox(
        "Outputs to write:",
        [
            questionary.Choice("PDF report", value="pdf", checked=True),
            questionary.Choice("XLSX workbook", value="xlsx", checked=True),
            questionary.Choice("JSON result", value="json"),
        ],
    )
    folder = ask.path(
        "Folder for the outputs:",
        default=".",
        only_directories=True,
        validate=_writable(".", f"{DEFAULT_STEM}.pdf"),
        validate_while_typing=False,
    )
    folder = folder.strip() or "."
    answers: dict[str, Any] = {
        kind: str(Path(folder) / f"{DEFAULT_STEM}.{kind}") for kind in ("json", "xlsx", "pdf") if kind in kinds
    }
    save = ask.path(
        "Save the answers to:", default="audit.toml", validate=_writable("audit.toml"), validate_while_typing=False
    )
    save = save.strip() or "audit.toml"
    return answers, Path(save)


def sheet(answers: dict[str, Any], command: str) -> Table:
    """The assumption sheet: every setting the run uses, as it will be passed."""
    table = Table(title="Assumption sheet", title_justify="left", show_header=False)
    table.add_column("setting")
    table.add_column("value", overflow="fold")
    labels = {
        "inputs": "inputs",
        "as-of": "prices as of",
        "fx": "exchange rates",
        "batch-date": "batch days",
        "policy": "policy file",
        "data": "data classes",
        "sector": "sector overlays",
        "allow-jurisdiction": "allowed jurisdictions",
        "ban-provider": "banned providers",
        "to": "candidates",
        "quality": "evaluation results",
        "assume": "assumptions changed",
        "pdf": "PDF",
        "xlsx": "XLSX",
        "json": "JSON",
    }
    policy = "policy" in answers
    shown = {
        "data": "the policy file's" if policy else "not given (no compliance gates)",
        "sector": "the policy file's" if policy else "none",
        "allow-jurisdiction": "the policy file's" if policy else "all",
        "ban-provider": "the policy file's" if policy else "none",
        "to": f"the recommended set ({len(default_candidates())} models)",
        "quality": "none (the plan names the evaluations required)",
        "assume": "none (defaults, per model family)",
    }
    # With a policy file, the flags' merge rules (auditor.policy.profile_of), said in words.
    merged = {"data": "replacing", "allow-jurisdiction": "replacing", "sector": "added to", "ban-provider": "added to"}
    for key, label in labels.items():
        value = answers.get(key, shown.get(key))
        if value is None:
            continue
        text = ", ".join(value) if isinstance(value, list) else str(value)
        if policy and key in merged and key in answers:
            text += f" ({merged[key]} the policy file's)"
        table.add_row(label, text)
    table.add_row("command", command)
    return table


def run_wizard(
    input: Any = None, output: Any = None, console: Console | None = None, today: date | None = None
) -> AuditResult | None:
    """Ask, confirm, run through `audit run`, print the equivalent command and save the answers."""
    from auditor.cli import RUN, cli, execute

    console = console or Console(highlight=False)
    today = today or datetime.now(UTC).date()
    ask = _Ask(input, output)
    run_command = cli.commands[RUN]
    console.print(Text("AI spend audit: a guided run. Ctrl-C at any time leaves nothing written.", style="bold"))
    inputs, found = ask_inputs(ask, console, today)
    answers: dict[str, Any] = {"inputs": inputs}
    answers |= ask_fixes(ask, found)
    answers |= ask_profile(ask, console)
    answers |= ask_candidates(ask, console, today)
    answers |= ask_evidence(ask)
    answers |= ask_assumptions(ask, console, today)
    outputs, save_to = ask_outputs(ask)
    answers |= outputs
    command = command_line(answers, run_command, list(cli.commands))
    # Parsed now, as the command would be: a bad answer stops here, before anything runs.
    values = dict(parse_words(run_command, words_of(answers, run_command), "the wizard's answers").params)
    console.print(sheet(answers, command))
    if not ask.confirm("Run the audit?"):
        console.print(Text("Nothing was run or written."))
        return None
    result = execute(values)
    console.print(Text("The same audit without questions:", style="bold"))
    console.print(Text(command), soft_wrap=True)
    save_config(answers, save_to)
    console.print(Text(f"Answers saved to {save_to}; re-run them with: audit --config {save_to}"), soft_wrap=True)
    return result
