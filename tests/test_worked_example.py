"""The README's worked example, run as a new user would: two partner files → ``init`` → the
README's edits → a key → ``check`` → ``run`` → reports, from a folder outside the repository."""

from __future__ import annotations

import json
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import yaml

from ungeanalyse.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "tests" / "data" / "worked_example"


def readme_edits() -> dict[str, Any]:
    """The YAML block under the README's ``worked-example:edits`` marker."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- worked-example:edits -->\s*```yaml\n(.*?)```", text, re.S)
    assert block, "the README lost its worked example"
    return yaml.safe_load(block.group(1))


def edit(draft: Any, edits: Any) -> Any:
    """Change the entries a user changes: mappings entry by entry, anything else replaced."""
    if isinstance(draft, dict) and isinstance(edits, dict):
        return {**draft, **{k: edit(draft.get(k), v) for k, v in edits.items()}}
    return edits


def test_the_partner_files_are_what_make_files_writes(tmp_path):
    """The committed CSV is the generator's output (the workbook's zip bytes carry a time)."""
    sys.path.insert(0, str(EXAMPLE))
    try:
        import make_files
    finally:
        sys.path.remove(str(EXAMPLE))
    make_files.write_kommune(tmp_path / "kommune.csv")
    assert (tmp_path / "kommune.csv").read_bytes() == (EXAMPLE / "kommune.csv").read_bytes()
    make_files.write_skole(tmp_path / "skole.xlsx")
    fresh = list(openpyxl.load_workbook(tmp_path / "skole.xlsx").active.values)
    assert fresh == list(openpyxl.load_workbook(EXAMPLE / "skole.xlsx").active.values)


@pytest.mark.slow
def test_from_two_partner_files_to_a_report(tmp_path, capsys):
    home = tmp_path / "evaluering"
    files = home / "partnerfiler"
    files.mkdir(parents=True)
    for name in ("kommune.csv", "skole.xlsx"):
        shutil.copy(EXAMPLE / name, files / name)
    assert main(["init", str(files)]) == 0
    out = capsys.readouterr().out
    assert "8 TODO(s)" in out
    assert "TODO status 'Afbrudt' (17 rows)" in out
    assert "Fornavn → first_name (identifying" in out and "CPR nummer → cpr" in out
    assert "yes/no column 'Mentor' (32 rows with yes) became elements.mentor" in out

    config = files / "project.yml"
    draft = yaml.safe_load(config.read_text(encoding="utf-8"))
    config.write_text(yaml.safe_dump(edit(draft, readme_edits()), allow_unicode=True),
                      encoding="utf-8")
    (home / "nøgle").mkdir()
    (home / "nøgle" / "skole_kommune.key").write_text(secrets.token_hex(32), encoding="utf-8")
    assert main(["check", "--config", str(config)]) == 0, capsys.readouterr().out
    assert "Nothing to fix" in capsys.readouterr().out

    done = subprocess.run([sys.executable, "-m", "ungeanalyse", "run", "--config", str(config),
                           "--no-progress"], cwd=home, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    quality = json.loads((files / "processed" / "skole_kommune" / "quality.json")
                         .read_text(encoding="utf-8"))["tables"]["participants"]
    assert (quality["rows_in"], quality["clean"], quality["quarantined"],
            quality["duplicates"]) == (110, 108, 1, 1)  # the README's figures
    assert quality["duplicate_rows"] == [{"file": "kommune.csv", "row": 62}]
    reports = files / "reports"
    evaluation = re.sub(r"<[^>]+>", "", (reports / "skole_kommune" / "all"
                                         / "04_slutevaluering.html").read_text(encoding="utf-8"))
    assert "50 unge (46 % af deltagerne) har indfriet målet" in evaluation
    assert sorted(p.name for p in home.iterdir()) == ["nøgle", "partnerfiler"]

    # the scanner knows the school's split names: a full name planted in a report fails the scan
    assert main(["scan", "--config", str(config), str(reports), str(files / "processed")]) == 0
    row = list(openpyxl.load_workbook(files / "skole.xlsx").active.values)[2]
    page = reports / "skole_kommune" / "skole" / "02_maaltal.html"
    page.write_text(page.read_text(encoding="utf-8") + f"<p>{row[1]} {row[2]}</p>",
                    encoding="utf-8")
    capsys.readouterr()
    assert main(["scan", "--config", str(config), str(reports)]) == 1
    assert "02_maaltal.html" in capsys.readouterr().out
