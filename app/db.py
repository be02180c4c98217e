"""The psycopg connection pool, the `ConnDep` dependency and SQL files shipped with the package."""

from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Annotated, Any

import psycopg
from fastapi import Depends, Request
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from app.settings import Settings

Conn = psycopg.Connection[dict[str, Any]]


def open_pool(settings: Settings) -> ConnectionPool[Conn]:
    """A pool that starts even when the database is down and reconnects by itself."""

    def configure(conn: Conn) -> None:
        conn.execute("SELECT set_config('statement_timeout', %s, false)",
                     (str(settings.statement_timeout_ms),))
        conn.commit()

    pool: ConnectionPool[Conn] = ConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout_s,
        kwargs={"row_factory": dict_row, "connect_timeout": 3},
        configure=configure,
        check=ConnectionPool.check_connection,
        reconnect_timeout=24 * 3600,
        open=False,
        name="cpts",
    )
    pool.open(wait=False)
    return pool


def connect(database_url: str, **kwargs: Any) -> Conn:
    """A single connection for command-line tools and tests."""
    return psycopg.connect(database_url, row_factory=dict_row, **kwargs)


def get_conn(request: Request) -> Iterator[Conn]:
    """The request's connection: its transaction commits when the route returns (rolls back
    when it raises) and the connection goes back to the pool."""
    pool: ConnectionPool[Conn] = request.app.state.pool
    with pool.connection() as conn:
        yield conn


# scope="function": the transaction ends before the response is sent, so that a client told
# "200" or "201" has its write committed (FastAPI's default would commit after sending it).
ConnDep = Annotated[Conn, Depends(get_conn, scope="function")]


@cache
def sql_file(name: str) -> str:
    """The text of `app/sql/<name>.sql`."""
    return (resources.files("app") / "sql" / f"{name}.sql").read_text(encoding="utf-8")
