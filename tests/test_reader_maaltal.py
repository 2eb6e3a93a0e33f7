"""The måltal for readers (``ungeanalyse.reader.maaltal``): the tables and sentences of notebook 02
and of the evaluation text, in both languages, with the unit's masks from the disclosure step;
a hidden figure shows one mark and no reason; without masks nothing is rendered."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.test_outcomes import aumi_table
from ungeanalyse import disclosure, i18n
from ungeanalyse.disclosure import maaltal as dmaaltal
from ungeanalyse.errors import UserError
from ungeanalyse.outcomes import Maaltal, maaltal
from ungeanalyse.reader import maaltal as rm
from ungeanalyse.results import ResultStore

RECOMMENDATION_DA = (
    "Se på visitationen til »Påbegynde«: succesraten er 42 procentpoint lavere end for "
    "»Fastholde« (fundet om forskellen mellem målgrupperne under Måltal). Det er en sammenhæng, "
    "ikke en målt virkning: den kan betyde, at vejen til målet er længere for nogle af disse unge "
    "end projektets tidsramme, eller at målgrupperne adskiller sig på andet end indsatsen."
)
SIDE_CHANNELS = ("færre end", "fewer than", "<5", "for få", "too few", "regnes ud",
                 "worked out", "skjult", "et antal")


def _demo(demo_fresh, name):
    """A copy of the session's demo (the disclosure step writes its masks into it)."""
    project = demo_fresh(name)
    return project.cfg(), project.result.participants.copy()


@pytest.fixture(scope="module")
def aumi(demo_fresh):
    return _demo(demo_fresh, "aumi")


@pytest.fixture(scope="module")
def aalborg(demo_fresh):
    return _demo(demo_fresh, "ungeindsats_aalborg")


def masks_for(table: pd.DataFrame, cfg, unit: str = "all") -> dict:
    """The disclosure step's masks for a table made in a test (no processed data to load)."""
    return {"maaltal": dmaaltal.maaltal_plan(table, cfg)[unit]}


def rows(table) -> list[list[str]]:
    return table.frame.astype(str).values.tolist()


def two_groups(fastholde: tuple[int, int], paabegynde: tuple[int, int]) -> pd.DataFrame:
    """Closed cases (goal met, not met) per target group, spread over two delprojekter."""
    out = []
    for tg, (goal, not_met) in (("fastholde", fastholde), ("paabegynde", paabegynde)):
        out += [(tg, "completed_or_retained")] * goal + [(tg, "referred_elsewhere")] * not_met
    df = pd.DataFrame(out, columns=["target_group", "outcome"])
    df["delprojekt"] = ["kommed" if i % 2 else "hoeretab" for i in range(len(df))]
    return df


def _render(cfg, table, tmp_path, lang="da") -> str:
    store = ResultStore.for_unit(cfg, "all", tmp_path / lang)
    store.save("maaltal", maaltal(table, cfg, lang=lang).to_dict())
    from tests.test_reader_evaluation import render_text

    return render_text(cfg, "all", store, lang=lang, masks=masks_for(table, cfg))


# -- the AUMI demo: the seed's figures, both languages ----------------------------------------


def test_the_aumi_tables_give_the_seeds_figures_in_both_languages(aumi):
    cfg, participants = aumi
    masks = disclosure.load_masks(cfg, "all")
    m = maaltal(participants, cfg)
    assert rm.intro(m, masks, cfg, "da") == (
        "**AUMI – Alle unge med imidt**: 195 unge har deltaget; 126 (65 %) har indfriet målet "
        "(påbegyndt eller gennemført en ungdomsuddannelse).")
    assert rm.intro(m, masks, cfg, "en") == (
        "**AUMI – All young people included in Central Denmark**: 195 young people took part; "
        "126 (65%) met the goal (started or completed a youth education).")
    groups = rm.groups_table(m, masks, cfg, "da")
    assert groups.caption == "Grupperet" and rows(groups)[0] == ["Mål indfriet", "126", "65 %"]
    assert rows(rm.breakdown_table(m, masks, cfg, "target_group", "da")) == [
        ["Påbegynde", "120", "58", "48 %", "40–57 %"], ["Fastholde", "75", "68", "91 %", "82–95 %"]]
    en = rm.breakdown_table(m, masks, cfg, "target_group", "en")
    assert en.caption == "Success rate by target group"
    assert list(en.frame.columns) == ["Target group", "Participants", "Goal met", "Success rate",
                                      "95% CI"]
    assert rows(en) == [["Start an education", "120", "58", "48%", "40–57%"],
                        ["Stay in education", "75", "68", "91%", "82–95%"]]
    outcomes_da = rm.outcomes_table(m, masks, cfg, "da")
    assert ["Påbegyndt ungdomsuddannelse", "Mål indfriet", "58", "30 %"] in rows(outcomes_da)
    assert ["Status ukendt", "Status ukendt", "6", "3 %"] in rows(outcomes_da)
    assert rm.cost_text(m, masks, cfg, "da") == (
        "Budget 25.345.510 kr.: 129.977 kr. pr. deltager og 201.155 kr. pr. ung, der har "
        "indfriet målet.")
    assert rm.cost_text(m, masks, cfg, "en") == (
        "Budget DKK 25,345,510: DKK 129,977 per participant and DKK 201,155 per young person who "
        "met the goal.")
    targets = rm.targets_table(m, masks, cfg, "da")
    # a count target has no interval (blank, not the mark of a hidden figure) and is assessed
    # by the share of the target reached
    assert rows(targets) == [["Antal med mål indfriet", "200", "126", "", "63 % af målet"]]
    assert targets.note == "Antal med mål indfriet i forhold til målet."


def test_aalborg_shows_its_target_groups_as_goal_met_of_everyone(aalborg):
    cfg, participants = aalborg
    masks = disclosure.load_masks(cfg, "all")
    m = maaltal(participants, cfg)
    table = rm.breakdown_table(m, masks, cfg, "target_group", "da")
    # 92 of 151 closed would give the 4 still active back; 92 of all 155 does not
    assert rows(table) == [["Påbegynde", "155", "92", "59 % af alle", "51–67 %"],
                           ["Fastholde", "85", "70", "82 % af alle", "73–89 %"]]
    assert table.note.endswith("vises i stedet mål indfriet som andel af alle unge i gruppen "
                               "(»af alle«).")
    assert rows(rm.breakdown_table(m, masks, cfg, "gender", "en")) == [
        ["Female", "118", "82", "69% of all", "61–77%"],
        ["Male", "122", "80", "66% of all", "57–73%"]]
    groups, note = rm.target_group_rates(m, masks, cfg, "da")
    assert groups[0] == {"label": "Påbegynde", "share": True,
                         "rate": "59 % (92 af de 155 unge)", "range": None,
                         "text": "59 % (92 af de 155 unge) har indfriet målet"}
    assert note == i18n.t("maaltal.share_note", "da")


# -- hidden figures: one mark, no reason, and never without masks ------------------------------


def test_a_hidden_figure_shows_one_mark_and_no_reason(aumi):
    cfg, participants = aumi
    masks = disclosure.load_masks(cfg, "kommed")
    m = maaltal(participants, cfg, unit="kommed")
    # KomMed: 32 of 36 met the goal and 4 did not; the tables hide both groups
    for lang, said in (("da", "36 unge har deltaget; hvor mange der har indfriet målet, "
                               "vises ikke."),
                       ("en", "36 young people took part; how many met the goal is not shown.")):
        intro = rm.intro(m, masks, cfg, lang)
        assert intro.endswith(said) and "32" not in intro
        texts = [intro, rm.outcomes_text(m, masks, cfg, lang), rm.unknown_text(m, masks, cfg, lang)]
        # the cells of every table (their notes give the reasons, once per table)
        texts += [rm.table(m, masks, cfg, name, lang).frame.to_string()
                  for name in ("outcomes", "groups", "targets", "target_group", "gender")]
        for text in texts:
            assert not [s for s in SIDE_CHANNELS if s in text], text
    groups = rm.groups_table(m, masks, cfg, "da")
    assert rows(groups)[0] == ["Mål indfriet", "–", "–"]
    assert "- Påbegyndt ungdomsuddannelse: – (–)" in rm.outcomes_text(m, masks, cfg, "da")
    assert rm.cost_text(m, masks, cfg, "da").startswith("Budgettet er ikke fordelt")


@pytest.mark.parametrize("call", [
    lambda m, cfg: rm.intro(m, None, cfg, "da"),
    lambda m, cfg: rm.outcomes_table(m, {}, cfg, "da"),
    lambda m, cfg: rm.breakdown_table(m, None, cfg, "target_group", "en"),
    lambda m, cfg: rm.outcomes_text(m, None, cfg, "da"),
    lambda m, cfg: rm.target_group_findings(m, None, cfg, "da"),
    lambda m, cfg: rm.plot_input(m, {"funnel": {}}, cfg, "da"),
])
def test_a_reader_function_without_masks_refuses_with_a_clear_error(aumi_cfg, call):
    m = maaltal(aumi_table(), aumi_cfg)
    with pytest.raises(UserError, match="disclosure masks; load them with "
                                        r"ungeanalyse\.disclosure\.load_masks\(cfg, unit\)"):
        call(m, aumi_cfg)


def test_the_saved_result_words_the_same_as_the_live_one(aumi):
    cfg, participants = aumi
    for unit in ("all", "fgu_motivation"):
        masks = disclosure.load_masks(cfg, unit)
        m = maaltal(participants, cfg, unit=unit)
        again = Maaltal.from_dict(m.to_dict())
        for lang in ("da", "en"):
            assert rm.evaluation_context(again, masks, cfg, lang) == \
                rm.evaluation_context(m, masks, cfg, lang)
            for name in ("outcomes", "groups", "targets", "target_group", "delprojekt"):
                assert rm.table(again, masks, cfg, name, lang).as_html() == \
                    rm.table(m, masks, cfg, name, lang).as_html()


# -- the target groups' difference, the targets and status ukendt ------------------------------


def test_a_clear_gap_between_target_groups_gives_the_sentence_naming_it(aumi_cfg, tmp_path):
    # AUMI: påbegynde 58 of 120 (48 %), fastholde 68 of 75 (91 %): 42 points lower, Newcombe
    # 95 % CI 30–52 points, and still clear of 0 with the 6 unknown in påbegynde as met
    table = aumi_table()
    m, masks = maaltal(table, aumi_cfg), masks_for(table, aumi_cfg)
    found = rm.target_group_findings(m, masks, aumi_cfg, "da")
    assert found["recommendations"] == [RECOMMENDATION_DA]
    assert found["text"].startswith(
        "Forskel mellem målgrupperne: succesraten er 42 procentpoint lavere for »Påbegynde« "
        "(48 %) end for »Fastholde« (91 %); 95 %-CI for forskellen 30 til 52 procentpoint "
        "(Newcombe).")
    text = _render(aumi_cfg, table, tmp_path)
    assert RECOMMENDATION_DA in text and "Forskel mellem målgrupperne: succesraten er 42" in text
    en = rm.target_group_findings(m, masks, aumi_cfg, "en")
    assert en["recommendations"][0].startswith(
        "Review referral to 'Start an education': the success rate is 42 percentage points "
        "lower than for 'Stay in education' (the finding on the difference between target "
        "groups under Target figures). This is an association, not a measured effect")
    assert "95% CI for the difference 30 to 52 points (Newcombe)" in en["text"]


def test_no_sentence_where_the_difference_is_within_noise_or_points_the_other_way(
        aumi_cfg, tmp_path):
    # påbegynde 33 of 50 (66 %) above fastholde 30 of 50 (60 %): the interval holds 0
    table = two_groups(fastholde=(30, 20), paabegynde=(33, 17))
    found = rm.target_group_findings(maaltal(table, aumi_cfg), masks_for(table, aumi_cfg),
                                     aumi_cfg, "da")
    assert found["recommendations"] == []
    assert found["text"].startswith(
        "Succesraten er 6 procentpoint lavere for »Fastholde« (60 %) end for »Påbegynde« (66 %); "
        "95 %-CI for forskellen −13 til 24 procentpoint (Newcombe); intervallet indeholder 0, så "
        "data viser ingen sikker forskel mellem målgrupperne.")
    for lang in ("da", "en"):
        text = _render(aumi_cfg, table, tmp_path, lang)
        assert "visitation" not in text.lower() and "referral" not in text.lower()
    # the other way and clear: fastholde 20 of 60 (33 %), påbegynde 50 of 60 (83 %); the
    # sentence names the group with the lower rate
    table = two_groups(fastholde=(20, 40), paabegynde=(50, 10))
    (rec,) = rm.target_group_findings(maaltal(table, aumi_cfg), masks_for(table, aumi_cfg),
                                      aumi_cfg, "da")["recommendations"]
    assert rec.startswith("Se på visitationen til »Fastholde«: succesraten er 50 procentpoint "
                          "lavere end for »Påbegynde«")


def test_a_gap_that_the_unknown_statuses_could_close_gives_no_sentence(aumi_cfg):
    # fastholde 30 of 50 (60 %), påbegynde 44 of 50 (88 %): clear with unknown as not met, but
    # fastholde's 12 unknown as met give 42 of 50 (84 %), and that gap holds 0
    df = two_groups(fastholde=(30, 8), paabegynde=(44, 6))
    extra = pd.DataFrame({"target_group": ["fastholde"] * 12, "outcome": ["unknown"] * 12,
                          "delprojekt": ["kommed", "hoeretab"] * 6})
    table = pd.concat([df, extra], ignore_index=True)
    m = maaltal(table, aumi_cfg)
    (gap,) = m.target_group_gaps
    assert gap.ci_high < 0 and gap.worst_ci_high > 0 and not gap.supported
    found = rm.target_group_findings(m, masks_for(table, aumi_cfg), aumi_cfg, "da")
    assert found["recommendations"] == []
    assert "men ikke hvis de unge med ukendt status i »Fastholde« tælles som indfriet" in \
        found["text"]


def test_aumi_target_is_the_goal_met_count(aumi_cfg, tmp_path):
    table = aumi_table()
    m, masks = maaltal(table, aumi_cfg), masks_for(table, aumi_cfg)
    assert rows(rm.targets_table(m, masks, aumi_cfg, "da")) == [
        ["Antal med mål indfriet", "200", "126", "", "63 % af målet"]]
    assert rm.target_sentences(m, masks, aumi_cfg, "da") == [
        "Antal med mål indfriet: 126 mod målet 200 (63 % af målet)."]
    text = _render(aumi_cfg, table, tmp_path)
    assert "- Mål: Antal med mål indfriet: 126 mod målet 200 (63 % af målet)." in text
    assert "98 %" not in text
    en = _render(aumi_cfg, table, tmp_path, "en")
    assert "Number with the goal met: 126 against 200 (63% of the target)." in en


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_overall_range_is_in_the_summary_where_it_changes_the_reading(aumi_cfg, tmp_path,
                                                                          lang):
    # 600 of 1,000 met the goal (60 %, CI 57–63 %); the 60 unknown as met give 66 %
    rows_ = ([("paabegynde", "started_youth_education")] * 600
             + [("paabegynde", "unknown")] * 60 + [("paabegynde", "referred_elsewhere")] * 340)
    df = pd.DataFrame(rows_, columns=["target_group", "outcome"])
    df["delprojekt"] = ["kommed" if i % 2 else "hoeretab" for i in range(len(df))]
    m = maaltal(df, aumi_cfg, lang=lang)
    assert m.unknown_matters
    said = ("Tælles de 60 unge med ukendt status som indfriet, er succesraten 66 %; den ligger "
            "altså mellem 60 % og 66 %." if lang == "da" else
            "Counting the 60 young people with unknown status as goal met gives 66%; the "
            "success rate thus lies between 60% and 66%.")
    assert rm.success(m, masks_for(df, aumi_cfg), aumi_cfg, lang)["unknown_text"] == said
    assert said in _render(aumi_cfg, df, tmp_path, lang)
    # without a change in the reading (AUMI: 65 % and 68 %, inside 58–71 %) no such sentence
    assert "ukendt status som indfriet, er succesraten" not in _render(
        aumi_cfg, aumi_table(), tmp_path)


def test_the_maaltal_notebook_says_what_unknown_status_does(aumi_cfg):
    table = aumi_table()
    m, masks = maaltal(table, aumi_cfg), masks_for(table, aumi_cfg)
    assert rm.unknown_text(m, masks, aumi_cfg, "da").startswith(
        "Tælles de 6 unge med ukendt status som indfriet, er succesraten 68 %; det ændrer ikke "
        "aflæsningen. Unge med ukendt status tæller som ikke indfriet i succesraten.")
    assert rm.unknown_text(m, masks, aumi_cfg, "en").startswith(
        "Counting the 6 young people with unknown status as goal met gives 68%; this does not "
        "change the reading.")
    # with no unknown status there is nothing to say
    table = two_groups((30, 20), (33, 17))
    assert rm.unknown_text(maaltal(table, aumi_cfg), masks_for(table, aumi_cfg), aumi_cfg,
                           "da") == ""


def _two_delprojekter(mix: tuple[tuple[str, int, int, int], ...]) -> pd.DataFrame:
    """KomMed and Høretab with the same closed cases: per target group, how many met the goal,
    have unknown status and were referred elsewhere."""
    out = []
    for d in ("kommed", "hoeretab"):
        for tg, goal, unknown, not_met in mix:
            out += [(d, tg, "started_youth_education")] * goal
            out += [(d, tg, "unknown")] * unknown + [(d, tg, "referred_elsewhere")] * not_met
    return pd.DataFrame(out, columns=["delprojekt", "target_group", "outcome"])


def test_a_share_target_inside_the_range_is_shown_as_a_range(aumi_cfg):
    cfg = aumi_cfg.model_copy(deep=True)
    cfg.targets.goal_met_share = 0.80
    cfg.targets.goal_met_count = None
    # 200 closed: 156 met the goal (78 %), 8 unknown (82 % as met), 36 did not; two
    # delprojekter of 100 with the same mix, so no count is small
    df = _two_delprojekter((("paabegynde", 38, 2, 10), ("fastholde", 40, 2, 8)))
    df["gender"] = ["kvinde" if i % 2 else "mand" for i in range(len(df))]
    m, masks = maaltal(df, cfg), masks_for(df, cfg)
    (check,) = m.targets
    assert check.unknown_matters and not masks["maaltal"]["upper"]
    table = rm.targets_table(m, masks, cfg, "da")
    assert table.frame["Spænd med ukendt status"].tolist() == ["78–82 %"]
    assert "ukendt status tæller som ikke indfriet" in table.note
    en = rm.targets_table(m, masks, cfg, "en")
    assert en.frame["Range with unknown status"].tolist() == ["78–82%"]
    sentence = rm.target_sentence(check, "da", upper_hidden=False)
    assert sentence.startswith("Andel med mål indfriet: 78 % mod målet 80 % – omkring målet. "
                               "Andelen med mål")
    assert sentence.endswith(
        "Med ukendt status talt som indfriet: 82 % – omkring målet (spænd 78–82 %).")
    # each category's 4 unknown are under the limit: the plan keeps the range back
    assert masks["maaltal"]["breakdowns"]["target_group"]["paabegynde"]["upper"]
    assert "Spænd med ukendt status" not in rm.breakdown_table(
        m, masks, cfg, "target_group", "da").frame.columns


def test_a_range_in_a_breakdown_when_the_unknown_count_may_be_shown(aumi_cfg):
    cfg = aumi_cfg.model_copy(deep=True)
    cfg.targets.goal_met_share = 0.80
    df = _two_delprojekter((("paabegynde", 76, 8, 16), ("fastholde", 90, 0, 10)))
    m, masks = maaltal(df, cfg), masks_for(df, cfg)
    table = rm.breakdown_table(m, masks, cfg, "target_group", "da")
    # påbegynde: 152 of 200 (76 %) → 168 of 200 (84 %) crosses 80 %; fastholde has none
    assert table.frame.set_index("Målgruppe")["Spænd med ukendt status"].to_dict() == {
        "Påbegynde": "76–84 %", "Fastholde": ""}
    assert "vises som et spænd" in table.note
    en = rm.breakdown_table(m, masks, cfg, "target_group", "en")
    assert en.frame["Range with unknown status"].tolist() == ["76–84%", ""]
