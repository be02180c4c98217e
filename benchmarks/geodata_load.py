"""Wall time and peak memory of `cpts geodata load --all --force` for the whole of France.

Runs in a child process against a scratch database `cpts_bench` on the same server (dropped
afterwards), first with an empty build cache (a temporary CACHE_DIR holding only the downloaded
sources, so the network is not measured), then again with the build that first run cached.
The first load's report also gives what the gap fill (holes on land given to a commune,
`geodata.holes`) and the migration of stored perimeters (`app.services.cog_migration`) add to
it (issue target: < 20 s together).
"""

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.db import connect
from app.dbadmin import drop_database, with_database
from app.settings import Settings
from benchmarks import Figure, cpts_command, database_url

SCRATCH_DATABASE = "cpts_bench"
MAX_SECONDS = 180.0
MAX_PEAK_MIB = 4096.0
MAX_GAP_FILL_AND_MIGRATION_S = 20.0


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mib: float


def run_measured(command: list[str], env: dict[str, str], log: Path) -> Measured:
    """Run `command`, waiting with wait4 so that the peak RSS is this child's alone (the
    RUSAGE_CHILDREN maximum would include every earlier child, such as a tile server)."""
    started = time.perf_counter()
    with log.open("wb") as output:
        child = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        tail = log.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{' '.join(command)} failed ({child.returncode}):\n{tail}")
    return Measured(seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def run() -> list[Figure]:
    scratch = with_database(database_url(), SCRATCH_DATABASE)
    sources = Settings().cache_dir / "sources"
    workdir = Path(tempfile.mkdtemp(prefix="cpts-bench-"))
    cache_dir = workdir / "cache"
    cache_dir.mkdir()
    if sources.is_dir():
        (cache_dir / "sources").symlink_to(sources.resolve(), target_is_directory=True)
    env = os.environ | {"DATABASE_URL": scratch, "CACHE_DIR": str(cache_dir),
                        "LOG_LEVEL": "WARNING"}
    load = [*cpts_command(), "geodata", "load", "--all", "--force", "--quiet"]
    try:
        drop_database(scratch)
        run_measured([*cpts_command(), "db", "upgrade"], env, workdir / "upgrade.log")
        cold = run_measured(load, env, workdir / "cold.log")
        with connect(scratch) as conn:
            row = conn.execute("SELECT report FROM geodata_release WHERE is_current").fetchone()
        assert row is not None
        holes_s = sum(t.get("holes_seconds", 0.0) for t in row["report"]["topology"].values())
        migration_s = float(row["report"]["migration"]["seconds"])
        warm = run_measured(load, env, workdir / "warm.log")
    finally:
        drop_database(scratch)
        shutil.rmtree(workdir, ignore_errors=True)
    return [
        Figure("geodata_load.without_build_cache", cold.seconds, "s", MAX_SECONDS,
               note="build from the sources, then load"),
        Figure("geodata_load.without_build_cache.peak_rss", cold.peak_rss_mib, "MiB",
               MAX_PEAK_MIB, note="the loading process; PostgreSQL's own memory not counted"),
        Figure("geodata_load.with_build_cache", warm.seconds, "s", MAX_SECONDS,
               baseline_ratio=cold.seconds / warm.seconds,
               note="baseline: the same load without the build cache"),
        Figure("geodata_load.with_build_cache.peak_rss", warm.peak_rss_mib, "MiB", MAX_PEAK_MIB),
        Figure("geodata_load.gap_fill_and_migration", holes_s + migration_s, "s",
               MAX_GAP_FILL_AND_MIGRATION_S,
               note=f"within the first load: holes {holes_s:.1f} s, migration of the "
                    f"perimeters {migration_s:.1f} s"),
    ]
