"""The disclosure step: one plan per project, solved once, stored, read by every notebook.

What each unit's report hides is decided for the whole project at once and stored as
``disclosure_masks.json`` in the processed folder, keyed on the data, the config and the package
code (:func:`plan_project`). :func:`load_masks` gives a notebook its unit's masks: from the file
when it is current, else solved on the spot and stored (a plain papermill run), never a weaker
per-unit protection. Reader tables take the masks as input and refuse to render without them
(:func:`require_masks`). :func:`information_loss` says what the plan costs readers: cells hidden
of cells the report publishes.

Layout: ``solver`` (the one suppression engine), ``marks`` (how a hidden figure reads), and one
module per report area declaring what it publishes and how its cells relate across units and to
the other tables: ``maaltal``, ``cmo``, ``funnel``, ``survey``, ``heatmap`` (the subgroup
heatmaps), ``qca``; ``plan`` runs them in that order (each takes the decisions before it as
given) and stores the result.

The masks of one unit (JSON, ``True`` = hidden)::

    {"maaltal": {"outcome": {code: bool}, "group": {group: bool}, "rate": bool, "upper": bool,
                 "breakdowns": {dimension: {category: {"n", "rate", "goal", "upper": bool}}},
                 "min_cell": int},
     "funnel": {group: {step: bool}},
     "cmo": {hypothesis id: {"in_yes" | "in_no" | "out_yes" | "out_no": bool}},
     "survey": {"paired:<scale>" | "dropped:<scale>" | "tg:<scale>:<status>:<group>": bool},
     "heatmap": {mechanism: {context: {category: bool}}},
     "qca": {"necessity": {condition | "~" + condition: bool}, "profiles": bool,
             "delprojekt_xy": bool},
     "loss": {area: {"hidden": int, "cells": int}, "all": {"hidden", "cells", "share"}}}

``heatmap``: per mechanism of the unit's hypotheses (as the CMO table names it), context column
and category code (``realist.subgroup_matrix``'s ``context`` and ``category``: "ja"/"nej" for a
yes/no column): a hidden row is blank on both mechanism values (``heatmap.apply``). ``qca``: a
necessity row by condition column (``tg_<group>``, ``element_<id>``; its negation with "~"),
``profiles`` the participant-level fit figures, skewness table, XY plot and robustness table,
``delprojekt_xy`` the whole project's delprojekt XY plot.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..config import ProjectConfig
from ..errors import UserError

PLANS = ("maaltal", "funnel", "cmo", "survey", "heatmap", "qca")
"""The areas of one unit's masks, in report order."""


def plan_project(cfg: ProjectConfig, notes: list[str] | None = None, lang: str = "da"
                 ) -> dict[str, Any]:
    """Every unit's masks, from the stored plan when it is current, else solved and stored
    (``plan.plan_project``)."""
    from .plan import plan_project as stored_plan

    return stored_plan(cfg, notes, lang)


def load_masks(cfg: ProjectConfig, unit: str, lang: str = "da") -> dict[str, Any]:
    """A unit's masks from the project's disclosure step (computed and stored when missing or
    out of date). Raises a clear error when the unit has none: a delprojekt none of whose
    rows could be used, or no clean data at all (the message names the config file only: it
    may reach the index page)."""
    from .. import i18n
    from ..units import ALL, select
    from .plan import read_tables

    masks = plan_project(cfg, lang=lang)
    if unit not in masks or not (masks[unit] or {}).get("maaltal"):
        lang = i18n.known(lang)
        config = cfg.source_path.name if cfg.source_path else "project.yml"
        participants = read_tables(cfg)["participants"]
        empty_delprojekt = unit != ALL and len(participants) > 0 and \
            select(participants, cfg, unit).empty  # the one place that decides a unit's rows
        raise UserError(i18n.t("disclosure.no_rows" if empty_delprojekt else
                               "disclosure.no_plan", lang, unit=unit, config=config))
    return masks[unit]


def require_masks(masks: Any, what: str) -> dict[str, Any]:
    """The masks a reader table needs, or an error: tables are never shown unprotected or
    with a weaker per-unit protection."""
    if not masks:
        raise UserError(f"{what}: no disclosure masks; load them with "
                        "ungeanalyse.disclosure.load_masks(cfg, unit) (the disclosure step).")
    return masks


def _leaves(obj: Any) -> Iterator[bool]:
    if isinstance(obj, bool):
        yield obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if key != "min_cell":
                yield from _leaves(value)


def information_loss(unit_masks: dict[str, Any] | None) -> dict[str, Any]:
    """What the plan costs one report: of the cells its tables publish (every count, rate and
    share the plans decide on), how many are hidden, per plan and in all."""
    out: dict[str, Any] = {}
    hidden = cells = 0
    for plan in PLANS:
        flags = list(_leaves((unit_masks or {}).get(plan) or {}))
        out[plan] = {"hidden": sum(flags), "cells": len(flags)}
        hidden += sum(flags)
        cells += len(flags)
    out["all"] = {"hidden": hidden, "cells": cells,
                  "share": round(hidden / cells, 4) if cells else 0.0}
    return out
