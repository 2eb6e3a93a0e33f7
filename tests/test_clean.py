"""The clean stage on the AUMI demo and on small hand-made files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from ungeanalyse import clean

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def aumi_clean(demo_project):
    """The AUMI demo written to a temp dir and cleaned there (once per session, conftest)."""
    aumi = demo_project("aumi")
    return aumi.cfg(), aumi.files, aumi.result


def test_aumi_demo_gives_the_seed_figures(aumi_clean):
    _, _, result = aumi_clean
    p = result.participants
    assert len(p) == 195
    assert int(p["goal_met"].sum()) == 126
    assert round(100 * p["goal_met"].mean()) == 65
    counts = p["outcome"].value_counts().to_dict()
    assert counts["other_education"] == 29
    assert counts["left_project_continued_education"] == 7
    assert counts["employment"] == 5
    assert counts["referred_elsewhere"] == 22
    assert counts["unknown"] == 6
    by_group = p.groupby("target_group")["goal_met"].agg(["sum", "count"])
    assert tuple(by_group.loc["fastholde"]) == (68, 75)
    assert tuple(by_group.loc["paabegynde"]) == (58, 120)
    assert round(100 * 68 / 75) == 91 and round(100 * 58 / 120) == 48


def test_rows_are_conserved_per_table_and_file(aumi_clean):
    cfg, files, result = aumi_clean
    quality = json.loads((cfg.processed_dir / "quality.json").read_text(encoding="utf-8"))
    for table in quality["tables"].values():
        assert table["rows_in"] == table["clean"] + table["quarantined"] + table["duplicates"]
        for f in table["by_file"].values():
            assert f["rows_in"] == f["clean"] + f["quarantined"] + f["duplicates"]
    parts = quality["tables"]["participants"]
    assert parts["quarantined"] == files.broken_rows
    assert parts["duplicates"] == files.duplicate_rows == 1


def test_quarantine_names_file_row_and_reason(aumi_clean):
    _, _, result = aumi_clean
    q = result.quarantine
    assert set(q.columns) == {"table", "source_file", "source_row", "column", "reason", "detail"}
    reasons = set(q["reason"])
    assert {"invalid_cpr", "unknown_status", "end_before_start", "missing_start_date",
            "date_in_future", "age_outside_range",
            "conflicting_repeat", "unknown_hypothesis",
            "unknown_step", "unknown_participant"} <= reasons
    assert (q["source_row"] >= 1).all()


def test_no_cpr_or_name_in_processed_files(aumi_clean):
    cfg, files, result = aumi_clean
    raw = pd.concat([pd.read_csv(f, sep=None, engine="python", encoding="cp1252", dtype=str)
                     for f in files.files if f.suffix == ".csv" and "skridt" not in f.name],
                    ignore_index=True)
    cprs = {c.replace("-", "") for c in raw.iloc[:, 0].dropna()}
    blob = "".join(p.read_bytes().decode("latin-1") for p in cfg.processed_dir.glob("*.parquet"))
    blob += (cfg.processed_dir / "quality.json").read_text(encoding="utf-8")
    assert not [c for c in cprs if c in blob.replace("-", "")]
    names = raw.iloc[:, 1].dropna()
    assert not [n for n in names if n in blob]


def test_pseudonyms_are_keyed(aumi_clean):
    cfg, _, result = aumi_clean
    again = clean.clean_project(cfg, key=b"another key", write=False)
    assert set(again.participants["person_id"]).isdisjoint(result.participants["person_id"])
    assert result.participants["person_id"].str.fullmatch(r"[0-9a-f]{16}").all()


def test_derived_columns(aumi_clean):
    _, _, result = aumi_clean
    p = result.participants
    assert set(p["gender"]) == {"kvinde", "mand"}
    assert p["age_at_start"].between(15, 29).all()
    assert (p["days_in_project"] >= 0).all()
    assert p["n_elements"].equals(p.filter(regex="^element_").sum(axis=1).astype("int64"))


def test_survey_labels_become_numbers_and_bad_answers_missing(aumi_clean):
    _, _, result = aumi_clean
    s = result.survey_responses
    assert set(s["wave"]) == {"baseline", "opfoelgning"}
    assert s["value"].dropna().between(1, 5).all()
    issues = result.quality["cell_issues"]
    assert {i["column"] for i in issues} == {"swemwbs_2", "swemwbs_3"}
    assert all(i["row"] >= 2 for i in issues)


def test_parse_dates_handles_danish_formats_and_excel_serials():
    values = pd.Series(["05-03-2019", "05.03.2019", "2019-03-05", "43529", "31-02-2019", None])
    out = clean.parse_dates(values, ["%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"])
    assert list(out[:4]) == [pd.Timestamp("2019-03-05")] * 4
    assert out[4:].isna().all()


def test_vocabulary_is_case_and_space_insensitive(aumi_cfg):
    lookup = clean.vocabulary(aumi_cfg.outcomes)
    values = pd.Series(["  GENNEMFØRT ", "Visiteret til andre tilbud.", "holder pause"])
    assert list(clean.norm_text(values).map(lookup).fillna("?")) == [
        "completed_or_retained", "referred_elsewhere", "?"]


@pytest.mark.parametrize("config", sorted(p.name for p in (ROOT / "config").glob("*.yml")))
def test_an_empty_table_passes_its_schema_under_every_config(config):
    """The clean stage writes the empty survey, steps and quotes tables of a project without
    those files unchecked (they pass by construction): pinned here for every config."""
    from ungeanalyse import schemas
    from ungeanalyse.config import load_config

    cfg = load_config(ROOT / "config" / config)
    for name in clean.EMPTY_COLUMNS:
        checked = schemas.check(clean._empty_table(name), cfg, name, f"{name}.parquet")
        assert checked.empty and list(checked.columns) == list(clean.EMPTY_COLUMNS[name])
