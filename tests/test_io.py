"""Reading and writing the clean tables: every table is checked against its schema when the
clean stage writes it and when it is read, and a table that does not match is named with its
file, column, check and rows (``io.read_processed``, ``io.write_table``, ``schemas``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from ungeanalyse import schemas
from ungeanalyse.errors import UserError
from ungeanalyse.io import read_processed, write_table
from ungeanalyse.schemas import TableCheckError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def aumi(demo_copy):
    """A copy of the cleaned AUMI demo, and its config."""
    project = demo_copy("aumi")
    return project, project.cfg()


def test_the_clean_stage_writes_tables_that_carry_their_schema_fingerprint(aumi):
    project, cfg = aumi
    for table in schemas.TABLES:
        meta = pq.read_schema(cfg.processed_dir / f"{table}.parquet").metadata
        assert meta[schemas.FINGERPRINT_KEY] == schemas.fingerprint(cfg, table).encode(), table
    parts = read_processed(cfg, "participants")
    assert len(parts) == 195 and parts.equals(project.result.participants)


def test_a_checked_table_is_read_without_loading_pandera(aumi):
    _, cfg = aumi
    code = ("import sys; from ungeanalyse.config import load_config; "
            "from ungeanalyse.io import read_processed; "
            f"cfg = load_config({str(cfg.source_path)!r}); "
            "n = [len(read_processed(cfg, t)) for t in "
            "('participants', 'survey_responses', 'steps', 'quotes', 'quarantine')]; "
            "print(n, 'pandera' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip().endswith("False"), out


def _damage(cfg, table: str, change) -> Path:
    """Rewrite a clean table with pandas (as a person editing it would): no fingerprint."""
    path = cfg.processed_dir / f"{table}.parquet"
    df = pd.read_parquet(path)
    change(df)
    df.to_parquet(path, index=False)
    return path


def test_a_damaged_table_is_named_with_its_columns_checks_and_rows(aumi):
    _, cfg = aumi

    def change(df: pd.DataFrame) -> None:
        df.loc[3, "outcome"] = "holder pause"
        df.loc[5, "age_at_start"] = 40
        df.loc[7, "person_id"] = "010100-1234"   # a CPR number where a pseudonym belongs
        df.loc[9, "end_date"] = df.loc[9, "start_date"] - pd.Timedelta(days=30)

    path = _damage(cfg, "participants", change)
    with pytest.raises(TableCheckError) as caught:
        read_processed(cfg, "participants")
    message = str(caught.value)
    assert caught.value.path == path
    assert message.startswith(f"{path}: the participants table does not match its schema")
    assert "column 'outcome' fails the check that it is one of ['started_youth_education'" \
        in message and "row 3 ('holder pause')" in message
    assert "column 'age_at_start' fails the check that it lies in the range 15–29: " \
           "row 5 ('40')" in message
    assert "column 'person_id' fails the check that it matches the pattern ^[0-9a-f]{16}$: " \
           "row 7 ('[CPR-like number removed]')" in message
    assert "row 9: end_date before start_date" in message
    assert "010100" not in message
    assert isinstance(caught.value, UserError)  # a message for the user, no traceback


def test_a_table_with_a_missing_or_extra_column_or_a_repeated_key_is_named(aumi):
    _, cfg = aumi

    def change(df: pd.DataFrame) -> None:
        del df["n_elements"]
        df["navn"] = "x"
        df.loc[1, ["person_id", "delprojekt"]] = df.loc[0, ["person_id", "delprojekt"]].values

    _damage(cfg, "participants", change)
    with pytest.raises(TableCheckError) as caught:
        read_processed(cfg, "participants")
    message = str(caught.value)
    assert "column(s) 'n_elements' missing" in message
    assert "column(s) 'navn' not part of the participants table" in message
    assert "rows 0, 1: person_id, delprojekt repeat together" in message


def test_every_other_clean_table_is_checked_too(aumi):
    _, cfg = aumi
    cases = {
        "survey_responses": (lambda df: df.__setitem__("wave", "midtvejs"),
                             "column 'wave' fails the check that it is one of ['baseline', "
                             "'opfoelgning']: row 0 ('midtvejs')"),
        "steps": (lambda df: df.__setitem__("step_rank", 0),
                  "column 'step_rank' fails the check that it is at least 1: row 0 ('0')"),
        "quotes": (lambda df: df.__setitem__("hypothesis_id", "H99"),
                   "column 'hypothesis_id' fails the check that it is one of ['H1'"),
        "quarantine": (lambda df: df.__setitem__("source_row", 0),
                       "column 'source_row' fails the check that it is at least 1: row 0"),
    }
    for table, (change, expected) in cases.items():
        _damage(cfg, table, change)
        with pytest.raises(TableCheckError, match=f"{table}.parquet: the {table} table") as c:
            read_processed(cfg, table)
        assert expected in str(c.value), (table, str(c.value))


def test_a_table_written_under_another_config_is_checked_in_full(aumi):
    _, cfg = aumi
    assert read_processed(cfg, "participants")["delprojekt"].eq("autisme").any()
    fewer = cfg.model_copy(update={"delprojekter": [d for d in cfg.delprojekter
                                                    if d.id != "autisme"]})
    assert schemas.fingerprint(fewer, "participants") != schemas.fingerprint(cfg, "participants")
    with pytest.raises(TableCheckError, match=r"column 'delprojekt' fails the check that it is "
                                              r"one of \['kommed', 'hoeretab'"):
        read_processed(fewer, "participants")


def test_write_table_refuses_a_table_that_does_not_match(aumi, tmp_path):
    _, cfg = aumi
    steps = read_processed(cfg, "steps")
    steps.loc[2, "step"] = "flyttet"
    with pytest.raises(TableCheckError, match=r"steps\.parquet: the steps table does not match"):
        write_table(steps, cfg, "steps", tmp_path / "steps.parquet")
    assert not (tmp_path / "steps.parquet").exists()


def test_the_runner_takes_a_table_that_fails_its_schema_for_a_damaged_file(aumi):
    """The runner reads every clean table to see what changed: one that reads but does not
    match its schema is a damaged file (named, and the clean stage runs again), not missing."""
    from ungeanalyse.pipeline import DamagedFile, unit_data_fingerprints

    _, cfg = aumi
    path = _damage(cfg, "steps", lambda df: df.__setitem__("step", "flyttet"))
    with pytest.raises(DamagedFile) as caught:
        unit_data_fingerprints(cfg, ["all", "kommed"])
    assert caught.value.path == path
    assert caught.value.reason.startswith("the steps table does not match its schema")
    assert "column 'step' fails the check that it is one of ['kontakt'" in caught.value.reason
