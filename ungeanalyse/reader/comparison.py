"""The register comparison group as readers see it (notebook 05): the effect tables, the
sentences (the only place a report says *virkning*), the balance table and the notes on who is
left out, from a :class:`ungeanalyse.comparison.ComparisonResult` (or its ``from_dict`` twin).

An estimate built on a participant count under ``privacy.min_cell`` (or a share of them that
would give such a count back) shows the one mark, in every column; the table's note says why
once. Words from the catalogue's ``comparison`` section.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import i18n
from ..comparison import hidden_rows
from ..config import ProjectConfig
from ..fmt import fmt_float, fmt_int, fmt_pct, fmt_signed
from .table import HIDDEN, ReaderTable, hidden_note


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.t(f"comparison.{key}", lang, **params)


def word(key: str, lang: str = "da") -> str:
    """A label of the comparison's tables and figures ('naive', 'smd', 'age', …)."""
    return _t(f"word.{key}", lang)


def _pp(x: float, lang: str) -> str:
    """A difference in percentage points with one decimal and its sign: +10,2, −12,1."""
    return fmt_signed(x, 1, lang)


def _require(masks: dict[str, Any] | None) -> None:
    from ..disclosure import require_masks

    require_masks(masks, "the comparison group")


def windows_text(cfg: ProjectConfig, lang: str = "da") -> str:
    """The outcome windows in words: '6, 12 og 24'."""
    months = [str(m) for m in sorted(cfg.comparison.outcomes)]
    return months[0] if len(months) == 1 else (
        ", ".join(months[:-1]) + f" {_t('and', lang)} {months[-1]}")


def context_label(cfg: ProjectConfig, hid: str, lang: str) -> str:
    """A hypothesis' context as a group of the table ('H1: Påbegynde')."""
    for h in cfg.hypotheses:
        if h.id == hid:
            return f"{h.id}: {h.tr('context_label', lang)}"
    return hid


def _group(r: Any, cfg: ProjectConfig, lang: str) -> str:
    if r["group"] == "all":
        return word("all", lang)
    if r["kind"] == "target_group":
        return cfg.target_groups[r["group"].removeprefix("tg_")].text(lang)
    return context_label(cfg, r["group"], lang)


def effect_table(result: Any, masks: dict[str, Any] | None, cfg: ProjectConfig,
                 months: int | None = None, lang: str = "da") -> ReaderTable:
    """The reader table of effects at one window: naive and adjusted side by side per group,
    disclosure controlled (a group with too few participants, or a share built on too few,
    shows the one mark; the target groups add up to all, so one hidden hides a second)."""
    from ..privacy import suppress_series

    _require(masks)
    k = cfg.privacy.min_cell
    m = months or result.primary_months
    e = result.estimates[result.estimates["months"].eq(m)].reset_index(drop=True)
    hidden = hidden_rows(e, k)
    tg = e["kind"].eq("target_group") & e["method"].eq("ipw")
    if tg.any():
        counts = e.loc[tg, "n_treated"].reset_index(drop=True)
        mask = suppress_series(counts, k).to_numpy()
        hidden |= e["group"].isin(set(e.loc[tg, "group"][mask])).to_numpy()
    rows = []
    for i, r in e.iterrows():
        h = bool(hidden[i])
        rows.append({
            word("group", lang): _group(r, cfg, lang),
            word("method", lang): word(r["method"], lang),
            word("n_t", lang): HIDDEN if h else fmt_int(r["n_treated"], lang),
            word("n_c", lang): fmt_int(r["n_comparison"], lang),
            word("rate_t", lang): HIDDEN if h else fmt_pct(r["treated_rate"], 0, lang),
            word("rate_c", lang): HIDDEN if h else fmt_pct(r["comparison_rate"], 0, lang),
            word("att", lang): HIDDEN if h else _pp(r["att_pp"], lang),
            word("ci", lang): HIDDEN if h else _t("interval", lang, low=_pp(r["ci_low_pp"], lang),
                                                  high=_pp(r["ci_high_pp"], lang)),
            word("evalue", lang): "" if r["method"] == "naive" or h else
            fmt_float(r["e_value"], 1, lang),
        })
    return ReaderTable(pd.DataFrame(rows), _t("caption", lang, months=m), lang,
                       hidden_note(k, lang))


def effect_sentences(result: Any, masks: dict[str, Any] | None, cfg: ProjectConfig,
                     lang: str = "da") -> list[str]:
    """The findings in words: the naive comparison as an association, the adjusted estimates
    as *virkning* with their assumptions named, and the E-value."""
    _require(masks)
    k = cfg.privacy.min_cell
    naive, ipw = result.primary("naive"), result.primary("ipw")
    matching = result.primary("matching")
    if not ipw or hidden_rows(pd.DataFrame([ipw]), k).any():
        return [_t("too_few", lang)]
    return [
        _t("naive", lang, months=result.primary_months, att=_pp(naive["att_pp"], lang)),
        _t("effect", lang, att=_pp(ipw["att_pp"], lang), low=_pp(ipw["ci_low_pp"], lang),
           high=_pp(ipw["ci_high_pp"], lang), n=fmt_int(ipw["n_treated"], lang),
           matching=_pp(matching["att_pp"], lang), assumptions=_t("assumptions", lang)),
        _t("evalue", lang, evalue=fmt_float(ipw["e_value"], 2, lang),
           evalue_ci=fmt_float(ipw["e_value_ci"], 2, lang)),
    ]


def effect_text(result: Any, masks: dict[str, Any] | None, cfg: ProjectConfig,
                lang: str = "da") -> str:
    """The findings as one Markdown block."""
    return "\n\n".join(effect_sentences(result, masks, cfg, lang))


def covariate_label(name: str, cfg: ProjectConfig, lang: str = "da") -> str:
    """A covariate's reader label ('Kommune: Viborg', 'Kontakt med psykiatrien')."""
    if "=" not in name:
        return word(name, lang)
    var, value = name.split("=", 1)
    if var == "target_group" and value in cfg.target_groups:
        value = cfg.target_groups[value].text(lang)
    return f"{word(var, lang)}: {value}"


def balance_hidden(result: Any, min_cell: int) -> np.ndarray:
    """Per covariate: whether its 'before' difference is hidden (the participants' share would
    give a small count away)."""
    from ..privacy import rate_hidden

    b = result.balance
    return np.array([bool(rate_hidden(k, n, min_cell)) if pd.notna(k) else False
                     for k, n in zip(b["treated_k"], b["treated_n"], strict=True)])


def balance_table(result: Any, masks: dict[str, Any] | None, cfg: ProjectConfig,
                  lang: str = "da") -> ReaderTable:
    """SMD per covariate before and after; the 'before' figure is hidden where the
    participants' share is too small to show."""
    _require(masks)
    hide = balance_hidden(result, cfg.privacy.min_cell)
    rows = [{word("covariate", lang): covariate_label(r["covariate"], cfg, lang),
             word("before", lang): HIDDEN if h else fmt_float(r["before"], 2, lang),
             word("after_matching", lang): fmt_float(r["after_matching"], 2, lang),
             word("after_ipw", lang): fmt_float(r["after_ipw"], 2, lang)}
            for (_, r), h in zip(result.balance.iterrows(), hide, strict=True)]
    return ReaderTable(pd.DataFrame(rows), None, lang)


def sample_notes(result: Any, masks: dict[str, Any] | None, cfg: ProjectConfig,
                 lang: str = "da") -> list[str]:
    """Who is not used, how many and why (nothing is left out silently); a count under the
    limit shows the one mark."""
    from .evaluation import count

    _require(masks)
    k = cfg.privacy.min_cell
    out = [_t("note_count", lang, n=count(note["treated"] or note["comparison"], k, lang),
              note=_t(f"note.{note['reason']}", lang)) for note in result.notes]
    for m, w in result.windows.items():
        if w["treated_not_followed"] or w["comparison_not_followed"]:
            out.append(_t("not_followed", lang, months=m,
                          treated=count(w["treated_not_followed"], k, lang),
                          comparison=fmt_int(w["comparison_not_followed"], lang)))
    return out
