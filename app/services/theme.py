"""The two looks of the pages, chosen by the setting `UI_THEME` (`app.settings.Settings`).

- `cpts` (default): the project's own look (`app/web/css/map.css`, `app/web/login.css`): sober,
  accessible, without the State's identity — no Marianne, no « République Française » block,
  and no file of the DSFR served to the browser or named in a page.
- `dsfr`: the Système de Design de l'État (npm `@gouvfr/dsfr`, installed in `app/web/vendor/dsfr/`
  by `app.services.map_assets`), for State websites only: its terms of use forbid it to
  territorial administrations and private actors, and a State administration needs an approval.

Each page's markup is written once. A theme is: the style sheets added to a page, the header and
footer partials (`app/web/partials/header-<theme>.html`, `footer-<theme>.html`), and for the DSFR
the DSFR's classes on the controls (`fr-btn`, `fr-input`, …) — added here to the pages the
server writes, and by `app/web/js/theme.js` to the map's panel, including what its modules build
later.
"""

import re
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib import resources
from string import Template

from app.services.map_assets import DSFR_CSS, STATIC_PREFIX

DEFAULT_THEME = "cpts"
# The DSFR files and its adaptations are public (the login and accessibility pages need them
# before any sign-in): served by app.api.theme_assets under this prefix, never under /static.
THEME_PREFIX = "/theme"
DSFR_STYLE_SHEET = f"{THEME_PREFIX}/vendor/{DSFR_CSS}"
DSFR_ADAPTATIONS = f"{THEME_PREFIX}/css/theme-dsfr.css"
THEME_SCRIPT = "theme.js"  # app/web/js/theme.js, loaded in the DSFR theme only


@dataclass(frozen=True)
class Theme:
    name: str
    before_page_css: tuple[str, ...]  # style sheets loaded before the page's own
    after_page_css: tuple[str, ...]  # loaded after it (the theme's adaptations win)
    page_css: tuple[str, ...]  # the plain pages (login, logout, accessibility)
    scripts: tuple[str, ...]  # ES modules added to the map page
    dsfr: bool


THEMES: dict[str, Theme] = {
    "cpts": Theme("cpts", (), (), ("/login.css",), (), dsfr=False),
    "dsfr": Theme("dsfr", (DSFR_STYLE_SHEET,), (DSFR_ADAPTATIONS,),
                  (DSFR_STYLE_SHEET, DSFR_ADAPTATIONS),
                  (f"{STATIC_PREFIX}/js/{THEME_SCRIPT}",), dsfr=True),
}


def theme(name: str | None) -> Theme:
    return THEMES.get(name or DEFAULT_THEME, THEMES[DEFAULT_THEME])


@cache
def _partial(name: str) -> Template:
    return Template((resources.files("app") / "web" / "partials" / name).read_text(
        encoding="utf-8"))


def partial(current: Theme, part: str, **values: str) -> str:
    """The theme's `part` (header, footer, header-page, …) with its `$values` filled in."""
    return _partial(f"{part}-{current.name}.html").substitute(values)


def footer(current: Theme, part: str, legal_notice_url: str = "") -> str:
    """The theme's footer (`footer` of the map's panel, `footer-page` of the other pages), with
    « Mentions légales » when the deployment gives its legal notice (UI_LEGAL_NOTICE_URL)."""
    item = ""
    if legal_notice_url:
        if current.dsfr:
            item = ('<li class="fr-footer__bottom-item"><a class="fr-footer__bottom-link" '
                    f'href="{escape(legal_notice_url)}">Mentions légales</a></li>')
        else:
            item = f'<li><a href="{escape(legal_notice_url)}">Mentions légales</a></li>'
    return partial(current, part, legal_notice=item)


def style_links(urls: tuple[str, ...]) -> str:
    return "".join(f'<link rel="stylesheet" href="{url}">\n' for url in urls)


# --- the DSFR's classes on the controls of a page written by the server ----------------------
# The same mapping as app/web/js/theme.js (which applies it in the browser to the map's panel).
CONTROL_CLASSES = {"button": "fr-btn", "select": "fr-select", "textarea": "fr-input",
                   "input": "fr-input", "label": "fr-label", "table": "fr-table"}
_PLAIN_INPUTS = ("hidden", "checkbox", "radio", "submit", "button")
_CONTROL = re.compile(r"<(button|select|textarea|input|label|table)\b([^>]*)>", re.IGNORECASE)
_CLASS = re.compile(r'\sclass="([^"]*)"')
_TYPE = re.compile(r'\stype="([^"]*)"')


def _with_class(match: re.Match[str]) -> str:
    tag, attributes = match.group(1).lower(), match.group(2)
    kind = _TYPE.search(attributes)
    if tag == "input" and kind is not None and kind.group(1) in _PLAIN_INPUTS:
        return match.group(0)
    css_class = CONTROL_CLASSES[tag]
    present = _CLASS.search(attributes)
    if present is None:
        return f'<{match.group(1)} class="{css_class}"{attributes}>'
    if any(name.startswith("fr-") for name in present.group(1).split()):
        return match.group(0)
    attributes = (attributes[:present.start(1)] + f"{css_class} " + attributes[present.start(1):])
    return f"<{match.group(1)}{attributes}>"


_NOTICE = re.compile(r'class="notice (error|warn|ok|info)"')
_ALERT_KINDS = {"error": "error", "warn": "warning", "ok": "success", "info": "info"}


def themed_html(current: Theme, html: str) -> str:
    """A server-written page in the theme: in the DSFR, each button, field, label and table
    with its DSFR class, each notice as the DSFR's alert of its kind."""
    if not current.dsfr:
        return html
    html = _NOTICE.sub(lambda match: f'class="notice {match.group(1)} fr-alert '
                                     f'fr-alert--{_ALERT_KINDS[match.group(1)]} fr-alert--sm"',
                       html)
    return _CONTROL.sub(_with_class, html)


# --- the pages the server writes outside the map (login, logout, accessibility) ---------------

@cache
def _page_template(name: str) -> Template:
    return Template((resources.files("app") / "web" / name).read_text(encoding="utf-8"))


def plain_page(current: Theme, name: str, legal_notice_url: str = "", **values: str) -> str:
    """`app/web/<name>` with the theme's style sheets, header and footer around its content."""
    html = _page_template(name).substitute(
        styles=style_links(current.page_css), header=partial(current, "header-page"),
        footer=footer(current, "footer-page", legal_notice_url), **values)
    return themed_html(current, html)
