"""What the write benchmarks (`perimeters`, `load`) share: accounts made with the command line
as an operator would, and a server started with a chosen command (several workers, or a
patched variant for a baseline).

Accounts have fixed e-mails and are created with `cpts users create` on first use only; each run
issues them fresh API tokens with `cpts tokens create` (one day) and revokes those at the end.
The command line takes one to three seconds a call, so calls for many accounts run a few at a
time.
"""

import os
import re
import secrets
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

from benchmarks import _cpts, running_server

PARALLEL_CALLS = 4


@dataclass(frozen=True)
class Account:
    """A benchmark account: `role` as `cpts users create --role` takes it."""

    email: str
    role: str
    regions: tuple[str, ...] = ()


def _environment(url: str) -> dict[str, str]:
    return os.environ | {"DATABASE_URL": url, "LOG_LEVEL": "WARNING"}


def ensure_account(url: str, account: Account) -> None:
    """Create the account with the command line unless it exists."""
    arguments = ["users", "create", "--email", account.email, "--role", account.role,
                 "--password-stdin"]
    if account.regions:
        arguments += ["--region", *account.regions]
    done = _cpts(arguments, _environment(url), stdin=secrets.token_urlsafe(24) + "\n",
                 check=False)
    if done.returncode and "[email_taken]" not in done.stderr:
        raise RuntimeError(f"cpts users create {account.email}: {done.stderr.strip()}")


def _issue(url: str, email: str) -> tuple[str, str | None]:
    issued = _cpts(["tokens", "create", "--email", email, "--name", "benchmarks",
                    "--expires-days", "1"], _environment(url))
    token_id = re.search(r"n° (\d+)", issued.stderr)
    return issued.stdout.strip().splitlines()[-1], token_id.group(1) if token_id else None


@contextmanager
def account_tokens(url: str, accounts: Sequence[Account]) -> Iterator[list[str]]:
    """One fresh API token per account (created first when missing), revoked afterwards."""
    env = _environment(url)
    with ThreadPoolExecutor(PARALLEL_CALLS) as pool:
        list(pool.map(lambda account: ensure_account(url, account), accounts))
        issued = list(pool.map(lambda account: _issue(url, account.email), accounts))
    try:
        yield [token for token, _ in issued]
    finally:
        with ThreadPoolExecutor(PARALLEL_CALLS) as pool:
            list(pool.map(lambda token_id: _cpts(["tokens", "revoke", token_id], env,
                                                 check=False),
                          [token_id for _, token_id in issued if token_id]))


# `cpts serve` with extra arguments or another command: see `benchmarks.running_server`.
server = running_server


def python_module_command(module: str, *arguments: str) -> list[str]:
    """`python -m module arguments…` with this interpreter."""
    return [sys.executable, "-m", module, *arguments]
