"""The CMO area of the disclosure plan: the four cells of every hypothesis, across units.

Each hypothesis' table shows, per cell (in or outside the context, with or without the
mechanism), a rate and its n: the counts with and without the outcome. A cell must be hidden
when it is under the limit or has 1..min_cell-1 with or without the outcome
(:func:`hidden_cells`, each unit's own rule); :func:`cmo_plan` finds the partners across units
(the project's cells are the sums of its delprojekter's).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..config import ProjectConfig
from .solver import dear, rate_hidden, solve_plan, suppress_cells

if TYPE_CHECKING:
    from ..realist import HypothesisResult

CELL_KEYS = ("in_yes", "in_no", "out_yes", "out_no")
"""The four cells of a hypothesis, in ``realist.CELLS`` order."""


class Prepared(dict):
    """Each (unit, hypothesis id)'s scope as ``realist._prepared`` gives it (the scope's rows,
    which of them count, and their context, mechanism and outcome), worked out once per plan:
    the CMO, heatmap and QCA areas all need it."""

    def __init__(self, participants: pd.DataFrame, cfg: ProjectConfig) -> None:
        super().__init__()
        self.participants, self.cfg = participants, cfg
        self.whole: dict[str, pd.Series | None] = {}

    def get_for(self, unit: str, hyp: Any) -> tuple:
        """The unit's scope of one hypothesis."""
        from .. import realist

        key = (unit, hyp.id)
        if key not in self:
            self[key] = realist._prepared(self.participants, hyp, self.cfg, unit, self.evaluate)
        return self[key]

    def evaluate(self, df: pd.DataFrame, expr: str, owner: str, key: str) -> pd.Series:
        """``realist.evaluate_expression`` on a unit's rows: a row-wise expression evaluated
        once on the whole project and read for the unit's rows (the same values); any other
        expression, or one the whole project cannot evaluate (its error is the unit's to
        give), evaluated on the unit's rows."""
        from ..errors import UserError
        from ..realist import evaluate_expression, is_rowwise

        if expr not in self.whole:
            self.whole[expr] = None
            if is_rowwise(expr) and self.participants.index.is_unique:
                try:
                    self.whole[expr] = evaluate_expression(self.participants, expr, owner, key)
                except UserError:
                    pass
        whole = self.whole[expr]
        return evaluate_expression(df, expr, owner, key) if whole is None else whole[df.index]


def hidden_cells(cells: pd.DataFrame | dict[str, Any], min_cell: int,
                 left_out: int = 0, margins: bool = False) -> dict[str, bool]:
    """Which of a hypothesis' four cell rates a reader may not see: a cell under the limit or
    with fewer than ``min_cell`` with or without the outcome, and its partner in the same
    context (context sizes are in the breakdown tables, so the hidden count would otherwise
    follow by subtraction); with ``margins`` (the mechanism's totals are published, as a
    subgroup heatmap of the mechanism does) also its partner with the same mechanism value."""
    if isinstance(cells, pd.DataFrame):
        cells = {str(c["cell"]): c for _, c in cells.iterrows()}
    keys = list(CELL_KEYS)
    n = np.array([float(cells[c]["n"]) if c in cells else 0.0 for c in keys])
    k = np.array([float(cells[c]["k"]) if c in cells else 0.0 for c in keys])
    primary = np.asarray(rate_hidden(k, n, min_cell)) & (n > 0)
    # the context totals are in the breakdown tables; with ``margins`` the mechanism's totals
    # are known too (the subgroup heatmap's rates next to the category sizes give them): then
    # it is a 2 × 2 table with every margin known, and a hidden cell needs a partner in its
    # row and in its column
    lines = [[0, 1], [2, 3]] + ([[0, 2], [1, 3]] if margins else [])
    mask = suppress_cells(n, lines, min_cell, primary)
    # a context's (or mechanism value's) totals follow from the unit's totals minus the other
    # one's cells: when one has 1..min_cell-1 with or without the outcome, all are hidden
    for pair in lines:
        n_pair, k_pair = n[list(pair)].sum(), k[list(pair)].sum()
        if n_pair > 0 and bool(rate_hidden(k_pair, n_pair, min_cell)):
            mask[:] = True
    # the four n add up to the unit's participants minus those left out (still active or with
    # a missing value): 1..min_cell-1 left out hides a pair, so the sum is not known (the pair
    # outside the context, so that the figures the hypothesis is about stay)
    if 0 < left_out < min_cell and not mask.any():
        mask[[2, 3] if n[2:].sum() > 0 else [0, 1]] = True
    return {c: bool(h) or c not in cells for c, h in zip(keys, mask, strict=True)}


def margins_needed(cells: pd.DataFrame | dict[str, Any], min_cell: int,
                   left_out: int = 0) -> bool:
    """Whether publishing the mechanism's totals (a subgroup heatmap of it) would force more
    of this hypothesis' cells to be hidden: then the heatmap is withheld instead."""
    return (hidden_cells(cells, min_cell, left_out, margins=True)
            != hidden_cells(cells, min_cell, left_out))


def reader_hidden(r: HypothesisResult) -> dict[str, bool]:
    """The cells readers may not see: the project-wide plan's choice, else the unit's rule."""
    if r.hidden is not None:
        return dict(r.hidden)
    return hidden_cells(r.cells, r.min_cell, r.n_in_scope - r.n)


def cmo_plan(participants: pd.DataFrame, cfg: ProjectConfig,
             maaltal: dict[str, dict[str, Any]] | None = None,
             prepared: Prepared | None = None) -> dict[str, dict[str, dict[str, bool]]]:
    """Which CMO cells each unit's report hides, decided once for the whole project.

    A hypothesis tested in the whole project has, in each cell, the sum of the delprojekter's
    counts (where the numbers really add up), so a cell hidden in one delprojekt must not
    follow from the project's cell minus the other delprojekter'. Each unit's own rule
    (:func:`hidden_cells`) gives the cells that must be hidden; the cell's participants, with
    and without the outcome, are the counts; inside a unit the pair in and outside the context
    add up to a known total, across units the delprojekter add up to the project, and
    ``suppress_cells`` finds the partners (the project's own cells only where nothing
    else will do). A cell's counts are shown or hidden together.

    With the måltal's plan (``maaltal``), the cells that would give a figure it hides back are
    hidden too: a pair (in or outside the context) whose young people are exactly a breakdown
    row's closed forløb adds up to that row's closed count, so where the måltal hide the row's
    rate, goal met or size, the smaller cell of the pair is hidden (and the pair's total is no
    longer a known sum); and the four cells add up to the unit's closed forløb, so where the
    måltal hide the unit's rate, a pair is. Returns
    ``{unit: {hypothesis id: {cell: hidden}}}``.

    Long because the grid's cells, its lines and its costs are built in one place, where every
    line can name its cells by key; split up, each part would need the grid and its index.
    """
    from .. import realist

    prepared = prepared if prepared is not None else Prepared(participants, cfg)
    k0 = cfg.privacy.min_cell
    dp = participants["delprojekt"].astype("string") if "delprojekt" in participants else None
    units = ["all"] + ([d for d in cfg.delprojekt_ids if dp is not None and dp.eq(d).any()])
    counts: dict[tuple[str, str], list[tuple[str, int, int]]] = {}
    own: dict[tuple[str, str], dict[str, bool]] = {}
    unknown_totals: set[tuple[str, str, str]] = set()  # (unit, hypothesis, side)
    for u in units:
        for hyp in realist.hypotheses_for_unit(cfg, u):
            df, keep, c, m, y, _ = prepared.get_for(u, hyp)
            cells = realist._cell_counts(c, m, y)
            counts[(u, hyp.id)] = cells
            own[(u, hyp.id)] = hidden_cells({key: {"n": n, "k": kk} for key, n, kk in cells},
                                            k0, int(len(df) - keep.sum()))
            if maaltal and maaltal.get(u):
                for side in _hide_maaltal_twins(own[(u, hyp.id)], participants, df, keep, c,
                                                cells, maaltal[u], cfg, u):
                    unknown_totals.add((u, hyp.id, side))
    index: dict[tuple[str, str, str, str], int] = {}
    values: list[float] = []
    primary: list[bool] = []
    for (u, h), cells in counts.items():
        for key, n, kk in cells:
            for q, val in (("yes", kk), ("no", n - kk)):  # with and without the outcome
                index[(u, h, key, q)] = len(values)
                values.append(float(val))
                primary.append(own[(u, h)][key] and n > 0)
    vals = np.array(values)
    lines: list[list[int]] = []
    margins: list[int | None] = []
    for (u, h), cells in counts.items():
        for q in ("yes", "no"):
            for pair in (("in_yes", "in_no"), ("out_yes", "out_no")):  # context totals known
                if (u, h, pair[0][:-4]) in unknown_totals:  # ... unless the måltal hide them
                    continue
                lines.append([index[(u, h, key, q)] for key in pair])
                margins.append(None)
            for key, _, _ in cells:
                if u != "all":
                    continue
                parts = [index[(d, h, key, q)] for d in units[1:] if (d, h) in counts]
                total = index[(u, h, key, q)]
                if parts and vals[parts].sum() == vals[total]:
                    lines.append([*parts, total])
                    margins.append(total)
    cost = dear(vals, [i for key, i in index.items() if key[0] == "all"])
    pairs = [(index[(u, h, key, "yes")], index[(u, h, key, "no")])
             for (u, h), cells in counts.items() for key, _, _ in cells]
    # a context pair's total is published elsewhere (no cell of its own: margin None); a
    # cross line's total is the project's cell
    mask = solve_plan(vals, lines, margins, k0, np.array(primary), cost, pairs=pairs)
    plan: dict[str, dict[str, dict[str, bool]]] = {}
    for (u, h), cells in counts.items():
        plan.setdefault(u, {})[h] = {key: bool(mask[index[(u, h, key, "yes")]])
                                     for key, _, _ in cells}
    return plan


def _hide_maaltal_twins(hidden: dict[str, bool], participants: pd.DataFrame, df: pd.DataFrame,
                        keep: np.ndarray, c: np.ndarray, cells: list[tuple[str, int, int]],
                        plan: dict[str, Any], cfg: ProjectConfig, unit: str) -> list[str]:
    """Hide a cell of each pair of a hypothesis' cells that adds up to a figure the unit's
    måltal plan hides (:func:`cmo_plan`), in place; returns the sides ("in", "out") whose
    totals readers do not know."""
    from .maaltal import hidden_closed_sets

    rows = participants.index.get_indexer(df.index)
    kept = rows[keep]
    sides = {"in": kept[c.astype(bool)], "out": kept[~c.astype(bool)]}
    secret = hidden_closed_sets(participants, cfg, unit, plan)
    size = {key: n for key, n, _ in cells}
    out = []
    for side, members in sides.items():
        if len(members) and frozenset(members.tolist()) in secret:
            out.append(side)
            pair = [f"{side}_yes", f"{side}_no"]
            if not any(hidden[p] for p in pair):
                hidden[min(pair, key=lambda p: (size[p], p))] = True
    if plan.get("rate") and not any(hidden.values()):  # the four cells add up to the closed
        side = "out" if len(sides["out"]) else "in"
        hidden[f"{side}_yes"] = hidden[f"{side}_no"] = True
    return out
