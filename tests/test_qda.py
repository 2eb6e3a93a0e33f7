"""REFI-QDA projects (.qdpx): reading the XML, codings → quotes, bad projects, the AUMI demo."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from tests.test_bad_input import BAD, clean_cli, cpr_leaks, with_good, write_project
from ungeanalyse import i18n
from ungeanalyse.clean import clean_project
from ungeanalyse.config import load_config
from ungeanalyse.demo import make_demo, today_for
from ungeanalyse.io import RawFileError
from ungeanalyse.qda import SegmentSpec, SourceSpec, read_qdpx, write_qdpx

ROOT = Path(__file__).resolve().parents[1]

# An ATLAS.ti/NVivo-style project.qde written by hand: nested codes, a PDF source with a text
# representation, inline plain text, a picture selection, and case variables of two types.
QDE = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Test" origin="NVivo 14">
  <Users><User guid="u1" name="Ida Interviewer"/></Users>
  <CodeBook><Codes>
    <Code guid="c1" name="Mekanismer" isCodable="false">
      <Code guid="c2" name="Fast kontaktperson" isCodable="true">
        <Code guid="c3" name="Telefon" isCodable="true"/>
      </Code>
    </Code>
    <Code guid="c4" name="Baggrund" isCodable="true"/>
  </Codes></CodeBook>
  <Variables>
    <Variable guid="v1" name="CPR" typeOfVariable="Text"/>
    <Variable guid="v2" name="Informant" typeOfVariable="Text"/>
    <Variable guid="v3" name="Alder" typeOfVariable="Integer"/>
  </Variables>
  <Cases>
    <Case guid="k1" name="Bo Prøvesen">
      <VariableValue><VariableRef targetGUID="v1"/>
        <TextValue>020104-4006</TextValue></VariableValue>
      <VariableValue><VariableRef targetGUID="v3"/><IntegerValue>19</IntegerValue></VariableValue>
      <SourceRef targetGUID="s1"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="s1" name="Interview 7" plainTextPath="internal://s1.txt">
      <PlainTextSelection guid="p1" startPosition="3" endPosition="40" creatingUser="u1">
        <Coding guid="x1"><CodeRef targetGUID="c3"/></Coding>
        <Coding guid="x2"><CodeRef targetGUID="c4"/></Coding>
      </PlainTextSelection>
      <VariableValue><VariableRef targetGUID="v2"/><TextValue>Den unge</TextValue></VariableValue>
    </TextSource>
    <PDFSource guid="s2" name="Partnernotat" path="internal://s2.pdf">
      <Representation guid="r2" plainTextPath="internal://r2.txt">
        <PlainTextSelection guid="p2" startPosition="0" endPosition="9">
          <Coding guid="x3"><CodeRef targetGUID="c2"/></Coding>
        </PlainTextSelection>
      </Representation>
      <VariableValue><VariableRef targetGUID="v2"/><TextValue>Partner</TextValue></VariableValue>
    </PDFSource>
    <PictureSource guid="s3" name="Foto" path="internal://s3.png">
      <PictureSelection guid="p3" firstX="0" firstY="0" secondX="5" secondY="5">
        <Coding guid="x4"><CodeRef targetGUID="c2"/></Coding>
      </PictureSelection>
    </PictureSource>
    <TextSource guid="s4" name="Case 1">
      <PlainTextContent>Æble på skolen</PlainTextContent>
      <PlainTextSelection guid="p4" startPosition="0" endPosition="5">
        <Coding guid="x5"><CodeRef targetGUID="c2"/></Coding>
      </PlainTextSelection>
    </TextSource>
  </Sources>
</Project>
"""


def _project(tmp_path: Path) -> Path:
    path = tmp_path / "nvivo.qdpx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.qde", QDE)
        zf.writestr("sources/s1.txt", "U: Min kontaktperson ringede  \r\ntil mig.")
        zf.writestr("sources/r2.txt", "Relationen er alt.")
        zf.writestr("sources/s2.pdf", b"%PDF-1.4")
    return path


def test_read_qdpx_parses_codes_sources_segments_and_cases(tmp_path: Path) -> None:
    p = read_qdpx(_project(tmp_path))
    assert {c.path for c in p.codes.values()} == {
        "Mekanismer", "Mekanismer/Fast kontaktperson", "Mekanismer/Fast kontaktperson/Telefon",
        "Baggrund"}
    assert p.sources["s1"].text.startswith("U: Min kontaktperson")
    assert p.sources["r2"].name == "Partnernotat" and p.sources["r2"].text == "Relationen er alt."
    assert p.sources["s4"].text == "Æble på skolen"
    assert [(s.source, s.start, s.end, s.codes) for s in p.segments] == [
        ("s1", 3, 40, ["c3", "c4"]), ("r2", 0, 9, ["c2"]), ("s4", 0, 5, ["c2"])]
    assert p.cases["k1"].variables == {"CPR": "020104-4006", "Alder": "19"}
    assert p.cases["k1"].sources == ["s1"]
    assert p.other_selections == 1
    assert p.identifiers() == {"Bo Prøvesen", "Ida Interviewer"}


def test_a_nvivo_project_becomes_quotes(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    """A child code inherits its parent's hypothesis; an ignored code is not read; the type
    comes from a variable; the case's CPR becomes the participant's pseudonym."""
    config = write_project(tmp_path, with_good("quotes", "x"), edit=lambda d: d.update(qda={
        "codes": {"Mekanismer/Fast kontaktperson": "H1"}, "ignore_codes": ["Baggrund"],
        "source_type_variable": "Informant", "source_types": {"case*": "case"},
        "participant_variable": "CPR"}) or d["files"].update(quotes=[{"path": "nvivo.qdpx"}]))
    _project(tmp_path / "raw")
    run = clean_cli(config, capsys)
    assert run.code == 0, run.err
    t = run.quality["tables"]["quotes"]
    assert (t["rows_in"], t["clean"], t["quarantined"], t["duplicates"]) == (3, 3, 0, 0)
    warnings = [i18n.word(w, "en") for w in t["warnings"]]
    assert any("1 coding(s) with a code under qda.ignore_codes" in w for w in warnings)
    assert any("1 coding(s) of pictures, audio or video" in w for w in warnings)
    q = run.table("quotes").set_index("quote_id")
    assert q.loc["nvivo-1", "text"] == "Min kontaktperson ringede til mig."  # spaces joined
    assert list(q["source_type"]) == ["ung", "partner", "case"]
    assert list(q["hypothesis_id"]) == ["H1"] * 3
    bo = run.table("participants").sort_values("source_row")["person_id"].iloc[1]
    assert q.loc["nvivo-1", "person_id"] == bo
    assert q["person_id"].isna().tolist() == [False, True, True]
    # the case's and the user's names reach the scanner, not the tables
    blob = run.table("quotes").to_csv() + (run.processed / "quality.json").read_text("utf-8")
    assert "Prøvesen" not in blob and "Interviewer" not in blob
    from ungeanalyse.privacy import DEMO_KEY, name_fingerprints
    fps = set(pd.read_json(run.processed / "name_fingerprints.json", typ="series"))
    assert name_fingerprints(["Ida Interviewer"], DEMO_KEY) <= fps


def test_segment_text_is_the_selected_characters(tmp_path: Path) -> None:
    text = "I: Hvad hjalp?\nU: Æblet – og så min kontaktperson.\n"
    start = text.index("min")
    write_qdpx(tmp_path / "p.qdpx", [SourceSpec("Interview ung 1", text, [
        SegmentSpec(start, start + len("min kontaktperson"), ["K"])])], ["K"])
    p = read_qdpx(tmp_path / "p.qdpx")
    seg = p.segments[0]
    assert p.sources[seg.source].text[seg.start:seg.end] == "min kontaktperson"


def test_bad_projects_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(RawFileError, match=r"^qdpx_not_zip\.qdpx: not a REFI-QDA project"):
        read_qdpx(BAD / "qdpx_not_zip.qdpx")
    with pytest.raises(RawFileError, match=r"^qdpx_no_project\.qdpx: the zip archive has no "
                                           r"project\.qde"):
        read_qdpx(BAD / "qdpx_no_project.qdpx")
    broken = tmp_path / "broken.qdpx"
    with zipfile.ZipFile(broken, "w") as zf:
        zf.writestr("project.qde", "<Project><Sources>")
    with pytest.raises(RawFileError, match=r"^broken\.qdpx: project\.qde is not valid XML"):
        read_qdpx(broken)


@pytest.mark.parametrize("name, message", [
    ("qdpx_not_zip.qdpx", "qdpx_not_zip.qdpx: not a REFI-QDA project (a .qdpx file is a zip "
                          "archive)"),
    ("qdpx_no_project.qdpx", "qdpx_no_project.qdpx: the zip archive has no project.qde"),
])
def test_a_project_that_cannot_be_read_is_a_file_error(
        name: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = clean_cli(write_project(tmp_path, with_good("quotes", name)), capsys)
    assert run.code == 1  # --strict: a file that cannot be used
    errors = [e["error"] for e in run.quality["tables"]["quotes"]["file_errors"]]
    assert len(errors) == 1 and errors[0].startswith(message)
    assert message in run.out
    assert "Traceback" not in run.err


def test_each_broken_coding_is_quarantined_with_its_reason(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = clean_cli(write_project(tmp_path, with_good("quotes", "qdpx_bad.qdpx")), capsys)
    assert run.code == 0, run.err
    t = run.quality["tables"]["quotes"]
    assert (t["rows_in"], t["clean"], t["quarantined"], t["duplicates"]) == (6, 1, 5, 0)
    assert t["by_file"]["qdpx_bad.qdpx"] == {"rows_in": 6, "clean": 1, "quarantined": 5,
                                             "duplicates": 0}
    q = run.quarantine
    got = {(int(r), c, reason): i18n.word(d, "en") for r, c, reason, d in zip(
        q["source_row"], q["column"], q["reason"], q["detail"], strict=True)}
    assert set(got) == {(2, "quote", "quote_personal_data"),
                        (3, "code", "code_not_mapped"),
                        (4, "segment", "segment_outside_source"),
                        (5, "source_type", "unknown_source_type"),
                        (6, "cpr", "unknown_participant")}
    assert got[3, "code", "code_not_mapped"] == (
        "code 'Uddannelsesvalg' (source 'Interview ung 01', characters 117–143) is not under "
        "qda.codes in the config; map it to a hypothesis id or list it under qda.ignore_codes")
    assert got[4, "segment", "segment_outside_source"].endswith(
        "the selection lies outside the source's text (144 characters); export the project "
        "again")
    assert "'Noter fra møde' has no source type" in got[5, "source_type", "unknown_source_type"]
    clean = run.table("quotes")
    assert clean["text"].tolist() == ["Min kontaktperson ringede, når jeg ikke kom."]
    blob = "\n".join([run.out, run.err, *q["detail"], clean.to_csv(),
                      (run.processed / "quality.json").read_text("utf-8")])
    assert "Testesen" not in blob and "Ukendt Ung" not in blob and not cpr_leaks(blob)


def test_config_refuses_a_code_mapped_to_an_unknown_hypothesis(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from ungeanalyse.cli import main

    config = write_project(tmp_path, with_good("quotes", "qdpx_bad.qdpx"),
                           edit=lambda d: d["qda"]["codes"].update({"Uddannelsesvalg": "H7"}))
    assert main(["clean", "--config", str(config)]) == 2
    assert "qda.codes.Uddannelsesvalg: 'H7' is not a hypothesis id" in capsys.readouterr().err


def test_aumi_demo_interviews_reach_the_joint_display(tmp_path: Path) -> None:
    from ungeanalyse.realist import evaluate_hypotheses, joint_display

    cfg = load_config(ROOT / "config" / "aumi.yml")
    cfg.files.raw_dir, cfg.files.processed_dir = str(tmp_path / "raw"), str(tmp_path / "p")
    make_demo(cfg, register=False)
    res = clean_project(cfg, today=today_for(cfg))
    t = res.quality["tables"]["quotes"]
    assert t["by_file"]["interviews.qdpx"] == {"rows_in": 20, "clean": 20, "quarantined": 0,
                                               "duplicates": 0}
    assert t["rows_in"] == t["clean"] + t["quarantined"] + t["duplicates"]
    q = res.quotes[res.quotes["source_file"].eq("interviews.qdpx")]
    assert q.groupby("hypothesis_id")["source_type"].apply(list).to_dict() == {
        h: ["ung", "ung", "partner", "case"] for h in ("H1", "H2", "H3", "H4", "H5")}
    assert q.loc[q["source_type"].eq("ung"), "person_id"].isin(
        res.participants["person_id"]).all()
    assert q.loc[q["source_type"].eq("partner"), "person_id"].isna().all()
    jd = joint_display(evaluate_hypotheses(res.participants, cfg), res.quotes, cfg,
                       max_quotes=10).set_index("id")
    h2 = jd.loc["H2"]
    assert "Før kurset troede jeg, at det var mig, der var forkert." in h2["quotes_text"]
    assert h2["n_quotes"] == 5 + 4  # the quotes sheet's five and the project's four


def test_a_config_without_code_mapping_says_which_codes_there_are(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_project(tmp_path, with_good("quotes", "qdpx_bad.qdpx"),
                           edit=lambda d: d.pop("qda"))
    run = clean_cli(config, capsys)
    errors = [e["error"] for e in run.quality["tables"]["quotes"]["file_errors"]]
    assert errors == [
        "qdpx_bad.qdpx: the config maps no code to a hypothesis; add the codes that speak to a "
        "hypothesis under qda.codes (the project's codes: 'Baggrund', 'Mekanismer', "
        "'Mekanismer/Fast kontaktperson', 'Mekanismer/Mestringskursus', 'Uddannelsesvalg')"]


def test_a_quotes_sheet_that_names_a_person_is_quarantined(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The participant lists' names, phone numbers and e-mail addresses never reach the
    quotes table, from a sheet as from a QDA project."""
    config = write_project(tmp_path, with_good("quotes", "quotes.csv"))
    (tmp_path / "raw" / "quotes.csv").write_text(
        "Hypotese;Kilde;Citat\n"
        "H1;ung;Jeg talte med Bo Prøvesen hver uge.\n"
        "H1;partner;Ring til mig på 20 30 40 50.\n"
        "H1;partner;Skriv til kp@kommune.dk.\n"
        "H1;ung;Min kontaktperson hjalp mig.\n", encoding="utf-8")
    run = clean_cli(config, capsys)
    q = run.quarantine
    assert sorted(zip(q["source_row"], q["reason"], strict=True)) == [
        (2, "quote_personal_data"), (3, "quote_personal_data"),
        (4, "quote_personal_data")]
    assert run.table("quotes")["text"].tolist() == ["Min kontaktperson hjalp mig."]
    assert "Prøvesen" not in "".join(q["detail"])
