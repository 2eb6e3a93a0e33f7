"""What works for whom, as readers see it: the CMO hypotheses' table, rules, verdicts, the joint
display of figures and voices, the forest plot's input and the subgroup heatmaps.

Every function takes the result of :func:`ungeanalyse.realist.evaluate_hypotheses` (or its
``CMOTable.from_dict`` twin from a saved ``cmo.json``) and, where it shows a count or a rate,
the unit's masks from :func:`ungeanalyse.disclosure.load_masks`: the CMO cells the disclosure
step hides (``masks["cmo"][hypothesis id][cell]``). Without masks they refuse to render. A
hidden figure reads the same whatever the reason (``reader.table.HIDDEN`` in tables, "vises
ikke" in text); the reasons are said once, in the table's note. All words come from the
catalogue's ``cmo`` section.

The researcher's versions (``rule_text`` and ``notes`` with ``hidden=None``, ``summary``) carry
every figure and are what ``HypothesisResult.rule`` / ``.notes()`` / ``.summary()`` show in
Python; they never go into a report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import i18n
from ..config import ProjectConfig
from ..fmt import fmt_float, fmt_p, fmt_pct, fmt_signed
from .table import HIDDEN, ReaderTable

CELL_KEYS = ("in_yes", "in_no", "out_yes", "out_no")
SMALL_N = 30
"""Cells below this size get an explicit 'usikkert' (uncertain) note."""


def _t(key: str, lang: str, **params: Any) -> str:
    return i18n.t(f"cmo.{key}", lang, **params)


# -- words for codes -------------------------------------------------------------------------


def verdict(code: str, lang: str = "da") -> str:
    """A verdict code ('supported') as the report says it ('støttet')."""
    return _t(f"verdict.{code}", lang)


def verdict_rules(lang: str = "da", min_cell: int = 5) -> str:
    """The verdict rules as a reader sees them, with the project's disclosure threshold."""
    return _t("rules", lang, min_cell=min_cell)


def association_note(lang: str = "da") -> str:
    """Said wherever the hypotheses' figures are: associations, not effects."""
    return _t("association_note", lang)


def secondary_note(unit: str, lang: str = "da") -> str:
    """Said in every delprojekt report next to its verdicts ('' for the whole project)."""
    return "" if unit == "all" else _t("secondary_note", lang)


def inline(label: str) -> str:
    """A label inside a sentence: 'Fast kontaktperson' → 'fast kontaktperson'; an acronym at
    the start ('ADHD / autisme', 'FGU') keeps its capitals."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def adjusted_text(model: Any, lang: str = "da") -> str:
    """What the model adjusts for, in words ('delprojekt og målgruppe')."""
    parts = [i18n.t_or(f"cmo.adjusted_for.{a}", lang, a) for a in model.adjusted_for]
    return f" {_t('adjusted_for.and', lang)} ".join(parts) or _t("adjusted_for.nothing", lang)


def method_text(model: Any, lang: str = "da") -> str:
    """Which model and tests were used, in words."""
    if not model.ok:
        return _t("method.none", lang)
    head = _t("method.head", lang, adjusted=adjusted_text(model, lang))
    if model.cov_type == "CR2":
        return _t("method.cr2", lang, head=head, df_max=model.n_clusters - 1,
                  clusters=model.n_clusters)
    return _t("method.model", lang, head=head)


def methods_text(cmo: Any, lang: str = "da") -> str:
    """The methods used across a table's fitted models, in words (for the method section)."""
    return "; ".join(dict.fromkeys(method_text(r.model, lang) for r in cmo.results
                                   if r.model.ok))


def problem_text(model: Any, lang: str = "da") -> str:
    """Why the logistic model could not be estimated."""
    return _t(f"problem.{model.problem}", lang, detail=model.problem_detail or "")


def _pp(x: float, lang: str) -> str:
    """A difference as signed percentage points: 0.602 → '+60', −0.126 → '−13'."""
    return fmt_signed(100 * x if x is not None and np.isfinite(x) else None, 0, lang)


def _width(x: float, lang: str) -> str:
    return fmt_float(100 * x if np.isfinite(x) else None, 0, lang)


def _odds(est: Any, lang: str) -> str:
    """An odds ratio with its interval: '4,62 (1,10–19,39)'."""
    if not np.isfinite(est.estimate):
        return HIDDEN
    return (f"{fmt_float(est.estimate, 2, lang)} ({fmt_float(est.ci_low, 2, lang)}–"
            f"{fmt_float(est.ci_high, 2, lang)})")


def _ci(est: Any, lang: str) -> str:
    """'+30 procentpoint (95 %-CI +12 til +45)'."""
    return _t("rule.ci", lang, estimate=_pp(est.estimate, lang), low=_pp(est.ci_low, lang),
              high=_pp(est.ci_high, lang))


def _alpha(alpha: float, lang: str) -> str:
    """The significance level as written in the rules: 0,05."""
    digits = len(f"{alpha:g}".partition(".")[2])
    return fmt_float(alpha, digits, lang)


# -- the masks ---------------------------------------------------------------------------------


def hidden_cells(r: Any, masks: dict[str, Any] | None) -> dict[str, bool]:
    """The cells of one hypothesis readers may not see, from the unit's masks (the disclosure
    step); an error without masks, or when the plan does not cover the hypothesis."""
    from ..disclosure import require_masks

    plan = (require_masks(masks, f"hypothesis {r.id}").get("cmo") or {})
    if r.id not in plan:
        from ..errors import UserError

        raise UserError(f"hypothesis {r.id}: the disclosure masks have no plan for it (made for "
                        "another config?); reload them with ungeanalyse.disclosure.load_masks.")
    return {key: bool(plan[r.id].get(key, True)) for key in CELL_KEYS}


# -- the rule and the notes ------------------------------------------------------------------


def _small_where(r: Any, lang: str) -> str:
    small = r.cells[(r.cells["k"] < r.min_cell) | (r.cells["n"] - r.cells["k"] < r.min_cell)]
    return "; ".join(_t("rule.small_where", lang, cell=_t(f"cell.{c.cell}", lang), n=int(c.n),
                        k=int(c.k)) for c in small.itertuples())


def _tests(r: Any, lang: str) -> tuple[str, str, str]:
    """The main test's p-values as the rule names them: (all tests, raw p, cluster check)."""
    m = r.model
    p_raw = fmt_p(r.p, lang)
    tests = p_raw if r.p_adjust == "none" else (
        f"{p_raw}, {_t('rule.p_adjusted', lang, method=r.p_adjust, p=fmt_p(r.p_adj, lang))}")
    cluster = ""
    if m.cov_type == "CR2":
        df = m.df_cluster_interaction if r.primary_test == "interaction" else m.df_cluster_in
        cluster = _t("rule.cluster", lang, df=fmt_float(df, 1, lang),
                     p=fmt_p(r.p_cluster, lang))
        tests = f"{tests}; {cluster}"
    return tests, p_raw, cluster


def rule_text(r: Any, lang: str = "da", hidden: dict[str, bool] | None = None) -> str:
    """The sentence naming the rule that decided the verdict, with its figures (from the
    decision codes ``r.decision``). With ``hidden`` (a report) the model's figures (odds ratios,
    adjusted differences) are left out when any cell is hidden, since the model uses every
    cell, and small cells are not named; without, the researcher's full version.

    Long because it words every branch of the four rules in one place (the order of the
    branches is the order of the rules)."""
    why = r.decision
    hide = hidden is not None and any(hidden.values())
    if why["rule"] == "small":
        where = (_t("rule.small_where_reader", lang) if hidden is not None
                 else _small_where(r, lang))
        return _t("rule.small", lang, k=r.min_cell, where=where)
    if why["rule"] == "model":
        return _t("rule.model", lang, problem=problem_text(r.model, lang))
    m, alpha = r.model, _alpha(r.alpha, lang)
    tests, p_raw, cluster = _tests(r, lang)
    rd_in = "" if hide else " " + _t("rule.adjusted", lang, ci=_ci(m.rd_in, lang))
    interaction = r.primary_test == "interaction"
    if interaction:
        figures = "" if hide else " " + _t("rule.figures_interaction", lang,
                                           odds_ratio=_odds(m.or_interaction, lang),
                                           ci=_ci(m.rd_did, lang))
        main = _t("rule.main_interaction", lang) + figures
    else:
        figures = "" if hide else " " + _t("rule.figures_mechanism", lang,
                                           odds_ratio=_odds(m.or_mechanism_in_context, lang),
                                           ci=_ci(m.rd_in, lang))
        main = _t("rule.main_mechanism", lang) + figures
    in_ctx = _t("rule.in_context", lang) + rd_in
    rule = why["rule"]
    if rule == 2:
        text = _t("rule.supported", lang, main=main, tests=tests, alpha=alpha)
        text += _t("rule.supported_tail", lang, in_context=in_ctx) if interaction else "."
    elif rule == 3:
        short = (_t("rule.partly_short_adjusted", lang, alpha=alpha) if not why["adjusted"]
                 else _t("rule.partly_short_interval", lang))
        extra = _t("rule.partly_extra", lang, in_context=in_ctx) if interaction else ""
        text = _t("rule.partly", lang, main=main, tests=tests, extra=extra, alpha=alpha,
                  short=short)
    elif not why["main_dir"]:
        both = _t("rule.not_direction_both", lang) if interaction else ""
        text = _t("rule.not_direction", lang, main=main, both=both, tests=tests)
    elif why["nominal"] and not why["cluster_ok"] and (not interaction or why["in_dir"]):
        text = _t("rule.not_cluster", lang, main=main, p=p_raw, cluster=cluster, alpha=alpha)
    elif interaction and not why["in_dir"]:
        text = _t("rule.not_in_context", lang, in_context=in_ctx, main=main, tests=tests)
    else:
        text = _t("rule.not_p", lang, main=main, p=p_raw, alpha=alpha)
        if interaction and why["in_alone"]:
            text += " " + _t("rule.in_alone", lang, adjusted=rd_in,
                             p=fmt_p(r.p_mechanism_in_context, lang))
    if hide:
        text += " " + _t("rule.hidden", lang)
    return text


def notes(r: Any, lang: str = "da", hidden: dict[str, bool] | None = None) -> list[str]:
    """Power honesty: small cells, interval widths, exclusions and the model used. With
    ``hidden`` (a report) a hidden cell is only said to be hidden (no count: with the other
    cells and a total it would give a hidden one back) and no number left out is given."""
    out = [association_note(lang)]
    for row in r.cells.itertuples():
        where = _t(f"cell.{row.cell}", lang)
        if hidden is not None and hidden[row.cell]:
            out.append(_t("note.hidden_cell", lang, where=where))
        elif row.n < SMALL_N:
            out.append(_t("note.small_cell", lang, n=int(row.n), where=where,
                          width=_width(row.ci_width, lang)))
    in_hidden = hidden is not None and (hidden["in_yes"] or hidden["in_no"])
    if np.isfinite(r.diff_in.ci_width) and not in_hidden:
        out.append(_t("note.diff_width", lang, width=_width(r.diff_in.ci_width, lang)))
    if (r.n_active or r.n_missing) and hidden is not None:
        # for readers no numbers: the number still active is the måltal tables' to show or
        # hide, and the cells' n next to a total would give it back
        out.append(_t("note.left_out_reader", lang))
    elif r.n_active or r.n_missing:
        out.append(_t("note.left_out", lang, active=r.n_active, missing=r.n_missing,
                      n=r.n_in_scope))
    if r.model.ok:
        out.append(_t("note.model", lang, method=method_text(r.model, lang)))
    else:
        out.append(_t("note.no_model", lang, problem=problem_text(r.model, lang)))
    return out


# -- the researcher's plain-text account -------------------------------------------------------


def summary(r: Any, lang: str = "da") -> str:
    """One hypothesis as a readable account: cells, differences, model, verdict, rule, notes
    (every figure: for the researcher in Python, not for a report)."""
    lines = [f"{r.id}: {r.tr('title', lang)}",
             _t("summary.labels", lang, context=r.tr("context_label", lang),
                mechanism=r.tr("mechanism_label", lang), outcome=r.tr("outcome_label", lang),
                n=r.n)]
    lines += [f"  {_t(f'cell.{key}', lang)}: {r.cell(key).text(lang)}" for key in CELL_KEYS]
    for key, est in (("diff_in", r.diff_in), ("diff_out", r.diff_out), ("did", r.did)):
        lines.append("  " + _t("summary.estimate", lang, label=_t(f"summary.{key}", lang),
                                estimate=_pp(est.estimate, lang), low=_pp(est.ci_low, lang),
                                high=_pp(est.ci_high, lang)))
    m = r.model
    if m.ok:
        for key, est in (("rd_in", m.rd_in), ("rd_did", m.rd_did)):
            lines.append(f"  {_t(f'summary.{key}', lang)}: {_ci(est, lang)}")
        lines.append("  " + _t("summary.odds_ratios", lang,
                                odds_in=_odds(m.or_mechanism_in_context, lang),
                                odds_interaction=_odds(m.or_interaction, lang),
                                method=method_text(m, lang)))
    p = f"  p ({r.primary_test}) {fmt_p(r.p, lang, label='')}"
    if r.p_adjust != "none":
        p += "; " + _t("rule.p_adjusted", lang, method=r.p_adjust, p=fmt_p(r.p_adj, lang))
    lines.append(p)
    lines.append(_t("summary.verdict", lang, verdict=verdict(r.verdict_code, lang),
                    rule=rule_text(r, lang)))
    lines += [f"NB: {n}" for n in notes(r, lang)]
    return "\n".join(lines)


def table_summary(cmo: Any, lang: str = "da") -> str:
    """A CMO table as text: one paragraph per hypothesis, the caveat and the adjustment."""
    parts = [_t("summary.table", lang, unit=cmo.unit, n=len(cmo.results), method=cmo.p_adjust),
             association_note(lang)]
    if cmo.unit != "all":
        parts.append(secondary_note(cmo.unit, lang))
    parts += [summary(r, lang) for r in cmo.results]
    return "\n\n".join(parts)


def research_table(cmo: Any, lang: str = "da") -> pd.DataFrame:
    """The researcher's compact table (``CMOTable.table``): report labels, rates and
    differences in percent, every figure (not for a report: no masks)."""
    f = cmo.frame
    out = pd.DataFrame({"id": f["id"], "title": [r.tr("title", lang) for r in cmo.results],
                        "context_label": [r.tr("context_label", lang) for r in cmo.results],
                        "mechanism_label": [r.tr("mechanism_label", lang) for r in cmo.results],
                        "n": f["n"]})
    for key in CELL_KEYS:
        out[f"rate_{key}"] = (100 * f[f"rate_{key}"]).round(1)

    def interval(low: str, high: str) -> list[str]:
        return [_t("research.interval", lang, low=_pp(lo, lang), high=_pp(hi, lang))
                for lo, hi in zip(f[low], f[high], strict=True)]

    out["diff_in"] = (100 * f["diff_in"]).round(1)
    out["diff_in_ci"] = interval("diff_in_ci_low", "diff_in_ci_high")
    out["diff_out"] = (100 * f["diff_out"]).round(1)
    out["did"] = (100 * f["did"]).round(1)
    out["rd_in"] = (100 * f["rd_in"]).round(1)
    out["rd_in_ci"] = interval("rd_in_ci_low", "rd_in_ci_high")
    out["rd_did"] = (100 * f["rd_did"]).round(1)
    out["or_in"] = f["or_in"].round(2)
    out["or_interaction"] = f["or_interaction"].round(2)
    for col in ("p", "p_adj", "p_cluster"):
        out[col] = f[col].round(3)
    out["verdict"] = [verdict(r.verdict_code, lang) for r in cmo.results]
    out["rule"] = [rule_text(r, lang) for r in cmo.results]
    return out.rename(columns={c: _t(f"research.{c}", lang) for c in out.columns})


# -- the reader's table, the forest plot and the text per hypothesis ---------------------------


def table(cmo: Any, masks: dict[str, Any] | None, cfg: ProjectConfig, lang: str = "da"
          ) -> ReaderTable:
    """The CMO table for readers: the four rates, the crude and adjusted difference in the
    context, the adjusted p and the verdict; hidden cells (and every figure that uses one) show
    the one mark."""
    k = cfg.privacy.min_cell
    rows = []
    for r in cmo.results:
        cells = {c["cell"]: c for _, c in r.cells.iterrows()}
        hidden = hidden_cells(r, masks)

        def rate(key: str, cells: dict[str, Any] = cells,
                 hidden: dict[str, bool] = hidden) -> str:
            c = cells.get(key)
            if c is None or hidden[key] or c["n"] < k:
                return HIDDEN
            return _t("table.rate", lang, rate=fmt_pct(c["rate"], 0, lang), n=int(c["n"]))

        def pp(est: Any) -> str:
            return _t("table.pp", lang, estimate=_pp(est.estimate, lang),
                      low=_pp(est.ci_low, lang), high=_pp(est.ci_high, lang))

        too_few = r.verdict_code == "too_few_data" or hidden["in_yes"] or hidden["in_no"]
        # the model's figure uses every cell (and the strata): shown only when none is hidden
        adjusted = HIDDEN if (too_few or any(hidden.values()) or not r.model.ok) else pp(
            r.model.rd_in)
        rows.append({
            _t("table.hypothesis", lang): f"{r.id}: {r.tr('title', lang)}",
            _t("table.context", lang): r.tr("context_label", lang),
            _t("table.mechanism", lang): r.tr("mechanism_label", lang),
            **{_t(f"table.{key}", lang): rate(key) for key in CELL_KEYS},
            _t("table.difference", lang): HIDDEN if too_few else pp(r.diff_in),
            _t("table.adjusted", lang): adjusted,
            _t("table.p_adjusted", lang): HIDDEN if too_few or pd.isna(r.p_adj) else
            fmt_float(r.p_adj, 3, lang),
            _t("table.verdict", lang): verdict(r.verdict_code, lang),
        })
    return ReaderTable(pd.DataFrame(rows), _t("table.caption", lang), lang,
                       _t("table.note", lang, k=k))


def rules(cmo: Any, cfg: ProjectConfig, lang: str = "da") -> str:
    """The verdict rules under the table, with the project's threshold."""
    return verdict_rules(lang, cfg.privacy.min_cell)


FOREST_COLUMNS = ["id", "title", "diff", "diff_lo", "diff_hi", "adj", "adj_lo", "adj_hi",
                  "verdict", "verdict_code"]


def forest_input(cmo: Any, masks: dict[str, Any] | None, lang: str = "da") -> pd.DataFrame:
    """Crude and adjusted differences in context with CIs for the forest plot; rows whose
    difference the CMO table hides (too few data, or an in-context cell hidden) left out, and
    the adjusted one (adj, adj_lo, adj_hi) NaN where the table hides it (any cell hidden)."""
    rows = []
    for r in cmo.results:
        hidden = hidden_cells(r, masks)
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
                     "verdict": verdict(r.verdict_code, lang),
                     "verdict_code": r.verdict_code})
    return pd.DataFrame(rows, columns=FOREST_COLUMNS)


def forest_empty(lang: str = "da") -> str:
    """Said instead of a forest plot when every difference is hidden or too uncertain."""
    return _t("forest_empty", lang)


def _rate_text(c: dict[str, Any], lang: str) -> str:
    """'85 % (34 af 40; 95 %-CI 71–93 %)'."""
    from ..fmt import fmt_ci, fmt_int

    return _t("text.rate", lang, rate=fmt_pct(c["rate"], 0, lang), k=fmt_int(c["k"], lang),
              n=fmt_int(c["n"], lang), ci=fmt_ci(c["ci_low"], c["ci_high"], lang))


def _figures(r: Any, hidden: dict[str, bool], k: int, lang: str) -> str:
    """The four cells, the difference in the context and the adjusted one, as Markdown; every
    hidden cell reads the same (wording that told them apart would say which is small), and
    the reasons are given once, below."""
    cells = {c["cell"]: c for _, c in r.cells.iterrows()}
    parts = [f"- {_t(f'cell_text.{key}', lang)}: "
             + (_t("text.not_shown", lang) if hidden[key] else _rate_text(cells[key], lang))
             for key in CELL_KEYS if key in cells]
    if any(hidden[key] for key in CELL_KEYS if key in cells):
        parts.append(f"\n*{_t('text.hidden_reasons', lang, k=k)}*")
    d, diff = r.diff_in, ""
    if (r.verdict_code != "too_few_data" and np.isfinite(d.estimate)
            and not (hidden["in_yes"] or hidden["in_no"])):
        diff = _t("text.difference", lang, estimate=_pp(d.estimate, lang),
                  low=_pp(d.ci_low, lang), high=_pp(d.ci_high, lang))
        rd = r.model.rd_in
        if not any(hidden.values()) and r.model.ok and np.isfinite(rd.estimate):
            diff += " " + _t("text.adjusted", lang, adjusted=adjusted_text(r.model, lang),
                             estimate=_pp(rd.estimate, lang), low=_pp(rd.ci_low, lang),
                             high=_pp(rd.ci_high, lang))
    return "\n".join(parts) + ("\n\n" + diff if diff else "")


def finding(r: Any, lang: str = "da") -> str:
    """The finding a verdict carries, worded as its hypothesis expects (stronger in the context,
    positive, negative) and as an association; '' for 'for få data'."""
    words = {"id": r.id, "mechanism": inline(r.tr("mechanism_label", lang)),
             "context": r.tr("context_label", lang),
             "outcome": inline(r.tr("outcome_label", lang)),
             "verdict": verdict(r.verdict_code, lang)}
    if r.verdict_code in ("supported", "partly_supported"):
        kind = ("stronger" if r.expected == "stronger_in_context" else
                "fewer" if r.expected == "negative" else "more")
        if kind == "stronger":  # the mechanism opens the sentence (after "H2:"): as labelled
            words["mechanism"] = r.tr("mechanism_label", lang)
        return _t(f"finding.{kind}", lang, **words)
    if r.verdict_code == "not_supported":
        return _t("finding.not_found", lang, **words)
    return ""


def recommendation(r: Any, lang: str = "da") -> str | None:
    """What the verdict recommends, naming the finding it comes from; None for 'ikke
    støttet'. There is no comparison group, so a supported association is a reason to test
    the element, not proof that it works."""
    key = f"cmo.recommendation.{r.verdict_code}"
    if not i18n.has(key, lang):
        return None
    return i18n.t(key, lang, id=r.id, mechanism=inline(r.tr("mechanism_label", lang)),
                  context=r.tr("context_label", lang))


@dataclass
class HypothesisText:
    """One hypothesis as a reader reads it: labels, figures, verdict, rule, notes, voices."""

    id: str
    title: str
    context_label: str
    mechanism_label: str
    outcome_label: str
    figures: str
    verdict: str
    verdict_code: str
    rule: str
    notes: list[str]
    voices: list[dict[str, str]]
    voice_counts: str
    finding: str
    rate_in_yes: str
    interpretation: str | None = None

    @property
    def mechanism(self) -> str:
        """The mechanism's label (as the evaluator's texts name it)."""
        return self.mechanism_label

    @property
    def context(self) -> str:
        """The context's label."""
        return self.context_label

    def __getitem__(self, key: str) -> Any:  # the evaluator's texts index it as a dict
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)


def hypothesis_text(r: Any, voices: dict[str, Any], masks: dict[str, Any] | None,
                    cfg: ProjectConfig, lang: str = "da") -> HypothesisText:
    """One hypothesis for the joint display and the evaluation text: the same cells hidden as
    in the CMO table, the reader's rule and notes, and its voices."""
    hidden = hidden_cells(r, masks)
    counts = voices.get("counts", {})
    voice_counts = ", ".join(_t("text.voice_count", lang, n=n,
                                source=_t(f"voice_source.{kind}", lang) if i18n.has(
                                    f"cmo.voice_source.{kind}", lang) else kind)
                             for kind, n in counts.items() if n)
    quotes = [{"text": q["text"], "source": _quote_source(q["source"], lang)}
              for q in voices.get("quotes", [])]
    rate_in_yes = r.cells.set_index("cell").loc["in_yes", "rate"]
    return HypothesisText(
        id=r.id, title=r.tr("title", lang), context_label=r.tr("context_label", lang),
        mechanism_label=r.tr("mechanism_label", lang), outcome_label=r.tr("outcome_label", lang),
        figures=_figures(r, hidden, cfg.privacy.min_cell, lang),
        verdict=verdict(r.verdict_code, lang), verdict_code=r.verdict_code,
        rule=rule_text(r, lang, hidden), notes=notes(r, lang, hidden), voices=quotes,
        voice_counts=voice_counts, finding=finding(r, lang),
        rate_in_yes=HIDDEN if hidden["in_yes"] else fmt_pct(rate_in_yes, 0, lang))


QUOTE_SOURCES = {"ung": "ung", "partner": "partner", "case": "case",
                 "casebeskrivelse": "case"}
"""The source type of a quote as ``voices`` saved it (older files: the Danish word)."""


def _quote_source(source: str, lang: str) -> str:
    kind = QUOTE_SOURCES.get(source)
    return _t(f"quote_source.{kind}", lang) if kind else source


def voices(display_table: pd.DataFrame) -> dict[str, Any]:
    """Quote counts by source type and the chosen quotes per hypothesis, for the text (the
    ``voices`` result the notebook saves; the source as its code)."""
    out: dict[str, Any] = {}
    for _, row in display_table.iterrows():
        quotes = row["quotes"] if isinstance(row["quotes"], list) else []
        out[row["id"]] = {
            "counts": {"ung": int(row["n_ung"]), "partner": int(row["n_partner"]),
                       "case": int(row["n_case"])},
            "quotes": [{"text": q["text"], "source": q["source_type"]} for q in quotes],
        }
    return out


def hypothesis_mechanisms(cmo: Any) -> list[str]:
    """The distinct mechanism expressions of a CMO table, in order."""
    return list(dict.fromkeys(r.mechanism for r in cmo.results))


def joint_display_text(cmo: Any, display_table: pd.DataFrame, masks: dict[str, Any] | None,
                       cfg: ProjectConfig, lang: str = "da") -> str:
    """The joint display as Markdown: per hypothesis figures, verdict, rule and voices."""
    v = voices(display_table)
    parts = []
    for r in cmo.results:
        h = hypothesis_text(r, v.get(r.id, {}), masks, cfg, lang)
        block = [f"### {h.id}. {h.title}", "",
                 f"*{_t('text.context', lang)}:* {h.context_label}. "
                 f"*{_t('text.mechanism', lang)}:* {h.mechanism_label}.",
                 "", h.figures, "", f"**{_t('text.verdict', lang)}: {h.verdict}.** {h.rule}"]
        block += [f"- {n}" for n in h.notes]
        if h.voices:
            block += ["", f"*{_t('text.voices', lang)}* ({h.voice_counts}):"]
            block += [f"> {_t('text.quote', lang, **q)}\n" for q in h.voices]
        parts.append("\n".join(block))
    unlinked = display_table.attrs.get("n_unlinked", 0)
    if unlinked:
        parts.append(f"*{_t('text.unlinked', lang, n=unlinked)}*")
    return "\n\n".join(parts)


# -- the subgroup heatmaps ---------------------------------------------------------------------


def heatmap_withheld(cmo: Any, mechanism: str, masks: dict[str, Any] | None,
                     min_cell: int) -> bool:
    """Whether the subgroup heatmap of a mechanism must not be shown: its rates next to the
    category sizes give the mechanism's totals, which would let a reader work out a CMO cell
    the table hides (``realist.margins_needed``, or a hidden cell that the mechanism's totals
    would pin down)."""
    from .. import privacy, realist

    def pinned(r: Any) -> bool:
        hidden = hidden_cells(r, masks)
        mask = np.array([hidden[key] for key in CELL_KEYS])
        n = r.cells.set_index("cell").loc[list(CELL_KEYS), "n"].to_numpy(dtype=float)
        lines = [[0, 1], [2, 3], [0, 2], [1, 3]]  # context totals, and the mechanism's
        found = privacy.determined_cells(len(mask), lines, None, mask)
        return any(found[i] for i in np.flatnonzero(mask) if n[i] > 0)

    return any(realist.margins_needed(r.cells, min_cell, r.n_in_scope - r.n) or pinned(r)
               for r in cmo.results if r.mechanism == mechanism)


@dataclass
class Heatmap:
    """A mechanism's subgroup heatmap for readers: the figure's input (``frame``, None when
    there is nothing to show) and its ``title`` (which names the mechanism, and so its alt
    text), or ``text`` when it is withheld."""

    mechanism: str
    frame: pd.DataFrame | None
    text: str | None
    title: str


def subgroup_heatmap(subgroups: Any, cmo: Any, mechanism: str, masks: dict[str, Any] | None,
                     cfg: ProjectConfig, lang: str = "da") -> Heatmap:
    """The heatmap of goal-met rates by subgroup × mechanism yes/no (``realist.subgroups``):
    cells the disclosure rules hide are blank; the whole heatmap is withheld (with one
    sentence) when it would reveal a hidden CMO cell."""
    from .. import realist

    label = realist.context_label(mechanism, cfg, lang)
    title = _t("subgroups.title", lang, mechanism=label)
    k = cfg.privacy.min_cell
    if heatmap_withheld(cmo, mechanism, masks, k):
        return Heatmap(mechanism, None, _t("subgroups.withheld", lang, mechanism=label), title)
    hide = {}
    for r in cmo.results:
        if r.mechanism == mechanism:
            h = hidden_cells(r, masks)
            hide[r.id] = (h["in_yes"] or h["in_no"], h["out_yes"] or h["out_no"])
    matrix = realist.label_subgroups(subgroups.matrix(mechanism), cfg, lang)
    matrix["suppressed"] = realist.subgroup_suppressed(matrix, k, hide)
    if "heatmap" in (masks or {}):  # the project-wide plan: rows hidden across units too
        from ..disclosure.heatmap import apply

        matrix["suppressed"] |= apply(matrix, masks, mechanism)["suppressed"]
    if matrix.empty or not (~matrix["suppressed"]).any():
        return Heatmap(mechanism, None, None, title)
    return Heatmap(mechanism, realist.subgroup_pivot(matrix), None, title)
