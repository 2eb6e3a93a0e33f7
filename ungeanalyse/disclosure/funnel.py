"""The funnel area of the disclosure plan: the steps funnel of every unit, across units.

Every (unit, group, step) count of the funnel is a cell; inside a unit the groups add up to
everyone at each step, across units the delprojekter add up to the project; those who stopped
between two steps are unpublished counts that must stay unknown when small; a count at the
education step that equals one the måltal tables hide is hidden too (the same young people).
The survival table counts the same starts as the education step and takes the same flags.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import ProjectConfig
from .solver import dear, primary_mask, solve_plan, suppress_cells, widen_small_sums

ALL = "all"
"""The funnel's row of everyone (``steps.ALL``)."""


def funnel_plan(steps: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
                by: str | None = "target_group",
                maaltal: dict[str, dict[str, Any]] | None = None
                ) -> dict[str, dict[str, dict[str, bool]]]:
    """Which funnel counts each unit's report hides, decided once for the whole project.

    As with the måltal (:func:`maaltal.maaltal_plan`): the project's funnel is the sum of its
    delprojekter's, so a count hidden in one delprojekt must not follow from the project's
    count minus the others'. Every (unit, group, step) count is a cell; inside a unit the
    groups add up to everyone at each step, across units the delprojekter add up to the
    project (where the numbers really add up: a young person in two delprojekter counts once).
    The project's own counts are hidden only where nothing else will do. Two more kinds of
    count are protected: those who stopped between two steps (a row minus a later one; never
    shown, but 1..min_cell-1 of them must not follow), and, with the måltal's plan (``maaltal``,
    :func:`maaltal.maaltal_plan`), a count at the education step that equals a count the
    måltal tables hide in the same unit and group (the status "started an education" is the
    same young people as the step): it is hidden too; one that equals a count the måltal tables
    show is as good as published, so it is never a partner. Returns
    ``{unit: {group: {step: hidden}}}``.

    Long because the grid's cells, its lines and its costs are built in one place, where every
    line can name its cells by key; split up, each part would need the grid and its index.
    """
    from ..steps import funnel

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
    for i in education_twins(tables, participants, cfg, maaltal, index).values():
        primary[i] = True  # the måltal tables hide the same young people
    known = np.zeros(len(vals), bool)  # ... or show them: then no partner for a stop
    for i in education_twins(tables, participants, cfg, maaltal, index, hidden=False).values():
        known[i] = True
    cost = dear(vals, [i for key, i in index.items() if key[0] == "all"])
    mask = solve_plan(vals, lines, margins, k, primary & ~known, cost, known, unpublished)
    plan: dict[str, dict[str, dict[str, bool]]] = {}
    for (u, g, st), i in index.items():
        if i < published:
            plan.setdefault(u, {}).setdefault(g, {})[st] = bool(mask[i])
    return plan


def education_twins(tables: dict[str, pd.DataFrame], participants: pd.DataFrame,
                     cfg: ProjectConfig, maaltal: dict[str, dict[str, Any]] | None,
                     index: dict[tuple[str, str, str], int], hidden: bool = True
                     ) -> dict[tuple[str, str, str], int]:
    """Funnel cells at the education step that equal a count the måltal tables hide (or, with
    ``hidden`` False, show) in the same unit (an outcome code, for everyone) or group (goal
    met, for a target group): readers may take them for the same young people."""
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
                twins = [c for c in cfg.outcomes
                         if plan["outcome"].get(c, True) == hidden and codes.get(c) == n]
            else:
                tg = people[people["target_group"].astype(str).eq(str(g))]
                goal = int(tg["outcome"].astype(str).isin(goal_codes).sum())
                row = plan["breakdowns"].get("target_group", {}).get(str(g), {})
                goal_hidden = row.get("goal", row.get("rate", False))  # its goal count hidden
                twins = ["goal"] if goal_hidden == hidden and goal == n else []
            if twins and n > 0:
                out[(u, str(g), edu)] = index[(u, str(g), edu)]
    return out


def size_suppression(table: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Per row: whether its group's size must be hidden. Sizes add up to everyone's, so a
    group under the limit hides a partner's size too; a hidden size hides the group's shares
    (count / share would give the size back)."""
    sizes = table.groupby("group", sort=False)["n_group"].first()
    values = sizes.to_numpy(dtype=float)
    mask = (suppress_cells(values, [list(range(len(sizes)))], min_cell) if len(sizes) > 2
            else np.asarray(primary_mask(values, min_cell), dtype=bool))
    return table["group"].map(dict(zip(sizes.index, mask, strict=True))).to_numpy(dtype=bool)


def funnel_suppression(table: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Counts to hide: 1..min_cell-1, and at each step the partners that would let a hidden
    group count be found by subtracting the other groups from everyone (the solver)."""
    values = table["n_reached"].to_numpy(dtype=float)
    lines = [table.index[(table["rank"] == r).to_numpy()].tolist()
             for r in table["rank"].unique()]
    if table["group"].nunique() <= 2:  # one group is the same as everyone: nothing to subtract
        return np.asarray(primary_mask(values, min_cell), dtype=bool)
    mask = suppress_cells(values, lines, min_cell)
    everyone = table.index[table["group"].eq(ALL).to_numpy()].tolist()
    margins = [next((c for c in line if c in everyone), None) for line in lines]
    return widen_small_sums(values, mask, lines, margins, min_cell)


