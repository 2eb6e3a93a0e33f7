"""What works for whom: the CMO engine of the realist evaluation.

Each CMO hypothesis in the config names a *context* (a subgroup), a *mechanism* (an
intervention element) and an *outcome*, each a boolean expression over the clean participants
table (``target_group == 'paabegynde'``, ``element_fast_kontaktperson``, ``goal_met``).

``evaluate_hypothesis`` tests one hypothesis: outcome rates with Wilson intervals in the four
cells (mechanism yes/no × inside/outside the context), rate differences (mechanism yes − no)
inside and outside the context with Newcombe intervals, their difference (the interaction on
the risk-difference scale, with a MOVER interval), and a logistic model
``outcome ~ context * mechanism`` with cluster-robust standard errors by delprojekt (or HC1).
``evaluate_hypotheses`` does this for every hypothesis of a unit, adjusts the p-values for
multiplicity and gives each hypothesis a verdict by the rules in ``VERDICT_RULES_DA``.

The project has no comparison group, so every figure is an *association* (sammenhæng), never an
effect (virkning): young people who received a mechanism may differ from those who did not.

``subgroup_matrix`` gives outcome rates by context category × mechanism for a heatmap, and
``joint_display`` puts each hypothesis' figures and verdict beside coded quotes.

Counts are raw; suppression for readers happens at presentation time (``ungeanalyse.privacy``),
but cells under ``cfg.privacy.min_cell`` are flagged and the verdict rules respect the threshold.
"""

from __future__ import annotations

import ast
import fnmatch
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import Hypothesis, ProjectConfig
from .errors import UserError
from .outcomes import (
    DIMENSION_LABELS,
    Rate,
    category_labels,
    check_lang,
    jsonable,
    select_unit,
)

VERDICTS = {
    "supported": {"da": "støttet", "en": "supported"},
    "partly_supported": {"da": "delvist støttet", "en": "partly supported"},
    "not_supported": {"da": "ikke støttet", "en": "not supported"},
    "too_few_data": {"da": "for få data", "en": "too few data"},
}
"""Verdict codes with their Danish and English report words."""

SMALL_N = 30
"""Cells below this size get an explicit 'usikkert' (uncertain) note."""

P_ADJUST_METHODS = ("holm", "bonferroni", "fdr_bh", "hommel", "sidak", "holm-sidak", "none")

VERDICT_RULES_DA = """\
Dommen over en hypotese følger faste regler, i denne rækkefølge. "Forskellen i konteksten" er \
andelen med udfaldet blandt dem, der fik mekanismen, minus andelen blandt dem, der ikke fik den, \
inden for konteksten, med et 95 %-konfidensinterval (Newcombe). "Den forventede retning" er \
positiv, undtagen for hypoteser med forventet negativ sammenhæng.
1. For få data: en af de fire celler (mekanisme ja/nej × i/uden for konteksten) har færre \
deltagere end diskretionsgrænsen ({min_cell}), eller den logistiske model kan ikke \
estimeres (en celle, hvor alle eller ingen har udfaldet (perfekt separation), eller modellen \
konvergerer ikke).
2. Støttet: forskellen i konteksten går i den forventede retning, og dens 95 %-interval \
udelukker 0; og hypotesens hovedtest er signifikant efter justering for flere hypoteser \
(justeret p < 0,05). Hovedtesten er samspillet kontekst × mekanisme i den logistiske model, når \
hypotesen forventer en stærkere sammenhæng i konteksten; samspillet skal da gå i den forventede \
retning både som odds ratio og som forskel i procentpoint. For hypoteser, der kun forventer en \
positiv (eller negativ) sammenhæng, er hovedtesten mekanismens sammenhæng i konteksten.
3. Delvist støttet: forskellen i konteksten går i den forventede retning og er tydelig for sig \
selv (95 %-intervallet udelukker 0, eller modellens ujusterede p for mekanismen i konteksten \
< 0,05), men kravet til hovedtesten i regel 2 er ikke opfyldt.
4. Ikke støttet: alle andre tilfælde, også en sammenhæng i den modsatte retning.
Resultaterne viser sammenhænge, ikke virkninger: der er ingen sammenligningsgruppe, og unge, der \
fik en indsats, kan adskille sig fra dem, der ikke fik den."""

VERDICT_RULES_EN = """\
The verdict on a hypothesis follows fixed rules, in this order. "The difference in the context" \
is the share with the outcome among those who received the mechanism minus the share among \
those who did not, inside the context, with a 95 % confidence interval (Newcombe). "The \
expected direction" is positive, except for hypotheses that expect a negative association.
1. Too few data: one of the four cells (mechanism yes/no × inside/outside the context) has fewer \
participants than the disclosure threshold ({min_cell}), or the logistic model cannot be \
estimated (a cell where everyone or no one has the outcome (perfect separation), or the model \
does not converge).
2. Supported: the difference in the context is in the expected direction and its 95 % interval \
excludes 0; and the hypothesis' main test is significant after adjustment for multiple \
hypotheses (adjusted p < 0.05). The main test is the context × mechanism interaction in the \
logistic model when the hypothesis expects a stronger association in the context; the \
interaction must then point the expected way both as an odds ratio and as a difference in \
percentage points. For hypotheses that only expect a positive (or negative) association, the \
main test is the mechanism's association in the context.
3. Partly supported: the difference in the context is in the expected direction and clear on \
its own (the 95 % interval excludes 0, or the model's unadjusted p for the mechanism in the \
context < 0.05), but the main-test condition of rule 2 is not met.
4. Not supported: every other case, including an association in the opposite direction.
The results show associations, not effects: there is no comparison group, and young people who \
received an element may differ from those who did not."""


def verdict_rules(lang: str = "da", min_cell: int = 5) -> str:
    """The verdict rules as a reader sees them, with the project's disclosure threshold."""
    text = VERDICT_RULES_DA if lang == "da" else VERDICT_RULES_EN
    return text.replace("{min_cell}", str(min_cell))

ASSOCIATION_NOTE = {
    "da": "Tallene viser sammenhænge, ikke virkninger: der er ingen sammenligningsgruppe.",
    "en": "The figures show associations, not effects: there is no comparison group.",
}

CELLS = (("in_yes", True, True), ("in_no", True, False), ("out_yes", False, True),
         ("out_no", False, False))
"""The four cells: key, inside the context, mechanism present."""

CELL_TEXT = {
    "da": {"in_yes": "i konteksten med mekanismen", "in_no": "i konteksten uden mekanismen",
           "out_yes": "uden for konteksten med mekanismen",
           "out_no": "uden for konteksten uden mekanismen"},
    "en": {"in_yes": "in the context with the mechanism",
           "in_no": "in the context without the mechanism",
           "out_yes": "outside the context with the mechanism",
           "out_no": "outside the context without the mechanism"},
}

YES_NO = {"da": {True: "ja", False: "nej"}, "en": {True: "yes", False: "no"}}


# -- expressions -------------------------------------------------------------------------------


def expression_names(expr: str) -> set[str]:
    """Column names an expression refers to (function names in calls are not columns)."""
    tree = ast.parse(expr.strip(), mode="eval")
    funcs = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and id(node) not in funcs}


def evaluate_expression(df: pd.DataFrame, expr: str, owner: str, key: str) -> pd.Series:
    """Evaluate a boolean expression over clean columns; a UserError names owner, key and column.

    ``owner`` says where the expression comes from (e.g. "hypothesis H1"), ``key`` which part
    (context, mechanism, outcome). The result is a nullable boolean Series (NA stays NA).
    """
    where = f"{owner}, {key} {expr!r}"
    try:
        names = expression_names(expr)
    except SyntaxError as exc:
        raise UserError(f"{where}: not a valid expression ({exc.msg}); write e.g. "
                        "\"target_group == 'paabegynde'\" or 'element_fast_kontaktperson'"
                        ) from None
    missing = sorted(n for n in names if n not in df.columns)
    if missing:
        raise UserError(
            f"{where}: unknown column(s) {', '.join(missing)}. Available columns: "
            f"{', '.join(map(str, df.columns))}"
        )
    try:
        value = df.eval(expr, engine="python")
    except Exception as exc:  # pandas raises many kinds here; the user needs the sentence
        raise UserError(f"{where}: could not be evaluated ({type(exc).__name__}: {exc})") from None
    if not isinstance(value, pd.Series):
        value = pd.Series(value, index=df.index)
    if pd.api.types.is_bool_dtype(value.dtype):
        return value.astype("boolean")
    if pd.api.types.is_numeric_dtype(value.dtype) and set(value.dropna().unique()) <= {0, 1}:
        return value.astype("Int64").astype("boolean")
    raise UserError(f"{where}: gives values like {list(value.dropna().unique()[:3])}, not "
                    "yes/no; write a comparison, e.g. 'age_at_start < 18'")


# -- result objects ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95 % interval and (if any) a two-sided p-value."""

    estimate: float
    ci_low: float
    ci_high: float
    p: float = math.nan
    method: str = ""

    @property
    def ci_width(self) -> float:
        """Width of the interval (same scale as the estimate)."""
        return self.ci_high - self.ci_low

    def excludes(self, value: float = 0.0) -> bool:
        """True when the whole interval lies on one side of ``value``."""
        return bool(self.ci_low > value or self.ci_high < value)

    def to_dict(self) -> dict[str, Any]:
        """The estimate as JSON-serialisable values."""
        return jsonable({"estimate": self.estimate, "ci_low": self.ci_low,
                         "ci_high": self.ci_high, "p": self.p, "method": self.method})


NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan)


@dataclass
class ModelFit:
    """The logistic model ``outcome ~ context * mechanism`` and its odds ratios."""

    ok: bool
    cov_type: str | None = None
    n_clusters: int = 0
    n_clusters_with_variation: int = 0
    params: dict[str, float] = field(default_factory=dict)
    bse: dict[str, float] = field(default_factory=dict)
    or_mechanism_in_context: Estimate = NAN_ESTIMATE
    or_mechanism_outside: Estimate = NAN_ESTIMATE
    or_interaction: Estimate = NAN_ESTIMATE
    problem: str | None = None
    problem_en: str | None = None

    def se_text(self, lang: str = "da") -> str:
        """Which standard errors were used, in words."""
        if self.cov_type == "cluster":
            return (f"klyngerobuste standardfejl efter delprojekt ({self.n_clusters} klynger)"
                    if lang == "da" else
                    f"cluster-robust standard errors by sub-project ({self.n_clusters} clusters)")
        if self.cov_type == "HC1":
            return ("robuste standardfejl (HC1)" if lang == "da"
                    else "robust standard errors (HC1)")
        return "ingen model" if lang == "da" else "no model"

    def _fail(self, da: str, en: str) -> ModelFit:
        self.ok, self.problem, self.problem_en = False, da, en
        return self

    def to_dict(self) -> dict[str, Any]:
        """The model's key figures as JSON-serialisable values."""
        return jsonable({
            "ok": self.ok, "cov_type": self.cov_type, "n_clusters": self.n_clusters,
            "n_clusters_with_variation": self.n_clusters_with_variation,
            "params": self.params, "bse": self.bse,
            "or_mechanism_in_context": self.or_mechanism_in_context.to_dict(),
            "or_mechanism_outside": self.or_mechanism_outside.to_dict(),
            "or_interaction": self.or_interaction.to_dict(), "problem": self.problem,
            "problem_en": self.problem_en,
        })


@dataclass
class HypothesisResult:
    """One CMO hypothesis tested on one unit: cells, differences, model, p-values and verdict.

    ``cells`` has one row per cell (cell, context, mechanism, n, k, rate, ci_low, ci_high,
    ci_width) in the order in_yes, in_no, out_yes, out_no. ``diff_in`` / ``diff_out`` are rate
    differences (mechanism yes − no) inside / outside the context, ``did`` their difference.
    ``p`` is the main test's p-value (``primary_test``), ``p_adj`` the same adjusted across the
    table's hypotheses (equal to ``p`` for a single hypothesis).
    """

    id: str
    title: str
    title_en: str | None
    context: str
    context_label: str
    mechanism: str
    mechanism_label: str
    outcome: str
    outcome_label: str
    expected: str
    unit: str
    min_cell: int
    n_in_scope: int
    n_active: int
    n_missing: int
    n: int
    cells: pd.DataFrame
    diff_in: Estimate
    diff_out: Estimate
    did: Estimate
    model: ModelFit
    primary_test: str
    p: float
    p_mechanism_in_context: float
    p_interaction: float
    p_adj: float = math.nan
    p_adjust: str = "none"
    alpha: float = 0.05
    verdict_code: str = "too_few_data"
    rule_da: str = ""
    rule_en: str = ""
    reader_rule_da: str = ""
    reader_rule_en: str = ""
    notes_da: list[str] = field(default_factory=list)
    notes_en: list[str] = field(default_factory=list)
    reader_notes_da: list[str] = field(default_factory=list)
    reader_notes_en: list[str] = field(default_factory=list)
    context_label_en: str | None = None
    mechanism_label_en: str | None = None
    outcome_label_en: str | None = None
    hidden: dict[str, bool] | None = None
    """Which of the four cells readers may not see, from the project-wide :func:`cmo_plan`
    (None: the unit's own rule, :func:`hidden_cells`)."""

    def tr(self, part: str, lang: str = "da") -> str:
        """title, context_label, mechanism_label or outcome_label in the report language (the
        Danish text when the config gives no English one)."""
        if lang == "en":
            english = getattr(self, f"{part}_en", None)
            if english:
                return english
        return getattr(self, part)

    @property
    def verdict(self) -> str:
        """The verdict in Danish: støttet, delvist støttet, ikke støttet or for få data."""
        return VERDICTS[self.verdict_code]["da"]

    @property
    def verdict_en(self) -> str:
        """The verdict in English."""
        return VERDICTS[self.verdict_code]["en"]

    @property
    def rule(self) -> str:
        """The Danish sentence saying which rule decided the verdict, with the figures."""
        return self.rule_da

    def cell(self, key: str) -> Rate:
        """The outcome rate of one cell: in_yes, in_no, out_yes or out_no."""
        row = self.cells.set_index("cell").loc[key]
        return Rate(int(row["k"]), int(row["n"]), float(row["rate"]), float(row["ci_low"]),
                    float(row["ci_high"]))

    def notes(self, lang: str = "da") -> list[str]:
        """Notes on small cells, interval widths, exclusions and the model, in a language."""
        return self.notes_da if lang == "da" else self.notes_en

    def row(self) -> dict[str, Any]:
        """The flat row of this result in a CMOTable."""
        out: dict[str, Any] = {
            "id": self.id, "title": self.title, "context_label": self.context_label,
            "mechanism_label": self.mechanism_label, "outcome_label": self.outcome_label,
            "expected": self.expected, "n": self.n, "n_active": self.n_active,
            "n_missing": self.n_missing,
        }
        for key, _, _ in CELLS:
            c = self.cells.set_index("cell").loc[key]
            out[f"n_{key}"] = int(c["n"])
            out[f"k_{key}"] = int(c["k"])
            out[f"rate_{key}"] = float(c["rate"])
            out[f"ci_low_{key}"] = float(c["ci_low"])
            out[f"ci_high_{key}"] = float(c["ci_high"])
        for name, est in (("diff_in", self.diff_in), ("diff_out", self.diff_out),
                          ("did", self.did)):
            out[name] = est.estimate
            out[f"{name}_ci_low"] = est.ci_low
            out[f"{name}_ci_high"] = est.ci_high
        for name, est in (("or_in", self.model.or_mechanism_in_context),
                          ("or_interaction", self.model.or_interaction)):
            out[name] = est.estimate
            out[f"{name}_ci_low"] = est.ci_low
            out[f"{name}_ci_high"] = est.ci_high
        out.update({
            "p_mechanism_in_context": self.p_mechanism_in_context,
            "p_interaction": self.p_interaction, "primary_test": self.primary_test,
            "p": self.p, "p_adj": self.p_adj, "p_adjust": self.p_adjust,
            "cov_type": self.model.cov_type, "n_clusters": self.model.n_clusters,
            "model_problem": self.model.problem, "verdict": self.verdict,
            "verdict_code": self.verdict_code, "rule": self.rule_da, "rule_en": self.rule_en,
        })
        return out

    def summary(self, lang: str = "da") -> str:
        """A readable account: cells, differences, model, verdict, rule and notes."""
        check_lang(lang)
        da = lang == "da"
        title = self.tr("title", lang)
        lines = [f"{self.id}: {title}",
                 (f"Kontekst: {self.context_label}; mekanisme: {self.mechanism_label}; udfald: "
                  f"{self.outcome_label}; n = {self.n}") if da else
                 (f"Context: {self.tr('context_label', lang)}; mechanism: "
                  f"{self.tr('mechanism_label', lang)}; outcome: "
                  f"{self.tr('outcome_label', lang)}; n = {self.n}")]
        for key, _, _ in CELLS:
            lines.append(f"  {CELL_TEXT[lang][key]}: {self.cell(key).text(lang)}")
        pp = "procentpoint" if da else "percentage points"
        for label, est in ((("Forskel i konteksten" if da else "Difference in the context"),
                            self.diff_in),
                           (("Forskel uden for konteksten" if da else "Difference outside"),
                            self.diff_out),
                           (("Forskel i forskellene" if da else "Difference in differences"),
                            self.did)):
            lines.append(f"  {label}: {_pp(est.estimate)} {pp} ("
                         + (f"95 %-CI {_pp(est.ci_low)} til " if da else
                            f"95 % CI {_pp(est.ci_low)} to ")
                         + f"{_pp(est.ci_high)})")
        m = self.model
        if m.ok:
            lines.append(f"  OR {'mekanisme i konteksten' if da else 'mechanism in context'}: "
                         f"{_or(m.or_mechanism_in_context, lang)}; "
                         f"OR {'samspil' if da else 'interaction'}: {_or(m.or_interaction, lang)} "
                         f"({m.se_text(lang)})")
        if self.p_adjust == "none":
            lines.append(f"  p ({self.primary_test}) {_p(self.p, lang)}")
        else:
            lines.append(f"  p ({self.primary_test}) {_p(self.p, lang)}; {self.p_adjust}-"
                         f"{'justeret' if da else 'adjusted'} p {_p(self.p_adj, lang)}")
        lines.append(f"{'Dom' if da else 'Verdict'}: "
                     f"{self.verdict if da else self.verdict_en}. "
                     f"{self.rule_da if da else self.rule_en}")
        lines += [f"NB: {n}" for n in self.notes(lang)]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary("da")

    def to_dict(self) -> dict[str, Any]:
        """Key figures, verdict and rule as JSON-serialisable values."""
        return jsonable({
            "id": self.id, "title": self.title, "title_en": self.title_en,
            "context": self.context, "context_label": self.context_label,
            "mechanism": self.mechanism, "mechanism_label": self.mechanism_label,
            "outcome": self.outcome, "outcome_label": self.outcome_label,
            "context_label_en": self.context_label_en,
            "mechanism_label_en": self.mechanism_label_en,
            "outcome_label_en": self.outcome_label_en,
            "expected": self.expected, "unit": self.unit, "min_cell": self.min_cell,
            "n_in_scope": self.n_in_scope, "n_active": self.n_active,
            "n_missing": self.n_missing, "n": self.n, "cells": self.cells,
            "diff_in": self.diff_in.to_dict(), "diff_out": self.diff_out.to_dict(),
            "did": self.did.to_dict(), "model": self.model.to_dict(),
            "primary_test": self.primary_test, "p": self.p,
            "p_mechanism_in_context": self.p_mechanism_in_context,
            "p_interaction": self.p_interaction, "p_adj": self.p_adj,
            "p_adjust": self.p_adjust, "alpha": self.alpha,
            "verdict_code": self.verdict_code, "verdict": self.verdict,
            "verdict_en": self.verdict_en, "rule": self.rule_da, "rule_en": self.rule_en,
            "notes": self.notes_da, "notes_en": self.notes_en,
            # for readers: no count under the limit, no figure that reveals a hidden cell
            "reader_rule": self.reader_rule_da, "reader_rule_en": self.reader_rule_en,
            "reader_notes": self.reader_notes_da, "reader_notes_en": self.reader_notes_en,
            "hidden": reader_hidden(self),
        })


TABLE_LABELS = {
    "da": {"id": "Hypotese", "title": "Titel", "context_label": "Kontekst",
           "mechanism_label": "Mekanisme", "n": "n", "rate_in_yes": "I konteksten, med (%)",
           "rate_in_no": "I konteksten, uden (%)", "rate_out_yes": "Uden for, med (%)",
           "rate_out_no": "Uden for, uden (%)", "diff_in": "Forskel i konteksten (pp)",
           "diff_in_ci": "95 %-CI (pp)", "diff_out": "Forskel uden for (pp)",
           "did": "Forskel i forskellene (pp)", "or_in": "OR i konteksten",
           "or_interaction": "OR samspil", "p": "p", "p_adj": "Justeret p",
           "verdict": "Dom", "rule": "Begrundelse"},
    "en": {"id": "Hypothesis", "title": "Title", "context_label": "Context",
           "mechanism_label": "Mechanism", "n": "n", "rate_in_yes": "In context, with (%)",
           "rate_in_no": "In context, without (%)", "rate_out_yes": "Outside, with (%)",
           "rate_out_no": "Outside, without (%)", "diff_in": "Difference in context (pp)",
           "diff_in_ci": "95 % CI (pp)", "diff_out": "Difference outside (pp)",
           "did": "Difference in differences (pp)", "or_in": "OR in context",
           "or_interaction": "OR interaction", "p": "p", "p_adj": "Adjusted p",
           "verdict": "Verdict", "rule": "Reason"},
}


@dataclass
class CMOTable:
    """All hypotheses of a unit: ``results`` (HypothesisResult) and ``frame`` (one row each).

    ``frame`` columns: id, title, context/mechanism/outcome labels, n, n_active, n_missing,
    n_/k_/rate_/ci_low_/ci_high_<cell> for cells in_yes, in_no, out_yes, out_no, diff_in, diff_out,
    did (each with _ci_low/_ci_high), or_in and or_interaction (with CIs),
    p_mechanism_in_context, p_interaction, primary_test, p, p_adj, p_adjust, cov_type,
    n_clusters, model_problem, verdict, verdict_code, rule, rule_en.
    """

    unit: str
    results: list[HypothesisResult]
    frame: pd.DataFrame
    p_adjust: str
    alpha: float
    lang: str = "da"

    def __getitem__(self, hypothesis_id: str) -> HypothesisResult:
        for r in self.results:
            if r.id == hypothesis_id:
                return r
        raise KeyError(f"{hypothesis_id!r} is not in this table; ids: "
                       f"{', '.join(r.id for r in self.results)}")

    def __len__(self) -> int:
        return len(self.results)

    @property
    def rules(self) -> str:
        """The verdict rules in the table's language, for the report."""
        return verdict_rules(self.lang, self._min_cell)

    @property
    def _min_cell(self) -> int:
        return self.results[0].min_cell if self.results else 5

    def table(self, lang: str | None = None) -> pd.DataFrame:
        """A compact reader table with report labels; rates and differences in percent."""
        lang = check_lang(lang or self.lang)
        f = self.frame
        out = pd.DataFrame({"id": f["id"], "title": f["title"] if lang == "da" else
                            [r.tr("title", lang) for r in self.results],
                            "context_label": f["context_label"] if lang == "da" else
                            [r.tr("context_label", lang) for r in self.results],
                            "mechanism_label": f["mechanism_label"] if lang == "da" else
                            [r.tr("mechanism_label", lang) for r in self.results],
                            "n": f["n"]})
        for key, _, _ in CELLS:
            out[f"rate_{key}"] = (100 * f[f"rate_{key}"]).round(1)
        out["diff_in"] = (100 * f["diff_in"]).round(1)
        out["diff_in_ci"] = [f"{_pp(lo)} til {_pp(hi)}" if lang == "da" else
                             f"{_pp(lo)} to {_pp(hi)}"
                             for lo, hi in zip(f["diff_in_ci_low"], f["diff_in_ci_high"],
                                               strict=True)]
        out["diff_out"] = (100 * f["diff_out"]).round(1)
        out["did"] = (100 * f["did"]).round(1)
        out["or_in"] = f["or_in"].round(2)
        out["or_interaction"] = f["or_interaction"].round(2)
        out["p"] = f["p"].round(3)
        out["p_adj"] = f["p_adj"].round(3)
        out["verdict"] = [r.verdict if lang == "da" else r.verdict_en for r in self.results]
        out["rule"] = [r.rule_da if lang == "da" else r.rule_en for r in self.results]
        return out.rename(columns=TABLE_LABELS[lang])

    def summary(self, lang: str | None = None) -> str:
        """One paragraph per hypothesis, the association caveat and the adjustment method."""
        lang = check_lang(lang or self.lang)
        head = (f"Hypoteser for {self.unit}: {len(self.results)}; p-værdier justeret med "
                f"{self.p_adjust}." if lang == "da" else
                f"Hypotheses for {self.unit}: {len(self.results)}; p-values adjusted by "
                f"{self.p_adjust}.")
        parts = [head, ASSOCIATION_NOTE[lang]] + [r.summary(lang) for r in self.results]
        return "\n\n".join(parts)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Every result's key figures plus the rules, as JSON-serialisable values."""
        return jsonable({
            "unit": self.unit, "p_adjust": self.p_adjust, "alpha": self.alpha,
            "verdict_rules": verdict_rules("da", self._min_cell),
            "verdict_rules_en": verdict_rules("en", self._min_cell),
            "association_note": ASSOCIATION_NOTE["da"],
            "association_note_en": ASSOCIATION_NOTE["en"],
            "hypotheses": [r.to_dict() for r in self.results],
        })


# -- the computation ---------------------------------------------------------------------------


def _pp(x: float) -> str:
    """A difference as signed percentage points: 0.602 → '+60', −0.126 → '−13', 0 → '0'."""
    if x is None or not np.isfinite(x):
        return "–"
    v = int(round(100 * x))
    return "0" if v == 0 else f"{v:+d}".replace("-", "−")


def _p(x: float, lang: str = "da") -> str:
    """A p-value with its relation sign: '= 0,036' or '< 0,001' ('= –' when missing)."""
    if x is None or not np.isfinite(x):
        return "= –"
    text = "< 0.001" if x < 0.001 else f"= {x:.3f}"
    return text.replace(".", ",") if lang == "da" else text


def _or(est: Estimate, lang: str = "da") -> str:
    """An odds ratio with its interval: '4,62 (1,10–19,39)'."""
    if not np.isfinite(est.estimate):
        return "–"
    text = f"{est.estimate:.2f} ({est.ci_low:.2f}–{est.ci_high:.2f})"
    return text.replace(".", ",") if lang == "da" else text


def _rate_difference(k1: int, n1: int, k2: int, n2: int) -> Estimate:
    """k1/n1 − k2/n2 with a Newcombe hybrid-score interval and a score-test p (statsmodels)."""
    if n1 == 0 or n2 == 0:
        return NAN_ESTIMATE
    from statsmodels.stats.proportion import (
        confint_proportions_2indep,
        test_proportions_2indep,
    )

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        try:
            p = float(test_proportions_2indep(k1, n1, k2, n2, method="score",
                                              compare="diff").pvalue)
        except Exception:  # degenerate tables (0 or n in both groups)
            p = math.nan
    return Estimate(k1 / n1 - k2 / n2, float(low), float(high), p, "newcombe")


def _difference_in_differences(d1: Estimate, d2: Estimate) -> Estimate:
    """d1 − d2 with a MOVER interval built from the two Newcombe intervals (Zou & Donner 2008)."""
    if not (np.isfinite(d1.estimate) and np.isfinite(d2.estimate)):
        return NAN_ESTIMATE
    est = d1.estimate - d2.estimate
    low = est - math.sqrt((d1.estimate - d1.ci_low) ** 2 + (d2.ci_high - d2.estimate) ** 2)
    high = est + math.sqrt((d1.ci_high - d1.estimate) ** 2 + (d2.estimate - d2.ci_low) ** 2)
    return Estimate(est, low, high, math.nan, "mover")


def _saturated_start(cells: pd.DataFrame) -> np.ndarray:
    """The model is saturated in context × mechanism, so the cell logits are its estimates;
    starting IRLS there makes a million-row fit converge in one or two steps."""
    cell = cells.set_index("cell")
    logit = {key: math.log(cell.loc[key, "k"] / (cell.loc[key, "n"] - cell.loc[key, "k"]))
             for key in ("out_no", "in_no", "out_yes", "in_yes")}
    return np.array([logit["out_no"], logit["in_no"] - logit["out_no"],
                     logit["out_yes"] - logit["out_no"],
                     logit["in_yes"] - logit["in_no"] - logit["out_yes"] + logit["out_no"]])


def _fit_model(y: np.ndarray, c: np.ndarray, m: np.ndarray, clusters: np.ndarray | None,
               cells: pd.DataFrame, min_clusters: int = 5) -> ModelFit:
    """Logistic GLM outcome ~ context * mechanism; cluster-robust SEs or HC1; never raises."""
    n_clusters = 0 if clusters is None else int(len(pd.unique(clusters)))
    with_var = 0
    if clusters is not None:
        frame = pd.DataFrame({"g": clusters, "y": y, "m": m})
        per = frame.groupby("g").agg(y=("y", "nunique"), m=("m", "nunique"))
        with_var = int(((per["y"] > 1) & (per["m"] > 1)).sum())
    fit = ModelFit(ok=False, n_clusters=n_clusters, n_clusters_with_variation=with_var)
    if (cells["n"] == 0).any():
        return fit._fail("en tom celle", "an empty cell")
    degenerate = cells[(cells["k"] == 0) | (cells["k"] == cells["n"])]
    if len(degenerate):
        return fit._fail(
            "perfekt separation: " + "; ".join(CELL_TEXT["da"][c] for c in degenerate["cell"])
            + " har alle eller ingen udfaldet",
            "perfect separation: " + "; ".join(CELL_TEXT["en"][c] for c in degenerate["cell"])
            + " has the outcome for everyone or no one")
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    X = np.column_stack([np.ones_like(y), c, m, c * m])
    if with_var >= min_clusters:
        cov_type, kwds = "cluster", {"groups": pd.factorize(clusters)[0]}
    else:
        cov_type, kwds = "HC1", None
    fit.cov_type = cov_type
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
            warnings.simplefilter("always")
            res = sm.GLM(y, X, family=sm.families.Binomial()).fit(
                start_params=_saturated_start(cells), cov_type=cov_type, cov_kwds=kwds)
    except Exception as exc:  # PerfectSeparationError, LinAlgError, ...
        return fit._fail(f"fejl i estimationen ({type(exc).__name__}: {exc})",
                         f"estimation failed ({type(exc).__name__}: {exc})")
    bad = [w for w in caught if issubclass(w.category, ConvergenceWarning)
           or "separation" in str(w.message).lower()]
    if bad or not getattr(res, "converged", True):
        detail = f" ({bad[0].message})" if bad else ""
        return fit._fail("modellen konvergerede ikke" + detail,
                         "the model did not converge" + detail)
    names = ["intercept", "context", "mechanism", "context:mechanism"]
    params, bse = np.asarray(res.params, float), np.asarray(res.bse, float)
    if not (np.all(np.isfinite(params)) and np.all(np.isfinite(bse))):
        return fit._fail("ikke-endelige estimater eller standardfejl",
                         "non-finite estimates or standard errors")

    def odds_ratio(contrast: list[float]) -> Estimate:
        t = res.t_test(np.array([contrast]))
        low, high = np.asarray(t.conf_int(alpha=0.05)).ravel()
        return Estimate(float(np.exp(np.ravel(t.effect)[0])), float(np.exp(low)),
                        float(np.exp(high)), float(np.ravel(t.pvalue)[0]), "logit")

    fit.ok = True
    fit.params = dict(zip(names, params.tolist(), strict=True))
    fit.bse = dict(zip(names, bse.tolist(), strict=True))
    fit.or_mechanism_in_context = odds_ratio([0, 0, 1, 1])
    fit.or_mechanism_outside = odds_ratio([0, 0, 1, 0])
    fit.or_interaction = odds_ratio([0, 0, 0, 1])
    return fit


def _hypothesis(hyp: Hypothesis | str, cfg: ProjectConfig) -> Hypothesis:
    if isinstance(hyp, Hypothesis):
        return hyp
    for h in cfg.hypotheses:
        if h.id == hyp:
            return h
    raise UserError(f"Unknown hypothesis {hyp!r}; the config has: "
                    f"{', '.join(h.id for h in cfg.hypotheses) or '(none)'}")


def _scope(participants: pd.DataFrame, hyp: Hypothesis, cfg: ProjectConfig, unit: str
           ) -> pd.DataFrame:
    """The unit's participants, restricted to the hypothesis' delprojekter if it names some."""
    df = select_unit(participants, cfg, unit)
    if hyp.delprojekter != "all":
        if "delprojekt" not in df.columns:
            raise UserError(f"hypothesis {hyp.id}: it is limited to delprojekter "
                            f"{hyp.delprojekter}, but the table has no delprojekt column")
        df = df[df["delprojekt"].astype(str).isin(hyp.delprojekter)]
    return df


def evaluate_hypothesis(participants: pd.DataFrame, hyp: Hypothesis | str, cfg: ProjectConfig,
                        unit: str = "all", alpha: float = 0.05) -> HypothesisResult:
    """Test one CMO hypothesis on one unit; alone, its adjusted p equals its p.

    A hypothesis limited to some delprojekter is tested on their participants only. Active
    participants (outcome group 'active') and rows where context, mechanism or outcome is
    missing are left out and counted (``n_active``, ``n_missing``). Standard errors are
    clustered by delprojekt when at least 5 delprojekter have both outcome values and both
    mechanism values ("clusters with variation"), otherwise HC1; ``model.cov_type`` says which.
    """
    result = _evaluate(participants, _hypothesis(hyp, cfg), cfg, unit)
    _decide(result, result.p, "none", alpha)
    return result


def _prepared(participants: pd.DataFrame, hyp: Hypothesis, cfg: ProjectConfig, unit: str
              ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The hypothesis' scope in the unit, which rows count (not active, nothing missing),
    and context, mechanism and outcome of those rows as 0/1, and the number still active."""
    df = _scope(participants, hyp, cfg, unit)
    owner = f"hypothesis {hyp.id}"
    values = {key: evaluate_expression(df, getattr(hyp, key), owner, key)
              for key in ("context", "mechanism", "outcome")}
    active = _active(df, cfg, values["outcome"])
    complete = ~(values["context"].isna() | values["mechanism"].isna()
                 | values["outcome"].isna())
    keep = complete.to_numpy(dtype=bool) & ~active.to_numpy(dtype=bool)
    c, m, y = (values[key].to_numpy(dtype=bool, na_value=False)[keep].astype(float)
               for key in ("context", "mechanism", "outcome"))
    return df, keep, c, m, y, int(active.sum())


def _cell_counts(c: np.ndarray, m: np.ndarray, y: np.ndarray) -> list[tuple[str, int, int]]:
    """(cell, n, k) of the four cells in CELLS order."""
    out = []
    for key, in_ctx, has_mech in CELLS:
        sel = (c == float(in_ctx)) & (m == float(has_mech))
        out.append((key, int(sel.sum()), int(y[sel].sum())))
    return out


def _evaluate(participants: pd.DataFrame, hyp: Hypothesis, cfg: ProjectConfig, unit: str,
              hidden: dict[str, bool] | None = None) -> HypothesisResult:
    df, keep, c, m, y, n_active = _prepared(participants, hyp, cfg, unit)
    n_in_scope = int(len(df))
    n_missing = int(n_in_scope - n_active - keep.sum())
    clusters = (df["delprojekt"].astype(str).to_numpy()[keep] if "delprojekt" in df.columns
                else None)

    rows = []
    for (key, in_ctx, has_mech), (_, n, k) in zip(CELLS, _cell_counts(c, m, y), strict=True):
        r = Rate.of(k, n)
        rows.append({"cell": key, "context": in_ctx, "mechanism": has_mech, "n": n, "k": k,
                     "rate": r.rate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "ci_width": r.ci_high - r.ci_low})
    cells = pd.DataFrame(rows)
    cc = cells.set_index("cell")

    def nk(key: str) -> tuple[int, int]:
        return int(cc.loc[key, "k"]), int(cc.loc[key, "n"])

    diff_in = _rate_difference(*nk("in_yes"), *nk("in_no"))
    diff_out = _rate_difference(*nk("out_yes"), *nk("out_no"))
    did = _difference_in_differences(diff_in, diff_out)
    model = _fit_model(y, c, m, clusters, cells)
    p_mech = model.or_mechanism_in_context.p if model.ok else math.nan
    p_int = model.or_interaction.p if model.ok else math.nan
    primary = "interaction" if hyp.expected == "stronger_in_context" else "mechanism_in_context"
    result = HypothesisResult(
        id=hyp.id, title=hyp.title, title_en=hyp.title_en, context=hyp.context,
        context_label=hyp.context_label, mechanism=hyp.mechanism,
        mechanism_label=hyp.mechanism_label, outcome=hyp.outcome,
        outcome_label=hyp.outcome_label, context_label_en=hyp.context_label_en,
        mechanism_label_en=hyp.mechanism_label_en, outcome_label_en=hyp.outcome_label_en,
        expected=hyp.expected, unit=unit,
        min_cell=cfg.privacy.min_cell, n_in_scope=n_in_scope, n_active=n_active,
        n_missing=n_missing, n=int(keep.sum()), cells=cells, diff_in=diff_in,
        diff_out=diff_out, did=did, model=model, primary_test=primary,
        p=p_int if primary == "interaction" else p_mech, p_mechanism_in_context=p_mech,
        p_interaction=p_int, hidden=hidden,
    )
    _add_notes(result)
    return result


def _active(df: pd.DataFrame, cfg: ProjectConfig, outcome: pd.Series) -> pd.Series:
    """Participants still active: by outcome code, else outcome_group, else an NA outcome."""
    if "outcome" in df.columns:
        group = df["outcome"].astype("string").map(cfg.group_of())
    elif "outcome_group" in df.columns:
        group = df["outcome_group"].astype("string")
    else:  # the clean table's convention: goal_met is NA while a young person is active
        return outcome.isna().astype(bool)
    return group.eq("active").fillna(False).astype(bool)


def hidden_cells(cells: pd.DataFrame | dict[str, Any], min_cell: int,
                 left_out: int = 0, margins: bool = False) -> dict[str, bool]:
    """Which of a hypothesis' four cell rates a reader may not see: a cell under the limit or
    with fewer than ``min_cell`` with or without the outcome, and its partner in the same
    context (context sizes are in the breakdown tables, so the hidden count would otherwise
    follow by subtraction); with ``margins`` (the mechanism's totals are published, as a
    subgroup heatmap of the mechanism does) also its partner with the same mechanism value."""
    from . import privacy

    if isinstance(cells, pd.DataFrame):
        cells = {str(c["cell"]): c for _, c in cells.iterrows()}
    keys = [key for key, _, _ in CELLS]
    n = np.array([float(cells[c]["n"]) if c in cells else 0.0 for c in keys])
    k = np.array([float(cells[c]["k"]) if c in cells else 0.0 for c in keys])
    primary = np.asarray(privacy.rate_hidden(k, n, min_cell)) & (n > 0)
    # the context totals are in the breakdown tables; with ``margins`` the mechanism's totals
    # are known too (the subgroup heatmap's rates next to the category sizes give them): then
    # it is a 2 × 2 table with every margin known, and a hidden cell needs a partner in its
    # row and in its column
    lines = [[0, 1], [2, 3]] + ([[0, 2], [1, 3]] if margins else [])
    mask = privacy.suppress_cells(n, lines, min_cell, primary)
    # a context's (or mechanism value's) totals follow from the unit's totals minus the other
    # one's cells: when one has 1..min_cell-1 with or without the outcome, all are hidden
    for pair in lines:
        n_pair, k_pair = n[list(pair)].sum(), k[list(pair)].sum()
        if n_pair > 0 and bool(privacy.rate_hidden(k_pair, n_pair, min_cell)):
            mask[:] = True
    # the four n add up to the unit's participants minus those left out (still active or with
    # a missing value): 1..min_cell-1 left out hides a pair, so the sum is not known (the pair
    # outside the context, so that the figures the hypothesis is about stay)
    if 0 < left_out < min_cell and not mask.any():
        mask[[2, 3] if n[2:].sum() > 0 else [0, 1]] = True
    return {c: bool(h) or c not in cells for c, h in zip(keys, mask, strict=True)}


def margins_needed(cells: pd.DataFrame | dict[str, Any], min_cell: int,
                   left_out: int = 0) -> bool:
    """Whether publishing the mechanism's totals (a subgroup heatmap of it) would force more
    of this hypothesis' cells to be hidden: then the heatmap is withheld instead."""
    return (hidden_cells(cells, min_cell, left_out, margins=True)
            != hidden_cells(cells, min_cell, left_out))


def reader_hidden(r: HypothesisResult) -> dict[str, bool]:
    """The cells readers may not see: the project-wide plan's choice, else the unit's rule."""
    if r.hidden is not None:
        return dict(r.hidden)
    return hidden_cells(r.cells, r.min_cell, r.n_in_scope - r.n)


def cmo_plan(participants: pd.DataFrame, cfg: ProjectConfig
             ) -> dict[str, dict[str, dict[str, bool]]]:
    """Which CMO cells each unit's report hides, decided once for the whole project.

    A hypothesis tested in the whole project has, in each cell, the sum of the delprojekter's
    counts (where the numbers really add up), so a cell hidden in one delprojekt must not
    follow from the project's cell minus the other delprojekter'. Each unit's own rule
    (:func:`hidden_cells`) gives the cells that must be hidden; the cell's participants, with
    and without the outcome, are the counts; inside a unit the pair in and outside the context
    add up to a known total, across units the delprojekter add up to the project, and
    ``privacy.suppress_cells`` finds the partners (the project's own cells only where nothing
    else will do). A cell's counts are shown or hidden together. Returns
    ``{unit: {hypothesis id: {cell: hidden}}}``.
    """
    from . import privacy

    k0 = cfg.privacy.min_cell
    dp = participants["delprojekt"].astype("string") if "delprojekt" in participants else None
    units = ["all"] + ([d for d in cfg.delprojekt_ids if dp is not None and dp.eq(d).any()])
    counts: dict[tuple[str, str], list[tuple[str, int, int]]] = {}
    own: dict[tuple[str, str], dict[str, bool]] = {}
    for u in units:
        for hyp in hypotheses_for_unit(cfg, u):
            df, keep, c, m, y, _ = _prepared(participants, hyp, cfg, u)
            cells = _cell_counts(c, m, y)
            counts[(u, hyp.id)] = cells
            own[(u, hyp.id)] = hidden_cells({key: {"n": n, "k": kk} for key, n, kk in cells},
                                            k0, int(len(df) - keep.sum()))
    index: dict[tuple[str, str, str, str], int] = {}
    values: list[float] = []
    primary: list[bool] = []
    for (u, h), cells in counts.items():
        for key, n, kk in cells:
            for q, val in (("yes", kk), ("no", n - kk)):  # with and without the outcome
                index[(u, h, key, q)] = len(values)
                values.append(float(val))
                primary.append(own[(u, h)][key] and n > 0)
    vals = np.array(values)
    lines: list[list[int]] = []
    margins: list[int | None] = []
    for (u, h), cells in counts.items():
        for q in ("yes", "no"):
            for pair in (("in_yes", "in_no"), ("out_yes", "out_no")):  # context totals known
                lines.append([index[(u, h, key, q)] for key in pair])
                margins.append(None)
            for key, _, _ in cells:
                if u != "all":
                    continue
                parts = [index[(d, h, key, q)] for d in units[1:] if (d, h) in counts]
                total = index[(u, h, key, q)]
                if parts and vals[parts].sum() == vals[total]:
                    lines.append([*parts, total])
                    margins.append(total)
    cost = privacy.dear(vals, [i for key, i in index.items() if key[0] == "all"])
    pairs = [(index[(u, h, key, "yes")], index[(u, h, key, "no")])
             for (u, h), cells in counts.items() for key, _, _ in cells]
    # a context pair's total is published elsewhere (no cell of its own: margin None); a
    # cross line's total is the project's cell
    mask = privacy.solve_plan(vals, lines, margins, k0, np.array(primary), cost, pairs=pairs)
    plan: dict[str, dict[str, dict[str, bool]]] = {}
    for (u, h), cells in counts.items():
        plan.setdefault(u, {})[h] = {key: bool(mask[index[(u, h, key, "yes")]])
                                     for key, _, _ in cells}
    return plan


def _add_notes(r: HypothesisResult) -> None:
    """Power honesty: small cells, interval widths, exclusions and the model used; the reader
    versions say 'færre end 5' and leave out the figures of hidden cells."""
    hidden = reader_hidden(r)
    r.notes_da, r.notes_en = _notes(r, "da"), _notes(r, "en")
    r.reader_notes_da, r.reader_notes_en = _notes(r, "da", hidden), _notes(r, "en", hidden)


def _notes(r: HypothesisResult, lang: str, hidden: dict[str, bool] | None = None) -> list[str]:
    """The notes in one language; with ``hidden`` (reader version) no count under the limit."""
    da = lang == "da"
    out = [ASSOCIATION_NOTE[lang]]
    for row in r.cells.itertuples():
        if row.n >= SMALL_N:
            continue
        where = CELL_TEXT[lang][row.cell]
        if hidden is not None and hidden[row.cell]:
            # no count either: with the other cells and the total it would give a hidden one
            out.append(f"Andelen {where} vises ikke (for få i en gruppe)." if da else
                       f"The share {where} is not shown (too few in a group).")
        else:
            out.append(f"n = {row.n} {where}; usikkert (95 %-intervallet er "
                       f"{_width(row.ci_width)} procentpoint bredt)." if da else
                       f"n = {row.n} {where}; uncertain (the 95 % interval is "
                       f"{_width(row.ci_width)} percentage points wide).")
    in_hidden = hidden is not None and (hidden["in_yes"] or hidden["in_no"])
    if np.isfinite(r.diff_in.ci_width) and not in_hidden:
        out.append(f"Intervallet for forskellen i konteksten er {_width(r.diff_in.ci_width)} "
                   "procentpoint bredt." if da else
                   f"The interval of the difference in the context is "
                   f"{_width(r.diff_in.ci_width)} percentage points wide.")
    if (r.n_active or r.n_missing) and hidden is not None:
        # for readers no numbers: the number still active is the måltal tables' to show or
        # hide (it may be hidden there to protect another count), and the cells' n next to a
        # total would give it back
        out.append("Unge, der stadig er i forløb, og unge med manglende oplysninger er ikke med."
                   if da else "Young people still active and those with missing data are "
                   "left out.")
    elif r.n_active or r.n_missing:
        out.append(f"{r.n_active} stadig i forløb og {r.n_missing} med manglende oplysninger "
                   f"er ikke med (af {r.n_in_scope})." if da else
                   f"{r.n_active} still active and {r.n_missing} with missing data are left out "
                   f"(of {r.n_in_scope}).")
    if r.model.ok:
        out.append(f"Logistisk model med {r.model.se_text('da')}." if da else
                   f"Logistic model with {r.model.se_text('en')}.")
        if r.model.cov_type == "cluster" and r.model.n_clusters < 30:
            out.append("Med få klynger kan klyngerobuste standardfejl være for små." if da else
                       "With few clusters, cluster-robust standard errors can be too small.")
    else:
        out.append(f"Den logistiske model blev ikke estimeret: {r.model.problem}." if da else
                   f"The logistic model was not estimated: {r.model.problem_en}.")
    return out


def _width(x: float) -> str:
    return f"{100 * x:.0f}" if np.isfinite(x) else "–"


def _decide(r: HypothesisResult, p_adj: float, method: str, alpha: float) -> None:
    """Set verdict_code and the rule sentences by the rules in VERDICT_RULES_DA: ``rule_da`` /
    ``rule_en`` with every figure, ``reader_rule_da`` / ``reader_rule_en`` without the figures
    that would reveal a cell the reader tables hide."""
    r.p_adj, r.p_adjust, r.alpha = p_adj, method, alpha
    sign = -1.0 if r.expected == "negative" else 1.0
    d = r.diff_in
    why: dict[str, Any] = {}
    if (r.cells["n"] < r.min_cell).any():
        r.verdict_code, why["rule"] = "too_few_data", "small"
    elif not r.model.ok:
        r.verdict_code, why["rule"] = "too_few_data", "model"
    else:
        direction = bool(np.isfinite(d.estimate) and sign * d.estimate > 0)
        clear = bool(direction and (sign * d.ci_low > 0 if sign > 0 else sign * d.ci_high > 0))
        or_in = r.model.or_mechanism_in_context
        if r.primary_test == "interaction":
            main_sign = bool(sign * math.log(r.model.or_interaction.estimate) > 0
                             and np.isfinite(r.did.estimate) and sign * r.did.estimate > 0)
        else:
            main_sign = bool(sign * math.log(or_in.estimate) > 0)
        main_ok = bool(main_sign and np.isfinite(p_adj) and p_adj < alpha)
        unadj_clear = bool(direction and np.isfinite(or_in.p) and or_in.p < alpha
                           and sign * math.log(or_in.estimate) > 0)
        why.update(direction=direction, clear=clear, main_sign=main_sign)
        if clear and main_ok:
            r.verdict_code, why["rule"] = "supported", 2
        elif direction and (clear or unadj_clear):
            r.verdict_code, why["rule"] = "partly_supported", 3
        else:
            r.verdict_code, why["rule"] = "not_supported", 4
    hidden = reader_hidden(r)
    r.rule_da, r.rule_en = _rule(r, why, "da"), _rule(r, why, "en")
    r.reader_rule_da, r.reader_rule_en = _rule(r, why, "da", hidden), _rule(r, why, "en", hidden)


def _rule(r: HypothesisResult, why: dict[str, Any], lang: str,
          hidden: dict[str, bool] | None = None) -> str:
    """The sentence naming the rule that decided the verdict. With ``hidden`` (the reader
    version) the difference in the context and the mechanism's odds ratio are left out when an
    in-context cell is hidden, and the interaction's figures when any cell is, since each of
    them would let a reader work a hidden cell out; small cells are named without their n."""
    da = lang == "da"
    k = r.min_cell
    hide_in = hidden is not None and (hidden["in_yes"] or hidden["in_no"])
    hide_any = hidden is not None and any(hidden.values())
    if why["rule"] == "small":
        small = r.cells[r.cells["n"] < k]
        cells = "; ".join(CELL_TEXT[lang][c] + ("" if hidden is not None else f" n = {n}")
                          for c, n in zip(small["cell"], small["n"], strict=True))
        return (f"Regel 1: for få data, fordi en celle er under diskretionsgrænsen på {k} "
                f"({cells})." if da else
                f"Rule 1: too few data, because a cell is below the disclosure threshold of {k} "
                f"({cells}).")
    if why["rule"] == "model":
        return (f"Regel 1: for få data, fordi modellen ikke kunne estimeres: {r.model.problem}."
                if da else f"Rule 1: too few data, because the model could not be estimated: "
                f"{r.model.problem_en}.")
    d, p_adj, alpha = r.diff_in, r.p_adj, r.alpha
    or_in = r.model.or_mechanism_in_context
    if hide_in:
        diff = "forskellen i konteksten" if da else "the difference in the context"
    else:
        ci = (f"{_pp(d.ci_low)} til {_pp(d.ci_high)}" if da else
              f"{_pp(d.ci_low)} to {_pp(d.ci_high)}")
        diff = (f"forskellen i konteksten er {_pp(d.estimate)} procentpoint (95 %-CI {ci})"
                if da else f"the difference in the context is {_pp(d.estimate)} percentage "
                f"points (95 % CI {ci})")
    dir_da = " er" if hide_in else ""
    dir_en = " is" if hide_in else ""
    adj = (("ujusteret" if da else "unadjusted") if r.p_adjust == "none" else
           f"{r.p_adjust}-{'justeret' if da else 'adjusted'}")
    if r.primary_test == "interaction":
        figures = "" if hide_any else (
            f" (OR {_or(r.model.or_interaction, lang)}, "
            + (f"forskel i forskellene {_pp(r.did.estimate)} procentpoint)" if da else
               f"difference in differences {_pp(r.did.estimate)} percentage points)"))
        main = (f"samspillet{figures} har {adj} p {_p(p_adj, lang)}" if da else
                f"the interaction{figures} has {adj} p {_p(p_adj, lang)}")
        against = ("" if why["main_sign"] else
                   " og går ikke i den forventede retning både som odds ratio og i procentpoint"
                   if da else
                   " and does not point the expected way both as an odds ratio and in points")
    else:
        figures = "" if hide_in else f" (OR {_or(or_in, lang)})"
        main = (f"mekanismens sammenhæng i konteksten{figures} har {adj} p {_p(p_adj, lang)}"
                if da else f"the mechanism's association in the context{figures} has {adj} p "
                f"{_p(p_adj, lang)}")
        against = "" if why["main_sign"] else (" og går i den modsatte retning" if da else
                                                " and points the other way")
    withheld = ""
    if hide_any and (hide_in or r.primary_test == "interaction"):
        withheld = (f" Nogle tal bag dommen vises ikke, fordi en gruppe har færre end {k} med "
                    "eller uden udfaldet." if da else
                    f" Some figures behind the verdict are not shown, because a group has fewer "
                    f"than {k} with or without the outcome.")
    a = f"{alpha:g}".replace(".", ",") if da else f"{alpha:g}"
    if why["rule"] == 2:
        text = (f"Regel 2: støttet, fordi {diff}{dir_da} i den forventede retning, og {main}, "
                f"under {a}." if da else
                f"Rule 2: supported, because {diff}{dir_en} in the expected direction, and "
                f"{main}, below {a}.")
    elif why["rule"] == 3:
        how = (("intervallet udelukker 0" if da else "the interval excludes 0") if why["clear"]
               else (f"modellens ujusterede p for mekanismen i konteksten {_p(or_in.p, lang)}"
                     if da else f"the model's unadjusted p for the mechanism in the context "
                     f"{_p(or_in.p, lang)}"))
        text = (f"Regel 3: delvist støttet, fordi {diff}{dir_da} i den forventede retning "
                f"({how}), men {main}{against}, så kravet i regel 2 er ikke opfyldt." if da else
                f"Rule 3: partly supported, because {diff}{dir_en} in the expected direction "
                f"({how}), but {main}{against}, so rule 2 is not met.")
    elif why["direction"]:
        text = (f"Regel 4: ikke støttet, fordi {diff}{dir_da} i den forventede retning, men "
                "intervallet omfatter 0, og mekanismens sammenhæng i konteksten er ikke "
                f"signifikant (p {_p(or_in.p, lang)})." if da else
                f"Rule 4: not supported, because {diff}{dir_en} in the expected direction, but "
                "the interval includes 0 and the mechanism's association in the context is "
                f"not significant (p {_p(or_in.p, lang)}).")
    else:
        text = (f"Regel 4: ikke støttet, fordi {diff}{dir_da}"
                f"{' ikke' if hide_in else ', ikke'} i den forventede retning." if da else
                f"Rule 4: not supported, because {diff}{dir_en}"
                f"{' not' if hide_in else ', not'} in the expected direction.")
    return text + withheld


def hypotheses_for_unit(cfg: ProjectConfig, unit: str = "all") -> list[Hypothesis]:
    """The hypotheses a unit tests: all for the project, else those for 'all' or that unit."""
    if unit == "all":
        return list(cfg.hypotheses)
    cfg.delprojekt(unit)
    return [h for h in cfg.hypotheses if h.delprojekter == "all" or unit in h.delprojekter]


def adjust_pvalues(pvalues: list[float], method: str = "holm") -> list[float]:
    """Multiplicity-adjusted p-values (statsmodels multipletests); NaN stays NaN, 'none' = raw."""
    if method not in P_ADJUST_METHODS:
        raise UserError(f"p_adjust must be one of {', '.join(P_ADJUST_METHODS)}, not {method!r}")
    p = np.asarray(pvalues, dtype=float)
    out = p.copy()
    ok = np.isfinite(p)
    if method != "none" and ok.any():
        from statsmodels.stats.multitest import multipletests

        out[ok] = multipletests(p[ok], method=method)[1]
    return out.tolist()


def evaluate_hypotheses(participants: pd.DataFrame, cfg: ProjectConfig, unit: str = "all",
                        p_adjust: str = "holm", alpha: float = 0.05, lang: str = "da",
                        project_wide: bool = True) -> CMOTable:
    """Test every hypothesis of a unit, adjust p-values across them and give verdicts.

    For unit="all" every hypothesis is tested (one limited to some delprojekter on their
    participants); for a delprojekt, participants are that delprojekt's and the hypotheses those
    for "all" or naming it. The main-test p-values of hypotheses whose model could be estimated
    form the family that is adjusted (``p_adjust``: holm, bonferroni, fdr_bh, …, or none).
    Give the whole project's table (the unit is picked here): with ``project_wide`` the cells
    readers may not see follow :func:`cmo_plan` across all units.
    """
    check_lang(lang)
    if p_adjust not in P_ADJUST_METHODS:
        raise UserError(f"p_adjust must be one of {', '.join(P_ADJUST_METHODS)}, "
                        f"not {p_adjust!r}")
    # which cells readers may not see is decided for all units together when the table holds
    # the whole project (a delprojekt's cell must not follow from the project's)
    plan = cmo_plan(participants, cfg).get(unit, {}) if project_wide else {}
    results = [_evaluate(participants, h, cfg, unit, plan.get(h.id))
               for h in hypotheses_for_unit(cfg, unit)]
    adjusted = adjust_pvalues([r.p for r in results], p_adjust)
    for r, p_adj in zip(results, adjusted, strict=True):
        _decide(r, p_adj, p_adjust, alpha)
    frame = pd.DataFrame([r.row() for r in results])
    return CMOTable(unit=unit, results=results, frame=frame, p_adjust=p_adjust, alpha=alpha,
                    lang=lang)


# -- subgroup matrix ---------------------------------------------------------------------------


def _mechanism_expression(mechanism: str, df: pd.DataFrame, cfg: ProjectConfig) -> str:
    """An element id ('fast_kontaktperson') means its column; anything else is an expression."""
    if mechanism not in df.columns and mechanism in cfg.elements:
        return f"element_{mechanism}"
    return mechanism


def _context_columns(df: pd.DataFrame, contexts: tuple[str, ...] | list[str]) -> list[str]:
    out: list[str] = []
    for spec in contexts:
        if any(ch in spec for ch in "*?["):
            out += [c for c in df.columns if fnmatch.fnmatch(str(c), spec) and c not in out]
        elif spec in df.columns:
            if spec not in out:
                out.append(spec)
        else:
            raise UserError(f"subgroup_matrix: context column {spec!r} is not in the "
                            f"participants table; columns: {', '.join(map(str, df.columns))}")
    return out


def _context_label(col: str, cfg: ProjectConfig, lang: str) -> str:
    if col in DIMENSION_LABELS[lang]:
        return DIMENSION_LABELS[lang][col]
    for prefix, vocab in (("challenge_", cfg.challenges), ("element_", cfg.elements)):
        if col.startswith(prefix) and col[len(prefix):] in vocab:
            return vocab[col[len(prefix):]].text(lang)
    return col


def subgroup_matrix(participants: pd.DataFrame, cfg: ProjectConfig, mechanism: str,
                    outcome: str = "goal_met",
                    contexts: tuple[str, ...] | list[str] = ("target_group", "gender", "age_band",
                                                             "delprojekt", "challenge_*"),
                    unit: str = "all", lang: str = "da",
                    protect: list[tuple[str, bool, bool]] | None = None) -> pd.DataFrame:
    """Outcome rate by context category × mechanism yes/no, long and tidy, for a heatmap.

    ``mechanism`` is an element id or an expression; each context is a column (or a pattern such
    as "challenge_*"); yes/no columns get the categories ja/nej. Columns: context,
    context_label, category, category_label, mechanism, mechanism_label, n, n_outcome, rate,
    ci_low, ci_high, suppressed (the rate would reveal a count under cfg.privacy.min_cell: n,
    n_outcome or n − n_outcome from 1 to min_cell − 1, as in the CMO table, and then its
    partner with the other mechanism value, and then every category of that context: a blank
    row's rates follow from its siblings' next to the category sizes and the mechanism's
    totals; the rate is kept here and blanked by ``subgroup_pivot``). ``protect`` lists
    (context expression, hide in, hide out) of hypotheses whose CMO cells readers may not see:
    a category holding exactly the young people in (or outside) such a context shows the same
    cells, so it is blanked too. Active participants and rows with a missing value are left
    out.
    """
    from .privacy import rate_hidden

    check_lang(lang)
    df = select_unit(participants, cfg, unit)
    mech_expr = _mechanism_expression(mechanism, df, cfg)
    mech = evaluate_expression(df, mech_expr, "subgroup_matrix", "mechanism")
    out_v = evaluate_expression(df, outcome, "subgroup_matrix", "outcome")
    keep = ~(mech.isna() | out_v.isna())
    keep &= ~_active(df, cfg, out_v)
    keep_np = keep.to_numpy(dtype=bool)
    m = mech.to_numpy(dtype=bool, na_value=False)[keep_np]
    y = out_v.to_numpy(dtype=bool, na_value=False)[keep_np]
    guarded = []  # (in-context membership of the kept rows, hide in, hide out)
    for expr, hide_in, hide_out in protect or []:
        if hide_in or hide_out:
            ctx = evaluate_expression(df, expr, "subgroup_matrix", "context")
            guarded.append((ctx.to_numpy(dtype=bool, na_value=False)[keep_np],
                            ctx.isna().to_numpy()[keep_np], hide_in, hide_out))
    rows = []
    for col in _context_columns(df, contexts):
        values = df[col][keep_np]
        label = _context_label(col, cfg, lang)
        if pd.api.types.is_bool_dtype(values.dtype):  # a yes/no column: categories ja/nej
            vals = values.astype("boolean")
            cats = [(True, "ja", YES_NO[lang][True]), (False, "nej", YES_NO[lang][False])]
        else:
            known = category_labels(cfg, col, lang)
            vals = values.astype("string")
            seen = [str(v) for v in vals.dropna().unique()]
            order = [k for k in known if k in seen] + sorted(v for v in seen if v not in known)
            cats = [(v, v, known.get(v, v)) for v in order]
        for cat, code, cat_label in cats:
            in_cat = vals.eq(cat).fillna(False).to_numpy(dtype=bool)
            same_cells = any(
                (hide_in and np.array_equal(in_cat[~na], ctx[~na]))
                or (hide_out and np.array_equal(in_cat[~na], ~ctx[~na]))
                for ctx, na, hide_in, hide_out in guarded)
            for has in (True, False):
                sel = in_cat & (m == has)
                r = Rate.of(int(y[sel].sum()), int(sel.sum()))
                rows.append({"context": col, "context_label": label, "category": code,
                             "category_label": cat_label, "mechanism": has,
                             "mechanism_label": YES_NO[lang][has], "n": r.n, "n_outcome": r.k,
                             "rate": r.rate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                             "suppressed": same_cells or r.n < cfg.privacy.min_cell or bool(
                                 rate_hidden(r.k, r.n, cfg.privacy.min_cell))})
    out = pd.DataFrame(rows, columns=["context", "context_label", "category", "category_label",
                                      "mechanism", "mechanism_label", "n", "n_outcome", "rate",
                                      "ci_low", "ci_high", "suppressed"])
    # the yes/no pair of a category adds up to the category's figures in the breakdown tables:
    # hiding one hides its partner
    if len(out):
        out["suppressed"] = out.groupby(["context", "category"], sort=False)[
            "suppressed"].transform("any").astype(bool)
        # the categories of a context add up to the mechanism's totals: one blank row would
        # follow from the others, so a context with a blank row shows none
        out["suppressed"] = out.groupby("context", sort=False)["suppressed"].transform(
            "any").astype(bool)
    out.attrs.update({"mechanism": mech_expr, "outcome": outcome, "unit": unit,
                      "min_cell": cfg.privacy.min_cell, "n": int(keep_np.sum()),
                      "n_left_out": int(len(df) - keep_np.sum()), "lang": lang})
    return out


def subgroup_pivot(matrix: pd.DataFrame, value: str = "rate", difference: bool = True
                   ) -> pd.DataFrame:
    """Wide form of ``subgroup_matrix`` for a heatmap: suppressed cells become NaN.

    Rows are (context_label, category_label) in the matrix order, columns the mechanism
    labels (ja, nej); ``difference`` adds ja − nej (NaN when either cell is suppressed).
    """
    m = matrix.copy()
    m[value] = m[value].astype(float).where(~m["suppressed"].astype(bool))
    lang = matrix.attrs.get("lang", "da")
    yes, no = YES_NO[lang][True], YES_NO[lang][False]
    wide = m.pivot_table(index=["context_label", "category_label"], columns="mechanism_label",
                         values=value, aggfunc="first", dropna=False, sort=False)
    order = list(dict.fromkeys(zip(m["context_label"], m["category_label"], strict=True)))
    wide = wide.reindex(index=pd.MultiIndex.from_tuples(order, names=wide.index.names),
                        columns=[yes, no])
    wide.columns.name = None
    if difference:
        wide[("forskel" if lang == "da" else "difference")] = wide[yes] - wide[no]
    return wide


# -- qualitative linkage -----------------------------------------------------------------------

SOURCE_TYPES = ("ung", "partner", "case")
SOURCE_LABELS = {"da": {"ung": "Unge", "partner": "Partnere", "case": "Cases"},
                 "en": {"ung": "Young people", "partner": "Partners", "case": "Cases"}}


def _check_quotes(quotes: pd.DataFrame) -> None:
    need = ["quote_id", "hypothesis_id", "source_type", "text"]
    missing = [c for c in need if c not in quotes.columns]
    if missing:
        raise UserError(f"quotes: the table lacks the column(s) {', '.join(missing)}; it should "
                        "be the clean quotes table (quote_id, hypothesis_id, source_type, text)")


def unlinked_quotes(quotes: pd.DataFrame, cfg: ProjectConfig) -> pd.DataFrame:
    """Quotes whose hypothesis_id is missing or not a hypothesis in the config, with the reason."""
    _check_quotes(quotes)
    ids = {h.id for h in cfg.hypotheses}
    hid = quotes["hypothesis_id"].astype("string")
    bad = hid.isna() | ~hid.isin(ids).fillna(False)
    cols = [c for c in ("quote_id", "hypothesis_id", "source_type", "delprojekt", "text")
            if c in quotes.columns]
    out = quotes.loc[bad.to_numpy(dtype=bool), cols].copy()
    out["reason"] = [("no hypothesis id" if pd.isna(h) else
                      f"hypothesis {h!r} is not in the config (known: {', '.join(sorted(ids))})")
                     for h in out["hypothesis_id"]]
    return out.reset_index(drop=True)


def choose_quotes(quotes: pd.DataFrame, max_quotes: int = 2) -> pd.DataFrame:
    """Up to ``max_quotes`` per source type: shortest first, ties by quote_id (deterministic)."""
    q = quotes.assign(_len=quotes["text"].astype(str).str.len(),
                      _id=quotes["quote_id"].astype(str))
    q = q.sort_values(["_len", "_id"], kind="stable")
    parts = [q[q["source_type"].astype(str).eq(s)].head(max_quotes) for s in SOURCE_TYPES]
    return pd.concat(parts).drop(columns=["_len", "_id"]) if parts else q.iloc[0:0]


def joint_display(cmo_table: CMOTable, quotes: pd.DataFrame, cfg: ProjectConfig,
                  max_quotes: int = 2, lang: str = "da") -> pd.DataFrame:
    """Per hypothesis: the figures, the verdict and the voices (quote counts and chosen quotes).

    Columns: id, title, context_label, mechanism_label, n, rate_in_yes, rate_in_no,
    rate_out_yes, rate_out_no, diff_in, diff_in_ci_low, diff_in_ci_high, verdict, rule,
    n_quotes, n_ung, n_partner, n_case, quotes (list of {quote_id, source_type, text}) and
    quotes_text (one readable string). Quotes are chosen by ``choose_quotes``. Quotes linked to
    no hypothesis in the config are not dropped silently: their number is in
    ``attrs["n_unlinked"]`` and they are listed by ``unlinked_quotes``.
    """
    check_lang(lang)
    _check_quotes(quotes)
    unlinked = unlinked_quotes(quotes, cfg)
    hid = quotes["hypothesis_id"].astype("string")
    rows = []
    for r in cmo_table.results:
        q = quotes[hid.eq(r.id).fillna(False).to_numpy(dtype=bool)]
        counts = q["source_type"].astype(str).value_counts()
        chosen = choose_quotes(q, max_quotes)
        items = [{"quote_id": str(x.quote_id), "source_type": str(x.source_type),
                  "text": str(x.text)} for x in chosen.itertuples()]
        text = "\n".join(f"{SOURCE_LABELS[lang].get(i['source_type'], i['source_type'])}: "
                         f"»{i['text']}«" for i in items)
        rows.append({
            "id": r.id, "title": r.tr("title", lang),
            "context_label": r.tr("context_label", lang),
            "mechanism_label": r.tr("mechanism_label", lang), "n": r.n,
            **{f"rate_{key}": float(r.cells.set_index("cell").loc[key, "rate"])
               for key, _, _ in CELLS},
            "diff_in": r.diff_in.estimate, "diff_in_ci_low": r.diff_in.ci_low,
            "diff_in_ci_high": r.diff_in.ci_high,
            "verdict": r.verdict if lang == "da" else r.verdict_en,
            "rule": r.rule_da if lang == "da" else r.rule_en,
            "n_quotes": int(len(q)),
            **{f"n_{s}": int(counts.get(s, 0)) for s in SOURCE_TYPES},
            "quotes": items, "quotes_text": text,
        })
    out = pd.DataFrame(rows)
    in_table = [r.id for r in cmo_table.results]
    other = hid.isin([h.id for h in cfg.hypotheses]).fillna(False) & ~hid.isin(in_table).fillna(
        False)
    out.attrs.update({
        "n_unlinked": int(len(unlinked)),
        "unlinked_quote_ids": [str(x) for x in unlinked["quote_id"]],
        # linked to a hypothesis of the config that this unit's table does not test
        "n_other_hypotheses": int(other.sum()),
    })
    return out


__all__ = [
    "ASSOCIATION_NOTE", "CMOTable", "Estimate", "HypothesisResult", "ModelFit",
    "VERDICTS", "VERDICT_RULES_DA", "VERDICT_RULES_EN", "verdict_rules", "adjust_pvalues",
    "choose_quotes", "evaluate_expression", "evaluate_hypotheses", "evaluate_hypothesis",
    "expression_names", "hidden_cells", "margins_needed", "cmo_plan", "reader_hidden",
    "hypotheses_for_unit", "joint_display", "subgroup_matrix", "subgroup_pivot",
    "unlinked_quotes",
]
