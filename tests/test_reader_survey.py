"""The survey for readers (``ungeanalyse.reader.survey``): reliability and change tables, the
figure's input and the texts on change and drop-out, in both languages, with the unit's masks; a
hidden count shows one mark ('nogle' in a sentence) and no reason; nothing without masks."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from tests.test_survey import (
    ALPHA,
    ALPHA_ITEMS,
    _dropout_frames,
    attrition_frames,
    long,
    paired_scores,
    survey_cfg,
)
from ungeanalyse import disclosure, plot, survey
from ungeanalyse.disclosure import maaltal as dmaaltal
from ungeanalyse.disclosure import survey as dsurvey
from ungeanalyse.errors import UserError
from ungeanalyse.fmt import fmt_float, fmt_int
from ungeanalyse.reader import survey as rsv
from ungeanalyse.results import load_unit

SIDE_CHANNELS = ("færre end", "fewer than", "for få", "too few", "for små", "too small",
                 "regnes ud", "worked out", "et antal", "a number of")


@pytest.fixture()
def cfg(aumi_cfg):
    """The hand-made survey config of tests/test_survey.py."""
    return survey_cfg(aumi_cfg)


def made(cfg, changes, attrition=(), plan=None):
    """A hand-made unit's survey result and its masks (the plan: nothing hidden unless said)."""
    result = survey.SurveyResult("ok", survey.reliability(long({}), cfg), list(changes),
                                 list(attrition))
    return result, {"survey": {"made": False, **(plan or {})}}


# -- by hand ------------------------------------------------------------------------------------


def test_the_missing_item_rule_in_words(cfg):
    from ungeanalyse.config import MissingItems

    sw = cfg.survey.scales[2].model_copy(update={
        "min_items": None, "missing_items": MissingItems(rule="prorate", max_missing=2)})
    assert rsv.missing_rule_text(sw, "da") == (
        "Mangler højst 2 af de 7 spørgsmål, pro-rateres scoren: gennemsnittet af de besvarede "
        "spørgsmål gange 7, rundet til et helt tal før omregningstabellen.")
    assert rsv.missing_rule_text(cfg.survey.scales[1], "en") == (
        "A score needs answers to all 3 items (no pro-rating).")
    one = cfg.survey.scales[1].model_copy(update={"missing_items": MissingItems(
        rule="prorate", max_missing=1)})
    assert rsv.missing_rule_text(one, "en") == (
        "The score is the mean of the answered items when at most 1 of the 3 is missing "
        "(pro-rating).")


def test_the_reliability_table(cfg):
    rows = {}
    for k in range(4):
        answers = {"i1": ALPHA_ITEMS["i1"][k], "i2": ALPHA_ITEMS["i2"][k],
                   "i3": 6 - ALPHA_ITEMS["i3"][k]}
        rows[(f"p{k}", "start")] = rows[(f"p{k}", "slut")] = answers
    cfg.privacy.min_cell = 1
    result = survey.SurveyResult("ok", survey.reliability(long(rows), cfg))
    table = rsv.reliability_table(result, {"survey": {"paired:sw": False}}, cfg, "da")
    assert list(table.frame.columns) == ["Skala", "Bølge", "Items", "n", "α"]
    assert table.frame.iloc[0].tolist() == ["Sum", "Start af forløb", "3", "4",
                                            fmt_float(ALPHA, 2)]
    assert table.note is None
    en = rsv.reliability_table(result, {"survey": {"paired:sw": False}}, cfg, "en")
    assert list(en.frame.columns)[:2] == ["Scale", "Wave"]
    assert en.frame.iloc[0].tolist()[:2] == ["Sum", "Start"]
    # the plan hides the paired n, and the reliability n with it
    hidden = rsv.reliability_table(result, {"survey": {"paired:sumscale": True}}, cfg, "da")
    assert hidden.frame.set_index("Skala").loc["Sum", "n"].tolist() == ["–", "–"]
    assert hidden.note.startswith("– betyder, at tallet ikke vises")
    # under the limit: n and α alike
    cfg.privacy.min_cell = 5
    small = rsv.reliability_table(result, {"survey": {"x": False}}, cfg, "da")
    assert small.frame.iloc[0].tolist()[3:] == ["–", "–"] and "4" not in small.as_html().split(
        "<tbody>")[1].split("</tbody>")[0].replace("Sum", "")


def test_the_change_text_and_table(cfg):
    change = survey.paired_change(paired_scores(), cfg, "sumscale")
    result, masks = made(cfg, [change])
    text = rsv.change_text(change, masks["survey"], cfg, "da")
    assert text.startswith(
        "Sum: Blandt de 6 unge, der svarede både ved start af forløb og ved opfølgning (med en "
        "gyldig score begge gange), steg gennemsnittet fra 11,7 til 13,0 (ændring 1,3; "
        "95 %-CI −0,4 til 3,0; Cohens d_z = 0,82 (95 %-CI −0,15 til 1,73); d_av = 0,47 "
        "(95 %-CI −0,09 til 1,00); Wilcoxon p = ")
    assert "sammenhæng" in text and "ikke en påvist effekt" in text
    assert "Mangler højst 1 af de 3 spørgsmål, pro-rateres scoren" in text
    en = rsv.change_text(change, masks["survey"], cfg, "en")
    assert "Cohen's d_z = 0.82 (95% CI −0.15 to 1.73); d_av = 0.47 (95% CI −0.09 to 1.00)" in en
    assert "association" in en
    shown = rsv.change_table(result, masks, cfg, "da")
    assert shown.frame.iloc[0].tolist() == ["Sum", "6", "11,7", "13,0", "1,3 (−0,4 til 3,0)",
                                            "0,82 (−0,15 til 1,73)", "0,47 (−0,09 til 1,00)",
                                            "–", "pro-rating, højst 1 mangler"]
    assert shown.caption == "Ændring fra start til opfølgning"
    assert shown.note.startswith("d_z = ændring / SD for ændringen")


def test_a_hidden_n_hides_the_effect_sizes_too(cfg):
    change = survey.paired_change(paired_scores(), cfg, "sumscale")
    result, masks = made(cfg, [change], plan={"paired:sumscale": True})
    text = rsv.change_text(change, masks["survey"], cfg, "da")
    assert "Blandt de unge, der svarede både" in text and "6" not in text.split("(")[0]
    assert "Among the young people who answered" in rsv.change_text(change, masks["survey"],
                                                                    cfg, "en")
    # the change over d_z is the SD, and then the interval gives n back
    assert "d_z" not in text and "d_av" not in text and "95 %-CI" in text
    table = rsv.change_table(result, masks, cfg, "da").frame
    assert table.iloc[0]["Par (n)"] == "–" and table.iloc[0]["d_av (95 %-CI)"] == "–"
    figure = rsv.prepost_input(result, masks, cfg, "da")
    assert figure.n_hidden
    fig = plot.prepost_plot(figure)
    assert fig.axes[0].get_title() == "Unge, der svarede begge gange"
    assert len(fig.axes[0].lines) < 7  # no line per young person that could be counted


def test_too_few_pairs_say_only_that_the_change_is_not_shown(cfg):
    scores = paired_scores()
    few = survey.paired_change(scores[scores["person_id"].isin(["p0", "p1", "p2"])], cfg,
                               "sumscale")
    result, masks = made(cfg, [few])
    assert rsv.change_text(few, masks["survey"], cfg, "da") == (
        "Sum: ændringen fra start af forløb til opfølgning vises ikke.")
    assert rsv.change_text(few, masks["survey"], cfg, "en") == (
        "Sum: the change from start to follow-up is not shown.")
    assert rsv.change_table(result, masks, cfg, "da").frame.iloc[0].tolist() == [
        "Sum", "–", "–", "–", "–", "–", "–", "–", "pro-rating, højst 1 mangler"]
    assert rsv.prepost_input(result, masks, cfg, "da") is None


def test_the_weighted_sensitivity_result_in_words(cfg):
    scores, participants, _ = _dropout_frames()
    change = survey.paired_change(scores, cfg, "sumscale", participants=participants)
    w = change.weighted
    text = rsv.change_text(change, {}, cfg, "da")
    assert (f"Vægtet for frafald ved opfølgning (en følsomhedsanalyse, der antager, at frafaldet "
            f"kun afhænger af score ved start, målgruppe og delprojekt) er ændringen "
            f"{fmt_float(w.mean_diff, 2)} (95 %-CI {fmt_float(w.ci_low, 2)} til "
            f"{fmt_float(w.ci_high, 2)}) mod {fmt_float(change.mean_diff, 2)} uvægtet.") in text
    assert "Vægtet" not in rsv.change_text(change, {"paired:sumscale": True}, cfg, "da")


def test_the_attrition_text_gives_both_intervals_when_the_groups_are_large(cfg):
    scores, participants = attrition_frames()
    att = replace(survey.attrition(scores, participants, cfg),
                  target_groups={"followed": {"paabegynde": 20, "fastholde": 30},
                                 "dropped": {"paabegynde": 25, "fastholde": 25}},
                  n_followed=50, n_dropped=50, tg_diff=-0.1, tg_low=-0.28, tg_high=0.09)
    text = rsv.attrition_text(att, {}, cfg, "da")
    assert text.startswith("Sum – frafald: Af de 100 unge med en gyldig score ved start af "
                           "forløb indgår 50 (50 %) i parrene ovenfor, og 50 har ingen gyldig "
                           "score ved opfølgning.")
    assert (f"var gennemsnittet 12,4 i parrene og 9,0 blandt de øvrige (forskel 3,4; 95 %-CI "
            f"{fmt_float(att.diff_low)} til {fmt_float(att.diff_high)}; Welch t-test") in text
    assert ("Andelen fra målgruppen »Påbegynde« var 40 % i parrene og 50 % blandt de øvrige "
            "(forskel −10 procentpoint; 95 %-CI −28 til 9; Newcombe).") in text
    assert "from the target group 'Start an education' was 40% in the pairs" in \
        rsv.attrition_text(att, {}, cfg, "en")
    # the survey plan hides a target-group cell: the comparison goes
    hidden = rsv.attrition_text(att, {"tg:sumscale:followed:paabegynde": True}, cfg, "da")
    assert "Andelen fra målgruppen" not in hidden and "Welch" in hidden


def test_the_attrition_text_never_shows_a_small_count_or_why_it_is_hidden(cfg):
    scores, participants = attrition_frames()
    text = rsv.attrition_text(survey.attrition(scores, participants, cfg), {}, cfg, "da")
    assert "Af de 12 unge" in text and "7 (58 %)" in text and "Welch" in text
    assert "Målet blev indfriet" not in text  # 1 of 4 dropped met the goal: hidden
    # the target groups' table has a 0 and 3s and 4s: its χ² p-value or shares would pin them
    assert "χ²" not in text and "Andelen fra målgruppen" not in text
    scores, participants = attrition_frames(n_dropped=3)
    att = survey.attrition(scores, participants, cfg)
    assert att.n_dropped == 3
    texts = {lang: rsv.attrition_text(att, {}, cfg, lang) for lang in ("da", "en")}
    for text in texts.values():
        assert re.search(r"(?<![\d,.])[1-4](?![\d,.])", text) is None, text
        assert "10" not in text  # the total would give the hidden count away
        assert not [w for w in SIDE_CHANNELS if w in text], text
    assert texts["da"] == ("Sum – frafald: 7 unge har en gyldig score både ved start af forløb "
                           "og ved opfølgning, og nogle kun ved start af forløb. Grupperne "
                           "sammenlignes ikke her.")
    assert texts["en"] == ("Sum – drop-out: 7 young people have a valid score both at start and "
                           "at follow-up, and some only at start. The groups are not compared "
                           "here.")
    # the plan hides a count to protect another unit's: the same words
    partner = rsv.attrition_text(survey.attrition(*attrition_frames(), cfg),
                                 {"dropped:sumscale": True}, cfg, "da")
    assert partner == ("Sum – frafald: 7 unge har en gyldig score både ved start af forløb og "
                       "ved opfølgning, og nogle kun ved start af forløb. Grupperne "
                       "sammenlignes ikke her.")


def test_the_attrition_goal_rates_hide_a_small_remainder(cfg):
    scores, participants = attrition_frames()
    att = survey.attrition(scores, participants, cfg)
    assert (att.goal_met_unit, att.closed_unit) == (8, 12)  # one never answered, and met it
    shown = replace(att, goal_met_followed=20, goal_met_closed_followed=30, goal_met_dropped=10,
                    goal_met_closed_dropped=20, goal_met_unit=30, closed_unit=50,
                    n_followed=30, n_dropped=20)
    assert "Målet blev indfriet af 67 % af de afsluttede i parrene mod 50 %" in \
        rsv.attrition_text(shown, {}, cfg, "da")
    # 3 more met the goal among those who never answered: the unit's total would count them
    assert "Målet blev indfriet" not in rsv.attrition_text(
        replace(shown, goal_met_unit=33, closed_unit=60), {}, cfg, "da")


# -- the AUMI demo --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aumi(demo_fresh):
    """A copy of the session's demo (the disclosure step writes its masks into it)."""
    return demo_fresh("aumi").cfg()


def unit(cfg, name):
    """A demo unit's survey as notebook 02 makes it, and its masks."""
    return (survey.analyse(load_unit(cfg, name), cfg, load_unit(cfg, "all")),
            disclosure.load_masks(cfg, name))


def test_the_aumi_survey_section_in_both_languages(aumi):
    result, masks = unit(aumi, "all")
    rel = rsv.reliability_table(result, masks, aumi, "da")
    assert rel.frame.iloc[0].tolist() == ["Mental trivsel (SWEMWBS)", "Start af forløb", "7",
                                          "64", "0,70"]
    table = rsv.change_table(result, masks, aumi, "da")
    assert table.frame.iloc[0].tolist() == [
        "Mental trivsel (SWEMWBS)", "64", "17,4", "19,6", "2,2 (1,7 til 2,7)",
        "1,17 (0,85 til 1,48)", "0,94 (0,68 til 1,19)", "2,2 (1,7 til 2,7)", "alle spørgsmål"]
    text = rsv.text(result, masks, aumi, "da")
    assert text.startswith(
        "Mental trivsel (SWEMWBS): Blandt de 64 unge, der svarede både ved start af forløb og "
        "ved opfølgning (med en gyldig score begge gange), steg gennemsnittet fra 17,4 til 19,6 "
        "(ændring 2,2; 95 %-CI 1,7 til 2,7; Cohens d_z = 1,17 (95 %-CI 0,85 til 1,48); d_av = "
        "0,94 (95 %-CI 0,68 til 1,19); Wilcoxon p < 0,001). En højere score er bedre. En score "
        "kræver svar på alle 7 spørgsmål (ingen pro-rating).")
    assert ("Mental trivsel (SWEMWBS) – frafald: Af de 134 unge med en gyldig score ved start af "
            "forløb indgår 64 (48 %) i parrene ovenfor, og 70 har ingen gyldig score ved "
            "opfølgning.") in text
    assert "Følsomhedsanalyse" in text and "Algina og Keselmans" in text
    en = rsv.text(result, masks, aumi, "en")
    assert "Sensitivity analysis" in en and "d_av" in en
    assert "A score needs answers to all 7 items (no pro-rating)." in en
    assert rsv.prepost_input(result, masks, aumi, "da").scale_id == "swemwbs"
    # the saved result words the same
    again = survey.SurveyResult.from_dict(result.to_dict())
    assert rsv.text(again, masks, aumi, "en") == en
    assert rsv.change_table(again, masks, aumi, "da").as_html() == table.as_html()


def test_without_masks_nothing_is_rendered(aumi):
    result = survey.analyse(load_unit(aumi, "all"), aumi)
    for call in (rsv.reliability_table, rsv.change_table, rsv.text, rsv.prepost_input):
        with pytest.raises(UserError, match="no disclosure masks; load them with"):
            call(result, None, aumi, "da")


def test_a_unit_without_surveys_says_why(aumi):
    tables = load_unit(aumi, "all")
    none = survey.analyse({**tables, "survey_responses": tables["survey_responses"].iloc[0:0]},
                          aumi, tables)
    assert rsv.missing_text(none, "da") == "Der er ingen spørgeskemabesvarelser for denne enhed."
    assert rsv.missing_text(none, "en") == "No survey answers for this unit."
    masks = disclosure.load_masks(aumi, "all")
    assert rsv.change_table(none, masks, aumi, "da") is None and rsv.text(none, masks, aumi,
                                                                           "da") == ""


def _counts(text: str) -> list[int]:
    """The whole numbers in a sentence that are not percentages."""
    text = re.sub(r"\d+ ?%", "", text)
    return [int(m.replace(".", "")) for m in re.findall(r"\d[\d.]*(?=\D)", text)]


def test_one_definition_of_answered_both_waves_in_every_unit(aumi):
    """Every count the survey section prints for a scale is the analysed pairs' n (or those
    with a score at the start only): the change text, the attrition text, the reliability
    table, the change table and the survey plan agree, in every unit."""
    participants = load_unit(aumi, "all")["participants"]
    responses = load_unit(aumi, "all")["survey_responses"]
    plan = dsurvey.survey_plan(responses, participants, aumi,
                               dmaaltal.maaltal_plan(participants, aumi))
    scores_all = survey.score_scales(responses, aumi)
    checked = 0
    for name in aumi.units():
        result, masks = unit(aumi, name)
        assert masks["survey"] == plan[name]
        rel = rsv.reliability_table(result, masks, aumi, "da").frame
        table = rsv.change_table(result, masks, aumi, "da").frame
        texts = rsv.text(result, masks, aumi, "da").split("\n\n")
        people = load_unit(aumi, name)["participants"]
        scores = scores_all[scores_all["person_id"].isin(people["person_id"])]
        counts, _ = dsurvey.survey_counts(scores, people, aumi)
        for scale in aumi.survey.scales:
            n = len(survey.analysed_pairs(scores, aumi, scale.id))
            hidden = plan[name][f"paired:{scale.id}"] or 0 < n < 5
            assert counts[f"paired:{scale.id}"] == n
            row = table[table["Skala"].eq(scale.label)].iloc[0]
            rel_n = rel.loc[rel["Skala"].eq(scale.label), "n"]
            text = next(t for t in texts if t.startswith(scale.label + ":"))
            att = next(t for t in texts if t.startswith(scale.label + " – frafald"))
            if hidden:
                assert row["Par (n)"] == "–" and (rel_n == "–").all()
                assert f" {n} " not in text and f" {n} " not in att
                continue
            checked += 1
            assert row["Par (n)"] == fmt_int(n) and (rel_n == fmt_int(n)).all()
            assert f"Blandt de {fmt_int(n)} unge" in text
            dropped = counts[f"dropped:{scale.id}"]
            if not plan[name][f"dropped:{scale.id}"] and dropped >= 5:
                assert (f"Af de {fmt_int(n + dropped)} unge med en gyldig score ved start af "
                        f"forløb indgår {fmt_int(n)} (") in att
                assert f"og {fmt_int(dropped)} har ingen gyldig score ved opfølgning" in att
            # no other person count in the texts: the figures there are n, the total, dropped,
            # or the scale's item counts of its missing-item rule
            allowed = {n, n + dropped, dropped, len(scale.items), 95,
                       scale.missing_rule.max_missing}
            assert not set(_counts(att.split(". ")[0] + ".")) - allowed, att
            assert set(_counts(text[len(scale.label):].split(" (")[0] + ".")) == {n}, text
        for t in texts:
            assert not [w for w in SIDE_CHANNELS if w in t], t
    assert checked >= 4  # the project and some delprojekter show their pairs

