"""A project outside the repository: paths resolve from the config's folder, the shipped
notebooks run from any working directory, and plain papermill runs a shipped notebook."""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.pages import plain
from ungeanalyse import bundled
from ungeanalyse.clean import clean_project
from ungeanalyse.cli import main
from ungeanalyse.config import load_config
from ungeanalyse.privacy import key_fingerprint

ROOT = Path(__file__).resolve().parents[1]


def _outside_project(tmp_path: Path, raw_dir: Path, name: str = "unge_med_kant") -> Path:
    """A demo project's config and raw files (the session's, from ``raw_dir``) in a folder of
    their own, paths left to the defaults (raw/ beside the config), and a key file named
    relative to the config."""
    project = tmp_path / "my project"
    shutil.copytree(raw_dir, project / "raw")
    data = yaml.safe_load((ROOT / "config" / f"{name}.yml").read_text(encoding="utf-8"))
    for key in ("raw_dir", "processed_dir", "reports_dir"):
        data["files"].pop(key, None)
    data["privacy"]["key_file"] = "../keys/project.key"
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "project.key").write_text(secrets.token_hex(32), encoding="utf-8")
    (project / "project.yml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                         encoding="utf-8")
    return project / "project.yml"


def test_paths_resolve_from_the_config_folder(tmp_path):
    config = tmp_path / "a" / "b" / "p.yml"
    config.parent.mkdir(parents=True)
    data = yaml.safe_load((ROOT / "config" / "aumi.yml").read_text(encoding="utf-8"))
    data["files"].update(raw_dir="partnere", processed_dir="../ud/behandlet",
                         reports_dir="/srv/rapporter")
    data["privacy"]["key_file"] = "nøgle.key"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg = load_config(config)
    assert cfg.raw_dir == config.parent / "partnere"
    assert cfg.processed_dir == config.parent / "../ud/behandlet"
    assert cfg.reports_dir == Path("/srv/rapporter")
    assert cfg.key_file == config.parent / "nøgle.key"
    for key in ("raw_dir", "processed_dir", "reports_dir"):
        data["files"].pop(key)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg = load_config(config)
    assert (cfg.raw_dir, cfg.processed_dir, cfg.reports_dir) == (
        config.parent / "raw", config.parent / "processed" / "aumi", config.parent / "reports")
    assert cfg.notebooks_dir == bundled.notebooks_dir()


def test_demo_configs_keep_the_repository_layout():
    for name in ("aumi", "unge_med_kant", "ungeindsats_aalborg", "sbst_helhedsorienteret"):
        cfg = load_config(ROOT / "config" / f"{name}.yml")
        assert cfg.raw_dir.resolve() == ROOT / "data" / "raw" / name
        assert cfg.processed_dir.resolve() == ROOT / "data" / "processed" / name
        assert cfg.reports_dir.resolve() == ROOT / "reports"


@pytest.mark.slow
def test_run_from_another_folder(tmp_path, demo_project):
    config = _outside_project(tmp_path, demo_project("unge_med_kant").files.raw_dir)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    exe = [sys.executable, "-m", "ungeanalyse"]
    # the whole project's unit only: every unit runs the same way (test_notebooks.py runs all)
    done = subprocess.run([*exe, "run", "--config", str(config), "--only", "all", "--jobs", "2",
                           "--no-progress"], cwd=elsewhere, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    project = config.parent
    assert list(elsewhere.iterdir()) == []  # nothing lands in the working directory
    quality = json.loads((project / "processed" / "unge_med_kant" / "quality.json")
                         .read_text(encoding="utf-8"))
    assert quality["tables"]["participants"]["clean"] == 106
    key = (tmp_path / "keys" / "project.key").read_bytes().strip()
    assert quality["key_fingerprint"] == key_fingerprint(key)  # the config's key file
    index = (project / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="unge_med_kant/all/02_maaltal.html"' in index
    page = (project / "reports" / "unge_med_kant" / "all" / "02_maaltal.html")
    assert ("Unge med kant: 106 unge har deltaget; 54 (51 %) har indfriet målet (påbegyndt en "
            "ungdomsuddannelse eller vurderet uddannelsesparat).") in plain(
        page.read_text(encoding="utf-8"))  # the seed's figures
    # a second run from yet another folder finds everything cached
    again = subprocess.run([*exe, "run", "--config", str(config), "--only", "all",
                            "--no-progress"], cwd=tmp_path, capture_output=True, text=True)
    assert again.returncode == 0 and "0 ran" in again.stdout, again.stdout + again.stderr
    # plain papermill on a shipped notebook, from another folder again
    out = tmp_path / "out.ipynb"
    done = subprocess.run([sys.executable, "-m", "papermill", "--no-progress-bar",
                           str(bundled.notebooks_dir() / "02_maaltal.ipynb"), str(out),
                           "-p", "config", str(config), "-p", "unit", "toender"],
                          cwd=elsewhere, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (project / "processed" / "unge_med_kant" / "results" / "toender"
            / "maaltal.json").exists()


def test_a_config_written_for_the_old_layout_gets_a_hint(tmp_path, capsys):
    (tmp_path / "config").mkdir()
    data = yaml.safe_load((ROOT / "config" / "aumi.yml").read_text(encoding="utf-8"))
    data["files"]["raw_dir"] = "data/raw/aumi"  # relative to the folder above config/
    config = tmp_path / "config" / "aumi.yml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    (tmp_path / "data" / "raw" / "aumi").mkdir(parents=True)
    assert main(["clean", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "relative paths resolve from the config's folder" in err
    assert "write raw_dir: ../data/raw/aumi" in err


def test_a_project_without_survey_steps_or_quotes_writes_empty_tables(tmp_path, demo_project):
    config = _outside_project(tmp_path, demo_project("unge_med_kant").files.raw_dir)
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    for kind in ("survey", "steps", "quotes"):
        data["files"].pop(kind, None)
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg = load_config(config)
    clean_project(cfg)
    quotes = pd.read_parquet(cfg.processed_dir / "quotes.parquet")
    assert len(quotes) == 0 and {"quote_id", "hypothesis_id", "source_type", "text"} <= set(
        quotes.columns)
    steps = pd.read_parquet(cfg.processed_dir / "steps.parquet")
    assert len(steps) == 0 and list(steps.columns)[:3] == ["person_id", "step", "step_rank"]
