"""The project's one exception type and its rendering as RFC 9457 problem+json."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import DataError, OperationalError
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"

_TITLES = {
    400: "Requête invalide",
    401: "Authentification requise",
    403: "Accès refusé",
    404: "Ressource introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    412: "Version périmée",
    413: "Contenu trop volumineux",
    415: "Type de contenu non pris en charge",
    422: "Données invalides",
    500: "Erreur interne",
    503: "Service indisponible",
}


class ProblemError(Exception):
    """An error a user can act on: a stable `code` for programs, a French `detail` for people."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or _TITLES.get(status, "Erreur")
        self.errors = errors or []
        self.headers = headers or {}


def problem_response(
    status: int,
    code: str,
    detail: str,
    *,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "type": f"urn:cpts:problem:{code}",
        "title": title or _TITLES.get(status, "Erreur"),
        "status": status,
        "detail": detail,
        "code": code,
        "errors": errors or [],
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _on_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status, exc.code, exc.detail, title=exc.title, errors=exc.errors, headers=exc.headers
    )


async def _on_http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    codes = {404: "not_found", 405: "method_not_allowed", 401: "unauthenticated"}
    # Only the framework raises HTTPException (the project raises ProblemError), and its messages
    # are English ("There was an error parsing the body" for a body that is not UTF-8, "Missing
    # boundary in multipart."): people get a French detail, the original stays in `errors`.
    detail = {
        400: "La requête est mal formée : son contenu n'a pas pu être lu.",
        404: "Cette adresse ne correspond à aucune ressource.",
        405: "Cette méthode n'est pas permise sur cette adresse.",
        401: "Connectez-vous pour accéder à cette ressource.",
    }.get(status, f"La requête n'a pas pu être traitée (HTTP {status}).")
    original = exc.detail if isinstance(exc.detail, str) and status not in codes else None
    return problem_response(
        status, codes.get(status, f"http_{status}"), detail,
        errors=[{"code": f"http_{status}", "detail": original}] if original else None,
        headers=getattr(exc, "headers", None),
    )


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in err.get("loc", ())], "code": err.get("type"), "detail": err["msg"]}
        for err in exc.errors()
    ]
    return problem_response(
        422, "validation_error", "La requête contient des valeurs invalides.", errors=errors
    )


async def _on_database_down(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable", extra={"error": type(exc).__name__})
    return problem_response(
        503,
        "database_unavailable",
        "La base de données est momentanément indisponible ; réessayez dans quelques instants.",
        headers={"Retry-After": "5"},
    )


async def _on_unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(500, "internal_error", "Une erreur inattendue s'est produite.")


# Values the database cannot store and that only a request can bring: a NUL character in a text
# (psycopg refuses it before sending: no SQLSTATE), characters outside the encoding, a number
# beyond bigint. Any other data exception (division by zero…) stays a server error.
_REQUEST_VALUE_SQLSTATES = frozenset({None, "22021", "22P05", "22003"})


async def _on_data_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DataError)
    if exc.sqlstate not in _REQUEST_VALUE_SQLSTATES:
        return await _on_unexpected(request, exc)
    log.warning("value refused by the database", extra={"error": str(exc)[:200]})
    return problem_response(
        422, "invalid_value",
        "La requête contient une valeur que la base de données ne peut pas enregistrer "
        "(caractère nul, nombre trop grand…).")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(PoolTimeout, _on_database_down)
    app.add_exception_handler(OperationalError, _on_database_down)
    app.add_exception_handler(DataError, _on_data_error)
    app.add_exception_handler(Exception, _on_unexpected)
