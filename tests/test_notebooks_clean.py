"""Notebooks are committed clean: no outputs, no execution counts, no run metadata.

Outputs of a run on real data could hold personal data, and they make every diff noisy.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
RUN_METADATA = {"execution", "papermill", "ExecuteTime", "collapsed", "scrolled"}


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        if cell.get("outputs"):
            dirty.append(f"cell {i}: has outputs")
        if cell.get("execution_count") is not None:
            dirty.append(f"cell {i}: has execution count {cell['execution_count']}")
        extra = RUN_METADATA & set(cell.get("metadata", {}))
        if extra:
            dirty.append(f"cell {i}: run metadata {sorted(extra)}")
    extra = {"papermill", "widgets"} & set(nb.get("metadata", {}))
    if extra:
        dirty.append(f"notebook metadata {sorted(extra)}")
    assert not dirty, (f"{path.name} is not clean ({'; '.join(dirty)}); clear it with "
                       f"`jupyter nbconvert --clear-output --inplace {path.relative_to(ROOT)}`")
