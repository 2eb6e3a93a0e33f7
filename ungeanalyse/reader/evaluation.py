"""The final evaluation and its pixi version (notebook 04): one template per document, its
words from the catalogue (``evaluation`` section), its figures from the same reader functions
as the analysis notebooks.

Notebook 04 rebuilds the saved results (``results.load_evaluation``: ``CMOTable.from_dict``,
``QCAResult.from_dict``, ``BusinessCase.from_dict``, the steps and the survey) and hands them
here with the unit's masks. Each hypothesis is worded by
:func:`ungeanalyse.reader.cmo.hypothesis_text`, the QCA by :func:`ungeanalyse.reader.qca.text`
and the business case by
:mod:`ungeanalyse.reader.business_case`, exactly as notebook 03 and the business case show
them; the måltal sentences come from the måltal reader. Nothing is worked out twice.
"""

from __future__ import annotations

from typing import Any

from .. import i18n
from ..config import ProjectConfig
from ..fmt import fmt_date, fmt_int, fmt_kr, fmt_pct
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


def _maaltal(results: Any, masks: dict[str, Any], cfg: ProjectConfig, lang: str
             ) -> dict[str, Any]:
    """The summary's and the måltal section's figures and sentences, as notebook 02 words them
    (``reader.maaltal.evaluation_context`` on the rebuilt result, with the unit's masks), and
    the two the evaluation words itself: the goal-met count and the cost."""
    from ..outcomes import Maaltal
    from . import maaltal as maaltal_reader

    m = results.maaltal
    k = cfg.privacy.min_cell
    n = m["n_participants"]
    ctx = maaltal_reader.evaluation_context(Maaltal.from_dict(m), masks, cfg, lang)
    cost = None
    if m.get("cost_per_participant"):
        # the budget divided by the cost per goal met gives the goal count back: hidden with it,
        # as notebook 02's cost sentence does (reader.maaltal.cost_text)
        cost = _t("cost", lang, budget=fmt_kr(m["budget_kr"], lang),
                  per_participant=fmt_kr(m["cost_per_participant"], lang),
                  per_goal=HIDDEN if ctx["goal_met_hidden"] or not m["cost_per_goal_met"]
                  else fmt_kr(m["cost_per_goal_met"], lang))
    return ctx | {
        "n_participants": count(n, k, lang), "cost_text": cost,
        "goal_met_text": _t("not_shown", lang) if ctx["goal_met_hidden"] else _t(
            "goal_met_text", lang, n=count(m["goal_met"], k, lang),
            share=fmt_pct(m["goal_met"] / n if n else None, 0, lang))}


def _sources(results: Any, cfg: ProjectConfig, unit: str, lang: str) -> dict[str, Any]:
    """The method section's data: which sources there are, the data quality sentence."""
    from .. import sources
    from .quality import sentence

    found = results.sources if results.sources is not None else sources.configured(cfg)
    return {"data_sources": found, "data_quality": sentence(results.quality, lang),
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
    """Steps, survey, QCA and business case: each as its own reader words it (the steps and
    the survey as notebook 02 words them)."""
    from . import business_case
    from . import qca as qca_reader
    from . import steps as steps_reader
    from . import survey as survey_reader

    steps, survey = results.steps, results.survey
    return {
        "steps_text": steps_reader.time_text(steps, masks, cfg, lang) or None if steps else None,
        "survey_text": survey_reader.text(survey, masks, cfg, lang) or None if survey else None,
        "qca_text": qca_reader.text(results.qca, masks, cfg, lang) if results.qca else None,
        **business_case.context(results.business_case, masks, cfg, unit, goal_met_hidden,
                                lang),
    }


def context(results: Any, masks: dict[str, Any] | None, cfg: ProjectConfig, unit: str,
            lang: str = "da") -> dict[str, Any]:
    """Everything the templates need, from the rebuilt results and the unit's masks."""
    from ..disclosure import require_masks

    masks = require_masks(masks, "the evaluation text")
    m = results.maaltal
    ctx = _about(cfg, unit, lang)
    ctx |= _maaltal(results, masks, cfg, lang)
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
