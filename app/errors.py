"""The project's one exception type and its rendering as RFC 9457 problem+json."""

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg import DataError, OperationalError
from psycopg_pool import PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.validation_fr import french_validation_message

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


# No error body grows with the input: at most this many entries in `errors` (then one entry
# counting the others), strings and lists cut short inside them, a bounded `detail`.
MAX_ERRORS = 100
MAX_DETAIL_CHARS = 2000
_MAX_VALUE_CHARS = 500
_MAX_LIST_ITEMS = 20
_MAX_DEPTH = 4


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


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _bounded(value: Any, depth: int = 0) -> Any:
    """`value` with long strings cut, long lists shortened and deep nesting dropped."""
    if isinstance(value, str):
        return _shortened(value, _MAX_VALUE_CHARS)
    if depth >= _MAX_DEPTH and isinstance(value, (dict, list, tuple)):
        return "…"
    if isinstance(value, dict):
        items = list(value.items())[:_MAX_LIST_ITEMS]
        return {_shortened(str(key), 100): _bounded(item, depth + 1) for key, item in items}
    if isinstance(value, (list, tuple)):
        shown = [_bounded(item, depth + 1) for item in value[:_MAX_LIST_ITEMS]]
        return [*shown, "…"] if len(value) > _MAX_LIST_ITEMS else shown
    return value


def bounded_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The first `MAX_ERRORS` entries, each bounded, then one entry counting the rest."""
    shown = [_bounded(error) for error in errors[:MAX_ERRORS]]
    left = len(errors) - MAX_ERRORS
    if left > 0:
        shown.append({"code": "more_errors", "count": left,
                      "detail": f"… et {left} autre(s) erreur(s) non listée(s)."})
    return shown


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
        "detail": _shortened(detail, MAX_DETAIL_CHARS),
        "code": code,
        "errors": bounded_errors(errors or []),
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


async def _on_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status, exc.code, exc.detail, title=exc.title, errors=exc.errors, headers=exc.headers
    )


# French words for the framework's own refusals (Starlette and FastAPI raise HTTPException
# with English details: "There was an error parsing the body", "Missing boundary in multipart.").
_HTTP_CODES = {401: "unauthenticated", 404: "not_found", 405: "method_not_allowed"}
_HTTP_DETAILS = {
    400: "La requête est mal formée : son contenu n'a pas pu être lu.",
    401: "Connectez-vous pour accéder à cette ressource.",
    404: "Cette adresse ne correspond à aucune ressource.",
    405: "Cette méthode n'est pas permise sur cette adresse.",
    413: "Le contenu de la requête est trop volumineux.",
    415: "Ce type de contenu n'est pas pris en charge.",
    422: "La requête contient des valeurs invalides.",
}
# Known English details, said in French in `errors` (a detail not listed here is left out).
_FRAMEWORK_DETAILS = {
    "There was an error parsing the body": "Le corps de la requête n'a pas pu être lu.",
    "Missing boundary in multipart.": "Le corps multipart n'indique pas sa délimitation "
                                      "(boundary).",
}


async def _on_http(_: Request, exc: Exception) -> JSONResponse:
    """Only the framework raises HTTPException (the project raises ProblemError): people get
    a French detail whatever the original said."""
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    detail = _HTTP_DETAILS.get(status, f"La requête n'a pas pu être traitée (HTTP {status}).")
    said = _FRAMEWORK_DETAILS.get(exc.detail) if isinstance(exc.detail, str) else None
    return problem_response(
        status, _HTTP_CODES.get(status, f"http_{status}"), detail,
        errors=[{"code": f"http_{status}", "detail": said}] if said else None,
        headers=getattr(exc, "headers", None),
    )


async def _on_validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": [str(p) for p in err.get("loc", ())][:_MAX_LIST_ITEMS],
         "code": err.get("type"), "detail": french_validation_message(err)}
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
