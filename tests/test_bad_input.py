"""Bad input: whole-file problems exit 2 with one line naming the file; bad rows are rejected and listed."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, without_files

OPENROUTER = SAMPLES / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"


def _assert_refused(run, path: Path, *needles: str) -> None:  # type: ignore[no-untyped-def]
    run_result = run(str(path), "--json", "-", "--to", "openai:gpt-5-mini")
    assert run_result.status == 2
    first = run_result.err.splitlines()[0]
    assert first.startswith("error: ") and str(path) in first
    for needle in needles:
        assert needle in first
    assert "Traceback" not in run_result.err
    assert run_result.out == ""


def test_empty_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    _assert_refused(run_cli, path, "empty")


def test_unknown_format_names_closest_formats_and_missing_columns(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "invoice.csv"
    path.write_text("date,amount,description\n2026-10-01,12.00,consulting\n", encoding="utf-8")
    _assert_refused(run_cli, path, "not a format the auditor knows", "closest:", "missing")


def test_missing_required_column(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = OPENROUTER.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    drop = header.index("tokens_prompt")
    kept = [",".join(f for i, f in enumerate(line.split(",")) if i != drop) for line in lines]
    path = tmp_path / "openrouter.csv"
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    _assert_refused(run_cli, path, "openrouter_logs_csv (missing tokens_prompt)")


def test_missing_required_column_with_forced_format(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x.csv"
    path.write_text("generation_id,created_at,cost_total\ngen-1,2026-10-01 00:00:00,0.1\n", encoding="utf-8")
    result = run_cli(str(path), "--format", "openrouter_logs_csv", "--json", "-")
    assert result.status == 2
    assert "missing column(s) tokens_prompt" in result.err.splitlines()[0] and str(path) in result.err


def test_not_a_text_file(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "export.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    _assert_refused(run_cli, path, "not a text file")


def test_corrupt_zip(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "exports.zip"
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 8)
    _assert_refused(run_cli, path, "not a readable ZIP archive")


def test_zip_holding_nothing_known(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "exports.zip"
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("README.md", "# nothing to audit\n")
    _assert_refused(run_cli, path, "holds no file that the auditor recognises")


def test_empty_directory(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "exports"
    (folder / ".cache").mkdir(parents=True)
    (folder / ".cache" / "old.csv").write_bytes(OPENROUTER.read_bytes())  # hidden: not read
    _assert_refused(run_cli, folder, "holds no file (files and folders whose names start with a dot")


def test_directory_holding_nothing_known(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "notes.txt").write_text("call the vendor\n", encoding="utf-8")
    (folder / "invoice.csv").write_text("date,amount\n2026-10-01,12.00\n", encoding="utf-8")
    _assert_refused(
        run_cli,
        folder,
        f"holds no file that the auditor recognises; {folder / 'invoice.csv'}: not a format the auditor knows",
        "(and 1 more file(s) skipped)",
    )


def test_directory_of_files_given_already_is_not_refused(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "log.csv").write_bytes(OPENROUTER.read_bytes())
    (folder / "notes.txt").write_text("call the vendor\n", encoding="utf-8")
    both = run_cli(str(folder / "log.csv"), str(folder), "--json", "-", "--to", "openai:gpt-5-mini")
    alone = run_cli(str(folder / "log.csv"), "--json", "-", "--to", "openai:gpt-5-mini")
    assert both.status == alone.status == 0, both.err
    assert json.loads(both.out)["totals"] == json.loads(alone.out)["totals"]


def test_truncated_gzip(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = gzip.compress(OPENROUTER.read_bytes() * 200)
    path = tmp_path / "log.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    _assert_refused(run_cli, path, "")


def _workload_parquet(path: Path, rows: int = 50_000, drop: str = "") -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {
        "provider": ["openai"] * rows,
        "model": ["gpt-4o-mini"] * rows,
        "day": ["2026-09-01"] * rows,
        "requests": [1] * rows,
        "input_tokens": [(i * 7919) % 100_003 for i in range(rows)],
        "output_tokens": [(i * 31) % 977 for i in range(rows)],
    }
    columns.pop(drop, None)
    pq.write_table(pa.table(columns), path, compression="snappy")
    return path


def test_truncated_parquet(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _workload_parquet(tmp_path / "workload.parquet")
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    _assert_refused(run_cli, path, "is not a readable Parquet file")


def damaged_parquet(path: Path) -> Path:
    """A workload Parquet file with a damaged data page: its footer reads, its data does not."""
    import pyarrow.parquet as pq

    _workload_parquet(path)
    chunk = pq.ParquetFile(path).metadata.row_group(0).column(4)
    first = chunk.dictionary_page_offset if chunk.has_dictionary_page else chunk.data_page_offset
    start, size = first + chunk.total_compressed_size // 4, chunk.total_compressed_size // 2
    data = bytearray(path.read_bytes())
    data[start : start + size] = b"\xff" * size
    path.write_bytes(bytes(data))
    return path


def test_parquet_with_a_damaged_page(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _assert_refused(run_cli, damaged_parquet(tmp_path / "workload.parquet"), "cannot be read as Parquet")


def test_parquet_missing_a_required_column(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _workload_parquet(tmp_path / "workload.parquet", rows=3, drop="output_tokens")
    _assert_refused(run_cli, path, "workload_csv (missing output_tokens)")
    assert f"{path}, line" not in run_cli(str(path)).err  # a Parquet file has no lines


def test_parquet_forced_as_json_lines(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _workload_parquet(tmp_path / "workload.parquet", rows=3)
    result = run_cli(str(path), "--format", "claude_code_jsonl", "--json", "-")
    assert result.status == 2
    assert result.err.splitlines()[0] == f"error: {path}: is a Parquet file, not claude_code_jsonl's JSON lines"


def test_missing_path(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _assert_refused(run_cli, tmp_path / "nope.csv", "no such file")


def test_non_numeric_token_count_rejects_only_its_row(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = OPENROUTER.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    fields = lines[5].split(",")
    fields[header.index("tokens_prompt")] = "12k"
    lines[5] = ",".join(fields)
    fields = lines[9].split(",")
    fields[header.index("tokens_completion")] = "-40"
    lines[9] = ",".join(fields)
    path = tmp_path / "openrouter.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = run_cli(str(path), "--json", "-", "--to", "openai:gpt-5-mini")
    assert result.status == 0, result.err
    data = result.json()
    entry = data["inputs"][0]
    assert (entry["rows_read"], entry["rows_used"], entry["rows_rejected"]) == (41, 39, 2)
    assert entry["rejected"] == [
        {"line": 6, "where": "", "column": "tokens_prompt", "reason": "'12k' is not a number"},
        {"line": 10, "where": "", "column": "tokens_completion", "reason": "negative count"},
    ]
    assert any("2 row(s) rejected" in w for w in data["warnings"])


def test_wrong_field_count_is_a_rejected_row(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    lines = OPENROUTER.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + ",extra"
    path = tmp_path / "openrouter.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = run_cli(str(path), "--json", "-", "--to", "openai:gpt-5-mini").json()
    entry = data["inputs"][0]
    assert (entry["rows_read"], entry["rows_used"], entry["rows_rejected"]) == (41, 40, 1)
    assert entry["rejected"][0]["line"] == 4
    assert "expected 24 fields, found 25" in entry["rejected"][0]["reason"]


def test_unknown_files_in_a_directory_are_skipped_not_fatal(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "README.md").write_text("# exports\n", encoding="utf-8")
    (tmp_path / "invoice.pdf").write_bytes(b"%PDF-1.7\n\x00\x01\x02")
    (tmp_path / "log.csv").write_text(OPENROUTER.read_text(encoding="utf-8"), encoding="utf-8")
    data = run_cli(str(tmp_path), "--json", "-", "--to", "openai:gpt-5-mini").json()
    assert [i["format"] for i in data["inputs"]] == ["openrouter_logs_csv"]
    assert sorted(Path(s["path"]).name for s in data["skipped_files"]) == ["README.md", "invoice.pdf"]


@pytest.mark.parametrize(
    "args, needle",
    [
        (("--to", "deepseek:deepseek-flsh"), "did you mean deepseek:deepseek-flash"),
        (("--to", "deepsek:deepseek-flash"), "did you mean deepseek"),
        (("--as-of", "27/11/2026"), "not a date"),
        (("--format", "openrouter_log"), "did you mean openrouter_logs_csv"),
    ],
)
def test_bad_options_exit_2_with_a_hint(run_cli, args: tuple[str, ...], needle: str) -> None:  # type: ignore[no-untyped-def]
    result = run_cli(str(OPENROUTER), "--json", "-", *args)
    assert result.status == 2
    assert needle in result.err
    assert "Traceback" not in result.err


@pytest.mark.parametrize("encoding", ["utf-16", "latin-1"])
def test_other_encodings_read_the_same(run_cli, tmp_path: Path, encoding: str) -> None:  # type: ignore[no-untyped-def]
    """Excel's "Unicode text" (UTF-16) and Latin-1 exports give the same figures as UTF-8."""
    text = OPENROUTER.read_text(encoding="utf-8")
    path = tmp_path / "log.csv"
    path.write_text(text, encoding=encoding)
    other = run_cli(str(path), "--json", "-", "--to", "openai:gpt-5-mini").json()
    plain = run_cli(str(OPENROUTER), "--json", "-", "--to", "openai:gpt-5-mini").json()
    assert other["totals"] == plain["totals"] and without_files(other["usage"]) == without_files(plain["usage"])


def test_semicolon_delimited_export_is_refused_with_the_reason(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "log.csv"
    path.write_text(OPENROUTER.read_text(encoding="utf-8").replace(",", ";"), encoding="utf-8")
    _assert_refused(run_cli, path, "uses ';' between fields")


def test_json_nested_100000_deep_is_refused_not_a_crash(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "deep.jsonl"
    path.write_text('{"a":' * 100_000 + "1" + "}" * 100_000 + "\n", encoding="utf-8")
    _assert_refused(run_cli, path, "nested too deeply")
