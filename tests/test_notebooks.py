"""The notebooks on the AUMI demo: every notebook runs under plain papermill (the quality notebook
for the project, 02–04 for a delprojekt), and the whole demo through the runner (every unit and
notebook, HTML, PDF and Word, once per session: conftest's ``aumi_pipeline``).

The notebooks' code is the same for every unit (the unit is a parameter), so plain papermill
runs them for one delprojekt, and the runner's pages pin the project's own figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import papermill as pm
import pytest

from tests.pages import headings, notebook_text, plain

ROOT = Path(__file__).resolve().parents[1]
UNIT = "fgu_motivation"  # a delprojekt: the papermill runs' unit
HEADINGS = ["Resumé", "Baggrund og formål", "Programteori", "Metode og data", "Måltal",
            "Skridt på vejen", "Trivsel og tro på uddannelse",
            "Hvad virker for hvem under hvilke omstændigheder?",
            "Konfigurationer af kontekst og mekanisme (QCA)", "Styrker og begrænsninger",
            "Konklusioner og anbefalinger"]
"""The sections of AUMI's final evaluation, in order (the project's and a delprojekt's)."""
ASSOCIATION = ("Resultaterne viser sammenhænge, ikke virkninger: der er ingen "
               "sammenligningsgruppe, og unge, der fik en indsats, kan adskille sig fra dem, der "
               "ikke fik den, på andet end delprojekt og målgruppe.")
"""The method section's sentence on association, not effect (no comparison group inside)."""

pytestmark = pytest.mark.slow


# -- plain papermill ------------------------------------------------------------------------

PAPERMILL_RUNS = {  # label: notebook and parameters
    "01_rens_data": ("01_rens_data", {"unit": "all"}),
    "02_maaltal": ("02_maaltal", {"unit": UNIT}),
    "03_hvad_virker_for_hvem": ("03_hvad_virker_for_hvem", {"unit": UNIT}),
    "04_slutevaluering": ("04_slutevaluering", {"unit": UNIT, "variant": "full"}),
    "04_pixi": ("04_slutevaluering", {"unit": UNIT, "variant": "pixi"}),
}


@pytest.fixture(scope="module")
def papermill_runs(demo_fresh) -> tuple[Path, dict[str, dict]]:
    """Each notebook run once under plain papermill on a copy of the session's AUMI demo (the
    notebooks write their results into it): the project's root and each executed notebook."""
    root = demo_fresh("aumi", "papermill").root
    (root / "out").mkdir()
    texts = {}
    for label, (notebook, params) in PAPERMILL_RUNS.items():
        out = root / "out" / f"{label}.ipynb"
        pm.execute_notebook(ROOT / "notebooks" / f"{notebook}.ipynb", out, cwd=str(root),
                            parameters={"config": "config/aumi.yml", **params},
                            kernel_name="python3", progress_bar=False)
        texts[label] = json.loads(out.read_text(encoding="utf-8"))
    return root, texts


@pytest.mark.xdist_group("aumi_papermill")  # one worker: the module's papermill runs are shared
def test_quality_notebook_under_papermill(papermill_runs):
    text = notebook_text(papermill_runs[1]["01_rens_data"])
    assert ("AUMI – Alle unge med imidt. Der er modtaget 206 rækker i 6 deltagerfiler; 195 unge "
            "indgår i de rensede data") in text
    # rows in, clean, quarantined and duplicates of the participant lists; one quarantined row
    assert "Rækker pr. tabel Tabel Rækker modtaget Rene rækker I karantæne Dubletter " \
        "Deltagere 206 195 10 1 " in text
    assert "fgu_motivation.xlsx 44 Resultat ukendt status" in text


@pytest.mark.xdist_group("aumi_papermill")
def test_a_delprojekts_notebooks_under_papermill(papermill_runs):
    root, notebooks = papermill_runs
    texts = {label: notebook_text(nb) for label, nb in notebooks.items()}
    assert ("Motivation på FGU: 40 unge har deltaget; 22 (55 %) har indfriet målet (påbegyndt "
            "eller gennemført en ungdomsuddannelse).") in texts["02_maaltal"]
    # a delprojekt's CMO table hides what would give a small cell away
    assert ("H2: Vi forventer, at mestringskurser især hjælper unge med psykiske udfordringer "
            "Psykiske udfordringer Mestringskursus – – 50 % (n=10) 62 % (n=13) – – – for få "
            "data") in texts["03_hvad_virker_for_hvem"]
    full = texts["04_slutevaluering"]
    markdown = "".join("".join(o.get("data", {}).get("text/markdown", []))
                       for c in notebooks["04_slutevaluering"]["cells"]
                       for o in c.get("outputs", []))
    assert [h for h in headings(markdown) if not re.match(r"H\d+\.", h)] == HEADINGS
    assert ("Motivation på FGU (AUMI) har haft 40 unge i forløb (2. oktober 2017 – 31. december "
            "2022). 22 unge (55 % af deltagerne) har indfriet målet") in full
    assert ASSOCIATION in full
    pixi = texts["04_pixi"]
    assert ("Det vigtigste 1. 55 % af de afsluttede forløb endte med, at målet blev indfriet "
            "(40–69 %). Tallene viser sammenhænge, ikke virkninger: hypoteserne sammenligner de "
            "unge i projektet med hinanden") in pixi
    results = root / "data" / "processed" / "aumi" / "results" / UNIT
    assert (results / "maaltal.json").exists() and (results / "cmo.json").exists()


# -- the runner -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner_root(aumi_pipeline):
    """The whole AUMI demo through the runner, as `make report` does it (once per session,
    conftest)."""
    return aumi_pipeline.root, aumi_pipeline.cfg, aumi_pipeline.summary


def _page(root: Path, unit: str, name: str) -> str:
    return (root / "reports" / "aumi" / unit / name).read_text(encoding="utf-8")


def test_runner_renders_every_unit(runner_root):
    root, cfg, summary = runner_root
    assert summary.exit_code == 0, summary.summary()
    assert summary.count("ran") == 1 + 4 * len(cfg.units()) + (cfg.comparison is not None)
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    for unit in cfg.units():
        assert f"aumi/{unit}/04_slutevaluering.html" in index
    page = _page(root, "all", "02_maaltal.html")
    text = plain(page)
    assert ("AUMI – Alle unge med imidt: 195 unge har deltaget; 126 (65 %) har indfriet målet "
            "(påbegyndt eller gennemført en ungdomsuddannelse).") in text
    assert ("Succesrate pr. målgruppe Målgruppe Deltagere Mål indfriet Succesrate 95 %-CI "
            "Påbegynde 120 58 48 % 40–57 % Fastholde 75 68 91 % 82–95 %") in text
    assert "Budget 25.345.510 kr.: 129.977 kr. pr. deltager og 201.155 kr. pr. ung, der har " \
        "indfriet målet." in text
    assert 'class="jp-CodeMirrorEditor' not in page and "import ungeanalyse" not in page
    assert re.search(r'<img[^>]*src="data:image/png;base64', page)  # figures embedded
    page = _page(root, "all", "04_slutevaluering.html")
    assert [h for h in headings(page) if not re.match(r"H\d+\.", h)] == HEADINGS
    full = plain(page)
    assert "med et samlet budget på 25.345.510 kr." in full
    assert ("Partnerne har sendt 206 rækker om deltagere; 195 er renset og indgår, 10 er sat i "
            "karantæne") in full
    # the supported hypothesis is an association, and the method section says why
    assert ("H2: Mestringskursus hænger stærkere sammen med udfaldet »mål indfriet« blandt unge "
            "i konteksten »Psykiske udfordringer« end blandt andre (støttet; en sammenhæng, ikke "
            "en målt virkning).") in full
    assert ASSOCIATION in full


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


def _visible_text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'src="data:[^"]+"', "", page)
    return re.sub(r"<[^>]+>", " ", page)


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

    from ungeanalyse.document import document_text, pdf_pages

    root, cfg, _ = runner_root
    out = root / "reports" / "aumi" / "all"
    pages = pdf_pages(out / "04_slutevaluering.pdf")
    assert len(pages) > 5
    assert "AUMI – Alle unge med imidt" in pages[0]
    assert "Slutevaluering" in pages[0]
    assert "Indhold" in pages[1] and "Side 2" in pages[2]
    text = plain(document_text(out / "04_slutevaluering.pdf"))
    assert ("Partnerne har sendt 206 rækker om deltagere; 195 er renset og indgår, 10 er sat i "
            "karantæne") in text
    assert "med et samlet budget på 25.345.510 kr." in text
    heads = [p.text for p in Document(str(out / "04_slutevaluering.docx")).paragraphs
             if p.style.name.startswith("Heading")]
    assert [h for h in heads if h in HEADINGS] == HEADINGS
    assert len(pdf_pages(out / "04_pixi.pdf")) > 1 and (out / "04_pixi.docx").exists()
    assert list(out.glob("02_maaltal.tabel-*.xlsx")) and list(out.glob("02_maaltal.tabel-*.csv"))
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert 'href="aumi/all/04_slutevaluering.pdf"' in index
    assert 'href="aumi/all/04_pixi.docx"' in index
    assert "<strong>195</strong> deltagere" in index
    # AUMI's calibrated verdicts (issue 11): H2 supported (the planted coping-course
    # association passes the Holm-adjusted LR test and the cluster check), H1 too few data
    assert re.search(r"<strong>H2</strong>[^<]*<em>støttet</em>", index)
    assert re.search(r"<strong>H1</strong>[^<]*<em>for få data</em>", index)
