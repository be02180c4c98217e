"""CSRF protection for cookie-authenticated writes, and for the login form itself.

A signed-in browser sends its session's token (given by the login answer and `GET /api/me`)
in the `X-CSRF-Token` header, or in the `csrf_token` field of a small URL-encoded form.
Before signing in, the login form carries a random token that must equal the `cpts_csrf`
cookie (double submit), so that another site cannot sign a visitor into an account of its
choosing. Bearer tokens need none.

A token is only ever accepted at its full length (`tokens.new_secret()`), and a browser write
must also come from the service's own pages: when the request says where it comes from
(`Origin`, else `Referer`), that origin must be the service's own (the scheme and host the
request was sent to) or one of `TRUSTED_ORIGINS`. A cookie planted by another site (or a
sibling sub-domain) is thus not enough to sign a visitor in. Requests that name no origin
(scripts, command-line clients) still need the token.
"""

from urllib.parse import urlsplit

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


TOKEN_LENGTH = len(tokens.new_secret())


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


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, lower-cased, default port left out; None when the URL
    names no host (`null`, a relative path, garbage)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in {"http", "https"} or not host:
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    default = {"http": 80, "https": 443}[scheme]
    return f"{scheme}://{host}" + (f":{port}" if port and port != default else "")


def own_origin(request: Request) -> str | None:
    """The origin the request was sent to (its scheme, as seen behind trusted proxies, and its
    `Host` header)."""
    host = request.headers.get("host")
    return origin_of(f"{request.url.scheme}://{host}") if host else None


def claimed_origin(request: Request) -> str | None:
    """Where the browser says the request comes from: `Origin`, else `Referer`; "" when it
    says nothing, None when what it says is no origin (`Origin: null`)."""
    origin = request.headers.get("origin")
    if origin is not None:
        return origin_of(origin)
    referer = request.headers.get("referer")
    if referer is not None:
        return origin_of(referer)
    return ""


def check_origin(request: Request, settings: Settings) -> None:
    """403 `cross_origin_request` when a browser write comes from another site."""
    claimed = claimed_origin(request)
    if claimed == "":
        return
    allowed = {own_origin(request)} | {origin_of(value)
                                       for value in settings.trusted_origins.split(",")}
    if claimed is None or claimed not in allowed:
        raise ProblemError(
            403, "cross_origin_request",
            "Requête refusée : elle ne vient pas d'une page de ce service (origine "
            "différente). Ouvrez le service à son adresse habituelle et recommencez.")


async def check(request: Request, principal: Principal | None, settings: Settings) -> None:
    check_origin(request, settings)
    given = await submitted_token(request)
    expected = expected_token(request, principal, settings)
    if (given is None or len(given) != TOKEN_LENGTH or expected is None
            or len(expected) != TOKEN_LENGTH or not tokens.same_secret(given, expected)):
        raise ProblemError(
            403, "csrf_failed",
            "Jeton anti-falsification (CSRF) absent ou invalide : rechargez la page et "
            "recommencez.")


def pre_login_token(request: Request, settings: Settings) -> str:
    """The visitor's pre-login token: the one its cookie holds, or a new one."""
    existing = read_cookie(request, CSRF_COOKIE, settings)
    return existing if existing and _well_formed(existing) else tokens.new_secret()


def _well_formed(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and token.isascii() and all(
        char.isalnum() or char in "-_" for char in token)


def give_pre_login_token(response: Response, request: Request, settings: Settings,
                         token: str) -> None:
    set_cookie(response, request, settings, CSRF_COOKIE, token, max_age=None)


def forget_pre_login_token(response: Response, request: Request, settings: Settings) -> None:
    clear_cookie(response, request, settings, CSRF_COOKIE)
