"""SQL for browser sessions (the cookie's digest, its CSRF token, its expiry)."""

from datetime import datetime
from typing import Any

from app.db import Conn
from app.repo.users import USER_COLUMNS


def create(conn: Conn, *, user_id: int, secret_hash: bytes, csrf_token: str,
           expires_at: datetime, ip: str | None, user_agent: str | None) -> int:
    row = conn.execute(
        """
        INSERT INTO user_session (user_id, secret_hash, csrf_token, expires_at, ip, user_agent)
        VALUES (%s, %s, %s, %s, %s, %s) RETURNING id
        """,
        (user_id, secret_hash, csrf_token, expires_at, ip, user_agent),
    ).fetchone()
    assert row is not None
    return int(row["id"])


def find(conn: Conn, secret_hash: bytes) -> dict[str, Any] | None:
    """The session with this digest, and its user with scopes."""
    return conn.execute(
        f"""
        SELECT s.id AS session_id, s.csrf_token, s.created_at AS session_created_at,
               s.last_seen_at, s.expires_at, {USER_COLUMNS}
          FROM user_session s JOIN app_user u ON u.id = s.user_id
         WHERE s.secret_hash = %s
        """,  # noqa: S608
        (secret_hash,),
    ).fetchone()


def touch(conn: Conn, session_id: int) -> None:
    conn.execute("UPDATE user_session SET last_seen_at = now() WHERE id = %s", (session_id,))


def delete(conn: Conn, session_id: int) -> None:
    conn.execute("DELETE FROM user_session WHERE id = %s", (session_id,))


def delete_for_user(conn: Conn, user_id: int) -> int:
    return conn.execute("DELETE FROM user_session WHERE user_id = %s", (user_id,)).rowcount


def delete_stale(conn: Conn, idle_since: datetime) -> int:
    """Forget sessions past their end or unused since `idle_since`."""
    return conn.execute(
        "DELETE FROM user_session WHERE expires_at <= now() OR last_seen_at < %s",
        (idle_since,),
    ).rowcount
