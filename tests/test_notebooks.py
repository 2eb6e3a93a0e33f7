"""Every notebook runs under plain papermill on the AUMI demo, for the project and a delprojekt."""

from __future__ import annotations

import json
import re
from pathlib import Path

import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["01_rens_data", "02_maaltal", "03_hvad_virker_for_hvem", "04_slutevaluering"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_root(demo_project, tmp_path_factory):
    """A copy of the repo's config with AUMI demo data, cleaned (the session's demo, copied:
    the notebooks write their results into it)."""
    return demo_project("aumi").copy_to(tmp_path_factory.mktemp("repo")).root


_EXECUTED: dict[Path, dict] = {}
"""Notebooks already run in this session, by output path: the same notebook with the same
parameters on the same data runs once, and each test checks its own figures in it."""


def _run(root: Path, name: str, **params) -> dict:
    out = root / "out" / f"{name}-{params.get('unit', 'all')}-{params.get('variant', '')}.ipynb"
    if out in _EXECUTED:
        return _EXECUTED[out]
    out.parent.mkdir(exist_ok=True)
    pm.execute_notebook(ROOT / "notebooks" / f"{name}.ipynb", out, cwd=str(root),
                        parameters={"config": "config/aumi.yml", **params},
                        kernel_name="python3", progress_bar=False)
    _EXECUTED[out] = json.loads(out.read_text(encoding="utf-8"))
    return _EXECUTED[out]


def _text(nb: dict) -> str:
    parts = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            parts += [*data.get("text/markdown", []), *data.get("text/html", []),
                      *data.get("text/plain", [])]
            parts += o.get("text", [])
    return "".join(parts)


@pytest.mark.xdist_group("aumi_papermill")  # one worker: demo_root and _EXECUTED are shared
@pytest.mark.parametrize("unit", ["all", "fgu_motivation"])
def test_all_notebooks_run(demo_root, unit):
    for name in NOTEBOOKS[1:3]:
        _run(demo_root, name, unit=unit)
    for variant in ("full", "pixi"):
        nb = _run(demo_root, "04_slutevaluering", unit=unit, variant=variant)
        assert "sammenhæng" in _text(nb)
    results = demo_root / "data" / "processed" / "aumi" / "results" / unit
    assert (results / "maaltal.json").exists() and (results / "cmo.json").exists()


@pytest.mark.xdist_group("aumi_papermill")
def test_quality_notebook_and_maaltal_figures(demo_root):
    text = _text(_run(demo_root, "01_rens_data"))
    assert "195" in text and "karantæne" in text.lower()
    text = _text(_run(demo_root, "02_maaltal"))
    assert "126" in text and "65 %" in text
    assert "91 %" in text and "48 %" in text
    full = _text(_run(demo_root, "04_slutevaluering", variant="full"))
    for needle in ("Resumé", "Programteori", "Metode og data", "Måltal",
                   "Hvad virker for hvem", "Styrker og begrænsninger", "Konklusioner"):
        assert needle in full
    assert "25.345.510 kr." in full


@pytest.fixture(scope="module")
def runner_root(aumi_pipeline):
    """The whole AUMI demo through the runner, as `make report` does it (once per session,
    conftest)."""
    return aumi_pipeline.root, aumi_pipeline.cfg, aumi_pipeline.summary


def _visible_text(page: str) -> str:
    import re

    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'src="data:[^"]+"', "", page)
    return re.sub(r"<[^>]+>", " ", page)


def test_runner_renders_every_unit(runner_root):
    root, cfg, summary = runner_root
    assert summary.exit_code == 0, summary.summary()
    assert summary.count("ran") == 1 + 4 * len(cfg.units()) + (cfg.comparison is not None)
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    for unit in cfg.units():
        assert f"aumi/{unit}/04_slutevaluering.html" in index
    page = (root / "reports" / "aumi" / "all" / "02_maaltal.html").read_text(encoding="utf-8")
    text = _visible_text(page)
    for needle in ("126", "65 %", "91 %", "48 %", "195"):
        assert needle in text, needle
    assert 'class="jp-CodeMirrorEditor' not in page and "import ungeanalyse" not in page
    assert re.search(r'<img[^>]*src="data:image/png;base64', page)  # figures embedded
    full = _visible_text((root / "reports" / "aumi" / "all" / "04_slutevaluering.html")
                         .read_text(encoding="utf-8"))
    assert "25.345.510 kr." in full and "sammenhæng" in full


def test_reports_pass_the_privacy_scanner(runner_root):
    from ungeanalyse import privacy

    root, cfg, _ = runner_root
    fps = set(json.loads((cfg.processed_dir / "name_fingerprints.json").read_text()))
    key = privacy.load_key(cfg.project.id, demo=True)
    hits = privacy.scan_paths([root / "reports", cfg.processed_dir], name_fps=fps, key=key)
    assert hits == [], privacy.scan_report(hits)


SMALL_COUNT = re.compile(r"\bn ?= ?[1-4]\b(?![.,]\d)|\(n=[1-4]\)|\b(af|of) [1-4]\b(?![.,]\d)"
                         r"|\b[1-4] (af|of) \d+\b(?! (mulige|possible))")
"""How a count of 1–4 young people would read in the reports' text and tables (QCA's '3 af 8
mulige kombinationer' counts configurations, not people)."""


def test_reports_show_no_count_under_the_limit(runner_root):
    """Reader pages (måltal, what works for whom, evaluation, pixi, and the whole project's
    effect page) never state a count from 1 to 4: not in tables, not in the verdict rules, not
    in the notes under each hypothesis."""
    root, cfg, _ = runner_root
    pages = [p for p in (root / "reports" / "aumi").rglob("*.html")
             if not p.name.startswith("01_")]
    assert len(pages) == 4 * len(cfg.units()) + 1  # + all/05_virkning (AUMI has a register)
    assert (root / "reports" / "aumi" / "all" / "05_virkning.html") in pages
    found = {}
    for page in pages:
        text = _visible_text(page.read_text(encoding="utf-8"))
        hits = [m.group(0) for m in SMALL_COUNT.finditer(text)]
        if hits:
            found[str(page.relative_to(root))] = hits[:5]
    assert not found, found


def test_no_change_rerun_is_cached(runner_root):
    from ungeanalyse.pipeline import run

    root, cfg, _ = runner_root
    again = run(cfg, jobs=2, progress=False)
    assert again.count("cached") == len(again.results), again.summary()
    assert again.seconds < 10


def test_runner_writes_pdf_word_tables_and_headline(runner_root):
    """The AUMI final evaluation and pixi as PDF and Word, table downloads, the index's figures."""
    from docx import Document
    from pypdf import PdfReader

    from ungeanalyse.document import document_text

    root, cfg, _ = runner_root
    out = root / "reports" / "aumi" / "all"
    pages = PdfReader(out / "04_slutevaluering.pdf").pages
    assert len(pages) > 5
    assert "AUMI – Alle unge med imidt" in pages[0].extract_text()
    assert "Slutevaluering" in pages[0].extract_text()
    assert "Indhold" in pages[1].extract_text() and "Side 2" in pages[2].extract_text()
    text = document_text(out / "04_slutevaluering.pdf")
    assert "195" in text and "25.345.510 kr." in text
    heads = [p.text for p in Document(str(out / "04_slutevaluering.docx")).paragraphs
             if p.style.name.startswith("Heading")]
    assert "Resumé" in heads and "Måltal" in heads
    assert len(PdfReader(out / "04_pixi.pdf").pages) > 1 and (out / "04_pixi.docx").exists()
    assert list(out.glob("02_maaltal.tabel-*.xlsx")) and list(out.glob("02_maaltal.tabel-*.csv"))
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="aumi/all/04_slutevaluering.pdf"' in index
    assert 'href="aumi/all/04_pixi.docx"' in index
    assert "<strong>195</strong> deltagere" in index
    # AUMI's calibrated verdicts (issue 11): H2 supported (the planted coping-course
    # association passes the Holm-adjusted LR test and the cluster check), H1 too few data
    assert re.search(r"<strong>H2</strong>[^<]*<em>støttet</em>", index)
    assert re.search(r"<strong>H1</strong>[^<]*<em>for få data</em>", index)
