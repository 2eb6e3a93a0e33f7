"""Skridt på vejen: how far the young people got on the ladder, and how long until education.

The config's ``steps.ladder`` is an ordered list of steps (contact, visited a school, talked to
a counsellor, applied, started …). From the clean ``steps`` log (one row per step reached) and
the clean ``participants`` table this module gives

- ``furthest_step``: per participant the highest rung reached (rank 0 when nothing was logged);
- ``funnel``: per group and step, how many reached that step *or a later one* (the ladder is
  ordered, so a young person who applied has passed the earlier rungs even if nobody logged
  them), as a share of the group;
- ``time_to_education``: Kaplan–Meier estimates (statsmodels ``SurvfuncRight``) of the days from
  the start of the forløb to the ``education_start_step``, censored at the end of the forløb or,
  for those still active, at the end of the project period; a log-rank test between the groups.

Conventions as in ``ungeanalyse.outcomes``: shares are proportions, counts are raw here and
disclosure control happens where readers see them (the funnel carries a ``suppressed`` flag,
the summary text writes small counts as "færre end 5"). A young person with more than one
forløb counts once, with the group and dates of the first forløb.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .config import ProjectConfig
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
    out["suppressed"] = _funnel_suppression(out, cfg.privacy.min_cell)
    if hidden is not None and all(str(g) in hidden for g in out["group"].unique()):
        out["suppressed"] = [bool(hidden[str(g)].get(st, True))
                             for g, st in zip(out["group"], out["step"], strict=True)]
    out["size_suppressed"] = _size_suppression(out, cfg.privacy.min_cell)
    if hidden_sizes:
        out["size_suppressed"] = out["size_suppressed"] | out["group"].astype(str).map(
            lambda g: bool(hidden_sizes.get(g, False))).to_numpy(dtype=bool)
    out.attrs.update({"group_label": group_col, "step_label": step_col, "lang": lang,
                      "min_cell": cfg.privacy.min_cell})
    return out


def funnel_plan(steps: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
                by: str | None = "target_group",
                maaltal: dict[str, dict[str, Any]] | None = None
                ) -> dict[str, dict[str, dict[str, bool]]]:
    """Which funnel counts each unit's report hides, decided once for the whole project.

    As with the måltal (``outcomes.disclosure_plan``): the project's funnel is the sum of its
    delprojekter's, so a count hidden in one delprojekt must not follow from the project's
    count minus the others'. Every (unit, group, step) count is a cell; inside a unit the
    groups add up to everyone at each step, across units the delprojekter add up to the
    project (where the numbers really add up: a young person in two delprojekter counts once).
    The project's own counts are hidden only where nothing else will do. Two more kinds of
    count are protected: those who stopped between two steps (a row minus a later one; never
    shown, but 1..min_cell-1 of them must not follow), and, with the måltal's plan (``maaltal``,
    ``outcomes.disclosure_plan``), a count at the education step that equals a count the
    måltal tables hide in the same unit and group (the status "started an education" is the
    same young people as the step): it is hidden too. Returns
    ``{unit: {group: {step: hidden}}}``.
    """
    from .privacy import dear, solve_plan

    k = cfg.privacy.min_cell
    dp = participants["delprojekt"].astype("string")
    parts = [d for d in cfg.delprojekt_ids if dp.eq(d).any()]
    tables = {u: funnel(steps, participants if u == "all" else participants[dp.eq(u).to_numpy()],
                        cfg, by=by) for u in [*parts, "all"]}
    index: dict[tuple[str, str, str], int] = {}
    values: list[float] = []
    for u, t in tables.items():
        for g, st, n in zip(t["group"], t["step"], t["n_reached"], strict=True):
            index[(u, str(g), st)] = len(values)
            values.append(float(n))
    published = len(values)
    # those who stopped between two steps: a row minus any later row, so also across a hidden
    # row in between (unpublished counts)
    stops: list[tuple[int, int, int]] = []  # (stop cell, this row, the later row)
    for u, t in tables.items():
        for g, part in t.groupby("group", sort=False):
            ordered = part.sort_values("rank")
            keys = [(u, str(g), st) for st in ordered["step"]]
            for a, here in enumerate(keys):
                for after in keys[a + 1:]:
                    index[(u, str(g), f"stop:{here[2]}:{after[2]}")] = len(values)
                    values.append(values[index[here]] - values[index[after]])
                    stops.append((len(values) - 1, index[here], index[after]))
    vals = np.array(values)
    lines: list[list[int]] = []
    margins: list[int | None] = []

    def line(cells: list[tuple[str, str, str]], total: tuple[str, str, str]) -> None:
        found = [index[c] for c in cells if c in index]
        if found and total in index and sum(vals[found]) == vals[index[total]]:
            lines.append([*found, index[total]])
            margins.append(index[total])

    for u, t in tables.items():
        groups = [str(g) for g in t["group"].unique() if g != ALL]
        for st in t["step"].unique():
            line([(u, g, st) for g in groups], (u, ALL, st))
    project_steps = set(tables["all"]["step"])
    for (u, g, st) in [key for key in index if key[0] == "all" and key[2] in project_steps]:
        line([(d, g, st) for d in parts], (u, g, st))
    for stop, here, after in stops:  # the later row and those who stopped make this row
        lines.append([after, stop, here])
        margins.append(here)
    unpublished = np.zeros(len(vals), bool)
    unpublished[published:] = True
    primary = np.asarray(primary_mask(vals, k), dtype=bool)
    for i in _education_twins(tables, participants, cfg, maaltal, index).values():
        primary[i] = True  # the måltal tables hide the same young people
    cost = dear(vals, [i for key, i in index.items() if key[0] == "all"])
    mask = solve_plan(vals, lines, margins, k, primary, cost, unpublished=unpublished)
    plan: dict[str, dict[str, dict[str, bool]]] = {}
    for (u, g, st), i in index.items():
        if i < published:
            plan.setdefault(u, {}).setdefault(g, {})[st] = bool(mask[i])
    return plan


def _education_twins(tables: dict[str, pd.DataFrame], participants: pd.DataFrame,
                     cfg: ProjectConfig, maaltal: dict[str, dict[str, Any]] | None,
                     index: dict[tuple[str, str, str], int]) -> dict[tuple[str, str, str], int]:
    """Funnel cells at the education step that equal a count the måltal tables hide in the same
    unit (an outcome code, for everyone) or group (goal met, for a target group)."""
    edu = cfg.steps.education_start_step
    if not maaltal or not edu or "outcome" not in participants:
        return {}
    dp = participants["delprojekt"].astype("string")
    goal_codes = [c for c, o in cfg.outcomes.items() if o.group == "goal_met"]
    out = {}
    for u, t in tables.items():
        plan = maaltal.get(u)
        if not plan:
            continue
        people = participants if u == "all" else participants[dp.eq(u).to_numpy()]
        codes = people["outcome"].astype(str).value_counts()
        for g, n in zip(t.loc[t["step"].eq(edu), "group"], t.loc[t["step"].eq(edu), "n_reached"],
                        strict=True):
            if g == ALL:
                twins = [c for c in cfg.outcomes if plan["outcome"].get(c) and codes.get(c) == n]
            else:
                tg = people[people["target_group"].astype(str).eq(str(g))]
                goal = int(tg["outcome"].astype(str).isin(goal_codes).sum())
                rate_hidden = plan["breakdowns"].get("target_group", {}).get(str(g), {}).get(
                    "rate", False)
                twins = ["goal"] if rate_hidden and goal == n else []
            if twins and n > 0:
                out[(u, str(g), edu)] = index[(u, str(g), edu)]
    return out


def _size_suppression(table: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Per row: whether its group's size must be hidden. Sizes add up to everyone's, so a
    group under the limit hides a partner's size too; a hidden size hides the group's shares
    (count / share would give the size back)."""
    from .privacy import suppress_cells

    sizes = table.groupby("group", sort=False)["n_group"].first()
    values = sizes.to_numpy(dtype=float)
    mask = (suppress_cells(values, [list(range(len(sizes)))], min_cell) if len(sizes) > 2
            else np.asarray(primary_mask(values, min_cell), dtype=bool))
    return table["group"].map(dict(zip(sizes.index, mask, strict=True))).to_numpy(dtype=bool)


def _funnel_suppression(table: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Counts to hide: 1..min_cell-1, and at each step the partners that would let a hidden
    group count be found by subtracting the other groups from everyone (``privacy``)."""
    from .privacy import suppress_cells

    values = table["n_reached"].to_numpy(dtype=float)
    lines = [table.index[(table["rank"] == r).to_numpy()].tolist()
             for r in table["rank"].unique()]
    if table["group"].nunique() <= 2:  # one group is the same as everyone: nothing to subtract
        return np.asarray(primary_mask(values, min_cell), dtype=bool)
    from .privacy import widen_small_sums

    mask = suppress_cells(values, lines, min_cell)
    everyone = table.index[table["group"].eq(ALL).to_numpy()].tolist()
    margins = [next((c for c in line if c in everyone), None) for line in lines]
    return widen_small_sums(values, mask, lines, margins, min_cell)


# -- time to education ------------------------------------------------------------------------


@dataclass
class KMGroup:
    """The Kaplan–Meier estimate of one group: counts, median days with its 95 % interval."""

    code: str
    label: str
    label_en: str
    n: int
    events: int
    median: float | None = None
    median_ci_low: float | None = None
    median_ci_high: float | None = None
    suppressed: bool = False
    events_hidden: bool = False
    """The number of starts is hidden to protect a small count elsewhere (the project-wide
    funnel plan hides the same count at the education step); the curve and median go too."""
    size_hidden: bool = False
    """The group's size is hidden as the måltal tables hide it (project-wide plan)."""

    def text_label(self, lang: str = "da") -> str:
        return self.label_en if lang == "en" else self.label

    def to_dict(self) -> dict[str, Any]:
        """The figures as JSON values (infinite or missing as None)."""
        return jsonable({"code": self.code, "label": self.label, "label_en": self.label_en,
                         "n": self.n, "events": self.events, "censored": self.n - self.events,
                         "median_days": self.median, "median_ci_low": self.median_ci_low,
                         "median_ci_high": self.median_ci_high, "suppressed": self.suppressed,
                         "events_hidden": self.events_hidden})


@dataclass
class TimeToEducation:
    """Time from start to the education start step: KM curves per group and a log-rank test.

    ``curves`` has columns group, time (days), surv, ci_low, ci_high (pointwise 95 %, log-log),
    n_risk and n_events; each group's curve starts at (0, 1). ``groups`` lists the groups in
    report order with the overall group (code "all") last. Groups under ``min_cell`` young
    people are marked ``suppressed``: no curve and no median is shown for them.
    """

    by: str | None
    step: str | None
    step_label: str
    step_label_en: str
    groups: list[KMGroup] = field(default_factory=list)
    curves: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=["group", "time", "surv", "ci_low", "ci_high", "n_risk", "n_events"]))
    logrank_chi2: float | None = None
    logrank_df: int | None = None
    logrank_p: float | None = None
    n_missing_date: int = 0
    n_no_start: int = 0
    censor_date: str | None = None
    min_cell: int = 5

    def group(self, code: str) -> KMGroup:
        """The estimate of one group by code ("all" for everyone)."""
        for g in self.groups:
            if g.code == code:
                return g
        raise KeyError(f"no group {code!r}; groups: {', '.join(g.code for g in self.groups)}")

    def curve(self, code: str) -> pd.DataFrame:
        """The survival curve of one group."""
        return self.curves[self.curves["group"] == code].reset_index(drop=True)

    @property
    def reported_groups(self) -> list[KMGroup]:
        """The groups the text and table report: every subgroup (small ones as 'too few') if
        at least one is large enough, else only everyone. Never both, so that a small group's
        figures cannot be found by subtracting the others from the total."""
        subgroups = [g for g in self.groups if g.code != ALL and g.n > 0]
        if self.by and any(not g.suppressed for g in subgroups):
            return subgroups
        return [g for g in self.groups if g.code == ALL and g.n > 0]

    @property
    def sizes_hidden(self) -> bool:
        """Whether the reported groups' sizes are left out: one of them is under min_cell, so
        the others' sizes would give its size back from everyone's (shown in other tables)."""
        return any(g.code != ALL and (0 < g.n < self.min_cell or g.size_hidden)
                   for g in self.reported_groups)

    @property
    def shown_groups(self) -> list[KMGroup]:
        """The groups a figure shows: the reported groups large enough to draw."""
        return [g for g in self.reported_groups if not g.suppressed]

    def table(self, lang: str = "da") -> pd.DataFrame:
        """A reader table: group, number of young people and starts, median days and interval;
        counts under min_cell shown as '<5' and medians of suppressed groups as '–'."""
        check_lang(lang)
        from .privacy import hidden_count_text

        k = self.min_cell
        da = lang == "da"
        rows = []
        for g in self.reported_groups:
            def count(n: int) -> str:
                return hidden_count_text(n, k) if primary_mask(n, k) else fmt_int(n, lang)
            hide = g.suppressed
            rows.append({
                _dimension_label(self.by, lang): g.text_label(lang),
                "Unge" if da else "Young people":
                    "–" if self.sizes_hidden and not primary_mask(g.n, k) else count(g.n),
                "Startet" if da else "Started":
                    "–" if g.events_hidden and not primary_mask(g.events, k) else count(g.events),
                "Mediantid (dage)" if da else "Median time (days)":
                    "–" if hide else _days(g.median, lang, none="ikke nået" if da else
                                           "not reached"),
                "95 %-CI (dage)" if da else "95% CI (days)":
                    "–" if hide else _days_ci(g.median_ci_low, g.median_ci_high, lang),
            })
        return pd.DataFrame(rows)

    def summary(self, lang: str = "da") -> str:
        """A short text on the time to education, in the report language."""
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
                    if da else "There are no young people with a start date to estimate the "
                    "time to education for.")
        dimension = _dimension_label(self.by, lang)
        parts = [_group_sentence(g, dimension if g.code != ALL else None, k, lang,
                                 show_n=not self.sizes_hidden) for g in shown]
        if shown[0].code == ALL and self.by and any(g.code != ALL for g in self.groups):
            parts.append(f"Grupperne ({dimension.lower()}) er for små til at blive vist hver "
                         "for sig." if da else f"The groups ({dimension.lower()}) are too small "
                         "to be shown one by one.")
        step = self.step_label if da else self.step_label_en
        if da:
            parts.append(f"Tiden regnes fra forløbets start til skridtet »{step}«; unge, der ikke "
                         "har nået det, tæller med, indtil forløbet sluttede eller til "
                         f"projektets slutning ({fmt_date(self.censor_date, lang)}).")
        else:
            parts.append(f"Time is counted from the start of the course to the step “{step}”; "
                         "young people who have not reached it count until their course ended or "
                         f"until the end of the project ({fmt_date(self.censor_date, lang)}).")
        if self.n_missing_date:
            n = count_text(self.n_missing_date, k, lang)
            parts.append(f"For {n} unge mangler datoen for skridtet; de indgår ikke i "
                         "beregningen." if da else f"For {n} young people the date of the step "
                         "is missing; they are left out of the estimate.")
        if self.logrank_p is not None and sum(not g.suppressed for g in shown) > 1:
            p = _p_text(self.logrank_p, lang)
            if da:
                verdict = ("en statistisk sikker forskel" if self.logrank_p < 0.05
                           else "ingen statistisk sikker forskel")
                parts.append(f"Log-rank-testen viser {verdict} mellem grupperne ({p}).")
            else:
                verdict = ("a statistically significant difference" if self.logrank_p < 0.05
                           else "no statistically significant difference")
                parts.append(f"The log-rank test shows {verdict} between the groups ({p}).")
        return " ".join(parts)

    def __str__(self) -> str:
        return self.summary("da")

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable figures (no person ids): groups, curves, log-rank test, notes."""
        curves = self.curves[~self.curves["group"].isin(
            [g.code for g in self.groups if g.suppressed])]
        return jsonable({
            "by": self.by, "step": self.step, "step_label": self.step_label,
            "step_label_en": self.step_label_en, "censor_date": self.censor_date,
            "min_cell": self.min_cell, "n_missing_date": self.n_missing_date,
            "n_no_start": self.n_no_start,
            "groups": [g.to_dict() for g in self.groups],
            "curves": {code: jsonable(c.drop(columns="group"))
                       for code, c in curves.groupby("group", sort=False)},
            "logrank": None if self.logrank_p is None else {
                "chi2": self.logrank_chi2, "df": self.logrank_df, "p": self.logrank_p},
        })


def _days(x: float | None, lang: str, none: str = "–") -> str:
    if x is None or not math.isfinite(x):
        return none
    return fmt_int(x, lang)


def _days_ci(low: float | None, high: float | None, lang: str) -> str:
    lo = _days(low, lang)
    hi = _days(high, lang, none="∞")
    return "–" if lo == "–" else f"{lo}–{hi}"


def _p_text(p: float, lang: str) -> str:
    if p < 0.001:
        return "p < 0,001" if lang == "da" else "p < 0.001"
    return f"p = {fmt_float(p, 3, lang)}"


def _group_sentence(g: KMGroup, dimension: str | None, min_cell: int, lang: str,
                    show_n: bool = True) -> str:
    """One group's result: the median with its interval, or why there is none; without
    ``show_n`` the group's size is not given (it would reveal a small sibling group's)."""
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
    events = count_text(g.events, min_cell, lang)
    if g.events == 0:
        return (f"{who}Ingen af de {n} unge er registreret som startet på en uddannelse."
                if da else f"{who}None of the {n} young people is logged as having started "
                "an education.").replace("  ", " ")
    if g.median is None:
        return (f"{who}Færre end halvdelen af de {n} unge var startet på en uddannelse ved "
                f"opgørelsen ({events} startede), så mediantiden er ikke nået."
                if da else f"{who}Fewer than half of the {n} young people had started an "
                f"education ({events} started), so the median time is not reached."
                ).replace("  ", " ")
    days = _days(g.median, lang)
    lo, hi = g.median_ci_low, g.median_ci_high
    if lo is None:
        ci = ""
    elif hi is None or not math.isfinite(hi):
        ci = (f" (95 %-CI fra {_days(lo, lang)} dage; den øvre grænse er ikke nået)" if da
              else f" (95% CI from {_days(lo, lang)} days; the upper limit is not reached)")
    else:
        ci = (f" (95 %-CI {_days(lo, lang)}–{_days(hi, lang)} dage)" if da
              else f" (95% CI {_days(lo, lang)}–{_days(hi, lang)} days)")
    text = (f"{who}Halvdelen af de {n} unge var startet på en uddannelse efter {days} dage{ci}; "
            f"{events} startede i alt." if da else
            f"{who}Half of the {n} young people had started an education after {days} "
            f"days{ci}; {events} started in all.")
    return text.replace("  ", " ")


def event_table(steps: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
                by: str | None = "target_group") -> pd.DataFrame:
    """Per participant the KM input: ``group``, ``time`` (days, ≥ 0), ``event`` (1 = started
    education) and ``missing_date`` (the education step was logged without a date).

    Time runs from ``start_date`` to the earliest dated education step; without one it is
    censored at ``end_date``, or at the end of the project period when the forløb has no end
    date. A step dated before the start counts as time 0. Person ids are kept (internal).
    """
    people = _persons(participants, by, "time_to_education")
    edu = cfg.steps.education_start_step
    log = _steps(steps, cfg)
    log = log[(log["step"] == edu) & log["person_id"].isin(people["person_id"])]
    first = log.groupby("person_id")["date"].min()  # NaT only if every such row lacks a date
    logged = set(log["person_id"])
    project_end = pd.Timestamp(cfg.project.period.end)
    out = people.copy()
    # reindex, not map: pandas cannot map through an empty datetime Series
    out["event_date"] = pd.to_datetime(first.reindex(out["person_id"]).to_numpy())
    out["missing_date"] = out["person_id"].isin(logged) & out["event_date"].isna()
    out["event"] = out["event_date"].notna().astype("int64")
    censor = pd.to_datetime(out["end_date"]).fillna(project_end)
    stop = out["event_date"].where(out["event"] == 1, censor)
    days = pd.to_timedelta(stop - pd.to_datetime(out["start_date"])).dt.days.astype(float)
    out["time"] = days.clip(lower=0.0)
    return out[["person_id", "group", "start_date", "time", "event", "missing_date"]]


def _km(time: np.ndarray, event: np.ndarray) -> tuple[pd.DataFrame, float | None,
                                                      float | None, float | None]:
    """KM curve (starting at 0, 1) with pointwise log-log 95 % limits, the median and its CI."""
    from scipy.stats import norm
    from statsmodels.duration.survfunc import SurvfuncRight

    if len(time) == 0:
        return pd.DataFrame(columns=["time", "surv", "ci_low", "ci_high", "n_risk",
                                     "n_events"]), None, None, None
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        sf = SurvfuncRight(time.astype(float), event.astype(float))
        s = np.asarray(sf.surv_prob, dtype=float)
        se = np.asarray(sf.surv_prob_se, dtype=float)
        z = norm.ppf(0.975)
        se_ll = se / (s * np.abs(np.log(s)))
        low = np.where((s > 0) & (s < 1), s ** np.exp(z * se_ll), s)
        high = np.where((s > 0) & (s < 1), s ** np.exp(-z * se_ll), s)
        median = float(sf.quantile(0.5)) if event.sum() else math.nan
        lo, hi = sf.quantile_ci(0.5) if event.sum() else (math.nan, math.nan)
    curve = pd.DataFrame({"time": np.asarray(sf.surv_times, dtype=float), "surv": s,
                          "ci_low": low, "ci_high": high,
                          "n_risk": np.asarray(sf.n_risk, dtype="int64"),
                          "n_events": np.asarray(sf.n_events, dtype="int64")})
    start = pd.DataFrame({"time": [0.0], "surv": [1.0], "ci_low": [1.0], "ci_high": [1.0],
                          "n_risk": [len(time)], "n_events": [0]})
    last = float(np.max(time))
    if curve.empty or last > curve["time"].iloc[-1]:  # the curve runs on to the last follow-up
        end = start.assign(time=last, surv=curve["surv"].iloc[-1] if len(curve) else 1.0,
                           ci_low=curve["ci_low"].iloc[-1] if len(curve) else 1.0,
                           ci_high=curve["ci_high"].iloc[-1] if len(curve) else 1.0,
                           n_risk=int((time >= last).sum()), n_events=0)
        curve = pd.concat([curve, end], ignore_index=True)
    curve = pd.concat([start, curve], ignore_index=True)

    def finite(x: float) -> float | None:
        return float(x) if x is not None and np.isfinite(x) else None

    if finite(median) is None:
        return curve, None, None, None
    return curve, finite(median), finite(lo), (finite(hi) if finite(lo) is not None else None)


def time_to_education(steps: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
                      by: str | None = "target_group",
                      hidden_events: dict[str, bool] | None = None,
                      hidden_sizes: dict[str, bool] | None = None) -> TimeToEducation:
    """Kaplan–Meier estimate of the days from start to the education start step, per group and
    for everyone, with a log-rank test between the groups (see ``event_table`` for the rules).

    Participants whose education step has no date are left out (``n_missing_date``).
    ``hidden_events`` ({group: hidden}, from the project-wide funnel plan at the education
    step, which counts the same starts) hides a group's number of starts, curve and median;
    ``hidden_sizes`` (the måltal plan's sizes of the same groups) hides the groups' sizes.
    """
    edu = cfg.steps.education_start_step
    ladder = {s.id: s for s in cfg.steps.ladder}
    step = ladder.get(edu) if edu else None
    result = TimeToEducation(
        by=by, step=edu if step else None,
        step_label=step.text("da") if step else "", step_label_en=step.text("en") if step else "",
        censor_date=str(cfg.project.period.end), min_cell=cfg.privacy.min_cell)
    if step is None:
        return result
    data = event_table(steps, participants, cfg, by)
    result.n_missing_date = int(data["missing_date"].sum())
    data = data[~data["missing_date"] & data["time"].notna()]
    result.n_no_start = int((data["event"] == 0).sum())
    labels_da = _group_labels(cfg, by, data["group"], "da")
    labels_en = _group_labels(cfg, by, data["group"], "en")
    curves = []
    for code in labels_da:
        d = data if code == ALL else data[data["group"] == code]
        curve, median, lo, hi = _km(d["time"].to_numpy(), d["event"].to_numpy())
        n, events = len(d), int(d["event"].sum())
        result.groups.append(KMGroup(
            code=code, label=labels_da[code], label_en=labels_en[code], n=n,
            events=events, median=median, median_ci_low=lo, median_ci_high=hi,
            # a curve steps once per start: 1..min_cell-1 starts (or young people without one)
            # would be counted off the figure
            suppressed=bool(n < cfg.privacy.min_cell
                            or rate_hidden(events, n, cfg.privacy.min_cell)
                            or (hidden_events or {}).get(code, False)),
            events_hidden=bool((hidden_events or {}).get(code, False)),
            size_hidden=bool((hidden_sizes or {}).get(code, False))))
        if not curve.empty:
            curves.append(curve.assign(group=code))
    if curves:
        result.curves = pd.concat(curves, ignore_index=True)[
            ["group", "time", "surv", "ci_low", "ci_high", "n_risk", "n_events"]]
    # the log-rank test compares the groups shown that have any start: a group where nobody
    # can reach the step (e.g. young people already in education) would make it meaningless
    tested = [g.code for g in result.groups if g.code != ALL and not g.suppressed and g.events]
    data = data[data["group"].isin(tested)]
    groups = data["group"]
    if by and len(tested) > 1:
        from statsmodels.duration.survfunc import survdiff

        codes = {c: i for i, c in enumerate(tested)}
        chi2, p = survdiff(data["time"].to_numpy(dtype=float),
                           data["event"].to_numpy(dtype=float),
                           groups.map(codes).to_numpy(dtype=int))
        if np.isfinite(p):
            result.logrank_chi2, result.logrank_p = float(chi2), float(p)
            result.logrank_df = len(tested) - 1
    return result
