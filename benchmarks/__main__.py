"""`python -m benchmarks [name ...]`: run the benchmarks, print their figures, save them as JSON.

Exits with status 1 when a figure misses its target, 2 when a benchmark could not run.
"""

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime

from benchmarks import BENCHMARKS, PROJECT_ROOT, Figure


def format_figure(figure: Figure) -> str:
    target = f"< {figure.target:g} {figure.unit}" if figure.target is not None else ""
    ratio = f"×{figure.baseline_ratio:.1f}" if figure.baseline_ratio is not None else ""
    verdict = "" if figure.target is None else ("MISSED" if figure.missed else "ok")
    line = (f"{figure.name:<46} {figure.value:>10.1f} {figure.unit:<4} {target:<12} "
            f"{ratio:>7}  {verdict:<6}")
    return f"{line}  {figure.note}".rstrip()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="name",
                        help=f"benchmarks to run (default: all of {', '.join(BENCHMARKS)})")
    args = parser.parse_args(argv)
    names: list[str] = args.names or list(BENCHMARKS)
    unknown = sorted(set(names) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")

    load = os.getloadavg()[0]
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPU, "
          f"load average {load:.2f} at start")
    print(f"{'figure':<46} {'value':>10} {'unit':<4} {'target':<12} {'vs base':>7}")
    results: dict[str, list[dict[str, object]]] = {}
    failed = False
    for name in names:
        started = time.perf_counter()
        try:
            figures: list[Figure] = importlib.import_module(f"benchmarks.{name}").run()
        except Exception:
            traceback.print_exc()
            print(f"{name}: could not run")
            failed = True
            continue
        for figure in figures:
            print(format_figure(figure), flush=True)
        print(f"  ({name}: {time.perf_counter() - started:.0f} s)")
        results[name] = [asdict(figure) | {"missed": figure.missed} for figure in figures]

    out = PROJECT_ROOT / "benchmarks" / "out"
    out.mkdir(exist_ok=True)
    saved = out / f"{datetime.now(UTC):%Y%m%dT%H%M%S}.json"
    saved.write_text(json.dumps({"load_average": load, "results": results}, indent=2) + "\n")
    print(f"figures saved in {saved.relative_to(PROJECT_ROOT)}")
    if failed:
        return 2
    return 1 if any(f["missed"] for figures in results.values() for f in figures) else 0


if __name__ == "__main__":
    sys.exit(main())
