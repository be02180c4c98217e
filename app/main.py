"""The application factory: lifespan with one connection pool, routers, error handlers."""

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request, Response

from app import __version__
from app.api import (
    accessibility,
    audit,
    auth,
    communes,
    coverage,
    cpts,
    docs,
    health,
    imports,
    indicators,
    login_pages,
    map_data,
    map_orientation,
    map_page,
    me,
    ogc,
    proposals,
    theme_assets,
    tiles,
    tokens,
)
from app.auth.deps import enforce_access
from app.compression import StaticGZipMiddleware
from app.db import open_pool
from app.errors import install_error_handlers
from app.logs import configure_logging
from app.repo.reference import GraphCache
from app.services.map_assets import STATIC_PREFIX, WEB_DIR
from app.settings import Settings, get_settings

log = logging.getLogger("app.http")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.pool = open_pool(settings)
        app.state.graph_cache = GraphCache()
        log.info("service started", extra={"version": __version__})
        try:
            yield
        finally:
            app.state.pool.close()
            log.info("service stopped")

    app = FastAPI(
        title="CPTS — territoires",
        version=__version__,
        description="Communes, périmètres des CPTS, taille ACI, recouvrements et zones blanches.",
        lifespan=lifespan,
        # Every route goes through the access guard; the rules live in app/auth/policy.py.
        # The documentation routes are re-added by app.api.docs so that the guard covers them.
        dependencies=[Depends(enforce_access)],
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(StaticGZipMiddleware)

    @app.middleware("http")
    async def log_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        log.info(
            "request",
            extra={
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
        return response

    app.include_router(health.router, prefix="/api")
    app.include_router(communes.router, prefix="/api")
    app.include_router(tiles.router, prefix="/api")
    app.include_router(cpts.router, prefix="/api")
    app.include_router(coverage.router, prefix="/api")
    app.include_router(proposals.router, prefix="/api")
    app.include_router(imports.router, prefix="/api")
    app.include_router(indicators.router, prefix="/api")
    app.include_router(auth.router, prefix="/api")
    app.include_router(me.router, prefix="/api")
    app.include_router(tokens.router, prefix="/api")
    app.include_router(audit.router, prefix="/api")
    app.include_router(map_data.router, prefix="/api")
    app.include_router(map_orientation.router, prefix="/api")
    app.include_router(ogc.router)
    app.include_router(login_pages.router)
    app.include_router(accessibility.router)
    app.include_router(theme_assets.router)
    app.include_router(docs.router)
    app.include_router(map_page.router)
    # The map's ES modules, style sheet and vendor files (rule `FRONTEND` in the policy).
    app.frontend(STATIC_PREFIX, directory=WEB_DIR, fallback=None)
    return app
