"""One mapping from answers to a run: flags, a saved `audit.toml` and the wizard all become the same AuditOptions.

Every source of answers is turned into command-line words and parsed by the `audit run` command itself, so a
value from the wizard or a config file is converted and checked exactly as the same flag would be. A config
file's keys are the long option names without dashes (`as-of`, `to`, `data`, `json`) and `inputs`; a value is a
string, a list of strings (repeatable options, inputs) or a boolean (flags). Relative paths are read from the
directory `audit` runs in, as on the command line.
"""

from __future__ import annotations

import difflib
import json
import shlex
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import click

from auditor.errors import OptionError
from auditor.options import AuditOptions
from auditor.outputs import OutputPlan, refuse_unwritable_file, writing
from auditor.report.files import write_atomically

INPUTS = "inputs"
# Command-line parameters whose AuditOptions field has another name.
_FIELD_OF = {"format_name": "format"}
# Parameters a config file does not set: which config to read, and tracebacks.
_NOT_SAVED = frozenset({"config_file", "debug"})


def options_from(values: Mapping[str, Any]) -> AuditOptions:
    """The AuditOptions of parsed `audit run` parameters: each parameter named like a field (or renamed in
    `_FIELD_OF`) sets it; the others (outputs, gates, verbosity) are not the audit's business."""
    fields = AuditOptions.model_fields
    given = {_FIELD_OF.get(name, name): value for name, value in values.items()}
    return AuditOptions(**{name: value for name, value in given.items() if name in fields and value is not None})


def plan_from(values: Mapping[str, Any]) -> OutputPlan:
    """Which files the run writes, from the parsed output options."""
    return OutputPlan.from_flags(
        values["json_path"],
        values["xlsx_path"],
        values["pdf_path"],
        values["out_dir"],
        values.get("csv_dir"),
        values.get("focus_path"),
    )


def _options_by_key(command: click.Command) -> dict[str, click.Option]:
    """Config keys (long option names without the dashes) → the command's options."""
    keys: dict[str, click.Option] = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name not in _NOT_SAVED:
            long = [o for o in param.opts if o.startswith("--")]
            if long and not param.is_eager:
                keys[long[0][2:]] = param
    return keys


def words_of(answers: Mapping[str, Any], command: click.Command) -> list[str]:
    """Command-line words for config-style answers (`{"inputs": [...], "as-of": "2026-11-27", "to": [...]}`)."""
    keys = _options_by_key(command)
    words: list[str] = []
    for key, value in answers.items():
        if key == INPUTS:
            continue
        option = keys.get(key)
        if option is None:
            close = difflib.get_close_matches(key, [INPUTS, *keys], n=2, cutoff=0.5)
            hint = f"did you mean {' or '.join(close)}?" if close else "keys: " + ", ".join([INPUTS, *keys])
            raise OptionError(f"unknown setting '{key}'", hint)
        flag = f"--{key}"
        if option.is_flag:
            if not isinstance(value, bool):
                raise OptionError(f"setting '{key}' must be true or false, not {value!r}")
            words += [flag] if value else []
        elif option.multiple:
            for item in _as_list(key, value):
                words += [flag, item]
        else:
            words += [flag, _scalar(key, value)]
    inputs = answers.get(INPUTS, [])
    if inputs:
        words += ["--", *_as_list(INPUTS, inputs)]
    return words


def _as_list(key: str, value: Any) -> list[str]:
    if isinstance(value, str | int | float | date):
        return [_scalar(key, value)]
    if isinstance(value, list):
        return [_scalar(key, v) for v in value]
    raise OptionError(f"setting '{key}' must be a string or a list of strings, not {value!r}")


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float | date):
        raise OptionError(f"setting '{key}' must be a string, not {value!r}")
    return value.isoformat() if isinstance(value, date) else str(value)


def load_config(path: Path) -> dict[str, Any]:
    """The answers of a saved config file (TOML), or a one-line error naming the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        problem = f"{path}: cannot be read ({exc.strerror or exc})"
        raise OptionError(problem, "check the path given to --config") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OptionError(f"{path}: not a TOML file ({exc})", 'write one setting a line: as-of = "2026-11-27"') from exc


def parse_words(command: click.Command, words: Sequence[str], source: str) -> click.Context:
    """Parse words with the command, as the command line would; errors name where the words came from."""
    try:
        return command.make_context("audit run", list(words), resilient_parsing=False)
    except click.ClickException as exc:
        raise OptionError(f"{source}: {exc.format_message()}", "fix the setting; see audit run --help") from None


def merged_values(ctx: click.Context, config: Path) -> dict[str, Any]:
    """The run's parameters: each one given on the command line wins over the config file's value."""
    try:
        words = words_of(load_config(config), ctx.command)
    except OptionError as exc:
        if exc.message.startswith(str(config)):
            raise
        raise OptionError(f"{config}: {exc.message}", exc.hint) from None
    saved = parse_words(ctx.command, words, str(config))
    values = dict(ctx.params)
    for name, value in saved.params.items():
        if name in _NOT_SAVED:
            continue
        source = ctx.get_parameter_source(name)
        if source in (None, click.core.ParameterSource.DEFAULT):
            values[name] = value
    return values


def command_line(answers: Mapping[str, Any], command: click.Command, subcommands: Sequence[str] = ()) -> str:
    """The non-interactive command that runs the same audit (`audit run` when an input could be taken for an
    option or a subcommand)."""
    words = words_of(answers, command)
    cut = words.index("--") if "--" in words else len(words)
    options, inputs = words[:cut], words[cut + 1 :]
    if any(i.startswith("-") for i in inputs) or (inputs and inputs[0] in subcommands):
        return shlex.join(["audit", "run", *options, "--", *inputs])
    return shlex.join(["audit", *inputs, *options])


def render_config(answers: Mapping[str, Any]) -> str:
    """The answers as TOML, one setting a line (strings written as JSON strings, which TOML reads the same)."""
    lines = ["# Saved answers of `audit wizard`. Re-run with: audit --config audit.toml (flags given override)."]
    for key, value in answers.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list):
            text = "[" + ", ".join(json.dumps(str(v), ensure_ascii=False) for v in value) + "]"
        else:
            text = json.dumps(str(value), ensure_ascii=False)
        lines.append(f"{key} = {text}")
    return "\n".join(lines) + "\n"


def save_config(answers: Mapping[str, Any], path: Path) -> None:
    """Write the answers atomically (a temporary file renamed into place); a place they cannot be written to is a
    one-line error."""
    text = render_config(answers)

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    refuse_unwritable_file(path)
    writing(path, lambda target: write_atomically(target, write))
