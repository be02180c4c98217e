"""`GET /api/cpts/{id}?at=YYYY-MM-DD`: a CPTS as it stood on a past day, read from its stored
version (figures as they were recorded then: population, vintage, size class and rule)."""

from datetime import date
from typing import Any

from app.domain.cpts_access import Visibility
from app.errors import ProblemError
from app.repo import cpts_history as repo
from app.services.cpts import Context, load_readable


def read_at(ctx: Context, cpts_id: int, day: date) -> dict[str, Any]:
    """The version in force on `day`, through the same access check as the current read."""
    current = load_readable(ctx, cpts_id)
    row = repo.version_at(ctx.conn, cpts_id, day)
    if row is None:
        raise ProblemError(
            404, "cpts_not_yet_recorded",
            f"La CPTS {cpts_id} n'avait pas encore de périmètre enregistré le "
            f"{day.strftime('%d/%m/%Y')}.")
    view: dict[str, Any] = {
        "id": cpts_id, "name": row["name"], "status": row["status"],
        "version": int(row["version"]), "current_version": int(current.row["version"]),
        "at": day, "communes": list(row["units"]),
    }
    if current.visibility is not Visibility.FULL:
        return view | {"visibility": "outline"}
    return view | {
        "visibility": "full", "archived": row["archived"],
        "effective_date": row["effective_date"], "created_at": row["created_at"],
        "author_email": row["author_email"], "reason": row["reason"],
        "added": list(row["added"]), "removed": list(row["removed"]),
        "population": int(row["population"]), "population_year": int(row["population_year"]),
        "size_class": int(row["size_class"]), "size_rule": row["size_rule"],
        "alerts": repo.alerts_of(ctx.conn, cpts_id, int(row["version"])),
    }
