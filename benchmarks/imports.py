"""Bulk import of 1,000 CPTS of ~35 contiguous communes on the whole of France (issue target:
under 10 s), against the database of `DATABASE_URL` (default: `cpts` on the private cluster).

The file is built from the loaded communes and their adjacency, the same on every run over the
same data: 1,000 seeds spread evenly over the units in code order, each grown breadth-first
(neighbours in code order) to 25–45 units. France has ~34,900 units, fewer than 1,000 × 35, so
neighbouring groups overlap, as competing drafts do. Each import runs in a transaction that is
rolled back at the end; the real one is followed, in the same transaction, by a second import
of the file with one commune less per CPTS (every CPTS changed). The figures include every
write (CPTS, versions with their dissolved outline, members, events, audit) but the database
is left as it was (a CPTS is never deleted).

The same file is also sent as a user sends it, to `POST /api/imports/cpts?dry_run=true` of a
real `cpts serve` with an administrator's token: upload, parsing, every check and write, the
report as JSON, all rolled back by the dry run.

Baseline: the same CPTS created one per transaction through the use cases that
`POST /api/cpts` calls (create, then read the CPTS back), without HTTP and authentication, so a
lower bound of the per-request way.
"""

import csv
import io
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from app.db import Conn, connect
from app.domain.imports import read_import
from app.domain.perimeter import ReferenceGraph
from app.repo.reference import read_graph
from app.services import cpts as cpts_service
from app.services import imports as import_service
from app.services.cpts import Context, command_line_context
from app.services.imports import ImportOptions
from benchmarks import Figure, database_url
from benchmarks.harness import Account, account_tokens, server

CPTS_COUNT = 1_000
TARGET_S = 10.0
BASELINE_SAMPLE = 200  # CPTS created one by one for the baseline, extrapolated to 1,000
ADMIN = Account("bench-admin-imports@cpts.invalid", "admin")


def group_size(index: int) -> int:
    """25 to 45 units, 35 on average."""
    return 25 + (index * 7) % 21


def contiguous_groups(graph: ReferenceGraph, count: int = CPTS_COUNT) -> list[list[str]]:
    units = sorted(code for code, unit in graph.units.items()
                   if unit.is_unit and unit.has_polygon and graph.neighbours.get(code))
    if len(units) < count * 10:
        raise RuntimeError("too few communes loaded: run `cpts geodata load --all` first")
    step = len(units) / count
    groups: list[list[str]] = []
    for index in range(count):
        seed = units[int(index * step)]
        size = group_size(index)
        group, seen, queue = [seed], {seed}, deque([seed])
        while queue and len(group) < size:
            for neighbour in sorted(graph.neighbours.get(queue.popleft(), ())):
                if neighbour not in seen and graph.units[neighbour].is_unit:
                    seen.add(neighbour)
                    group.append(neighbour)
                    queue.append(neighbour)
                    if len(group) == size:
                        break
        groups.append(group)
    return groups


def import_file(groups: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["cpts", "code_commune"])
    for index, group in enumerate(groups, start=1):
        writer.writerows([f"CPTS banc d'essai {index:04d}", code] for code in group)
    return buffer.getvalue().encode()


@dataclass(frozen=True)
class Timing:
    wall_s: float
    cpu_s: float  # of this process only: the rest of the wall time is PostgreSQL or waiting


def _timed(ctx: Context, data: bytes, dry_run: bool) -> tuple[Timing, dict[str, Any]]:
    started, cpu = time.perf_counter(), time.process_time()
    report = import_service.import_cpts(ctx, data, ImportOptions(dry_run=dry_run))
    return Timing(time.perf_counter() - started, time.process_time() - cpu), report


def timed_import(conn: Conn, data: bytes, graph: ReferenceGraph, *, dry_run: bool,
                 then: bytes | None = None) -> list[tuple[Timing, dict[str, Any]]]:
    """The import of `data`, then of `then` over it, in one transaction rolled back."""
    with conn.transaction(force_rollback=True):
        ctx = command_line_context(conn, graph=graph)
        timings = [_timed(ctx, data, dry_run)]
        if then is not None:
            timings.append(_timed(ctx, then, dry_run))
        return timings


def one_by_one(conn: Conn, groups: list[list[str]], graph: ReferenceGraph) -> float:
    """Seconds per CPTS, each in its own (rolled back) transaction, as one request each."""
    started = time.perf_counter()
    for index, group in enumerate(groups, start=1):
        with conn.transaction(force_rollback=True):
            ctx = command_line_context(conn, graph=graph)
            cpts_id = cpts_service.create(ctx, name=f"CPTS banc d'essai {index:04d}",
                                          status="pre_projet", communes=group)
            cpts_service.read(ctx, cpts_id)
    return (time.perf_counter() - started) / len(groups)


def http_dry_run(url: str, data: bytes) -> float:
    """Seconds for the whole dry run through HTTP, upload and JSON report included."""
    with account_tokens(url, [ADMIN]) as [token], server(url) as base, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        files = {"file": ("cpts.csv", data, "text/csv")}
        client.post("/api/imports/cpts", params={"dry_run": "true"}, files=files)  # warm-up
        started = time.perf_counter()
        response = client.post("/api/imports/cpts", params={"dry_run": "true"}, files=files)
        elapsed = time.perf_counter() - started
    if response.status_code != 200 or response.json()["created"] != CPTS_COUNT:
        raise RuntimeError(f"import: HTTP {response.status_code} {response.text[:300]}")
    return elapsed


def run() -> list[Figure]:
    with connect(database_url()) as conn:
        graph = read_graph(conn)
        conn.rollback()
        groups = contiguous_groups(graph)
        data = import_file(groups)
        rows = sum(len(g) for g in groups)
        started = time.perf_counter()
        read_import(data)
        parse_s = time.perf_counter() - started
        timed_import(conn, data, graph, dry_run=True)  # warm the caches (matching data)
        [(dry, _)] = timed_import(conn, data, graph, dry_run=True)
        changed = import_file([group[:-1] for group in groups])
        (real, report), (again, second) = timed_import(conn, data, graph, dry_run=False,
                                                       then=changed)
        assert report["created"] == CPTS_COUNT, report["created"]
        assert second["updated"] == CPTS_COUNT, second["updated"]
        per_cpts_s = one_by_one(conn, groups[:BASELINE_SAMPLE], graph)
    http_s = http_dry_run(database_url(), data)
    baseline_s = per_cpts_s * CPTS_COUNT
    note = f"{CPTS_COUNT} CPTS, {rows} lignes, {len(data) // 1024} Kio"
    return [
        Figure("imports.national_1000_cpts", real.wall_s, "s", target=TARGET_S,
               baseline_ratio=baseline_s / real.wall_s,
               note=f"{note} ; dont {real.cpu_s:.1f} s de calcul Python ; base : une CPTS "
                    f"par transaction (create + read), {BASELINE_SAMPLE} mesurées"),
        Figure("imports.national_1000_cpts.dry_run", dry.wall_s, "s", target=TARGET_S,
               note=f"même travail dans une transaction annulée ; {dry.cpu_s:.1f} s de calcul "
                    "Python"),
        Figure("imports.national_1000_cpts.reimport_changed", again.wall_s, "s",
               target=TARGET_S,
               note="le même fichier, une commune de moins par CPTS, importé juste après : "
                    f"1000 CPTS modifiées ; {again.cpu_s:.1f} s de calcul Python"),
        Figure("imports.national_1000_cpts.http_dry_run", http_s, "s", target=TARGET_S,
               note="POST /api/imports/cpts?dry_run=true sur cpts serve, jeton administrateur : "
                    "envoi, vérifications, écritures annulées et rapport JSON"),
        Figure("imports.parse_csv", parse_s * 1000, "ms",
               note="lecture du fichier seule (décodage, colonnes, lignes)"),
        Figure("imports.baseline_one_by_one", baseline_s, "s",
               note=f"{per_cpts_s * 1000:.1f} ms par CPTS × {CPTS_COUNT}, sans HTTP"),
    ]


if __name__ == "__main__":
    from benchmarks.__main__ import format_figure

    for figure in run():
        print(format_figure(figure))
