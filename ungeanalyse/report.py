"""What the notebooks show a reader: headings, Danish-formatted tables, and the evaluation text.

Notebooks tell the story; this module turns results into display objects and text, so that the
wording rules (sammenhæng, not virkning; small n said; suppressed cells) live in one place.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import i18n
from .config import ProjectConfig
from .errors import UserError
from .reader.display import show_figure, show_markdown, show_table  # noqa: F401

# moved to ungeanalyse.reader (quality, måltal, steps, survey): the old names stay until every
# caller uses the reader package; the måltal functions take (m, masks, cfg, lang) now
from .reader.maaltal import breakdown_masks as _breakdown_masks  # noqa: F401
from .reader.maaltal import (  # noqa: F401
    cost_text,
    count_text,
    goal_met_hidden,
    share_of_all_text,
    target_group_findings,
)
from .reader.maaltal import delprojekt_text as _breakdown_text  # noqa: F401
from .reader.maaltal import intro as maaltal_intro  # noqa: F401
from .reader.maaltal import plot_input as maaltal_plot_input  # noqa: F401
from .reader.maaltal import table as maaltal_reader_table  # noqa: F401
from .reader.maaltal import target_sentence as _target_sentence  # noqa: F401
from .reader.maaltal import unknown_text as maaltal_unknown_text  # noqa: F401
from .reader.quality import by_file as quality_by_file  # noqa: F401
from .reader.quality import figures as quality_figures  # noqa: F401
from .reader.quality import intro as quality_intro  # noqa: F401
from .reader.quality import location as quarantine_location  # noqa: F401
from .reader.quality import overview as quality_overview  # noqa: F401
from .reader.quality import problems as quality_problems  # noqa: F401
from .reader.quality import reasons as quality_reasons  # noqa: F401
from .reader.quality import worklist_frame as quarantine_list  # noqa: F401
from .reader.steps import funnel_table as funnel_reader_table  # noqa: F401
from .reader.table import _NUMERIC_TEXT, html_table  # noqa: F401
from .reader.table import fmt_cell as _fmt_cell  # noqa: F401
from .sources import method_sentence as data_sources_sentence
from .sources import voices_missing_sentence


def t(key: str, lang: str = "da") -> str:
    """A UI word in the report language (the ``ui`` section of the i18n catalogue)."""
    lang = lang if lang in i18n.LANGS else "da"
    return i18n.t(f"ui.{key}", lang) if i18n.has(f"ui.{key}", lang) else key


# -- the evaluation text --------------------------------------------------------------------

FIGURE_MARK = "<!-- figure:"


def _rate_text(k: int, n: int, rate: float | None, lo: float | None, hi: float | None,
               min_cell: int, lang: str) -> str:
    from .fmt import fmt_ci, fmt_pct

    if n < min_cell or (0 < k < min_cell) or (0 < n - k < min_cell):
        return NOT_SHOWN[lang]
    of, ci = ("af", "95 %-CI") if lang == "da" else ("of", "95% CI")
    return f"{fmt_pct(rate, 0, lang)} ({count_text(k, min_cell, lang)} {of} " \
           f"{count_text(n, min_cell, lang)}; {ci} {fmt_ci(lo, hi, lang)})"


def _optional(store: Any, name: str) -> dict[str, Any] | None:
    try:
        return store.load(name)
    except UserError:
        return None


def evaluation_context(cfg: ProjectConfig, unit: str, store: Any, lang: str = "da",
                       masks: dict[str, Any] | None = None) -> dict[str, Any]:
    """Everything the text templates need, from the results the analysis notebooks saved and
    the unit's masks (``masks``, else the disclosure step's: ``disclosure.load_masks``)."""
    from . import reader
    from . import steps as stepslib
    from . import survey as surveylib
    from .fmt import fmt_date, fmt_kr, fmt_pct
    from .outcomes import Maaltal

    da = lang == "da"
    min_cell = cfg.privacy.min_cell
    m = store.load("maaltal")
    if masks is None:
        from .disclosure import load_masks

        masks = load_masks(cfg, unit, lang)
    maaltal = reader.maaltal.evaluation_context(Maaltal.from_dict(m), masks, cfg, lang)
    cmo = _optional(store, "cmo") or {"hypotheses": [], "verdict_rules": "",
                                      "association_note": "", "p_adjust": "holm"}
    voices = _optional(store, "voices") or {}
    quality = _optional(store, "datakvalitet")
    project = cfg.project
    short = project.tr("short_name" if project.short_name else "name", lang)
    unit_name = (project.tr("name", lang) if unit == "all" else
                 f"{cfg.delprojekt(unit).tr('name', lang)} ({short})")
    n = m["n_participants"]
    hide_count = maaltal.pop("goal_met_hidden")
    maaltal.pop("rate_hidden")
    ctx: dict[str, Any] = {
        "title": (f"Slutevaluering: {unit_name}" if da else f"Final evaluation: {unit_name}"),
        "project": cfg.project,
        "unit_intro": (("Rapporten dækker hele projektet." if unit == "all" else
                        f"Rapporten dækker delprojektet {cfg.delprojekt(unit).name}.")
                       if da else ("This report covers the whole project." if unit == "all"
                                   else "This report covers "
                                        f"{cfg.delprojekt(unit).tr('name', lang)}.")),
        "period": f"{fmt_date(cfg.project.period.start, lang)} – "
                  f"{fmt_date(cfg.project.period.end, lang)}",
        "n_participants": count_text(n, min_cell, lang),
        "unit_name": unit_name,
        "goal_met_hidden": hide_count,
        "goal_met_text": (("vises ikke" if da else "not shown")
                          if hide_count else
                          f"{count_text(m['goal_met'], min_cell, lang)} unge "
                          f"({fmt_pct(m['goal_met'] / n if n else None, 0, lang)} af deltagerne)"
                          if da else f"{count_text(m['goal_met'], min_cell, lang)} young people"),
        "goal_description": cfg.targets.tr("goal_met_description", lang),
        "min_cell": min_cell,
        "has_comparison": cfg.comparison is not None,
        "budget": fmt_kr(cfg.project.budget_kr, lang) if unit == "all" else None,
        "delprojekter": cfg.delprojekter if unit == "all" else [cfg.delprojekt(unit)],
        "hypotheses": [h for h in cfg.hypotheses
                       if h.delprojekter == "all" or unit == "all" or unit in h.delprojekter],
        "has_survey": bool(cfg.files.survey),
        "data_sources": _data_sources(cfg, unit),
        "p_adjust": p_adjust_text(cmo.get("p_adjust", "holm"), lang),
        "verdict_rules": cmo.get("verdict_rules" if da else "verdict_rules_en", ""),
        "association_note": cmo.get("association_note" if da else "association_note_en", ""),
        "secondary_note": cmo.get("secondary_note" if da else "secondary_note_en", ""),
        "cmo_method": cmo.get("method" if da else "method_en", ""),
    }
    ctx.update(maaltal)
    if m.get("cost_per_participant"):
        ctx["cost_text"] = (
            f"Med et budget på {fmt_kr(m['budget_kr'], lang)} er udgiften "
            f"{fmt_kr(m['cost_per_participant'], lang)} pr. deltager og "
            f"{fmt_kr(m['cost_per_goal_met'], lang)} pr. ung, der har indfriet målet."
            if da else
            f"With a budget of {fmt_kr(m['budget_kr'], lang)} the cost is "
            f"{fmt_kr(m['cost_per_participant'], lang)} per participant and "
            f"{fmt_kr(m['cost_per_goal_met'], lang)} per young person who met the goal.")
    from .business_case import reader_context

    ctx.update(reader_context(cfg, unit, _optional(store, "business_case"), hide_count, lang))
    steps = _optional(store, "steps")
    ctx["steps_text"] = (reader.steps.time_text(stepslib.StepsResult.from_dict(steps), masks,
                                                cfg, lang) or None) if steps else None
    survey = _optional(store, "survey")
    ctx["survey_text"] = (reader.survey.text(surveylib.SurveyResult.from_dict(survey), masks,
                                             cfg, lang) or None) if survey else None
    qca = _optional(store, "qca")
    ctx["qca_text"] = qca.get("text") if qca else None
    ctx["data_quality"] = reader.quality.sentence(quality, lang)
    # the method section names exactly the sources there are, and says which are missing
    ctx["data_sources_text"] = data_sources_sentence(ctx["data_sources"], lang)
    ctx["voices_note"] = voices_missing_sentence(ctx["data_sources"], lang)
    ctx["hypotheses_results"] = [_hypothesis_context(h, voices.get(h["id"], {}), min_cell, lang)
                                 for h in cmo["hypotheses"]]
    ctx["findings"] = [h["finding"] for h in ctx["hypotheses_results"] if h["finding"]]
    ctx["pixi_findings"] = _pixi_findings(ctx, m, lang)[:5]
    ctx["strengths"], ctx["limitations"] = _strengths_limitations(ctx, m, cmo, min_cell, lang)
    ctx["conclusions"] = _conclusions(ctx, m, lang)
    return ctx


def p_adjust_text(method: str, lang: str = "da") -> str:
    """How the p-values were adjusted ('holm' → 'Holm-korrektion'), in the report language."""
    key = f"p_adjust.{method}"
    return i18n.t(key, lang) if i18n.has(key, lang) else method


def _data_sources(cfg: ProjectConfig, unit: str) -> list[str]:
    """The optional sources with data for the unit (``ungeanalyse.sources``)."""
    from .sources import data_sources

    return data_sources(cfg, unit)


HYPOTHESIS_CELLS = {
    "da": (("in_yes", "med mekanismen i konteksten"), ("in_no", "uden mekanismen i konteksten"),
           ("out_yes", "med mekanismen uden for konteksten"),
           ("out_no", "uden mekanismen uden for konteksten")),
    "en": (("in_yes", "with the mechanism in the context"),
           ("in_no", "without the mechanism in the context"),
           ("out_yes", "with the mechanism outside the context"),
           ("out_no", "without the mechanism outside the context")),
}
"""The four cells of a hypothesis as the text names them."""

VOICE_COUNT_WORDS = {
    "da": ({"ung": "unge", "partner": "partnere", "case": "casebeskrivelser"}, "fra"),
    "en": ({"ung": "young people", "partner": "partners", "case": "case descriptions"}, "from"),
}
VOICE_SOURCE_EN = {"ung": "young person", "partner": "partner",
                   "casebeskrivelse": "case description"}
"""The source of a quote (as ``voices`` saves it, in Danish) in English."""


def privacy_rate_hidden(k: int, n: int, min_cell: int) -> bool:
    """``privacy.rate_hidden`` for one cell."""
    from . import privacy

    return bool(privacy.rate_hidden(k, n, min_cell))


def _hypothesis_context(h: dict[str, Any], voices: dict[str, Any], min_cell: int,
                        lang: str) -> dict[str, Any]:
    from .fmt import fmt_pct, fmt_signed

    da = lang == "da"
    cells = {c["cell"]: c for c in h["cells"]}
    # the same cells as the CMO table hides (a hidden cell's partner in its context too)
    hidden = _cmo_hidden(cells, min_cell, h.get("n_in_scope", 0) - h.get("n", 0),
                         h.get("hidden"))
    # every hidden cell reads the same, small or hidden to protect a small one (wording that
    # told them apart would say which is small); the reasons are given once, below
    parts = []
    for key, label in HYPOTHESIS_CELLS[lang]:
        c = cells.get(key)
        if c is None:
            continue
        text = (NOT_SHOWN[lang] if hidden[key] else
                _rate_text(c["k"], c["n"], c["rate"], c["ci_low"], c["ci_high"], min_cell, lang))
        parts.append(f"- {label}: {text}")
    if any(hidden.get(key) for key, _ in HYPOTHESIS_CELLS[lang] if key in cells):
        parts.append(f"\n*{HIDDEN_REASONS[lang].format(k=min_cell)}*")
    d = h["diff_in"]
    diff = ""
    if (h["verdict_code"] != "too_few_data" and d.get("estimate") is not None
            and not (hidden["in_yes"] or hidden["in_no"])):
        pp = 100 * d["estimate"]
        lo, hi = fmt_signed(100 * d["ci_low"]), fmt_signed(100 * d["ci_high"])
        diff = (f"Forskellen i konteksten er {fmt_signed(pp)} procentpoint (95 %-CI "
                f"{lo} til {hi})."
                if da else f"The difference in context is {fmt_signed(pp)} percentage points "
                f"(95% CI {lo} to {hi}).")
    model = h.get("model") or {}
    rd = model.get("rd_in") or {}
    if (diff and not any(hidden.values()) and model.get("ok")
            and rd.get("estimate") is not None):
        adj = " og ".join(_adjusted_for(model, lang)) if da else " and ".join(
            _adjusted_for(model, lang))
        est, lo, hi = (fmt_signed(100 * rd[k]) for k in ("estimate", "ci_low", "ci_high"))
        diff += (f" Justeret for {adj} er den {est} procentpoint (95 %-CI {lo} til {hi})."
                 if da else f" Adjusted for {adj} it is {est} percentage points (95% CI {lo} "
                 f"to {hi}).")
    # the labels in the report language; English falls back to Danish when the config (or an
    # older cmo.json) has no English text
    title, context, mechanism, outcome = (
        h[part] if da else (h.get(f"{part}_en") or h[part])
        for part in ("title", "context_label", "mechanism_label", "outcome_label"))
    verdict = h["verdict"] if da else h["verdict_en"]
    finding = _finding(h, mechanism, context, outcome, verdict, lang)
    counts = voices.get("counts", {})
    count_words, from_ = VOICE_COUNT_WORDS[lang]
    voice_counts = ", ".join(f"{n} {from_} {count_words.get(k, k)}"
                             for k, n in counts.items() if n)
    quotes = voices.get("quotes", [])
    if not da:
        quotes = [{**q, "source": VOICE_SOURCE_EN.get(q["source"], q["source"])} for q in quotes]
    return {
        "id": h["id"], "title": title, "context_label": context,
        "mechanism_label": mechanism, "outcome_label": outcome,
        "figures": "\n".join(parts) + ("\n\n" + diff if diff else ""),
        "verdict": verdict, "verdict_code": h["verdict_code"],
        # the reader versions (older cmo.json files have only the full ones)
        "rule": h.get("reader_rule" if da else "reader_rule_en") or (
            h["rule"] if da else h["rule_en"]),
        "notes": h.get("reader_notes" if da else "reader_notes_en") or (
            h["notes"] if da else h["notes_en"]),
        "voices": quotes, "voice_counts": voice_counts,
        "finding": finding,
        "mechanism": mechanism, "context": context,
        "rate_in_yes": "–" if hidden["in_yes"] else fmt_pct(cells["in_yes"]["rate"], 0, lang),
    }


def _adjusted_for(model: dict[str, Any], lang: str) -> list[str]:
    """What the model adjusted for, in words."""
    words = {"da": {"delprojekt": "delprojekt", "target_group": "målgruppe"},
             "en": {"delprojekt": "sub-project", "target_group": "target group"}}[lang]
    return [words.get(a, a) for a in model.get("adjusted_for", [])] or (
        ["ingenting"] if lang == "da" else ["nothing"])


def _finding(h: dict[str, Any], mechanism: str, context: str, outcome: str, verdict: str,
             lang: str) -> str:
    """The finding a verdict carries, worded as its hypothesis expects (stronger in the context,
    positive, negative) and as an association; '' for 'for få data'."""
    da = lang == "da"
    code, expected = h["verdict_code"], h.get("expected", "positive")
    more = expected != "negative"
    if code in ("supported", "partly_supported"):
        if expected == "stronger_in_context":
            return (f"{h['id']}: {mechanism} hænger stærkere sammen med udfaldet "
                    f"»{outcome.lower()}« blandt unge i konteksten »{context}« end blandt "
                    f"andre ({verdict}; en sammenhæng, ikke en målt virkning)." if da else
                    f"{h['id']}: {_inline(mechanism)} goes more strongly with the outcome "
                    f"'{_inline(outcome)}' among young people in the context '{context}' than "
                    f"among others ({verdict}; an association, not a measured effect).")
        fewer = "flere" if more else "færre"
        return (f"{h['id']}: blandt unge i konteksten »{context}« har {fewer}"
                f" af dem, der fik {mechanism.lower()}, udfaldet »{outcome.lower()}« end af "
                f"dem, der ikke fik det ({verdict}; en sammenhæng, ikke en målt virkning)."
                if da else
                f"{h['id']}: among young people in the context '{context}', "
                f"{'more' if more else 'fewer'} of those who received "
                f"{_inline(mechanism)} have the outcome '{_inline(outcome)}' than of those who "
                f"did not ({verdict}; an association, not a measured effect).")
    if code == "not_supported":
        return (f"{h['id']}: den forventede sammenhæng for {mechanism.lower()} (»{context}«) er "
                "ikke fundet." if da else
                f"{h['id']}: the expected association for {_inline(mechanism)} ('{context}') "
                "was not found.")
    return ""


def _pixi_findings(ctx: dict[str, Any], m: dict[str, Any], lang: str) -> list[str]:
    da = lang == "da"
    out = []
    if ctx.get("success"):
        out.append(f"{ctx['success']['rate']} af de afsluttede forløb endte med, at målet blev "
                   f"indfriet ({ctx['success']['ci']})." if da else
                   f"{ctx['success']['rate']} of closed cases met the goal.")
        if ctx["success"].get("unknown_text"):
            out[-1] += " " + ctx["success"]["unknown_text"]
    tgs = [t for t in ctx["target_groups"] if t["rate"] != "–" and not t.get("share")]
    if len(tgs) >= 2:
        def span(t: dict[str, Any]) -> str:
            if not t.get("range"):
                return ""
            return (f" ({t['range']} med ukendt status talt som indfriet)" if da else
                    f" ({t['range']} with unknown status counted as goal met)")

        out.append("Succesraten var " + " og ".join(f"{t['rate']}{span(t)} for "
                                                     f"{t['label'].lower()}" for t in tgs) + "."
                   if da else "Success rates: " + ", ".join(f"{t['label']} {t['rate']}{span(t)}"
                                                            for t in tgs) + ".")
    out += ctx["findings"]
    return out


def _strengths_limitations(ctx: dict[str, Any], m: dict[str, Any], cmo: dict[str, Any],
                           min_cell: int, lang: str) -> tuple[list[str], list[str]]:
    da = lang == "da"
    strengths = [
        "Måltallene bygger på alle deltagere, ikke en stikprøve, og hver række fra partnerne "
        "er gjort op: renset, i karantæne med årsag, eller dublet." if da else
        "The figures cover all participants, and every partner row is accounted for.",
    ]
    if "voices" in ctx.get("data_sources", ["voices"]):  # only a project with coded voices
        strengths.append("Tal og de unges og partnernes stemmer er holdt op mod de samme "
                         "hypoteser." if da else
                         "Figures and voices are set against the same hypotheses.")
    limitations = [
        ("Hypoteserne sammenligner de unge i projektet med hinanden, ikke med "
         "sammenligningsgruppen: deres sammenhænge kan skyldes, hvem der fik indsatsen, og ikke "
         "indsatsen selv." if da else "The hypotheses compare the young people in the project "
         "with each other, not with the comparison group: their associations may reflect who "
         "received an element rather than the element itself.")
        if ctx.get("has_comparison") else
        "Der er ingen kontrolgruppe: sammenhænge kan skyldes, hvem der fik indsatsen, og ikke "
        "indsatsen selv." if da else "There is no comparison group: associations may reflect "
        "who received an element rather than the element itself.",
    ]
    few = [h["id"] for h in cmo.get("hypotheses", []) if h["verdict_code"] == "too_few_data"]
    if few:
        limitations.append(("For hypotese " + ", ".join(few) + " er der for få unge i mindst én "
                            f"gruppe (under {min_cell}) til at vurdere den.") if da else
                           f"Too few young people to judge hypotheses {', '.join(few)}.")
    if m["n_participants"] < 100:
        limitations.append(f"Med {count_text(m['n_participants'], min_cell, lang)} deltagere er "
                           "usikkerheden stor; intervallerne er brede." if da else
                           "With few participants the intervals are wide.")
    if ctx.get("survey_text"):
        limitations.append("Ikke alle besvarede spørgeskemaet ved opfølgning; de, der svarede, "
                           "kan adskille sig fra dem, der ikke gjorde (se frafaldsanalysen)."
                           if da else "Not everyone answered the follow-up survey.")
    return strengths, limitations


def _inline(label: str) -> str:
    """'Fixed contact person' → 'fixed contact person' inside an English sentence; an acronym
    at the start ('ADHD / autism', 'FGU') keeps its capitals."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _conclusions(ctx: dict[str, Any], m: dict[str, Any], lang: str) -> list[str]:
    da = lang == "da"
    out = []
    # each recommendation names the finding it comes from; there is no comparison group, so
    # a supported association is a reason to test the element, not proof that it works
    for h in ctx["hypotheses_results"]:
        mech, where, hid = h["mechanism"], h["context"], h["id"]
        if h["verdict_code"] == "supported":
            out.append(f"Afprøv {mech.lower()} for unge i konteksten »{where}« i et design med en "
                       f"sammenligningsgruppe, før indsatsen udbredes: {hid} er støttet, men "
                       "viser en sammenhæng, ikke at indsatsen virker." if da else
                       f"Test {_inline(mech)} for young people in the context '{where}' in a "
                       f"design with a comparison group before spreading it: {hid} is "
                       "supported, but shows an association, not that the element works.")
        elif h["verdict_code"] == "partly_supported":
            out.append(f"Undersøg {mech.lower()} nærmere for »{where}«: {hid} er delvist "
                       "støttet; sammenhængen holder ikke efter justering for flere hypoteser "
                       "(eller er usikker i konteksten)." if da else
                       f"Examine {_inline(mech)} further for '{where}': {hid} is partly "
                       "supported; the association does not survive adjustment for multiple "
                       "hypotheses (or is uncertain in the context).")
        elif h["verdict_code"] == "too_few_data":
            out.append(f"Indsaml flere data om {mech.lower()} for »{where}«: {hid} kunne ikke "
                       "vurderes (for få data)." if da else
                       f"Collect more data on {_inline(mech)} for '{where}': {hid} could not "
                       "be judged (too few data).")
    # only from a difference between target groups whose interval excludes 0
    out += ctx["target_group_findings"]["recommendations"]
    return out


def render_text(cfg: ProjectConfig, unit: str, store: Any, variant: str = "full",
                lang: str = "da", masks: dict[str, Any] | None = None) -> str:
    """The evaluation text (``variant='full'``) or the pixi summary as Markdown (``masks``:
    the unit's, else the disclosure step's)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ungeanalyse", "templates"),
        autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    from . import evaluator_text

    def template_for(name: str) -> Any:
        try:
            return env.get_template(f"{name}_{lang}.md.j2")
        except jinja2.TemplateNotFound:
            return env.get_template(f"{name}_da.md.j2")

    ctx = evaluation_context(cfg, unit, store, lang, masks)
    ctx.setdefault("cost_text", None)
    template = template_for("pixi" if variant == "pixi" else "evaluering")
    if not evaluator_text.text_files(cfg, unit, lang):
        evaluator_text.empty(ctx, store)
        return template.render(**ctx)
    # the evaluator's texts: their hand-typed numbers are checked against every figure the
    # generated evaluation and pixi publish
    evaluator_text.empty(ctx)
    generated = [template_for(n).render(**ctx) for n in ("evaluering", "pixi")]
    evaluator_text.attach(cfg, unit, store, ctx, lang, generated)
    return template.render(**ctx)


def show_text(cfg: ProjectConfig, unit: str, store: Any, variant: str = "full",
              lang: str = "da", masks: dict[str, Any] | None = None) -> str:
    """Display the evaluation text with its figures in place; returns the Markdown."""
    from IPython.display import Image, display

    text = render_text(cfg, unit, store, variant, lang, masks)
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
    return text


# -- glue for notebooks 02 and 03 -----------------------------------------------------------


def hypothesis_mechanisms(cmo: Any) -> list[str]:
    """The distinct mechanism expressions of a CMO table, in order."""
    seen: list[str] = []
    for r in cmo.results:
        if r.mechanism not in seen:
            seen.append(r.mechanism)
    return seen


def voices(display_table: pd.DataFrame) -> dict[str, Any]:
    """Quote counts by source type and the chosen quotes per hypothesis, for the text."""
    words = {"ung": "ung", "partner": "partner", "case": "casebeskrivelse"}
    out: dict[str, Any] = {}
    for _, row in display_table.iterrows():
        quotes = row["quotes"] if isinstance(row["quotes"], list) else []
        out[row["id"]] = {
            "counts": {"ung": int(row["n_ung"]), "partner": int(row["n_partner"]),
                       "case": int(row["n_case"])},
            "quotes": [{"text": q["text"], "source": words.get(q["source_type"],
                                                               q["source_type"])}
                       for q in quotes],
        }
    return out


def joint_display_text(cmo: Any, display_table: pd.DataFrame, cfg: ProjectConfig,
                       lang: str = "da") -> str:
    """The joint display as Markdown: per hypothesis figures, verdict, rule and voices."""
    v = voices(display_table)
    parts = []
    for r in cmo.results:
        ctx = _hypothesis_context(r.to_dict(), v.get(r.id, {}), cfg.privacy.min_cell, lang)
        block = [f"### {ctx['id']}. {ctx['title']}", "",
                 f"*{'Kontekst' if lang == 'da' else 'Context'}:* {ctx['context_label']}. "
                 f"*{'Mekanisme' if lang == 'da' else 'Mechanism'}:* {ctx['mechanism_label']}.",
                 "", ctx["figures"], "",
                 f"**{'Dom' if lang == 'da' else 'Verdict'}: {ctx['verdict']}.** {ctx['rule']}"]
        block += [f"- {n}" for n in ctx["notes"]]
        if ctx["voices"]:
            block += ["", f"*{'Stemmer' if lang == 'da' else 'Voices'}* ({ctx['voice_counts']}):"]
            left, right = ("»", "«") if lang == "da" else ("“", "”")
            block += [f"> {left}{q['text']}{right} – {q['source']}\n" for q in ctx["voices"]]
        parts.append("\n".join(block))
    unlinked = display_table.attrs.get("n_unlinked", 0)
    if unlinked:
        parts.append(f"*{unlinked} citat(er) er kodet til en hypotese, der ikke findes i "
                     "konfigurationen; de er ikke vist.*" if lang == "da" else
                     f"*{unlinked} quote(s) cite an unknown hypothesis and are not shown.*")
    return "\n\n".join(parts)


def forest_input(cmo: Any, cfg: ProjectConfig, lang: str = "da") -> pd.DataFrame:
    """Crude and adjusted differences in context with CIs for the forest plot; rows whose
    difference the CMO table hides (too few data, or an in-context cell hidden) left out, and
    the adjusted one (adj, adj_lo, adj_hi) NaN where the table hides it (any cell hidden)."""
    rows = []
    for r in cmo.results:
        hidden = _cmo_hidden({c["cell"]: c for _, c in r.cells.iterrows()},
                             cfg.privacy.min_cell, r.n_in_scope - r.n, r.hidden)
        if r.verdict_code == "too_few_data" or hidden["in_yes"] or hidden["in_no"]:
            continue
        rd = r.model.rd_in
        show_adj = r.model.ok and not any(hidden.values())
        rows.append({"id": r.id, "title": r.tr("title", lang),
                     "diff": r.diff_in.estimate, "diff_lo": r.diff_in.ci_low,
                     "diff_hi": r.diff_in.ci_high,
                     "adj": rd.estimate if show_adj else np.nan,
                     "adj_lo": rd.ci_low if show_adj else np.nan,
                     "adj_hi": rd.ci_high if show_adj else np.nan,
                     "verdict": r.verdict if lang == "da" else r.verdict_en,
                     "verdict_code": r.verdict_code})
    return pd.DataFrame(rows, columns=["id", "title", "diff", "diff_lo", "diff_hi", "adj",
                                       "adj_lo", "adj_hi", "verdict", "verdict_code"])


def small_cells(counts: pd.Series, min_cell: int) -> pd.Series:
    """Cells to hide in a column of counts whose total is shown: counts 1..min_cell-1 and, by
    secondary suppression, enough others that none can be found by subtraction."""
    from . import privacy

    return privacy.suppress_series(counts, min_cell, total=True)


NOT_SHOWN = {"da": "vises ikke", "en": "not shown"}
HIDDEN_REASONS = {
    "da": ("En andel vises ikke, når gruppen har færre end {k} med eller uden udfaldet, eller "
           "når den kunne bruges til at regne et sådant lille tal ud."),
    "en": ("A share is not shown when the group has fewer than {k} with or without the "
           "outcome, or when it could be used to work such a small count out."),
}
"""What a hidden figure reads in the text: the same words whatever the reason (the reasons are
explained once, in the table's note)."""


CMO_CELLS = ("in_yes", "in_no", "out_yes", "out_no")


def _cmo_hidden(cells: dict[str, Any], min_cell: int, left_out: int = 0,
                hidden: dict[str, bool] | None = None) -> dict[str, bool]:
    """Which of a hypothesis' four rates to hide: the project-wide plan's ``hidden`` when the
    result carries it, else the unit's own rule (``realist.hidden_cells``)."""
    from . import realist

    if hidden is not None:
        return dict(hidden)
    return realist.hidden_cells(cells, min_cell, left_out)


def cmo_reader_table(cmo: Any, cfg: ProjectConfig, lang: str = "da"
                     ) -> tuple[pd.DataFrame, str, str, str | None]:
    """The CMO table for readers: rates of cells under the limit hidden, verdicts shown."""
    from .fmt import fmt_pct, fmt_signed

    da = lang == "da"
    k = cfg.privacy.min_cell
    rows = []
    for r in cmo.results:
        cells = {c["cell"]: c for _, c in r.cells.iterrows()}
        hidden = _cmo_hidden(cells, k, r.n_in_scope - r.n, r.hidden)

        def rate(key: str, cells: dict[str, Any] = cells,
                 hidden: dict[str, bool] = hidden) -> str:
            c = cells.get(key)
            if c is None or hidden[key] or c["n"] < k:
                return "–"
            return f"{fmt_pct(c['rate'], 0, lang)} (n={int(c['n'])})"

        too_few = r.verdict_code == "too_few_data" or hidden["in_yes"] or hidden["in_no"]
        diff = "–" if too_few else (
            f"{fmt_signed(100 * r.diff_in.estimate)} pp ({fmt_signed(100 * r.diff_in.ci_low)} "
            f"{'til' if da else 'to'} {fmt_signed(100 * r.diff_in.ci_high)})")
        # the model's figure uses every cell (and the strata): shown only when none is hidden
        rd = r.model.rd_in
        adjusted = "–" if (too_few or any(hidden.values()) or not r.model.ok) else (
            f"{fmt_signed(100 * rd.estimate)} pp ({fmt_signed(100 * rd.ci_low)} "
            f"{'til' if da else 'to'} {fmt_signed(100 * rd.ci_high)})")
        rows.append({
            "Hypotese" if da else "Hypothesis": f"{r.id}: {r.tr('title', lang)}",
            "Kontekst" if da else "Context": r.tr("context_label", lang),
            "Mekanisme" if da else "Mechanism": r.tr("mechanism_label", lang),
            "I konteksten, med" if da else "In context, with": rate("in_yes"),
            "I konteksten, uden" if da else "In context, without": rate("in_no"),
            "Uden for, med" if da else "Outside, with": rate("out_yes"),
            "Uden for, uden" if da else "Outside, without": rate("out_no"),
            "Forskel i konteksten" if da else "Difference in context": diff,
            "Justeret forskel" if da else "Adjusted difference": adjusted,
            "Justeret p" if da else "Adjusted p": "–" if too_few or pd.isna(r.p_adj) else
            f"{r.p_adj:.3f}".replace(".", "," if da else "."),
            "Dom" if da else "Verdict": r.verdict if da else r.verdict_en,
        })
    note = (f"Andel, der indfriede målet. Grupper under {k} eller med færre end {k} med eller "
            "uden udfaldet vises som –. pp = procentpoint, 95 %-konfidensinterval i parentes. "
            "Justeret forskel: fra modellen, justeret for delprojekt og målgruppe (vises ikke, "
            "når en gruppe er skjult)."
            if da else f"Share meeting the goal. Groups under {k}, or with fewer than {k} with or "
            "without the outcome, are shown as –. pp = percentage points, 95% confidence "
            "interval in brackets. Adjusted difference: from the model, adjusted for sub-project "
            "and target group (not shown when a group is hidden).")
    return (pd.DataFrame(rows), "Hypoteser, tal og domme" if da else "Hypotheses and verdicts",
            lang, note)


def heatmap_withheld(cmo: Any, mechanism: str, min_cell: int) -> bool:
    """Whether the subgroup heatmap of a mechanism must not be shown: its rates next to the
    category sizes give the mechanism's totals, which would let a reader work out a CMO cell
    the table hides (``realist.margins_needed``; under the project-wide plan: any hidden cell
    that the mechanism's totals would pin down)."""
    from . import privacy, realist

    def pinned(r: Any) -> bool:
        hidden = realist.reader_hidden(r)
        keys = [key for key, _, _ in realist.CELLS]
        mask = np.array([hidden[key] for key in keys])
        n = r.cells.set_index("cell").loc[keys, "n"].to_numpy(dtype=float)
        lines = [[0, 1], [2, 3], [0, 2], [1, 3]]  # context totals, and the mechanism's
        found = privacy.determined_cells(len(mask), lines, None, mask)
        return any(found[i] for i in np.flatnonzero(mask) if n[i] > 0)

    return any((realist.margins_needed(r.cells, min_cell, r.n_in_scope - r.n)
                or (r.hidden is not None and pinned(r)))
               for r in cmo.results if r.mechanism == mechanism)


def subgroup_figure(participants: pd.DataFrame, cfg: ProjectConfig, mechanism: str, unit: str,
                    lang: str = "da", cmo: Any = None) -> Any:
    """Heatmap of goal-met rates by subgroup × mechanism yes/no (cells under the limit blank);
    with ``cmo``, None (and a sentence saying why) when the heatmap would reveal a CMO cell."""
    from . import plot, realist

    if cmo is not None and heatmap_withheld(cmo, mechanism, cfg.privacy.min_cell):
        label = realist._context_label(mechanism, cfg, lang)
        show_markdown(f"Undergrupperne for »{label}« vises ikke: sammen med tabellen over "
                      "hypoteserne ville de afsløre en gruppe med færre end "
                      f"{cfg.privacy.min_cell} unge." if lang == "da" else
                      f"The subgroups for “{label}” are not shown: together with the table of "
                      f"hypotheses they would reveal a group of fewer than "
                      f"{cfg.privacy.min_cell} young people.")
        return None

    protect = [] if cmo is None else [
        (r.context, hidden["in_yes"] or hidden["in_no"], hidden["out_yes"] or hidden["out_no"])
        for r in cmo.results if r.mechanism == mechanism
        for hidden in [realist.reader_hidden(r)]]
    matrix = realist.subgroup_matrix(participants, cfg, mechanism, unit=unit, lang=lang,
                                     protect=protect)
    if matrix.empty or not (~matrix["suppressed"]).any():
        return None
    return plot.subgroup_heatmap(realist.subgroup_pivot(matrix), lang=lang)


QCA_ANCHORS = (0.2, 0.5, 0.8)
"""Direct-method anchors for shares at delprojekt level: fully out / crossover / fully in."""
QCA_GOAL_ANCHORS = (0.35, 0.6, 0.85)
"""Anchors for the share who met the goal in a delprojekt."""
QCA_INCL_CUTS = (0.75, 0.8, 0.85, 0.9)
"""Consistency cut-offs tried in the robustness table (the analysis uses 0.8)."""
QCA_ANCHOR_SHIFTS = (-0.05, 0.05)
"""Shifts of all calibration anchors tried in the robustness table (delprojekt level)."""


def qca_directions(cfg: ProjectConfig, columns: list[str]) -> dict[str, int | str]:
    """Directional expectations per condition column for the intermediate solution: a
    mechanism (element) of a CMO hypothesis is expected present for the goal (absent when the
    hypothesis expects a negative association); a context has no expectation ("-"). The
    config's ``qca.directions`` overrides."""
    out: dict[str, int | str] = dict.fromkeys(columns, "-")
    for h in cfg.hypotheses:
        if h.mechanism in out and out[h.mechanism] == "-":
            out[h.mechanism] = 0 if h.expected == "negative" else 1
    out.update({c: v for c, v in cfg.qca.directions.items() if c in out})
    return out


def _qca_rename(expression: str, names: dict[str, str]) -> str:
    """A config expression over columns (``element_a*~tg_b``) in the QCA short names."""
    import re

    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*",
                  lambda m: names.get(m.group(0), m.group(0)), expression)


def _qca_direction_text(directions: dict[str, Any], names: dict[str, str], lang: str) -> str:
    da = lang == "da"
    word = {1: "til stede" if da else "present", 0: "fraværende" if da else "absent",
            "-": "begge dele" if da else "either"}
    each = ", ".join(f"{names[c]} {word[v]}" for c, v in directions.items())
    return (f"Retningsforventninger fra forandringsteorien (mekanismer forventes at gå sammen med "
            f"målet, når de er til stede): {each}." if da else
            f"Directional expectations from the theory of change (mechanisms are expected to go "
            f"with the goal when present): {each}.")


def _qca_untenable_text(untenable: pd.DataFrame, lang: str) -> str:
    """Which simplifying assumptions the Enhanced Standard Analysis left out, and why."""
    da = lang == "da"
    if untenable.empty:
        return ("Ingen af de forenklende antagelser er uholdbare (ingen er modstridende, i strid "
                "med en nødvendig betingelse eller umulige efter konfigurationen)." if da else
                "None of the simplifying assumptions is untenable (none is contradictory, "
                "against a necessary condition, or impossible by the configuration).")
    why = {"contradictory": ("antages også for det modsatte udfald", "also assumed for the "
                             "opposite outcome"),
           "necessity": ("mangler den nødvendige betingelse", "lacks the necessary condition"),
           "impossible": ("umulig efter konfigurationen", "impossible by the configuration")}
    parts = []
    for config, group in untenable.groupby("configuration", sort=False):
        reasons = "; ".join(why[r][0 if da else 1] + (f" {d}" if r == "necessity" else "")
                            for r, d in zip(group["reason"], group["detail"], strict=True))
        parts.append(f"`{config}` ({reasons})")
    head = (f"Uholdbare antagelser holdt ude ({len(parts)} kombination(er)): " if da else
            f"Untenable assumptions left out ({len(parts)} combination(s)): ")
    return head + ", ".join(parts) + "."


def qca_robustness_table(rob: Any, lang: str = "da") -> pd.DataFrame:
    """The robustness runs as a reader table: test, setting, solution."""
    from .fmt import fmt_float

    da = lang == "da"
    test = {"base": "Analysen" if da else "The analysis",
            "incl_cut": "Konsistensgrænse" if da else "Consistency cut-off",
            "n_cut": "Frekvensgrænse" if da else "Frequency cut-off",
            "calibration": "Kalibrering" if da else "Calibration"}

    def setting(r: Any) -> str:
        if r.test == "base":
            return (f"konsistens {fmt_float(r.incl_cut, 2, lang)}, mindst {r.n_cut}" if da else
                    f"consistency {fmt_float(r.incl_cut, 2, lang)}, at least {r.n_cut}")
        if r.test == "incl_cut":
            return fmt_float(r.incl_cut, 2, lang)
        return str(r.setting)

    return pd.DataFrame({
        "Test" if da else "Test": [test[t] for t in rob.table["test"]],
        "Indstilling" if da else "Setting": [setting(r) for r in rob.table.itertuples()],
        "Løsning" if da else "Solution": [e or ("ingen" if da else "none")
                                           for e in rob.table["expression"]],
    })


def qca_robustness_text(rob: Any, lang: str = "da") -> str:
    """One plain sentence on which terms of the solution survive the robustness runs."""
    da = lang == "da"
    n = len(rob.table)
    same = int((rob.table["expression"] == rob.table["expression"].iloc[0]).sum())
    kept = rob.robust
    if rob.terms.empty:
        return ("Robusthed: der er ingen løsning at afprøve." if da else
                "Robustness: there is no solution to test.")
    if kept and same == n:
        return (f"Robusthed: alle {n} varianter af grænser og kalibrering giver den samme "
                "løsning." if da else
                f"Robustness: all {n} variants of cut-offs and calibration give the same "
                "solution.")
    terms = ", ".join(f"`{t}`" for t in kept)
    # "x af de y andre": never "x af y", which reads as a count of people
    again = (f"Robusthed: analysens løsning kommer igen i {same - 1} af de {n - 1} andre "
             "varianter" if da else
             f"Robustness: the analysis's solution comes back in {same - 1} of the {n - 1} other "
             "variants")
    if kept:
        return again + (f"; {terms} findes i dem alle, resten afhænger af grænserne." if da else
                        f"; {terms} appear in all of them, the rest depends on the cut-offs.")
    return again + (", og ingen term findes i dem alle: løsningen afhænger af grænserne og skal "
                    "læses med forsigtighed." if da else
                    ", and no term appears in all of them: the solution depends on the cut-offs "
                    "and should be read with care.")


def _qca_skew_table(data: pd.DataFrame, sets: list[str], lang: str) -> pd.DataFrame:
    from . import qca
    from .fmt import fmt_pct

    da = lang == "da"
    sk = qca.skewness(data, sets)
    return pd.DataFrame({
        "Mængde" if da else "Set": sk.index,
        "Andel med medlemskab over 0,5" if da else "Share with membership above 0.5":
            [fmt_pct(v, 0, lang) for v in sk["share_in"]],
        "Skæv?" if da else "Skewed?": [("ja" if da else "yes") if v else ("nej" if da else "no")
                                       for v in sk["skewed"]],
    })


def _qca_analysis(tt: Any, directions: dict[str, Any], impossible: list[str], labels: dict,
                  lang: str, min_cell: int | None) -> tuple[str, Any, Any]:
    """Intermediate solution first (the one to read), the other two as its bounds, and the
    untenable assumptions left out; returns the text, the intermediate solution and the
    untenable rows."""
    from . import qca

    da = lang == "da"
    describe = qca.describe_solution_da if da else qca.describe_solution_en
    if tt.positive.empty:
        return describe(qca.minimize(tt), tt, labels, min_cell=min_cell), None, pd.DataFrame()
    untenable = qca.untenable_assumptions(tt, impossible)
    exclude = list(untenable["row"].unique())
    inter = qca.minimize(tt, include_remainders=True, directional=directions, exclude=exclude)
    cons = qca.minimize(tt)
    pars = qca.minimize(tt, include_remainders=True, exclude=exclude)
    head = "**Intermediær løsning (den, der skal læses).** " if da else \
        "**Intermediate solution (the one to read).** "
    if tt.remainders.empty:  # nothing to assume: the three solutions are one
        return (head + describe(inter, tt, labels, min_cell=min_cell) + "\n\n"
                + ("Der er ingen logiske rester, så den konservative, den intermediære og den "
                   "parsimoniske løsning er den samme." if da else
                   "There are no logical remainders, so the conservative, intermediate and "
                   "parsimonious solutions are the same."), inter, untenable)
    text = (head + describe(inter, tt, labels, min_cell=min_cell) + "\n\n"
            + qca.describe_bounds(cons, pars, tt, lang, min_cell=min_cell) + " "
            + _qca_untenable_text(untenable, lang))
    return text, inter, untenable


def qca_section(participants: pd.DataFrame, cfg: ProjectConfig, store: Any, unit: str,
                lang: str = "da") -> str:
    """QCA at participant level (crisp) and delprojekt level (fuzzy shares): the intermediate
    solution first with the conservative and parsimonious ones as bounds, untenable
    assumptions left out, necessity with RoN, skewness, XY plots and a robustness table;
    participant-level figures are withheld when any configuration has 1..min_cell-1 young
    people with or without the goal. Shows and saves."""
    from . import plot, qca
    from .fmt import fmt_float

    da = lang == "da"
    k = cfg.privacy.min_cell
    hyps = [h for h in cfg.hypotheses if h.delprojekter == "all"]
    elements = []
    for h in hyps:
        if h.mechanism.startswith("element_") and h.mechanism not in elements:
            elements.append(h.mechanism)
    elements = elements[:3]
    closed = participants[participants["goal_met"].notna()].copy()
    closed["goal_met"] = closed["goal_met"].astype(bool)
    texts: list[str] = []

    def say(part: str) -> None:  # shown where it belongs, and kept for the evaluation text
        texts.append(part)
        show_markdown(part)

    first_group = next(iter(cfg.target_groups))
    context_col = f"tg_{first_group}"
    closed[context_col] = closed["target_group"].eq(first_group)
    names = {e: e.removeprefix("element_").upper()[:6] for e in elements}
    names[context_col] = first_group.upper()[:6]
    # participant level: crisp sets, frequency cut-off = the disclosure threshold
    conditions = [context_col, *elements]
    cond_names = [names[c] for c in conditions]
    directions = {names[c]: v for c, v in qca_directions(cfg, conditions).items()}
    impossible = [_qca_rename(e, names) for e in cfg.qca.impossible
                  if all(n in names for n in _qca_names(e))]
    data = closed[conditions + ["goal_met"]].astype(int).rename(
        columns={**names, "goal_met": "MAAL"})
    tt = qca.truth_table(data, cond_names, "MAAL", incl_cut=0.8, n_cut=k)
    show_markdown("### " + ("Profiler af unge (crisp-set QCA)" if da else
                            "Profiles of young people (crisp-set QCA)"))
    legend = ", ".join(f"{names[c]} = {_condition_label(c, cfg, lang)}" for c in conditions)
    legend = (("Betingelser: " if da else "Conditions: ") + legend + "; "
              + ("MAAL = mål indfriet; ~ = ikke. " if da else "MAAL = goal met; ~ = not. ")
              + (f"Kombinationer med færre end {k} unge indgår som logiske rester."
                 if da else f"Combinations with fewer than {k} cases are remainders."))
    show_markdown(legend)
    direction_text = _qca_direction_text(
        {c: directions[names[c]] for c in conditions}, names, lang)
    nec = qca.necessity(data, cond_names, "MAAL").map(lambda v: fmt_float(v, 2, lang))
    # consistency × the goal-met total gives a count: rows that would reveal 1..k-1 are blank
    nec_hidden = qca.necessity_hidden(data, cond_names, "MAAL", k).reindex(nec.index)
    withheld = qca.rows_disclose(tt, k)  # combined with the CMO cells they could give a small one
    if withheld:
        nec_hidden[:] = True
    nec[nec_hidden.to_numpy(dtype=bool)] = "–"
    show_table(pd.DataFrame({
        "Betingelse" if da else "Condition": nec.index,
        "Konsistens" if da else "Consistency": nec["consistency"],
        "Relevans (RoN)" if da else "Relevance (RoN)": nec["RoN"],
        "Dækning" if da else "Coverage": nec["coverage"],
    }), "Nødvendige betingelser?" if da else "Necessary conditions?", lang,
        "Konsistens nær 1 betyder, at næsten alle, der nåede målet, havde betingelsen; lav "
        f"relevans betyder, at betingelsen er så almindelig, at det siger lidt. ~ = ikke. – = "
        f"vises ikke, fordi tallene ville afsløre færre end {k} unge."
        if da else "Consistency near 1: nearly everyone who met the goal had the condition; low "
        f"relevance: the condition is so common that this says little. ~ = not. – = not "
        f"shown, as the figures would reveal fewer than {k} young people.")
    labels = {names[c]: _condition_label(c, cfg, lang) for c in conditions}
    labels["MAAL"] = cfg.targets.tr("goal_met_description", lang)
    figures_withheld = (
        f"Skævhed, XY-plot og robusthedstabel for de unge vises ikke: mindst én kombination har "
        f"færre end {k} unge med eller uden målet, og de ville kunne afsløre dem." if da else
        f"Skewness, XY plot and robustness table for the young people are not shown: at least "
        f"one combination has fewer than {k} young people with or without the goal, and they "
        "could reveal them.")
    text, inter, _ = _qca_analysis(tt, directions, impossible, labels, lang, k)
    say(direction_text + "\n\n" + text)
    if withheld:
        say(figures_withheld)
    else:
        show_table(_qca_skew_table(data, [*cond_names, "MAAL"], lang),
                   "Skævhed i mængderne (unge)" if da else "Skewness of the sets (young people)",
                   lang, ("En mængde med over 80 % eller under 20 % af tilfældene inde er skæv; "
                          "dens konsistens siger da mindre." if da else
                          "A set with over 80% or under 20% of cases inside is skewed; its "
                          "consistency then says less."))
        if inter is not None and inter.terms:
            member = qca.membership(tt, inter.terms)
            show_figure(plot.xy_plot(member, tt.data["MAAL"], inter.expression,
                                     labels["MAAL"], inter.consistency, inter.coverage, lang))
        if len(tt.positive):
            rob = qca.robustness(data, cond_names, "MAAL", incl_cut=0.8, n_cut=k,
                                 incl_cuts=list(QCA_INCL_CUTS), n_cuts=[k, 2 * k],
                                 directional=directions, impossible=tuple(impossible))
            show_table(qca_robustness_table(rob, lang), "Robusthed: profiler af unge" if da
                       else "Robustness: profiles of young people", lang,
                       "Én ændring ad gangen fra analysen." if da else
                       "One change at a time from the analysis.")
            say(qca_robustness_text(rob, lang))
    # delprojekt level: fuzzy sets from shares (whole project only)
    if unit == "all" and closed["delprojekt"].nunique() >= 3:
        shares = closed.groupby("delprojekt")[[context_col, *elements, "goal_met"]].mean()

        def calibrated(shift: float = 0.0) -> pd.DataFrame:
            anchors = [a + shift for a in QCA_ANCHORS]
            goal = [a + shift for a in QCA_GOAL_ANCHORS]
            fz = pd.DataFrame({names[c]: qca.calibrate_fuzzy(shares[c], *anchors)
                               for c in conditions})
            fz["MAAL"] = qca.calibrate_fuzzy(shares["goal_met"], *goal)
            return fz

        fuzzy = calibrated()
        tt_d = qca.truth_table(fuzzy, cond_names, "MAAL", incl_cut=0.8, n_cut=1)
        show_markdown("### " + ("Delprojekter (fuzzy-set QCA)" if da else
                                "Sub-projects (fuzzy-set QCA)"))
        nec_d = qca.necessity(fuzzy, cond_names, "MAAL").map(lambda v: fmt_float(v, 2, lang))
        show_table(pd.DataFrame({
            "Betingelse" if da else "Condition": nec_d.index,
            "Konsistens" if da else "Consistency": nec_d["consistency"],
            "Relevans (RoN)" if da else "Relevance (RoN)": nec_d["RoN"],
            "Dækning" if da else "Coverage": nec_d["coverage"],
        }), "Nødvendige betingelser? (delprojekter)" if da else
            "Necessary conditions? (sub-projects)", lang)
        show_table(_qca_skew_table(fuzzy, [*cond_names, "MAAL"], lang),
                   "Skævhed i mængderne (delprojekter)" if da else
                   "Skewness of the sets (sub-projects)", lang)
        text_d, inter_d, _ = _qca_analysis(tt_d, directions, impossible, labels, lang, None)
        say(("**Delprojekter (fuzzy-set QCA).** Andele i hvert delprojekt er kalibreret "
                      "med direkte metode (20 %, 50 %, 80 %; målet: 35 %, 60 %, 85 %)."
                      if da else "**Sub-projects (fuzzy-set QCA).** The shares in each "
                      "sub-project are calibrated by the direct method (20%, 50%, 80%; the "
                      "goal: 35%, 60%, 85%).") + "\n\n" + text_d)
        if inter_d is not None and inter_d.terms:
            if qca_delprojekt_points_disclose(closed, [*conditions, "goal_met"], k):
                say(f"XY-plottet for delprojekterne vises ikke: hvert punkt viser et delprojekts "
                    f"andele, og i mindst ét delprojekt er der færre end {k} med eller uden en "
                    "betingelse eller målet." if da else
                    "The XY plot of the sub-projects is not shown: each point shows a "
                    f"sub-project's shares, and in at least one sub-project fewer than {k} have "
                    "or lack a condition or the goal.")
            else:
                show_figure(plot.xy_plot(qca.membership(tt_d, inter_d.terms),
                                         tt_d.data["MAAL"], inter_d.expression, labels["MAAL"],
                                         inter_d.consistency, inter_d.coverage, lang))
        if len(tt_d.positive):
            shifted = {(f"alle ankre {abs(sh) * 100:.0f} procentpoint "
                        f"{'ned' if sh < 0 else 'op'}" if da else
                        f"all anchors {abs(sh) * 100:.0f} points "
                        f"{'down' if sh < 0 else 'up'}"): calibrated(sh)
                       for sh in QCA_ANCHOR_SHIFTS}
            rob_d = qca.robustness(fuzzy, cond_names, "MAAL", incl_cut=0.8, n_cut=1,
                                   incl_cuts=list(QCA_INCL_CUTS), n_cuts=[1, 2],
                                   calibrations=shifted, directional=directions,
                                   impossible=tuple(impossible))
            show_table(qca_robustness_table(rob_d, lang), "Robusthed: delprojekter" if da
                       else "Robustness: sub-projects", lang,
                       "Én ændring ad gangen fra analysen; kalibrering: alle ankre flyttet 5 "
                       "procentpoint ned eller op." if da else
                       "One change at a time from the analysis; calibration: all anchors moved "
                       "5 percentage points down or up.")
            say(qca_robustness_text(rob_d, lang))
    text = "\n\n".join(texts)
    text = legend + "\n\n" + text  # the evaluation text has no necessity table above it
    store.save("qca", {"text": text})
    return text


def qca_delprojekt_points_disclose(closed: pd.DataFrame, columns: list[str],
                                   min_cell: int) -> bool:
    """Whether a delprojekt-level XY plot could reveal a small count: each point is a
    delprojekt's calibrated shares, which with its size give the number with (and without) each
    condition and the goal; True when any of these is 1..min_cell-1."""
    for col in columns:
        g = closed.groupby("delprojekt")[col].agg(["sum", "count"])
        with_, without = g["sum"], g["count"] - g["sum"]
        if (((with_ > 0) & (with_ < min_cell)) | ((without > 0) & (without < min_cell))).any():
            return True
    return False


def _qca_names(expression: str) -> list[str]:
    """The column names an expression of ``qca.impossible`` uses."""
    import re

    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)


def _condition_label(col: str, cfg: ProjectConfig, lang: str) -> str:
    if col.startswith("element_"):
        return cfg.elements[col.removeprefix("element_")].text(lang)
    if col.startswith("tg_"):
        return cfg.target_groups[col.removeprefix("tg_")].text(lang)
    return col
