"""`GET /`: the map page (French), rendered by folium for the signed-in user.

Anonymous browsers are sent to the login page by the access guard. The page's static files
(ES modules, style sheet, vendor copies of Leaflet and its plugins) are served under `/static`
by `app.frontend` in `app.main`, behind the same guard.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.cpts import CptsContext
from app.auth.deps import CurrentPrincipal
from app.errors import ProblemError
from app.services import labels, map_data
from app.services.map_assets import missing_files
from app.services.map_page import MapSettings, render_page

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def map_page(request: Request, principal: CurrentPrincipal, ctx: CptsContext) -> HTMLResponse:
    missing = missing_files()
    if missing:
        raise ProblemError(503, "map_assets_missing",
                           "Les fichiers de la carte (Leaflet et ses extensions) ne sont pas "
                           "installés : lancez `make assets` (ou `make run`).",
                           errors=[{"file": name} for name in missing])
    settings: MapSettings = getattr(request.app.state, "map_settings", None) or MapSettings()
    page = render_page(principal.user, csrf_token=principal.csrf_token or "",
                       can_create=map_data.may_create(ctx), settings=settings,
                       territory=labels.territory(ctx),
                       ui_theme=request.app.state.settings.ui_theme,
                       legal_notice_url=request.app.state.settings.ui_legal_notice_url)
    return HTMLResponse(page.html, headers={
        "Content-Security-Policy": page.content_security_policy,
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store",
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
    })
