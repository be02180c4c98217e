"""What people type to find a commune, and what a commune code looks like."""

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

# INSEE codes: two-digit département (or 2A/2B for Corsica) and three digits; DROM 97x + two.
COMMUNE_CODE = re.compile(r"^(?:\d{2}|2[AB])\d{3}$")
POSTAL_CODE = re.compile(r"^\d{5}$")


def normalise_code(code: str) -> str:
    return code.strip().upper()


def is_commune_code(code: str) -> bool:
    return bool(COMMUNE_CODE.match(normalise_code(code)))


def search_form(text: str) -> str:
    """The same form as SQL `search_form()`: no accents, lower case, words split by spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()
    plain = plain.replace("œ", "oe").replace("æ", "ae")
    return re.sub(r"[^a-z0-9]+", " ", plain).strip()


@dataclass(frozen=True)
class CommuneQuery:
    kind: Literal["code_or_postal", "code", "name"]
    text: str


def classify_query(raw: str) -> CommuneQuery:
    """A five-digit query may be an INSEE code or a postal code; 2A/2B codes are codes."""
    text = raw.strip()
    upper = text.upper()
    if POSTAL_CODE.match(text):
        return CommuneQuery("code_or_postal", text)
    if COMMUNE_CODE.match(upper):
        return CommuneQuery("code", upper)
    return CommuneQuery("name", search_form(text))
