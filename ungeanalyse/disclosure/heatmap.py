"""The subgroup heatmaps' area of the disclosure plan: every unit's heatmaps, across units.

A unit's report draws one heatmap per mechanism of its hypotheses (``realist.subgroup_matrix``):
per context (target group, gender, age band, delprojekt, each challenge) and category, the
rate of goal met with and without the mechanism, among the closed forløb with both values. A
rate next to the sizes other tables show gives its counts back, and a context's rows add up to
the mechanism's totals, so a context is shown or hidden whole. A context is hidden when

* a row has 1..min_cell-1 young people, or 1..min_cell-1 with or without the goal, on either
  side of the mechanism (the unit's own rule);
* a row's totals are a breakdown row whose rate, goal met or size the måltal hide, or the
  rows add up to the unit's closed forløb and goal met while the måltal hide the unit's rate;
* a row holds exactly the young people of a CMO cell the CMO table hides, or the mechanism's
  totals would pin a hidden CMO cell (then the mechanism's whole heatmap is hidden);
* across units, the project's rows are the sums of the delprojekter's: where exactly one of
  them is hidden (or the hidden ones add up to 1..min_cell-1), another is hidden with it
  (a delprojekt's context first, the smallest).

The masks, per unit: ``{"heatmap": {mechanism: {context: {category: hidden}}}}``; a reader
blanks a hidden row (both mechanism values; every row of a context shares the flag) and draws
no heatmap when every row is hidden (:func:`apply`). Categories are the matrix's ``category``
codes ("ja"/"nej" for yes/no columns).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import ProjectConfig
from .solver import primary_mask, rate_hidden

CONTEXTS = ("target_group", "gender", "age_band", "delprojekt", "challenge_*")
"""The heatmaps' contexts (``realist.subgroup_matrix``'s default)."""

MAALTAL_DIMENSIONS = ("target_group", "gender", "age_band", "delprojekt")
"""Contexts whose rows are breakdown rows of the måltal tables."""


def mechanisms(cfg: ProjectConfig, unit: str) -> list[str]:
    """The mechanisms a unit's report draws heatmaps of: its hypotheses' mechanisms, in
    order (``report.hypothesis_mechanisms``)."""
    from ..realist import hypotheses_for_unit

    return list(dict.fromkeys(h.mechanism for h in hypotheses_for_unit(cfg, unit)))


def _categories(values: pd.Series, col: str, cfg: ProjectConfig) -> list[tuple[Any, str]]:
    """(value, code) of a context's categories among the given rows, as the matrix orders
    them: ja/nej for a yes/no column, else the config's categories first."""
    from ..outcomes import category_labels

    if pd.api.types.is_bool_dtype(values.dtype):
        return [(True, "ja"), (False, "nej")]
    known = category_labels(cfg, col, "da")
    seen = [str(v) for v in values.astype("string").dropna().unique()]
    order = [k for k in known if k in seen] + sorted(v for v in seen if v not in known)
    return [(v, v) for v in order]


class _Heatmaps:
    """Every unit's heatmap rows as counts: per (unit, mechanism, context, category) the young
    people with and without the goal on each side of the mechanism, and the row's members."""

    def __init__(self, participants: pd.DataFrame, cfg: ProjectConfig) -> None:
        from .. import realist
        from .maaltal import units_of

        self.cfg = cfg
        self.units = units_of(participants, cfg)
        self.shown = {u: mechanisms(cfg, u) for u in self.units}
        outcome = realist.evaluate_expression(participants, "goal_met", "subgroup_matrix",
                                              "outcome")
        active = realist._active(participants, cfg, outcome).to_numpy(dtype=bool)
        y = outcome.to_numpy(dtype=bool, na_value=False)
        contexts = realist._context_columns(participants, CONTEXTS)
        self.rows: dict[tuple, dict[str, Any]] = {}
        self.keep: dict[tuple[str, str], np.ndarray] = {}
        for mech in dict.fromkeys(m for ms in self.shown.values() for m in ms):
            expr = realist._mechanism_expression(mech, participants, cfg)
            value = realist.evaluate_expression(participants, expr, "subgroup_matrix",
                                                "mechanism")
            has = value.to_numpy(dtype=bool, na_value=False)
            known = ~(value.isna().to_numpy() | outcome.isna().to_numpy()) & ~active
            for u, rows in self.units.items():
                keep = known & rows
                self.keep[(u, mech)] = keep
                for col in contexts:
                    values = participants[col]
                    for cat, code in _categories(values[keep], col, cfg):
                        inside = keep & values.eq(cat).fillna(False).to_numpy(dtype=bool)
                        self.rows[(u, mech, col, code)] = {
                            "members": inside,
                            "counts": [int((inside & side & q).sum()) for side in (has, ~has)
                                       for q in (y, ~y)]}

    def contexts(self) -> dict[tuple[str, str, str], list[str]]:
        """The categories of each (unit, mechanism, context) a unit's report shows."""
        out: dict[tuple[str, str, str], list[str]] = {}
        for (u, mech, col, code) in self.rows:
            if mech in self.shown[u]:
                out.setdefault((u, mech, col), []).append(code)
        return out


def heatmap_plan(participants: pd.DataFrame, cfg: ProjectConfig,
                 maaltal: dict[str, dict[str, Any]], cmo: dict[str, dict[str, dict[str, bool]]],
                 prepared: Any = None) -> dict[str, dict[str, dict[str, dict[str, bool]]]]:
    """Which heatmap rows each unit's report hides (the module's rules); per unit
    ``{mechanism: {context: {category: hidden}}}``."""
    k = cfg.privacy.min_cell
    maps = _Heatmaps(participants, cfg)
    blocks = maps.contexts()
    hidden = {key: False for key in blocks}
    from .cmo import Prepared

    prepared = prepared if prepared is not None else Prepared(participants, cfg)
    withheld = _cmo_withheld(participants, cfg, maps, cmo, prepared)
    twins = _cmo_twins(participants, cfg, maps, cmo, prepared)
    for (u, mech, col), codes in blocks.items():
        m = maaltal.get(u) or {}
        secret = m.get("rate") or m.get("group", {}).get("goal_met")
        bd = m.get("breakdowns", {}).get(col, {}) if col in MAALTAL_DIMENSIONS else {}
        for code in codes:
            row = maps.rows[(u, mech, col, code)]
            n = [row["counts"][0] + row["counts"][1], row["counts"][2] + row["counts"][3]]
            kk = [row["counts"][0], row["counts"][2]]
            small = any(bool(nn < k or rate_hidden(x, nn, k)) for x, nn in zip(kk, n, strict=True))
            flags = bd.get(code, {})
            if small or secret or (u, mech) in withheld or (u, mech, col, code) in twins \
                    or flags.get("n") or flags.get("rate") or flags.get("goal"):
                hidden[(u, mech, col)] = True
    _across_units(maps, blocks, hidden, k)
    out: dict[str, dict[str, dict[str, dict[str, bool]]]] = {}
    for (u, mech, col), codes in blocks.items():
        out.setdefault(u, {}).setdefault(mech, {})[col] = {c: hidden[(u, mech, col)]
                                                           for c in codes}
    return out


def _across_units(maps: _Heatmaps, blocks: dict[tuple[str, str, str], list[str]],
                  hidden: dict[tuple[str, str, str], bool], k: int) -> None:
    """Hide more contexts until, for every row count of the project, the units whose context
    is hidden (or not shown at all) are none or at least two, and their counts do not add up
    to 1..k-1 (in place)."""
    parts = [u for u in maps.units if u != "all"]
    if not parts:
        return
    lines: dict[tuple[str, str, int], list[tuple[str, int]]] = {}
    for (u, mech, col, code), row in maps.rows.items():
        for q, value in enumerate(row["counts"]):
            lines.setdefault((mech, col, code, q), []).append((u, value))

    def concealed(u: str, mech: str, col: str) -> bool:
        return hidden.get((u, mech, col), True)  # a context not shown is not published

    def size(u: str, mech: str, col: str) -> int:
        return sum(sum(maps.rows[(u, mech, col, c)]["counts"]) for c in blocks[(u, mech, col)])

    changed = True
    while changed:
        changed = False
        for (mech, col, _code, _q), members in lines.items():
            units = {u for u, _ in members} | {"all"}
            hid = [u for u in units if concealed(u, mech, col)]
            total = sum(v for u, v in members if u != "all" and concealed(u, mech, col))
            lone = len(hid) == 1
            if not (lone or (len(hid) > 1 and "all" not in hid and bool(primary_mask(total, k)))):
                continue
            choices = sorted((u for u in units if (u, mech, col) in blocks
                              and not concealed(u, mech, col)),
                             key=lambda u: (u == "all", size(u, mech, col), u))
            if choices:
                hidden[(choices[0], mech, col)] = changed = True


def _cmo_withheld(participants: pd.DataFrame, cfg: ProjectConfig, maps: _Heatmaps,
                  cmo: dict[str, dict[str, dict[str, bool]]], prepared: Any
                  ) -> set[tuple[str, str]]:
    """(unit, mechanism) whose heatmap would pin a CMO cell the table hides: the heatmap's
    rates next to the category sizes give the mechanism's totals, which with the context's
    totals make the hypothesis a 2 × 2 table with every margin known."""
    from .. import realist
    from .cmo import CELL_KEYS, hidden_cells
    from .solver import determined_cells

    k = cfg.privacy.min_cell
    out = set()
    for u in maps.units:
        for hyp in realist.hypotheses_for_unit(cfg, u):
            df, keep, c, m, y, _ = prepared.get_for(u, hyp)
            cells = {key: {"n": n, "k": kk} for key, n, kk in realist._cell_counts(c, m, y)}
            left_out = int(len(df) - keep.sum())
            plan = (cmo.get(u) or {}).get(hyp.id, {})
            mask = np.array([bool(plan.get(key, False)) for key in CELL_KEYS])
            n = np.array([cells[key]["n"] for key in CELL_KEYS], dtype=float)
            found = determined_cells(4, [[0, 1], [2, 3], [0, 2], [1, 3]], None, mask)
            needs = hidden_cells(cells, k, left_out, margins=True) != hidden_cells(cells, k,
                                                                                  left_out)
            if needs or any(found[i] and n[i] > 0 for i in np.flatnonzero(mask)):
                out.add((u, hyp.mechanism))
    return out


def _cmo_twins(participants: pd.DataFrame, cfg: ProjectConfig, maps: _Heatmaps,
               cmo: dict[str, dict[str, dict[str, bool]]], prepared: Any
               ) -> set[tuple[str, str, str, str]]:
    """Heatmap rows holding exactly the young people in (or outside) the context of a
    hypothesis whose cells there the CMO table hides: the row shows the same cells."""
    from .. import realist

    out = set()
    for u in maps.units:
        for hyp in realist.hypotheses_for_unit(cfg, u):
            plan = (cmo.get(u) or {}).get(hyp.id, {})
            if not any(plan.values()):
                continue
            df, keep, c, _, _, _ = prepared.get_for(u, hyp)
            rows = participants.index.get_indexer(df.index)[keep]
            sides = {"in": frozenset(rows[c.astype(bool)].tolist()),
                     "out": frozenset(rows[~c.astype(bool)].tolist())}
            secret = {sides[s] for s in sides if plan.get(f"{s}_yes") or plan.get(f"{s}_no")}
            for (uu, mech, col, code), row in maps.rows.items():
                if uu == u and mech == hyp.mechanism and \
                        frozenset(np.flatnonzero(row["members"]).tolist()) in secret:
                    out.add((u, mech, col, code))
    return out


def apply(matrix: pd.DataFrame, unit_masks: dict[str, Any], mechanism: str) -> pd.DataFrame:
    """A subgroup matrix (``realist.subgroup_matrix``) with ``suppressed`` as the unit's plan
    says: the reader's one step before ``realist.subgroup_pivot``; an error when the plan has
    no heatmap of the mechanism."""
    from ..errors import UserError
    from . import require_masks

    plan = (require_masks(unit_masks, "subgroup heatmap").get("heatmap") or {}).get(mechanism)
    if plan is None:
        raise UserError(f"subgroup heatmap of {mechanism!r}: the disclosure plan has no "
                        "masks for it; load them with ungeanalyse.disclosure.load_masks.")
    out = matrix.copy()
    out["suppressed"] = [bool(plan.get(str(c), {}).get(str(k), True))
                         for c, k in zip(out["context"], out["category"], strict=True)]
    return out
