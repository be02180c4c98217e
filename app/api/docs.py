"""The OpenAPI schema and its documentation pages, served as ordinary routes behind the guard.

FastAPI's built-in `/openapi.json`, `/docs` and `/redoc` bypass route dependencies and load
Swagger UI and ReDoc from a CDN; these replacements go through `enforce_access` like every
other route and load local copies (`app.services.docs_assets`, installed by `make assets`)
under a Content-Security-Policy that allows nothing from another origin. The schema declares
how to authenticate (a bearer token, or the session cookie with its CSRF token), so that
Swagger UI's « Authorize » works.
"""

from html import escape
from typing import Any

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse, JSONResponse

from app.auth.csrf import HEADER as CSRF_HEADER
from app.auth.deps import OptionalPrincipal
from app.auth.sessions import SESSION_COOKIE
from app.services import docs_assets
from app.services.map_assets import STATIC_PREFIX

router = APIRouter(include_in_schema=False)

OPENAPI_URL = "/openapi.json"

SECURITY_SCHEMES: dict[str, dict[str, str]] = {
    "jeton": {
        "type": "http", "scheme": "bearer",
        "description": "Jeton d'accès personnel (cpts_…), créé par POST /api/tokens ou "
                       "`cpts tokens create` : en-tête Authorization: Bearer <jeton>.",
    },
    "session": {
        "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
        "description": "Cookie de session HttpOnly posé par POST /api/auth/login (en HTTPS il "
                       "s'appelle __Host-cpts_session). Le navigateur l'envoie de lui-même.",
    },
    "csrf": {
        "type": "apiKey", "in": "header", "name": CSRF_HEADER,
        "description": "Avec une session : le jeton anti-CSRF (champ csrf_token de GET /api/me), "
                       "exigé sur chaque écriture. Cette page l'envoie d'elle-même.",
    },
}
# Either a bearer token, or the session cookie with its CSRF token.
SECURITY: list[dict[str, list[str]]] = [{"jeton": []}, {"session": [], "csrf": []}]

# The documentation pages: scripts and styles from this origin only (ReDoc and Swagger UI set
# inline styles, ReDoc runs its search in a worker made from a blob).
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            "worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
            "form-action 'none'")
PAGE_HEADERS = {"Content-Security-Policy": DOCS_CSP, "X-Frame-Options": "DENY",
                "Cache-Control": "no-store", "Referrer-Policy": "same-origin"}


def with_security(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with the authentication schemes declared and required by default."""
    schema.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    schema["security"] = SECURITY
    return schema


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (f'<!doctype html>\n<html lang="fr">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{escape(title)}</title>\n<link rel="icon" href="data:,">\n{head}</head>\n'
            f'<body>\n{body}</body>\n</html>\n')
    return HTMLResponse(html, headers=PAGE_HEADERS)


@router.get(OPENAPI_URL)
def openapi_schema(request: Request) -> JSONResponse:
    return JSONResponse(with_security(request.app.openapi()))


@router.get("/docs")
def swagger_ui(request: Request, principal: OptionalPrincipal) -> HTMLResponse:
    csrf_token = principal.csrf_token if principal is not None else None
    return _page(
        f"{request.app.title} — API",
        f'<link rel="stylesheet" href="{docs_assets.vendor_url(docs_assets.SWAGGER_CSS)}">\n',
        f'<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}" '
        f'data-csrf-token="{escape(csrf_token or "")}"></div>\n'
        f'<script src="{docs_assets.vendor_url(docs_assets.SWAGGER_JS)}"></script>\n'
        f'<script src="{STATIC_PREFIX}/docs/swagger-init.js"></script>\n')


@router.get("/docs/oauth2-redirect")
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return _page(
        f"{request.app.title} — API", "",
        f'<div id="redoc" data-openapi-url="{OPENAPI_URL}"></div>\n'
        f'<script src="{docs_assets.vendor_url(docs_assets.REDOC_JS)}"></script>\n'
        f'<script src="{STATIC_PREFIX}/docs/redoc-init.js"></script>\n')
