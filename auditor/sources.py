"""Which files an audit reads: expanding directories and ZIP archives, choosing each file's importer.

Files named on the command line must be readable; files found in a directory or an archive that no
importer recognises (a README, a PDF invoice) are listed as skipped. A deflated ZIP member is read in place, as a
gzip file: its deflated bytes as the archive holds them, copied under a gzip header into a private temporary
directory that lives as long as the run (`_write_gzip_view`), so it streams as a gzip file does and takes on disk
what it takes in the archive. Other members (stored, nested archives, gzip or Parquet files) are copied out
inflated; gzip files are read as they are. A file the run reads from a copy (an archive member, a workbook's table,
a JSON document's records) is reported with the sha256 of the file as the user gave it (`Sniffed.digest`).

Every file is untrusted: archives (and workbooks, which are ZIPs) are refused past the inflated-size and
compression-ratio limits, a gzip file past them by its trailer, a delimited file with a line longer than the
field limit (`InputLimits`, each with its flag); an archive is opened inside an archive, but no deeper;
symbolic links to directories are not followed (a link loop cannot trap the walk).
"""

from __future__ import annotations

import csv
import difflib
import os
import shutil
import struct
import zipfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path

from auditor.errors import DamagedFileError, InputFileError, InputLimitError, OptionError
from auditor.importers import IMPORTERS
from auditor.importers.base import Importer
from auditor.importers.documents import flatten
from auditor.importers.parquet import PARQUET_MAGIC
from auditor.importers.reader import (
    DEFAULT_LIMITS,
    GZIP_MAGIC,
    Digest,
    InputLimits,
    Sniffed,
    check_stream,
    detect,
    gzip_ratio,
    inflation_limit,
    raise_limit,
    sha256_of,
    sniff,
)
from auditor.importers.xlsx import WORKBOOK_HINT, copy_table_to_csv, is_xlsx
from auditor.progress import ScanProgress, display_name
from auditor.result import SkippedFile
from auditor.scratch import private_dir
from auditor.stream_checks import CHECKED_ASIDE_BYTES, StreamCheck

ZIP_MAGIC = b"PK\x03\x04"
_GZIP_HEADER = GZIP_MAGIC + b"\x08\x00\x00\x00\x00\x00\x00\xff"
"""Deflate, no flags, no time, no extra flags, an unknown system (RFC 1952, 2.3)."""
_LOCAL_HEADER = struct.Struct("<4s22xHH")
"""A member's local header: its signature, then the lengths of its name and extra field (APPNOTE 4.3.7)."""
# An archive inside an archive is opened; one inside that is skipped (nested archives are a bomb's shape).
MAX_ARCHIVE_DEPTH = 2
NO_SUCH_INPUT = "no such file or directory"  # an input given that is not there (`cli` hints at a config's paths)


@dataclass(frozen=True)
class Source:
    sniffed: Sniffed
    importer: Importer
    check: StreamCheck | None = None
    """The file's input-limit check, still running while the run reads the file (a large gzip file, when the
    caller asked for it: `open_sources(check_aside=True)`); None: checked already."""


@dataclass
class _Collector:
    importers: tuple[Importer, ...]
    forced_format: str | None
    scratch: Path
    sources: list[Source]
    skipped: list[SkippedFile]
    seen: set[Path]
    limits: InputLimits = DEFAULT_LIMITS
    inflated: int = 0
    """Bytes the run's archive members have inflated to so far (limited in all, not per archive)."""
    depth: int = 0
    check_aside: bool = False
    progress: ScanProgress | None = None

    def add(self, path: Path, label: str = "", named: bool = False, member_bytes: int | None = None) -> None:
        """Add a file. One named on the command line must be readable; one found in a directory or an
        archive that cannot be read is listed as skipped. A limit passed, or a file of a known format found damaged
        by its check, refuses the run either way.
        `member_bytes`: the file is a ZIP member read in place, declared to inflate to that many bytes."""
        try:
            if is_xlsx(path):
                self.check_archive(path, label or str(path))
                self.sources.append(self.workbook_source(path, label or str(path)))
            elif _is_zip(path):
                self.add_archive(path, named, label)
            else:
                self.sources.append(self.text_source(path, label, member_bytes))
        except InputFileError as exc:
            if named or isinstance(exc, (InputLimitError, DamagedFileError)):
                raise
            self.skipped.append(SkippedFile(path=label or str(path), reason=exc.problem))

    def workbook_source(self, path: Path, label: str) -> Source:
        """The workbook's table copied to a CSV in the scratch directory, named `book.xlsx [Sheet]`."""
        importers = [i for i in self.importers if self.forced_format in (None, i.name)]
        target = self.scratch / f"book-{len(self.sources)}-{len(self.skipped)}.csv"
        try:
            with self.preparing(path, label, "workbook sheet"):
                copy = copy_table_to_csv(path, target, importers)
        except InputFileError as exc:
            raise InputFileError(label, exc.problem, exc.hint) from exc
        try:
            source = _source(target, self.importers, self.forced_format, f"{label} [{copy.sheet}]", copy.header_row - 1)
        except InputFileError as exc:  # a header that is not quite the export's (renamed, split differently)
            exc.hint = WORKBOOK_HINT
            raise
        return replace(source, sniffed=replace(source.sniffed, digest=Digest(sha256_of(path))))

    def text_source(self, path: Path, label: str, member_bytes: int | None = None) -> Source:
        """A delimited or JSON-lines file as it is; a JSON document flattened into JSON lines first. A ZIP member read
        in place (`member_bytes`) has its digest from its check, which reads it whole."""
        sniffed = sniff(path, label)
        if member_bytes is not None:
            sniffed = replace(sniffed, member_bytes=member_bytes, digest=Digest())
        if sniffed.kind == "json_document":
            # A gzip document within the limits before it streams (a member read in place: and its digest).
            inflated = check_stream(sniffed, self.limits, False) if sniffed.gzip else None
            given = sniffed.digest or Digest(sha256_of(path))
            target = self.scratch / f"document-{len(self.sources)}-{len(self.skipped)}.jsonl"
            with self.preparing(path, sniffed.name, "JSON document", True, inflated) as told:
                flat = flatten(path, sniffed.gzip, sniffed.encoding, target, sniffed.name, told)
            sniffed = replace(sniff(target, sniffed.name), locators=flat.locators, digest=given)
        source = _detected(sniffed, self.importers, self.forced_format)
        # A file of a known format: a gzip one must inflate within the limits, a delimited one's lines fit.
        checked = source.sniffed
        line_limit = sniffed.kind == "csv" and not sniffed.is_parquet
        if self.check_aside and (checked.gzip or line_limit) and checked.path.stat().st_size >= CHECKED_ASIDE_BYTES:
            if checked.gzip:  # the bar's estimate of its rows, from how its first MiB inflates
                checked = replace(checked, bytes_per_row=checked.bytes_per_row / gzip_ratio(checked.path))
            else:  # its check reads the file as it is: its digest, in the same pass
                checked = replace(checked, digest=Digest())
            return replace(source, sniffed=checked, check=StreamCheck(checked, self.limits, line_limit))
        inflated = check_stream(checked, self.limits, line_limit)
        if checked.gzip and inflated:  # a progress bar counts the bytes read from disk: compressed ones
            per_row = checked.bytes_per_row * checked.path.stat().st_size / inflated
            source = replace(source, sniffed=replace(checked, bytes_per_row=per_row))
        return source

    def preparing(
        self, path: Path, shown: str, stage: str, measured: bool = False, inflated_bytes: int | None = None
    ) -> AbstractContextManager[Callable[[int, int], None] | None]:
        """A bar while a large file is prepared, when the run shows progress (see `ScanProgress.preparing`)."""
        if self.progress is None:
            return nullcontext()
        return self.progress.preparing(path, display_name(shown), stage, measured, inflated_bytes)

    def add_archive(self, archive: Path, named: bool, label: str = "") -> None:
        """Each member copied to the scratch directory (named by a counter, never by the member's name) and added."""
        shown = label or str(archive)
        if self.depth >= MAX_ARCHIVE_DEPTH:
            raise InputFileError(shown, "is an archive inside an archive inside an archive", "unpack it yourself")
        before = len(self.sources)
        self.depth += 1
        try:
            with zipfile.ZipFile(archive) as bundle:
                self.check_archive(archive, shown, bundle)
                for member in sorted(bundle.infolist(), key=lambda m: m.filename):
                    if member.is_dir() or _is_hidden(member.filename):
                        continue
                    member_label = f"{shown}!{member.filename}"
                    copy = self.scratch / f"{len(self.seen)}-{self.depth}-{len(self.sources)}-{len(self.skipped)}"
                    if _readable_in_place(bundle, member):
                        _write_gzip_view(archive, member, copy)
                        self.inflated += member.file_size  # its check refuses it past that
                        self.add(copy, member_label, member_bytes=member.file_size)
                    else:
                        self.extract(bundle, member, copy, member_label)
                        self.add(copy, member_label)
        except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
            # A damaged archive, or one using a compression or an encryption zipfile cannot read.
            raise InputFileError(shown, f"is not a readable ZIP archive ({exc})", "download it again") from exc
        finally:
            self.depth -= 1
        if named and len(self.sources) == before:
            raise InputFileError(
                shown, "holds no file that the auditor recognises", "see the supported formats in the README"
            )

    def check_archive(self, path: Path, shown: str, bundle: zipfile.ZipFile | None = None) -> None:
        """Refuse an archive (or a workbook) whose members say they inflate past the limits, before reading one."""
        try:
            members = bundle.infolist() if bundle is not None else _members(path)
        except zipfile.BadZipFile as exc:
            raise InputFileError(shown, f"is not a readable ZIP archive ({exc})", "download it again") from exc
        total = self.inflated + sum(m.file_size for m in members)
        if total > self.limits.max_decompressed_bytes:
            raise_limit(
                shown,
                f"inflates to {total:,} bytes, more than {self.limits.max_decompressed_bytes:,}, the limit",
                "--max-decompressed-bytes",
            )
        for member in members:
            if member.file_size > inflation_limit(member.compress_size, self.limits):
                raise_limit(
                    f"{shown}!{member.filename}",
                    f"inflates {member.file_size // max(member.compress_size, 1):,} times its size, more than "
                    f"{self.limits.max_compression_ratio:,} times, the limit (a compression bomb?)",
                    "--max-compression-ratio",
                )

    def extract(self, bundle: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, label: str) -> None:
        """Copy a member, streaming; stop as soon as it inflates past what its header declared or the limits."""
        limit = min(member.file_size, inflation_limit(member.compress_size, self.limits))
        with bundle.open(member) as source, target.open("wb") as out:
            while block := source.read(1 << 20):
                self.inflated += len(block)
                if self.inflated > self.limits.max_decompressed_bytes:
                    raise_limit(
                        label,
                        f"inflates past {self.limits.max_decompressed_bytes:,} bytes, the limit",
                        "--max-decompressed-bytes",
                    )
                if out.tell() + len(block) > limit:
                    raise InputFileError(
                        label,
                        f"inflates past the {limit:,} bytes its archive declares (a damaged or forged archive)",
                        "download it again",
                    )
                out.write(block)


def _readable_in_place(bundle: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """Whether the member is deflated, not encrypted, and not itself an archive, a gzip or a Parquet file (which
    are opened from an inflated copy)."""
    if member.compress_type != zipfile.ZIP_DEFLATED or member.flag_bits & 0x1:
        return False
    with bundle.open(member) as handle:
        head = handle.read(len(ZIP_MAGIC))
    return not head.startswith((ZIP_MAGIC, GZIP_MAGIC, PARQUET_MAGIC))


def _write_gzip_view(archive: Path, member: zipfile.ZipInfo, target: Path) -> None:
    """Write the member as a gzip file without inflating it: its deflated bytes as the archive holds them, between
    a gzip header and a trailer of its CRC-32 and size as its archive declares them (RFC 1952), which reading the
    file checks, as reading the member does."""
    with archive.open("rb") as source, target.open("wb") as out:
        source.seek(member.header_offset)
        signature, name_bytes, extra_bytes = _LOCAL_HEADER.unpack(source.read(_LOCAL_HEADER.size))
        if signature != ZIP_MAGIC:
            raise zipfile.BadZipFile(f"the local header of {member.filename} is missing")
        source.seek(name_bytes + extra_bytes, os.SEEK_CUR)
        out.write(_GZIP_HEADER)
        left = member.compress_size
        while left:
            block = source.read(min(left, 1 << 20))
            if not block:
                raise zipfile.BadZipFile(f"{member.filename} is cut short")
            out.write(block)
            left -= len(block)
        out.write(struct.pack("<II", member.CRC, member.file_size & 0xFFFFFFFF))


def _members(path: Path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as bundle:
        return bundle.infolist()


@contextmanager
def open_sources(
    inputs: tuple[Path, ...],
    forced_format: str | None,
    own_formats: tuple[Importer, ...] = (),
    limits: InputLimits = DEFAULT_LIMITS,
    check_aside: bool = False,
    progress: ScanProgress | None = None,
) -> Iterator[tuple[list[Source], list[SkippedFile]]]:
    """The sources of a run, valid inside the `with` block (archive members live in a temporary dir).

    `own_formats` (from `--map`) are tried before the built-in importers. With `check_aside`, large gzip and
    delimited files are checked while the run reads them (`Source.check`: the caller waits for it,
    `stream_checks.checks_decide` and `decided`); checks not waited for are stopped when the block ends. With
    `progress`, a large JSON document or workbook shows a bar while it is prepared."""
    importers = (*own_formats, *IMPORTERS)
    _check_format(forced_format, importers)
    # Lines are checked against the field limit before any is read; the csv module may hold one whole.
    csv.field_size_limit(max(csv.field_size_limit(), limits.max_field_bytes))
    scratch = private_dir("members")
    collector = _Collector(
        importers, forced_format, scratch, [], [], set(), limits, check_aside=check_aside, progress=progress
    )
    try:
        for given in inputs:
            if not (given.is_dir() or given.is_file()):
                raise InputFileError(str(given), NO_SUCH_INPUT, "check the path")
            sources_before, skipped_before = len(collector.sources), len(collector.skipped)
            paths = _files_under(given, collector.skipped) if given.is_dir() else [given]
            resolved = [(path, path.resolve()) for path in paths]
            given_before = any(real in collector.seen for _, real in resolved)
            for path, real in resolved:
                if real not in collector.seen:
                    collector.seen.add(real)
                    collector.add(path, named=given.is_file())
            if given.is_dir() and len(collector.sources) == sources_before and not given_before:
                raise DirectoryNotRead(given, collector.skipped[skipped_before:])
        yield collector.sources, collector.skipped
    finally:
        for source in collector.sources:
            if source.check is not None:
                source.check.cancel()
        shutil.rmtree(scratch, ignore_errors=True)


class DirectoryNotRead(InputFileError):
    """A directory given whose files are none of them read (`skipped`: each with its reason, none if it holds no
    file): a wrong path, or exports not yet downloaded there."""

    def __init__(self, directory: Path, skipped: list[SkippedFile]) -> None:
        if not skipped:
            hidden = "files and folders whose names start with a dot, and __MACOSX, are not read"
            super().__init__(str(directory), f"holds no file ({hidden})", "check the path")
        else:
            more = f" (and {len(skipped) - 1} more file(s) skipped)" if len(skipped) > 1 else ""
            super().__init__(
                str(directory),
                f"holds no file that the auditor recognises; {skipped[0].path}: {skipped[0].reason}{more}",
                "see the supported formats in the README (or run: audit formats)",
            )
        self.skipped = skipped


def _check_format(forced_format: str | None, importers: tuple[Importer, ...]) -> None:
    if forced_format is not None and all(i.name != forced_format for i in importers):
        names = [i.name for i in importers]
        close = difflib.get_close_matches(forced_format, names, n=2)
        raise OptionError(
            f"unknown format '{forced_format}'",
            f"did you mean {', '.join(close)}?" if close else "formats: " + ", ".join(names),
        )


def _is_hidden(name: str) -> bool:
    return any((part.startswith(".") and part not in (".", "..")) or part == "__MACOSX" for part in Path(name).parts)


def _is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def _files_under(directory: Path, skipped: list[SkippedFile]) -> list[Path]:
    """The files under a directory; a symbolic link to a directory is listed as skipped, not followed."""
    found: list[Path] = []
    for root, dirs, files in os.walk(directory, followlinks=False):
        here = Path(root)
        for name in sorted(dirs):
            if (here / name).is_symlink() and not _is_hidden(str((here / name).relative_to(directory))):
                skipped.append(
                    SkippedFile(path=str(here / name), reason="a link to a directory (links are not followed)")
                )
        dirs[:] = [d for d in dirs if not (here / d).is_symlink()]
        found.extend(here / name for name in files)
    return sorted(p for p in found if p.is_file() and not _is_hidden(str(p.relative_to(directory))))


def _source(
    path: Path, importers: tuple[Importer, ...], forced_format: str | None, label: str = "", line_offset: int = 0
) -> Source:
    return _detected(sniff(path, label, line_offset), importers, forced_format)


def _detected(sniffed: Sniffed, importers: tuple[Importer, ...], forced_format: str | None) -> Source:
    """The file with its importer, its header under the importer's column names."""
    importer = detect(sniffed, importers, forced_format)
    header = importer.canonical_header(sniffed.header)
    _refuse_duplicate_columns(sniffed, importer, header)
    if header == sniffed.header:
        return Source(sniffed, importer)
    return Source(replace(sniffed, header=header, file_header=sniffed.header), importer)


def _refuse_duplicate_columns(sniffed: Sniffed, importer: Importer, header: tuple[str, ...]) -> None:
    """A column the importer reads, named twice: which of the two holds the data is unclear, so neither is chosen."""
    for name in dict.fromkeys(header):
        places = [str(i) for i, h in enumerate(header, start=1) if h == name]
        if len(places) > 1 and name in importer.read_columns:
            raise InputFileError(
                sniffed.name,
                f"names the column '{name}' {len(places)} times (columns {', '.join(places)}): which one to read is "
                "unclear",
                "remove or rename the extra column and give the file again",
                line=None if sniffed.is_parquet else 1 + sniffed.line_offset,
            )
