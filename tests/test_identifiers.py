"""Every identifying column a partner may send (split names, address, phone, e-mail, notes, and
columns the config lists) is dropped in the clean stage and taught to the scanner, which then
finds the values in any output."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from ungeanalyse import privacy
from ungeanalyse.clean import clean_project
from ungeanalyse.cli import main
from ungeanalyse.config import load_config
from ungeanalyse.pipeline import NOTEBOOKS, run

ROOT = Path(__file__).resolve().parents[1]

HEADER = ("CPR-nr.;Fornavn;Mellemnavn;Efternavn;Adresse;Tlf.;E-mail;Bemærkning;Forælders navn;"
          "Målgruppe;Startdato;Slutdato;Status")
ROWS = [
    "140503-4006;Anne Marie;;Kristoffersen;Vestergade 12, 2. tv, 8000 Aarhus C;20 30 40 50;"
    "anne@example.dk;Mor ringer hver dag om morgenen og vækker hende;Jette Kristoffersen;"
    "Påbegynde;15-01-2020;20-06-2020;Påbegyndt ungdomsuddannelse",
    "020104-4006;Bo;Ulrik;Storm;Nørregade 7;;;;;Fastholde;01-02-2020;30-06-2021;Gennemført",
    "300699-0001;Carla;;Eksempelsen;;;;kort;;P;10-03-2020;;Stadig i forløb",
    "051102-4005;Dan;;Demosen;;;;;;f;05-04-2020;15-12-2020;Findes ikke",  # unknown status
]
VALUES = ["Anne Marie", "Kristoffersen", "Vestergade", "20 30 40 50", "anne@example.dk",
          "ringer hver dag", "Jette", "Ulrik", "Storm", "Eksempelsen", "Demosen"]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A config beside one participant file with every kind of identifying column."""
    monkeypatch.delenv("UNGEANALYSE_KEY", raising=False)
    monkeypatch.delenv("UNGEANALYSE_KEY_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    data = yaml.safe_load((ROOT / "config" / "aumi.yml").read_text(encoding="utf-8"))
    data.pop("demo")
    data["project"]["id"] = "navne"
    data["files"] = {"participants": [{"path": "liste.csv", "delprojekt": "kommed"}]}
    data["identifiers"] = ["Forælders navn"]
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "liste.csv").write_text("\n".join([HEADER, *ROWS]) + "\n",
                                                encoding="cp1252")
    config = tmp_path / "project.yml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return config


def _matcher(cfg) -> privacy.NameMatcher:
    fps = json.loads((cfg.processed_dir / "name_fingerprints.json").read_text(encoding="utf-8"))
    return privacy.NameMatcher(fps, privacy.DEMO_KEY)


def test_split_names_are_read_dropped_and_fingerprinted(project):
    cfg = load_config(project)
    result = clean_project(cfg)
    q = result.quality["tables"]["participants"]
    assert (q["rows_in"], q["clean"], q["quarantined"]) == (4, 3, 1)  # in = clean + quarantined
    assert q["identifier_columns"] == {"liste.csv": [
        "Fornavn", "Mellemnavn", "Efternavn", "Adresse", "Tlf.", "E-mail", "Bemærkning",
        "Forælders navn"]}
    assert "liste.csv" not in q["ignored_columns"]
    blob = b"".join(p.read_bytes() for p in cfg.processed_dir.rglob("*") if p.is_file())
    for value in VALUES:
        assert value.encode("utf-8") not in blob and value.encode("cp1252") not in blob, value
    m = _matcher(cfg)
    assert m.kinds("Vi talte med Anne Marie Kristoffersen i går") == {"name": 3}  # 2 pairs + 1
    assert m.kinds("Anne Kristoffersen") == {"name": 2}  # first first name + surname, surname
    assert m.kinds("Kristoffersen sagde") == {"name": 1}  # a rare surname on its own
    assert m.kinds("Bo Ulrik Storm") == {"name": 2}
    assert m.kinds("Bo Storm") == {"name": 1}
    assert m.kinds("en storm af følelser, og Carla kom") == {}  # common word, lone first name
    assert m.kinds("kontaktperson og mentor, mål indfriet") == {}
    assert m.kinds("adresse: Vestergade 12") == {"address": 1}
    assert m.kinds("mor ringer hver dag om morgenen") == {"text": 1}
    assert m.kinds("Jette Kristoffersen ringede") == {"name": 2}  # the listed column


def test_a_planted_name_fails_the_scan_in_any_output(project, capsys):
    cfg = load_config(project)
    clean_project(cfg)
    out = project.parent / "out"
    out.mkdir()
    (out / "rapport.html").write_text("<p>Citat fra <b>Anne Marie</b> Kristoffersen</p>",
                                      encoding="utf-8")
    assert main(["scan", str(out), "--config", str(project)]) == 1
    assert "rapport.html\n    name: line 1 (3×)" in capsys.readouterr().out
    (out / "rapport.html").unlink()
    pd.DataFrame({"x": ["ok", "Bo Ulrik Storm"]}).to_parquet(out / "tabel.parquet")
    assert main(["scan", str(out), "--config", str(project)]) == 1
    assert "column 'x', row 1" in capsys.readouterr().out
    (out / "tabel.parquet").unlink()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("Bor på Vestergade 12")]
    nbformat.write(nb, str(out / "n.ipynb"))
    assert main(["scan", str(out), "--config", str(project)]) == 1
    assert "address: cell 1 source" in capsys.readouterr().out


@pytest.mark.slow  # a pipeline run: kernels, the disclosure plans, HTML
def test_a_planted_split_name_fails_the_run(project, tmp_path):
    """The runner withholds a report that names a participant whose name came split."""
    folder = tmp_path / "nb"
    folder.mkdir()
    for name in NOTEBOOKS:
        nb = nbformat.v4.new_notebook()
        params = ('config = "x"\nunit = "all"\nlang = "da"\noutput_dir = None\n'
                  + ('variant = "full"\n' if name.startswith("04") else ""))
        body = "print('Kristoffersen, Anne')" if name == "02_maaltal" else "print('ok')"
        nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell(body)]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nbformat.write(nb, str(folder / f"{name}.ipynb"))
    cfg = load_config(project)
    summary = run(cfg, jobs=1, only="kommed", progress=False, notebooks_dir=folder)
    status = {r.id: r.status for r in summary.results}
    assert summary.exit_code == 1
    assert status["kommed/02_maaltal"] == "withheld", summary.summary()
    assert status["kommed/03_hvad_virker_for_hvem"] == "ran"
    assert not (cfg.reports_dir / "navne" / "kommed" / "02_maaltal.html").exists()
