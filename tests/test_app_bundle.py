"""The bundle of the map's ES modules: built by esbuild from main.js and what it imports,
loaded by the page only while no module is newer than it."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from app.services import app_bundle
from app.services.map_assets import STATIC_PREFIX

NODE = shutil.which("node")


def test_the_bundle_holds_every_module_main_imports(tmp_path: Path) -> None:
    if not app_bundle.ESBUILD.exists():
        pytest.fail("esbuild absent : `make assets` l'installe (npm ci)")
    bundle = app_bundle.build(bundle=tmp_path / "app.js")
    text = bundle.read_text(encoding="utf-8")
    assert 'from"./' not in text.replace(" ", "") and "import(\"./" not in text
    # strings of several modules are there: the entry's, the colours', the formats'
    for phrase in ("La carte n'a pas pu démarrer", "Palette de la carte absente",
                   "Taille maximale (4)"):
        assert phrase in text, phrase
    assert bundle.stat().st_size < 400_000


@pytest.mark.skipif(NODE is None, reason="node absent")
def test_the_bundle_is_a_module_node_can_parse(tmp_path: Path) -> None:
    bundle = app_bundle.build(bundle=tmp_path / "app.mjs")
    result = subprocess.run([str(NODE), "--check", str(bundle)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


def test_a_module_edited_after_the_build_makes_the_page_load_the_modules(
        tmp_path: Path) -> None:
    modules = tmp_path / "js"
    modules.mkdir()
    for name in ("main.js", "dom.js"):
        (modules / name).write_text("export const x = 1;\n", encoding="utf-8")
    bundle = tmp_path / "app.js"
    assert not app_bundle.is_fresh(bundle, modules)  # not built yet
    bundle.write_text("// built\n", encoding="utf-8")
    later = time.time() + 5
    os.utime(bundle, (later, later))
    assert app_bundle.is_fresh(bundle, modules)
    os.utime(modules / "dom.js", (later + 5, later + 5))
    assert not app_bundle.is_fresh(bundle, modules)


def test_the_page_names_the_bundle_only_when_it_is_fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_bundle, "is_fresh", lambda *args: True)
    assert app_bundle.bundle_url() == f"{STATIC_PREFIX}/build/app.js"
    monkeypatch.setattr(app_bundle, "is_fresh", lambda *args: False)
    assert app_bundle.bundle_url() is None


def test_the_map_page_loads_the_bundle_alone_or_every_module(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.domain.roles import Role, User
    from app.services import map_page

    user = User(id=1, email="agent@ars.invalid", role=Role.ARS, regions=frozenset({"93"}))
    monkeypatch.setattr(map_page, "bundle_url", lambda: f"{STATIC_PREFIX}/build/app.js")
    html = map_page.render_page(user, csrf_token="t", can_create=False).html
    assert f'<script type="module" src="{STATIC_PREFIX}/build/app.js">' in html
    assert f"{STATIC_PREFIX}/js/main.js" not in html
    monkeypatch.setattr(map_page, "bundle_url", lambda: None)
    html = map_page.render_page(user, csrf_token="t", can_create=False).html
    assert f'<script type="module" src="{STATIC_PREFIX}/js/main.js">' in html
    assert html.count('rel="modulepreload"') == len(map_page.app_modules())


def test_map_bundle_false_makes_the_page_load_the_modules(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from app.domain.roles import Role, User
    from app.services import map_page

    user = User(id=1, email="agent@ars.invalid", role=Role.ARS, regions=frozenset({"93"}))
    monkeypatch.setattr(map_page, "bundle_url", lambda: f"{STATIC_PREFIX}/build/app.js")
    monkeypatch.setenv("MAP_BUNDLE", "false")
    html = map_page.render_page(user, csrf_token="t", can_create=False).html
    assert "/build/app.js" not in html
    assert f'<script type="module" src="{STATIC_PREFIX}/js/main.js">' in html
