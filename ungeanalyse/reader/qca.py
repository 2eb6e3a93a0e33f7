"""Configurations (QCA) as readers see them: the legend, the solutions in plain words, the
necessity, skewness and robustness tables and the XY plots' input.

Every function takes a :class:`ungeanalyse.qca.QCAResult` (from ``qca.analyse`` or its
``from_dict`` twin) and the unit's masks; a figure that could let a reader work out fewer than
``privacy.min_cell`` young people is left out (the one mark in tables, "vises ikke" in text),
and the reasons are said once, in the legend. :func:`section` gives the notebook's parts in
order; :func:`text` the ones the evaluation text repeats, so both word a figure the same way.
All words come from the catalogue's ``qca`` section.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from .. import i18n
from ..config import ProjectConfig
from ..fmt import fmt_float, fmt_pct
from .table import HIDDEN, ReaderTable


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.t(f"qca.{key}", lang, **params)


def _small(counts: list[int], k: int) -> bool:
    """Whether any of the counts is 1..k-1 (a figure built on them could give it back)."""
    return any(0 < c < k for c in counts)


def _code(formula: str) -> str:
    """A Boolean formula as inline code, so Markdown does not read its '*' as emphasis."""
    return f"`{formula}`"


def _label(name: str, labels: dict[str, str]) -> str:
    """A condition's reader label in quotes, or its short name when there is none."""
    return f"»{labels[name]}«" if name in labels else name


def _reading(term: str, lang: str, labels: dict[str, str]) -> str:
    """A term in words: 'DEV, ikke URB og LIT'."""
    lits = [f"{_t('describe.not', lang)} {_label(lit[1:], labels)}" if lit.startswith("~")
            else _label(lit, labels) for lit in term.split("*")]
    if len(lits) == 1:
        return lits[0]
    return ", ".join(lits[:-1]) + f" {_t('describe.and', lang)} " + lits[-1]


def _cases(n: int, lang: str) -> str:
    return _t("describe.case_one" if n == 1 else "describe.case_many", lang, n=n)


# -- a solution in words -----------------------------------------------------------------------


@dataclass
class Guard:
    """What a reading of a crisp solution may show: ``min_cell`` (None: no guard, fuzzy data or
    the researcher's full version), the counts behind each expression and term, and whether
    any configuration is small (then every fit figure is withheld)."""

    min_cell: int | None
    counts: dict[str, list[int]]
    all_hidden: bool
    n_outcome: float

    def hidden(self, terms: list[str]) -> bool:
        """Whether the figures of a disjunction of terms are left out."""
        if self.all_hidden:
            return True
        if self.min_cell is None or not terms:
            return False
        return _small(self.counts.get(" + ".join(terms), []), self.min_cell)

    def unique_hidden(self, cov_unique: float) -> bool:
        """Whether a path's unique coverage (a share of those with the outcome) is left out."""
        n = cov_unique * self.n_outcome
        return self.all_hidden or (self.min_cell is not None
                                   and 0.5 < n < self.min_cell - 0.5)


def guard(tt: Any, counts: dict[str, list[int]], row_counts: list[list[int]],
          min_cell: int | None) -> Guard:
    """The guard of a truth table's readings (no guard for fuzzy data: delprojekter, not
    people)."""
    k = None if min_cell is None or tt.fuzzy else min_cell
    all_hidden = k is not None and any(_small(r, k) for r in row_counts)
    return Guard(k, counts, all_hidden, float(tt.data[tt.outcome].sum()))


def _no_solution(tt: Any, g: Guard, lang: str) -> list[str]:
    num = (lambda v: fmt_float(v, 2, lang))  # noqa: E731 - one-line formatter
    parts = [_t("describe.no_solution", lang, outcome=tt.outcome, cut=num(tt.incl_cut),
                cases=_cases(tt.n_cut, lang))]
    seen = tt.table[tt.table["OUT"] != "?"]
    if g.all_hidden:
        seen = seen.iloc[0:0]
    if g.min_cell is not None and len(seen):  # a row's consistency is k / n of a few people
        k = (seen["incl"] * seen["n"]).round()
        m = g.min_cell
        seen = seen[~((k > 0) & (k < m) | ((seen["n"] - k) > 0) & ((seen["n"] - k) < m))]
    if len(seen):
        from ..qca import _row_minterm, term_name

        best = seen["incl"].idxmax()
        term = _code(term_name(_row_minterm(seen.loc[best], tt.conditions), tt.conditions))
        parts.append(_t("describe.best_row", lang, incl=num(seen.loc[best, "incl"]), term=term))
    return parts


def _solution(sol: Any, tt: Any, g: Guard, lang: str, labels: dict[str, str]) -> list[str]:
    num = (lambda v: fmt_float(v, 2, lang))  # noqa: E731
    out = _label(tt.outcome, labels)
    if sol.terms == ["1"]:  # every condition eliminated: the outcome goes with all of them
        parts = [_t("describe.always", lang, outcome=out)]
    else:
        paths = _t("describe.or_when", lang).join(_reading(t, lang, labels) for t in sol.terms)
        parts = [_t("describe.seen_when", lang, outcome=out, paths=paths)]
    if g.hidden(sol.terms):
        parts.append(_t("describe.solution_hidden", lang, expression=_code(sol.expression),
                        not_shown=_t("describe.not_shown", lang)))
    else:
        parts.append(_t("describe.solution", lang, expression=_code(sol.expression),
                        incl=num(sol.consistency), cov=num(sol.coverage),
                        incl_pct=fmt_pct(sol.consistency, 0, lang), outcome=tt.outcome,
                        cov_pct=fmt_pct(sol.coverage, 0, lang)))
    if len(sol.terms) > 1:
        parts.append(_t("describe.paths", lang, paths="; ".join(
            _path(r, g, lang) for r in sol.table.itertuples())))
    if len(sol.models) > 1:
        others = "; ".join(_code(" + ".join(m)) for m in sol.models[1:])
        parts.append(_t("describe.models", lang, n=len(sol.models), others=others))
    return parts


def _path(r: Any, g: Guard, lang: str) -> str:
    num = (lambda v: fmt_float(v, 2, lang))  # noqa: E731
    if g.hidden([r.term]):
        return _t("describe.path_hidden", lang, term=_code(r.term),
                  not_shown=_t("describe.not_shown", lang))
    unique = (_t("describe.unique_hidden", lang) if g.unique_hidden(r.cov_unique) else
              _t("describe.unique", lang, value=num(r.cov_unique)))
    return _t("describe.path", lang, term=_code(r.term), incl=num(r.incl), cov=num(r.cov_raw),
              unique=unique)


def _assumptions(sol: Any, tt: Any, lang: str) -> list[str]:
    """What the solution assumes about unobserved combinations."""
    out = tt.outcome
    if sol.kind == "intermediate" and sol.terms:
        n_ec, n_dc = len(sol.easy_counterfactuals), len(sol.difficult_counterfactuals)
        easy = ("describe.easy_many" if n_ec > 1 else "describe.easy_one" if n_ec
                else "describe.easy_none")
        hard = _t("describe.difficult", lang, n=n_dc) if n_dc else ""
        return [_t(easy, lang, n=n_ec, outcome=out) + hard]
    if sol.include_remainders and sol.terms and not sol.simplifying_assumptions:
        return [_t("describe.parsimonious_same", lang)]
    if sol.include_remainders and sol.terms:
        return [_t("describe.parsimonious", lang, n=len(sol.simplifying_assumptions),
                   outcome=out)]
    if sol.terms:
        return [_t("describe.conservative", lang)]
    return []


def _limits(sol: Any, tt: Any, g: Guard, lang: str) -> list[str]:
    """The solution's limits: what it rests on, diversity, contradictions, assumptions."""
    from ..qca import FEW_CASES

    num = (lambda v: fmt_float(v, 2, lang))  # noqa: E731
    total, n_rem, n_con = len(tt.table), len(tt.remainders), len(tt.contradictions)
    # about people, the number of cases is the unit's participants minus those still active
    # or with a value missing, which the måltal tables may hide: no number then
    limits = [_t("describe.rests_people", lang) if g.min_cell is not None else
              _t("describe.rests_cases", lang, cases=_cases(tt.n_cases, lang))]
    if g.all_hidden and sol.terms:
        limits.append(_t("describe.all_hidden", lang))
    thin = len(tt.positive[tt.positive["n"] < FEW_CASES])
    if thin and sol.terms:
        limits.append(_t("describe.thin", lang, n=thin, few=FEW_CASES))
    cases = _cases(tt.n_cut, lang)
    limits.append(_t("describe.diversity", lang, n=n_rem, total=total, cases=cases,
                     share=fmt_pct(n_rem / total, 0, lang)) if n_rem else
                  _t("describe.full_diversity", lang, total=total, cases=cases))
    if n_con:
        limits.append(_t("describe.contradictions", lang, n=n_con, low=num(tt.incl_cut0),
                         cut=num(tt.incl_cut)))
    if tt.unassigned:
        limits.append(_t("describe.unassigned", lang, cases=_cases(len(tt.unassigned), lang)))
    if sol.excluded and sol.terms:
        limits.append(_t("describe.excluded", lang, n=len(sol.excluded)))
    limits += _assumptions(sol, tt, lang)
    limits.append(_t("describe.not_causal", lang))
    return limits


def describe(sol: Any, tt: Any, g: Guard, lang: str = "da",
             labels: dict[str, str] | None = None) -> str:
    """A solution in plain words, with consistency, coverage and its limits; figures that
    would reveal fewer than the guard's threshold of people are left out."""
    labels = labels or {}
    parts = _solution(sol, tt, g, lang, labels) if sol.terms else _no_solution(tt, g, lang)
    return (" ".join(parts) + f"\n\n{_t('describe.limits', lang)} "
            + " ".join(_limits(sol, tt, g, lang)))


def bounds(conservative: Any, parsimonious: Any, tt: Any, g: Guard, lang: str = "da") -> str:
    """The conservative and parsimonious solutions as the bounds of the intermediate one."""
    def one(sol: Any, which: str) -> str:
        name = _t(f"bounds.{which}", lang)
        if not sol.terms:
            return _t("bounds.none", lang, name=name)
        figures = "" if g.hidden(sol.terms) else _t(
            "bounds.figures", lang, incl=fmt_float(sol.consistency, 2, lang),
            cov=fmt_float(sol.coverage, 2, lang))
        return _t("bounds.solution", lang, name=name, expression=_code(sol.expression),
                  figures=figures)

    return _t("bounds.text", lang, conservative=one(conservative, "conservative"),
              parsimonious=one(parsimonious, "parsimonious"))


def untenable_text(untenable: pd.DataFrame, lang: str = "da") -> str:
    """Which simplifying assumptions the Enhanced Standard Analysis left out, and why."""
    if untenable.empty:
        return _t("untenable.none", lang)
    items = []
    for config, group in untenable.groupby("configuration", sort=False):
        reasons = "; ".join(_t(f"untenable.{r}", lang, detail=d)
                            for r, d in zip(group["reason"], group["detail"], strict=True))
        items.append(_t("untenable.item", lang, configuration=config, reasons=reasons))
    return _t("untenable.head", lang, n=len(items), items=", ".join(items))


# -- the parts of the section ------------------------------------------------------------------


def _require(masks: dict[str, Any] | None) -> None:
    from ..disclosure import require_masks

    require_masks(masks, "QCA")


def condition_label(col: str, cfg: ProjectConfig, lang: str) -> str:
    """A condition column ('element_x', 'tg_y') as the config names it."""
    if col.startswith("element_"):
        return cfg.elements[col.removeprefix("element_")].text(lang)
    if col.startswith("tg_"):
        return cfg.target_groups[col.removeprefix("tg_")].text(lang)
    return col


def labels(a: Any, cfg: ProjectConfig, lang: str) -> dict[str, str]:
    """The short names of an analysis with their reader labels (the outcome: the goal)."""
    out = {name: condition_label(col, cfg, lang) for name, col in a.columns.items()
           if col != "goal_met"}
    from ..qca import OUTCOME

    out[OUTCOME] = cfg.targets.tr("goal_met_description", lang)
    return out


def legend(result: Any, cfg: ProjectConfig, lang: str = "da") -> str:
    """The conditions' short names, what ~ means, and (once) why a figure may be missing."""
    a = result.participants
    items = ", ".join(_t("legend_item", lang, name=name, label=condition_label(col, cfg, lang))
                      for name, col in a.columns.items() if col != "goal_met")
    return _t("conditions", lang, legend=items, k=result.min_cell)


def direction_text(a: Any, lang: str = "da") -> str:
    """The directional expectations of the intermediate solution, in words."""
    word = {1: "present", 0: "absent", "-": "either"}
    each = ", ".join(f"{name} {_t('direction.' + word[v], lang)}"
                     for name, v in a.directions.items())
    return _t("direction.text", lang, each=each)


def solution_text(a: Any, min_cell: int | None, cfg: ProjectConfig, lang: str = "da") -> str:
    """The intermediate solution first (the one to read), the other two as its bounds, and
    the untenable assumptions left out."""
    tt = a.truth_table
    g = guard(tt, a.counts, a.row_counts, min_cell)
    names = labels(a, cfg, lang)
    if a.intermediate is None:
        return describe(a.conservative, tt, g, lang, names)
    head = _t("intermediate", lang) + " " + describe(a.intermediate, tt, g, lang, names)
    if tt.remainders.empty:  # nothing to assume: the three solutions are one
        return head + "\n\n" + _t("same_solutions", lang)
    return (head + "\n\n" + bounds(a.conservative, a.parsimonious, tt, g, lang) + " "
            + untenable_text(a.untenable, lang))


def necessity_table(a: Any, min_cell: int | None, lang: str = "da") -> ReaderTable:
    """Consistency, relevance (RoN) and coverage of each condition and its negation; for
    people, the rows that could reveal a small count show the one mark (all of them when any
    configuration is small: combined with the CMO cells they could give a small one)."""
    nec = a.necessity
    fmt = nec.map(lambda v: fmt_float(v, 2, lang))
    crisp = min_cell is not None and not a.truth_table.fuzzy
    if crisp:
        g = guard(a.truth_table, a.counts, a.row_counts, min_cell)
        for name in fmt.index:
            counts = a.counts.get(f"necessity:{str(name).removeprefix('~')}", [])
            if g.all_hidden or _small(counts, min_cell):
                fmt.loc[name] = HIDDEN
    people = a.level == "participants"
    return ReaderTable(pd.DataFrame({
        _t("necessity.condition", lang): fmt.index,
        _t("necessity.consistency", lang): fmt["consistency"].to_numpy(),
        _t("necessity.relevance", lang): fmt["RoN"].to_numpy(),
        _t("necessity.coverage", lang): fmt["coverage"].to_numpy(),
    }), _t("necessity.caption" if people else "necessity.caption_delprojekter", lang), lang,
        _t("necessity.note", lang, k=min_cell) if crisp else None)


def skew_table(a: Any, lang: str = "da") -> ReaderTable:
    """The share of cases inside each set and whether it is skewed."""
    sk = a.skewness
    people = a.level == "participants"
    return ReaderTable(pd.DataFrame({
        _t("skew.set", lang): sk.index,
        _t("skew.share", lang): [fmt_pct(v, 0, lang) for v in sk["share_in"]],
        _t("skew.skewed", lang): [i18n.t("ui.yes" if v else "ui.no", lang)
                                  for v in sk["skewed"]],
    }), _t("skew.caption" if people else "skew.caption_delprojekter", lang), lang,
        _t("skew.note", lang) if people else None)


def robustness_table(a: Any, lang: str = "da") -> ReaderTable:
    """The robustness runs: test, setting, solution; one change at a time."""
    rob = a.robustness
    people = a.level == "participants"

    def setting(r: Any) -> str:
        if r.test == "base":
            return _t("robustness.base_setting", lang, incl=fmt_float(r.incl_cut, 2, lang),
                      n=r.n_cut)
        if r.test == "incl_cut":
            return fmt_float(r.incl_cut, 2, lang)
        if r.test == "calibration":
            return _shift_text(str(r.setting), lang)
        return str(r.setting)

    note = (_t("robustness.note", lang) if people else
            _t("robustness.note_delprojekter", lang, shift=_shift_points(rob)))
    return ReaderTable(pd.DataFrame({
        _t("robustness.test", lang): [_t(f"robustness.{t}", lang) for t in rob.table["test"]],
        _t("robustness.setting", lang): [setting(r) for r in rob.table.itertuples()],
        _t("robustness.solution", lang): [e or _t("robustness.none", lang)
                                          for e in rob.table["expression"]],
    }), _t("robustness.caption_participants" if people else "robustness.caption_delprojekter",
           lang), lang, note)


def _shift_text(code: str, lang: str) -> str:
    """'shift:-0.05' → 'alle ankre 5 procentpoint ned'."""
    shift = float(code.removeprefix("shift:"))
    return _t("robustness.shift_down" if shift < 0 else "robustness.shift_up", lang,
              shift=fmt_float(abs(shift) * 100, 0, lang))


def _shift_points(rob: Any) -> str:
    shifts = {abs(float(s.removeprefix("shift:"))) for s in rob.table["setting"]
              if str(s).startswith("shift:")}
    return "/".join(fmt_float(100 * s, 0) for s in sorted(shifts))


def robustness_text(a: Any, lang: str = "da") -> str:
    """One plain sentence on which terms of the solution survive the robustness runs."""
    rob = a.robustness
    n = len(rob.table)
    same = int((rob.table["expression"] == rob.table["expression"].iloc[0]).sum())
    kept = rob.robust
    if rob.terms.empty:
        return _t("robustness.no_solution", lang)
    if kept and same == n:
        return _t("robustness.all_same", lang, n=n)
    # "x af de y andre": never "x af y", which reads as a count of people
    again = _t("robustness.again", lang, same=same - 1, others=n - 1)
    if kept:
        return again + _t("robustness.kept", lang, terms=", ".join(f"`{t}`" for t in kept))
    return again + _t("robustness.none_kept", lang)


@dataclass
class XYInput:
    """An XY plot's input (``ua.plot.xy_plot(*xy)``): membership in the solution, in the
    outcome, and the solution's expression and fit."""

    member: pd.Series
    outcome: pd.Series
    expression: str
    outcome_label: str
    consistency: float
    coverage: float
    lang: str

    def __iter__(self) -> Any:
        return iter((self.member, self.outcome, self.expression, self.outcome_label,
                     self.consistency, self.coverage, self.lang))


def _xy(a: Any, cfg: ProjectConfig, lang: str) -> XYInput | None:
    from ..qca import OUTCOME, membership

    sol = a.intermediate
    if sol is None or not sol.terms:
        return None
    tt = a.truth_table
    return XYInput(membership(tt, sol.terms), tt.data[OUTCOME], sol.expression,
                   labels(a, cfg, lang)[OUTCOME], sol.consistency, sol.coverage, lang)


class Said(str):
    """Markdown the notebook shows and the evaluation text repeats (:func:`text`)."""

    __slots__ = ()


def _participant_parts(result: Any, cfg: ProjectConfig, lang: str) -> list[Any]:
    a, k = result.participants, result.min_cell
    parts: list[Any] = ["### " + _t("heading_participants", lang), Said(legend(result, cfg, lang)),
                        necessity_table(a, k, lang),
                        Said(direction_text(a, lang) + "\n\n" + solution_text(a, k, cfg, lang))]
    if guard(a.truth_table, a.counts, a.row_counts, k).all_hidden:
        return [*parts, Said(_t("withheld_participants", lang))]
    parts.append(skew_table(a, lang))
    xy = _xy(a, cfg, lang)
    if xy is not None:
        parts.append(xy)
    if a.robustness is not None:
        parts += [robustness_table(a, lang), Said(robustness_text(a, lang))]
    return parts


def _delprojekt_parts(result: Any, cfg: ProjectConfig, lang: str) -> list[Any]:
    from ..qca import ANCHORS, GOAL_ANCHORS

    a = result.delprojekter
    pct = ", ".join(fmt_pct(x, 0, lang) for x in ANCHORS)
    goal = ", ".join(fmt_pct(x, 0, lang) for x in GOAL_ANCHORS)
    parts: list[Any] = ["### " + _t("heading_delprojekter", lang),
                        necessity_table(a, None, lang), skew_table(a, lang),
                        Said(_t("delprojekter_intro", lang, anchors=pct, goal_anchors=goal)
                             + "\n\n" + solution_text(a, None, cfg, lang))]
    xy = _xy(a, cfg, lang)
    if xy is not None:
        small = any(_small(c, result.min_cell) for c in a.group_counts)
        parts.append(Said(_t("withheld_xy", lang)) if small else xy)
    if a.robustness is not None:
        parts += [robustness_table(a, lang), Said(robustness_text(a, lang))]
    return parts


def section(result: Any, masks: dict[str, Any] | None, cfg: ProjectConfig, lang: str = "da"
            ) -> list[Any]:
    """The QCA section in the notebook's order: headings and text (Markdown; :class:`Said`
    for the text the evaluation repeats), reader tables and XY plot inputs (:class:`XYInput`).
    Participant-level figures are withheld when any configuration has 1..min_cell-1 young
    people with or without the goal; a delprojekt XY plot when a point's shares give such a
    count."""
    _require(masks)
    parts = _participant_parts(result, cfg, lang)
    if result.delprojekter is not None:
        parts += _delprojekt_parts(result, cfg, lang)
    return parts


def text(result: Any, masks: dict[str, Any] | None, cfg: ProjectConfig, lang: str = "da"
         ) -> str:
    """The QCA text of the evaluation: the legend and every sentence the section says."""
    return "\n\n".join(p for p in section(result, masks, cfg, lang) if isinstance(p, Said))
