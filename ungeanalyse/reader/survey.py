"""The survey for readers: reliability and change tables, the figure's input and the text on
change and drop-out, from a :class:`~ungeanalyse.survey.SurveyResult` and the unit's masks.

The unit's masks (``masks["survey"]``, the project-wide ``disclosure.survey.survey_plan``)
hide the counts that would give a small number away here or in another unit's report; a count
under the limit is hidden too. A hidden count shows one mark in a table and no number in the
text ('nogle'), whatever the reason; the tables' notes say the reasons once.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pandas as pd

from .. import i18n
from ..config import ProjectConfig, Scale
from ..disclosure.marks import count_text
from ..disclosure.survey import plan_hidden as _plan_hidden
from ..fmt import fmt_float, fmt_int, fmt_p, fmt_pct
from ..survey import Attrition, PairedChange, SurveyResult
from .table import HIDDEN, ReaderTable, hidden_note


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.t(f"survey.{key}", lang, **params)


def _plan(result: SurveyResult, masks: dict[str, Any] | None) -> dict[str, bool]:
    """The unit's survey plan ({key: hidden}); an error without masks."""
    from ..disclosure import require_masks

    unit = require_masks(masks, "survey")
    plan = unit.get("survey")
    if result.status == "ok":
        require_masks(plan, "survey (the masks hold no survey plan)")
    return plan or {}


def _scale(cfg: ProjectConfig, scale_id: str) -> Scale | None:
    return next((s for s in cfg.survey.scales if s.id == scale_id), None)


def _scale_label(cfg: ProjectConfig, scale_id: str, lang: str) -> str:
    """A scale's name in the report language (the config's text)."""
    from ..texts import text

    scale = _scale(cfg, scale_id)
    return scale_id if scale is None else text(scale.label, lang)


def wave_label(cfg: ProjectConfig, wave: str, lang: str) -> str:
    """A wave's name for readers: the config's ``wave_labels`` (which are Danish) in a Danish
    report, else start / follow-up / wave n from the catalogue."""
    waves = cfg.survey.wave_labels if lang == "da" else {}  # config texts without English
    if wave in waves:
        return waves[wave]
    order = cfg.survey.waves
    if wave == order[0]:
        return _t("wave.first", lang)
    if wave == order[-1]:
        return _t("wave.last", lang)
    return _t("wave.other", lang, n=order.index(wave) + 1) if wave in order else wave


def _inline(label: str) -> str:
    """'Start af forløb' → 'start af forløb', for use inside a sentence."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _interval(low: float, high: float, lang: str, digits: int = 1) -> str:
    return _t("interval", lang, low=fmt_float(low, digits, lang),
              high=fmt_float(high, digits, lang))


def missing_rule_text(scale: Scale, lang: str) -> str:
    """The scale's missing-item rule as a sentence for readers."""
    rule, k = scale.missing_rule, len(scale.items)
    if rule.rule == "complete" or rule.max_missing == 0:
        return _t("rule.complete", lang, k=k)
    m = rule.max_missing
    if scale.score == "sum":
        key = "rule.sum_converted" if scale.conversion else "rule.sum"
        return _t(key, lang, m=m, k=k)
    return _t("rule.mean_one" if m == 1 else "rule.mean", lang, m=m, k=k)


def _rule_short(scale: Scale | None, lang: str) -> str:
    if scale is None:
        return ""
    rule = scale.missing_rule
    if rule.rule == "complete" or rule.max_missing == 0:
        return _t("rule.short_complete", lang)
    return _t("rule.short_prorate", lang, m=rule.max_missing)


def method_text(lang: str) -> str:
    """How the effect sizes and the weighted sensitivity result are computed."""
    return f"{_t('method.effect_sizes', lang)} {_t('method.weighting', lang)}"


def missing_text(result: SurveyResult, lang: str) -> str:
    """Why there is nothing to show ('' when there is): no surveys in the project, or none
    here."""
    return "" if result.status == "ok" else _t(result.status, lang)


# -- tables ---------------------------------------------------------------------------------


def _pairs_hidden(plan: dict[str, bool], scale_id: str, n: int, min_cell: int) -> bool:
    """Whether a scale's number of pairs is hidden: as the plan says, or under the limit."""
    return bool(plan.get(f"paired:{scale_id}", False)) or 0 < n < min_cell


def _n_hidden(change: PairedChange, plan: dict[str, bool]) -> bool:
    return _pairs_hidden(plan, change.scale_id, change.n, change.min_cell)


def reliability_table(result: SurveyResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
                      lang: str) -> ReaderTable | None:
    """Cronbach's α per scale and wave among the pairs; n hidden as the plan says (or under
    the limit), α where n is under the limit."""
    plan = _plan(result, masks)
    if result.status != "ok":
        return None
    k = cfg.privacy.min_cell
    rel = result.reliability
    hide_n = [_pairs_hidden(plan, s, n, k) for s, n in zip(rel["scale_id"], rel["n"], strict=True)]
    frame = pd.DataFrame({
        _t("col.scale", lang): [_scale_label(cfg, s, lang) for s in rel["scale_id"]],
        _t("col.wave", lang): [wave_label(cfg, w, lang) for w in rel["wave"]],
        _t("col.items", lang): [fmt_int(i, lang) for i in rel["items"]],
        "n": [HIDDEN if h else fmt_int(n, lang) for n, h in zip(rel["n"], hide_n, strict=True)],
        "α": [HIDDEN if n < k else fmt_float(a, 2, lang)
              for n, a in zip(rel["n"], rel["alpha"], strict=True)],
    })
    note = hidden_note(k, lang) if any(hide_n) else None
    return ReaderTable(frame, _t("reliability_caption", lang), lang, note)


def _ci_cell(est: float, low: float, high: float, lang: str, digits: int = 1) -> str:
    """'2,2 (1,7 til 2,7)' for a reader table, '–' when missing."""
    if est is None or not math.isfinite(est):
        return HIDDEN
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return fmt_float(est, digits, lang)
    return f"{fmt_float(est, digits, lang)} ({_interval(low, high, lang, digits)})"


def change_table(result: SurveyResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
                 lang: str) -> ReaderTable | None:
    """The paired changes: n of pairs, means, change, d_z and d_av with 95 % intervals, the
    weighted sensitivity change and the missing-item rule. n and the effect sizes are hidden
    where n is; a scale with too few pairs shows only its name and rule."""
    plan = _plan(result, masks)
    if result.status != "ok":
        return None
    names = [_t(f"col.{c}", lang) for c in ("scale", "pairs", "start", "followup", "change",
                                            "d_z", "d_av", "weighted", "missing")]
    rows, any_hidden = [], False
    for c in result.changes:
        label, rule = _scale_label(cfg, c.scale_id, lang), _rule_short(_scale(cfg, c.scale_id),
                                                                       lang)
        if c.n < c.min_cell or c.mean_diff is None or not math.isfinite(c.mean_diff):
            any_hidden |= c.n > 0
            rows.append([label, HIDDEN if c.n else "0", *[HIDDEN] * 6, rule])
            continue
        hide = _n_hidden(c, plan)
        any_hidden |= hide
        w = c.weighted
        rows.append([
            label, HIDDEN if hide else fmt_int(c.n, lang),
            fmt_float(c.mean_baseline, 1, lang), fmt_float(c.mean_followup, 1, lang),
            _ci_cell(c.mean_diff, c.ci_low, c.ci_high, lang),
            HIDDEN if hide else _ci_cell(c.d_z, c.d_z_low, c.d_z_high, lang, 2),
            HIDDEN if hide else _ci_cell(c.d_av, c.d_av_low, c.d_av_high, lang, 2),
            HIDDEN if hide or w is None else _ci_cell(w.mean_diff, w.ci_low, w.ci_high, lang),
            rule])
    note = method_text(lang)
    if any_hidden:
        note = f"{note} {hidden_note(cfg.privacy.min_cell, lang)}"
    return ReaderTable(pd.DataFrame(rows, columns=names), _t("change_caption", lang), lang, note)


def prepost_input(result: SurveyResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
                  lang: str) -> PairedChange | None:
    """The figure's input (``ua.plot.prepost_plot``): the first scale with enough pairs, with
    its n hidden as the plan says; None when no scale has enough."""
    plan = _plan(result, masks)
    for c in result.changes:
        if c.n >= c.min_cell:
            return dataclasses.replace(c, plan_hidden=_n_hidden(c, plan))
    return None


# -- the text -------------------------------------------------------------------------------


def _waves(cfg: ProjectConfig, lang: str) -> tuple[str, str]:
    waves = cfg.survey.waves
    return _inline(wave_label(cfg, waves[0], lang)), _inline(wave_label(cfg, waves[-1], lang))


def _effect_text(c: PairedChange, hidden: bool, lang: str) -> str:
    """'; Cohens d_z = … (95 %-CI …); d_av = … (95 %-CI …)', or '' when n is hidden (the change
    over d_z gives the standard deviation, and with it the interval's width gives n back)."""
    if hidden or c.d_z is None or not math.isfinite(c.d_z):
        return ""
    text = _t("d_z", lang, d=fmt_float(c.d_z, 2, lang),
              ci=_interval(c.d_z_low, c.d_z_high, lang, 2))
    if c.d_av is not None and math.isfinite(c.d_av):
        text += _t("d_av", lang, d=fmt_float(c.d_av, 2, lang),
                   ci=_interval(c.d_av_low, c.d_av_high, lang, 2))
    return text


def _weighted_text(c: PairedChange, hidden: bool, lang: str) -> str:
    """The sensitivity sentence, or '' without a weighted result (or with n hidden)."""
    w = c.weighted
    if w is None or hidden or c.n < c.min_cell:
        return ""
    return _t("weighted", lang, change=fmt_float(w.mean_diff, 2, lang),
              ci=_interval(w.ci_low, w.ci_high, lang, 2),
              unweighted=fmt_float(c.mean_diff, 2, lang))


def change_text(c: PairedChange, plan: dict[str, bool], cfg: ProjectConfig, lang: str) -> str:
    """Sentences on one scale's change: the change with its interval and effect sizes, the
    missing-item rule, the weighted sensitivity result, and that it is not an effect."""
    label = _scale_label(cfg, c.scale_id, lang)
    base, follow = _waves(cfg, lang)
    if c.n < c.min_cell or c.mean_diff is None or not math.isfinite(c.mean_diff):
        return _t("change_not_shown", lang, scale=label, base=base, follow=follow)
    hidden = _n_hidden(c, plan)
    direction = "rose" if c.mean_diff > 0 else "fell" if c.mean_diff < 0 else "same"
    values = (fmt_float(c.mean_baseline, 1, lang) if direction == "same" else
              _t("from_to", lang, base=fmt_float(c.mean_baseline, 1, lang),
                 follow=fmt_float(c.mean_followup, 1, lang)))
    stats = _t("change_stats", lang, change=fmt_float(c.mean_diff, 1, lang),
               ci=_interval(c.ci_low, c.ci_high, lang), effect=_effect_text(c, hidden, lang),
               p=fmt_p(c.wilcoxon_p, lang))
    sure = c.ci_low is not None and math.isfinite(c.ci_low) and (c.ci_low > 0 or c.ci_high < 0)
    scale = _scale(cfg, c.scale_id)
    tail = " ".join(x for x in (
        _t("higher_better" if c.higher_is_better else "lower_better", lang),
        "" if sure else _t("may_be_chance", lang),
        missing_rule_text(scale, lang) if scale is not None else "",
        _weighted_text(c, hidden, lang), _t("no_comparison", lang)) if x)
    return _t("change", lang, scale=label, n="" if hidden else fmt_int(c.n, lang), base=base,
              follow=follow, verb=_t(f"verb.{direction}", lang), values=values, stats=stats,
              tail=tail).replace("  ", " ")


def _target_group_text(a: Attrition, hidden: dict[str, bool], cfg: ProjectConfig,
                       lang: str) -> list[str]:
    """The target-group comparison, unless a cell is small or the plan hides it (a share with
    its group's size shown, or a χ² p with known margins, pins the cells)."""
    mc = a.min_cell
    cells = [v for g in a.target_groups.values() for v in g.values()]
    if any(0 < v < mc for v in cells) or hidden.get("target_groups"):
        return []
    if a.tg_code is not None and a.tg_diff is not None and math.isfinite(a.tg_diff):
        pf, pd_ = a.tg_shares()
        group = cfg.target_groups.get(a.tg_code)
        name = group.text(lang) if group is not None else a.tg_code
        span = _t("tg_span", lang, points=fmt_float(a.tg_diff * 100, 0, lang),
                  ci=_interval(a.tg_low * 100, a.tg_high * 100, lang, 0))
        return [_t("tg_shares", lang, group=name, followed=fmt_pct(pf, 0, lang),
                   dropped=fmt_pct(pd_, 0, lang), span=span)]
    if a.target_group_p is not None and math.isfinite(a.target_group_p):
        return [_t("tg_chi2", lang, p=fmt_p(a.target_group_p, lang))]
    return []


def _goal_text(a: Attrition, base: str, lang: str) -> list[str]:
    """Goal met among the closed cases in the two groups, unless a rate or the remainder
    (those not in either group) would give a small count."""
    from ..privacy import rate_hidden

    mc = a.min_cell
    rest_met = a.goal_met_unit - a.goal_met_followed - a.goal_met_dropped
    rest_closed = a.closed_unit - a.goal_met_closed_followed - a.goal_met_closed_dropped
    if (rate_hidden(a.goal_met_followed, a.goal_met_closed_followed, mc)
            or rate_hidden(a.goal_met_dropped, a.goal_met_closed_dropped, mc)
            or 0 < rest_met < mc or 0 < rest_closed - rest_met < mc):
        return []
    return [_t("goal", lang, followed=fmt_pct(a.goal_met_followed / a.goal_met_closed_followed,
                                               0, lang),
               dropped=fmt_pct(a.goal_met_dropped / a.goal_met_closed_dropped, 0, lang),
               base=base, p=fmt_p(a.goal_met_p, lang))]


def attrition_text(a: Attrition, plan: dict[str, bool], cfg: ProjectConfig, lang: str) -> str:
    """Sentences on who dropped out of one scale's pairs; a hidden count is 'nogle' (small or
    hidden to protect another alike), and the groups are compared only where all is shown."""
    from ..privacy import rate_hidden

    hidden = _plan_hidden(plan, a.scale_id)
    mc = a.min_cell
    base, follow = _waves(cfg, lang)
    lead = _t("attrition_lead", lang, scale=_scale_label(cfg, a.scale_id, lang))
    total = a.n_followed + a.n_dropped
    if total == 0:
        return lead + _t("attrition_none", lang, base=base)
    partner = {key for key in ("followed", "dropped") if hidden.get(key)}
    small = bool(rate_hidden(a.n_followed, total, mc)) or bool(partner)
    nf = count_text(a.n_followed, mc, lang, hidden="followed" in partner)
    nd = count_text(a.n_dropped, mc, lang, hidden="dropped" in partner)
    if small:
        head = _t("attrition_small", lang, followed=nf[:1].upper() + nf[1:], dropped=nd,
                  base=base, follow=follow)
    else:
        head = _t("attrition_head", lang, total=fmt_int(total, lang), followed=nf,
                  share=fmt_pct(a.share_followed, 0, lang), dropped=nd, base=base,
                  follow=follow)
    if partner or a.n_followed < mc or a.n_dropped < mc:
        return f"{lead}{head} {_t('groups_not_compared', lang)}"
    parts = [lead + head]
    if all(x is not None and math.isfinite(x) for x in (a.mean_followed, a.mean_dropped)):
        diff = _t("welch", lang, diff=fmt_float(a.diff, 1, lang),
                  ci=_interval(a.diff_low, a.diff_high, lang), p=fmt_p(a.welch_p, lang))
        parts.append(_t("means", lang, base=base, followed=fmt_float(a.mean_followed, 1, lang),
                        dropped=fmt_float(a.mean_dropped, 1, lang), diff=diff))
    parts += _target_group_text(a, hidden, cfg, lang) + _goal_text(a, base, lang)
    parts.append(_t("pairs_may_differ", lang))
    return " ".join(parts)


def text(result: SurveyResult, masks: dict[str, Any] | None, cfg: ProjectConfig,
         lang: str) -> str:
    """The survey text of notebook 02 and of the evaluation: per scale the change and the
    drop-out, then how the effect sizes are computed ('' when the unit has no survey)."""
    plan = _plan(result, masks)
    if result.status != "ok":
        return ""
    texts = []
    for change, att in zip(result.changes, result.attrition, strict=True):
        texts += [change_text(change, plan, cfg, lang), attrition_text(att, plan, cfg, lang)]
    if any(c.n >= c.min_cell for c in result.changes):
        texts.append(method_text(lang))
    return "\n\n".join(texts)
