"""The bad-input corpus: every broken or hostile file ends in an asserted outcome, never a traceback.

Each case is audited, with its exact row accounting (rows read = used + skipped + rejected, the numbers
written out), or refused: exit 2, an `error:` line naming the file and the problem, a `hint:` line saying
what to do, nothing else. Small cases are committed in `tests/hostile/` (made from the vendors' samples,
their real headers); large ones (a 5 MB field, 20,000 columns, bombs) are generated here at test time.
The count of cases is in the README's Reliability section: keep it true when adding one.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import AS_OF, SAMPLES

HOSTILE = Path(__file__).resolve().parent / "hostile"
OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
BATCH = SAMPLES / "openai_batch_jsonl" / "batch_6790a1b7_output.jsonl"
ARGS = ("--as-of", AS_OF.isoformat(), "--json", "-", "--to", "openai:gpt-5-mini")

# The six OpenRouter requests the committed CSV cases are made of (the first six of the vendor sample).
_LINES = OPENROUTER.read_text(encoding="utf-8").splitlines()
HEADER, ROWS = _LINES[0], _LINES[1:7]
NAMES = HEADER.split(",")


def _cost(*indexes: int) -> Decimal:
    """The billed cost of the given requests (0-based among the six), read with the csv module."""
    rows = list(csv.DictReader(io.StringIO("\n".join([HEADER, *ROWS]))))
    return sum((Decimal(rows[i]["cost_total"]) for i in indexes), Decimal(0))


ALL_SIX = _cost(0, 1, 2, 3, 4, 5)


@dataclass(frozen=True)
class Audited:
    """The run succeeds; each input's (read, used, skipped, rejected), in the order the result lists them."""

    accounts: list[tuple[int, int, int, int]]
    billed: Decimal | None = None
    rejected_lines: list[int] = field(default_factory=list)
    warning: str = ""
    skipped_files: list[str] = field(default_factory=list)
    """Substrings of the reasons of files listed as skipped, in order."""


@dataclass(frozen=True)
class Refused:
    """Exit 2: one `error:` line holding each needle and the file's name, one `hint:` line."""

    needles: tuple[str, ...]
    names: str = ""
    """What the error line must name (a member of an archive: `archive.zip!member`); the given path when empty."""


@dataclass(frozen=True)
class Case:
    id: str
    build: Callable[[Path], list[str]]
    """Writes the case under a temporary directory; returns the command-line arguments naming it."""
    outcome: Audited | Refused


_COMMITTED: set[str] = set()


def _committed(name: str) -> Callable[[Path], list[str]]:
    _COMMITTED.add(name)
    return lambda _tmp: [str(HOSTILE / name)]


def _written(name: str, data: bytes | str) -> Callable[[Path], list[str]]:
    def build(tmp: Path) -> list[str]:
        path = tmp / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return [str(path)]

    return build


def _with_field(row: str, column: str, value: str) -> str:
    fields = row.split(",")
    fields[NAMES.index(column)] = value
    return ",".join(fields)


def _csv(rows: list[str], header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def _five_mb_field() -> str:
    return _csv([_with_field(r, "user", "x" * 5_000_000) if i == 2 else r for i, r in enumerate(ROWS)])


def _wide() -> str:
    """20,000 extra columns after the export's own (a spreadsheet's stray columns, or an attack on the reader)."""
    extra = ",".join(f"extra_{i}" for i in range(20_000))
    return _csv([r + "," * 20_000 for r in ROWS], f"{HEADER},{extra}")


def _blank_and_negative() -> list[str]:
    rows = list(ROWS)
    rows[1] = _with_field(_with_field(rows[1], "tokens_cached", " "), "tokens_completion", "-5")
    rows[3] = _with_field(rows[3], "tokens_prompt", "-3")  # rejected by the importer's rules
    return rows


def _truncated_gzip(tmp: Path) -> list[str]:
    data = gzip.compress((_csv(ROWS) * 50).encode())
    path = tmp / "openrouter_logs.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    return [str(path)]


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return path


def _zip_bomb(tmp: Path, inflated: int = 64 * 1024**2) -> Path:
    """An archive whose one CSV member inflates more than a thousand times its size (zeros after a header)."""
    path = tmp / "exports.zip"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle,
        bundle.open("openrouter_logs.csv", "w", force_zip64=True) as member,
    ):
        member.write((HEADER + "\n").encode())
        block = b"0" * (1 << 20)
        for _ in range(inflated >> 20):
            member.write(block)
    return path


def _gzip_bomb(tmp: Path) -> list[str]:
    path = tmp / "openrouter_logs.csv.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write((HEADER + "\n").encode())
        for _ in range(100):
            out.write(b"\n" * (1 << 20))  # short lines: the ratio limit stops it, not the line limit
    return [str(path)]


def _nested_archives(tmp: Path) -> list[str]:
    """A CSV beside an archive holding an archive holding a CSV: the third level is skipped, not opened."""
    inner = _zip(tmp / "inner.zip", {"deep.csv": _csv(ROWS).encode()}).read_bytes()
    middle = _zip(tmp / "middle.zip", {"inner.zip": inner}).read_bytes()
    return [str(_zip(tmp / "outer.zip", {"openrouter_logs.csv": _csv(ROWS).encode(), "middle.zip": middle}))]


def _traversal_names(tmp: Path) -> list[str]:
    """Member names that climb out of any directory: they name the rows' file, never where anything is written."""
    (tmp / "run").mkdir()
    members = {"../../escaped.csv": _csv(ROWS[:3]).encode(), "/tmp/absolute-escaped.csv": _csv(ROWS[3:]).encode()}
    return [str(_zip(tmp / "run" / "exports.zip", members))]


_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(2, 10)).replace("&lol1;", "&lol;")
    + "]>"
)


def entity_expansion_xlsx(tmp: Path) -> Path:
    """The committed workbook with a billion-laughs entity in its sheet's XML (the title cell expands to 3 GB)."""
    path = tmp / "openrouter_october.xlsx"
    with zipfile.ZipFile(HOSTILE / "header_row_3.xlsx") as source, zipfile.ZipFile(path, "w") as out:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                xml = xml.split("?>", 1)[1] if xml.startswith("<?xml") else xml
                data = (_LAUGHS + xml.replace("OpenRouter activity, October 2026", "&lol9;", 1)).encode()
            out.writestr(member, data)
    return path


def _xlsx_bomb(tmp: Path) -> list[str]:
    """A workbook whose sheet XML inflates a thousand times its size (whitespace between the cells)."""
    path = tmp / "openrouter_october.xlsx"
    with zipfile.ZipFile(HOSTILE / "header_row_3.xlsx") as source, zipfile.ZipFile(path, "w") as out:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * (64 * 1024**2), 1)
            out.writestr(member, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return [str(path)]


def _symlink_loop(tmp: Path) -> list[str]:
    folder = tmp / "exports"
    (folder / "october").mkdir(parents=True)
    (folder / "october" / "openrouter_logs.csv").write_text(_csv(ROWS), encoding="utf-8")
    os.symlink("..", folder / "october" / "parent")  # exports/october/parent -> exports: a loop
    os.symlink(".", folder / "itself")
    return [str(folder)]


_ODD_NAMES = ["open router logs (copy 2).csv", "請求書 十月 利用.csv", "-rf openrouter.csv"]


def _odd_names(tmp: Path) -> list[str]:
    folder = tmp / "exports"
    folder.mkdir()
    for i, name in enumerate(_ODD_NAMES):
        (folder / name).write_text(_csv(ROWS[2 * i : 2 * i + 2]), encoding="utf-8")
    return [str(folder)]


def _leading_dash(tmp: Path) -> list[str]:
    (tmp / "-rf openrouter.csv").write_text(_csv(ROWS), encoding="utf-8")
    os.chdir(tmp)
    return ["--", "-rf openrouter.csv"]


def _deep_line(tmp: Path) -> list[str]:
    lines = BATCH.read_text(encoding="utf-8").splitlines()
    lines[2] = '{"id":"batch_req_x","custom_id":"deep","response":' + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}"
    path = tmp / "batch_output.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [str(path)]


CASES = [
    Case("empty file", _committed("empty.csv"), Refused(("the file is empty",))),
    Case("header only", _committed("header_only.csv"), Audited([(0, 0, 0, 0)], warning="holds no rows")),
    Case("BOM and CRLF", _committed("bom_crlf.csv"), Audited([(6, 6, 0, 0)], ALL_SIX)),
    Case("Latin-1", _committed("latin1.csv"), Audited([(6, 6, 0, 0)], ALL_SIX)),
    Case("UTF-16 with commas", _committed("utf16_comma.csv"), Audited([(6, 6, 0, 0)], ALL_SIX)),
    Case(
        "UTF-16 Unicode text (tabs)",
        _committed("utf16_unicode_text.txt"),
        Refused(("uses tabs between fields", "Unicode text")),
    ),
    Case(
        "semicolons and decimal commas",
        _committed("semicolon_decimal_comma.csv"),
        Refused(("uses ';' between fields", "decimal commas")),
    ),
    Case(
        "truncated last line",
        _committed("truncated_last_line.csv"),
        Audited([(6, 5, 0, 1)], _cost(0, 1, 2, 3, 4), rejected_lines=[7]),
    ),
    Case("truncated gzip", _truncated_gzip, Refused(("cut short",))),
    Case("NUL bytes in fields", _committed("nul_bytes.csv"), Audited([(6, 6, 0, 0)], ALL_SIX)),
    Case("5 MB field", _written("openrouter_logs.csv", _five_mb_field()), Refused(("line 4 is longer", "4,194,304"))),
    Case(
        "5 MB field, limit raised",
        lambda tmp: [*_written("openrouter_logs.csv", _five_mb_field())(tmp), "--max-field-bytes", "8388608"],
        Audited([(6, 6, 0, 0)], ALL_SIX),
    ),
    Case("20,000 columns", _written("openrouter_logs.csv", _wide()), Audited([(6, 6, 0, 0)], ALL_SIX)),
    Case(
        "duplicate column the importer reads",
        _committed("duplicate_columns.csv"),
        Refused(("names the column 'tokens_prompt' 2 times", "columns 8, 25")),
    ),
    Case(
        "duplicate column the importer ignores",
        _written("openrouter_logs.csv", _csv([r + ",stop" for r in ROWS], HEADER + ",finish_reason_raw")),
        Audited([(6, 6, 0, 0)], ALL_SIX),
    ),
    Case("embedded newlines in quoted fields", _committed("embedded_newlines.csv"), Audited([(6, 6, 0, 0)], ALL_SIX)),
    Case(
        "negative and non-numeric token counts",
        _committed("bad_token_counts.csv"),
        Audited([(6, 2, 0, 4)], _cost(0, 5), rejected_lines=[3, 4, 5, 6]),
    ),
    Case(
        "a blank count and a negative count in one row",
        _written("openrouter_logs.csv", _csv(_blank_and_negative())),
        # The reader rejects line 3 (a blank is not a count): listed once, not again for its negative count.
        Audited([(6, 4, 0, 2)], _cost(0, 2, 4, 5), rejected_lines=[3, 5]),
    ),
    Case("future dates", _committed("future_dates.csv"), Audited([(6, 6, 0, 0)], ALL_SIX, warning="after the as-of")),
    Case("JSONL with a broken line", _committed("broken_line.jsonl"), Audited([(10, 8, 1, 1)], rejected_lines=[5])),
    Case("JSONL with a line nested 100,000 deep", _deep_line, Audited([(10, 8, 2, 0)])),
    Case(
        "JSON document nested 100,000 deep",
        _written("usage_page.json", "[" * 100_000 + "]" * 100_000),
        Refused(("nested too deeply",)),
    ),
    Case("ZIP holding nothing known", _committed("nothing_known.zip"), Refused(("holds no file that the auditor",))),
    Case(
        "ZIP bomb",
        lambda tmp: [str(_zip_bomb(tmp))],
        Refused(("times its size", "--max-compression-ratio"), names="exports.zip!openrouter_logs.csv"),
    ),
    Case(
        "ZIP past the decompressed-size limit",
        lambda tmp: [
            str(_zip(tmp / "exports.zip", {"openrouter_logs.csv": _csv(ROWS).encode()})),
            "--max-decompressed-bytes",
            "1000",
        ],
        Refused(("more than 1,000, the limit", "--max-decompressed-bytes")),
    ),
    Case(
        "ZIP of a very compressible export, ratio raised",
        lambda tmp: [
            str(
                _zip(
                    tmp / "exports.zip",
                    {"openrouter_logs.csv": _csv([_with_field(ROWS[0], "user", " " * (2 << 20)), *ROWS[1:]]).encode()},
                )
            ),
            "--max-compression-ratio",
            "5000",
        ],
        Audited([(6, 6, 0, 0)], ALL_SIX),
    ),
    Case("gzip bomb", _gzip_bomb, Refused(("times its size", "--max-compression-ratio"))),
    Case(
        "archive in an archive in an archive",
        _nested_archives,
        Audited([(6, 6, 0, 0)], ALL_SIX, skipped_files=["an archive inside an archive inside an archive"]),
    ),
    Case(
        "ZIP member names climbing out",
        _traversal_names,
        Audited([(3, 3, 0, 0), (3, 3, 0, 0)], ALL_SIX),
    ),
    Case(
        "XLSX with XML entity expansion",
        lambda tmp: [str(entity_expansion_xlsx(tmp))],
        Refused(("possible XML bomb",)),
    ),
    Case(
        "XLSX bomb",
        _xlsx_bomb,
        Refused(
            ("times its size", "--max-compression-ratio"), names="openrouter_october.xlsx!xl/worksheets/sheet1.xml"
        ),
    ),
    Case("XLSX with the header on row 3", _committed("header_row_3.xlsx"), Audited([(6, 6, 0, 0)], ALL_SIX)),
    Case(
        "folder with a symlink loop",
        _symlink_loop,
        Audited([(6, 6, 0, 0)], ALL_SIX, skipped_files=["links are not followed"] * 2),
    ),
    Case(
        "file names with spaces, CJK and a leading dash",
        _odd_names,
        Audited([(2, 2, 0, 0)] * 3, ALL_SIX),
    ),
    Case("leading dash named after --", _leading_dash, Audited([(6, 6, 0, 0)], ALL_SIX)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    args = case.build(tmp_path)
    given = next(a for a in args if a != "--")
    result = run_cli(*ARGS, *args)
    assert "Traceback" not in result.err
    if isinstance(case.outcome, Refused):
        assert result.status == 2, result.err
        assert result.out == ""
        lines = result.err.splitlines()
        assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), lines
        assert (case.outcome.names or given) in lines[0]
        for needle in case.outcome.needles:
            assert needle in result.err, (needle, lines)
        return
    expected = case.outcome
    assert result.status == 0, result.err
    data = result.json()
    accounts = [(i["rows_read"], i["rows_used"], i["rows_skipped"], i["rows_rejected"]) for i in data["inputs"]]
    assert accounts == expected.accounts
    assert all(read == used + skipped + rejected for read, used, skipped, rejected in accounts)
    assert [r["line"] for i in data["inputs"] for r in i["rejected"]] == expected.rejected_lines
    assert data["totals"]["requests"] == sum(used for _, used, _, _ in accounts)
    if expected.billed is not None:
        assert Decimal(data["totals"]["billed_cost"]) == expected.billed
    if expected.warning:
        assert any(expected.warning in w for w in data["warnings"]), data["warnings"]
    reasons = [s["reason"] for s in data["skipped_files"]]
    assert len(reasons) == len(expected.skipped_files) and all(
        want in got for want, got in zip(expected.skipped_files, reasons, strict=True)
    ), reasons


def test_named_outputs_stay_where_the_flags_say(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Archive member names that climb out (`../../escaped.csv`, `/tmp/...`) decide nothing on disk: no file
    appears outside the output directory, and the members are read from the run's private copies."""
    monkeypatch.chdir(tmp_path)
    (archive,) = _traversal_names(tmp_path)
    before = set(tmp_path.parent.rglob("*escaped*"))
    out = tmp_path / "out"
    result = run_cli(archive, "--as-of", AS_OF.isoformat(), "--out", str(out), "--quiet")
    assert result.status == 0, result.err
    assert sorted(p.name for p in out.iterdir()) == ["audit-report.pdf", "audit-report.xlsx"]
    assert set(tmp_path.parent.rglob("*escaped*")) == before
    assert not Path("/tmp/absolute-escaped.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "run"]


def test_odd_names_are_reported_as_they_are(run_cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    (folder,) = _odd_names(tmp_path)
    data = run_cli(folder, *ARGS).json()
    assert sorted(Path(i["path"]).name for i in data["inputs"]) == sorted(_ODD_NAMES)


def test_every_committed_file_is_a_case_and_small() -> None:
    committed = {p.name for p in HOSTILE.iterdir() if p.name != "README.md"}
    assert committed == _COMMITTED
    assert all((HOSTILE / name).stat().st_size < 16 * 1024 for name in committed)


def test_xlsx_committed_case_is_made_from_the_export() -> None:
    """The committed workbook holds the six requests under the OpenRouter header, the title two rows above."""
    book = openpyxl.load_workbook(HOSTILE / "header_row_3.xlsx", read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    book.close()
    assert rows[0][0] == "OpenRouter activity, October 2026"
    assert [str(v) for v in rows[2]] == NAMES
    assert len(rows) == 3 + len(ROWS)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "latin-1", "utf-16"])
def test_rejected_lines_count_the_newlines_inside_quoted_fields(run_cli, tmp_path: Path, encoding: str) -> None:  # type: ignore[no-untyped-def]
    """A row after a field holding line breaks is named by its line in the file, for the reader's rejects (a
    value that is not a number) as for the importer's (a negative count), in every encoding."""
    rows = [_with_field(r, "app_name", '"Support\nDesk\nÉquipe"') if i in (0, 2) else r for i, r in enumerate(ROWS)]
    # Lines: header 1, rows 2-4, 5, 6-8, 9, 10, 11 (the first and third rows hold two line breaks each).
    rows[3] = _with_field(rows[3], "tokens_prompt", "12k")  # line 9: the reader rejects it
    rows[5] = _with_field(rows[5], "tokens_completion", "-1")  # line 11: the importer's rule rejects it
    path = tmp_path / "openrouter_logs.csv"
    path.write_text(_csv(rows), encoding=encoding)
    entry = run_cli(str(path), *ARGS).json()["inputs"][0]
    assert (entry["rows_read"], entry["rows_used"], entry["rows_rejected"]) == (6, 4, 2)
    assert [(r["line"], r["column"]) for r in entry["rejected"]] == [(9, "tokens_prompt"), (11, "tokens_completion")]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_rejected_lines_with_either_line_ending(run_cli, tmp_path: Path, newline: str) -> None:  # type: ignore[no-untyped-def]
    rows = [_with_field(r, "app_name", '"Support\nDesk"') if i == 0 else r for i, r in enumerate(ROWS)]
    rows[2] = _with_field(rows[2], "tokens_cached", " ")  # line 5 (the first row spans lines 2 and 3)
    rows[4] = _with_field(rows[4], "tokens_prompt", "-3")  # line 7
    path = tmp_path / "openrouter_logs.csv"
    path.write_bytes(newline.join([HEADER, *rows, ""]).encode())
    entry = run_cli(str(path), *ARGS).json()["inputs"][0]
    assert [(r["line"], r["column"]) for r in entry["rejected"]] == [(5, "tokens_cached"), (7, "tokens_prompt")]
