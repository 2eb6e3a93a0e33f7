"""Måltal: the funder's figures for the whole project or one delprojekt.

``maaltal(participants, cfg, unit)`` counts participants by canonical outcome (in config order)
and outcome group, gives the success rate (goal met among participants who have finished, with
a Wilson 95 % interval) overall and by delprojekt, target group, gender and age band, compares
with the project's targets and gives the cost per participant and per goal met.

Conventions:

- *Shares* are proportions (0.65), never percentages; ``table(lang=...)`` shows them as percent.
- ``share_of_participants`` has every participant in the denominator (active included);
  ``share_of_closed`` and every success rate have only the *closed* (non-active) participants
  in the denominator, because an active young person's outcome is not known yet.
- Counts are raw: disclosure control (suppression of small cells) is applied where tables are
  shown to readers (``ungeanalyse.privacy``), never here. Every rate carries its ``n``. Which
  counts the readers' tables hide is decided here, once for all units of the project
  (:func:`disclosure_plan`), and carried as ``Maaltal.masks``.
- Young people with *status ukendt* count as not having met the goal in every success rate (the
  lower bound). Each rate also has its upper bound, with them counted as goal met
  (``success_upper``, ``rate_upper``); the pair is shown as a range where it changes the reading
  (:func:`unknown_changes_reading`, :data:`UNKNOWN_RULE_DA`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import i18n
from . import units as _units  # (a local 'units' lists a plan's units)
from .config import GROUP_LABELS, OUTCOME_GROUPS, ProjectConfig
from .errors import UserError

LANGS = ("da", "en")

GENDER_LABELS = {
    "da": {"kvinde": "Kvinde", "mand": "Mand"},
    "en": {"kvinde": "Female", "mand": "Male"},
}

DIMENSIONS = ("delprojekt", "target_group", "gender", "age_band")
"""The breakdowns of måltal, in report order."""

HEADLINE_DIMENSIONS = ("target_group", "gender")
"""Breakdowns whose sizes and goal counts the disclosure plan treats as headline figures, with
the delprojekter's (far dearer to hide than a detail: still active, unknown status, an outcome
code, an age band)."""

DIMENSION_LABELS = {
    "da": {"delprojekt": "Delprojekt", "target_group": "Målgruppe", "gender": "Køn",
           "age_band": "Alder ved start"},
    "en": {"delprojekt": "Sub-project", "target_group": "Target group", "gender": "Gender",
           "age_band": "Age at start"},
}

COLUMN_LABELS = {
    "da": {
        "code": "Kode", "label": "Status", "group": "Gruppe", "group_label": "Gruppe",
        "n": "Antal", "share_of_participants": "% af alle deltagere",
        "share_of_closed": "% af afsluttede", "dimension": "Opdeling", "category": "Kode",
        "category_label": "Kategori", "n_participants": "Deltagere",
        "n_active": "Stadig i forløb", "n_closed": "Afsluttede (n)",
        "goal_met": "Mål indfriet (antal)", "rate": "Mål indfriet (%)",
        "ci_low": "95 %-CI, nedre (%)", "ci_high": "95 %-CI, øvre (%)",
        "target": "Mål", "target_label": "Målsætning", "target_value": "Målværdi",
        "actual": "Opnået", "attainment": "Opnået i % af målet", "position": "Placering",
        "rule": "Regel", "unknown": "Status ukendt (antal)",
        "rate_upper": "Mål indfriet, ukendt talt som indfriet (%)",
        "unknown_matters": "Ukendt status ændrer aflæsningen",
        "actual_upper": "Opnået, ukendt talt som indfriet",
        "position_upper": "Placering, ukendt talt som indfriet",
    },
    "en": {
        "code": "Code", "label": "Status", "group": "Group", "group_label": "Group",
        "n": "Number", "share_of_participants": "% of all participants",
        "share_of_closed": "% of closed", "dimension": "Breakdown", "category": "Code",
        "category_label": "Category", "n_participants": "Participants",
        "n_active": "Still active", "n_closed": "Closed (n)",
        "goal_met": "Goal met (number)", "rate": "Goal met (%)",
        "ci_low": "95 % CI, lower (%)", "ci_high": "95 % CI, upper (%)",
        "target": "Target", "target_label": "Target", "target_value": "Target value",
        "actual": "Achieved", "attainment": "Achieved, % of target", "position": "Position",
        "rule": "Rule", "unknown": "Status unknown (number)",
        "rate_upper": "Goal met, unknown counted as met (%)",
        "unknown_matters": "Unknown status changes the reading",
        "actual_upper": "Achieved, unknown counted as met",
        "position_upper": "Position, unknown counted as met",
    },
}
_PERCENT_COLUMNS = {"share_of_participants", "share_of_closed", "rate", "ci_low", "ci_high",
                    "attainment", "rate_upper"}

TARGET_RULE_DA = (
    "Andelen med mål indfriet ligger over målet, når hele 95 %-konfidensintervallet ligger over "
    "målet; under målet, når hele intervallet ligger under; ellers ligger den omkring målet "
    "(data kan ikke skelne den fra målet)."
)
TARGET_RULE_EN = (
    "The share with the goal met is above the target when the whole 95 % confidence interval "
    "lies above it, below when the whole interval lies below it, and around the target otherwise "
    "(the data cannot tell it apart from the target)."
)
TARGET_LABELS = {
    "da": {"participants": "Antal deltagere", "goal_met_count": "Antal med mål indfriet",
           "goal_met_share": "Andel med mål indfriet"},
    "en": {"participants": "Participants", "goal_met_count": "Number with the goal met",
           "goal_met_share": "Share with the goal met"},
}
_TARGET_RULES = {
    "da": {"participants": "Antal deltagere i forhold til målet.",
           "goal_met_count": "Antal med mål indfriet i forhold til målet.",
           "goal_met_share": TARGET_RULE_DA},
    "en": {"participants": "Number of participants against the target.",
           "goal_met_count": "Number with the goal met against the target.",
           "goal_met_share": TARGET_RULE_EN},
}
UNKNOWN_RULE_DA = (
    "Unge med ukendt status tæller som ikke indfriet i succesraten. Talt som indfriet giver de "
    "den højeste mulige succesrate; de to vises som et spænd, hvor det ændrer aflæsningen: når "
    "et mål ligger i spændet eller vurderingen mod målet skifter, eller når den højeste rate "
    "ligger uden for 95 %-konfidensintervallet for den laveste og de to afrundet til hele "
    "procent er forskellige (de ukendte kan da flytte raten mere end den statistiske "
    "usikkerhed)."
)
UNKNOWN_RULE_EN = (
    "Young people with unknown status count as not having met the goal in the success rate. "
    "Counted as goal met they give the highest possible rate; the two are shown as a range "
    "where this changes the reading: when a target lies in the range or the assessment against "
    "it changes, or when the highest rate lies outside the 95% confidence interval of the "
    "lowest and the two differ in whole percent (the unknown statuses can then move the rate "
    "more than the sampling uncertainty does)."
)
GAP_RULE_DA = (
    "En forskel i succesrate mellem målgrupperne nævnes som fund, når dens 95 %-"
    "konfidensinterval (Newcombe; Bonferroni-justeret ved flere end to målgrupper) ikke "
    "indeholder 0, også når de unge med ukendt status i gruppen med den laveste rate tælles "
    "som indfriet."
)
GAP_RULE_EN = (
    "A difference in success rate between target groups is reported as a finding when its 95% "
    "confidence interval (Newcombe; Bonferroni-adjusted with more than two target groups) "
    "excludes 0, also when the young people with unknown status in the group with the lower "
    "rate are counted as goal met."
)
POSITION_LABELS = {lang: {p: i18n.t(f"position.{p}", lang) for p in ("above", "below", "around")}
                   for lang in i18n.LANGS}
"""A target position code ('below') as each report language says it (the i18n catalogue)."""


# -- small shared helpers (also used by ungeanalyse.realist) -----------------------------------


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is a report language ("da" or "en"), else raise a UserError."""
    if lang not in LANGS:
        raise UserError(f"lang must be 'da' or 'en', not {lang!r}")
    return lang


def wilson(k: int, n: int, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for k of n (statsmodels); (nan, nan) when n is 0."""
    if n <= 0:
        return (math.nan, math.nan)
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(int(k), int(n), alpha=alpha, method="wilson")
    return (float(low), float(high))


@dataclass(frozen=True)
class Rate:
    """k of n with the proportion and its Wilson 95 % interval."""

    k: int
    n: int
    rate: float
    ci_low: float
    ci_high: float

    @classmethod
    def of(cls, k: int, n: int) -> Rate:
        """The rate k/n with its Wilson interval (nan when n is 0)."""
        low, high = wilson(k, n)
        return cls(int(k), int(n), k / n if n else math.nan, low, high)

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-serialisable values (nan becomes None)."""
        return jsonable({"k": self.k, "n": self.n, "rate": self.rate, "ci_low": self.ci_low,
                         "ci_high": self.ci_high})

    def text(self, lang: str = "da") -> str:
        """'126 af 195 (65 %; 95 %-CI 58 %–71 %)' in the report language."""
        of, ci = ("af", "95 %-CI") if lang == "da" else ("of", "95 % CI")
        return (f"{self.k} {of} {self.n} ({pct(self.rate)}; {ci} {pct(self.ci_low)}–"
                f"{pct(self.ci_high)})")

    def __str__(self) -> str:
        return self.text("da")


def target_position(rate: Rate, target: float | None) -> str | None:
    """'above', 'below' or 'around' a share target by the interval rule (None without data)."""
    if target is None or rate.n == 0:
        return None
    if rate.ci_low > target:
        return "above"
    if rate.ci_high < target:
        return "below"
    return "around"


def unknown_changes_reading(lower: Rate, upper: Rate, target: float | None = None) -> bool:
    """Whether counting *status ukendt* as goal met (``upper``) instead of not met (``lower``,
    the rate the report gives) changes how a reader reads the rate.

    It does when (1) a share target lies in the range (lower.rate < target <= upper.rate) or
    the position against it by the interval rule (:func:`target_position`) differs between
    the two, or (2) the upper rate lies outside the lower rate's Wilson 95 % interval (the
    unknown statuses could move the rate by more than the sampling uncertainty the report
    already shows) and the two rates differ when shown in whole percent. With no unknown
    status, or no closed case, it never does.
    """
    if lower.n == 0 or upper.k == lower.k:
        return False
    if target is not None and (lower.rate < target <= upper.rate
                               or target_position(lower, target)
                               != target_position(upper, target)):
        return True
    outside = not (lower.ci_low <= upper.rate <= lower.ci_high)
    return outside and round(100 * lower.rate) != round(100 * upper.rate)


@dataclass(frozen=True)
class RateGap:
    """The difference in success rate between two categories: ``low`` minus ``high``."""

    low: str
    high: str
    low_rate: Rate
    high_rate: Rate
    difference: float
    ci_low: float
    ci_high: float
    alpha: float
    worst_ci_high: float
    """Upper limit of the difference's interval with ``low``'s unknown statuses as goal met."""

    @property
    def supported(self) -> bool:
        """The interval excludes 0, also with the lower group's unknown statuses as goal met."""
        return bool(self.ci_high < 0 and self.worst_ci_high < 0)

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON-serialisable values."""
        return jsonable({"low": self.low, "high": self.high, "low_rate": self.low_rate.to_dict(),
                         "high_rate": self.high_rate.to_dict(), "difference": self.difference,
                         "ci_low": self.ci_low, "ci_high": self.ci_high, "alpha": self.alpha,
                         "worst_ci_high": self.worst_ci_high, "supported": self.supported})


def _newcombe(k1: int, n1: int, k2: int, n2: int, alpha: float) -> tuple[float, float]:
    """Newcombe hybrid-score interval for k1/n1 − k2/n2 (statsmodels)."""
    import warnings

    from statsmodels.stats.proportion import confint_proportions_2indep

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb",
                                               compare="diff", alpha=alpha)
    return float(low), float(high)


def rate_gaps(table: pd.DataFrame, alpha: float = 0.05) -> list[RateGap]:
    """Every pair of categories of a breakdown with closed cases, lower rate first, with a
    Newcombe interval at level 1 − alpha/m (m pairs, Bonferroni) for the difference; largest
    gap first. ``table`` is a breakdown (category, goal_met, n_closed, unknown)."""
    rows = [r for r in table.to_dict(orient="records") if r["n_closed"] > 0]
    m = len(rows) * (len(rows) - 1) // 2
    out = []
    for i, a in enumerate(rows):
        for b in rows[i + 1:]:
            low, high = (a, b) if a["goal_met"] / a["n_closed"] <= b["goal_met"] / b["n_closed"] \
                else (b, a)
            level = alpha / m
            lo, hi = _newcombe(low["goal_met"], low["n_closed"], high["goal_met"],
                               high["n_closed"], level)
            worst = _newcombe(low["goal_met"] + int(low.get("unknown", 0)), low["n_closed"],
                              high["goal_met"], high["n_closed"], level)[1]
            lr, hr = Rate.of(low["goal_met"], low["n_closed"]), Rate.of(high["goal_met"],
                                                                         high["n_closed"])
            out.append(RateGap(str(low["category"]), str(high["category"]), lr, hr,
                               lr.rate - hr.rate, lo, hi, level, worst))
    return sorted(out, key=lambda g: g.difference)


def jsonable(obj: Any) -> Any:
    """Turn numpy scalars, NaN, tuples and DataFrames into plain JSON-serialisable values."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.to_dict(orient="records")]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return None if not np.isfinite(obj) else float(obj)
    if obj is pd.NA or obj is pd.NaT or obj is None:
        return None
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return obj


def pct(x: float | None, digits: int = 0) -> str:
    """A share as Danish percent text: 0.646 → '65 %' ('–' when missing)."""
    if x is None or not np.isfinite(x):
        return "–"
    return f"{100 * x:.{digits}f}".replace(".", ",") + " %"


def kr(x: float | None) -> str:
    """An amount as Danish kroner text: 25345510 → '25.345.510 kr.'."""
    if x is None or not np.isfinite(x):
        return "–"
    return f"{x:,.0f}".replace(",", ".") + " kr."


def require_columns(df: pd.DataFrame, columns: list[str], what: str) -> None:
    """Raise a UserError naming the missing columns of a clean table."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise UserError(
            f"{what}: the participants table lacks the column(s) {', '.join(missing)}; it should "
            "be the clean participants table (see ungeanalyse.schemas). Columns present: "
            f"{', '.join(map(str, df.columns))}"
        )


def select_unit(participants: pd.DataFrame, cfg: ProjectConfig, unit: str) -> pd.DataFrame:
    """The participants of a unit (``units.select``: the one place that decides)."""
    return _units.select(participants, cfg, unit)


def unit_label(cfg: ProjectConfig, unit: str, lang: str = "da") -> str:
    """The unit's name for reports (``units.label``)."""
    return _units.label(cfg, unit, lang)


def category_labels(cfg: ProjectConfig, dimension: str, lang: str = "da") -> dict[str, str]:
    """Code → report label for the categories of a breakdown, in config order."""
    if dimension == "delprojekt":
        return {d.id: d.tr("name", lang) for d in cfg.delprojekter}
    if dimension == "target_group":
        return {code: g.text(lang) for code, g in cfg.target_groups.items()}
    if dimension == "gender":
        return dict(GENDER_LABELS[lang])
    if dimension == "age_band":
        b = cfg.age.bands
        return {f"{lo}–{hi - 1}": f"{lo}–{hi - 1} år" if lang == "da" else f"{lo}–{hi - 1}"
                for lo, hi in zip(b[:-1], b[1:], strict=True)}
    return {}


def _ordered_categories(values: pd.Series, known: dict[str, str]) -> list[str]:
    seen = [str(v) for v in values.dropna().unique()]
    return [c for c in known if c in seen] + sorted(c for c in seen if c not in known)


def _outcome_groups(participants: pd.DataFrame, cfg: ProjectConfig) -> pd.Series:
    codes = participants["outcome"].astype("category")  # work per distinct code
    unknown = sorted(set(codes.cat.categories.astype(str)) - set(cfg.outcomes))
    if unknown or codes.isna().any():
        bad = unknown + (["(empty)"] if codes.isna().any() else [])
        raise UserError(
            f"participants.outcome holds code(s) not in the config's outcomes: {', '.join(bad)}; "
            f"known: {', '.join(cfg.outcomes)}. Re-run the clean stage or add them to outcomes:"
        )
    return codes.map(cfg.group_of()).astype(str)


# -- result ------------------------------------------------------------------------------------


@dataclass
class TargetCheck:
    """One target of the funder compared with what the unit achieved."""

    target: str
    target_label: str
    target_value: float
    actual: float
    attainment: float
    ci_low: float | None = None
    ci_high: float | None = None
    position: str | None = None
    rule: str = ""
    actual_upper: float | None = None
    """What is achieved with *status ukendt* counted as goal met (None for a participant
    target)."""
    position_upper: str | None = None
    unknown_matters: bool = False
    """Whether the range actual–actual_upper changes the reading (the target lies in it, or the
    position changes; for a share also :func:`unknown_changes_reading`)."""

    def to_dict(self) -> dict[str, Any]:
        """The comparison as JSON-serialisable values."""
        return jsonable(self.__dict__)


@dataclass
class Maaltal:
    """Måltal of one unit: counts by outcome and group, success rates, targets, cost, breakdowns.

    Machine-named DataFrames: ``outcomes`` (code, label, group, group_label, n,
    share_of_participants, share_of_closed), ``groups`` (group, label, n, share_of_participants,
    share_of_closed) and ``breakdowns[dim]`` for dim in delprojekt, target_group, gender,
    age_band (dimension, category, category_label, n_participants, n_active, n_closed, goal_met,
    rate, ci_low, ci_high). ``table(name, lang)`` gives any of them with report labels.
    """

    unit: str
    unit_label: str
    lang: str
    n_participants: int
    n_active: int
    n_closed: int
    goal_met: int
    success: Rate
    outcomes: pd.DataFrame
    groups: pd.DataFrame
    breakdowns: dict[str, pd.DataFrame]
    targets: list[TargetCheck]
    budget_kr: float | None
    cost_per_participant: float | None
    cost_per_goal_met: float | None
    notes: list[str] = field(default_factory=list)
    labels: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict, repr=False)
    """Report labels per language: {lang: {"outcome"|"group"|"target"|<dimension>: {code: label}}},
    so that ``table(lang=...)`` can relabel the rows, not only the headers."""
    masks: dict[str, Any] | None = field(default=None, repr=False)
    """What the unit's reader tables hide, from the project-wide :func:`disclosure_plan`."""
    n_unknown: int = 0
    success_upper: Rate | None = None
    """The success rate with *status ukendt* counted as goal met (the upper bound)."""
    unknown_matters: bool = False
    """Whether success–success_upper changes the reading (:func:`unknown_changes_reading`)."""
    target_group_gaps: list[RateGap] = field(default_factory=list)
    """Differences in success rate between target groups (:func:`rate_gaps`)."""

    @property
    def success_rate(self) -> float:
        """Goal met among closed (non-active) participants."""
        return self.success.rate

    @property
    def success_by_target_group(self) -> pd.DataFrame:
        """The success rate per target group with Wilson intervals."""
        return self.breakdowns["target_group"]

    def group_count(self, group: str) -> int:
        """Participants in an outcome group (goal_met, derived_effect, not_met, unknown, active)."""
        return int(self.groups.set_index("group").loc[group, "n"])

    def outcome_count(self, code: str) -> int:
        """Participants with a canonical outcome code."""
        return int(self.outcomes.set_index("code").loc[code, "n"])

    def target_table(self) -> pd.DataFrame:
        """The target comparison as a tidy table (one row per target in the config)."""
        cols = ["target", "target_label", "target_value", "actual", "attainment", "ci_low",
                "ci_high", "position", "rule", "actual_upper", "position_upper",
                "unknown_matters"]
        return pd.DataFrame([t.__dict__ for t in self.targets], columns=cols)

    def table(self, name: str = "outcomes", lang: str | None = None) -> pd.DataFrame:
        """A table with report labels: 'outcomes', 'groups', 'targets' or a breakdown name.

        Shares are shown as percent (0.646 → 64.6); machine codes are dropped.
        """
        lang = check_lang(lang or self.lang)
        labels = self.labels.get(lang, {})

        def relabel(df: pd.DataFrame, col: str, code_col: str, kind: str) -> None:
            if kind in labels:
                df[col] = [labels[kind].get(c, old) for c, old in
                           zip(df[code_col], df[col], strict=True)]

        if name == "outcomes":
            df = self.outcomes.copy()
            relabel(df, "label", "code", "outcome")
            relabel(df, "group_label", "group", "group")
            df = df.drop(columns=["code", "group"])
        elif name == "groups":
            df = self.groups.copy()
            relabel(df, "label", "group", "group")
            df = df.drop(columns=["group"])
        elif name == "targets":
            df = self.target_table()
            relabel(df, "target_label", "target", "target")
            relabel(df, "rule", "target", "target_rule")
            df["position"] = df["position"].map(
                lambda x: POSITION_LABELS[lang].get(x, x) if isinstance(x, str) else x)
            share = df["target"].eq("goal_met_share")
            df["position_upper"] = df["position_upper"].map(
                lambda x: POSITION_LABELS[lang].get(x, x) if isinstance(x, str) else x)
            # a share target is shown in percent too
            for col in ("target_value", "actual", "actual_upper"):
                df[col] = df[col].astype(float).where(~share, (100 * df[col]).round(1))
            df = df.drop(columns=["target"])
        elif name in self.breakdowns:
            df = self.breakdowns[name].copy()
            relabel(df, "category_label", "category", name)
            df = df.drop(columns=["dimension", "category"])
            df = df.rename(columns={"category_label": DIMENSION_LABELS[lang][name]})
        else:
            raise UserError(f"Unknown måltal table {name!r}; choose outcomes, groups, targets or "
                            f"one of {', '.join(self.breakdowns)}")
        df = df.copy()
        for col in df.columns:
            if col in _PERCENT_COLUMNS:
                df[col] = (100 * df[col].astype(float)).round(1)
        return df.rename(columns=COLUMN_LABELS[lang])

    def summary(self) -> str:
        """Key figures as a few lines of text in the result's language."""
        da = self.lang == "da"
        lang = self.lang
        lines = [f"Måltal: {self.unit_label}" if da else f"Key figures: {self.unit_label}",
                 (f"Deltagere: {self.n_participants} (heraf {self.n_active} stadig i forløb)" if da
                  else f"Participants: {self.n_participants} ({self.n_active} still active)"),
                 (f"Mål indfriet: {self.goal_met} ({pct(self.goal_met / self.n_participants)} "
                  "af alle deltagere)" if da and self.n_participants else
                  f"Goal met: {self.goal_met}"),
                 (f"Succesrate (af afsluttede): {self.success.text(lang)}" if da
                  else f"Success rate (of closed): {self.success.text(lang)}")]
        if self.success_upper is not None and self.n_unknown:
            lines.append((f"  med ukendt status ({self.n_unknown}) som indfriet: "
                          f"{pct(self.success_upper.rate)}" if da else
                          f"  with unknown status ({self.n_unknown}) as goal met: "
                          f"{pct(self.success_upper.rate)}")
                         + (" (ændrer aflæsningen)" if da and self.unknown_matters else
                            " (changes the reading)" if self.unknown_matters else ""))
        for row in self.breakdowns["target_group"].itertuples():
            lines.append(f"  {row.category_label}: {row.goal_met} {'af' if da else 'of'} "
                         f"{row.n_closed} ({pct(row.rate)})")
        for t in self.targets:
            if t.target == "goal_met_share":
                lines.append(f"{t.target_label}: {pct(t.actual)} ({pct(t.ci_low)}–"
                             f"{pct(t.ci_high)}) / {pct(t.target_value)}"
                             f" ({POSITION_LABELS[self.lang].get(t.position or '', '–')})")
                continue
            lines.append(f"{t.target_label}: {t.actual:g} / {t.target_value:g}"
                         + (f" ({POSITION_LABELS[self.lang][t.position]})" if t.position else ""))
        if self.cost_per_participant is not None:
            lines.append((f"Udgift pr. deltager: {kr(self.cost_per_participant)}; pr. mål "
                          f"indfriet: {kr(self.cost_per_goal_met)}") if da else
                         (f"Cost per participant: {kr(self.cost_per_participant)}; per goal "
                          f"met: {kr(self.cost_per_goal_met)}"))
        lines += [f"NB: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Key figures and tables as JSON-serialisable values for the text notebook."""
        return jsonable({
            "unit": self.unit,
            "unit_label": self.unit_label,
            "lang": self.lang,
            "n_participants": self.n_participants,
            "n_active": self.n_active,
            "n_closed": self.n_closed,
            "goal_met": self.goal_met,
            "goal_met_share_of_participants": (self.goal_met / self.n_participants
                                               if self.n_participants else None),
            "success": self.success.to_dict(),
            "n_unknown": self.n_unknown,
            "success_upper": self.success_upper.to_dict() if self.success_upper else None,
            "unknown_matters": self.unknown_matters,
            "unknown_rule": UNKNOWN_RULE_DA if self.lang == "da" else UNKNOWN_RULE_EN,
            "target_group_gaps": [g.to_dict() for g in self.target_group_gaps],
            "gap_rule": GAP_RULE_DA if self.lang == "da" else GAP_RULE_EN,
            "outcomes": self.outcomes,
            "groups": self.groups,
            "breakdowns": {k: v for k, v in self.breakdowns.items()},
            "targets": [t.to_dict() for t in self.targets],
            "target_rule": TARGET_RULE_DA if self.lang == "da" else TARGET_RULE_EN,
            "budget_kr": self.budget_kr,
            "cost_per_participant": self.cost_per_participant,
            "cost_per_goal_met": self.cost_per_goal_met,
            "notes": self.notes,
            "masks": self.masks,
        })


# -- computation -------------------------------------------------------------------------------


BREAKDOWN_COLUMNS = ["dimension", "category", "category_label", "n_participants", "n_active",
                     "n_closed", "goal_met", "rate", "ci_low", "ci_high", "unknown",
                     "rate_upper", "unknown_matters"]
"""A breakdown's columns: ``unknown`` counts *status ukendt*, ``rate_upper`` is the rate with
them as goal met, ``unknown_matters`` whether the pair changes the reading."""


def breakdown(participants: pd.DataFrame, cfg: ProjectConfig, dimension: str,
              lang: str = "da") -> pd.DataFrame:
    """Success rate (goal met / closed) with Wilson CI per category of one column, and its
    upper bound with *status ukendt* counted as goal met."""
    require_columns(participants, [dimension, "outcome"], f"breakdown by {dimension}")
    group = _outcome_groups(participants, cfg)
    known = category_labels(cfg, dimension, lang)
    values = participants[dimension].astype("string")
    # Target groups and genders are listed even when empty; delprojekter and age bands only
    # when someone is in them (a delprojekt unit does not list the other delprojekter).
    cats = _ordered_categories(values, known)
    if dimension in ("target_group", "gender"):
        cats = list(known) + [c for c in cats if c not in known]
    rows = []
    for cat in cats:
        inside = values.eq(cat).fillna(False).to_numpy(dtype=bool)
        g = group[inside]
        n_active = int(g.eq("active").sum())
        n_closed = int(len(g) - n_active)
        k = int(g.eq("goal_met").sum())
        unknown = int(g.eq("unknown").sum())
        r, upper = Rate.of(k, n_closed), Rate.of(k + unknown, n_closed)
        rows.append({"dimension": dimension, "category": cat,
                     "category_label": known.get(cat, cat), "n_participants": int(len(g)),
                     "n_active": n_active, "n_closed": n_closed, "goal_met": k,
                     "rate": r.rate, "ci_low": r.ci_low, "ci_high": r.ci_high,
                     "unknown": unknown, "rate_upper": upper.rate,
                     "unknown_matters": unknown_changes_reading(
                         r, upper, cfg.targets.goal_met_share)})
    return pd.DataFrame(rows, columns=BREAKDOWN_COLUMNS)


def _targets(cfg: ProjectConfig, unit: str, n: int, goal_met: int, success: Rate,
             lang: str, notes: list[str], n_unknown: int = 0) -> list[TargetCheck]:
    """The unit's targets against what it achieved, with the bounds for *status ukendt*."""
    t = cfg.targets
    da = lang == "da"
    out = []
    if unit == "all":
        if t.participants is not None:
            out.append(TargetCheck("participants", TARGET_LABELS[lang]["participants"],
                                   t.participants, n,
                                   n / t.participants if t.participants else math.nan,
                                   rule=_TARGET_RULES[lang]["participants"]))
        if t.goal_met_count is not None:
            upper = goal_met + n_unknown
            out.append(TargetCheck("goal_met_count", TARGET_LABELS[lang]["goal_met_count"],
                                   t.goal_met_count, goal_met,
                                   goal_met / t.goal_met_count if t.goal_met_count else math.nan,
                                   rule=_TARGET_RULES[lang]["goal_met_count"],
                                   actual_upper=upper,
                                   unknown_matters=goal_met < t.goal_met_count <= upper))
    elif t.participants is not None or t.goal_met_count is not None:
        notes.append("Målene for antal gælder hele projektet og sammenlignes ikke for et "
                     "delprojekt." if da else "Count targets are for the whole project and are "
                     "not compared for a sub-project.")
    if t.goal_met_share is not None:
        target = t.goal_met_share
        upper = Rate.of(success.k + n_unknown, success.n)
        out.append(TargetCheck("goal_met_share", TARGET_LABELS[lang]["goal_met_share"], target,
                               success.rate,
                               success.rate / target if target else math.nan,
                               success.ci_low, success.ci_high, target_position(success, target),
                               _TARGET_RULES[lang]["goal_met_share"],
                               actual_upper=upper.rate,
                               position_upper=target_position(upper, target),
                               unknown_matters=unknown_changes_reading(success, upper, target)))
        if unit != "all":
            notes.append("Målet for andelen gælder hele projektet; det er vist til sammenligning."
                         if da else "The share target is for the whole project; shown for "
                         "comparison.")
    return out


def maaltal(participants: pd.DataFrame, cfg: ProjectConfig, unit: str = "all",
            lang: str = "da", masks: dict[str, Any] | None = None) -> Maaltal:
    """Måltal for the whole project (unit="all") or one delprojekt id, from the clean table.

    ``masks`` is the unit's måltal plan from the disclosure step (``disclosure.load_masks``,
    key ``maaltal``); without it the plan is computed here from ``participants``, which must
    then be the whole project's."""
    check_lang(lang)
    require_columns(participants, ["outcome", "delprojekt", "target_group"], "maaltal")
    df = select_unit(participants, cfg, unit)
    da = lang == "da"
    notes: list[str] = []
    group = _outcome_groups(df, cfg)
    n = int(len(df))
    n_active = int(group.eq("active").sum())
    n_closed = n - n_active
    goal_met = int(group.eq("goal_met").sum())
    n_unknown = int(group.eq("unknown").sum())
    success = Rate.of(goal_met, n_closed)
    success_upper = Rate.of(goal_met + n_unknown, n_closed)

    labels = cfg.outcome_labels(lang)
    codes = df["outcome"].astype(str)
    rows = []
    for code, o in cfg.outcomes.items():
        k = int(codes.eq(code).sum())
        rows.append({"code": code, "label": labels[code], "group": o.group,
                     "group_label": GROUP_LABELS[lang][o.group], "n": k,
                     "share_of_participants": k / n if n else math.nan,
                     "share_of_closed": (k / n_closed if n_closed else math.nan)
                     if o.group != "active" else math.nan})
    outcomes = pd.DataFrame(rows)
    grows = []
    for g in OUTCOME_GROUPS:
        k = int(group.eq(g).sum())
        grows.append({"group": g, "label": GROUP_LABELS[lang][g], "n": k,
                      "share_of_participants": k / n if n else math.nan,
                      "share_of_closed": (k / n_closed if n_closed else math.nan)
                      if g != "active" else math.nan})
    groups = pd.DataFrame(grows)

    # the notes reach readers, whose tables may hide the number still active (as a small count
    # or to protect another): the note gives neither it nor the number of closed cases
    notes.append(
        ("Unge, der stadig er i forløb, indgår ikke i succesraten: den er mål indfriet blandt de "
         f"afsluttede forløb. »% af alle deltagere« har alle {n} i nævneren.") if da else
        ("Young people still active are excluded from the success rate: it is goal met among "
         f"closed cases. “% of all participants” has all {n} in the denominator.")
    )
    if n == 0:
        notes.append("Ingen deltagere i denne enhed." if da else "No participants in this unit.")

    breakdowns = {}
    for dim in DIMENSIONS:
        if dim in df.columns:
            breakdowns[dim] = breakdown(df, cfg, dim, lang)
        else:
            notes.append((f"Kolonnen {dim} mangler; ingen opdeling på "
                          f"{DIMENSION_LABELS['da'][dim].lower()}.") if da else
                         f"Column {dim} is missing; no breakdown by it.")

    targets = _targets(cfg, unit, n, goal_met, success, lang, notes, n_unknown)

    budget = float(cfg.project.budget_kr) if cfg.project.budget_kr else None
    if unit == "all" and budget is not None:
        cost_pp = budget / n if n else None
        cost_goal = budget / goal_met if goal_met else None
        notes.append("Udgift pr. deltager og pr. mål indfriet er hele budgettet divideret med "
                     "antallet; udgifter til aktive deltagere er ikke trukket fra." if da else
                     "Cost per participant and per goal met is the whole budget divided by the "
                     "count; spending on active participants is not deducted.")
    else:
        cost_pp = cost_goal = None
        if unit != "all":
            notes.append("Budgettet er ikke fordelt på delprojekter; udgift pr. deltager vises kun "
                         "for hele projektet." if da else "The budget is not split by "
                         "sub-project; cost per participant is given for the whole project only.")
    if masks is None:
        masks = disclosure_plan(participants, cfg).get(unit) if n else None
    return Maaltal(unit=unit, unit_label=unit_label(cfg, unit, lang), lang=lang,
                   n_participants=n, n_active=n_active, n_closed=n_closed, goal_met=goal_met,
                   success=success, outcomes=outcomes, groups=groups, breakdowns=breakdowns,
                   targets=targets, budget_kr=budget if unit == "all" else None,
                   cost_per_participant=cost_pp, cost_per_goal_met=cost_goal, notes=notes,
                   labels={lg: _labels(cfg, lg) for lg in LANGS}, masks=masks,
                   n_unknown=n_unknown, success_upper=success_upper,
                   unknown_matters=unknown_changes_reading(success, success_upper,
                                                           cfg.targets.goal_met_share),
                   target_group_gaps=rate_gaps(breakdowns["target_group"])
                   if "target_group" in breakdowns else [])


def _labels(cfg: ProjectConfig, lang: str) -> dict[str, dict[str, str]]:
    out = {"outcome": cfg.outcome_labels(lang), "group": dict(GROUP_LABELS[lang]),
           "target": dict(TARGET_LABELS[lang]), "target_rule": dict(_TARGET_RULES[lang])}
    for dim in DIMENSIONS:
        out[dim] = category_labels(cfg, dim, lang)
    return out


# -- one disclosure plan for all units -----------------------------------------------------------


def _codes(values: pd.Series, known: list[str]) -> np.ndarray:
    """Position of each value in ``known`` (−1 for anything else), as an integer array."""
    cat = pd.Categorical(values.astype("string"), categories=known)
    return np.asarray(cat.codes, dtype=np.int64)


class _Cells:
    """Cells of the project-wide måltal grid: values, and the sum relations readers can see."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.values: list[float] = []
        self.lines: list[list[int]] = []
        self.margins: list[int | None] = []

    def add(self, key: tuple, value: float) -> int:
        self.index[key] = len(self.values)
        self.values.append(float(value))
        return self.index[key]

    def alias(self, key: tuple, target: tuple) -> None:
        self.index[key] = self.index[target]

    def line(self, parts: list[tuple], total: tuple) -> None:
        cells = [self.index[p] for p in parts if p in self.index]
        if cells and total in self.index:
            self.lines.append([*cells, self.index[total]])
            self.margins.append(self.index[total])


def _compute_disclosure_plan(participants: pd.DataFrame, cfg: ProjectConfig,
                             min_cell: int | None = None) -> dict[str, dict[str, Any]]:
    """Which måltal counts each unit's report hides, decided once for the whole project.

    Readers see every unit's report next to the whole project's, and the project's counts are
    the sums of its delprojekter's. Hiding cells unit by unit would let a reader subtract the
    delprojekter that are shown from the project total and find the one that is not. So every
    count the måltal tables publish, for every unit, is one cell of a single grid: outcome
    codes, outcome groups, and per category of each breakdown the participants, the goal met
    and the closed cases without the goal (a success rate next to its goal count gives that
    away), with the ones still active as counts readers can only work out. The relations inside
    a unit and across units (the project is the sum of its delprojekter) are the lines of
    ``privacy.suppress_cells``. A unit's size is always shown (unless it is under the limit
    itself); the whole project's own cells are hidden only where nothing else can protect a
    small count.

    The upper bound of a success rate, with *status ukendt* counted as goal met, gives the
    category's unknown count back next to its goal count and closed cases, and with it the
    closed cases that did not meet the goal for a known reason. Both are cells of the grid
    (the second unpublished, protected when small), split from the closed cases without the
    goal and adding up to the unit's unknown group over the categories; they are the cheapest
    partners, so protecting them costs an upper bound, not a figure shown before. An upper
    bound is shown only where its rate and the unknown count are. Returns, per unit,
    ``{"outcome": {code: hidden}, "group": {group: hidden}, "rate": hidden, "upper": hidden,
    "breakdowns": {dim: {category: {"n": hidden, "rate": hidden, "goal": hidden,
    "upper": hidden}}}, "min_cell": k}``.

    A breakdown's goal met and its closed cases without the goal are separate cells: both shown
    give the rate among closed forløb; goal met alone (``rate`` hidden, ``goal`` not) is shown
    with its share of everyone in the category, so that a small count still active stays
    unknown while the headline figure is kept. Costs make the headline cells (a unit's size and
    goal met, a target group's or gender's size and goal met, the whole project's figures) far
    dearer than details (still active, unknown status, outcome codes, age bands).
    """
    from . import privacy

    k = int(min_cell if min_cell is not None else cfg.privacy.min_cell)
    groups, codes = list(OUTCOME_GROUPS), list(cfg.outcomes)
    g_idx = _codes(_outcome_groups(participants, cfg), groups)
    c_idx = _codes(participants["outcome"].astype(str), codes)
    u_idx = _codes(participants["delprojekt"], cfg.delprojekt_ids)
    present = np.bincount(u_idx[u_idx >= 0], minlength=len(cfg.delprojekt_ids))
    parts = [d for d, n in zip(cfg.delprojekt_ids, present, strict=True) if n]
    units = [*parts, "all"]
    dims = [d for d in DIMENSIONS if d in participants.columns and d != "delprojekt"]
    cats = {d: list(dict.fromkeys(
        [*(category_labels(cfg, d) if d in ("target_group", "gender") else []),
         *_ordered_categories(participants[d].astype("string"), category_labels(cfg, d))]))
        for d in dims}
    not_goal = [g for g in groups if g not in ("goal_met", "active")]
    ng = np.isin(np.arange(len(groups)), [groups.index(g) for g in not_goal])
    # counts per unit (row len(cfg.delprojekt_ids) is the whole project), by group and code
    n_u = len(cfg.delprojekt_ids) + 1

    def tally(idx: np.ndarray, size: int) -> np.ndarray:
        ok = idx >= 0
        per = np.bincount(np.where(u_idx >= 0, u_idx, n_u - 1)[ok] * size + idx[ok],
                          minlength=n_u * size).reshape(n_u, size)
        per[-1] = np.bincount(idx[ok], minlength=size)
        return per

    by_group, by_code = tally(g_idx, len(groups)), tally(c_idx, len(codes))
    by_dim = {d: tally(np.where(dx >= 0, dx * len(groups) + g_idx, -1),
                       len(cats[d]) * len(groups)).reshape(n_u, len(cats[d]), len(groups))
              for d in dims for dx in [_codes(participants[d], cats[d])]}
    complete = {d: bool((_codes(participants[d], cats[d]) >= 0).all()) for d in dims}
    cells = _Cells()
    small: set[int] = set()
    sizes: set[int] = set()
    quiet: set[int] = set()
    pairs: list[tuple[int, int]] = []  # cells shown or hidden together
    # a breakdown's goal met and closed without it: both give the rate among closed forløb;
    # goal met alone gives its share of everyone in the category (the fallback that keeps a
    # headline figure when the rate would give a small count still active back)
    shares: list[tuple[int, int]] = []
    headline: set[int] = set()  # goal met of a unit or a category: far dearer than details
    bounds: set[int] = set()  # the unknown-status split behind the upper bounds

    def count(key: tuple, value: Any, *, publish: bool = True) -> int:
        i = cells.add(key, int(value))
        if privacy.primary_mask(value, k):
            small.add(i)
        if not publish:
            quiet.add(i)
        return i

    goal, active, unknown = (groups.index(g) for g in ("goal_met", "active", "unknown"))
    for u in units:
        r = n_u - 1 if u == "all" else cfg.delprojekt_ids.index(u)
        size = int(by_group[r].sum())  # a unit's size is in its report, unless under the limit
        (small if privacy.primary_mask(size, k) else sizes).add(cells.add((u, "N"), size))
        for g, n in zip(groups, by_group[r], strict=True):
            i = count((u, "group", g), n)
            if g == "goal_met":
                headline.add(i)
        for c, n in zip(codes, by_code[r], strict=True):
            count((u, "code", c), n)
        count((u, "not_goal"), by_group[r, ng].sum())
        for g in groups:
            cells.line([(u, "code", c) for c, o in cfg.outcomes.items() if o.group == g],
                       (u, "group", g))
        cells.line([(u, "group", g) for g in groups], (u, "N"))
        cells.line([(u, "group", g) for g in not_goal], (u, "not_goal"))
        for d in dims:
            for cat, row in zip(cats[d], by_dim[d][r], strict=True):
                size_cell = count((u, d, cat, "n"), row.sum())
                # still active per category: a count readers can only work out, unless the
                # unit has none (then every category's is 0, and readers know it)
                count((u, d, cat, "active"), row[active], publish=not by_group[r, active])
                goal_cell = count((u, d, cat, "goal"), row[goal])
                if d in HEADLINE_DIMENSIONS:  # the funder's breakdowns: size and goal met
                    headline.update((goal_cell, size_cell))
                shares.append((goal_cell, count((u, d, cat, "not_goal"), row[ng].sum())))
                bounds.add(count((u, d, cat, "unknown"), row[unknown]))
                bounds.add(count((u, d, cat, "known_fail"), row[ng].sum() - row[unknown],
                                 publish=False))
                cells.line([(u, d, cat, q) for q in ("active", "goal", "not_goal")],
                           (u, d, cat, "n"))
                cells.line([(u, d, cat, q) for q in ("unknown", "known_fail")],
                           (u, d, cat, "not_goal"))
            if complete[d]:  # with a missing category the parts fall short of the total
                for q, total in (("n", (u, "N")), ("active", (u, "group", "active")),
                                 ("goal", (u, "group", "goal_met")), ("not_goal", (u, "not_goal")),
                                 ("unknown", (u, "group", "unknown"))):
                    cells.line([(u, d, cat, q) for cat in cats[d]], total)
        # the breakdown by delprojekt shows each delprojekt's own size, goal met and rate
        for d in parts if u == "all" else [u]:
            for q, target in (("n", (d, "N")), ("goal", (d, "group", "goal_met")),
                              ("not_goal", (d, "not_goal"))):
                cells.alias((u, "delprojekt", d, q), target)
    if (u_idx >= 0).all():  # the project is the sum of its parts
        for key in [key for key in cells.index if key[0] == "all" and key[1] != "delprojekt"]:
            cells.line([(d, *key[1:]) for d in parts], key)

    values = np.array(cells.values)
    n_cells = len(values)

    def flags(which: set[int]) -> np.ndarray:
        out = np.zeros(n_cells, bool)
        out[list(which)] = True
        return out

    # a delprojekt under the limit leaves its size to be worked out from the project's and the
    # others': then the project's table hides another delprojekt's size with it (that one's own
    # report still gives it; a delprojekt that small is better merged with another)
    keep, unpublished = flags(set() if small & {cells.index[(d, "N")] for d in parts}
                              else sizes), flags(quiet)
    # the whole project's figures are the funder's: hide a delprojekt's count rather than them
    # (the project's breakdown by delprojekt is the delprojekter'); a unit's size, and a
    # category's size, which is in other sections too (the funnel's and the survival table's
    # groups, the subgroup heatmap's n): hidden as partners only where nothing cheaper will do
    is_new = flags(bounds)
    dear = ([i for key, i in cells.index.items() if key[0] == "all" and key[1] != "delprojekt"],
            sizes, [i for key, i in cells.index.items() if len(key) == 4 and key[3] == "n"],
            headline, headline, headline)
    old_lines = [not is_new[line].any() for line in cells.lines]
    # first the figures shown before the upper bounds, as if these did not exist; a rate is
    # shown with its goal count or not at all
    mask = privacy.solve_plan(
        values, [ln for ln, o in zip(cells.lines, old_lines, strict=True) if o],
        [m for m, o in zip(cells.margins, old_lines, strict=True) if o], k,
        flags(small) & ~is_new, privacy.dear(np.where(is_new, 0.0, values), *dear), keep,
        unpublished & ~is_new, pairs)
    # then the upper bounds: only their cells may be partners (a delprojekt's before the
    # project's); where no upper bound can free a small count, none is shown
    sensitive = flags(small)
    bound_mask = privacy.solve_plan(values, cells.lines, cells.margins, k, mask | sensitive,
                                    privacy.dear(values, *dear), keep | (~mask & ~is_new),
                                    unpublished, pairs)
    if (privacy.determined_cells(n_cells, cells.lines, cells.margins, bound_mask | unpublished)
            & sensitive).any() \
            or (bound_mask[~is_new] != mask[~is_new]).any():
        bound_mask = mask | is_new
    mask = bound_mask
    for goal_cell, closed_cell in shares:  # without its goal count, a rate is not shown at all
        mask[closed_cell] |= mask[goal_cell]

    def hidden(*key: Any) -> bool:
        return bool(mask[cells.index[key]])

    def rate_hidden(*key: Any) -> bool:
        return hidden(*key, "goal") or hidden(*key, "not_goal")

    plan = {}
    for u in units:
        breakdowns = {d: {cat: {"n": hidden(u, d, cat, "n"), "rate": rate_hidden(u, d, cat),
                                "goal": hidden(u, d, cat, "goal") or hidden(u, d, cat, "n"),
                                "upper": rate_hidden(u, d, cat) or hidden(u, d, cat, "unknown")}
                          for cat in cats[d]} for d in dims}
        breakdowns["delprojekt"] = {
            d: {"n": hidden(d, "N"), "rate": rate_hidden(u, "delprojekt", d),
                "goal": hidden(u, "delprojekt", d, "goal") or hidden(d, "N"),
                "upper": rate_hidden(u, "delprojekt", d) or hidden(d, "group", "unknown")}
            for d in (parts if u == "all" else [u])}
        rate = any(hidden(u, *q) for q in (("group", "goal_met"), ("not_goal",),
                                           ("group", "active")))
        plan[u] = {"outcome": {c: hidden(u, "code", c) for c in codes},
                   "group": {g: hidden(u, "group", g) for g in groups},
                   "rate": rate, "upper": rate or hidden(u, "group", "unknown"),
                   "breakdowns": breakdowns, "min_cell": k}
    return plan


_PLANS: dict[str, dict[str, dict[str, Any]]] = {}
_PLANS_KEPT = 8


def disclosure_plan(participants: pd.DataFrame, cfg: ProjectConfig,
                    min_cell: int | None = None) -> dict[str, dict[str, Any]]:
    """The project-wide måltal disclosure plan (``_compute_disclosure_plan`` says how it is
    decided), solved once per data, config and limit in this process and handed out as a copy:
    every unit's ``maaltal`` needs the same plan, and solving it takes seconds."""
    import copy
    import hashlib

    h = hashlib.sha256(pd.util.hash_pandas_object(participants, index=False).to_numpy()
                       .tobytes())
    h.update(",".join(map(str, participants.columns)).encode())
    h.update(cfg.model_dump_json().encode())
    h.update(repr(min_cell).encode())
    key = h.hexdigest()
    if key not in _PLANS:
        plan = _compute_disclosure_plan(participants, cfg, min_cell)
        while len(_PLANS) >= _PLANS_KEPT:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = plan
    return copy.deepcopy(_PLANS[key])
