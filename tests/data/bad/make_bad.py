"""Write the binary and oddly encoded files of the bad-input corpus (run: python make_bad.py).

The plain-text cases next to this script are written by hand; these need bytes or a workbook.
"""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pyreadstat

HERE = Path(__file__).resolve().parent
HEADER = ["CPR-nr.", "Navn", "Målgruppe", "Startdato", "Slutdato", "Status"]
PNG_1x1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def _csv(rows: list[list[str]], sep: str = ";") -> str:
    return "\r\n".join(sep.join(r) for r in rows) + "\r\n"


STAMP = dt.datetime(2021, 10, 31)
"""The time every generated file claims, so that the corpus has the same bytes on each run."""


def _save(wb: openpyxl.Workbook, path: Path) -> None:
    from ungeanalyse.demo import _pin_zip_times

    wb.properties.created = wb.properties.modified = STAMP
    wb.save(path)
    _pin_zip_times(path, STAMP)  # openpyxl stamps docProps and the zip entries with "now"


def _pin_sav_time(path: Path) -> None:
    """Overwrite the creation date and time in an SPSS file's header (bytes 92–108: 'dd mmm yy'
    and 'hh:mm:ss'), which pyreadstat sets to the time of writing."""
    data = bytearray(path.read_bytes())
    data[92:109] = STAMP.strftime("%d %b %y%H:%M:%S").encode("ascii")
    path.write_bytes(bytes(data))


def write_all(target: Path = HERE) -> list[Path]:
    """Write every generated case into ``target``; returns the paths."""
    out = []

    def put(name: str, data: bytes) -> None:
        (target / name).write_bytes(data)
        out.append(target / name)

    rng = random.Random(7)
    put("binary_junk.csv", bytes(rng.randrange(256) for _ in range(600)))
    put("png_renamed.xlsx", PNG_1x1)
    rows = [HEADER, ["140503-4006", "Søren Ærø", "Påbegynde", "15-01-2020", "20-06-2020",
                     "Påbegyndt ungdomsuddannelse"],
            ["020104-4006", "Åse Østergård", "Fastholde", "01-02-2020", "", "Stadig i forløb"]]
    # Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated.
    put("utf16.csv", _csv(rows, "\t").encode("utf-16"))
    put("cp1252.csv", _csv(rows).encode("cp1252"))
    # Two exports pasted together: UTF-8 rows, then one cp1252 row.
    put("mixed_encoding.csv", _csv(rows[:2]).encode("utf-8")
        + _csv([["300699-0001", "Bjørn Å", "Fastholde", "10-03-2020", "", "Aktiv"]])
        .encode("cp1252"))

    # Unicode text saved without the byte-order mark.
    put("utf16_no_bom.csv", _csv(rows).encode("utf-16-le"))
    # More than 50 rows, and a row far down with two cells more than the header: the fast
    # parser gives up there and the forgiving one takes over.
    people = [[f"{day:02d}{month:02d}04-4006", f"Person {i}", "Fastholde", "01-02-2020", "",
               "Aktiv"] for i, (month, day) in enumerate(
                   ((m, d) for m in (1, 2, 3) for d in range(1, 29)), start=1)][:60]
    people[56] += ["", "ekstra"]
    put("ragged_late.csv", _csv([HEADER, *people]).encode("utf-8"))
    # Other files renamed to .xlsx, and the old binary Excel format.
    ole = bytes.fromhex("d0cf11e0a1b11ae1") + bytes(504)
    put("old_excel.xlsx", ole)
    put("old_excel.xls", ole)
    docx = target / "docx_renamed.xlsx"
    with zipfile.ZipFile(docx, "w") as zf:
        for name in ("[Content_Types].xml", "word/document.xml"):
            zf.writestr(zipfile.ZipInfo(name, (2021, 10, 31, 0, 0, 0)), "<x/>")
    out.append(docx)
    put("junk.sav", b"$FL2 " + bytes(rng.randrange(256) for _ in range(300)))
    # SPSS: CPR numbers stored as numbers (lost leading zero), a real SPSS date column.
    spss = pd.DataFrame({
        "CPR": [101004007.0, 1405034006.0, 2010044006.0],
        "Navn": ["Eva Eksempel", "Anna Testesen", "Bo Prøvesen"],
        "Målgruppe": ["Fastholde", "Påbegynde", "Fastholde"],
        "Startdato": [dt.date(2020, 1, 15), dt.date(2020, 1, 15), dt.date(2020, 2, 1)],
        "Status": ["Gennemført", "Påbegyndt ungdomsuddannelse", "Holder pause"],
    })
    pyreadstat.write_sav(spss, str(target / "spss_numbers.sav"))
    _pin_sav_time(target / "spss_numbers.sav")
    out.append(target / "spss_numbers.sav")

    # A title row merged across the top, and one target group merged down three rows.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Deltagere"
    ws.append(["Deltagerliste KomMed, udtræk 31-10-2021"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(HEADER))
    ws.append([])
    ws.append(HEADER)
    ws.append(["140503-4006", "Anna Testesen", "Påbegynde", "15-01-2020", "20-06-2020",
               "Påbegyndt ungdomsuddannelse"])
    ws.append(["020104-4006", "Bo Prøvesen", None, "01-02-2020", "30-06-2021", "Gennemført"])
    ws.append(["300699-0001", "Carla Eksempel", None, "10-03-2020", None, "Aktiv"])
    ws.merge_cells("C4:C6")
    ws.append(["051102-4005", "Dan Demo", "Fastholde", "05-04-2020", "15-12-2020", "Visiteret"])
    _save(wb, target / "title_merged.xlsx")
    out.append(target / "title_merged.xlsx")

    # What Excel does to CPR numbers and dates: numbers without the leading zero, date cells,
    # serial numbers typed as numbers.
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append([101004007, "Eva Eksempel", "Fastholde", dt.datetime(2020, 1, 15), 44000,
               "Gennemført"])
    ws.append([1405034006, "Anna Testesen", "Påbegynde", 43845, dt.date(2020, 6, 20),
               "Påbegyndt ungdomsuddannelse"])
    ws.append(["0201044006", "Bo Prøvesen", "Fastholde", "01.02.2020", None, "Aktiv"])
    _save(wb, target / "excel_numbers.xlsx")
    out.append(target / "excel_numbers.xlsx")
    out += _qda_cases(target)
    out += _survey_export_cases(target)
    return out


SX_STEM = "Hvor ofte har du haft det sådan i de sidste to uger?"
SX_ITEMS = ["Jeg har følt mig optimistisk med hensyn til fremtiden", "Jeg har følt mig nyttig",
            "Jeg har følt mig afslappet", "Jeg har klaret problemer godt", "Jeg har tænkt klart",
            "Jeg har følt mig tæt på andre mennesker",
            "Jeg har været i stand til at tage stilling til ting selv"]
SX_UDD = ["Jeg tror på, at jeg kan gennemføre en uddannelse", "Jeg ved, hvad jeg gerne vil",
          "Jeg har nogen at gå til, når det er svært", "Jeg føler mig alene med mine udfordringer"]
HYPPIGHED = ["Aldrig", "Sjældent", "Noget af tiden", "Ofte", "Hele tiden"]
ENIGHED = ["Helt enig", "Enig", "Hverken enig eller uenig", "Uenig", "Helt uenig"]  # codes 1–5


def _surveyxact_parts(labels_hyppighed: list[str] = HYPPIGHED, drop: str | None = None
                      ) -> tuple[list[pd.DataFrame], pd.DataFrame, pd.DataFrame]:
    """A SurveyXact export of the four good participants: SWEMWBS on 'Dataset' (variables
    s_1..s_7, mapped by question text), the education items on 'Dataset (2)' (u_1..u_4) in
    another order, joined on respondentid; respondent 1003 answered 'Ved ikke' (9) once."""
    cprs = ["140503-4006", "020104-4006", "300699-0001", "051102-4005"]
    ids = [1001, 1002, 1003, 1004]
    first = pd.DataFrame({"respondentid": ids, "bv_cpr": cprs, "statoverall_4": [1] * 4})
    answers = [[4, 4, 3, 4, 5, 4, 3], [2, 3, 2, 2, 3, 3, 2], [5, 5, 4, 9, 4, 5, 5],
               [3, 3, 3, 3, 3, None, 3]]
    for k in range(7):
        first[f"s_{k + 1}"] = [a[k] for a in answers]
    second = pd.DataFrame({"respondentid": ids[::-1]})
    for k, vals in enumerate([[1, 2, 5, 1], [2, 2, 4, 1], [1, 3, 4, 2], [5, 4, 1, 5]]):
        second[f"u_{k + 1}"] = vals
    structure = [("bv_cpr", "bv_cpr", "Background", "Text", "CPR-nr.", None, None)]
    structure += [("s", f"s_{k + 1}", "Closed", "Single", f"{SX_STEM} - {t}", None, None)
                  for k, t in enumerate(SX_ITEMS)]
    structure += [("u", f"u_{k + 1}", "Closed", "Single", f"Hvor enig er du? - {t}", None, None)
                  for k, t in enumerate(SX_UDD)]
    labels = [(f"s_{k + 1}", c, lab) for k in range(7)
              for c, lab in [*enumerate(labels_hyppighed, start=1), (9, "Ved ikke")]]
    labels += [(f"u_{k + 1}", c, lab) for k in range(4) for c, lab in enumerate(ENIGHED, 1)]
    if drop:
        first = first.drop(columns=[drop])
        structure = [r for r in structure if r[1] != drop]
        labels = [r for r in labels if r[0] != drop]
    cols = ["questionName", "variableName", "questionType", "subType", "questionText",
            "choiceValue", "choiceText"]
    return [first, second], pd.DataFrame(structure, columns=cols), pd.DataFrame(labels)


def _survey_export_cases(target: Path) -> list[Path]:
    """SurveyXact exports (Excel, UTF-16 and cp1252 CSV), an SPSS file with value labels and a
    user-missing code, and the bad variants: no Labels sheet, labels changed since the first
    wave, a scale item missing from the export."""
    from ungeanalyse.survey_export import write_surveyxact

    out = []
    sheets, structure, labels = _surveyxact_parts()
    out += write_surveyxact(target / "surveyxact_baseline.xlsx", sheets, structure, labels,
                            stamp=STAMP)
    merged = sheets[0].merge(sheets[1], on="respondentid").astype({"s_6": "Int64"})
    out += write_surveyxact(target / "sx_utf16_dataset.csv", [merged], structure, labels, "utf16")
    out += write_surveyxact(target / "sx_cp1252_dataset.csv", [merged], structure, labels,
                            "cp1252")
    path = target / "surveyxact_no_labels.xlsx"
    write_surveyxact(path, sheets, structure, labels, stamp=STAMP)
    wb = openpyxl.load_workbook(path)
    del wb["Labels"]
    _save(wb, path)
    out.append(path)
    changed = ["Aldrig", "Af og til", "Noget af tiden", "Ofte", "Hele tiden"]
    sheets, structure, labels = _surveyxact_parts(changed)
    out += write_surveyxact(target / "surveyxact_labels_changed.xlsx", sheets, structure, labels,
                            stamp=STAMP)
    sheets, structure, labels = _surveyxact_parts(drop="s_3")
    out += write_surveyxact(target / "surveyxact_missing_item.xlsx", sheets, structure, labels,
                            stamp=STAMP)
    sheets, structure, labels = _surveyxact_parts()
    data = merged.drop(columns=["statoverall_4"]).astype(
        {c: "float64" for c in merged.columns if c[:2] in ("s_", "u_")})
    value_labels = {v: {float(c): lab for var, c, lab in labels.itertuples(index=False)
                        if var == v} for v in labels[0].unique()}
    path = target / "survey_labels.sav"
    pyreadstat.write_sav(data, str(path), column_labels=dict(zip(
        structure["variableName"], structure["questionText"], strict=True)),
        variable_value_labels=value_labels,
        missing_ranges={v: [9.0] for v in value_labels if v.startswith("s_")})
    _pin_sav_time(path)
    out.append(path)
    return out


def _qda_cases(target: Path) -> list[Path]:
    """REFI-QDA projects (.qdpx): not a zip, a zip without project.qde, and a project whose
    codings break each rule once (codes of the AUMI config)."""
    from ungeanalyse.qda import SegmentSpec, SourceSpec, write_qdpx

    (target / "qdpx_not_zip.qdpx").write_text("Dette er en Word-tekst, ikke et projekt.\n",
                                              encoding="utf-8")
    info = zipfile.ZipInfo("sources/interview.txt", date_time=STAMP.timetuple()[:6])
    with zipfile.ZipFile(target / "qdpx_no_project.qdpx", "w") as zf:
        zf.writestr(info, "I: Hvordan gik det?\nU: Godt.\n")
    ung = ("I: Hvad hjalp dig?\nU: Min kontaktperson ringede, når jeg ikke kom.\n"
           "I: Og ellers?\nU: Anna Testesen hjalp mig også.\nU: Jeg valgte selv min skole.\n")
    start = ung.index("Min kontaktperson")
    named = ung.index("Anna Testesen")
    choice = ung.index("Jeg valgte")
    sources = [
        SourceSpec("Interview ung 01", ung, [
            SegmentSpec(start, ung.index("\n", start), ["Mekanismer/Fast kontaktperson"]),
            SegmentSpec(named, ung.index("\n", named), ["Mekanismer/Fast kontaktperson"]),
            SegmentSpec(choice, ung.index("\n", choice), ["Uddannelsesvalg"]),
            SegmentSpec(3, 12, ["Baggrund"]),
            SegmentSpec(choice, len(ung) + 40, ["Mekanismer/Mestringskursus"])]),
        SourceSpec("Noter fra møde", "Kontaktpersonen er vigtig for de unge.\n",
                   [SegmentSpec(0, 38, ["Mekanismer/Fast kontaktperson"])]),
        SourceSpec("Casebeskrivelse 02", "Den unge fik en fast voksen og startede på HF.\n",
                   [SegmentSpec(0, 46, ["Mekanismer/Fast kontaktperson"])]),
    ]
    cases = [("Anna Testesen", {"CPR": "140503-4006", "Delprojekt": "kommed"}, [0]),
             ("Ukendt Ung", {"CPR": "010203-4006", "Delprojekt": "kommed"}, [2])]
    codes = ["Mekanismer/Fast kontaktperson", "Mekanismer/Mestringskursus", "Baggrund",
             "Uddannelsesvalg"]
    path = target / "qdpx_bad.qdpx"
    write_qdpx(path, sources, codes, cases, user="Mette Vinther")
    return [target / "qdpx_not_zip.qdpx", target / "qdpx_no_project.qdpx", path]


if __name__ == "__main__":
    for p in write_all():
        print(p.name)
