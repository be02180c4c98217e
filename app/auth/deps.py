"""FastAPI dependencies: the access guard installed on the whole app, and `Annotated` aliases.

`enforce_access` runs before every route: it finds the route's rule in `app.auth.policy`,
authenticates the caller (session cookie or bearer token), checks CSRF on browser writes and
applies the rule. A route without a rule is refused. Routes then ask for `CurrentUser`,
`CurrentPrincipal`, `OptionalPrincipal` or `AuditActor`; the guard runs once per request.
"""

import logging
from dataclasses import dataclass
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.routing import iter_route_contexts
from psycopg_pool import ConnectionPool
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match

from app.auth import api_tokens, csrf, tokens
from app.auth.audit import Actor, client_ip
from app.auth.policy import FRONTEND, User, rule_for
from app.auth.principal import Principal
from app.auth.sessions import SESSION_COOKIE, read_cookie, resolve_session
from app.db import Conn
from app.errors import ProblemError
from app.services import public_assets
from app.settings import Settings

log = logging.getLogger(__name__)

LOGIN_PAGE = "/login"


@dataclass(frozen=True)
class Credentials:
    kind: Literal["session", "token"]
    secret: str


def read_credentials(request: Request, settings: Settings) -> Credentials | None:
    """A bearer token wins over a session cookie; neither: an anonymous request."""
    bearer = tokens.bearer_token(request.headers.get("authorization"))
    if bearer:
        return Credentials("token", bearer)
    cookie = read_cookie(request, SESSION_COOKIE, settings)
    return Credentials("session", cookie) if cookie else None


def authenticate(pool: ConnectionPool[Conn], credentials: Credentials, ip: str | None,
                 settings: Settings) -> Principal:
    with pool.connection() as conn:
        try:
            if credentials.kind == "token":
                return api_tokens.resolve_token(conn, credentials.secret, ip)
            return resolve_session(conn, credentials.secret, settings)
        except ProblemError:
            conn.commit()  # keep the clean-up of a stale session
            raise


def route_template(request: Request) -> str | None:
    """The full path template of the matched route (`/api/tokens/{token_id}`).

    FastAPI puts the route as its router declared it in `scope["route"]` (without the prefix
    of `include_router`); the effective routes of the app give it with its prefix. Files of a
    static front end served by `app.frontend()` have no route: they are `FRONTEND`.
    """
    matched = request.scope.get("route")
    if matched is None:
        return FRONTEND
    candidates = [context for context in iter_route_contexts(request.app.routes)
                  if context.original_route is matched]
    if len(candidates) > 1:  # one router included under several prefixes
        candidates = [context for context in candidates
                      if context.matches(request.scope)[0] is Match.FULL]
    return candidates[0].path_format if candidates else None


def wants_html(request: Request) -> bool:
    """A browser navigating to a page (rather than a script or a fetch)."""
    if request.method != "GET":
        return False
    if request.headers.get("sec-fetch-mode") == "navigate":
        return True
    return request.headers.get("accept", "").startswith("text/html")


def login_required(request: Request, refusal: ProblemError | None = None) -> ProblemError:
    """401 for programs; for a browser navigating to a page, a redirection to the login page."""
    if wants_html(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return ProblemError(303, "unauthenticated", "Connectez-vous pour continuer.",
                            title="Connexion requise",
                            headers={"Location": f"{LOGIN_PAGE}?next={quote(target)}"})
    if refusal is not None:
        return refusal
    return ProblemError(401, "unauthenticated", "Connectez-vous pour accéder à cette ressource.",
                        headers={"WWW-Authenticate": 'Bearer realm="cpts"'})


async def enforce_access(request: Request) -> Principal | None:
    """The access guard of every route (installed as a global dependency by `create_app`)."""
    method, path = request.method, route_template(request)
    if path == FRONTEND and public_assets.is_hidden(request.url.path):
        # a file of app/web/ that no page loads (a template, a JS test): as if absent
        raise ProblemError(404, "not_found", "Cette adresse ne correspond à aucune ressource.")
    rule = None if path is None else rule_for(method, path)
    if rule is None:
        log.error("route without an access rule", extra={"method": method, "route": path})
        raise ProblemError(403, "no_access_rule",
                           "Cette adresse n'a pas de règle d'accès : elle est refusée à tous.")
    settings: Settings = request.app.state.settings
    credentials = read_credentials(request, settings)
    principal: Principal | None = None
    if credentials is not None:
        try:
            principal = await run_in_threadpool(
                authenticate, request.app.state.pool, credentials,
                client_ip(request.client.host if request.client else None), settings)
        except ProblemError as refusal:
            if not rule.admits_anonymous(settings):
                raise login_required(request, refusal) from None
    if principal is None and not rule.admits_anonymous(settings):
        raise login_required(request)
    if csrf.needs_check(method, principal):
        await csrf.check(request, principal, settings)
    if principal is not None:
        if rule.session_only and principal.via != "session":
            raise ProblemError(403, "session_required",
                               "Cette action se fait depuis une session de navigateur, pas "
                               "avec un jeton d'accès.")
        if not rule.admits(principal.user):
            raise ProblemError(403, "forbidden", "Votre rôle ne donne pas accès à cette "
                                                 "ressource.")
    request.state.principal = principal
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(enforce_access)]


def current_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise ProblemError(401, "unauthenticated",
                           "Connectez-vous pour accéder à cette ressource.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def current_user(principal: CurrentPrincipal) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(current_user)]


def audit_actor(request: Request, principal: OptionalPrincipal) -> Actor:
    """Who is acting and from where, for the audit log."""
    ip = client_ip(request.client.host if request.client else None)
    agent = request.headers.get("user-agent")
    if principal is None:
        return Actor(None, None, "anonymous", ip, agent)
    return Actor(principal.user.id, principal.user.email, principal.via, ip, agent)


AuditActor = Annotated[Actor, Depends(audit_actor)]
