"""SQL for personal API tokens (digest, owner, last use, revocation)."""

from datetime import datetime
from typing import Any

from app.db import Conn
from app.repo.users import USER_COLUMNS

TOKEN_COLUMNS = """t.id, t.user_id, t.name, t.prefix, t.created_at, t.expires_at,
                   t.last_used_at, host(t.last_used_ip) AS last_used_ip, t.revoked_at"""


def create(conn: Conn, *, user_id: int, name: str, secret_hash: bytes, prefix: str,
           expires_at: datetime | None) -> dict[str, Any]:
    row = conn.execute(
        f"""
        INSERT INTO api_token AS t (user_id, name, secret_hash, prefix, expires_at)
        VALUES (%s, %s, %s, %s, %s) RETURNING {TOKEN_COLUMNS}
        """,  # noqa: S608
        (user_id, name, secret_hash, prefix, expires_at),
    ).fetchone()
    assert row is not None
    return row


def find(conn: Conn, secret_hash: bytes) -> dict[str, Any] | None:
    """The token with this digest, and its owner with scopes."""
    return conn.execute(
        f"""
        SELECT t.id AS token_id, t.expires_at AS token_expires_at, t.revoked_at,
               t.last_used_at, host(t.last_used_ip) AS last_used_ip, {USER_COLUMNS}
          FROM api_token t JOIN app_user u ON u.id = t.user_id
         WHERE t.secret_hash = %s
        """,  # noqa: S608
        (secret_hash,),
    ).fetchone()


def touch(conn: Conn, token_id: int, ip: str | None) -> None:
    conn.execute("UPDATE api_token SET last_used_at = now(), last_used_ip = %s WHERE id = %s",
                 (ip, token_id))


def get(conn: Conn, token_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {TOKEN_COLUMNS} FROM api_token t WHERE t.id = %s", (token_id,)  # noqa: S608
    ).fetchone()


def list_for_user(conn: Conn, user_id: int) -> list[dict[str, Any]]:
    return conn.execute(
        f"""
        SELECT {TOKEN_COLUMNS} FROM api_token t
         WHERE t.user_id = %s ORDER BY t.revoked_at IS NOT NULL, t.created_at DESC, t.id DESC
        """,  # noqa: S608
        (user_id,),
    ).fetchall()


def revoke(conn: Conn, token_id: int) -> bool:
    """Revoke a token; False when it already was."""
    return conn.execute(
        "UPDATE api_token SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
        (token_id,),
    ).rowcount == 1
