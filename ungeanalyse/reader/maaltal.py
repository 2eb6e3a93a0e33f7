"""Måltal for readers: the tables, the figure's input and the sentences of notebook 02 and of the
evaluation text, from a :class:`~ungeanalyse.outcomes.Maaltal` and the unit's masks.

Every function takes the result (live, or ``Maaltal.from_dict`` of the saved ``maaltal.json``),
the unit's masks from the disclosure step (``ungeanalyse.disclosure.load_masks``), the config
and the language, and refuses to work without the masks. What is hidden shows one mark
(:data:`~ungeanalyse.reader.table.HIDDEN`) and the text never says why next to it; each table's
note says the reasons once. Labels come from the config and the catalogue (``maaltal.*``), so
the result's own language does not matter.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from .. import i18n
from ..config import ProjectConfig
from ..disclosure.solver import rate_hidden
from ..fmt import fmt_ci, fmt_float, fmt_int, fmt_kr, fmt_pct, md_text
from ..outcomes import Maaltal, category_labels, unit_label
from .table import HIDDEN, ReaderTable, hidden_note

# -- the masks ------------------------------------------------------------------------------


def plan(m: Maaltal, masks: dict[str, Any] | None, what: str) -> dict[str, Any] | None:
    """The unit's måltal plan from its masks; an error without masks (never a weaker per-unit
    protection). None only for a unit without participants (nothing to hide)."""
    from ..disclosure import require_masks

    found = require_masks(masks, f"{what} for {m.unit!r}").get("maaltal")
    if found is None and m.n_participants:
        require_masks(found, f"{what} for {m.unit!r} (the masks hold no måltal plan)")
    return found


def _outcome_masks(m: Maaltal, p: dict[str, Any] | None) -> tuple[pd.Series, dict[str, bool]]:
    """Hidden outcome counts (per row of ``m.outcomes``) and hidden group counts."""
    if p is None:
        return pd.Series(False, index=m.outcomes.index), {}
    return (pd.Series([bool(p["outcome"].get(c, True)) for c in m.outcomes["code"]],
                      index=m.outcomes.index), {g: bool(h) for g, h in p["group"].items()})


def goal_met_hidden(p: dict[str, Any] | None) -> bool:
    """Whether the unit's success rate (goal met among closed forløb) is left out."""
    return bool(p and p["rate"])


def goal_count_hidden(p: dict[str, Any] | None) -> bool:
    """Whether the number who met the goal (and its share of everyone) is left out."""
    return bool(p and p["group"].get("goal_met", True))


def upper_hidden(p: dict[str, Any] | None) -> bool:
    """Whether the success rate with *status ukendt* as goal met is left out (with it the
    unknown count follows)."""
    return bool(p is None or p.get("upper", True))


def _dimension_plan(df: pd.DataFrame, p: dict[str, Any] | None) -> dict[str, Any] | None:
    if p is None or not len(df):
        return None
    found = p["breakdowns"].get(str(df["dimension"].iloc[0]))
    return found if found is not None and all(str(c) in found for c in df["category"]) else None


def breakdown_masks(df: pd.DataFrame, p: dict[str, Any] | None) -> tuple[pd.Series, pd.Series]:
    """Hidden participant counts and hidden rates (with their goal counts) of a breakdown, as
    the plan says; a category the plan does not know is hidden."""
    found = _dimension_plan(df, p)
    if found is None:
        hidden = pd.Series(p is not None, index=df.index)
        return hidden, hidden
    return (pd.Series([bool(found[str(c)]["n"]) for c in df["category"]], index=df.index),
            pd.Series([bool(found[str(c)]["rate"]) for c in df["category"]], index=df.index))


def share_rows(df: pd.DataFrame, p: dict[str, Any] | None, hide_rate: pd.Series) -> pd.Series:
    """Per breakdown row: whether goal met is shown as its share of everyone in the category,
    because the plan hides the rate among closed forløb but publishes goal met and the size."""
    found = _dimension_plan(df, p)
    if found is None:
        return pd.Series(False, index=df.index)
    return pd.Series([bool(h) and not found[str(c)].get("goal", True) and not found[str(c)]["n"]
                      for c, h in zip(df["category"], hide_rate, strict=True)], index=df.index)


def _upper_masks(df: pd.DataFrame, p: dict[str, Any] | None) -> pd.Series:
    found = _dimension_plan(df, p)
    if found is None:
        return pd.Series(True, index=df.index)
    return pd.Series([bool(found[str(c)].get("upper", True)) for c in df["category"]],
                     index=df.index)


def shown_ranges(df: pd.DataFrame, p: dict[str, Any] | None, hide_rate: pd.Series) -> pd.Series:
    """Per breakdown row: whether its range for *status ukendt* is shown (it changes the
    reading and the plan lets the upper bound out)."""
    if "unknown_matters" not in df:
        return pd.Series(False, index=df.index)
    return df["unknown_matters"].eq(True) & ~_upper_masks(df, p) & ~hide_rate


# -- small wordings -------------------------------------------------------------------------


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.t(f"maaltal.{key}", lang, **params)


def _count(n: Any, hidden: bool, lang: str) -> str:
    return HIDDEN if hidden else fmt_int(n, lang)


def _pct(x: Any, lang: str) -> str:
    return fmt_pct(x, 0, lang)


def _group_label(group: str, lang: str) -> str:
    return _t(f"group.{group}", lang)


def _outcome_label(code: str, cfg: ProjectConfig, lang: str, stored: str) -> str:
    return cfg.outcome_labels(lang).get(code, stored) if code in cfg.outcomes else stored


def _category_label(dimension: str, code: str, cfg: ProjectConfig, lang: str,
                    stored: str) -> str:
    return category_labels(cfg, dimension, lang).get(str(code), stored)


def unknown_rule(lang: str) -> str:
    """How *status ukendt* enters the success rates, and when the range is shown."""
    return _t("unknown_rule", lang)


def unknown_range(lower: float | None, upper: float | None, lang: str = "da") -> str:
    """The success rate's range for *status ukendt*: '48–53 %' (lower: unknown as not met)."""
    return fmt_ci(lower, upper, lang)


def share_of_all_text(goal: int, n: int, lang: str = "da") -> str:
    """Goal met as a share of everyone in a group, as the seed's måltal table writes it:
    '59 % (92 af de 155 unge)'."""
    return _t("share_of_all", lang, share=_pct(goal / n if n else None, lang),
              goal=fmt_int(int(goal), lang), n=fmt_int(int(n), lang))


def notes(m: Maaltal, lang: str) -> list[str]:
    """The result's notes in the report language."""
    return [i18n.word(note, lang, "maaltal.note") for note in m.notes]


# -- notebook 02: the opening and the text under the tables ---------------------------------


def intro(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig, lang: str) -> str:
    """A first paragraph: the unit, its participants and how many met the goal (unless the
    tables hide that count)."""
    p = plan(m, masks, "måltal intro")
    k = cfg.privacy.min_cell
    unit = unit_label(cfg, m.unit, lang)
    n = _count(m.n_participants, 0 < m.n_participants < k, lang)
    if goal_count_hidden(p) and m.n_participants:
        return _t("intro_hidden", lang, unit=unit, n=n)
    share = (_pct(m.goal_met / m.n_participants, lang)
             if m.n_participants and m.goal_met >= k else HIDDEN)
    return _t("intro", lang, unit=unit, n=n, goal=fmt_int(m.goal_met, lang), share=share,
              description=cfg.targets.tr("goal_met_description", lang))


def unknown_sentence(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig, lang: str,
                     always: bool = False) -> str:
    """The unit's success rate with *status ukendt* counted as goal met, as a sentence: only
    where it changes the reading (``Maaltal.unknown_matters``), or with ``always`` also where
    it does not (or that it is not shown); '' otherwise."""
    p = plan(m, masks, "the sentence on status ukendt")
    if not m.n_unknown or not m.success.n or not (always or m.unknown_matters):
        return ""
    if upper_hidden(p):
        return _t("unknown_hidden", lang) if always else ""
    lo, hi = _pct(m.success.rate, lang), _pct(m.success_upper.rate, lang)
    n = fmt_int(m.n_unknown, lang)
    key = "unknown_changes" if m.unknown_matters else "unknown_same"
    return _t(key, lang, n=n, low=lo, high=hi)


def unknown_text(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                 lang: str) -> str:
    """For notebook 02: what status ukendt does to the success rate, and the rule."""
    sentence = unknown_sentence(m, masks, cfg, lang, always=True)
    return f"{sentence} {unknown_rule(lang)}".strip() if sentence else ""


def cost_text(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig, lang: str) -> str:
    """Cost per participant and per goal met, or why it is not given for a delprojekt (the
    cost per goal met goes where the goal count is hidden: it would give the count back)."""
    p = plan(m, masks, "måltal cost")
    if m.cost_per_participant is None:
        return _t("cost_not_split", lang)
    per_goal = (fmt_kr(m.cost_per_goal_met, lang)
                if m.cost_per_goal_met and not goal_count_hidden(p) else HIDDEN)
    return _t("cost", lang, budget=fmt_kr(m.budget_kr, lang),
              participant=fmt_kr(m.cost_per_participant, lang), goal=per_goal)


def plot_input(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
               lang: str) -> pd.DataFrame:
    """The outcome bars' input (``ua.plot.maaltal_bars``): label, group, n, share; a hidden
    count and its share are NaN (drawn without a bar)."""
    hide, _ = _outcome_masks(m, plan(m, masks, "måltal figure"))
    o = m.outcomes
    keep = (o["n"] > 0) | hide  # a hidden zero keeps its (empty) bar
    o = o[keep]
    shown = ~hide[keep]
    return pd.DataFrame({
        "label": [_outcome_label(c, cfg, lang, s) for c, s in zip(o["code"], o["label"],
                                                                   strict=True)],
        "group": [_group_label(g, lang) for g in o["group"]], "group_code": o["group"],
        "n": o["n"].where(shown), "share": o["share_of_participants"].where(shown),
    }).reset_index(drop=True)


# -- notebook 02: the tables ----------------------------------------------------------------


def _count_and_share(df: pd.DataFrame, hide: Any, lang: str) -> dict[str, list[str]]:
    """The count and share-of-everyone columns of the outcome and group tables, hidden
    together row by row."""
    return {
        _t("col.count", lang): [_count(n, h, lang) for n, h in zip(df["n"], hide, strict=True)],
        _t("col.share_of_participants", lang): [
            HIDDEN if h else _pct(s, lang)
            for s, h in zip(df["share_of_participants"], hide, strict=True)],
    }


def outcomes_table(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                   lang: str) -> ReaderTable:
    """Status at exit: one row per outcome code with its group, count and share of everyone
    (a zero is shown by leaving its row out, unless it is hidden)."""
    hide_outcome, _ = _outcome_masks(m, plan(m, masks, "måltal table 'outcomes'"))
    df = m.outcomes[(m.outcomes["n"] > 0) | hide_outcome]
    hide = hide_outcome[df.index]
    frame = pd.DataFrame({
        _t("col.status", lang): [_outcome_label(c, cfg, lang, s)
                                 for c, s in zip(df["code"], df["label"], strict=True)],
        _t("col.group", lang): [_group_label(g, lang) for g in df["group"]],
        **_count_and_share(df, hide, lang),
    })
    return ReaderTable(frame, _t("caption.outcomes", lang), lang,
                       hidden_note(cfg.privacy.min_cell, lang))


def groups_table(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                 lang: str) -> ReaderTable:
    """The outcome groups (goal met, derived effect, …) with count and share of everyone."""
    _, hide_group = _outcome_masks(m, plan(m, masks, "måltal table 'groups'"))
    df = m.groups
    hide = [hide_group.get(g, bool(hide_group)) for g in df["group"]]
    frame = pd.DataFrame({
        _t("col.group", lang): [_group_label(g, lang) for g in df["group"]],
        **_count_and_share(df, hide, lang),
    })
    return ReaderTable(frame, _t("caption.groups", lang), lang,
                       hidden_note(cfg.privacy.min_cell, lang))


def _target_range(t: Any, lang: str) -> str:
    """A target's range with *status ukendt* as goal met (and the position it then has)."""
    if t.target.endswith("share"):
        span = unknown_range(t.actual, t.actual_upper, lang)
    else:
        span = f"{fmt_int(int(t.actual), lang)}–{fmt_int(int(t.actual_upper), lang)}"
    if t.position_upper and t.position_upper != t.position:
        return _t("range_position", lang, range=span,
                  position=i18n.t(f"position.{t.position_upper}", lang))
    return span


def _targets_shown(m: Maaltal, p: dict[str, Any] | None) -> tuple[bool, list[bool]]:
    """Whether the success share is hidden, and per target whether its range is shown."""
    hide_share = goal_met_hidden(p)
    hide_upper = upper_hidden(p)
    return hide_share, [bool(t.unknown_matters) and not hide_upper
                        and t.actual_upper is not None
                        and not (t.target.endswith("share") and hide_share) for t in m.targets]


def targets_table(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                  lang: str) -> ReaderTable:
    """The funder's targets against what the unit achieved, with the rule behind the
    assessment (a share the text may not give is not given here either)."""
    hide_share, ranges = _targets_shown(m, plan(m, masks, "måltal table 'targets'"))
    rows = []
    for t, has_range in zip(m.targets, ranges, strict=True):
        share = t.target.endswith("share")

        def value(x: Any, share: bool = share) -> str:
            return _pct(x, lang) if share else fmt_int(int(x), lang)

        hidden = share and hide_share
        row = {_t("col.target", lang): _t(f"target.{t.target}", lang),
               _t("col.target_value", lang): value(t.target_value),
               _t("col.achieved", lang): HIDDEN if hidden else value(t.actual),
               _t("col.ci", lang): _target_ci(t, hidden, lang),
               _t("col.assessment", lang): _target_assessment(t, hidden, lang)}
        if any(ranges) and not hidden:  # where status ukendt changes the reading, its range
            row[_t("col.range", lang)] = _target_range(t, lang) if has_range else ""
        rows.append(row)
    if rows:  # the rules of the targets compared (the share's interval rule only with one)
        note = " ".join(dict.fromkeys(_t(f"target_rule.{t.target}", lang) for t in m.targets))
        if any(ranges):
            note = f"{note} {unknown_rule(lang)}"
    else:
        note = _t("targets_whole_project" if m.unit != "all" else "no_targets", lang)
    return ReaderTable(pd.DataFrame(rows), _t("caption.targets", lang), lang, note)


def _target_ci(t: Any, hidden: bool, lang: str) -> str:
    """A target's interval: the one mark where the plan hides the share, blank where the target
    has none (a count), so that '–' never stands for 'not applicable'."""
    if hidden:
        return HIDDEN
    return "" if t.ci_low is None else fmt_ci(t.ci_low, t.ci_high, lang)


def _target_assessment(t: Any, hidden: bool, lang: str) -> str:
    """A target's assessment: its position against the interval rule, or for a count target
    the share of the target reached ('63 % af målet'); the one mark where the share is hidden."""
    if hidden:
        return HIDDEN
    if t.position:
        return i18n.t(f"position.{t.position}", lang)
    if t.attainment is not None:
        return _t("of_target_cell", lang, share=_pct(t.attainment, lang))
    return ""


def breakdown_table(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                    dimension: str, lang: str) -> ReaderTable:
    """The success rate per category of one breakdown (target group, gender, age band,
    delprojekt): participants, goal met, rate and interval, and the range for status ukendt
    where it changes the reading; goal met of everyone where the plan hides the rate."""
    p = plan(m, masks, f"måltal table {dimension!r}")
    df = m.breakdowns[dimension]
    df = df[df["n_participants"] > 0]
    hide_n, hide_rate = breakdown_masks(df, p)
    ranges = shown_ranges(df, p, hide_rate)
    share = share_rows(df, p, hide_rate)
    rows = list(df.itertuples())

    def rate_cell(r: Any) -> str:
        if share[r.Index]:  # goal met among everyone in the category, not among the closed
            return _t("of_all", lang, share=_pct(r.share_of_all, lang))
        return HIDDEN if hide_rate[r.Index] else _pct(r.rate, lang)

    def ci_cell(r: Any) -> str:
        if share[r.Index]:
            return fmt_ci(r.share_of_all_low, r.share_of_all_high, lang)
        return HIDDEN if hide_rate[r.Index] else fmt_ci(r.ci_low, r.ci_high, lang)

    name = _t(f"dimension.{dimension}", lang)
    frame = pd.DataFrame({
        name: [_category_label(dimension, r.category, cfg, lang, r.category_label) for r in rows],
        _t("col.participants", lang): [_count(r.n_participants, hide_n[r.Index], lang)
                                       for r in rows],
        _t("col.goal_met", lang): [_count(r.goal_met, hide_rate[r.Index] and not share[r.Index],
                                          lang) for r in rows],
        _t("col.success_rate", lang): [rate_cell(r) for r in rows],
        _t("col.ci", lang): [ci_cell(r) for r in rows],
    })
    note = hidden_note(cfg.privacy.min_cell, lang)
    if share.any():
        note = f"{note} {_t('share_note', lang)}"
    if ranges.any():  # where status ukendt changes the reading: the rate's range, last column
        upper_hide = _upper_masks(df, p) | hide_rate
        frame[_t("col.range", lang)] = [
            unknown_range(r, u, lang) if shown else HIDDEN if hidden else ""
            for r, u, shown, hidden in zip(df["rate"], df["rate_upper"], ranges, upper_hide,
                                           strict=True)]
        note = f"{note} {unknown_rule(lang)}"
    return ReaderTable(frame, _t("caption.breakdown", lang, dimension=name.lower()), lang, note)


def breakdown_tables(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                     lang: str) -> list[ReaderTable]:
    """The breakdowns with more than one category, in report order (target group, gender,
    age band, delprojekt)."""
    return [breakdown_table(m, masks, cfg, d, lang)
            for d in ("target_group", "gender", "age_band", "delprojekt")
            if d in m.breakdowns and len(m.breakdowns[d]) > 1]


def table(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig, name: str,
          lang: str = "da") -> ReaderTable:
    """Any måltal reader table by name: 'outcomes', 'groups', 'targets' or a breakdown."""
    if name == "outcomes":
        return outcomes_table(m, masks, cfg, lang)
    if name == "groups":
        return groups_table(m, masks, cfg, lang)
    if name == "targets":
        return targets_table(m, masks, cfg, lang)
    return breakdown_table(m, masks, cfg, name, lang)


# -- the evaluation text (notebook 04 rebuilds the result with Maaltal.from_dict) ------------


def _rate_text(k: int, n: int, rate: float | None, lo: float | None, hi: float | None,
               cfg: ProjectConfig, lang: str) -> str:
    """'48 % (58 af 120; 95 %-CI 39–57 %)', or the one 'not shown' wording."""
    k_min = cfg.privacy.min_cell
    if rate_hidden(k, n, k_min):
        return i18n.t("common.not_shown", lang)
    return _t("rate", lang, rate=_pct(rate, lang), k=fmt_int(k, lang), n=fmt_int(n, lang),
              ci=fmt_ci(lo, hi, lang))


def _range_suffix(lower: float | None, upper: float | None, lang: str) -> str:
    """'; med ukendt status talt som indfriet 53 % (spænd 48–53 %)' for a rate in the text."""
    return _t("range_suffix", lang, upper=_pct(upper, lang),
              range=unknown_range(lower, upper, lang))


def _breakdown_rows(m: Maaltal, p: dict[str, Any] | None, dimension: str, cfg: ProjectConfig,
                    lang: str) -> list[dict[str, Any]]:
    """Per category of a breakdown as the text gives it: label, whether goal met of everyone
    replaces the rate, the rate cell ('–' when hidden), its range and the sentence part."""
    df = pd.DataFrame(m.breakdowns.get(dimension, []))
    if not len(df):
        return []
    df = df[df["n_participants"] > 0]
    _, hide_rate = breakdown_masks(df, p)
    ranges = shown_ranges(df, p, hide_rate)
    share = share_rows(df, p, hide_rate)
    out = []
    for i, r in df.iterrows():
        of_all = share_of_all_text(r["goal_met"], r["n_participants"], lang)
        rng = unknown_range(r["rate"], r["rate_upper"], lang) if ranges[i] else None
        text = (i18n.t("common.not_shown", lang) if hide_rate[i] else _rate_text(
            r["goal_met"], r["n_closed"], r["rate"], r["ci_low"], r["ci_high"], cfg, lang)
            + (_range_suffix(r["rate"], r["rate_upper"], lang) if ranges[i] else ""))
        out.append({"label": _category_label(dimension, r["category"], cfg, lang,
                                             r["category_label"]),
                    "share": bool(share[i]), "of_all": of_all,
                    "rate": of_all if share[i] else HIDDEN if hide_rate[i]
                    else _pct(r["rate"], lang),
                    "range": rng, "text": text})
    return out


def target_group_rates(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                       lang: str) -> tuple[list[dict[str, Any]], str | None]:
    """The target groups as the måltal table shows them, for the evaluation text: per group
    label, share (goal met of everyone instead of the rate), rate, range and a sentence; and the
    note said once where a share of everyone replaces a rate."""
    rows = _breakdown_rows(m, plan(m, masks, "target-group rates"), "target_group", cfg, lang)
    for row in rows:
        if row["share"]:
            row["text"] = _t("of_all_sentence", lang, text=row["of_all"])
    note = _t("share_note", lang) if any(r["share"] for r in rows) else None
    return [{k: v for k, v in r.items() if k != "of_all"} for r in rows], note


def outcomes_text(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                  lang: str) -> str:
    """How the young people left, as a Markdown list (share of everyone), with the notes."""
    hide, _ = _outcome_masks(m, plan(m, masks, "the måltal text"))
    lines = []
    for i, o in m.outcomes.iterrows():
        if o["n"] == 0 and not hide[i]:
            continue
        label = md_text(_outcome_label(o["code"], cfg, lang, o["label"]))
        if hide[i]:
            lines.append(f"- {label}: {HIDDEN} ({HIDDEN})")
        else:
            lines.append(f"- {label}: {fmt_int(o['n'], lang)} "
                         f"({_pct(o['share_of_participants'], lang)})")
    text = _t("outcomes_head", lang) + "\n\n" + "\n".join(lines)
    said = "\n".join(f"*{n}*" for n in notes(m, lang))
    return text + ("\n\n" + said if said else "")


def delprojekt_text(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                    lang: str) -> str:
    """The success rate per delprojekt as a Markdown list ('' for fewer than two)."""
    if len(m.breakdowns.get("delprojekt", [])) < 2:
        return ""
    rows = _breakdown_rows(m, plan(m, masks, "the delprojekt text"), "delprojekt", cfg, lang)
    lines = [f"- {md_text(r['label'])}: "
             + (_t("of_all", lang, share=r["of_all"]) if r["share"] else r["text"])
             for r in rows]
    note = f"\n\n*{_t('share_note', lang)}*" if any(r["share"] for r in rows) else ""
    return _t("delprojekt_head", lang) + "\n\n" + "\n".join(lines) + note


def _target_value(t: Any, lang: str) -> str:
    share = t.target.endswith("share")
    value = (lambda x: _pct(x, lang)) if share else (lambda x: fmt_int(x, lang))
    return _t("target_against", lang, actual=value(t.actual), target=value(t.target_value))


def target_sentence(t: Any, lang: str, upper_hidden: bool = True) -> str:
    """One target against its result, with the position and the rule behind it when known,
    and what it is with *status ukendt* counted as goal met where that changes the reading
    (and the plan lets the upper bound out)."""
    text = f"{_t(f'target.{t.target}', lang)}: {_target_value(t, lang)}"
    if t.position:
        text += f" – {i18n.t(f'position.{t.position}', lang)}"
    elif t.attainment is not None:
        text += " " + _t("of_target", lang, share=_pct(t.attainment, lang))
    rule = _t(f"target_rule.{t.target}", lang) if t.position else None
    text = f"{text}. {rule}" if rule else f"{text}."
    if not t.unknown_matters or upper_hidden or t.actual_upper is None:
        return text
    if t.target.endswith("share"):
        pos = i18n.t(f"position.{t.position_upper}", lang) if t.position_upper else ""
        upper = _pct(t.actual_upper, lang) + (f" – {pos}" if pos else "")
        span = unknown_range(t.actual, t.actual_upper, lang)
    else:
        upper = fmt_int(t.actual_upper, lang)
        span = f"{fmt_int(t.actual, lang)}–{upper}"
    return text + " " + _t("target_upper", lang, upper=upper, range=span)


def target_sentences(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                     lang: str) -> list[str]:
    """Every target as a sentence for the evaluation text (a share the tables hide left out)."""
    p = plan(m, masks, "the targets text")
    return [target_sentence(t, lang, upper_hidden(p)) for t in m.targets
            if not (goal_met_hidden(p) and t.target.endswith("share"))]


def success(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
            lang: str) -> dict[str, Any] | None:
    """The unit's success rate for the text (rate, interval, the unknown sentence and range),
    or None where the tables hide it."""
    p = plan(m, masks, "the success rate")
    if not m.success.n or goal_met_hidden(p):
        return None
    out = {"rate": _pct(m.success.rate, lang),
           "ci": fmt_ci(m.success.ci_low, m.success.ci_high, lang), "range": None,
           "unknown_text": unknown_sentence(m, masks, cfg, lang) or None}
    if out["unknown_text"]:  # the range changes the reading
        out["range"] = unknown_range(m.success.rate, m.success_upper.rate, lang)
    return out


def _gap_text(gap: Any, labels: dict[str, str], lang: str) -> str:
    """'17 procentpoint lavere for »A« (48 %) end for »B« (65 %); 95 %-CI …'."""
    lo = fmt_float(-100 * gap.ci_high, 0, lang).replace("-", "−")
    hi = fmt_float(-100 * gap.ci_low, 0, lang).replace("-", "−")
    adjusted = _t("bonferroni", lang) if gap.alpha < 0.05 - 1e-12 else ""
    return _t("gap", lang, points=fmt_float(-100 * gap.difference, 0, lang),
              low=labels.get(gap.low, gap.low), high=labels.get(gap.high, gap.high),
              low_rate=_pct(gap.low_rate.rate, lang), high_rate=_pct(gap.high_rate.rate, lang),
              ci_low=lo, ci_high=hi, adjusted=adjusted)


def target_group_findings(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                          lang: str) -> dict[str, Any]:
    """What the måltal say about the difference between target groups: ``text`` for the
    Måltal section (every pair whose rates are shown, supported or not, and the rule) and
    ``recommendations`` only from a supported difference (:class:`outcomes.RateGap`): its
    interval excludes 0, also with the lower group's unknown statuses as goal met."""
    out: dict[str, Any] = {"text": None, "recommendations": []}
    tg = m.breakdowns.get("target_group")
    if tg is None or not len(tg) or not m.target_group_gaps:
        return out
    tg = tg[tg["n_participants"] > 0]
    _, hide_rate = breakdown_masks(tg, plan(m, masks, "the target-group finding"))
    shown = {str(c) for c, h in zip(tg["category"], hide_rate, strict=True) if not h}
    labels = {str(c): _category_label("target_group", c, cfg, lang, s)
              for c, s in zip(tg["category"], tg["category_label"], strict=True)}
    gaps = [g for g in m.target_group_gaps if g.low in shown and g.high in shown]
    if not gaps:
        return out
    lines = []
    for g in gaps:
        text = _gap_text(g, labels, lang)
        low, high = labels.get(g.low, g.low), labels.get(g.high, g.high)
        if g.supported:
            lines.append(_t("gap_supported", lang, text=text))
            out["recommendations"].append(_t(
                "gap_recommendation", lang, low=low, high=high,
                points=fmt_float(-100 * g.difference, 0, lang)))
        elif g.ci_high < 0:
            lines.append(_t("gap_not_with_unknown", lang, text=text, low=low))
        else:
            lines.append(_t("gap_not_supported", lang, text=text))
    out["text"] = "\n\n".join(lines) + f"\n\n*{_t('gap_rule', lang)}*"
    return out


def evaluation_context(m: Maaltal, masks: dict[str, Any] | None, cfg: ProjectConfig,
                       lang: str) -> dict[str, Any]:
    """The måltal part of the evaluation text's template context: what is hidden, the success
    rate, the target groups, the targets, the outcome and delprojekt lists, the rule on status
    ukendt and the target-group finding, worded as notebook 02 words them."""
    p = plan(m, masks, "the evaluation text")
    target_groups, share_note = target_group_rates(m, masks, cfg, lang)
    return {"goal_met_hidden": goal_count_hidden(p),
            "success": success(m, masks, cfg, lang), "target_groups": target_groups,
            "share_note": share_note,
            "targets": [{"text": t} for t in target_sentences(m, masks, cfg, lang)],
            "maaltal_text": outcomes_text(m, masks, cfg, lang),
            "breakdown_text": delprojekt_text(m, masks, cfg, lang),
            "unknown_rule": unknown_rule(lang),
            "target_group_findings": target_group_findings(m, masks, cfg, lang)}
