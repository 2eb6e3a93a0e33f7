"""An integer-programming audit of the demo projects' published pages, as an output checker
would run it: every count readers see is fixed, every sum relation between counts (inside a
unit and across units) is an equation, and each hidden count 1..4 is minimised and maximised
over the non-negative integers that satisfy them. A hidden count is recovered when its range is
one value, and narrowed too far when the whole range lies within 1..4.

Independent of the suppression engine: the relations are those of ``test_cross_unit_privacy``
(built from the reader tables, not from the plan), the solver is scipy's HiGHS MILP.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from tests.test_cross_unit_privacy import (
    Audit,
    K,
    _cmo_audit,
    _demo,
    _funnel_audit,
    _maaltal_audit,
)
from ungeanalyse.disclosure import information_loss as disclosure_loss

DEMOS = ["aumi", "unge_med_kant", "sbst_helhedsorienteret", "ungeindsats_aalborg"]


def integer_ranges(audit: Audit, queries: list[tuple[tuple, float, dict[tuple, float]]]
                   ) -> dict[tuple, tuple[float, float]]:
    """For each query (label, value, {key: weight}) with a value 1..K-1: the smallest and the
    largest value its expression takes over all non-negative integer solutions of the
    published counts and relations (inf where unbounded)."""
    n = len(audit.index)
    rows = []
    for parts, total in audit.relations:
        r = np.zeros(n)
        r[parts] += 1
        if total is not None:
            r[total] -= 1
        rows.append(r)
    a = np.array(rows) if rows else np.zeros((0, n))
    lower = np.zeros(n)
    upper = np.full(n, np.inf)
    values = np.zeros(n)
    for key, i in audit.index.items():
        values[i] = audit.values.get(key, np.nan)
    for i in audit.published:  # what readers see is fixed
        lower[i] = upper[i] = values[i]
    # a relation whose total is published elsewhere (None): its sum is that number
    rhs = np.zeros(len(rows))
    for j, (parts, total) in enumerate(audit.relations):
        if total is None:
            known = [p for p in parts if not np.isnan(values[p])]
            rhs[j] = values[known].sum() if len(known) == len(parts) else np.nan
    ok = ~np.isnan(rhs)
    constraints = [LinearConstraint(a[ok], rhs[ok], rhs[ok])] if ok.any() else []
    integrality = np.ones(n)
    out = {}
    for label, value, weights in queries:
        if not 0 < value < K:
            continue
        c = np.zeros(n)
        for key, w in weights.items():
            c[audit.index[key]] = w
        bounds = []
        for sign in (1, -1):
            res = milp(sign * c, constraints=constraints, integrality=integrality,
                       bounds=Bounds(lower, upper), options={"time_limit": 20})
            if res.status == 3 or res.x is None:  # unbounded: no limit that way
                bounds.append(-np.inf * sign if sign == 1 else np.inf)
                continue
            assert res.status == 0, (label, res.message)
            bounds.append(float(c @ np.round(res.x)))
        out[label] = (bounds[0], bounds[1])
    return out


def narrowed(ranges: dict[tuple, tuple[float, float]]) -> list[tuple[tuple, tuple]]:
    """The queries whose range pins them to one value 1..K-1 or lies within 1..K-1."""
    return [(label, r) for label, r in ranges.items()
            if (r[0] == r[1] and 0 < r[0] < K) or (r[0] >= 1 and r[1] <= K - 1)]


def test_the_audit_finds_a_count_the_relations_pin():
    audit = Audit()  # a total of 9 with one part of 6 shown and the other hidden: it is 3
    audit.see(("a",), 6, False)
    audit.see(("b",), 3, True)
    audit.see(("t",), 9, False)
    audit.relation([("a",), ("b",)], ("t",))
    assert narrowed(integer_ranges(audit, [(("b",), 3, {("b",): 1})])) == [(("b",), (3, 3))]
    # two hidden parts of a total of 7 with 4 shown: each of 1 and 2 lies in 0..3, not pinned
    # to 1..4 (0 is possible), but a hidden sum of 3 is
    audit = Audit()
    for key, v, h in ((("a",), 4, False), (("b",), 1, True), (("c",), 2, True), (("t",), 7,
                                                                                  False)):
        audit.see(key, v, h)
    audit.relation([("a",), ("b",), ("c",)], ("t",))
    ranges = integer_ranges(audit, [(("b",), 1, {("b",): 1}),
                                    (("b+c",), 3, {("b",): 1, ("c",): 1})])
    assert ranges == {("b",): (0, 3), ("b+c",): (3, 3)}
    assert narrowed(ranges) == [(("b+c",), (3, 3))]


@pytest.fixture(scope="module", params=DEMOS)
def demo(request, demo_project, tmp_path_factory):
    """Each demo project (the session's, copied), with its clean participants."""
    return _demo(demo_project, tmp_path_factory, request.param)


@pytest.mark.slow  # integer programming over every unit of a demo
def test_no_hidden_maaltal_count_is_pinned_to_1_4_by_integer_programming(demo):
    cfg, participants = demo
    audit = _maaltal_audit(cfg, participants, uppers=True)
    queries = [(key, v, {key: 1.0}) for key, v in audit.hidden.items()]
    assert sum(0 < v < K for v in audit.hidden.values()) >= 5  # the audit has work to do
    assert narrowed(integer_ranges(audit, queries)) == []


@pytest.mark.slow  # integer programming over every unit of a demo
def test_no_hidden_funnel_count_is_pinned_to_1_4_by_integer_programming(demo):
    cfg, _ = demo
    audit, stops = _funnel_audit(cfg)
    queries = [(key, v, {key: 1.0}) for key, v in audit.hidden.items()] + stops
    assert narrowed(integer_ranges(audit, queries)) == []


@pytest.mark.slow  # integer programming over every unit of a demo
def test_no_hidden_cmo_count_is_pinned_to_1_4_by_integer_programming(demo):
    cfg, participants = demo
    audit, queries = _cmo_audit(cfg, participants)
    assert narrowed(integer_ranges(audit, queries)) == []


def test_no_whole_project_headline_figure_of_a_large_group_is_hidden(demo):
    from ungeanalyse import outcomes, report

    cfg, participants = demo
    plan = outcomes.disclosure_plan(participants, cfg)
    m = outcomes.maaltal(participants, cfg, "all")
    masks = {"maaltal": plan["all"]}
    assert not plan["all"]["rate"] and not any(plan["all"]["group"].values())
    # AUMI's #KomMed (32 of 36 met the goal, 4 did not, nothing else), Verdensmester i høretab
    # and Tæt på keep their goal counts hidden: their own reports' small groups need them
    dims = ["target_group", "gender"] + ([] if cfg.project.id == "aumi" else ["delprojekt"])
    for dim in dims:
        table = report.maaltal_reader_table(m, masks, cfg, dim).frame
        df = m.breakdowns[dim][m.breakdowns[dim]["n_participants"] > 0]
        for row, n_cell, goal_cell, rate_cell in zip(df.itertuples(), table.iloc[:, 1],
                                                     table.iloc[:, 2], table.iloc[:, 3],
                                                     strict=True):
            if row.n_participants >= 20:
                assert n_cell != "–" and goal_cell != "–" and rate_cell != "–", (dim, row)


def test_aalborg_shows_goal_met_of_everyone_where_the_rate_would_count_the_active(
        demo):
    from ungeanalyse import outcomes, report

    cfg, participants = demo
    if cfg.project.id != "ungeindsats_aalborg":
        pytest.skip("the Aalborg figures")
    m = outcomes.maaltal(participants, cfg, "all")
    masks = {"maaltal": outcomes.disclosure_plan(participants, cfg)["all"]}
    table, _, _, note = report.maaltal_reader_table(m, masks, cfg, "target_group")
    # 155 påbegynde, 4 still active: 92 of 151 closed would give the 4 back; 92 of 155 does not
    assert table.iloc[0].tolist() == ["Påbegynde", "155", "92", "59 % af alle", "51–67 %"]
    assert table.iloc[1].tolist() == ["Fastholde", "85", "70", "82 % af alle", "73–89 %"]
    assert note.count("som andel af alle unge i gruppen") == 1
    gender = report.maaltal_reader_table(m, masks, cfg, "gender").frame
    assert gender["Succesrate"].tolist() == ["69 % af alle", "66 % af alle"]
    d = json.loads(json.dumps(m.to_dict(), default=str))
    text = report._breakdown_text(outcomes.Maaltal.from_dict(d), masks, cfg, "da")
    assert "- Brobygning med uddannelsesaktørerne: 68 % (41 af de 60 unge) af alle" in text


def test_the_disclosure_step_is_computed_once_stored_and_its_loss_reported(demo):
    from ungeanalyse import disclosure, outcomes

    cfg, participants = demo
    path = cfg.processed_dir / "disclosure_masks.json"
    path.unlink(missing_ok=True)
    masks = disclosure.load_masks(cfg, "all")  # a plain papermill run: computed on demand
    assert path.exists() and masks["maaltal"] == outcomes.disclosure_plan(participants, cfg)["all"]
    stored = json.loads(path.read_text(encoding="utf-8"))["masks"]
    quality = json.loads((cfg.processed_dir / "quality.json").read_text(encoding="utf-8"))
    for unit in cfg.units():
        loss = stored[unit]["loss"]["all"]
        assert quality["disclosure"][unit]["all"] == loss
        assert 0 < loss["hidden"] < loss["cells"]
    table = disclosure.loss_table(stored, cfg)
    assert len(table) == len(cfg.units()) and table.columns[1] == "Tal i rapportens tabeller"


def test_information_loss_counts_the_cells_each_plan_decides_on():
    masks = {"maaltal": {"outcome": {"a": True, "b": False}, "rate": False, "min_cell": 5,
                         "breakdowns": {"gender": {"kvinde": {"n": False, "rate": True}}}},
             "funnel": {"all": {"s1": False, "s2": True}}, "cmo": None, "survey": {}}
    loss = disclosure_loss(masks)
    assert loss["maaltal"] == {"hidden": 2, "cells": 5}
    assert loss["funnel"] == {"hidden": 1, "cells": 2}
    assert loss["all"] == {"hidden": 3, "cells": 7, "share": round(3 / 7, 4)}


def test_a_reader_table_refuses_to_render_without_masks(aumi_cfg):
    from tests import factories
    from ungeanalyse import outcomes, report
    from ungeanalyse.errors import UserError

    m = outcomes.maaltal(factories.make_participants(aumi_cfg, n=40, seed=3), aumi_cfg)
    with pytest.raises(UserError, match="no disclosure masks"):
        report.maaltal_reader_table(m, None, aumi_cfg, "target_group")
