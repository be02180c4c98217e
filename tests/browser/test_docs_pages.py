"""The API documentation pages in a real Chromium: Swagger UI (/docs) and ReDoc (/redoc) drawn
from the local copies under the pages' Content-Security-Policy, nothing requested from another
site, no script refused; « Try it out » works with the session (its CSRF token sent by the
page) and « Authorize » offers the bearer token and the session cookie."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import VIEWPORT, LiveServer, Recorder
from tests.browser.pages import log_in


@pytest.fixture
def signed_in(browser: Any, live_server: LiveServer) -> Iterator[tuple[Any, Recorder]]:
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR")
    page = context.new_page()
    recorder = Recorder(live_server.base_url)
    recorder.attach(page)
    page.goto(live_server.base_url + "/login?next=/docs")
    log_in(page, live_server.admin_email)
    page.wait_for_url(live_server.base_url + "/docs")
    try:
        yield page, recorder
    finally:
        context.close()


def test_swagger_ui_draws_every_operation_from_local_files(
        signed_in: tuple[Any, Recorder], live_server: LiveServer, screenshots: Path) -> None:
    page, recorder = signed_in
    page.wait_for_selector(".opblock", timeout=30_000)
    operations = page.locator(".opblock").count()
    paths = len(live_server.api().get("/openapi.json").json()["paths"])
    assert operations >= paths
    page.screenshot(path=str(screenshots / "docs_swagger.png"))
    page.click("button.authorize")
    page.wait_for_selector(".auth-container", timeout=10_000)
    schemes = page.locator(".auth-container h4").all_inner_texts()
    assert {"jeton (http, Bearer)", "session (apiKey)", "csrf (apiKey)"} <= {
        " ".join(text.split()) for text in schemes}, schemes
    assert recorder.external() == []
    assert recorder.failed == []
    assert not [e for e in recorder.errors if "Content Security Policy" in e], recorder.errors


def test_try_it_out_writes_with_the_session_and_its_csrf_token(
        signed_in: tuple[Any, Recorder]) -> None:
    page, recorder = signed_in
    page.wait_for_selector(".opblock", timeout=30_000)
    answer = page.evaluate("""async () => {
        const post = (headers) => fetch("/api/tokens", {method: "POST", headers,
            body: JSON.stringify({name: "essai documentation"})});
        const bare = await post({"Content-Type": "application/json"});
        const request = window.ui.getConfigs().requestInterceptor(
            {url: "/api/tokens", method: "POST", headers: {"Content-Type": "application/json"}});
        const intercepted = await post(request.headers);
        return {bare: bare.status, status: intercepted.status,
                token: request.headers["X-CSRF-Token"] || ""};
    }""")
    assert answer["bare"] == 403  # a write without the token is refused…
    assert answer["status"] == 201, answer  # …and the page adds the session's token
    assert len(answer["token"]) == 43
    assert recorder.external() == []


def test_redoc_draws_the_api_from_local_files(
        browser: Any, signed_in: tuple[Any, Recorder], live_server: LiveServer,
        screenshots: Path) -> None:
    page, recorder = signed_in
    page.wait_for_selector(".opblock", timeout=30_000)  # /docs done: nothing left to abort
    recorder.requests.clear()
    page.goto(live_server.base_url + "/redoc")
    page.wait_for_selector("[role=menuitem]", timeout=30_000)
    assert page.locator("[role=menuitem]").count() > 10
    assert page.locator("h1").first.inner_text().startswith("CPTS")
    page.screenshot(path=str(screenshots / "docs_redoc.png"))
    assert recorder.external() == []
    assert recorder.failed == []
    assert not [e for e in recorder.errors if "Content Security Policy" in e], recorder.errors
