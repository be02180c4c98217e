"""Names and short texts typed by people: spaces tidied, invisible and control characters refused.

A name (of a CPTS, of a token, an e-mail address) is shown in lists, exports and the audit log:
a control character (`\\x07`, `\\x1b`) or a bidirectional override (`\\u202e`) there would ring,
drive a terminal or show a name written backwards. Such characters are refused with one stable
code, `invalid_name_characters`, rather than silently removed, so that what is stored is what
the person sees.
"""

import unicodedata

from app.errors import ProblemError

# Unicode categories never legitimate in a name: controls, formatting characters (the
# bidirectional marks and overrides, zero-width characters), surrogates, private use,
# unassigned code points, line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})
# Whitespace controls that tidying turns into one space (in names) or keeps (in comments).
_LAYOUT = frozenset("\t\n\r")


def refused_characters(text: str, *, keep_line_breaks: bool = False) -> list[str]:
    """The characters of `text` a name may not hold, as `U+XXXX` (in order, without repeats)."""
    allowed = _LAYOUT if keep_line_breaks else frozenset()
    found: dict[str, None] = {}
    for char in text:
        if char not in allowed and unicodedata.category(char) in _REFUSED_CATEGORIES:
            found.setdefault(f"U+{ord(char):04X}", None)
    return list(found)


def check_characters(text: str, what: str, *, keep_line_breaks: bool = False) -> str:
    """`text` unchanged, or a 422 `invalid_name_characters` naming the characters found.
    `what` says what the text is, with its article (« Le nom de la CPTS »)."""
    refused = refused_characters(text, keep_line_breaks=keep_line_breaks)
    if refused:
        shown = ", ".join(refused[:5]) + (" …" if len(refused) > 5 else "")
        raise ProblemError(
            422, "invalid_name_characters",
            f"{what} contient des caractères invisibles ou de contrôle ({shown}) : caractères "
            f"de contrôle, marques de sens d'écriture, espaces de largeur nulle… Retirez-les.",
            errors=[{"code": "invalid_name_characters", "characters": refused[:20]}])
    return text


def clean_name(name: str, what: str, *, max_length: int = 200) -> str:
    """A name with its runs of spaces (tabs, line breaks) made one space and its ends trimmed;
    refused when empty, too long or holding a control or formatting character."""
    check_characters(name, what, keep_line_breaks=True)
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ProblemError(422, "empty_name", f"{what} est vide.")
    if len(cleaned) > max_length:
        raise ProblemError(422, "name_too_long", f"{what} dépasse {max_length} caractères.")
    return cleaned
