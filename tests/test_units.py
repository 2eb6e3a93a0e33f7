"""Report units: which units a project has, what each is called, and which rows of the clean
tables belong to one (``ungeanalyse.units``, the one place that decides)."""

from __future__ import annotations

import pandas as pd
import pytest

from tests import factories
from ungeanalyse import outcomes, results, units
from ungeanalyse.errors import UserError
from ungeanalyse.io import write_parquet


@pytest.fixture()
def tables(aumi_cfg):
    parts = factories.make_participants(aumi_cfg, n=120, seed=3)
    quotes = factories.make_quotes(aumi_cfg, parts, seed=3)
    # one quote tied to a delprojekt only, one to a hoeretab participant filed under kommed
    hoeretab_person = parts.loc[parts["delprojekt"].eq("hoeretab"), "person_id"].iloc[0]
    extra = pd.DataFrame({"quote_id": ["x-1", "x-2"], "hypothesis_id": ["H1", "H1"],
                          "source_type": ["partner", "ung"], "delprojekt": ["hoeretab", "kommed"],
                          "person_id": [None, hoeretab_person], "text": ["a", "b"],
                          "source_file": "extra.xlsx", "source_row": [2, 3]})
    return {"participants": parts,
            "survey_responses": factories.make_survey(aumi_cfg, parts, seed=3),
            "steps": factories.make_steps(aumi_cfg, parts, seed=3),
            "quotes": pd.concat([quotes, extra], ignore_index=True)}


def test_units_of_a_project_in_config_order(aumi_cfg):
    assert units.units(aumi_cfg) == ["all", "kommed", "hoeretab", "fgu_motivation", "autisme",
                                     "blended_hf", "ny_virkelighed"]
    assert aumi_cfg.units() == units.units(aumi_cfg)


def test_an_unknown_unit_is_named_with_the_known_ones(aumi_cfg, participants):
    with pytest.raises(UserError, match=r"Unknown delprojekt 'atlantis'; known: kommed, hoeretab, "
                                        r".*ny_virkelighed \(and all, the whole project\)"):
        units.select(participants, aumi_cfg, "atlantis")
    with pytest.raises(UserError, match=r"Unknown delprojekt 'atlantis'"):
        units.label(aumi_cfg, "atlantis")
    assert units.check(aumi_cfg, "kommed") == "kommed"


def test_labels_in_both_languages(aumi_cfg):
    assert units.label(aumi_cfg, "all", "da") == "AUMI – Alle unge med imidt"
    assert units.label(aumi_cfg, "all", "en") == \
        "AUMI – All young people included in Central Denmark"
    assert units.label(aumi_cfg, "hoeretab", "da") == "Verdensmester i høretab"
    assert units.label(aumi_cfg, "hoeretab", "en") == "World champions of hearing loss"
    assert outcomes.unit_label(aumi_cfg, "hoeretab", "en") == "World champions of hearing loss"


def test_select_participants_of_a_unit(aumi_cfg, participants):
    assert units.select(participants, aumi_cfg, "all") is participants
    kommed = units.select(participants, aumi_cfg, "kommed")
    assert len(kommed) == int(participants["delprojekt"].eq("kommed").sum()) > 0
    assert set(kommed["delprojekt"]) == {"kommed"}
    assert kommed.index.equals(participants.index[participants["delprojekt"].eq("kommed")])
    # a categorical or string column, and a missing delprojekt, select the same way
    as_category = participants.astype({"delprojekt": "category"})
    assert units.select(as_category, aumi_cfg, "kommed").index.equals(kommed.index)
    with_na = participants.astype({"delprojekt": "string"})
    with_na.loc[kommed.index[0], "delprojekt"] = pd.NA
    assert len(units.select(with_na, aumi_cfg, "kommed")) == len(kommed) - 1
    assert outcomes.select_unit(participants, aumi_cfg, "kommed").equals(kommed)
    with pytest.raises(UserError, match=r"unit 'kommed': the participants table lacks the column "
                                        r"delprojekt"):
        units.select(participants.drop(columns="delprojekt"), aumi_cfg, "kommed")


def test_units_with_data_leave_out_a_delprojekt_without_participants(aumi_cfg, participants):
    without = participants[participants["delprojekt"].ne("autisme")]
    assert units.units_with_data(aumi_cfg, without) == [
        "all", "kommed", "hoeretab", "fgu_motivation", "blended_hf", "ny_virkelighed"]


def test_select_tables_takes_the_unit_rows_of_every_table(aumi_cfg, tables):
    got = units.select_tables(tables, aumi_cfg, "hoeretab")
    parts = tables["participants"]
    persons = set(parts.loc[parts["delprojekt"].eq("hoeretab"), "person_id"])
    assert set(got["participants"]["person_id"]) == persons
    assert list(got["participants"].index) == list(range(len(persons)))  # a fresh index
    for name in ("survey_responses", "steps"):
        expected = tables[name][tables[name]["person_id"].isin(persons)]
        assert len(got[name]) == len(expected) > 0, name
        assert set(got[name]["person_id"]) <= persons
    # quotes: those of the delprojekt, and those of its participants filed elsewhere
    q = got["quotes"]
    assert "x-1" in set(q["quote_id"]) and "x-2" in set(q["quote_id"])
    assert all(d == "hoeretab" or p in persons
               for d, p in zip(q["delprojekt"], q["person_id"], strict=True))
    # the whole project is every row; an empty table stays empty
    assert units.select_tables(tables, aumi_cfg, "all")["steps"] is tables["steps"]
    empty = {**tables, "steps": pd.DataFrame()}
    assert units.select_tables(empty, aumi_cfg, "hoeretab")["steps"].empty


def test_load_unit_reads_the_clean_tables_and_selects_through_units(aumi_cfg, tables, tmp_path):
    cfg = aumi_cfg.model_copy(update={"files": aumi_cfg.files.model_copy(
        update={"processed_dir": str(tmp_path)})})
    for name, table in tables.items():
        write_parquet(table, tmp_path / f"{name}.parquet")
    loaded = results.load_unit(cfg, "hoeretab")
    expected = units.select_tables(tables, cfg, "hoeretab")
    for name in tables:
        assert loaded[name]["source_row"].tolist() == expected[name]["source_row"].tolist(), name
    with pytest.raises(UserError, match="Unknown delprojekt 'atlantis'"):
        results.load_unit(cfg, "atlantis")
