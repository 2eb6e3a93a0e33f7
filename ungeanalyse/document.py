"""PDF and Word versions of a reader's report, for funders and evaluators who do not read HTML.

The executed notebook is rendered without code to plain HTML (nbconvert's ``basic`` template,
figures embedded), which pandoc reads. pandoc writes the Word document (.docx, editable, with a
table of contents field) and Typst markup; Typst turns that into the PDF with a cover page, a
table of contents with page numbers, page numbers and Danish hyphenation. Both engines come as
binary wheels from PyPI (``pypandoc-binary``, ``typst``): no LaTeX and no system packages.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from pathlib import Path
from typing import Any

MIN_TOC_ENTRIES = 2
"""A document gets a table of contents (its own page in the PDF) only with at least this many
sections: the pixi's one section needs none."""

_TYPST_PREAMBLE = """\
#set document(title: "{title}")
#set text(lang: "{lang}", hyphenate: true, size: 10.5pt)
#set par(justify: true)
#set heading(numbering: none)
#show heading: it => block(breakable: false, sticky: true, it)
#show figure: set block(breakable: true)
#show figure.where(kind: table): it => {{
  let t = if it.body.func() == align {{ it.body.body }} else {{ it.body }}
  let cols = if t.func() != table {{ 1 }} else if type(t.columns) == int {{ t.columns }} else {{
    calc.max(1, t.columns.len()) }}
  let rows = if t.func() == table {{ t.children.len() / cols }} else {{ 0 }}
  block(breakable: rows > 25, it)  // a short table moves whole to the next page
}}
#set table.cell(breakable: false)
#show figure.where(kind: table): set figure.caption(position: top)
#show table: set text(size: 8.5pt)
#set table(stroke: (x: none, y: 0.4pt + luma(180)), inset: 4pt)
#set image(width: 100%)
#set page(paper: "a4", margin: (x: 20mm, y: 22mm))
#page(numbering: none)[
  #v(30%)
  #text(size: 24pt, weight: "bold")[{project}]
  #v(6mm)
  #text(size: 16pt)[{title}]
  #v(1fr)
  #text(size: 12pt)[{date}]
  #v(4mm)
  #text(size: 8pt, fill: luma(90))[{made}]
]
#set page(numbering: "1", footer: context align(center, text(size: 9pt)[
  {page} #counter(page).display()]))
#counter(page).update(1)
{outline}"""

_OUTLINE = """#outline(title: "{toc}", depth: 2)
#pagebreak()
"""


def _sections(html: str) -> int:
    """How many sections (level 1 and 2 headings) a document body has."""
    return len(re.findall(r"<h[12]\b", html))


def _typst_string(text: str) -> str:
    """Text for a Typst content block or string: markup characters escaped."""
    return re.sub(r"([\\#\[\]\"$*_`<>@])", r"\\\1", text)


def _align_numbers(html: str) -> str:
    """Tables for pandoc: a column whose filled cells are mostly numbers (``td.num`` or a
    number as text, e.g. from a Markdown table) is right-aligned, header included; pandoc reads
    alignment from the cells' style, not from a class. An all-empty header row is dropped."""
    from bs4 import BeautifulSoup

    from .reader.table import _NUMERIC_TEXT

    def numeric(cell: Any) -> bool:
        text = cell.get_text(" ", strip=True)
        return "num" in (cell.get("class") or []) or bool(_NUMERIC_TEXT.match(text))

    def one(match: re.Match[str]) -> str:
        soup = BeautifulSoup(match.group(0), "html.parser")
        for head in soup.find_all("thead"):
            if not head.get_text(strip=True):
                head.decompose()
        rows = [r.find_all(["td", "th"], recursive=False) for r in soup.find_all("tr")]
        body = [r for r in rows if r and all(c.name == "td" for c in r)]
        spans = any(c.get("colspan") or c.get("rowspan") for r in rows for c in r)
        for col in range(max((len(r) for r in rows), default=0)):
            cells = [r[col] for r in body if col < len(r) and r[col].get_text(strip=True)]
            nums = [c for c in cells if numeric(c)]
            whole = not spans and cells and 2 * len(nums) >= len(cells)
            for cell in ([r[col] for r in rows if col < len(r)] if whole else nums):
                cell["style"] = "text-align: right"
        return str(soup)

    return re.sub(r"<table\b.*?</table>", one, html, flags=re.S)


_BEFORE_UNIT = re.compile(r"(?<=\d) (?=%|kr\.|procentpoint)|(?<=\bDKK) (?=\d)|(?<=\d\.) (?="
                          r"(?:januar|februar|marts|april|maj|juni|juli|august|september|"
                          r"oktober|november|december)\b)")
"""Spaces that must not break a line: '65 %', '25.345.510 kr.', 'DKK 5', '1. december'."""


_QUOTED = re.compile(r"(?<![\w&])([\"'])(?=\S)([^\"'<>\n]+?)(?<=\S)\1(?!\w)")
"""A word or phrase in straight quotes ('% af alle deltagere', "Forskellen i konteksten")."""


def _keep_together(html: str, lang: str = "da") -> str:
    """Typography of the text (tags and embedded images untouched): non-breaking spaces in
    number-unit pairs, and straight quotes as the language's quotation marks (»« in Danish)."""
    from . import i18n

    marks = i18n.t("evaluation.document.quotes", i18n.known(lang))

    def quote(m: re.Match[str]) -> str:
        left, right = marks[:2] if m.group(1) == '"' else marks[2:]
        return f"{left}{m.group(2)}{right}"

    parts = re.split(r"(<[^>]*>)", html)
    return "".join(p if p.startswith("<") else _QUOTED.sub(quote, _BEFORE_UNIT.sub("\u00a0", p))
                   for p in parts)


def notebook_html(nb: Any, lang: str) -> str:
    """The notebook's outputs and prose as plain HTML (no code, figures embedded)."""
    from nbconvert import HTMLExporter

    from .render import _clean_outputs

    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True, embed_images=True)
    body, _ = exporter.from_notebook_node(_clean_outputs(nb, lang))
    body = re.sub(r"<style.*?</style>|<script.*?</script>", "", body, flags=re.S)
    return body.replace("¶", "")


def render_documents(nb: Any, pdf: str | Path, docx: str | Path, title: str, project: str,
                     lang: str = "da", date: dt.date | None = None) -> tuple[Path, Path]:
    """Write an executed notebook as a PDF (via Typst) and an editable Word document."""
    import pypandoc
    import typst

    from . import fmt, i18n
    from .io import atomic_write

    date = date or dt.date.today()
    words = {k: i18n.t(f"evaluation.document.{k}", lang) for k in ("toc", "page", "made")}
    when = fmt.fmt_date(date, lang=lang)
    # the title is on the cover page (PDF) and in the title block (Word): drop the notebook's own
    source = re.sub(r"<h1\b.*?</h1>", "", notebook_html(nb, lang), count=1, flags=re.S)
    source = _keep_together(_align_numbers(source), lang)
    toc = _sections(source) >= MIN_TOC_ENTRIES
    with tempfile.TemporaryDirectory(prefix="ua-doc-") as tmp:
        work = Path(tmp)
        meta = [f"--metadata=title:{title}", f"--metadata=subtitle:{project}",
                f"--metadata=date:{when}", f"--metadata=lang:{lang}"]
        body = pypandoc.convert_text(source, "typst", format="html",
                                     extra_args=[f"--extract-media={work}", "--wrap=preserve"])
        body = body.replace(f'"{work}/', '"')  # paths relative to the .typ
        body = body.replace("align(center)[#table(", "align(left)[#table(")  # text reads left
        preamble = _TYPST_PREAMBLE.format(
            title=_typst_string(title), project=_typst_string(project), date=when, lang=lang,
            made=_typst_string(words["made"]), page=words["page"],
            outline=_OUTLINE.format(toc=words["toc"]) if toc else "")
        typ = work / "report.typ"
        typ.write_text(preamble + body, encoding="utf-8")
        pdf_bytes = typst.compile(str(typ), root=str(work))
        pdf_path = atomic_write(pdf, lambda p: p.write_bytes(pdf_bytes))
        out = work / "report.docx"
        pypandoc.convert_text(source, "docx", format="html", outputfile=str(out),
                              extra_args=[*(["--toc", "--toc-depth=2"] if toc else []), *meta])
        docx_bytes = out.read_bytes()
        docx_path = atomic_write(docx, lambda p: p.write_bytes(docx_bytes))
    for p in (pdf_path, docx_path):
        p.chmod(0o644)
    return pdf_path, docx_path


def write_deliverables(nb: Any, spec: dict[str, Any], html: Path, executed: Path
                       ) -> tuple[list[Path], str | None]:
    """The runner's PDF, Word and index headline for a final text of unit ``all``.

    Returns the files written and an error message when PDF/Word failed (the HTML stands)."""
    from .render import write_headline

    files: list[Path] = []
    if spec["name"] == "04_slutevaluering":  # the index's headline figures
        out = spec["params"].get("output_dir")
        results = Path(out) if out else executed.parents[2] / "results" / "all"
        headline = write_headline(results, html.parent.parent / "headline.json")
        files += [headline] if headline else []
    title, _, project = spec["title"].partition(" – ")
    try:
        files += render_documents(nb, html.with_suffix(".pdf"), html.with_suffix(".docx"),
                                  title=title, project=project or title, lang=spec["lang"])
    except Exception as exc:  # the HTML stands; say why there is no PDF/Word
        return files, f"PDF/Word: {type(exc).__name__}: {str(exc)[:200]}"
    return files, None


def pdf_pages(path: str | Path) -> list[str]:
    """The text of each page of a PDF (PDFium: a tenth of the time of a pure-Python reader,
    which the privacy scan of every report felt), lines ending in ``\n`` and a word that
    Typst hyphenated at a line's end whole again, so that the scanner sees a name split
    there as one word."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        pages = []
        for page in doc:
            textpage = page.get_textpage()
            pages.append(textpage.get_text_bounded().replace("\x02", "").replace("\r\n", "\n"))
            textpage.close()
            page.close()
        return pages
    finally:
        doc.close()


def document_text(path: str | Path) -> str:
    """The text of a PDF or .docx, for the privacy scanner and the tests."""
    path = Path(path)
    if path.suffix.lower() == ".pdf":
        return "\n".join(pdf_pages(path)).replace("\u00a0", " ")
    from docx import Document

    doc = Document(str(path))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append("\t".join(c.text for c in row.cells))
    return "\n".join(parts).replace("\u00a0", " ")
