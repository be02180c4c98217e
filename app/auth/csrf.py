"""CSRF protection for cookie-authenticated writes, and for the login form itself.

A signed-in browser sends its session's token (given by the login answer and `GET /api/me`)
in the `X-CSRF-Token` header, or in the `csrf_token` field of a small URL-encoded form.
Before signing in, the login form carries a random token that must equal the `cpts_csrf`
cookie (double submit), so that another site cannot sign a visitor into an account of its
choosing. Bearer tokens need none.
"""

from starlette.requests import Request
from starlette.responses import Response

from app.auth import tokens
from app.auth.principal import Principal
from app.auth.sessions import CSRF_COOKIE, clear_cookie, read_cookie, set_cookie
from app.errors import ProblemError
from app.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
HEADER = "X-CSRF-Token"
FORM_FIELD = "csrf_token"
# The token may come in a field of a small URL-encoded form (the login and logout pages);
# uploads (multipart) send the header: the guard never parses a large or multipart body.
_FORM_TYPE = "application/x-www-form-urlencoded"
_FORM_MAX_BYTES = 64 * 1024


def needs_check(method: str, principal: Principal | None) -> bool:
    """Every write made by a browser: with a session cookie, or anonymously (login)."""
    return method not in SAFE_METHODS and (principal is None or principal.via == "session")


async def submitted_token(request: Request) -> str | None:
    header = request.headers.get(HEADER)
    if header:
        return header
    length = request.headers.get("content-length", "")
    if (request.headers.get("content-type", "").startswith(_FORM_TYPE)
            and length.isdigit() and int(length) <= _FORM_MAX_BYTES):
        value = (await request.form()).get(FORM_FIELD)
        return value if isinstance(value, str) else None
    return None


def expected_token(request: Request, principal: Principal | None,
                   settings: Settings) -> str | None:
    if principal is not None:
        return principal.csrf_token
    return read_cookie(request, CSRF_COOKIE, settings)


async def check(request: Request, principal: Principal | None, settings: Settings) -> None:
    given = await submitted_token(request)
    if not tokens.same_secret(given, expected_token(request, principal, settings)):
        raise ProblemError(
            403, "csrf_failed",
            "Jeton anti-falsification (CSRF) absent ou invalide : rechargez la page et "
            "recommencez.")


def pre_login_token(request: Request, settings: Settings) -> str:
    """The visitor's pre-login token: the one its cookie holds, or a new one."""
    existing = read_cookie(request, CSRF_COOKIE, settings)
    return existing if existing and len(existing) >= 32 else tokens.new_secret()


def give_pre_login_token(response: Response, request: Request, settings: Settings,
                         token: str) -> None:
    set_cookie(response, request, settings, CSRF_COOKIE, token, max_age=None)


def forget_pre_login_token(response: Response, request: Request, settings: Settings) -> None:
    clear_cookie(response, request, settings, CSRF_COOKIE)
