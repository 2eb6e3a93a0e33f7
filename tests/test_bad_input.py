"""The bad-input corpus (``tests/data/bad/``): every broken partner file or config gets a clear
answer through the command line, never a traceback.

Each data case is a small temp project: a copy of the AUMI vocabulary (``config/aumi.yml``) whose
``files:`` point at copies of corpus files. A case expects either a file-level message that names
the file or quarantined rows with reason, file, row and column. A file that cannot be used makes
``clean --strict`` exit 1; when it was the only participant file, there is nothing to analyse and
``clean`` exits 2 (with or without ``--strict``) with the message on stderr. In
every data case the rows add up (rows in = clean + quarantined + duplicates, per table and per
file) and no CPR number from the corpus shows in the output. Config cases expect exit code 2 and
a message naming the key.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from ungeanalyse import i18n
from ungeanalyse.cli import main

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
GOOD = "good_participants.csv"
KP = {"delprojekt": "kommed"}
CPR_LIKE = re.compile(rb"(?<!\d)\d{6}-?\d{4}(?!\d)")
SPSS_CPRS = {"0101004007", "1405034006", "2010044006"}  # stored as numbers in spss_numbers.sav


# -- building and running a temp project ------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _aumi_yaml() -> dict[str, Any]:
    """AUMI's config as parsed YAML, once per process (each case edits a deep copy)."""
    return yaml.load((ROOT / "config" / "aumi.yml").read_text(encoding="utf-8"),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _base_config() -> dict[str, Any]:
    """The AUMI config without its demo section, under a project id of its own."""
    data = copy.deepcopy(_aumi_yaml())
    data.pop("demo")
    data["project"]["id"] = "bad_input"
    data["privacy"]["demo"] = True  # the public demo key pseudonymises the corpus
    return data


def write_project(tmp_path: Path, files: dict[str, list[tuple[str, dict[str, Any]]]],
                  edit: Callable[[dict[str, Any]], None] | None = None) -> Path:
    """A config in ``tmp_path/config`` whose raw files are copies of corpus files."""
    data = _base_config()
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    data["files"] = {"raw_dir": "../raw", "processed_dir": "../processed"}  # from config/
    for kind, specs in files.items():
        data["files"][kind] = []
        for name, extra in specs:
            if (BAD / name).exists():
                shutil.copy(BAD / name, raw / name)
            data["files"][kind].append({"path": name, **extra})
    if edit is not None:
        edit(data)
    path = tmp_path / "config" / "project.yml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper),
                              allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@dataclass
class Run:
    """What ``ungeanalyse clean --strict`` did: exit code, output, and what it wrote."""

    code: int
    out: str
    err: str
    processed: Path

    @property
    def quality(self) -> dict[str, Any]:
        return json.loads((self.processed / "quality.json").read_text(encoding="utf-8"))

    @property
    def quarantine(self) -> pd.DataFrame:
        return pd.read_parquet(self.processed / "quarantine.parquet")

    def table(self, name: str) -> pd.DataFrame:
        return pd.read_parquet(self.processed / f"{name}.parquet")


def clean_cli(config: Path, capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the clean command in-process; an exception escaping ``main`` fails the test."""
    code = main(["clean", "--strict", "--config", str(config)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return Run(code, captured.out, captured.err, config.parent.parent / "processed")


@pytest.fixture(autouse=True)
def _demo_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No key from the environment or the home directory: the demo key is used."""
    monkeypatch.delenv("UNGEANALYSE_KEY", raising=False)
    monkeypatch.delenv("UNGEANALYSE_KEY_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


# -- CPR numbers in the corpus -----------------------------------------------------------------


def _corpus_files() -> list[Path]:
    """The corpus' files (not a ``__pycache__`` folder that importing make_bad.py may leave)."""
    return sorted(p for p in BAD.iterdir() if p.is_file())


def _corpus_cprs() -> set[str]:
    """Every CPR-shaped number in the corpus files, as ten digits."""
    found = set(SPSS_CPRS)
    for path in _corpus_files():
        data = path.read_bytes()
        if data.startswith(b"PK"):
            with zipfile.ZipFile(path) as zf:
                data = b" ".join(zf.read(n) for n in zf.namelist())
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            data = data.decode("utf-16").encode("utf-8")
        elif data[1:200:2].count(0) > 50:
            data = data.decode("utf-16-le").encode("utf-8")
        found |= {m.replace(b"-", b"").decode() for m in CPR_LIKE.findall(data)}
        # Excel drops the leading zero: 101004007 in a cell is 0101004007
        found |= {"0" + m.decode() for m in re.findall(rb"(?<![\d.])\d{9}(?!\d)", data)}
    return found


CORPUS_CPRS = _corpus_cprs()


def cpr_leaks(text: str) -> list[str]:
    """CPR numbers of the corpus found in ``text`` (with or without dash, or lost zero)."""
    flat = text.replace("-", "")
    return sorted(c for c in CORPUS_CPRS
                  if c in flat or (c.startswith("0") and re.search(rf"(?<!\d){c[1:]}(?!\d)", flat)))


def test_corpus_cprs_are_found():
    assert {"1405034006", "0201044006", "0101004007", "2212004009"} <= CORPUS_CPRS
    assert cpr_leaks("rows 2, 3 and 140503-4006") == ["1405034006"]
    assert cpr_leaks("cell 101004007.0") == ["0101004007"]


# -- the data cases ------------------------------------------------------------------------------


@dataclass
class Case:
    """One bad partner file (or a few) and what the clean stage must make of it.

    ``error``: a regular expression the file-level message must match (it also names the file),
    as the command line says it (English); ``error_da``: the same message as the Danish
    data-quality page words it.
    ``quarantine``: (file, row, column, reason) of every quarantined row, nothing more.
    ``counts``: table → (rows in, clean, quarantined, duplicates).
    """

    id: str
    files: dict[str, list[tuple[str, dict[str, Any]]]]
    counts: dict[str, tuple[int, int, int, int]]
    error: str | None = None
    error_da: str | None = None
    quarantine: list[tuple[str, int, str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    check: Callable[[Run], None] | None = None


def participants(*names: str, **extra: Any) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Participant files of the kommed delprojekt (unless ``extra`` says otherwise)."""
    return {"participants": [(n, {**KP, **extra}) for n in names]}


def with_good(kind: str, name: str, **extra: Any) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """The four good participants, and one file of another kind."""
    return {**participants(GOOD), kind: [(name, extra)]}


def _rows(run: Run, column: str) -> list[Any]:
    return run.table("participants").sort_values("source_row")[column].tolist()


def _check_source_rows(run: Run, rows: list[int]) -> None:
    assert _rows(run, "source_row") == rows


def _check_duplicate_rows(run: Run, table: str, rows: list[tuple[str, int]]) -> None:
    dups = run.quality["tables"][table]["duplicate_rows"]
    assert [(d["file"], d["row"]) for d in dups] == rows


def _check_title_merged(run: Run) -> None:
    assert _rows(run, "source_row") == [4, 5, 6, 7]
    assert _rows(run, "target_group") == ["paabegynde"] * 3 + ["fastholde"]


def _check_lost_zero(run: Run) -> None:
    p = run.table("participants")
    assert (p["age_at_start"].tolist(), p["gender"].tolist()) == ([20], ["mand"])
    assert run.quality["tables"]["participants"]["duplicate_rows"] == [
        {"file": "cpr_lost_zero.csv", "row": 3}]


def _check_excel_numbers(run: Run) -> None:
    assert _rows(run, "start_date") == [pd.Timestamp("2020-01-15"), pd.Timestamp("2020-01-15"),
                                        pd.Timestamp("2020-02-01")]
    assert _rows(run, "end_date")[:2] == [pd.Timestamp("2020-06-18"), pd.Timestamp("2020-06-20")]


def _check_date_formats(run: Run) -> None:
    assert _rows(run, "start_date") == [pd.Timestamp(d) for d in
                                        ("2020-01-15", "2020-02-01", "2020-03-10", "2020-04-05")]
    assert _rows(run, "end_date")[2:] == [pd.Timestamp("2020-06-18"), pd.Timestamp("2020-12-15")]


def _check_comma(run: Run) -> None:
    assert _rows(run, "element_fast_kontaktperson") == [True, False]
    assert _rows(run, "element_mestringskursus") == [True, False]
    assert _rows(run, "element_faellesskab") == [False, True]


def _check_unmapped(table: str, column: str, expected: dict[str, int]) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        assert run.quality["tables"][table]["unmapped_values"][column] == expected
    return check


def _check_cell_issues(file: str, expected: list[tuple[int, str, str]]
                       ) -> Callable[[Run], None]:
    """The survey answers read as missing: (row, item, text the problem quotes)."""
    def check(run: Run) -> None:
        issues = run.quality["cell_issues"]
        assert {i["file"] for i in issues} == {file}
        assert sorted((i["row"], i["column"]) for i in issues) == sorted(
            (r, c) for r, c, _ in expected)
        for row, column, text in expected:
            problem = next(i["problem"] for i in issues if (i["row"], i["column"]) == (row, column))
            en, da = i18n.word(problem, "en"), i18n.word(problem, "da")
            assert en.startswith("answer ") and text in en
            assert en.endswith(" is not on the scale; read as missing")
            assert da.startswith("svaret ") and text in da
            assert da.endswith(" er ikke på skalaen; læst som manglende")
    return check


def _check_two_files(run: Run) -> None:
    by_file = run.quality["tables"]["participants"]["by_file"]
    assert by_file[GOOD] == {"rows_in": 4, "clean": 3, "quarantined": 1, "duplicates": 0}
    assert by_file["conflict_other_file.csv"] == {"rows_in": 2, "clean": 0, "quarantined": 1,
                                                  "duplicates": 1}
    details = run.quarantine["detail"]
    assert {i18n.word(d, "en") for d in details} == {
        f"{GOOD} row 3, conflict_other_file.csv row 3 disagree on Status"}
    assert {i18n.word(d, "da") for d in details} == {
        f"{GOOD} række 3, conflict_other_file.csv række 3 er uenige om Status"}


S = "Status"  # quarantined rows name the column as the partner's file does
CASES = [
    # -- files that cannot be read at all --
    Case("empty file", participants("empty.csv"), {"participants": (0, 0, 0, 0)},
         error=r"empty\.csv: the file is empty", error_da=r"empty\.csv: filen er tom$"),
    Case("header only", participants("header_only.csv"), {"participants": (0, 0, 0, 0)},
         error=r"header_only\.csv: has a header row \(row 1\) but no data rows",
         error_da=r"header_only\.csv: har en overskriftsrække \(række 1\), men ingen datarækker"),
    Case("binary junk", participants("binary_junk.csv"), {"participants": (0, 0, 0, 0)},
         error=r"binary_junk\.csv: this is not a text table \(binary content\)",
         error_da=r"binary_junk\.csv: er ikke en teksttabel \(binært indhold\)"),
    Case("utf-16 without BOM", participants("utf16_no_bom.csv"), {"participants": (0, 0, 0, 0)},
         error=r"utf16_no_bom\.csv: looks like UTF-16 text without a byte-order mark",
         error_da=r"utf16_no_bom\.csv: ligner UTF-16-tekst uden byte-order-mærke"),
    Case("mixed encoding", participants("mixed_encoding.csv"), {"participants": (0, 0, 0, 0)},
         error=r"mixed_encoding\.csv: line 3 is in a different text encoding .*cp1252",
         error_da=r"mixed_encoding\.csv: linje 3 har en anden tegnkodning .*cp1252"),
    Case("no header row", participants("no_header.csv"), {"participants": (0, 0, 0, 0)},
         error=r"no_header\.csv: no header row found in the first 15 rows",
         error_da=r"no_header\.csv: ingen overskriftsrække i de første 15 rækker"),
    Case("png renamed to xlsx", participants("png_renamed.xlsx"), {"participants": (0, 0, 0, 0)},
         error=r"png_renamed\.xlsx: the file is an image or PDF that was renamed",
         error_da=r"png_renamed\.xlsx: filen er et billede eller en PDF, der er omdøbt"),
    Case("xls renamed to xlsx", participants("old_excel.xlsx"), {"participants": (0, 0, 0, 0)},
         error=r"old_excel\.xlsx: the file is an old Excel 97–2003 workbook \(\.xls\)",
         error_da=r"old_excel\.xlsx: filen er en gammel Excel 97–2003-projektmappe \(\.xls\)"),
    Case("old xls", participants("old_excel.xls"), {"participants": (0, 0, 0, 0)},
         error=r"old_excel\.xls: old Excel 97–2003 format \(\.xls\); .* save it as \.xlsx",
         error_da=r"old_excel\.xls: gammelt Excel 97–2003-format \(\.xls\); .* gem den som "
                  r"\.xlsx"),
    Case("docx renamed to xlsx", participants("docx_renamed.xlsx"),
         {"participants": (0, 0, 0, 0)},
         error=r"docx_renamed\.xlsx: the file is a Word document renamed to \.xlsx",
         error_da=r"docx_renamed\.xlsx: filen er et Word-dokument omdøbt til \.xlsx"),
    Case("junk sav", participants("junk.sav"), {"participants": (0, 0, 0, 0)},
         error=r"junk\.sav: cannot be opened as an SPSS file",
         error_da=r"junk\.sav: kan ikke åbnes som en SPSS-fil"),
    Case("missing sheet", participants("title_merged.xlsx", sheet="Ark2"),
         {"participants": (0, 0, 0, 0)},
         error=r"title_merged\.xlsx: has no sheet 'Ark2' \(its sheets: 'Deltagere'\)",
         error_da=r"title_merged\.xlsx: har intet ark 'Ark2' \(dens ark: 'Deltagere'\); ret "
                  r"sheet: under files: i konfigurationen"),
    # -- readable files that cannot be used: every row is quarantined with the file's reason --
    Case("missing required column", participants("missing_column.csv"),
         {"participants": (2, 0, 2, 0)},
         error=r"missing_column\.csv: missing required column 'status' \(accepted names: ",
         error_da=r"missing_column\.csv: den nødvendige kolonne mangler: 'status' \(godkendte "
                  r"navne: status, resultat, udfald",
         quarantine=[("missing_column.csv", r, "", "file_unusable") for r in (2, 3)]),
    Case("duplicate columns", participants("duplicate_columns.csv"),
         {"participants": (1, 0, 1, 0)},
         error=r"duplicate_columns\.csv: columns 'CPR-nr\.' and 'Personnummer' both mean 'cpr'",
         error_da=r"duplicate_columns\.csv: kolonnerne 'CPR-nr\.' og 'Personnummer' betyder "
                  r"begge 'cpr'",
         quarantine=[("duplicate_columns.csv", 2, "", "file_unusable")]),
    Case("same header twice", participants("same_header_twice.csv"),
         {"participants": (1, 0, 1, 0)},
         error=r"same_header_twice\.csv: the column 'Status' appears twice",
         error_da=r"same_header_twice\.csv: kolonnen 'Status' står der to gange",
         quarantine=[("same_header_twice.csv", 2, "", "file_unusable")]),
    Case("no delprojekt", {"participants": [(GOOD, {})]}, {"participants": (4, 0, 4, 0)},
         error=rf"{GOOD}: no 'delprojekt' column and the config does not say",
         error_da=rf"{GOOD}: ingen kolonne »delprojekt«, og konfigurationen siger ikke",
         quarantine=[(GOOD, r, "", "file_unusable") for r in (2, 3, 4, 5)]),
    # -- files that read fine despite their looks --
    Case("utf-16 with BOM", participants("utf16.csv"), {"participants": (2, 2, 0, 0)}),
    Case("cp1252", participants("cp1252.csv"), {"participants": (2, 2, 0, 0)}),
    Case("title row above header", participants("title_row.csv"),
         {"participants": (2, 2, 0, 0)},
         check=lambda run: _check_source_rows(run, [4, 5])),
    Case("merged cells xlsx", participants("title_merged.xlsx"), {"participants": (4, 4, 0, 0)},
         check=_check_title_merged),
    Case("excel numbers and dates", participants("excel_numbers.xlsx"),
         {"participants": (3, 3, 0, 0)}, check=_check_excel_numbers),
    Case("date formats", participants("date_formats.csv"), {"participants": (4, 4, 0, 0)},
         check=_check_date_formats),
    Case("comma separated", participants("comma_separated.csv"),
         {"participants": (2, 2, 0, 0)}, check=_check_comma),
    Case("spss numbers", participants("spss_numbers.sav"), {"participants": (3, 2, 1, 0)},
         quarantine=[("spss_numbers.sav", 4, S, "unknown_status")]),
    # -- rows quarantined with a reason --
    Case("unknown_status", participants("unknown_status.csv"),
         {"participants": (2, 1, 1, 0)},
         quarantine=[("unknown_status.csv", 2, S, "unknown_status")],
         check=_check_unmapped("participants", "status", {"Holder pause": 1})),
    Case("CPR in the status column", participants("cpr_in_wrong_column.csv"),
         {"participants": (1, 0, 1, 0)},
         quarantine=[("cpr_in_wrong_column.csv", 2, S, "unknown_status")]),
    Case("unknown_target_group", participants("unknown_target_group.csv"),
         {"participants": (2, 0, 2, 0)},
         quarantine=[("unknown_target_group.csv", 2, "Målgruppe", "unknown_target_group"),
                     ("unknown_target_group.csv", 3, "Målgruppe", "missing_target_group")]),
    Case("impossible and future dates", participants("bad_dates.csv"),
         {"participants": (4, 0, 4, 0)},
         quarantine=[("bad_dates.csv", 2, "Startdato", "invalid_date"),
                     ("bad_dates.csv", 3, "Startdato", "date_in_future"),
                     ("bad_dates.csv", 4, "Slutdato", "date_in_future"),
                     ("bad_dates.csv", 5, "Slutdato", "invalid_date")]),
    Case("end_before_start", participants("end_before_start.csv"),
         {"participants": (2, 1, 1, 0)},
         quarantine=[("end_before_start.csv", 2, "Slutdato", "end_before_start")]),
    Case("age outside target range", participants("age_outside.csv"),
         {"participants": (3, 1, 2, 0)},
         quarantine=[("age_outside.csv", r, "CPR-nr.", "age_outside_range")
                     for r in (2, 3)]),
    Case("invalid_cpr", participants("invalid_cpr.csv"), {"participants": (5, 1, 4, 0)},
         quarantine=[("invalid_cpr.csv", 2, "CPR-nr.", "invalid_cpr"),
                     ("invalid_cpr.csv", 3, "CPR-nr.", "invalid_cpr"),
                     ("invalid_cpr.csv", 4, "CPR-nr.", "invalid_cpr"),
                     ("invalid_cpr.csv", 5, "CPR-nr.", "missing_cpr")]),
    Case("CPR lost leading zero", participants("cpr_lost_zero.csv"),
         {"participants": (2, 1, 0, 1)}, check=_check_lost_zero),
    Case("mod-11 failure kept", participants("mod11_failure.csv"),
         {"participants": (1, 1, 0, 0)},
         warnings=["mod11_failure.csv: 1 CPR number(s) fail the modulus-11 check; kept"]),
    Case("same person conflicting and exact duplicate", participants("duplicate_person.csv"),
         {"participants": (4, 1, 2, 1)},
         quarantine=[("duplicate_person.csv", r, S,
                      "conflicting_repeat") for r in (4, 5)],
         check=lambda run: _check_duplicate_rows(run, "participants",
                                                 [("duplicate_person.csv", 3)])),
    Case("same person in two files", participants(GOOD, "conflict_other_file.csv"),
         {"participants": (6, 3, 2, 1)},
         quarantine=[(f, 3, S, "conflicting_repeat")
                     for f in (GOOD, "conflict_other_file.csv")], check=_check_two_files),
    Case("repeated_header_row", participants("repeated_header.csv"),
         {"participants": (4, 2, 2, 0)},
         quarantine=[("repeated_header.csv", 4, "CPR-nr.", "repeated_header_row"),
                     ("repeated_header.csv", 6, "CPR-nr.", "invalid_cpr")]),
    Case("ragged rows", participants("ragged_rows.csv"), {"participants": (2, 1, 1, 0)},
         quarantine=[("ragged_rows.csv", 3, S, "missing_status")],
         warnings=["ragged_rows.csv: column 8 has no header but holds values in row(s) 2"]),
    Case("ragged row after row 50", participants("ragged_late.csv"),
         {"participants": (60, 60, 0, 0)},
         warnings=["ragged_late.csv: column 8 has no header but holds values in row(s) 58;"]),
    Case("unknown element kept", participants("unknown_element.csv"),
         {"participants": (1, 1, 0, 0)},
         check=_check_unmapped("participants", "elements", {"kørekort": 1})),
    # -- survey, steps and quotes --
    Case("survey answers off the scale", with_good("survey", "survey_bad_answers.csv",
                                                   wave="baseline"),
         {"participants": (4, 4, 0, 0), "survey_responses": (3, 3, 0, 0)},
         warnings=["2 survey answer(s) not on the scale were read as missing"],
         check=_check_cell_issues("survey_bad_answers.csv", [(3, "swemwbs_1", "'Ofte tiden'"),
                                                             (2, "swemwbs_2", "'7'")])),
    Case("survey CPR typed as an answer", with_good("survey", "survey_cpr_in_answer.csv",
                                                    wave="baseline"),
         {"participants": (4, 4, 0, 0), "survey_responses": (2, 2, 0, 0)},
         check=_check_cell_issues("survey_cpr_in_answer.csv",
                                  [(2, "swemwbs_2", "[CPR-like number removed]"),
                                   (3, "swemwbs_1", "[CPR-like number removed]")])),
    Case("survey unknown participant", with_good("survey", "survey_unknown_participant.csv",
                                                 wave="baseline"),
         {"participants": (4, 4, 0, 0), "survey_responses": (2, 1, 1, 0)},
         quarantine=[("survey_unknown_participant.csv", 3, "CPR-nr.", "unknown_participant")]),
    Case("survey respondent twice", with_good("survey", "survey_duplicates.csv",
                                              wave="baseline"),
         {"participants": (4, 4, 0, 0), "survey_responses": (5, 2, 2, 1)},
         quarantine=[("survey_duplicates.csv", r, "swemwbs_1",
                      "conflicting_repeat") for r in (4, 5)],
         check=lambda run: _check_duplicate_rows(run, "survey_responses",
                                                 [("survey_duplicates.csv", 3)])),
    Case("steps unknown participant and step", with_good("steps", "steps_bad.csv"),
         {"participants": (4, 4, 0, 0), "steps": (6, 2, 3, 1)},
         quarantine=[("steps_bad.csv", 3, "Skridt", "unknown_step"),
                     ("steps_bad.csv", 4, "CPR-nr.", "unknown_participant"),
                     ("steps_bad.csv", 5, "Dato", "invalid_date")],
         check=lambda run: _check_duplicate_rows(run, "steps", [("steps_bad.csv", 7)])),
    Case("quotes unknown hypothesis and participant", with_good("quotes", "quotes_bad.csv"),
         {"participants": (4, 4, 0, 0), "quotes": (6, 1, 5, 0)},
         quarantine=[("quotes_bad.csv", 3, "Hypotese", "unknown_hypothesis"),
                     ("quotes_bad.csv", 4, "Kilde", "unknown_source_type"),
                     ("quotes_bad.csv", 5, "Citat", "empty_quote"),
                     ("quotes_bad.csv", 6, "CPR-nr.", "unknown_participant"),
                     ("quotes_bad.csv", 7, "CPR-nr.", "invalid_cpr")]),
    Case("coded interviews (REFI-QDA) with broken codings", with_good("quotes", "qdpx_bad.qdpx"),
         {"participants": (4, 4, 0, 0), "quotes": (6, 1, 5, 0)},
         quarantine=[("qdpx_bad.qdpx", 2, "quote", "quote_personal_data"),
                     ("qdpx_bad.qdpx", 3, "code", "code_not_mapped"),
                     ("qdpx_bad.qdpx", 4, "segment", "segment_outside_source"),
                     ("qdpx_bad.qdpx", 5, "source_type", "unknown_source_type"),
                     ("qdpx_bad.qdpx", 6, "cpr", "unknown_participant")],
         warnings=["qdpx_bad.qdpx: 1 coding(s) with a code under qda.ignore_codes"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_file(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = clean_cli(write_project(tmp_path, case.files), capsys)
    quality = run.quality
    tables = quality["tables"]
    # exit code and the file-level message, which names the file
    errors = [e["error"] for t in tables.values() for e in t["file_errors"]]
    if case.error:  # each error case is the project's only participant file: nothing to analyse
        assert run.code == 2
        assert len(errors) == 1 and re.match(case.error, errors[0]), errors
        assert errors[0] in run.out and errors[0] in run.err
        # quality.json keeps the message as a code: the report words it in its language
        (error,) = [e for t in tables.values() for e in t["file_errors"]]
        assert i18n.word(error["message"], "en") == errors[0]
        assert re.match(case.error_da, i18n.word(error["message"], "da")), error["message"]
    else:
        assert run.code == 0 and not errors, errors
    # rows in = clean + quarantined + duplicates, per table and per file
    for name, t in tables.items():
        assert t["rows_in"] == t["clean"] + t["quarantined"] + t["duplicates"], name
        for f in t["by_file"].values():
            assert f["rows_in"] == f["clean"] + f["quarantined"] + f["duplicates"], name
        expected = case.counts.get(name, (0, 0, 0, 0))
        assert (t["rows_in"], t["clean"], t["quarantined"], t["duplicates"]) == expected, name
    # the quarantine: reason, file, row and column, nothing more
    q = run.quarantine
    got = sorted(zip(q["source_file"], q["source_row"].astype(int), q["column"].fillna(""),
                     q["reason"], strict=True))
    assert got == sorted(case.quarantine)
    assert q["detail"].notna().all() and q["detail"].str.len().gt(0).all()
    for detail in q["detail"]:  # a code with its parameters, worded in either language
        da, en = i18n.word(detail, "da"), i18n.word(detail, "en")
        assert da != en and not da.startswith("{") and not en.startswith("{"), detail
    for text in case.warnings:
        assert any(text in i18n.word(w, "en") for t in tables.values() for w in t["warnings"]), \
            text
    if case.check:
        case.check(run)
    # no CPR number anywhere a person reads
    blob = "\n".join([(run.processed / "quality.json").read_text(encoding="utf-8"), run.out,
                      run.err, *q["detail"].astype(str), *q["column"].astype(str)])
    assert not cpr_leaks(blob)


def test_quarantine_details_say_what_is_wrong_in_both_languages(tmp_path: Path, capsys) -> None:
    run = clean_cli(write_project(tmp_path, participants(
        "bad_dates.csv", "age_outside.csv", "invalid_cpr.csv", "unknown_status.csv",
        "end_before_start.csv")), capsys)
    q = run.quarantine
    stored = {(f, r): d for f, r, d in zip(q["source_file"], q["source_row"], q["detail"],
                                           strict=True)}
    en = {k: i18n.word(d, "en") for k, d in stored.items()}
    da = {k: i18n.word(d, "da") for k, d in stored.items()}
    assert en["bad_dates.csv", 2] == "'31-02-2020' is not a date (expected dd-mm-yyyy)"
    assert da["bad_dates.csv", 2] == "»31-02-2020« er ikke en dato (forventet dd-mm-åååå)"
    assert en["bad_dates.csv", 3] == "start date 05-01-2031 lies in the future"
    assert da["bad_dates.csv", 3] == "startdatoen 05-01-2031 ligger i fremtiden"
    assert en["bad_dates.csv", 5] == "'snart' is not a date (expected dd-mm-yyyy)"
    assert en["age_outside.csv", 2] == "age 14 at start; the project takes 15–29"
    assert da["age_outside.csv", 2] == "alder 14 ved start; projektet tager 15–29"
    assert en["invalid_cpr.csv", 3] == "the first six digits are not a date"
    assert da["invalid_cpr.csv", 3] == "de første seks cifre er ikke en dato"
    assert en["unknown_status.csv", 2] == (
        "'Holder pause' is not in the config's status vocabulary")
    assert da["unknown_status.csv", 2] == "»Holder pause« er ikke i konfigurationens statusord"
    assert en["end_before_start.csv", 2] == (
        "end date 20-01-2020 is before the start date 15-06-2020")
    assert da["end_before_start.csv", 2] == (
        "slutdatoen 20-01-2020 ligger før startdatoen 15-06-2020")
    # stored as a code with its parameters, so a report in either language can word it
    assert json.loads(stored["bad_dates.csv", 2]) == {"code": "detail.not_a_date",
                                                      "value": "31-02-2020"}


def test_the_data_quality_page_words_file_errors_and_details_in_its_language(
        tmp_path: Path, capsys) -> None:
    from ungeanalyse.config import load_config
    from ungeanalyse.reader import quality as reader_quality

    config = write_project(tmp_path, participants(GOOD, "missing_column.csv", "bad_dates.csv"))
    run = clean_cli(config, capsys)
    assert "missing_column.csv: missing required column 'status'" in run.out  # the CLI: English
    cfg = load_config(config)
    problems = {lang: reader_quality.problems(run.quality, cfg, lang) for lang in ("da", "en")}
    assert "- missing_column.csv: den nødvendige kolonne mangler: 'status' (godkendte navne: " \
        in problems["da"]
    assert "- missing_column.csv: missing required column 'status' (accepted names: " \
        in problems["en"]
    assert "missing required" not in problems["da"]
    worklist = {lang: reader_quality.worklist_frame(run.quarantine, lang, detail=True)
                for lang in ("da", "en")}
    da = worklist["da"].set_index(["Fil", "Række"])
    en = worklist["en"].set_index(["File", "Row"])
    assert da.loc[("bad_dates.csv", 4)].iloc[-1] == "slutdatoen 01-07-2030 ligger i fremtiden"
    assert en.loc[("bad_dates.csv", 4)].iloc[-1] == "end date 01-07-2030 lies in the future"
    assert da.loc[("missing_column.csv", 2)].iloc[-1].startswith(
        "missing_column.csv: den nødvendige kolonne mangler: 'status'")


def test_conflicts_across_files_name_each_partners_own_header(tmp_path: Path, capsys) -> None:
    """The same person in two files whose status columns are headed differently: each row's
    worklist entry names the column as that partner's file heads it."""
    config = write_project(tmp_path, participants(GOOD, "conflict_other_file.csv"))
    other = tmp_path / "raw" / "conflict_other_file.csv"
    other.write_text(other.read_text(encoding="utf-8").replace(";Status;", ";Udfald;"),
                     encoding="utf-8")
    q = clean_cli(config, capsys).quarantine.set_index("source_file")
    assert q.loc[GOOD, "column"] == "Status"
    assert q.loc["conflict_other_file.csv", "column"] == "Udfald"
    assert i18n.word(q.loc["conflict_other_file.csv", "detail"], "en").endswith(
        "disagree on Udfald")
    assert i18n.word(q.loc[GOOD, "detail"], "da").endswith("er uenige om Status")


def test_quarantine_never_quotes_a_cpr(tmp_path: Path, capsys) -> None:
    run = clean_cli(write_project(tmp_path, participants("cpr_in_wrong_column.csv")), capsys)
    assert [i18n.word(d, "en") for d in run.quarantine["detail"]] == [
        "'[CPR-like number removed]' is not in the config's status vocabulary"]
    assert [i18n.word(d, "da") for d in run.quarantine["detail"]] == [
        "»[CPR-like number removed]« er ikke i konfigurationens statusord"]


def test_every_file_error_and_detail_the_code_stores_is_worded() -> None:
    pkg = ROOT / "ungeanalyse"
    sources = "\n".join((pkg / f).read_text(encoding="utf-8")
                        for f in ("io.py", "clean.py", "qda.py", "survey_export.py"))
    file_errors = set(re.findall(r'(?:RawFileError|ExportError)\(\s*"([a-z_0-9]+)"', sources))
    file_errors |= set(re.findall(r'"file_error\.([a-z_0-9]+)"', sources))
    details = set(re.findall(r'_(?:detail|per_row)\(\s*"([a-z_0-9]+)"', sources))
    details |= set(re.findall(r'"detail\.([a-z_0-9]+)"', sources))
    assert len(file_errors) >= 40 and len(details) >= 30, (len(file_errors), len(details))
    for lang in i18n.LANGS:
        assert sorted(c for c in file_errors if not i18n.has(f"file_error.{c}", lang)) == []
        assert sorted(c for c in details if not i18n.has(f"detail.{c}", lang)) == []


# -- no participant file can be used ------------------------------------------------------------


def _clean(config: Path, capsys: pytest.CaptureFixture[str], *flags: str) -> Run:
    """``ungeanalyse clean`` with the given flags (``clean_cli`` always passes --strict)."""
    code = main(["clean", *flags, "--config", str(config)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return Run(code, captured.out, captured.err, config.parent.parent / "processed")


@pytest.mark.parametrize("flags", [(), ("--strict",)], ids=["plain", "strict"])
def test_every_participant_file_failing_exits_2(flags: tuple[str, ...], tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path, {"participants": [
        ("binary_junk.csv", KP), ("empty.csv", {"delprojekt": "hoeretab"})]})
    run = _clean(config, capsys, *flags)
    assert run.code == 2
    first, *rest = run.err.splitlines()
    assert first == ("ungeanalyse: no participant data: all 2 participant files could not be "
                     "used (binary_junk.csv, empty.csv):")
    assert any(line.strip().startswith("binary_junk.csv: this is not a text table")
               for line in rest)
    assert any(line.strip().startswith("empty.csv: the file is empty") for line in rest)
    assert "quality.json" in rest[-1]
    # the summary and quality.json still say what happened
    assert "! empty.csv: the file is empty" in run.out
    errors = run.quality["tables"]["participants"]["file_errors"]
    assert {e["file"] for e in errors} == {"binary_junk.csv", "empty.csv"}


@pytest.mark.parametrize("files", [
    participants(GOOD, "binary_junk.csv"),
    participants(GOOD, "missing_column.csv"),
    with_good("survey", "binary_junk.csv", wave="baseline"),
], ids=["one of two participant files", "unusable columns", "survey file"])
def test_a_partial_failure_warns_and_exits_0(files, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path, files)
    run = _clean(config, capsys)
    assert run.code == 0, run.err
    bad = next(n for specs in files.values() for n, _ in specs if n != GOOD)
    assert f"! {bad}: " in run.out
    # the warning also goes to stderr, where scripts and logs look, one line per file
    (line,) = run.err.splitlines()
    assert line.startswith("ungeanalyse: warning: file not used: ") and f": {bad}: " in line
    assert run.quality["tables"]["participants"]["clean"] == 4
    assert _clean(config, capsys, "--strict").code == 1


def test_the_run_summary_lists_files_not_used(tmp_path: Path) -> None:
    from ungeanalyse.pipeline import RunSummary, file_errors

    quality = {"tables": {"participants": {"file_errors": [
        {"file": "b.csv", "error": "b.csv: the file is empty"}]},
        "survey": {"file_errors": []}}}
    errors = file_errors(quality)
    assert errors == ["participants: b.csv: the file is empty"]
    text = RunSummary("p", [], 1.0, tmp_path / "index.html", "ran", errors).summary()
    assert "  warning: file not used: participants: b.csv: the file is empty" in text


def test_the_runner_stops_when_no_participant_file_can_be_used(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path, participants("header_only.csv"))
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    code = main(["run", "--no-progress", "--config", str(config)])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.startswith("ungeanalyse: no participant data: the only participant file could "
                          "not be used (header_only.csv):")
    assert not (tmp_path / "reports" / "bad_input" / "manifest.json").exists()
    # a rerun without changes stops the same way (the clean stage is not taken as done)
    assert main(["run", "--no-progress", "--config", str(config)]) == 2


# -- config errors ---------------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """An edit that sets a dotted key (``hypotheses.2.context``) in the config."""
    def edit(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = data
        for p in parents:
            node = node[int(p)] if isinstance(node, list) else node[p]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return edit


CONFIG_CASES = [
    ("unknown key", _set("project.budjet_kr", 1), r"project\.budjet_kr: unknown key"),
    ("unknown delprojekt in hypothesis", _set("hypotheses.4.delprojekter", ["atlantis"]),
     r"hypotheses\[4\]\.delprojekter: unknown delprojekt 'atlantis'; known: kommed"),
    ("hypothesis context names a missing column",
     _set("hypotheses.2.context", "maalgruppe == 'paabegynde'"),
     r"hypotheses\[2\]\.context: unknown column 'maalgruppe' \(known: person_id, delprojekt"),
    ("hypothesis mechanism names a missing column",
     _set("hypotheses.0.mechanism", "element_kontaktperson"),
     r"hypotheses\[0\]\.mechanism: unknown column 'element_kontaktperson' \(known: .*"
     r"element_fast_kontaktperson"),
    ("hypothesis outcome names a missing column",
     _set("hypotheses.1.outcome", "goal_met or `uddannelse startet`"),
     r"hypotheses\[1\]\.outcome: unknown column 'uddannelse startet'"),
    ("hypothesis expression does not parse", _set("hypotheses.3.context", "n_challenges => 2"),
     r"hypotheses\[3\]\.context: 'n_challenges => 2' is not a valid expression"),
    ("unknown delprojekt for a file", _set("files.participants.0.delprojekt", "atlantis"),
     r"files\.participants\[0\]\.delprojekt: unknown delprojekt 'atlantis'"),
    ("unknown survey wave", _set("files.survey", [{"path": "survey_bad_answers.csv",
                                                   "wave": "midtvejs"}]),
     r"files\.survey\[0\]\.wave: 'midtvejs' is not one of survey\.waves "
     r"\(baseline, opfoelgning\)"),
    ("unknown canonical column", _set("columns.kpr", ["Kpr-nummer"]),
     r"columns: unknown canonical column\(s\) \['kpr'\]"),
    ("listed file does not exist", _set("files.participants.0.path", "findes_ikke.csv"),
     r"raw/findes_ikke\.csv: file not found \(listed under files: in project\.yml\)"),
]


@pytest.mark.parametrize(("edit", "message"), [c[1:] for c in CONFIG_CASES],
                         ids=[c[0] for c in CONFIG_CASES])
def test_bad_config(edit: Callable[[dict[str, Any]], None], message: str, tmp_path: Path,
                    capsys: pytest.CaptureFixture[str]) -> None:
    run = clean_cli(write_project(tmp_path, participants(GOOD), edit), capsys)
    assert run.code == 2
    assert run.err.startswith("ungeanalyse: ")
    assert re.search(message, run.err), run.err
    assert not run.out


@pytest.mark.parametrize(("text", "message"), [
    ("project: [unclosed\n", r"project\.yml: not valid YAML, line 2, column 1: did not find "
                             r"expected ',' or '\]'"),
    ("- a list\n- not a mapping\n", r"project\.yml: the config must be a YAML mapping"),
    ("", r"project\.yml: the config must be a YAML mapping"),
    ("project:\n\tid: x\n", r"project\.yml: not valid YAML, line 2, column 1: .*; YAML indents "
                            r"with spaces, not tabs$"),
], ids=["unclosed bracket", "a list", "empty file", "tab indent"])
def test_bad_yaml(text: str, message: str, tmp_path: Path, capsys) -> None:
    config = tmp_path / "config" / "project.yml"
    config.parent.mkdir()
    config.write_text(text, encoding="utf-8")
    run = clean_cli(config, capsys)
    assert run.code == 2 and re.search(message, run.err), run.err


def test_cpr_in_a_file_name_is_refused_without_showing_it(tmp_path: Path, capsys) -> None:
    config = write_project(tmp_path, {"participants": [("*.csv", KP)]})
    shutil.copy(BAD / GOOD, tmp_path / "raw" / "deltager_140503-4006.csv")
    run = clean_cli(config, capsys)
    assert run.code == 2
    assert "deltager_[CPR-like number removed].csv: the file name holds a CPR number" in run.err
    assert not cpr_leaks(run.err)


def test_string_literals_are_not_columns(tmp_path: Path, capsys) -> None:
    edit = _set("hypotheses.2.context", "target_group.isin(['maalgruppe', \"x y\"])")
    run = clean_cli(write_project(tmp_path, participants(GOOD), edit), capsys)
    assert run.code == 0, run.err


# -- the real command, in a process of its own ---------------------------------------------------


@pytest.mark.slow  # a Python process per case
@pytest.mark.parametrize(("files", "edit", "code", "stream", "message"), [
    (participants("binary_junk.csv"), None, 2, "stderr", "binary_junk.csv: this is not a text"),
    (participants(GOOD, "binary_junk.csv"), None, 1, "stdout",
     "binary_junk.csv: this is not a text"),
    (participants(GOOD), _set("hypotheses.2.context", "maalgruppe == 'p'"), 2, "stderr",
     "hypotheses[2].context: unknown column 'maalgruppe'"),
], ids=["binary junk", "bad hypothesis", "good file and binary junk"])
def test_command_line_without_traceback(files, edit, code, stream, message, tmp_path: Path
                                        ) -> None:
    config = write_project(tmp_path, files, edit)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "ungeanalyse", "clean", "--strict", "--config",
                           str(config)], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert proc.returncode == code
    assert "Traceback" not in proc.stderr
    assert message in getattr(proc, stream)


# -- the corpus itself ---------------------------------------------------------------------------


def test_generated_corpus_files_are_current(tmp_path: Path) -> None:
    """make_bad.py writes exactly the byte-level files the corpus holds (times pinned)."""
    sys.path.insert(0, str(BAD))
    write, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in the corpus
    try:
        import make_bad
    finally:
        sys.path.remove(str(BAD))
        sys.dont_write_bytecode = write
    for path in make_bad.write_all(tmp_path):
        assert (BAD / path.name).exists(), path.name
        assert path.read_bytes() == (BAD / path.name).read_bytes(), path.name


def test_every_corpus_file_has_a_case() -> None:
    used = {name for c in CASES for specs in c.files.values() for name, _ in specs}
    data = {p.name for p in _corpus_files() if p.suffix != ".py"}
    # REFI-QDA projects and survey exports: tests/test_qda.py and tests/test_survey_export.py
    tested_elsewhere = {n for n in data if n.startswith(("qdpx_", "surveyxact_", "sx_"))
                        or n == "survey_labels.sav"}
    assert data <= used | {"good_participants.csv"} | tested_elsewhere, sorted(data - used)
