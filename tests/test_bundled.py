"""The notebooks and templates ship in the package; a copy to edit is never overwritten
without --force, and a notebook folder that lacks a report notebook is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from ungeanalyse import bundled
from ungeanalyse.cli import main
from ungeanalyse.errors import UserError

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_ship_in_the_package_and_copy_for_editing(tmp_path, capsys):
    shipped = bundled.notebooks_dir()
    assert shipped.parent == Path(bundled.__file__).resolve().parent or \
        shipped == ROOT / "notebooks"
    for name in bundled.NOTEBOOKS:
        assert (shipped / f"{name}.ipynb").read_bytes() == \
            (ROOT / "notebooks" / f"{name}.ipynb").read_bytes()
    assert main(["notebooks", str(tmp_path / "mine")]) == 0
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == \
        [f"{n}.ipynb" for n in (*bundled.NOTEBOOKS, *bundled.OPTIONAL)]
    (tmp_path / "mine" / "02_maaltal.ipynb").write_text("{}", encoding="utf-8")
    assert main(["notebooks", str(tmp_path / "mine")]) == 2  # an edited copy is never lost
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / "mine" / "02_maaltal.ipynb").read_text(encoding="utf-8") == "{}"
    assert main(["notebooks", str(tmp_path / "mine"), "--force"]) == 0
    (tmp_path / "mine" / "03_hvad_virker_for_hvem.ipynb").unlink()
    with pytest.raises(UserError, match="lacks 03_hvad_virker_for_hvem.ipynb"):
        bundled.check_notebooks(tmp_path / "mine")


def test_packaging_config_ships_notebooks_and_templates():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = data["tool"]["setuptools"]["package-data"]["ungeanalyse"]
    assert "notebooks/*.ipynb" in shipped and "templates/*" in shipped
    link = ROOT / "ungeanalyse" / "notebooks"
    assert link.resolve() == (ROOT / "notebooks").resolve()  # one source, two places
