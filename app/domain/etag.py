"""A CPTS version as an HTTP entity tag (RFC 9110, section 8.8.3) and the strict reading of the
`If-Match` header that a change must send back.

The service tags a CPTS with its version number, `"7"`. `If-Match` must hold exactly one such
tag, quoted, optionally weak (`W/"7"`: a proxy that compresses answers may weaken tags). Anything
else — an unbalanced quote, a bare number, `1_0`, `*`, a list of tags — is refused with 400
`invalid_if_match`: a change needs the one version it was made from.
"""

import re

from app.errors import ProblemError

# entity-tag = [ weak ] opaque-tag ; weak = %s"W/" ; opaque-tag = DQUOTE *etagc DQUOTE
# Of all valid tags, the service only ever issues a decimal version without leading zeros.
_VERSION_TAG = re.compile(r'(?:W/)?"(0|[1-9][0-9]{0,17})"')
_MAX_SHOWN = 80


def etag_for(version: int) -> str:
    """The entity tag of a version, as sent in `ETag`."""
    return f'"{version}"'


def parse_if_match(header: str | None) -> int:
    """The version an `If-Match` header names; 428 when absent, 400 when not one tag."""
    if header is None:
        raise ProblemError(428, "if_match_required",
                           "Indiquez la version modifiée dans l'en-tête If-Match (reçue dans "
                           "l'ETag de la lecture).", title="Version requise")
    found = _VERSION_TAG.fullmatch(header.strip(" \t"))
    if found is None:
        shown = header if len(header) <= _MAX_SHOWN else header[:_MAX_SHOWN] + "…"
        raise ProblemError(
            400, "invalid_if_match",
            f"En-tête If-Match illisible : « {shown} ». Il doit reprendre l'ETag reçu à la "
            f"lecture, guillemets compris, par exemple If-Match: \"3\".")
    return int(found.group(1))
