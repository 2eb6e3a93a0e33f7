"""The language catalogue: every reader-facing string by key, one YAML file per language.

``t("reason.invalid_cpr", "da")`` gives the Danish wording of a code; parameters fill the
``{placeholders}``: ``t("quality.intro", "en", rows=246, ...)``. Keys are dotted paths into
``da.yml`` and ``en.yml``, which hold the same keys with the same placeholders (a test checks).
Code stores codes (a quarantine reason, a warning, a target position) and words them here.
"""

from __future__ import annotations

import functools
import json
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
    # libyaml's loader where PyYAML has it: the pure-Python one takes half a second per
    # catalogue, which a no-change rerun (the index page) pays
    raw = yaml.load(resources.files(__name__).joinpath(f"{lang}.yml").read_text(encoding="utf-8"),
                    Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
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


def known(lang: str, fallback: str = "da") -> str:
    """``lang`` where there is a catalogue for it, else ``fallback``."""
    return lang if lang in LANGS else fallback


def t_or(key: str, lang: str, default: str) -> str:
    """The text of ``key`` in ``lang``, or ``default`` where the catalogue has no such key (a
    code a config made up, shown as it is)."""
    return t(key, lang) if has(key, lang) else default


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a catalogue text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def code(code: str, **params: Any) -> dict[str, Any]:
    """A message stored as a code with its parameters (a warning in quality.json, a file error,
    a quarantine detail), worded later in the report's language by :func:`word`. A code with a
    dot is a whole key (``file_error.empty``); a parameter may itself be a code, or a list."""
    return {"code": code, **params}


def as_json(message: dict[str, Any]) -> str:
    """A stored message as JSON text (a column of a table holds it so; :func:`word` reads it)."""
    return json.dumps(message, ensure_ascii=False)


def word(message: str | dict[str, Any], lang: str = "da", section: str = "warning") -> str:
    """A stored message in ``lang``: a code dict from :func:`code`, or its JSON text (as the
    quarantine's ``detail`` column holds it), through the catalogue: a code with a dot is a whole
    key, else a key of ``section``. A parameter that is a code is worded the same way; a list is
    joined with ', ' (with '; ' when its items hold commas). Plain text (a message not yet a
    code) is returned as it is."""
    if isinstance(message, str):
        if not message.startswith('{"code"'):
            return message
        message = json.loads(message)
    key = message["code"] if "." in message["code"] else f"{section}.{message['code']}"
    params = {k: _param(v, lang, section) for k, v in message.items() if k != "code"}
    return t(key, lang, **params)


def _param(value: Any, lang: str, section: str) -> Any:
    """A parameter of a stored message as text in ``lang`` (see :func:`word`)."""
    if isinstance(value, dict) and "code" in value:
        return word(value, lang, section)
    if isinstance(value, list):
        items = [str(_param(v, lang, section)) for v in value]
        return ("; " if any(", " in i for i in items) else ", ").join(items)
    return value


def reason(value: str, lang: str = "da") -> str:
    """A quarantine reason code as the report language says it (an unknown code as it is)."""
    key = f"reason.{value}"
    return t(key, lang) if has(key, lang) else value
