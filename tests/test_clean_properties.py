"""Property tests (hypothesis) of the clean stage: whatever a partner file holds, every row is
accounted for (rows in = clean + quarantined + duplicates) and cleaning the same files twice gives
the same tables."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ungeanalyse.clean import clean_project
from ungeanalyse.config import ProjectConfig, load_config
from ungeanalyse.privacy import DEMO_KEY

ROOT = Path(__file__).resolve().parents[1]

STATUSES = ["Påbegyndt ungdomsuddannelse", "GENNEMFØRT", "  anden uddannelse ", "fgu",
            "Ukendt status xyz", "", "I job", "visiteret"]
GROUPS = ["Påbegynde", "fastholde", "F", "p", "måske", ""]

pytestmark = pytest.mark.slow  # 30 partner files, each cleaned twice


def _cpr(birth: dt.date, serial: int) -> str:
    """A fictitious CPR number whose 7th digit fits the birth year (century rule)."""
    digit7 = 4 if birth.year >= 2000 else serial % 4
    return f"{birth:%d%m%y}-{digit7}{serial % 1000:03d}"


@st.composite
def partner_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """Rows as a partner might send them: good and bad CPRs, repeats, odd statuses and dates."""
    n = draw(st.integers(1, 25))
    rows: list[dict[str, str]] = []
    for _ in range(n):
        kind = draw(st.sampled_from(["good", "good", "good", "repeat", "bad_cpr", "empty_cpr"]))
        start = draw(st.dates(dt.date(2018, 1, 1), dt.date(2022, 6, 30)))
        birth = draw(st.dates(dt.date(1994, 1, 1), dt.date(2006, 12, 31)))
        if kind == "repeat" and rows:
            rows.append(dict(draw(st.sampled_from(rows))))
            if draw(st.booleans()):
                rows[-1]["Status"] = draw(st.sampled_from(STATUSES))
            continue
        cpr = {"bad_cpr": draw(st.sampled_from(["12345", "3102991234", "abcdefghij"])),
               "empty_cpr": ""}.get(kind, _cpr(birth, draw(st.integers(0, 9999))))
        end = start + dt.timedelta(days=draw(st.integers(-30, 700)))
        date_fmt = draw(st.sampled_from(["%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]))
        rows.append({
            "CPR-nr.": cpr, "Navn": "Test Person",
            "Målgruppe": draw(st.sampled_from(GROUPS)),
            "Startdato": draw(st.sampled_from([start.strftime(date_fmt), "31-02-2020", ""])),
            "Slutdato": draw(st.sampled_from([end.strftime(date_fmt), ""])),
            "Status": draw(st.sampled_from(STATUSES)),
        })
    return rows


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> ProjectConfig:
    """AUMI's config cut to one partner file, ``raw/liste.csv``, that each example rewrites
    (the config is the same for every example: it is written and read once)."""
    tmp = tmp_path_factory.mktemp("prop")
    data = yaml.safe_load((ROOT / "config" / "aumi.yml").read_text(encoding="utf-8"))
    data.pop("demo")
    data["project"]["id"] = "prop"
    data["files"] = {"raw_dir": "../raw", "processed_dir": "../processed",
                     "participants": [{"path": "liste.csv", "delprojekt": "kommed"}]}
    (tmp / "raw").mkdir()
    (tmp / "config").mkdir()
    path = tmp / "config" / "prop.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_config(path)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(rows=partner_rows(), encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]),
       sep=st.sampled_from([";", ","]))
def test_rows_are_conserved_and_cleaning_is_repeatable(project, rows, encoding, sep):
    cfg = project
    pd.DataFrame(rows).to_csv(cfg.raw_dir / "liste.csv", sep=sep, index=False,
                              encoding=encoding)
    today = dt.date(2023, 1, 1)
    first = clean_project(cfg, key=DEMO_KEY, today=today)
    q = first.quality["tables"]["participants"]
    assert q["rows_in"] == len(rows)
    assert q["rows_in"] == q["clean"] + q["quarantined"] + q["duplicates"]
    assert len(first.participants) == q["clean"]
    assert len(first.participants) + len(first.quarantine) <= len(rows)
    assert first.participants["person_id"].is_unique
    # the same files again (the tables, not the files written from them the first time)
    second = clean_project(cfg, key=DEMO_KEY, today=today, write=False)
    pd.testing.assert_frame_equal(first.participants, second.participants)
    pd.testing.assert_frame_equal(first.quarantine, second.quarantine)
    assert first.quality["tables"] == second.quality["tables"]
