"""Random secrets handed to clients (session cookies, API tokens, CSRF tokens) and their digests.

Only digests are stored: a stolen database gives no usable session or token. The secrets are
256-bit random values, so a plain SHA-256 (fast, fit for lookups) is the right digest.
"""

import hashlib
import hmac
import secrets

TOKEN_PREFIX = "cpts_"
DISPLAY_PREFIX_LENGTH = len(TOKEN_PREFIX) + 6


def new_secret() -> str:
    """A URL-safe random value of 256 bits."""
    return secrets.token_urlsafe(32)


def new_api_token() -> str:
    """An API token: recognisable (`cpts_…`) so that secret scanners can spot a leaked one."""
    return TOKEN_PREFIX + new_secret()


def display_prefix(token: str) -> str:
    """The beginning of a token, safe to show in listings to recognise it."""
    return token[:DISPLAY_PREFIX_LENGTH]


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


def same_secret(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison; an absent or empty value never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, if that is what it holds."""
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()
