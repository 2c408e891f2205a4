"""ZIP members read in place (their deflated bytes as a gzip file), and the sha256 reports give for every input: of
the file as the user gave it, whatever copy the run reads (an archive member, a workbook's table, a JSON
document's records)."""

from __future__ import annotations

import gzip
import hashlib
import struct
import zipfile
from datetime import date
from pathlib import Path

import pytest

from auditor import sources
from auditor.errors import ExitStatus, InputLimitError
from auditor.importers.reader import InputLimits
from auditor.options import AuditOptions
from auditor.pipeline import run_audit
from auditor.report.json_out import render_json
from auditor.stream_checks import StreamCheck
from bench.generate import generate

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
AS_OF = date(2026, 11, 28)
DOCUMENT = SAMPLES / "openai_usage_api_json" / "usage_completions_2026-10-01_page1.json"
WORKBOOK = ROOT / "tests" / "hostile" / "header_row_3.xlsx"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A request log of 20,000 rows (about 3.5 MB; 600 KB deflated)."""
    path = tmp_path_factory.mktemp("log") / "openrouter.csv"
    generate("openrouter", 20_000, path)
    return path.read_bytes()


def _zip(path: Path, members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return path


def test_every_sample_is_reported_with_the_sha256_of_the_file_as_given() -> None:
    """JSON documents are read from a copy of their records: the report names the document's digest, not the copy's
    (before, eight of the samples were reported with the digest of a file the user never had)."""
    result = run_audit(AuditOptions(inputs=(SAMPLES,), as_of=AS_OF))
    digests = {i.path: i.sha256 for i in result.inputs}
    assert len(digests) == len(result.inputs) > 40
    assert digests == {path: _sha256(Path(path).read_bytes()) for path in digests}
    assert str(DOCUMENT) in digests, "the premise: a JSON document among them"


def test_a_workbook_is_reported_with_its_own_sha256() -> None:
    result = run_audit(AuditOptions(inputs=(WORKBOOK,), as_of=AS_OF))
    assert [i.sha256 for i in result.inputs] == [_sha256(WORKBOOK.read_bytes())]


def test_a_member_is_reported_with_the_sha256_of_its_content(tmp_path: Path, log: bytes) -> None:
    document = DOCUMENT.read_bytes()
    archive = _zip(tmp_path / "exports.zip", {"logs/openrouter.csv": log, "page1.json": document})
    result = run_audit(AuditOptions(inputs=(archive,), as_of=AS_OF))
    assert {i.path: i.sha256 for i in result.inputs} == {
        f"{archive}!logs/openrouter.csv": _sha256(log),
        f"{archive}!page1.json": _sha256(document),
    }


def test_a_deflated_member_gives_the_audit_of_the_file_itself(tmp_path: Path, log: bytes) -> None:
    plain = tmp_path / "openrouter.csv"
    plain.write_bytes(log)
    archive = _zip(tmp_path / "exports.zip", {"openrouter.csv": log})
    packed, direct = (run_audit(AuditOptions(inputs=(p,), as_of=AS_OF)) for p in (archive, plain))
    assert packed.totals == direct.totals and packed.scenarios == direct.scenarios
    assert [i.rows_read for i in packed.inputs] == [i.rows_read for i in direct.inputs] == [20_000]
    assert packed.inputs[0].sha256 == direct.inputs[0].sha256


def test_a_member_is_read_in_place_as_gzip_and_takes_its_deflated_size(tmp_path: Path, log: bytes) -> None:
    archive = _zip(tmp_path / "exports.zip", {"openrouter.csv": log})
    with (
        zipfile.ZipFile(archive) as bundle,
        sources.open_sources((archive,), None) as (found, _),
    ):
        (member,) = bundle.infolist()
        (source,) = found
        view = source.sniffed.path
        assert source.sniffed.gzip and source.sniffed.member_bytes == len(log)
        assert view.stat().st_size == member.compress_size + 18  # a gzip header and trailer around it
        assert gzip.decompress(view.read_bytes()) == log
        assert source.sniffed.sha256() == _sha256(log)


def test_a_member_checked_while_read_has_its_digest_from_the_check(
    tmp_path: Path, log: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[StreamCheck] = []

    class Recorded(StreamCheck):
        def __init__(self, *args) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args)
            made.append(self)

    archive = _zip(tmp_path / "exports.zip", {"openrouter.csv": log})
    first = render_json(run_audit(AuditOptions(inputs=(archive,), as_of=AS_OF)))
    monkeypatch.setattr(sources, "CHECKED_ASIDE_BYTES", 1024)
    monkeypatch.setattr(sources, "StreamCheck", Recorded)
    aside = run_audit(AuditOptions(inputs=(archive,), as_of=AS_OF))
    assert len(made) == 1, "the premise: checked while read"
    assert render_json(aside) == first
    assert [i.sha256 for i in aside.inputs] == [_sha256(log)]


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_members_that_are_copied_out_still_open(tmp_path: Path, log: bytes, compression: int) -> None:
    """A stored member, a gzip file and an archive inside the archive are copied out inflated, as before."""
    inner = _zip(tmp_path / "inner.zip", {"deep.csv": log})
    packed = gzip.compress(log)
    archive = _zip(
        tmp_path / "exports.zip", {"a.csv": log, "b.csv.gz": packed, "inner.zip": inner.read_bytes()}, compression
    )
    result = run_audit(AuditOptions(inputs=(archive,), as_of=AS_OF))
    assert sorted(i.path for i in result.inputs) == [
        f"{archive}!a.csv",
        f"{archive}!b.csv.gz",
        f"{archive}!inner.zip!deep.csv",
    ]
    assert [i.rows_read for i in result.inputs] == [20_000] * 3
    assert {i.path: i.sha256 for i in result.inputs} == {
        f"{archive}!a.csv": _sha256(log),
        f"{archive}!b.csv.gz": _sha256(packed),  # the member as the archive holds it, as a gzip file given alone
        f"{archive}!inner.zip!deep.csv": _sha256(log),
    }


def _forge(archive: Path, field: int, value: int) -> None:
    """Set a field of the archive's only member (`field`: its offset in the local header) in both of its headers."""
    data = bytearray(archive.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    struct.pack_into("<I", data, field, value)
    struct.pack_into("<I", data, central + field + 2, value)  # the central header has one more field before
    archive.write_bytes(bytes(data))


def test_a_member_inflating_past_what_its_archive_declares_is_refused(
    tmp_path: Path,
    log: bytes,
    run_cli,  # type: ignore[no-untyped-def]
) -> None:
    archive = _zip(tmp_path / "exports.zip", {"openrouter.csv": log})
    _forge(archive, 22, len(log) // 2)  # the size it inflates to
    with zipfile.ZipFile(archive) as bundle:
        assert bundle.infolist()[0].file_size == len(log) // 2, "the premise: the forged size is the one read"
    refused = run_cli(str(archive), "--json", str(tmp_path / "out.json"), "--as-of", AS_OF.isoformat())
    assert refused.status == ExitStatus.INPUT_ERROR
    assert refused.err.splitlines()[0] == (
        f"error: {archive}!openrouter.csv: inflates past the {len(log) // 2:,} bytes its archive declares "
        "(a damaged or forged archive)"
    )
    assert "Traceback" not in refused.err and not (tmp_path / "out.json").exists()


def test_a_member_whose_content_fails_its_crc_is_refused(
    tmp_path: Path,
    log: bytes,
    run_cli,  # type: ignore[no-untyped-def]
) -> None:
    """Found in a directory, beside a good file: the run is refused, not the member skipped (its rows would be
    lost)."""
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "good.csv").write_bytes(log)
    archive = _zip(tmp_path / "exports" / "exports.zip", {"openrouter.csv": log})
    _forge(archive, 14, (zipfile.crc32(log) + 1) & 0xFFFFFFFF)
    refused = run_cli(str(tmp_path / "exports"), "--json", str(tmp_path / "out.json"), "--as-of", AS_OF.isoformat())
    assert refused.status == ExitStatus.INPUT_ERROR
    assert refused.err.startswith(f"error: {archive}!openrouter.csv: is cut short or damaged (CRC check failed")
    assert "Traceback" not in refused.err and not (tmp_path / "out.json").exists()


def test_a_member_past_the_ratio_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """What the archive declares is checked against the limits while the sources are opened, as before."""
    archive = _zip(tmp_path / "exports.zip", {"openrouter.csv": b"generation_id\n" + b"0\n" * (4 << 20)})
    limits = InputLimits(max_compression_ratio=10)
    with (
        pytest.raises(InputLimitError, match="a compression bomb"),
        sources.open_sources((archive,), None, limits=limits),
    ):
        pass
