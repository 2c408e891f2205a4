"""The `audit` command's entry point: the auditor's modules are imported with the garbage collector paused.

Importing pandas, DuckDB, pydantic and the auditor makes hundreds of thousands of objects that live as long as
the process. Collections during the imports walk them again and again (about 0.13 s of a 0.7 s start, measured
with `python -X importtime`); none of them is garbage. After the imports they are frozen: left out of the
collector's full passes, which would otherwise walk them again and again while the audit allocates (a tenth of
the samples' run). Then collection resumes."""

from __future__ import annotations

import gc


def main() -> int:
    gc.disable()
    try:
        from auditor.cli import main as run

        gc.freeze()
    finally:
        gc.enable()
    try:
        return run()
    finally:
        # The run is over, its files written and closed: frozen, its objects are not walked again by the
        # collections of the interpreter's shutdown (a tenth of a second spent finding no garbage worth it).
        gc.freeze()
