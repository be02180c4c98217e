"""Password hashing (argon2id) and the few rules a new password must follow."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.errors import ProblemError

MIN_LENGTH = 12
MAX_LENGTH = 1024

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _decoy_hash() -> str:
    """A hash to verify against when the account does not exist, so both cases take as long."""
    return _hasher.hash("decoy password for unknown accounts")


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches; always spends the time of one verification."""
    try:
        matches = _hasher.verify(password_hash or _decoy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    return matches and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def check_new_password(password: str, email: str) -> None:
    """Refuse a password that is too short, too long, or the e-mail address itself."""
    if len(password) < MIN_LENGTH:
        raise ProblemError(422, "weak_password",
                           f"Le mot de passe doit compter au moins {MIN_LENGTH} caractères.")
    if len(password) > MAX_LENGTH:
        raise ProblemError(422, "weak_password",
                           f"Le mot de passe ne peut dépasser {MAX_LENGTH} caractères.")
    if password.strip().lower() in (email.lower(), email.split("@")[0].lower()):
        raise ProblemError(422, "weak_password",
                           "Le mot de passe ne peut pas être l'adresse électronique.")
