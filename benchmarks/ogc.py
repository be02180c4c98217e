"""OGC API – Features and the coverage GeoPackage on the national scenario, through a real
`cpts serve` (issue 15 targets: a page of 1,000 communes ≤ 150 ms; the whole `cpts` collection
read by GDAL ≤ 2 s; the national GeoPackage ≤ 10 s).

The scratch database `cpts_bench_coverage` of `benchmarks.coverage` (France and the generated
scenario, about 820 CPTS) is prepared on first use and reused. An administrator account
(`benchmarks-ogc@cpts.invalid`, created with the command line on first use) reads everything.
- pages of 1,000 communes: 30 requests at seeded random offsets over France, full-detail
  geometry in CRS84, after 3 unmeasured ones; the same in Lambert-93 (`crs=EPSG:2154`);
- the `cpts` collection read by GDAL's OAPIF driver (`ogr2ogr`, what QGIS uses) asking pages of
  1,000, five times, at full detail (the baseline is GDAL's default page of 10 features), then
  the light national layer (`…/collections/cpts?zoom=6`); the server ends a page once its
  geometries pass 1 MiB (`app.ogc.protocol.PAGE_BYTES`), so GDAL, which reads the first page
  twice (once for the schema), reads about 1 MiB twice rather than the whole layer;
- `GET /api/coverage?scope=national&format=gpkg`, three times, the file checked with `ogrinfo`.
"""

import os
import random
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from benchmarks import Figure, percentile, running_server
from benchmarks.coverage import prepare
from benchmarks.harness import Account, account_tokens

ACCOUNT = Account("benchmarks-ogc@cpts.invalid", "admin")
PAGE = 1000
REQUESTS = 30
WARM_UP = 3
PAGE_P95_MS = 150.0
GDAL_READ_S = 2.0
GPKG_S = 10.0
GDAL_RUNS = 5
GPKG_RUNS = 3
OGR2OGR = shutil.which("ogr2ogr") or "/usr/bin/ogr2ogr"
OGRINFO = shutil.which("ogrinfo") or "/usr/bin/ogrinfo"


def pages(client: httpx.Client, total: int, **params: str) -> list[float]:
    rng = random.Random(15)
    offsets = [rng.randrange(0, max(1, total - PAGE)) for _ in range(REQUESTS + WARM_UP)]
    elapsed = []
    for offset in offsets:
        started = time.perf_counter()
        response = client.get("/ogc/collections/communes/items",
                              params={"limit": PAGE, "offset": offset, **params})
        elapsed.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or len(response.json()["features"]) != PAGE:
            raise RuntimeError(f"communes page at {offset}: HTTP {response.status_code} "
                               f"{response.text[:300]}")
    return elapsed[WARM_UP:]


def gdal_read(base: str, token: str, page_size: int | None, zoom: int | None = None
              ) -> tuple[float, int]:
    """Seconds for ogr2ogr to read the whole `cpts` collection, and the features read; with
    `zoom`, GDAL is given the collection's URL with `?zoom=` (it keeps the parameter on every
    request of items)."""
    seconds, rows, _ = gdal_read_with_cpu(base, token, page_size, zoom)
    return seconds, rows


def gdal_read_with_cpu(base: str, token: str, page_size: int | None, zoom: int | None = None
                       ) -> tuple[float, int, float]:
    """`gdal_read`, and the processor seconds ogr2ogr itself used (user and system): the
    client's share of the wall time, which does not grow with the load of a shared machine."""
    with tempfile.TemporaryDirectory(prefix="bench-ogc-") as directory:
        target = Path(directory) / "cpts.csv"
        source = (f"OAPIF:{base}/ogc/collections/cpts?zoom={zoom}" if zoom is not None
                  else f"OAPIF:{base}/ogc")
        command = [OGR2OGR, "-f", "CSV", str(target), source]
        if zoom is None:
            command.append("cpts")
        if page_size:
            command += ["-oo", f"PAGE_SIZE={page_size}"]
        env = os.environ | {"GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode:
            raise RuntimeError(f"ogr2ogr: {done.stderr[-500:]}")
        rows = len(target.read_text(encoding="utf-8").splitlines()) - 1
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, rows, cpu


def page_sizes(client: httpx.Client, collection: str, limit: int) -> list[int]:
    """The features of each page of a collection asked `limit` at a time, following `next`."""
    sizes = []
    url: str | None = f"/ogc/collections/{collection}/items?limit={limit}"
    while url:
        page = client.get(url).json()
        sizes.append(page["numberReturned"])
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    return sizes


def national_gpkg(client: httpx.Client) -> tuple[list[float], int, str]:
    elapsed, size, layers = [], 0, ""
    for _ in range(GPKG_RUNS):
        started = time.perf_counter()
        response = client.get("/api/coverage", params={"scope": "national", "format": "gpkg"})
        elapsed.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"national GeoPackage: HTTP {response.status_code} "
                               f"{response.text[:300]}")
        size = len(response.content)
        with tempfile.NamedTemporaryFile(suffix=".gpkg") as file:
            file.write(response.content)
            file.flush()
            done = subprocess.run([OGRINFO, "-ro", "-so", file.name, "cpts"],
                                  capture_output=True, text=True, timeout=120)
            if done.returncode or "Lambert-93" not in done.stdout:
                raise RuntimeError(f"ogrinfo: {done.stderr[-300:]}")
            layers = next((line.strip() for line in done.stdout.splitlines()
                           if line.startswith("Feature Count")), "")
    return elapsed, size, layers


def run() -> list[Figure]:
    if not Path(OGR2OGR).exists():
        raise RuntimeError("ogr2ogr is missing: `make gdal` installs Debian's gdal-bin")
    url = prepare()
    with (account_tokens(url, [ACCOUNT]) as (token,), running_server(url) as base,
          httpx.Client(base_url=base, timeout=300,
                       headers={"Authorization": f"Bearer {token}"}) as client):
        total = client.get("/ogc/collections/communes/items",
                           params={"limit": 1}).json()["numberMatched"]
        wgs84 = pages(client, total)
        lambert = pages(client, total, crs="EPSG:2154")
        light = pages(client, total, zoom="6")
        expected = client.get("/ogc/collections/cpts/items",
                              params={"limit": 1}).json()["numberMatched"]
        gdal_read(base, token, PAGE)  # warm-up
        reads = [gdal_read_with_cpu(base, token, PAGE) for _ in range(GDAL_RUNS)]
        if any(rows != expected for _, rows, _ in reads):
            raise RuntimeError(f"GDAL read {[r for _, r, _ in reads]} CPTS, the service says "
                               f"{expected}")
        served = page_sizes(client, "cpts", PAGE)
        naive_s, _ = gdal_read(base, token, None)
        light_reads = [gdal_read(base, token, PAGE, zoom=6) for _ in range(GDAL_RUNS)]
        gpkg_s, gpkg_size, gpkg_cpts = national_gpkg(client)
    read_s = statistics.median(s for s, _, _ in reads)
    gdal_cpu = statistics.median(cpu for _, _, cpu in reads)
    return [
        Figure("ogc.communes_page_1000_p50", percentile(wgs84, 0.5), "ms",
               note=f"{total} communes, full detail, CRS84"),
        Figure("ogc.communes_page_1000_p95", percentile(wgs84, 0.95), "ms", PAGE_P95_MS,
               note="target ≤ 150 ms"),
        Figure("ogc.communes_page_1000_lambert93_p95", percentile(lambert, 0.95), "ms",
               PAGE_P95_MS, note="crs=EPSG:2154"),
        Figure("ogc.communes_page_1000_zoom6_p95", percentile(light, 0.95), "ms",
               PAGE_P95_MS, note="zoom=6: the generalised band"),
        Figure("ogc.cpts_read_by_gdal", read_s, "s", GDAL_READ_S, baseline_ratio=naive_s / read_s,
               note=f"{expected} CPTS, ogr2ogr with PAGE_SIZE={PAGE}, served in "
                    f"{len(served)} pages of ≤ 1 MiB ({'+'.join(map(str, served))} CPTS), "
                    f"median of {GDAL_RUNS} (max {max(s for s, _, _ in reads):.2f} s), of which "
                    f"ogr2ogr's own processor time {gdal_cpu:.2f} s; baseline: GDAL's default "
                    f"page of 10, {naive_s:.2f} s"),
        Figure("ogc.cpts_read_by_gdal_zoom6", statistics.median(s for s, _ in light_reads), "s",
               GDAL_READ_S, note=f"…/collections/cpts?zoom=6: outlines from the zoom 0-6 band, "
                                 f"{light_reads[0][1]} CPTS, median of {GDAL_RUNS}"),
        Figure("ogc.national_gpkg", statistics.median(gpkg_s), "s", GPKG_S,
               note=f"median of {GPKG_RUNS}, {gpkg_size / 2**20:.0f} MiB, cpts {gpkg_cpts}"),
    ]
