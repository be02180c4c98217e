"""Performance measurements of the project against the issue's targets.

Each benchmark module listed in `BENCHMARKS` exposes `run() -> list[Figure]`; `python -m
benchmarks` runs them all (or those named on the command line) and prints the figures.
"""

import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

BENCHMARKS = ("tiles", "geodata_load", "coverage", "imports", "map_render", "perimeters",
              "load", "hostile_files", "cog_migration", "proposals", "indicators", "ogc",
              "colours",
              "page_weight")

BENCHMARK_ACCOUNT = "benchmarks@cpts.invalid"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:54329/cpts"
PROJECT_ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Figure:
    """One measured figure; `target` is an upper bound in the same unit, `baseline_ratio` is
    how many times larger the same figure is the naive way (so above 1 means better)."""

    name: str
    value: float
    unit: str
    target: float | None = None
    baseline_ratio: float | None = None
    note: str = ""

    @property
    def missed(self) -> bool:
        return self.target is not None and self.value >= self.target


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` quantile (0.95 for p95), interpolated between the closest ranks."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def cpts_command() -> list[str]:
    """The `cpts` console script of this interpreter's environment."""
    script = Path(sys.executable).parent / "cpts"
    if script.exists():
        return [str(script)]
    found = shutil.which("cpts")
    return [found] if found else [sys.executable, "-m", "app.cli"]


def _cpts(arguments: list[str], env: dict[str, str], stdin: str | None = None,
          check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([*cpts_command(), *arguments], input=stdin, env=env,
                          capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"cpts {' '.join(arguments)}: {done.stderr.strip()}")
    return done


@contextmanager
def api_token(url: str) -> Iterator[str]:
    """An API token of the read-only benchmark account of database `url`, revoked afterwards.

    The account (an observer of one region) is created on first use with `cpts users create`.
    """
    env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    if _cpts(["tokens", "list", "--email", BENCHMARK_ACCOUNT], env, check=False).returncode:
        _cpts(["users", "create", "--email", BENCHMARK_ACCOUNT, "--role", "observer",
               "--region", "11", "--password-stdin"], env, stdin=secrets.token_urlsafe(24) + "\n")
    issued = _cpts(["tokens", "create", "--email", BENCHMARK_ACCOUNT, "--name", "benchmarks",
                    "--expires-days", "1"], env)
    token_id = re.search(r"n° (\d+)", issued.stderr)
    try:
        yield issued.stdout.strip().splitlines()[-1]
    finally:
        if token_id:
            _cpts(["tokens", "revoke", token_id.group(1)], env, check=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_server(url: str, arguments: Sequence[str] = (), *,
                   command: Sequence[str] | None = None, **environment: str) -> Iterator[str]:
    """`cpts serve` on a free local port against the database `url`, with extra arguments
    (`--workers 2`) or another command (given `{port}` in place of the port); yields its base
    URL and stops the server at the end."""
    port = free_port()
    if command is None:
        command = [*cpts_command(), "serve", "--host", "127.0.0.1", "--port", "{port}",
                   *arguments]
    argv = [part.replace("{port}", str(port)) for part in command]
    env = os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"} | environment
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(argv, env=env, cwd=PROJECT_ROOT, stdout=log,
                                  stderr=subprocess.STDOUT)
        try:
            _wait_until_healthy(server, base, log)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_healthy(server: subprocess.Popen[bytes], base: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            log.seek(0)
            raise RuntimeError("cpts serve stopped: " + log.read().decode()[-2000:])
        try:
            if httpx.get(f"{base}/api/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("cpts serve did not answer /api/health within 60 s")
        time.sleep(0.2)
