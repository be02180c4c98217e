"""`GET /theme/…`: the files of the DSFR theme (UI_THEME=dsfr), public.

The DSFR's style sheet, its Marianne fonts and icons (installed in `app/web/vendor/dsfr/`) and the
app's adaptations (`app/web/css/theme-dsfr.css`) are needed by the login and accessibility pages
before anyone signs in, so they cannot live under `/static/` (signed-in users only). Only the
files listed by `app.services.public_assets.theme_files` are served, and only when the service
runs in the DSFR theme (UI_THEME=dsfr): in the default theme nothing of the DSFR is served, even
though `make assets` installs it. Any other path answers 404.
"""

import mimetypes

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from app.errors import ProblemError
from app.services.map_assets import WEB_DIR
from app.services.public_assets import theme_files
from app.services.theme import theme

router = APIRouter(include_in_schema=False)

MAX_AGE_S = 86_400


@router.get("/theme/{path:path}")
def theme_file(request: Request, path: str) -> FileResponse:
    if (not theme(request.app.state.settings.ui_theme).dsfr or path not in theme_files()
            or not (WEB_DIR / path).is_file()):
        raise ProblemError(404, "not_found", "Cette adresse ne correspond à aucune ressource.")
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    return FileResponse(WEB_DIR / path, media_type=media_type,
                        headers={"Cache-Control": f"public, max-age={MAX_AGE_S}",
                                 "X-Content-Type-Options": "nosniff"})
