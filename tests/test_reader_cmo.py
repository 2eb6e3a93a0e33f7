"""The CMO reader: the hypotheses' table, rules, notes, joint display, forest plot and
heatmaps, worded from the results' codes with the unit's masks; nothing renders without masks,
and a hidden cell reads the same whatever the reason it is hidden."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from tests.test_realist import MECH, _empty_display, from_cells, hyp, with_hypotheses
from ungeanalyse import disclosure, realist
from ungeanalyse.config import Hypothesis
from ungeanalyse.errors import UserError
from ungeanalyse.reader import cmo as reader
from ungeanalyse.realist import CMOTable, evaluate_hypotheses, evaluate_hypothesis


def plan_masks(participants: pd.DataFrame, cfg, unit: str = "all") -> dict:
    """The unit's CMO masks from the disclosure step's plan, for tables built in a test."""
    return {"cmo": realist.cmo_plan(participants, cfg).get(unit, {})}


def own(r) -> dict:
    """One hypothesis' cells hidden by the unit's own rule (``realist.hidden_cells``)."""
    return realist.hidden_cells(r.cells, r.min_cell, r.n_in_scope - r.n)


# -- the masks ---------------------------------------------------------------------------------


def test_nothing_renders_without_masks(aumi_cfg):
    cfg = with_hypotheses(aumi_cfg, hyp())
    cmo = evaluate_hypotheses(from_cells((30, 40), (10, 40), (20, 40), (20, 40)), cfg)
    for call in (lambda m: reader.table(cmo, m, cfg), lambda m: reader.forest_input(cmo, m),
                 lambda m: reader.joint_display_text(cmo, _empty_display(cmo, cfg), m, cfg),
                 lambda m: reader.hypothesis_text(cmo["H1"], {}, m, cfg)):
        with pytest.raises(UserError, match="no disclosure masks; load them with "
                                            r"ungeanalyse.disclosure.load_masks\(cfg, unit\)"):
            call(None)
    # masks made for another config (no plan for this hypothesis): an error, not a guess
    with pytest.raises(UserError, match="hypothesis H1: the disclosure masks have no plan"):
        reader.table(cmo, {"cmo": {"H9": {}}}, cfg)


def test_the_analysis_result_carries_codes_and_no_masks(aumi_cfg):
    cfg = with_hypotheses(aumi_cfg, hyp())
    cmo = evaluate_hypotheses(from_cells((30, 40), (10, 40), (2, 4), (15, 40)), cfg)
    saved = json.loads(json.dumps(cmo.to_dict()))
    h = saved["hypotheses"][0]
    assert "hidden" not in h and "rule" not in h and "verdict" not in h
    assert h["verdict_code"] == "too_few_data" and h["decision"] == {"rule": "small"}


# -- the rule and the notes: no small count, no figure that reveals a hidden cell ---------------


def test_reader_rule_and_notes_do_not_show_small_counts(aumi_cfg):
    df = from_cells((30, 40), (10, 40), (2, 4), (15, 40))  # outside, with mechanism: n = 4
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    hidden = own(r)
    assert "n = 4" in r.rule and "n = 4" in " ".join(r.notes())  # the researcher's version
    texts = {lang: [reader.rule_text(r, lang, hidden), *reader.notes(r, lang, hidden)]
             for lang in ("da", "en")}
    for text in texts["da"] + texts["en"]:
        assert not re.search(r"\bn = [1-4]\b|\(4\)|\b4 (uden|outside)", text), text
    assert texts["da"][0] == (
        "Regel 1: for få data, fordi en gruppe har færre end 5 med eller uden udfaldet "
        "(diskretionsgrænsen på 5; mindst én af de fire grupper), og en dom ville hvile på den.")
    # a hidden cell is only said to be hidden: no reason (small, or hidden to protect another)
    assert "Andelen uden for konteksten med mekanismen vises ikke." in texts["da"]
    assert "The share outside the context without the mechanism is not shown." in texts["en"]
    assert not any("for få i en gruppe" in t or "too few in a group" in t
                   for t in texts["da"] + texts["en"])


def test_reader_rule_leaves_out_figures_of_hidden_cells(aumi_cfg):
    # two still active: the pair outside the context is hidden (its sizes would count them);
    # the model uses every cell (and the strata), so none of its figures is shown
    df = from_cells((34, 40), (10, 40), (30, 40), (20, 40), active=2)
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.verdict_code == "supported"
    assert "OR " in r.rule and "forskel i forskellene" in r.rule and "+59 procentpoint" in r.rule
    hidden = own(r)
    assert hidden == {"in_yes": False, "in_no": False, "out_yes": True, "out_no": True}
    da, en = reader.rule_text(r, "da", hidden), reader.rule_text(r, "en", hidden)
    assert "OR " not in da and "procentpoint" not in da
    assert da.startswith("Regel 2: støttet") and da.endswith(
        " Nogle tal bag dommen (modellens) vises ikke.")
    assert "OR " not in en and en.endswith(" Some figures behind the verdict (the model's) are "
                                           "not shown.")
    # 1 of 40 inside the context with the mechanism did not meet the goal: rule 1, and the
    # reader's sentence names neither the cell nor its counts
    r = evaluate_hypothesis(from_cells((39, 40), (10, 40), (30, 40), (20, 40)), hyp(), aumi_cfg)
    assert "n = 40, 39 med udfaldet" in r.rule
    da = reader.rule_text(r, "da", own(r))
    assert da.startswith("Regel 1") and "39" not in da and "mindst én af de fire grupper" in da
    assert not any("Intervallet for forskellen" in n for n in reader.notes(r, "da", own(r)))
    # nothing hidden: the reader sees the full rule and every note but the counts left out
    r = evaluate_hypothesis(from_cells((30, 40), (10, 40), (20, 40), (20, 40)), hyp(), aumi_cfg)
    assert reader.rule_text(r, "da", own(r)) == r.rule
    assert reader.notes(r, "en", own(r)) == r.notes("en")


def test_reader_text_hides_what_the_table_hides(aumi_cfg):
    df = from_cells((34, 40), (10, 40), (30, 40), (39, 40))
    cfg = with_hypotheses(aumi_cfg, hyp())
    cmo = evaluate_hypotheses(df, cfg)
    masks = plan_masks(df, cfg)
    table = reader.table(cmo, masks, cfg, "da").frame
    assert (table.loc[0, ["Uden for, med", "Uden for, uden"]] == "–").all()
    assert table.loc[0, "I konteksten, med"] == "85 % (n=40)"
    text = reader.joint_display_text(cmo, _empty_display(cmo, cfg), masks, cfg, "da")
    # the small cell and its partner, hidden to protect it, read the same (wording that told
    # them apart would say which one is small); the reasons are given once
    assert text.count(": vises ikke") == 2
    assert "for få til at vise en andel" not in text and "så en lille gruppe" not in text
    assert text.count("En andel vises ikke, når gruppen har færre end 5") == 1
    assert "30 af 40" not in text and "39 af 40" not in text and "34 af 40" in text
    # the mechanism's subgroup heatmap would give its totals and so the hidden pair: withheld,
    # in one sentence that does not say why (the section's prose says it once)
    assert reader.heatmap_withheld(cmo, MECH, masks, 5)
    subgroups = realist.subgroups(df, cfg, cmo, contexts=("target_group",))
    heat = reader.subgroup_heatmap(subgroups, cmo, MECH, masks, cfg, "da")
    assert heat.frame is None and heat.text == "Undergrupperne for »Mestringskursus« vises ikke."
    safe_df = from_cells((30, 40), (10, 40), (20, 40), (20, 40))
    safe = evaluate_hypotheses(safe_df, cfg)
    assert not reader.heatmap_withheld(safe, MECH, plan_masks(safe_df, cfg), 5)


def test_a_hidden_cmo_context_blanks_the_heatmap_row_that_holds_the_same_people(aumi_cfg):
    from tests import factories

    df = factories.make_participants(aumi_cfg, n=300, seed=5)
    h = Hypothesis(id="H1", title="t", context="target_group == 'fastholde'",
                   context_label="Fastholde", mechanism="element_fast_kontaktperson",
                   mechanism_label="Fast kontaktperson")
    cfg = with_hypotheses(aumi_cfg, h)
    cmo = evaluate_hypotheses(df, cfg)
    subgroups = realist.subgroups(df, cfg, cmo, contexts=("target_group", "gender"))
    matrix = subgroups.matrix("element_fast_kontaktperson")
    fast = matrix[matrix["category"].eq("fastholde")]
    assert fast["same_in"].map(list).tolist() == [["H1"], ["H1"]]
    # the masks decide: the in-context cells hidden blank the whole target-group block
    hidden = {"cmo": {"H1": {"in_yes": True, "in_no": True, "out_yes": False,
                             "out_no": False}}}
    shown = {"cmo": {"H1": dict.fromkeys(("in_yes", "in_no", "out_yes", "out_no"), False)}}
    for masks, blank in ((hidden, True), (shown, False)):
        heat = reader.subgroup_heatmap(subgroups, cmo, "element_fast_kontaktperson", masks, cfg)
        if heat.frame is None:  # the heatmap itself withheld: nothing of it is shown
            assert blank
            continue
        rows = heat.frame.loc["Målgruppe"]
        assert rows.isna().all().all() == blank
    # the saved matrices read back the same
    again = realist.Subgroups.from_dict(json.loads(json.dumps(subgroups.to_dict())))
    pd.testing.assert_frame_equal(again.matrix("element_fast_kontaktperson"), matrix,
                                  check_dtype=False)


def test_forest_input_gives_the_adjusted_difference_next_to_the_crude(aumi_cfg):
    from tests.test_plot_helpers import forest_table

    cfg, cmo, df = forest_table(aumi_cfg, (14, 40))
    rows = reader.forest_input(cmo, plan_masks(df, cfg), "da")
    r = cmo["H1"]
    assert rows["diff"].tolist() == [0.75 - 0.3]
    assert rows["adj"].iloc[0] == r.model.rd_in.estimate
    assert (rows["adj_lo"].iloc[0], rows["adj_hi"].iloc[0]) == (r.model.rd_in.ci_low,
                                                                r.model.rd_in.ci_high)
    assert 0.3 < rows["adj"].iloc[0] < 0.6 and rows["verdict"].tolist() == [r.verdict]
    # a cell under the threshold: 'for få data', and the row is left out altogether
    cfg, cmo, df = forest_table(aumi_cfg, (3, 4))
    assert cmo["H1"].verdict_code == "too_few_data"
    assert reader.forest_input(cmo, plan_masks(df, cfg), "da").empty
    # a cell the project-wide plan hides: the crude difference in the context stays, the
    # model's figure (which uses every cell) goes, as in the table
    cfg, cmo, df = forest_table(aumi_cfg, (14, 40))
    masks = {"cmo": {"H1": {"in_yes": False, "in_no": False, "out_yes": True, "out_no": True}}}
    rows = reader.forest_input(cmo, masks, "da")
    assert rows["diff"].tolist() == [0.75 - 0.3] and math.isnan(rows["adj"].iloc[0])


# -- the AUMI demo: the figures and verdicts readers get ---------------------------------------


@pytest.fixture(scope="module")
def aumi(demo_project):
    """The AUMI demo's CMO table, its masks (the disclosure step) and its config."""
    import ungeanalyse as ua

    project = demo_project("aumi")
    cfg = project.cfg()
    participants = ua.results.load_unit(cfg, "all")["participants"]
    return cfg, evaluate_hypotheses(participants, cfg), disclosure.load_masks(cfg, "all")


def test_aumi_verdicts_and_table_in_both_languages(aumi):
    cfg, cmo, masks = aumi
    assert [(r.id, r.verdict_code) for r in cmo.results] == [
        ("H1", "too_few_data"), ("H2", "supported"), ("H3", "not_supported"),
        ("H4", "not_supported"), ("H5", "too_few_data")]
    da = reader.table(cmo, masks, cfg, "da")
    row = da.frame.iloc[1].tolist()
    assert row[3:] == ["83 % (n=46)", "42 % (n=43)", "62 % (n=48)", "69 % (n=58)",
                       "+41 pp (+21 til +57)", "+37 pp (+7 til +67)", "0,008", "støttet"]
    assert da.caption == "Hypoteser, tal og domme" and da.frame.iloc[4].tolist()[3:] == [
        "–"] * 7 + ["for få data"]
    en = reader.table(cmo, masks, cfg, "en").frame.iloc[1]
    assert en["Hypothesis"] == ("H2: We expect coping courses to help above all young people "
                                "with mental health challenges")
    assert en.tolist()[3:] == ["83% (n=46)", "42% (n=43)", "62% (n=48)", "69% (n=58)",
                               "+41 pp (+21 to +57)", "+37 pp (+7 to +67)", "0.008",
                               "supported"]
    assert " til " not in reader.table(cmo, masks, cfg, "en").as_html()
    # H1's pair outside the context is hidden by the plan: its cells show the one mark
    assert da.frame.iloc[0].tolist()[3:7] == ["74 % (n=69)", "14 % (n=51)", "–", "–"]


def test_aumi_hypothesis_text_and_finding(aumi):
    cfg, cmo, masks = aumi
    h2 = reader.hypothesis_text(cmo["H2"], {}, masks, cfg, "da")
    assert h2.figures.splitlines()[0] == (
        "- med mekanismen i konteksten: 83 % (38 af 46; 95 %-CI 69–91 %)")
    assert h2.figures.endswith(
        "Forskellen i konteksten er +41 procentpoint (95 %-CI +21 til +57). Justeret for "
        "delprojekt og målgruppe er den +37 procentpoint (95 %-CI +7 til +67).")
    assert h2.rule.startswith("Regel 2: støttet, fordi samspillet (OR 9,10 (1,08–76,70); "
                              "justeret forskel i forskellene +39 procentpoint")
    assert h2.finding == (
        "H2: Mestringskursus hænger stærkere sammen med udfaldet »mål indfriet« blandt unge i "
        "konteksten »Psykiske udfordringer« end blandt andre (støttet; en sammenhæng, ikke en "
        "målt virkning).")
    en = reader.hypothesis_text(cmo["H2"], {}, masks, cfg, "en")
    assert en.finding == (
        "H2: Coping course goes more strongly with the outcome 'goal met' among young people in "
        "the context 'Mental health challenges' than among others (supported; an association, "
        "not a measured effect).")
    assert en.rule.startswith("Rule 2: supported, because the interaction (OR 9.10 "
                              "(1.08–76.70); adjusted difference in differences +39 percentage")
    h1 = reader.hypothesis_text(cmo["H1"], {}, masks, cfg, "da")
    assert h1.figures.count(": vises ikke") == 2 and h1.rate_in_yes == "74 %"


def test_aumi_results_read_back_give_the_same_reader_text(aumi):
    cfg, cmo, masks = aumi
    again = CMOTable.from_dict(json.loads(json.dumps(cmo.to_dict())))
    for lang in ("da", "en"):
        assert reader.table(again, masks, cfg, lang).as_html() == \
            reader.table(cmo, masks, cfg, lang).as_html()
        assert [reader.hypothesis_text(r, {}, masks, cfg, lang).rule for r in again.results] == \
            [reader.hypothesis_text(r, {}, masks, cfg, lang).rule for r in cmo.results]
    pd.testing.assert_frame_equal(reader.forest_input(again, masks),
                                  reader.forest_input(cmo, masks))


def test_aumi_heatmaps_each_name_their_mechanism(aumi, demo_project):
    import ungeanalyse as ua

    cfg, cmo, masks = aumi
    participants = ua.results.load_unit(cfg, "all")["participants"]
    subgroups = realist.subgroups(participants, cfg, cmo)
    heats = [reader.subgroup_heatmap(subgroups, cmo, m, masks, cfg, "da")
             for m in reader.hypothesis_mechanisms(cmo)]
    assert [h.text for h in heats if h.frame is None] == [
        "Undergrupperne for »Fast kontaktperson« vises ikke."]
    titles = [h.title for h in heats if h.frame is not None]
    assert titles == ["»Mestringskursus«; tomme felter vises ikke",
                      "»Fællesskab / gruppeforløb«; tomme felter vises ikke",
                      "»Individuelt tilpasset forløb«; tomme felter vises ikke",
                      "»Fokus på drømme og ønsker«; tomme felter vises ikke"]
    alts = [ua.plot.subgroup_heatmap(h.frame, "da", h.title).ua_alt for h in heats
            if h.frame is not None]
    assert len(set(alts)) == len(alts)  # two heatmaps never share one alt text
    frame = heats[1].frame
    assert list(frame.columns) == ["ja", "nej", "forskel"]
    assert np.isfinite(frame.to_numpy(dtype=float)).any()
