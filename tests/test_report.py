"""The reader layer's måltal text: the target-group sentence only from a difference that holds,
the targets as the seed states them, and the range for status ukendt."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.test_outcomes import aumi_table
from ungeanalyse import report
from ungeanalyse.outcomes import maaltal
from ungeanalyse.results import ResultStore

RECOMMENDATION_DA = (
    "Se på visitationen til »Påbegynde«: succesraten er 42 procentpoint lavere end for "
    "»Fastholde« (fundet om forskellen mellem målgrupperne under Måltal). Det er en sammenhæng, "
    "ikke en målt virkning: den kan betyde, at vejen til målet er længere for nogle af disse unge "
    "end projektets tidsramme, eller at målgrupperne adskiller sig på andet end indsatsen."
)


def two_groups(fastholde: tuple[int, int], paabegynde: tuple[int, int]) -> pd.DataFrame:
    """Closed cases (goal met, not met) per target group, spread over two delprojekter."""
    rows = []
    for tg, (goal, not_met) in (("fastholde", fastholde), ("paabegynde", paabegynde)):
        rows += [(tg, "completed_or_retained")] * goal + [(tg, "referred_elsewhere")] * not_met
    df = pd.DataFrame(rows, columns=["target_group", "outcome"])
    df["delprojekt"] = ["kommed" if i % 2 else "hoeretab" for i in range(len(df))]
    return df


def _render(cfg, m, tmp_path, lang="da") -> str:
    from tests.test_reader_evaluation import render_text

    store = ResultStore.for_unit(cfg, "all", tmp_path / lang)
    store.save("maaltal", m.to_dict())
    return render_text(cfg, "all", store, lang=lang)


def test_a_clear_gap_between_target_groups_gives_the_sentence_naming_it(aumi_cfg, tmp_path):
    # AUMI: påbegynde 58 of 120 (48 %), fastholde 68 of 75 (91 %): 42 points lower, Newcombe
    # 95 % CI 30–52 points, and still clear of 0 with the 6 unknown in påbegynde as met
    m = maaltal(aumi_table(), aumi_cfg)
    found = report.target_group_findings(m.to_dict(), 5, "da")
    assert found["recommendations"] == [RECOMMENDATION_DA]
    assert found["text"].startswith(
        "Forskel mellem målgrupperne: succesraten er 42 procentpoint lavere for »Påbegynde« "
        "(48 %) end for »Fastholde« (91 %); 95 %-CI for forskellen 30 til 52 procentpoint "
        "(Newcombe).")
    text = _render(aumi_cfg, m, tmp_path)
    assert RECOMMENDATION_DA in text and "Forskel mellem målgrupperne: succesraten er 42" in text
    en = report.target_group_findings(maaltal(aumi_table(), aumi_cfg, lang="en").to_dict(), 5,
                                      "en")
    assert en["recommendations"][0].startswith(
        "Review referral to 'Start an education': the success rate is 42 percentage points "
        "lower than for 'Stay in education' (the finding on the difference between target "
        "groups under Target figures). This is an association, not a measured effect")
    assert "95% CI for the difference 30 to 52 points (Newcombe)" in en["text"]


def test_no_sentence_where_the_difference_is_within_noise_or_points_the_other_way(
        aumi_cfg, tmp_path):
    # påbegynde 33 of 50 (66 %) above fastholde 30 of 50 (60 %): the interval holds 0
    m = maaltal(two_groups(fastholde=(30, 20), paabegynde=(33, 17)), aumi_cfg)
    found = report.target_group_findings(m.to_dict(), 5, "da")
    assert found["recommendations"] == []
    assert found["text"].startswith(
        "Succesraten er 6 procentpoint lavere for »Fastholde« (60 %) end for »Påbegynde« (66 %); "
        "95 %-CI for forskellen −13 til 24 procentpoint (Newcombe); intervallet indeholder 0, så "
        "data viser ingen sikker forskel mellem målgrupperne.")
    for lang in ("da", "en"):
        text = _render(aumi_cfg, maaltal(two_groups((30, 20), (33, 17)), aumi_cfg, lang=lang),
                       tmp_path, lang)
        assert "visitation" not in text.lower() and "referral" not in text.lower()
    # the other way and clear: fastholde 20 of 60 (33 %), påbegynde 50 of 60 (83 %); the
    # sentence names the group with the lower rate
    m = maaltal(two_groups(fastholde=(20, 40), paabegynde=(50, 10)), aumi_cfg)
    (rec,) = report.target_group_findings(m.to_dict(), 5, "da")["recommendations"]
    assert rec.startswith("Se på visitationen til »Fastholde«: succesraten er 50 procentpoint "
                          "lavere end for »Påbegynde«")


def test_a_gap_that_the_unknown_statuses_could_close_gives_no_sentence(aumi_cfg):
    # fastholde 30 of 50 (60 %), påbegynde 44 of 50 (88 %): clear with unknown as not met, but
    # fastholde's 12 unknown as met give 42 of 50 (84 %), and that gap holds 0
    df = two_groups(fastholde=(30, 8), paabegynde=(44, 6))
    extra = pd.DataFrame({"target_group": ["fastholde"] * 12, "outcome": ["unknown"] * 12,
                          "delprojekt": ["kommed", "hoeretab"] * 6})
    m = maaltal(pd.concat([df, extra], ignore_index=True), aumi_cfg)
    (gap,) = m.target_group_gaps
    assert gap.ci_high < 0 and gap.worst_ci_high > 0 and not gap.supported
    found = report.target_group_findings(m.to_dict(), 5, "da")
    assert found["recommendations"] == []
    assert "men ikke hvis de unge med ukendt status i »Fastholde« tælles som indfriet" in \
        found["text"]


def test_aumi_target_is_the_goal_met_count(aumi_cfg, tmp_path):
    m = maaltal(aumi_table(), aumi_cfg)
    table = report.maaltal_reader_table(m, aumi_cfg, "targets")[0]
    assert table.iloc[0].tolist() == ["Antal med mål indfriet", "200", "126", "–", "–"]
    text = _render(aumi_cfg, m, tmp_path)
    assert "- Mål: Antal med mål indfriet: 126 mod målet 200 (63 % af målet)." in text
    assert "98 %" not in text
    en = _render(aumi_cfg, maaltal(aumi_table(), aumi_cfg, lang="en"), tmp_path, "en")
    assert "Number with the goal met: 126 against 200 (63% of the target)." in en


@pytest.mark.parametrize("lang", ["da", "en"])
def test_the_overall_range_is_in_the_summary_where_it_changes_the_reading(aumi_cfg, tmp_path,
                                                                          lang):
    # 600 of 1,000 met the goal (60 %, CI 57–63 %); the 60 unknown as met give 66 %
    rows = ([("paabegynde", "started_youth_education")] * 600 + [("paabegynde", "unknown")] * 60
            + [("paabegynde", "referred_elsewhere")] * 340)
    df = pd.DataFrame(rows, columns=["target_group", "outcome"])
    df["delprojekt"] = ["kommed" if i % 2 else "hoeretab" for i in range(len(df))]
    m = maaltal(df, aumi_cfg, lang=lang)
    assert m.unknown_matters
    text = _render(aumi_cfg, m, tmp_path, lang)
    assert ("Tælles de 60 unge med ukendt status som indfriet, er succesraten 66 %; den ligger "
            "altså mellem 60 % og 66 %." if lang == "da" else
            "Counting the 60 young people with unknown status as goal met gives 66%; the "
            "success rate thus lies between 60% and 66%.") in text
    # without a change in the reading (AUMI: 65 % and 68 %, inside 58–71 %) no such sentence
    assert "ukendt status som indfriet, er succesraten" not in _render(
        aumi_cfg, maaltal(aumi_table(), aumi_cfg), tmp_path)


def test_the_maaltal_notebook_says_what_unknown_status_does(aumi_cfg):
    m = maaltal(aumi_table(), aumi_cfg)
    text = report.maaltal_unknown_text(m, aumi_cfg, "da")
    assert text.startswith("Tælles de 6 unge med ukendt status som indfriet, er succesraten "
                           "68 %; det ændrer ikke aflæsningen. Unge med ukendt status tæller som "
                           "ikke indfriet i succesraten.")
    en = report.maaltal_unknown_text(maaltal(aumi_table(), aumi_cfg, lang="en"), aumi_cfg, "en")
    assert en.startswith("Counting the 6 young people with unknown status as goal met gives 68%; "
                         "this does not change the reading.")
    # with no unknown status there is nothing to say
    assert report.maaltal_unknown_text(
        maaltal(two_groups((30, 20), (33, 17)), aumi_cfg), aumi_cfg) == ""
