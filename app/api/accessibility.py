"""`GET /accessibilite`: the accessibility statement (« Déclaration d'accessibilité »), public.

The declared conformity level (partially compliant with RGAA 4.1), the known non-conformities,
the tests run, contact and recourse (Défenseur des droits), in the service's theme; linked from
the footer of the map and of the login page.
"""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.api.login_pages import page

router = APIRouter(include_in_schema=False)

# The day the statement was last reviewed against the tests it names.
STATEMENT_DATE = "7 décembre 2026"


@router.get("/accessibilite", response_class=HTMLResponse)
def accessibility_statement(request: Request) -> HTMLResponse:
    response = page(request, "accessibilite.html", date=STATEMENT_DATE)
    response.headers["Cache-Control"] = "max-age=3600"
    return response
