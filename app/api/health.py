"""`GET /api/health`: is the service able to answer, and on which data."""

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from psycopg import OperationalError
from psycopg_pool import ConnectionPool, PoolTimeout
from pydantic import BaseModel

from app.db import Conn
from app.errors import problem_response
from app.repo import health as health_repo

log = logging.getLogger(__name__)
router = APIRouter(tags=["santé"])


class Health(BaseModel):
    status: str
    database: str
    communes: int
    cog: str | None


@router.get(
    "/health",
    response_model=Health,
    responses={503: {"description": "Base de données injoignable (problem+json)"}},
)
def health(request: Request) -> Health | JSONResponse:
    """État du service : base joignable, nombre de communes chargées, millésime du COG."""
    pool: ConnectionPool[Conn] = request.app.state.pool
    try:
        with pool.connection(timeout=2.0) as conn:
            summary = health_repo.data_summary(conn)
    except (PoolTimeout, OperationalError) as exc:
        log.warning("health: database unreachable", extra={"error": type(exc).__name__})
        return problem_response(
            503,
            "database_unavailable",
            "La base de données est injoignable ; le service reprendra seul à son retour.",
            headers={"Retry-After": "5"},
        )
    return Health(status="ok", database="ok", communes=summary.communes, cog=summary.cog)
