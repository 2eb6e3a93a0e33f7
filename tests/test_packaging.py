"""environment.yml and pyproject.toml list the same dependencies; notebooks carry no outputs."""

import json
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _name(spec: str) -> str:
    return re.split(r"[<>=!\[ ]", spec, maxsplit=1)[0].lower()


def test_environment_matches_pyproject():
    py = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(d) for d in py["dependencies"] + py["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    assert conda == wanted


def test_notebooks_committed_without_outputs():
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs"), f"{nb.name} has outputs"
                assert cell.get("execution_count") is None, f"{nb.name} has execution counts"


def test_gitignore_keeps_personal_data_out():
    ignore = (ROOT / ".gitignore").read_text(encoding="utf-8")
    for pattern in ("data/raw/**", "data/processed/**", "reports/**", "*.key"):
        assert pattern in ignore


def test_ruff_clean():
    """The package, tests, benchmarks and notebooks pass the linter, so CI catches what review
    missed."""
    import shutil
    import subprocess
    import sys

    ruff = Path(sys.executable).with_name("ruff")
    exe = str(ruff) if ruff.exists() else shutil.which("ruff")
    if exe is None:
        import pytest

        pytest.skip("ruff is not installed")
    done = subprocess.run([exe, "check", "--quiet", "."], cwd=ROOT, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_no_function_over_60_lines_without_a_reason():
    """A function whose body (its docstring left out) runs over 60 lines says in its
    docstring why it is long ("Long because ...")."""
    import ast

    unexplained = []
    for path in sorted((ROOT / "ungeanalyse").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            doc = ast.get_docstring(node) or ""
            lines = node.end_lineno - node.lineno + 1
            if doc:
                lines -= node.body[0].end_lineno - node.body[0].lineno + 1
            if lines > 60 and not re.search(r"long because|over 60", " ".join(doc.split()),
                                            re.IGNORECASE):
                unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert unexplained == []
