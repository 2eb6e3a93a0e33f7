"""The business case (SØM) as readers see it: the evaluation's section, the pixi's headline
and note, and the tornado plot's input, from a :class:`ungeanalyse.business_case.BusinessCase`
(or its ``from_dict`` twin from a saved ``business_case.json``). Words from the catalogue's
``business_case`` section.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import i18n
from ..config import ProjectConfig
from ..fmt import fmt_float, fmt_int, fmt_kr, fmt_pct
from ..texts import text
from .table import HIDDEN


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.t(f"business_case.{key}", lang, **params)


def _reason(case: Any, lang: str) -> str:
    """The scenario's reason (a config text) in the report language."""
    from ..texts import Text, text

    return text(Text(case.scenario_reason or "", case.scenario_reason_en), lang)


def _number(x: float, lang: str) -> str:
    """1 decimal, or none for a whole number (24, not 24,0)."""
    return fmt_int(x, lang) if abs(x - round(x)) < 0.05 else fmt_float(x, 1, lang)


def share(x: float, lang: str = "da") -> str:
    """A percent with a decimal only where it matters: 25 %, 12,5 %."""
    return fmt_pct(x, 0 if abs(100 * x - round(100 * x)) < 0.05 else 1, lang)


def _pp(x: float, lang: str) -> str:
    return _t("pp", lang, value=fmt_float(x, 1, lang))


def _calendar(case: Any, year: int) -> str:
    return f" ({case.base_year + year})" if case.base_year else ""


def _inline(label: str) -> str:
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


# -- the tornado -------------------------------------------------------------------------------


def parameter_label(parameter: str, case: Any, lang: str = "da") -> str:
    """A sensitivity parameter's code ('price:kontanthjaelp') as the report names it."""
    if parameter.startswith("price:"):
        pid = parameter.removeprefix("price:")
        price = next((p for p in case.prices if p["id"] == pid), {"label": pid})
        return _t("parameter.price", lang, label=text(price["label"], lang))
    return _t(f"parameter.{parameter}", lang)


def _value_text(parameter: str, value: float, lang: str) -> str:
    """A parameter's low or high value as the plot and the text write it."""
    if parameter == "effect":
        return _pp(value, lang)
    if parameter in ("scenario_share", "discount_rate"):
        return share(value, lang)
    if parameter == "horizon_years":
        return _t("years", lang, n=int(value))
    return fmt_kr(value, lang)


def tornado_input(case: Any, lang: str = "da") -> pd.DataFrame:
    """The tornado plot's input: per assumption (widest swing first) its label, the low and
    high values as text, and the net present value at each."""
    t = case.tornado
    return pd.DataFrame({
        "parameter": t["parameter"],
        "label": [parameter_label(p, case, lang) for p in t["parameter"]],
        "low_text": [_value_text(p, v, lang) for p, v in zip(t["parameter"], t["low"],
                                                           strict=True)],
        "high_text": [_value_text(p, v, lang) for p, v in zip(t["parameter"], t["high"],
                                                            strict=True)],
        "npv_low": t["npv_low"], "npv_high": t["npv_high"],
    })


def figure_words(lang: str = "da") -> dict[str, str]:
    """The tornado plot's legend and axis."""
    return {k: _t(f"figure.{k}", lang) for k in ("low", "high", "base", "break_even", "axis")}


def tornado_sentence(case: Any, lang: str = "da") -> str:
    """What the result is most sensitive to, and where the net present value changes sign."""
    t = tornado_input(case, lang)
    if not len(t):
        return ""
    top = t.iloc[0]
    lo, hi = sorted((top["npv_low"], top["npv_high"]))
    out = _t("sensitive", lang, label=_inline(top["label"]), low=fmt_kr(lo, lang),
             high=fmt_kr(hi, lang), low_value=top["low_text"], high_value=top["high_text"])
    flips = [r.label for r in t.itertuples() if min(r.npv_low, r.npv_high) < 0
             < max(r.npv_low, r.npv_high)]
    if flips:
        names = [_inline(f) for f in flips]
        joined = names[0] if len(names) == 1 else (
            ", ".join(names[:-1]) + f" {_t('and', lang)} {names[-1]}")
        out += _t("flips_one" if len(flips) == 1 else "flips_many", lang, labels=joined)
    return out


# -- the section -------------------------------------------------------------------------------


def break_even_text(case: Any, lang: str = "da") -> str:
    """One sentence: the year the investment has paid back its cost, or that it has not."""
    year = case.break_even_year
    if year is None:
        return _t("break_even.none", lang, h=case.horizon_years)
    return _t("break_even.year", lang, year=year, calendar=_calendar(case, year))


def headline(case: Any, lang: str = "da") -> str:
    """The pixi's headline cell: break-even and net present value, marked as a scenario."""
    year, h = case.break_even_year, case.horizon_years
    when = (_t("headline.paid", lang, year=year, calendar=_calendar(case, year))
            if year is not None else _t("headline.not_paid", lang, h=h))
    return _t("headline.text", lang, when=when, npv=fmt_kr(case.npv, lang), h=h,
              kind=_t(f"headline.{case.mode}", lang))


def _basis(case: Any, lang: str) -> str:
    extra = _number(case.extra, lang)
    if case.mode == "effect":
        e = case.effect
        return _t("basis_effect", lang, source=f" ({e.label})" if e.label else "",
                  pp=_pp(e.pp, lang), low=fmt_float(e.ci_low, 1, lang),
                  high=fmt_float(e.ci_high, 1, lang), extra=extra,
                  n=fmt_int(case.n_participants, lang))
    reason = _reason(case, lang)
    return _t("basis_scenario", lang, share=share(case.scenario_share, lang),
              goal_met=fmt_int(case.goal_met, lang), reason=f" {reason}" if reason else "",
              extra=extra)


def _cost(case: Any, lang: str) -> str:
    n = case.n_participants
    return _t("cost", lang, cost=fmt_kr(case.cost_kr, lang),
              source=_t("cost_source", lang, source=case.cost_source) if case.cost_source
              else "", per_participant=fmt_kr(case.cost_per_participant, lang),
              n=fmt_int(n, lang), h=case.horizon_years, rate=share(case.discount_rate, lang),
              pv=fmt_kr(case.pv_gains, lang),
              pv_per_participant=fmt_kr(case.pv_gains / n if n else None, lang),
              npv=fmt_kr(case.npv, lang), break_even=break_even_text(case, lang))


def _md_table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    align = ["---:" if i in right else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _payers(case: Any, lang: str) -> str:
    total = case.pv_gains
    rows = [[_t(f"payer.{k}", lang), fmt_kr(v, lang),
             fmt_pct(v / total, 0, lang) if total else HIDDEN]
            for k, v in case.pv_by_payer.items() if v]
    rows.append([_t("total", lang), f"**{fmt_kr(total, lang)}**",
                 fmt_pct(1, 0, lang) if total else HIDDEN])
    header = [_t(f"payers_header.{k}", lang) for k in ("who", "gain", "share")]
    return _t("payers", lang) + "\n\n" + _md_table(header, rows, {1, 2})


def _prices(case: Any, lang: str) -> str:
    rows = []
    for p in case.prices:
        label = text(p["label"], lang) + (" *" if p.get("illustrative") else "")
        span = (_t("span", lang, first=p["start_year"], last=p["start_year"] + p["years"] - 1)
                if p["years"] else _t("span_open", lang, first=p["start_year"]))
        rows.append([label, _t(f"payer.{p['payer']}", lang), fmt_kr(p["amount_kr"], lang), span,
                     p["source"]])
    header = [_t(f"prices_header.{k}", lang) for k in ("gain", "who", "price", "period",
                                                         "source")]
    return _t("prices", lang) + "\n\n" + _md_table(header, rows, {2})


def section_text(case: Any, lang: str = "da") -> str:
    """The business-case section of the evaluation (Markdown)."""
    parts = [_t("intro", lang), _basis(case, lang), _cost(case, lang), _payers(case, lang),
             _prices(case, lang)]
    if any(p.get("illustrative") for p in case.prices):
        parts.append(_t("illustrative", lang))
    parts.append(_t("tornado", lang) + " " + tornado_sentence(case, lang))
    return "\n\n".join(parts)


def context(case: Any, masks: dict[str, Any] | None, cfg: ProjectConfig, unit: str,
            goal_met_hidden: bool, lang: str = "da") -> dict[str, Any]:
    """The evaluation templates' business-case keys: the section text, the pixi's headline
    and note. A scenario rests on the goal-met count, so it is left out where the masks hide
    that (``goal_met_hidden``)."""
    from ..disclosure import require_masks

    require_masks(masks, "the business case")
    out: dict[str, Any] = {"business_case_text": None, "business_case_headline": None,
                           "business_case_note": None}
    if cfg.business_case is None:
        return out
    if case is None:
        if unit != "all" and cfg.business_case.cost_per_participant_kr is None:
            out["business_case_text"] = _t("not_computed", lang)
        return out
    if case.mode == "scenario" and goal_met_hidden:
        out["business_case_text"] = _t("hidden", lang)
        return out
    notes = []
    if case.mode == "scenario":
        notes.append(_t("note_scenario", lang, share=share(case.scenario_share, lang)))
    if any(p.get("illustrative") for p in case.prices):
        notes.append(_t("note_illustrative", lang))
    return {"business_case_text": section_text(case, lang),
            "business_case_headline": headline(case, lang),
            "business_case_note": " ".join(notes) or None}
