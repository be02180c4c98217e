"""gzip for the files the pages load (`/static/`, `/theme/`, `/login.css`), not for the API.

The map's JavaScript and style sheets (Leaflet, its plugins, Chart.js, the app's modules, the
DSFR's style sheet) weigh several hundred kilobytes: compressed, the first load stays small
(benchmarks/page_weight.py). The API is left alone: tiles are binary and cached as they are,
the large JSON answers compress themselves (`app.api.map_data`), exports stream. Fonts and
images are already compressed (Starlette's GZipMiddleware skips their types).
"""

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

COMPRESSED_PREFIXES = ("/static/", "/theme/", "/login.css")
MINIMUM_SIZE = 1024


class StaticGZipMiddleware:
    """Starlette's GZipMiddleware, applied only to the paths in `COMPRESSED_PREFIXES`."""

    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(COMPRESSED_PREFIXES):
            await self.gzip(scope, receive, send)
        else:
            await self.app(scope, receive, send)
