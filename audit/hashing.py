"""How a person is named where their address must not appear: a keyed hash of the email.

The audit log and the opposition list both use it, so the same person hashes the same way
in both. The key is SUBJECT_HASH_KEY, never the Django secret key.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def normalise_email(email: str) -> str:
    """Return the address as we compare it: trimmed and lower-cased (local part included)."""
    return email.strip().lower()


def subject_hash(email: str) -> str:
    """Return the hex HMAC-SHA256 of the normalised email under SUBJECT_HASH_KEY."""
    key = settings.SUBJECT_HASH_KEY.encode()
    return hmac.new(key, normalise_email(email).encode(), hashlib.sha256).hexdigest()
