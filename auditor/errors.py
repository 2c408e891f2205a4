"""Errors the user can act on: each carries a one-line message, a hint, and the exit code it maps to."""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    """Documented exit codes of the `audit` command."""

    OK = 0
    INTERNAL_ERROR = 1
    INPUT_ERROR = 2
    GATE_TRIPPED = 3


class AuditorError(Exception):
    """A problem caused by the input or the options, reported without a traceback."""

    exit_status = ExitStatus.INPUT_ERROR

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputFileError(AuditorError):
    """A whole input file cannot be used: unreadable, empty, not text, unknown format, missing column."""

    def __init__(
        self, path: str, problem: str, hint: str = "", line: int | None = None, column: str | None = None
    ) -> None:
        where = path
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        super().__init__(f"{where}: {problem}", hint)
        self.path = path
        self.problem = problem


class UnknownFormatError(InputFileError):
    """No importer recognises the file."""


class OptionError(AuditorError):
    """An option has a value the auditor cannot use (unknown model, bad date, ...)."""


class DamagedFileError(InputFileError):
    """A file of a known format is damaged (cut short, failing its CRC, inflating past what its archive declares):
    the run is refused wherever the file was found, since its rows would be lost."""


class InputLimitError(InputFileError):
    """A file passes a limit that protects the machine (inflated size, compression ratio, line length).

    The hint names the flag that raises the limit, for a user whose huge file is genuine."""

    def __init__(self, path: str, problem: str, flag: str) -> None:
        super().__init__(path, problem, f"if the file is genuine, raise the limit with {flag}")
        self.flag = flag
