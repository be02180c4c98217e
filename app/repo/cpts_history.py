"""SQL for the past of a CPTS: the version in force on a given day, and its alerts."""

from datetime import date
from typing import Any

from app.db import Conn


def version_at(conn: Conn, cpts_id: int, day: date) -> dict[str, Any] | None:
    """The version in force on `day`: the highest-numbered one effective on or before it (as
    `GET /api/coverage?at=` counts perimeters)."""
    return conn.execute(
        """SELECT version, created_at, author_email, reason, effective_date, name, status,
                  archived, units, added, removed, population, population_year, size_class,
                  size_rule
           FROM cpts_version WHERE cpts_id = %s AND effective_date <= %s
           ORDER BY version DESC LIMIT 1""", (cpts_id, day)).fetchone()


def alerts_of(conn: Conn, cpts_id: int, version: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT code, detail, communes FROM cpts_alert WHERE cpts_id = %s AND version = %s "
        "ORDER BY id", (cpts_id, version)).fetchall()
