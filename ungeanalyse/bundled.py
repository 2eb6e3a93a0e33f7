"""The notebooks and templates shipped inside the package, and copies of them to edit.

The notebooks live once, in the repository's ``notebooks/`` (what a researcher opens in
JupyterLab); ``ungeanalyse/notebooks`` is a symlink to it, which setuptools follows when it
builds a wheel, so a ``pip install .`` carries real copies and an editable install reads the
repository's files. Where a checkout has no symlinks (git on Windows without
``core.symlinks``), the repository's folder is found beside the package instead.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import UserError

NOTEBOOKS = ("01_rens_data", "02_maaltal", "03_hvad_virker_for_hvem", "04_slutevaluering")
"""The report notebooks, in the order the runner needs them."""
OPTIONAL = ("05_virkning",)
"""Notebooks the runner plans only for some configs (a register comparison group)."""

_PACKAGE = Path(__file__).resolve().parent


def _complete(folder: Path) -> bool:
    return all((folder / f"{name}.ipynb").is_file() for name in NOTEBOOKS)


def notebooks_dir() -> Path:
    """The folder of the shipped notebooks (inside the installed package)."""
    for folder in (_PACKAGE / "notebooks", _PACKAGE.parent / "notebooks"):
        if _complete(folder):
            return folder
    raise UserError(f"The notebooks are missing from the installed package ({_PACKAGE}); "
                    "reinstall ungeanalyse (pip install --force-reinstall ungeanalyse)")


def check_notebooks(folder: Path) -> Path:
    """``folder`` when it holds every report notebook, else a UserError naming the missing."""
    missing = [f"{name}.ipynb" for name in NOTEBOOKS if not (folder / f"{name}.ipynb").is_file()]
    if missing:
        raise UserError(f"{folder}: the notebook folder lacks {', '.join(missing)}; copy the "
                        "shipped notebooks there with `ungeanalyse notebooks DIR`, or remove "
                        "files.notebooks_dir from the config to use the shipped ones")
    return folder


def copy_notebooks(target: str | Path, overwrite: bool = False) -> list[Path]:
    """Copy the shipped notebooks to ``target`` for editing; never overwrites without
    ``overwrite`` (an edited notebook is work)."""
    target = Path(target).expanduser()
    source = notebooks_dir()
    files = [source / f"{name}.ipynb" for name in (*NOTEBOOKS, *OPTIONAL)
             if (source / f"{name}.ipynb").is_file()]
    existing = [target / f.name for f in files if (target / f.name).exists()]
    if existing and not overwrite:
        raise UserError(f"{target}: already holds {', '.join(p.name for p in existing)}; "
                        "use --force to overwrite them")
    target.mkdir(parents=True, exist_ok=True)
    return [Path(shutil.copyfile(f, target / f.name)) for f in files]
