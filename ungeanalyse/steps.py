"""Skridt på vejen: how far the young people got on the ladder, and how long until education.

The config's ``steps.ladder`` is an ordered list of steps (contact, visited a school, talked to
a counsellor, applied, started …). From the clean ``steps`` log (one row per step reached) and
the clean ``participants`` table this module gives

- ``furthest_step``: per participant the highest rung reached (rank 0 when nothing was logged);
- ``funnel``: per group and step, how many reached that step *or a later one* (the ladder is
  ordered, so a young person who applied has passed the earlier rungs even if nobody logged
  them), as a share of the group;
- ``time_to_education``: the cumulative incidence of reaching the ``education_start_step``
  (Aalen–Johansen, ``aalen_johansen``) with "the forløb ended without a start" as the competing
  event, open forløb followed until the data extract date (``project.data_extract_date``, else
  the latest date in the data), for the target groups whose goal is to start (``goal: start``);
  the share started by 3, 6 and 12 months with 95 % intervals, and a cause-specific log-rank
  test between the groups. Treating an ended forløb as censoring (Kaplan–Meier) would count
  those young people as if they could still start, and overstate the share who do.

``analyse`` runs both for a unit and returns a :class:`StepsResult` (``to_dict``/``from_dict``
round-trip), which ``ungeanalyse.reader.steps`` words and masks for readers.

Conventions as in ``ungeanalyse.outcomes``: shares are proportions, counts are raw here, and
numbers and codes only: the reader words them and applies the unit's masks from the disclosure
step. The flags computed here are the per-group rules that need no other unit (a group too
small to draw, a share at a horizon that would give 1..min_cell-1 started back); the reader adds
what the project-wide plan hides. A young person with more than one forløb counts once, with
the group and dates of the first forløb.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from . import i18n
from .config import ProjectConfig
from .disclosure.funnel import size_suppression
from .errors import UserError
from .outcomes import category_labels, check_lang, jsonable, require_columns
from .privacy import primary_mask, rate_hidden

ALL = "all"
"""Group code of the row or curve that covers every participant."""

STEP_COLUMNS = ["person_id", "step", "step_rank", "date"]


# -- inputs -----------------------------------------------------------------------------------


def _persons(participants: pd.DataFrame, by: str | None, what: str) -> pd.DataFrame:
    """One row per young person (their first forløb), with a string ``group`` column."""
    cols = ["person_id", "start_date"] + ([by] if by else [])
    require_columns(participants, cols, what)
    p = participants.sort_values("start_date", kind="stable").drop_duplicates("person_id")
    out = pd.DataFrame({"person_id": p["person_id"].astype(str).to_numpy()})
    out["group"] = p[by].astype("string").fillna("").to_numpy() if by else ALL
    for col in ("start_date", "end_date"):
        out[col] = (pd.to_datetime(p[col]).to_numpy() if col in p.columns
                    else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]"))
    return out


def _steps(steps: pd.DataFrame, cfg: ProjectConfig) -> pd.DataFrame:
    """The step log with string ids, ranks from the config and datetime dates."""
    if steps.empty:
        return pd.DataFrame({"person_id": pd.Series(dtype=str), "step": pd.Series(dtype=str),
                             "step_rank": pd.Series(dtype="int64"),
                             "date": pd.Series(dtype="datetime64[ns]")})
    missing = [c for c in STEP_COLUMNS[:2] if c not in steps.columns]
    if missing:
        raise UserError(
            f"steps: the table lacks the column(s) {', '.join(missing)}; it should be the clean "
            "steps table (see ungeanalyse.schemas)"
        )
    rank = {s.id: i for i, s in enumerate(cfg.steps.ladder, start=1)}
    out = pd.DataFrame({"person_id": steps["person_id"].astype(str).to_numpy(),
                        "step": steps["step"].astype(str).to_numpy()})
    unknown = sorted(set(out["step"]) - set(rank))
    if unknown:
        raise UserError(
            f"steps: unknown step id(s) {', '.join(unknown)}; the ladder in the config "
            f"(steps.ladder) has {', '.join(rank) or 'no steps'}"
        )
    out["step_rank"] = out["step"].map(rank).astype("int64")
    out["date"] = (pd.to_datetime(steps["date"]).to_numpy() if "date" in steps.columns
                   else pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]"))
    return out


def _group_codes(cfg: ProjectConfig, by: str | None, groups: pd.Series) -> list[str]:
    """Group codes in config order (unknown codes after, sorted), the overall group last."""
    known = category_labels(cfg, by, "da") if by else {}
    seen = {str(g) for g in groups.unique()} - {ALL}
    return ([c for c in known if c in seen] + sorted(seen - set(known))) + [ALL]


def group_label(cfg: ProjectConfig, by: str | None, code: str, lang: str) -> str:
    """A group's label in the report language: the breakdown's category label, everyone as
    'Alle unge', a missing group as '(ukendt)'."""
    if code == ALL:
        return i18n.t("steps.all_young_people", lang)
    if not code:
        return i18n.t("steps.unknown_group", lang)
    return (category_labels(cfg, by, lang) if by else {}).get(code, code)


# -- furthest step and funnel -----------------------------------------------------------------


def furthest_step(steps: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
                  lang: str = "da") -> pd.DataFrame:
    """Per participant the furthest rung reached: ``furthest_rank`` (0 = none logged),
    ``furthest_step`` (id, NA if none), ``furthest_label`` and ``furthest_date``.

    Steps of people who are not in ``participants`` (another unit) are left out.
    """
    check_lang(lang)
    people = _persons(participants, None, "furthest_step")[["person_id"]]
    log = _steps(steps, cfg)
    log = log[log["person_id"].isin(people["person_id"])]
    top = (log.sort_values(["step_rank", "date"], ascending=[False, True], kind="stable")
           .drop_duplicates("person_id"))
    out = people.merge(top, on="person_id", how="left")
    labels = {s.id: s.text(lang) for s in cfg.steps.ladder}
    return pd.DataFrame({
        "person_id": out["person_id"],
        "furthest_rank": out["step_rank"].fillna(0).astype("int64"),
        "furthest_step": out["step"].astype("string"),
        "furthest_label": out["step"].map(labels).astype("string"),
        "furthest_date": pd.to_datetime(out["date"]),
    })


def funnel(steps: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
           by: str | None = "target_group") -> pd.DataFrame:
    """How many reached each step of the ladder or a later one, per group and for everyone.

    One row per (group, step) in config order, the overall group (``group == "all"``) last.
    Columns: ``group`` (code), ``step`` (id), ``rank``, ``n_reached``, ``share`` (of the
    group's participants), ``n_group``, and ``size_suppressed``: the group's size (and so its
    shares) must not be shown by the unit's own rule (under the limit, or a partner of one);
    what the project-wide plan hides the reader adds (``ungeanalyse.reader.steps``).
    """
    people = _persons(participants, by, "funnel")
    top = furthest_step(steps, participants, cfg)[["person_id", "furthest_rank"]]
    people = people.merge(top, on="person_id", how="left")
    people["furthest_rank"] = people["furthest_rank"].fillna(0).astype("int64")
    rows = []
    for code in _group_codes(cfg, by, people["group"]):
        members = people if code == ALL else people[people["group"] == code]
        n_group = len(members)
        for rank, s in enumerate(cfg.steps.ladder, start=1):
            n = int((members["furthest_rank"] >= rank).sum())
            rows.append({"group": code, "step": s.id, "rank": rank, "n_reached": n,
                         "share": n / n_group if n_group else math.nan, "n_group": n_group})
    out = pd.DataFrame(rows, columns=FUNNEL_COLUMNS[:-1])
    out["n_reached"] = out["n_reached"].astype("int64")
    out["n_group"] = out["n_group"].astype("int64")
    out["share"] = out["share"].astype(float)
    out["size_suppressed"] = size_suppression(out, cfg.privacy.min_cell)
    return out


FUNNEL_COLUMNS = ["group", "step", "rank", "n_reached", "share", "n_group", "size_suppressed"]


# -- time to start an education: competing risks ---------------------------------------------

HORIZONS = {3: 91, 6: 183, 12: 365}
"""Months → days (round(months · 365.25 / 12)) at which the text gives the share started."""

START, ENDED, CENSORED = 1, 2, 0
"""Causes in ``event_table``: started an education, forløb ended without a start, followed up."""

Z95 = 1.959963984540054


def aalen_johansen(time: Any, cause: Any, causes: tuple[int, ...] = (START, ENDED)
                   ) -> pd.DataFrame:
    """Aalen–Johansen cumulative incidence of each cause at every distinct time, with standard
    errors and pointwise 95 % limits (delta method, log(−log) scale).

    ``cause`` is 0 for a censored time and k ≥ 1 for an event of cause k. The estimate is
    F_k(t) = Σ_{t_j ≤ t} S(t_j−) d_kj / n_j with S the all-cause Kaplan–Meier; the variance is
    the delta-method (Greenwood-type) one of Marubini & Valsecchi (1995), as in Stata's stcompet
    and statsmodels' ``CumIncidenceRight``:
    Σ_j [(F_k(t) − F_k(t_j))² d_j / (n_j (n_j − d_j)) + S(t_j−)² d_kj (n_j − d_kj) / n_j³
    − 2 (F_k(t) − F_k(t_j)) S(t_j−) d_kj / n_j²]. Where everyone at risk has an event
    (n_j = d_j) the first term's factor F_k(t) − F_k(t_j) is 0 (nobody is left for a later t), so
    it is taken as 0 where statsmodels returns NaN. Columns: time, n_risk, n_censored, and per
    cause k ``n_<k>``, ``cif_<k>``, ``se_<k>``, ``low_<k>``, ``high_<k>``; ``surv`` (all-cause).
    """
    t = np.asarray(time, dtype=float)
    c = np.asarray(cause, dtype="int64")
    if t.shape != c.shape or np.isnan(t).any() or (t < 0).any():
        raise ValueError("aalen_johansen: time and cause must have one value each, times ≥ 0")
    if len(t) and not np.isin(c, (0, *causes)).all():
        raise ValueError(f"aalen_johansen: causes must be 0 (censored) or one of {causes}")
    utime, inv = np.unique(t, return_inverse=True)
    m = len(utime)
    leaving = np.bincount(inv, minlength=m).astype(float)
    n = len(t) - np.r_[0.0, np.cumsum(leaving)[:-1]]
    dk = {k: np.bincount(inv, weights=(c == k).astype(float), minlength=m) for k in causes}
    d = sum(dk.values()) if causes else np.zeros(m)
    surv = np.cumprod(1.0 - d / n) if m else np.zeros(0)
    before = np.r_[1.0, surv[:-1]] if m else np.zeros(0)
    greenwood = np.divide(d, n * (n - d), out=np.zeros(m), where=n > d)
    out = {"time": utime, "n_risk": n.astype("int64"),
           "n_censored": np.bincount(inv, weights=(c == 0).astype(float),
                                     minlength=m).astype("int64")}
    for k in causes:
        f = np.cumsum(before * dk[k] / n)
        var = (f**2 * np.cumsum(greenwood) - 2 * f * np.cumsum(f * greenwood)
               + np.cumsum(f**2 * greenwood)
               + np.cumsum(before**2 * dk[k] * (n - dk[k]) / n**3)
               - 2 * f * np.cumsum(before * dk[k] / n**2)
               + 2 * np.cumsum(f * before * dk[k] / n**2))
        se = np.sqrt(np.clip(var, 0.0, None))
        low, high = _loglog_limits(f, se)
        out.update({f"n_{k}": dk[k].astype("int64"), f"cif_{k}": f, f"se_{k}": se,
                    f"low_{k}": low, f"high_{k}": high})
    out["surv"] = surv
    return pd.DataFrame(out)


def _loglog_limits(f: np.ndarray, se: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise 95 % limits of a cumulative incidence on the log(−log) scale (inside 0–1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (f > 0) & (f < 1) & (se > 0)
        scale = np.where(inside, Z95 * se / (f * np.abs(np.log(np.where(inside, f, 0.5)))), 0.0)
        low = np.where(inside, f ** np.exp(scale), f)
        high = np.where(inside, f ** np.exp(-scale), f)
    return low, high


@dataclass
class StartGroup:
    """One group's cumulative incidence of starting an education (ended without a start as the
    competing event): counts, the share started at 3, 6 and 12 months and at the end of
    follow-up, and when half had started (if they did)."""

    code: str
    label: str
    label_en: str
    n: int
    events: int
    """Started an education (within follow-up)."""
    competing: int = 0
    """Forløb ended without a start."""
    follow_up: float = 0.0
    """Days from start to the last time anyone in the group was followed."""
    horizons: list[dict[str, Any]] = field(default_factory=list)
    """Per month in ``HORIZONS``: months, days, reached (follow-up gets there), share, ci_low,
    ci_high, started (the number who had started by then) and hidden (that number or those not
    started by then is 1..min_cell-1)."""
    final: dict[str, float] = field(default_factory=dict)
    """At the end of follow-up: start, start_low, start_high, ended, ended_low, ended_high."""
    half: float | None = None
    """Days until half had started (the cumulative incidence reaches 50 %), None if never."""
    half_ci_low: float | None = None
    half_ci_high: float | None = None
    suppressed: bool = False
    """Too few to draw or give shares for: under min_cell young people, or 1..min_cell-1 with or
    without a start (the curve steps once per start); with the reader's masks also where the
    project-wide plan hides the number of starts."""
    events_hidden: bool = False
    """Set by the reader only: the plan hides the number of starts (the funnel's education
    step counts the same young people)."""
    size_hidden: bool = False
    """Set by the reader only: the group's size is hidden as the måltal tables hide it."""
    competing_hidden: bool = False
    """The ended-without-a-start curve and share are not shown: they would give 1..min_cell-1
    ended or still followed back."""

    @property
    def censored(self) -> int:
        """Still followed at the data extract date without a start (open forløb)."""
        return self.n - self.events - self.competing

    def text_label(self, lang: str = "da") -> str:
        """The group's label in the report language (config texts)."""
        return {"da": self.label, "en": self.label_en}[check_lang(lang)]

    def to_dict(self) -> dict[str, Any]:
        """Every figure as JSON values (missing as None), for :meth:`from_dict`."""
        return jsonable({k: getattr(self, k) for k in self.__dataclass_fields__})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StartGroup:
        """The group back from :meth:`to_dict`."""
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


KMGroup = StartGroup
"""The former name (Kaplan–Meier), kept for code that imported it."""

CURVE_COLUMNS = ["group", "time", "cif", "ci_low", "ci_high", "cif_ended", "ended_low",
                 "ended_high", "n_risk", "n_events", "n_ended"]


@dataclass
class TimeToEducation:
    """Time from the start of the forløb to the education start step, as competing risks.

    ``curves`` has columns group, time (days), cif (cumulative share started), ci_low, ci_high
    (pointwise 95 %, log(−log)), cif_ended with ended_low/ended_high (forløb ended without a
    start), n_risk, n_events and n_ended; each curve starts at (0, 0). ``groups`` lists the
    groups in report order; only target groups whose goal is to *start* are in it (the *stay*
    groups are left out, ``left_out``). Groups under ``min_cell`` young people are marked
    ``suppressed``: no curve and no share is shown for them.
    """

    by: str | None
    step: str | None
    step_label: str
    step_label_en: str
    groups: list[StartGroup] = field(default_factory=list)
    curves: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CURVE_COLUMNS))
    logrank_chi2: float | None = None
    logrank_df: int | None = None
    logrank_p: float | None = None
    logrank_groups: list[str] = field(default_factory=list)
    """The groups the log-rank test compared (those drawn, with any start)."""
    n_missing_date: int = 0
    n_after_extract: int = 0
    """Young people whose forløb began after the data extract date: left out."""
    n_no_start: int = 0
    censor_date: str | None = None
    """The data extract date: open forløb are followed until then."""
    censor_source: str = "config"
    """'config' (``project.data_extract_date``) or 'data' (the latest date in the data)."""
    left_out: list[str] = field(default_factory=list)
    """Codes of the target groups left out: their goal is to stay."""
    n_left_out: int = 0
    min_cell: int = 5

    def group(self, code: str) -> StartGroup:
        """The estimate of one group by code ("all" for everyone)."""
        for g in self.groups:
            if g.code == code:
                return g
        raise KeyError(f"no group {code!r}; groups: {', '.join(g.code for g in self.groups)}")

    def curve(self, code: str) -> pd.DataFrame:
        """The cumulative incidence curves of one group."""
        return self.curves[self.curves["group"] == code].reset_index(drop=True)

    @property
    def reported_groups(self) -> list[StartGroup]:
        """The groups the text and table report: every subgroup (small ones as hidden) if
        at least one is large enough, else only everyone. Never both, so that a small group's
        figures cannot be found by subtracting the others from the total."""
        subgroups = [g for g in self.groups if g.code != ALL and g.n > 0]
        everyone = [g for g in self.groups if g.code == ALL and g.n > 0]
        if self.by and (any(not g.suppressed for g in subgroups) or not everyone):
            return subgroups
        return everyone

    @property
    def sizes_hidden(self) -> bool:
        """Whether the reported groups' sizes are left out: one of them (or the left-out stay
        groups together) is under min_cell, or the måltal plan hides it, so the sizes would give
        a small group's size back from everyone's (shown in other tables)."""
        # those left out (a stay group, a missing date, begun after the extract) are the
        # måltal's group size minus the size given here
        left = (self.n_left_out, self.n_missing_date, self.n_after_extract)
        return any(bool(primary_mask(n, self.min_cell)) for n in left) or any(
            (0 < g.n < self.min_cell and g.code != ALL) or g.size_hidden
            for g in self.reported_groups)

    @property
    def shown_groups(self) -> list[StartGroup]:
        """The groups a figure shows: the reported groups large enough to draw."""
        return [g for g in self.reported_groups if not g.suppressed]

    def to_dict(self) -> dict[str, Any]:
        """Every figure as JSON values (no person ids), for :meth:`from_dict`."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__
               if k not in ("groups", "curves")}
        out["groups"] = [g.to_dict() for g in self.groups]
        out["curves"] = self.curves[CURVE_COLUMNS]
        return jsonable(out)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TimeToEducation:
        """The estimate back from :meth:`to_dict`."""
        fields = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        fields["groups"] = [StartGroup.from_dict(g) for g in d.get("groups", [])]
        curves = pd.DataFrame(d.get("curves") or [], columns=CURVE_COLUMNS)
        for col in CURVE_COLUMNS[1:8]:
            curves[col] = curves[col].astype(float)
        fields["curves"] = curves
        return cls(**fields)


def extract_date(cfg: ProjectConfig, *tables: pd.DataFrame) -> tuple[pd.Timestamp, str]:
    """The day open forløb are followed until, and where it comes from: the config's
    ``project.data_extract_date`` ('config'), else the latest date in the given tables
    (start, end and step dates: 'data'), else the end of the project period ('period')."""
    if cfg.project.data_extract_date is not None:
        return pd.Timestamp(cfg.project.data_extract_date), "config"
    latest = []
    for t in tables:
        for col in ("start_date", "end_date", "date"):
            if col in t.columns and len(t):
                value = pd.to_datetime(t[col]).max()
                if pd.notna(value):
                    latest.append(pd.Timestamp(value))
    if latest:
        return max(latest).normalize(), "data"
    return pd.Timestamp(cfg.project.period.end), "period"


def stay_groups(cfg: ProjectConfig) -> list[str]:
    """Target group codes whose goal is to stay in education (left out of time to start)."""
    return [code for code, g in cfg.target_groups.items() if getattr(g, "goal", "start") == "stay"]


def event_table(steps: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
                by: str | None = "target_group", until: Any = None) -> pd.DataFrame:
    """Per participant the competing-risks input: ``group``, ``time`` (days, ≥ 0), ``cause``
    (1 = started an education, 2 = the forløb ended without a start, 0 = still followed),
    ``event`` (1 if started), ``missing_date`` (the education step was logged without a date)
    and ``goal`` (the target group's 'start' or 'stay'; 'start' without a target group).

    Time runs from ``start_date`` to the earliest dated education step; without one to the
    ``end_date`` (cause 2), and for a forløb still open to the data extract date ``until``
    (default ``extract_date``; cause 0). A start or an end after that date is not yet known
    there: the time is censored at it. A step dated before the start counts as time 0.
    Person ids are kept (internal).
    """
    people = _persons(participants, by, "time_to_education")
    if "target_group" in participants.columns:
        first = participants.sort_values("start_date", kind="stable").drop_duplicates(
            "person_id")
        tg = first["target_group"].astype("string").to_numpy()
        people["goal"] = ["stay" if str(g) in set(stay_groups(cfg)) else "start" for g in tg]
    else:
        people["goal"] = "start"
    edu = cfg.steps.education_start_step
    log = _steps(steps, cfg)
    log = log[(log["step"] == edu) & log["person_id"].isin(people["person_id"])]
    first = log.groupby("person_id")["date"].min()  # NaT only if every such row lacks a date
    logged = set(log["person_id"])
    stop_at = (pd.Timestamp(until) if until is not None
               else extract_date(cfg, participants, steps)[0])
    out = people.copy()
    # reindex, not map: pandas cannot map through an empty datetime Series
    out["event_date"] = pd.to_datetime(first.reindex(out["person_id"]).to_numpy())
    out["missing_date"] = out["person_id"].isin(logged) & out["event_date"].isna()
    end = pd.to_datetime(out["end_date"])
    started = out["event_date"].notna() & (out["event_date"] <= stop_at)
    ended = ~started & end.notna() & (end <= stop_at)
    out["cause"] = np.select([started, ended], [START, ENDED], CENSORED).astype("int64")
    out["event"] = started.astype("int64")
    stop = out["event_date"].where(started, end.where(ended, stop_at))
    days = pd.to_timedelta(stop - pd.to_datetime(out["start_date"])).dt.days.astype(float)
    out["time"] = days.clip(lower=0.0)
    return out[["person_id", "group", "goal", "start_date", "time", "cause", "event",
                "missing_date"]]


def _curve(time: np.ndarray, cause: np.ndarray) -> pd.DataFrame:
    """The two cumulative incidence curves of one group, starting at (0, 0) and running on to
    the last follow-up time."""
    if len(time) == 0:
        return pd.DataFrame(columns=CURVE_COLUMNS[1:])
    aj = aalen_johansen(time, cause)
    curve = pd.DataFrame({
        "time": aj["time"], "cif": aj["cif_1"], "ci_low": aj["low_1"], "ci_high": aj["high_1"],
        "cif_ended": aj["cif_2"], "ended_low": aj["low_2"], "ended_high": aj["high_2"],
        "n_risk": aj["n_risk"], "n_events": aj["n_1"], "n_ended": aj["n_2"]})
    start = pd.DataFrame({"time": [0.0], "cif": [0.0], "ci_low": [0.0], "ci_high": [0.0],
                          "cif_ended": [0.0], "ended_low": [0.0], "ended_high": [0.0],
                          "n_risk": [len(time)], "n_events": [0], "n_ended": [0]})
    return pd.concat([start, curve], ignore_index=True)


def _at(curve: pd.DataFrame, day: float, column: str) -> float:
    """A step curve's value at ``day`` (the last step at or before it)."""
    before = curve[curve["time"] <= day]
    return float(before[column].iloc[-1]) if len(before) else 0.0


def _first(curve: pd.DataFrame, column: str, level: float = 0.5) -> float | None:
    """The first time a curve reaches ``level`` (None if it never does)."""
    hit = curve.loc[curve[column] >= level - 1e-12, "time"]
    return float(hit.iloc[0]) if len(hit) else None


def _start_group(code: str, label: str, label_en: str, d: pd.DataFrame, curve: pd.DataFrame,
                 k: int) -> StartGroup:
    """One group's figures from its event table rows and its curve, with the group's own
    disclosure flags (the plan's are the reader's)."""
    n = len(d)
    events = int((d["cause"] == START).sum())
    competing = int((d["cause"] == ENDED).sum())
    g = StartGroup(code=code, label=label, label_en=label_en, n=n, events=events,
                   competing=competing)
    # a curve steps once per start: 1..min_cell-1 starts (or young people without one) would
    # be counted off the figure
    g.suppressed = bool(n < k or rate_hidden(events, n, k))
    # ended = n − started − still followed: either small one gives the other back
    g.competing_hidden = bool(g.suppressed or primary_mask(competing, k)
                              or primary_mask(n - events - competing, k))
    if curve.empty:
        return g
    g.follow_up = float(d["time"].max())
    everyone_done = bool(curve["n_risk"].iloc[-1] == curve["n_events"].iloc[-1]
                         + curve["n_ended"].iloc[-1]) and len(curve) > 1
    for months, day in HORIZONS.items():
        reached = day <= g.follow_up or everyone_done
        started = int(((d["cause"] == START) & (d["time"] <= day)).sum())
        g.horizons.append({
            "months": months, "days": day, "reached": bool(reached),
            "share": _at(curve, day, "cif") if reached else None,
            "ci_low": _at(curve, day, "ci_low") if reached else None,
            "ci_high": _at(curve, day, "ci_high") if reached else None,
            "started": started,
            # the share at a time gives the number started by then back (n is shown)
            "hidden": bool(primary_mask(started, k) or primary_mask(n - started, k))})
    last = curve.iloc[-1]
    g.final = {"start": float(last["cif"]), "start_low": float(last["ci_low"]),
               "start_high": float(last["ci_high"]), "ended": float(last["cif_ended"]),
               "ended_low": float(last["ended_low"]), "ended_high": float(last["ended_high"])}
    g.half = _first(curve, "cif")
    if g.half is not None:
        g.half_ci_low = _first(curve, "ci_high")
        g.half_ci_high = _first(curve, "ci_low")
    return g


def time_to_education(steps: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
                      by: str | None = "target_group", until: Any = None) -> TimeToEducation:
    """Cumulative incidence of starting an education (Aalen–Johansen, ended without a start as
    the competing event), per group and for everyone, with a cause-specific log-rank test
    between the groups (see ``event_table`` for the rules).

    Only target groups whose goal is to start are estimated (``goal: stay`` groups are left
    out). Participants whose education step has no date are left out (``n_missing_date``).
    ``until`` is the data extract date (default ``extract_date``: the config's, else the
    latest date in these tables). What the project-wide plan hides (the starts the funnel
    hides, the sizes the måltal tables hide) the reader adds (``ungeanalyse.reader.steps``).
    """
    edu = cfg.steps.education_start_step
    ladder = {s.id: s for s in cfg.steps.ladder}
    step = ladder.get(edu) if edu else None
    if until is not None:
        stop_at, source = pd.Timestamp(until), ("config" if cfg.project.data_extract_date
                                                else "data")
    else:
        stop_at, source = extract_date(cfg, participants, steps)
    result = TimeToEducation(
        by=by, step=edu if step else None,
        step_label=step.text("da") if step else "", step_label_en=step.text("en") if step else "",
        censor_date=str(stop_at.date()), censor_source=source, min_cell=cfg.privacy.min_cell)
    if step is None:
        return result
    k = cfg.privacy.min_cell
    data = event_table(steps, participants, cfg, by, until=stop_at)
    stay = data["goal"].eq("stay")
    result.n_left_out = int(stay.sum())
    if result.n_left_out:
        present = set(participants["target_group"].astype("string").dropna())
        result.left_out = [c for c in stay_groups(cfg) if c in present]
    data = data[~stay]
    # a forløb that began after the data were drawn is not followed at all yet
    late = pd.to_datetime(data["start_date"]) > stop_at
    result.n_after_extract = int(late.sum())
    data = data[~late]
    result.n_missing_date = int(data["missing_date"].sum())
    data = data[~data["missing_date"] & data["time"].notna()]
    result.n_no_start = int((data["event"] == 0).sum())
    codes = _group_codes(cfg, by, data["group"])
    if by and len(codes) == 2:  # one group: it is everyone analysed, no second row
        codes.remove(ALL)
    curves = []
    for code in codes:
        d = data if code == ALL else data[data["group"] == code]
        curve = _curve(d["time"].to_numpy(dtype=float), d["cause"].to_numpy())
        result.groups.append(_start_group(code, group_label(cfg, by, code, "da"),
                                          group_label(cfg, by, code, "en"), d, curve, k))
        if not curve.empty:
            curves.append(curve.assign(group=code))
    if curves:
        result.curves = pd.concat(curves, ignore_index=True)[CURVE_COLUMNS]
    if by:
        _logrank(result, data)
    return result


def _logrank(result: TimeToEducation, data: pd.DataFrame) -> None:
    """The cause-specific log-rank test of the rate of starting (ended without a start
    censored) between the groups drawn that have any start, set on ``result``."""
    tested = [g.code for g in result.groups if g.code != ALL and not g.suppressed and g.events]
    data = data[data["group"].isin(tested)]
    if len(tested) < 2:
        return
    from statsmodels.duration.survfunc import survdiff

    index = {c: i for i, c in enumerate(tested)}
    chi2, p = survdiff(data["time"].to_numpy(dtype=float), data["event"].to_numpy(dtype=float),
                       data["group"].map(index).to_numpy(dtype=int))
    if np.isfinite(p):
        result.logrank_chi2, result.logrank_p = float(chi2), float(p)
        result.logrank_df = len(tested) - 1
        result.logrank_groups = tested


# -- one call for a unit ----------------------------------------------------------------------


@dataclass
class StepsResult:
    """A unit's steps on the way: the funnel and the time to education, or why there are none
    (``status``: 'ok', 'not_delivered' when the project has no steps at all, 'none_here' when
    it has, but not for this unit)."""

    status: str
    by: str | None = "target_group"
    funnel: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=FUNNEL_COLUMNS))
    time_to_start: TimeToEducation | None = None

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON values (what notebook 02 saves as ``steps``)."""
        return jsonable({"status": self.status, "by": self.by,
                         "funnel": self.funnel[FUNNEL_COLUMNS],
                         "time_to_start": (self.time_to_start.to_dict()
                                           if self.time_to_start else None)})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StepsResult:
        """The result back from :meth:`to_dict` (the evaluation text rebuilds it)."""
        funnel = pd.DataFrame(d.get("funnel") or [], columns=FUNNEL_COLUMNS)
        funnel = funnel.astype({"n_reached": "int64", "n_group": "int64", "share": float,
                                "rank": "int64", "size_suppressed": bool})
        tte = d.get("time_to_start")
        return cls(d["status"], d.get("by"), funnel,
                   TimeToEducation.from_dict(tte) if tte else None)


def analyse(tables: dict[str, pd.DataFrame], cfg: ProjectConfig,
            project: dict[str, pd.DataFrame] | None = None,
            by: str | None = "target_group") -> StepsResult:
    """The funnel and the time to education of a unit (``tables``: its clean tables). Open
    forløb are followed until the data extract date; without one in the config, the latest
    date in the whole ``project``'s data, so that every unit uses the same day."""
    steps, participants = tables["steps"], tables["participants"]
    whole = project if project is not None and len(project["participants"]) else tables
    if not cfg.steps.ladder or whole["steps"].empty:
        return StepsResult("not_delivered", by)
    if steps.empty:
        return StepsResult("none_here", by)
    until = extract_date(cfg, whole["participants"], whole["steps"])[0]
    return StepsResult("ok", by, funnel(steps, participants, cfg, by=by),
                       time_to_education(steps, participants, cfg, by=by, until=until))
