"""Indicator tables on the whole of France (issue 18 targets), against the database of
`DATABASE_URL` (default: `cpts` on the private cluster, all communes loaded):

- importing a 35,000-row table (every commune and arrondissement by INSEE code, the rest former
  codes, 20 declared columns: sums, means weighted by population or by another column, shares
  by category, min and max) through `POST /api/indicators/tables` of a real `cpts serve`, as an
  administrator sends it: upload, reading, matching, every check, writing (target ≤ 5 s);
- with those 20 indicators loaded, `GET /api/indicators?units=…` for an edit click on 200
  perimeters of 25 to 45 contiguous communes spread over France, as the edit panel asks it after
  each click: p95 of the answer time seen by the client on the same machine, an upper bound of
  the server side (target ≤ 30 ms). The first call (reading the table into memory and the
  figures of the comparison areas) is measured apart;
- in headless Chromium, on the national scenario of `benchmarks.coverage` (~800 CPTS, the same
  20 indicators imported there), the edit click to the panel showing the indicators: a CPTS is
  opened in the edit mode and 20 communes around it are clicked one by one, with the browser
  harness of `benchmarks.map_render`; each click is timed in the page from the click handler to
  the indicators table redrawn (`metrics.indicatorClicks`, app/web/js/indicators.js), and to
  the whole panel (figures and indicators, the later of the two) (target ≤ 100 ms p95).

Baseline: the same aggregates with nothing kept in memory (the table's values read and the
département, région and France figures computed again at every call), in process.
Each run replaces the benchmark table (`bench_indicateurs`) of the previous run.
"""

import csv
import io
import json
import time
import zlib

import httpx

from app.db import connect
from app.domain.perimeter import ReferenceGraph
from app.migrations import upgrade
from app.repo.reference import read_graph
from app.services import indicators as service
from app.services.cpts import command_line_context
from app.settings import Settings
from benchmarks import Figure, database_url, percentile
from benchmarks.harness import Account, account_tokens, server
from benchmarks.imports import contiguous_groups

ROWS = 35_000
CLICKS = 200
IMPORT_TARGET_S = 5.0
CLICK_TARGET_MS = 30.0
BROWSER_CLICK_TARGET_MS = 100.0
SLUG = "bench_indicateurs"
ADMIN = Account("bench-admin-indicators@cpts.invalid", "admin")
ZONES = ("ZIP", "ZAC", "ZAR", "HZ")


def definition() -> dict[str, object]:
    columns: list[dict[str, object]] = []
    for i in range(8):
        columns.append({"header": f"effectif_{i}", "label": f"Effectif {i}", "unit": "personnes",
                        "aggregation": "sum"})
    for i in range(6):
        columns.append({"header": f"taux_{i}", "label": f"Taux {i}", "unit": "%",
                        "aggregation": "mean"})
    columns.append({"header": "taux_pondere", "label": "Taux pondéré par effectif_0",
                    "aggregation": "mean", "weight": "effectif_0"})
    for i in range(3):
        columns.append({"header": f"zonage_{i}", "label": f"Zonage {i}", "aggregation": "share",
                        "categories": list(ZONES)})
    columns.append({"header": "age_min", "label": "Âge minimal", "aggregation": "min"})
    columns.append({"header": "age_max", "label": "Âge maximal", "aggregation": "max"})
    return {"table": SLUG, "title": "Banc d'essai (20 indicateurs)", "visibility": "public",
            "vintage": "2025", "source": "benchmarks/indicators.py",
            "match": {"code": "codgeo"}, "columns": columns}


def table_file(codes: list[str]) -> bytes:
    """`ROWS` rows, values derived from each code (the same on every run)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(["codgeo", *(str(c["header"]) for c in definition()["columns"])])  # type: ignore[attr-defined]
    for code in codes[:ROWS]:
        seed = zlib.crc32(code.encode())
        writer.writerow([code, *(seed % (97 + i) for i in range(8)),
                         *(f"{(seed >> i) % 1000 / 10:.1f}".replace(".", ",") for i in range(7)),
                         *(ZONES[(seed >> (3 * i)) % 4] for i in range(3)),
                         seed % 40, 40 + seed % 60])
    return out.getvalue().encode("utf-8")


def _prepare(url: str) -> tuple[ReferenceGraph, bytes]:
    """The reference of database `url`, without the previous run's table, and the file."""
    with connect(url) as conn:
        upgrade(conn, Settings().migrations_dir)
        graph = read_graph(conn)
        codes = sorted(graph.units)
        former = [r["old_code"] for r in conn.execute(
            "SELECT DISTINCT old_code FROM commune_history WHERE old_code <> ALL(%s) "
            "ORDER BY old_code", (codes,))]
        with conn.transaction():  # the previous run's table goes
            conn.execute("""DELETE FROM indicator_value WHERE version_id IN (SELECT v.id FROM
                            indicator_version v JOIN indicator_table t ON t.id = v.table_id
                            WHERE t.slug = %s)""", (SLUG,))
            conn.execute("""DELETE FROM indicator_column WHERE version_id IN (SELECT v.id FROM
                            indicator_version v JOIN indicator_table t ON t.id = v.table_id
                            WHERE t.slug = %s)""", (SLUG,))
            conn.execute("""DELETE FROM indicator_version WHERE table_id IN (SELECT id FROM
                            indicator_table WHERE slug = %s)""", (SLUG,))
    return graph, table_file(codes + former)


def _import(client: httpx.Client, data: bytes) -> tuple[float, int]:
    """The table sent as an administrator: seconds taken, rows read."""
    started = time.perf_counter()
    response = client.post("/api/indicators/tables",
                           files={"file": ("bench.csv", data, "text/csv")},
                           data={"definition": json.dumps(definition())})
    import_s = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"import: {response.status_code} {response.text[:500]}")
    return import_s, int(response.json()["summary"]["rows"])


def _browser_clicks() -> tuple[list[float], list[float], int]:
    """In Chromium on the national scenario: per edit click, the time to the indicators drawn
    and to the whole panel (ms), and the number of indicators shown."""
    from playwright.sync_api import sync_playwright

    from benchmarks.coverage import prepare
    from benchmarks.map_render import (
        CHROMIUM,
        CHROMIUM_ARGS,
        account,
        click_targets,
        edit_clicks,
        signed_in_state,
    )

    url = prepare()
    _, data = _prepare(url)
    email, password = account(url)
    cpts_id, targets, centre = click_targets(url)
    ready = "document.querySelector('#edit-indicators')?.dataset.state === 'ready'"
    with account_tokens(url, [ADMIN]) as [token], server(url) as base, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120
    ) as client, sync_playwright() as playwright:
        _import(client, data)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            state = signed_in_state(browser, base, email, password)
            measured = edit_clicks(browser, base, state, cpts_id, targets, centre,
                                   series=("clicks", "indicatorClicks"), ready=ready)
        finally:
            browser.close()
        shown = client.get("/api/indicators", params={"units": targets[0][0], "table": SLUG})
        indicators = len(shown.json()["tables"][0]["indicators"])
    drawn = measured["indicatorClicks"]
    panel = [max(a, b) for a, b in zip(measured["clicks"], drawn, strict=True)]
    return drawn, panel, indicators


def run() -> list[Figure]:
    url = database_url()
    graph, data = _prepare(url)
    groups = contiguous_groups(graph, CLICKS)
    with account_tokens(url, [ADMIN]) as [token], server(url) as base, httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as client:
        import_s, rows = _import(client, data)
        started = time.perf_counter()
        first = client.get("/api/indicators", params={"units": ",".join(groups[0])})
        first_ms = (time.perf_counter() - started) * 1000
        first.raise_for_status()
        durations = []
        for group in groups:
            started = time.perf_counter()
            answer = client.get("/api/indicators", params={"units": ",".join(group)})
            durations.append((time.perf_counter() - started) * 1000)
            answer.raise_for_status()
        indicators = sum(len(t["indicators"]) for t in answer.json()["tables"])
    with connect(url) as conn:
        ctx = command_line_context(conn, graph=graph)
        naive = []
        for group in groups[:5]:
            service._memory = service._Memory()  # nothing kept: the naive way
            started = time.perf_counter()
            service.indicators(ctx, scope=None, units=group, table=SLUG)
            naive.append((time.perf_counter() - started) * 1000)
        service._memory = service._Memory()
    p95 = percentile(sorted(durations), 0.95)
    drawn, panel, shown = _browser_clicks()
    return [
        Figure(f"import table {rows:,} lignes × 20 col. (HTTP)".replace(",", " "), import_s,
               "s", IMPORT_TARGET_S, note=f"{len(data) / 1e6:.1f} Mo"),
        Figure("indicateurs d'un clic d'édition p95 (HTTP)", p95, "ms", CLICK_TARGET_MS,
               baseline_ratio=sum(naive) / len(naive) / p95,
               note=f"{indicators} indicateurs, {CLICKS} périmètres de 25 à 45 communes, "
                    f"médiane {percentile(sorted(durations), 0.5):.1f} ms ; 1er appel "
                    f"{first_ms:.0f} ms (lecture et figures de comparaison)"),
        Figure("indicateurs d'un clic d'édition p95 (navigateur)", percentile(sorted(drawn), 0.95),
               "ms", BROWSER_CLICK_TARGET_MS,
               note=f"{shown} indicateurs, {len(drawn)} clics sur le scénario national, du clic "
                    f"au tableau redessiné dans la page ; médiane "
                    f"{percentile(sorted(drawn), 0.5):.0f} ms"),
        Figure("clic d'édition → panneau complet p95 (navigateur)",
               percentile(sorted(panel), 0.95), "ms", BROWSER_CLICK_TARGET_MS,
               note="le plus tard des chiffres du périmètre et des indicateurs, par clic"),
    ]
