"""Pseudonymisation keys and keyed pseudonyms (HMAC-SHA256). Stopgap until privacy.py lands."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import UserError

DEMO_KEY = b"ungeanalyse-DEMO-KEY-not-secret-never-use-for-real-data"


def load_key(project_id: str, demo: bool, env: Mapping[str, str] | None = None) -> bytes:
    """The project's key: UNGEANALYSE_KEY, UNGEANALYSE_KEY_FILE, ~/.config/ungeanalyse/<id>.key."""
    env = os.environ if env is None else env
    if env.get("UNGEANALYSE_KEY"):
        return env["UNGEANALYSE_KEY"].strip().encode("utf-8")
    path = Path(env["UNGEANALYSE_KEY_FILE"]) if env.get("UNGEANALYSE_KEY_FILE") else (
        Path.home() / ".config" / "ungeanalyse" / f"{project_id}.key")
    if path.exists():
        return path.read_bytes().strip()
    if demo:
        return DEMO_KEY
    raise UserError(f"No pseudonymisation key for {project_id!r}. Create one outside the repo:\n"
                    f"  mkdir -p ~/.config/ungeanalyse && python -c \"import secrets; "
                    f"print(secrets.token_hex(32))\" > ~/.config/ungeanalyse/{project_id}.key")


def pseudonymise(values: pd.Series, key: bytes, length: int = 16) -> pd.Series:
    """HMAC-SHA256 of each value, hex, truncated; NA stays NA."""
    inner = hmac.new(key, digestmod=hashlib.sha256)
    out = np.full(len(values), None, dtype=object)
    arr = values.to_numpy(dtype=object)
    for i, v in enumerate(arr):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            continue
        h = inner.copy()
        h.update(str(v).encode("utf-8"))
        out[i] = h.hexdigest()[:length]
    return pd.Series(out, index=values.index, dtype="string")


def key_fingerprint(key: bytes) -> str:
    """A short, non-reversible id of the key, for provenance footers."""
    return hashlib.sha256(b"fingerprint:" + key).hexdigest()[:12]


def name_fingerprints(names: Iterable[str], key: bytes) -> set[str]:
    """Keyed hashes of full names and 'first last' pairs, for the scanner."""
    out = set()
    for name in names:
        tokens = " ".join(str(name).split()).casefold().split()
        if len(tokens) < 2:
            continue
        out.add(hmac.new(key, " ".join(tokens).encode(), hashlib.sha256).hexdigest()[:16])
        for a, b in zip(tokens, tokens[1:], strict=False):
            out.add(hmac.new(key, f"{a} {b}".encode(), hashlib.sha256).hexdigest()[:16])
    return out
