"""An integer-programming audit of the demo projects' published pages, as an output checker
would run it: every count readers see is fixed, every sum relation between counts (inside a
unit and across units) is an equation, and each hidden count 1..4 is minimised and maximised
over the non-negative integers that satisfy them. A hidden count is recovered when its range is
one value, and narrowed too far when the whole range lies within 1..4.

Independent of the suppression engine: the relations are those of ``test_cross_unit_privacy``
(built from the reader tables, not from the plan), the solver is scipy's HiGHS MILP.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from tests.test_cross_unit_privacy import Audit, K, _demo, _maaltal_audit

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
def demo_project(request, tmp_path_factory):
    return _demo(tmp_path_factory, request.param)


def test_no_hidden_maaltal_count_is_pinned_to_1_4_by_integer_programming(demo_project):
    cfg, participants = demo_project
    audit = _maaltal_audit(cfg, participants, uppers=True)
    queries = [(key, v, {key: 1.0}) for key, v in audit.hidden.items()]
    assert narrowed(integer_ranges(audit, queries)) == []
