"""PDF and Word output, table downloads and the scanner on them (fast: a small notebook)."""

from __future__ import annotations

import datetime as dt
import json

import nbformat
import pandas as pd

from ungeanalyse import privacy
from ungeanalyse.document import document_text, render_documents
from ungeanalyse.render import headline_figures, render_html, table_files, write_index
from ungeanalyse.report import html_table


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
    from pypdf import PdfReader

    pages = PdfReader(pdf).pages
    assert len(pages) >= 3
    cover = pages[0].extract_text()
    assert "AUMI – Alle unge med imidt" in cover and "1. december 2026" in cover
    assert "Indhold" in pages[1].extract_text()  # the table of contents
    assert "Side 1" in pages[1].extract_text()  # numbered from the first page after the cover
    assert "Side 2" in pages[2].extract_text() and "Resumé" in pages[2].extract_text()
    assert "Side" not in cover
    text = document_text(pdf)
    assert "126 (65 %)" in text and "Påbegynde" in text
    from docx import Document

    heads = [p.text for p in Document(str(docx)).paragraphs if p.style.name.startswith("Heading")]
    assert "Resumé" in heads and "Måltal" in heads
    assert "<5" in document_text(docx)


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


def test_index_headline_uses_the_masks(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    maaltal = {
        "n_participants": 195, "goal_met": 126, "goal_met_share_of_participants": 0.646,
        "success": {"rate": 0.646, "ci_low": 0.577, "ci_high": 0.71},
        "breakdowns": {"target_group": [
            {"category": "a", "category_label": "Påbegynde", "n_closed": 120, "rate": 0.483},
            {"category": "b", "category_label": "Fastholde", "n_closed": 75, "rate": 0.907}]},
        "masks": {"group": {"goal_met": False}, "rate": False, "breakdowns": {"target_group": {
            "a": {"n": False, "rate": False}, "b": {"n": True, "rate": True}}}},
    }
    (results / "maaltal.json").write_text(json.dumps(maaltal), encoding="utf-8")
    (results / "cmo.json").write_text(json.dumps({"hypotheses": [
        {"id": "H1", "title": "Fast kontaktperson", "title_en": "Contact person",
         "verdict": "støttet", "verdict_en": "supported"}]}), encoding="utf-8")
    h = headline_figures(results)
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
    results = tmp_path / "results"
    results.mkdir()
    maaltal = {
        "n_participants": 240, "goal_met": 162, "goal_met_share_of_participants": 0.675,
        "success": {"rate": 0.69, "ci_low": 0.63, "ci_high": 0.75},
        "breakdowns": {"target_group": [
            {"category": "p", "category_label": "Påbegynde", "n_participants": 155,
             "n_closed": 151, "goal_met": 92, "rate": 0.609}]},
        "masks": {"group": {"goal_met": False}, "rate": False, "breakdowns": {"target_group": {
            "p": {"n": False, "rate": True, "goal": False}}}},
    }
    (results / "maaltal.json").write_text(json.dumps(maaltal), encoding="utf-8")
    h = headline_figures(results)
    # 92 of 151 closed would give the 4 still active back; 92 of all 155 does not
    assert h["by_target_group"][0] == {"label": "Påbegynde", "n": None, "rate": None,
                                       "share_of_all": 92 / 155, "n_all": 155}
