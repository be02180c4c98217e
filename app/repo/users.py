"""SQL for user accounts and their scopes (regions, CPTS memberships)."""

from collections.abc import Iterable
from typing import Any

from app.db import Conn

# The user as the access rules need it, with its scopes as sorted arrays.
USER_COLUMNS = """
    u.id, u.email, u.role, u.disabled, u.created_at, u.disabled_at, u.last_login_at,
    ARRAY(SELECT r.region FROM user_region r WHERE r.user_id = u.id ORDER BY r.region)
        AS regions,
    ARRAY(SELECT c.cpts_id FROM user_cpts c WHERE c.user_id = u.id ORDER BY c.cpts_id)
        AS cpts_ids
"""


def insert_user(conn: Conn, *, email: str, role: str, password_hash: str | None,
                regions: Iterable[str], cpts_ids: Iterable[int]) -> int:
    row = conn.execute(
        "INSERT INTO app_user (email, role, password_hash) VALUES (%s, %s, %s) RETURNING id",
        (email, role, password_hash),
    ).fetchone()
    assert row is not None
    user_id: int = row["id"]
    set_scopes(conn, user_id, regions=regions, cpts_ids=cpts_ids)
    return user_id


def set_scopes(conn: Conn, user_id: int, *, regions: Iterable[str],
               cpts_ids: Iterable[int]) -> None:
    conn.execute("DELETE FROM user_region WHERE user_id = %s", (user_id,))
    conn.execute("DELETE FROM user_cpts WHERE user_id = %s", (user_id,))
    conn.execute(
        "INSERT INTO user_region (user_id, region) SELECT %s, unnest(%s::text[])",
        (user_id, sorted(set(regions))),
    )
    conn.execute(
        "INSERT INTO user_cpts (user_id, cpts_id) SELECT %s, unnest(%s::bigint[])",
        (user_id, sorted(set(cpts_ids))),
    )


def email_exists(conn: Conn, email: str) -> bool:
    return conn.execute("SELECT 1 FROM app_user WHERE email = %s", (email,)).fetchone() is not None


def by_email(conn: Conn, email: str) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {USER_COLUMNS} FROM app_user u WHERE u.email = %s", (email,)  # noqa: S608
    ).fetchone()


def by_id(conn: Conn, user_id: int) -> dict[str, Any] | None:
    return conn.execute(
        f"SELECT {USER_COLUMNS} FROM app_user u WHERE u.id = %s", (user_id,)  # noqa: S608
    ).fetchone()


def password_hash(conn: Conn, email: str) -> dict[str, Any] | None:
    """Id, hash and disabled flag: what checking a password needs, and only that."""
    return conn.execute(
        "SELECT id, password_hash, disabled FROM app_user WHERE email = %s", (email,)
    ).fetchone()


def list_users(conn: Conn) -> list[dict[str, Any]]:
    return conn.execute(
        f"SELECT {USER_COLUMNS} FROM app_user u ORDER BY u.email"  # noqa: S608
    ).fetchall()


def set_disabled(conn: Conn, user_id: int, disabled: bool) -> None:
    conn.execute(
        """
        UPDATE app_user
           SET disabled = %(disabled)s,
               disabled_at = CASE WHEN %(disabled)s THEN now() END
         WHERE id = %(id)s
        """,
        {"id": user_id, "disabled": disabled},
    )


def set_password_hash(conn: Conn, user_id: int, password_hash: str) -> None:
    conn.execute("UPDATE app_user SET password_hash = %s WHERE id = %s",
                 (password_hash, user_id))


def record_login(conn: Conn, user_id: int) -> None:
    conn.execute("UPDATE app_user SET last_login_at = now() WHERE id = %s", (user_id,))
