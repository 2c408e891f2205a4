"""Limits that protect the machine: a ZIP bomb and an XML entity bomb are refused fast and small.

Each is run in a fresh interpreter, so its peak memory (the process's high-water mark, the interpreter and
the auditor's imports included) and the time of the run itself are its own. The bounds are limits, not benchmarks:
a second and 200 MB, as the issue asks, while the bomb inflates to gigabytes.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import openpyxl.xml
import pytest

from tests.conftest import AS_OF, ROOT
from tests.test_hostile_corpus import HEADER, entity_expansion_xlsx

_MEASURE = """
import json, resource, sys, time
from auditor.cli import main
started = time.perf_counter()
status = main(sys.argv[1:])
seconds = time.perf_counter() - started
try:  # the high-water mark of this process image (ru_maxrss may carry the forking parent's over exec)
    status_lines = open("/proc/self/status").read().splitlines()
    peak_mb = next(int(line.split()[1]) for line in status_lines if line.startswith("VmHWM:")) / 1024
except OSError:
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"status": status, "seconds": seconds, "peak_mb": peak_mb}))
"""


def _measured(*args: str) -> tuple[dict[str, float], str]:
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False
    )
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def write_zip_bomb(path: Path, name: str, head: bytes, zeros: int) -> Path:
    """A real archive of one member, `head` then `zeros` zero bytes, written without inflating it.

    Each 8 MiB of zeros is deflated once: after a full flush the compressor starts afresh, so the same
    input gives the same bytes, repeated. The CRC is computed over the inflated bytes, as a reader checks it."""
    block = 8 << 20
    assert zeros % block == 0 and len(head) + zeros < 2**32
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(head) + packer.flush(zlib.Z_FULL_FLUSH)
    zero_block = bytes(block)
    repeated = packer.compress(zero_block) + packer.flush(zlib.Z_FULL_FLUSH)
    last = packer.flush()
    crc = zlib.crc32(head)
    for _ in range(zeros // block):
        crc = zlib.crc32(zero_block, crc)
    size, packed = len(head) + zeros, len(first) + len(repeated) * (zeros // block) + len(last)
    encoded = name.encode()
    fields = struct.pack("<HHHHHIII", 20, 0, 8, 0, 0x21, crc, packed, size)
    with path.open("wb") as out:
        out.write(b"PK\x03\x04" + fields + struct.pack("<HH", len(encoded), 0) + encoded)
        out.write(first)
        for _ in range(zeros // block):
            out.write(repeated)
        out.write(last)
        directory = out.tell()
        out.write(
            b"PK\x01\x02" + struct.pack("<H", 20) + fields + struct.pack("<HHHHHII", len(encoded), 0, 0, 0, 0, 0, 0)
        )
        out.write(encoded)
        end = out.tell()
        out.write(b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 1, 1, end - directory, directory, 0))
    return path


@pytest.fixture(scope="module")
def zip_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One member, under the OpenRouter header, that inflates to 2 GiB of zeros (about 2 MB compressed)."""
    path = tmp_path_factory.mktemp("bomb") / "openrouter_exports.zip"
    return write_zip_bomb(path, "openrouter_logs.csv", (HEADER + "\n").encode(), 2 * 1024**3 - (8 << 20))


def test_the_bomb_is_a_real_archive(tmp_path: Path) -> None:
    """The same construction, small: zipfile inflates it, CRC checked, to exactly the bytes it declares."""
    path = write_zip_bomb(tmp_path / "small.zip", "a.csv", b"x,y\n", 16 << 20)
    with zipfile.ZipFile(path) as bundle:
        assert bundle.read("a.csv") == b"x,y\n" + bytes(16 << 20)


def test_zip_bomb_is_refused_within_a_second_and_200_mb(zip_bomb: Path) -> None:
    with zipfile.ZipFile(zip_bomb) as bundle:
        (member,) = bundle.infolist()
        assert member.file_size > 2 * 10**9 and member.compress_size < 4 * 1024**2
    measured, err = _measured(str(zip_bomb), "--as-of", AS_OF.isoformat(), "--json", "-")
    assert measured["status"] == 2
    assert err.splitlines()[0].startswith(f"error: {zip_bomb}!openrouter_logs.csv: inflates ")
    assert "--max-compression-ratio" in err and "Traceback" not in err
    assert measured["seconds"] < 1.0, measured
    assert measured["peak_mb"] < 200, measured


def test_zip_bomb_past_a_raised_ratio_is_stopped_by_the_size_limit(zip_bomb: Path) -> None:
    """With the ratio limit raised, the size limit still refuses it before a byte is inflated."""
    measured, err = _measured(
        str(zip_bomb), "--max-compression-ratio", "100000", "--max-decompressed-bytes", str(1024**3), "--json", "-"
    )
    assert measured["status"] == 2
    assert "--max-decompressed-bytes" in err.splitlines()[1]
    assert measured["seconds"] < 1.0 and measured["peak_mb"] < 200, measured


def test_entity_expansion_xlsx_is_refused_within_a_second_and_200_mb(tmp_path: Path) -> None:
    book = entity_expansion_xlsx(tmp_path)
    measured, err = _measured(str(book), "--as-of", AS_OF.isoformat(), "--json", "-")
    assert measured["status"] == 2
    assert err.splitlines()[0].startswith(f"error: {book}: holds XML with a document type or entity declaration")
    assert measured["seconds"] < 1.0, measured
    assert measured["peak_mb"] < 200, measured


def test_every_xml_the_auditor_reads_goes_through_defusedxml() -> None:
    """openpyxl parses workbooks (exports and contracts) with defusedxml when it is installed; it is a dependency."""
    assert openpyxl.xml.DEFUSEDXML
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"defusedxml' in pyproject.split("[project.optional-dependencies]")[0]
    sources = [p for p in (ROOT / "auditor").rglob("*.py")] + [p for p in (ROOT / "pricing").rglob("*.py")]
    parsers = ("xml.etree", "xml.dom", "xml.sax.make_parser", "lxml", "ElementTree", "minidom", "expat")
    offenders = [p.name for p in sources if any(name in p.read_text(encoding="utf-8") for name in parsers)]
    assert offenders == []


def test_a_contract_workbook_with_entities_is_refused(tmp_path: Path, run_cli) -> None:  # type: ignore[no-untyped-def]
    book = entity_expansion_xlsx(tmp_path)
    sample = ROOT / "samples" / "openrouter_logs_csv" / "openrouter_logs_2026-10.csv"
    result = run_cli(str(sample), "--contract", str(book), "--json", "-")
    assert result.status == 2 and "Traceback" not in result.err
    assert str(book) in result.err.splitlines()[0]


@pytest.mark.parametrize("extra", [-1, 0, 1])
@pytest.mark.parametrize("before", [0, 3 * 1024**2 + 17])
def test_the_field_limit_is_exact(tmp_path: Path, extra: int, before: int) -> None:
    """A line of exactly the limit is read; one byte more refuses the file, naming that line."""
    from auditor.errors import InputLimitError
    from auditor.importers.reader import MIB, InputLimits, check_stream, sniff

    limit = MIB
    short = b"a,b\n" * (before // 4)
    path = tmp_path / "export.csv"
    path.write_bytes(b"x,y\n" + short + b"a," + b"b" * (limit + extra - 2) + b"\nc,d\n")
    sniffed = sniff(path)
    limits = InputLimits(max_field_bytes=limit)
    if extra <= 0:
        check_stream(sniffed, limits, line_limit=True)
        return
    with pytest.raises(InputLimitError) as refused:
        check_stream(sniffed, limits, line_limit=True)
    assert f"line {2 + before // 4} is longer than 1,048,576 bytes" in refused.value.message
    assert refused.value.flag == "--max-field-bytes"
