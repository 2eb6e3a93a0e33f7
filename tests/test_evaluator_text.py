"""The evaluator's own words: texts beside the config merged into the final evaluation and the
pixi, live results by name, a clear error for an unknown name, hand-typed numbers checked."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.test_outcomes import aumi_table
from tests.test_reader_evaluation import render_text
from ungeanalyse import evaluator_text
from ungeanalyse.config import load_config
from ungeanalyse.errors import UserError
from ungeanalyse.outcomes import maaltal
from ungeanalyse.results import ResultStore

ROOT = Path(__file__).resolve().parents[1]


def _project(tmp_path: Path, texts: dict[str, str]):
    """The AUMI config in a folder of its own, with only the given evaluator texts."""
    shutil.copytree(ROOT / "config", tmp_path / "config",
                    ignore=shutil.ignore_patterns("tekster"))
    folder = tmp_path / "config" / "tekster"
    folder.mkdir()
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    return load_config(tmp_path / "config" / "aumi.yml")


def _with_goal_met(extra: int):
    """AUMI's seed table (126 of 195 goal met) with ``extra`` more goal met."""
    df = aumi_table()
    idx = df.index[df["outcome"].eq("referred_elsewhere")][:extra]
    df.loc[idx, "outcome"] = "completed_or_retained"
    return df


def _render(cfg, table, tmp_path, variant="full", lang="da") -> str:
    store = ResultStore.for_unit(cfg, "all", tmp_path / "store")
    store.save("maaltal", maaltal(table, cfg, lang=lang).to_dict())
    return render_text(cfg, "all", store, variant=variant, lang=lang)


LIVE = ("Af {{ deltagere }} unge har {{ maaltal.goal_met }} ({{ maaltal.goal_met_pct }}) "
        "indfriet målet; succesraten er {{ maaltal.success_rate }}.\n")


def test_live_numbers_follow_the_data(tmp_path):
    cfg = _project(tmp_path, {"anbefalinger.md": "# Anbefalinger\n\n" + LIVE})
    before = _render(cfg, aumi_table(), tmp_path)
    assert "Af 195 unge har 126 (65 %) indfriet målet; succesraten er 65 %." in before
    after = _render(cfg, _with_goal_met(4), tmp_path)
    assert "Af 195 unge har 130 (67 %) indfriet målet; succesraten er 67 %." in after
    # the evaluator's text takes the place of the generated recommendations, in both texts
    section = after[after.index("## Konklusioner og anbefalinger"):]
    assert section.startswith("## Konklusioner og anbefalinger\n\n### Anbefalinger\n\nAf 195")
    assert after.count("Anbefalinger\n") == 1  # its own top heading gives way to the report's
    assert "Se på visitationen til »Påbegynde«" not in section
    pixi = _render(cfg, _with_goal_met(4), tmp_path, variant="pixi")
    assert "## Anbefalinger\n\nAf 195 unge har 130 (67 %) indfriet målet" in pixi


def test_where_the_evaluator_wrote_nothing_the_generated_text_stays(tmp_path):
    cfg = _project(tmp_path, {"konklusioner.md": "Projektet har nået sit mål.\n",
                              "forord.md": "Tak til partnerne.\n"})
    text = _render(cfg, aumi_table(), tmp_path)
    assert "\n## Forord\n\nTak til partnerne.\n\n## Resumé" in text
    assert "### Konklusioner\n\nProjektet har nået sit mål.\n\n### Anbefalinger\n" in text
    # the generated recommendation from the gap between the target groups is still there
    assert "- Se på visitationen til »Påbegynde«: succesraten er 42 procentpoint lavere" in text
    # an English report reads only English texts: no Danish prose in it
    en = _render(cfg, aumi_table(), tmp_path, lang="en")
    assert "Tak til partnerne" not in en and "## Foreword" not in en


def test_unknown_result_is_an_error_naming_file_line_and_the_names(tmp_path):
    cfg = _project(tmp_path, {"konklusioner.md": "Første linje.\n\n"
                                                 "Mål: {{ maaltal.goal_mett }} unge.\n"})
    with pytest.raises(UserError) as err:
        _render(cfg, aumi_table(), tmp_path)
    assert str(err.value) == (
        "config/tekster/konklusioner.md, linje 3: ukendt resultat »maaltal.goal_mett«. Kendte "
        "navne under »maaltal«: cost_per_goal_met, cost_per_participant, goal_description, "
        "goal_met, goal_met_pct, n_participants, success_ci, success_rate.")
    (tmp_path / "config" / "tekster" / "konklusioner.md").write_text(
        "{{ H9.verdict }}\n", encoding="utf-8")
    with pytest.raises(UserError, match=r"^config/tekster/konklusioner\.md, linje 1: ukendt "
                                        r"resultat »H9\.verdict«\. Kendte navne: budget, "
                                        r"deltagere, genererede_anbefalinger"):
        _render(cfg, aumi_table(), tmp_path)


def test_the_sandbox_refuses_python_internals(tmp_path):
    cfg = _project(tmp_path, {"forord.md": "x\n{{ maaltal.__class__.__mro__ }}\n"})
    with pytest.raises(UserError, match=r"^config/tekster/forord\.md, linje 2: ikke tilladt i "
                                        r"en tekst"):
        _render(cfg, aumi_table(), tmp_path)


def test_a_number_typed_by_hand_that_contradicts_the_results_is_flagged(tmp_path):
    cfg = _project(tmp_path, {"anbefalinger.md": (
        "I alt 195 unge deltog, og 126 unge indfriede målet.\n"
        "Det er 67 % af deltagerne, mens 77 % af pigerne nåede målet.\n"
        "Målet er {{ maaltal.goal_met }} unge.\n")})
    text = _render(cfg, _with_goal_met(4), tmp_path)  # 130 goal met, 67 %
    assert ("> **Tjek tallet:** config/tekster/anbefalinger.md, linje 1: »126 unge« passer ikke "
            "med noget tal i resultaterne (maaltal.goal_met er 130). Skriv navnet på resultatet "
            "i stedet (fx {{ maaltal.goal_met }}), så tallet følger data.") in text
    assert "linje 2: »77 %« passer ikke med noget tal i resultaterne" in text
    # what the results show is not flagged: 195 participants, 67 %, and the live number
    assert "»195 unge«" not in text and "»67 %«" not in text and "linje 3" not in text
    warnings = ResultStore.for_unit(cfg, "all", tmp_path / "store").load("evaluator_text")
    assert len(warnings["warnings"]) == 2
    # with the data the text was written for, 126 is right and only 67 % and 77 % are flagged
    text = _render(cfg, aumi_table(), tmp_path)
    assert "»126 unge«" not in text and "»67 %«" in text and "»77 %«" in text


def test_interpretation_per_hypothesis_and_headings_below_the_section(tmp_path):
    cfg = _project(tmp_path, {"H1.md": "## Vores læsning\n\nH1 er {{ H1.verdict }}.\n"})
    ctx = {"hypotheses_results": [{"id": "H1", "title": "t", "verdict": "delvist støttet",
                                   "mechanism": "m", "context": "c", "outcome_label": "o",
                                   "rate_in_yes": "60 %", "finding": ""}],
           "n_participants": "195", "target_groups": [], "conclusions": []}
    ns = evaluator_text.namespace(ctx, {"n_participants": 195, "goal_met": 126}, cfg)
    (section,) = evaluator_text.sections(cfg, "all", ns, ["195 unge"]).values()
    assert section.place == "H1" and section.markdown == "H1 er delvist støttet."
    (tmp_path / "config" / "tekster" / "H1.md").write_text(
        "Indledning.\n\n# Første\n\n## Anden\n", encoding="utf-8")
    (section,) = evaluator_text.sections(cfg, "all", ns, []).values()
    assert section.markdown == "Indledning.\n\n#### Første\n\n##### Anden"


def test_an_edited_text_changes_the_final_texts_fingerprint(tmp_path):
    cfg = _project(tmp_path, {"anbefalinger.md": "Første udgave.\n"})
    before = evaluator_text.fingerprint(cfg, "all")
    (tmp_path / "config" / "tekster" / "anbefalinger.md").write_text("Anden.\n", "utf-8")
    assert evaluator_text.fingerprint(cfg, "all") != before
    assert evaluator_text.fingerprint(cfg, "all", "en") == evaluator_text.fingerprint(
        cfg, "kommed", "da")  # no English texts, no delprojekt texts: nothing to hash
