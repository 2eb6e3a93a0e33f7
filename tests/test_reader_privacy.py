"""Reader texts say no more than the reader tables: on the AUMI demo's delprojekter, a count the
måltal table hides is not given back by the intro, the evaluation text or the pixi."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ungeanalyse import clean, demo, outcomes, pipeline, report
from ungeanalyse.config import load_config
from ungeanalyse.results import ResultStore

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def aumi(tmp_path_factory):
    """The AUMI demo, cleaned, in a copy of the repo's config (the repo's data are untouched)."""
    tmp = tmp_path_factory.mktemp("aumi_reader")
    shutil.copytree(ROOT / "config", tmp / "config")
    cfg = load_config(tmp / "config" / "aumi.yml")
    demo.make_demo(cfg)
    return cfg, clean.clean_project(cfg).participants


def test_intro_leaves_out_a_goal_count_the_table_hides(aumi):
    cfg, participants = aumi
    # KomMed: 32 of 36 met the goal and 4 did not; the table hides both groups
    m = outcomes.maaltal(participants, cfg, unit="kommed")
    groups = report.maaltal_reader_table(m, cfg, "groups")[0]
    assert "–" in groups.iloc[:, 1].tolist()
    assert report.goal_met_hidden(m.outcomes, m.goal_met, m.n_closed, 5, m.masks)
    intro = report.maaltal_intro(m, cfg)
    assert "36 unge har deltaget" in intro and "32" not in intro and "vises ikke" in intro
    # Høretab's 26 of 31 would give KomMed's 4 back through the project's total (with the
    # other delprojekter's figures): hidden; FGU's goal count protects nothing and is shown
    m = outcomes.maaltal(participants, cfg, unit="hoeretab")
    assert "26" not in report.maaltal_intro(m, cfg)
    m = outcomes.maaltal(participants, cfg, unit="fgu_motivation")
    assert "22 (55 %) har indfriet målet" in report.maaltal_intro(m, cfg)


def test_evaluation_text_and_pixi_hide_what_the_tables_hide(aumi, tmp_path):
    cfg, participants = aumi
    for unit in cfg.units():
        m = outcomes.maaltal(participants, cfg, unit=unit)
        store = ResultStore.for_unit(cfg, unit, tmp_path / unit)
        store.save("maaltal", m.to_dict())
        ctx = report.evaluation_context(cfg, unit, store)
        table = report.maaltal_reader_table(m, cfg, "target_group")[0]
        rates = dict(zip(table["Målgruppe"], table["Succesrate"], strict=True))
        for tg in ctx["target_groups"]:
            if rates[tg["label"]] == "–":  # hidden in the table: hidden in the text too
                assert tg["rate"] == "–" and " af " not in tg["text"], (unit, tg)
            else:
                assert tg["rate"] == rates[tg["label"]], (unit, tg)
        groups = report.maaltal_reader_table(m, cfg, "groups")[0]
        goal_cell = groups.loc[groups["Gruppe"].eq("Mål indfriet"), "Antal"].item()
        if report.goal_met_hidden(m.outcomes, m.goal_met, m.n_closed, 5, m.masks):
            assert ctx["success"] is None
        if goal_cell in ("–", "<5"):  # the count as the grouped table shows it
            assert str(m.goal_met) not in ctx["goal_met_text"]
            pixi = report.render_text(cfg, unit, store, variant="pixi")
            assert f"{m.goal_met} unge" not in pixi, unit
        else:
            assert goal_cell == str(m.goal_met) and goal_cell in ctx["goal_met_text"]


def test_hidden_target_group_rates_follow_secondary_suppression():
    df = pd.DataFrame({"category_label": ["Påbegynde", "Fastholde"],
                       "n_participants": [20, 9], "n_closed": [20, 9],
                       "goal_met": [10, 6], "rate": [0.5, 6 / 9],
                       "ci_low": [0.3, 0.35], "ci_high": [0.7, 0.88]})
    # Fastholde: 3 did not meet the goal, so its rate is hidden; Påbegynde's is hidden too,
    # or Fastholde's 6 would follow from the unit's goal-met total
    _, hide_rate = report._breakdown_masks(df, 5)
    assert hide_rate.tolist() == [True, True]


def test_steps_do_not_give_a_small_group_size_back(aumi):
    from ungeanalyse import steps as stepslib
    from ungeanalyse.outcomes import select_unit

    cfg, participants = aumi
    tables = clean.clean_project(cfg, write=False)
    # Motivation på FGU: 36 påbegynde and 4 fastholde, 40 in all
    unit = select_unit(participants, cfg, "fgu_motivation")
    logged = tables.steps[tables.steps["person_id"].isin(unit["person_id"])]
    funnel = report.funnel_reader_table(stepslib.funnel(logged, unit, cfg), cfg)[0]
    headers = list(funnel.columns[1:])
    assert headers == ["Påbegynde (n = –)", "Alle unge (n = 40)"]
    assert not funnel[headers[0]].str.contains("%").any()  # no share gives 36 back either
    from ungeanalyse import plot

    fig = plot.funnel_plot(stepslib.funnel(logged, unit, cfg))
    drawn = [bars.get_label() for bars in fig.axes[0].containers]
    assert drawn == ["Alle unge"]  # nor do the figure's bars
    km = stepslib.time_to_education(logged, unit, cfg)
    assert km.sizes_hidden
    text = km.summary("da")
    assert "36" not in text and "Målgruppe »Påbegynde«: Halvdelen af de unge" in text
    assert km.table()["Unge"].tolist() == ["–", "<5"]


def test_a_few_still_active_hide_the_rates_that_would_count_them(aumi, tmp_path):
    cfg, participants = aumi
    p = participants.copy()
    # three of Verdensmester i høretab's young people are still active
    idx = p.index[p["delprojekt"].eq("hoeretab")][:3]
    p["outcome"] = p["outcome"].astype("string")
    p.loc[idx, "outcome"] = "active"
    if "outcome_group" in p:
        p["outcome_group"] = p["outcome_group"].astype("string")
        p.loc[idx, "outcome_group"] = "active"
    p["goal_met"] = p["goal_met"].astype("boolean")
    p.loc[idx, "goal_met"] = pd.NA
    m = outcomes.maaltal(p, cfg, unit="hoeretab")
    assert m.n_participants - m.n_closed == 3
    # the success rate's denominator would say 31 − 28 = 3: rate and goal count are left out
    assert report.goal_met_hidden(m.outcomes, m.goal_met, m.n_closed, 5, m.masks)
    assert "vises ikke" in report.maaltal_intro(m, cfg)
    store = ResultStore.for_unit(cfg, "hoeretab", tmp_path)
    store.save("maaltal", m.to_dict())
    ctx = report.evaluation_context(cfg, "hoeretab", store)
    assert ctx["success"] is None
    for name in ("target_group", "gender", "age_band"):
        table = report.maaltal_reader_table(m, cfg, name)[0]
        df = m.breakdowns[name]
        df = df[df["n_participants"] > 0].reset_index(drop=True)
        small_active = (df["n_participants"] - df["n_closed"]).between(1, 4)
        assert (table.loc[small_active.to_numpy(), "Succesrate"] == "–").all(), name
    # the note gives neither the number still active nor the number of closed cases
    notes = " ".join(m.notes)
    assert "stadig er i forløb" in notes and "blandt de afsluttede" in notes
    assert "28" not in notes and "(3)" not in notes


# -- one plan for all units: a delprojekt's hidden count does not follow from the project's ----


def _demo(tmp_path_factory, name: str):
    tmp = tmp_path_factory.mktemp(name)
    shutil.copytree(ROOT / "config", tmp / "config")
    cfg = load_config(tmp / "config" / f"{name}.yml")
    demo.make_demo(cfg)
    return cfg, clean.clean_project(cfg).participants


@pytest.fixture(scope="module")
def umk(tmp_path_factory):
    """Unge med kant: two delprojekter, so the project's total minus one gives the other."""
    return _demo(tmp_path_factory, "unge_med_kant")


def _recoverable(cfg, participants) -> list[tuple]:
    """Small counts a reader could work out from every unit's måltal tables together.

    Independent of the suppression engine: every published count of every unit (as the reader
    tables show them) pins a variable; the relations inside a unit (codes add up to groups,
    groups to the total, breakdown categories to the unit's figures) and across units (the
    project is the sum of its delprojekter) are equations; a hidden count 1..4 is recoverable
    when its unit vector lies in the row space.
    """
    k = cfg.privacy.min_cell
    units = [d.id for d in cfg.delprojekter]
    index: dict[tuple, int] = {}
    eqs, pub, hidden = [], set(), {}

    def v(*key):
        return index.setdefault(key, len(index))

    def eq(pos, neg):
        eqs.append(([v(*a) for a in pos], [v(*a) for a in neg]))

    for u in ["all", *units]:
        m = outcomes.maaltal(participants, cfg, u)
        out_table = report.maaltal_reader_table(m, cfg, "outcomes")[0]
        shown = dict(zip(out_table["Status"], out_table["Antal"], strict=True))
        for row in m.outcomes.itertuples():
            key = (u, "code", row.code)
            v(*key)
            if shown.get(row.label, "0") in ("–", f"<{k}"):
                hidden[key] = row.n
            else:
                pub.add(key)
        group_table = report.maaltal_reader_table(m, cfg, "groups")[0]
        for row, cell in zip(m.groups.itertuples(), group_table["Antal"], strict=True):
            key = (u, "group", row.group)
            v(*key)
            (hidden.__setitem__(key, row.n) if cell in ("–", f"<{k}") else pub.add(key))
        for g, part in m.outcomes.groupby("group"):
            eq([(u, "code", c) for c in part["code"]], [(u, "group", g)])
        eq([(u, "group", g) for g in m.groups["group"]], [(u, "N")])
        pub.add((u, "N"))
        eq([(u, "group", g) for g in m.groups["group"] if g != "active"], [(u, "closed")])
        rate_hidden = report.goal_met_hidden(m.outcomes, m.goal_met, m.n_closed, k, m.masks)
        (hidden.__setitem__((u, "closed"), m.n_closed) if rate_hidden else pub.add((u, "closed")))
        v(u, "closed")
        for dim, df in m.breakdowns.items():
            df = df[df["n_participants"] > 0]
            table = report.maaltal_reader_table(m, cfg, dim)[0]
            for row, n_cell, rate_cell in zip(df.itertuples(), table.iloc[:, 1],
                                              table.iloc[:, 3], strict=True):
                for q, val, h in (("n", row.n_participants, n_cell in ("–", f"<{k}")),
                                  ("goal", row.goal_met, rate_cell == "–"),
                                  ("closed", row.n_closed, rate_cell == "–")):
                    key = (u, dim, row.category, q)
                    v(*key)
                    (hidden.__setitem__(key, val) if h else pub.add(key))
            for q, total in (("n", (u, "N")), ("goal", (u, "group", "goal_met")),
                             ("closed", (u, "closed"))):
                eq([(u, dim, c, q) for c in df["category"]], [total])
            if dim == "delprojekt":
                for c in df["category"]:
                    eq([(u, dim, c, "n")], [(c, "N")])
                    eq([(u, dim, c, "goal")], [(c, "group", "goal_met")])
                    eq([(u, dim, c, "closed")], [(c, "closed")])
    for key in [key for key in index if key[0] == "all" and key[1] != "delprojekt"]:
        eq([(u, *key[1:]) for u in units if (u, *key[1:]) in index], [key])
    rows = []
    for pos, neg in eqs:
        r = np.zeros(len(index))
        r[pos] += 1
        r[neg] -= 1
        rows.append(r)
    for key in pub:
        r = np.zeros(len(index))
        r[index[key]] = 1
        rows.append(r)
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = []
    for key, val in hidden.items():
        if 0 < val < k:
            e = np.zeros(len(index))
            e[index[key]] = 1
            if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
                out.append((key, val))
    return out


@pytest.mark.parametrize("name", ["aumi", "umk"])
def test_no_small_count_follows_from_all_the_units_maaltal_tables(name, request):
    cfg, participants = request.getfixturevalue(name)
    assert _recoverable(cfg, participants) == []


def test_the_project_total_minus_one_delprojekt_does_not_give_the_other(umk):
    cfg, participants = umk
    plan = outcomes.disclosure_plan(participants, cfg)
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
    plan = outcomes.disclosure_plan(alone, cfg)
    # KomMed alone: 32 met the goal and 4 did not; both groups hidden, the rate too
    assert plan["kommed"]["group"]["not_met"] and plan["kommed"]["group"]["goal_met"]
    assert plan["kommed"]["rate"]


def test_a_unit_reruns_when_another_units_data_change_its_masks(aumi, monkeypatch):
    cfg, _ = aumi
    before = pipeline.unit_data_fingerprints(cfg, cfg.units())
    real = outcomes.disclosure_plan

    def changed(participants, cfg, min_cell=None):
        plan = real(participants, cfg, min_cell)
        plan["autisme"]["rate"] = not plan["autisme"]["rate"]
        return plan

    monkeypatch.setattr(outcomes, "disclosure_plan", changed)
    after = pipeline.unit_data_fingerprints(cfg, cfg.units())
    assert {u for u in cfg.units() if before[u] != after[u]} == {"autisme"}


def _recoverable_funnel(cfg) -> list[tuple]:
    """Small funnel counts a reader could work out from every unit's funnel table together
    (groups add up to everyone at each step; the delprojekter add up to the project)."""
    from ungeanalyse import results
    from ungeanalyse import steps as stepslib

    project = results.load_unit(cfg, "all")
    plan = stepslib.funnel_plan(project["steps"], project["participants"], cfg)
    units = [d.id for d in cfg.delprojekter]
    index: dict[tuple, int] = {}
    eqs, pub, hidden = [], [], {}
    for u in ["all", *units]:
        t = results.load_unit(cfg, u)
        table = report.funnel_reader_table(
            stepslib.funnel(t["steps"], t["participants"], cfg, hidden=plan[u]), cfg)[0]
        f = stepslib.funnel(t["steps"], t["participants"], cfg, hidden=plan[u])
        for r in f.itertuples():
            key = (u, r.group, r.step)
            index.setdefault(key, len(index))
            if r.suppressed:
                hidden[key] = r.n_reached
            else:
                pub.append(key)
        assert not table.iloc[:, 1:].isin([str(i) for i in range(1, 5)]).any().any()
        groups = [g for g in f["group"].unique() if g != "all"]
        for st in f["step"].unique():
            eqs.append(([index[(u, g, st)] for g in groups], index[(u, "all", st)]))
    for key in [key for key in index if key[0] == "all"]:
        eqs.append(([index[(d, *key[1:])] for d in units if (d, *key[1:]) in index],
                    index[key]))
    rows = []
    for parts, total in eqs:
        r = np.zeros(len(index))
        r[parts] += 1
        r[total] -= 1
        rows.append(r)
    for key in pub:
        r = np.zeros(len(index))
        r[index[key]] = 1
        rows.append(r)
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = []
    for key, val in hidden.items():
        e = np.zeros(len(index))
        e[index[key]] = 1
        if 0 < val < 5 and np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append((key, val))
    return out


@pytest.mark.parametrize("name", ["aumi", "umk"])
def test_no_small_funnel_count_follows_from_all_the_units_funnels(name, request):
    cfg, _ = request.getfixturevalue(name)
    assert _recoverable_funnel(cfg) == []


def test_the_funnel_plan_hides_a_partner_in_another_delprojekt(aumi):
    from ungeanalyse import results
    from ungeanalyse import steps as stepslib

    cfg, _ = aumi
    project = results.load_unit(cfg, "all")
    plan = stepslib.funnel_plan(project["steps"], project["participants"], cfg)
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


def _recoverable_cmo(cfg, participants) -> list[tuple]:
    """Small CMO counts (a cell's participants, with or without the outcome) a reader could
    work out from every unit's hypothesis table together: the cells of a pair in or outside
    the context add up to a known total, and the delprojekter's cells to the project's."""
    from ungeanalyse import realist

    k = cfg.privacy.min_cell
    index: dict[tuple, int] = {}
    eqs, pub, hidden, per = [], [], {}, {}
    for u in cfg.units():
        for r in realist.evaluate_hypotheses(participants, cfg, unit=u).results:
            table_hidden = realist.reader_hidden(r)
            cells = {row.cell: {"n": row.n, "k": row.k} for row in r.cells.itertuples()}
            per[(u, r.id)] = cells
            for cell, x in cells.items():
                for q in ("n", "k"):
                    key = (u, r.id, cell, q)
                    index.setdefault(key, len(index))
                    if table_hidden[cell]:
                        hidden[key] = x[q]
                    else:
                        pub.append(key)
            for pair in (("in_yes", "in_no"), ("out_yes", "out_no")):
                for q in ("n", "k"):
                    eqs.append(([index[(u, r.id, c, q)] for c in pair], None))
    for (u, h) in [key for key in per if key[0] == "all"]:
        parts = [d for (d, hh) in per if hh == h and d != "all"]
        for cell in per[(u, h)]:
            for q in ("n", "k"):
                if sum(per[(d, h)][cell][q] for d in parts) == per[(u, h)][cell][q]:
                    eqs.append(([index[(d, h, cell, q)] for d in parts], index[(u, h, cell, q)]))
    rows = []
    for parts, total in eqs:
        r = np.zeros(len(index))
        r[parts] += 1
        if total is not None:
            r[total] -= 1
        rows.append(r)
    for key in pub:
        r = np.zeros(len(index))
        r[index[key]] = 1
        rows.append(r)
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = []
    for (u, h, cell, q), val in hidden.items():
        if q != "n":
            continue
        kk = hidden[(u, h, cell, "k")]
        for what, value, weights in (("n", val, {"n": 1}), ("k", kk, {"k": 1}),
                                     ("n-k", val - kk, {"n": 1, "k": -1})):
            if 0 < value < k:
                e = np.zeros(len(index))
                for qq, w in weights.items():
                    e[index[(u, h, cell, qq)]] = w
                if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
                    out.append(((u, h, cell, what), value))
    return out


@pytest.mark.parametrize("name", ["aumi", "umk"])
def test_no_small_cmo_count_follows_from_all_the_units_hypothesis_tables(name, request):
    cfg, participants = request.getfixturevalue(name)
    assert _recoverable_cmo(cfg, participants) == []


def test_the_cmo_plan_protects_toender_against_the_project_minus_vejle(umk):
    from ungeanalyse import realist

    cfg, participants = umk
    own = {r.id: realist.hidden_cells(r.cells, 5, r.n_in_scope - r.n)
           for r in realist.evaluate_hypotheses(participants, cfg, unit="toender",
                                                project_wide=False).results}
    plan = realist.cmo_plan(participants, cfg)
    for h, cells in own.items():  # what Tønder hides alone, it hides under the plan too
        assert all(plan["toender"][h][c] for c, hidden in cells.items() if hidden)
    # and where it hides a cell, Vejle or the project hides it as well (else it is the
    # project's cell minus Vejle's)
    for h, cells in plan["toender"].items():
        for c, hidden in cells.items():
            if hidden:
                assert plan["vejle"][h][c] or plan["all"][h][c], (h, c)
    assert _recoverable_cmo(cfg, participants) == []
