"""What reading an uploaded import file may cost, at most: the bounds every reader checks before
and while it parses, so that a hostile file is refused in well under a second with a stable
code and a French detail, and the memory used does not grow with the file.

The upload itself is capped by `MAX_UPLOAD_BYTES` (`app.api.imports`); the two limits a
deployment may tune are here with their defaults (settings `MAX_XLSX_UNCOMPRESSED_BYTES` and
`MAX_IMPORT_ROWS`); the others are properties of sane files, not of a deployment.
"""

from dataclasses import dataclass

# A national file of ~35,000 `cpts;code_commune` rows is a 1.5 MB CSV, a ~4 MB XLSX sheet once
# decompressed: both limits leave a wide margin.
DEFAULT_MAX_XLSX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_IMPORT_ROWS = 200_000

# XLSX: parts of the archive (a workbook has ~10 to 30), the compression ratio a part above
# RATIO_CHECKED_FROM bytes may show (real sheets: 5 to 20), the size of the small parts read
# whole (workbook, relationships), how deep the XML may nest (a sheet: 6 levels), the longest
# single XML token (a start tag with its attributes, a comment) expat may buffer.
MAX_XLSX_PARTS = 1_000
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM = 1024 * 1024
MAX_XLSX_METADATA_BYTES = 1024 * 1024
MAX_XML_DEPTH = 64
MAX_XML_TOKEN_BYTES = 1024 * 1024
MAX_SHARED_STRINGS = 2_000_000

# Every table: columns read (the useful ones come first), characters kept of a cell (a CPTS name
# has 200 at most, so a longer one is still seen as too long), column names quoted in an error.
MAX_COLUMNS = 1_000
MAX_CELL_CHARS = 256
MAX_LISTED = 20

# GeoJSON: nesting of arrays and objects (a MultiPolygon in a FeatureCollection: 8), length of
# a `crs` name.
MAX_JSON_DEPTH = 64
MAX_CRS_NAME_CHARS = 200


@dataclass(frozen=True)
class UploadLimits:
    """The tunable bounds of one import (from the settings; defaults for the command line)."""

    max_xlsx_uncompressed_bytes: int = DEFAULT_MAX_XLSX_UNCOMPRESSED_BYTES
    max_rows: int = DEFAULT_MAX_IMPORT_ROWS


def shorten(text: str, limit: int = 80) -> str:
    """`text` cut to `limit` characters with an ellipsis, for quoting a value in a message."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def mebibytes(size: int) -> str:
    """`64 Mio`, `1,5 Mio`: a size as people read it."""
    return f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0") + " Mio"


def thousands(count: int) -> str:
    """`200 000`: a count with a narrow no-break space between thousands."""
    return f"{count:,}".replace(",", "\u202f")
