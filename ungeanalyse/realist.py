"""What works for whom: the CMO engine of the realist evaluation.

Each CMO hypothesis in the config names a *context* (a subgroup), a *mechanism* (an
intervention element) and an *outcome*, each a boolean expression over the clean participants
table (``target_group == 'paabegynde'``, ``element_fast_kontaktperson``, ``goal_met``).

``evaluate_hypothesis`` tests one hypothesis: outcome rates with Wilson intervals in the four
cells (mechanism yes/no × inside/outside the context), crude rate differences (mechanism yes − no)
inside and outside the context with Newcombe intervals and their difference (MOVER), and a
Firth-penalised logistic model of the outcome on the context and the mechanism inside and
outside it with fixed effects for delprojekt and target group (``firth_logit``, fitted on the
covariate patterns). From the model: odds ratios, the adjusted association as marginal
(standardised) risk differences with intervals, penalised likelihood-ratio tests and, with at
least ``MIN_CLUSTERS_CR2`` delprojekter, a cluster check: CR2 cluster-robust t tests with
Bell–McCaffrey df (at most G − 1), which must be under alpha for any support (the wider
interval counts). ``evaluate_hypotheses`` does this for every hypothesis of a unit, adjusts the
likelihood-ratio p-values across all of them and gives each a verdict by the rules in
``VERDICT_RULES_DA``; ``bench/calibrate_verdicts.py`` measures how often the rules give support
under null data and how often they find planted effects.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import Hypothesis, ProjectConfig
from .disclosure.cmo import cmo_plan, hidden_cells, margins_needed, reader_hidden
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
Dommen over en hypotese følger faste regler, i denne rækkefølge. Modellen er en \
Firth-penaliseret logistisk regression af udfaldet på konteksten og mekanismen i og uden for \
konteksten, justeret for delprojekt og målgruppe (når konteksten ikke selv er defineret ved \
dem). "Forskellen i konteksten" er den justerede (standardiserede) forskel i procentpoint \
mellem at få og ikke få mekanismen blandt de unge i konteksten, med et 95 %-konfidensinterval; \
"forskellen i forskellene" er forskellen i konteksten minus den samme forskel uden for \
konteksten. Hovedtesten er samspillet kontekst × mekanisme, når hypotesen forventer en \
stærkere sammenhæng i konteksten, og ellers mekanismens sammenhæng i konteksten. Dens p-værdi \
er fra den penaliserede likelihood-ratio-test og justeres (Holm) for alle enhedens \
forhåndsformulerede hypoteser; en hypotese med for få data tæller med p = 1. Med mindst 3 \
delprojekter skal hovedtesten også bestå et klyngetjek: en t-test med bias-reducerede \
klyngerobuste standardfejl (CR2) efter delprojekt og Bell–McCaffrey-frihedsgrader (højst antal \
delprojekter − 1) skal give p < 0,05, så en sammenhæng, der bæres af få delprojekter, ikke \
bliver til en dom; intervallerne er de bredeste af modellens og klyngetjekkets. "Den forventede \
retning" er positiv, undtagen for hypoteser med forventet negativ sammenhæng.
1. For få data: en af de fire grupper (mekanisme ja/nej × i/uden for konteksten) har færre med \
udfaldet eller færre uden udfaldet end diskretionsgrænsen ({min_cell}), eller modellen kan \
ikke estimeres. Ingen anden dom hviler på så små grupper.
2. Støttet: hovedtesten går i den forventede retning, er signifikant efter justering for \
flere hypoteser (justeret p < 0,05) og består klyngetjekket. Forventer hypotesen en \
stærkere sammenhæng i konteksten, \
skal samspillet gå i den forventede retning både som odds ratio og som forskel i forskellene, \
og forskellen i konteksten skal gå i den forventede retning med et interval, der udelukker 0.
3. Delvist støttet: hovedtesten går i den forventede retning, er signifikant uden justering \
(p < 0,05) og består klyngetjekket, men kravet i regel 2 er ikke opfyldt. \
Forventer hypotesen en stærkere sammenhæng i \
konteksten, skal både samspillet (odds ratio og forskel i forskellene) og forskellen i \
konteksten gå i den forventede retning; en sammenhæng, der er lige stærk i og uden for \
konteksten, støtter ikke hypotesen.
4. Ikke støttet: alle andre tilfælde, også en sammenhæng i den modsatte retning og en, der \
ikke består klyngetjekket.
Resultaterne viser sammenhænge, ikke virkninger: der er ingen sammenligningsgruppe, og unge, der \
fik en indsats, kan adskille sig fra dem, der ikke fik den, på andet end delprojekt og \
målgruppe."""

VERDICT_RULES_EN = """\
The verdict on a hypothesis follows fixed rules, in this order. The model is a Firth-penalised \
logistic regression of the outcome on the context and on the mechanism inside and outside the \
context, adjusted for sub-project and target group (unless the context is defined by them). \
"The difference in the context" is the adjusted (standardised) difference in percentage points \
between receiving and not receiving the mechanism among the young people in the context, with \
a 95 % confidence interval; "the difference in differences" is the difference in the context \
minus the same difference outside it. The main test is the context × mechanism interaction \
when the hypothesis expects a stronger association in the context, otherwise the mechanism's \
association in the context. Its p-value is from the penalised likelihood-ratio test and is \
adjusted (Holm) across all the unit's pre-specified hypotheses; a hypothesis with too few data \
counts with p = 1. With at least 3 sub-projects the main test must also pass a cluster check: a \
t test with bias-reduced cluster-robust standard errors (CR2) by sub-project and Bell–McCaffrey \
degrees of freedom (at most the number of sub-projects − 1) must give p < 0.05, so that an \
association carried by a few sub-projects does not become a verdict; the intervals are the \
wider of the model's and the cluster check's. "The expected direction" is positive, except for \
hypotheses that expect a negative association.
1. Too few data: one of the four groups (mechanism yes/no × inside/outside the context) has \
fewer with the outcome or fewer without it than the disclosure threshold ({min_cell}), or the \
model cannot be estimated. No other verdict rests on groups that small.
2. Supported: the main test points the expected way, is significant after adjustment for \
multiple hypotheses (adjusted p < 0.05) and passes the cluster check. When the \
hypothesis expects a stronger association in \
the context, the interaction must point the expected way both as an odds ratio and as a \
difference in differences, and the difference in the context must point the expected way with \
an interval that excludes 0.
3. Partly supported: the main test points the expected way, is significant without \
adjustment (p < 0.05) and passes the cluster check, but rule 2 is not met. \
When the hypothesis expects a stronger \
association in the context, the interaction (odds ratio and difference in differences) and the \
difference in the context must all point the expected way; an association as strong outside \
the context as in it does not support the hypothesis.
4. Not supported: every other case, including an association in the opposite direction and \
one that does not pass the cluster check.
The results show associations, not effects: there is no comparison group, and young people who \
received an element may differ from those who did not in more than sub-project and target \
group."""



def verdict_rules(lang: str = "da", min_cell: int = 5) -> str:
    """The verdict rules as a reader sees them, with the project's disclosure threshold."""
    text = VERDICT_RULES_DA if lang == "da" else VERDICT_RULES_EN
    return text.replace("{min_cell}", str(min_cell))

ASSOCIATION_NOTE = {
    "da": "Tallene viser sammenhænge, ikke virkninger: der er ingen sammenligningsgruppe.",
    "en": "The figures show associations, not effects: there is no comparison group.",
}

SECONDARY_NOTE = {
    "da": "Analysen for et delprojekt er sekundær: hovedanalysen er hele projektets. Her er "
          "der færre unge, ingen klyngerobuste standardfejl, og hypoteserne justeres kun inden "
          "for delprojektet; dommene er derfor mere usikre og kan afvige fra projektets.",
    "en": "The analysis for a sub-project is secondary: the main analysis is the whole "
          "project's. There are fewer young people here, no cluster-robust standard errors, and "
          "the hypotheses are adjusted within the sub-project only; the verdicts are therefore "
          "more uncertain and may differ from the project's.",
}
"""Said in every delprojekt report next to its verdicts."""

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
    """The Firth logistic model of a hypothesis: odds ratios, marginal risk differences, tests.

    ``cov_type`` is "CR2" when the tests must also hold with bias-reduced cluster-robust
    standard errors by delprojekt and t with Bell–McCaffrey df (at most G − 1), "model" when
    there are too few delprojekter for that (the penalised likelihood-ratio test alone).
    ``rd_in`` / ``rd_out`` are the adjusted (standardised) differences mechanism yes − no
    inside / outside the context, ``rd_did`` their difference; ``p_model_*`` the penalised
    likelihood-ratio p-values, ``p_cluster_*`` / ``df_cluster_*`` the CR2 t tests' p and df
    (NaN without CR2). An Estimate's interval is the wider of the two, its p the larger.
    """

    ok: bool
    cov_type: str | None = None
    n_clusters: int = 0
    adjusted_for: list[str] = field(default_factory=list)
    params: dict[str, float] = field(default_factory=dict)
    bse: dict[str, float] = field(default_factory=dict)
    or_mechanism_in_context: Estimate = NAN_ESTIMATE
    or_mechanism_outside: Estimate = NAN_ESTIMATE
    or_interaction: Estimate = NAN_ESTIMATE
    rd_in: Estimate = NAN_ESTIMATE
    rd_out: Estimate = NAN_ESTIMATE
    rd_did: Estimate = NAN_ESTIMATE
    p_model_in: float = math.nan
    p_model_interaction: float = math.nan
    p_cluster_in: float = math.nan
    p_cluster_interaction: float = math.nan
    df_cluster_in: float = math.nan
    df_cluster_interaction: float = math.nan
    problem: str | None = None
    problem_en: str | None = None

    def adjusted_text(self, lang: str = "da") -> str:
        """What the model adjusts for, in words ('delprojekt og målgruppe')."""
        words = {"da": {"delprojekt": "delprojekt", "target_group": "målgruppe"},
                 "en": {"delprojekt": "sub-project", "target_group": "target group"}}[lang]
        parts = [words.get(a, a) for a in self.adjusted_for]
        joiner = " og " if lang == "da" else " and "
        return joiner.join(parts) if parts else ("intet" if lang == "da" else "nothing")

    def se_text(self, lang: str = "da") -> str:
        """Which model and tests were used, in words."""
        da = lang == "da"
        if not self.ok:
            return "ingen model" if da else "no model"
        head = (f"Firth-penaliseret logistisk regression justeret for {self.adjusted_text(lang)}"
                f", testet med den penaliserede likelihood-ratio-test" if da else
                f"Firth-penalised logistic regression adjusted for {self.adjusted_text(lang)}, "
                "tested by the penalised likelihood-ratio test")
        if self.cov_type == "CR2":
            return head + (" og et klyngetjek: en t-test med bias-reducerede klyngerobuste "
                           "standardfejl (CR2) efter delprojekt og Bell–McCaffrey-"
                           f"frihedsgrader (højst {self.n_clusters - 1}; {self.n_clusters} "
                           "delprojekter), som skal give p < 0,05; det bredeste interval "
                           "gælder" if da else
                           " and a cluster check: a t test with bias-reduced cluster-robust "
                           "standard errors (CR2) by sub-project and Bell–McCaffrey degrees of "
                           f"freedom (at most {self.n_clusters - 1}; {self.n_clusters} "
                           "sub-projects), which must give p < 0.05; the wider interval counts")
        return head + (" (for få delprojekter til klyngerobuste standardfejl)" if da else
                       " (too few sub-projects for cluster-robust standard errors)")

    def _fail(self, da: str, en: str) -> ModelFit:
        self.ok, self.problem, self.problem_en = False, da, en
        return self

    def to_dict(self) -> dict[str, Any]:
        """The model's key figures as JSON-serialisable values."""
        return jsonable({
            "ok": self.ok, "cov_type": self.cov_type, "n_clusters": self.n_clusters,
            "adjusted_for": self.adjusted_for, "params": self.params, "bse": self.bse,
            "or_mechanism_in_context": self.or_mechanism_in_context.to_dict(),
            "or_mechanism_outside": self.or_mechanism_outside.to_dict(),
            "or_interaction": self.or_interaction.to_dict(),
            "rd_in": self.rd_in.to_dict(), "rd_out": self.rd_out.to_dict(),
            "rd_did": self.rd_did.to_dict(), "p_model_in": self.p_model_in,
            "p_model_interaction": self.p_model_interaction,
            "p_cluster_in": self.p_cluster_in,
            "p_cluster_interaction": self.p_cluster_interaction,
            "df_cluster_in": self.df_cluster_in,
            "df_cluster_interaction": self.df_cluster_interaction, "problem": self.problem,
            "problem_en": self.problem_en, "method": self.se_text("da"),
            "method_en": self.se_text("en"),
        })


@dataclass
class HypothesisResult:
    """One CMO hypothesis tested on one unit: cells, differences, model, p-values and verdict.

    ``cells`` has one row per cell (cell, context, mechanism, n, k, rate, ci_low, ci_high,
    ci_width) in the order in_yes, in_no, out_yes, out_no. ``diff_in`` / ``diff_out`` are rate
    differences (mechanism yes − no) inside / outside the context, ``did`` their difference.
    ``p`` is the main test's penalised likelihood-ratio p-value (``primary_test``), ``p_adj``
    the same adjusted across the table's hypotheses (equal to ``p`` for a single hypothesis),
    ``p_cluster`` the main test's CR2 cluster check (NaN with fewer than ``MIN_CLUSTERS_CR2``
    delprojekter), which must be under alpha, unadjusted, for any support.
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
    p_cluster: float = math.nan
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
                          ("or_interaction", self.model.or_interaction),
                          ("rd_in", self.model.rd_in), ("rd_out", self.model.rd_out),
                          ("rd_did", self.model.rd_did)):
            out[name] = est.estimate
            out[f"{name}_ci_low"] = est.ci_low
            out[f"{name}_ci_high"] = est.ci_high
        out.update({
            "p_mechanism_in_context": self.p_mechanism_in_context,
            "p_interaction": self.p_interaction, "primary_test": self.primary_test,
            "p": self.p, "p_adj": self.p_adj, "p_adjust": self.p_adjust,
            "p_cluster": self.p_cluster, "cov_type": self.model.cov_type,
            "n_clusters": self.model.n_clusters,
            "adjusted_for": ", ".join(self.model.adjusted_for),
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
            for label, est in ((("Justeret forskel i konteksten" if da else
                                 "Adjusted difference in the context"), m.rd_in),
                               (("Justeret forskel i forskellene" if da else
                                 "Adjusted difference in differences"), m.rd_did)):
                lines.append(f"  {label}: {_ci_text(est, lang)}")
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
            "p_cluster": self.p_cluster, "p_adjust": self.p_adjust, "alpha": self.alpha,
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
           "did": "Forskel i forskellene (pp)", "rd_in": "Justeret forskel i konteksten (pp)",
           "rd_in_ci": "Justeret 95 %-CI (pp)", "rd_did": "Justeret forskel i forskellene (pp)",
           "or_in": "OR i konteksten",
           "or_interaction": "OR samspil", "p": "p", "p_adj": "Justeret p",
           "p_cluster": "p, klyngetjek",
           "verdict": "Dom", "rule": "Begrundelse"},
    "en": {"id": "Hypothesis", "title": "Title", "context_label": "Context",
           "mechanism_label": "Mechanism", "n": "n", "rate_in_yes": "In context, with (%)",
           "rate_in_no": "In context, without (%)", "rate_out_yes": "Outside, with (%)",
           "rate_out_no": "Outside, without (%)", "diff_in": "Difference in context (pp)",
           "diff_in_ci": "95 % CI (pp)", "diff_out": "Difference outside (pp)",
           "did": "Difference in differences (pp)",
           "rd_in": "Adjusted difference in context (pp)", "rd_in_ci": "Adjusted 95 % CI (pp)",
           "rd_did": "Adjusted difference in differences (pp)", "or_in": "OR in context",
           "or_interaction": "OR interaction", "p": "p", "p_adj": "Adjusted p",
           "p_cluster": "p, cluster check",
           "verdict": "Verdict", "rule": "Reason"},
}


@dataclass
class CMOTable:
    """All hypotheses of a unit: ``results`` (HypothesisResult) and ``frame`` (one row each).

    ``frame`` columns: id, title, context/mechanism/outcome labels, n, n_active, n_missing,
    n_/k_/rate_/ci_low_/ci_high_<cell> for cells in_yes, in_no, out_yes, out_no, diff_in, diff_out,
    did (each with _ci_low/_ci_high), or_in and or_interaction (with CIs),
    p_mechanism_in_context, p_interaction, primary_test, p, p_adj, p_adjust, p_cluster, cov_type,
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

    def _method(self, lang: str) -> str:
        """The methods used across the table's fitted models, in words (for the report)."""
        return "; ".join(dict.fromkeys(r.model.se_text(lang) for r in self.results
                                       if r.model.ok))

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
        out["rd_in"] = (100 * f["rd_in"]).round(1)
        out["rd_in_ci"] = [f"{_pp(lo)} til {_pp(hi)}" if lang == "da" else
                           f"{_pp(lo)} to {_pp(hi)}"
                           for lo, hi in zip(f["rd_in_ci_low"], f["rd_in_ci_high"], strict=True)]
        out["rd_did"] = (100 * f["rd_did"]).round(1)
        out["or_in"] = f["or_in"].round(2)
        out["or_interaction"] = f["or_interaction"].round(2)
        out["p"] = f["p"].round(3)
        out["p_adj"] = f["p_adj"].round(3)
        out["p_cluster"] = f["p_cluster"].round(3)
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
        parts = [head, ASSOCIATION_NOTE[lang]]
        if self.unit != "all":
            parts.append(SECONDARY_NOTE[lang])
        parts += [r.summary(lang) for r in self.results]
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
            "secondary_note": SECONDARY_NOTE["da"] if self.unit != "all" else "",
            "secondary_note_en": SECONDARY_NOTE["en"] if self.unit != "all" else "",
            "method": self._method("da"), "method_en": self._method("en"),
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


MIN_CLUSTERS_CR2 = 3
"""With at least this many delprojekter in a hypothesis' scope, its main test must also pass a
cluster check: bias-reduced cluster-robust standard errors (CR2) and a t reference with
Bell–McCaffrey df (at most G − 1)."""


@dataclass
class FirthFit:
    """A Firth-penalised logistic fit on grouped binomial rows: coefficients, the inverse
    Fisher information at them, the penalised log-likelihood and the fitted probabilities."""

    beta: np.ndarray
    cov: np.ndarray
    loglik: float
    pi: np.ndarray
    converged: bool


def _penalised(X: np.ndarray, k: np.ndarray, n: np.ndarray, beta: np.ndarray
               ) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Penalised log-likelihood l(β) + ½ log det I(β), the probabilities, weights and I(β)."""
    eta = X @ beta
    pi = 1.0 / (1.0 + np.exp(-eta))
    w = n * pi * (1.0 - pi)
    info = X.T @ (X * w[:, None])
    sign, logdet = np.linalg.slogdet(info)
    if sign <= 0 or not np.isfinite(logdet):
        return -math.inf, pi, w, info
    ll = float(np.sum(k * eta - n * np.logaddexp(0.0, eta)))
    return ll + 0.5 * logdet, pi, w, info


def firth_logit(X: np.ndarray, k: np.ndarray, n: np.ndarray, restrict: np.ndarray | None = None,
                max_iter: int = 200, tol: float = 1e-8) -> FirthFit:
    """Firth's bias-reduced logistic regression (Heinze & Schemper 2002) on grouped data.

    Row j of ``X`` has ``k[j]`` events among ``n[j]`` trials. Newton steps on the modified score
    X'(k − nπ + h(½ − π)), h the diagonal of the weighted hat matrix, capped at 5 and halved
    until the penalised likelihood does not fall. Finite even under separation. With
    ``restrict`` (p × q) the coefficients are β = restrict · γ, and the penalty stays the full
    model's, as the penalised likelihood-ratio test needs (logistf's way).
    """
    X, k, n = (np.asarray(a, dtype=float) for a in (X, k, n))
    A = np.eye(X.shape[1]) if restrict is None else np.asarray(restrict, dtype=float)
    rate = (k.sum() + 0.5) / (n.sum() + 1.0)
    start = np.zeros(X.shape[1])
    start[0] = math.log(rate / (1 - rate))  # column 0 is the intercept
    gamma = np.linalg.lstsq(A, start, rcond=None)[0]
    beta = A @ gamma
    ll, pi, w, info = _penalised(X, k, n, beta)
    if not np.isfinite(ll):
        raise np.linalg.LinAlgError("singular information matrix")
    converged = False
    for _ in range(max_iter):
        cov = np.linalg.inv(info)
        h = w * np.einsum("ij,jk,ik->i", X, cov, X)
        score = A.T @ (X.T @ (k - n * pi + h * (0.5 - pi)))
        step = np.linalg.solve(A.T @ info @ A, score)
        biggest = float(np.max(np.abs(step))) if step.size else 0.0
        if biggest > 5:
            step *= 5 / biggest
        for _ in range(30):
            ll_new, pi_new, w_new, info_new = _penalised(X, k, n, A @ (gamma + step))
            if ll_new >= ll - 1e-10:
                break
            step /= 2
        else:
            break
        gamma = gamma + step
        beta = A @ gamma
        ll, pi, w, info = ll_new, pi_new, w_new, info_new
        if float(np.max(np.abs(step))) < tol:
            converged = True
            break
    return FirthFit(beta, np.linalg.inv(info), ll, pi, converged)


def _cr2_cov(X: np.ndarray, k: np.ndarray, n: np.ndarray, fit: FirthFit,
             cluster: np.ndarray) -> np.ndarray:
    """Bias-reduced cluster-robust covariance (CR2, Bell & McCaffrey 2002) of a logistic fit.

    Each cluster's score s_g is adjusted by (I − H_gg)^(−½); with the push-through identity
    X_g'W_g^½ (I − H_gg)^(−½) = M^(−½) f(S_g) M^½ X_g'(k_g − n_gπ_g), M the model covariance,
    S_g = M^½ I_g M^½ and f(λ) = (1 − λ)^(−½), so it is computed from per-cluster sums. A
    direction with leverage 1 (a cluster's own fixed effect) gets f = 0 (Moore–Penrose).
    """
    M = fit.cov
    vals, vecs = np.linalg.eigh((M + M.T) / 2)
    vals = np.clip(vals, 1e-300, None)
    root = (vecs * np.sqrt(vals)) @ vecs.T
    root_inv = (vecs / np.sqrt(vals)) @ vecs.T
    w = n * fit.pi * (1 - fit.pi)
    resid = k - n * fit.pi
    meat = np.zeros_like(M)
    for g in np.unique(cluster):
        rows = cluster == g
        Xg = X[rows]
        info_g = Xg.T @ (Xg * w[rows, None])
        lam, vec = np.linalg.eigh(root @ info_g @ root)
        f = np.where(lam < 1 - 1e-6, 1.0 / np.sqrt(np.clip(1 - lam, 1e-12, None)), 0.0)
        s = root_inv @ (vec * f) @ vec.T @ root @ (Xg.T @ resid[rows])
        meat += np.outer(s, s)
    return M @ meat @ M


def _bm_df(X: np.ndarray, n: np.ndarray, fit: FirthFit, cluster: np.ndarray
           ) -> Callable[[np.ndarray], float]:
    """Bell–McCaffrey (Satterthwaite) degrees of freedom of CR2 t tests: a function of a
    contrast's gradient c giving (Σ p_g'p_g)² / Σ_gh (p_g'p_h)², with p_g = (I − H)_g' A_g
    X̃_g M c under the working model (independent binomial rows), as Pustejovsky & Tipton
    (2018) do for linear models; X̃ = W^½X, H its hat matrix, A_g = (I − H_gg)^(−½)."""
    w = n * fit.pi * (1 - fit.pi)
    Xt = X * np.sqrt(w)[:, None]
    M = fit.cov
    resid_maker = np.eye(len(X)) - Xt @ M @ Xt.T
    blocks = []
    for g in np.unique(cluster):
        rows = np.flatnonzero(cluster == g)
        lam, vec = np.linalg.eigh(np.eye(len(rows)) - (Xt[rows] @ M @ Xt[rows].T))
        f = np.where(lam > 1e-6, 1.0 / np.sqrt(np.clip(lam, 1e-12, None)), 0.0)
        blocks.append((rows, (vec * f) @ vec.T))

    def df(grad: np.ndarray) -> float:
        P = np.column_stack([resid_maker[rows].T @ (A @ (Xt[rows] @ (M @ grad)))
                             for rows, A in blocks])
        G = P.T @ P
        denom = float(np.sum(G ** 2))
        return float(np.trace(G) ** 2 / denom) if denom > 0 else math.nan

    return df


def _independent_columns(columns: list[np.ndarray], names: list[str], fixed: int
                         ) -> tuple[list[np.ndarray], list[str]]:
    """Keep the first ``fixed`` columns and every further one that adds to the rank."""
    kept, kept_names = list(columns[:fixed]), list(names[:fixed])
    for col, name in zip(columns[fixed:], names[fixed:], strict=True):
        trial = np.column_stack([*kept, col])
        if np.linalg.matrix_rank(trial) > len(kept):
            kept.append(col)
            kept_names.append(name)
    return kept, kept_names


def _patterns(c: np.ndarray, m: np.ndarray, y: np.ndarray, strata: dict[str, np.ndarray]
              ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Collapse participants to covariate patterns (context, mechanism, strata): one row each
    with its codes, and the events and trials per row."""
    codes = np.column_stack([c.astype(np.int64), m.astype(np.int64),
                             *(np.asarray(v, dtype=np.int64) for v in strata.values())])
    uniq, inverse = np.unique(codes, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    n = np.bincount(inverse, minlength=len(uniq)).astype(float)
    k = np.bincount(inverse, weights=y.astype(float), minlength=len(uniq))
    return pd.DataFrame(uniq, columns=["c", "m", *strata]), k, n


def _stratum_dummies(codes: pd.Series, name: str) -> tuple[list[np.ndarray], list[str]]:
    levels = sorted(codes.unique())
    return ([(codes == lv).to_numpy(float) for lv in levels[1:]],
            [f"{name}[{lv}]" for lv in levels[1:]])


def _fit_model(y: np.ndarray, c: np.ndarray, m: np.ndarray, clusters: np.ndarray | None,
               cells: pd.DataFrame, strata: dict[str, np.ndarray] | None = None) -> ModelFit:
    """Firth logistic model outcome ~ context + mechanism in/outside the context + fixed
    effects for the ``strata`` (delprojekt, target group), with penalised likelihood-ratio
    tests and, with enough delprojekter, CR2 cluster-robust t tests; never raises."""
    from scipy import stats

    strata = dict(strata or {})
    n_clusters = 0 if clusters is None else int(len(pd.unique(clusters)))
    fit = ModelFit(ok=False, n_clusters=n_clusters, adjusted_for=list(strata))
    if (cells["n"] == 0).any():
        return fit._fail("en tom celle", "an empty cell")
    cl_codes = (np.zeros(len(y), int) if clusters is None
                else pd.factorize(pd.Series(clusters))[0])
    pat, k, n = _patterns(c, m, y, {**strata, "_cluster": cl_codes})
    one = np.ones(len(pat))
    pc, pm = pat["c"].to_numpy(float), pat["m"].to_numpy(float)
    base, names = [one, pc], ["intercept", "context"]
    for name in strata:
        cols, labels = _stratum_dummies(pat[name], name)
        base += cols
        names += labels
    base, names = _independent_columns(base, names, 1)
    m_out, m_in = pm * (1 - pc), pm * pc
    X_full = np.column_stack([*base, m_out, m_in])
    if np.linalg.matrix_rank(X_full) < X_full.shape[1]:
        return fit._fail("mekanismen kan ikke skilles fra delprojekt og målgruppe",
                         "the mechanism cannot be told apart from sub-project and target group")
    p = X_full.shape[1]
    # the null models as restrictions of the full one: no association in the context
    # (β_in = 0), and the same association in and outside the context (β_in = β_out)
    no_in = np.eye(p)[:, : p - 1]
    same = np.eye(p)[:, : p - 1].copy()
    same[p - 1, p - 2] = 1.0
    try:
        with np.errstate(all="ignore"):
            full = _firth_fit(X_full, k, n)
            null_int = _firth_fit(X_full, k, n, same)
            null_in = _firth_fit(X_full, k, n, no_in)
    except (np.linalg.LinAlgError, ValueError, FloatingPointError) as exc:
        return fit._fail(f"fejl i estimationen ({type(exc).__name__}: {exc})",
                         f"estimation failed ({type(exc).__name__}: {exc})")
    if not (full.converged and null_int.converged and null_in.converged):
        return fit._fail("modellen konvergerede ikke", "the model did not converge")
    if not (np.all(np.isfinite(full.beta)) and np.all(np.isfinite(full.cov))):
        return fit._fail("ikke-endelige estimater eller standardfejl",
                         "non-finite estimates or standard errors")
    i_out, i_in = p - 2, p - 1
    robust = n_clusters >= MIN_CLUSTERS_CR2
    V_cr2 = _cr2_cov(X_full, k, n, full, pat["_cluster"].to_numpy()) if robust else None
    bm = _bm_df(X_full, n, full, pat["_cluster"].to_numpy()) if robust else None
    tests: dict[str, tuple[float, float]] = {}

    def plr(null: FirthFit) -> float:
        return float(stats.chi2.sf(max(0.0, 2 * (full.loglik - null.loglik)), 1))

    def estimate(grad: np.ndarray, value: float, p_model: float, transform: Any = None,
                 name: str | None = None) -> Estimate:
        """The wider of the model-based (normal) and the CR2 (t, Bell–McCaffrey df) interval;
        the p is the larger of the model's and the CR2 test's."""
        se = math.sqrt(max(float(grad @ full.cov @ grad), 0.0))
        lo, hi, p_out = value - 1.959964 * se, value + 1.959964 * se, p_model
        if V_cr2 is not None and bm is not None:
            se_r = math.sqrt(max(float(grad @ V_cr2 @ grad), 0.0))
            df = bm(grad)
            df = float(min(df, n_clusters - 1)) if np.isfinite(df) and df > 0 else \
                float(n_clusters - 1)
            t_crit = float(stats.t.ppf(0.975, df))
            lo, hi = min(lo, value - t_crit * se_r), max(hi, value + t_crit * se_r)
            p_r = (float(2 * stats.t.sf(abs(value) / se_r, df)) if se_r > 0 else 1.0)
            p_out = max(p_model, p_r) if np.isfinite(p_model) else p_r
            if name:
                tests[name] = (p_r, df)
        f = transform or (lambda x: x)
        return Estimate(float(f(value)), float(f(lo)), float(f(hi)), float(p_out),
                        "firth-" + ("cr2" if V_cr2 is not None else "model"))

    def contrast(*pairs: tuple[int, float]) -> np.ndarray:
        g = np.zeros(p)
        for i, v in pairs:
            g[i] += v
        return g

    b = full.beta
    g_in, g_out, g_int = contrast((i_in, 1)), contrast((i_out, 1)), contrast((i_in, 1),
                                                                               (i_out, -1))
    fit.p_model_in, fit.p_model_interaction = plr(null_in), plr(null_int)
    fit.or_mechanism_in_context = estimate(g_in, b[i_in], fit.p_model_in, np.exp, "in")
    fit.or_mechanism_outside = estimate(g_out, b[i_out], math.nan, np.exp)
    fit.or_interaction = estimate(g_int, b[i_in] - b[i_out], fit.p_model_interaction, np.exp,
                                  "interaction")
    # marginal (standardised) risk differences: each participant's probability with and
    # without the mechanism, averaged over those inside (outside) the context
    rd = {}
    for key, inside, col in (("in", 1.0, i_in), ("out", 0.0, i_out)):
        rows = pc == inside
        X1, X0 = X_full[rows].copy(), X_full[rows].copy()
        X1[:, [i_out, i_in]] = 0.0
        X0[:, [i_out, i_in]] = 0.0
        X1[:, col] = 1.0
        p1, p0 = 1 / (1 + np.exp(-(X1 @ b))), 1 / (1 + np.exp(-(X0 @ b)))
        wts = n[rows] / n[rows].sum()
        rd[key] = (float(wts @ (p1 - p0)),
                   (X1 * (wts * p1 * (1 - p1))[:, None]).sum(0)
                   - (X0 * (wts * p0 * (1 - p0))[:, None]).sum(0))
    fit.rd_in = estimate(rd["in"][1], rd["in"][0], math.nan)
    fit.rd_out = estimate(rd["out"][1], rd["out"][0], math.nan)
    fit.rd_did = estimate(rd["in"][1] - rd["out"][1], rd["in"][0] - rd["out"][0], math.nan)
    if "in" in tests:
        fit.p_cluster_in, fit.df_cluster_in = tests["in"]
        fit.p_cluster_interaction, fit.df_cluster_interaction = tests["interaction"]
    fit.ok, fit.cov_type = True, ("CR2" if robust else "model")
    fit.params = dict(zip([*names, "mechanism_outside", "mechanism_in_context"],
                          b.tolist(), strict=True))
    fit.bse = dict(zip(fit.params, np.sqrt(np.diag(full.cov)).tolist(), strict=True))
    return fit


def _firth_fit(X: np.ndarray, k: np.ndarray, n: np.ndarray,
               restrict: np.ndarray | None = None) -> FirthFit:
    """``firth_logit``, the seam the tests use to make a fit fail."""
    return firth_logit(X, k, n, restrict)


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
    missing are left out and counted (``n_active``, ``n_missing``).
    The model adjusts for delprojekt and target group; with at least ``MIN_CLUSTERS_CR2``
    delprojekter its main test must also pass the CR2 cluster check (t with Bell–McCaffrey df,
    ``model.cov_type`` "CR2", ``p_cluster``), otherwise the penalised likelihood-ratio test
    stands alone ("model").
    """
    result = _evaluate(participants, _hypothesis(hyp, cfg), cfg, unit)
    _decide(result, math.nan if _judged_too_few(result) else result.p, "none", alpha)
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
    model = _fit_model(y, c, m, clusters, cells, _strata(df, keep, hyp))
    p_mech = model.p_model_in if model.ok else math.nan
    p_int = model.p_model_interaction if model.ok else math.nan
    primary = "interaction" if hyp.expected == "stronger_in_context" else "mechanism_in_context"
    p_cluster = model.p_cluster_interaction if primary == "interaction" else model.p_cluster_in
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
        p_interaction=p_int, p_cluster=p_cluster, hidden=hidden,
    )
    _add_notes(result)
    return result


def _strata(df: pd.DataFrame, keep: np.ndarray, hyp: Hypothesis) -> dict[str, np.ndarray]:
    """What the model adjusts for: delprojekt and target group as fixed effects, each when the
    scope has more than one and the context is not defined by it."""
    named = expression_names(hyp.context)
    out = {}
    for col in ("delprojekt", "target_group"):
        if col in df.columns and col not in named:
            codes = df[col].astype("string").fillna("(ukendt)").to_numpy()[keep]
            if len(pd.unique(codes)) > 1:
                out[col] = pd.factorize(pd.Series(codes), sort=True)[0]
    return out


def _active(df: pd.DataFrame, cfg: ProjectConfig, outcome: pd.Series) -> pd.Series:
    """Participants still active: by outcome code, else outcome_group, else an NA outcome."""
    if "outcome" in df.columns:
        group = df["outcome"].astype("string").map(cfg.group_of())
    elif "outcome_group" in df.columns:
        group = df["outcome_group"].astype("string")
    else:  # the clean table's convention: goal_met is NA while a young person is active
        return outcome.isna().astype(bool)
    return group.eq("active").fillna(False).astype(bool)


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
        out.append(f"{r.model.se_text(lang)}.")
    else:
        out.append(f"Den logistiske model blev ikke estimeret: {r.model.problem}." if da else
                   f"The logistic model was not estimated: {r.model.problem_en}.")
    return out


def _width(x: float) -> str:
    return f"{100 * x:.0f}" if np.isfinite(x) else "–"


def _small_cells(r: HypothesisResult) -> pd.DataFrame:
    """The cells with fewer than ``min_cell`` with, or fewer than ``min_cell`` without, the
    outcome: no verdict but 'for få data' may rest on them."""
    k, n = r.cells["k"], r.cells["n"]
    return r.cells[(k < r.min_cell) | (n - k < r.min_cell)]


def _judged_too_few(r: HypothesisResult) -> bool:
    """Whether rule 1 decides the hypothesis (a small cell or no model)."""
    return bool(len(_small_cells(r)) or not r.model.ok)


def _decide(r: HypothesisResult, p_adj: float, method: str, alpha: float) -> None:
    """Set verdict_code and the rule sentences by the rules in VERDICT_RULES_DA: ``rule_da`` /
    ``rule_en`` with every figure, ``reader_rule_da`` / ``reader_rule_en`` without the figures
    that would reveal a cell the reader tables hide."""
    r.p_adj, r.p_adjust, r.alpha = p_adj, method, alpha
    sign = -1.0 if r.expected == "negative" else 1.0
    why: dict[str, Any] = {}
    m = r.model
    if len(_small_cells(r)):
        r.verdict_code, why["rule"] = "too_few_data", "small"
    elif not m.ok:
        r.verdict_code, why["rule"] = "too_few_data", "model"
    else:
        def points(est: Estimate, log: bool = False) -> bool:
            value = math.log(est.estimate) if log else est.estimate
            return bool(np.isfinite(value) and sign * value > 0)

        in_dir = points(m.rd_in) and points(m.or_mechanism_in_context, log=True)
        in_clear = bool(in_dir and (m.rd_in.ci_low > 0 if sign > 0 else m.rd_in.ci_high < 0))
        if r.primary_test == "interaction":
            main_dir = points(m.or_interaction, log=True) and points(m.rd_did)
            need_in = in_dir
        else:
            main_dir, need_in = in_dir, True
        nominal = bool(np.isfinite(r.p) and r.p < alpha)
        adjusted = bool(np.isfinite(p_adj) and p_adj < alpha)
        # the cluster check guards against a finding carried by a few delprojekter: without
        # CR2 (too few delprojekter) there is none to pass
        cluster_ok = m.cov_type != "CR2" or bool(np.isfinite(r.p_cluster)
                                                 and r.p_cluster < alpha)
        in_cluster_ok = m.cov_type != "CR2" or bool(np.isfinite(m.p_cluster_in)
                                                    and m.p_cluster_in < alpha)
        why.update(main_dir=main_dir, in_dir=in_dir, in_clear=in_clear, nominal=nominal,
                   adjusted=adjusted, cluster_ok=cluster_ok,
                   in_alone=bool(in_dir and np.isfinite(r.p_mechanism_in_context)
                                 and r.p_mechanism_in_context < alpha and in_cluster_ok))
        strong_enough = in_clear if r.primary_test == "interaction" else True
        if main_dir and need_in and adjusted and cluster_ok and strong_enough:
            r.verdict_code, why["rule"] = "supported", 2
        elif main_dir and need_in and nominal and cluster_ok:
            r.verdict_code, why["rule"] = "partly_supported", 3
        else:
            r.verdict_code, why["rule"] = "not_supported", 4
    hidden = reader_hidden(r)
    r.rule_da, r.rule_en = _rule(r, why, "da"), _rule(r, why, "en")
    r.reader_rule_da, r.reader_rule_en = _rule(r, why, "da", hidden), _rule(r, why, "en", hidden)


def _ci_text(est: Estimate, lang: str) -> str:
    """'+30 procentpoint (95 %-CI +12 til +45)' / '… points (95 % CI +12 to +45)'."""
    if lang == "da":
        return (f"{_pp(est.estimate)} procentpoint (95 %-CI {_pp(est.ci_low)} til "
                f"{_pp(est.ci_high)})")
    return (f"{_pp(est.estimate)} percentage points (95 % CI {_pp(est.ci_low)} to "
            f"{_pp(est.ci_high)})")


def _rule(r: HypothesisResult, why: dict[str, Any], lang: str,
          hidden: dict[str, bool] | None = None) -> str:
    """The sentence naming the rule that decided the verdict, with its figures. With ``hidden``
    (the reader version) the model's figures (odds ratios, adjusted differences) are left out
    when any cell is hidden, since the model uses every cell; small cells are not named."""
    da = lang == "da"
    k = r.min_cell
    hide = hidden is not None and any(hidden.values())
    if why["rule"] == "small":
        if hidden is not None:
            where = ("mindst én af de fire grupper" if da else "at least one of the four groups")
        else:
            where = "; ".join(
                (f"{CELL_TEXT[lang][c]}: n = {n}, {kk} med udfaldet" if da else
                 f"{CELL_TEXT[lang][c]}: n = {n}, {kk} with the outcome")
                for c, n, kk in zip(*(_small_cells(r)[col] for col in ("cell", "n", "k")),
                                    strict=True))
        return (f"Regel 1: for få data, fordi en gruppe har færre end {k} med eller uden "
                f"udfaldet (diskretionsgrænsen på {k}; {where}), og en dom ville hvile på den."
                if da else
                f"Rule 1: too few data, because a group has fewer than {k} with or without the "
                f"outcome (the disclosure threshold of {k}; {where}), and a verdict would rest "
                "on it.")
    if why["rule"] == "model":
        return (f"Regel 1: for få data, fordi modellen ikke kunne estimeres: {r.model.problem}."
                if da else f"Rule 1: too few data, because the model could not be estimated: "
                f"{r.model.problem_en}.")
    m, alpha = r.model, r.alpha
    a = f"{alpha:g}".replace(".", ",") if da else f"{alpha:g}"
    p_raw = f"p {_p(r.p, lang)}"
    p_adj = ("" if r.p_adjust == "none" else
             f"{r.p_adjust}-{'justeret' if da else 'adjusted'} p {_p(r.p_adj, lang)}")
    tests = f"{p_raw}, {p_adj}" if p_adj else p_raw
    cluster = ""
    if m.cov_type == "CR2":
        df = m.df_cluster_interaction if r.primary_test == "interaction" else m.df_cluster_in
        dft = f"{df:.1f}".replace(".", ",") if da else f"{df:.1f}"
        cluster = (f"klyngetjekket (CR2-t-test, {dft} frihedsgrader) p {_p(r.p_cluster, lang)}"
                   if da else f"the cluster check (CR2 t test, {dft} degrees of freedom) p "
                   f"{_p(r.p_cluster, lang)}")
        tests = f"{tests}; {cluster}"
    rd_in = ("" if hide else
             (f" (justeret {_ci_text(m.rd_in, lang)})" if da else
              f" (adjusted {_ci_text(m.rd_in, lang)})"))
    if r.primary_test == "interaction":
        figures = "" if hide else (
            f" (OR {_or(m.or_interaction, lang)}; justeret forskel i forskellene "
            f"{_ci_text(m.rd_did, lang)})" if da else
            f" (OR {_or(m.or_interaction, lang)}; adjusted difference in differences "
            f"{_ci_text(m.rd_did, lang)})")
        main = f"samspillet{figures}" if da else f"the interaction{figures}"
    else:
        figures = "" if hide else (
            f" (OR {_or(m.or_mechanism_in_context, lang)}; justeret forskel "
            f"{_ci_text(m.rd_in, lang)})" if da else
            f" (OR {_or(m.or_mechanism_in_context, lang)}; adjusted difference "
            f"{_ci_text(m.rd_in, lang)})")
        main = (f"mekanismens sammenhæng i konteksten{figures}" if da else
                f"the mechanism's association in the context{figures}")
    in_ctx = "forskellen i konteksten" if da else "the difference in the context"
    rule = why["rule"]
    if rule == 2:
        text = (f"Regel 2: støttet, fordi {main} går i den forventede retning med {tests}, "
                f"under {a}" if da else
                f"Rule 2: supported, because {main} points the expected way with {tests}, "
                f"below {a}")
        if r.primary_test == "interaction":
            text += (f", og {in_ctx}{rd_in} går i den forventede retning med et interval, der "
                     "udelukker 0." if da else
                     f", and {in_ctx}{rd_in} points the expected way with an interval that "
                     "excludes 0.")
        else:
            text += "."
    elif rule == 3:
        if not why["adjusted"]:
            short = (f"efter justering for flere hypoteser er den ikke under {a}" if da else
                     f"after adjustment for multiple hypotheses it is not below {a}")
        else:
            short = ("intervallet for forskellen i konteksten omfatter 0" if da else
                     "the interval of the difference in the context includes 0")
        extra = ("" if r.primary_test != "interaction" else
                 (f", og {in_ctx}{rd_in} gør det også" if da else
                  f", and so does {in_ctx}{rd_in}"))
        text = (f"Regel 3: delvist støttet, fordi {main} går i den forventede retning med "
                f"{tests}{extra}; ujusteret er p under {a}, men {short}, så kravet i regel 2 "
                "er ikke opfyldt." if da else
                f"Rule 3: partly supported, because {main} points the expected way with "
                f"{tests}{extra}; unadjusted p is below {a}, but {short}, so rule 2 is not met.")
    elif not why["main_dir"]:
        both = (" både som odds ratio og som forskel i forskellene" if da else
                " both as an odds ratio and as a difference in differences"
                ) if r.primary_test == "interaction" else ""
        text = (f"Regel 4: ikke støttet, fordi {main} ikke går i den forventede retning{both} "
                f"({tests})." if da else
                f"Rule 4: not supported, because {main} does not point the expected way{both} "
                f"({tests}).")
    elif why["nominal"] and not why["cluster_ok"] and (
            r.primary_test != "interaction" or why["in_dir"]):
        text = (f"Regel 4: ikke støttet, fordi {main} går i den forventede retning med {p_raw}, "
                f"men ikke holder i {cluster}, ikke under {a}: sammenhængen kan bæres af få "
                "delprojekter." if da else
                f"Rule 4: not supported, because {main} points the expected way with {p_raw}, "
                f"but does not hold in {cluster}, not below {a}: the association may be carried "
                "by a few sub-projects.")
    elif r.primary_test == "interaction" and not why["in_dir"]:
        text = (f"Regel 4: ikke støttet, fordi {in_ctx}{rd_in} ikke går i den forventede "
                f"retning, selv om {main} gør ({tests})." if da else
                f"Rule 4: not supported, because {in_ctx}{rd_in} does not point the expected "
                f"way, though {main} does ({tests}).")
    else:
        text = (f"Regel 4: ikke støttet, fordi {main} går i den forventede retning, men {p_raw} "
                f"er ikke under {a}." if da else
                f"Rule 4: not supported, because {main} points the expected way, but {p_raw} "
                f"is not below {a}.")
        if r.primary_test == "interaction" and why["in_alone"]:
            p_in = _p(r.p_mechanism_in_context, lang)
            text += (f" Mekanismen hænger sammen med udfaldet i konteksten{rd_in} (p {p_in}), "
                     "men ikke tydeligt stærkere end uden for konteksten." if da else
                     f" The mechanism goes with the outcome in the context{rd_in} (p {p_in}), "
                     "but not clearly more strongly than outside the context.")
    if hide:
        text += (f" Nogle tal bag dommen (modellens) vises ikke, fordi en gruppe har færre end "
                 f"{k} med eller uden udfaldet." if da else
                 f" Some figures behind the verdict (the model's) are not shown, because a group "
                 f"has fewer than {k} with or without the outcome.")
    return text


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
    if method == "holm" and ok.any():  # step-down, as multipletests (which is slow to call)
        q = p[ok]
        order = np.argsort(q, kind="stable")
        steps = (len(q) - np.arange(len(q))) * q[order]
        adj = np.empty_like(q)
        adj[order] = np.minimum(1.0, np.maximum.accumulate(steps))
        out[ok] = adj
    elif method != "none" and ok.any():
        from statsmodels.stats.multitest import multipletests

        out[ok] = multipletests(p[ok], method=method)[1]
    return out.tolist()


def evaluate_hypotheses(participants: pd.DataFrame, cfg: ProjectConfig, unit: str = "all",
                        p_adjust: str = "holm", alpha: float = 0.05, lang: str = "da",
                        project_wide: bool = True,
                        plan: dict[str, Any] | None = None) -> CMOTable:
    """Test every hypothesis of a unit, adjust p-values across them and give verdicts.

    For unit="all" every hypothesis is tested (one limited to some delprojekter on their
    participants); for a delprojekt, participants are that delprojekt's and the hypotheses those
    for "all" or naming it. The main-test p-values of all the unit's hypotheses
    form the family that is adjusted (``p_adjust``: holm, bonferroni, fdr_bh, …, or none); a
    hypothesis judged 'for få data' stays in the family with p = 1. A delprojekt's table is a
    secondary analysis (its own family, few participants, no clustering).
    Give the whole project's table (the unit is picked here): with ``project_wide`` the cells
    readers may not see follow :func:`cmo_plan` across all units.
    """
    check_lang(lang)
    if p_adjust not in P_ADJUST_METHODS:
        raise UserError(f"p_adjust must be one of {', '.join(P_ADJUST_METHODS)}, "
                        f"not {p_adjust!r}")
    # which cells readers may not see is decided for all units together when the table holds
    # the whole project (a delprojekt's cell must not follow from the project's)
    # ``plan``: the unit's CMO masks from the disclosure step (``disclosure.load_masks``)
    if plan is None:
        plan = cmo_plan(participants, cfg).get(unit, {}) if project_wide else {}
    results = [_evaluate(participants, h, cfg, unit, plan.get(h.id))
               for h in hypotheses_for_unit(cfg, unit)]
    # the family is every pre-specified hypothesis of the unit: one judged 'for få data' (or
    # whose model fails) counts with p = 1 rather than dropping out
    family = [r.p if np.isfinite(r.p) and not _judged_too_few(r) else 1.0 for r in results]
    adjusted = adjust_pvalues(family, p_adjust)
    for r, p_adj in zip(results, adjusted, strict=True):
        _decide(r, math.nan if _judged_too_few(r) else p_adj, p_adjust, alpha)
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
    if quotes.empty and not len(quotes.columns):  # no quotes at all (none delivered): no voices
        quotes = pd.DataFrame(columns=["quote_id", "hypothesis_id", "source_type", "text"])
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
    "ASSOCIATION_NOTE", "CMOTable", "Estimate", "FirthFit", "HypothesisResult", "ModelFit",
    "SECONDARY_NOTE", "firth_logit",
    "VERDICTS", "VERDICT_RULES_DA", "VERDICT_RULES_EN", "verdict_rules", "adjust_pvalues",
    "choose_quotes", "evaluate_expression", "evaluate_hypotheses", "evaluate_hypothesis",
    "expression_names", "hidden_cells", "margins_needed", "cmo_plan", "reader_hidden",
    "hypotheses_for_unit", "joint_display", "subgroup_matrix", "subgroup_pivot",
    "unlinked_quotes",
]
