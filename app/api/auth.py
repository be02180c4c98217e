"""`POST /api/auth/login`, `POST /api/auth/logout` and the pre-login CSRF token.

The browser first gets a token from `GET /api/auth/csrf` (it also sets the `cpts_csrf`
cookie) and sends it back in `X-CSRF-Token` with the login: another site cannot log a visitor in.
"""

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, SecretStr

from app.api.me import Me, describe
from app.auth import csrf
from app.auth.audit import client_ip
from app.auth.deps import AuditActor, CurrentPrincipal
from app.auth.login import log_in, log_out
from app.auth.principal import Principal
from app.auth.sessions import SESSION_COOKIE, NewSession, clear_cookie, set_cookie
from app.db import ConnDep
from app.settings import Settings

router = APIRouter(tags=["comptes"])


class LoginBody(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: SecretStr = Field(min_length=1, max_length=1024)


class CsrfToken(BaseModel):
    csrf_token: str = Field(description="À renvoyer dans l'en-tête X-CSRF-Token de la connexion")


def start_session(response: Response, request: Request, settings: Settings,
                  session: NewSession) -> None:
    set_cookie(response, request, settings, SESSION_COOKIE, session.secret,
               max_age=settings.session_max_age_s)
    csrf.forget_pre_login_token(response, request, settings)


def end_session(response: Response, request: Request, settings: Settings) -> None:
    clear_cookie(response, request, settings, SESSION_COOKIE)


@router.get("/auth/csrf", response_model=CsrfToken)
def pre_login_csrf(request: Request, response: Response) -> CsrfToken:
    """Jeton anti-CSRF de la connexion (et cookie `cpts_csrf` associé)."""
    settings: Settings = request.app.state.settings
    token = csrf.pre_login_token(request, settings)
    csrf.give_pre_login_token(response, request, settings, token)
    return CsrfToken(csrf_token=token)


@router.post(
    "/auth/login",
    response_model=Me,
    responses={401: {"description": "invalid_credentials"},
               403: {"description": "csrf_failed, account_disabled"},
               423: {"description": "account_locked (avec l'heure de fin)"},
               429: {"description": "login_throttled (Retry-After)"}},
)
def login(body: LoginBody, request: Request, response: Response, conn: ConnDep) -> Me:
    """Ouvre une session de navigateur (cookie HttpOnly, SameSite=Lax)."""
    settings: Settings = request.app.state.settings
    result = log_in(conn, email=body.email, password=body.password.get_secret_value(),
                    ip=client_ip(request.client.host if request.client else None),
                    user_agent=request.headers.get("user-agent"), settings=settings)
    start_session(response, request, settings, result.session)
    return describe(Principal(user=result.user, via="session", session_id=result.session.id,
                              csrf_token=result.session.csrf_token,
                              expires_at=result.session.expires_at))


@router.post("/auth/logout", status_code=204, response_class=Response)
def logout(request: Request, conn: ConnDep, principal: CurrentPrincipal,
           actor: AuditActor) -> Response:
    """Ferme la session de navigateur."""
    with conn.transaction():
        log_out(conn, principal, actor)
    response = Response(status_code=204)
    end_session(response, request, request.app.state.settings)
    return response
