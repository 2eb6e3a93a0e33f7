"""The suppression engine: which cells of a grid of person counts to hide.

Reader-facing person counts 1..min_cell-1 are hidden (primary suppression), and further cells
are hidden so that no hidden count can be worked out from published totals (secondary
suppression): every published sum relation (a row, a column, a total) holds either no hidden
cell or at least two, and a linear-algebra audit checks that no primary cell is determined by
the relations together. Shares built on a hidden count are hidden with it. Zero may be shown.

A grid is a list of counts (``values``), the sum relations readers can see (``lines``, each
with the cell holding its total in ``margins``, or None when the total is published elsewhere),
which cells must be hidden (``primary``), which are shown anyway (``shown``), which take part
in the relations without being published (``unpublished``) and what hiding each costs
(``cost``). :func:`solve_plan` is the one solver every area of the disclosure plan calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

Line = Sequence[int]
"""Indices of cells whose sum (or the difference of two of them) readers can see elsewhere."""


def primary_mask(counts: Any, min_cell: int = 5) -> Any:
    """Counts 1..min_cell-1 (zero may be shown); works on scalars, arrays, Series, DataFrames."""
    if isinstance(counts, pd.Series | pd.DataFrame):
        values = counts.astype("float64")
        return (values > 0) & (values < min_cell)
    values = np.asarray(counts, dtype="float64")
    return (values > 0) & (values < min_cell)


def rate_hidden(k: Any, n: Any, min_cell: int = 5) -> Any:
    """Whether a share k/n must be hidden: n under the limit, or k or n−k in 1..min_cell-1."""
    k = np.asarray(k, dtype="float64")
    n = np.asarray(n, dtype="float64")
    return (n < min_cell) | primary_mask(k, min_cell) | primary_mask(n - k, min_cell)


def _line_matrix(n_cells: int, lines: Sequence[Line], margins: Sequence[int | None] | None
                 ) -> np.ndarray:
    """The published relations as rows: +1 for a line's parts, −1 for its total's cell."""
    a = np.zeros((len(lines), n_cells))
    for i, line in enumerate(lines):
        a[i, list(line)] = 1.0
        margin = margins[i] if margins is not None else None
        if margin is not None:
            a[i, margin] = -1.0
    return a


def _gram_eigen(sub: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Eigen-decomposition of AᵀA for a small integer relation matrix A: eigenvalues,
    eigenvectors, and which eigenvalues are zero (the null space of A)."""
    lam, vec = np.linalg.eigh(sub.T @ sub)
    return lam, vec, lam < 1e-9 * max(1.0, float(lam.max(initial=0.0)))


def _determined_cells(a: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """Hidden cells whose value follows from the published relations: a cell is determined
    when every solution of the relations (restricted to the hidden cells) leaves it fixed,
    i.e. its row is zero in a basis of the null space."""
    cols = np.flatnonzero(hidden)
    out = np.zeros(len(hidden), dtype=bool)
    if not len(cols):
        return out
    sub = a[:, cols]
    sub = sub[np.abs(sub).sum(axis=1) > 0]
    if not len(sub):
        return out
    _, vec, zero = _gram_eigen(sub)
    basis = vec[:, zero]
    free = (np.abs(basis) > 1e-6).any(axis=1) if basis.size else np.zeros(len(cols), bool)
    out[cols] = ~free
    return out


def determined_cells(n_cells: int, lines: Sequence[Line], margins: Sequence[int | None] | None,
                     hidden: np.ndarray) -> np.ndarray:
    """Which hidden cells readers can work out from the published relations (linear algebra):
    the public face of the audit the solver runs."""
    return _determined_cells(_line_matrix(n_cells, lines, margins), np.asarray(hidden, bool))


def _determined(lines: Sequence[Line], hidden: np.ndarray, cell: int,
                margins: Sequence[int | None] | None = None) -> bool:
    """Whether a hidden cell's value follows from the published sums (linear algebra)."""
    return bool(_determined_cells(_line_matrix(len(hidden), lines, margins), hidden)[cell])


def _pick(values: np.ndarray, hidden: np.ndarray, candidates: Iterable[int],
          shown: np.ndarray | None = None, cost: np.ndarray | None = None) -> int | None:
    """The cheapest visible non-zero cell among the candidates (else the cheapest visible;
    the cost is the count unless given); cells that are always ``shown`` are never picked."""
    visible = [c for c in dict.fromkeys(candidates)
               if not hidden[c] and (shown is None or not shown[c])]
    if not visible:
        return None
    nonzero = [c for c in visible if values[c] > 0]
    pool = nonzero or visible
    price = values if cost is None else cost
    return min(pool, key=lambda c: (price[c], values[c], c))


def _freeing_partner(a: np.ndarray, vals: np.ndarray, hidden: np.ndarray, cell: int,
                     lines: Sequence[Line], keep: np.ndarray | None,
                     price: np.ndarray | None) -> int | None:
    """A visible cell whose hiding makes a determined cell unknown again, cheapest first.

    Candidates are the visible cells of the lines that link the cell's hidden neighbours (the
    relations that pin it). Hiding candidate c frees the cell exactly when c's column of the
    relations is a combination −A_H·x of the hidden columns with x non-zero at the cell (the
    new solutions are then x plus a free multiple); one pseudo-inverse tests them all. If no
    single candidate frees it, the cheapest is hidden and the loop goes on."""
    near, reach = {cell}, True
    while reach:  # the hidden cells tied to the cell through shared lines
        reach = False
        for line in lines:
            if near.intersection(line):
                grown = {c for c in line if hidden[c]} - near
                if grown:
                    near |= grown
                    reach = True
    pool = [c for line in lines if near.intersection(line) for c in line]
    first = _pick(vals, hidden, pool, keep, price)
    if first is None:
        return None
    price = vals if price is None else price
    visible = sorted((c for c in dict.fromkeys(pool)
                      if not hidden[c] and (keep is None or not keep[c]) and vals[c] > 0),
                     key=lambda c: (price[c], vals[c], c))
    if not visible:
        return first
    cols = np.flatnonzero(hidden)
    rows = (np.abs(a[:, cols]).sum(axis=1) > 0) | (np.abs(a[:, visible]).sum(axis=1) > 0)
    a_h, b = a[rows][:, cols], a[rows][:, visible]
    lam, vec, zero = _gram_eigen(a_h)
    inv = np.where(zero, 0.0, 1.0 / np.where(zero, 1.0, lam))
    x = (vec * inv) @ vec.T @ a_h.T @ (-b)  # least squares through the pseudo-inverse
    consistent = np.abs(a_h @ x + b).max(axis=0) < 1e-6
    frees = consistent & (np.abs(x[int(np.searchsorted(cols, cell))]) > 1e-6)
    return visible[int(np.argmax(frees))] if frees.any() else first


def suppress_cells(values: Sequence[float] | np.ndarray, lines: Sequence[Line], min_cell: int = 5,
                   primary: Sequence[bool] | np.ndarray | None = None,
                   margins: Sequence[int | None] | None = None,
                   shown: Sequence[bool] | np.ndarray | None = None,
                   cost: Sequence[float] | np.ndarray | None = None,
                   unpublished: Sequence[bool] | np.ndarray | None = None) -> np.ndarray:
    """The general engine: a boolean mask of cells to hide.

    ``values`` are person counts; ``lines`` are the sum relations readers can see (each line the
    cells of one row, column or total, where margins are cells of their own with the sum known);
    ``margins[i]``, when given, is the cell holding line i's total (the relation is then
    parts − total = 0; without it every cell of the line counts with +1). ``primary`` the cells
    that must be hidden (default: counts 1..min_cell-1); ``shown`` cells that are published
    anyway and may not serve as partners (a unit's size); ``cost`` what hiding a cell costs
    (default its count); ``unpublished`` cells that no table shows but that take part in the
    relations (counts readers could only work out): they are unknowns from the start and must
    stay so only where they are in ``primary``. Secondary cells are added, cheapest first,
    until no line holds exactly one hidden cell and no primary cell can be solved for from the
    lines together.
    """
    vals = np.asarray(values, dtype="float64")
    hidden = (primary_mask(vals, min_cell) if primary is None
              else np.asarray(primary, dtype=bool)).copy()
    keep = None if shown is None else np.asarray(shown, dtype=bool)
    if keep is not None:
        hidden &= ~keep
    price = None if cost is None else np.asarray(cost, dtype="float64")
    sensitive = hidden.copy()
    quiet = (np.zeros(len(vals), bool) if unpublished is None
             else np.asarray(unpublished, dtype=bool) & ~sensitive)
    hidden |= quiet
    lines = [list(line) for line in lines]
    a = _line_matrix(len(vals), lines, margins)
    while True:
        changed = False
        for line in lines:
            lone = [c for c in line if hidden[c]]
            if len(lone) == 1 and not quiet[lone[0]]:
                pick = _pick(vals, hidden, line, keep, price)
                if pick is not None:
                    hidden[pick] = changed = True
        if changed:
            continue
        determined = _determined_cells(a, hidden) & sensitive
        for cell in np.flatnonzero(determined):
            pick = _freeing_partner(a, vals, hidden, int(cell), lines, keep, price)
            if pick is None:  # every partner is published anyway: nothing more can be hidden
                continue
            hidden[pick] = changed = True
            break
        if not changed:
            return hidden & ~quiet


def _pinned(vals: np.ndarray, hidden: list[int], quiet: np.ndarray, min_cell: int) -> bool:
    """Whether the hidden cells of a line with a known total are each pinned by the marks
    readers see: '<5' is 1..min_cell-1 and '–' (a partner) at least min_cell, so a sum equal
    to the smallest (all '<5' are 1, all '–' are min_cell) or, with no partner, to the largest
    possible (all '<5' are min_cell-1) gives every cell back. An unpublished cell or a hidden
    zero has no such bounds and unpins the line."""
    if not hidden or any(quiet[c] or vals[c] == 0 for c in hidden):
        return False
    small = sum(1 for c in hidden if vals[c] < min_cell)
    large = len(hidden) - small
    total = float(sum(vals[c] for c in hidden))
    return total == small + min_cell * large or (large == 0 and total == (min_cell - 1) * small)


def widen_small_sums(values: Sequence[float] | np.ndarray, mask: np.ndarray,
                     lines: Sequence[Line], margins: Sequence[int | None], min_cell: int = 5,
                     shown: Sequence[bool] | np.ndarray | None = None,
                     signed: bool = False, cost: Sequence[float] | np.ndarray | None = None,
                     unpublished: Sequence[bool] | np.ndarray | None = None) -> np.ndarray:
    """Hide more cells until, in every line whose total readers know, the hidden cells add up
    to 0 or at least ``min_cell``, and their sum does not pin them (:func:`_pinned`: two '<5'
    adding up to 8 are both 4).

    ``margins[i]`` is the cell holding line i's total (None: the total is shown elsewhere). Each
    hidden count is at least 1 (zero is shown), so a small hidden sum is itself a small count
    and pins or narrows its cells: two hidden cells adding up to 2 are both 1. With ``signed``
    the margins are also passed to :func:`suppress_cells` as the lines' totals; ``shown``,
    ``cost`` and ``unpublished`` are as there (an unpublished cell counts as hidden).
    """
    vals = np.asarray(values, dtype="float64")
    mask = np.asarray(mask, dtype=bool).copy()
    keep = None if shown is None else np.asarray(shown, dtype=bool)
    price = None if cost is None else np.asarray(cost, dtype="float64")
    quiet = (np.zeros(len(vals), bool) if unpublished is None
             else np.asarray(unpublished, dtype=bool))
    while True:
        grew = False
        for line, margin in zip(lines, margins, strict=True):
            if margin is not None and (mask[margin] or quiet[margin]):
                continue  # the line's total is hidden: its hidden sum is not known
            parts = [c for c in line if c != margin]
            hidden = [c for c in parts if mask[c] or quiet[c]]
            hidden_sum = float(sum(vals[c] for c in hidden))
            if 0 < hidden_sum < min_cell or _pinned(vals, hidden, quiet, min_cell):
                pick = _pick(vals, mask | quiet, parts, keep, price)
                if pick is not None:
                    mask[pick] = grew = True
        if not grew:
            return mask
        mask = suppress_cells(vals, lines, min_cell, mask, margins if signed else None, keep,
                              price, quiet)


def dear(values: np.ndarray, *groups: Iterable[int]) -> np.ndarray:
    """Costs for :func:`suppress_cells`: each cell's count, plus more than all counts together
    for the cells of each group (hidden as partners only where nothing cheaper will do)."""
    cost = np.asarray(values, dtype="float64").copy()
    for group in groups:
        cost[list(group)] += float(np.sum(values)) + 1
    return cost


def solve_plan(values: np.ndarray, lines: Sequence[Line], margins: Sequence[int | None],
               min_cell: int, primary: np.ndarray, cost: np.ndarray,
               shown: np.ndarray | None = None, unpublished: np.ndarray | None = None,
               pairs: Iterable[tuple[int, int]] = ()) -> np.ndarray:
    """The cells a project-wide plan hides: :func:`suppress_cells` then
    :func:`widen_small_sums` (signed totals), again until each pair of cells shown or hidden
    together (a rate and its goal count) agrees."""
    pairs = list(pairs)
    mask = np.asarray(primary, dtype=bool)
    while True:
        mask = suppress_cells(values, lines, min_cell, mask, margins, shown, cost, unpublished)
        mask = widen_small_sums(values, mask, lines, margins, min_cell, shown, signed=True,
                                cost=cost, unpublished=unpublished)
        coupled = mask.copy()
        for a, b in pairs:
            coupled[a] = coupled[b] = mask[a] or mask[b]
        if (coupled == mask).all():
            return mask
        mask = coupled


def plan_across_units(counts: Mapping[str, Mapping[str, float]],
                      primary: Mapping[str, Mapping[str, bool]], min_cell: int = 5
                      ) -> dict[str, dict[str, bool]]:
    """Which of each unit's published counts to hide so that no primary one follows from the
    others across units: ``counts[unit][key]``, with unit ``"all"`` the whole project and the
    other units its delprojekter. For every key the project's count is the sum of the
    delprojekter' where the numbers really add up (a young person in two delprojekter counts
    once); that is a line for :func:`suppress_cells`, whose partners are taken in the
    delprojekter first (the project's own figure only where nothing else will do).
    ``primary[unit][key]``: counts each unit's own rules hide. Returns {unit: {key: hidden}}.
    """
    index: dict[tuple[str, str], int] = {}
    values: list[float] = []
    first: list[bool] = []
    for unit, row in counts.items():
        for key, value in row.items():
            index[(unit, key)] = len(values)
            values.append(float(value))
            first.append(bool(primary.get(unit, {}).get(key, False)))
    vals = np.array(values)
    parts = [u for u in counts if u != "all"]
    lines: list[list[int]] = []
    margins: list[int | None] = []
    for key in counts.get("all", {}):
        cells = [index[(u, key)] for u in parts if (u, key) in index]
        total = index[("all", key)]
        if cells and vals[cells].sum() == vals[total]:
            lines.append([*cells, total])
            margins.append(total)
    cost = dear(vals, [i for (u, _), i in index.items() if u == "all"])
    mask = solve_plan(vals, lines, margins, min_cell, np.array(first, dtype=bool), cost)
    out: dict[str, dict[str, bool]] = {}
    for (unit, key), i in index.items():
        out.setdefault(unit, {})[key] = bool(mask[i])
    return out


def suppress_series(counts: pd.Series, min_cell: int = 5, total: bool = True) -> pd.Series:
    """Cells of a 1-D count table to hide, when its total is shown (``total=True``) or not.

    With a shown total, one hidden cell could be found by subtraction, so a second is hidden.
    The total itself is treated as a cell: if it is under the limit it must not be shown either.
    """
    vals = counts.astype("float64").fillna(0).to_numpy()
    if not total:
        return pd.Series(primary_mask(vals, min_cell), index=counts.index)
    cells = np.append(vals, vals.sum())
    mask = suppress_cells(cells, [list(range(len(cells)))], min_cell)
    return pd.Series(mask[:-1], index=counts.index)


def suppress_grouped(counts: pd.Series, groups: pd.Series, min_cell: int = 5
                     ) -> tuple[pd.Series, pd.Series]:
    """Counts nested in groups whose subtotals and grand total are all shown.

    Returns the mask for ``counts`` and a mask for the group totals (indexed by group), so that a
    table of categories and a table of their groups can both be shown without leaking.
    """
    vals = counts.astype("float64").fillna(0).to_numpy()
    keys = list(dict.fromkeys(groups.tolist()))
    n = len(vals)
    sub = np.array([vals[(groups == g).to_numpy()].sum() for g in keys])
    cells = np.concatenate([vals, sub, [vals.sum()]])
    codes = groups.map({g: i for i, g in enumerate(keys)}).to_numpy()
    lines = [[*np.flatnonzero(codes == i).tolist(), n + i] for i in range(len(keys))]
    lines.append([*range(n, n + len(keys)), n + len(keys)])
    mask = suppress_cells(cells, lines, min_cell)
    mask = widen_small_sums(cells, mask, lines, [line[-1] for line in lines], min_cell)
    return (pd.Series(mask[:n], index=counts.index),
            pd.Series(mask[n:n + len(keys)], index=pd.Index(keys)))


def with_margins(table: pd.DataFrame, label: str = "I alt") -> pd.DataFrame:
    """A count table with a total row and column (named ``label``)."""
    out = table.copy()
    out[label] = table.sum(axis=1)
    out.loc[label] = out.sum(axis=0)
    return out


def suppress_table(table: pd.DataFrame, min_cell: int = 5, margins: bool = True,
                   label: str = "I alt") -> pd.DataFrame:
    """Cells of a 2-D count table to hide; with ``margins`` the mask also covers the total row,
    total column and grand total (shaped like :func:`with_margins`)."""
    vals = table.astype("float64").fillna(0).to_numpy()
    r, c = vals.shape
    if not margins:
        return pd.DataFrame(primary_mask(vals, min_cell), index=table.index,
                            columns=table.columns)
    full = np.zeros((r + 1, c + 1))
    full[:r, :c] = vals
    full[:r, c] = vals.sum(axis=1)
    full[r, :c] = vals.sum(axis=0)
    full[r, c] = vals.sum()
    idx = np.arange((r + 1) * (c + 1)).reshape(r + 1, c + 1)
    lines = [idx[i, :].tolist() for i in range(r + 1)] + [idx[:, j].tolist() for j in range(c + 1)]
    mask = suppress_cells(full.ravel(), lines, min_cell).reshape(r + 1, c + 1)
    return pd.DataFrame(mask, index=[*table.index, label], columns=[*table.columns, label])


def suppress(table: pd.Series | pd.DataFrame, min_cell: int = 5, margins: bool = True
             ) -> pd.Series | pd.DataFrame:
    """Primary and secondary suppression: a Series with a shown total, or a table with margins."""
    if isinstance(table, pd.DataFrame):
        return suppress_table(table, min_cell, margins)
    return suppress_series(table, min_cell, total=margins)


def prune(values: np.ndarray, lines: Sequence[Line], margins: Sequence[int | None],
          min_cell: int, mask: np.ndarray, sensitive: np.ndarray, unpublished: np.ndarray,
          candidates: Iterable[int]) -> np.ndarray:
    """Show again, one by one in the given order (the dearest first), hidden cells that the
    greedy solve turns out not to need: a cell stays shown when, without it hidden, no line
    holds exactly one hidden cell, no line with a known total has hidden parts adding up to
    1..min_cell-1 (or pinned by the marks), and no ``sensitive`` cell follows from the lines.
    :func:`suppress_cells` adds partners cheapest first, one line at a time, so a dear cell
    chosen early can become unnecessary once later partners are in place."""
    vals = np.asarray(values, dtype="float64")
    mask = np.asarray(mask, dtype=bool).copy()
    sensitive = np.asarray(sensitive, dtype=bool)
    quiet = np.asarray(unpublished, dtype=bool) & ~sensitive
    a = _line_matrix(len(vals), lines, margins)
    for cell in candidates:
        if not mask[cell] or sensitive[cell]:
            continue
        trial = mask.copy()
        trial[cell] = False
        if _safe(vals, lines, margins, a, trial, sensitive, quiet, min_cell):
            mask = trial
    return mask


def _safe(vals: np.ndarray, lines: Sequence[Line], margins: Sequence[int | None],
          a: np.ndarray, mask: np.ndarray, sensitive: np.ndarray, quiet: np.ndarray,
          min_cell: int) -> bool:
    """Whether a mask meets what :func:`suppress_cells` and :func:`widen_small_sums` ask."""
    hidden = mask | quiet
    for line, margin in zip(lines, margins, strict=True):
        lone = [c for c in line if hidden[c]]
        if len(lone) == 1 and not quiet[lone[0]]:
            return False
        if margin is None or hidden[margin]:
            continue
        parts = [c for c in line if c != margin and hidden[c]]
        small = float(sum(vals[c] for c in parts))
        if 0 < small < min_cell or _pinned(vals, parts, quiet, min_cell):
            return False
    return not (_determined_cells(a, hidden) & sensitive).any()
