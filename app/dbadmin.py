"""Database administration for the command line: create the database when it is missing."""

import logging

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

log = logging.getLogger(__name__)


def database_name(url: str) -> str:
    return str(conninfo_to_dict(url).get("dbname") or "postgres")


def with_database(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    return make_conninfo(url, dbname=dbname)


def ensure_database(url: str) -> bool:
    """Create the database of `url` if it does not exist; True when it was created."""
    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        admin.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(
            sql.Identifier(name)))
    log.info("database created", extra={"database": name})
    return True


def drop_database(url: str) -> None:
    name = database_name(url)
    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
