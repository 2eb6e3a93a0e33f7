"""The final evaluation and its pixi version (notebook 04): one template per document, its
words from the catalogue (``evaluation`` section), its figures from the same reader functions
as the analysis notebooks.

Notebook 04 rebuilds the saved results (``results.load_evaluation``: ``CMOTable.from_dict``,
``QCAResult.from_dict``, ``BusinessCase.from_dict``) and hands them here with the unit's
masks. Each hypothesis is worded by :func:`ungeanalyse.reader.cmo.hypothesis_text`, the QCA by
:func:`ungeanalyse.reader.qca.text` and the business case by
:mod:`ungeanalyse.reader.business_case`, exactly as notebook 03 and the business case show
them; the måltal sentences come from the måltal reader. Nothing is worked out twice.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import i18n
from ..config import ProjectConfig
from ..fmt import fmt_ci, fmt_date, fmt_int, fmt_kr, fmt_pct
from . import cmo as cmo_reader
from .table import HIDDEN

FIGURE_MARK = "<!-- figure:"
"""Where the text places a saved figure: ``<!-- figure:forest -->``."""


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.t(f"evaluation.{key}", lang, **params)


def count(n: int | None, min_cell: int, lang: str = "da") -> str:
    """A person count for the text: the one mark when it is 1..min_cell-1 (never 'færre end
    5', which says the hidden count is small)."""
    if n is None:
        return HIDDEN
    return HIDDEN if 0 < n < min_cell else fmt_int(n, lang)


def unit_name(cfg: ProjectConfig, unit: str, lang: str = "da") -> str:
    """The project's name, or the delprojekt's with the project's short name."""
    project = cfg.project
    if unit == "all":
        return project.tr("name", lang)
    short = project.tr("short_name" if project.short_name else "name", lang)
    return _t("unit_name", lang, name=cfg.delprojekt(unit).tr("name", lang), project=short)


def funding_text(cfg: ProjectConfig, unit: str, lang: str = "da") -> str:
    """Who funds the project, its budget (whole project) and its operator, as one sentence."""
    project = cfg.project
    text = _t("funded_by", lang, funder=project.tr("funder", lang) or HIDDEN)
    if unit == "all" and project.budget_kr:
        text += _t("funded_budget", lang, budget=fmt_kr(project.budget_kr, lang))
    if project.operator:
        text += _t("funded_operator", lang, operator=project.operator)
    return text if text.endswith(".") else text + "."


def _about(cfg: ProjectConfig, unit: str, lang: str) -> dict[str, Any]:
    """The unit, the project and the method's settings: the parts that need no result."""
    period = cfg.project.period
    name = unit_name(cfg, unit, lang)
    return {
        "lang": lang, "title": _t("title", lang, unit=name), "unit_name": name,
        "project": cfg.project,
        "unit_intro": (_t("intro_all", lang) if unit == "all" else
                       _t("intro_unit", lang, name=cfg.delprojekt(unit).tr("name", lang))),
        "period": _t("period", lang, start=fmt_date(period.start, lang),
                     end=fmt_date(period.end, lang)),
        "goal_description": cfg.targets.tr("goal_met_description", lang),
        "min_cell": cfg.privacy.min_cell, "has_comparison": cfg.comparison is not None,
        "budget": fmt_kr(cfg.project.budget_kr, lang) if unit == "all" else None,
        "funding_text": funding_text(cfg, unit, lang),
        "delprojekter": cfg.delprojekter if unit == "all" else [cfg.delprojekt(unit)],
        "hypotheses": [h for h in cfg.hypotheses
                       if h.delprojekter == "all" or unit == "all" or unit in h.delprojekter],
        "has_survey": bool(cfg.files.survey),
    }


def _success(m: dict[str, Any], hide_goal: bool, min_cell: int, lang: str
             ) -> dict[str, Any] | None:
    """The unit's success rate with its interval, and its range for *status ukendt* where
    that changes the reading (the måltal reader's sentence)."""
    from ..report import unknown_range, unknown_sentence

    succ = m.get("success") or {}
    if not succ.get("n") or hide_goal:
        return None
    out = {"rate": fmt_pct(succ["rate"], 0, lang),
           "ci": fmt_ci(succ["ci_low"], succ["ci_high"], lang), "range": None,
           "unknown_text": unknown_sentence(m, min_cell, lang) or None}
    if out["unknown_text"]:  # the range changes the reading
        out["range"] = unknown_range(succ["rate"], (m.get("success_upper") or {})["rate"], lang)
    return out


def _target_groups(m: dict[str, Any], min_cell: int, lang: str) -> list[dict[str, Any]]:
    """The target groups as the måltal table shows them (secondary suppression included)."""
    from ..report import (
        NOT_SHOWN,
        _breakdown_masks,
        _range_suffix,
        _rate_text,
        _share_rows,
        _shown_ranges,
        share_of_all_text,
        unknown_range,
    )

    tg = pd.DataFrame(m["breakdowns"].get("target_group", []))
    if not len(tg):
        return []
    tg = tg[tg["n_participants"] > 0]
    _, hide_rate = _breakdown_masks(tg, min_cell, m.get("masks"))
    ranges = _shown_ranges(tg, min_cell, m.get("masks"), hide_rate)
    share = _share_rows(tg, m.get("masks"), hide_rate)
    out = []
    for i, r in tg.iterrows():
        of_all = share_of_all_text(r["goal_met"], r["n_participants"], lang)
        if share[i]:
            rate, text = of_all, _t("target_group_share", lang, share=of_all)
        elif hide_rate[i]:
            rate, text = HIDDEN, NOT_SHOWN[lang]
        else:
            rate = fmt_pct(r["rate"], 0, lang)
            text = _rate_text(r["goal_met"], r["n_closed"], r["rate"], r["ci_low"],
                              r["ci_high"], min_cell, lang) + (
                _range_suffix(r["rate"], r["rate_upper"], lang) if ranges[i] else "")
        out.append({"label": r["category_label"], "share": bool(share[i]), "rate": rate,
                    "range": unknown_range(r["rate"], r["rate_upper"], lang) if ranges[i]
                    else None, "text": text})
    return out


def _summary(m: dict[str, Any], cfg: ProjectConfig, lang: str) -> dict[str, Any]:
    """The summary's figures: participants, goal met, success rate, target groups, targets."""
    from ..report import SHARE_NOTE, _target_sentence, goal_count_hidden, goal_met_hidden
    from ..report import upper_hidden as hide_upper

    k = cfg.privacy.min_cell
    n = m["n_participants"]
    hide_goal = goal_met_hidden(pd.DataFrame(m["outcomes"]), m["goal_met"],
                                m.get("n_closed", n), k, m.get("masks"))
    hide_count = goal_count_hidden(m.get("masks"), hide_goal)
    groups = _target_groups(m, k, lang)
    upper = hide_upper(m, k)
    return {
        "n_participants": count(n, k, lang), "goal_met_hidden": hide_count,
        "goal_met_text": _t("not_shown", lang) if hide_count else _t(
            "goal_met_text", lang, n=count(m["goal_met"], k, lang),
            share=fmt_pct(m["goal_met"] / n if n else None, 0, lang)),
        "success": _success(m, hide_goal, k, lang), "target_groups": groups,
        "share_note": SHARE_NOTE[lang] if any(g["share"] for g in groups) else None,
        "targets": [{"text": _target_sentence(t, lang, upper)} for t in m.get("targets", [])
                    if not (hide_goal and t["target"].endswith("share"))],
    }


def _maaltal_section(m: dict[str, Any], cfg: ProjectConfig, lang: str) -> dict[str, Any]:
    """The måltal section: outcomes, breakdown, the unknown-status rule, the target-group
    difference and the cost (the måltal reader's sentences)."""
    from ..report import _breakdown_text, _maaltal_text, _unknown_rule, target_group_findings

    k = cfg.privacy.min_cell
    cost = None
    if m.get("cost_per_participant"):
        cost = _t("cost", lang, budget=fmt_kr(m["budget_kr"], lang),
                  per_participant=fmt_kr(m["cost_per_participant"], lang),
                  per_goal=fmt_kr(m["cost_per_goal_met"], lang))
    return {"maaltal_text": _maaltal_text(m, k, lang),
            "breakdown_text": _breakdown_text(m, k, lang), "unknown_rule": _unknown_rule(lang),
            "target_group_findings": target_group_findings(m, k, lang), "cost_text": cost}


def _sources(results: Any, cfg: ProjectConfig, unit: str, lang: str) -> dict[str, Any]:
    """The method section's data: which sources there are, the data quality sentence."""
    from .. import sources

    found = results.sources if results.sources is not None else sources.configured(cfg)
    quality = ""
    if results.quality:
        p = results.quality["participants"]
        dups = i18n.t("quality.duplicates_one" if p["duplicates"] == 1 else
                      "quality.duplicates_many", lang, n=fmt_int(p["duplicates"], lang))
        quality = i18n.t("quality.sentence", lang, rows=fmt_int(p["rows_in"], lang),
                         clean=fmt_int(p["clean"], lang),
                         quarantined=fmt_int(p["quarantined"], lang), duplicates=dups)
    return {"data_sources": found, "data_quality": quality,
            "data_sources_text": sources.method_sentence(found, lang),
            "voices_note": sources.voices_missing_sentence(found, lang)}


def _hypotheses(results: Any, masks: dict[str, Any], cfg: ProjectConfig, unit: str,
                lang: str) -> dict[str, Any]:
    """The CMO section: every hypothesis as notebook 03 words it, and the method's words."""
    from ..i18n import has

    cmo = results.cmo
    texts = [cmo_reader.hypothesis_text(r, results.voices.get(r.id, {}), masks, cfg, lang)
             for r in (cmo.results if cmo else [])]
    method = cmo.p_adjust if cmo else "holm"
    return {
        "hypotheses_results": texts,
        "p_adjust": i18n.t(f"p_adjust.{method}", lang) if has(f"p_adjust.{method}", lang)
        else method,
        "verdict_rules": cmo_reader.verdict_rules(lang, cfg.privacy.min_cell) if cmo else "",
        "association_note": cmo_reader.association_note(lang) if cmo else "",
        "secondary_note": cmo_reader.secondary_note(unit, lang) if cmo else "",
        "cmo_method": cmo_reader.methods_text(cmo, lang) if cmo else "",
    }


def _sections(results: Any, masks: dict[str, Any], cfg: ProjectConfig, unit: str,
              goal_met_hidden: bool, lang: str) -> dict[str, Any]:
    """Steps, survey, QCA and business case: each as its own reader words it."""
    from . import business_case
    from . import qca as qca_reader

    steps, survey = results.steps, results.survey
    return {
        "steps_text": steps.get("text") if steps else None,
        "survey_text": survey.get("text") if survey else None,
        "qca_text": qca_reader.text(results.qca, masks, cfg, lang) if results.qca else None,
        **business_case.context(results.business_case, masks, cfg, unit, goal_met_hidden,
                                lang),
    }


def context(results: Any, masks: dict[str, Any] | None, cfg: ProjectConfig, unit: str,
            lang: str = "da") -> dict[str, Any]:
    """Everything the templates need, from the rebuilt results and the unit's masks."""
    from ..disclosure import require_masks

    masks = require_masks(masks, "the evaluation text")
    # the måltal are read with the masks of the disclosure step (the same as notebook 02's)
    m = dict(results.maaltal, masks=masks.get("maaltal") or results.maaltal.get("masks"))
    ctx = _about(cfg, unit, lang)
    ctx |= _summary(m, cfg, lang)
    ctx |= _maaltal_section(m, cfg, lang)
    ctx |= _sources(results, cfg, unit, lang)
    ctx |= _hypotheses(results, masks, cfg, unit, lang)
    ctx |= _sections(results, masks, cfg, unit, ctx["goal_met_hidden"], lang)
    ctx["findings"] = [h.finding for h in ctx["hypotheses_results"] if h.finding]
    ctx["pixi_findings"] = pixi_findings(ctx, lang)[:5]
    ctx["strengths"], ctx["limitations"] = strengths_limitations(ctx, results, m, cfg, lang)
    ctx["conclusions"] = conclusions(ctx, results, lang)
    return ctx


def pixi_findings(ctx: dict[str, Any], lang: str = "da") -> list[str]:
    """The pixi's key findings: the success rate, the target groups' rates, the verdicts."""
    out = []
    if ctx.get("success"):
        out.append(_t("pixi.success_finding", lang, rate=ctx["success"]["rate"],
                      ci=ctx["success"]["ci"]))
        if ctx["success"].get("unknown_text"):
            out[-1] += " " + ctx["success"]["unknown_text"]
    groups = [g for g in ctx["target_groups"] if g["rate"] != HIDDEN and not g.get("share")]
    if len(groups) >= 2:
        items = [_t("pixi.group", lang, rate=g["rate"], label=cmo_reader.inline(g["label"]),
                    span=_t("pixi.span", lang, range=g["range"]) if g.get("range") else "")
                 for g in groups]
        out.append(_t("pixi.groups", lang, groups=f" {_t('and', lang)} ".join(items)))
    return out + ctx["findings"]


def strengths_limitations(ctx: dict[str, Any], results: Any, m: dict[str, Any],
                          cfg: ProjectConfig, lang: str = "da") -> tuple[list[str], list[str]]:
    """What the evaluation rests on, and what limits it."""
    strengths = [_t("strength.all_participants", lang)]
    if "voices" in ctx.get("data_sources", ["voices"]):  # only a project with coded voices
        strengths.append(_t("strength.voices", lang))
    limitations = [_t("limitation.comparison" if ctx.get("has_comparison") else
                      "limitation.no_comparison", lang)]
    few = [r.id for r in (results.cmo.results if results.cmo else [])
           if r.verdict_code == "too_few_data"]
    if few:
        limitations.append(_t("limitation.too_few", lang, ids=", ".join(few),
                              k=cfg.privacy.min_cell))
    if m["n_participants"] < 100:
        limitations.append(_t("limitation.few_participants", lang,
                              n=count(m["n_participants"], cfg.privacy.min_cell, lang)))
    if ctx.get("survey_text"):
        limitations.append(_t("limitation.survey", lang))
    return strengths, limitations


def conclusions(ctx: dict[str, Any], results: Any, lang: str = "da") -> list[str]:
    """The recommendations: each names the finding it comes from (a verdict, or a difference
    between target groups whose interval excludes 0)."""
    out = [rec for r in (results.cmo.results if results.cmo else [])
           for rec in [cmo_reader.recommendation(r, lang)] if rec]
    return out + ctx["target_group_findings"]["recommendations"]


def _environment(lang: str) -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ungeanalyse", "templates"),
        autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined)
    env.globals["t"] = lambda key, **params: _t(key, lang, **params)
    env.globals["quote"] = lambda q: i18n.t("cmo.text.quote", lang, **q)
    return env


def render(ctx: dict[str, Any], variant: str = "full", lang: str = "da") -> str:
    """The evaluation (``variant='full'``) or the pixi as Markdown, from one template per
    document whatever the language."""
    name = "pixi" if variant == "pixi" else "evaluering"
    return _environment(lang).get_template(f"{name}.md.j2").render(**ctx)


def render_text(results: Any, masks: dict[str, Any] | None, cfg: ProjectConfig, unit: str,
                store: Any = None, variant: str = "full", lang: str = "da") -> str:
    """The evaluation text (or the pixi) as Markdown, with the evaluator's own texts where the
    project has them (their hand-typed numbers checked against every figure the generated
    evaluation and pixi publish; the warnings saved in ``store``)."""
    from .. import evaluator_text

    ctx = context(results, masks, cfg, unit, lang)
    if not evaluator_text.text_files(cfg, unit, lang):
        evaluator_text.empty(ctx, store)
        return render(ctx, variant, lang)
    evaluator_text.empty(ctx)
    generated = [render(ctx, v, lang) for v in ("full", "pixi")]
    evaluator_text.attach(cfg, unit, store, ctx, results.maaltal, lang, generated)
    return render(ctx, variant, lang)


def show_text(text: str, store: Any) -> None:
    """Display an evaluation text with its saved figures in place (their alt texts kept)."""
    from IPython.display import Image, display

    from .display import show_markdown

    for chunk in text.split(FIGURE_MARK):
        if chunk.count("-->") and chunk.split("-->", 1)[0].strip().isidentifier():
            name, rest = chunk.split("-->", 1)
            path = store.figure_path(name.strip())
            if path is not None:
                alt = store.figure_alt(name.strip())
                display(Image(filename=str(path)),
                        metadata={"image/png": {"alt": alt}} if alt else None)
            chunk = rest
        if chunk.strip():
            show_markdown(chunk)


def headline_html(h: dict[str, Any], lang: str = "da") -> str:
    """The project's headline figures on the index page (``render.headline_figures``: every
    figure the reports hide is None here), its verdicts worded from their codes."""
    import html

    def t(key: str) -> str:
        return _t(f"headline.{key}", lang)

    items = [f"<li><strong>{fmt_int(h['participants'], lang)}</strong> "
             f"{t('participants')}</li>"]
    if h.get("goal_met") is not None:
        items.append(f"<li><strong>{fmt_int(h['goal_met'], lang)}</strong> "
                     f"({fmt_pct(h['goal_met_share'], lang=lang)}) {t('goal_met')}</li>")
    else:
        items.append(f"<li>{t('goal_met_hidden')}</li>")
    if h.get("success_rate") is not None:
        ci = h.get("success_ci") or [None, None]
        items.append(f"<li>{t('success')} <strong>{fmt_pct(h['success_rate'], lang=lang)}"
                     f"</strong> <small>({t('ci')} {fmt_ci(ci[0], ci[1], lang)})</small></li>")
    groups = []
    for g in h.get("by_target_group", []):
        rate = fmt_pct(g["rate"], lang=lang) if g.get("rate") is not None else t("not_shown")
        n = f" <small>(n = {fmt_int(g['n'], lang)})</small>" if g.get("n") is not None else ""
        if g.get("rate") is None and g.get("share_of_all") is not None:
            rate = f"{fmt_pct(g['share_of_all'], lang=lang)} {t('of_all')}"
            n = f" <small>(n = {fmt_int(g['n_all'], lang)})</small>"
        groups.append(f"{html.escape(str(g['label']))}: <strong>{rate}</strong>{n}")
    if groups:
        items.append(f"<li>{t('by_group')}: " + "; ".join(groups) + "</li>")
    verdicts = "".join(
        f"<li><strong>{html.escape(v['id'])}</strong> "
        f"{html.escape(v.get(f'title_{lang}') or v['title'])}: "
        f"<em>{html.escape(cmo_reader.verdict(v['verdict_code'], lang))}</em></li>"
        for v in h.get("hypotheses", []))
    hyp = f"<p>{t('hypotheses')}</p><ul>{verdicts}</ul>" if verdicts else ""
    return f'<div class="ua-headline"><ul>{"".join(items)}</ul>{hyp}</div>'
