"""The demo writes the same bytes every time, so the runner's clean stage stays cached."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import zipfile
from pathlib import Path

import pytest

from ungeanalyse.config import load_config
from ungeanalyse.demo import make_demo
from ungeanalyse.pipeline import raw_fingerprint

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p.name for p in (ROOT / "config").glob("*.yml"))


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "aumi.yml" else n
                                  for n in CONFIGS])  # AUMI's comparison register: slow
def test_demo_twice_gives_identical_bytes(name: str, tmp_path: Path) -> None:
    cfg = load_config(ROOT / "config" / name)
    first = make_demo(cfg, tmp_path / "a")
    make_demo(cfg, tmp_path / "b")
    a, b = _hashes(tmp_path / "a"), _hashes(tmp_path / "b")
    assert a.keys() == b.keys() and {p.name for p in first.files} <= a.keys()
    assert a == b, sorted(k for k in a if a[k] != b[k])


def test_workbooks_carry_the_extract_date_not_the_clock(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "config" / "aumi.yml")
    files = make_demo(cfg, tmp_path, register=False).files  # the workbooks
    books = [p for p in files if p.suffix == ".xlsx"]
    assert books
    stamp = dt.datetime.combine(cfg.demo.extract_date, dt.time())
    for path in books:
        with zipfile.ZipFile(path) as zf:
            assert {i.date_time for i in zf.infolist()} == {stamp.timetuple()[:6]}, path.name
            core = zf.read("docProps/core.xml").decode()
        assert core.count(f"{stamp:%Y-%m-%dT%H:%M:%SZ}") == 2, core  # created and modified
        assert f"{dt.date.today():%Y-%m-%d}" not in core


def test_demo_again_leaves_the_clean_key_unchanged(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "config", tmp_path / "config")
    cfg = load_config(tmp_path / "config" / "aumi.yml")
    make_demo(cfg, register=False)  # the clean stage does not read the register
    key = raw_fingerprint(cfg)
    make_demo(cfg, register=False)
    assert raw_fingerprint(cfg) == key
