"""Skridt på vejen: furthest step, funnel and the time to start an education (competing risks),
by hand and on AUMI.

The hand-made fixture: five young people starting 1 January 2020 (AUMI ladder, education step
'startet' = rank 6, data extract date 31 October 2021 = day 669):

=====  ==========  ==============================================  =========  ================
who    group       steps (days after start)                        furthest   time, cause
=====  ==========  ==============================================  =========  ================
A      paabegynde  kontakt 10, besoeg 20, startet 30               6          30, started
B      paabegynde  kontakt 5, ansoegt 50; ended day 60              5          60, ended
C      paabegynde  kontakt, vejledning, mod, ansoegt, startet 90   6          90, started
D      fastholde   none; still active                              0          669, followed
E      fastholde   kontakt; startet dated 12 days *before* start   6          0, started
=====  ==========  ==============================================  =========  ================

Fastholde's goal is to stay (``goal: stay``): D and E are left out of the time to start. For
påbegynde (A, B, C) the Aalen–Johansen cumulative incidence of starting is 1/3 at day 30, stays
1/3 when B ends without a start at day 60 (the competing event: 1/3 by then) and is 2/3 at day
90; Kaplan–Meier with B censored would say 1 (everyone still followed started).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ungeanalyse import plot
from ungeanalyse.errors import UserError
from ungeanalyse.steps import aalen_johansen, event_table, funnel, furthest_step, time_to_education

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
    assert set(table["Alle unge (n = 5)"]) == {"–"} and caption == "Skridt på vejen"
    assert "under 5" in note and "<5" not in note


def test_funnel_without_grouping(cfg):
    f = funnel(tiny_steps(), tiny_participants(), cfg, by=None)
    assert f["group"].unique().tolist() == ["all"]
    assert f["n_reached"].tolist() == [4, 4, 4, 4, 4, 3]


# -- time to start an education: competing risks ----------------------------------------------

EXTRACT = (pd.Timestamp("2021-10-31") - START).days  # aumi.yml's project.data_extract_date


def test_aalen_johansen_by_hand():
    # six young people: start at 2, ended at 3, start at 3, followed to 5, start at 6, ended at 8
    aj = aalen_johansen([2, 3, 3, 5, 6, 8], [1, 2, 1, 0, 1, 2])
    assert aj["time"].tolist() == [2, 3, 5, 6, 8]
    assert aj["n_risk"].tolist() == [6, 5, 3, 2, 1]
    # F1 = Σ S(t−) d1/n: 1/6; + 5/6 · 1/5; unchanged at the censoring; + 1/2 · 1/2
    assert aj["cif_1"].tolist() == pytest.approx([1 / 6, 1 / 3, 1 / 3, 7 / 12, 7 / 12])
    assert aj["cif_2"].tolist() == pytest.approx([0, 1 / 6, 1 / 6, 1 / 6, 5 / 12])
    assert (aj["cif_1"] + aj["cif_2"] + aj["surv"]).tolist() == pytest.approx([1.0] * 5)
    # the delta-method variance by hand: at t = 2 the binomial (1/6)(5/6)/6 = 5/216; at t = 3
    # 1/1080 + 5/216 − 1/108 (from t = 2) + 1/45 (from t = 3) = 1/27
    assert aj["se_1"].iloc[0] == pytest.approx(math.sqrt(5 / 216))
    assert aj["se_1"].iloc[1] == pytest.approx(math.sqrt(1 / 27))
    # the log(−log) limits around 1/3 at t = 3
    f, se = 1 / 3, math.sqrt(1 / 27)
    scale = 1.959964 * se / (f * abs(math.log(f)))
    assert aj["low_1"].iloc[1] == pytest.approx(f ** math.exp(scale), rel=1e-5)
    assert aj["high_1"].iloc[1] == pytest.approx(f ** math.exp(-scale), rel=1e-5)
    assert (aj["low_1"] <= aj["cif_1"] + 1e-12).all() and (aj["cif_1"] <= aj["high_1"]).all()
    # at t = 8 the last one at risk ends: statsmodels gives NaN there, we give the limit
    assert np.isfinite(aj[["se_1", "se_2"]].to_numpy()).all()


def test_aalen_johansen_equals_statsmodels_and_one_minus_km():
    from statsmodels.duration.survfunc import CumIncidenceRight, SurvfuncRight

    rng = np.random.default_rng(7)
    for n in (15, 200):
        time = rng.integers(0, 60, n).astype(float)  # many ties, as with days
        cause = rng.choice([0, 1, 2], n, p=[0.3, 0.4, 0.3])
        aj = aalen_johansen(time, cause)
        with np.errstate(divide="ignore", invalid="ignore"):  # its NaN where all leave
            sm = CumIncidenceRight(time, cause)
        assert np.allclose(aj["time"], sm.times)
        for k in (1, 2):
            assert np.allclose(aj[f"cif_{k}"], sm.cinc[k - 1], atol=1e-12)
            finite = np.isfinite(sm.cinc_se[k - 1])
            assert finite.sum() >= len(finite) - 1
            assert np.allclose(aj[f"se_{k}"][finite], sm.cinc_se[k - 1][finite], atol=1e-12)
        # without competing events the cumulative incidence is 1 − Kaplan–Meier, and its
        # variance Greenwood's
        only = np.where(cause == 2, 0, cause)
        aj = aalen_johansen(time, only)
        km = SurvfuncRight(time, (only == 1).astype(float))
        at_events = aj[aj["n_1"] > 0]
        assert np.allclose(at_events["cif_1"], 1 - km.surv_prob, atol=1e-12)
        assert np.allclose(at_events["se_1"], km.surv_prob_se, atol=1e-12)
    with pytest.raises(ValueError, match="causes must be"):
        aalen_johansen([1, 2], [1, 3])


def test_event_table_competing_event_and_extract_date(cfg):
    data = event_table(tiny_steps(), tiny_participants(), cfg).set_index("person_id")
    assert EXTRACT == 669
    times = {w: data.loc[IDS[w], "time"] for w in "ABCDE"}
    causes = {w: int(data.loc[IDS[w], "cause"]) for w in "ABCDE"}
    assert times == {"A": 30, "B": 60, "C": 90, "D": EXTRACT, "E": 0}
    assert causes == {"A": 1, "B": 2, "C": 1, "D": 0, "E": 1}  # B ended without a start
    assert data["goal"].tolist() == ["start"] * 3 + ["stay"] * 2


def test_censoring_at_the_data_extract_date(cfg):
    # the data were drawn on day 70: C's start on day 90 is not known yet, D is still open
    cfg.project.data_extract_date = day(70).date()
    data = event_table(tiny_steps(), tiny_participants(), cfg).set_index("person_id")
    assert {w: (data.loc[IDS[w], "time"], int(data.loc[IDS[w], "cause"])) for w in "ABCD"} == {
        "A": (30, 1), "B": (60, 2), "C": (70, 0), "D": (70, 0)}
    cfg.privacy.min_cell = 1
    tte = time_to_education(tiny_steps(), tiny_participants(), cfg)
    assert tte.censor_date == "2020-03-11" and tte.censor_source == "config"
    assert tte.curve("paabegynde")["time"].tolist() == [0, 30, 60, 70]
    assert "følges til dataudtrækket (11. marts 2020)" in tte.summary("da")
    # no date in the config: the latest date in the data (C's start on day 90), and the text
    # says so
    cfg.project.data_extract_date = None
    tte = time_to_education(tiny_steps(), tiny_participants(), cfg)
    assert tte.censor_date == "2020-03-31" and tte.censor_source == "data"
    assert ("følges til den seneste dato i data, da konfigurationen ikke angiver datoen for "
            "dataudtrækket (project.data_extract_date) (31. marts 2020)") in tte.summary("da")
    assert "the latest date in the data" in tte.summary("en")


def test_cumulative_incidence_by_hand_and_stay_groups_left_out(cfg):
    cfg.privacy.min_cell = 1
    tte = time_to_education(tiny_steps(), tiny_participants(), cfg)
    # fastholde (goal: stay) is left out; påbegynde is the only group, so no 'everyone' row
    assert [g.code for g in tte.groups] == ["paabegynde"]
    assert tte.n_left_out == 2 and tte.left_out == [("Fastholde", "Stay in education")]
    c = tte.curve("paabegynde")
    assert c["time"].tolist() == [0, 30, 60, 90]
    assert c["cif"].tolist() == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3])
    assert c["cif_ended"].tolist() == pytest.approx([0, 0, 1 / 3, 1 / 3])
    g = tte.group("paabegynde")
    assert (g.n, g.events, g.competing, g.censored) == (3, 2, 1, 0)
    assert g.half == 90 and g.follow_up == 90
    # everyone's course is over by day 90: the 3, 6 and 12 months are known
    assert [(h["months"], h["reached"], round(h["share"], 4)) for h in g.horizons] == [
        (3, True, 0.6667), (6, True, 0.6667), (12, True, 0.6667)]
    # Kaplan–Meier with B censored would say everyone started
    from statsmodels.duration.survfunc import SurvfuncRight

    km = SurvfuncRight(np.array([30, 60, 90.0]), np.array([1, 0, 1.0]))
    assert 1 - km.surv_prob[-1] == pytest.approx(1.0)
    assert c["cif"].iloc[-1] < 0.7
    text = tte.summary("da")
    assert text.startswith("Målgruppe »Påbegynde«: Af de 3 unge startede 2 på en uddannelse.")
    assert "var 67 % (95 %-CI" in text and "efter 12 måneder" in text
    assert "33 % (95 %-CI" in text and "havde afsluttet forløbet uden at starte" in text
    assert "halvdelen var startet efter 90 dage" in text
    assert "Målgruppen »Fastholde« indgår ikke" in text
    en = tte.summary("en")
    assert "Of the 3 young people, 2 started an education." in en
    assert "The target group “Stay in education” is left out" in en
    # by=None: everyone analysed, still without the stay group
    tte = time_to_education(tiny_steps(), tiny_participants(), cfg, by=None)
    assert [g.code for g in tte.groups] == ["all"] and tte.group("all").n == 3


def test_cause_specific_logrank_between_two_start_groups(cfg):
    from statsmodels.duration.survfunc import survdiff

    cfg.target_groups["fastholde"].goal = "start"
    cfg.privacy.min_cell = 1
    tte = time_to_education(tiny_steps(), tiny_participants(), cfg)
    assert [g.code for g in tte.groups] == ["paabegynde", "fastholde", "all"]
    assert tte.n_left_out == 0 and "indgår ikke" not in tte.summary("da")
    chi2, p = survdiff(np.array([30, 60, 90, EXTRACT, 0.0]), np.array([1, 0, 1, 0, 1.0]),
                       np.array([0, 0, 0, 1, 1]))
    assert tte.logrank_p == pytest.approx(p) and tte.logrank_chi2 == pytest.approx(chi2)
    assert tte.logrank_df == 1
    assert "log-rank-test af raten for at starte (årsagsspecifik)" in tte.summary("da")
    assert tte.table()["Målgruppe"].tolist() == ["Påbegynde", "Fastholde"]
    # fastholde's one start at day 0 and D followed to the extract date: half had started
    # at day 0 already, by the curve
    assert tte.group("fastholde").half == 0


def cohort(cfg, people: list[tuple[int | None, int | None]], stay: int = 0
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Påbegynde (day of start of education or None, day the forløb ended or None) and ``stay``
    fastholde without steps, all starting on 1 January 2020."""
    rows = [(f"{i:016x}", "paabegynde", end) for i, (_, end) in enumerate(people)]
    rows += [(f"{i + 1000:016x}", "fastholde", None) for i in range(stay)]
    parts = pd.DataFrame({"person_id": [r[0] for r in rows], "delprojekt": "kommed",
                          "target_group": [r[1] for r in rows], "start_date": START,
                          "end_date": pd.to_datetime([None if e is None else day(e)
                                                      for _, _, e in rows])})
    log = [(f"{i:016x}", day(s)) for i, (s, _) in enumerate(people) if s is not None]
    steps = pd.DataFrame({"person_id": [p for p, _ in log], "step": "startet", "step_rank": 6,
                          "date": [d for _, d in log]})
    return parts, steps


def test_shares_that_would_give_a_small_count_back_are_not_shown(cfg):
    # 20 påbegynde: 3 start in the first 3 months, 9 more by 12 months, 8 end without a start
    people = ([(40, None)] * 3 + [(300, None)] * 9 + [(None, 400)] * 8)
    parts, steps = cohort(cfg, people)
    tte = time_to_education(steps, parts, cfg)
    g = tte.group("paabegynde")
    assert [h["hidden"] for h in g.horizons] == [True, True, False]
    text = tte.summary("da")
    assert "Efter 3 og 6 måneder vises andelen ikke (for få unge)." in text
    assert "var 60 % (95 %-CI" in text and "efter 12 måneder" in text
    assert "15 %" not in text  # 3 of 20
    assert "40 % (95 %-CI" in text  # ended without a start: 8 of 20, no one still followed
    assert tte.table().iloc[0]["Startet efter 3 mdr. (95 %-CI)"] == "for få"
    # three still followed: the ended share would give them back (20 − 12 − 5)
    parts, steps = cohort(cfg, people[:-3] + [(None, None)] * 3)
    tte = time_to_education(steps, parts, cfg)
    assert tte.group("paabegynde").competing_hidden
    assert "uden at starte" not in tte.summary("da")
    fig = plot.cif_plot(tte)
    assert [line.get_linestyle() for line in fig.axes[0].get_lines()
            if line.get_label().startswith("Påbegynde")] == ["-"]


def test_a_small_stay_group_hides_the_start_groups_size(cfg):
    # 20 påbegynde and 3 fastholde: 20 would give the 3 back from the 23 the måltal show
    parts, steps = cohort(cfg, [(40, None)] * 6 + [(300, None)] * 6 + [(None, 400)] * 8, stay=3)
    tte = time_to_education(steps, parts, cfg)
    assert tte.sizes_hidden
    text = tte.summary("da").split(" Tiden regnes")[0]  # the group's sentences
    assert "20" not in text and "%" not in text and "CI" not in text
    assert text == ("Målgruppe »Påbegynde«: 12 unge startede på en uddannelse; halvdelen var "
                    "startet efter 300 dage. Andelene vises ikke, fordi gruppens størrelse ikke "
                    "vises (så en lille gruppe ikke kan regnes ud).")
    assert set(tte.table().iloc[0].iloc[3:]) == {"–"}
    assert not plot.cif_plot(tte).axes[0].get_lines()
    d = tte.to_dict()
    assert d["curves"] == {} and d["groups"][0]["n"] is None
    assert d["groups"][0]["horizons"] == [] and d["groups"][0]["final"] == {}


def test_summary_text_hides_small_counts(cfg):
    tte = time_to_education(tiny_steps(), tiny_participants(), cfg, by=None)
    da = tte.summary("da").split(" Tiden regnes")[0]
    # 3 påbegynde, 2 started: counts under 5, so neither the shares nor the numbers are shown
    assert da == "Et antal unge – for få til at vise tiden til uddannelse."
    grouped = time_to_education(tiny_steps(), tiny_participants(), cfg)
    assert grouped.summary("da").startswith("Målgruppe »Påbegynde«: Et antal unge – for få")
    assert grouped.shown_groups == [] and grouped.curves["group"].tolist()  # kept, not shown
    assert grouped.to_dict()["curves"] == {}


def test_to_dict_is_json_without_person_ids(cfg):
    cfg.privacy.min_cell = 1
    tte = time_to_education(tiny_steps(), tiny_participants(), cfg)
    text = json.dumps(tte.to_dict())
    assert not any(pid in text for pid in IDS.values())
    d = json.loads(text)
    assert d["step"] == "startet" and d["method"] == "aalen_johansen"
    assert d["censor_date"] == "2021-10-31" and d["left_out"] == ["Fastholde"]
    assert set(d["curves"]) == {"paabegynde"}
    assert set(d["curves"]["paabegynde"][0]) == {"time", "cif", "ci_low", "ci_high",
                                                  "cif_ended", "ended_low", "ended_high"}
    assert d["groups"][0]["half_days"] == 90 and d["groups"][0]["events"] == 2


def test_empty_inputs(cfg):
    parts, steps = tiny_participants(), tiny_steps()
    assert furthest_step(steps.iloc[0:0], parts, cfg)["furthest_rank"].eq(0).all()
    f = funnel(pd.DataFrame(), parts, cfg)
    assert f["n_reached"].eq(0).all() and not f["suppressed"].any()
    f = funnel(steps, parts.iloc[0:0], cfg)
    assert f["group"].unique().tolist() == ["all"] and f["share"].isna().all()
    cfg.privacy.min_cell = 1
    tte = time_to_education(steps.iloc[0:0], parts, cfg)
    assert all(g.events == 0 for g in tte.groups) and tte.logrank_p is None
    assert "Ingen af de 3 unge" in tte.summary("da")
    tte = time_to_education(steps, parts.iloc[0:0], cfg)
    assert tte.groups == [] or all(g.n == 0 for g in tte.groups)
    assert "ingen unge" in tte.summary("da")
    json.dumps(tte.to_dict())
    for fig in (plot.funnel_plot(funnel(steps, parts.iloc[0:0], cfg)), plot.cif_plot(tte)):
        assert fig.axes


def test_no_education_step_in_config(cfg):
    cfg.steps.education_start_step = None
    tte = time_to_education(tiny_steps(), tiny_participants(), cfg)
    assert tte.groups == [] and "education_start_step" in tte.summary("da")
    assert plot.cif_plot(tte).axes


def test_missing_dates_are_left_out_with_a_note(cfg):
    steps = tiny_steps()
    steps.loc[steps["person_id"].eq(IDS["C"]) & steps["step"].eq("startet"), "date"] = pd.NaT
    tte = time_to_education(steps, tiny_participants(), cfg)
    assert tte.n_missing_date == 1 and tte.group("paabegynde").n == 2
    # the small count reads as any hidden count does ("et antal"), not "færre end 5"
    assert "For et antal unge mangler datoen" in tte.summary("da")
    # a second, dated row of the same step wins over the undated one
    extra = steps.iloc[[0]].assign(person_id=IDS["C"], step="startet", step_rank=6, date=day(95))
    tte = time_to_education(pd.concat([steps, extra]), tiny_participants(), cfg)
    assert tte.n_missing_date == 0 and 95 in tte.curve("paabegynde")["time"].tolist()


def test_plots_draw_groups_and_leave_out_suppressed_points(cfg):
    cfg.privacy.min_cell = 2
    f = funnel(tiny_steps(), tiny_participants(), cfg)
    fig = plot.funnel_plot(f)
    ax = fig.axes[0]
    shown = sum(len(c.patches) for c in ax.containers)
    assert shown == len(f) - int(f["suppressed"].sum())
    assert "vises ikke" in [t.get_text() for t in ax.texts]  # one wording, whatever the reason
    assert ax.get_xticklabels()[-1].get_text() == "100 %"
    cfg.privacy.min_cell = 1
    tte = time_to_education(tiny_steps(), tiny_participants(), cfg)
    fig = plot.cif_plot(tte, lang="en")
    ax = fig.axes[0]
    assert ax.get_ylabel() == "Share (cumulative incidence)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Start an education (n = 3): started",
        "Start an education (n = 3): ended without a start"]
    solid, dashed = [line for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert list(solid.get_ydata()) == pytest.approx([0, 1 / 3, 1 / 3, 2 / 3])
    assert list(dashed.get_ydata()) == pytest.approx([0, 0, 1 / 3, 1 / 3])


# -- the AUMI demo ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aumi_tables(demo_project):
    """The AUMI demo, cleaned (once per session, conftest)."""
    aumi = demo_project("aumi")
    return aumi.cfg(), aumi.result.steps.copy(), aumi.result.participants.copy()


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


def test_aumi_demo_time_to_start(aumi_tables):
    cfg, steps, participants = aumi_tables
    tte = time_to_education(steps, participants, cfg)
    # fastholde (goal: stay) is left out: påbegynde is everyone analysed
    assert [g.code for g in tte.groups] == ["paabegynde"] and tte.n_left_out == 75
    g = tte.group("paabegynde")
    assert (g.n, g.events, g.competing, g.censored) == (120, 58, 62, 0)
    # nobody is still followed, so the cumulative incidence at the end is 58 of 120 exactly
    assert g.final["start"] == pytest.approx(58 / 120)
    assert g.final["ended"] == pytest.approx(62 / 120)
    assert g.final["start_low"] < 58 / 120 < g.final["start_high"]
    assert g.half is None  # the curve never reaches 50 %
    c = tte.curve("paabegynde")
    assert c["cif"].is_monotonic_increasing and c["cif_ended"].is_monotonic_increasing
    assert (c["cif"] + c["cif_ended"]).le(1 + 1e-12).all()
    shares = [h["share"] for h in g.horizons]
    assert all(h["reached"] and not h["hidden"] for h in g.horizons)
    assert shares == sorted(shares) and shares[-1] < g.final["start"]
    for h in g.horizons:  # with no censoring: the share started by then
        started = int(((c["time"] <= h["days"]) * c["n_events"]).sum())
        assert h["share"] == pytest.approx(started / 120) and h["started"] == started
    text = tte.summary("da")
    # no median time the data never reach
    assert "Halvdelen af de 120 unge var startet" not in text and "efter 353 dage" not in text
    assert "halvdelen var altså ikke startet ved udgangen af opfølgningen" in text
    assert "var 48 % (95 %-CI" in text and "52 % (95 %-CI" in text
    assert re.search(r"var \d+ % \(95 %-CI \d+–\d+ %\) efter 3 måneder, \d+ % \(95 %-CI "
                     r"\d+–\d+ %\) efter 6 måneder og \d+ % \(95 %-CI \d+–\d+ %\) efter 12 "
                     r"måneder", text)
    assert "følges til dataudtrækket (31. oktober 2021)" in text
    assert "Målgruppen »Fastholde« indgår ikke" in text and "Log-rank" not in text
    en = tte.summary("en")
    assert "so half had not started by the end of follow-up" in en and "48% (95% CI" in en
    json.dumps(tte.to_dict())
    fig = plot.cif_plot(tte)
    assert [line.get_label() for line in fig.axes[0].get_lines()
            if not line.get_label().startswith("_")] == [
        "Påbegynde (n = 120): startet", "Påbegynde (n = 120): sluttet uden start"]
    assert plot.funnel_plot(funnel(steps, participants, cfg)).axes


def test_a_forloeb_begun_after_the_extract_date_is_left_out(cfg):
    people = [(40, None)] * 6 + [(300, None)] * 6 + [(None, 400)] * 8
    parts, steps = cohort(cfg, people)
    cfg.project.data_extract_date = day(500).date()
    late = parts.iloc[:6].assign(person_id=[f"{i + 2000:016x}" for i in range(6)],
                                 start_date=day(600))
    tte = time_to_education(steps, pd.concat([parts, late]), cfg)
    assert tte.n_after_extract == 6 and tte.group("paabegynde").n == 20
    assert "6 unge begyndte forløbet efter dataudtrækket og indgår ikke." in tte.summary("da")
    assert not tte.sizes_hidden
    # two of them: the 20 would give the 2 back from the måltal's 22, so no size and no share
    tte = time_to_education(steps, pd.concat([parts, late.iloc[:2]]), cfg)
    assert tte.n_after_extract == 2 and tte.sizes_hidden
    assert "Et antal unge begyndte forløbet efter dataudtrækket" in tte.summary("da")
