"""Reader texts say no more than the reader tables: on the AUMI demo's delprojekter, a count the
måltal table hides is not given back by the intro, the evaluation text or the pixi."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.test_reader_evaluation import render_text
from ungeanalyse import clean, outcomes, report
from ungeanalyse.results import ResultStore

ROOT = Path(__file__).resolve().parents[1]


def _context(cfg, unit, store, m):
    """The evaluation text's context of a unit's saved måltal (with their own masks)."""
    from ungeanalyse.reader import evaluation
    from ungeanalyse.results import load_evaluation

    return evaluation.context(load_evaluation(store), {"maaltal": m.masks, "cmo": {}}, cfg, unit)


@pytest.fixture(scope="module")
def aumi(demo_project):
    """The AUMI demo, cleaned, in a copy of the repo's config (the repo's data are untouched;
    built once per session, conftest)."""
    aumi = demo_project("aumi")
    return aumi.cfg(), aumi.result.participants.copy()


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
        ctx = _context(cfg, unit, store, m)
        table = report.maaltal_reader_table(m, cfg, "target_group")[0]
        rates = dict(zip(table["Målgruppe"], table["Succesrate"], strict=True))
        for tg in ctx["target_groups"]:
            if rates[tg["label"]] == "–":  # hidden in the table: hidden in the text too
                assert tg["rate"] == "–" and " af " not in tg["text"], (unit, tg)
            elif rates[tg["label"]].endswith(" af alle"):  # goal met of everyone, both places
                share = rates[tg["label"]].removesuffix(" af alle")
                assert tg["share"] and tg["rate"].startswith(f"{share} ("), (unit, tg)
                assert tg["rate"] in tg["text"] and ctx["share_note"], (unit, tg)
            else:
                assert tg["rate"] == rates[tg["label"]], (unit, tg)
        groups = report.maaltal_reader_table(m, cfg, "groups")[0]
        goal_cell = groups.loc[groups["Gruppe"].eq("Mål indfriet"), "Antal"].item()
        if report.goal_met_hidden(m.outcomes, m.goal_met, m.n_closed, 5, m.masks):
            assert ctx["success"] is None
        if goal_cell == "–":  # the count as the grouped table shows it
            assert str(m.goal_met) not in ctx["goal_met_text"]
            pixi = render_text(cfg, unit, store, variant="pixi")
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
    # fastholde (goal: stay) is left out of the time to start; påbegynde's size, shares and
    # intervals (which would give 36 back) are not given
    assert "36" not in text and "%" not in text.split(" Tiden regnes")[0]
    assert "Målgruppe »Påbegynde«: 18 unge startede på en uddannelse; halvdelen" in text
    assert km.table()["Unge"].tolist() == ["–"]
    assert not plot.cif_plot(km).axes[0].get_lines()


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
    # the success rate's denominator would say 31 − 28 = 3: the rate is left out; goal met is
    # given as a share of everyone (24 of 31), which leaves the 3 unknown
    assert report.goal_met_hidden(m.outcomes, m.goal_met, m.n_closed, 5, m.masks)
    intro = report.maaltal_intro(m, cfg)
    assert "31 unge har deltaget; 24 (77 %) har indfriet målet" in intro
    assert "28" not in intro and " 3 " not in intro
    store = ResultStore.for_unit(cfg, "hoeretab", tmp_path)
    store.save("maaltal", m.to_dict())
    ctx = _context(cfg, "hoeretab", store, m)
    assert ctx["success"] is None
    for name in ("target_group", "gender", "age_band"):
        table = report.maaltal_reader_table(m, cfg, name)[0]
        df = m.breakdowns[name]
        df = df[df["n_participants"] > 0].reset_index(drop=True)
        small_active = (df["n_participants"] - df["n_closed"]).between(1, 4)
        shown = table.loc[small_active.to_numpy(), "Succesrate"]
        assert (shown.eq("–") | shown.str.endswith(" af alle")).all(), name
    # the note gives neither the number still active nor the number of closed cases
    notes = " ".join(m.notes)
    assert "stadig er i forløb" in notes and "blandt de afsluttede" in notes
    assert "28" not in notes and "(3)" not in notes


def test_the_worklist_gives_file_row_column_and_reason_not_the_value():
    q = pd.DataFrame({"table": ["participants"], "source_file": ["a.csv"], "source_row": [4],
                      "column": ["CPR-nr."], "reason": ["age outside the target range"],
                      "detail": ["age 11 at start"]})
    table = report.quarantine_list(q)
    assert list(table.columns) == ["Fil", "Række", "Kolonne", "Årsag"]
    assert "age 11" not in table.to_string()
    assert "age 11 at start" in report.quarantine_list(q, detail=True).to_string()
