"""Skridt på vejen: furthest step, funnel and Kaplan–Meier time to education, by hand and on AUMI.

The hand-made fixture: five young people starting 1 January 2020 (AUMI ladder, education step
'startet' = rank 6, project end 31 December 2022):

=====  ==========  ==============================================  =========  ============
who    group       steps (days after start)                        furthest   KM time
=====  ==========  ==============================================  =========  ============
A      paabegynde  kontakt 10, besoeg 20, startet 30               6          30, event
B      paabegynde  kontakt 5, ansoegt 50; ended day 60              5          60, censored
C      paabegynde  kontakt, vejledning, mod, ansoegt, startet 90   6          90, event
D      fastholde   none; still active                              0          1095, censored
E      fastholde   kontakt; startet dated 12 days *before* start   6          0, event
=====  ==========  ==============================================  =========  ============

Kaplan–Meier for all five: S(0) = 4/5 = 0.8, S(30) = 0.8 · 3/4 = 0.6, (60 censored),
S(90) = 0.6 · 1/2 = 0.3; median 90 days. Påbegynde: S(30) = 2/3, S(90) = 0; fastholde:
S(0) = 1/2 (median not reached: statsmodels asks for S(t) < 1/2 strictly).
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ungeanalyse import clean, demo, plot
from ungeanalyse.config import load_config
from ungeanalyse.errors import UserError
from ungeanalyse.steps import event_table as km_input
from ungeanalyse.steps import funnel, furthest_step, time_to_education

ROOT = Path(__file__).resolve().parents[1]
START = pd.Timestamp("2020-01-01")
IDS = {w: f"{i:016x}" for i, w in enumerate("ABCDEF", start=10)}


def day(n: int) -> pd.Timestamp:
    return START + pd.Timedelta(days=n)


def tiny_participants() -> pd.DataFrame:
    rows = [("A", "paabegynde", None), ("B", "paabegynde", day(60)), ("C", "paabegynde", None),
            ("D", "fastholde", None), ("E", "fastholde", None)]
    return pd.DataFrame({
        "person_id": [IDS[w] for w, _, _ in rows],
        "delprojekt": "kommed",
        "target_group": [g for _, g, _ in rows],
        "start_date": START,
        "end_date": pd.to_datetime([e for _, _, e in rows]),
    })


def tiny_steps() -> pd.DataFrame:
    log = [("A", "kontakt", 10), ("A", "besoeg", 20), ("A", "startet", 30),
           ("B", "kontakt", 5), ("B", "ansoegt", 50),
           ("C", "kontakt", 15), ("C", "vejledning", 25), ("C", "mod", 40), ("C", "ansoegt", 60),
           ("C", "startet", 90),
           ("E", "kontakt", 1), ("E", "startet", -12)]
    rank = {"kontakt": 1, "besoeg": 2, "vejledning": 3, "mod": 4, "ansoegt": 5, "startet": 6}
    df = pd.DataFrame({"person_id": [IDS[w] for w, _, _ in log], "step": [s for _, s, _ in log],
                       "step_rank": [rank[s] for _, s, _ in log],
                       "date": [day(d) for _, _, d in log]})
    df["source_file"] = "skridt.csv"
    df["source_row"] = np.arange(2, len(df) + 2)
    return df


@pytest.fixture()
def cfg(aumi_cfg):
    return aumi_cfg.model_copy(deep=True)


# -- furthest step and funnel -----------------------------------------------------------------


def test_furthest_step_by_hand(cfg):
    top = furthest_step(tiny_steps(), tiny_participants(), cfg).set_index("person_id")
    ranks = {w: int(top.loc[IDS[w], "furthest_rank"]) for w in "ABCDE"}
    assert ranks == {"A": 6, "B": 5, "C": 6, "D": 0, "E": 6}
    assert top.loc[IDS["B"], "furthest_step"] == "ansoegt"
    assert top.loc[IDS["B"], "furthest_label"] == "Søgt optagelse"
    assert pd.isna(top.loc[IDS["D"], "furthest_step"])
    en = furthest_step(tiny_steps(), tiny_participants(), cfg, lang="en").set_index("person_id")
    assert en.loc[IDS["B"], "furthest_label"] == "Applied"


def test_steps_of_other_units_are_left_out_and_unknown_steps_refused(cfg):
    steps = tiny_steps()
    other = steps.iloc[[0]].assign(person_id=IDS["F"], step="startet", step_rank=6)
    top = furthest_step(pd.concat([steps, other]), tiny_participants(), cfg)
    assert IDS["F"] not in set(top["person_id"]) and len(top) == 5
    with pytest.raises(UserError, match="unknown step id.*hoejskole"):
        furthest_step(steps.assign(step="hoejskole"), tiny_participants(), cfg)


def test_funnel_counts_by_hand(cfg):
    f = funnel(tiny_steps(), tiny_participants(), cfg, by="target_group")
    assert f["group"].unique().tolist() == ["paabegynde", "fastholde", "all"]
    assert f.attrs["group_label"] == "Målgruppe" and f.attrs["step_label"] == "Skridt"
    assert f.groupby("group", sort=False)["rank"].apply(list).tolist() == [[1, 2, 3, 4, 5, 6]] * 3
    n = f.pivot(index="rank", columns="group", values="n_reached")
    assert n["paabegynde"].tolist() == [3, 3, 3, 3, 3, 2]  # B skipped rungs 2–4: still passed them
    assert n["fastholde"].tolist() == [1, 1, 1, 1, 1, 1]
    assert n["all"].tolist() == [4, 4, 4, 4, 4, 3]
    groups = f.drop_duplicates("group").set_index("group")["n_group"].to_dict()
    assert groups == {"paabegynde": 3, "fastholde": 2, "all": 5}
    last = f[(f["group"] == "all") & (f["step"] == "startet")].iloc[0]
    assert last["share"] == pytest.approx(3 / 5)
    assert last["Skridt"] == "Påbegyndt ungdomsuddannelse" and last["Målgruppe"] == "Alle unge"
    assert f["suppressed"].tolist() == [True] * len(f)  # every count is 1–4


def test_funnel_suppression_flag_and_english(cfg):
    cfg.privacy.min_cell = 2
    f = funnel(tiny_steps(), tiny_participants(), cfg, lang="en")
    assert {"Target group", "Step"} <= set(f.columns)
    # fastholde's 1 is under the limit; påbegynde's 3 would give it away as 4 − 3, so it goes too
    assert f.loc[f["group"] == "fastholde", "suppressed"].all()
    assert f.loc[f["group"] == "paabegynde", "suppressed"].all()
    assert not f.loc[f["group"] == "all", "suppressed"].any()
    cfg.privacy.min_cell = 1
    assert not funnel(tiny_steps(), tiny_participants(), cfg)["suppressed"].any()


def test_funnel_one_group_needs_no_partner(cfg):
    cfg.privacy.min_cell = 3
    f = funnel(tiny_steps(), tiny_participants().assign(target_group="paabegynde"), cfg)
    assert f["group"].unique().tolist() == ["paabegynde", "all"]
    assert f["suppressed"].tolist() == [False] * 12  # counts 4 and 3, none under 3


def test_funnel_works_with_the_reader_table(cfg):
    from ungeanalyse.report import funnel_reader_table

    table, caption, _, note = funnel_reader_table(funnel(tiny_steps(), tiny_participants(), cfg),
                                                  cfg, "da")
    assert table.columns.tolist() == ["Skridt", "Alle unge (n = 5)"]  # groups under 5 left out
    assert not {"group", "step", "rank", "n_group", "suppressed"} & set(table.columns)
    assert set(table["Alle unge (n = 5)"]) == {"<5"} and caption == "Skridt på vejen"
    assert "<5" in note


def test_funnel_without_grouping(cfg):
    f = funnel(tiny_steps(), tiny_participants(), cfg, by=None)
    assert f["group"].unique().tolist() == ["all"]
    assert f["n_reached"].tolist() == [4, 4, 4, 4, 4, 3]


# -- time to education ------------------------------------------------------------------------


def test_km_input_censors_at_end_date_or_project_end(cfg):
    data = km_input(tiny_steps(), tiny_participants(), cfg).set_index("person_id")
    times = {w: data.loc[IDS[w], "time"] for w in "ABCDE"}
    events = {w: int(data.loc[IDS[w], "event"]) for w in "ABCDE"}
    project_end = (pd.Timestamp("2022-12-31") - START).days
    assert project_end == 1095
    assert times == {"A": 30, "B": 60, "C": 90, "D": project_end, "E": 0}
    assert events == {"A": 1, "B": 0, "C": 1, "D": 0, "E": 1}


def test_km_survival_curve_by_hand(cfg):
    km = time_to_education(tiny_steps(), tiny_participants(), cfg, by=None)
    curve = km.curve("all")
    assert curve["time"].tolist() == [0, 0, 30, 90, 1095]  # starts at (0, 1), runs to last time
    assert curve["surv"].tolist() == pytest.approx([1.0, 0.8, 0.6, 0.3, 0.3])
    assert curve["n_risk"].tolist() == [5, 5, 4, 2, 1]
    g = km.group("all")
    assert (g.n, g.events, g.median) == (5, 3, 90)
    # Greenwood variance and the log-log interval at t = 30, by hand
    s, var = 0.6, 0.6**2 * (1 / (5 * 4) + 1 / (4 * 3))
    se_ll = math.sqrt(var) / (s * abs(math.log(s)))
    row = curve.iloc[2]
    assert row["ci_low"] == pytest.approx(s ** math.exp(1.959964 * se_ll), rel=1e-4)
    assert row["ci_high"] == pytest.approx(s ** math.exp(-1.959964 * se_ll), rel=1e-4)
    assert (curve["ci_low"] <= curve["surv"] + 1e-12).all()
    assert (curve["surv"] <= curve["ci_high"] + 1e-12).all()


def test_km_per_group_and_logrank(cfg):
    km = time_to_education(tiny_steps(), tiny_participants(), cfg)
    assert [g.code for g in km.groups] == ["paabegynde", "fastholde", "all"]
    assert km.curve("paabegynde")["surv"].tolist() == pytest.approx([1, 2 / 3, 0])
    assert km.curve("fastholde")["surv"].tolist() == pytest.approx([1, 0.5, 0.5])
    assert km.group("paabegynde").median == 90
    # statsmodels (like SAS) takes the first time S(t) < 1/2, strictly: S stays at exactly 1/2
    assert km.group("fastholde").median is None
    # under the limit of 5: both groups are small, and everyone's 3 starts would be counted
    # off the curve's steps, so no group is shown and there is no test between them
    assert all(g.suppressed for g in km.groups) and km.logrank_p is None
    assert km.shown_groups == []
    from statsmodels.duration.survfunc import survdiff

    cfg.privacy.min_cell = 1
    km = time_to_education(tiny_steps(), tiny_participants(), cfg)
    chi2, p = survdiff(np.array([30, 60, 90, 1095, 0.0]), np.array([1, 0, 1, 0, 1.0]),
                       np.array([0, 0, 0, 1, 1]))
    assert km.logrank_p == pytest.approx(p) and km.logrank_chi2 == pytest.approx(chi2)
    assert km.logrank_df == 1


def test_missing_dates_are_left_out_with_a_note(cfg):
    steps = tiny_steps()
    steps.loc[steps["person_id"].eq(IDS["C"]) & steps["step"].eq("startet"), "date"] = pd.NaT
    km = time_to_education(steps, tiny_participants(), cfg, by=None)
    assert km.n_missing_date == 1 and km.group("all").n == 4
    assert km.curve("all")["surv"].tolist() == pytest.approx([1, 0.75, 0.5, 0.5])
    assert "mangler datoen" in km.summary("da") and "færre end 5" in km.summary("da")
    # a second, dated row of the same step wins over the undated one
    extra = steps.iloc[[0]].assign(person_id=IDS["C"], step="startet", step_rank=6, date=day(95))
    km = time_to_education(pd.concat([steps, extra]), tiny_participants(), cfg, by=None)
    assert km.n_missing_date == 0 and 95 in km.curve("all")["time"].tolist()


def test_summary_text_hides_small_counts_and_says_when_median_not_reached(cfg):
    km = time_to_education(tiny_steps(), tiny_participants(), cfg, by=None)
    da = km.summary("da")
    # 3 of 5 started: a count under 5, so neither the time nor the number is shown
    assert da.startswith("5 unge – for få til at vise tiden til uddannelse")
    assert "31. december 2022" in da and not re.search(r"\b[1-4] (unge|startede)", da)
    cfg.privacy.min_cell = 2
    km = time_to_education(tiny_steps(), tiny_participants(), cfg, by=None)
    da = km.summary("da")
    assert "Halvdelen af de 5 unge var startet på en uddannelse efter 90 dage" in da
    assert "3 startede i alt" in da
    assert "Half of the 5 young people" in km.summary("en")
    cfg.privacy.min_cell = 5
    # both groups under the limit: no group is reported, and no test between tiny groups
    grouped = time_to_education(tiny_steps(), tiny_participants(), cfg).summary("da")
    assert grouped.startswith("5 unge – for få")
    assert "Grupperne (målgruppe) er for små" in grouped and "Log-rank" not in grouped
    # 1 of påbegynde's 3 did not start: too few to show at a limit of 3 as well
    cfg.privacy.min_cell = 3
    text = time_to_education(tiny_steps(), tiny_participants(), cfg).summary("da")
    assert "Grupperne (målgruppe) er for små" in text and "Halvdelen" not in text
    # no limit: every group is reported, and the test between them
    cfg.privacy.min_cell = 1
    km = time_to_education(tiny_steps(), tiny_participants(), cfg)
    text = km.summary("da")
    assert "Målgruppe »Påbegynde«: Halvdelen af de 3 unge" in text
    assert km.table()["Målgruppe"].tolist() == ["Påbegynde", "Fastholde"]
    assert "Log-rank-testen viser ingen statistisk sikker forskel" in text
    # Only D and B are followed up beyond: make A and C censored, median is not reached
    steps = tiny_steps()
    steps = steps[~(steps["step"].eq("startet") & steps["person_id"].isin([IDS["A"], IDS["C"]]))]
    cfg.privacy.min_cell = 1
    text = time_to_education(steps, tiny_participants(), cfg, by=None).summary("da")
    assert "mediantiden er ikke nået" in text and "(1 startede)" in text


def test_to_dict_is_json_without_person_ids(cfg):
    cfg.privacy.min_cell = 1
    km = time_to_education(tiny_steps(), tiny_participants(), cfg)
    text = json.dumps(km.to_dict())
    assert not any(pid in text for pid in IDS.values())
    d = json.loads(text)
    assert d["step"] == "startet" and d["logrank"]["df"] == 1
    assert set(d["curves"]) == {"all", "paabegynde", "fastholde"}
    cfg.privacy.min_cell = 5
    assert json.loads(json.dumps(time_to_education(
        tiny_steps(), tiny_participants(), cfg).to_dict()))["curves"] == {}  # none when hidden
    assert d["groups"][-1]["median_days"] == 90


def test_empty_inputs(cfg):
    parts, steps = tiny_participants(), tiny_steps()
    assert furthest_step(steps.iloc[0:0], parts, cfg)["furthest_rank"].eq(0).all()
    f = funnel(pd.DataFrame(), parts, cfg)
    assert f["n_reached"].eq(0).all() and not f["suppressed"].any()
    f = funnel(steps, parts.iloc[0:0], cfg)
    assert f["group"].unique().tolist() == ["all"] and f["share"].isna().all()
    km = time_to_education(steps.iloc[0:0], parts, cfg)
    assert all(g.events == 0 for g in km.groups) and km.logrank_p is None
    assert "Ingen af de 5 unge" in km.summary("da")
    km = time_to_education(steps, parts.iloc[0:0], cfg)
    assert km.groups == [] or all(g.n == 0 for g in km.groups)
    assert "ingen unge" in km.summary("da")
    json.dumps(km.to_dict())
    for fig in (plot.funnel_plot(funnel(steps, parts.iloc[0:0], cfg)), plot.km_plot(km)):
        assert fig.axes


def test_no_education_step_in_config(cfg):
    cfg.steps.education_start_step = None
    km = time_to_education(tiny_steps(), tiny_participants(), cfg)
    assert km.groups == [] and "education_start_step" in km.summary("da")
    assert plot.km_plot(km).axes


def test_plots_draw_groups_and_leave_out_suppressed_points(cfg):
    cfg.privacy.min_cell = 2
    f = funnel(tiny_steps(), tiny_participants(), cfg)
    fig = plot.funnel_plot(f)
    ax = fig.axes[0]
    shown = sum(len(c.patches) for c in ax.containers)
    assert shown == len(f) - int(f["suppressed"].sum())
    assert "for få til at vise" in [t.get_text() for t in ax.texts]
    assert ax.get_xticklabels()[-1].get_text() == "100 %"
    cfg.privacy.min_cell = 1
    km = time_to_education(tiny_steps(), tiny_participants(), cfg)
    fig = plot.km_plot(km, lang="en")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Share not yet started"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Start an education (n = 3)", "Stay in education (n = 2)"]


# -- the AUMI demo ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aumi_tables(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("aumi_steps")
    shutil.copytree(ROOT / "config", tmp / "config")
    cfg = load_config(tmp / "config" / "aumi.yml")
    demo.make_demo(cfg)
    result = clean.clean_project(cfg)
    return cfg, result.steps, result.participants


def test_aumi_demo_funnel_is_non_increasing(aumi_tables):
    cfg, steps, participants = aumi_tables
    f = funnel(steps, participants, cfg)
    for _, g in f.groupby("group"):
        assert g["rank"].is_monotonic_increasing
        assert g["n_reached"].is_monotonic_decreasing
        assert g["n_group"].nunique() == 1
    overall = f[f["group"] == "all"]
    assert overall["n_group"].iloc[0] == len(participants) == 195
    # the demo's påbegynde who met the goal reached the top of the ladder
    top = f[(f["group"] == "paabegynde") & (f["step"] == cfg.steps.education_start_step)]
    assert int(top["n_reached"].iloc[0]) == 58


def test_aumi_demo_time_to_education(aumi_tables):
    cfg, steps, participants = aumi_tables
    km = time_to_education(steps, participants, cfg)
    g = km.group("paabegynde")
    assert g.n == 120 and g.events == 58
    assert g.median is not None and 0 < g.median < 2000
    assert g.median_ci_low <= g.median <= g.median_ci_high
    for code in ("paabegynde", "all"):
        s = km.curve(code)["surv"]
        assert s.is_monotonic_decreasing and s.between(0, 1).all()
    # fastholde are in education already: nobody logs the start step, so there is no test
    assert km.group("fastholde").events == 0 and km.logrank_p is None
    text = km.summary("da")
    assert "Halvdelen af de 120 unge" in text and "dage (95 %-CI" in text
    assert "Log-rank" not in text
    json.dumps(km.to_dict())
    assert plot.km_plot(km).axes and plot.funnel_plot(funnel(steps, participants, cfg)).axes
