"""Surveys: scale scores, reliability, paired change from first to last wave, and attrition.

``score_scales(responses, cfg)`` turns the clean long answers (``value`` is already numeric: the
clean stage mapped the Danish labels through the scale's response set) into one score per
person, wave and scale. ``paired_change`` compares the first and the last wave among the young
people who answered both; ``attrition`` asks whether those who answered only at the start differ
from those who answered both times.

Conventions:

- Reverse items are scored ``(min + max) − value`` of the scale's response set.
- A score needs ``min_items`` answered items (all items when ``min_items`` is not set). A *sum*
  score with missing items is prorated: the mean of the answered items times the number of items.
- ``conversion`` names a published table from raw sum to a reported score (``swemwbs_metric``);
  a prorated raw score is rounded to a whole number before it is looked up.
- There is no comparison group, so a change is a change (a *sammenhæng*), never an effect.
- Counts here are raw; the reader-facing sentences (``summary``) never show a count under
  ``cfg.privacy.min_cell``, and ``to_dict`` never holds person ids.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .config import ProjectConfig, Scale
from .errors import UserError
from .fmt import fmt_float, fmt_int, fmt_pct
from .privacy import count_text, rate_hidden

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
        need = scale.min_items if scale.min_items is not None else len(scale.items)
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


def wave_label(cfg: ProjectConfig, wave: str, lang: str = "da") -> str:
    """A wave's name for readers: the config's wave_labels (Danish) or start/follow-up (English)."""
    waves = cfg.survey.waves
    if lang == "en":
        if wave == waves[0]:
            return "Start"
        if wave == waves[-1]:
            return "Follow-up"
        return f"Wave {waves.index(wave) + 1}" if wave in waves else wave
    return cfg.survey.wave_labels.get(wave, wave)


def _inline(label: str) -> str:
    """'Start af forløb' → 'start af forløb', for use inside a sentence."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def reliability(responses: pd.DataFrame, cfg: ProjectConfig, lang: str = "da",
                hidden: dict[str, bool] | None = None) -> pd.DataFrame:
    """Cronbach's α per scale and wave with n complete cases; α is missing when n < min_cell,
    and n too when 1..min_cell-1 of those who answered the scale left an item out, or when the
    project-wide ``hidden`` (:func:`survey_plan`, key ``rel:<scale>:<wave>``) says so."""
    names = (["Skala", "Bølge", "Items", "n", "α"] if lang == "da"
             else ["Scale", "Wave", "Items", "n", "α"])
    rows = []
    wide = _wide(responses) if not responses.empty else pd.DataFrame()
    scores = score_scales(responses, cfg) if not responses.empty else pd.DataFrame()
    respondents = ({w: len(_answered(scores, cfg, w)) for w in cfg.survey.waves}
                   if not scores.empty else {})
    for scale in cfg.survey.scales:
        for wave in cfg.survey.waves:
            if wide.empty or wave not in wide.index.get_level_values("wave"):
                alpha, n, answered = math.nan, 0, [0]
            else:
                items = _items(wide.xs(wave, level="wave"), cfg, scale)
                alpha, n = cronbach_alpha(items)
                # who answered an item of the scale, and who has a score on some scale (the
                # attrition text's count)
                answered = [int(items.notna().any(axis=1).sum()), respondents.get(wave, 0)]
            k = cfg.privacy.min_cell
            hidden_small = 0 < n < k
            # n next to the number who answered would give the 1..k-1 with gaps back
            n_hidden = (hidden_small or any(0 < a - n < k for a in answered)
                        or (hidden or {}).get(f"rel:{scale.id}:{wave}", False))
            rows.append((scale.label if lang == "da" else scale.label_en or scale.label,
                         wave_label(cfg, wave, lang), len(scale.items),
                         math.nan if n_hidden else float(n),
                         math.nan if hidden_small else alpha))
    return pd.DataFrame(rows, columns=names)


# -- paired change ----------------------------------------------------------------------------


def _num(x: Any) -> float | None:
    """A JSON-safe number: NaN and inf become None."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _p_text(p: float, lang: str) -> str:
    if not math.isfinite(p):
        return "p = –"
    if p < 0.001:
        return "p < 0,001" if lang == "da" else "p < 0.001"
    return f"p = {fmt_float(p, 3, lang)}"


def _interval(low: float, high: float, lang: str, digits: int = 1) -> str:
    word = "til" if lang == "da" else "to"
    return f"{fmt_float(low, digits, lang)} {word} {fmt_float(high, digits, lang)}"


@dataclass
class PairedChange:
    """Change on one scale from the first to the last wave among people who answered both."""

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
    n_answered_both: int = 0
    """Young people with a score on some scale in both waves (the attrition text gives it)."""
    plan_hidden: bool = False
    """n is hidden by the project-wide :func:`survey_plan` (to protect another unit's count)."""
    pairs: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    """Per person (index person_id): baseline and followup scores; for the figure only."""

    def scale_label(self, lang: str = "da") -> str:
        return self.label_en if lang == "en" and self.label_en else self.label

    @property
    def n_hidden(self) -> bool:
        """Whether readers may not see n: next to the number who answered both times (the
        attrition text gives it) it would say that 1..min_cell-1 of them have no score."""
        return self.plan_hidden or 0 < self.n_answered_both - self.n < self.min_cell

    def summary(self, lang: str = "da") -> str:
        """A sentence for readers: the change with its interval, and that it is not an effect."""
        da = lang == "da"
        label = self.scale_label(lang)
        n = count_text(self.n, self.min_cell, lang)
        # n next to the number who answered both times would give the 1..min_cell-1 without a
        # score back: then the text says "the young people" without the number
        n_shown = "" if self.n_hidden else n
        if self.n < self.min_cell or not math.isfinite(self.mean_diff):
            return (f"{label}: for få besvarelser ved både {_inline(self.baseline_label)} og "
                    f"{_inline(self.followup_label)} til at vise en ændring." if da else
                    f"{label}: too few paired answers to show a change.")
        if self.mean_diff > 0:
            verb = "steg" if da else "rose"
        elif self.mean_diff < 0:
            verb = "faldt" if da else "fell"
        else:
            verb = "var uændret på" if da else "was unchanged at"
        values = (f"fra {fmt_float(self.mean_baseline, 1, lang)} til "
                  f"{fmt_float(self.mean_followup, 1, lang)}" if da else
                  f"from {fmt_float(self.mean_baseline, 1, lang)} to "
                  f"{fmt_float(self.mean_followup, 1, lang)}")
        if self.mean_diff == 0:
            values = fmt_float(self.mean_baseline, 1, lang)
        # with the number hidden, the effect size goes too: the change over d_z gives the
        # standard deviation, and with it the interval's width gives n back
        d_z = "" if self.n_hidden else (
            f"; Cohens d_z = {fmt_float(self.d_z, 2, lang)}" if da else
            f"; Cohen's d_z = {fmt_float(self.d_z, 2, lang)}")
        stats_text = (f"ændring {fmt_float(self.mean_diff, 1, lang)}; 95 %-CI "
                      f"{_interval(self.ci_low, self.ci_high, lang)}{d_z}; Wilcoxon "
                      f"{_p_text(self.wilcoxon_p, lang)}" if da else
                      f"change {fmt_float(self.mean_diff, 1, lang)}; 95% CI "
                      f"{_interval(self.ci_low, self.ci_high, lang)}{d_z}; Wilcoxon "
                      f"{_p_text(self.wilcoxon_p, lang)}")
        sure = math.isfinite(self.ci_low) and (self.ci_low > 0 or self.ci_high < 0)
        if da:
            better = "En højere score er bedre." if self.higher_is_better else \
                "En lavere score er bedre."
            chance = "" if sure else (" Intervallet rummer nul, så ændringen kan skyldes "
                                      "tilfældigheder.")
            return (f"{label}: Blandt de {n_shown} unge, der svarede både ved "
                    f"{_inline(self.baseline_label)} og ved {_inline(self.followup_label)}, "
                    f"{verb} gennemsnittet {values} ({stats_text}). {better}{chance} Der er "
                    "ingen sammenligningsgruppe, så det er en ændring i løbet af forløbet – en "
                    "sammenhæng, ikke en påvist effekt af indsatsen.").replace("  ", " ")
        better = "A higher score is better." if self.higher_is_better else \
            "A lower score is better."
        chance = "" if sure else " The interval includes zero, so the change may be chance."
        return (f"{label}: Among the {n_shown} young people who answered both at the start and at "
                f"follow-up, the mean {verb} {values} ({stats_text}). {better}{chance} There is "
                "no comparison group, so this is a change during the programme – an association, "
                "not a demonstrated effect of the intervention.").replace("  ", " ")

    def to_dict(self) -> dict[str, Any]:
        """The numbers, JSON-safe (NaN → None), without the per-person pairs."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if key == "pairs":
                continue
            if isinstance(value, float | np.floating):
                value = _num(value)
            elif isinstance(value, np.integer):
                value = int(value)
            elif isinstance(value, np.bool_):
                value = bool(value)
            out[key] = value
        return out


def paired_change(scores: pd.DataFrame, cfg: ProjectConfig, scale_id: str,
                  hidden: dict[str, bool] | None = None) -> PairedChange:
    """Mean change first → last wave with a t interval, Cohen's d_z and a Wilcoxon signed-rank p;
    ``hidden`` (:func:`survey_plan`, key ``paired:<scale>``) hides n for readers."""
    scale = _scale(cfg, scale_id)
    first, last = cfg.survey.waves[0], cfg.survey.waves[-1]
    if first == last:
        raise UserError("survey.waves: a paired change needs at least two waves")
    by_wave = scores.pivot_table(index="person_id", columns="wave", values=scale_id,
                                 aggfunc="first", dropna=False) if not scores.empty \
        else pd.DataFrame(columns=[first, last])
    pairs = by_wave.reindex(columns=[first, last]).dropna().astype("float64")
    pairs.columns = ["baseline", "followup"]
    pairs.columns.name = None
    diff = (pairs["followup"] - pairs["baseline"]).to_numpy()
    n = len(diff)
    nan = math.nan
    mean_diff = float(diff.mean()) if n else nan
    sd_diff = float(diff.std(ddof=1)) if n > 1 else nan
    ci_low = ci_high = d_z = p = nan
    if n > 1:
        se = stats.sem(diff)
        if se > 0:
            ci_low, ci_high = stats.t.interval(0.95, n - 1, loc=mean_diff, scale=se)
            d_z = mean_diff / sd_diff
        else:
            ci_low = ci_high = mean_diff
        if np.any(diff != 0):
            p = float(stats.wilcoxon(diff).pvalue)
    return PairedChange(
        scale_id=scale.id, label=scale.label, label_en=scale.label_en,
        baseline_wave=first, followup_wave=last,
        baseline_label=wave_label(cfg, first), followup_label=wave_label(cfg, last),
        n=n, mean_baseline=float(pairs["baseline"].mean()) if n else nan,
        mean_followup=float(pairs["followup"].mean()) if n else nan,
        mean_diff=mean_diff, sd_diff=sd_diff, ci_low=float(ci_low), ci_high=float(ci_high),
        d_z=float(d_z), wilcoxon_p=float(p), higher_is_better=scale.higher_is_better,
        min_cell=cfg.privacy.min_cell, pairs=pairs,
        n_answered_both=len(_answered(scores, cfg, first) & _answered(scores, cfg, last))
        if not scores.empty else 0,
        plan_hidden=bool((hidden or {}).get(f"paired:{scale.id}", False)),
    )


# -- attrition --------------------------------------------------------------------------------


@dataclass
class ScaleAttrition:
    """Baseline means of one scale among those followed up and those who answered only once."""

    scale_id: str
    label: str
    label_en: str | None
    mean_followed: float
    mean_dropped: float
    welch_p: float


@dataclass
class Attrition:
    """Who answered at follow-up versus who answered only at the start."""

    baseline_wave: str
    followup_wave: str
    baseline_label: str
    followup_label: str
    n_followed: int
    n_dropped: int
    scales: list[ScaleAttrition]
    goal_met_followed: int
    goal_met_closed_followed: int
    goal_met_dropped: int
    goal_met_closed_dropped: int
    goal_met_p: float
    target_groups: dict[str, dict[str, int]]
    """Counts per target group: {"followed": {...}, "dropped": {...}} (raw, not for readers)."""
    target_group_p: float
    min_cell: int = 5
    goal_met_unit: int = 0
    """Goal met and closed cases among all of the unit's participants (answered or not)."""
    closed_unit: int = 0
    hidden: dict[str, bool] | None = None
    """From the project-wide :func:`survey_plan`: "followed" / "dropped" hidden to protect
    another unit's count."""

    @property
    def share_followed(self) -> float:
        total = self.n_followed + self.n_dropped
        return self.n_followed / total if total else math.nan

    def summary(self, lang: str = "da") -> str:
        """Sentences for readers; counts under min_cell are 'færre end 5', never the number."""
        da = lang == "da"
        mc = self.min_cell
        base, follow = _inline(self.baseline_label), _inline(self.followup_label)
        total = self.n_followed + self.n_dropped
        if total == 0:
            return ("Ingen unge svarede ved " + base + "." if da
                    else "No young people answered at the start.")
        partner = {key for key, h in (self.hidden or {}).items() if h}
        small = bool(rate_hidden(self.n_followed, total, mc)) or bool(partner)

        def n_text(key: str, n: int) -> str:
            if key in partner and not 0 < n < mc:  # hidden to protect another unit's count
                return "et antal" if da else "a number of"
            return count_text(n, mc, lang)

        nf, nd = n_text("followed", self.n_followed), n_text("dropped", self.n_dropped)
        if da:
            head = (f"Af de {fmt_int(total, lang)} unge, der svarede ved {base}, svarede "
                    f"{nf} ({fmt_pct(self.share_followed, 0, lang)}) også ved {follow}, og {nd} "
                    f"kun ved {base}." if not small else
                    f"{nf.capitalize()} unge svarede både ved {base} og ved {follow}, og {nd} "
                    f"svarede kun ved {base}.")
        else:
            head = (f"Of the {fmt_int(total, lang)} young people who answered at the start, {nf} "
                    f"({fmt_pct(self.share_followed, 0, lang)}) also answered at follow-up and "
                    f"{nd} only at the start." if not small else
                    f"{nf.capitalize()} young people answered both at the start and at "
                    f"follow-up, and {nd} only at the start.")
        if partner and self.n_followed >= mc and self.n_dropped >= mc:
            return head + (" Grupperne sammenlignes ikke her, så en lille gruppe (her eller i "
                           "et andet delprojekt) ikke kan regnes ud." if da else " The groups "
                           "are not compared here, so that a small group (here or in another "
                           "sub-project) cannot be worked out.")
        if self.n_followed < mc or self.n_dropped < mc:
            return head + (" Grupperne er for små til at sammenligne dem." if da else
                           " The groups are too small to compare.")
        parts = [head]
        for s in self.scales:
            if not (math.isfinite(s.mean_followed) and math.isfinite(s.mean_dropped)):
                continue
            label = s.label_en if not da and s.label_en else s.label
            parts.append(
                f"{label} ved {base}: gennemsnit {fmt_float(s.mean_followed, 1, lang)} blandt "
                f"dem, der også svarede ved {follow}, og {fmt_float(s.mean_dropped, 1, lang)} "
                f"blandt dem, der kun svarede ved {base} (Welch t-test, "
                f"{_p_text(s.welch_p, lang)})." if da else
                f"{label} at the start: mean {fmt_float(s.mean_followed, 1, lang)} among those "
                f"who also answered at follow-up and {fmt_float(s.mean_dropped, 1, lang)} among "
                f"those who answered only at the start (Welch t-test, "
                f"{_p_text(s.welch_p, lang)}).")
        # those who did not answer at the start are the remainder of the unit's figures
        rest_met = self.goal_met_unit - self.goal_met_followed - self.goal_met_dropped
        rest_closed = (self.closed_unit - self.goal_met_closed_followed
                       - self.goal_met_closed_dropped)
        hidden = bool(rate_hidden(self.goal_met_followed, self.goal_met_closed_followed, mc)
                      or rate_hidden(self.goal_met_dropped, self.goal_met_closed_dropped, mc)
                      or 0 < rest_met < mc or 0 < rest_closed - rest_met < mc)
        if not hidden:
            gf = self.goal_met_followed / self.goal_met_closed_followed
            gd = self.goal_met_dropped / self.goal_met_closed_dropped
            parts.append(
                f"Målet blev indfriet af {fmt_pct(gf, 0, lang)} af de afsluttede blandt dem, der "
                f"svarede begge gange, mod {fmt_pct(gd, 0, lang)} blandt dem, der kun svarede ved "
                f"{base} (Fishers eksakte test, {_p_text(self.goal_met_p, lang)})." if da else
                f"The goal was met by {fmt_pct(gf, 0, lang)} of those finished among those who "
                f"answered both times, against {fmt_pct(gd, 0, lang)} among those who answered "
                f"only at the start (Fisher's exact test, {_p_text(self.goal_met_p, lang)}).")
        # the p-value of a table with known margins pins its cells: no test on small cells
        tg_cells = [v for g in self.target_groups.values() for v in g.values()]
        if math.isfinite(self.target_group_p) and not any(0 < v < mc for v in tg_cells):
            parts.append(
                f"Fordelingen på målgrupper i de to grupper blev sammenlignet med en χ²-test "
                f"({_p_text(self.target_group_p, lang)})." if da else
                f"The target-group mix of the two groups was compared with a χ² test "
                f"({_p_text(self.target_group_p, lang)}).")
        parts.append(
            "Adskiller de to grupper sig, gælder ændringen blandt dem, der svarede begge gange, "
            "ikke nødvendigvis for alle deltagere." if da else
            "Where the two groups differ, the change among those who answered both times need "
            "not hold for all participants.")
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The numbers, JSON-safe (NaN → None); counts are raw, as in ``outcomes``."""
        out: dict[str, Any] = {}
        for key, value in self.__dict__.items():
            if key == "scales":
                value = [{k: _num(v) if isinstance(v, float) else v for k, v in s.__dict__.items()}
                         for s in value]
            elif isinstance(value, float | np.floating):
                value = _num(value)
            elif isinstance(value, np.integer):
                value = int(value)
            out[key] = value
        out["share_followed"] = _num(self.share_followed)
        return out


def _answered(scores: pd.DataFrame, cfg: ProjectConfig, wave: str) -> set[Any]:
    """People with at least one scale score in a wave."""
    ids = [s.id for s in cfg.survey.scales]
    rows = scores[scores["wave"].eq(wave)]
    return set(rows.loc[rows[ids].notna().any(axis=1), "person_id"])


def _fisher(table: np.ndarray) -> float:
    if (table.sum(axis=0) == 0).any() or (table.sum(axis=1) == 0).any():
        return math.nan
    return float(stats.fisher_exact(table).pvalue)


def _chi2(table: pd.DataFrame) -> float:
    table = table.loc[table.sum(axis=1) > 0, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return math.nan
    return float(stats.chi2_contingency(table.to_numpy()).pvalue)


def attrition(scores: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
              hidden: dict[str, bool] | None = None) -> Attrition:
    """Answered at start and follow-up vs at start only: baseline scores, goal met, target group;
    ``hidden`` from :func:`survey_plan` ("followed", "dropped")."""
    first, last = cfg.survey.waves[0], cfg.survey.waves[-1]
    base = _answered(scores, cfg, first) if not scores.empty else set()
    later = _answered(scores, cfg, last) if not scores.empty else set()
    followed = base & later
    ids = sorted(base, key=str)
    status = pd.Series(["followed" if i in followed else "dropped" for i in ids], index=ids,
                       dtype="object", name="status")
    baseline = scores[scores["wave"].eq(first)].set_index("person_id") if not scores.empty \
        else pd.DataFrame()
    scale_rows = []
    for scale in cfg.survey.scales:
        values = baseline[scale.id].reindex(status.index) if not baseline.empty \
            else pd.Series(dtype="float64")
        a = values[status.eq("followed")].dropna().to_numpy(dtype="float64")
        b = values[status.eq("dropped")].dropna().to_numpy(dtype="float64")
        p = float(stats.ttest_ind(a, b, equal_var=False).pvalue) \
            if len(a) > 1 and len(b) > 1 else math.nan
        scale_rows.append(ScaleAttrition(scale.id, scale.label, scale.label_en,
                                         float(a.mean()) if len(a) else math.nan,
                                         float(b.mean()) if len(b) else math.nan, p))
    people = participants.set_index("person_id").reindex(status.index)
    goal = people["goal_met"] if "goal_met" in people else pd.Series(pd.NA, index=status.index)
    closed = goal.notna()
    met = goal.fillna(False).astype(bool)
    counts = {g: (int((met & closed & status.eq(g)).sum()), int((closed & status.eq(g)).sum()))
              for g in ("followed", "dropped")}
    table = np.array([[counts[g][0], counts[g][1] - counts[g][0]] for g in ("followed", "dropped")])
    if "target_group" in people:
        tg = pd.crosstab(people["target_group"], status).reindex(
            columns=["followed", "dropped"], fill_value=0)
        tg_counts = {g: {str(k): int(v) for k, v in tg[g].items()} for g in tg.columns}
        tg_p = _chi2(tg)
    else:
        tg_counts, tg_p = {"followed": {}, "dropped": {}}, math.nan
    return Attrition(
        baseline_wave=first, followup_wave=last, baseline_label=wave_label(cfg, first),
        followup_label=wave_label(cfg, last), n_followed=len(followed),
        n_dropped=len(base - followed), scales=scale_rows,
        goal_met_followed=counts["followed"][0], goal_met_closed_followed=counts["followed"][1],
        goal_met_dropped=counts["dropped"][0], goal_met_closed_dropped=counts["dropped"][1],
        goal_met_p=_fisher(table), target_groups=tg_counts, target_group_p=tg_p,
        min_cell=cfg.privacy.min_cell, **_unit_goal(participants),
        hidden={k: v for k, v in (hidden or {}).items() if k in ("followed", "dropped")},
    )


def survey_plan(responses: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig
                ) -> dict[str, dict[str, bool]]:
    """Which survey counts each unit's report hides, decided once for the whole project.

    The counts readers see per unit: who answered both times ("followed") and only at the start
    ("dropped") in the attrition text, the paired n per scale ("paired:<scale>") and the
    reliability n per scale and wave ("rel:<scale>:<wave>"). The project's are the sums of its
    delprojekter's, so a count a unit hides (under the limit, or by its own rules) must not
    follow from the project's minus the others': ``privacy.plan_across_units`` finds the
    partners. Returns {unit: {key: hidden}}.
    """
    from .privacy import plan_across_units, primary_mask

    k = cfg.privacy.min_cell
    dp = participants["delprojekt"].astype("string")
    units = ["all"] + [d for d in cfg.delprojekt_ids if dp.eq(d).any()]
    # scores and the item table once for the project; each unit takes its young people's rows
    all_scores = score_scales(responses, cfg)
    all_wide = _wide(responses) if not responses.empty else pd.DataFrame()
    counts: dict[str, dict[str, float]] = {}
    primary: dict[str, dict[str, bool]] = {}
    for u in units:
        people = participants if u == "all" else participants[dp.eq(u).to_numpy()]
        ids = set(people["person_id"])
        scores = all_scores[all_scores["person_id"].isin(ids)]
        att = attrition(scores, people, cfg)
        c: dict[str, float] = {"followed": att.n_followed, "dropped": att.n_dropped}
        p = {key: bool(primary_mask(v, k)) for key, v in c.items()}
        first, last = cfg.survey.waves[0], cfg.survey.waves[-1]
        both = len(_answered(scores, cfg, first) & _answered(scores, cfg, last)) \
            if not scores.empty else 0
        for scale in cfg.survey.scales:  # paired_change's n, without its tests
            by_wave = scores.pivot_table(index="person_id", columns="wave", values=scale.id,
                                         aggfunc="first", dropna=False) if not scores.empty \
                else pd.DataFrame(columns=[first, last])
            n = int(len(by_wave.reindex(columns=[first, last]).dropna()))
            c[f"paired:{scale.id}"] = n
            p[f"paired:{scale.id}"] = bool(primary_mask(n, k)) or 0 < both - n < k
        wide = (all_wide[all_wide.index.get_level_values("person_id").isin(ids)]
                if not all_wide.empty else all_wide)
        for scale, wave, n, n_hidden in _reliability_counts(wide, scores, cfg):
            c[f"rel:{scale.id}:{wave}"] = n
            # next to the paired n, a reliability n says how many have a score one time only
            gap = abs(n - c[f"paired:{scale.id}"])
            p[f"rel:{scale.id}:{wave}"] = n_hidden or 0 < gap < k
        # the unit's participants minus those who answered at the start: 1..k-1 never answered,
        # so the attrition text may not give its total (it leaves "only at the start" out)
        never = len(people) - att.n_followed - att.n_dropped
        if 0 < never < k:
            p["dropped"] = True
        counts[u], primary[u] = c, p
    return plan_across_units(counts, primary, k)


def _reliability_counts(wide: pd.DataFrame, scores: pd.DataFrame, cfg: ProjectConfig
                        ) -> list[tuple[Any, str, int, bool]]:
    """Per scale and wave: the n of Cronbach's α (complete cases) and whether readers may not
    see it (under the limit, or 1..min_cell-1 of those who answered left an item out)."""
    k = cfg.privacy.min_cell
    respondents = ({w: len(_answered(scores, cfg, w)) for w in cfg.survey.waves}
                   if not scores.empty else {})
    out = []
    for scale in cfg.survey.scales:
        for wave in cfg.survey.waves:
            if wide.empty or wave not in wide.index.get_level_values("wave"):
                out.append((scale, wave, 0, False))
                continue
            items = _items(wide.xs(wave, level="wave"), cfg, scale)
            n = int(cronbach_alpha(items)[1])
            answered = [int(items.notna().any(axis=1).sum()), respondents.get(wave, 0)]
            out.append((scale, wave, n, 0 < n < k or any(0 < a - n < k for a in answered)))
    return out


def _unit_goal(participants: pd.DataFrame) -> dict[str, int]:
    """Goal met and closed cases of all participants, for the attrition text's remainder."""
    if "goal_met" not in participants:
        return {"goal_met_unit": 0, "closed_unit": 0}
    goal = participants["goal_met"]
    return {"goal_met_unit": int(goal.fillna(False).astype(bool).sum()),
            "closed_unit": int(goal.notna().sum())}
