"""Compatibility shim: keys and pseudonyms now live in :mod:`ungeanalyse.privacy`."""

from __future__ import annotations

from .privacy import (  # noqa: F401
    DEMO_KEY,
    key_fingerprint,
    load_key,
    name_fingerprints,
    pseudonymise,
)

__all__ = ["DEMO_KEY", "key_fingerprint", "load_key", "name_fingerprints", "pseudonymise"]
