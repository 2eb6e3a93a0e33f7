"""``ungeanalyse init`` drafts a config from partner files; ``ungeanalyse check`` validates a
config against its raw files without writing anything. Neither shows identifying values."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from ungeanalyse import privacy
from ungeanalyse.cli import main
from ungeanalyse.config import load_config
from ungeanalyse.demo import make_demo
from ungeanalyse.io import normalise_value
from ungeanalyse.partner_files import (
    DRAFT_OUTCOMES,
    _match,
    check_config,
    draft_config,
    shown_count,
)

ROOT = Path(__file__).resolve().parents[1]
BAD = ROOT / "tests" / "data" / "bad"
CORPUS = ["good_participants.csv", "unknown_status.csv", "unknown_target_group.csv",
          "unknown_element.csv", "title_merged.xlsx", "cp1252.csv", "png_renamed.xlsx",
          "steps_bad.csv"]
NAMES = ["Anna Testesen", "Bo Prøvesen", "Carla Eksempel", "Dan Demo"]


@pytest.fixture(autouse=True)
def _no_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("UNGEANALYSE_KEY", raising=False)
    monkeypatch.delenv("UNGEANALYSE_KEY_FILE", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


def _no_personal_data(text: str) -> None:
    assert privacy.find_cpr(text) == 0
    assert not any(name in text for name in NAMES)


def test_shown_count():
    assert [shown_count(n) for n in (0, 1, 4, 5, 17)] == ["0", "<5", "<5", "5", "17"]


def test_init_on_the_bad_input_corpus(tmp_path, capsys):
    folder = tmp_path / "partnere"
    folder.mkdir()
    for name in CORPUS:
        shutil.copy(BAD / name, folder / name)
    assert main(["init", str(folder)]) == 0
    out = capsys.readouterr().out
    _no_personal_data(out)
    assert "good_participants.csv: participants, 4 rows" in out
    assert "Navn → name (identifying: dropped, values not shown)" in out
    assert "status values: 'Påbegyndt ungdomsuddannelse' <5; 'Gennemført' <5" in out
    assert "png_renamed.xlsx: cannot be read: png_renamed.xlsx: the file is an image or PDF" in out
    assert "TODO status 'Holder pause' (<5 rows): add it to the aliases" in out
    assert "steps_bad.csv: steps, 6 rows" in out
    text = (folder / "project.yml").read_text(encoding="utf-8")
    _no_personal_data(text)
    assert "# TODO status 'Holder pause' (<5 rows)" in text
    cfg = load_config(folder / "project.yml")  # the draft is a valid config
    assert cfg.raw_dir == folder
    assert [f.path for f in cfg.files.participants] == [
        "cp1252.csv", "good_participants.csv", "title_merged.xlsx", "unknown_element.csv",
        "unknown_status.csv", "unknown_target_group.csv"]
    assert cfg.files.steps[0].path == "steps_bad.csv"
    assert "Gennemført" not in cfg.outcomes["completed_or_retained"].aliases  # known already
    assert cfg.project.period.start.year == 2020  # a guess from the start dates
    # reader texts are written as {da, en} pairs, never as the older <key>_en beside <key>
    assert "_en:" not in text
    assert ("    label:\n      da: Påbegyndt ungdomsuddannelse\n"
            "      en: Started youth education\n") in text
    assert (cfg.target_groups["fastholde"].label, cfg.target_groups["fastholde"].text("en")) == (
        "Fastholde", "Stay in education")
    assert main(["init", str(folder)]) == 2  # never overwrites a config without --force
    assert "exists already" in capsys.readouterr().err


def test_check_lists_what_must_be_fixed(tmp_path, capsys):
    folder = tmp_path / "p"
    folder.mkdir()
    for name in ("good_participants.csv", "unknown_status.csv", "unknown_target_group.csv"):
        shutil.copy(BAD / name, folder / name)
    draft_config([folder])
    config = folder / "project.yml"
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    _no_personal_data(out)
    assert "MUST FIX pseudonymisation key: No pseudonymisation key for project 'p'." in out
    assert ("MUST FIX participants: status 'Holder pause' in <5 row(s) is not in the config; "
            "those rows would be quarantined (unknown_status.csv row 2 (Status))") in out
    unknown_tg = [line for line in out.splitlines()
                  if "MUST FIX" in line and "target group" in line]
    assert unknown_tg and all("<5 row(s)" in line for line in unknown_tg), out
    assert not list(folder.glob("processed*")) and not (folder / "reports").exists()
    # settle the TODOs: a key file, the status and the target group, then a file goes missing
    (tmp_path / "p.key").write_text("k" * 40, encoding="utf-8")
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["privacy"]["key_file"] = "../p.key"
    data["outcomes"]["active"]["aliases"].append("holder pause")
    bad_tg = [line.split("'")[1] for line in unknown_tg]
    data["target_groups"]["paabegynde"]["aliases"].extend(bad_tg)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    report = check_config(load_config(config))
    assert report.problems == [], report.summary()
    assert ("note: participants: the clean stage quarantines <5 row(s): missing target group, "
            "at unknown_target_group.csv row 3 (Målgruppe)") in report.summary()  # the
    # partner's row to fix, not the config
    assert report.exit_code == 0
    (folder / "unknown_status.csv").unlink()
    report = check_config(load_config(config))
    assert report.exit_code == 1
    assert report.problems == [f"files.participants: {folder / 'unknown_status.csv'} not found "
                               "(relative paths resolve from the config's folder)"]


def test_check_on_demo_files(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    config = tmp_path / "config" / "unge_med_kant.yml"
    make_demo(load_config(config))
    report = check_config(load_config(config))
    # the demo's deliberately broken rows: values the config does not know are to fix ...
    assert report.exit_code == 1
    assert report.problems == [
        "participants: element 'kontaktperson' in 13 row(s) is not in the config; add it to the "
        "aliases under elements:",
        "steps: step 'Tog på højskole' in <5 row(s) is not in the config; those rows would be "
        "quarantined (skridt.csv row 317 (Skridt))",
        "quotes: hypothesis id 'H9' in <5 row(s) is not in the config; those rows would be "
        "quarantined (citater.xlsx row 13 (Hypotese))"], report.summary()
    # ... the partners' own mistakes are notes, with where they are (file, row, the partner's
    # column) and the config's limits; identifying columns are named, not shown
    assert ("participants: the clean stage quarantines <5 row(s): age outside the target range "
            "(the config's age: min 15, max 29), at vejle_forloeb.xlsx row 79 (CPR-nummer)"
            in report.notes), report.notes
    assert ("participants: the clean stage quarantines <5 row(s): invalid CPR, at "
            "vejle_forloeb.xlsx row 78 (CPR-nummer); toender_forloeb.csv row 34 (Cpr-nr)"
            in report.notes), report.notes
    assert "participants: toender_forloeb.csv: identifying column(s) 'Ungens navn' are dropped " \
        "and taught to the scanner" in report.notes
    # a partner's new spelling and a renamed column
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    status_alias = data["outcomes"]["started_youth_education"]["aliases"]
    used = load_config(config)
    from ungeanalyse.clean import clean_project

    parts = clean_project(used, key=b"k" * 32, write=False).participants
    n_started = int((parts["outcome"] == "started_youth_education").sum())
    removed = list(status_alias)
    data["outcomes"]["started_youth_education"]["aliases"] = []
    data["outcomes"]["started_youth_education"]["label"] = "Begyndt på ungdomsuddannelse"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    report = check_config(load_config(config))
    unmapped = [p for p in report.problems if p.startswith("participants: status ")]
    assert unmapped, report.summary()
    counted = sum(int(p.split(" in ")[1].split(" row")[0]) for p in unmapped
                  if "<5" not in p.split(" in ")[1])
    small = sum("<5 row(s)" in p for p in unmapped)
    assert counted <= n_started <= counted + 4 * small
    assert all(p.split("'")[1].casefold() in {a.casefold() for a in removed} or
               p.split("'")[1].casefold() == "påbegyndt ungdomsuddannelse" for p in unmapped)


def test_init_on_demo_files_recognises_the_participant_lists(tmp_path, capsys):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    cfg = load_config(tmp_path / "config" / "aumi.yml")
    make_demo(cfg)
    draft = draft_config([cfg.raw_dir], tmp_path / "new" / "aumi.yml")
    kinds = {pf.path.name: pf.kind for pf in draft.files}
    assert {kinds[f.path] for f in cfg.files.participants} == {"participants"}
    assert {kinds[f.path] for f in cfg.files.steps} == {"steps"}
    assert {kinds[f.path] for f in cfg.files.quotes} == {"quotes"}
    status = sum((pf.values.get("status") for pf in draft.files if "status" in pf.values),
                 start=Counter())
    assert sum(status.values()) == 206  # every row of the six lists has a status
    merged = Counter()  # spellings that differ only in case are one value, as clean reads them
    for v, n in status.items():
        merged[normalise_value(v)] += n
    unmapped = {v: n for v, n in merged.items() if _match(v, DRAFT_OUTCOMES) is None}
    assert unmapped  # the demo's partner spellings the draft vocabulary does not know
    todo = {normalise_value(t.split("'")[1]): t for t in draft.todos if t.startswith("status '")}
    assert set(todo) == set(unmapped)
    for v, n in unmapped.items():
        assert f"({shown_count(n)} rows): add it" in todo[v]
    _no_personal_data(draft.summary())
    # a Ja/Nej column of a participant list is drafted as an element: said once, as such, not
    # also as a column the draft did not recognise
    lines = draft.summary().splitlines()
    at = lines.index("autisme_forloeb.csv: participants, 31 rows")
    assert lines[at + 2] == ("  yes/no columns, drafted as elements (see the TODOs): Fast "
                             "kontaktperson, Mestringskursus, Fællesskab / gruppeforløb, "
                             "Individuelt tilpasset forløb, Fokus på drømme og ønsker")
    assert not any("not recognised" in line and "Mestringskursus" in line for line in lines)
    new = load_config(tmp_path / "new" / "aumi.yml")
    assert new.raw_dir.resolve() == cfg.raw_dir.resolve()


def test_check_names_missing_columns_and_unreadable_files(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    for name in ("good_participants.csv", "missing_column.csv", "png_renamed.xlsx"):
        shutil.copy(BAD / name, folder / name)
    draft_config([folder])
    data = yaml.safe_load((folder / "project.yml").read_text(encoding="utf-8"))
    data["privacy"]["demo"] = True  # the demo key: this test is about the files
    data["files"]["participants"] += [{"path": "missing_column.csv", "delprojekt": "x"},
                                      {"path": "png_renamed.xlsx", "delprojekt": "x"}]
    data["delprojekter"].append({"id": "x", "name": "X"})
    (folder / "project.yml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                        encoding="utf-8")
    report = check_config(load_config(folder / "project.yml"))
    assert report.exit_code == 1
    problems = "\n".join(report.problems)
    assert "participants: missing_column.csv: missing required column" in problems
    assert "participants: png_renamed.xlsx: the file is an image or PDF that was renamed" \
        in problems


def test_where_names_the_first_five_places_and_how_many_more():
    import pandas as pd

    from ungeanalyse.partner_files import _where

    q = pd.DataFrame({"table": "participants", "source_file": "a.csv",
                      "source_row": range(2, 10), "column": "Startdato",
                      "reason": "invalid_date",
                      "detail": ['{"code": "detail.not_a_date", "value": "x"}'] * 8})
    assert _where(q, "participants", "invalid_date") == (
        "a.csv row 2 (Startdato); a.csv row 3 (Startdato); a.csv row 4 (Startdato); a.csv row 5 "
        "(Startdato); a.csv row 6 (Startdato); and 3 more")
    assert _where(q, "participants", "invalid_date", value="y") == ""
    assert _where(q, "steps", "invalid_date") == ""
