"""Across units: the whole project's report next to every delprojekt's gives no small count away.

The project's counts are the sums of its delprojekter's. Each audit here is independent of the
suppression engine: every count a reader sees, in every unit's tables, pins a variable; the sum
relations inside a unit and across units are equations; a hidden count 1..4 is recoverable when
it lies in the row space (numpy's matrix rank, not ``privacy._determined``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ungeanalyse import outcomes, pipeline, realist, results
from ungeanalyse import steps as stepslib
from ungeanalyse.disclosure import cmo as dcmo
from ungeanalyse.disclosure import funnel as dfunnel
from ungeanalyse.disclosure import maaltal as dmaaltal
from ungeanalyse.disclosure import survey as dsurvey
from ungeanalyse.reader import maaltal as reader_maaltal
from ungeanalyse.reader import steps as reader_steps
from ungeanalyse.reader import survey as reader_survey

ROOT = Path(__file__).resolve().parents[1]
K = 5

pytestmark = pytest.mark.slow  # every unit's plans and tables of whole demo projects, audited
HIDDEN = ("–", f"<{K}")


def _demo(demo_fresh, name: str):
    """The session's demo (conftest), copied: the tests here write and remove the mask cache."""
    project = demo_fresh(name)
    return project.cfg(), project.result.participants.copy()


@pytest.fixture(scope="module")
def aumi(demo_fresh):
    """AUMI: six delprojekter of 25–40 young people."""
    return _demo(demo_fresh, "aumi")


@pytest.fixture(scope="module")
def umk(demo_fresh):
    """Unge med kant: two delprojekter, so the project's total minus one gives the other."""
    return _demo(demo_fresh, "unge_med_kant")


class Audit:
    """What readers can work out: published counts and the sum relations between counts."""

    def __init__(self) -> None:
        self.index: dict[tuple, int] = {}
        self.relations: list[tuple[list[int], int | None]] = []
        self.published: list[int] = []
        self.hidden: dict[tuple, float] = {}
        self.values: dict[tuple, float] = {}

    def var(self, key: tuple) -> int:
        return self.index.setdefault(key, len(self.index))

    def value(self, key: tuple) -> float:
        return self.values[key]

    def see(self, key: tuple, value: float, hidden: bool) -> None:
        """A count in a reader table: published, or hidden (kept to check it stays unknown)."""
        i = self.var(key)
        self.values[key] = value
        if hidden:
            self.hidden[key] = value
        else:
            self.published.append(i)

    def relation(self, parts: list[tuple], total: tuple | None = None) -> None:
        """The parts add up to the total's count (None: to a number published elsewhere)."""
        self.relations.append(([self.var(p) for p in parts],
                               None if total is None else self.var(total)))

    def recoverable(self, queries: list[tuple[tuple, float, dict[tuple, float]]]) -> list:
        """The queries (label, value, {key: weight}) with a value 1..4 that readers can work
        out from the published counts and the relations: those whose weights lie in the row
        space of the equations. One SVD gives that space (at numpy's ``matrix_rank`` tolerance);
        a query lies in it when its residual from the space is zero, i.e. when stacking it on
        the equations would not raise their rank."""
        rows = []
        for parts, total in self.relations:
            r = np.zeros(len(self.index))
            r[parts] += 1
            if total is not None:
                r[total] -= 1
            rows.append(r)
        for i in self.published:
            r = np.zeros(len(self.index))
            r[i] = 1
            rows.append(r)
        a = np.array(rows).reshape(len(rows), len(self.index))
        basis = np.zeros((0, len(self.index)))
        if a.size:
            _, s, vt = np.linalg.svd(a, full_matrices=False)
            basis = vt[s > s.max() * max(a.shape) * np.finfo(float).eps]
        out = []
        for label, value, weights in queries:
            if not 0 < value < K:
                continue
            e = np.zeros(len(self.index))
            for key, w in weights.items():
                e[self.index[key]] = w
            residual = e - basis.T @ (basis @ e)
            if np.linalg.norm(residual) <= 1e-9 * max(1.0, np.linalg.norm(e)):
                out.append((label, value))
        return out

    def small_hidden(self) -> list:
        """Every hidden count that is itself 1..4, as a query."""
        return self.recoverable([(key, v, {key: 1.0}) for key, v in self.hidden.items()])


# -- måltal ---------------------------------------------------------------------------------


def _maaltal_audit(cfg, participants, uppers: bool = False) -> Audit:
    """The måltal tables of every unit; with ``uppers`` also every success rate's upper bound
    (status ukendt counted as goal met) that the plan lets out, whether or not it changes the
    reading (the worst case: the report shows it only where it does)."""
    audit = Audit()
    units = [d.id for d in cfg.delprojekter]
    plan = dmaaltal.maaltal_plan(participants, cfg)  # one plan for all units, as the runner
    for u in ["all", *units]:
        m = outcomes.maaltal(participants, cfg, u)
        masks = {"maaltal": plan.get(u)}
        if uppers:
            _upper_audit(audit, m, u, plan.get(u))
        out_table = reader_maaltal.table(m, masks, cfg, "outcomes").frame
        shown = dict(zip(out_table["Status"], out_table["Antal"], strict=True))
        for row in m.outcomes.itertuples():
            audit.see((u, "code", row.code), row.n, shown.get(row.label, "0") in HIDDEN)
        group_table = reader_maaltal.table(m, masks, cfg, "groups").frame
        for row, cell in zip(m.groups.itertuples(), group_table["Antal"], strict=True):
            audit.see((u, "group", row.group), row.n, cell in HIDDEN)
        for g, part in m.outcomes.groupby("group"):
            audit.relation([(u, "code", c) for c in part["code"]], (u, "group", g))
        audit.relation([(u, "group", g) for g in m.groups["group"]], (u, "N"))
        audit.see((u, "N"), m.n_participants, False)
        audit.relation([(u, "group", g) for g in m.groups["group"] if g != "active"],
                       (u, "closed"))
        rate_hidden = reader_maaltal.goal_met_hidden(plan.get(u))
        audit.see((u, "closed"), m.n_closed, rate_hidden)
        for dim, df in m.breakdowns.items():
            df = df[df["n_participants"] > 0]
            table = reader_maaltal.table(m, masks, cfg, dim).frame
            for row, n_cell, goal_cell, rate_cell in zip(
                    df.itertuples(), table.iloc[:, 1], table.iloc[:, 2], table.iloc[:, 3],
                    strict=True):
                # a rate among closed forløb gives the closed count; a share of everyone
                # ('af alle') gives only the goal count, with the category's size
                audit.see((u, dim, row.category, "n"), row.n_participants, n_cell in HIDDEN)
                audit.see((u, dim, row.category, "goal"), row.goal_met, goal_cell in HIDDEN)
                audit.see((u, dim, row.category, "closed"), row.n_closed,
                          rate_cell == "–" or rate_cell.endswith("af alle"))
            for q, total in (("n", (u, "N")), ("goal", (u, "group", "goal_met")),
                             ("closed", (u, "closed"))):
                audit.relation([(u, dim, c, q) for c in df["category"]], total)
            if dim == "delprojekt":
                for c in df["category"]:
                    audit.relation([(u, dim, c, "n")], (c, "N"))
                    audit.relation([(u, dim, c, "goal")], (c, "group", "goal_met"))
                    audit.relation([(u, dim, c, "closed")], (c, "closed"))
    for key in [key for key in audit.index if key[0] == "all" and key[1] != "delprojekt"]:
        audit.relation([(u, *key[1:]) for u in units if (u, *key[1:]) in audit.index], key)
    return audit


def _upper_audit(audit: Audit, m, u: str, plan: dict) -> None:
    """An upper bound (goal met + unknown) / closed, where the plan lets it out, gives goal met
    + unknown; the unknown and the known failures of each category are counts of their own."""
    if not plan["upper"]:
        audit.see((u, "upper"), m.goal_met + m.n_unknown, False)
        audit.relation([(u, "group", "goal_met"), (u, "group", "unknown")], (u, "upper"))
    for dim, df in m.breakdowns.items():
        df = df[df["n_participants"] > 0]
        dim_plan = plan["breakdowns"][dim]
        for row in df.itertuples():
            key = (u, dim, row.category)
            audit.see((*key, "unknown"), row.unknown, True)
            audit.see((*key, "known_fail"), row.n_closed - row.goal_met - row.unknown, True)
            audit.relation([(*key, "goal"), (*key, "unknown"), (*key, "known_fail")],
                           (*key, "closed"))
            if not dim_plan[row.category]["upper"]:
                audit.see((*key, "upper"), row.goal_met + row.unknown, False)
                audit.relation([(*key, "goal"), (*key, "unknown")], (*key, "upper"))
            if dim == "delprojekt":
                audit.relation([(*key, "unknown")], (row.category, "group", "unknown"))
        audit.relation([(u, dim, c, "unknown") for c in df["category"]], (u, "group", "unknown"))


@pytest.fixture(scope="module")
def many_unknown(aumi_cfg):
    """600 random young people, an eighth of them with unknown status: many upper bounds."""
    from tests import factories

    return aumi_cfg, factories.make_participants(aumi_cfg, n=600, seed=3)


@pytest.mark.parametrize("name", ["aumi", "umk"])
def test_no_small_count_follows_from_all_the_units_maaltal_tables(name, request):
    cfg, participants = request.getfixturevalue(name)
    assert _maaltal_audit(cfg, participants).small_hidden() == []


@pytest.mark.parametrize("name", ["aumi", "umk", "many_unknown"])
def test_the_upper_bounds_for_unknown_status_give_no_small_count_away(name, request):
    cfg, participants = request.getfixturevalue(name)
    audit = _maaltal_audit(cfg, participants, uppers=True)
    assert audit.small_hidden() == []
    if name == "many_unknown":  # the audit has something to check: bounds are published
        published = {k for k, i in audit.index.items() if k[-1] == "upper"
                     and i in audit.published}
        assert len(published) > 20


def test_the_project_total_minus_one_delprojekt_does_not_give_the_other(umk):
    cfg, participants = umk
    plan = dmaaltal.maaltal_plan(participants, cfg)
    counts = participants.groupby(["delprojekt", "outcome"], observed=True).size()
    for code in cfg.outcomes:
        small = [u for u in ("vejle", "toender") if 0 < counts.get((u, code), 0) < 5]
        for u in small:  # hidden where it is small, and hidden with a partner somewhere
            assert plan[u]["outcome"][code]
            others = [plan[w]["outcome"][code] for w in ("vejle", "toender", "all") if w != u]
            assert any(others), code
    # the funder's figures for the whole project stay visible
    assert not any(plan["all"]["group"].values()) and not plan["all"]["rate"]


def test_the_plan_without_other_units_is_the_units_own_protection(aumi):
    cfg, participants = aumi
    alone = participants[participants["delprojekt"].eq("kommed")]
    plan = dmaaltal.maaltal_plan(alone, cfg)
    # KomMed alone: 32 met the goal and 4 did not; both groups hidden, the rate too
    assert plan["kommed"]["group"]["not_met"] and plan["kommed"]["group"]["goal_met"]
    assert plan["kommed"]["rate"]


def test_a_unit_reruns_when_another_units_data_change_its_masks(aumi, monkeypatch):
    cfg, _ = aumi
    before = pipeline.unit_data_fingerprints(cfg, cfg.units())
    real = dmaaltal.maaltal_plan

    def changed(participants, cfg, min_cell=None):
        plan = real(participants, cfg, min_cell)
        plan["autisme"]["rate"] = not plan["autisme"]["rate"]
        return plan

    monkeypatch.setattr(dmaaltal, "maaltal_plan", changed)
    # the masks are cached under the data, config and package code; the stand-in plan is
    # none of those, so the cache goes
    (cfg.processed_dir / "disclosure_masks.json").unlink()
    after = pipeline.unit_data_fingerprints(cfg, cfg.units())
    (cfg.processed_dir / "disclosure_masks.json").unlink()  # it holds the stand-in's masks
    assert {u for u in cfg.units() if before[u] != after[u]} == {"autisme"}


# -- funnel -----------------------------------------------------------------------------------


def _funnel_audit(cfg) -> tuple[Audit, list]:
    """Every unit's funnel table, and those who stopped between two steps, as queries."""
    project = results.load_unit(cfg, "all")
    plan = dfunnel.funnel_plan(project["steps"], project["participants"], cfg,
                                maaltal=dmaaltal.maaltal_plan(project["participants"], cfg))
    units = [d.id for d in cfg.delprojekter]
    audit = Audit()
    for u in ["all", *units]:
        t = results.load_unit(cfg, u)
        result = stepslib.StepsResult("ok", "target_group",
                                      stepslib.funnel(t["steps"], t["participants"], cfg))
        f = reader_steps.masked_funnel(result, {"funnel": plan[u]}, cfg, "da")
        table = reader_steps.funnel_table(result, {"funnel": plan[u]}, cfg, "da").frame
        assert not table.iloc[:, 1:].isin([str(i) for i in range(1, 5)]).any().any()
        for r in f.itertuples():
            audit.see((u, r.group, r.step), r.n_reached, r.suppressed)
        groups = [g for g in f["group"].unique() if g != "all"]
        for st in f["step"].unique():
            audit.relation([(u, g, st) for g in groups], (u, "all", st))
    for key in [key for key in audit.index if key[0] == "all"]:
        audit.relation([(d, *key[1:]) for d in units if (d, *key[1:]) in audit.index], key)
    # those who stopped between two steps: 1..4 of them must not follow either
    stops = []
    for u in ["all", *units]:
        for g in plan[u]:
            steps = [s.id for s in cfg.steps.ladder if s.id in plan[u][g]]
            for i, here in enumerate(steps):  # a row minus any later row
                for after in steps[i + 1:]:
                    a, b = (u, g, here), (u, g, after)
                    value = audit.value(a) - audit.value(b)
                    stops.append(((u, g, f"stop:{here}:{after}"), value, {a: 1, b: -1}))
    return audit, stops


@pytest.mark.parametrize("name", ["aumi", "umk"])
def test_no_small_funnel_count_follows_from_all_the_units_funnels(name, request):
    cfg, _ = request.getfixturevalue(name)
    audit, stops = _funnel_audit(cfg)
    assert audit.small_hidden() == [] and audit.recoverable(stops) == []


def test_the_funnel_plan_hides_a_partner_in_another_delprojekt(aumi):
    cfg, _ = aumi
    project = results.load_unit(cfg, "all")
    plan = dfunnel.funnel_plan(project["steps"], project["participants"], cfg)
    # KomMed has steps reached by 1–4 påbegynde; on its own, the unit hid a partner only inside
    # KomMed, and the project's count minus the other delprojekter's gave the small one back
    kommed = results.load_unit(cfg, "kommed")
    own = stepslib.funnel(kommed["steps"], kommed["participants"], cfg)
    small = own[own["n_reached"].between(1, 4)]
    assert len(small)
    for r in small.itertuples():
        assert plan["kommed"][r.group][r.step]
        assert any(plan[d][r.group][r.step] for d in plan if d not in ("kommed", "all")
                   and r.group in plan[d]) or plan["all"][r.group][r.step]


# -- CMO cells ----------------------------------------------------------------------------------


def _cmo_audit(cfg, participants) -> tuple[Audit, list]:
    """Every unit's CMO cells (n and k), and each hidden cell's n, k and n − k as queries."""
    audit, per = Audit(), {}
    plan = dcmo.cmo_plan(participants, cfg)  # the masks the reader applies
    for u in cfg.units():
        for r in realist.evaluate_hypotheses(participants, cfg, unit=u).results:
            hidden = plan[u][r.id]
            cells = {row.cell: {"n": row.n, "k": row.k} for row in r.cells.itertuples()}
            per[(u, r.id)] = cells
            for cell, x in cells.items():
                for q in ("n", "k"):
                    audit.see((u, r.id, cell, q), x[q], hidden[cell])
            for pair in (("in_yes", "in_no"), ("out_yes", "out_no")):
                for q in ("n", "k"):  # a context's totals are in other tables
                    audit.relation([(u, r.id, c, q) for c in pair])
    for (u, h) in [key for key in per if key[0] == "all"]:
        parts = [d for (d, hh) in per if hh == h and d != "all"]
        for cell in per[(u, h)]:
            for q in ("n", "k"):
                if sum(per[(d, h)][cell][q] for d in parts) == per[(u, h)][cell][q]:
                    audit.relation([(d, h, cell, q) for d in parts], (u, h, cell, q))
    queries = []
    for (u, h, cell, q), n in audit.hidden.items():
        if q == "n":  # the cell's size, with the outcome, and without it
            k = audit.hidden[(u, h, cell, "k")]
            n_key, k_key = (u, h, cell, "n"), (u, h, cell, "k")
            queries += [(n_key, n, {n_key: 1}), (k_key, k, {k_key: 1}),
                        ((u, h, cell, "n-k"), n - k, {n_key: 1, k_key: -1})]
    return audit, queries


@pytest.mark.parametrize("name", ["aumi", "umk"])
def test_no_small_cmo_count_follows_from_all_the_units_hypothesis_tables(name, request):
    cfg, participants = request.getfixturevalue(name)
    audit, queries = _cmo_audit(cfg, participants)
    assert audit.recoverable(queries) == []


def test_the_cmo_plan_protects_toender_against_the_project_minus_vejle(umk):
    cfg, participants = umk
    own = {r.id: dcmo.hidden_cells(r.cells, 5, r.n_in_scope - r.n)
           for r in realist.evaluate_hypotheses(participants, cfg, unit="toender").results}
    plan = dcmo.cmo_plan(participants, cfg)
    for h, cells in own.items():  # what Tønder hides alone, it hides under the plan too
        assert all(plan["toender"][h][c] for c, hidden in cells.items() if hidden)
    # and where it hides a cell, Vejle or the project hides it as well (else it is the
    # project's cell minus Vejle's)
    for h, cells in plan["toender"].items():
        for c, hidden in cells.items():
            if hidden:
                assert plan["vejle"][h][c] or plan["all"][h][c], (h, c)


def test_the_survival_table_hides_the_starts_the_funnel_hides(aumi):
    cfg, _ = aumi
    project = results.load_unit(cfg, "all")
    plan = dfunnel.funnel_plan(project["steps"], project["participants"], cfg)
    edu = cfg.steps.education_start_step
    for u in cfg.units():
        t = results.load_unit(cfg, u)
        hidden = {g: steps[edu] for g, steps in plan[u].items()}
        result = stepslib.StepsResult("ok", "target_group", stepslib.funnel(
            t["steps"], t["participants"], cfg), stepslib.time_to_education(
            t["steps"], t["participants"], cfg))
        masks = {"funnel": plan[u]}
        km = reader_steps.masked_time(result, masks, cfg)
        table = reader_steps.time_table(result, masks, cfg, "da")
        text = reader_steps.time_text(result, masks, cfg, "da")
        for g in km.reported_groups:
            if not hidden.get(g.code):
                continue
            if table is not None:
                row = table.frame[table.frame.iloc[:, 0] == g.text_label("da")]
                assert row["Startet"].item() in HIDDEN, (u, g.code)
            assert f"startede {g.events} " not in text, (u, g.code)
            assert f"{g.events} unge startede" not in text, (u, g.code)
            assert g.suppressed
    # Autisme's 7 påbegynde who started gave KomMed's 4 back through the project's 58
    t = results.load_unit(cfg, "autisme")
    result = stepslib.StepsResult("ok", "target_group", stepslib.funnel(
        t["steps"], t["participants"], cfg), stepslib.time_to_education(
        t["steps"], t["participants"], cfg))
    text = reader_steps.time_text(result, {"funnel": plan["autisme"]}, cfg, "da")
    assert "startede 7 " not in text and "7 unge startede" not in text


# -- survey -------------------------------------------------------------------------------------


def test_no_small_survey_count_follows_from_all_the_units_survey_texts(aumi):
    from ungeanalyse import survey

    cfg, participants = aumi
    project = results.load_unit(cfg, "all")
    plan = dsurvey.survey_plan(project["survey_responses"], project["participants"], cfg)
    audit, gaps = Audit(), []
    for u in cfg.units():
        t = results.load_unit(cfg, u)
        scores = survey.score_scales(t["survey_responses"], cfg)
        unit_result = survey.analyse(t, cfg, project)
        rel = reader_survey.reliability_table(unit_result, {"survey": plan[u]}, cfg, "da").frame
        assert not rel["n"].isin(["1", "2", "3", "4"]).any()
        people = t["participants"]
        groups = people["target_group"].astype(str)
        for scale in cfg.survey.scales:
            s = scale.id
            att = survey.attrition(scores, people, cfg, scale_id=s)
            change = survey.paired_change(scores, cfg, s)
            change_text = reader_survey.change_text(change, plan[u], cfg, "da")
            text = reader_survey.attrition_text(att, plan[u], cfg, "da") + " " + change_text
            # one definition: the paired change's n is the attrition text's pairs
            assert change.n == att.n_followed
            shown_rel = rel.loc[rel["Skala"].eq(scale.label), "n"]
            assert (shown_rel[shown_rel != "–"] == str(change.n)).all()
            for key, n in (("paired", att.n_followed), ("dropped", att.n_dropped)):
                hidden = bool(plan[u][f"{key}:{s}"]) or 0 < n < K
                audit.see((u, key, s), n, hidden)
                if hidden:
                    assert f" {n} " not in text.replace("(", " ").replace(")", " "), (u, key)
            if plan[u][f"paired:{s}"] or change.n < K:
                assert "d_z" not in change_text and "d_av" not in change_text
            # those in the unit without a valid score at the start: participants minus the total
            audit.relation([(u, "paired", s), (u, "dropped", s), (u, "never", s)])
            never = len(people) - att.n_followed - att.n_dropped
            gaps.append(((u, "never", s), never, {(u, "never", s): 1}))
            tg_shown = "Andelen fra målgruppen" in text or "χ²" in text
            for st, key in (("followed", "paired"), ("dropped", "dropped")):
                cells = att.target_groups.get(st, {})
                for g, v in cells.items():
                    audit.see((u, "tg", s, st, g), v, not tg_shown)
                audit.relation([(u, "tg", s, st, g) for g in cells], (u, key, s))
            for g in sorted(set(groups)):  # a target group's size is in the måltal tables
                parts = [(u, "tg", s, st, g) for st in ("followed", "dropped")
                         if g in att.target_groups.get(st, {})]
                audit.relation([*parts, (u, "tg_never", s, g)])
                never_g = int(groups.eq(g).sum()) - sum(
                    att.target_groups.get(st, {}).get(g, 0) for st in ("followed", "dropped"))
                gaps.append(((u, "tg_never", s, g), never_g, {(u, "tg_never", s, g): 1}))
    for key in [key for key in audit.index if key[0] == "all"]:
        audit.relation([(d, *key[1:]) for d in cfg.delprojekt_ids], key)
    assert audit.small_hidden() == [] and audit.recoverable(gaps) == []


def test_the_funnel_hides_the_starts_the_maaltal_tables_hide(aumi):
    cfg, participants = aumi
    project = results.load_unit(cfg, "all")
    maaltal = dmaaltal.maaltal_plan(project["participants"], cfg)
    plan = dfunnel.funnel_plan(project["steps"], project["participants"], cfg, maaltal=maaltal)
    edu = cfg.steps.education_start_step
    # Motivation på FGU: 22 met the goal (shown), 18 of them started an education (the status
    # the måltal table hides to protect the 4 who completed); the funnel's 18 would give the 4
    fgu = participants[participants["delprojekt"].eq("fgu_motivation")]
    started = int(fgu["outcome"].astype(str).eq("started_youth_education").sum())
    assert maaltal["fgu_motivation"]["outcome"]["started_youth_education"]
    t = results.load_unit(cfg, "fgu_motivation")
    f = stepslib.funnel(t["steps"], t["participants"], cfg)
    assert f.loc[f["group"].eq("all") & f["step"].eq(edu), "n_reached"].item() == started
    assert plan["fgu_motivation"]["all"][edu]
    # without the måltal's plan the funnel would show it
    alone = dfunnel.funnel_plan(project["steps"], project["participants"], cfg)
    assert not alone["fgu_motivation"]["all"][edu]


def test_the_masks_are_cached_for_a_no_change_rerun(aumi, monkeypatch):
    cfg, _ = aumi
    first = pipeline.unit_data_fingerprints(cfg, cfg.units())

    def never(*args, **kwargs):
        raise AssertionError("the plans were computed again on unchanged data")

    monkeypatch.setattr(dmaaltal, "maaltal_plan", never)
    assert pipeline.unit_data_fingerprints(cfg, cfg.units()) == first


def test_survey_counts_that_give_a_small_gap_inside_a_unit_are_hidden(aumi):
    from ungeanalyse import survey

    cfg, _ = aumi
    project = results.load_unit(cfg, "all")
    plan = dsurvey.survey_plan(project["survey_responses"], project["participants"], cfg)
    for u in [d.id for d in cfg.delprojekter]:
        t = results.load_unit(cfg, u)
        scores = survey.score_scales(t["survey_responses"], cfg)
        for scale in cfg.survey.scales:
            att = survey.attrition(scores, t["participants"], cfg, scale_id=scale.id)
            never = len(t["participants"]) - att.n_followed - att.n_dropped
            if 0 < never < K:  # participants minus "Af de N unge" would count them
                assert plan[u][f"dropped:{scale.id}"] and \
                    f"Af de {att.n_followed + att.n_dropped}" not in \
                    reader_survey.attrition_text(att, plan[u], cfg, "da"), u
