"""Which data sources a unit has, so that notebooks and texts speak only of what exists.

Survey, steps, quotes and case descriptions are each optional. A notebook declares the unit's
sources once (``declare``); prose in its Markdown cells that needs a source is wrapped in
``<!-- data:steps -->…<!-- /data -->`` (``data:!steps`` for text shown only without it,
``data:steps,survey`` for text that needs both), and the renderer keeps or drops it. In
JupyterLab the comments are invisible and all the prose shows.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from .config import ProjectConfig

SOURCES = ("survey", "steps", "quotes", "cases")
"""The optional sources; ``voices`` is derived (quotes or cases). Participant lists are always."""

MARKER = "ungeanalyse/data-sources"
"""The metadata key of the (empty) output in which a notebook declares its sources."""

_SPAN = re.compile(r"<!--\s*data:([!\w,\s]+?)\s*-->(.*?)<!--\s*/data\s*-->", re.S)

def data_sources(cfg: ProjectConfig, unit: str = "all",
                 tables: dict[str, pd.DataFrame] | None = None,
                 project: dict[str, pd.DataFrame] | None = None) -> list[str]:
    """The optional sources with data for a unit, in ``SOURCES`` order, plus ``voices`` when it
    has quotes or case descriptions, then ``project_<source>`` for each the whole project has
    (so a delprojekt's report can tell "none here" from "none delivered"); ``tables`` are the
    unit's clean tables and ``project`` the whole project's (read when None)."""
    from .errors import UserError
    from .results import load_unit

    try:
        if tables is None:
            tables = load_unit(cfg, unit)
        if project is None:
            project = tables if unit == "all" else load_unit(cfg, "all")
    except UserError:  # no clean tables (text rendered from saved results): the config's
        found = _configured(cfg)
        return found + [f"project_{s}" for s in found]
    return _found(cfg, tables) + [f"project_{s}" for s in _found(cfg, project)]


def _found(cfg: ProjectConfig, tables: dict[str, pd.DataFrame]) -> list[str]:
    out = []
    if cfg.survey.scales and len(tables.get("survey_responses", ())):
        out.append("survey")
    if cfg.steps.ladder and len(tables.get("steps", ())):
        out.append("steps")
    quotes = tables.get("quotes")
    kinds: set[str] = set()
    if quotes is not None and len(quotes) and "source_type" in quotes.columns:
        kinds = set(quotes["source_type"].dropna().astype(str))
    if kinds & {"ung", "partner"}:
        out.append("quotes")
    if "case" in kinds:
        out.append("cases")
    if kinds:
        out.append("voices")
    return out


def configured(cfg: ProjectConfig) -> list[str]:
    """The sources the config declares files for (when the clean tables are not at hand),
    each also as the project's (``project_<source>``)."""
    found = _configured(cfg)
    return found + [f"project_{s}" for s in found]


def _configured(cfg: ProjectConfig) -> list[str]:
    """The sources the config declares files for (when the clean tables are not at hand)."""
    out = [name for name, files, setting in (("survey", cfg.files.survey, cfg.survey.scales),
                                             ("steps", cfg.files.steps, cfg.steps.ladder))
           if files and setting]
    return out + (["quotes", "cases", "voices"] if cfg.files.quotes else [])


def _join(words: list[str], last: str) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + f" {last} {words[-1]}"


def method_sentence(sources: list[str], lang: str = "da") -> str:
    """The method section's data sentence: exactly the sources there are, then the ones the
    project has not supplied and the ones it has but not for this unit (one sentence each)."""
    from . import i18n

    def t(key: str, **params: str) -> str:
        return i18n.t(f"evaluation.sources.{key}", lang, **params)

    have = ["participants", *[s for s in SOURCES if s in sources]]
    text = t("data", sources=_join([t(f"have.{s}") for s in have], t("and")))
    # without project_* entries (an older caller) a missing source counts as not delivered
    marked = any(s.startswith("project_") for s in sources)
    absent = [s for s in SOURCES if s not in sources]
    none = [t(f"missing.{s}") for s in absent if not marked or f"project_{s}" not in sources]
    here = [t(f"missing.{s}") for s in absent if marked and f"project_{s}" in sources]
    if none:
        text += t("none_delivered", sources=_join(none, t("or")))
    if here:
        text += t("none_here", sources=_join(here, t("or")))
    return text


def voices_missing_sentence(sources: list[str], lang: str = "da") -> str:
    """Where a reader looks for the voices next to the figures and there are none: why."""
    from . import i18n

    if "voices" in sources:
        return ""
    key = "voices_none_here" if "project_voices" in sources else "voices_none"
    return i18n.t(f"evaluation.sources.{key}", lang)


def declare(sources: list[str]) -> None:
    """Record a notebook's sources in its output, for the renderer (shows nothing)."""
    from IPython.display import display

    display({"text/plain": ""}, raw=True, metadata={MARKER: list(sources)})


def declared(nb: Any) -> set[str] | None:
    """The sources a notebook declared, or None when it declared none (then all prose stays)."""
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            meta = out.get("metadata", {}) or {}
            if MARKER in meta:
                return set(meta[MARKER])
    return None


def is_marker(output: Any) -> bool:
    """True for the output ``declare`` wrote."""
    return MARKER in (output.get("metadata", {}) or {})


def filter_markdown(text: str, sources: set[str] | None) -> str:
    """Markdown with each ``<!-- data:… -->`` span kept (without its comments) when the sources
    meet its condition, dropped otherwise; unchanged spans' text when ``sources`` is None."""
    def visit(m: re.Match[str]) -> str:
        if sources is None:
            return m.group(2)
        for need in (w.strip() for w in m.group(1).split(",")):
            if need.startswith("!") and need[1:] in sources:
                return ""
            if need and not need.startswith("!") and need not in sources:
                return ""
        return m.group(2)

    return _SPAN.sub(visit, text)
