"""Benchmark: end-to-end audits of generated request logs, beside DuckDB's bare group-by of the same file.

Usage: `python bench/run.py [--tz ZONE] [ROWS ...]` (default 1000000 5000000 20000000; `--tz` audits with days
grouped in that time zone). Needs the `bench` extra (duckdb).
Each measurement runs in its own process so its peak memory (max RSS) is its own. Prints one table.
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
AS_OF = date(2026, 11, 27)

_AUDIT = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
from auditor.options import AuditOptions
from auditor.outputs import OutputPlan, write_outputs
from auditor.pipeline import run_audit
from pricing.catalog import default_candidates
# The 17 default candidates and 3 more: re-pricing 20 candidates is one of the measured figures.
candidates = [c.ref for c in default_candidates()] + ["openai:gpt-5-nano", "anthropic:claude-haiku-5-5",
                                                     "moonshotai:kimi-k3"]
stages = {}
start = time.perf_counter()
options = AuditOptions(inputs=(Path(sys.argv[1]),), as_of=date.fromisoformat(sys.argv[2]), candidates=candidates,
                       timezone=sys.argv[4])
result = run_audit(options, on_stage=lambda name, s: stages.__setitem__(name, s))
out = Path(sys.argv[3])
for name, plan in (("write JSON", OutputPlan(out / "r.json", False, None, None)),
                   ("write XLSX", OutputPlan(None, False, out / "r.xlsx", None)),
                   ("write PDF", OutputPlan(None, False, None, out / "r.pdf"))):
    t = time.perf_counter(); write_outputs(result, plan); stages[name] = time.perf_counter() - t
stages["total"] = time.perf_counter() - start
print(json.dumps({"stages": stages, "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_DUCKDB = """
import json, resource, sys, time
import duckdb
start = time.perf_counter()
duckdb.sql(f'''
  SELECT model_permaslug, api_key_name, CAST(created_at AS DATE) AS day, hour(CAST(created_at AS TIMESTAMP)) AS h,
         sum(tokens_prompt), sum(tokens_completion), sum(tokens_reasoning), sum(tokens_cached), sum(cost_total)
  FROM read_csv('{sys.argv[1]}', header=true) GROUP BY ALL''').fetchall()
print(json.dumps({"seconds": time.perf_counter() - start,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(code: str, *args: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def bench(rows: int, zone: str = "UTC") -> None:
    path = DATA / f"openrouter_{rows}.csv"
    if not path.exists():
        t = time.perf_counter()
        # In a child process: Linux keeps a process's peak RSS across fork and exec, so a parent that
        # generated the file would inflate the measured children's peak memory.
        subprocess.run([sys.executable, str(HERE / "generate.py"), "openrouter", str(rows), str(path)], check=True)
        print(f"# generated {path.name} ({path.stat().st_size / 2**20:,.0f} MiB) in {time.perf_counter() - t:.1f} s")
    out = DATA / f"out_{rows}"
    out.mkdir(exist_ok=True)
    audit = _run(_AUDIT, str(path), AS_OF.isoformat(), str(out), zone)
    duck = _run(_DUCKDB, str(path))
    stages: dict[str, float] = audit["stages"]  # type: ignore[assignment]
    ingest = stages["ingest and aggregate"]
    print(
        f"\n## {rows:,} requests ({path.stat().st_size / 2**20:,.0f} MiB)" + (f", --tz {zone}" if zone != "UTC" else "")
    )
    print("| stage | seconds | rows/s |\n|---|---:|---:|")
    for name, seconds in stages.items():
        rate = f"{rows / seconds:,.0f}" if name in ("ingest and aggregate", "total") else ""
        print(f"| {name} | {seconds:.2f} | {rate} |")
    print(f"| DuckDB bare group-by (reference) | {duck['seconds']:.2f} | {rows / float(duck['seconds']):,.0f} |")  # type: ignore[arg-type]
    print(
        f"\npeak memory: audit {audit['max_rss_mib']:.0f} MiB, DuckDB {duck['max_rss_mib']:.0f} MiB; "
        f"end-to-end / DuckDB = {stages['total'] / float(duck['seconds']):.2f}x; "  # type: ignore[arg-type]
        f"ingest / DuckDB = {ingest / float(duck['seconds']):.2f}x"
    )  # type: ignore[arg-type]


if __name__ == "__main__":
    args = sys.argv[1:]
    tz = "UTC"
    if args[:1] == ["--tz"]:
        tz, args = args[1], args[2:]
    sizes = [int(a) for a in args] or [1_000_000, 5_000_000, 20_000_000]
    print(
        f"# machine: {platform.machine()}, {platform.processor() or 'cpu'}, python {platform.python_version()}, "
        f"{date.today().isoformat()}"
    )
    DATA.mkdir(exist_ok=True)
    for n in sizes:
        bench(n, tz)
