"""`python -m benchmarks [name ...]`: run the benchmarks, print their figures, save them as JSON.

A run of every benchmark (no names, as `make bench` does, or `--results` with names) also writes
`benchmarks/RESULTS.md`: the date, the machine (CPU model, cores, memory, load average at the
start and the end), PostgreSQL and PostGIS, the commit, then each figure with its target,
whether it was met and its ratio to the baseline, benchmark by benchmark with the load average
at its start (other processes share the machine).

Exits with status 1 when a figure misses its target, 2 when a benchmark could not run.
"""

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks import BENCHMARKS, PROJECT_ROOT, Figure, database_url

RESULTS = PROJECT_ROOT / "benchmarks" / "RESULTS.md"


def format_figure(figure: Figure) -> str:
    target = f"< {figure.target:g} {figure.unit}" if figure.target is not None else ""
    ratio = f"×{figure.baseline_ratio:.1f}" if figure.baseline_ratio is not None else ""
    verdict = "" if figure.target is None else ("MISSED" if figure.missed else "ok")
    line = (f"{figure.name:<46} {figure.value:>10.1f} {figure.unit:<4} {target:<12} "
            f"{ratio:>7}  {verdict:<6}")
    return f"{line}  {figure.note}".rstrip()


@dataclass
class Section:
    """One benchmark's outcome: its figures, or why it could not run."""

    name: str
    load_average: float
    seconds: float = 0.0
    figures: list[Figure] = field(default_factory=list)
    error: str | None = None


def _first_line(path: str, key: str) -> str | None:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine() -> dict[str, str]:
    """What the figures depend on: CPU, memory, software versions, the code measured."""
    memory = _first_line("/proc/meminfo", "MemTotal")
    facts = {
        "CPU": _first_line("/proc/cpuinfo", "model name") or platform.processor() or "?",
        "cores": str(os.cpu_count()),
        "memory": f"{int(memory.split()[0]) / 1024 ** 2:.1f} GiB" if memory else "?",
        "system": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
    }
    try:
        from app.db import connect

        with connect(database_url()) as conn:
            row = conn.execute("SELECT current_setting('server_version') AS pg, "
                               "postgis_lib_version() AS gis").fetchone()
        if row is not None:
            facts["PostgreSQL / PostGIS"] = f"{row['pg']} / {row['gis']}"
    except Exception as exc:  # the database may be down: the results still get written
        facts["PostgreSQL / PostGIS"] = f"? ({type(exc).__name__})"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()
        facts["commit"] = commit + (" with uncommitted changes" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        facts["commit"] = "?"
    return facts


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _value(figure: Figure) -> str:
    value = float(figure.value)
    if abs(value) >= 100 or (value.is_integer() and not figure.unit):
        shown = f"{value:,.0f}".replace(",", " ")
    else:
        shown = f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return f"{shown} {figure.unit}".strip()


def results_markdown(started: datetime, load_start: tuple[float, float, float],
                     load_end: tuple[float, float, float], facts: dict[str, str],
                     sections: list[Section]) -> str:
    figures = [f for s in sections for f in s.figures]
    targeted = [f for f in figures if f.target is not None]
    missed = [f for f in targeted if f.missed]
    broken = [s.name for s in sections if s.error is not None]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m benchmarks` (`make bench`) on {started:%Y-%m-%d %H:%M} UTC; "
        "run it again to refresh this file. What each figure means: `benchmarks/README.md`.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {key} | {_cell(value)} |" for key, value in facts.items()],
        "| load average at start (1, 5, 15 min) | "
        + " / ".join(f"{v:.2f}" for v in load_start) + " |",
        "| load average at end | " + " / ".join(f"{v:.2f}" for v in load_end) + " |",
        "",
        "Other processes may share the machine: latencies rise with the load average, given "
        "for each benchmark at its start. Compare runs made in the same state.",
        "",
        "## Summary",
        "",
        f"{len(figures)} figures, {len(targeted)} with a target: {len(targeted) - len(missed)} "
        f"met, {len(missed)} missed"
        + (" (" + ", ".join(f"`{f.name}`" for f in missed) + ")" if missed else "") + ".",
    ]
    if broken:
        lines.append("Could not run: " + ", ".join(f"`{name}`" for name in broken) + ".")
    for section in sections:
        lines += ["", f"## `{section.name}`", "",
                  f"Load average {section.load_average:.2f} at its start, "
                  f"{section.seconds:.0f} s.", ""]
        if section.error is not None:
            lines += ["Could not run:", "", "```", section.error.strip(), "```"]
            continue
        lines += ["| figure | value | target | met | vs baseline | note |",
                  "|---|---:|---:|:---:|---:|---|"]
        for f in section.figures:
            target = f"< {f.target:g} {f.unit}".strip() if f.target is not None else ""
            met = "" if f.target is None else ("**no**" if f.missed else "yes")
            ratio = f"×{f.baseline_ratio:.1f}" if f.baseline_ratio is not None else ""
            lines.append(f"| `{f.name}` | {_value(f)} | {target} | {met} | {ratio} | "
                         f"{_cell(f.note)} |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    parser.add_argument("--results", action="store_true",
                        help="write benchmarks/RESULTS.md even when only some benchmarks run")
    args = parser.parse_args(argv)
    names: list[str] = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    started_at = datetime.now(UTC)
    load_start = os.getloadavg()
    load = load_start[0]
    print(f"{started_at:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPU, "
          f"load average {load:.2f} at start")
    print(f"{'figure':<46} {'value':>10} {'unit':<4} {'target':<12} {'vs base':>7}")
    results: dict[str, list[dict[str, object]]] = {}
    sections: list[Section] = []
    failed = False
    for name in names:
        section = Section(name, os.getloadavg()[0])
        sections.append(section)
        started = time.perf_counter()
        try:
            figures: list[Figure] = importlib.import_module(f"benchmarks.{name}").run()
        except Exception:
            section.error = traceback.format_exc(limit=3)
            section.seconds = time.perf_counter() - started
            traceback.print_exc()
            print(f"{name}: could not run")
            failed = True
            continue
        section.figures = figures
        section.seconds = time.perf_counter() - started
        for figure in figures:
            print(format_figure(figure), flush=True)
        print(f"  ({name}: {section.seconds:.0f} s)")
        results[name] = [asdict(figure) | {"missed": figure.missed} for figure in figures]

    out = PROJECT_ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    saved = out / f"{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    saved.write_text(json.dumps({"load_average": load, "results": results,
                                 "load_average_by_benchmark": {
                                     s.name: s.load_average for s in sections}},
                                indent=2) + "\n")
    print(f"figures saved in {saved.relative_to(PROJECT_ROOT)}")
    if not args.names or args.results:
        RESULTS.write_text(results_markdown(started_at, load_start, os.getloadavg(),
                                            machine(), sections))
        print(f"results written in {RESULTS.relative_to(PROJECT_ROOT)}")
    if failed:
        return 2
    return 1 if any(f["missed"] for figures in results.values() for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
