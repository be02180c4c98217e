"""The login and logout pages, in French, rendered by the server (plain HTML and CSS, no script).

They call the same services as the JSON API (`app.auth.login`); the guard checks the form's
CSRF token (`csrf_token` field) like any other browser write.
"""

from html import escape
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.api.auth import end_session, start_session
from app.auth import csrf
from app.auth.audit import client_ip
from app.auth.deps import AuditActor, OptionalPrincipal
from app.auth.login import log_in, log_out
from app.auth.policy import ROLE_LABELS
from app.auth.principal import Principal
from app.db import ConnDep
from app.errors import ProblemError
from app.services.theme import plain_page, theme
from app.settings import Settings

router = APIRouter(include_in_schema=False)

HOME = "/"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; font-src 'self'; "
                               "img-src 'self' data:; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
}


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (another site) becomes the home page."""
    if (not target or not target.startswith("/") or target.startswith(("//", "/\\"))
            or any(ord(c) < 32 for c in target)):
        return HOME
    return target


def page(request: Request, name: str, status: int = 200, **values: str) -> HTMLResponse:
    """`app/web/<name>` in the service's theme (setting UI_THEME)."""
    settings: Settings = request.app.state.settings
    html = plain_page(theme(settings.ui_theme), name,
                      legal_notice_url=settings.ui_legal_notice_url, **values)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _notice(message: str, kind: str = "error") -> str:
    role = "alert" if kind == "error" else "status"
    return f'<p class="notice {kind}" role="{role}">{escape(message)}</p>'


def _login_form(request: Request, *, next_path: str, email: str = "", notice: str = "",
                status: int = 200) -> HTMLResponse:
    settings: Settings = request.app.state.settings
    token = csrf.pre_login_token(request, settings)
    response = page(request, "login.html", status, notice=notice, email=escape(email),
                     csrf_token=escape(token), next=escape(next_path))
    csrf.give_pre_login_token(response, request, settings, token)
    return response


def _signed_in(request: Request, principal: Principal) -> HTMLResponse:
    return page(request, "session.html", email=escape(principal.user.email),
                 role=escape(ROLE_LABELS[principal.user.role]),
                 csrf_token=escape(principal.csrf_token or ""))


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, principal: OptionalPrincipal,
               next: Annotated[str | None, Query(max_length=2000)] = None) -> HTMLResponse:
    if principal is not None and principal.via == "session":
        return _signed_in(request, principal)
    return _login_form(request, next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    conn: ConnDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    settings: Settings = request.app.state.settings
    try:
        result = log_in(conn, email=email, password=password,
                        ip=client_ip(request.client.host if request.client else None),
                        user_agent=request.headers.get("user-agent"), settings=settings)
    except ProblemError as refusal:
        response = _login_form(request, next_path=safe_next(next), email=email,
                               notice=_notice(refusal.detail), status=refusal.status)
        response.headers.update(refusal.headers)
        return response
    redirect = RedirectResponse(safe_next(next), status_code=303)
    start_session(redirect, request, settings, result.session)
    return redirect


@router.get("/logout", response_class=HTMLResponse)
def logout_page(request: Request, principal: OptionalPrincipal) -> HTMLResponse:
    if principal is not None and principal.via == "session":
        return _signed_in(request, principal)
    return page(request, "logout.html")


@router.post("/logout")
def logout_submit(request: Request, conn: ConnDep, principal: OptionalPrincipal,
                  actor: AuditActor) -> Response:
    if principal is not None and principal.via == "session":
        with conn.transaction():
            log_out(conn, principal, actor)
    redirect = RedirectResponse("/logout", status_code=303)
    end_session(redirect, request, request.app.state.settings)
    return redirect


@router.get("/login.css")
def login_css() -> Response:
    css = (resources.files("app") / "web" / "login.css").read_text(encoding="utf-8")
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})
