"""Optional data: a unit's sources decide which prose its notebooks and texts keep, and the
method section names exactly the sources there are. End to end: a project with only participant
lists, plus the evaluator's own texts in the HTML, the PDF and the Word document."""

from __future__ import annotations

import html as htmllib
import json
import re
import secrets
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ungeanalyse import sources
from ungeanalyse.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def test_method_sentence_names_exactly_the_sources_there_are():
    assert sources.method_sentence([], "da") == (
        "Data er deltagerlister fra partnerne. Projektet har ikke leveret spørgeskemaer, "
        "registreringer af skridt på vejen, kodede citater eller casebeskrivelser.")
    assert sources.method_sentence(["survey", "steps", "quotes", "cases", "voices"], "da") == (
        "Data er deltagerlister fra partnerne, spørgeskemaer ved start og opfølgning, "
        "registreringer af skridt på vejen, kodede citater fra de unge og partnerne og kodede "
        "casebeskrivelser.")
    assert sources.method_sentence(["steps", "quotes", "voices"], "da") == (
        "Data er deltagerlister fra partnerne, registreringer af skridt på vejen og kodede "
        "citater fra de unge og partnerne. Projektet har ikke leveret spørgeskemaer eller "
        "casebeskrivelser.")
    assert sources.method_sentence(["survey"], "en") == (
        "Data are partner participant lists and surveys at start and follow-up. The project "
        "has supplied no logs of steps on the way, coded quotes or case descriptions.")


def test_sources_come_from_the_tables(aumi_cfg):
    quotes = pd.DataFrame({"source_type": ["case", "case"]})
    tables = {"participants": pd.DataFrame({"x": [1]}), "survey_responses": pd.DataFrame(),
              "steps": pd.DataFrame({"step": ["a"]}), "quotes": quotes}
    assert sources.data_sources(aumi_cfg, "all", tables) == [
        "steps", "cases", "voices", "project_steps", "project_cases", "project_voices"]
    unit = {**tables, "quotes": pd.DataFrame()}  # no file at all: no columns
    assert sources.data_sources(aumi_cfg, "kommed", unit, project=tables) == [
        "steps", "project_steps", "project_cases", "project_voices"]
    # a delprojekt without the cases the project has: "none here", not "none delivered"
    found = sources.data_sources(aumi_cfg, "kommed", unit, project=tables)
    assert sources.method_sentence(found, "da") == (
        "Data er deltagerlister fra partnerne og registreringer af skridt på vejen. Projektet "
        "har ikke leveret spørgeskemaer eller kodede citater. For denne enhed er der ingen "
        "casebeskrivelser.")
    assert sources.voices_missing_sentence(found, "da") == (
        "Der er ingen kodede citater eller casebeskrivelser for denne enhed, så hypoteserne er "
        "kun holdt op mod tallene.")


def test_prose_spans_kept_or_dropped_by_the_declared_sources():
    text = ("# Måltal<!-- data:steps --> og skridt på vejen<!-- /data -->\n\nMåltal."
            "<!-- data:steps,survey --> Begge.<!-- /data --><!-- data:steps,!survey --> Kun "
            "skridt.<!-- /data --><!-- data:!voices -->\nIngen citater.\n<!-- /data -->")
    assert sources.filter_markdown(text, set()) == "# Måltal\n\nMåltal.\nIngen citater.\n"
    assert sources.filter_markdown(text, {"steps", "voices"}) == (
        "# Måltal og skridt på vejen\n\nMåltal. Kun skridt.")
    assert sources.filter_markdown(text, {"steps", "survey", "voices"}) == (
        "# Måltal og skridt på vejen\n\nMåltal. Begge.")
    # a notebook that declared nothing (an older one) keeps all its prose
    assert "Begge." in sources.filter_markdown(text, None)


def _page_text(path: Path) -> str:
    t = path.read_text(encoding="utf-8")
    t = re.sub(r"<style.*?</style>|<script.*?</script>", "", t, flags=re.S)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", t)))


def _squash(text: str) -> str:
    """Text without whitespace or hyphens, so a PDF's line breaks and hyphenation do not count."""
    return re.sub(r"[\s\u00ad\-‐]", "", text)


def _participants_only_project(tmp_path: Path, raw_dir: Path) -> Path:
    """Unge med kant's two partner files (the session's demo's, from ``raw_dir``) in a folder of
    their own: no survey, no steps, no quotes (neither files nor config sections), and the
    evaluator's texts beside the config."""
    project = tmp_path / "projekt"
    (project / "raw").mkdir(parents=True)
    data = yaml.safe_load((ROOT / "config" / "unge_med_kant.yml").read_text(encoding="utf-8"))
    for f in data["files"]["participants"]:
        shutil.copy(raw_dir / f["path"], project / "raw" / f["path"])
    for key in ("raw_dir", "processed_dir", "reports_dir", "survey", "steps", "quotes"):
        data["files"].pop(key, None)
    data.pop("steps", None)
    data.pop("survey", None)
    data["privacy"]["key_file"] = "projekt.key"
    (project / "projekt.key").write_text(secrets.token_hex(32), encoding="utf-8")
    (project / "projekt.yml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                         encoding="utf-8")
    texts = project / "tekster"
    texts.mkdir()
    (texts / "forord.md").write_text("Tak til de to kommuner.\n", encoding="utf-8")
    (texts / "H1.md").write_text("Vi læser H1 som {{ H1.verdict }}.\n", encoding="utf-8")
    (texts / "anbefalinger.md").write_text(
        "# Anbefalinger\n\nMålet er nået for {{ maaltal.goal_met }} unge.\n\n"
        "Skrevet i hånden: 9999 unge.\n", encoding="utf-8")
    return project / "projekt.yml"


@pytest.mark.slow
def test_a_project_with_only_participant_lists_claims_no_other_data(tmp_path, capsys,
                                                                     demo_project):
    from ungeanalyse.cli import main
    from ungeanalyse.document import document_text
    from ungeanalyse.fmt import fmt_int

    config = _participants_only_project(tmp_path, demo_project("unge_med_kant").files.raw_dir)
    args = ["run", "--config", str(config), "--only", "all", "--jobs", "1", "--no-progress"]
    assert main(args) == 0
    assert ("  note: tekster/anbefalinger.md, linje 5: »9999 unge« passer ikke med noget tal i "
            "resultaterne") in capsys.readouterr().out  # also in the run's summary
    cfg = load_config(config)
    pages = cfg.reports_dir / "unge_med_kant" / "all"
    m02, m03, m04, pixi = (_page_text(pages / f"{n}.html") for n in (
        "02_maaltal", "03_hvad_virker_for_hvem", "04_slutevaluering", "04_pixi"))
    # the method section: exactly the participant lists, and one sentence on the rest
    assert ("Data er deltagerlister fra partnerne. Projektet har ikke leveret spørgeskemaer, "
            "registreringer af skridt på vejen, kodede citater eller casebeskrivelser.") in m04
    no_voices = ("Projektet har ikke leveret kodede citater eller casebeskrivelser, så "
                 "hypoteserne er kun holdt op mod tallene.")
    assert no_voices in m04 and no_voices in m03
    for page in (m02, m03, m04, pixi):
        for claim in ("kodede citater og casebeskrivelser", "Tal og de unges og partnernes "
                      "stemmer", "de unges og partnernes stemmer", "Tal og stemmer side om side",
                      "Skridtene er en stige", "Spørgeskemaet er besvaret",
                      "Dertil de unges skridt på vejen"):
            assert claim not in page
    assert "Skridt på vejen ¶ Projektet har ikke leveret registreringer af skridt på vejen." in m02
    assert "Projektet har ikke leveret spørgeskemaer." in m02
    assert "Tallene pr. hypotese" in m03
    # the evaluator's words, with the live number, in the evaluation and the pixi
    goal = json.loads((cfg.processed_dir / "results" / "all" / "maaltal.json").read_text(
        encoding="utf-8"))["goal_met"]
    sentence = f"Målet er nået for {fmt_int(goal)} unge."
    from ungeanalyse.reader.cmo import verdict as verdict_word

    verdict = verdict_word(json.loads((cfg.processed_dir / "results" / "all" / "cmo.json")
                                      .read_text(encoding="utf-8"))["hypotheses"][0]
                           ["verdict_code"], "da")
    assert sentence in m04 and sentence in pixi
    assert "Forord ¶ Tak til de to kommuner." in m04
    assert f"Evaluatorens fortolkning: Vi læser H1 som {verdict}." in m04
    assert "Tjek tallet: tekster/anbefalinger.md, linje 5: »9999 unge« passer ikke" in m04
    # … and in the PDF and the Word document made from the same text
    for doc in ("04_slutevaluering.pdf", "04_slutevaluering.docx", "04_pixi.pdf",
                "04_pixi.docx"):
        assert _squash(sentence) in _squash(document_text(pages / doc)), doc
    assert _squash("Tak til de to kommuner.") in _squash(
        document_text(pages / "04_slutevaluering.pdf"))
    # an edited text reruns the final texts (and only those)
    (config.parent / "tekster" / "anbefalinger.md").write_text(
        "Ny udgave: {{ maaltal.goal_met_pct }} af deltagerne.\n", encoding="utf-8")
    assert main(args) == 0
    assert "Ny udgave: " in _page_text(pages / "04_slutevaluering.html")
    out = capsys.readouterr().out
    assert "5 notebooks: 2 ran, 3 cached (unchanged), 0 failed" in out and "9999" not in out


def test_joint_display_without_any_quotes_table(aumi_cfg):
    """No quotes file at all (an empty table without columns): figures and no voices, not the
    error 'quotes: the table lacks the column(s) …'."""
    from tests import factories
    from ungeanalyse.realist import evaluate_hypotheses, joint_display

    cmo = evaluate_hypotheses(factories.make_participants(aumi_cfg, n=200, seed=3), aumi_cfg)
    table = joint_display(cmo, pd.DataFrame(), aumi_cfg)
    assert table["id"].tolist() == [h.id for h in aumi_cfg.hypotheses]
    assert table["n_quotes"].tolist() == [0] * len(aumi_cfg.hypotheses)
