"""SQL for the journal of login attempts, read to slow down and lock out guessing."""

from datetime import datetime

from app.auth.lockout import FailureHistory
from app.db import Conn


def lock_email(conn: Conn, email: str) -> None:
    """Serialise the attempts on one address until the end of the transaction."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('login:' || %s, 0))", (email,))


def account_history(conn: Conn, email: str, since: datetime) -> FailureHistory:
    """Failures on `email` after `since` and after its last success or reset."""
    row = conn.execute(
        """
        SELECT count(*) AS failures, max(attempted_at) AS last_at
          FROM login_attempt
         WHERE email = %(email)s AND outcome = 'failure' AND attempted_at > %(since)s
           AND attempted_at > coalesce((SELECT max(attempted_at) FROM login_attempt
                                         WHERE email = %(email)s AND outcome <> 'failure'),
                                       '-infinity')
        """,
        {"email": email, "since": since},
    ).fetchone()
    assert row is not None
    return FailureHistory(count=row["failures"], last_at=row["last_at"])


def nth_latest_address_failure(conn: Conn, ip: str, since: datetime, n: int) -> datetime | None:
    """When the `n`-th latest failure from `ip` after `since` happened (None: fewer than n)."""
    row = conn.execute(
        """
        SELECT attempted_at FROM login_attempt
         WHERE ip = %s AND outcome = 'failure' AND attempted_at > %s
         ORDER BY attempted_at DESC OFFSET %s LIMIT 1
        """,
        (ip, since, n - 1),
    ).fetchone()
    return None if row is None else row["attempted_at"]


def record(conn: Conn, *, email: str, user_id: int | None, ip: str | None,
           outcome: str) -> None:
    conn.execute(
        "INSERT INTO login_attempt (email, user_id, ip, outcome) VALUES (%s, %s, %s, %s)",
        (email, user_id, ip, outcome),
    )
