"""Who a rater is: a name compared the way people read it, and a secret only their browser holds.

"Ana", " ana " and "A\u200bna" (a zero-width space inside) are one rater: names are NFKC
normalised, case-folded, their spaces collapsed and their invisible format characters
(Unicode category Cf) dropped. A typed name is claimed by the first browser that joins with
it: that browser gets a random secret, and the database keeps only its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata

MAX_NAME_CHARS = 100
KEY_CHARS = 200  # arena_raters.name_key


def clean_name(text: str | None) -> str:
    """The name as shown: NFKC, no invisible format characters, single spaces, no outer spaces."""
    normal = unicodedata.normalize("NFKC", text or "")
    visible = "".join(ch for ch in normal if unicodedata.category(ch) != "Cf")
    return " ".join(visible.split())


def name_key(text: str | None) -> str:
    """The name as compared: ``clean_name`` case-folded (and normalised again, as folding may undo it)."""
    return unicodedata.normalize("NFKC", clean_name(text).casefold())[:KEY_CHARS]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def secret_matches(secret: str | None, stored_hash: str | None) -> bool:
    if not secret or not stored_hash:
        return False
    return hmac.compare_digest(secret_hash(str(secret)), stored_hash)
