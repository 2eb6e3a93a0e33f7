"""The command line: demo and clean on a copy of the AUMI config; user errors without traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from ungeanalyse import demo
from ungeanalyse.cli import main
from ungeanalyse.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def _aumi_copy(root: Path) -> Path:
    """The repository's configs under ``root``, AUMI's demo register made 20,000 young people
    instead of 200,000 (what these tests check does not depend on its size; writing it
    took most of the demo's time)."""
    shutil.copytree(ROOT / "config", root / "config")
    path = root / "config" / "aumi.yml"
    text = path.read_text(encoding="utf-8")
    assert "    population: 200000\n" in text
    path.write_text(text.replace("    population: 200000\n", "    population: 20000\n"),
                    encoding="utf-8")
    return path


def test_demo_then_clean(tmp_path, capsys):
    config = str(_aumi_copy(tmp_path))
    assert main(["demo", "--config", config]) == 0
    assert main(["clean", "--config", config]) == 0
    out = capsys.readouterr().out
    assert "participants      rows in     206  clean     195" in out
    assert (tmp_path / "data" / "processed" / "aumi" / "participants.parquet").exists()


def test_demo_is_deterministic(tmp_path):
    shutil.copytree(ROOT / "config", tmp_path / "config")
    cfg = load_config(tmp_path / "config" / "aumi.yml")
    # every file but the register, whose bytes test_demo.py compares
    first = demo.make_demo(cfg, tmp_path / "a", register=False).truth
    second = demo.make_demo(cfg, tmp_path / "b", register=False).truth
    pd.testing.assert_frame_equal(first, second)
    for f in (tmp_path / "a").iterdir():
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


def test_user_error_is_one_line_without_traceback(tmp_path, capsys):
    assert main(["clean", "--config", str(tmp_path / "missing.yml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ungeanalyse: Config file not found")
    assert "Traceback" not in err
