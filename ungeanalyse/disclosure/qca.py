"""The QCA area of the disclosure plan: the figures of every unit's QCA section.

The participant-level (crisp-set) analysis is run on the closed forløb of a unit, with the
conditions of :func:`conditions` (the first target group and up to three elements of the
project-wide hypotheses) and goal met as the outcome. What it publishes, as counts:

* each row of the necessity table (a condition or its negation): consistency and coverage are
  the young people with the condition and the goal over those with the goal, and over those
  with the condition, so the row gives both counts back (``necessity``);
* the solutions' consistency and coverage, the skewness table, the XY plot and the robustness
  table, which together can give each configuration's counts with and without the goal back
  (``profiles``: shown or hidden together);
* at delprojekt level (the whole project's report, three or more delprojekter), the XY plot,
  whose points are each delprojekt's shares with each condition and the goal
  (``delprojekt_xy``). The fuzzy necessity, skewness and robustness tables combine calibrated
  shares of all delprojekter and give no count back.

The masks, per unit: ``{"qca": {"necessity": {condition: hidden}, "profiles": hidden,
"delprojekt_xy": hidden}}`` with conditions named by column (``tg_<group>``,
``element_<id>``), a negation with a leading ``~``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..config import ProjectConfig

QCA_COST = 5.0
"""What hiding a QCA figure costs in the joint step: a detail, cheap."""

MAX_ELEMENTS = 3
"""The participant-level analysis uses at most this many elements."""

MIN_DELPROJEKTER = 3
"""The delprojekt-level analysis needs at least this many delprojekter with closed forløb."""


def conditions(cfg: ProjectConfig) -> list[str]:
    """The participant-level conditions, as columns of the QCA data: ``tg_<first target
    group>`` and the first elements of the project-wide hypotheses."""
    elements: list[str] = []
    for h in cfg.hypotheses:
        if h.delprojekter == "all" and h.mechanism.startswith("element_") \
                and h.mechanism not in elements:
            elements.append(h.mechanism)
    return [f"tg_{next(iter(cfg.target_groups))}", *elements[:MAX_ELEMENTS]]


def data(participants: pd.DataFrame, cfg: ProjectConfig) -> pd.DataFrame:
    """The QCA data of a unit's participants: its closed forløb (goal met known), each
    condition as 0/1 and ``goal_met``; the index is the participants'."""
    closed = participants[participants["goal_met"].notna()]
    cols = conditions(cfg)
    out = pd.DataFrame(index=closed.index)
    for col in cols:
        if col.startswith("tg_"):
            out[col] = closed["target_group"].astype(str).eq(col.removeprefix("tg_"))
        else:
            out[col] = closed[col].fillna(False).astype(bool)
    out["goal_met"] = closed["goal_met"].astype(bool)
    return out.astype(int)


def qca_plan(participants: pd.DataFrame, cfg: ProjectConfig,
             maaltal: dict[str, dict[str, Any]], cmo: dict[str, dict[str, dict[str, bool]]],
             heatmap: dict[str, dict[str, dict[str, dict[str, bool]]]]
             ) -> dict[str, dict[str, Any]]:
    """Which QCA figures each unit's report hides; per unit ``{"necessity": {condition:
    hidden}, "profiles": hidden}`` and, for the whole project, ``"delprojekt_xy": hidden``.

    A necessity row (a condition and its negation: consistency, coverage and relevance give
    the young people with and without the goal on each side) is hidden when one of those
    counts is 1..min_cell-1; when the måltal hide the unit's rate or goal met (the rows add up
    to them); for the target group, when they hide its row's rate, goal met or size; for an
    element, when the CMO table hides a cell of a hypothesis of that mechanism or its heatmap
    is hidden (the row gives the mechanism's totals). The profiles (solutions' fit, skewness,
    XY plot, robustness) are hidden when a configuration has 1..min_cell-1 with or without the
    goal, or a necessity row is hidden. Across units the project's counts are the sums of the
    delprojekter's: where exactly one unit hides a row (or the profiles), another does too. The
    delprojekt XY plot is hidden when a delprojekt has 1..min_cell-1 with or without a
    condition or the goal, or the måltal hide a delprojekt's rate."""
    from ..qca import discloses
    from .maaltal import units_of

    if "goal_met" not in participants:
        return {}
    try:
        frame = data(participants, cfg)
    except KeyError:  # an element column the participants lack: no QCA section
        return {}
    k = cfg.privacy.min_cell
    cols = conditions(cfg)
    units = units_of(participants, cfg)
    where = participants.index.get_indexer(frame.index)
    out: dict[str, dict[str, Any]] = {}
    counts: dict[tuple[str, str], list[int]] = {}
    for u, rows in units.items():
        mine = rows[where]
        sub = frame[mine]
        m = maaltal.get(u) or {}
        secret = bool(m.get("rate") or m.get("group", {}).get("goal_met"))
        y = sub["goal_met"].to_numpy(dtype=bool)
        necessity = {}
        for col in cols:
            x = sub[col].to_numpy(dtype=bool)
            counts[(u, col)] = [int((x & y).sum()), int((x & ~y).sum()),
                                int((~x & y).sum()), int((~x & ~y).sum())]
            hide = secret or discloses(x, y, k) or _linked(col, u, m, cmo, heatmap, cfg)
            necessity[col] = necessity[f"~{col}"] = bool(hide)
        configs = sub[cols].astype(str).agg("".join, axis=1)
        table = pd.crosstab(configs, sub["goal_met"]) if len(sub) else pd.DataFrame()
        small = bool(((table > 0) & (table < k)).to_numpy().any())
        out[u] = {"necessity": necessity, "profiles": small or secret or any(necessity.values())}
    _across_units(out, counts, cols, k)
    if "all" in out:
        parts = [u for u in units if u != "all" and (units[u][where]).any()]
        if len(parts) >= MIN_DELPROJEKTER:
            out["all"]["delprojekt_xy"] = _xy_hidden(frame, units, where, parts, maaltal, k)
    return out


def _linked(col: str, unit: str, m: dict[str, Any], cmo: dict[str, Any],
            heatmap: dict[str, Any], cfg: ProjectConfig) -> bool:
    """Whether a condition's necessity row would give back a figure another table hides."""
    from ..realist import hypotheses_for_unit

    if col.startswith("tg_"):
        flags = m.get("breakdowns", {}).get("target_group", {}).get(col.removeprefix("tg_"), {})
        others = [f for g, f in m.get("breakdowns", {}).get("target_group", {}).items()
                  if g != col.removeprefix("tg_")]
        return any(f.get(q) for f in [flags, *others] for q in ("n", "rate", "goal"))
    plan = cmo.get(unit) or {}
    if any(any(plan.get(h.id, {}).values()) for h in hypotheses_for_unit(cfg, unit)
           if h.mechanism == col):
        return True
    contexts = (heatmap.get(unit) or {}).get(col)
    return contexts is not None and any(any(c.values()) for c in contexts.values())


def _across_units(out: dict[str, dict[str, Any]], counts: dict[tuple[str, str], list[int]],
                  cols: list[str], k: int) -> None:
    """Hide more rows (and profiles) until, for every count the project's row sums from its
    delprojekter', the units hiding it are none or at least two (in place)."""
    parts = [u for u in out if u != "all"]
    if "all" not in out or not parts:
        return
    changed = True
    while changed:
        changed = False
        for col in cols:
            hid = [u for u in out if out[u]["necessity"][col]]
            small = sum(sum(counts[(u, col)]) for u in hid if u != "all")
            if len(hid) == 1 or (len(hid) > 1 and "all" not in hid and 0 < small < k):
                pick = min((u for u in parts if not out[u]["necessity"][col]),
                           key=lambda u: sum(counts[(u, col)]), default=None)
                if pick is not None:
                    out[pick]["necessity"][col] = out[pick]["necessity"][f"~{col}"] = True
                    out[pick]["profiles"] = changed = True
        hid = [u for u in out if out[u]["profiles"]]
        if len(hid) == 1:
            pick = min((u for u in parts if not out[u]["profiles"]),
                       key=lambda u: sum(counts[(u, cols[0])]), default=None)
            if pick is not None:
                out[pick]["profiles"] = changed = True


def _xy_hidden(frame: pd.DataFrame, units: dict[str, np.ndarray], where: np.ndarray,
               parts: list[str], maaltal: dict[str, dict[str, Any]], k: int) -> bool:
    """Whether the delprojekt XY plot is hidden (:func:`qca_plan`)."""
    for d in parts:
        sub = frame[units[d][where]]
        if (maaltal.get(d) or {}).get("rate"):
            return True
        for col in sub.columns:
            with_ = int(sub[col].sum())
            without = len(sub) - with_
            if 0 < with_ < k or 0 < without < k:
                return True
    return False
