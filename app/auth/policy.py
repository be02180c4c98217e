"""Who may call which route, and the rules about accounts, tokens and the audit log.

- `ROUTE_RULES`: for every route (method and path template), who may call it at all. The
  dependency `app.auth.deps.enforce_access`, installed on the whole application, applies it to
  every request and refuses a route that has no rule.
- what a user may know of a CPTS or a scenario and do with it lives in one domain module,
  `app.domain.cpts_access`; routers and services call it, never test a role themselves.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from app.domain.roles import ROLE_LABELS, Role, User

__all__ = ["ROLE_LABELS", "Role", "User"]


# --- Audit, users, tokens ------------------------------------------------------------------------

def audit_regions(user: User | None) -> frozenset[str] | None:
    """Regions whose audit entries the user may read: None for all, empty for none."""
    if user is None:
        return frozenset()
    if user.role is Role.ADMIN:
        return None
    if user.role is Role.ARS:
        return user.regions
    return frozenset()


def can_read_audit(user: User | None) -> bool:
    regions = audit_regions(user)
    return regions is None or bool(regions)


def can_manage_users(user: User | None) -> bool:
    return user is not None and user.role is Role.ADMIN


def can_revoke_token(user: User | None, owner_id: int) -> bool:
    return user is not None and (user.id == owner_id or user.role is Role.ADMIN)


def scope_problems(role: Role, regions: Iterable[str], cpts_ids: Iterable[int]) -> list[str]:
    """Why a role cannot hold these scopes (empty when it can); messages in French."""
    regions, cpts_ids = set(regions), set(cpts_ids)
    problems = [f"« {code} » n'est pas un code de région (2 chiffres, ex. 93)."
                for code in sorted(regions) if not (len(code) == 2 and code.isdigit())]
    if role in (Role.ARS, Role.OBSERVER):
        if not regions:
            problems.append(f"Un {ROLE_LABELS[role]} doit avoir au moins une région.")
        if cpts_ids:
            problems.append(f"Un {ROLE_LABELS[role]} n'est membre d'aucune CPTS.")
    elif role is Role.CARRIER:
        if regions:
            problems.append("Un porteur de CPTS est rattaché à des CPTS, pas à des régions.")
    elif regions or cpts_ids:
        problems.append("Un administrateur a accès à tout : il n'a pas de périmètre.")
    return problems


# --- Route rules ---------------------------------------------------------------------------------

ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class Rule:
    """Who may call a route at all. Resource checks (which CPTS, which token) come after."""

    roles: frozenset[Role]
    anonymous: bool = False
    anonymous_if_setting: str | None = None  # anonymous allowed when this boolean setting is on
    session_only: bool = False  # refuses API tokens (e.g. minting tokens with a token)
    note: str = ""

    def admits_anonymous(self, settings: object) -> bool:
        if self.anonymous:
            return True
        return bool(self.anonymous_if_setting
                    and getattr(settings, self.anonymous_if_setting, False))

    def admits(self, user: User) -> bool:
        return user.role in self.roles


PUBLIC = Rule(roles=ALL_ROLES, anonymous=True, note="tout le monde, même sans compte")
SIGNED_IN = Rule(roles=ALL_ROLES, note="tout utilisateur connecté")
SESSION_ONLY = Rule(roles=ALL_ROLES, session_only=True,
                    note="tout utilisateur connecté, depuis son navigateur")


def only(*roles: Role, note: str = "") -> Rule:
    return Rule(roles=frozenset(roles), note=note)


def public_if(setting: str, *roles: Role) -> Rule:
    return Rule(roles=frozenset(roles) or ALL_ROLES, anonymous_if_setting=setting,
                note=f"utilisateurs connectés ; anonymes si {setting.upper()}")


# The files of a static front end served with `app.frontend(…)`: they have no route of their
# own; give them a rule such as `("GET", FRONTEND): SIGNED_IN` when the front end arrives
# (anonymous browsers are then sent to the login page).
FRONTEND = "{frontend}"

ROUTE_RULES: dict[tuple[str, str], Rule] = {
    # service and reference data
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/api/communes"): SIGNED_IN,
    ("GET", "/api/communes/{code}"): SIGNED_IN,
    ("GET", "/api/tiles/{layer}/{z}/{x}/{y}.pbf"): SIGNED_IN,
    # documentation of the API
    ("GET", "/openapi.json"): SIGNED_IN,
    ("GET", "/docs"): SIGNED_IN,
    ("GET", "/docs/oauth2-redirect"): SIGNED_IN,
    ("GET", "/redoc"): SIGNED_IN,
    # signing in and out
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("GET", "/logout"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/login.css"): PUBLIC,
    # the accessibility statement and the DSFR theme's files (app.api.theme_assets)
    ("GET", "/accessibilite"): PUBLIC,
    ("GET", "/theme/{path}"): PUBLIC,
    ("GET", "/api/auth/csrf"): PUBLIC,
    ("POST", "/api/auth/login"): PUBLIC,
    ("POST", "/api/auth/logout"): SIGNED_IN,
    ("GET", "/api/me"): SIGNED_IN,
    # personal API tokens (which token: can_revoke_token)
    ("GET", "/api/tokens"): SIGNED_IN,
    ("POST", "/api/tokens"): SESSION_ONLY,
    ("DELETE", "/api/tokens/{token_id}"): SIGNED_IN,
    # the audit log (which entries: audit_regions)
    ("GET", "/api/audit"): only(Role.ADMIN, Role.ARS, note="administrateurs ; ARS pour leurs "
                                                           "régions"),
    # CPTS and their perimeters (which CPTS: cpts_visibility, can_edit_cpts, …)
    ("GET", "/api/size-rules"): SIGNED_IN,
    ("GET", "/api/cpts"): public_if("publish_signed_cpts"),
    ("POST", "/api/cpts"): only(Role.ADMIN, Role.ARS, Role.CARRIER),
    ("GET", "/api/cpts/{cpts_id}"): public_if("publish_signed_cpts"),
    ("PATCH", "/api/cpts/{cpts_id}"): only(Role.ADMIN, Role.ARS, Role.CARRIER),
    ("GET", "/api/cpts/{cpts_id}/versions"): SIGNED_IN,
    ("GET", "/api/cpts/{cpts_id}/history"): SIGNED_IN,
    ("POST", "/api/cpts/{cpts_id}/stage-request"): only(Role.ADMIN, Role.CARRIER),
    ("POST", "/api/cpts/{cpts_id}/stage-request/accept"): only(Role.ADMIN, Role.ARS),
    ("POST", "/api/cpts/{cpts_id}/stage-request/changes"): only(Role.ADMIN, Role.ARS),
    ("POST", "/api/cpts/{cpts_id}/archive"): only(Role.ADMIN, Role.ARS, Role.CARRIER),
    ("POST", "/api/cpts/{cpts_id}/restore"): only(Role.ADMIN, Role.ARS, Role.CARRIER),
    ("POST", "/api/simulations/perimeter"): SIGNED_IN,
    # coverage: aggregates for every signed-in user; CPTS named only when readable
    ("GET", "/api/coverage"): SIGNED_IN,
    # proposed plans (territory: the user's régions; attachments only to readable CPTS)
    ("POST", "/api/proposals"): only(Role.ADMIN, Role.ARS, Role.OBSERVER,
                                     note="ARS et task forces pour leurs régions"),
    ("POST", "/api/proposals/scenarios"): only(Role.ADMIN, Role.ARS,
                                               note="scénarios : l'ARS de la région"),
    # exports and bulk imports (which CPTS: can_export_cpts; each write: the CPTS use cases)
    ("GET", "/api/cpts/{cpts_id}/export"): public_if("publish_signed_cpts"),
    ("POST", "/api/imports/cpts"): only(Role.ADMIN, Role.ARS, Role.CARRIER,
                                        note="qui peut créer ou modifier des CPTS"),
    # indicator tables (which tables: app.domain.indicator_access)
    ("POST", "/api/indicators/tables"): only(Role.ADMIN, Role.ARS),
    ("GET", "/api/indicators/tables"): SIGNED_IN,
    ("GET", "/api/indicators"): SIGNED_IN,
    ("GET", "/api/indicators/map"): SIGNED_IN,
    # the map page, its static files and what it reads (which CPTS: cpts_read_scope and the
    # CPTS rules above; the selection and unit routes write nothing)
    ("GET", "/"): SIGNED_IN,
    ("GET", FRONTEND): SIGNED_IN,
    ("GET", "/api/map/perimeters"): SIGNED_IN,
    ("GET", "/api/map/overview"): SIGNED_IN,
    ("GET", "/api/map/unit-at"): SIGNED_IN,
    ("GET", "/api/map/neighbours/{code}"): SIGNED_IN,
    ("GET", "/api/map/cpts/{cpts_id}/actions"): SIGNED_IN,
    ("GET", "/api/map/groups/{kind}/{code}"): SIGNED_IN,
    ("POST", "/api/map/selection"): SIGNED_IN,
    ("POST", "/api/map/units"): SIGNED_IN,
    ("GET", "/api/map/orientation"): SIGNED_IN,
    ("GET", "/api/map/labels"): SIGNED_IN,
    ("GET", "/api/map/place"): SIGNED_IN,
    ("GET", "/api/territories"): SIGNED_IN,
    # OGC API – Features (which features: app.services.ogc, through the CPTS rules above)
    ("GET", "/ogc"): public_if("publish_signed_cpts"),
    ("GET", "/ogc/"): public_if("publish_signed_cpts"),
    ("GET", "/ogc/api"): public_if("publish_signed_cpts"),
    ("GET", "/ogc/conformance"): public_if("publish_signed_cpts"),
    ("GET", "/ogc/collections"): public_if("publish_signed_cpts"),
    ("GET", "/ogc/collections/{collection_id}"): public_if("publish_signed_cpts"),
    ("GET", "/ogc/collections/{collection_id}/items"): public_if("publish_signed_cpts"),
    ("GET", "/ogc/collections/{collection_id}/items/{feature_id}"): public_if(
        "publish_signed_cpts"),
}


def rule_for(method: str, path: str) -> Rule | None:
    """The rule of a route, by method and path template; None: the route is refused."""
    if method == "HEAD":
        method = "GET"
    return ROUTE_RULES.get((method, path))
