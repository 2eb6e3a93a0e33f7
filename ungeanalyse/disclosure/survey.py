"""The survey area of the disclosure plan: the survey counts of every unit, across units.

Per scale: the analysed pairs (the n of the paired change, the reliability table and the
attrition text), those with a valid score at the start only, and both split by target group.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..config import ProjectConfig
from .solver import plan_across_units, primary_mask


def plan_hidden(hidden: dict[str, bool] | None, scale_id: str) -> dict[str, bool]:
    """The survey plan's keys for one scale's attrition text."""
    h = hidden or {}
    return {"followed": bool(h.get(f"paired:{scale_id}", False)),
            "dropped": bool(h.get(f"dropped:{scale_id}", False)),
            "target_groups": any(v for k, v in h.items() if k.startswith(f"tg:{scale_id}:"))}


def survey_counts(scores: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig
                  ) -> tuple[dict[str, float], dict[str, bool]]:
    """One unit's published survey counts and which of them its own rules hide.

    Per scale: the analysed pairs ("paired:<scale>", the n of the paired change, the
    reliability table and the attrition text), those with a valid score at the start only
    ("dropped:<scale>"), and both split by target group ("tg:<scale>:<status>:<group>", which
    the attrition text's shares pin). A count is hidden when it is 1..min_cell-1, and so is one
    whose remainder in the unit (those without a valid score at the start: participants minus
    the attrition text's total, overall or in a target group) is 1..min_cell-1.
    """
    from ..survey import _groups

    k = cfg.privacy.min_cell
    c: dict[str, float] = {}
    p: dict[str, bool] = {}
    people = participants.drop_duplicates("person_id").set_index("person_id")
    groups = (people["target_group"].astype("string").fillna("(mangler)")
              if "target_group" in people else None)
    for scale in cfg.survey.scales:
        base, status = _groups(scores, cfg, scale.id)
        n_f, n_d = int(status.eq("followed").sum()), int(status.eq("dropped").sum())
        never = len(people) - n_f - n_d
        c[f"paired:{scale.id}"], c[f"dropped:{scale.id}"] = n_f, n_d
        p[f"paired:{scale.id}"] = bool(primary_mask(n_f, k))
        p[f"dropped:{scale.id}"] = bool(primary_mask(n_d, k)) or 0 < never < k
        if groups is None:
            continue
        tg = groups.reindex(status.index)
        for g in sorted(set(groups), key=str):
            in_g = tg.eq(g)
            f = int((in_g & status.eq("followed")).sum())
            d = int((in_g & status.eq("dropped")).sum())
            never_g = int(groups.eq(g).sum()) - f - d
            for st, v in (("followed", f), ("dropped", d)):
                c[f"tg:{scale.id}:{st}:{g}"] = v
                p[f"tg:{scale.id}:{st}:{g}"] = bool(primary_mask(v, k)) or 0 < never_g < k
    return c, p


def survey_plan(responses: pd.DataFrame, participants: pd.DataFrame, cfg: ProjectConfig,
                maaltal: dict[str, dict[str, Any]] | None = None) -> dict[str, dict[str, bool]]:
    """Which survey counts each unit's report hides, decided once for the whole project.

    The counts are :func:`survey_counts`' (all from ``survey.analysed_pairs``). The project's are
    the sums of its delprojekter's, so a count a unit hides must not follow from the project's
    minus the others': :func:`solver.plan_across_units` finds the partners. With the måltal's
    plan (``maaltal``), a target group whose size the måltal hide in a unit has its counts
    hidden there too (they add up to the size, with those who never answered). Returns
    {unit: {key: hidden}}.
    """
    from ..survey import score_scales

    k = cfg.privacy.min_cell
    dp = participants["delprojekt"].astype("string")
    units = ["all"] + [d for d in cfg.delprojekt_ids if dp.eq(d).any()]
    all_scores = score_scales(responses, cfg)  # once for the project; each unit takes its rows
    counts: dict[str, dict[str, float]] = {}
    primary: dict[str, dict[str, bool]] = {}
    for u in units:
        people = participants if u == "all" else participants[dp.eq(u).to_numpy()]
        scores = all_scores[all_scores["person_id"].isin(set(people["person_id"]))]
        counts[u], primary[u] = survey_counts(scores, people, cfg)
        sizes = ((maaltal or {}).get(u) or {}).get("breakdowns", {}).get("target_group", {})
        for key in primary[u]:
            if key.startswith("tg:") and sizes.get(key.rsplit(":", 1)[1], {}).get("n"):
                primary[u][key] = True
    return plan_across_units(counts, primary, k)


