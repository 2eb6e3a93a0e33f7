"""The runner: cache, reruns after a change, failure isolation, HTML and the index.

These tests use small stand-in notebooks (same names and parameters as the real ones) so that
the runner's behaviour is pinned in seconds; the real notebooks run through the runner in
tests/test_notebooks.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from ungeanalyse.config import load_config
from ungeanalyse.demo import make_demo
from ungeanalyse.pipeline import NOTEBOOKS, plan, run

ROOT = Path(__file__).resolve().parents[1]

BODY = '''import ungeanalyse as ua
cfg = ua.load_config(config)
ua.report.show_markdown(f"# {NAME} for {unit}\\n\\n## Første afsnit\\n\\n126 unge (65 %)"
                        "\\n\\n## Andet afsnit\\n\\nslut")
'''


def _notebook(name: str, fail_unit: str | None = None) -> nbformat.NotebookNode:
    params = ('config = "config/aumi.yml"\nunit = "all"\nlang = "da"\noutput_dir = None\n'
              + ('variant = "full"\n' if name.startswith("04") else ""))
    body = BODY.replace("{NAME}", name)
    if fail_unit:
        body += f'if unit == "{fail_unit}":\n    raise RuntimeError("deliberate failure")\n'
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


@pytest.fixture
def project(tmp_path):
    """A repository copy with the AUMI config, its demo data and stand-in notebooks."""
    (tmp_path / "config").mkdir()
    text = (ROOT / "config" / "aumi.yml").read_text(encoding="utf-8")
    text = text.replace("\nfiles:\n", "\nfiles:\n  notebooks_dir: ../notebooks\n", 1)
    (tmp_path / "config" / "aumi.yml").write_text(text, encoding="utf-8")
    (tmp_path / "notebooks").mkdir()
    for name in NOTEBOOKS:
        nbformat.write(_notebook(name), str(tmp_path / "notebooks" / f"{name}.ipynb"))
    cfg = load_config(tmp_path / "config" / "aumi.yml")
    make_demo(cfg)
    return cfg


def _statuses(summary) -> dict[str, str]:
    return {r.id: r.status for r in summary.results}


def test_plan_has_every_unit_and_the_pixi(project):
    ids = [t.id for t in plan(project)]
    assert ids[0] == "all/01_rens_data"
    assert {"all/04_pixi", "kommed/04_slutevaluering", "autisme/02_maaltal"} <= set(ids)
    assert len(ids) == 1 + 4 * len(project.units())


def test_first_run_then_cached_then_config_change(project):
    first = run(project, jobs=2, progress=False)
    assert first.exit_code == 0, first.summary()
    assert set(_statuses(first).values()) == {"ran"}
    root = project.root
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "aumi/kommed/02_maaltal.html" in index and "aumi/all/04_pixi.html" in index
    assert "intern: til evaluator og partnere, offentliggøres ikke" in index  # the 01 page
    page = (root / "reports" / "aumi" / "all" / "02_maaltal.html").read_text(encoding="utf-8")
    assert "126 unge (65 %)" in page
    assert 'class="jp-CodeMirrorEditor' not in page and "import ungeanalyse" not in page
    assert 'class="ua-toc"' in page and "Første afsnit" in page  # table of contents
    assert 'class="ua-provenance"' in page and "config/aumi.yml" in page  # provenance
    assert "@media print" in page and 'lang="da"' in page
    assert "cdnjs" not in page and "<script src=\"http" not in page  # opens offline

    again = run(project, jobs=2, progress=False)
    assert set(_statuses(again).values()) == {"cached"}, again.summary()
    assert again.clean == "cached"

    cfg_file = project.source_path
    cfg_file.write_text(cfg_file.read_text(encoding="utf-8") + "\n# a comment\n",
                        encoding="utf-8")
    changed = run(load_config(cfg_file), jobs=2, progress=False)
    assert set(_statuses(changed).values()) == {"ran"}


def test_one_partner_file_changes_reruns_that_unit_and_the_whole(project):
    run(project, jobs=2, progress=False)
    import pandas as pd

    parts = pd.read_parquet(project.processed_dir / "participants.parquet")
    first = parts[parts["delprojekt"] == "kommed"].sort_values("source_row").iloc[0]
    path = project.raw_dir / first["source_file"]  # a young person leaves kommed's list
    if path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path)
        wb.worksheets[0].delete_rows(int(first["source_row"]))
        wb.save(path)
    else:
        lines = path.read_bytes().split(b"\n")
        del lines[int(first["source_row"]) - 1]
        path.write_bytes(b"\n".join(lines))
    summary = run(project, jobs=2, progress=False)
    status = _statuses(summary)
    assert summary.clean == "ran"
    reran = {tid.split("/")[0] for tid, s in status.items() if s == "ran"}
    assert reran == {"all", "kommed"}, summary.summary()
    assert all(s == "cached" for tid, s in status.items() if tid.split("/")[0] not in reran)


def test_a_failing_unit_leaves_the_others(project):
    nbformat.write(_notebook("03_hvad_virker_for_hvem", fail_unit="kommed"),
                   str(project.root / "notebooks" / "03_hvad_virker_for_hvem.ipynb"))
    summary = run(project, jobs=2, progress=False)
    status = _statuses(summary)
    assert summary.exit_code == 1
    assert status["kommed/03_hvad_virker_for_hvem"] == "failed"
    assert status["kommed/04_slutevaluering"] == "skipped"
    assert status["kommed/02_maaltal"] == "ran"
    assert all(s == "ran" for tid, s in status.items() if not tid.startswith("kommed/"))
    failed = next(r for r in summary.results if r.status == "failed")
    assert "deliberate failure" in failed.error
    assert (project.root / failed.notebook).exists()  # kept for debugging
    assert "FAILED kommed/03_hvad_virker_for_hvem" in summary.summary()
    index = (project.root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "fejlet" in index and "aumi/hoeretab/04_slutevaluering.html" in index
    manifest = json.loads((project.root / "reports" / "aumi" / "manifest.json").read_text())
    assert manifest["tasks"]["kommed/03_hvad_virker_for_hvem"]["status"] == "failed"


def test_only_one_unit_and_unknown_unit(project):
    summary = run(project, jobs=1, only="autisme", progress=False)
    assert {r.unit for r in summary.results} == {"autisme"}
    from ungeanalyse.errors import UserError

    with pytest.raises(UserError, match="not a unit"):
        run(project, only="nowhere", progress=False)


def test_dask_executor_on_a_local_cluster(project):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        summary = run(project, only="hoeretab", executor="dask", scheduler=client,
                      progress=False)
    assert summary.exit_code == 0, summary.summary()
    assert (project.root / "reports" / "aumi" / "hoeretab" / "04_pixi.html").exists()


def test_clean_cache_follows_globbed_files_and_package_code(project, monkeypatch):
    """A raw file named by a glob, or a change in the package code, reruns the clean stage."""
    import yaml

    from ungeanalyse import pipeline

    path = project.source_path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["files"]["steps"] = [{"path": "*skridt*"}]
    matches = sorted(project.raw_dir.glob("*skridt*"))
    assert len(matches) == 1, "the AUMI demo has one step log"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg = load_config(path)
    assert run(cfg, jobs=1, only="kommed", progress=False).clean == "ran"
    assert run(cfg, jobs=1, only="kommed", progress=False).clean == "cached"
    matches[0].write_bytes(matches[0].read_bytes() + b"\n")  # the partner re-sends the log
    assert run(cfg, jobs=1, only="kommed", progress=False).clean == "ran"
    monkeypatch.setattr(pipeline, "package_fingerprint", lambda: "a new version of the code")
    assert run(cfg, jobs=1, only="kommed", progress=False).clean == "ran"


def test_index_speaks_the_language_of_the_latest_run(tmp_path):
    from ungeanalyse.render import write_index

    for project, lang, when in (("aumi", "en", "2026-11-01T10:00:00"),
                                ("unge_med_kant", "da", "2026-11-02T10:00:00")):
        (tmp_path / project).mkdir()
        (tmp_path / project / "manifest.json").write_text(json.dumps(
            {"project": project, "name": project, "lang": lang, "generated": when,
             "units": ["all"], "tasks": {}}), encoding="utf-8")
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert 'lang="da"' in page and "Evalueringsrapporter" in page  # the later run, not the first
    page = write_index(tmp_path, "en").read_text(encoding="utf-8")
    assert 'lang="en"' in page and "Evaluation reports" in page and "Whole project" in page
