"""What the notebooks show a reader: data quality, måltal, steps and survey (moving to the
reader package by topic).

The CMO hypotheses, QCA, the business case, the comparison group and the evaluation text live
in :mod:`ungeanalyse.reader` (``cmo``, ``qca``, ``business_case``, ``comparison``,
``evaluation``); the måltal sentences of the evaluation text are still here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from . import i18n
from .config import ProjectConfig
from .reader.display import show_figure, show_markdown, show_table  # noqa: F401
from .reader.table import _NUMERIC_TEXT, html_table  # noqa: F401
from .reader.table import fmt_cell as _fmt_cell  # noqa: F401


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


# -- the måltal sentences of the evaluation text (reader.evaluation imports them from here) --

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


# -- glue for notebook 02 ------------------------------------------------------------------


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

