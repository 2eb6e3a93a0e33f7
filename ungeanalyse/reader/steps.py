"""Skridt på vejen for readers: the funnel table and figure input, the time-to-education table,
curves and text, from a :class:`~ungeanalyse.steps.StepsResult` and the unit's masks.

The analysis (``ungeanalyse.steps.analyse``) gives raw counts with each group's own rules (a
group too small to draw); here the unit's masks from the disclosure step add what the
project-wide plan hides: the funnel cells (``masks["funnel"]``), the starts the funnel hides at
the education step (the same young people) and the group sizes the måltal tables hide
(``masks["maaltal"]``). Every function refuses to work without the masks. A hidden figure shows
one mark and no reason next to it; the table notes give the reasons once.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd

from .. import i18n
from ..config import ProjectConfig
from ..disclosure.marks import count_text
from ..fmt import fmt_ci, fmt_date, fmt_int, fmt_p, fmt_pct
from ..privacy import primary_mask
from ..steps import ALL, StartGroup, StepsResult, TimeToEducation, group_label
from .table import HIDDEN, ReaderTable, hidden_note


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.t(f"steps.{key}", lang, **params)


# -- the masks ------------------------------------------------------------------------------


def _plans(result: StepsResult, masks: dict[str, Any] | None
           ) -> tuple[dict[str, dict[str, bool]], dict[str, bool]]:
    """The unit's funnel plan ({group: {step: hidden}}) and the target groups' hidden sizes
    (the måltal plan's); an error without masks."""
    from ..disclosure import require_masks

    unit = require_masks(masks, "steps on the way")
    funnel = unit.get("funnel")
    if result.status == "ok":
        require_masks(funnel, "steps on the way (the masks hold no funnel plan)")
    sizes = ((unit.get("maaltal") or {}).get("breakdowns", {}).get("target_group", {}))
    return funnel or {}, {g: bool(m["n"]) for g, m in sizes.items()}


def masked_funnel(result: StepsResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
                  lang: str) -> pd.DataFrame:
    """The funnel with the plan applied (``suppressed``: the cell is hidden; ``size_suppressed``:
    the group's size and shares are), and a group and a step label column in the report
    language (named in ``attrs``): the input of ``ua.plot.funnel_plot``."""
    plan, sizes = _plans(result, masks)
    df = result.funnel.copy()
    df["suppressed"] = [bool(plan.get(str(g), {}).get(st, True))
                        for g, st in zip(df["group"], df["step"], strict=True)]
    df["size_suppressed"] = (df["size_suppressed"].astype(bool).to_numpy()
                             | df["group"].astype(str).map(lambda g: sizes.get(g, False))
                             .to_numpy(dtype=bool))
    group_col = (i18n.t(f"maaltal.dimension.{result.by}", lang) if result.by
                 else _t("col.group", lang))
    step_col = _t("col.step", lang)
    steps = {s.id: s.text(lang) for s in cfg.steps.ladder}
    df.insert(1, group_col, [group_label(cfg, result.by, str(g), lang) for g in df["group"]])
    df.insert(4, step_col, [steps.get(st, st) for st in df["step"]])
    df.attrs.update({"group_label": group_col, "step_label": step_col, "lang": lang,
                     "min_cell": cfg.privacy.min_cell})
    return df


def masked_time(result: StepsResult, masks: dict[str, Any] | None, cfg: ProjectConfig
                ) -> TimeToEducation | None:
    """The time to education with the plan's flags: a group's starts hidden where the funnel
    hides its education step (everyone's where any group's is), its size where the måltal
    tables hide it; hidden starts hide the group's curve and shares too."""
    plan, sizes = _plans(result, masks)
    tte = result.time_to_start
    if tte is None:
        return None
    edu = cfg.steps.education_start_step
    starts = {g: bool(steps.get(edu, False)) for g, steps in plan.items()} if edu else {}
    codes = [g.code for g in tte.groups if g.code != ALL]
    groups = []
    for g in tte.groups:
        if g.code == ALL:  # everyone analysed: protected where any part of it is
            events = starts.get(ALL, False) or any(starts.get(c, False) for c in codes)
            size = any(sizes.values())
        else:
            events, size = starts.get(g.code, False), sizes.get(g.code, False)
        suppressed = g.suppressed or events
        groups.append(dataclasses.replace(
            g, events_hidden=events, size_hidden=size, suppressed=suppressed,
            competing_hidden=g.competing_hidden or suppressed))
    return dataclasses.replace(tte, groups=groups)


# -- the funnel -----------------------------------------------------------------------------


def missing_text(result: StepsResult, lang: str) -> str:
    """Why there is nothing to show ('' when there is): no steps in the project, or none here."""
    return "" if result.status == "ok" else _t(result.status, lang)


def funnel_table(result: StepsResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
                 lang: str) -> ReaderTable | None:
    """The funnel: one row per step, one column per group, "n (andel)" per cell; a group under
    the limit is left out, a hidden size hides its group's shares."""
    if result.status != "ok":
        return None
    df = masked_funnel(result, masks, cfg, lang)
    k = cfg.privacy.min_cell
    label_col, step_col = df.attrs["group_label"], df.attrs["step_label"]
    steps = list(dict.fromkeys(df["step"]))
    labels = dict(zip(df["step"], df[step_col], strict=False))
    out = pd.DataFrame({step_col: [labels[s] for s in steps]})
    for _, part in df.groupby("group", sort=False):
        n_group = int(part["n_group"].iloc[0])
        if 0 < n_group < k:
            continue
        size_hidden = bool(part["size_suppressed"].any())
        header = _t("group_header", lang, group=part[label_col].iloc[0],
                    n=HIDDEN if size_hidden else fmt_int(n_group, lang))
        cells = {}
        for row in part.itertuples(index=False):
            cells[row.step] = (HIDDEN if row.suppressed else fmt_int(row.n_reached, lang)
                               if size_hidden else _t("count_share", lang,
                                                      n=fmt_int(row.n_reached, lang),
                                                      share=fmt_pct(row.share, 0, lang)))
        out[header] = [cells.get(s, HIDDEN) for s in steps]
    note = _t("funnel_note", lang, hidden=hidden_note(k, lang))
    return ReaderTable(out, _t("funnel_caption", lang), lang, note)


def funnel_plot_input(result: StepsResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
                      lang: str) -> pd.DataFrame | None:
    """The funnel figure's input (:func:`masked_funnel`), None without steps."""
    return masked_funnel(result, masks, cfg, lang) if result.status == "ok" else None


# -- time to education ----------------------------------------------------------------------


def _share_ci(share: float, low: float, high: float, lang: str, label: bool = True) -> str:
    """'38 % (95 %-CI 30–47 %)' ('38 % (30–47 %)' without ``label``)."""
    return _t("share_ci" if label else "share_ci_plain", lang, share=fmt_pct(share, 0, lang),
              ci=fmt_ci(low, high, lang))


def _listing(items: list[str], lang: str) -> str:
    if len(items) < 2:
        return items[0]
    return ", ".join(items[:-1]) + f" {i18n.t('common.and', lang)} " + items[-1]


def time_table(result: StepsResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
               lang: str) -> ReaderTable | None:
    """Per reported group: young people, starts, the share started at 3, 6 and 12 months and
    at the end of follow-up with 95 % intervals; None where the curves are not shown."""
    tte = masked_time(result, masks, cfg)
    if tte is None or tte.sizes_hidden or not tte.shown_groups:
        return None
    k = tte.min_cell
    rows = []
    for g in tte.reported_groups:
        hide = g.suppressed or tte.sizes_hidden
        row = {_dimension(tte, lang): group_label(cfg, tte.by, g.code, lang),
               _t("col.young", lang): HIDDEN if primary_mask(g.n, k) else fmt_int(g.n, lang),
               _t("col.started", lang): (HIDDEN if g.events_hidden or primary_mask(g.events, k)
                                         else fmt_int(g.events, lang))}
        for h in g.horizons:
            row[_t("col.by_months", lang, months=h["months"])] = (
                HIDDEN if hide or (h["reached"] and h["hidden"])
                else _t("not_reached", lang) if not h["reached"]
                else _share_ci(h["share"], h["ci_low"], h["ci_high"], lang, label=False))
        row[_t("col.at_end", lang)] = (HIDDEN if hide or not g.final else _share_ci(
            g.final["start"], g.final["start_low"], g.final["start_high"], lang, label=False))
        rows.append(row)
    frame = pd.DataFrame(rows)
    note = hidden_note(k, lang) if frame.isin([HIDDEN]).any().any() else None
    return ReaderTable(frame, _t("time_caption", lang), lang, note)


def cif_input(result: StepsResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
              lang: str) -> TimeToEducation | None:
    """The curves' input (``ua.plot.cif_plot``): the masked estimate, None where no curve is
    shown (the groups' sizes hidden, or no group large enough)."""
    tte = masked_time(result, masks, cfg)
    if tte is None or tte.sizes_hidden or not tte.shown_groups:
        return None
    return tte


def curves_hidden_text(result: StepsResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
                       lang: str) -> str:
    """Why the curves are missing, where the groups' sizes are hidden ('' otherwise)."""
    tte = masked_time(result, masks, cfg)
    return _t("curves_hidden", lang) if tte is not None and tte.sizes_hidden else ""


def _dimension(tte: TimeToEducation, lang: str) -> str:
    return (i18n.t(f"maaltal.dimension.{tte.by}", lang) if tte.by
            else _t("col.group", lang))


def _horizon_text(g: StartGroup, lang: str) -> str:
    """'12 % (95 %-CI 7–19 %) efter 3 måneder, …' for the horizons follow-up reaches; those
    not shown and those beyond follow-up are named."""
    shown = [_t("by_months", lang, share=_share_ci(h["share"], h["ci_low"], h["ci_high"], lang),
                months=h["months"])
             for h in g.horizons if h["reached"] and not h["hidden"]]
    hidden = [str(h["months"]) for h in g.horizons if h["reached"] and h["hidden"]]
    missing = [str(h["months"]) for h in g.horizons if not h["reached"]]
    parts = []
    if shown:
        parts.append(_t("horizons_shown", lang, shares=_listing(shown, lang)))
    if hidden:
        parts.append(_t("horizons_hidden", lang, months=_listing(hidden, lang)))
    if missing:
        parts.append(_t("horizons_missing", lang, months=_listing(missing, lang)))
    return " ".join(parts)


def days_text(g: StartGroup, lang: str) -> str:
    """'353 dage (95 %-CI 300–420 dage)': the days until half had started, with the interval
    read off the pointwise limits of the curve."""
    days = fmt_int(g.half, lang)
    if g.half_ci_low is None:
        return _t("days", lang, days=days)
    if g.half_ci_high is None:
        return _t("days_ci_open", lang, days=days, low=fmt_int(g.half_ci_low, lang))
    return _t("days_ci", lang, days=days, low=fmt_int(g.half_ci_low, lang),
              high=fmt_int(g.half_ci_high, lang))


def _group_sentence(g: StartGroup, who: str, min_cell: int, lang: str, show_n: bool) -> str:
    """One group's result: the shares started by 3, 6 and 12 months and by the end of follow-up,
    and when half had started or that half had not; without ``show_n`` the group's size and the
    shares (which would give it back) are not given."""
    n_shown = show_n and not primary_mask(g.n, min_cell)
    n = fmt_int(g.n, lang) if n_shown else ""
    if g.suppressed:
        return (_t("group_hidden", lang, who=who, n=n) if n_shown
                else _t("group_hidden_no_n", lang, who=who))
    if g.events == 0:
        return _t("none_started", lang, who=who, n=n).replace("  ", " ")
    events = fmt_int(g.events, lang)
    days = fmt_int(g.follow_up, lang)
    f = g.final
    if not show_n:
        half = (_t("half_after_days", lang, days=fmt_int(g.half, lang)) if g.half is not None
                else _t("half_not_at_end", lang, days=days))
        return _t("started_no_n", lang, who=who, events=events, half=half)
    end = _t("end", lang, days=days, share=_share_ci(f["start"], f["start_low"],
                                                     f["start_high"], lang))
    if not g.competing_hidden:
        end += _t("end_ended", lang, share=_share_ci(f["ended"], f["ended_low"],
                                                     f["ended_high"], lang))
    if g.half is None:
        half = _t("half_so_not", lang) if f["start"] < 0.5 else ""
    else:
        half = _t("half_after", lang, days=days_text(g, lang))
    text = (_t("of_n_started", lang, who=who, n=n, events=events) + " "
            + _horizon_text(g, lang) + " " + end + (f"; {half}." if half else "."))
    return text.replace("  ", " ")


def _left_out_text(tte: TimeToEducation, cfg: ProjectConfig, lang: str) -> str:
    """The sentence naming the target groups left out because their goal is to stay."""
    if not tte.left_out:
        return ""
    names = [_t("quoted", lang, name=cfg.target_groups[c].text(lang)) if c in cfg.target_groups
             else _t("quoted", lang, name=c) for c in tte.left_out]
    return _t("left_out_one" if len(names) == 1 else "left_out_many", lang,
              names=_listing(names, lang))


def time_text(result: StepsResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
              lang: str) -> str:
    """The text on the time to start an education: each reported group's result, how time is
    counted, who is left out, and the log-rank test where more than one group is shown ('' when
    the unit has no steps). The evaluation text (notebook 04) gives the same."""
    tte = masked_time(result, masks, cfg)
    if tte is None:
        return ""
    if tte.step is None:
        return _t("no_start_step", lang)
    k = tte.min_cell
    shown = tte.reported_groups
    if not shown:
        return " ".join(p for p in (_t("no_one", lang), _left_out_text(tte, cfg, lang)) if p)
    dimension = _dimension(tte, lang)
    parts = [_group_sentence(g, _t("who", lang, dimension=dimension,
                                   group=group_label(cfg, tte.by, g.code, lang))
                             if g.code != ALL else "", k, lang, not tte.sizes_hidden)
             for g in shown]
    if shown[0].code == ALL and tte.by and sum(g.code != ALL for g in tte.groups) > 1:
        parts.append(_t("groups_together", lang, dimension=dimension.lower()))
    steps = {s.id: s.text(lang) for s in cfg.steps.ladder}
    source = "config" if tte.censor_source == "config" else "data"
    parts.append(_t("method", lang, step=steps.get(tte.step, tte.step),
                    source=_t(f"source.{source}", lang), date=fmt_date(tte.censor_date, lang)))
    parts.append(_left_out_text(tte, cfg, lang))
    if tte.n_missing_date:
        parts.append(_t("missing_date", lang, n=count_text(tte.n_missing_date, k, lang)))
    if tte.n_after_extract:
        n = count_text(tte.n_after_extract, k, lang)
        parts.append(_t("after_extract", lang, n=n[:1].upper() + n[1:]))
    tested = [g for g in shown if g.code in tte.logrank_groups]
    if (tte.logrank_p is not None and len(tested) > 1
            and all(not g.suppressed for g in tested) and len(tested) == len(tte.logrank_groups)):
        verdict = "significant" if tte.logrank_p < 0.05 else "not_significant"
        parts.append(_t("logrank", lang, verdict=_t(f"logrank_{verdict}", lang),
                        p=fmt_p(tte.logrank_p, lang)))
    return " ".join(p for p in parts if p)
