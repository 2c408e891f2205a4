"""Benchmark: many small files, as a Claude Code user's `~/.claude/projects` holds them.

Usage: `python bench/many_files.py [COUNT ...]` (default 200 1000). Writes COUNT session logs, each the bundled
sample session (`samples/claude_code_jsonl`) with its own session, message and request ids, in 20 project folders
under `bench/data/sessions_<COUNT>/` (kept, not committed), then runs the whole command on the folder
(`audit DIR --json FILE --quiet`) in its own process and prints its wall time and peak memory (max RSS) as a
Markdown table, for `docs/benchmarks.md`. Such files are read one by one (their lines are folded by record).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import claude_code_sessions  # noqa: E402


def write_sessions(folder: Path, count: int) -> None:
    """`count` session logs under `folder`, once (a folder already complete is kept)."""
    done = folder / ".complete"
    if not done.exists():
        claude_code_sessions(folder, count, projects=20)
        done.touch()


def main(counts: list[int]) -> None:
    print("| session logs | size | whole command | peak memory |")
    print("|---:|---:|---:|---:|")
    for count in counts:
        folder = ROOT / "bench" / "data" / f"sessions_{count}"
        write_sessions(folder, count)
        size_mib = sum(p.stat().st_size for p in folder.rglob("*.jsonl")) / 2**20
        result = folder.with_name(folder.name + ".json")
        start = time.perf_counter()
        command = [sys.executable, "-m", "auditor", str(folder), "--json", str(result), "--quiet"]
        _, status, usage = os.wait4(subprocess.Popen(command).pid, 0)  # this run's own peak, not the largest so far
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"bench: the audit of {folder} failed")
        peak_mib = usage.ru_maxrss / 1024
        print(f"| {count:,} | {size_mib:.1f} MiB | {seconds:.1f} s | {peak_mib:,.0f} MiB |", flush=True)


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [200, 1000])
