"""PDF and Word output, table downloads and the scanner on them (fast: a small notebook)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import nbformat
import pandas as pd

from ungeanalyse import privacy
from ungeanalyse.document import (
    _align_numbers,
    document_text,
    notebook_html,
    pdf_pages,
    render_documents,
)
from ungeanalyse.reader.maaltal import delprojekt_text as _breakdown_text
from ungeanalyse.reader.table import html_table
from ungeanalyse.render import headline_figures, render_html, table_files, write_index


def _notebook(table_html: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    md = ("# Slutevaluering\n\n## Resumé\n\n195 unge har deltaget; 126 (65 %) har indfriet "
          "målet.\n\n## Måltal\n\nSe tabellen.\n\n" + "Mere tekst om forløbene. " * 400)
    out = nbformat.v4.new_output("display_data", data={"text/html": table_html})
    nb.cells = [nbformat.v4.new_markdown_cell(md),
                nbformat.v4.new_code_cell("x", outputs=[out])]
    return nb


TABLE = pd.DataFrame({"Målgruppe": ["Påbegynde", "Fastholde"], "Antal": [120, "<5"],
                      "Andel": ["48 %", "–"]})


def test_pdf_and_docx_paginate_and_read_in_danish(tmp_path):
    nb = _notebook(html_table(TABLE, caption="Succes pr. målgruppe"))
    pdf, docx = render_documents(nb, tmp_path / "r.pdf", tmp_path / "r.docx", "Slutevaluering",
                                 "AUMI – Alle unge med imidt", date=dt.date(2026, 12, 1))
    pages = pdf_pages(pdf)
    assert len(pages) >= 3
    cover = pages[0]
    assert "AUMI – Alle unge med imidt" in cover and "1. december 2026" in cover
    assert "Indhold" in pages[1]  # the table of contents
    assert "Side 1" in pages[1]  # numbered from the first page after the cover
    assert "Side 2" in pages[2] and "Resumé" in pages[2]
    assert "Side" not in cover
    text = document_text(pdf)
    assert "126 (65 %)" in text and "Påbegynde" in text
    from docx import Document

    heads = [p.text for p in Document(str(docx)).paragraphs if p.style.name.startswith("Heading")]
    assert "Resumé" in heads and "Måltal" in heads
    assert "<5" in document_text(docx)


def _typst(html: str) -> str:
    import pypandoc

    return pypandoc.convert_text(_align_numbers(html), "typst", format="html")


def test_numbers_in_pdf_tables_are_right_aligned():
    # a reader table: the number columns (counts, '<5', '48 %', '–') right, header included
    typ = _typst(html_table(TABLE, caption="Succes pr. målgruppe"))
    assert "align: (auto,right,right,)" in typ
    assert "table.cell(align: right)[Antal]" in typ and r"table.cell(align: right)[\<5]" in typ
    # a Markdown table from a template (no classes): numbers found by their text; the empty
    # header row of a key-figure table is dropped rather than printed as a blank ruled row
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(
        "| | |\n|---|---|\n| Unge i forløb | **195** |\n| Succesrate | **65 %** (58–71 %) |\n"
        "| Budget | 25.345.510 kr. |\n\n| Hypotese | Kontekst |\n|---|---|\n| H1: Fast | Skal |\n")]
    typ = _typst(notebook_html(nb, "da"))
    assert "align: (auto,right,)" in typ and "table.cell(align: right)[25.345.510 kr.]" in typ
    assert typ.count("table.header(") == 1  # only the hypothesis table has a header
    assert "align: (auto,auto,)" in typ  # text columns stay left


def test_a_short_table_is_not_split_across_pages(tmp_path):
    # the text ends near the bottom of a page: 18 rows moved whole to the next page (before,
    # 16 rows stayed behind and 2 went over); a long table still breaks, its header repeated
    short = pd.DataFrame({"Delprojekt": [f"Kort nummer {i}" for i in range(18)],
                          "Antal": list(range(100, 118))})
    long = pd.DataFrame({"Delprojekt": [f"Lang nummer {i}" for i in range(90)],
                         "Antal": list(range(200, 290))})
    nb = nbformat.v4.new_notebook()
    outs = [nbformat.v4.new_output("display_data", data={"text/html": html_table(df, caption=c)})
            for df, c in ((short, "Kort tabel"), (long, "Lang tabel"))]
    text = "# T\n\n## Resumé\n\n" + "Mere tekst om forløbene. " * 360
    nb.cells = [nbformat.v4.new_markdown_cell(text),
                nbformat.v4.new_code_cell("x", outputs=outs)]
    pdf, _ = render_documents(nb, tmp_path / "r.pdf", tmp_path / "r.docx", "T", "P")
    pages = pdf_pages(pdf)
    assert [t.count("Kort nummer") for t in pages if "Kort nummer" in t] == [18]
    assert ["Kort tabel" in t for t in pages if "Kort nummer" in t] == [True]
    split = [t for t in pages if "Lang nummer" in t]
    assert len(split) >= 2 and all("Delprojekt" in t for t in split)  # header on both pages


def test_a_name_with_a_hash_stays_text_and_numbers_keep_their_unit(tmp_path, aumi_cfg):
    from ungeanalyse.outcomes import Maaltal

    rows = [{"dimension": "delprojekt", "category": "k", "category_label": "#KomMed – samtaler",
             "n_participants": 40,
             "n_closed": 40, "goal_met": 22, "rate": 0.55, "ci_low": 0.4, "ci_high": 0.69},
            {"dimension": "delprojekt", "category": "b",
             "category_label": "Blended_learning *HF*", "n_participants": 35,
             "n_closed": 35, "goal_met": 17, "rate": 0.49, "ci_low": 0.33, "ci_high": 0.64}]
    m = Maaltal.from_dict({"unit": "all", "unit_label": "AUMI", "n_participants": 75,
                           "n_active": 0, "n_closed": 75, "goal_met": 39,
                           "success": {"k": 39, "n": 75}, "outcomes": [], "groups": [],
                           "breakdowns": {"delprojekt": rows}})
    shown = {"n": False, "rate": False, "goal": False, "upper": True}
    plan = {"outcome": {}, "group": {}, "rate": False, "upper": True,
            "breakdowns": {"delprojekt": {"k": shown, "b": shown}}}
    md = _breakdown_text(m, {"maaltal": plan}, aumi_cfg, "da")
    assert "- \\#KomMed – samtaler: 55 % (22 af 40" in md  # escaped where it enters Markdown
    nb = nbformat.v4.new_notebook()
    out = nbformat.v4.new_output("display_data", data={"text/markdown": md})
    budget = ("## Budget\n\nBudgettet er 25.345.510 kr. fra 1. december 2026. '% af alle "
              "deltagere' har alle i nævneren; \"Forskellen\" er en forskel. " + "Tekst. " * 30)
    nb.cells = [nbformat.v4.new_markdown_cell("# Slutevaluering\n\n" + budget),
                nbformat.v4.new_code_cell("x", outputs=[out]),
                nbformat.v4.new_markdown_cell("## Metode\n\nTekst.")]
    assert "<h1" not in notebook_html(nb, "da").split("Budget", 1)[1]  # no heading in HTML
    pdf, docx = render_documents(nb, tmp_path / "r.pdf", tmp_path / "r.docx", "Slutevaluering",
                                 "AUMI", date=dt.date(2026, 12, 1))
    pages = pdf_pages(pdf)
    assert "KomMed" not in pages[1]  # not in the table of contents
    text = "\n".join(pages)
    assert "#KomMed – samtaler: 55\u00a0% (22 af 40" in text
    assert "Blended_learning *HF*: 49\u00a0%" in text
    assert "25.345.510\u00a0kr." in text and "1.\u00a0december 2026" in text  # no break inside
    assert "»% af alle deltagere« har" in text and "»Forskellen« er" in text  # Danish quotes
    from docx import Document

    heads = [p.text for p in Document(str(docx)).paragraphs if p.style.name.startswith("Heading")]
    assert heads == ["Budget", "Metode"]  # the name with a hash is not a heading
    assert "#KomMed – samtaler: 55 %" in document_text(docx)


def test_table_downloads_hold_the_published_values(tmp_path):
    nb = _notebook(html_table(TABLE, caption="Succes pr. målgruppe"))
    page = render_html(nb, tmp_path / "04_slutevaluering.html", "Slutevaluering")
    files = table_files(page)
    assert [f.name for f in files] == ["04_slutevaluering.tabel-1.csv",
                                      "04_slutevaluering.tabel-1.xlsx"]
    csv = files[0].read_text(encoding="utf-8-sig").splitlines()
    assert csv == ["Målgruppe;Antal;Andel", "Påbegynde;120;48 %", "Fastholde;<5;–"]
    from openpyxl import load_workbook

    rows = list(load_workbook(files[1]).active.iter_rows(values_only=True))
    assert rows[0][0] == "Succes pr. målgruppe" and rows[2] == ("Påbegynde", 120, "48 %")
    assert rows[3] == ("Fastholde", "<5", "–")  # the hidden cell stays hidden
    assert 'href="04_slutevaluering.tabel-1.xlsx"' in page.read_text(encoding="utf-8")
    # a rerun with fewer tables leaves no stale download behind
    render_html(_notebook("<p>ingen tabel</p>"), page, "Slutevaluering")
    assert table_files(page) == []


def test_scanner_reads_pdf_docx_and_xlsx(tmp_path):
    cpr = "010203-1234"  # a valid birth date: the scanner flags it
    nb = _notebook(html_table(pd.DataFrame({"Ung": [cpr], "Antal": [7]})))
    pdf, docx = render_documents(nb, tmp_path / "r.pdf", tmp_path / "r.docx", "T", "P")
    render_html(nb, tmp_path / "r.html", "T")
    kinds = {(h.path.suffix, h.kind) for h in privacy.scan_paths([tmp_path])}
    assert {(".pdf", "cpr"), (".docx", "cpr"), (".xlsx", "cpr"), (".csv", "cpr")} <= kinds
    (tmp_path / "broken.pdf").write_bytes(b"not a pdf")
    broken = privacy.scan_paths([tmp_path / "broken.pdf"])
    assert [h.kind for h in broken] == ["unreadable"]  # cannot be cleared, so it is flagged


def _results(tmp_path: Path, maaltal: dict) -> Path:
    """A unit's results folder holding only the given måltal result."""
    results = tmp_path / "results"
    results.mkdir()
    (results / "maaltal.json").write_text(json.dumps(maaltal), encoding="utf-8")
    return results


def test_index_headline_uses_the_masks(tmp_path):
    maaltal = {
        "n_participants": 195, "goal_met": 126, "goal_met_share_of_participants": 0.646,
        "success": {"rate": 0.646, "ci_low": 0.577, "ci_high": 0.71},
        "breakdowns": {"target_group": [
            {"category": "a", "category_label": "Påbegynde", "n_closed": 120, "rate": 0.483},
            {"category": "b", "category_label": "Fastholde", "n_closed": 75, "rate": 0.907}]},
    }
    masks = {"group": {"goal_met": False}, "rate": False, "breakdowns": {"target_group": {
        "a": {"n": False, "rate": False}, "b": {"n": True, "rate": True}}}}
    results = _results(tmp_path, maaltal)
    (results / "cmo.json").write_text(json.dumps({"hypotheses": [
        {"id": "H1", "title": "Fast kontaktperson", "title_en": "Contact person",
         "verdict_code": "supported"}]}), encoding="utf-8")
    h = headline_figures(results, masks)
    assert h["by_target_group"][1] == {"label": "Fastholde", "n": None, "rate": None,
                                       "share_of_all": None, "n_all": None}
    reports = tmp_path / "reports"
    (reports / "p").mkdir(parents=True)
    (reports / "p" / "manifest.json").write_text(json.dumps(
        {"name": "Projekt P", "lang": "da", "units": [], "tasks": {}}), encoding="utf-8")
    (reports / "p" / "headline.json").write_text(json.dumps(h), encoding="utf-8")
    page = write_index(reports).read_text(encoding="utf-8")
    assert "<strong>195</strong> deltagere" in page
    assert "<strong>126</strong> (65 %) har indfriet målet" in page
    assert "Påbegynde: <strong>48 %</strong>" in page
    assert "Fastholde: <strong>vises ikke" in page
    assert "91 %" not in page and "75" not in page
    assert "<strong>H1</strong> Fast kontaktperson: <em>støttet</em>" in page
    english = write_index(reports, lang="en").read_text(encoding="utf-8")
    assert "<strong>195</strong> participants" in english and "<em>supported</em>" in english


def test_index_headline_shows_goal_met_of_everyone_where_the_rate_is_hidden(tmp_path):
    maaltal = {
        "n_participants": 240, "goal_met": 162, "goal_met_share_of_participants": 0.675,
        "success": {"rate": 0.69, "ci_low": 0.63, "ci_high": 0.75},
        "breakdowns": {"target_group": [
            {"category": "p", "category_label": "Påbegynde", "n_participants": 155,
             "n_closed": 151, "goal_met": 92, "rate": 0.609}]},
    }
    results = _results(tmp_path, maaltal)
    # the disclosure step's masks, where the runner keeps them: the processed folder
    (tmp_path / "disclosure_masks.json").write_text(json.dumps({"masks": {"all": {"maaltal": {
        "group": {"goal_met": False}, "rate": False, "breakdowns": {"target_group": {
            "p": {"n": False, "rate": True, "goal": False}}}}}}}), encoding="utf-8")
    h = headline_figures(results)
    # 92 of 151 closed would give the 4 still active back; 92 of all 155 does not
    assert h["by_target_group"][0] == {"label": "Påbegynde", "n": None, "rate": None,
                                       "share_of_all": 92 / 155, "n_all": 155}


def test_a_document_of_one_section_has_no_table_of_contents_page(tmp_path):
    """The pixi's one section ("Det vigtigste") needs no contents page of its own."""

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Pixi\n\n## Det vigtigste\n\n1. Et fund.")]
    pdf, docx = render_documents(nb, tmp_path / "p.pdf", tmp_path / "p.docx", "Pixi", "AUMI")
    pages = pdf_pages(pdf)
    assert len(pages) == 2 and "Indhold" not in "\n".join(pages)  # cover and the text
    assert "Det vigtigste" in pages[1]
    assert "Indhold" not in document_text(docx)
    nb.cells.append(nbformat.v4.new_markdown_cell("## Konklusioner\n\nTekst."))
    pages = pdf_pages(render_documents(nb, tmp_path / "q.pdf", tmp_path / "q.docx", "Pixi",
                                       "AUMI")[0])
    assert pages[1].startswith("Indhold")  # two sections: the outline comes back


def test_a_word_hyphenated_at_a_line_end_reads_whole_for_the_scanner(tmp_path):
    """Typst hyphenates justified Danish text; the text the privacy scanner reads of a PDF has
    each word whole again (pypdf read 106 of these 120 names, the others split at a hyphen)."""
    name = "Christoffersensdatter"
    text = " ".join(f"Ord nummer {i} om {name} og undervisningsforløbene." for i in range(120))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# T\n\n## Resumé\n\n" + text)]
    pdf, _ = render_documents(nb, tmp_path / "r.pdf", tmp_path / "r.docx", "T", "P")
    words = document_text(pdf)
    assert words.count(name) == 120 and words.count("undervisningsforløbene") == 120
    assert "\x02" not in words and "\r" not in words
