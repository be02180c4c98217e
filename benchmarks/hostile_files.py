"""Hostile import files refused cheaply (issue 12 targets: an XLSX of ~1 MB that expands to
1 GiB refused in < 1 s, the server's peak memory growing < 100 MB).

The files are built here, the same on every run (the tests of `tests/test_hostile_files.py`
build theirs with the same functions):
- `expanding_xlsx`: a workbook whose sheet is 1 GiB of spaces inside `<sheetData>`, packed into
  ~1 MB (one deflated MiB of spaces repeated behind full flushes: built in a second, without
  ever holding the GiB);
- `empty_rows_xlsx`: 5 million empty `<row/>` in a 47 KB workbook (the issue's file);
- `numbered_rows_xlsx`: a header then 1 million `<row r="n"/>`, 2.4 MB, whose compression
  ratio (×7) looks like a real sheet's, so it is the row limit that stops it (after 200,000
  rows read as a stream), not the archive check;
- a GeoJSON nested 100,000 arrays deep and one whose `crs` is `EPSG:` and 5,000 digits.

Each is sent to `POST /api/imports/cpts?dry_run=true` of a real `cpts serve` (one process,
started here so that its memory can be read in `/proc/<pid>/status`) with an administrator's
token. Before each request the kernel's peak-RSS counter of the server is reset (`echo 5 >
/proc/<pid>/clear_refs`); after it, `VmHWM` minus the RSS before is the peak growth. A thread
also samples `VmRSS` every 2 ms, for kernels that refuse the reset. The memory left after is
`VmRSS` a second after the answer minus the RSS before.

No baseline is measured: the code before issue 12 took 15 s and 2 GiB of memory for the first
file and 26 s for the second (figures of the issue), too heavy for a shared machine.
"""

import os
import struct
import subprocess
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from benchmarks import (
    PROJECT_ROOT,
    Figure,
    _wait_until_healthy,
    cpts_command,
    database_url,
    free_port,
)
from benchmarks.harness import Account, account_tokens

MIB = 1024 * 1024
GIB = 1024 * MIB
ADMIN = Account("bench-admin-hostile@cpts.invalid", "admin")
TIME_TARGET_MS = 1000.0
MEMORY_TARGET_MIB = 100.0
_SPREADSHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"

# --- Building the files -----------------------------------------------------------------------


@dataclass(frozen=True)
class Deflated:
    """A part already deflated (raw deflate), with its size and CRC once inflated."""

    data: bytes
    size: int
    crc: int


def deflate(content: bytes) -> Deflated:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return Deflated(packer.compress(content) + packer.flush(), len(content),
                    zlib.crc32(content))


def repeated_deflate(head: bytes, piece: bytes, times: int, tail: bytes) -> Deflated:
    """`head + piece * times + tail` deflated without building it: `piece` is deflated once,
    ended by a full flush (its blocks never refer to what comes before), and repeated."""
    opening = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = opening.compress(head) + opening.flush(zlib.Z_FULL_FLUSH)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    middle = packer.compress(piece) + packer.flush(zlib.Z_FULL_FLUSH)
    closing = zlib.compressobj(9, zlib.DEFLATED, -15)
    end = closing.compress(tail) + closing.flush()
    crc = zlib.crc32(head)
    for _ in range(times):
        crc = zlib.crc32(piece, crc)
    crc = zlib.crc32(tail, crc)
    return Deflated(start + middle * times + end, len(head) + len(piece) * times + len(tail),
                    crc)


def zip_archive(members: Sequence[tuple[str, bytes | Deflated]]) -> bytes:
    """A ZIP archive written by hand, so that a part can be given already deflated."""
    local, central = bytearray(), bytearray()
    for name, content in members:
        part = content if isinstance(content, Deflated) else deflate(content)
        encoded = name.encode()
        offset = len(local)
        local += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, part.crc,
                             len(part.data), part.size, len(encoded), 0) + encoded + part.data
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21,
                               part.crc, len(part.data), part.size, len(encoded), 0, 0, 0, 0,
                               0, offset) + encoded
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central),
                      len(local), 0)
    return bytes(local + central + end)


def workbook_parts(workbook: bytes | None = None, *, shared_strings: bool = False
                   ) -> list[tuple[str, bytes | Deflated]]:
    """The parts of a one-sheet workbook but the sheet (`xl/worksheets/sheet1.xml`) and its
    shared strings (`xl/sharedStrings.xml`, named in the relationships when `shared_strings`)."""
    strings = (f'<Relationship Id="rId2" Type="{_RELATIONSHIPS}/sharedStrings" '
               'Target="sharedStrings.xml"/>' if shared_strings else "")
    return [
        ("[Content_Types].xml", (
            b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats'
            b'.org/package/2006/content-types"><Default Extension="rels" ContentType="application'
            b'/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            b'ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType='
            b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
            b'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')),
        ("_rels/.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE}">'
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>').encode()),
        ("xl/workbook.xml", workbook or (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_SPREADSHEET}" '
            f'xmlns:r="{_RELATIONSHIPS}"><sheets><sheet name="Feuil1" sheetId="1" '
            'r:id="rId1"/></sheets></workbook>').encode()),
        ("xl/_rels/workbook.xml.rels", (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PACKAGE}">'
            f'<Relationship Id="rId1" Type="{_RELATIONSHIPS}/worksheet" '
            f'Target="worksheets/sheet1.xml"/>{strings}</Relationships>').encode()),
    ]


def sheet_xml(body: bytes, prolog: bytes = b"") -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?>' + prolog
            + f'<worksheet xmlns="{_SPREADSHEET}"><sheetData>'.encode() + body
            + b"</sheetData></worksheet>")


def xlsx(sheet: bytes | Deflated, *, workbook: bytes | None = None,
         shared_strings: bytes | None = None) -> bytes:
    strings = [("xl/sharedStrings.xml", shared_strings)] if shared_strings is not None else []
    return zip_archive([*workbook_parts(workbook, shared_strings=bool(strings)),
                        ("xl/worksheets/sheet1.xml", sheet), *strings])


def inline_rows(rows: Sequence[Sequence[str]]) -> bytes:
    """`<row>`s of inline strings (what a sheet written by a script looks like)."""
    return b"".join(
        f'<row r="{line}">'.encode() + b"".join(
            f'<c t="inlineStr"><is><t>{value}</t></is></c>'.encode() for value in row)
        + b"</row>" for line, row in enumerate(rows, start=1))


def expanding_xlsx(size: int = GIB) -> bytes:
    """~1 MB that expands to `size` bytes: spaces inside `<sheetData>`."""
    whole = sheet_xml(b"\x00").split(b"\x00")
    return xlsx(repeated_deflate(whole[0], b" " * MIB, size // MIB, whole[1]))


def empty_rows_xlsx(rows: int = 5_000_000) -> bytes:
    return xlsx(sheet_xml(b"<row/>" * rows))


def numbered_rows_xlsx(rows: int = 1_000_000) -> bytes:
    """A header, then `rows` empty rows, each with its number."""
    return xlsx(sheet_xml(inline_rows([["cpts", "code_commune"]]) + b"".join(
        b'<row r="%d"/>' % line for line in range(2, rows + 2))))


def deep_geojson(depth: int = 100_000) -> bytes:
    return (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
            b'{"nom": "A"}, "geometry": {"type": "Polygon", "coordinates": '
            + b"[" * depth + b"]" * depth + b"}}]}")


def long_crs_geojson(digits: int = 5_000) -> bytes:
    return (b'{"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": '
            b'"EPSG:' + b"9" * digits + b'"}}, "features": [{"type": "Feature", "properties": '
            b'{"nom": "A"}, "geometry": {"type": "Polygon", "coordinates": [[[7.1, 43.7], '
            b'[7.2, 43.7], [7.2, 43.8], [7.1, 43.7]]]}}]}')


# --- Measuring the server ---------------------------------------------------------------------


@contextmanager
def server_process(url: str) -> Iterator[tuple[str, int]]:
    """`cpts serve` (one process) on a free port: its base URL and process id."""
    port = free_port()
    argv = [*cpts_command(), "serve", "--host", "127.0.0.1", "--port", str(port)]
    env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(argv, env=env, cwd=PROJECT_ROOT, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            _wait_until_healthy(server, base, log)
            yield base, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def memory_kib(pid: int, key: str) -> int:
    """`VmRSS` or `VmHWM` of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{key} not found for process {pid}")


@dataclass(frozen=True)
class Sent:
    status: int
    code: str
    elapsed_ms: float
    peak_growth_mib: float
    left_mib: float


def send(client: httpx.Client, pid: int, name: str, data: bytes) -> Sent:
    """One import request, with the server's memory before, at its peak and after."""
    time.sleep(0.5)
    before = memory_kib(pid, "VmRSS")
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # reset VmHWM to the current RSS
        reset = True
    except OSError:
        reset = False
    sampled = [before]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            sampled.append(memory_kib(pid, "VmRSS"))
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    response = client.post("/api/imports/cpts", params={"dry_run": "true"},
                           files={"file": (name, data, "application/octet-stream")})
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    peak = max(max(sampled), memory_kib(pid, "VmHWM") if reset else 0)
    time.sleep(1.0)
    after = memory_kib(pid, "VmRSS")
    code = response.json().get("code", "") if response.status_code >= 400 else ""
    return Sent(response.status_code, str(code), elapsed * 1000, (peak - before) / 1024,
                (after - before) / 1024)


def run() -> list[Figure]:
    url = database_url()
    built = time.perf_counter()
    files = {
        "xlsx_1gib": ("bombe.xlsx", expanding_xlsx()),
        "xlsx_5m_empty_rows": ("lignes-vides.xlsx", empty_rows_xlsx()),
        "xlsx_1m_numbered_rows": ("lignes-numerotees.xlsx", numbered_rows_xlsx()),
        "geojson_100k_nested": ("profond.geojson", deep_geojson()),
        "geojson_crs_5000_digits": ("crs.geojson", long_crs_geojson()),
    }
    built_s = time.perf_counter() - built
    figures: list[Figure] = []
    with account_tokens(url, [ADMIN]) as [token], server_process(url) as (base, pid), \
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                         timeout=120) as client:
        send(client, pid, "chauffe.xlsx", empty_rows_xlsx(1000))  # warm-up: modules loaded
        for key, (name, data) in files.items():
            sent = send(client, pid, name, data)
            if sent.status not in (413, 422):
                raise RuntimeError(f"{key}: HTTP {sent.status}, expected 413 or 422")
            size = f"{len(data) / 1024:,.0f} Kio".replace(",", " ")
            figures.append(Figure(f"hostile_files.{key}", sent.elapsed_ms, "ms",
                                  target=TIME_TARGET_MS,
                                  note=f"{size} envoyés, réponse {sent.status} {sent.code}"))
            figures.append(Figure(f"hostile_files.{key}.peak_memory_growth",
                                  sent.peak_growth_mib, "MiB", target=MEMORY_TARGET_MIB,
                                  note="pic de mémoire résidente du serveur pendant la requête, "
                                       "moins son niveau avant"))
            figures.append(Figure(f"hostile_files.{key}.memory_left", sent.left_mib, "MiB",
                                  note="mémoire résidente du serveur 1 s après la réponse, "
                                       "moins son niveau avant"))
    figures.append(Figure("hostile_files.build_files", built_s, "s",
                          note="construction des cinq fichiers (hors mesure)"))
    return figures


if __name__ == "__main__":
    from benchmarks.__main__ import format_figure

    for figure in run():
        print(format_figure(figure))
