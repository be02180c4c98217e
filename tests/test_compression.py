"""gzip of the pages' files only (app.compression): `/static/`, `/theme/` and `/login.css` are
compressed when the browser accepts it; the API (tiles, JSON, exports, streams) is left as its
routes answer."""

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from fastapi.testclient import TestClient

from app.compression import StaticGZipMiddleware

BODY = "const a = 1;\n" * 800  # 10 kB of text


def _app() -> FastAPI:
    app = FastAPI()
    app.add_middleware(StaticGZipMiddleware)

    @app.get("/static/js/app.js")
    def script() -> PlainTextResponse:
        return PlainTextResponse(BODY, media_type="text/javascript")

    @app.get("/theme/vendor/dsfr/fonts/Marianne-Regular.woff2")
    def font() -> Response:
        return Response(b"\0" * 4096, media_type="font/woff2")

    @app.get("/api/tiles/communes/9/268/187.pbf")
    def tile() -> Response:
        return Response(b"\x1a\x02" * 4096, media_type="application/vnd.mapbox-vector-tile")

    @app.get("/api/coverage")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([BODY, BODY]), media_type="text/csv")

    return app


def test_static_files_are_compressed_for_browsers_that_accept_it() -> None:
    client = TestClient(_app())
    answer = client.get("/static/js/app.js", headers={"Accept-Encoding": "gzip"})
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.text == BODY  # decoded by the client
    assert int(answer.headers["content-length"]) < len(BODY) / 10
    plain = client.get("/static/js/app.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == BODY


def test_fonts_tiles_and_the_api_are_left_alone() -> None:
    client = TestClient(_app())
    font = client.get("/theme/vendor/dsfr/fonts/Marianne-Regular.woff2",
                      headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in font.headers and len(font.content) == 4096
    tile = client.get("/api/tiles/communes/9/268/187.pbf", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in tile.headers and tile.content == b"\x1a\x02" * 4096
    stream = client.get("/api/coverage", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in stream.headers and stream.text == BODY * 2
