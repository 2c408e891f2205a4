"""Which files an audit reads: expanding directories, choosing each file's importer, listing skipped files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditor.errors import InputFileError, OptionError
from auditor.importers import IMPORTERS, importer_named
from auditor.importers.base import Importer
from auditor.importers.reader import Sniffed, detect, sniff
from auditor.result import SkippedFile


@dataclass(frozen=True)
class Source:
    sniffed: Sniffed
    importer: Importer


def collect_sources(inputs: tuple[Path, ...], forced_format: str | None) -> tuple[list[Source], list[SkippedFile]]:
    """Files named on the command line must be readable; files found in directories may be skipped."""
    if forced_format is not None and importer_named(forced_format) is None:
        import difflib

        names = [i.name for i in IMPORTERS]
        close = difflib.get_close_matches(forced_format, names, n=2)
        raise OptionError(
            f"unknown format '{forced_format}'",
            f"did you mean {', '.join(close)}?" if close else "formats: " + ", ".join(names),
        )
    sources: list[Source] = []
    skipped: list[SkippedFile] = []
    seen: set[Path] = set()
    for given in inputs:
        if given.is_dir():
            for path in _files_under(given):
                if path.resolve() in seen:
                    continue
                seen.add(path.resolve())
                try:
                    sources.append(_source(path, forced_format))
                except InputFileError as exc:
                    skipped.append(SkippedFile(path=str(path), reason=exc.message.removeprefix(f"{path}: ")))
        elif given.is_file():
            if given.resolve() not in seen:
                seen.add(given.resolve())
                sources.append(_source(given, forced_format))
        else:
            raise InputFileError(str(given), "no such file or directory", "check the path")
    return sources, skipped


def _files_under(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(directory).parts)
    )


def _source(path: Path, forced_format: str | None) -> Source:
    sniffed = sniff(path)
    return Source(sniffed, detect(sniffed, IMPORTERS, forced_format))
