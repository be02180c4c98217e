"""The pages the server writes in each theme (setting UI_THEME), read as a browser gets them:
the default theme names no DSFR file, no Marianne and no brand block of the State, and serves
none; the DSFR theme does, with the DSFR's classes on the form's controls; the accessibility
statement is public in both; in the DSFR theme `/theme/` serves the DSFR's files to anyone and
nothing else of app/web/."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import Settings

PAGES = ("/login", "/logout", "/accessibilite")
DSFR_MARKS = ("dsfr", "Marianne", "fr-header__brand", "République Française", "/theme/")


@pytest.fixture(scope="module")
def dsfr_client(database: str, settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings.model_copy(update={"ui_theme": "dsfr"}))) as client:
        yield client


def test_the_default_theme_shows_nothing_of_the_state(client: TestClient) -> None:
    assert Settings.model_fields["ui_theme"].default == "cpts"
    for path in PAGES:
        page = client.get(path)
        assert page.status_code == 200, path
        for mark in DSFR_MARKS:
            assert mark not in page.text, f"{mark!r} in the default theme's {path}"
        assert 'href="/login.css"' in page.text
        assert 'href="/accessibilite"' in page.text, f"{path} links the statement"


def test_the_dsfr_theme_dresses_the_same_pages(dsfr_client: TestClient) -> None:
    for path in PAGES:
        page = dsfr_client.get(path)
        assert page.status_code == 200, path
        assert 'class="fr-header"' in page.text and "fr-header__brand" in page.text
        assert '<p class="fr-logo">République<br>Française</p>' in page.text
        assert 'href="/theme/vendor/dsfr/dsfr-parts.min.css"' in page.text
        assert "/login.css" not in page.text
        assert 'href="/accessibilite"' in page.text
        assert "font-src 'self'" in page.headers["content-security-policy"]
    login = dsfr_client.get("/login").text
    assert '<input class="fr-input" id="email"' in login
    assert '<button class="fr-btn" type="submit">' in login
    assert '<input type="hidden" name="csrf_token"' in login  # hidden fields left as they are
    logout = dsfr_client.get("/logout").text
    assert 'class="notice ok fr-alert fr-alert--success fr-alert--sm"' in logout


def test_the_accessibility_statement_is_public_and_says_what_is_not_accessible(
        client: TestClient) -> None:
    client.cookies.clear()
    page = client.get("/accessibilite", headers={"Accept": "text/html"},
                      follow_redirects=False)
    assert page.status_code == 200
    for words in ("Déclaration d'accessibilité", "partiellement conforme", "RGAA",
                  "version 4.1", "Non-conformités", "canvas", "axe-core", "clavier",
                  "Défenseur des droits", "Libre réponse 71120"):
        assert words in page.text, words


def test_the_default_theme_serves_no_dsfr_file(client: TestClient) -> None:
    for path in ("/theme/vendor/dsfr/dsfr-parts.min.css", "/theme/css/theme-dsfr.css",
                 "/theme/vendor/dsfr/fonts/Marianne-Regular.woff2"):
        assert client.get(path).status_code == 404, path


def test_theme_files_are_public_and_the_rest_of_app_web_is_not(
        dsfr_client: TestClient) -> None:
    client = dsfr_client
    client.cookies.clear()
    css = client.get("/theme/vendor/dsfr/dsfr-parts.min.css",
                     headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200 and css.headers["content-encoding"] == "gzip"
    assert "Marianne" in css.text and "url(fonts/Marianne-Regular.woff2)" in css.text
    assert client.get("/theme/vendor/dsfr/fonts/Marianne-Bold.woff2").status_code == 200
    assert client.get("/theme/css/theme-dsfr.css").status_code == 200
    for hidden in ("/theme/login.html", "/theme/map_body.html", "/theme/partials/header-dsfr.html",
                   "/theme/js/main.js", "/theme/vendor/leaflet/leaflet.js",
                   "/theme/vendor/dsfr/dsfr.min.css", "/theme/%2e%2e/settings.py"):
        assert client.get(hidden).status_code == 404, hidden


@pytest.mark.parametrize("ui_theme", ["cpts", "dsfr"])
def test_the_legal_notice_is_linked_when_the_deployment_gives_one(
        database: str, settings: Settings, client: TestClient, ui_theme: str) -> None:
    assert "Mentions légales" not in client.get("/login").text  # none by default
    url = "https://www.ars.sante.fr/mentions-legales"
    configured = settings.model_copy(update={"ui_theme": ui_theme, "ui_legal_notice_url": url})
    with TestClient(create_app(configured)) as themed:
        for path in PAGES:
            assert f'href="{url}">Mentions légales</a>' in themed.get(path).text, path


def test_the_legal_notice_must_be_an_address() -> None:
    with pytest.raises(ValueError):
        Settings(ui_legal_notice_url="javascript:alert(1)")
    with pytest.raises(ValueError):
        Settings(ui_legal_notice_url='/x" onmouseover="alert(1)')
    assert Settings(ui_legal_notice_url="/mentions").ui_legal_notice_url == "/mentions"


@pytest.mark.parametrize("ui_theme", ["cpts", "dsfr"])
def test_the_map_footer_links_the_statement_and_the_legal_notice(ui_theme: str) -> None:
    from app.auth.policy import Role, User
    from app.services.map_page import render_page

    user = User(id=1, email="agent@ars.test", role=Role.ARS)
    plain = render_page(user, csrf_token="t", can_create=False, ui_theme=ui_theme).html
    assert 'href="/accessibilite"' in plain and "Mentions légales" not in plain
    linked = render_page(user, csrf_token="t", can_create=False, ui_theme=ui_theme,
                         legal_notice_url="/mentions").html
    assert 'href="/mentions">Mentions légales</a>' in linked
