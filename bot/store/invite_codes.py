"""Staff invite codes: made at random, kept only as salted scrypt hashes, compared in constant
time."""

import hashlib
import hmac
import re
import secrets

_N, _R, _P = 2**14, 8, 1  # scrypt cost: about 20 ms per check, so guessing is slow as well


def valid_branch(name: str) -> bool:
    """A branch name fits STAFF_INVITE_CODES' `branch=hash` entries: 1-100 characters without
    spaces, commas or '='."""
    return re.fullmatch(r"[^,=\s]{1,100}", name) is not None


def new_code() -> str:
    """A code an admin hands to one branch: 12 characters, easy to type, 60 bits."""
    return secrets.token_urlsafe(9).replace("-", "x").replace("_", "y")


def hash_code(code: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(_normalise(code), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${salt.hex()}${digest.hex()}"


def branch_for(code: str, hashes: dict[str, str]) -> str | None:
    """The branch whose stored hash the code matches, or None. Every hash is checked, so the
    time taken does not tell which branch came close."""
    found = None
    for branch, stored in hashes.items():
        try:
            _, salt, _ = stored.split("$")
            candidate = hash_code(code, bytes.fromhex(salt))
        except ValueError:
            continue
        if hmac.compare_digest(candidate, stored) and found is None:
            found = branch
    return found


def _normalise(code: str) -> bytes:
    return code.strip().encode("utf-8", "replace")
