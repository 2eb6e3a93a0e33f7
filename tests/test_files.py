"""Atomic writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from ungeanalyse.files import atomic_write, write_json


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "quality.json"
    atomic_write(path, lambda p: p.write_text("old", encoding="utf-8"))
    assert path.read_text(encoding="utf-8") == "old"  # the folder was made

    def half_then_fail(p: Path) -> None:
        p.write_text("half", encoding="utf-8")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_fail)
    assert path.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in path.parent.iterdir()) == ["quality.json"]


def test_json_is_utf8_indented_with_dates_as_iso_text(tmp_path: Path) -> None:
    path = write_json({"projekt": "Unge med kant – Tønder", "kørt": dt.date(2026, 12, 6)},
                      tmp_path / "x.json")
    text = path.read_text(encoding="utf-8")
    assert text == '{\n  "projekt": "Unge med kant – Tønder",\n  "kørt": "2026-12-06"\n}'
    assert json.loads(text)["kørt"] == "2026-12-06"
