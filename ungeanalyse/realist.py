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
likelihood-ratio p-values across all of them and gives each a verdict code by the verdict rules
(worded in the catalogue, ``cmo.rules``) with the decision behind it as codes;
``bench/calibrate_verdicts.py`` measures how often the rules give support under null data and
how often they find planted effects. The results hold numbers and codes and round-trip through
JSON (``to_dict`` / ``from_dict``); :mod:`ungeanalyse.reader.cmo` words them.

The project has no comparison group, so every figure is an *association* (sammenhæng), never an
effect (virkning): young people who received a mechanism may differ from those who did not.

``subgroups`` gives outcome rates by context category × mechanism for the heatmaps (each
category marked where it holds the same young people as a hypothesis' context), and
``joint_display`` puts each hypothesis' figures and verdict beside coded quotes.

Counts are raw; which cells readers may not see is the disclosure step's (``cmo_plan``, stored
as the unit's masks) and the reader applies it; the verdict rules respect the threshold.
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
from .disclosure.cmo import cmo_plan, hidden_cells, margins_needed
from .errors import UserError
from .outcomes import (
    DIMENSION_LABELS,
    Rate,
    category_labels,
    check_lang,
    jsonable,
    number_back,
    select_unit,
)

VERDICT_CODES = ("supported", "partly_supported", "not_supported", "too_few_data")
"""The verdicts a hypothesis can get; the reader words them (catalogue ``cmo.verdict``)."""

SMALL_N = 30
"""Cells below this size get an explicit 'usikkert' (uncertain) note."""

P_ADJUST_METHODS = ("holm", "bonferroni", "fdr_bh", "hommel", "sidak", "holm-sidak", "none")

CELLS = (("in_yes", True, True), ("in_no", True, False), ("out_yes", False, True),
         ("out_no", False, False))
"""The four cells: key, inside the context, mechanism present."""


def verdict_rules(lang: str = "da", min_cell: int = 5) -> str:
    """The verdict rules as a reader sees them (``reader.cmo.verdict_rules``)."""
    from .reader.cmo import verdict_rules as rules

    return rules(lang, min_cell)


# -- expressions -------------------------------------------------------------------------------


def expression_names(expr: str) -> set[str]:
    """Column names an expression refers to (function names in calls are not columns)."""
    tree = ast.parse(expr.strip(), mode="eval")
    funcs = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {node.id for node in ast.walk(tree)
            if isinstance(node, ast.Name) and id(node) not in funcs}


_ROW_NODES = (ast.Expression, ast.Name, ast.Constant, ast.Compare, ast.BoolOp, ast.UnaryOp,
              ast.BinOp, ast.List, ast.Tuple, ast.Load, ast.cmpop, ast.boolop, ast.unaryop,
              ast.operator)


def is_rowwise(expr: str) -> bool:
    """Whether an expression's value in a row depends on that row alone (columns, constants,
    comparisons, arithmetic, and/or/not; no calls or attributes such as ``x.mean()``), so that
    it may be evaluated once on the whole project and read per unit."""
    try:
        return all(isinstance(node, _ROW_NODES)
                   for node in ast.walk(ast.parse(expr.strip(), mode="eval")))
    except SyntaxError:
        return False


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

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Estimate:
        """The estimate again from ``to_dict`` (None/missing values as NaN)."""
        d = d or {}
        return cls(*(number_back(d.get(k)) for k in ("estimate", "ci_low", "ci_high", "p")),
                   method=d.get("method") or "")


NAN_ESTIMATE = Estimate(math.nan, math.nan, math.nan)


MODEL_PROBLEMS = ("empty_cell", "confounded", "error", "not_converged", "not_finite")
"""Why a model could not be estimated (``ModelFit.problem``; the reader words the code)."""


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
    ``problem`` is a code of ``MODEL_PROBLEMS`` when the model failed (``problem_detail``: the
    error's own text).
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
    problem_detail: str | None = None

    def se_text(self, lang: str = "da") -> str:
        """Which model and tests were used, in words (``reader.cmo.method_text``)."""
        from .reader.cmo import method_text

        return method_text(self, lang)

    def _fail(self, problem: str, detail: str | None = None) -> ModelFit:
        self.ok, self.problem, self.problem_detail = False, problem, detail
        return self

    _ESTIMATES = ("or_mechanism_in_context", "or_mechanism_outside", "or_interaction", "rd_in",
                  "rd_out", "rd_did")
    _NUMBERS = ("p_model_in", "p_model_interaction", "p_cluster_in", "p_cluster_interaction",
                "df_cluster_in", "df_cluster_interaction")

    def to_dict(self) -> dict[str, Any]:
        """The model's key figures as JSON-serialisable values."""
        return jsonable({
            "ok": self.ok, "cov_type": self.cov_type, "n_clusters": self.n_clusters,
            "adjusted_for": self.adjusted_for, "params": self.params, "bse": self.bse,
            **{k: getattr(self, k).to_dict() for k in self._ESTIMATES},
            **{k: getattr(self, k) for k in self._NUMBERS},
            "problem": self.problem, "problem_detail": self.problem_detail,
        })

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelFit:
        """The model again from ``to_dict``."""
        return cls(ok=bool(d["ok"]), cov_type=d.get("cov_type"),
                   n_clusters=int(d.get("n_clusters") or 0),
                   adjusted_for=list(d.get("adjusted_for") or []),
                   params={k: number_back(v) for k, v in (d.get("params") or {}).items()},
                   bse={k: number_back(v) for k, v in (d.get("bse") or {}).items()},
                   **{k: Estimate.from_dict(d.get(k)) for k in cls._ESTIMATES},
                   **{k: number_back(d.get(k)) for k in cls._NUMBERS},
                   problem=d.get("problem"), problem_detail=d.get("problem_detail"))


@dataclass
class HypothesisResult:
    """One CMO hypothesis tested on one unit: cells, differences, model, p-values and verdict.

    ``cells`` has one row per cell (cell, context, mechanism, n, k, rate, ci_low, ci_high,
    ci_width) in the order in_yes, in_no, out_yes, out_no. ``diff_in`` / ``diff_out`` are rate
    differences (mechanism yes − no) inside / outside the context, ``did`` their difference.
    ``p`` is the main test's penalised likelihood-ratio p-value (``primary_test``), ``p_adj``
    the same adjusted across the table's hypotheses (equal to ``p`` for a single hypothesis),
    ``p_cluster`` the main test's CR2 cluster check (NaN with fewer than ``MIN_CLUSTERS_CR2``
    delprojekter), which must be under alpha, unadjusted, for any support. ``verdict_code``
    and ``decision`` (which rule decided, and the tests behind it) are codes: the reader
    (:mod:`ungeanalyse.reader.cmo`) words them; ``verdict``, ``rule`` and ``notes()`` are its
    researcher's versions, with every figure.
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
    decision: dict[str, Any] = field(default_factory=dict)
    context_label_en: str | None = None
    mechanism_label_en: str | None = None
    outcome_label_en: str | None = None

    def tr(self, part: str, lang: str = "da") -> str:
        """title, context_label, mechanism_label or outcome_label in the report language (the
        Danish text when the config gives no English one)."""
        return getattr(self, f"{part}_{lang}", None) or getattr(self, part)

    @property
    def verdict(self) -> str:
        """The verdict in Danish: støttet, delvist støttet, ikke støttet or for få data."""
        from .reader.cmo import verdict

        return verdict(self.verdict_code, "da")

    @property
    def verdict_en(self) -> str:
        """The verdict in English."""
        from .reader.cmo import verdict

        return verdict(self.verdict_code, "en")

    @property
    def rule(self) -> str:
        """The Danish sentence saying which rule decided the verdict, with every figure (the
        researcher's version; a report uses ``reader.cmo.rule_text`` with the masks)."""
        from .reader.cmo import rule_text

        return rule_text(self, "da")

    @property
    def rule_en(self) -> str:
        """The same in English."""
        from .reader.cmo import rule_text

        return rule_text(self, "en")

    def cell(self, key: str) -> Rate:
        """The outcome rate of one cell: in_yes, in_no, out_yes or out_no."""
        row = self.cells.set_index("cell").loc[key]
        return Rate(int(row["k"]), int(row["n"]), float(row["rate"]), float(row["ci_low"]),
                    float(row["ci_high"]))

    def notes(self, lang: str = "da") -> list[str]:
        """Notes on small cells, interval widths, exclusions and the model, with every figure
        (the researcher's version)."""
        from .reader.cmo import notes

        return notes(self, check_lang(lang))

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
            "verdict_code": self.verdict_code, "rule": self.rule, "rule_en": self.rule_en,
        })
        return out

    def summary(self, lang: str = "da") -> str:
        """A readable account: cells, differences, model, verdict, rule and notes."""
        from .reader.cmo import summary

        return summary(self, check_lang(lang))

    def __str__(self) -> str:
        return self.summary("da")

    _LABELS = ("title", "title_en", "context", "context_label", "mechanism", "mechanism_label",
               "outcome", "outcome_label", "context_label_en", "mechanism_label_en",
               "outcome_label_en", "expected", "unit", "primary_test", "p_adjust",
               "verdict_code")
    _COUNTS = ("min_cell", "n_in_scope", "n_active", "n_missing", "n")
    _FLOATS = ("p", "p_mechanism_in_context", "p_interaction", "p_adj", "p_cluster", "alpha")

    def to_dict(self) -> dict[str, Any]:
        """Key figures, the verdict code and the decision as JSON-serialisable values (no
        words: :meth:`from_dict` rebuilds the result for the reader)."""
        return jsonable({
            "id": self.id, **{k: getattr(self, k) for k in self._LABELS},
            **{k: getattr(self, k) for k in self._COUNTS},
            **{k: getattr(self, k) for k in self._FLOATS},
            "cells": self.cells, "diff_in": self.diff_in.to_dict(),
            "diff_out": self.diff_out.to_dict(), "did": self.did.to_dict(),
            "model": self.model.to_dict(), "decision": self.decision,
        })

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HypothesisResult:
        """The result again from ``to_dict`` (a saved ``cmo.json``)."""
        cells = pd.DataFrame(d["cells"])
        for col in ("n", "k"):
            cells[col] = cells[col].astype(int)
        for col in ("rate", "ci_low", "ci_high", "ci_width"):
            cells[col] = cells[col].astype(float)
        return cls(id=d["id"], **{k: d.get(k) for k in cls._LABELS},
                   **{k: int(d[k]) for k in cls._COUNTS},
                   **{k: number_back(d.get(k)) for k in cls._FLOATS},
                   cells=cells, diff_in=Estimate.from_dict(d["diff_in"]),
                   diff_out=Estimate.from_dict(d["diff_out"]), did=Estimate.from_dict(d["did"]),
                   model=ModelFit.from_dict(d["model"]), decision=dict(d.get("decision") or {}))


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

    def table(self, lang: str | None = None) -> pd.DataFrame:
        """A compact table with report labels, rates and differences in percent, every figure
        (the researcher's; a report uses ``reader.cmo.table`` with the masks)."""
        from .reader.cmo import research_table

        return research_table(self, check_lang(lang or self.lang))

    def summary(self, lang: str | None = None) -> str:
        """One paragraph per hypothesis, the association caveat and the adjustment method."""
        from .reader.cmo import table_summary

        return table_summary(self, check_lang(lang or self.lang))

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Every result's key figures and codes, as JSON-serialisable values."""
        return jsonable({"unit": self.unit, "p_adjust": self.p_adjust, "alpha": self.alpha,
                         "hypotheses": [r.to_dict() for r in self.results]})

    @classmethod
    def from_dict(cls, d: dict[str, Any], lang: str = "da") -> CMOTable:
        """The table again from ``to_dict`` (a saved ``cmo.json``), as the evaluation text
        reads it."""
        results = [HypothesisResult.from_dict(h) for h in d.get("hypotheses", [])]
        frame = pd.DataFrame([r.row() for r in results])
        return cls(unit=d["unit"], results=results, frame=frame, p_adjust=d["p_adjust"],
                   alpha=float(d["alpha"]), lang=lang)


# -- the computation ---------------------------------------------------------------------------


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
    tests and, with enough delprojekter, CR2 cluster-robust t tests; never raises. Long
    because the fits, the tests and the marginal contrasts share one design matrix and its
    null restrictions (split up, each part would need all of them passed in)."""
    from scipy import stats

    strata = dict(strata or {})
    n_clusters = 0 if clusters is None else int(len(pd.unique(clusters)))
    fit = ModelFit(ok=False, n_clusters=n_clusters, adjusted_for=list(strata))
    if (cells["n"] == 0).any():
        return fit._fail("empty_cell")
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
        return fit._fail("confounded")
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
        return fit._fail("error", f"{type(exc).__name__}: {exc}")
    if not (full.converged and null_int.converged and null_in.converged):
        return fit._fail("not_converged")
    if not (np.all(np.isfinite(full.beta)) and np.all(np.isfinite(full.cov))):
        return fit._fail("not_finite")
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


def _prepared(participants: pd.DataFrame, hyp: Hypothesis, cfg: ProjectConfig, unit: str,
              evaluate: Callable[[pd.DataFrame, str, str, str], pd.Series] = evaluate_expression,
              ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The hypothesis' scope in the unit, which rows count (not active, nothing missing),
    and context, mechanism and outcome of those rows as 0/1, and the number still active.
    ``evaluate`` is :func:`evaluate_expression` or one that gives the same values faster
    (the disclosure plan's, across units)."""
    df = _scope(participants, hyp, cfg, unit)
    owner = f"hypothesis {hyp.id}"
    values = {key: evaluate(df, getattr(hyp, key), owner, key)
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


def _evaluate(participants: pd.DataFrame, hyp: Hypothesis, cfg: ProjectConfig, unit: str
              ) -> HypothesisResult:
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
        p_interaction=p_int, p_cluster=p_cluster,
    )
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




def _small_cells(r: HypothesisResult) -> pd.DataFrame:
    """The cells with fewer than ``min_cell`` with, or fewer than ``min_cell`` without, the
    outcome: no verdict but 'for få data' may rest on them."""
    k, n = r.cells["k"], r.cells["n"]
    return r.cells[(k < r.min_cell) | (n - k < r.min_cell)]


def _judged_too_few(r: HypothesisResult) -> bool:
    """Whether rule 1 decides the hypothesis (a small cell or no model)."""
    return bool(len(_small_cells(r)) or not r.model.ok)


def _decide(r: HypothesisResult, p_adj: float, method: str, alpha: float) -> None:
    """Set verdict_code by the verdict rules (catalogue ``cmo.rules``) and ``decision``: which
    rule decided (1 as 'small' or 'model', 2, 3, 4) and the tests behind it, which the reader
    words (``reader.cmo.rule_text``)."""
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
    r.decision = why


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
                        p_adjust: str = "holm", alpha: float = 0.05, lang: str = "da"
                        ) -> CMOTable:
    """Test every hypothesis of a unit, adjust p-values across them and give verdicts.

    For unit="all" every hypothesis is tested (one limited to some delprojekter on their
    participants); for a delprojekt, participants are that delprojekt's and the hypotheses those
    for "all" or naming it. The main-test p-values of all the unit's hypotheses
    form the family that is adjusted (``p_adjust``: holm, bonferroni, fdr_bh, …, or none); a
    hypothesis judged 'for få data' stays in the family with p = 1. A delprojekt's table is a
    secondary analysis (its own family, few participants, no clustering).
    Give the whole project's table (the unit is picked here). The result holds numbers and
    codes only: which cells readers may not see is the disclosure step's (``cmo_plan``), applied
    by the reader (:mod:`ungeanalyse.reader.cmo`); ``lang`` is only the language its
    ``summary()`` and ``table()`` default to.
    """
    check_lang(lang)
    if p_adjust not in P_ADJUST_METHODS:
        raise UserError(f"p_adjust must be one of {', '.join(P_ADJUST_METHODS)}, "
                        f"not {p_adjust!r}")
    results = [_evaluate(participants, h, cfg, unit) for h in hypotheses_for_unit(cfg, unit)]
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


def context_label(col: str, cfg: ProjectConfig, lang: str) -> str:
    """A context column ('gender', 'challenge_angst', 'element_x') as the report names it."""
    if col in DIMENSION_LABELS[lang]:
        return DIMENSION_LABELS[lang][col]
    for prefix, vocab in (("challenge_", cfg.challenges), ("element_", cfg.elements)):
        if col.startswith(prefix) and col[len(prefix):] in vocab:
            return vocab[col[len(prefix):]].text(lang)
    return col


_context_label = context_label  # the name other modules used before it was public

SUBGROUP_CONTEXTS = ("target_group", "gender", "age_band", "delprojekt", "challenge_*")
"""The contexts a subgroup heatmap shows by default."""

YES_NO_CODES = {True: "ja", False: "nej"}
"""The categories of a yes/no context column (codes; ``ui.yes``/``ui.no`` word them)."""


def _categories(values: pd.Series, cfg: ProjectConfig, col: str
                ) -> tuple[pd.Series, list[tuple[Any, str]]]:
    """A context column's values and its categories (value, code) in report order."""
    if pd.api.types.is_bool_dtype(values.dtype):  # a yes/no column: categories ja/nej
        return values.astype("boolean"), [(True, "ja"), (False, "nej")]
    known = category_labels(cfg, col, "da")
    vals = values.astype("string")
    seen = [str(v) for v in vals.dropna().unique()]
    order = [k for k in known if k in seen] + sorted(v for v in seen if v not in known)
    return vals, [(v, v) for v in order]


def subgroup_counts(participants: pd.DataFrame, cfg: ProjectConfig, mechanism: str,
                    outcome: str = "goal_met",
                    contexts: tuple[str, ...] | list[str] = SUBGROUP_CONTEXTS,
                    unit: str = "all", guards: dict[str, str] | None = None) -> pd.DataFrame:
    """Outcome rate by context category × mechanism yes/no, long and tidy, codes only.

    ``mechanism`` is an element id or an expression; each context is a column (or a pattern
    such as "challenge_*"); yes/no columns get the categories ja/nej. Columns: context,
    category, mechanism, n, n_outcome, rate, ci_low, ci_high, and ``same_in`` / ``same_out``:
    the keys of ``guards`` (name → context expression, e.g. a hypothesis id and its context)
    whose context holds exactly the category's young people (or exactly those outside it), so
    that the category shows the same cells as that context. Active participants and rows with
    a missing value are left out.
    """
    df = select_unit(participants, cfg, unit)
    mech_expr = _mechanism_expression(mechanism, df, cfg)
    mech = evaluate_expression(df, mech_expr, "subgroup_matrix", "mechanism")
    out_v = evaluate_expression(df, outcome, "subgroup_matrix", "outcome")
    keep = ~(mech.isna() | out_v.isna())
    keep &= ~_active(df, cfg, out_v)
    keep_np = keep.to_numpy(dtype=bool)
    m = mech.to_numpy(dtype=bool, na_value=False)[keep_np]
    y = out_v.to_numpy(dtype=bool, na_value=False)[keep_np]
    guarded = []  # (name, in-context membership of the kept rows, where it is NA)
    for name, expr in (guards or {}).items():
        ctx = evaluate_expression(df, expr, "subgroup_matrix", "context")
        guarded.append((name, ctx.to_numpy(dtype=bool, na_value=False)[keep_np],
                        ctx.isna().to_numpy()[keep_np]))
    rows = []
    for col in _context_columns(df, contexts):
        vals, cats = _categories(df[col][keep_np], cfg, col)
        for cat, code in cats:
            in_cat = vals.eq(cat).fillna(False).to_numpy(dtype=bool)
            same_in = [g for g, ctx, na in guarded if np.array_equal(in_cat[~na], ctx[~na])]
            same_out = [g for g, ctx, na in guarded if np.array_equal(in_cat[~na], ~ctx[~na])]
            for has in (True, False):
                sel = in_cat & (m == has)
                r = Rate.of(int(y[sel].sum()), int(sel.sum()))
                rows.append({"context": col, "category": code, "mechanism": has, "n": r.n,
                             "n_outcome": r.k, "rate": r.rate, "ci_low": r.ci_low,
                             "ci_high": r.ci_high, "same_in": same_in, "same_out": same_out})
    out = pd.DataFrame(rows, columns=["context", "category", "mechanism", "n", "n_outcome",
                                      "rate", "ci_low", "ci_high", "same_in", "same_out"])
    out.attrs.update({"mechanism": mech_expr, "outcome": outcome, "unit": unit,
                      "n": int(keep_np.sum()), "n_left_out": int(len(df) - keep_np.sum())})
    return out


def subgroup_suppressed(matrix: pd.DataFrame, min_cell: int,
                        hide: dict[str, tuple[bool, bool]] | None = None) -> pd.Series:
    """Which rates of a subgroup matrix readers may not see: a rate that would reveal a count
    under ``min_cell`` (n, n_outcome or n − n_outcome from 1 to min_cell − 1, as in the CMO
    table), a category that shows the same young people as a guarded context whose cells are
    hidden (``hide``: guard → (in-context cells hidden, outside cells hidden)), then its
    partner with the other mechanism value (the pair adds up to the category's figures in the
    breakdown tables), and then every category of that context (the categories add up to the
    mechanism's totals, so one blank row would follow from its siblings)."""
    from .privacy import rate_hidden

    if matrix.empty:
        return pd.Series(False, index=matrix.index, dtype=bool)
    hide = hide or {}
    same = [any(hide.get(g, (False, False))[0] for g in ins)
            or any(hide.get(g, (False, False))[1] for g in outs)
            for ins, outs in zip(matrix["same_in"], matrix["same_out"], strict=True)]
    n, k = matrix["n"].to_numpy(dtype=float), matrix["n_outcome"].to_numpy(dtype=float)
    small = (n < min_cell) | np.asarray(rate_hidden(k, n, min_cell), dtype=bool)
    out = pd.Series(np.asarray(same, dtype=bool) | small, index=matrix.index)
    out = out.groupby([matrix["context"], matrix["category"]], sort=False).transform("any")
    return out.groupby(matrix["context"], sort=False).transform("any").astype(bool)


def label_subgroups(matrix: pd.DataFrame, cfg: ProjectConfig, lang: str = "da"
                    ) -> pd.DataFrame:
    """A subgroup matrix with its labels in the report language: context_label,
    category_label and mechanism_label (yes / no)."""
    from . import i18n

    check_lang(lang)
    out = matrix.copy()
    known = {col: category_labels(cfg, col, lang) for col in out["context"].unique()}
    yes_no = {"ja": i18n.t("ui.yes", lang), "nej": i18n.t("ui.no", lang)}
    out.insert(1, "context_label", [context_label(c, cfg, lang) for c in out["context"]])
    out.insert(3, "category_label", [yes_no.get(v, v) if v in yes_no and not known[c]
                                     else known[c].get(v, v)
                                     for c, v in zip(out["context"], out["category"],
                                                     strict=True)])
    out.insert(5, "mechanism_label", [yes_no[YES_NO_CODES[bool(v)]] for v in out["mechanism"]])
    out.attrs.update(matrix.attrs | {"lang": lang})
    return out


def subgroup_matrix(participants: pd.DataFrame, cfg: ProjectConfig, mechanism: str,
                    outcome: str = "goal_met",
                    contexts: tuple[str, ...] | list[str] = SUBGROUP_CONTEXTS,
                    unit: str = "all", lang: str = "da",
                    protect: list[tuple[str, bool, bool]] | None = None) -> pd.DataFrame:
    """Outcome rate by context category × mechanism yes/no for a heatmap, labelled, with
    ``suppressed`` (:func:`subgroup_suppressed`; the rate is kept here and blanked by
    ``subgroup_pivot``). ``protect`` lists (context expression, hide in, hide out) of
    hypotheses whose CMO cells readers may not see (the researcher's view in one call; the
    report goes through :func:`subgroups` and ``reader.cmo.subgroup_heatmap``)."""
    protect = protect or []
    guards = {str(i): expr for i, (expr, hide_in, hide_out) in enumerate(protect)
              if hide_in or hide_out}
    counts = subgroup_counts(participants, cfg, mechanism, outcome, contexts, unit, guards)
    out = label_subgroups(counts, cfg, lang)
    hide = {str(i): (hide_in, hide_out) for i, (_, hide_in, hide_out) in enumerate(protect)}
    out["suppressed"] = subgroup_suppressed(out, cfg.privacy.min_cell, hide)
    out.attrs["min_cell"] = cfg.privacy.min_cell
    return out.drop(columns=["same_in", "same_out"])


@dataclass
class Subgroups:
    """The subgroup matrices of a unit, one per mechanism of its CMO table
    (:func:`subgroup_counts`, guarded by the hypotheses with that mechanism)."""

    unit: str
    matrices: dict[str, pd.DataFrame]

    def matrix(self, mechanism: str) -> pd.DataFrame:
        """The matrix of one mechanism (as the CMO table names it)."""
        return self.matrices[mechanism]

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-serialisable values."""
        return jsonable({"unit": self.unit, "matrices": {
            mech: {"rows": m.to_dict("records"), "attrs": dict(m.attrs)}
            for mech, m in self.matrices.items()}})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Subgroups:
        """The matrices again from ``to_dict``."""
        columns = ["context", "category", "mechanism", "n", "n_outcome", "rate", "ci_low",
                   "ci_high", "same_in", "same_out"]
        matrices = {}
        for mech, saved in d["matrices"].items():
            m = pd.DataFrame(saved["rows"], columns=columns)
            m["mechanism"] = m["mechanism"].astype(bool)
            m[["n", "n_outcome"]] = m[["n", "n_outcome"]].astype(int)
            m[["rate", "ci_low", "ci_high"]] = m[["rate", "ci_low", "ci_high"]].astype(float)
            m.attrs.update(saved.get("attrs") or {})
            matrices[mech] = m
        return cls(unit=d["unit"], matrices=matrices)


def subgroups(participants: pd.DataFrame, cfg: ProjectConfig, cmo: CMOTable,
              unit: str = "all", contexts: tuple[str, ...] | list[str] = SUBGROUP_CONTEXTS
              ) -> Subgroups:
    """The subgroup matrix of every mechanism of a CMO table, each category marked where it
    holds the same young people as a hypothesis' context (or its outside), for the heatmaps."""
    out = {}
    for mech in dict.fromkeys(r.mechanism for r in cmo.results):
        guards = {r.id: r.context for r in cmo.results if r.mechanism == mech}
        out[mech] = subgroup_counts(participants, cfg, mech, contexts=contexts, unit=unit,
                                    guards=guards)
    return Subgroups(unit, out)


def subgroup_pivot(matrix: pd.DataFrame, value: str = "rate", difference: bool = True
                   ) -> pd.DataFrame:
    """Wide form of a labelled subgroup matrix for a heatmap: suppressed cells become NaN.

    Rows are (context_label, category_label) in the matrix order, columns the mechanism
    labels (ja, nej); ``difference`` adds ja − nej (NaN when either cell is suppressed).
    """
    from . import i18n

    m = matrix.copy()
    m[value] = m[value].astype(float).where(~m["suppressed"].astype(bool))
    lang = matrix.attrs.get("lang", "da")
    yes, no = i18n.t("ui.yes", lang), i18n.t("ui.no", lang)
    wide = m.pivot_table(index=["context_label", "category_label"], columns="mechanism_label",
                         values=value, aggfunc="first", dropna=False, sort=False)
    order = list(dict.fromkeys(zip(m["context_label"], m["category_label"], strict=True)))
    wide = wide.reindex(index=pd.MultiIndex.from_tuples(order, names=wide.index.names),
                        columns=[yes, no])
    wide.columns.name = None
    if difference:
        wide[i18n.t("cmo.subgroups.difference", lang)] = wide[yes] - wide[no]
    return wide


# -- qualitative linkage -----------------------------------------------------------------------

SOURCE_TYPES = ("ung", "partner", "case")


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


def _quote_line(item: dict[str, str], lang: str) -> str:
    """'Unge: »…«': a chosen quote with its source, for the display table's text column."""
    from . import i18n

    kind = item["source_type"]
    label = i18n.t_or(f"cmo.source_label.{kind}", lang, kind)
    return i18n.t("cmo.source_quote", lang, source=label, text=item["text"])


def joint_display(cmo_table: CMOTable, quotes: pd.DataFrame, cfg: ProjectConfig,
                  max_quotes: int = 2, lang: str = "da") -> pd.DataFrame:
    """Per hypothesis: the figures, the verdict and the voices (quote counts and chosen quotes).

    Columns: id, title, context_label, mechanism_label, n, rate_in_yes, rate_in_no,
    rate_out_yes, rate_out_no, diff_in, diff_in_ci_low, diff_in_ci_high, verdict,
    verdict_code, rule (the researcher's: every figure; a report words the hypotheses through
    ``reader.cmo`` with the masks),
    n_quotes, n_ung, n_partner, n_case, quotes (list of {quote_id, source_type, text}) and
    quotes_text (one readable string). Quotes are chosen by ``choose_quotes``. Quotes linked to
    no hypothesis in the config are not dropped silently: their number is in
    ``attrs["n_unlinked"]`` and they are listed by ``unlinked_quotes``.
    """
    from .reader.cmo import rule_text
    from .reader.cmo import verdict as verdict_word

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
        text = "\n".join(_quote_line(i, lang) for i in items)
        rows.append({
            "id": r.id, "title": r.tr("title", lang),
            "context_label": r.tr("context_label", lang),
            "mechanism_label": r.tr("mechanism_label", lang), "n": r.n,
            **{f"rate_{key}": float(r.cells.set_index("cell").loc[key, "rate"])
               for key, _, _ in CELLS},
            "diff_in": r.diff_in.estimate, "diff_in_ci_low": r.diff_in.ci_low,
            "diff_in_ci_high": r.diff_in.ci_high,
            "verdict": verdict_word(r.verdict_code, lang), "verdict_code": r.verdict_code,
            "rule": rule_text(r, lang),
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
    "CMOTable", "Estimate", "FirthFit", "HypothesisResult", "ModelFit", "Subgroups",
    "firth_logit", "VERDICT_CODES", "verdict_rules", "adjust_pvalues",
    "choose_quotes", "evaluate_expression", "evaluate_hypotheses", "evaluate_hypothesis",
    "expression_names", "hidden_cells", "margins_needed", "cmo_plan",
    "hypotheses_for_unit", "joint_display", "label_subgroups", "subgroup_counts",
    "subgroup_matrix", "subgroup_pivot", "subgroup_suppressed", "subgroups",
    "unlinked_quotes",
]
