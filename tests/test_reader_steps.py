"""Skridt på vejen for readers (``ungeanalyse.reader.steps``): the funnel table and figure input,
the time-to-education table and text, in both languages, with the unit's masks; a hidden figure
shows one mark and no reason, and nothing is rendered without masks."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.test_steps import IDS, START, cohort, day, tiny_participants, tiny_steps
from ungeanalyse import disclosure, plot
from ungeanalyse import steps as stepslib
from ungeanalyse.disclosure import funnel as dfunnel
from ungeanalyse.errors import UserError
from ungeanalyse.reader import steps as rs
from ungeanalyse.results import load_unit

HIDDEN_REASONS = ("færre end", "fewer than", "for få", "too few", "regnes ud", "worked out")


@pytest.fixture()
def cfg(aumi_cfg):
    return aumi_cfg.model_copy(deep=True)


def made(steps: pd.DataFrame, parts: pd.DataFrame, cfg, by: str | None = "target_group"
         ) -> tuple[stepslib.StepsResult, dict]:
    """A hand-made unit's result and the masks the disclosure step gives it (the whole
    project is this unit: its funnel plan, no måltal plan)."""
    tables = {"steps": steps, "participants": parts}
    plan = dfunnel.funnel_plan(steps, parts, cfg, by=by) if len(parts) else {}
    return stepslib.analyse(tables, cfg, by=by), {"funnel": plan.get("all", {}), "maaltal": None}


def _demo(demo_fresh, name):
    return demo_fresh(name).cfg()


@pytest.fixture(scope="module")
def aumi(demo_fresh):
    return _demo(demo_fresh, "aumi")


@pytest.fixture(scope="module")
def aalborg(demo_fresh):
    return _demo(demo_fresh, "ungeindsats_aalborg")


def unit(cfg, name: str) -> tuple[stepslib.StepsResult, dict]:
    """A demo unit's steps as notebook 02 makes them, and its masks."""
    return (stepslib.analyse(load_unit(cfg, name), cfg, load_unit(cfg, "all")),
            disclosure.load_masks(cfg, name))


# -- the demo projects ---------------------------------------------------------------------------


def test_the_aumi_funnel_and_time_to_start_in_both_languages(aumi):
    result, masks = unit(aumi, "all")
    table = rs.funnel_table(result, masks, aumi, "da")
    assert list(table.frame.columns) == ["Skridt", "Påbegynde (n = 120)", "Fastholde (n = 75)",
                                         "Alle unge (n = 195)"]
    assert table.frame.iloc[-1].tolist() == ["Påbegyndt ungdomsuddannelse", "58 (48 %)",
                                             "0 (0 %)", "58 (30 %)"]
    en = rs.funnel_table(result, masks, aumi, "en")
    assert en.caption == "Steps on the way" and en.frame.iloc[-1].tolist() == [
        "Started youth education", "58 (48%)", "0 (0%)", "58 (30%)"]
    assert en.note.startswith("Young people who reached the step or a later one")
    time = rs.time_table(result, masks, aumi, "da")
    assert time.frame.iloc[0].tolist() == ["Påbegynde", "120", "58", "4 % (2–9 %)",
                                           "22 % (15–29 %)", "43 % (34–52 %)", "48 % (39–57 %)"]
    assert time.note is None  # nothing hidden, no note
    text = rs.time_text(result, masks, aumi, "da")
    assert text.startswith(
        "Målgruppe »Påbegynde«: Af de 120 unge startede 58 på en uddannelse. Andelen, der var "
        "startet på en uddannelse, var 4 % (95 %-CI 2–9 %) efter 3 måneder, 22 % (95 %-CI "
        "15–29 %) efter 6 måneder og 43 % (95 %-CI 34–52 %) efter 12 måneder. Ved udgangen af "
        "opfølgningen (532 dage efter start) var 48 % (95 %-CI 39–57 %) startet, og 52 % (95 %-CI "
        "42–60 %) havde afsluttet forløbet uden at starte; halvdelen var altså ikke startet ved "
        "udgangen af opfølgningen.")
    assert text.endswith("følges til dataudtrækket (31. oktober 2021). Målgruppen »Fastholde« "
                         "indgår ikke: den handler om at blive i uddannelse, ikke om at starte.")
    en = rs.time_text(result, masks, aumi, "en")
    assert en.startswith("Target group “Start an education”: Of the 120 young people, 58 "
                         "started an education.")
    assert "so half had not started by the end of follow-up" in en and "Log-rank" not in en
    # the saved result words the same
    again = stepslib.StepsResult.from_dict(result.to_dict())
    assert rs.time_text(again, masks, aumi, "en") == en
    assert rs.funnel_table(again, masks, aumi, "da").as_html() == table.as_html()


def test_aalborg_hides_the_three_months_share_with_one_mark(aalborg):
    result, masks = unit(aalborg, "all")
    time = rs.time_table(result, masks, aalborg, "da")
    assert time.frame.iloc[0].tolist() == ["Påbegynde", "155", "92", "–", "19 % (14–26 %)",
                                           "50 % (42–58 %)", "60 % (51–67 %)"]
    assert time.note.startswith("– betyder, at tallet ikke vises")
    text = rs.time_text(result, masks, aalborg, "da")
    assert ("var 19 % (95 %-CI 14–26 %) efter 6 måneder og 50 % (95 %-CI 42–58 %) efter 12 "
            "måneder. Efter 3 måneder vises andelen ikke. Ved udgangen") in text
    assert "By 3 months the share is not shown. By the end" in rs.time_text(
        result, masks, aalborg, "en")
    # Brobygning: the funnel plan hides the 45 påbegynde's starts (a partner of a small count
    # elsewhere): the same words as for a small group, no reason
    result, masks = unit(aalborg, "brobygning")
    text = rs.time_text(result, masks, aalborg, "da")
    assert text.startswith("Målgruppe »Påbegynde«: 45 unge – tiden til uddannelse vises ikke. "
                           "Tiden regnes")
    assert rs.time_table(result, masks, aalborg, "da") is None
    assert rs.cif_input(result, masks, aalborg, "da") is None
    for lang in ("da", "en"):
        texts = [rs.time_text(result, masks, aalborg, lang),
                 rs.funnel_table(result, masks, aalborg, lang).frame.to_string()]
        assert not [w for t in texts for w in HIDDEN_REASONS if w in t]


def test_a_small_group_size_is_not_given_back(aumi):
    # Motivation på FGU: 36 påbegynde and 4 fastholde, 40 in all
    result, masks = unit(aumi, "fgu_motivation")
    table = rs.funnel_table(result, masks, aumi, "da")
    headers = list(table.frame.columns[1:])
    assert headers == ["Påbegynde (n = –)", "Alle unge (n = 40)"]
    assert not table.frame[headers[0]].str.contains("%").any()  # no share gives 36 back either
    fig = plot.funnel_plot(rs.funnel_plot_input(result, masks, aumi, "da"))
    assert [bars.get_label() for bars in fig.axes[0].containers] == ["Alle unge"]
    # its 18 who started are the status the måltal tables hide (to protect the 4 who stayed):
    # the plan hides them here too, with the same words as a small group
    text = rs.time_text(result, masks, aumi, "da")
    assert "36" not in text and "18" not in text
    assert text.startswith("Målgruppe »Påbegynde«: Tiden til uddannelse vises ikke. Tiden")
    assert rs.curves_hidden_text(result, masks, aumi, "da") == (
        "Kurverne over tiden til uddannelse vises ikke, fordi gruppernes størrelse ikke vises.")
    assert rs.cif_input(result, masks, aumi, "da") is None


def test_a_unit_without_steps_says_why(aumi):
    tables = load_unit(aumi, "all")
    none = stepslib.analyse({**tables, "steps": tables["steps"].iloc[0:0]}, aumi, tables)
    masks = disclosure.load_masks(aumi, "all")
    assert rs.missing_text(none, "da") == ("Der er ingen registreringer af skridt på vejen for "
                                           "denne enhed.")
    assert rs.missing_text(none, "en") == "No steps were logged for this unit."
    assert rs.funnel_table(none, masks, aumi, "da") is None and \
        rs.time_text(none, masks, aumi, "da") == ""
    cfg = aumi.model_copy(deep=True)
    cfg.steps.ladder = []
    assert rs.missing_text(stepslib.analyse(tables, cfg), "da") == (
        "Projektet har ikke leveret registreringer af skridt på vejen.")


def test_without_masks_nothing_is_rendered(aumi):
    result = stepslib.analyse(load_unit(aumi, "all"), aumi)
    for call in (rs.funnel_table, rs.time_table, rs.time_text, rs.funnel_plot_input):
        with pytest.raises(UserError, match="no disclosure masks; load them with"):
            call(result, None, aumi, "da")
    with pytest.raises(UserError, match="the masks hold no funnel plan"):
        rs.time_text(result, {"maaltal": {}}, aumi, "da")


# -- by hand ------------------------------------------------------------------------------------


def test_the_funnel_figure_input_has_labels_and_the_plans_cells(cfg):
    result, masks = made(tiny_steps(), tiny_participants(), cfg)
    f = rs.funnel_plot_input(result, masks, cfg, "da")
    assert f.attrs["group_label"] == "Målgruppe" and f.attrs["step_label"] == "Skridt"
    last = f[(f["group"] == "all") & (f["step"] == "startet")].iloc[0]
    assert last["Skridt"] == "Påbegyndt ungdomsuddannelse" and last["Målgruppe"] == "Alle unge"
    assert f["suppressed"].all()  # every count is 1–4
    en = rs.funnel_plot_input(result, masks, cfg, "en")
    assert {"Target group", "Step"} <= set(en.columns)
    table = rs.funnel_table(result, masks, cfg, "da")
    assert table.frame.columns.tolist() == ["Skridt", "Alle unge (n = 5)"]  # groups under 5 out
    assert set(table.frame["Alle unge (n = 5)"]) == {"–"} and table.caption == "Skridt på vejen"
    assert "under 5" in table.note and "<5" not in table.note
    # the figure leaves the hidden points out and marks them
    cfg.privacy.min_cell = 2
    result, masks = made(tiny_steps(), tiny_participants(), cfg)
    f = rs.funnel_plot_input(result, masks, cfg, "da")
    ax = plot.funnel_plot(f).axes[0]
    assert sum(len(c.patches) for c in ax.containers) == len(f) - int(f["suppressed"].sum())
    assert "vises ikke" in [t.get_text() for t in ax.texts]  # one wording, whatever the reason
    # one group is everyone: nothing to subtract, no partner needed; counts 4 and 3 stay, but
    # the 3 at the last step goes, as 4 − 3 = 1 stopped before it (the plan's stops)
    cfg.privacy.min_cell = 3
    result, masks = made(tiny_steps(), tiny_participants().assign(target_group="paabegynde"),
                         cfg)
    f = rs.funnel_plot_input(result, masks, cfg, "da")
    assert f["suppressed"].tolist() == ([False] * 5 + [True]) * 2


def test_the_time_to_start_text_by_hand(cfg):
    cfg.privacy.min_cell = 1
    result, masks = made(tiny_steps(), tiny_participants(), cfg)
    text = rs.time_text(result, masks, cfg, "da")
    assert text.startswith("Målgruppe »Påbegynde«: Af de 3 unge startede 2 på en uddannelse.")
    assert "var 67 % (95 %-CI" in text and "efter 12 måneder" in text
    assert "33 % (95 %-CI" in text and "havde afsluttet forløbet uden at starte" in text
    assert "halvdelen var startet efter 90 dage" in text
    assert "Målgruppen »Fastholde« indgår ikke" in text
    en = rs.time_text(result, masks, cfg, "en")
    assert "Of the 3 young people, 2 started an education." in en
    assert "The target group “Stay in education” is left out" in en
    # the data extract date from the config, else from the data (and the text says so)
    cfg.project.data_extract_date = day(70).date()
    result, masks = made(tiny_steps(), tiny_participants(), cfg)
    assert "følges til dataudtrækket (11. marts 2020)" in rs.time_text(result, masks, cfg, "da")
    cfg.project.data_extract_date = None
    result, masks = made(tiny_steps(), tiny_participants(), cfg)
    assert ("følges til den seneste dato i data, da konfigurationen ikke angiver datoen for "
            "dataudtrækket (project.data_extract_date) (31. marts 2020)") in rs.time_text(
        result, masks, cfg, "da")
    assert "the latest date in the data" in rs.time_text(result, masks, cfg, "en")


def test_the_log_rank_test_between_two_start_groups_is_reported(cfg):
    cfg.target_groups["fastholde"].goal = "start"
    cfg.privacy.min_cell = 1
    result, masks = made(tiny_steps(), tiny_participants(), cfg)
    text = rs.time_text(result, masks, cfg, "da")
    assert "En log-rank-test af raten for at starte (årsagsspecifik) viser" in text
    assert "indgår ikke" not in text
    assert rs.time_table(result, masks, cfg, "da").frame["Målgruppe"].tolist() == [
        "Påbegynde", "Fastholde"]


def test_shares_that_would_give_a_small_count_back_show_one_mark(cfg):
    # 20 påbegynde: 3 start in the first 3 months, 9 more by 12 months, 8 end without a start
    people = [(40, None)] * 3 + [(300, None)] * 9 + [(None, 400)] * 8
    result, masks = made(*reversed(cohort(cfg, people)), cfg)
    text = rs.time_text(result, masks, cfg, "da")
    assert "Efter 3 og 6 måneder vises andelen ikke." in text
    assert "var 60 % (95 %-CI" in text and "efter 12 måneder" in text
    assert "15 %" not in text  # 3 of 20
    assert "40 % (95 %-CI" in text  # ended without a start: 8 of 20, no one still followed
    table = rs.time_table(result, masks, cfg, "da")
    assert table.frame.iloc[0]["Startet efter 3 mdr. (95 %-CI)"] == "–"
    assert table.note.startswith("– betyder")
    # three still followed: the ended share would give them back (20 − 12 − 5)
    result, masks = made(*reversed(cohort(cfg, people[:-3] + [(None, None)] * 3)), cfg)
    assert "uden at starte" not in rs.time_text(result, masks, cfg, "da")


def test_a_small_stay_group_hides_the_start_groups_size(cfg):
    # 20 påbegynde and 3 fastholde: 20 would give the 3 back from the 23 the måltal show
    parts, steps = cohort(cfg, [(40, None)] * 6 + [(300, None)] * 6 + [(None, 400)] * 8, stay=3)
    result, masks = made(steps, parts, cfg)
    text = rs.time_text(result, masks, cfg, "da").split(" Tiden regnes")[0]
    assert text == ("Målgruppe »Påbegynde«: 12 unge startede på en uddannelse; halvdelen var "
                    "startet efter 300 dage. Andelene vises ikke, fordi gruppens størrelse ikke "
                    "vises.")
    assert rs.time_table(result, masks, cfg, "da") is None
    assert rs.cif_input(result, masks, cfg, "da") is None


def test_small_counts_in_the_text_are_neither_numbers_nor_reasons(cfg):
    result, masks = made(tiny_steps(), tiny_participants(), cfg, by=None)
    text = rs.time_text(result, masks, cfg, "da").split(" Tiden regnes")[0]
    # 3 påbegynde, 2 started: counts under 5, so neither the shares nor the numbers are shown
    assert text == "Tiden til uddannelse vises ikke."
    result, masks = made(tiny_steps(), tiny_participants(), cfg)
    assert rs.time_text(result, masks, cfg, "da").startswith(
        "Målgruppe »Påbegynde«: Tiden til uddannelse vises ikke.")
    assert rs.time_text(result, masks, cfg, "en").startswith(
        "Target group “Start an education”: The time to education is not shown.")
    # a missing date and a start after the extract: 'nogle', no number and no '<5'
    steps = tiny_steps()
    steps.loc[steps["person_id"].eq(IDS["C"]) & steps["step"].eq("startet"), "date"] = pd.NaT
    result, masks = made(steps, tiny_participants(), cfg)
    assert "For nogle unge mangler datoen for skridtet; de indgår ikke i beregningen." in \
        rs.time_text(result, masks, cfg, "da")
    people = [(40, None)] * 6 + [(300, None)] * 6 + [(None, 400)] * 8
    parts, steps = cohort(cfg, people)
    cfg.project.data_extract_date = day(500).date()
    late = parts.iloc[:6].assign(person_id=[f"{i + 2000:016x}" for i in range(6)],
                                 start_date=day(600))
    result, masks = made(steps, pd.concat([parts, late]), cfg)
    assert "6 unge begyndte forløbet efter dataudtrækket og indgår ikke." in rs.time_text(
        result, masks, cfg, "da")
    result, masks = made(steps, pd.concat([parts, late.iloc[:2]]), cfg)
    assert "Nogle unge begyndte forløbet efter dataudtrækket og indgår ikke." in rs.time_text(
        result, masks, cfg, "da")


def test_empty_and_unconfigured(cfg):
    cfg.privacy.min_cell = 1
    parts = tiny_participants()
    result, masks = made(tiny_steps().iloc[0:0].assign(date=START), parts, cfg)
    assert result.status == "not_delivered"
    assert rs.missing_text(result, "en") == "The project has supplied no logs of steps."
    result = stepslib.StepsResult("ok", "target_group", stepslib.funnel(
        tiny_steps(), parts, cfg), stepslib.time_to_education(tiny_steps().iloc[0:0], parts,
                                                               cfg))
    masks = {"funnel": dfunnel.funnel_plan(tiny_steps(), parts, cfg)["all"]}
    assert "Ingen af de 3 unge er registreret som startet på en uddannelse." in rs.time_text(
        result, masks, cfg, "da")
    cfg.steps.education_start_step = None
    result, masks = made(tiny_steps(), parts, cfg)
    assert "education_start_step" in rs.time_text(result, masks, cfg, "da")
