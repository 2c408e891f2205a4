"""Which files an audit reads: expanding directories and ZIP archives, choosing each file's importer.

Files named on the command line must be readable; files found in a directory or an archive that no
importer recognises (a README, a PDF invoice) are listed as skipped. ZIP members are copied, streaming,
into a private temporary directory that lives as long as the run; gzip files are read as they are.
"""

from __future__ import annotations

import difflib
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from auditor.errors import InputFileError, OptionError
from auditor.importers import IMPORTERS
from auditor.importers.base import Importer
from auditor.importers.documents import flatten
from auditor.importers.reader import Sniffed, detect, sniff
from auditor.importers.xlsx import WORKBOOK_HINT, copy_table_to_csv, is_xlsx
from auditor.result import SkippedFile

ZIP_MAGIC = b"PK\x03\x04"
# An archive member inflating more than this many times its compressed size is refused (a ZIP bomb).
MAX_ZIP_RATIO = 200
MAX_ZIP_MEMBER_BYTES = 50 * 1024**3


@dataclass(frozen=True)
class Source:
    sniffed: Sniffed
    importer: Importer


@dataclass
class _Collector:
    importers: tuple[Importer, ...]
    forced_format: str | None
    scratch: Path
    sources: list[Source]
    skipped: list[SkippedFile]
    seen: set[Path]

    def add(self, path: Path, label: str = "", named: bool = False) -> None:
        """Add a file. One named on the command line must be readable; one found in a directory or an
        archive that cannot be read is listed as skipped."""
        try:
            if is_xlsx(path):
                self.sources.append(self.workbook_source(path, label or str(path)))
            elif _is_zip(path):
                self.add_archive(path, named)
            else:
                self.sources.append(self.text_source(path, label))
        except InputFileError as exc:
            if named:
                raise
            self.skipped.append(SkippedFile(path=label or str(path), reason=exc.problem))

    def workbook_source(self, path: Path, label: str) -> Source:
        """The workbook's table copied to a CSV in the scratch directory, named `book.xlsx [Sheet]`."""
        importers = [i for i in self.importers if self.forced_format in (None, i.name)]
        target = self.scratch / f"book-{len(self.sources)}-{len(self.skipped)}.csv"
        try:
            copy = copy_table_to_csv(path, target, importers)
        except InputFileError as exc:
            raise InputFileError(label, exc.problem, exc.hint) from exc
        try:
            return _source(target, self.importers, self.forced_format, f"{label} [{copy.sheet}]", copy.header_row - 1)
        except InputFileError as exc:  # a header that is not quite the export's (renamed, split differently)
            exc.hint = WORKBOOK_HINT
            raise

    def text_source(self, path: Path, label: str) -> Source:
        """A delimited or JSON-lines file as it is; a JSON document flattened into JSON lines first."""
        sniffed = sniff(path, label)
        if sniffed.kind == "json_document":
            target = self.scratch / f"document-{len(self.sources)}-{len(self.skipped)}.jsonl"
            flat = flatten(path, sniffed.gzip, sniffed.encoding, target, sniffed.name)
            sniffed = replace(sniff(target, sniffed.name), locators=flat.locators)
        return _detected(sniffed, self.importers, self.forced_format)

    def add_archive(self, archive: Path, named: bool) -> None:
        before = len(self.sources)
        try:
            with zipfile.ZipFile(archive) as bundle:
                for member in sorted(bundle.infolist(), key=lambda m: m.filename):
                    if member.is_dir() or _is_hidden(member.filename):
                        continue
                    label = f"{archive}!{member.filename}"
                    copy = self.scratch / f"{len(self.seen)}-{len(self.sources)}-{len(self.skipped)}"
                    _extract(bundle, member, copy, label)
                    self.add(copy, label)
        except zipfile.BadZipFile as exc:
            raise InputFileError(str(archive), f"is not a readable ZIP archive ({exc})", "download it again") from exc
        if named and len(self.sources) == before:
            raise InputFileError(
                str(archive), "holds no file that the auditor recognises", "see the supported formats in the README"
            )


def _extract(bundle: zipfile.ZipFile, member: zipfile.ZipInfo, target: Path, label: str) -> None:
    limit = min(MAX_ZIP_MEMBER_BYTES, max(member.compress_size, 1) * MAX_ZIP_RATIO)
    if member.file_size > limit:
        raise InputFileError(
            label,
            f"inflates to {member.file_size:,} bytes, more than the limit of {limit:,}",
            "unpack it yourself if it is genuine",
        )
    written = 0
    with bundle.open(member) as source, target.open("wb") as out:
        while block := source.read(1 << 20):
            written += len(block)
            if written > limit:
                raise InputFileError(
                    label, f"inflates past the limit of {limit:,} bytes", "unpack it yourself if it is genuine"
                )
            out.write(block)


@contextmanager
def open_sources(
    inputs: tuple[Path, ...], forced_format: str | None, own_formats: tuple[Importer, ...] = ()
) -> Iterator[tuple[list[Source], list[SkippedFile]]]:
    """The sources of a run, valid inside the `with` block (archive members live in a temporary dir).

    `own_formats` (from `--map`) are tried before the built-in importers."""
    importers = (*own_formats, *IMPORTERS)
    _check_format(forced_format, importers)
    scratch = Path(tempfile.mkdtemp(prefix="audit-members-"))
    collector = _Collector(importers, forced_format, scratch, [], [], set())
    try:
        for given in inputs:
            if not (given.is_dir() or given.is_file()):
                raise InputFileError(str(given), "no such file or directory", "check the path")
            for path in _files_under(given) if given.is_dir() else [given]:
                if path.resolve() not in collector.seen:
                    collector.seen.add(path.resolve())
                    collector.add(path, named=given.is_file())
        yield collector.sources, collector.skipped
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _check_format(forced_format: str | None, importers: tuple[Importer, ...]) -> None:
    if forced_format is not None and all(i.name != forced_format for i in importers):
        names = [i.name for i in importers]
        close = difflib.get_close_matches(forced_format, names, n=2)
        raise OptionError(
            f"unknown format '{forced_format}'",
            f"did you mean {', '.join(close)}?" if close else "formats: " + ", ".join(names),
        )


def _is_hidden(name: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in Path(name).parts)


def _is_zip(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == ZIP_MAGIC


def _files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and not _is_hidden(str(p.relative_to(directory))))


def _source(
    path: Path, importers: tuple[Importer, ...], forced_format: str | None, label: str = "", line_offset: int = 0
) -> Source:
    return _detected(sniff(path, label, line_offset), importers, forced_format)


def _detected(sniffed: Sniffed, importers: tuple[Importer, ...], forced_format: str | None) -> Source:
    """The file with its importer, its header under the importer's column names."""
    importer = detect(sniffed, importers, forced_format)
    header = importer.canonical_header(sniffed.header)
    if header == sniffed.header:
        return Source(sniffed, importer)
    return Source(replace(sniffed, header=header, file_header=sniffed.header), importer)
