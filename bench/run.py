"""Benchmark: end-to-end audits of generated logs beside DuckDB's bare group-by of the same file, and of the samples.

Usage:
  `python bench/run.py [--tz ZONE] [--format openrouter|openai-usage|openai-response] [--keys N] [--one-app]
  [--pack gzip|zip] [--runs N] [ROWS ...]` (default format openrouter, sizes 1000000 5000000 20000000; `--runs`
  measures the audit and DuckDB's reference N times, one after the other, and prints the table of the pair whose
  ratio is the median, then every pair's ratio: on a noisy machine one pair can be off by a fifth; `--tz` audits
  with days grouped in that time zone; `openai-usage` is a bucketed export: one row per model, key and minute;
  `openai-response` is JSON lines of Chat Completions responses, one per request; `--keys` spreads the rows of a CSV
  format over N API keys instead of 4; `--one-app` gives every request of an OpenRouter log one application, so the
  route-by-segment scenario and the plan segment by API key; `--pack` audits the log gzip'd or zipped, at level 6,
  DuckDB's reference still reading the plain file);
  `python bench/run.py samples [ROUNDS]` audits the bundled `samples/` (PDF and XLSX, as `audit samples/` does)
  ROUNDS times (default 3) and prints each stage's lowest and median wall and CPU time, Python imports included.
Each measurement runs in its own process so its peak memory (max RSS) and CPU time are its own. Before any, the
auditor's modules are compiled to bytecode, as an installed package's are. Needs nothing
besides the auditor's own dependencies (DuckDB among them). Prints tables in Markdown, for `docs/benchmarks.md`.
"""

from __future__ import annotations

import gzip
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
import zipfile
from contextlib import suppress
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
SAMPLES = HERE.parent / "samples"
AS_OF = date(2026, 11, 27)
FORMATS = ("openrouter", "openai-usage", "openai-response")
PACKS = ("gzip", "zip")
ALONE = "(alone) write "  # the writers timed one by one, for information: the total counts them written together

# Stage wall and CPU times: the run's own hook for the audit's stages, the writers timed one by one. Process CPU
# time counts every thread (DuckDB scans on all cores), so CPU above wall means the stage ran in parallel.
_AUDIT = """
import gc, time
gc.disable()  # as the command's entry point imports (auditor/launch.py)
start, start_cpu = time.perf_counter(), time.process_time()
import json, resource, sys
from datetime import date
from pathlib import Path
from auditor.options import AuditOptions
from auditor.outputs import OutputPlan, write_outputs, writers_ahead
from auditor.pipeline import run_audit
from pricing.catalog import default_candidates
gc.freeze()
gc.enable()
ALONE = "(alone) write "
# The scan queries the run builds, kept to be timed alone afterwards (`_SCAN_ALONE`), in another process.
import auditor.ingest
scan_queries, scan_sql = [], auditor.ingest.scan_sql
def recorded(*args, **kwargs):
    scan_queries.append(scan_sql(*args, **kwargs)); return scan_queries[-1]
auditor.ingest.scan_sql = recorded
stages = {"Python imports": (time.perf_counter() - start, time.process_time() - start_cpu)}
cpu = [time.process_time()]
def lap(name, seconds):
    now = time.process_time(); stages[name] = (seconds, now - cpu[0]); cpu[0] = now
inputs, as_of, out, zone, extra = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4], sys.argv[5] == "extra"
# With `extra`: the defaults and 3 more candidates (re-pricing 20 candidates is one of the measured figures).
candidates = [c.ref for c in default_candidates()] + ["openai:gpt-5-nano", "anthropic:claude-haiku-5-5",
                                                     "moonshotai:kimi-k3"] if extra else []
options = AuditOptions(inputs=(Path(inputs),), as_of=date.fromisoformat(as_of), candidates=tuple(candidates),
                       timezone=zone)
# All three as the command writes them: the PDF and the workbook by children forked before the run, which import
# their writers meanwhile (their CPU time is theirs, not in this process's figure); the peak memory taken then (the
# command's). Then each writer alone, forked when it writes (the JSON in this process), shown and not added up.
plan = OutputPlan(out / "r.json", False, out / "r.xlsx", out / "r.pdf")
with writers_ahead(plan) as aheads:
    result = run_audit(options, on_stage=lap)
    t, c = time.perf_counter(), time.process_time()
    write_outputs(result, plan, aheads=aheads)
    stages["write outputs"] = (time.perf_counter() - t, time.process_time() - c)
peak = {"max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "child_max_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}
for name, plan in ((ALONE + "JSON", OutputPlan(out / "r.json", False, None, None)),
                   (ALONE + "XLSX", OutputPlan(None, False, out / "r.xlsx", None)),
                   (ALONE + "PDF", OutputPlan(None, False, None, out / "r.pdf"))):
    t, c = time.perf_counter(), time.process_time()
    write_outputs(result, plan)
    stages[name] = (time.perf_counter() - t, time.process_time() - c)
print(json.dumps({"stages": stages, **peak, "scan_queries": scan_queries}))
"""

# model × key × day × hour, sums of the token and cost columns: the least any audit of the file has to do.
_REFERENCE_SQL = {
    "openrouter": """
  SELECT model_permaslug, api_key_name, CAST(created_at AS DATE) AS day, hour(CAST(created_at AS TIMESTAMP)) AS h,
         sum(tokens_prompt), sum(tokens_completion), sum(tokens_reasoning), sum(tokens_cached), sum(cost_total)
  FROM read_csv('{path}', header=true) GROUP BY ALL""",
    "openai-usage": """
  SELECT model, api_key_id, CAST(to_timestamp(start_time) AS DATE) AS day, hour(to_timestamp(start_time)) AS h,
         sum(num_model_requests), sum(input_tokens), sum(output_tokens), sum(input_cached_tokens)
  FROM read_csv('{path}', header=true) GROUP BY ALL""",
    "openai-response": """
  SELECT model, CAST(to_timestamp(created) AS DATE) AS day, hour(to_timestamp(created)) AS h,
         sum(usage.prompt_tokens), sum(usage.completion_tokens), sum(usage.prompt_tokens_details.cached_tokens),
         sum(usage.completion_tokens_details.reasoning_tokens)
  FROM read_json('{path}', format='newline_delimited') GROUP BY ALL""",
}

_DUCKDB = """
import json, resource, sys, time
import duckdb
start, start_cpu = time.perf_counter(), time.process_time()
duckdb.sql(sys.argv[1]).fetchall()
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - start_cpu,
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# The least reading the audit needs: DuckDB reading and typing the columns the file's importer uses, nothing else
# (no checks, mapping, grouping or hashing), with DuckDB's own settings as the reference has.
_TYPED_READ = """
import json, resource, sys, time
from pathlib import Path
import duckdb
from auditor.importers import IMPORTERS
from auditor.importers.engine import CsvSource, column_type, ident, present_columns
from auditor.importers.reader import detect, sniff
sniffed = sniff(Path(sys.argv[1]))
importer = detect(sniffed, IMPORTERS)
source = CsvSource(str(sniffed.path), sniffed.header, "utf-8", 32 * 2**20, None)
used = [c for c in importer.read_columns if c in present_columns(importer, sniffed.header)]
read = ", ".join(f"{'count' if column_type(importer, c) == 'VARCHAR' else 'max'}({ident(c)})" for c in used)
start, start_cpu = time.perf_counter(), time.process_time()
duckdb.sql(f"SELECT {read} FROM {source.relation(importer)}").fetchall()
print(json.dumps({"seconds": time.perf_counter() - start, "cpu": time.process_time() - start_cpu, "columns": len(used),
                  "max_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# The audit's scan query of a streamed file (its checks, mapping and sums: `engine.scan_sql`), as the run executed
# it and on a connection set up as the run's, alone: no survey, digest, check, or work before or after it.
_SCAN_ALONE = """
import json, resource, sys, time
from auditor.scan import SCANS, scan_connection
with scan_connection() as con:
    start, start_cpu = time.perf_counter(), time.process_time()
    con.execute(f"CREATE TABLE {SCANS}.scan_alone AS SELECT 0 AS __file, * FROM ({sys.stdin.read()})")
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "cpu": cpu, "max_rss_mib": peak_mib}))
"""


def _run(code: str, *args: str, given: str | None = None) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, input=given)
    if done.returncode != 0:
        sys.exit(f"bench: the measured process failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _packed(path: Path, pack: str) -> Path:
    """The log gzip'd or zipped (level 6, as the command-line tools' default), made once."""
    packed = path.with_name(path.name + (".gz" if pack == "gzip" else ".zip"))
    if not packed.exists():
        t = time.perf_counter()
        partial = packed.with_name(packed.name + ".partial")
        if pack == "gzip":
            with path.open("rb") as source, gzip.open(partial, "wb", compresslevel=6) as target:
                shutil.copyfileobj(source, target, 1 << 20)
        else:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as bundle:
                bundle.write(path, path.name)
        partial.rename(packed)
        print(f"# packed {packed.name} ({packed.stat().st_size / 2**20:,.0f} MiB) in {time.perf_counter() - t:.1f} s")
    return packed


def bench(
    rows: int,
    kind: str = "openrouter",
    zone: str = "UTC",
    keys: int | None = None,
    pack: str | None = None,
    one_app: bool = False,
    runs: int = 1,
) -> None:
    many = (f"_{keys}keys" if keys else "") + ("_oneapp" if one_app else "")
    path = DATA / f"{kind.replace('-', '_')}_{rows}{many}.{'jsonl' if kind == 'openai-response' else 'csv'}"
    if not path.exists():
        t = time.perf_counter()
        # In a child process: Linux keeps a process's peak RSS across fork and exec, so a parent that
        # generated the file would inflate the measured children's peak memory.
        count = [str(keys) if keys else "-", "one-app"] if one_app else [str(keys)] if keys else []
        generating = [sys.executable, str(HERE / "generate.py"), kind, str(rows), str(path), *count]
        subprocess.run(generating, check=True)
        print(f"# generated {path.name} ({path.stat().st_size / 2**20:,.0f} MiB) in {time.perf_counter() - t:.1f} s")
    audited = _packed(path, pack) if pack else path
    out = DATA / f"out_{kind}_{rows}{many}{f'_{pack}' if pack else ''}"
    out.mkdir(exist_ok=True)
    pairs = []
    for _ in range(runs):  # alternated, so that a slow spell of the machine weighs on both sides
        audit = _run(_AUDIT, str(audited), AS_OF.isoformat(), str(out), zone, "extra")
        pairs.append((audit, _run(_DUCKDB, _REFERENCE_SQL[kind].format(path=path))))
    ratios = [_audited_seconds(a) / float(d["seconds"]) for a, d in pairs]  # type: ignore[arg-type]
    audit, duck = pairs[sorted(range(runs), key=ratios.__getitem__)[(runs - 1) // 2]]
    typed = _run(_TYPED_READ, str(path))
    queries: list[str] = audit["scan_queries"]  # type: ignore[assignment]
    alone = _run(_SCAN_ALONE, given=queries[0]) if len(queries) == 1 else None  # a scan again: not one query
    stages: dict[str, list[float]] = audit["stages"]  # type: ignore[assignment]
    duck_seconds, duck_cpu = float(duck["seconds"]), float(duck["cpu"])  # type: ignore[arg-type]
    counted = _counted(audit)
    total, total_cpu = sum(wall for _, wall, _ in counted), sum(cpu for _, _, cpu in counted)
    what = {"openrouter": "requests", "openai-usage": "bucket rows", "openai-response": "responses"}[kind]
    title = f"{rows:,} {what} ({path.stat().st_size / 2**20:,.0f} MiB"
    if pack:
        title += f"; audited {pack}'d, {audited.stat().st_size / 2**20:,.0f} MiB, DuckDB reading the plain file"
    keyed = (f", {keys:,} API keys" if keys else "") + (", one application" if one_app else "")
    print(f"\n## {title}, {kind}{', --tz ' + zone if zone != 'UTC' else ''}{keyed})")
    print("| stage | seconds | CPU seconds | rows/s |\n|---|---:|---:|---:|")
    for name, wall, cpu in [*counted, ("total", total, total_cpu)]:
        rate = f"{rows / wall:,.0f}" if name in ("ingest and aggregate", "total") else ""
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {rate} |")
    print(f"| DuckDB bare group-by (reference) | {duck_seconds:.2f} | {duck_cpu:.2f} | {rows / duck_seconds:,.0f} |")
    typed_seconds = float(typed["seconds"])  # type: ignore[arg-type]
    print(
        f"| DuckDB typed read of the {typed['columns']} columns used (not in the total) | {typed_seconds:.2f} | "
        f"{float(typed['cpu']):.2f} | {rows / typed_seconds:,.0f} |"  # type: ignore[arg-type]
    )
    if alone is not None:
        alone_seconds = float(alone["seconds"])  # type: ignore[arg-type]
        print(
            f"| the audit's scan query alone (not in the total) | {alone_seconds:.2f} | "
            f"{float(alone['cpu']):.2f} | {rows / alone_seconds:,.0f} |"  # type: ignore[arg-type]
        )
    for name, (wall, cpu) in stages.items():
        if name.startswith(ALONE):
            print(f"| {name} (not in the total) | {wall:.2f} | {cpu:.2f} | |")
    ingest = stages["ingest and aggregate"][0]
    # The floor: an ingest no slower than the typed read, the stages after it as they are.
    floor = (typed_seconds + total - ingest) / duck_seconds
    print(
        f"\npeak memory: audit {audit['max_rss_mib']:.0f} MiB "
        f"(its largest child: the PDF's, the workbook's or the sections': {audit['child_max_rss_mib']:.0f} MiB), "
        f"DuckDB {duck['max_rss_mib']:.0f} MiB; end-to-end / DuckDB = {total / duck_seconds:.2f}x; "
        f"ingest / DuckDB = {ingest / duck_seconds:.2f}x; floor (typed read + the stages after ingest) / DuckDB = "
        f"{floor:.2f}x"
        + (
            f"; the scan query alone + the stages after ingest / DuckDB = "
            f"{(alone_seconds + total - ingest) / duck_seconds:.2f}x"
            if alone is not None
            else ""
        )
    )
    if runs > 1:
        shown = ", ".join(f"{r:.2f}x" for r in ratios)
        print(
            f"over {runs} runs, each audit beside the reference run after it: end-to-end / DuckDB = {shown} "
            f"(median {statistics.median(ratios):.2f}x; the table is the run of the median, or the lower one of two); "
            f"audit peak at most {max(float(a['max_rss_mib']) for a, _ in pairs):.0f} MiB"  # type: ignore[arg-type]
        )


def _counted(audit: dict[str, object]) -> list[tuple[str, float, float]]:
    """The stages the table's total counts, with their wall and CPU time: the audit from its start, imports left out
    (they are in the samples figures), and the writers timed alone left out."""
    stages: dict[str, list[float]] = audit["stages"]  # type: ignore[assignment]
    return [
        (name, wall, cpu)
        for name, (wall, cpu) in stages.items()
        if name != "Python imports" and not name.startswith(ALONE)
    ]


def _audited_seconds(audit: dict[str, object]) -> float:
    """The audit's total as the table counts it (`_counted`)."""
    return sum(wall for _, wall, _ in _counted(audit))


def bench_samples(rounds: int) -> None:
    """The `audit samples/` figures: each stage's lowest and median over `rounds` runs, in separate processes."""
    runs = []
    for i in range(rounds):
        out = DATA / f"out_samples_{i}"
        out.mkdir(parents=True, exist_ok=True)
        runs.append(_run(_AUDIT, str(SAMPLES), "2026-11-28", str(out), "UTC", "defaults"))
    for r in runs:  # imports included: the samples' figure is the command's whole run
        counted = [v for name, v in r["stages"].items() if not name.startswith(ALONE)]  # type: ignore[attr-defined]
        r["stages"]["total"] = [sum(v[0] for v in counted), sum(v[1] for v in counted)]  # type: ignore[index]
    names = list(runs[0]["stages"])  # type: ignore[call-overload]
    files = sum(1 for p in SAMPLES.rglob("*") if p.is_file() and p.name != "README.md")
    print(f"\n## samples/ ({files} files), PDF and XLSX, {rounds} runs")
    print("| stage | wall, lowest | wall, median | CPU, lowest | CPU, median |\n|---|---:|---:|---:|---:|")
    for name in names:
        walls = [r["stages"][name][0] for r in runs]  # type: ignore[index]
        cpus = [r["stages"][name][1] for r in runs]  # type: ignore[index]
        print(
            f"| {name} | {min(walls):.2f} | {statistics.median(walls):.2f} | {min(cpus):.2f} | "
            f"{statistics.median(cpus):.2f} |"
        )
    print(f"\npeak memory: {max(float(r['max_rss_mib']) for r in runs):.0f} MiB")  # type: ignore[arg-type]
    # The command itself, as a user runs it: interpreter start, terminal summary and shutdown included.
    command = [sys.executable, "-m", "auditor", str(SAMPLES), "--as-of", "2026-11-28", "--out"]
    walls = []
    for i in range(rounds):
        start = time.perf_counter()
        subprocess.run([*command, str(DATA / f"out_samples_{i}")], check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
    shown = ", ".join(f"{w:.2f}" for w in sorted(walls))
    print(f"`audit samples/ --out DIR`, the whole command: {shown} s (median {statistics.median(walls):.2f} s)")


def _compile_bytecode() -> str:
    """The auditor's modules compiled to bytecode before any run, as an installed package's are (pip compiles them)
    and as Python caches them at a user's first run. Where that cache is off (PYTHONDONTWRITEBYTECODE, which some
    machines set) an editable install would compile every module at every run, about 0.2 s no user's second run
    pays. Returns what the header says of it."""
    import compileall

    for package in ("auditor", "pricing"):
        if not compileall.compile_dir(HERE.parent / package, quiet=1):
            sys.exit(f"bench: {package} does not compile")
    cache = "off" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    return f"bytecode compiled before the runs (Python's own bytecode cache: {cache})"


def _machine() -> str:
    """What the figures depend on: the processor, its cores, the memory, the system and the libraries' versions."""
    import duckdb
    import pandas
    import pyarrow

    from auditor.scan import machine_memory_mib

    cpu = platform.processor() or platform.machine()
    with suppress(OSError):
        names = [line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                 if line.startswith("model name")]  # fmt: skip
        cpu = f"{platform.machine()}, {names[0]}" if names else cpu
    machine_mib = machine_memory_mib()
    memory = f"{machine_mib / 1024:.1f} GiB" if machine_mib else "memory unknown"
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory}, {platform.system()}, "
        f"python {platform.python_version()}, DuckDB {duckdb.__version__}, pandas {pandas.__version__}, "
        f"pyarrow {pyarrow.__version__}"
    )


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        sys.exit(0)
    print(f"# machine: {_machine()}; {date.today().isoformat()}; {_compile_bytecode()}")
    DATA.mkdir(exist_ok=True)
    if args[:1] == ["samples"]:
        bench_samples(int(args[1]) if len(args) > 1 else 3)
        sys.exit(0)
    tz, kind, keys, pack, one_app, runs = "UTC", "openrouter", None, None, False, 1
    while args[:1] in (["--tz"], ["--format"], ["--keys"], ["--pack"], ["--one-app"], ["--runs"]):
        if args[0] == "--one-app":
            one_app, args = True, args[1:]
            continue
        if args[0] == "--tz":
            tz = args[1]
        elif args[0] == "--keys":
            keys = int(args[1])
        elif args[0] == "--runs":
            runs = int(args[1])
            if runs < 1:
                sys.exit("--runs: at least 1")
        elif args[0] == "--pack":
            if args[1] not in PACKS:
                sys.exit(f"--pack: one of {', '.join(PACKS)}")
            pack = args[1]
        elif args[1] in FORMATS:
            kind = args[1]
        else:
            sys.exit(f"--format: one of {', '.join(FORMATS)}")
        args = args[2:]
    if keys and kind == "openai-response":
        sys.exit("--keys: the openai-response format names no API key")
    if one_app and kind != "openrouter":
        sys.exit("--one-app: OpenRouter logs only")
    for n in [int(a) for a in args] or [1_000_000, 5_000_000, 20_000_000]:
        bench(n, kind, tz, keys, pack, one_app, runs)
