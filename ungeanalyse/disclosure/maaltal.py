"""The måltal area of the disclosure plan: what the måltal tables publish, across units.

Every count the måltal tables of every unit publish (outcome codes, outcome groups, and per
category of each breakdown the size, the goal met and the closed cases without the goal) is one
cell of a single grid, with the sum relations readers can see inside a unit and across units
(the project is the sum of its delprojekter). :func:`maaltal_plan` solves it; the other areas
take its decisions as given (the måltal are the funder's headline figures).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import OUTCOME_GROUPS, ProjectConfig
from ..outcomes import (
    DIMENSIONS,
    HEADLINE_DIMENSIONS,
    _ordered_categories,
    _outcome_groups,
    category_labels,
)
from . import solver
from .solver import determined_cells, primary_mask, solve_plan


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


def _compute_maaltal_plan(participants: pd.DataFrame, cfg: ProjectConfig,
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
    ``solver.suppress_cells``. A unit's size is always shown (unless it is under the limit
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

    Long because the grid's cells, its lines and its costs are built in one place, where every
    line can name its cells by key; split up, each part would need the grid and its index.
    """
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
        if primary_mask(value, k):
            small.add(i)
        if not publish:
            quiet.add(i)
        return i

    goal, active, unknown = (groups.index(g) for g in ("goal_met", "active", "unknown"))
    for u in units:
        r = n_u - 1 if u == "all" else cfg.delprojekt_ids.index(u)
        size = int(by_group[r].sum())  # a unit's size is in its report, unless under the limit
        (small if primary_mask(size, k) else sizes).add(cells.add((u, "N"), size))
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
    # the whole project's figures are the funder's: hide a delprojekt's count rather than them;
    # its breakdown by delprojekt (each delprojekt's size, goal met and closed cases without
    # the goal) comes next, before the delprojekt reports' own details; a unit's size, and a
    # category's size, which is in other sections too (the funnel's and the survival table's
    # groups, the subgroup heatmap's n): hidden as partners only where nothing cheaper will do
    is_new = flags(bounds)
    own = [i for key, i in cells.index.items() if key[0] == "all" and key[1] != "delprojekt"]
    dear = ([i for key, i in cells.index.items() if key[0] == "all"], own,
            sizes, [i for key, i in cells.index.items() if len(key) == 4 and key[3] == "n"],
            headline, headline, headline)
    old_lines = [not is_new[line].any() for line in cells.lines]
    # first the figures shown before the upper bounds, as if these did not exist; a rate is
    # shown with its goal count or not at all
    mask = solve_plan(
        values, [ln for ln, o in zip(cells.lines, old_lines, strict=True) if o],
        [m for m, o in zip(cells.margins, old_lines, strict=True) if o], k,
        flags(small) & ~is_new, solver.dear(np.where(is_new, 0.0, values), *dear), keep,
        unpublished & ~is_new, pairs)
    # then the upper bounds: only their cells may be partners (a delprojekt's before the
    # project's); where no upper bound can free a small count, none is shown
    sensitive = flags(small)
    bound_mask = solve_plan(values, cells.lines, cells.margins, k, mask | sensitive,
                                    solver.dear(values, *dear), keep | (~mask & ~is_new),
                                    unpublished, pairs)
    if (determined_cells(n_cells, cells.lines, cells.margins, bound_mask | unpublished)
            & sensitive).any() \
            or (bound_mask[~is_new] != mask[~is_new]).any():
        bound_mask = mask | is_new
    # the greedy solve may have chosen a figure of the whole project's report early that
    # later partners make unnecessary: show those again where the result stays safe
    price = solver.dear(values, *dear)
    funders = set(dear[0])
    again = [i for i in np.argsort(-price, kind="stable")
             if bound_mask[i] and int(i) in funders and not is_new[i]]
    mask = solver.prune(values, cells.lines, cells.margins, k, bound_mask, sensitive,
                        unpublished, again)
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


def maaltal_plan(participants: pd.DataFrame, cfg: ProjectConfig,
                    min_cell: int | None = None) -> dict[str, dict[str, Any]]:
    """The project-wide måltal disclosure plan (``_compute_maaltal_plan`` says how it is
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
        plan = _compute_maaltal_plan(participants, cfg, min_cell)
        while len(_PLANS) >= _PLANS_KEPT:
            _PLANS.pop(next(iter(_PLANS)))
        _PLANS[key] = plan
    return copy.deepcopy(_PLANS[key])


def units_of(participants: pd.DataFrame, cfg: ProjectConfig) -> dict[str, np.ndarray]:
    """Each unit's rows of the project's participants (``all`` and the delprojekter that have
    someone), as row masks."""
    dp = participants["delprojekt"].astype("string")
    out = {"all": np.ones(len(participants), bool)}
    for d in cfg.delprojekt_ids:
        rows = dp.eq(d).fillna(False).to_numpy(dtype=bool)
        if rows.any():
            out[d] = rows
    return out


def hidden_closed_sets(participants: pd.DataFrame, cfg: ProjectConfig, unit: str,
                       plan: dict[str, Any]) -> set[frozenset[int]]:
    """The closed forløb (as sets of row positions) of the unit's breakdown rows whose rate,
    goal met or size the unit's måltal plan hides: another table must not add up to them."""
    group = _outcome_groups(participants, cfg).to_numpy()
    rows = units_of(participants, cfg).get(unit)
    if rows is None:
        return set()
    closed = rows & (group != "active")
    out: set[frozenset[int]] = set()
    for dim, cats in plan.get("breakdowns", {}).items():
        if dim not in participants:
            continue
        values = participants[dim].astype("string")
        for cat, flags in cats.items():
            if flags["n"] or flags["rate"] or flags.get("goal", False):
                inside = closed & values.eq(cat).fillna(False).to_numpy(dtype=bool)
                out.add(frozenset(np.flatnonzero(inside).tolist()))
    return out
