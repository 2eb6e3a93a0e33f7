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
  shown to readers (``ungeanalyse.reader.maaltal``, with the unit's masks from the disclosure
  step), never here. Every rate carries its ``n``. Which counts the readers' tables hide is
  decided once for all units of the project by the disclosure step
  (``disclosure.maaltal.maaltal_plan``).
- Numbers and codes only: the reader words them (``ungeanalyse.i18n``, section ``maaltal``);
  ``notes`` are codes with parameters, worded by ``i18n.word(note, lang, "maaltal.note")``.
- Young people with *status ukendt* count as not having met the goal in every success rate (the
  lower bound). Each rate also has its upper bound, with them counted as goal met
  (``success_upper``, ``rate_upper``); the pair is shown as a range where it changes the reading
  (:func:`unknown_changes_reading`; the rule in words: ``maaltal.unknown_rule``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import i18n
from . import units as _units  # (a local 'units' lists a plan's units)
from .config import OUTCOME_GROUPS, ProjectConfig
from .errors import UserError

LANGS = ("da", "en")

DIMENSIONS = ("delprojekt", "target_group", "gender", "age_band")
"""The breakdowns of måltal, in report order."""

HEADLINE_DIMENSIONS = ("target_group", "gender")
"""Breakdowns whose sizes and goal counts the disclosure plan treats as headline figures, with
the delprojekter's (far dearer to hide than a detail: still active, unknown status, an outcome
code, an age band)."""

COLUMNS = ("code", "label", "group", "group_label", "n", "share_of_participants",
           "share_of_closed", "dimension", "category", "category_label", "n_participants",
           "n_active", "n_closed", "goal_met", "rate", "ci_low", "ci_high", "target",
           "target_label", "target_value", "actual", "attainment", "position", "rule", "unknown",
           "rate_upper", "unknown_matters", "actual_upper", "position_upper", "share_of_all",
           "share_of_all_low", "share_of_all_high")
"""Machine column names that ``Maaltal.table`` labels (``maaltal.column.<name>``)."""
_PERCENT_COLUMNS = {"share_of_participants", "share_of_closed", "rate", "ci_low", "ci_high",
                    "attainment", "rate_upper", "share_of_all", "share_of_all_low",
                    "share_of_all_high"}
TARGETS = ("participants", "goal_met_count", "goal_met_share")
"""The funder's targets a unit can be compared with (``maaltal.target.<code>``)."""

DIMENSION_LABELS = {lang: {d: i18n.t(f"maaltal.dimension.{d}", lang) for d in DIMENSIONS}
                    for lang in i18n.LANGS}
"""A breakdown's name in each report language, from the catalogue (``maaltal.dimension``);
kept for ``realist``, which still labels by dict (the reader looks the key up itself)."""


def _position(code: Any, lang: str) -> Any:
    """A target position code ('below') in the report language; anything else as it is."""
    return i18n.t_or(f"position.{code}", lang, code) if isinstance(code, str) else code


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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Rate:
        """The rate back from :meth:`to_dict` (None as nan)."""
        return cls(int(d["k"]), int(d["n"]), *(number_back(d.get(key))
                                                for key in ("rate", "ci_low", "ci_high")))

    def text(self, lang: str = "da") -> str:
        """'126 af 195 (65 %; 95 %-CI 58 %–71 %)' in the report language."""
        from .fmt import fmt_int, fmt_pct

        return i18n.t("maaltal.rate_text", lang, k=fmt_int(self.k, lang),
                      n=fmt_int(self.n, lang), rate=fmt_pct(self.rate, 0, lang),
                      low=fmt_pct(self.ci_low, 0, lang), high=fmt_pct(self.ci_high, 0, lang))

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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RateGap:
        """The gap back from :meth:`to_dict` (``supported`` is derived again)."""
        return cls(str(d["low"]), str(d["high"]), Rate.from_dict(d["low_rate"]),
                   Rate.from_dict(d["high_rate"]), *(number_back(d.get(key)) for key in (
                       "difference", "ci_low", "ci_high", "alpha", "worst_ci_high")))


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


def number_back(x: Any) -> float:
    """A number read back from JSON: None (a NaN written by :func:`jsonable`) as NaN."""
    return math.nan if x is None else float(x)


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
        return {g: i18n.t(f"maaltal.gender.{g}", lang) for g in ("kvinde", "mand")}
    if dimension == "age_band":
        b = cfg.age.bands
        return {f"{lo}–{hi - 1}": i18n.t("maaltal.age_band", lang, low=lo, high=hi - 1)
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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TargetCheck:
        """The comparison back from :meth:`to_dict`."""
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


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
    notes: list[dict[str, Any]] = field(default_factory=list)
    """Notes for readers as codes with parameters (``i18n.code``), worded by the reader."""
    labels: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict, repr=False)
    """Report labels per language: {lang: {"outcome"|"group"|"target"|<dimension>: {code: label}}},
    so that ``table(lang=...)`` can relabel the rows, not only the headers."""
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
            df["position"] = df["position"].map(lambda x: _position(x, lang))
            share = df["target"].eq("goal_met_share")
            df["position_upper"] = df["position_upper"].map(lambda x: _position(x, lang))
            # a share target is shown in percent too
            for col in ("target_value", "actual", "actual_upper"):
                df[col] = df[col].astype(float).where(~share, (100 * df[col]).round(1))
            df = df.drop(columns=["target"])
        elif name in self.breakdowns:
            df = self.breakdowns[name].copy()
            relabel(df, "category_label", "category", name)
            df = df.drop(columns=["dimension", "category"])
            df = df.rename(columns={"category_label": i18n.t(f"maaltal.dimension.{name}",
                                                             lang)})
        else:
            raise UserError(f"Unknown måltal table {name!r}; choose outcomes, groups, targets or "
                            f"one of {', '.join(self.breakdowns)}")
        df = df.copy()
        for col in df.columns:
            if col in _PERCENT_COLUMNS:
                df[col] = (100 * df[col].astype(float)).round(1)
        return df.rename(columns={c: i18n.t(f"maaltal.column.{c}", lang) for c in df.columns
                                  if c in COLUMNS})

    def summary(self) -> str:
        """Key figures as a few lines of text in the result's language (raw counts: for the
        researcher; readers get ``ungeanalyse.reader.maaltal``)."""
        from .fmt import fmt_int, fmt_kr, fmt_pct

        lang = self.lang

        def line(key: str, **params: Any) -> str:
            return i18n.t(f"maaltal.summary.{key}", lang, **params)

        def pct(x: Any) -> str:
            return fmt_pct(x, 0, lang)

        lines = [line("head", unit=self.unit_label),
                 line("participants", n=fmt_int(self.n_participants, lang),
                      active=fmt_int(self.n_active, lang)),
                 line("goal_met", goal=fmt_int(self.goal_met, lang),
                      share=pct(self.goal_met / self.n_participants
                                if self.n_participants else None)),
                 line("success", rate=self.success.text(lang))]
        if self.success_upper is not None and self.n_unknown:
            lines.append("  " + line("upper_matters" if self.unknown_matters else "upper",
                                     n=fmt_int(self.n_unknown, lang),
                                     rate=pct(self.success_upper.rate)))
        for row in self.breakdowns["target_group"].itertuples():
            lines.append("  " + line("group", label=row.category_label,
                                     k=fmt_int(row.goal_met, lang),
                                     n=fmt_int(row.n_closed, lang), rate=pct(row.rate)))
        for t in self.targets:
            position = _position(t.position, lang) if t.position else "–"
            if t.target == "goal_met_share":
                lines.append(line("share_target", label=t.target_label, actual=pct(t.actual),
                                  low=pct(t.ci_low), high=pct(t.ci_high),
                                  target=pct(t.target_value), position=position))
            else:
                lines.append(line("count_target" if t.position else "count_target_plain",
                                  label=t.target_label, actual=fmt_int(t.actual, lang),
                                  target=fmt_int(t.target_value, lang), position=position))
        if self.cost_per_participant is not None:
            lines.append(line("cost", participant=fmt_kr(self.cost_per_participant, lang),
                              goal=fmt_kr(self.cost_per_goal_met, lang)))
        lines += [line("note", note=i18n.word(n, lang, "maaltal.note")) for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self) -> dict[str, Any]:
        """Key figures, tables and note codes as JSON-serialisable values (what notebook 02
        saves and :meth:`from_dict` reads back; no masks: the reader takes those)."""
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
            "target_group_gaps": [g.to_dict() for g in self.target_group_gaps],
            "outcomes": self.outcomes,
            "groups": self.groups,
            "breakdowns": {k: v for k, v in self.breakdowns.items()},
            "targets": [t.to_dict() for t in self.targets],
            "budget_kr": self.budget_kr,
            "cost_per_participant": self.cost_per_participant,
            "cost_per_goal_met": self.cost_per_goal_met,
            "notes": self.notes,
            "labels": self.labels,
        })

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Maaltal:
        """The result back from :meth:`to_dict` (a saved ``maaltal.json``), for the evaluation
        text: the same reader functions then word it as notebook 02 did."""
        def frame(rows: list[dict[str, Any]] | None, columns: list[str]) -> pd.DataFrame:
            df = pd.DataFrame(rows or [], columns=columns)
            for col in df.columns:  # None (a NaN in JSON) back to NaN in a number column
                if col in _PERCENT_COLUMNS:
                    df[col] = df[col].astype(float)
            return df

        upper = d.get("success_upper")
        return cls(
            unit=d["unit"], unit_label=d["unit_label"], lang=d.get("lang", "da"),
            n_participants=d["n_participants"], n_active=d["n_active"], n_closed=d["n_closed"],
            goal_met=d["goal_met"], success=Rate.from_dict(d["success"]),
            outcomes=frame(d["outcomes"], OUTCOME_COLUMNS),
            groups=frame(d["groups"], GROUP_COLUMNS),
            breakdowns={k: frame(v, BREAKDOWN_COLUMNS) for k, v in d["breakdowns"].items()},
            targets=[TargetCheck.from_dict(t) for t in d.get("targets", [])],
            budget_kr=d.get("budget_kr"), cost_per_participant=d.get("cost_per_participant"),
            cost_per_goal_met=d.get("cost_per_goal_met"), notes=list(d.get("notes", [])),
            labels=d.get("labels") or {}, n_unknown=d.get("n_unknown", 0),
            success_upper=Rate.from_dict(upper) if upper else None,
            unknown_matters=bool(d.get("unknown_matters", False)),
            target_group_gaps=[RateGap.from_dict(g) for g in d.get("target_group_gaps", [])])


# -- computation -------------------------------------------------------------------------------


OUTCOME_COLUMNS = ["code", "label", "group", "group_label", "n", "share_of_participants",
                   "share_of_closed"]
GROUP_COLUMNS = ["group", "label", "n", "share_of_participants", "share_of_closed"]
BREAKDOWN_COLUMNS = ["dimension", "category", "category_label", "n_participants", "n_active",
                     "n_closed", "goal_met", "rate", "ci_low", "ci_high", "unknown",
                     "rate_upper", "unknown_matters", "share_of_all", "share_of_all_low",
                     "share_of_all_high"]
"""A breakdown's columns: ``unknown`` counts *status ukendt*, ``rate_upper`` is the rate with
them as goal met, ``unknown_matters`` whether the pair changes the reading; ``share_of_all``
is goal met among everyone in the category (active included) with its Wilson interval, which
readers get where the rate among closed forløb would give a small count away."""


def _share_of_all(goal_met: int, n: int) -> dict[str, float]:
    r = Rate.of(goal_met, n)
    return {"share_of_all": r.rate, "share_of_all_low": r.ci_low, "share_of_all_high": r.ci_high}


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
                         r, upper, cfg.targets.goal_met_share),
                     **_share_of_all(k, len(g))})
    return pd.DataFrame(rows, columns=BREAKDOWN_COLUMNS)


def _targets(cfg: ProjectConfig, unit: str, n: int, goal_met: int, success: Rate,
             lang: str, notes: list[dict[str, Any]], n_unknown: int = 0) -> list[TargetCheck]:
    """The unit's targets against what it achieved, with the bounds for *status ukendt*."""
    t = cfg.targets
    out = []

    def check(code: str, target: float, actual: float, **more: Any) -> TargetCheck:
        return TargetCheck(code, i18n.t(f"maaltal.target.{code}", lang), target, actual,
                           actual / target if target else math.nan,
                           rule=i18n.t(f"maaltal.target_rule.{code}", lang), **more)

    if unit == "all":
        if t.participants is not None:
            out.append(check("participants", t.participants, n))
        if t.goal_met_count is not None:
            upper = goal_met + n_unknown
            out.append(check("goal_met_count", t.goal_met_count, goal_met, actual_upper=upper,
                             unknown_matters=goal_met < t.goal_met_count <= upper))
    elif t.participants is not None or t.goal_met_count is not None:
        notes.append(i18n.code("count_targets_whole_project"))
    if t.goal_met_share is not None:
        target = t.goal_met_share
        upper = Rate.of(success.k + n_unknown, success.n)
        out.append(check("goal_met_share", target, success.rate, ci_low=success.ci_low,
                         ci_high=success.ci_high, position=target_position(success, target),
                         actual_upper=upper.rate, position_upper=target_position(upper, target),
                         unknown_matters=unknown_changes_reading(success, upper, target)))
        if unit != "all":
            notes.append(i18n.code("share_target_whole_project"))
    return out


def maaltal(participants: pd.DataFrame, cfg: ProjectConfig, unit: str = "all",
            lang: str = "da") -> Maaltal:
    """Måltal for the whole project (unit="all") or one delprojekt id, from the clean table
    (the whole project's or the unit's own); ``lang`` names the rows' labels."""
    check_lang(lang)
    require_columns(participants, ["outcome", "delprojekt", "target_group"], "maaltal")
    df = select_unit(participants, cfg, unit)
    notes: list[dict[str, Any]] = []
    group = _outcome_groups(df, cfg)
    n = int(len(df))
    n_active = int(group.eq("active").sum())
    n_closed = n - n_active
    goal_met = int(group.eq("goal_met").sum())
    n_unknown = int(group.eq("unknown").sum())
    success = Rate.of(goal_met, n_closed)
    success_upper = Rate.of(goal_met + n_unknown, n_closed)
    outcomes, groups = _outcome_tables(df, group, cfg, lang)

    # the notes reach readers, whose tables may hide the number still active (as a small count
    # or to protect another): the note gives neither it nor the number of closed cases
    notes.append(i18n.code("active_excluded", n=n))
    if n == 0:
        notes.append(i18n.code("no_participants"))
    breakdowns = {}
    for dim in DIMENSIONS:
        if dim in df.columns:
            breakdowns[dim] = breakdown(df, cfg, dim, lang)
        else:
            notes.append(i18n.code("column_missing", column=dim))
    targets = _targets(cfg, unit, n, goal_met, success, lang, notes, n_unknown)
    budget = float(cfg.project.budget_kr) if cfg.project.budget_kr else None
    cost_pp = cost_goal = None
    if unit == "all" and budget is not None:
        cost_pp = budget / n if n else None
        cost_goal = budget / goal_met if goal_met else None
        notes.append(i18n.code("cost_whole_budget"))
    elif unit != "all":
        notes.append(i18n.code("budget_not_split"))
    return Maaltal(unit=unit, unit_label=unit_label(cfg, unit, lang), lang=lang,
                   n_participants=n, n_active=n_active, n_closed=n_closed, goal_met=goal_met,
                   success=success, outcomes=outcomes, groups=groups, breakdowns=breakdowns,
                   targets=targets, budget_kr=budget if unit == "all" else None,
                   cost_per_participant=cost_pp, cost_per_goal_met=cost_goal, notes=notes,
                   labels={lg: _labels(cfg, lg) for lg in LANGS},
                   n_unknown=n_unknown, success_upper=success_upper,
                   unknown_matters=unknown_changes_reading(success, success_upper,
                                                           cfg.targets.goal_met_share),
                   target_group_gaps=rate_gaps(breakdowns["target_group"])
                   if "target_group" in breakdowns else [])


def _outcome_tables(df: pd.DataFrame, group: pd.Series, cfg: ProjectConfig, lang: str
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts and shares per outcome code (config order) and per outcome group."""
    n = len(df)
    n_closed = n - int(group.eq("active").sum())
    labels = cfg.outcome_labels(lang)
    codes = df["outcome"].astype(str)

    def row(k: int, g: str) -> dict[str, Any]:
        return {"n": k, "share_of_participants": k / n if n else math.nan,
                "share_of_closed": (k / n_closed if n_closed else math.nan)
                if g != "active" else math.nan}

    outcomes = pd.DataFrame([
        {"code": code, "label": labels[code], "group": o.group,
         "group_label": i18n.t(f"maaltal.group.{o.group}", lang),
         **row(int(codes.eq(code).sum()), o.group)} for code, o in cfg.outcomes.items()],
        columns=OUTCOME_COLUMNS)
    groups = pd.DataFrame([
        {"group": g, "label": i18n.t(f"maaltal.group.{g}", lang), **row(int(group.eq(g).sum()), g)}
        for g in OUTCOME_GROUPS], columns=GROUP_COLUMNS)
    return outcomes, groups


def _labels(cfg: ProjectConfig, lang: str) -> dict[str, dict[str, str]]:
    out = {"outcome": cfg.outcome_labels(lang),
           "group": {g: i18n.t(f"maaltal.group.{g}", lang) for g in OUTCOME_GROUPS},
           "target": {c: i18n.t(f"maaltal.target.{c}", lang) for c in TARGETS},
           "target_rule": {c: i18n.t(f"maaltal.target_rule.{c}", lang) for c in TARGETS}}
    for dim in DIMENSIONS:
        out[dim] = category_labels(cfg, dim, lang)
    return out
