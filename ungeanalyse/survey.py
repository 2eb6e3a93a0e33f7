"""Surveys: scale scores, reliability, paired change from first to last wave, and attrition.

``score_scales(responses, cfg)`` turns the clean long answers (``value`` is already numeric: the
clean stage mapped the Danish labels through the scale's response set) into one score per
person, wave and scale. ``analysed_pairs`` is the one definition of "answered both waves" that
every text, table and disclosure plan uses: a young person with a valid score on the scale at the
first and at the last wave, under the scale's missing-item rule. ``paired_change`` compares the
two waves among those pairs (mean change, d_z and d_av with intervals, and a sensitivity result
weighted for follow-up non-response); ``attrition`` compares the pairs with those who had a
valid score at the start but none at follow-up.

Conventions:

- Reverse items are scored ``(min + max) − value`` of the scale's response set.
- The missing-item rule is the config's ``missing_items`` (``min_items`` is its older alias):
  ``complete`` needs every item; ``prorate`` allows ``max_missing`` missing items and scores the
  mean of the answered items (times the number of items for a sum score). Without a rule every
  item is needed, so a scale with a published conversion table pro-rates only if declared.
- ``conversion`` names a published table from raw sum to a reported score (``swemwbs_metric``);
  a prorated raw score is rounded to a whole number before it is looked up.
- There is no comparison group, so a change is a change (a *sammenhæng*), never an effect.
- Counts here are raw, numbers and codes only: ``ungeanalyse.reader.survey`` words them and
  hides what the unit's masks (the project-wide ``disclosure.survey.survey_plan``) and the
  limit say; ``to_dict`` never holds person ids. ``analyse`` runs all of it for a unit
  (:class:`SurveyResult`, ``to_dict``/``from_dict`` round-trip).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import ProjectConfig, Scale
from .errors import UserError


def _stats() -> Any:
    """scipy.stats, imported where a test needs it: the runner's own process imports this
    module for the disclosure plan (scores and pairs only), and scipy.stats takes over a second
    to import there, before the first notebook starts."""
    from scipy import stats

    return stats


SWEMWBS_METRIC: dict[int, float] = {
    7: 7.00, 8: 9.51, 9: 11.25, 10: 12.40, 11: 13.33, 12: 14.08, 13: 14.75, 14: 15.32,
    15: 15.84, 16: 16.36, 17: 16.88, 18: 17.43, 19: 17.98, 20: 18.59, 21: 19.25, 22: 19.98,
    23: 20.73, 24: 21.54, 25: 22.35, 26: 23.21, 27: 24.11, 28: 25.03, 29: 26.02, 30: 27.03,
    31: 28.13, 32: 29.31, 33: 30.70, 34: 32.55, 35: 35.00,
}
"""SWEMWBS raw sum (7–35) → metric score (Stewart-Brown et al. 2009; Warwick Medical School)."""

CONVERSIONS: dict[str, dict[int, float]] = {"swemwbs_metric": SWEMWBS_METRIC}
"""Published raw-to-score tables that a scale's ``conversion`` may name."""


# -- scores -----------------------------------------------------------------------------------


def _scale(cfg: ProjectConfig, scale_id: str) -> Scale:
    for s in cfg.survey.scales:
        if s.id == scale_id:
            return s
    known = ", ".join(s.id for s in cfg.survey.scales) or "none"
    raise UserError(f"survey scale {scale_id!r} is not in the config's survey.scales "
                    f"(known: {known})")


def _range(cfg: ProjectConfig, scale: Scale) -> tuple[float, float]:
    values = [float(v) for v in cfg.survey.response_sets[scale.response_set].values()]
    return min(values), max(values)


def _wide(responses: pd.DataFrame) -> pd.DataFrame:
    """One row per person and wave, one column per item."""
    dup = responses.duplicated(["person_id", "wave", "item"], keep=False)
    if dup.any():
        rows = responses.loc[dup, ["wave", "item"]].drop_duplicates().head(5)
        where = "; ".join(f"{r.wave}/{r.item}" for r in rows.itertuples())
        raise UserError(f"survey_responses: {int(dup.sum())} rows answer the same item twice for "
                        f"one person and wave (e.g. {where}); run the clean stage, which removes "
                        "duplicates, before scoring")
    wide = responses.pivot(index=["person_id", "wave"], columns="item", values="value")
    wide.columns.name = None
    return wide.astype("float64")


def _items(wide: pd.DataFrame, cfg: ProjectConfig, scale: Scale) -> pd.DataFrame:
    """The scale's items for every row, reverse items already turned round."""
    items = wide.reindex(columns=scale.items).astype("float64")
    low, high = _range(cfg, scale)
    for item in scale.reverse:
        items[item] = (low + high) - items[item]
    return items


def convert(raw: pd.Series, conversion: str) -> pd.Series:
    """Raw sum scores → published scores; raw scores off the table become missing."""
    if conversion not in CONVERSIONS:
        raise UserError(f"survey.scales: unknown conversion {conversion!r}; known: "
                        f"{', '.join(CONVERSIONS)}")
    table = CONVERSIONS[conversion]
    whole = np.floor(raw.astype("float64") + 0.5)  # round half up, as score sheets do
    return whole.map(lambda v: table.get(int(v), np.nan) if pd.notna(v) else np.nan)


def score_scales(responses: pd.DataFrame, cfg: ProjectConfig) -> pd.DataFrame:
    """Scale scores: one row per person_id × wave, one column per scale id (NaN: too few items)."""
    columns = ["person_id", "wave", *(s.id for s in cfg.survey.scales)]
    if responses.empty:
        return pd.DataFrame(columns=columns)
    wide = _wide(responses)
    out = pd.DataFrame(index=wide.index)
    for scale in cfg.survey.scales:
        items = _items(wide, cfg, scale)
        answered = items.notna().sum(axis=1)
        need = scale.min_answered
        mean = items.mean(axis=1)
        score = mean * len(scale.items) if scale.score == "sum" else mean
        score = score.where(answered >= max(need, 1))
        if scale.conversion:
            score = convert(score, scale.conversion)
        out[scale.id] = score.astype("float64")
    out = out.reset_index()
    order = {w: i for i, w in enumerate(cfg.survey.waves)}
    out = out.sort_values(["person_id", "wave"], key=lambda s: s.map(order) if s.name == "wave"
                          else s, kind="stable")
    return out[columns].reset_index(drop=True)


# -- the one definition of "answered both waves" -----------------------------------------------


def _valid(scores: pd.DataFrame, wave: str, scale_id: str) -> pd.Series:
    """Valid scores on a scale in a wave (index person_id)."""
    if scores.empty or scale_id not in scores:
        return pd.Series(dtype="float64", name=scale_id)
    rows = scores[scores["wave"].eq(wave)].drop_duplicates("person_id")
    return rows.set_index("person_id")[scale_id].dropna().astype("float64")


def analysed_pairs(scores: pd.DataFrame, cfg: ProjectConfig, scale_id: str) -> pd.DataFrame:
    """The young people who answered both waves: a valid score on the scale (under its
    missing-item rule) at the first and at the last wave. Index person_id; columns baseline,
    followup. Every survey text, table and disclosure count takes its pairs from here."""
    first, last = cfg.survey.waves[0], cfg.survey.waves[-1]
    if first == last:
        raise UserError("survey.waves: a paired change needs at least two waves")
    _scale(cfg, scale_id)
    base, follow = _valid(scores, first, scale_id), _valid(scores, last, scale_id)
    pairs = pd.concat([base.rename("baseline"), follow.rename("followup")], axis=1,
                      join="inner")
    pairs.index.name = "person_id"
    return pairs.sort_index(key=lambda s: s.astype(str))


# -- reliability ------------------------------------------------------------------------------


def cronbach_alpha(items: pd.DataFrame) -> tuple[float, int]:
    """Cronbach's α on complete cases: k/(k−1)·(1 − Σ item variances / variance of the total)."""
    complete = items.dropna().to_numpy(dtype="float64")
    n, k = complete.shape
    if n < 2 or k < 2:
        return math.nan, n
    total_var = complete.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return math.nan, n
    return float(k / (k - 1) * (1 - complete.var(axis=0, ddof=1).sum() / total_var)), n


def cronbach_alpha_pairwise(items: pd.DataFrame) -> tuple[float, int]:
    """Cronbach's α from the pairwise-complete item covariance matrix C (as psych::alpha does):
    k/(k−1)·(1 − trace C / ΣC); equals :func:`cronbach_alpha` without missing items. Returns α
    and the number of rows with an answer."""
    rows = items[items.notna().any(axis=1)]
    k = items.shape[1]
    if len(rows) < 2 or k < 2:
        return math.nan, len(rows)
    cov = rows.astype("float64").cov().to_numpy()
    total = cov.sum()
    if not np.isfinite(cov).all() or total <= 0:
        return math.nan, len(rows)
    return float(k / (k - 1) * (1 - np.trace(cov) / total)), len(rows)


def reliability(responses: pd.DataFrame, cfg: ProjectConfig,
                scores: pd.DataFrame | None = None) -> pd.DataFrame:
    """Cronbach's α per scale and wave among the :func:`analysed_pairs` (pairwise-complete
    covariances, so a pro-rated answer counts with the items it has); ``n`` is the paired n.
    ``scores`` are :func:`score_scales` of ``responses`` where the caller has them.
    Columns: scale_id, wave, items, n, alpha."""
    rows = []
    wide = _wide(responses) if not responses.empty else pd.DataFrame()
    if scores is None:
        scores = score_scales(responses, cfg) if not responses.empty else pd.DataFrame()
    for scale in cfg.survey.scales:
        pairs = analysed_pairs(scores, cfg, scale.id)
        n = len(pairs)
        for wave in cfg.survey.waves:
            alpha = math.nan
            if n and not wide.empty and wave in wide.index.get_level_values("wave"):
                at_wave = wide.xs(wave, level="wave")
                items = _items(at_wave.reindex(pairs.index), cfg, scale)
                alpha = cronbach_alpha_pairwise(items)[0]
            rows.append((scale.id, wave, len(scale.items), n, alpha))
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


RELIABILITY_COLUMNS = ["scale_id", "wave", "items", "n", "alpha"]


# -- effect sizes -----------------------------------------------------------------------------


def _num(x: Any) -> float | None:
    """A JSON-safe number: NaN and inf become None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def noncentral_t_interval(t: float, df: float, level: float = 0.95) -> tuple[float, float]:
    """Limits (λ_low, λ_high) for the noncentrality of a t statistic t with df degrees of
    freedom: P(T ≤ t | λ_low) = 1 − α/2 and P(T ≤ t | λ_high) = α/2 (scipy's noncentral t)."""
    from scipy.optimize import brentq

    if not (math.isfinite(t) and df > 0):
        return math.nan, math.nan
    alpha = 1 - level

    # the limits lie about z·√(1 + t²/2df) from t; bracket them there (far out the cdf is NaN)
    step = math.sqrt(1 + t * t / (2 * df))

    nct = _stats().nct

    def limit(target: float) -> float:
        low, high = t - 5 * step - 1, t + 5 * step + 1
        while nct.cdf(t, df, low) < target:  # the cdf falls as λ grows
            low -= step
        while nct.cdf(t, df, high) > target:
            high += step
        return float(brentq(lambda ncp: nct.cdf(t, df, ncp) - target, low, high, xtol=1e-10))

    return limit(1 - alpha / 2), limit(alpha / 2)


@dataclass
class EffectSizes:
    """Standardised paired change: d_z (change / SD of the change) and d_av (change / mean of
    the two waves' SDs), each with a 95 % interval."""

    d_z: float
    d_z_low: float
    d_z_high: float
    d_av: float
    d_av_low: float
    d_av_high: float
    sd_baseline: float
    sd_followup: float
    r: float
    """The pre–post correlation: d_z = d_av / √(2(1 − r)) when the two SDs are equal."""


def paired_effect_sizes(baseline: np.ndarray | pd.Series, followup: np.ndarray | pd.Series,
                        level: float = 0.95) -> EffectSizes:
    """d_z and d_av of the change baseline → followup with intervals from the noncentral t.

    d_z = mean(D)/SD(D) with D = followup − baseline; its interval is λ/√n for the noncentral-t
    limits λ of t = d_z·√n on n − 1 df (exact under normal differences). d_av =
    mean(D)/((SD₁ + SD₂)/2); its interval (Algina & Keselman 2003) scales the same limits by
    SD(D)/(√n·(SD₁ + SD₂)/2), treating that ratio as known.
    """
    b = np.asarray(baseline, dtype="float64")
    f = np.asarray(followup, dtype="float64")
    n = len(b)
    nan = math.nan
    if n < 2:
        return EffectSizes(nan, nan, nan, nan, nan, nan, nan, nan, nan)
    diff = f - b
    mean, sd_d = float(diff.mean()), float(diff.std(ddof=1))
    sd1, sd2 = float(b.std(ddof=1)), float(f.std(ddof=1))
    r = float(np.corrcoef(b, f)[0, 1]) if sd1 > 0 and sd2 > 0 else nan
    sd_av = (sd1 + sd2) / 2
    d_z = d_z_low = d_z_high = d_av = d_av_low = d_av_high = nan
    if sd_d > 0:
        t = mean / (sd_d / math.sqrt(n))
        lam_low, lam_high = noncentral_t_interval(t, n - 1, level)
        d_z, d_z_low, d_z_high = mean / sd_d, lam_low / math.sqrt(n), lam_high / math.sqrt(n)
        if sd_av > 0:
            ratio = sd_d / (math.sqrt(n) * sd_av)
            d_av, d_av_low, d_av_high = mean / sd_av, lam_low * ratio, lam_high * ratio
    elif sd_av > 0:
        d_av = mean / sd_av
    return EffectSizes(d_z, d_z_low, d_z_high, d_av, d_av_low, d_av_high, sd1, sd2, r)


# -- weighted for follow-up non-response (sensitivity) -----------------------------------------


@dataclass
class WeightedChange:
    """Mean change among the pairs weighted by 1 / P(answered at follow-up), from a logistic
    model on baseline score, target group and delprojekt among all with a baseline score."""

    mean_diff: float
    ci_low: float
    ci_high: float
    covariates: list[str]
    """The model's terms (baseline score, and target group / delprojekt where they vary)."""
    weight_min: float
    weight_max: float


def _design(frame: pd.DataFrame, terms: list[str]) -> pd.DataFrame:
    """Intercept, baseline score and dummies (first level dropped) for the categorical terms."""
    x = pd.DataFrame({"const": 1.0, "baseline": frame["baseline"]}, index=frame.index)
    for term in terms:
        levels = frame[term].astype("string").fillna("(mangler)")
        dummies = pd.get_dummies(levels, prefix=term, drop_first=True, dtype="float64")
        x = pd.concat([x, dummies], axis=1)
    return x


def weighted_change(scores: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
                    scale_id: str) -> WeightedChange | None:
    """Inverse-probability weighted mean change (a sensitivity analysis for follow-up
    non-response); None without non-response to model or when no model converges with fitted
    probabilities inside (0.01, 1)."""
    import warnings

    import statsmodels.api as sm

    first = cfg.survey.waves[0]
    base = _valid(scores, first, scale_id)
    pairs = analysed_pairs(scores, cfg, scale_id)
    if len(pairs) < 2 or len(base) == len(pairs):
        return None
    people = participants.drop_duplicates("person_id").set_index("person_id")
    frame = pd.DataFrame({"baseline": base, "answered": base.index.isin(pairs.index)},
                         index=base.index)
    candidates = []
    for term in ("target_group", "delprojekt"):
        if term in people:
            frame[term] = people[term].reindex(frame.index).astype("string")
            if frame[term].fillna("(mangler)").nunique() > 1:
                candidates.append(term)
    y = frame["answered"].astype("float64")
    fitted = None
    terms: list[str] = []
    for k in range(len(candidates), -1, -1):
        terms = candidates[:k]
        x = _design(frame, terms)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = sm.GLM(y, x, family=sm.families.Binomial()).fit()
        except (ValueError, np.linalg.LinAlgError, ArithmeticError):
            continue
        p = np.asarray(fit.fittedvalues, dtype="float64")
        if fit.converged and np.isfinite(p).all() and (p[y.to_numpy() == 1] > 0.01).all() \
                and (p < 1 - 1e-9).all():
            fitted = pd.Series(p, index=frame.index)
            break
    if fitted is None:
        return None
    w = 1.0 / fitted.reindex(pairs.index).to_numpy()
    d = (pairs["followup"] - pairs["baseline"]).to_numpy()
    n = len(d)
    mean = float(np.sum(w * d) / np.sum(w))
    # sandwich variance of a weighted mean with the weights taken as known, small-n factor n/(n-1)
    var = float(np.sum(w**2 * (d - mean) ** 2) / np.sum(w) ** 2) * n / (n - 1)
    half = float(_stats().t.ppf(0.975, n - 1)) * math.sqrt(var)
    return WeightedChange(mean, mean - half, mean + half, ["baseline", *terms],
                          float(w.min()), float(w.max()))


# -- paired change ----------------------------------------------------------------------------


@dataclass
class PairedChange:
    """Change on one scale from the first to the last wave among the :func:`analysed_pairs`."""

    scale_id: str
    label: str
    label_en: str | None
    baseline_wave: str
    followup_wave: str
    baseline_label: str
    followup_label: str
    n: int
    mean_baseline: float
    mean_followup: float
    mean_diff: float
    sd_diff: float
    ci_low: float
    ci_high: float
    d_z: float
    wilcoxon_p: float
    higher_is_better: bool
    min_cell: int = 5
    d_z_low: float = math.nan
    d_z_high: float = math.nan
    d_av: float = math.nan
    d_av_low: float = math.nan
    d_av_high: float = math.nan
    sd_baseline: float = math.nan
    sd_followup: float = math.nan
    r: float = math.nan
    weighted: WeightedChange | None = None
    """The sensitivity result weighted for follow-up non-response (:func:`weighted_change`)."""
    plan_hidden: bool = False
    """Set by the reader only, on its copy for the figure: the unit's masks hide n (the
    project-wide ``disclosure.survey.survey_plan``). Never set here, never saved."""
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    """Per person (index person_id): baseline and followup scores; for the figure only (not in
    :meth:`to_dict`)."""

    def scale_label(self, lang: str = "da") -> str:
        """The scale's name in the report language (config texts)."""
        return {"da": self.label, "en": self.label_en or self.label}[lang]

    @property
    def n_hidden(self) -> bool:
        """Whether readers may not see n (under min_cell, or hidden by the survey plan)."""
        return self.plan_hidden or 0 < self.n < self.min_cell

    def to_dict(self) -> dict[str, Any]:
        """The numbers, JSON-safe (NaN → None), without the per-person pairs."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if key in ("pairs", "plan_hidden"):
                continue
            if key == "weighted":
                value = None if value is None else {
                    k: _num(v) if isinstance(v, float) else v for k, v in value.__dict__.items()}
            elif isinstance(value, float | np.floating):
                value = _num(value)
            elif isinstance(value, np.integer):
                value = int(value)
            elif isinstance(value, np.bool_):
                value = bool(value)
            out[key] = value
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PairedChange:
        """The change back from :meth:`to_dict` (without the pairs: no figure from it)."""
        fields = {k: _nan_back(k, v, cls) for k, v in d.items()
                  if k in cls.__dataclass_fields__}
        if d.get("weighted") is not None:
            fields["weighted"] = WeightedChange(**{k: _nan_back(k, v, WeightedChange)
                                                   for k, v in d["weighted"].items()})
        return cls(**fields)


def _nan_back(key: str, value: Any, cls: Any) -> Any:
    """A value read back from JSON: None in a float field (a NaN) as NaN."""
    if value is None and cls.__dataclass_fields__[key].type in ("float", float):
        return math.nan
    return value


def _positive_rank_sum(d: np.ndarray, axis: int = -1) -> np.ndarray:
    """Wilcoxon's W+ along ``axis``: the sum of the ranks of |d| among the non-zero
    differences (zeros dropped, ties averaged) over the positive ones; vectorised."""
    d = np.moveaxis(np.asarray(d, dtype=float), axis, -1)
    zeros = (d == 0).sum(axis=-1, keepdims=True)  # the smallest |d|: ranked first, then dropped
    ranks = _stats().rankdata(np.abs(d), axis=-1) - zeros
    return np.sum(np.where(d > 0, ranks, 0.0), axis=-1)


def signed_rank_p(diff: np.ndarray) -> float:
    """The two-sided Wilcoxon signed-rank p of ``scipy.stats.wilcoxon(diff)`` (its defaults),
    with the exact sign-flip distribution of small samples with ties or zeros computed in one
    vectorised pass: scipy evaluates those 2**n flips one at a time (1.7 s for n = 13)."""
    stats = _stats()
    diff = np.asarray(diff, dtype=float)
    n = len(diff)
    ties_or_zeros = bool(np.any(diff == 0)) or len(np.unique(np.abs(diff))) < n
    if not (ties_or_zeros and n <= 13):  # exact without ties, or the normal approximation
        return float(stats.wilcoxon(diff).pvalue)
    return float(stats.permutation_test((diff,), _positive_rank_sum, vectorized=True,
                                        permutation_type="samples", n_resamples=9999,
                                        alternative="two-sided").pvalue)


def paired_change(scores: pd.DataFrame, cfg: ProjectConfig, scale_id: str,
                  participants: pd.DataFrame | None = None) -> PairedChange:
    """Mean change first → last wave among the :func:`analysed_pairs` with a t interval,
    d_z and d_av with intervals (:func:`paired_effect_sizes`) and a Wilcoxon signed-rank p;
    with ``participants`` also the :func:`weighted_change` sensitivity result."""
    scale = _scale(cfg, scale_id)
    first, last = cfg.survey.waves[0], cfg.survey.waves[-1]
    pairs = analysed_pairs(scores, cfg, scale_id)
    diff = (pairs["followup"] - pairs["baseline"]).to_numpy()
    n = len(diff)
    nan = math.nan
    mean_diff = float(diff.mean()) if n else nan
    sd_diff = float(diff.std(ddof=1)) if n > 1 else nan
    ci_low = ci_high = p = nan
    if n > 1:
        se = _stats().sem(diff)
        if se > 0:
            ci_low, ci_high = _stats().t.interval(0.95, n - 1, loc=mean_diff, scale=se)
        else:
            ci_low = ci_high = mean_diff
        if np.any(diff != 0):
            p = signed_rank_p(diff)
    es = paired_effect_sizes(pairs["baseline"], pairs["followup"])
    weighted = (weighted_change(scores, participants, cfg, scale_id)
                if participants is not None and n >= cfg.privacy.min_cell else None)
    return PairedChange(
        scale_id=scale.id, label=scale.label, label_en=scale.label_en,
        baseline_wave=first, followup_wave=last,
        baseline_label=_wave_name(cfg, first), followup_label=_wave_name(cfg, last),
        n=n, mean_baseline=float(pairs["baseline"].mean()) if n else nan,
        mean_followup=float(pairs["followup"].mean()) if n else nan,
        mean_diff=mean_diff, sd_diff=sd_diff, ci_low=float(ci_low), ci_high=float(ci_high),
        d_z=es.d_z, wilcoxon_p=float(p), higher_is_better=scale.higher_is_better,
        min_cell=cfg.privacy.min_cell, d_z_low=es.d_z_low, d_z_high=es.d_z_high, d_av=es.d_av,
        d_av_low=es.d_av_low, d_av_high=es.d_av_high, sd_baseline=es.sd_baseline,
        sd_followup=es.sd_followup, r=es.r, weighted=weighted, pairs=pairs,
    )


def _wave_name(cfg: ProjectConfig, wave: str) -> str:
    """A wave's name as the config gives it (``survey.wave_labels``), else its id."""
    return cfg.survey.wave_labels.get(wave, wave)


# -- attrition --------------------------------------------------------------------------------


@dataclass
class Attrition:
    """For one scale: the analysed pairs ("followed") versus those with a valid score at the
    start but none at follow-up ("dropped")."""

    scale_id: str
    label: str
    label_en: str | None
    baseline_wave: str
    followup_wave: str
    baseline_label: str
    followup_label: str
    n_followed: int
    """The analysed pairs (:func:`analysed_pairs`): the paired change's n."""
    n_dropped: int
    """A valid score at the start, none at follow-up."""
    mean_followed: float
    mean_dropped: float
    diff: float
    """Baseline mean of the pairs minus that of the others, with a Welch 95 % interval."""
    diff_low: float
    diff_high: float
    welch_p: float
    goal_met_followed: int
    goal_met_closed_followed: int
    goal_met_dropped: int
    goal_met_closed_dropped: int
    goal_met_p: float
    target_groups: dict[str, dict[str, int]]
    """Counts per target group: {"followed": {...}, "dropped": {...}} (raw, not for readers)."""
    target_group_p: float
    tg_code: str | None = None
    """With two target groups: the first one's share in the pairs minus among the others, with
    a Newcombe 95 % interval."""
    tg_label: str = ""
    tg_label_en: str | None = None
    tg_diff: float = math.nan
    tg_low: float = math.nan
    tg_high: float = math.nan
    min_cell: int = 5
    goal_met_unit: int = 0
    """Goal met and closed cases among all of the unit's participants (answered or not)."""
    closed_unit: int = 0

    @property
    def share_followed(self) -> float:
        total = self.n_followed + self.n_dropped
        return self.n_followed / total if total else math.nan

    def tg_shares(self) -> tuple[float, float]:
        """The first target group's share among the pairs and among the others."""
        f, d = self.target_groups.get("followed", {}), self.target_groups.get("dropped", {})
        code = self.tg_code or ""
        return (f.get(code, 0) / self.n_followed if self.n_followed else math.nan,
                d.get(code, 0) / self.n_dropped if self.n_dropped else math.nan)

    def to_dict(self) -> dict[str, Any]:
        """The numbers, JSON-safe (NaN → None); counts are raw, as in ``outcomes``."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if isinstance(value, float | np.floating):
                value = _num(value)
            elif isinstance(value, np.integer):
                value = int(value)
            out[key] = value
        out["share_followed"] = _num(self.share_followed)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Attrition:
        """The comparison back from :meth:`to_dict`."""
        return cls(**{k: _nan_back(k, v, cls) for k, v in d.items()
                      if k in cls.__dataclass_fields__})


def _fisher(table: np.ndarray) -> float:
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return math.nan
    return float(_stats().fisher_exact(table).pvalue)


def _chi2(table: pd.DataFrame) -> float:
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return math.nan
    return float(_stats().chi2_contingency(table.to_numpy()).pvalue)


def welch_difference(a: np.ndarray, b: np.ndarray, level: float = 0.95
                     ) -> tuple[float, float, float, float]:
    """mean(a) − mean(b) with a Welch (Satterthwaite df) interval and p; NaN under 2 each."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    nan = math.nan
    if len(a) < 2 or len(b) < 2:
        diff = float(a.mean() - b.mean()) if len(a) and len(b) else nan
        return diff, nan, nan, nan
    diff = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return diff, diff, diff, nan
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = float(_stats().t.ppf(0.5 + level / 2, df)) * se
    p = float(2 * _stats().t.sf(abs(diff) / se, df))
    return diff, diff - half, diff + half, p


def share_difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """k1/n1 − k2/n2 with Newcombe's hybrid-score 95 % interval (statsmodels)."""
    import warnings

    from statsmodels.stats.proportion import confint_proportions_2indep

    if n1 == 0 or n2 == 0:
        return math.nan, math.nan, math.nan
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    return k1 / n1 - k2 / n2, float(low), float(high)


def _groups(scores: pd.DataFrame, cfg: ProjectConfig, scale_id: str
            ) -> tuple[pd.Series, pd.Series]:
    """Valid baseline scores on the scale (index person_id) and each one's status: "followed"
    (in the analysed pairs) or "dropped" (no valid score at follow-up)."""
    base = _valid(scores, cfg.survey.waves[0], scale_id)
    pairs = analysed_pairs(scores, cfg, scale_id)
    status = pd.Series(np.where(base.index.isin(pairs.index), "followed", "dropped"),
                       index=base.index, dtype="object", name="status")
    return base, status


def attrition(scores: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
              scale_id: str | None = None) -> Attrition:
    """The analysed pairs of a scale (the first scale by default) versus those with a valid
    score at the start and none at follow-up: baseline mean difference (Welch interval), target
    group (Newcombe interval with two groups, else χ²) and goal met (Fisher)."""
    if scale_id is None:
        if not cfg.survey.scales:
            raise UserError("survey.scales: the config declares no survey scale")
        scale_id = cfg.survey.scales[0].id
    scale = _scale(cfg, scale_id)
    first, last = cfg.survey.waves[0], cfg.survey.waves[-1]
    base, status = _groups(scores, cfg, scale_id)
    a = base[status.eq("followed")].to_numpy()
    b = base[status.eq("dropped")].to_numpy()
    diff, low, high, p = welch_difference(a, b)
    people = participants.drop_duplicates("person_id").set_index("person_id").reindex(
        status.index)
    goal = people["goal_met"] if "goal_met" in people else pd.Series(pd.NA, index=status.index)
    closed = goal.notna()
    met = goal.fillna(False).astype(bool)
    counts = {g: (int((met & closed & status.eq(g)).sum()), int((closed & status.eq(g)).sum()))
              for g in ("followed", "dropped")}
    table = np.array([[counts[g][0], counts[g][1] - counts[g][0]] for g in ("followed", "dropped")])
    tg_code, tg_label, tg_label_en = None, "", None
    tg_diff = tg_low = tg_high = math.nan
    if "target_group" in people and len(status):
        tg = pd.crosstab(people["target_group"].astype("string").fillna("(mangler)"),
                         status).reindex(columns=["followed", "dropped"], fill_value=0)
        tg_counts = {g: {str(k): int(v) for k, v in tg[g].items()} for g in tg.columns}
        tg_p = _chi2(tg)
        present = [c for c in cfg.target_groups if c in tg.index] + \
            [c for c in tg.index if c not in cfg.target_groups]
        nf, nd = int(tg["followed"].sum()), int(tg["dropped"].sum())
        if len(present) == 2 and nf and nd:
            tg_code = str(present[0])
            coded = cfg.target_groups.get(tg_code)
            tg_label = coded.label if coded else tg_code
            tg_label_en = coded.label_en if coded else None
            tg_diff, tg_low, tg_high = share_difference(
                int(tg.loc[tg_code, "followed"]), nf, int(tg.loc[tg_code, "dropped"]), nd)
    else:
        tg_counts, tg_p = {"followed": {}, "dropped": {}}, math.nan
    return Attrition(
        scale_id=scale.id, label=scale.label, label_en=scale.label_en,
        baseline_wave=first, followup_wave=last, baseline_label=_wave_name(cfg, first),
        followup_label=_wave_name(cfg, last), n_followed=int(status.eq("followed").sum()),
        n_dropped=int(status.eq("dropped").sum()),
        mean_followed=float(a.mean()) if len(a) else math.nan,
        mean_dropped=float(b.mean()) if len(b) else math.nan,
        diff=diff, diff_low=low, diff_high=high, welch_p=p,
        goal_met_followed=counts["followed"][0], goal_met_closed_followed=counts["followed"][1],
        goal_met_dropped=counts["dropped"][0], goal_met_closed_dropped=counts["dropped"][1],
        goal_met_p=_fisher(table), target_groups=tg_counts, target_group_p=tg_p,
        tg_code=tg_code, tg_label=tg_label, tg_label_en=tg_label_en, tg_diff=float(tg_diff),
        tg_low=float(tg_low), tg_high=float(tg_high),
        min_cell=cfg.privacy.min_cell, **_unit_goal(participants),
    )


def _unit_goal(participants: pd.DataFrame) -> dict[str, int]:
    """Goal met and closed cases of all participants, for the attrition text's remainder."""
    if "goal_met" not in participants:
        return {"goal_met_unit": 0, "closed_unit": 0}
    goal = participants["goal_met"]
    return {"goal_met_unit": int(goal.fillna(False).astype(bool).sum()),
            "closed_unit": int(goal.notna().sum())}


# -- one call for a unit ----------------------------------------------------------------------


@dataclass
class SurveyResult:
    """A unit's survey: reliability, the paired change and the attrition per scale, all on the
    same pairs, or why there is none (``status``: 'ok', 'not_delivered' when the project has no
    surveys at all, 'none_here' when it has, but not for this unit)."""

    status: str
    reliability: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=RELIABILITY_COLUMNS))
    changes: list[PairedChange] = field(default_factory=list)
    attrition: list[Attrition] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON values (what notebook 02 saves as ``survey``; no person ids)."""
        from .outcomes import jsonable

        return {"status": self.status, "reliability": jsonable(self.reliability),
                "changes": [c.to_dict() for c in self.changes],
                "attrition": [a.to_dict() for a in self.attrition]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SurveyResult:
        """The result back from :meth:`to_dict` (the evaluation text rebuilds it)."""
        rel = pd.DataFrame(d.get("reliability") or [], columns=RELIABILITY_COLUMNS)
        rel["alpha"] = rel["alpha"].astype(float)
        return cls(d["status"], rel, [PairedChange.from_dict(c) for c in d.get("changes", [])],
                   [Attrition.from_dict(a) for a in d.get("attrition", [])])


def analyse(tables: dict[str, pd.DataFrame], cfg: ProjectConfig,
            project: dict[str, pd.DataFrame] | None = None) -> SurveyResult:
    """Reliability, paired change (d_z, d_av, the weighted sensitivity result) and attrition of
    a unit (``tables``: its clean tables), all on one definition of the pairs
    (:func:`analysed_pairs`)."""
    responses, participants = tables["survey_responses"], tables["participants"]
    whole = project if project is not None and len(project["participants"]) else tables
    if not cfg.survey.scales or whole["survey_responses"].empty:
        return SurveyResult("not_delivered")
    if responses.empty:
        return SurveyResult("none_here")
    scores = score_scales(responses, cfg)
    return SurveyResult(
        "ok", reliability(responses, cfg, scores),
        [paired_change(scores, cfg, s.id, participants=participants) for s in cfg.survey.scales],
        [attrition(scores, participants, cfg, scale_id=s.id) for s in cfg.survey.scales])
