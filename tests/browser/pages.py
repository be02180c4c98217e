"""What the browser tests do with the map page: sign in through the login page, move the map,
click a commune where it is on screen, wait for the panel, and read what is painted: the
style VectorGrid gave a commune in every loaded tile, and the pixel of the communes' canvas
at the commune's point (what the user sees)."""

import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from app.db import connect
from app.domain.cpts_colours import PALETTE
from tests.browser.conftest import PASSWORD, VIEWPORT, LiveServer, Recorder, fixture_perimeters

NNBSP = "\u202f"
EDIT_FILL = PALETTE.edit_fill  # app/domain/cpts_palette.json: the perimeter being edited
EDIT_FILL_RGB = tuple(int(EDIT_FILL[i:i + 2], 16) for i in (1, 3, 5))
EDIT_FILL_OPACITY = float(PALETTE.raw["edit"]["opacity"])

# The paint of one commune in the communes' layer: its fill colour in each loaded tile (a
# pattern reads "pattern") and the RGBA pixel of the tile canvas at its point.
_PAINT = """async ([code, lat, lon]) => {
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  const config = window.cptsMap.config;
  const map = window[config.names.map];
  const layer = window[config.names.layers.communes];
  const fills = [];
  for (const tile of Object.values(layer._vectorTiles || {})) {
    const data = tile._features && tile._features[code];
    if (!data) continue;
    const fill = data.feature.options.fillColor;
    fills.push(typeof fill === "string" ? fill.toLowerCase() : "pattern");
  }
  let pixel = null;
  const level = layer._levels && layer._levels[layer._tileZoom];
  const point = map.latLngToContainerPoint([lat, lon]);
  const box = map.getContainer().getBoundingClientRect();
  const x = point.x + box.left;
  const y = point.y + box.top;
  for (const canvas of level ? level.el.querySelectorAll("canvas") : []) {
    const rect = canvas.getBoundingClientRect();
    if (x < rect.left || x >= rect.right || y < rect.top || y >= rect.bottom) continue;
    const sx = canvas.width / rect.width;
    const sy = canvas.height / rect.height;
    pixel = [...canvas.getContext("2d").getImageData(
      Math.floor((x - rect.left) * sx), Math.floor((y - rect.top) * sy), 1, 1).data];
  }
  return { fills, pixel };
}"""


# The RGBA pixels of the communes' tile canvases in a block of screen pixels (row by row).
_TILE_PIXELS = """([x0, y0, width, height]) => {
  const config = window.cptsMap.config;
  const layer = window[config.names.layers.communes];
  const level = layer._levels && layer._levels[layer._tileZoom];
  const canvases = level ? [...level.el.querySelectorAll("canvas")] : [];
  const pixels = [];
  for (let y = y0; y < y0 + height; y += 1) {
    for (let x = x0; x < x0 + width; x += 1) {
      let found = null;
      for (const canvas of canvases) {
        const rect = canvas.getBoundingClientRect();
        if (x < rect.left || x >= rect.right || y < rect.top || y >= rect.bottom) continue;
        found = [...canvas.getContext("2d").getImageData(
          Math.floor((x - rect.left) * canvas.width / rect.width),
          Math.floor((y - rect.top) * canvas.height / rect.height), 1, 1).data];
      }
      pixels.push(found);
    }
  }
  return pixels;
}"""

# The RGBA pixel of the overview's canvas (the CPTS outlines below zoom 8) at a screen point.
_OVERVIEW_PIXEL = """([x, y]) => new Promise((done) => requestAnimationFrame(() => {
  const canvas = document.querySelector("canvas.cpts-overview");
  if (!canvas) return done(null);
  const rect = canvas.getBoundingClientRect();
  done([...canvas.getContext("2d").getImageData(
    Math.floor((x - rect.left) * canvas.width / rect.width),
    Math.floor((y - rect.top) * canvas.height / rect.height), 1, 1).data]);
}))"""


def people(value: int) -> str:
    return f"{value:,}".replace(",", NNBSP)


def commune_facts(server: LiveServer, code: str) -> tuple[int, float, float]:
    """Population and a point inside the commune (latitude, longitude)."""
    with connect(server.settings.database_url) as conn:
        row = conn.execute("SELECT population, ST_Y(point) AS lat, ST_X(point) AS lon "
                           "FROM commune WHERE code = %s", (code,)).fetchone()
    assert row is not None
    return int(row["population"]), float(row["lat"]), float(row["lon"])


def is_edit_pixel(pixel: list[int] | None) -> bool:
    """The edit fill as the canvas holds it (colour with its opacity as alpha)."""
    if pixel is None:
        return False
    *rgb, alpha = pixel
    return (max(abs(value - wanted) for value, wanted in zip(rgb, EDIT_FILL_RGB, strict=True)) <= 3
            and abs(alpha - round(255 * EDIT_FILL_OPACITY)) <= 3)


class MapPage:
    """The page, with the few moves the tests need."""

    def __init__(self, page: Any, server: LiveServer, screenshots: Path) -> None:
        self.page = page
        self.server = server
        self.screenshots = screenshots

    def wait_until(self, expression: str, timeout_s: float = 20.0) -> None:
        """Poll a JavaScript expression (the page's CSP forbids Playwright's in-page eval)."""
        deadline = time.monotonic() + timeout_s
        while not self.page.evaluate(f"() => Boolean({expression})"):
            if time.monotonic() > deadline:
                self.shot("echec-attente")
                raise TimeoutError(f"still false after {timeout_s} s: {expression}")
            time.sleep(0.03)

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.screenshots / f"{name}.png"))

    def map_call(self, script: str) -> Any:
        return self.page.evaluate(
            f"(() => {{ const map = window[window.cptsMap.config.names.map]; "
            f"const communes = window[window.cptsMap.config.names.layers.communes]; "
            f"return {script}; }})()")

    def tiles_drawn(self) -> None:
        self.wait_until("!window[window.cptsMap.config.names.layers.communes].isLoading()")
        self.page.wait_for_timeout(150)

    def view(self, lat: float, lon: float, zoom: int = 12) -> None:
        self.map_call(f"(map.setView([{lat}, {lon}], {zoom}, {{animate: false}}), null)")
        self.tiles_drawn()

    def screen_point(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = self.map_call(
            f"(() => {{ const p = map.latLngToContainerPoint([{lat}, {lon}]); "
            f"const box = map.getContainer().getBoundingClientRect(); "
            f"return [p.x + box.left, p.y + box.top]; }})()")
        return float(x), float(y)

    def click_commune(self, code: str) -> None:
        _, lat, lon = commune_facts(self.server, code)
        self.page.mouse.click(*self.screen_point(lat, lon))

    def tile_pixels(self, x0: int, y0: int, width: int,
                    height: int) -> list[list[int] | None]:
        """The RGBA pixels of the communes' tile canvases in a block of screen pixels, row by
        row (None where no canvas is)."""
        return list(self.page.evaluate(_TILE_PIXELS, [x0, y0, width, height]))

    def overview_pixel(self, x: float, y: float) -> list[int] | None:
        """The RGBA pixel of the overview's canvas at a screen point, after the next frame."""
        pixel = self.page.evaluate(_OVERVIEW_PIXEL, [x, y])
        return None if pixel is None else list(pixel)

    def start_new(self, name: str) -> None:
        """« Nouvelle CPTS » in the edit tab: an empty perimeter named `name` being edited."""
        self.page.click("#tab-edit")
        self.page.click("#edit-new")
        self.page.fill("#edit-new-name", name)
        self.page.click("#edit-new-form button[type=submit]")
        self.page.wait_for_selector("#edit-session:not([hidden])")

    def figures_after(self, action: Callable[[], Any]) -> str:
        """Run `action`, wait for the panel to be recomputed, return the population shown."""
        seq = self.page.get_attribute("#edit-figures", "data-seq") or "0"
        action()
        self.wait_until("document.querySelector('#edit-figures').dataset.state === 'ready' && "
                        f"document.querySelector('#edit-figures').dataset.seq !== '{seq}'")
        return str(self.page.text_content("[data-figure=population]"))

    def paint(self, code: str) -> dict[str, Any]:
        """How the commune is painted now: fills per loaded tile and the pixel at its point."""
        _, lat, lon = commune_facts(self.server, code)
        return dict(self.page.evaluate(_PAINT, [code, lat, lon]))

    def painted_in_edit_colour(self, code: str, timeout_s: float = 3.0) -> bool:
        """Whether the commune is filled with the edit colour, in every tile and on screen
        (waits up to `timeout_s` for the next frames)."""
        deadline = time.monotonic() + timeout_s
        while True:
            paint = self.paint(code)
            if paint["fills"] and set(paint["fills"]) == {EDIT_FILL} and is_edit_pixel(
                    paint["pixel"]):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    def members(self) -> set[str]:
        """The codes of the perimeter being edited, as the panel lists them."""
        return set(self.page.eval_on_selector_all(
            "#edit-members-list li[data-code]", "items => items.map(i => i.dataset.code)"))

    def edit_fills(self, codes: set[str]) -> dict[str, set[str]]:
        """The fills of the given communes in the loaded tiles (communes not loaded: absent)."""
        found = self.page.evaluate("""(codes) => {
          const layer = window[window.cptsMap.config.names.layers.communes];
          const fills = {};
          for (const tile of Object.values(layer._vectorTiles || {})) {
            for (const code of codes) {
              const data = tile._features && tile._features[code];
              if (!data) continue;
              const fill = data.feature.options.fillColor;
              (fills[code] ||= []).push(typeof fill === "string" ? fill.toLowerCase() : "pattern");
            }
          }
          return fills;
        }""", sorted(codes))
        return {code: set(values) for code, values in found.items()}


def log_in(page: Any, email: str) -> None:
    """Fill and send the login page the tab shows."""
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def sign_in(browser: Any, server: LiveServer, recorder: Recorder, email: str,
            path: str = "/", *, bypass_csp: bool = False, **options: Any) -> Any:
    """A new browser tab signed in as `email` through the login page, map ready
    (`bypass_csp`: for a script the test injects, such as axe-core; `options`: other options
    of the browser context, such as a phone's viewport)."""
    options = {"viewport": VIEWPORT, "locale": "fr-FR", "accept_downloads": True,
               "bypass_csp": bypass_csp} | options
    page = browser.new_context(**options).new_page()
    recorder.attach(page)
    page.goto(server.base_url + path)
    assert page.url.startswith(server.base_url + "/login"), "anonymous: to the login page"
    log_in(page, email)
    try:
        page.wait_for_selector("body[data-ready=true]", timeout=30_000)
    except Exception as error:
        raise AssertionError(f"the map did not start: {recorder.errors} {recorder.failed}") \
            from error
    return page


@contextmanager
def signed_in(browser: Any, server: LiveServer, recorder: Recorder, screenshots: Path,
              email: str, *, bypass_csp: bool = False, accept_dialogs: bool = False,
              **options: Any) -> Iterator[MapPage]:
    """The map signed in as `email` in a tab of its own (see `sign_in`), closed at the end;
    `accept_dialogs`: every confirm() the page asks is answered « OK »."""
    page = sign_in(browser, server, recorder, email, bypass_csp=bypass_csp, **options)
    if accept_dialogs:
        page.on("dialog", lambda dialog: dialog.accept())
    try:
        yield MapPage(page, server, screenshots)
    finally:
        page.context.close()


def inner_codes(server: LiveServer, name: str) -> list[str]:
    """The communes of the fixture's CPTS `name` all of whose neighbours are in it too,
    claimed by no other CPTS of the fixture (a point well inside its outline)."""
    perimeters = fixture_perimeters()
    members = set(perimeters[name])
    others = {code for other, codes in perimeters.items() if other != name for code in codes}
    with connect(server.settings.database_url) as conn:
        rows = conn.execute("SELECT code, array_agg(neighbour) AS around FROM unit_adjacency "
                            "WHERE code = ANY(%s) GROUP BY code ORDER BY code",
                            (sorted(members),)).fetchall()
    return [r["code"] for r in rows if set(r["around"]) <= members and r["code"] not in others]


def codes_in(text: str) -> list[str]:
    return re.findall(r"\b(\d[\dAB]\d{3})\b", text)


def make_user(server: LiveServer, role: str, *, regions: tuple[str, ...] = (),
              cpts_ids: tuple[int, ...] = ()) -> str:
    """A new account of `role` with the tests' password; its email."""
    import uuid

    from app.auth.audit import Actor
    from app.auth.policy import Role
    from app.auth.users import create_user

    email = f"{role}-{uuid.uuid4().hex[:8]}@test.cpts.fr"
    with connect(server.settings.database_url) as conn, conn.transaction():
        create_user(conn, email=email, role=Role(role), regions=regions, cpts_ids=cpts_ids,
                    password=PASSWORD, actor=Actor.command_line())
    return email


def open_as(browser: Any, server: LiveServer, recorder: Recorder, screenshots: Path,
            role: str, path: str = "/", **scope: Any) -> MapPage:
    """The map signed in as a new user of `role` (`scope`: their regions or CPTS), at `path`;
    the caller closes its tab (`ui.page.context.close()`)."""
    email = make_user(server, role, **scope)
    return MapPage(sign_in(browser, server, recorder, email, path), server, screenshots)


def create_cpts(api: Any, **body: Any) -> int:
    """A CPTS created by `POST /api/cpts` with `body`, as the user of the API client `api`;
    its id."""
    created = api.post("/api/cpts", json=body)
    assert created.status_code == 201, created.text
    return int(created.json()["id"])
