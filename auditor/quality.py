"""The user's own evaluation results (`--quality FILE`): a CSV of model, task or segment, and score.

Columns (header names are case-insensitive, in any order; other columns are ignored):

- `model`: the model scored, as a catalog id (`provider:model`), its model id alone (`gpt-5-mini`) or the name
  the usage export writes;
- `segment` or `task`: the segment of the plan the score is for (a project, API key or catalog model, as the plan
  names its segments), or `*` for a score that holds for every segment;
- `score`: a number, higher is better, on the same scale for every model of a segment.

A row for a segment wins over a `*` row of the same model. Every problem is a one-line error naming the file, line
and column (exit 2); a row whose model or segment the plan never meets is counted in a note, not an error.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from auditor.errors import InputFileError

ALL = "*"
_SEGMENT_COLUMNS = ("segment", "task")
_HINT = "write a header model,segment,score (or model,task,score) and one score a line"


@dataclass(frozen=True)
class Score:
    model: str
    segment: str
    score: float
    line: int


@dataclass
class QualityFile:
    """The scores of a quality file, by (segment, model), both as written (compared case-insensitively)."""

    name: str
    scores: list[Score]
    used: set[int] = field(default_factory=set)

    def score(self, segment: str, names: tuple[str, ...]) -> Score | None:
        """The score of the model known by any of `names` for `segment` (its own row, else a `*` row)."""
        keys = {n.lower() for n in names if n}
        found: Score | None = None
        for s in self.scores:
            if s.model.lower() not in keys:
                continue
            if s.segment == segment or (s.segment == ALL and (found is None or found.segment == ALL)):
                found = s
        if found is not None:
            self.used.add(found.line)
        return found

    def unused(self) -> int:
        return sum(1 for s in self.scores if s.line not in self.used)


def load_quality(path: Path) -> QualityFile:
    """Read and validate a quality file; any problem is an InputFileError with the line and column."""
    label = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputFileError(label, "is not UTF-8 text", _HINT) from None
    except OSError as exc:
        raise InputFileError(label, f"cannot be read ({exc.strerror})", _HINT) from None
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if not header or not any(h.strip() for h in header):
        raise InputFileError(label, "is empty: no header line", _HINT, line=1)
    names = [h.strip().lower() for h in header]
    segment_column = next((c for c in _SEGMENT_COLUMNS if c in names), None)
    for column in ("model", segment_column or "segment", "score"):
        if column not in names:
            raise InputFileError(label, f"has no '{column}' column (header: {', '.join(header)})", _HINT, line=1)
    assert segment_column is not None
    at = {c: names.index(c) for c in ("model", segment_column, "score")}
    scores: list[Score] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(names):
            raise InputFileError(label, f"has {len(row)} fields, the header {len(names)}", _HINT, line=line)
        model, segment, text_score = (row[at[c]].strip() for c in ("model", segment_column, "score"))
        if not model:
            raise InputFileError(label, "the model is empty", _HINT, line=line, column="model")
        if not segment:
            raise InputFileError(
                label, f"the {segment_column} is empty (write * for every segment)", _HINT, line=line,
                column=segment_column,
            )  # fmt: skip
        try:
            score = float(text_score)
        except ValueError:
            score = math.nan
        if not math.isfinite(score):
            raise InputFileError(label, f"'{text_score}' is not a number", _HINT, line=line, column="score")
        key = (model.lower(), segment)
        if key in seen:
            raise InputFileError(
                label, f"{model} already has a score for {segment} on line {seen[key]}", _HINT, line=line,
                column="model",
            )  # fmt: skip
        seen[key] = line
        scores.append(Score(model, segment, score, line))
    if not scores:
        raise InputFileError(label, "has a header but no score", _HINT, line=2)
    return QualityFile(label, scores)
