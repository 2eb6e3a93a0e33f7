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

Conventions as in ``ungeanalyse.outcomes``: shares are proportions, counts are raw here and
disclosure control happens where readers see them (the funnel carries a ``suppressed`` flag,
the summary text writes small counts as "færre end 5"). A young person with more than one
forløb counts once, with the group and dates of the first forløb.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import ProjectConfig
from .disclosure.funnel import funnel_suppression, size_suppression
from .errors import UserError
from .fmt import fmt_date, fmt_float, fmt_int
from .outcomes import DIMENSION_LABELS, category_labels, check_lang, jsonable, require_columns
from .privacy import count_text, primary_mask, rate_hidden

ALL = "all"
"""Group code of the row or curve that covers every participant."""

ALL_LABELS = {"da": "Alle unge", "en": "All young people"}
STEP_COLUMN = {"da": "Skridt", "en": "Step"}
GROUP_COLUMN = {"da": "Gruppe", "en": "Group"}

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


def _group_labels(cfg: ProjectConfig, by: str | None, groups: pd.Series, lang: str
                  ) -> dict[str, str]:
    """Group code → label in config order (unknown codes after, sorted), and the overall row."""
    known = category_labels(cfg, by, lang) if by else {}
    seen = {str(g) for g in groups.unique()}
    labels = {c: lab for c, lab in known.items() if c in seen}
    labels.update({c: c or ("(ukendt)" if lang == "da" else "(unknown)")
                   for c in sorted(seen - set(known))})
    labels[ALL] = ALL_LABELS[lang]
    return labels


def _dimension_label(by: str | None, lang: str) -> str:
    return DIMENSION_LABELS[lang].get(by, GROUP_COLUMN[lang]) if by else GROUP_COLUMN[lang]


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
           by: str | None = "target_group", lang: str = "da",
           hidden: dict[str, dict[str, bool]] | None = None,
           hidden_sizes: dict[str, bool] | None = None) -> pd.DataFrame:
    """How many reached each step of the ladder or a later one, per group and for everyone.

    One row per (group, step) in config order, the overall group (``group == "all"``) last.
    Columns: ``group`` (code), a group label column named for ``by`` (e.g. "Målgruppe"),
    ``step``, ``rank``, a step label column ("Skridt"/"Step"), ``n_reached``, ``share``
    (of the group's participants), ``n_group``, ``suppressed``: n_reached is 1..min_cell-1,
    or is hidden as well so that such a count cannot be worked out from the overall row, and
    ``size_suppressed``: the group's size (and so its shares) must not be shown.
    The label column names are in ``df.attrs["group_label"]`` and ``df.attrs["step_label"]``.
    ``hidden`` ({group: {step: hidden}}, from :func:`funnel_plan`) decides ``suppressed``
    instead of the unit's own rule, so that the unit's funnel and the whole project's together
    give no small count away; ``hidden_sizes`` ({group: hidden}, the måltal plan's sizes of
    the same groups) hides a group's size where the måltal tables hide it.
    """
    check_lang(lang)
    people = _persons(participants, by, "funnel")
    top = furthest_step(steps, participants, cfg, lang)[["person_id", "furthest_rank"]]
    people = people.merge(top, on="person_id", how="left")
    people["furthest_rank"] = people["furthest_rank"].fillna(0).astype("int64")
    labels = _group_labels(cfg, by, people["group"], lang)
    group_col, step_col = _dimension_label(by, lang), STEP_COLUMN[lang]
    rows = []
    for code, label in labels.items():
        members = people if code == ALL else people[people["group"] == code]
        n_group = len(members)
        for rank, s in enumerate(cfg.steps.ladder, start=1):
            n = int((members["furthest_rank"] >= rank).sum())
            rows.append({"group": code, group_col: label, "step": s.id, "rank": rank,
                         step_col: s.text(lang), "n_reached": n,
                         "share": n / n_group if n_group else math.nan, "n_group": n_group})
    columns = ["group", group_col, "step", "rank", step_col, "n_reached", "share", "n_group"]
    out = pd.DataFrame(rows, columns=columns)
    out["n_reached"] = out["n_reached"].astype("int64")
    out["n_group"] = out["n_group"].astype("int64")
    out["share"] = out["share"].astype(float)
    out["suppressed"] = funnel_suppression(out, cfg.privacy.min_cell)
    if hidden is not None and all(str(g) in hidden for g in out["group"].unique()):
        out["suppressed"] = [bool(hidden[str(g)].get(st, True))
                             for g, st in zip(out["group"], out["step"], strict=True)]
    out["size_suppressed"] = size_suppression(out, cfg.privacy.min_cell)
    if hidden_sizes:
        out["size_suppressed"] = out["size_suppressed"] | out["group"].astype(str).map(
            lambda g: bool(hidden_sizes.get(g, False))).to_numpy(dtype=bool)
    out.attrs.update({"group_label": group_col, "step_label": step_col, "lang": lang,
                      "min_cell": cfg.privacy.min_cell})
    return out


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
    ci_high, started (the number who had started by then; internal) and hidden."""
    final: dict[str, float] = field(default_factory=dict)
    """At the end of follow-up: start, start_low, start_high, ended, ended_low, ended_high."""
    half: float | None = None
    """Days until half had started (the cumulative incidence reaches 50 %), None if never."""
    half_ci_low: float | None = None
    half_ci_high: float | None = None
    suppressed: bool = False
    events_hidden: bool = False
    """The number of starts is hidden to protect a small count elsewhere (the project-wide
    funnel plan hides the same count at the education step); the curve and shares go too."""
    size_hidden: bool = False
    """The group's size is hidden as the måltal tables hide it (project-wide plan)."""
    competing_hidden: bool = False
    """The ended-without-a-start curve and share are not shown: they would give 1..min_cell-1
    ended or still followed back."""

    @property
    def censored(self) -> int:
        """Still followed at the data extract date without a start (open forløb)."""
        return self.n - self.events - self.competing

    def text_label(self, lang: str = "da") -> str:
        return self.label_en if lang == "en" else self.label

    def to_dict(self, sizes_hidden: bool = False) -> dict[str, Any]:
        """The figures as JSON values (missing as None); hidden figures are left out (all shares
        with ``sizes_hidden``: they would give the size back)."""
        shown = not self.suppressed and not sizes_hidden
        return jsonable({
            "code": self.code, "label": self.label, "label_en": self.label_en,
            "n": None if sizes_hidden or self.size_hidden else self.n,
            "events": None if self.events_hidden else self.events,
            "follow_up_days": self.follow_up, "suppressed": self.suppressed,
            "events_hidden": self.events_hidden, "competing_hidden": self.competing_hidden,
            "horizons": [{k: v for k, v in h.items() if k != "started"}
                         for h in self.horizons if shown and not h["hidden"]],
            "final": ({k: v for k, v in self.final.items()
                       if k.startswith("start") or not self.competing_hidden} if shown else {}),
            "half_days": self.half if shown else None,
            "half_ci_low": self.half_ci_low if shown else None,
            "half_ci_high": self.half_ci_high if shown else None})


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
    n_missing_date: int = 0
    n_after_extract: int = 0
    """Young people whose forløb began after the data extract date: left out."""
    n_no_start: int = 0
    censor_date: str | None = None
    """The data extract date: open forløb are followed until then."""
    censor_source: str = "config"
    """'config' (``project.data_extract_date``) or 'data' (the latest date in the data)."""
    left_out: list[tuple[str, str]] = field(default_factory=list)
    """(Danish, English) labels of the target groups left out: their goal is to stay."""
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
        """The groups the text and table report: every subgroup (small ones as 'too few') if
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

    def table(self, lang: str = "da") -> pd.DataFrame:
        """A reader table: group, young people, starts, the share started at 3, 6 and 12 months
        and at the end of follow-up with 95 % intervals; hidden counts as '<5' or '–'."""
        check_lang(lang)
        from .privacy import hidden_count_text

        k = self.min_cell
        da = lang == "da"
        rows = []
        for g in self.reported_groups:
            def count(n: int) -> str:
                return hidden_count_text(n, k) if primary_mask(n, k) else fmt_int(n, lang)
            row = {
                _dimension_label(self.by, lang): g.text_label(lang),
                "Unge" if da else "Young people":
                    "–" if self.sizes_hidden and not primary_mask(g.n, k) else count(g.n),
                "Startet" if da else "Started":
                    "–" if g.events_hidden and not primary_mask(g.events, k) else count(g.events),
            }
            for h in g.horizons:
                head = (f"Startet efter {h['months']} mdr. (95 %-CI)" if da
                        else f"Started by {h['months']} months (95% CI)")
                row[head] = ("–" if g.suppressed or self.sizes_hidden
                             else _horizon_cell(h, lang))
            end = ("Startet ved opfølgningens udgang (95 %-CI)" if da
                   else "Started by the end of follow-up (95% CI)")
            row[end] = ("–" if g.suppressed or self.sizes_hidden or not g.final else
                        _share_ci(g.final["start"], g.final["start_low"], g.final["start_high"],
                                  lang, label=False))
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self, lang: str = "da") -> str:
        """A short text on the time to start an education, in the report language."""
        check_lang(lang)
        da = lang == "da"
        k = self.min_cell
        if self.step is None:
            return ("Konfigurationen angiver ikke, hvilket skridt der er start på uddannelse "
                    "(steps.education_start_step), så tiden til uddannelse er ikke beregnet."
                    if da else "The config names no education start step "
                    "(steps.education_start_step), so time to education was not estimated.")
        shown = self.reported_groups
        if not shown:
            return ("Der er ingen unge med en startdato at beregne tiden til uddannelse for."
                    + self._left_out_text(lang) if da else
                    "There are no young people with a start date to estimate the time to "
                    "education for." + self._left_out_text(lang))
        dimension = _dimension_label(self.by, lang)
        parts = [_group_sentence(g, dimension if g.code != ALL else None, k, lang,
                                 show_n=not self.sizes_hidden) for g in shown]
        if shown[0].code == ALL and self.by and sum(g.code != ALL for g in self.groups) > 1:
            parts.append(f"Grupperne ({dimension.lower()}) er for små til at blive vist hver "
                         "for sig." if da else f"The groups ({dimension.lower()}) are too small "
                         "to be shown one by one.")
        step = self.step_label if da else self.step_label_en
        date = fmt_date(self.censor_date, lang)
        if da:
            source = ("dataudtrækket" if self.censor_source == "config" else
                      "den seneste dato i data, da konfigurationen ikke angiver datoen for "
                      "dataudtrækket (project.data_extract_date)")
            parts.append(
                f"Tiden regnes fra forløbets start til skridtet »{step}«. At forløbet slutter "
                "uden en start, er en konkurrerende hændelse, ikke en censurering: andelene er "
                "kumulerede incidenser (Aalen–Johansen) med 95 %-konfidensintervaller efter "
                "deltametoden (log(−log)-skala). Unge, hvis forløb stadig er åbent, følges til "
                f"{source} ({date}).")
        else:
            source = ("the data extract" if self.censor_source == "config" else
                      "the latest date in the data, as the config gives no data extract date "
                      "(project.data_extract_date)")
            parts.append(
                f"Time is counted from the start of the course to the step “{step}”. A course "
                "that ends without a start is a competing event, not censoring: the shares are "
                "cumulative incidences (Aalen–Johansen) with 95% confidence intervals by the "
                "delta method (log(−log) scale). Young people whose course is still open are "
                f"followed until {source} ({date}).")
        parts.append(self._left_out_text(lang).strip())
        if self.n_missing_date:
            n = count_text(self.n_missing_date, k, lang)
            parts.append(f"For {n} unge mangler datoen for skridtet; de indgår ikke i "
                         "beregningen." if da else f"For {n} young people the date of the step "
                         "is missing; they are left out of the estimate.")
        if self.n_after_extract:
            n = count_text(self.n_after_extract, k, lang)
            parts.append(f"{n.capitalize()} unge begyndte forløbet efter dataudtrækket og indgår "
                         "ikke." if da else f"{n.capitalize()} young people began their course "
                         "after the data extract and are left out.")
        if self.logrank_p is not None and sum(not g.suppressed for g in shown) > 1:
            p = _p_text(self.logrank_p, lang)
            if da:
                verdict = ("en statistisk sikker forskel" if self.logrank_p < 0.05
                           else "ingen statistisk sikker forskel")
                parts.append(f"En log-rank-test af raten for at starte (årsagsspecifik) viser "
                             f"{verdict} mellem grupperne ({p}).")
            else:
                verdict = ("a statistically significant difference" if self.logrank_p < 0.05
                           else "no statistically significant difference")
                parts.append(f"A log-rank test of the rate of starting (cause-specific) shows "
                             f"{verdict} between the groups ({p}).")
        return " ".join(p for p in parts if p)

    def _left_out_text(self, lang: str) -> str:
        """The sentence naming the target groups left out because their goal is to stay."""
        if not self.left_out:
            return ""
        da = lang == "da"
        names = [f"»{d}«" if da else f"“{e}”" for d, e in self.left_out]
        joined = (" og " if da else " and ").join(
            [", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        return (f" Målgruppen {joined} indgår ikke: den handler om at blive i uddannelse, ikke "
                "om at starte." if da and len(names) == 1 else
                f" Målgrupperne {joined} indgår ikke: de handler om at blive i uddannelse, ikke "
                "om at starte." if da else
                f" The target group{'s' if len(names) > 1 else ''} {joined} "
                f"{'are' if len(names) > 1 else 'is'} left out: "
                f"{'they are' if len(names) > 1 else 'it is'} about staying in education, "
                "not starting.")

    def __str__(self) -> str:
        return self.summary("da")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable figures (no person ids, no counts per time): groups, curves of the
        groups shown, the log-rank test, the extract date and its source."""
        curves = self.curves[self.curves["group"].isin([g.code for g in self.shown_groups])]
        if self.sizes_hidden:
            curves = curves.iloc[0:0]
        keep = ["time", "cif", "ci_low", "ci_high"]
        ended = {g.code for g in self.groups if not g.competing_hidden}
        return jsonable({
            "by": self.by, "step": self.step, "step_label": self.step_label,
            "step_label_en": self.step_label_en, "censor_date": self.censor_date,
            "censor_source": self.censor_source, "method": "aalen_johansen",
            "min_cell": self.min_cell,
            "left_out": [d for d, _ in self.left_out],
            "groups": [g.to_dict(self.sizes_hidden) for g in self.reported_groups],
            "curves": {code: jsonable(c[keep + (["cif_ended", "ended_low", "ended_high"]
                                                if code in ended else [])])
                       for code, c in curves.groupby("group", sort=False)},
            "logrank": None if self.logrank_p is None else {
                "chi2": self.logrank_chi2, "df": self.logrank_df, "p": self.logrank_p},
        })


def _days(x: float | None, lang: str, none: str = "–") -> str:
    if x is None or not math.isfinite(x):
        return none
    return fmt_int(x, lang)


def _p_text(p: float, lang: str) -> str:
    if p < 0.001:
        return "p < 0,001" if lang == "da" else "p < 0.001"
    return f"p = {fmt_float(p, 3, lang)}"


def _share_ci(share: float, low: float, high: float, lang: str, label: bool = True) -> str:
    """'38 % (95 %-CI 30–47 %)' in the report language ('38 % (30–47 %)' without ``label``)."""
    from .fmt import fmt_ci, fmt_pct

    ci = ("95 %-CI " if lang == "da" else "95% CI ") if label else ""
    return f"{fmt_pct(share, 0, lang)} ({ci}{fmt_ci(low, high, lang)})"


def _horizon_cell(h: dict[str, Any], lang: str) -> str:
    if not h["reached"]:
        return "ikke nået" if lang == "da" else "not reached"
    if h["hidden"]:
        return "for få" if lang == "da" else "too few"
    return _share_ci(h["share"], h["ci_low"], h["ci_high"], lang, label=False)


def _horizon_text(g: StartGroup, lang: str) -> str:
    """'12 % (95 %-CI 7–19 %) efter 3 måneder, …' for the horizons follow-up reaches; the
    hidden ones (a share that would give 1..min_cell-1 started or not back) and those beyond
    follow-up are named."""
    da = lang == "da"
    join = " og " if da else " and "

    def listing(items: list[str]) -> str:
        return ", ".join(items[:-1]) + join + items[-1] if len(items) > 1 else items[0]

    shown = [f"{_share_ci(h['share'], h['ci_low'], h['ci_high'], lang)} "
             + (f"efter {h['months']} måneder" if da else f"by {h['months']} months")
             for h in g.horizons if h["reached"] and not h["hidden"]]
    hidden = [str(h["months"]) for h in g.horizons if h["reached"] and h["hidden"]]
    missing = [str(h["months"]) for h in g.horizons if not h["reached"]]
    parts = []
    if shown:
        parts.append(f"Andelen, der var startet på en uddannelse, var {listing(shown)}." if da
                     else f"The share who had started an education was {listing(shown)}.")
    if hidden:
        parts.append(f"Efter {listing(hidden)} måneder vises andelen ikke (for få unge)." if da
                     else f"By {listing(hidden)} months the share is not shown (too few young "
                     "people).")
    if missing:
        parts.append(f"Opfølgningen når ikke {listing(missing)} måneder." if da else
                     f"Follow-up does not reach {listing(missing)} months.")
    return " ".join(parts)


def _group_sentence(g: StartGroup, dimension: str | None, min_cell: int, lang: str,
                    show_n: bool = True) -> str:
    """One group's result: the shares started by 3, 6 and 12 months and by the end of follow-up,
    and when half had started or that half had not; without ``show_n`` the group's size is
    not given (it would reveal a small sibling group's)."""
    da = lang == "da"
    left, right = ("»", "«") if da else ("“", "”")
    who = f"{dimension} {left}{g.text_label(lang)}{right}: " if dimension else ""
    n = count_text(g.n, min_cell, lang)
    if not show_n and not primary_mask(g.n, min_cell):
        if g.suppressed:
            return (f"{who}For få til at vise tiden til uddannelse." if da else
                    f"{who}Too few to show the time to education.")
        n = ""
    if g.suppressed and g.events_hidden and not primary_mask(g.events, min_cell):
        return (f"{who}{n.capitalize()} unge – tiden til uddannelse vises ikke, så en lille "
                "gruppe (her eller i et andet delprojekt) ikke kan regnes ud." if da else
                f"{who}{n.capitalize()} young people – the time to education is not shown, so "
                "that a small group (here or in another sub-project) cannot be worked out."
                ).replace("  ", " ").replace(": unge", ": Unge").replace(": young", ": Young")
    if g.suppressed:
        return (f"{who}{n.capitalize()} unge – for få til at vise tiden til uddannelse."
                if da else f"{who}{n.capitalize()} young people – too few to show the time "
                "to education.")
    if g.events == 0:
        return (f"{who}Ingen af de {n} unge er registreret som startet på en uddannelse."
                if da else f"{who}None of the {n} young people is logged as having started "
                "an education.").replace("  ", " ")
    events = count_text(g.events, min_cell, lang)
    days = _days(g.follow_up, lang)
    f = g.final
    if not show_n:  # shares and their intervals would give the hidden size back
        if da:
            half = (f"halvdelen var startet efter {_days(g.half, lang)} dage" if g.half
                    is not None else "halvdelen var ikke startet ved udgangen af opfølgningen "
                    f"({days} dage efter start)")
            text = (f"{who}{events.capitalize()} unge startede på en uddannelse; {half}. "
                    "Andelene vises ikke, fordi gruppens størrelse ikke vises (så en lille "
                    "gruppe ikke kan regnes ud).")
        else:
            half = (f"half had started after {_days(g.half, lang)} days" if g.half is not None
                    else f"half had not started by the end of follow-up ({days} days after the "
                    "start)")
            text = (f"{who}{events.capitalize()} young people started an education; {half}. "
                    "The shares are not shown, because the group's size is not shown (so that a "
                    "small group cannot be worked out).")
        return text.replace("  ", " ")
    start = _share_ci(f["start"], f["start_low"], f["start_high"], lang)
    if da:
        of = f"Af de {n} unge startede {events} på en uddannelse. "
        end = f"Ved udgangen af opfølgningen ({days} dage efter start) var {start} startet"
        if not g.competing_hidden:
            end += (", og " + _share_ci(f["ended"], f["ended_low"], f["ended_high"], lang)
                    + " havde afsluttet forløbet uden at starte")
        if g.half is None:
            half = ("halvdelen var altså ikke startet ved udgangen af opfølgningen"
                    if f["start"] < 0.5 else "")
        else:
            half = f"halvdelen var startet efter {days_text(g, lang)}"
    else:
        of = f"Of the {n} young people, {events} started an education. "
        end = f"By the end of follow-up ({days} days after the start), {start} had started"
        if not g.competing_hidden:
            end += (", and " + _share_ci(f["ended"], f["ended_low"], f["ended_high"], lang)
                    + " had ended the course without a start")
        if g.half is None:
            half = ("so half had not started by the end of follow-up" if f["start"] < 0.5
                    else "")
        else:
            half = f"half had started after {days_text(g, lang)}"
    text = f"{who}{of}{_horizon_text(g, lang)} {end}" + (f"; {half}." if half else ".")
    return text.replace("  ", " ")


def days_text(g: StartGroup, lang: str) -> str:
    """'353 dage (95 %-CI 300–420 dage)': the days until half had started, with the interval
    read off the pointwise limits of the curve (upper limit 'ikke nået' when it never gets
    there)."""
    da = lang == "da"
    unit = "dage" if da else "days"
    if g.half_ci_low is None:
        return f"{_days(g.half, lang)} {unit}"
    hi = _days(g.half_ci_high, lang, none="ikke nået" if da else "not reached")
    ci = "95 %-CI" if da else "95% CI"
    if g.half_ci_high is None:
        return (f"{_days(g.half, lang)} {unit} ({ci} fra {_days(g.half_ci_low, lang)} {unit}; "
                f"den øvre grænse er ikke nået)" if da else
                f"{_days(g.half, lang)} {unit} ({ci} from {_days(g.half_ci_low, lang)} {unit}; "
                "the upper limit is not reached)")
    return f"{_days(g.half, lang)} {unit} ({ci} {_days(g.half_ci_low, lang)}–{hi} {unit})"


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
                 k: int, events_hidden: bool, size_hidden: bool) -> StartGroup:
    """One group's figures from its event table rows and its curve, with its disclosure flags."""
    n = len(d)
    events = int((d["cause"] == START).sum())
    competing = int((d["cause"] == ENDED).sum())
    g = StartGroup(code=code, label=label, label_en=label_en, n=n, events=events,
                   competing=competing, events_hidden=events_hidden, size_hidden=size_hidden)
    # a curve steps once per start: 1..min_cell-1 starts (or young people without one) would
    # be counted off the figure
    g.suppressed = bool(n < k or rate_hidden(events, n, k) or events_hidden)
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
                      by: str | None = "target_group",
                      hidden_events: dict[str, bool] | None = None,
                      hidden_sizes: dict[str, bool] | None = None,
                      until: Any = None) -> TimeToEducation:
    """Cumulative incidence of starting an education (Aalen–Johansen, ended without a start as
    the competing event), per group and for everyone, with a cause-specific log-rank test
    between the groups (see ``event_table`` for the rules).

    Only target groups whose goal is to start are estimated (``goal: stay`` groups are left
    out). Participants whose education step has no date are left out (``n_missing_date``).
    ``until`` is the data extract date (default ``extract_date``: the config's, else the
    latest date in these tables). ``hidden_events`` ({group: hidden}, from the project-wide
    funnel plan at the education step, which counts the same starts) hides a group's number of
    starts, curve and shares; ``hidden_sizes`` (the måltal plan's sizes of the same groups)
    hides the groups' sizes.
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
        result.left_out = [(cfg.target_groups[c].text("da"), cfg.target_groups[c].text("en"))
                           for c in stay_groups(cfg) if c in present]
    data = data[~stay]
    # a forløb that began after the data were drawn is not followed at all yet
    late = pd.to_datetime(data["start_date"]) > stop_at
    result.n_after_extract = int(late.sum())
    data = data[~late]
    result.n_missing_date = int(data["missing_date"].sum())
    data = data[~data["missing_date"] & data["time"].notna()]
    result.n_no_start = int((data["event"] == 0).sum())
    labels_da = _group_labels(cfg, by, data["group"], "da")
    labels_en = _group_labels(cfg, by, data["group"], "en")
    codes = [c for c in labels_da if c != ALL]
    if by and len(codes) == 1:  # one group: it is everyone analysed, no second row
        del labels_da[ALL]
    hidden_events, hidden_sizes = hidden_events or {}, hidden_sizes or {}
    curves = []
    for code in labels_da:
        d = data if code == ALL else data[data["group"] == code]
        curve = _curve(d["time"].to_numpy(dtype=float), d["cause"].to_numpy())
        if code == ALL:  # everyone analysed: protected where any part of it is
            ev_hidden = hidden_events.get(ALL, False) or any(hidden_events.get(c, False)
                                                             for c in codes)
            sz_hidden = any(hidden_sizes.values())
        else:
            ev_hidden = hidden_events.get(code, False)
            sz_hidden = hidden_sizes.get(code, False)
        result.groups.append(_start_group(code, labels_da[code], labels_en[code], d, curve, k,
                                          bool(ev_hidden), bool(sz_hidden)))
        if not curve.empty:
            curves.append(curve.assign(group=code))
    if curves:
        result.curves = pd.concat(curves, ignore_index=True)[CURVE_COLUMNS]
    # the log-rank test compares the cause-specific rate of starting (ended without a start
    # censored) in the groups shown that have any start
    tested = [g.code for g in result.groups if g.code != ALL and not g.suppressed and g.events]
    data = data[data["group"].isin(tested)]
    if by and len(tested) > 1:
        from statsmodels.duration.survfunc import survdiff

        index = {c: i for i, c in enumerate(tested)}
        chi2, p = survdiff(data["time"].to_numpy(dtype=float),
                           data["event"].to_numpy(dtype=float),
                           data["group"].map(index).to_numpy(dtype=int))
        if np.isfinite(p):
            result.logrank_chi2, result.logrank_p = float(chi2), float(p)
            result.logrank_df = len(tested) - 1
    return result
