"""Config texts in two languages: one value per reader-facing text.

In a project config a text a reader sees (a project or delprojekt name, a label, a hypothesis
title, a theory of change) is either a plain string, Danish and used for both languages until an
English one is given, or a pair::

    name: Verdensmester i høretab            # Danish, shown in English reports too
    name: {da: Verdensmester i høretab, en: World champions of hearing loss}

In code such a value is a :class:`Text`: the Danish text itself (a ``str``, so it prints, compares
and joins as before) that also carries the English one in ``.en``. Read it in a report language
with the one accessor :func:`text`::

    text(cfg.delprojekt("hoeretab").name, lang)   # 'World champions of hearing loss' in English

:func:`text` also takes a plain string and the ``{"da": ..., "en": ...}`` dict a text becomes in
saved results (``Text.pair()``, ``model_dump()``), so result objects that carry a config text
round-trip through JSON without losing a language.

The older form, a ``<field>_en`` key beside the Danish one (``title`` + ``title_en``), still
loads: :func:`fold_english` reads it into the pair, and ``ungeanalyse migrate`` (:func:`migrate`)
rewrites a config file into the pair form, keeping its comments.
"""

from __future__ import annotations

import functools
import re
import types
from collections.abc import Callable, Mapping
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic_core import core_schema

LANGS = ("da", "en")


class Text(str):
    """A config text: the Danish text (the string itself) and the English one (``en``, None
    until given)."""

    en: str | None

    def __new__(cls, da: str, en: str | None = None) -> Text:
        self = super().__new__(cls, da)
        self.en = en or None
        return self

    @property
    def da(self) -> str:
        """The Danish text, as a plain string."""
        return str.__str__(self)

    def pair(self) -> str | dict[str, str]:
        """The text as the config writes it: the plain string, or ``{da, en}`` when there is
        an English text (also how ``model_dump`` and saved results hold it)."""
        return {"da": self.da, "en": self.en} if self.en else self.da

    def __reduce__(self) -> tuple[Any, ...]:
        return (Text, (self.da, self.en))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Text):
            return self.da == other.da and self.en == other.en
        return str.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    __hash__ = str.__hash__

    def __repr__(self) -> str:
        return f"Text({self.da!r}, en={self.en!r})" if self.en else f"Text({self.da!r})"

    @classmethod
    def parse(cls, value: Any) -> Text:
        """A Text from a config value: a string, a ``{da, en}`` mapping or a Text; a
        ValueError (worded for the config's reader) for anything else."""
        if isinstance(value, Text):
            return value
        if isinstance(value, str):
            return cls(value)
        if isinstance(value, Mapping):
            unknown = sorted(str(k) for k in value if k not in LANGS)
            if unknown:
                raise ValueError(f"unknown language {', '.join(map(repr, unknown))} in the pair; "
                                 "a text is a string or {da: ..., en: ...}")
            da, en = value.get("da"), value.get("en")
            if not isinstance(da, str):
                raise ValueError("the pair needs the Danish text as a string, e.g. "
                                 "{da: Fast kontaktperson, en: Fixed contact person}"
                                 if da is None else
                                 f"da: {da!r} is not a text; write it as a string")
            if en is not None and not isinstance(en, str):
                raise ValueError(f"en: {en!r} is not a text; write it as a string")
            return cls(da, en)
        raise ValueError(f"{value!r} is not a text: write a string, or a pair "
                         "{da: ..., en: ...}")

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls.parse, serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: v.pair() if isinstance(v, Text) else v))


def _represent(dumper: yaml.SafeDumper, value: Text) -> yaml.Node:
    return dumper.represent_data(value.pair())


for _dumper in (yaml.SafeDumper, yaml.Dumper):  # a Text dumps as the config writes it
    _dumper.add_representer(Text, _represent)


def text(value: Text | str | Mapping[str, str] | None, lang: str = "da") -> str:
    """A config text in the report language: the English text when there is one and ``lang``
    is ``en``, else the Danish. Takes a Text, a plain string (the same in both languages), a
    saved ``{da, en}`` dict, or None (an empty text)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be 'da' or 'en', not {lang!r}")
    if value is None:
        return ""
    if isinstance(value, Mapping):
        value = Text.parse(value)
    texts = {"da": str.__str__(value), "en": getattr(value, "en", None)}
    return texts[lang] or texts["da"]


def english(field: str) -> property:
    """The older ``<field>_en`` attribute as a property over the pair, kept while the code that
    reads it moves to :func:`text`: reading gives the English text or None, writing sets it."""

    def get(self: Any) -> str | None:
        return getattr(getattr(self, field), "en", None)

    def put(self: Any, value: str | None) -> None:
        setattr(self, field, Text(str.__str__(getattr(self, field) or ""), value))

    return property(get, put, doc=f"The English text of ``{field}`` (older name; use "
                                  f"``text({field}, lang)``).")


def _holds_text(annotation: Any) -> bool:
    """Whether a field's type is a Text or an optional Text."""
    if annotation is Text:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return Text in get_args(annotation)
    return False


@functools.cache
def text_fields(model: type) -> tuple[str, ...]:
    """The fields of a pydantic model that hold a config text."""
    return tuple(name for name, f in model.model_fields.items() if _holds_text(f.annotation))


def fold_english(model: type, data: Any) -> Any:
    """Read the older ``<field>_en`` keys of a config mapping into ``{da, en}`` pairs (a
    pydantic ``before`` validator); giving the English text both ways is an error."""
    if not isinstance(data, Mapping):
        return data
    fields = [f for f in text_fields(model) if f"{f}_en" in data]
    if not fields:
        return data
    data = dict(data)
    for name in fields:
        en = data.pop(f"{name}_en")
        value = data.get(name)
        if isinstance(value, Mapping) or (isinstance(value, Text) and value.en):
            if en is None or (isinstance(value, Text) and value.en == en):
                continue
            raise ValueError(f"{name}_en: the English text is also in the pair {name}: "
                             "give it once, as {da: ..., en: ...}")
        if en is not None:
            data[name] = {"da": value, "en": en} if value is not None else {"en": en}
    return data


# -- rewriting a config file into the pair form ---------------------------------------------

_KEY = re.compile(r"^(?P<indent>\s*)(?P<dash>- )?(?P<key>[A-Za-z_][\w]*):(?P<rest>.*)$")


def _block(lines: list[str], i: int) -> int:
    """The index after the value that starts at line ``i`` (its continuation lines are those
    indented deeper than the key, and blank lines between them)."""
    m = _KEY.match(lines[i])
    assert m is not None
    depth = len(m["indent"]) + (2 if m["dash"] else 0)
    j = i + 1
    while j < len(lines):
        stripped = lines[j].strip()
        if stripped and (len(lines[j]) - len(lines[j].lstrip())) <= depth:
            break
        j += 1
    while j > i + 1 and not lines[j - 1].strip():
        j -= 1
    return j


_FLOW = re.compile(r"^(?P<head>\s*(?:- )?(?:[\w]+:\s+)?)(?P<body>\{.*)$")


def _flow_span(lines: list[str], i: int) -> int:
    """The index after a flow mapping that opens on line ``i`` and may go on over the next
    lines (until its braces balance)."""
    depth, j = 0, i
    while j < len(lines):
        depth += lines[j].split("#")[0].count("{") - lines[j].split("#")[0].count("}")
        j += 1
        if depth <= 0:
            return j
    return i + 1


def _flow_pairs(lines: list[str], load: Callable[[str], Any], dump: Callable[[Any], str]
                ) -> list[str]:
    """A flow mapping (``- {id: x, label: A, label_en: B}``, perhaps over several lines) with
    its ``_en`` keys folded into pairs, wrapped under its opening brace; else the lines as
    they are."""
    m = _FLOW.match(lines[0])
    joined = " ".join(line.strip() for line in lines)
    if m is None or "_en:" not in joined:
        return lines
    try:
        mapping = load(joined[len(m["head"].strip()):] if not m["head"].strip() else
                       joined[len(m["head"].strip()):].strip())
    except Exception:  # not a mapping after all: leave the lines as they are
        return lines
    if not isinstance(mapping, dict) or not any(
            isinstance(k, str) and k.endswith("_en") and k[:-3] in mapping for k in mapping):
        return lines
    items = []
    for key, value in mapping.items():
        if isinstance(key, str) and key.endswith("_en") and key[:-3] in mapping:
            continue
        en = mapping.get(f"{key}_en")
        items.append(f"{dump({key: {'da': value, 'en': en} if en else value})[1:-1]}")
    out, line = [], m["head"] + "{"
    indent = " " * len(line)
    for n, item in enumerate(items):
        piece = item + ("}" if n == len(items) - 1 else ",")
        if len(line) + len(piece) + 1 > 99 and line.strip() not in ("{", "- {"):
            out.append(line.rstrip())
            line = indent + piece
        else:
            line += ("" if line.endswith("{") else " ") + piece
    return [*out, line]


def migrate(source: str) -> str:
    """A config's YAML text with every ``<key>_en`` beside a ``<key>`` folded into a pair
    (``<key>: {da: ..., en: ...}``), comments and layout kept. Keys in block style become::

        name:
          da: Verdensmester i høretab
          en: World champions of hearing loss
    """
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    def load(s: str) -> Any:
        return yaml.load(s, Loader=loader)

    def dump(v: Any) -> str:
        return yaml.safe_dump(v, default_flow_style=True, allow_unicode=True, sort_keys=False,
                              width=10_000).strip()

    raw = source.splitlines()
    lines: list[str] = []
    i = 0
    while i < len(raw):
        if _FLOW.match(raw[i]) and not raw[i].lstrip().startswith("#"):
            end = _flow_span(raw, i)
            lines += _flow_pairs(raw[i:end], load, dump)
            i = end
        else:
            lines.append(raw[i])
            i += 1
    out: list[str] = []
    i = 0
    while i < len(lines):
        m = _KEY.match(lines[i])
        if m is None or m["key"].endswith("_en"):
            out.append(lines[i])
            i += 1
            continue
        end = _block(lines, i)
        partner = _find_english(lines, m, end)
        if partner is None:
            scalar = m["rest"].split(" #")[0].strip()
            out.extend(lines[i:end] if scalar else lines[i:i + 1])  # a mapping: look inside
            i = end if scalar else i + 1
            continue
        start_en, end_en = partner
        out.extend(_as_pair(lines, i, end, m, "da"))
        out.extend(_as_pair(lines, start_en, end_en, _KEY.match(lines[start_en]), "en"))
        del lines[start_en:end_en]  # the keys between the two stay where they were
        i = end
    return "\n".join(out) + ("\n" if source.endswith("\n") else "")


def _find_english(lines: list[str], m: re.Match[str], end: int) -> tuple[int, int] | None:
    """The ``<key>_en`` sibling after a key (same indent, within its mapping), as a span."""
    indent = len(m["indent"]) + (2 if m["dash"] else 0)
    j = end
    while j < len(lines):
        other = _KEY.match(lines[j])
        stripped = lines[j].strip()
        if not stripped or stripped.startswith("#"):
            j += 1
            continue
        here = len(lines[j]) - len(lines[j].lstrip())
        if other is None or here != indent or other["dash"]:
            return None
        if other["key"] == f"{m['key']}_en":
            return j, _block(lines, j)
        j = _block(lines, j)
    return None


def _as_pair(lines: list[str], start: int, end: int, m: re.Match[str] | None, lang: str
             ) -> list[str]:
    """The value of lines[start:end] as the ``da:`` or ``en:`` half of a block pair."""
    assert m is not None
    indent = " " * (len(m["indent"]) + (2 if m["dash"] else 0))
    head = [f"{m['indent']}{m['dash'] or ''}{m['key']}:"] if lang == "da" else []
    rest = m["rest"]
    body = [f"{indent}  {lang}:{rest}"]
    body += [("  " + line) if line.strip() else line for line in lines[start + 1:end]]
    return head + body
