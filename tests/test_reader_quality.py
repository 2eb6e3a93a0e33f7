"""Data quality for readers (``ungeanalyse.reader.quality``, notebook 01): rows received, cleaned
and quarantined, the partners' worklist without the offending values, and what the clean stage
could not map, on the AUMI demo in both languages."""

from __future__ import annotations

import pandas as pd
import pytest

from ungeanalyse import io
from ungeanalyse.fmt import fmt_date
from ungeanalyse.reader import quality as rq
from ungeanalyse.results import load_quality


@pytest.fixture(scope="module")
def aumi(demo_project):
    """The AUMI demo, cleaned (read only)."""
    project = demo_project("aumi")
    cfg = project.cfg()
    return cfg, load_quality(cfg), io.read_processed(cfg, "quarantine")


def rows(table) -> list[list[str]]:
    return table.frame.astype(str).values.tolist()


def test_rows_in_are_clean_plus_quarantined_plus_duplicates_in_both_languages(aumi):
    cfg, quality, _ = aumi
    date = quality["generated"]
    assert rq.intro(cfg, quality, "da") == (
        "**AUMI – Alle unge med imidt.** Der er modtaget 206 rækker i 6 deltagerfiler; 195 unge "
        f"indgår i de rensede data (renset {fmt_date(date, 'da')}).")
    assert rq.intro(cfg, quality, "en") == (
        "**AUMI – All young people included in Central Denmark.** 206 rows were received in 6 "
        f"participant files; 195 young people are in the clean data (cleaned "
        f"{fmt_date(date, 'en')}).")
    overview = rq.overview(quality, "da")
    assert overview.caption == "Rækker pr. tabel"
    assert list(overview.frame.columns) == ["Tabel", "Rækker modtaget", "Rene rækker",
                                            "I karantæne", "Dubletter"]
    assert rows(overview)[0] == ["Deltagere", "206", "195", "10", "1"]
    for r in overview.frame.itertuples(index=False):
        assert r[1] == r[2] + r[3] + r[4]
    en = rq.overview(quality, "en")
    assert en.caption == "Rows per table" and rows(en)[0] == ["Participants", "206", "195", "10",
                                                              "1"]
    files = rq.by_file(quality, "da")
    assert ["Deltagere", "kommed_deltagerliste.xlsx", "38", "36", "2", "0"] in rows(files)
    reasons = rq.reasons(quality, "en")
    assert ["Participants", "invalid CPR", "2"] in rows(reasons)
    assert rq.sentence(rq.figures(quality), "da") == (
        "Partnerne har sendt 206 rækker om deltagere; 195 er renset og indgår, 10 er sat i "
        "karantæne (fx ugyldigt CPR-nummer eller ukendt status), og 1 var en dublet.")
    assert rq.sentence(None, "da") == ""


def test_the_worklist_gives_file_row_column_and_reason_not_the_value(aumi):
    cfg, _, quarantine = aumi
    table = rq.worklist(quarantine, cfg, "da")
    assert list(table.frame.columns) == ["Fil", "Række", "Kolonne", "Årsag"]
    assert ["kommed_deltagerliste.xlsx", "40", "CPR-nr.", "ugyldigt CPR-nummer"] in rows(table)
    assert table.note == "Værdierne står i kildefilen og i data/processed/aumi/quarantine.parquet."
    assert rq.worklist(quarantine, cfg, "en").note == (
        "The values are in the source file and in data/processed/aumi/quarantine.parquet.")
    q = pd.DataFrame({"table": ["participants"], "source_file": ["a.csv"], "source_row": [4],
                      "column": ["CPR-nr."], "reason": ["age_outside_range"],
                      "detail": ["age 11 at start"]})
    assert "age 11" not in rq.worklist(q, cfg, "da").frame.to_string()
    assert rq.worklist_frame(q, "da", detail=True).iloc[0].tolist() == [
        "a.csv", 4, "CPR-nr.", "alder uden for målgruppen", "age 11 at start"]


def test_unmapped_values_show_a_small_count_as_the_one_mark(aumi):
    cfg, quality, _ = aumi
    text = rq.problems(quality, cfg, "da")
    assert "### Værdier, som konfigurationen ikke kender" in text
    assert "- `status`: 'Holder pause' (–)" in text and "<5" not in text
    assert ("– betyder, at antallet er under 5; det vises ikke, da det sammen med arbejdslisten "
            "kunne sige, hvad en ung persons række indeholder.") in text
    assert "- spoergeskema_baseline.csv, række 3, `swemwbs_2`" in text
    assert "### Advarsler" in text and "modulus 11" in text
    en = rq.problems(quality, cfg, "en")
    assert "### Values the config does not know" in en and "(–)" in en
    assert "– means the count is under 5" in en
    # a count at the limit is shown, and then no note
    shown = {**quality, "tables": {"participants": {
        **quality["tables"]["participants"], "warnings": [], "file_errors": [],
        "unmapped_values": {"status": {"Holder pause": 7}}}}, "cell_issues": []}
    assert rq.problems(shown, cfg, "da") == (
        "### Værdier, som konfigurationen ikke kender\n- `status`: 'Holder pause' (7)")
    clean = {**shown, "tables": {"participants": {**shown["tables"]["participants"],
                                                  "unmapped_values": {}}}}
    assert rq.problems(clean, cfg, "en") == "No problems found."
