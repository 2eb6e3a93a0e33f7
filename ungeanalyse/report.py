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
from .reader.table import _NUMERIC_TEXT, html_table  # noqa: F401
from .reader.table import fmt_cell as _fmt_cell  # noqa: F401
from .sources import method_sentence as data_sources_sentence
from .sources import voices_missing_sentence


def t(key: str, lang: str = "da") -> str:
    """A UI word in the report language (the ``ui`` section of the i18n catalogue)."""
    lang = lang if lang in i18n.LANGS else "da"
    return i18n.t(f"ui.{key}", lang) if i18n.has(f"ui.{key}", lang) else key


# -- data quality ---------------------------------------------------------------------------


def quality_overview(quality: dict[str, Any], lang: str = "da") -> pd.DataFrame:
    """Rows in, clean, quarantined and duplicates per table (rows in = the other three)."""
    rows = []
    for name, q in quality["tables"].items():
        if q["rows_in"] == 0 and not q["file_errors"]:
            continue
        rows.append({t("table", lang): t(name, lang), t("rows_in", lang): q["rows_in"],
                     t("clean", lang): q["clean"], t("quarantined", lang): q["quarantined"],
                     t("duplicates", lang): q["duplicates"]})
    return pd.DataFrame(rows)


def quality_by_file(quality: dict[str, Any], lang: str = "da") -> pd.DataFrame:
    """The same counts per source file."""
    rows = []
    for name, q in quality["tables"].items():
        for file, c in q["by_file"].items():
            rows.append({t("table", lang): t(name, lang), t("file", lang): file,
                         t("rows_in", lang): c["rows_in"], t("clean", lang): c["clean"],
                         t("quarantined", lang): c["quarantined"],
                         t("duplicates", lang): c["duplicates"]})
    return pd.DataFrame(rows)


def quality_reasons(quality: dict[str, Any], lang: str = "da") -> pd.DataFrame:
    """Quarantined rows counted by table and reason."""
    rows = [{t("table", lang): t(name, lang), t("reason", lang): i18n.reason(reason, lang),
             t("count", lang): n}
            for name, q in quality["tables"].items() for reason, n in q["by_reason"].items()]
    return pd.DataFrame(rows)


def quarantine_list(quarantine: pd.DataFrame, lang: str = "da", detail: bool = False
                    ) -> pd.DataFrame:
    """The quarantine as a worklist for partners: file, row, column and reason (no CPR).

    The detail (the offending value: an age, a date, a status as typed) describes one young
    person's row, so the report leaves it out; the partner sees it in the file at that row,
    and the evaluator in ``quarantine.parquet``. ``detail=True`` adds it for work in Python.
    """
    q = quarantine.sort_values(["table", "source_file", "source_row"])
    out = pd.DataFrame({
        t("file", lang): q["source_file"], t("row", lang): q["source_row"].astype(int),
        t("column", lang): q["column"].fillna(""),
        t("reason", lang): q["reason"].map(lambda r: i18n.reason(r, lang))})
    if detail:
        out[t("detail", lang)] = q["detail"].map(lambda d: i18n.word(d, lang), na_action="ignore"
                                                 ).fillna("")
    return out


def quarantine_location(cfg: ProjectConfig, lang: str = "da") -> str:
    """Where the quarantined values are, as the real path of ``quarantine.parquet`` (relative
    to the project's folder when it lies inside it), for the note under the worklist."""
    import os

    path = cfg.processed_dir / "quarantine.parquet"
    base = cfg.root or (cfg.source_path.parent if cfg.source_path else None)
    shown = str(path)
    if base is not None:
        rel = os.path.relpath(path, base)
        shown = shown if rel.startswith("..") else rel
    return i18n.t("quality.quarantine_file", "en" if lang == "en" else "da",
                  path=shown.replace(os.sep, "/"))


def quality_intro(cfg: ProjectConfig, quality: dict[str, Any], lang: str = "da") -> str:
    """One paragraph: project, when the data were cleaned, and how many young people are in."""
    from .fmt import fmt_date, fmt_int

    p = quality["tables"]["participants"]
    lang = "en" if lang == "en" else "da"
    return i18n.t("quality.intro", lang, name=cfg.project.tr("name", lang),
                  rows=fmt_int(p["rows_in"], lang), files=len(p["by_file"]),
                  clean=fmt_int(p["clean"], lang), date=fmt_date(quality["generated"], lang))


def quality_problems(quality: dict[str, Any], lang: str = "da", min_cell: int = 5) -> str:
    """File-level errors, unmapped values (counts under ``min_cell`` as '<5'), where answers
    were read as missing, and warnings, as Markdown."""
    lang = "en" if lang == "en" else "da"
    parts = []
    errors = [e for q in quality["tables"].values() for e in q["file_errors"]]
    if errors:
        parts.append("### " + i18n.t("quality.files_unusable", lang))
        parts += [f"- {i18n.word(e.get('message') or e['error'], lang)}" for e in errors]
    unmapped = {(name, col): vals for name, q in quality["tables"].items()
                for col, vals in q["unmapped_values"].items()}
    if unmapped:
        parts.append("### " + i18n.t("quality.unmapped", lang))
        k = min_cell
        for (_, col), vals in unmapped.items():
            # a count under the limit next to the worklist's row would say what one young
            # person's row holds
            listed = ", ".join(f"'{v}' ({n if n >= k else f'<{k}'})"
                               for v, n in sorted(vals.items()))
            parts.append(f"- `{col}`: {listed}")
    issues = quality.get("cell_issues", [])
    if issues:
        parts.append("### " + i18n.t("quality.off_scale", lang))
        # where, not what: the answer itself belongs to one young person
        parts += [f"- {i['file']}, {i18n.t('quality.row', lang)} {i['row']}, `{i['column']}`"
                  for i in issues[:50]]
    warnings = [w for q in quality["tables"].values() for w in q["warnings"]]
    if warnings:
        parts.append("### " + i18n.t("quality.warnings", lang))
        parts += [f"- {i18n.word(w, lang)}" for w in warnings]
    if not parts:
        return i18n.t("quality.no_problems", lang)
    return "\n".join(parts)


def quality_figures(quality: dict[str, Any]) -> dict[str, Any]:
    """The key data-quality figures for the text notebook (methods and data section)."""
    return {
        name: {k: q[k] for k in ("rows_in", "clean", "quarantined", "duplicates", "by_reason")}
        for name, q in quality["tables"].items()
    } | {"generated": quality["generated"], "key_fingerprint": quality.get("key_fingerprint")}


# -- the evaluation text --------------------------------------------------------------------

FIGURE_MARK = "<!-- figure:"


def count_text(n: int | None, min_cell: int, lang: str = "da") -> str:
    """A person count for the text, or 'færre end 5' when it is under the disclosure limit."""
    from . import privacy

    return privacy.count_text(n, min_cell, lang)


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


def evaluation_context(cfg: ProjectConfig, unit: str, store: Any, lang: str = "da"
                       ) -> dict[str, Any]:
    """Everything the text templates need, from the results the analysis notebooks saved."""
    from .fmt import fmt_ci, fmt_date, fmt_kr, fmt_pct

    da = lang == "da"
    min_cell = cfg.privacy.min_cell
    m = store.load("maaltal")
    cmo = _optional(store, "cmo") or {"hypotheses": [], "verdict_rules": "",
                                      "association_note": "", "p_adjust": "holm"}
    voices = _optional(store, "voices") or {}
    quality = _optional(store, "datakvalitet")
    project = cfg.project
    short = project.tr("short_name" if project.short_name else "name", lang)
    unit_name = (project.tr("name", lang) if unit == "all" else
                 f"{cfg.delprojekt(unit).tr('name', lang)} ({short})")
    n = m["n_participants"]
    succ = m.get("success") or {}
    hide_goal = goal_met_hidden(pd.DataFrame(m["outcomes"]), m["goal_met"],
                                m.get("n_closed", n), min_cell, m.get("masks"))
    hide_count = goal_count_hidden(m.get("masks"), hide_goal)
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
    ctx["success"] = None
    if succ and succ.get("n") and not hide_goal:
        ctx["success"] = {"rate": fmt_pct(succ["rate"], 0, lang),
                          "ci": fmt_ci(succ["ci_low"], succ["ci_high"], lang),
                          "range": None, "unknown_text": None}
        upper = m.get("success_upper") or {}
        ctx["success"]["unknown_text"] = unknown_sentence(m, min_cell, lang) or None
        if ctx["success"]["unknown_text"]:  # the range changes the reading
            ctx["success"]["range"] = unknown_range(succ["rate"], upper["rate"], lang)
    # the target groups as the måltal table shows them (secondary suppression included)
    tg = pd.DataFrame(m["breakdowns"].get("target_group", []))
    ctx["target_groups"] = []
    if len(tg):
        tg = tg[tg["n_participants"] > 0]
        _, hide_rate = _breakdown_masks(tg, min_cell, m.get("masks"))
        ranges = _shown_ranges(tg, min_cell, m.get("masks"), hide_rate)
        share = _share_rows(tg, m.get("masks"), hide_rate)
        ctx["target_groups"] = [
            {"label": r["category_label"],
             "share": bool(share[i]),
             "rate": share_of_all_text(r["goal_met"], r["n_participants"], lang) if share[i]
             else "–" if hide_rate[i] else fmt_pct(r["rate"], 0, lang),
             "range": unknown_range(r["rate"], r["rate_upper"], lang) if ranges[i] else None,
             "text": (share_of_all_text(r["goal_met"], r["n_participants"], lang)
                      + (" har indfriet målet" if da else " met the goal")) if share[i]
             else NOT_SHOWN[lang] if hide_rate[i] else _rate_text(
                 r["goal_met"], r["n_closed"], r["rate"], r["ci_low"], r["ci_high"], min_cell,
                 lang) + (_range_suffix(r["rate"], r["rate_upper"], lang) if ranges[i] else "")}
            for i, r in tg.iterrows()]
    ctx["share_note"] = (SHARE_NOTE[lang] if any(t["share"] for t in ctx["target_groups"])
                         else None)
    hide_upper = upper_hidden(m, min_cell)
    ctx["targets"] = [{"text": _target_sentence(t, lang, hide_upper)}
                      for t in m.get("targets", [])
                      if not (hide_goal and t["target"].endswith("share"))]
    ctx["maaltal_text"] = _maaltal_text(m, min_cell, lang)
    ctx["breakdown_text"] = _breakdown_text(m, min_cell, lang)
    ctx["unknown_rule"] = _unknown_rule(lang)
    ctx["target_group_findings"] = target_group_findings(m, min_cell, lang)
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
    ctx["steps_text"] = steps.get("text") if steps else None
    survey = _optional(store, "survey")
    ctx["survey_text"] = survey.get("text") if survey else None
    qca = _optional(store, "qca")
    ctx["qca_text"] = qca.get("text") if qca else None
    if quality:
        p = quality["participants"]
        dups = i18n.t("quality.duplicates_one" if p["duplicates"] == 1 else
                      "quality.duplicates_many", lang, n=count_text(p["duplicates"], 0, lang))
        ctx["data_quality"] = i18n.t(
            "quality.sentence", lang, rows=count_text(p["rows_in"], 0, lang),
            clean=count_text(p["clean"], 0, lang),
            quarantined=count_text(p["quarantined"], 0, lang), duplicates=dups)
    else:
        ctx["data_quality"] = ""
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


def _unknown_rule(lang: str) -> str:
    """How *status ukendt* enters the success rates, and when the range is shown."""
    from .outcomes import UNKNOWN_RULE_DA, UNKNOWN_RULE_EN

    return UNKNOWN_RULE_DA if lang == "da" else UNKNOWN_RULE_EN


def _target_sentence(t: dict[str, Any], lang: str, upper_hidden: bool = True) -> str:
    """One target against its result, with the position and the rule behind it when known,
    and what it is with *status ukendt* counted as goal met where that changes the reading
    (and the plan lets the upper bound out)."""
    from .fmt import fmt_int, fmt_pct
    from .outcomes import POSITION_LABELS

    text = f"{t['target_label']}: {_target_value(t, lang)}"
    if t.get("position"):  # the code ('below') as the report language says it
        text += f" – {POSITION_LABELS[lang].get(t['position'], t['position'])}"
    elif t.get("attainment") is not None:
        text += (f" ({fmt_pct(t['attainment'], 0, lang)} af målet)" if lang == "da" else
                 f" ({fmt_pct(t['attainment'], 0, lang)} of the target)")
    rule = t.get("rule") if t.get("position") else None
    text = f"{text}. {rule}" if rule else f"{text}."
    if not t.get("unknown_matters") or upper_hidden or t.get("actual_upper") is None:
        return text
    da = lang == "da"
    if t["target"].endswith("share"):
        pos = POSITION_LABELS[lang].get(t.get("position_upper") or "", "")
        upper = fmt_pct(t["actual_upper"], 0, lang) + (f" – {pos}" if pos else "")
        span = unknown_range(t["actual"], t["actual_upper"], lang)
    else:
        upper = fmt_int(t["actual_upper"], lang)
        span = f"{fmt_int(t['actual'], lang)}–{upper}"
    return text + (f" Med ukendt status talt som indfriet: {upper} (spænd {span})." if da else
                   f" With unknown status counted as goal met: {upper} (range {span}).")


def _target_value(t: dict[str, Any], lang: str) -> str:
    from .fmt import fmt_int, fmt_pct

    if t["target"].endswith("share"):
        return (f"{fmt_pct(t['actual'], 0, lang)} mod målet {fmt_pct(t['target_value'], 0, lang)}"
                if lang == "da" else
                f"{fmt_pct(t['actual'], 0, lang)} against {fmt_pct(t['target_value'], 0, lang)}")
    return (f"{fmt_int(t['actual'], lang)} mod målet {fmt_int(t['target_value'], lang)}"
            if lang == "da" else f"{fmt_int(t['actual'], lang)} against "
            f"{fmt_int(t['target_value'], lang)}")


def _maaltal_text(m: dict[str, Any], min_cell: int, lang: str) -> str:
    from .fmt import fmt_pct, md_text
    from .privacy import hidden_count_text

    outcomes = pd.DataFrame(m["outcomes"])
    hide, _ = (_outcome_masks(outcomes, min_cell, m.get("masks")) if len(outcomes)
               else (pd.Series(), None))
    lines = []
    for i, o in outcomes.iterrows():
        if o["n"] == 0 and not hide[i]:
            continue
        if hide[i]:
            hidden = hidden_count_text(o["n"], min_cell)
            n_text = (count_text(o["n"], min_cell, lang) if hidden != "–" else
                      ("skjult" if lang == "da" else "hidden"))
            lines.append(f"- {md_text(o['label'])}: {n_text} (–)")
            continue
        share = fmt_pct(o["share_of_participants"], 0, lang)
        lines.append(f"- {md_text(o['label'])}: {count_text(o['n'], min_cell, lang)} ({share})")
    head = ("Sådan er de unge afsluttet (andel af alle deltagere):" if lang == "da" else
            "How the young people left (share of all participants):")
    notes = "\n".join(f"*{n}*" for n in m.get("notes", []))
    return head + "\n\n" + "\n".join(lines) + ("\n\n" + notes if notes else "")


def _breakdown_text(m: dict[str, Any], min_cell: int, lang: str) -> str:
    rows = m["breakdowns"].get("delprojekt", [])
    if len(rows) < 2:
        return ""
    from .fmt import md_text

    head = ("Succesrate pr. delprojekt (mål indfriet blandt afsluttede forløb):" if lang == "da"
            else "Success rate per sub-project (goal met among closed cases):")
    df = pd.DataFrame(rows)
    df = df[df["n_participants"] > 0]
    _, hide_rate = _breakdown_masks(df, min_cell, m.get("masks"))
    ranges = _shown_ranges(df, min_cell, m.get("masks"), hide_rate)
    share = _share_rows(df, m.get("masks"), hide_rate)
    of_all = " af alle" if lang == "da" else " of all"
    lines = [f"- {md_text(r['category_label'])}: " + (
        share_of_all_text(r["goal_met"], r["n_participants"], lang) + of_all if share[i]
        else NOT_SHOWN[lang] if hide_rate[i] else _rate_text(
            r["goal_met"], r["n_closed"], r["rate"], r["ci_low"], r["ci_high"], min_cell, lang)
        + (_range_suffix(r["rate"], r["rate_upper"], lang) if ranges[i] else ""))
        for i, r in df.iterrows()]
    note = f"\n\n*{SHARE_NOTE[lang]}*" if share.any() else ""
    return head + "\n\n" + "\n".join(lines) + note


def unknown_range(lower: float | None, upper: float | None, lang: str = "da") -> str:
    """The success rate's range for *status ukendt*: '48–53 %' (lower: unknown as not met)."""
    from .fmt import fmt_ci

    return fmt_ci(lower, upper, lang)


def _range_suffix(lower: float | None, upper: float | None, lang: str) -> str:
    """'; med ukendt status som indfriet: 53 % (spænd 48–53 %)' for a rate in the text."""
    from .fmt import fmt_pct

    return (f"; med ukendt status talt som indfriet {fmt_pct(upper, 0, lang)} (spænd "
            f"{unknown_range(lower, upper, lang)})" if lang == "da" else
            f"; with unknown status counted as goal met {fmt_pct(upper, 0, lang)} (range "
            f"{unknown_range(lower, upper, lang)})")


def unknown_sentence(m: dict[str, Any] | Any, min_cell: int, lang: str = "da",
                     always: bool = False) -> str:
    """The unit's success rate with *status ukendt* counted as goal met, as a sentence: only
    where it changes the reading (:func:`outcomes.unknown_changes_reading`), or with
    ``always`` also where it does not (or why it is not shown); '' otherwise."""
    from .fmt import fmt_pct

    get = m.get if isinstance(m, dict) else lambda key, default=None: getattr(m, key, default)
    da = lang == "da"
    n_unknown = get("n_unknown") or 0
    succ, upper = get("success"), get("success_upper")
    succ = succ.to_dict() if hasattr(succ, "to_dict") else succ or {}
    upper = upper.to_dict() if hasattr(upper, "to_dict") else upper or {}
    if not n_unknown or not succ.get("n") or not (always or get("unknown_matters")):
        return ""
    if upper_hidden(m, min_cell):
        return ("" if not always else
                "Hvor meget de unge med ukendt status kan flytte succesraten, vises ikke, fordi "
                "et lille antal ellers kunne regnes ud." if da else
                "How far the young people with unknown status could move the success rate is "
                "not shown, since a small count could otherwise be worked out.")
    lo, hi = fmt_pct(succ["rate"], 0, lang), fmt_pct(upper["rate"], 0, lang)
    n = count_text(n_unknown, min_cell, lang)
    if get("unknown_matters"):
        return (f"Tælles de {n} unge med ukendt status som indfriet, er succesraten {hi}; den "
                f"ligger altså mellem {lo} og {hi}." if da else
                f"Counting the {n} young people with unknown status as goal met gives {hi}; the "
                f"success rate thus lies between {lo} and {hi}.")
    return (f"Tælles de {n} unge med ukendt status som indfriet, er succesraten {hi}; det "
            "ændrer ikke aflæsningen." if da else
            f"Counting the {n} young people with unknown status as goal met gives {hi}; this "
            "does not change the reading.")


def upper_hidden(m: dict[str, Any] | Any, min_cell: int) -> bool:
    """Whether a unit's success rate with *status ukendt* as goal met is left out: with it
    the unknown count follows, so it goes where the rate or that count is hidden (the
    project-wide plan's ``upper``; without a plan, the unit's own tables)."""
    get = m.get if isinstance(m, dict) else lambda key, default=None: getattr(m, key, default)
    masks = get("masks")
    if masks:
        return bool(masks.get("upper", True))
    outcomes = pd.DataFrame(get("outcomes"))
    if goal_met_hidden(outcomes, get("goal_met"), get("n_closed"), min_cell):
        return True
    _, hide_group = _outcome_masks(outcomes, min_cell) if len(outcomes) else (None, {})
    return bool(hide_group.get("unknown", False))


def _upper_masks(df: pd.DataFrame, min_cell: int, masks: dict[str, Any] | None,
                 hide_rate: pd.Series) -> pd.Series:
    """Hidden upper bounds of a breakdown's rates: as the project-wide plan says; without it,
    all of them when any rate is hidden or any category's unknown count, or its closed cases
    without the goal for a known reason, is 1..min_cell-1 (these add up to totals shown)."""
    from . import privacy

    plan = (masks or {}).get("breakdowns", {}).get(str(df["dimension"].iloc[0])) \
        if len(df) and "dimension" in df else None
    if plan is not None and all(str(c) in plan for c in df["category"]):
        return pd.Series([bool(plan[str(c)].get("upper", True)) for c in df["category"]],
                         index=df.index)
    unknown = df.get("unknown", pd.Series(0, index=df.index)).to_numpy(dtype=float)
    known_fail = (df["n_closed"] - df["goal_met"]).to_numpy(dtype=float) - unknown
    small = bool(hide_rate.any() or privacy.primary_mask(unknown, min_cell).any()
                 or privacy.primary_mask(known_fail, min_cell).any())
    return pd.Series(small, index=df.index)


def _shown_ranges(df: pd.DataFrame, min_cell: int, masks: dict[str, Any] | None,
                  hide_rate: pd.Series) -> pd.Series:
    """Per breakdown row: whether its range for *status ukendt* is shown (it changes the
    reading and the plan lets the upper bound out)."""
    if "unknown_matters" not in df:
        return pd.Series(False, index=df.index)
    hide = _upper_masks(df, min_cell, masks, hide_rate)
    return df["unknown_matters"].fillna(False).astype(bool) & ~hide & ~hide_rate


def _gap_text(gap: dict[str, Any], labels: dict[str, str], lang: str) -> str:
    """'17 procentpoint lavere for »A« (48 %) end for »B« (65 %); 95 %-CI 5–29 procentpoint'."""
    from .fmt import fmt_float, fmt_pct

    da = lang == "da"
    low, high = labels.get(gap["low"], gap["low"]), labels.get(gap["high"], gap["high"])
    d = fmt_float(-100 * gap["difference"], 0, lang)
    lo, hi = (fmt_float(-100 * gap["ci_high"], 0, lang), fmt_float(-100 * gap["ci_low"], 0, lang))
    lo, hi = (x.replace("-", "−") for x in (lo, hi))
    adjusted = (", Bonferroni-justeret" if da else ", Bonferroni-adjusted") \
        if gap["alpha"] < 0.05 - 1e-12 else ""
    return (f"{d} procentpoint lavere for »{low}« ({fmt_pct(gap['low_rate']['rate'], 0, lang)})"
            f" end for »{high}« ({fmt_pct(gap['high_rate']['rate'], 0, lang)}); 95 %-CI for "
            f"forskellen {lo} til {hi} procentpoint (Newcombe{adjusted})" if da else
            f"{d} percentage points lower for '{low}' ({fmt_pct(gap['low_rate']['rate'], 0, lang)})"
            f" than for '{high}' ({fmt_pct(gap['high_rate']['rate'], 0, lang)}); 95% CI for the "
            f"difference {lo} to {hi} points (Newcombe{adjusted})")


def target_group_findings(m: dict[str, Any], min_cell: int, lang: str = "da"
                          ) -> dict[str, Any]:
    """What the måltal say about the difference between target groups: ``text`` for the
    Måltal section (every pair whose rates are shown, supported or not, and the rule) and
    ``recommendations`` only from a supported difference (:class:`outcomes.RateGap`): its
    interval excludes 0, also with the lower group's unknown statuses as goal met."""
    from .fmt import fmt_float
    from .outcomes import GAP_RULE_DA, GAP_RULE_EN

    out: dict[str, Any] = {"text": None, "recommendations": []}
    tg = pd.DataFrame(m["breakdowns"].get("target_group", []))
    gaps = m.get("target_group_gaps") or []
    if not len(tg) or not gaps:
        return out
    tg = tg[tg["n_participants"] > 0]
    _, hide_rate = _breakdown_masks(tg, min_cell, m.get("masks"))
    shown = {str(c) for c, h in zip(tg["category"], hide_rate, strict=True) if not h}
    labels = dict(zip(tg["category"].astype(str), tg["category_label"], strict=True))
    gaps = [g for g in gaps if g["low"] in shown and g["high"] in shown]
    if not gaps:
        return out
    da = lang == "da"
    lines = []
    for g in gaps:
        text = _gap_text(g, labels, lang)
        if g["supported"]:
            lines.append(f"Forskel mellem målgrupperne: succesraten er {text}." if da else
                          f"Difference between target groups: the success rate is {text}.")
            low, high = labels.get(g["low"], g["low"]), labels.get(g["high"], g["high"])
            d = fmt_float(-100 * g["difference"], 0, lang)
            out["recommendations"].append(
                f"Se på visitationen til »{low}«: succesraten er {d} procentpoint lavere end for "
                f"»{high}« (fundet om forskellen mellem målgrupperne under Måltal). Det er en "
                "sammenhæng, ikke en målt virkning: den kan betyde, at vejen til målet er længere "
                "for nogle af disse unge end projektets tidsramme, eller at målgrupperne adskiller "
                "sig på andet end indsatsen." if da else
                f"Review referral to '{low}': the success rate is {d} percentage points lower "
                f"than for '{high}' (the finding on the difference between target groups under "
                "Target figures). This is an association, not a measured effect: the road to the "
                "goal may be longer for some of these young people than the project's time "
                "frame, or the target groups may differ in other ways than the intervention.")
        elif g["ci_high"] < 0:
            lines.append(f"Succesraten er {text}, men ikke hvis de unge med ukendt status i "
                          f"»{labels.get(g['low'], g['low'])}« tælles som indfriet; data viser "
                          "derfor ingen sikker forskel mellem målgrupperne." if da else
                          f"The success rate is {text}, but not if the young people with unknown "
                          f"status in '{labels.get(g['low'], g['low'])}' are counted as goal met; "
                          "so the data show no clear difference between the target groups.")
        else:
            lines.append(f"Succesraten er {text}; intervallet indeholder 0, så data viser ingen "
                          "sikker forskel mellem målgrupperne." if da else
                          f"The success rate is {text}; the interval includes 0, so the data show "
                          "no clear difference between the target groups.")
    out["text"] = "\n\n".join(lines) + f"\n\n*{GAP_RULE_DA if da else GAP_RULE_EN}*"
    return out


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
                lang: str = "da") -> str:
    """The evaluation text (``variant='full'``) or the pixi summary as Markdown."""
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

    ctx = evaluation_context(cfg, unit, store, lang)
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
              lang: str = "da") -> str:
    """Display the evaluation text with its figures in place; returns the Markdown."""
    from IPython.display import Image, display

    text = render_text(cfg, unit, store, variant, lang)
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


def maaltal_intro(m: Any, cfg: ProjectConfig, lang: str = "da") -> str:
    """A first paragraph for the måltal notebook: unit, participants, goal met."""
    from .fmt import fmt_pct

    min_cell = cfg.privacy.min_cell
    n = m.n_participants
    if goal_count_hidden(m.masks, goal_met_hidden(m.outcomes, m.goal_met, m.n_closed,
                                                  min_cell, m.masks)):
        # the table hides it: a count here would give it (or its complement) back
        return (f"**{m.unit_label}**: {count_text(n, min_cell, lang)} young people took part; "
                "how many met the goal is not shown, so that a small group here or in another "
                "sub-project cannot be worked out." if lang == "en" else
                f"**{m.unit_label}**: {count_text(n, min_cell, lang)} unge har deltaget; hvor "
                "mange der har indfriet målet, vises ikke, så en lille gruppe her eller i et "
                "andet delprojekt ikke kan regnes ud.")
    share = fmt_pct(m.goal_met / n, 0, lang) if n and m.goal_met >= min_cell else "–"
    if lang == "en":
        return (f"**{m.unit_label}**: {count_text(n, min_cell, lang)} young people took part; "
                f"{count_text(m.goal_met, min_cell, lang)} ({share}) met the goal.")
    return (f"**{m.unit_label}**: {count_text(n, min_cell, lang)} unge har deltaget; "
            f"{count_text(m.goal_met, min_cell, lang)} ({share}) har indfriet målet "
            f"({cfg.targets.goal_met_description}).")


def maaltal_unknown_text(m: Any, cfg: ProjectConfig, lang: str = "da") -> str:
    """For the måltal notebook: what status ukendt does to the success rate, and the rule."""
    sentence = unknown_sentence(m, cfg.privacy.min_cell, lang, always=True)
    return f"{sentence} {_unknown_rule(lang)}".strip() if sentence else ""


def cost_text(m: Any, lang: str = "da") -> str:
    """Cost per participant and per goal met, or why it is not given for a delprojekt."""
    from .fmt import fmt_kr

    if m.cost_per_participant is None:
        return ("Budgettet er ikke fordelt på delprojekter, så udgiften pr. deltager vises kun "
                "for hele projektet." if lang == "da" else
                "The budget is not split by sub-project; cost is shown for the whole project.")
    per_goal = fmt_kr(m.cost_per_goal_met, lang) if m.cost_per_goal_met else "–"
    if lang == "en":
        return (f"Budget {fmt_kr(m.budget_kr, lang)}: {fmt_kr(m.cost_per_participant, lang)} "
                f"per participant and {per_goal} per young person who met the goal.")
    return (f"Budget {fmt_kr(m.budget_kr, lang)}: {fmt_kr(m.cost_per_participant, lang)} pr. "
            f"deltager og {per_goal} pr. ung, der har indfriet målet.")


def maaltal_plot_input(m: Any, cfg: ProjectConfig, lang: str = "da") -> pd.DataFrame:
    """Outcome bars for the plot: label, group, n, share; counts under the limit left out."""
    from .config import GROUP_LABELS

    hide, _ = _outcome_masks(m.outcomes, cfg.privacy.min_cell, m.masks)
    o = m.outcomes
    keep = (o["n"] > 0) | hide  # a hidden zero keeps its (empty) bar
    o = o[keep]
    shown = ~hide[keep]
    return pd.DataFrame({
        "label": o["label"], "group": o["group"].map(GROUP_LABELS[lang]),
        "group_code": o["group"], "n": o["n"].where(shown),
        "share": o["share_of_participants"].where(shown),
    }).reset_index(drop=True)


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


def steps_section(tables: dict[str, pd.DataFrame], cfg: ProjectConfig, store: Any,
                  lang: str = "da", unit: str | None = None,
                  project: dict[str, pd.DataFrame] | None = None,
                  masks: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Funnel and time to education: shows tables and figures, saves the text for notebook 04.

    With the ``unit`` and the whole ``project``'s tables, the funnel hides what the
    project-wide plan says (``steps.funnel_plan``), so no unit's report and the project's
    together give a small count away."""
    from . import plot
    from . import steps as stepslib

    steps, participants = tables["steps"], tables["participants"]
    if not cfg.steps.ladder or steps.empty:
        if not cfg.steps.ladder or (project or tables)["steps"].empty:  # none in the project
            show_markdown("Projektet har ikke leveret registreringer af skridt på vejen."
                          if lang == "da" else "The project has supplied no logs of steps.")
        else:
            show_markdown("Der er ingen registreringer af skridt på vejen for denne enhed."
                          if lang == "da" else "No steps were logged for this unit.")
        return None
    hidden = sizes = None
    if masks is not None:  # the unit's masks from the disclosure step
        hidden = masks.get("funnel")
        sizes = {g: bool(m["n"]) for g, m in
                 (masks.get("maaltal") or {}).get("breakdowns", {}).get("target_group",
                                                                         {}).items()}
    elif unit is not None and project is not None and len(project["participants"]):
        from .outcomes import disclosure_plan

        maaltal = disclosure_plan(project["participants"], cfg)
        hidden = stepslib.funnel_plan(project["steps"], project["participants"], cfg,
                                      by="target_group", maaltal=maaltal).get(unit)
        # the groups' sizes are the måltal breakdown's: hidden where it hides them
        unit_masks = maaltal.get(unit) or {}
        sizes = {g: bool(m["n"]) for g, m in
                 unit_masks.get("breakdowns", {}).get("target_group", {}).items()}
    # the survival table counts the same starts as the funnel's education step: same masks
    edu = cfg.steps.education_start_step
    hidden_events = ({g: bool(steps_hidden.get(edu, False)) for g, steps_hidden in hidden.items()}
                     if hidden is not None and edu else None)
    funnel = stepslib.funnel(steps, participants, cfg, by="target_group", lang=lang,
                             hidden=hidden, hidden_sizes=sizes)
    show_table(*funnel_reader_table(funnel, cfg, lang))
    fig = plot.funnel_plot(funnel, lang=lang)
    store.save_figure("funnel", fig)
    show_figure(fig)
    # open forløb are followed until the data extract date; without one in the config, the
    # latest date in the whole project's data, so that every unit uses the same day
    whole = project if project is not None and len(project["participants"]) else tables
    until = stepslib.extract_date(cfg, whole["participants"], whole["steps"])[0]
    tte = stepslib.time_to_education(steps, participants, cfg, by="target_group",
                                     hidden_events=hidden_events, hidden_sizes=sizes,
                                     until=until)
    stale = store.figure_path("cif") if hasattr(store, "figure_path") else None
    if stale is not None:  # an earlier run's curves must not stand in for hidden ones
        stale.unlink()
    if tte.sizes_hidden:  # a curve's first step and band give its group's size back
        show_markdown("Kurverne over tiden til uddannelse vises ikke, fordi gruppernes størrelse "
                      "ikke vises (så en lille gruppe ikke kan regnes ud)." if lang == "da" else
                      "The curves of the time to education are not shown, because the groups' "
                      "sizes are not shown (so that a small group cannot be worked out).")
    elif tte.shown_groups:
        show_table(tte.table(lang), "Tid til start på uddannelse" if lang == "da"
                   else "Time to the start of an education", lang)
        fig = plot.cif_plot(tte, lang=lang)
        store.save_figure("cif", fig)
        show_figure(fig)
    text = tte.summary(lang)
    show_markdown(text)
    figures = {"text": text, "time_to_start": tte.to_dict()}
    store.save("steps", figures)
    return figures


def survey_section(tables: dict[str, pd.DataFrame], cfg: ProjectConfig, store: Any,
                   lang: str = "da", unit: str | None = None,
                   project: dict[str, pd.DataFrame] | None = None,
                   masks: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Reliability, paired change (d_z, d_av, the weighted sensitivity result) and attrition,
    all on one definition of the pairs (``survey.analysed_pairs``); saves the text for notebook 04.

    With the ``unit`` and the whole ``project``'s tables, the counts follow the project-wide
    ``survey.survey_plan`` (no unit's count follows from the project's minus the others')."""
    from . import plot
    from . import survey as surveylib

    responses, participants = tables["survey_responses"], tables["participants"]
    if not cfg.survey.scales or responses.empty:
        if not cfg.survey.scales or (project or tables)["survey_responses"].empty:
            show_markdown("Projektet har ikke leveret spørgeskemaer." if lang == "da" else
                          "The project has supplied no surveys.")
        else:
            show_markdown("Der er ingen spørgeskemabesvarelser for denne enhed." if lang == "da"
                          else "No survey answers for this unit.")
        return None
    scores = surveylib.score_scales(responses, cfg)
    from .fmt import fmt_float

    hidden = None
    if masks is not None:  # the unit's masks from the disclosure step
        hidden = masks.get("survey")
    elif unit is not None and project is not None and len(project["survey_responses"]):
        hidden = surveylib.survey_plan(project["survey_responses"], project["participants"],
                                       cfg).get(unit)
    da = lang == "da"
    rel = surveylib.reliability(responses, cfg, lang=lang, hidden=hidden)
    if "α" in rel:
        rel["α"] = rel["α"].map(lambda v: fmt_float(v, 2, lang))
    show_table(rel, "Reliabilitet (Cronbachs α) blandt de unge med en gyldig score begge gange"
               if da else "Reliability (Cronbach's α) among those with a valid score both times",
               lang)
    texts, changes, all_changes = [], {}, []
    for scale in cfg.survey.scales:
        change = surveylib.paired_change(scores, cfg, scale.id, hidden=hidden,
                                         participants=participants)
        all_changes.append(change)
        texts.append(change.summary(lang))
        if change.n >= cfg.privacy.min_cell:
            changes[scale.id] = change.to_dict()
            if len(changes) == 1:
                fig = plot.prepost_plot(change, lang=lang)
                store.save_figure("prepost", fig)
                show_figure(fig)
        att = surveylib.attrition(scores, participants, cfg, hidden=hidden, scale_id=scale.id)
        texts.append(att.summary(lang))
    method = surveylib.EFFECT_SIZE_METHOD[lang] + " " + surveylib.WEIGHTING_METHOD[lang]
    if changes:
        texts.append(method)
    show_table(surveylib.change_table(all_changes, cfg, lang),
               "Ændring fra start til opfølgning" if da else "Change from start to follow-up",
               lang, note=method)
    text = "\n\n".join(texts)
    show_markdown(text)
    figures = {"text": text, "changes": changes}
    store.save("survey", figures)
    return figures


# -- reader tables with disclosure control --------------------------------------------------


def small_cells(counts: pd.Series, min_cell: int) -> pd.Series:
    """Cells to hide in a column of counts whose total is shown: counts 1..min_cell-1 and, by
    secondary suppression, enough others that none can be found by subtraction."""
    from . import privacy

    return privacy.suppress_series(counts, min_cell, total=True)


def _outcome_masks(outcomes: pd.DataFrame, min_cell: int,
                   masks: dict[str, Any] | None = None) -> tuple[pd.Series, pd.Series]:
    """Hidden outcome counts and hidden group counts. With the unit's ``masks`` (the måltal's
    project-wide plan) those decide; without, the unit's own table is protected on its own:
    each group's total and the grand total are shown, so a hidden outcome must not follow from
    either."""
    from . import privacy

    if masks:
        return (pd.Series([bool(masks["outcome"].get(c, False)) for c in outcomes["code"]],
                          index=outcomes.index),
                pd.Series(masks["group"], dtype=bool))
    return privacy.suppress_grouped(outcomes["n"], outcomes["group"], min_cell)


def goal_count_hidden(masks: dict[str, Any] | None, rate_hidden: bool) -> bool:
    """Whether the number who met the goal (and its share of all participants) is left out:
    as the grouped table shows it under the project-wide plan, else with the success rate."""
    if masks:
        return bool(masks["group"].get("goal_met", False))
    return rate_hidden


def goal_met_hidden(outcomes: pd.DataFrame, goal_met: int, n_closed: int,
                    min_cell: int, masks: dict[str, Any] | None = None) -> bool:
    """Whether a unit's goal-met count and success rate must be left out of the text: the
    måltal table hides the goal-met group (as a small count or to protect another), or the
    rate goal met / closed would reveal 1..min_cell-1 with or without the goal, or (through
    its denominator) 1..min_cell-1 still active; with ``masks``, as the project-wide plan says
    (which also protects the other units' reports)."""
    from . import privacy

    if masks:
        return bool(masks["rate"])
    if len(outcomes):
        _, hide_group = _outcome_masks(outcomes, min_cell)
        if bool(hide_group.get("goal_met", False)):
            return True
        active = int(outcomes.loc[outcomes["group"].eq("active"), "n"].sum())
        if bool(privacy.primary_mask(active, min_cell)):
            return True
    return bool(privacy.rate_hidden(goal_met, n_closed, min_cell))


def _breakdown_masks(df: pd.DataFrame, min_cell: int, masks: dict[str, Any] | None = None
                     ) -> tuple[pd.Series, pd.Series]:
    """Hidden participant counts and hidden goal-met counts (with their rates) of a breakdown.

    With the unit's ``masks`` the project-wide plan decides. Without, both columns add up to
    totals shown elsewhere (participants, goal met), so each is a line for secondary
    suppression; a rate is hidden when its n is under the limit, goal met or not met is
    1..min_cell-1, or 1..min_cell-1 of the category are still active.
    """
    from . import privacy

    plan = (masks or {}).get("breakdowns", {}).get(str(df["dimension"].iloc[0])) \
        if len(df) and "dimension" in df else None
    if plan is not None and all(str(c) in plan for c in df["category"]):
        return (pd.Series([plan[str(c)]["n"] for c in df["category"]], index=df.index),
                pd.Series([plan[str(c)]["rate"] for c in df["category"]], index=df.index))
    r = len(df)
    n = df["n_participants"].to_numpy(dtype=float)
    goal = df["goal_met"].to_numpy(dtype=float)
    closed = df["n_closed"].to_numpy(dtype=float)
    # a rate gives its denominator (closed) back, and participants − closed is the number
    # still active: 1..min_cell-1 of those hides the rate as well
    primary = np.concatenate([privacy.primary_mask(n, min_cell),
                              privacy.rate_hidden(goal, closed, min_cell)
                              | privacy.primary_mask(n - closed, min_cell)])
    values, lines = np.concatenate([n, goal]), [list(range(r)), list(range(r, 2 * r))]
    mask = privacy.suppress_cells(values, lines, min_cell, primary)
    mask = privacy.widen_small_sums(values, mask, lines, [None, None], min_cell)
    return (pd.Series(mask[:r], index=df.index), pd.Series(mask[r:], index=df.index))


SHARE_NOTE = {
    "da": ("Hvor en succesrate blandt de afsluttede forløb ville gøre det muligt at regne et "
           "lille antal stadig i forløb ud, vises i stedet mål indfriet som andel af alle unge "
           "i gruppen (»af alle«)."),
    "en": ("Where a success rate among closed cases would let a small number still active be "
           "worked out, goal met is shown instead as a share of everyone in the group "
           "('of all')."),
}
"""The note said once per table or section where a share of everyone replaces a rate."""

NOT_SHOWN = {"da": "vises ikke", "en": "not shown"}
HIDDEN_REASONS = {
    "da": ("En andel vises ikke, når gruppen har færre end {k} med eller uden udfaldet, eller "
           "når den kunne bruges til at regne et sådant lille tal ud."),
    "en": ("A share is not shown when the group has fewer than {k} with or without the "
           "outcome, or when it could be used to work such a small count out."),
}
"""What a hidden figure reads in the text: the same words whatever the reason (the reasons are
explained once, in the table's note)."""


def _share_rows(df: pd.DataFrame, masks: dict[str, Any] | None, hide_rate: pd.Series
                ) -> pd.Series:
    """Per breakdown row: whether goal met is shown as its share of everyone in the category,
    because the plan hides the rate among closed forløb but publishes goal met and the size."""
    plan = (masks or {}).get("breakdowns", {}).get(str(df["dimension"].iloc[0])) \
        if len(df) and "dimension" in df else None
    if plan is None or not all(str(c) in plan for c in df["category"]):
        return pd.Series(False, index=df.index)
    return pd.Series([bool(h) and not plan[str(c)].get("goal", True) and not plan[str(c)]["n"]
                      for c, h in zip(df["category"], hide_rate, strict=True)], index=df.index)


def share_of_all_text(goal: int, n: int, lang: str = "da") -> str:
    """Goal met as a share of everyone in a group, as the seed's måltal table writes it:
    '59 % (92 af de 155 unge)'."""
    from .fmt import fmt_int, fmt_pct

    share = fmt_pct(goal / n if n else None, 0, lang)
    return (f"{share} ({fmt_int(int(goal), lang)} af de {fmt_int(int(n), lang)} unge)"
            if lang == "da" else
            f"{share} ({fmt_int(int(goal), lang)} of the {fmt_int(int(n), lang)} young people)")


def maaltal_reader_table(m: Any, cfg: ProjectConfig, name: str, lang: str = "da"
                         ) -> tuple[pd.DataFrame, str, str, str | None]:
    """A måltal table for readers: Danish formats, small counts hidden, their shares too."""
    from . import privacy
    from .config import GROUP_LABELS
    from .fmt import fmt_ci, fmt_int, fmt_pct
    from .outcomes import POSITION_LABELS

    da = lang == "da"
    k = cfg.privacy.min_cell
    if m.n_participants:  # never a weaker per-unit protection: the disclosure step's masks
        from .disclosure import require_masks

        require_masks(m.masks, f"måltal table {name!r} for {m.unit!r}")
    note = privacy.suppression_note(k, lang)
    if name in ("outcomes", "groups"):
        hide_outcome, hide_group = _outcome_masks(m.outcomes, k, m.masks)
        if name == "outcomes":  # a zero is shown by leaving its row out, unless it is hidden
            df = m.outcomes[(m.outcomes["n"] > 0) | hide_outcome]
            hide = hide_outcome[df.index]
        else:
            df = m.groups
            hide = hide_group.reindex(df["group"]).fillna(False).to_numpy()
        label = df["label"] if name == "outcomes" else df["group"].map(GROUP_LABELS[lang])
        out = pd.DataFrame({
            ("Status" if da else "Status") if name == "outcomes" else ("Gruppe" if da else
                                                                        "Group"): label,
            **({("Gruppe" if da else "Group"): df["group"].map(GROUP_LABELS[lang])}
               if name == "outcomes" else {}),
            ("Antal" if da else "Count"): privacy.render_counts(df["n"], hide, k, lang),
            ("Andel af deltagere" if da else "Share of participants"): privacy.render_masked(
                df["share_of_participants"], hide, lambda s: fmt_pct(s, 0, lang)),
        })
        caption = ("Deltagernes status ved afslutning" if name == "outcomes" else
                   "Grupperet") if da else ("Status at exit" if name == "outcomes" else
                                            "Grouped")
        return out, caption, lang, note
    if name == "targets":
        rows = []
        # a success share the måltal text may not give is not given here either
        hide_share = goal_met_hidden(m.outcomes, m.goal_met, m.n_closed, k, m.masks)
        hide_upper = upper_hidden(m, k)
        ranges = [bool(t.unknown_matters) and not hide_upper and t.actual_upper is not None
                  and not (t.target.endswith("share") and hide_share) for t in m.targets]
        span_col = "Spænd med ukendt status" if da else "Range with unknown status"
        for t, has_range in zip(m.targets, ranges, strict=True):
            share = t.target.endswith("share")
            if share and hide_share:
                rows.append({("Mål" if da else "Target"): t.target_label,
                             ("Målsætning" if da else "Target value"): fmt_pct(
                                 t.target_value, 0, lang),
                             ("Opnået" if da else "Achieved"): "–",
                             ("95 %-CI" if da else "95% CI"): "–",
                             ("Vurdering" if da else "Assessment"): "–"})
                continue
            val = (lambda x: fmt_pct(x, 0, lang)) if share else (lambda x: fmt_int(int(x), lang))
            row = {("Mål" if da else "Target"): t.target_label,
                   ("Målsætning" if da else "Target value"): val(t.target_value),
                   ("Opnået" if da else "Achieved"): val(t.actual),
                   ("95 %-CI" if da else "95% CI"): (fmt_ci(t.ci_low, t.ci_high, lang)
                                                     if t.ci_low is not None else "–"),
                   ("Vurdering" if da else "Assessment"): POSITION_LABELS[lang].get(
                       t.position or "", t.position or "–")}
            if any(ranges):  # where status ukendt changes the reading, its range
                row[span_col] = "" if not has_range else (
                    unknown_range(t.actual, t.actual_upper, lang) + (
                        f" ({POSITION_LABELS[lang][t.position_upper]} med ukendt som indfriet)"
                        if da else f" ({POSITION_LABELS[lang][t.position_upper]} with unknown as "
                        "met)") if t.position_upper and t.position_upper != t.position else
                    unknown_range(t.actual, t.actual_upper, lang)
                    if share else f"{fmt_int(int(t.actual), lang)}–"
                    f"{fmt_int(int(t.actual_upper), lang)}")
            rows.append(row)
        if rows:
            # the rules of the targets compared (the share's interval rule only with a share)
            rule = " ".join(dict.fromkeys(m.labels.get(lang, {}).get("target_rule", {}).get(
                t.target, t.rule) for t in m.targets))
            if any(ranges):
                rule = f"{rule} {_unknown_rule(lang)}"
        elif m.unit != "all":
            rule = ("Projektets mål gælder hele projektet og sammenlignes ikke for et delprojekt."
                    if da else "The project's targets are for the whole project and are not "
                    "compared for a sub-project.")
        else:
            rule = ("Konfigurationen har ingen mål at sammenligne med." if da else
                    "The configuration has no targets to compare with.")
        return pd.DataFrame(rows), ("Måltal mod mål" if da else "Targets"), lang, rule
    df = m.breakdowns[name]
    df = df[df["n_participants"] > 0]
    hide_n, hide_rate = _breakdown_masks(df, k, m.masks)
    ranges = _shown_ranges(df, k, m.masks, hide_rate)
    share = _share_rows(df, m.masks, hide_rate)
    from .outcomes import DIMENSION_LABELS, wilson

    def rate_cell(r: Any) -> str:
        if share[r.Index]:  # goal met among everyone in the category, not among the closed
            return (f"{fmt_pct(r.goal_met / r.n_participants, 0, lang)} "
                    f"{'af alle' if da else 'of all'}")
        return "–" if hide_rate[r.Index] else fmt_pct(r.rate, 0, lang)

    def ci_cell(r: Any) -> str:
        if share[r.Index]:
            return fmt_ci(*wilson(int(r.goal_met), int(r.n_participants)), lang)
        return "–" if hide_rate[r.Index] else fmt_ci(r.ci_low, r.ci_high, lang)

    rows = list(df.itertuples())
    out = pd.DataFrame({
        DIMENSION_LABELS[lang][name]: df["category_label"],
        ("Deltagere" if da else "Participants"): privacy.render_counts(
            df["n_participants"], hide_n, k, lang),
        ("Mål indfriet" if da else "Goal met"): privacy.render_counts(
            df["goal_met"], hide_rate & ~share, k, lang),
        ("Succesrate" if da else "Success rate"): [rate_cell(r) for r in rows],
        ("95 %-CI" if da else "95% CI"): [ci_cell(r) for r in rows],
    })
    if share.any():
        note = f"{note} {SHARE_NOTE[lang]}"
    if ranges.any():  # where status ukendt changes the reading: the rate's range, last column
        upper_hide = _upper_masks(df, k, m.masks, hide_rate)
        out["Spænd med ukendt status" if da else "Range with unknown status"] = [
            unknown_range(r, u, lang) if shown else "–" if hidden else ""
            for r, u, shown, hidden in zip(df["rate"], df["rate_upper"], ranges,
                                           upper_hide | hide_rate, strict=True)]
        note = f"{note} {_unknown_rule(lang)}"
    caption = (f"Succesrate pr. {DIMENSION_LABELS[lang][name].lower()}" if da else
               f"Success rate by {DIMENSION_LABELS[lang][name].lower()}")
    return out, caption, lang, note


def funnel_reader_table(funnel: pd.DataFrame, cfg: ProjectConfig, lang: str = "da"
                        ) -> tuple[pd.DataFrame, str, str, str | None]:
    """The funnel for readers: one row per step, one column per group, "n (andel)" per cell.

    Cells are hidden as ``steps.funnel`` marked them (``suppressed``: counts under the limit and
    any count that would reveal one by subtraction); a group under the limit is not shown.
    """
    from . import privacy
    from .fmt import fmt_int, fmt_pct

    da = lang == "da"
    k = cfg.privacy.min_cell
    df = funnel.copy()
    hide = df["suppressed"].astype(bool) if "suppressed" in df else \
        privacy.suppress_series(df["n_reached"], k, total=False)
    step_col = df.attrs.get("step_label") or ("Skridt" if da else "Step")
    label_col = df.attrs.get("group_label")
    if label_col not in df.columns:
        label_col = "group"
    steps = list(dict.fromkeys(df["step"]))
    labels = dict(zip(df["step"], df[step_col] if step_col in df else df["step"], strict=False))
    out = pd.DataFrame({"Skridt" if da else "Step": [labels[s] for s in steps]})
    # a hidden group size (``steps.funnel``) hides the shares in its column too
    size_hidden = (df["size_suppressed"].astype(bool) if "size_suppressed" in df
                   else pd.Series(False, index=df.index))
    for group, part in df.groupby("group", sort=False):
        n_group = int(part["n_group"].iloc[0])
        if 0 < n_group < k:
            continue
        name = str(part[label_col].iloc[0]) if label_col in part else str(group)
        hidden_size = bool(size_hidden[part.index].any())
        header = f"{name} (n = {'–' if hidden_size else fmt_int(n_group, lang)})"
        cells = {}
        for row, hidden in zip(part.itertuples(index=False), hide[part.index], strict=True):
            mark = privacy.HIDDEN_MARK  # one mark, small count or partner alike
            cells[row.step] = (mark if hidden else fmt_int(row.n_reached, lang) if hidden_size
                               else f"{fmt_int(row.n_reached, lang)} "
                                    f"({fmt_pct(row.share, 0, lang)})")
        out[header] = [cells.get(s, "–") for s in steps]
    note = (f"Antal unge, der har nået trinnet eller et senere trin (andel af gruppen). "
            f"{privacy.suppression_note(k, lang)}" if da else
            f"Young people who reached the step or a later one (share of the group). "
            f"{privacy.suppression_note(k, lang)}")
    return out, "Skridt på vejen" if da else "Steps on the way", lang, note


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
