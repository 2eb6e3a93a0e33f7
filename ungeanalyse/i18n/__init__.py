"""The language catalogue: every reader-facing string by key, one YAML file per language.

``t("reason.invalid_cpr", "da")`` gives the Danish wording of a code; parameters fill the
``{placeholders}``: ``t("quality.intro", "en", rows=246, ...)``. Keys are dotted paths into
``da.yml`` and ``en.yml``, which hold the same keys with the same placeholders (a test checks).
Code stores codes (a quarantine reason, a warning, a target position) and words them here.
"""

from __future__ import annotations

import functools
import string
from importlib import resources
from typing import Any

import yaml

LANGS = ("da", "en")


@functools.cache
def catalogue(lang: str) -> dict[str, str]:
    """The flat catalogue of one language: dotted key → text."""
    if lang not in LANGS:
        raise ValueError(f"lang must be 'da' or 'en', not {lang!r}")
    raw = yaml.safe_load(resources.files(__name__).joinpath(f"{lang}.yml")
                         .read_text(encoding="utf-8"))
    out: dict[str, str] = {}

    def walk(node: Any, prefix: str) -> None:
        for key, value in node.items():
            path = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(value, path + ".")
            else:
                out[path] = str(value)

    walk(raw, "")
    return out


def has(key: str, lang: str = "da") -> bool:
    """Whether the catalogue has ``key``."""
    return key in catalogue(lang)


def t(key: str, lang: str = "da", /, **params: Any) -> str:
    """The text of ``key`` in ``lang``, with ``{placeholders}`` filled from ``params``."""
    text = catalogue(lang)[key]
    return text.format(**params) if params or "{" in text else text


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a catalogue text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def code(code: str, **params: Any) -> dict[str, Any]:
    """A message stored as a code with its parameters (a warning in quality.json), worded
    later in the report's language by :func:`word`."""
    return {"code": code, **params}


def word(message: str | dict[str, Any], lang: str = "da", section: str = "warning") -> str:
    """A stored message in ``lang``: a code dict from :func:`code` through the catalogue's
    ``section``; plain text (a message not yet a code) as it is."""
    if isinstance(message, str):
        return message
    params = {k: v for k, v in message.items() if k != "code"}
    return t(f"{section}.{message['code']}", lang, **params)


def reason(value: str, lang: str = "da") -> str:
    """A quarantine reason code as the report language says it (an unknown code as it is)."""
    key = f"reason.{value}"
    return t(key, lang) if has(key, lang) else value
