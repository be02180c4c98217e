"""Browser sessions: opening one at login, recognising its cookie, expiry, the cookies."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from app.auth import tokens
from app.auth.principal import Principal, user_from_row
from app.db import Conn
from app.errors import ProblemError
from app.repo import sessions as repo
from app.settings import Settings

SESSION_COOKIE = "cpts_session"
CSRF_COOKIE = "cpts_csrf"
TOUCH_EVERY = timedelta(minutes=1)


def use_secure_cookies(request: Request, settings: Settings) -> bool:
    """Secure cookies when configured so, or else when the request came over HTTPS."""
    if settings.session_cookie_secure is not None:
        return settings.session_cookie_secure
    return request.url.scheme == "https"


def cookie_name(base: str, secure: bool) -> str:
    """Secure cookies get the `__Host-` prefix: no subdomain can set or overwrite them."""
    return f"__Host-{base}" if secure else base


def read_cookie(request: Request, base: str, settings: Settings) -> str | None:
    return request.cookies.get(cookie_name(base, use_secure_cookies(request, settings)))


def set_cookie(response: Response, request: Request, settings: Settings, base: str,
               value: str, *, max_age: int | None) -> None:
    secure = use_secure_cookies(request, settings)
    response.set_cookie(cookie_name(base, secure), value, max_age=max_age, path="/",
                        secure=secure, httponly=True, samesite="lax")


def clear_cookie(response: Response, request: Request, settings: Settings, base: str) -> None:
    secure = use_secure_cookies(request, settings)
    response.delete_cookie(cookie_name(base, secure), path="/", secure=secure, httponly=True,
                           samesite="lax")


@dataclass(frozen=True)
class NewSession:
    id: int
    secret: str  # the cookie value; only its digest is stored
    csrf_token: str
    expires_at: datetime


def session_end(last_seen_at: datetime, expires_at: datetime, settings: Settings) -> datetime:
    """When a session ends: its absolute end, or after the idle timeout, whichever is first."""
    return min(expires_at, last_seen_at + timedelta(seconds=settings.session_idle_timeout_s))


def open_session(conn: Conn, user_id: int, *, ip: str | None, user_agent: str | None,
                 settings: Settings) -> NewSession:
    secret, csrf_token = tokens.new_secret(), tokens.new_secret()
    expires_at = datetime.now(UTC) + timedelta(seconds=settings.session_max_age_s)
    session_id = repo.create(conn, user_id=user_id, secret_hash=tokens.digest(secret),
                             csrf_token=csrf_token, expires_at=expires_at, ip=ip,
                             user_agent=(user_agent or "")[:300] or None)
    return NewSession(session_id, secret, csrf_token, expires_at)


def session_expired() -> ProblemError:
    return ProblemError(401, "session_expired",
                        "Votre session a expiré ou a été fermée ; reconnectez-vous.")


def resolve_session(conn: Conn, secret: str, settings: Settings) -> Principal:
    """The principal of a session cookie; a stale session is deleted and refused."""
    row = repo.find(conn, tokens.digest(secret))
    if row is None:
        raise session_expired()
    now = datetime.now(UTC)
    end = session_end(row["last_seen_at"], row["expires_at"], settings)
    if now >= end:
        repo.delete(conn, row["session_id"])
        raise session_expired()
    if row["disabled"]:
        repo.delete(conn, row["session_id"])
        raise ProblemError(401, "account_disabled", "Ce compte est désactivé.")
    if now - row["last_seen_at"] >= TOUCH_EVERY:
        repo.touch(conn, row["session_id"])
        end = session_end(now, row["expires_at"], settings)
    return Principal(user=user_from_row(row), via="session", session_id=row["session_id"],
                     csrf_token=row["csrf_token"], expires_at=end)
