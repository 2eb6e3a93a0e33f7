"""Survey exports as they come: SurveyXact workbooks and CSV sets, SPSS with labels, bad ones.

The corpus files (``tests/data/bad/surveyxact_*``, ``sx_*``, ``survey_labels.sav``) are four
respondents, the four good participants, written by ``make_bad.py``: SWEMWBS on the ``Dataset``
sheet (variables s_1..s_7, found by their question texts), the education items on
``Dataset (2)`` in another row order (u_1..u_4, coded 1 = 'Helt enig' while the config scores
'Helt enig' 5), joined on ``respondentid``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from tests.test_bad_input import BAD, GOOD, clean_cli, cpr_leaks, participants, write_project
from ungeanalyse import i18n
from ungeanalyse.clean import clean_project
from ungeanalyse.config import load_config
from ungeanalyse.demo import make_demo, today_for
from ungeanalyse.survey_export import export_kind, read_export

ROOT = Path(__file__).resolve().parents[1]

# respondent → (SWEMWBS answers 1–5, education answers as the config scores them)
EXPECTED = {
    0: ([4, 4, 3, 4, 5, 4, 3], [5, 5, 4, 1]),
    1: ([2, 3, 2, 2, 3, 3, 2], [1, 2, 2, 5]),
    2: ([5, 5, 4, None, 4, 5, 5], [4, 4, 3, 2]),   # s_4: 'Ved ikke' (code 9)
    3: ([3, 3, 3, 3, 3, None, 3], [5, 4, 5, 1]),   # s_6 left blank
}


def _survey(files: list[tuple[str, dict[str, Any]]]) -> dict[str, list]:
    return {**participants(GOOD), "survey": files}


def _clean_baseline(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                    edit: Any = None, **spec: str) -> Any:
    """The good participants and one survey export, as the baseline wave, through `clean`."""
    files = _survey([(name, {"wave": "baseline", **spec})])
    return clean_cli(write_project(tmp_path, files, edit), capsys)


def _answers(run: Any) -> dict[int, tuple[list, list]]:
    """respondent index (participant file order) → answers as in EXPECTED."""
    order = run.table("participants").sort_values("source_row")["person_id"].tolist()
    s = run.table("survey_responses")
    out = {}
    for i, pid in enumerate(order):
        mine = s[s["person_id"].eq(pid)].set_index("item")["value"]

        def val(item: str, m: pd.Series = mine) -> float | None:
            return None if pd.isna(m.get(item)) else float(m.get(item))
        out[i] = ([val(f"swemwbs_{k}") for k in range(1, 8)],
                  [val(f"udd_{k}") for k in range(1, 5)])
    return out


def _counts(run: Any) -> tuple[int, int, int, int]:
    t = run.quality["tables"]["survey_responses"]
    for f in t["by_file"].values():
        assert f["rows_in"] == f["clean"] + f["quarantined"] + f["duplicates"]
    return t["rows_in"], t["clean"], t["quarantined"], t["duplicates"]


def test_surveyxact_workbook_split_over_two_sheets(tmp_path: Path, capsys) -> None:
    run = _clean_baseline(tmp_path, capsys, "surveyxact_baseline.xlsx")
    assert run.code == 0, run.err
    assert _counts(run) == (4, 4, 0, 0)
    assert _answers(run) == EXPECTED
    issues = run.quality["cell_issues"]
    assert [(i["row"], i["column"], i18n.word(i["problem"], "en")) for i in issues] == [
        (4, "swemwbs_4", "answer 'Ved ikke' is not on the scale; read as missing")]
    assert not cpr_leaks(run.out + (run.processed / "quality.json").read_text("utf-8"))


@pytest.mark.parametrize("stem", ["sx_utf16", "sx_cp1252"])
def test_surveyxact_csv_sets(stem: str, tmp_path: Path, capsys) -> None:
    """dataset.csv with structure.csv and labels.csv beside it, UTF-16 tab or cp1252 ';'."""
    config = write_project(tmp_path, _survey([(f"{stem}_dataset.csv", {"wave": "baseline"})]))
    for part in ("structure", "labels"):
        shutil.copy(BAD / f"{stem}_{part}.csv", tmp_path / "raw")
    run = clean_cli(config, capsys)
    assert run.code == 0, run.err
    assert _counts(run) == (4, 4, 0, 0)
    assert _answers(run) == EXPECTED


def test_spss_value_labels_and_user_missing(tmp_path: Path, capsys) -> None:
    run = _clean_baseline(tmp_path, capsys, "survey_labels.sav")
    assert run.code == 0, run.err
    assert _counts(run) == (4, 4, 0, 0)
    assert _answers(run) == EXPECTED
    assert run.quality["cell_issues"] == []  # 'Ved ikke' is declared missing in the file
    warnings = [i18n.word(w, "en") for w in run.quality["tables"]["survey_responses"]["warnings"]]
    assert ("survey_labels.sav: 1 answer(s) in 's_4' are SPSS user-missing values (e.g. 'Ved "
            "ikke') and were read as missing") in warnings


def test_an_item_maps_by_its_variable_name(tmp_path: Path, capsys) -> None:
    """The config's item text differs from the export's question; the alias names the
    variable."""
    def edit(data: dict[str, Any]) -> None:
        data["survey"]["items"]["swemwbs_1"] = {"text": "Optimistisk", "aliases": ["s_1"]}

    run = _clean_baseline(tmp_path, capsys, "surveyxact_baseline.xlsx", edit)
    assert run.code == 0, run.err
    assert _answers(run)[0][0][0] == 4


def test_a_variables_sheet_stands_for_structure(tmp_path: Path) -> None:
    path = tmp_path / "export.xlsx"
    shutil.copy(BAD / "surveyxact_baseline.xlsx", path)
    wb = openpyxl.load_workbook(path)
    wb["Structure"].title = "Variables"
    wb.save(path)
    export = read_export(path, "respondentid")
    assert export.question["u_2"] == "Hvor enig er du? - Jeg ved, hvad jeg gerne vil"
    assert export.names_for("u_2")[-1] == "Jeg ved, hvad jeg gerne vil"
    assert export.sheet_of["u_2"] == "Dataset (2)"


def test_what_counts_as_an_export(tmp_path: Path) -> None:
    assert export_kind(BAD / "surveyxact_baseline.xlsx") == "surveyxact"
    assert export_kind(BAD / "sx_utf16_dataset.csv") == "surveyxact"
    assert export_kind(BAD / "survey_labels.sav") == "spss"
    assert export_kind(BAD / "excel_numbers.xlsx") is None
    assert export_kind(BAD / "survey_bad_answers.csv") is None


def _file_error(run: Any) -> str:
    errors = [e["error"] for e in run.quality["tables"]["survey_responses"]["file_errors"]]
    assert len(errors) == 1, errors
    assert run.code == 1 and errors[0] in run.out and "Traceback" not in run.err
    return errors[0]


def test_no_labels_sheet(tmp_path: Path, capsys) -> None:
    run = _clean_baseline(tmp_path, capsys, "surveyxact_no_labels.xlsx")
    assert _file_error(run) == (
        "surveyxact_no_labels.xlsx: a SurveyXact export without a 'Labels' sheet (its sheets: "
        "'Dataset', 'Dataset (2)', 'Structure'); without the value labels the answers are only "
        "codes whose meaning is unknown: export the dataset again from SurveyXact as Excel with "
        "all sheets")
    assert _counts(run) == (4, 0, 4, 0)


def test_labels_changed_between_waves(tmp_path: Path, capsys) -> None:
    run = clean_cli(write_project(tmp_path, _survey([
        ("surveyxact_baseline.xlsx", {"wave": "baseline"}),
        ("surveyxact_labels_changed.xlsx", {"wave": "opfoelgning"})])), capsys)
    assert _file_error(run) == (
        "surveyxact_labels_changed.xlsx, sheet 'Labels', variable 's_1' (survey item "
        "'swemwbs_1'): the value labels changed since the earlier wave "
        "(surveyxact_baseline.xlsx, sheet 'Labels', variable 's_1'): 2 = 'Sjældent' there, "
        "2 = 'Af og til' here; the same answer must have the same label in every wave: correct "
        "the labels in the export, or add the new wording to the response set under "
        "survey.response_sets")
    assert _counts(run) == (8, 4, 4, 0)  # the baseline is kept, the follow-up quarantined


def test_new_wording_with_the_same_value_is_accepted(tmp_path: Path, capsys) -> None:
    def edit(data: dict[str, Any]) -> None:
        data["survey"]["response_sets"]["hyppighed"]["Af og til"] = 2

    run = clean_cli(write_project(tmp_path, _survey([
        ("surveyxact_baseline.xlsx", {"wave": "baseline"}),
        ("surveyxact_labels_changed.xlsx", {"wave": "opfoelgning"})]), edit), capsys)
    assert run.code == 0, run.err
    assert _counts(run) == (8, 8, 0, 0)


def test_a_scale_item_missing_from_the_export(tmp_path: Path, capsys) -> None:
    run = _clean_baseline(tmp_path, capsys, "surveyxact_missing_item.xlsx")
    assert _file_error(run) == (
        "surveyxact_missing_item.xlsx: 1 of the 7 items of scale 'swemwbs' are not in the "
        "export, neither as a variable name nor as a question text: survey.items.swemwbs_3 "
        "('swemwbs_3', 'Jeg har følt mig afslappet'); add the export's variable name to the "
        "item's aliases in the config")


def test_a_respondent_key_the_export_lacks(tmp_path: Path, capsys) -> None:
    run = _clean_baseline(tmp_path, capsys, "surveyxact_baseline.xlsx",
                          key="respondent_nr")
    assert _file_error(run) == (
        "surveyxact_baseline.xlsx: the respondent key 'respondent_nr' (key: in the config) is "
        "not a column of sheet(s) 'Dataset', 'Dataset (2)'")


@pytest.mark.slow  # AUMI's demo written and cleaned twice
def test_aumi_follow_up_export_gives_the_same_survey_table(tmp_path: Path) -> None:
    """The demo's follow-up as a SurveyXact workbook and as a plain table of answer texts give
    the same clean answers."""
    tables = []
    for name, exports in (("sx", None), ("plain", {})):
        cfg = load_config(ROOT / "config" / "aumi.yml")
        cfg.files.raw_dir = str(tmp_path / name / "raw")
        cfg.files.processed_dir = str(tmp_path / name / "p")
        if exports is not None:
            cfg.demo.survey_exports = exports
        make_demo(cfg, register=False)
        res = clean_project(cfg, today=today_for(cfg))
        t = res.quality["tables"]["survey_responses"]
        assert t["rows_in"] == t["clean"] + t["quarantined"] + t["duplicates"]
        tables.append(res.survey_responses.drop(columns=["source_row"]).sort_values(
            ["person_id", "wave", "item"]).reset_index(drop=True))
    assert export_kind(tmp_path / "sx" / "raw" / "spoergeskema_opfoelgning.xlsx") == "surveyxact"
    follow_up = tables[0][tables[0]["wave"].eq("opfoelgning")]
    assert len(follow_up) > 500 and follow_up["value"].notna().mean() > 0.9
    pd.testing.assert_frame_equal(tables[0], tables[1])


def test_a_csv_dataset_without_its_labels_file(tmp_path: Path, capsys) -> None:
    config = write_project(tmp_path, _survey([("sx_cp1252_dataset.csv", {"wave": "baseline"})]))
    shutil.copy(BAD / "sx_cp1252_structure.csv", tmp_path / "raw")
    run = clean_cli(config, capsys)
    assert _file_error(run).startswith(
        "sx_cp1252_dataset.csv: a SurveyXact dataset without its labels file (expected "
        "sx_cp1252_labels.csv beside it)")
    assert _counts(run) == (4, 0, 4, 0)


def test_a_changed_labels_file_is_a_change_in_the_raw_data(tmp_path: Path) -> None:
    from ungeanalyse.pipeline import raw_fingerprint

    config = write_project(tmp_path, _survey([("sx_utf16_dataset.csv", {"wave": "baseline"})]))
    for part in ("structure", "labels"):
        shutil.copy(BAD / f"sx_utf16_{part}.csv", tmp_path / "raw")
    cfg = load_config(config)
    before = raw_fingerprint(cfg)
    labels = tmp_path / "raw" / "sx_utf16_labels.csv"
    labels.write_bytes(labels.read_bytes().replace("Ofte".encode("utf-16-le"),
                                                   "Tit!".encode("utf-16-le")))
    assert raw_fingerprint(cfg) != before
