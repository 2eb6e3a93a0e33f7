"""HTML for readers: executed notebooks without code, with a table of contents, print styles
and a provenance footer, plus ``reports/index.html`` linking every unit of every project.

The HTML is self-contained (figures embedded, no scripts fetched from the internet), so a report
can be mailed or opened offline, and it prints cleanly on A4.
"""

from __future__ import annotations

import functools
import html
import json
import re
from pathlib import Path
from typing import Any

CSS = """
<style id="ungeanalyse">
  body { max-width: 60rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
  .jp-Notebook { padding: 0 !important; }
  .jp-Cell { padding: 0 !important; }
  .jp-OutputArea-output table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
  .jp-OutputArea-output th, .jp-OutputArea-output td { padding: .25rem .6rem;
    border-bottom: 1px solid #ddd; }
  .jp-OutputArea-output caption { caption-side: top; text-align: left; font-weight: 600;
    padding: .25rem 0; }
  .jp-OutputArea-output { overflow-x: auto; }
  table.ua-table { font-size: .85rem; }
  table.ua-table th, table.ua-table td { text-align: left !important; vertical-align: top; }
  table.ua-table td.num { text-align: right !important; font-variant-numeric: tabular-nums; }
  p.table-note { font-size: .85rem; color: #444; margin-top: -.5rem; }
  nav.ua-toc { background: #f5f7fa; border: 1px solid #dde3ea; border-radius: 6px;
    padding: .6rem 1.2rem; margin: 1rem 0 1.5rem; font-size: .92rem; }
  nav.ua-toc ol { margin: .2rem 0; padding-left: 1.2rem; }
  nav.ua-toc .ua-h3 { margin-left: 1rem; }
  footer.ua-provenance { margin-top: 3rem; padding-top: .6rem; border-top: 1px solid #ccc;
    font-family: var(--jp-ui-font-family, system-ui, sans-serif);
    color: #555; font-size: .8rem; }
  footer.ua-provenance dl { display: grid; grid-template-columns: max-content 1fr;
    gap: .1rem 1rem; margin: 0; }
  a.anchor-link { display: none; }
  p.ua-download { margin: -.6rem 0 1rem; font-size: .8rem; }
  @media print {
    @page { size: A4; margin: 18mm 16mm; }
    body { max-width: none; padding: 0; font-size: 10.5pt; }
    .jp-OutputArea-output { overflow: visible; }
    table.ua-table { font-size: 8.5pt; }
    nav.ua-toc { break-after: page; background: none; border: none; }
    img { max-width: 100% !important; break-inside: avoid; }
    table, figure { break-inside: avoid; }
    h1, h2, h3 { break-after: avoid; }
    a { color: inherit; text-decoration: none; }
    p.ua-download { display: none; }
  }
</style>
"""

def _w(key: str, lang: str | None, **params: Any) -> str:
    """A word of the report pages and the index (catalogue section ``page``)."""
    from . import i18n

    return i18n.t(f"page.{key}", i18n.known(lang), **params)


_HEADING = re.compile(r"<h([1-3])([^>]*)>(.*?)</h\1>", re.S)
_EXTERNAL_SCRIPT = re.compile(r"<script[^>]+src=\"https?://[^\"]+\"[^>]*>\s*</script>\s*", re.S)
_REMOTE_MODULE = re.compile(r"<script type=\"module\">(?:(?!</script>).)*?https://(?:(?!</script>)"
                            r".)*</script>\s*", re.S)
_MATHJAX_CONFIG = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->",
                             re.S)


def _clean_outputs(nb: Any, lang: str | None = None) -> Any:
    """A copy without warnings on stderr, code, prompts or the papermill parameter cells.

    A notebook's prose comes from the catalogue in the report's language (a code cell showing
    ``reader.display.prose``); an older Markdown cell whose metadata says ``"lang": "da"`` or
    ``"lang": "en"`` is kept only in a report in that language. Prose marked
    ``<!-- data:… -->``, in a Markdown cell or a Markdown output, is kept only when the
    notebook declared that source (``ungeanalyse.sources``).
    """
    import copy

    from .sources import declared, filter_markdown, is_marker

    nb = copy.deepcopy(nb)
    sources = declared(nb)  # prose that needs a source the unit lacks is left out
    keep = []
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if "injected-parameters" in tags or "parameters" in tags:
            continue
        cell_lang = cell.get("metadata", {}).get("lang")
        if lang is not None and cell_lang is not None and cell_lang != lang:
            continue
        if cell.cell_type == "code":
            cell.outputs = [_with_alt(o, lang) for o in cell.get("outputs", [])
                            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                            and not is_marker(o)]
            # prose shown from code (``reader.display.prose``) keeps its source spans too
            cell.outputs = [o for o in (_filter_prose(o, sources) for o in cell.outputs) if o]
            if not cell.outputs:
                continue
        elif cell.cell_type == "markdown":
            cell.source = filter_markdown(cell.source, sources)
            if not cell.source.strip():
                continue
        keep.append(cell)
    nb.cells = keep
    return nb


def _filter_prose(output: Any, sources: set[str] | None) -> Any:
    """A Markdown output with its ``<!-- data:… -->`` spans kept or dropped by the declared
    sources (None when nothing is left of it)."""
    from .sources import filter_markdown

    data = output.get("data", {})
    if "text/markdown" not in data:
        return output
    text = filter_markdown("".join(data["text/markdown"]), sources)
    if not text.strip():
        return None
    data["text/markdown"] = text
    return output


def _with_alt(output: Any, lang: str | None) -> Any:
    """A figure output as an <img> with its alt text and shown width (from
    ``reader.display.show_figure``'s metadata; nbconvert would write an English placeholder),
    so every report format says what it shows."""
    from . import i18n

    data = output.get("data", {})
    if "image/png" not in data:
        return output
    meta = output.get("metadata", {}).get("image/png", {})
    alt = meta.get("alt")
    width = f' width="{int(meta["width"])}"' if meta.get("width") else ""
    if not alt:
        lang = i18n.known(lang)
        alt = i18n.t("alt.figure", lang, what=i18n.t("alt.unnamed", lang))
    png = "".join(data["image/png"]).replace("\n", "")
    data["text/html"] = (f'<img src="data:image/png;base64,{png}"{width} '
                         f'alt="{html.escape(alt)}">')
    del data["image/png"]
    return output


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^\wæøå-]+", "-", text.lower()).strip("-") or "afsnit"
    slug, i = base, 2
    while slug in used:
        slug, i = f"{base}-{i}", i + 1
    used.add(slug)
    return slug


def add_toc(body: str, lang: str = "da") -> str:
    """Give every h1–h3 an id and put a linked table of contents after the first h1."""
    used: set[str] = set()
    entries: list[tuple[int, str, str]] = []

    def visit(m: re.Match[str]) -> str:
        level, attrs, inner = int(m.group(1)), m.group(2), m.group(3)
        text = html.unescape(re.sub(r"<[^>]+>", "", inner)).replace("¶", "").strip()
        found = re.search(r'id="([^"]+)"', attrs)
        ident = found.group(1) if found else _slug(text, used)
        used.add(ident)
        if not found:
            attrs = f'{attrs} id="{ident}"'
        entries.append((level, ident, text))
        return f"<h{level}{attrs}>{inner}</h{level}>"

    body = _HEADING.sub(visit, body)
    items = [e for e in entries if e[0] in (2, 3)]
    if len(items) < 2:
        return body
    lis = "".join(f'<li class="ua-h{lv}"><a href="#{html.escape(i)}">{html.escape(t)}</a></li>'
                  for lv, i, t in items)
    nav = (f'<nav class="ua-toc" aria-label="{_w("toc", lang)}"><strong>'
           f'{_w("toc", lang)}</strong><ol>{lis}</ol></nav>')
    first_h1 = re.search(r"</h1>", body)
    if first_h1:
        return body[:first_h1.end()] + nav + body[first_h1.end():]
    return nav + body


def provenance_footer(provenance: dict[str, Any], lang: str = "da") -> str:
    """The footer that says exactly what made this page: config, unit, parameters, versions."""
    rows = []
    for key, value in provenance.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        elif key == "date":  # a date in words, as the report's text writes dates
            from .fmt import fmt_date

            value = fmt_date(value, lang)
        from . import i18n

        label = _w(f"footer.{key}", lang) if i18n.has(f"page.footer.{key}", "da") else key
        rows.append(f"<dt>{html.escape(label)}</dt><dd>{html.escape(str(value))}</dd>")
    return (f'<footer class="ua-provenance"><p>{_w("made", lang)}</p><dl>{"".join(rows)}</dl>'
            "</footer>")


@functools.cache
def html_exporter() -> Any:
    """One nbconvert HTML exporter per process: it compiles its Jinja templates once (about
    0.3 s a page when made anew for every page, as a runner's worker renders many)."""
    from nbconvert import HTMLExporter

    return HTMLExporter(template_name="lab", exclude_input=True, exclude_input_prompt=True,
                        exclude_output_prompt=True, embed_images=True)


def render_html(nb: Any, path: str | Path, title: str, lang: str = "da",
                provenance: dict[str, Any] | None = None) -> Path:
    """Write an executed notebook as a reader's HTML page (no code, TOC, print CSS, footer)."""
    from .io import atomic_write

    exporter = html_exporter()
    nb = _clean_outputs(nb, lang)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    body = _EXTERNAL_SCRIPT.sub("", body)
    body = _MATHJAX_CONFIG.sub("", body)
    body = _REMOTE_MODULE.sub("", body)  # mermaid loader: no diagrams here, no fetches
    body = re.sub(r'<html lang="[^"]*">|<html>', f'<html lang="{lang}">', body, count=1)
    body = body.replace("</head>", CSS + "</head>", 1)
    head_end = body.find("</head>")
    body = body[:head_end] + add_toc(body[head_end:], lang)
    body = body.replace("</body>", provenance_footer(provenance or {}, lang) + "</body>", 1)
    body = attach_table_downloads(body, Path(path), lang)
    path = atomic_write(path, lambda p: p.write_text(body, encoding="utf-8"))
    path.chmod(0o644)  # a report is for readers; the temp file was private
    return path


# -- tables readers can take away -----------------------------------------------------------------

_READER_TABLE = re.compile(r'<table class="ua-table">.*?</table>', re.S)


def table_files(html_path: str | Path) -> list[Path]:
    """The .csv/.xlsx downloads written next to a report page."""
    html_path = Path(html_path)
    return sorted(html_path.parent.glob(f"{html_path.stem}.tabel-*"))


def _table_frame(fragment: str) -> tuple[str, list[str], list[list[str]]]:
    """Caption, header and rows of a reader table, as the reader sees them (text)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(fragment, "html.parser")
    cap = soup.find("caption")
    head = [th.get_text(" ", strip=True) for th in soup.select("thead th")]
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all(["td", "th"])]
            for tr in soup.select("tbody tr")]
    return (cap.get_text(" ", strip=True) if cap else ""), head, rows


def _as_number(text: str, lang: str) -> str | int:
    """A whole number as published ("1.234") becomes a number in Excel; all else stays text."""
    group = _w("thousands", lang)
    if re.fullmatch(r"\d{1,3}(?:" + re.escape(group) + r"\d{3})*", text):
        return int(text.replace(group, ""))
    return text


def attach_table_downloads(body: str, html_path: Path, lang: str = "da") -> str:
    """Write every reader table of a page as .csv and .xlsx next to it and link them.

    The files are made from the published HTML table itself, so they hold exactly what the
    reader sees: hidden cells stay hidden ("<5", "–"), nothing comes from an unmasked frame.
    """
    import csv

    from openpyxl import Workbook

    from .io import atomic_write

    for old in table_files(html_path):
        old.unlink(missing_ok=True)
    label = _w("download", lang)
    n = 0

    def visit(m: re.Match[str]) -> str:
        nonlocal n
        n += 1
        caption, head, rows = _table_frame(m.group(0))
        stem = f"{html_path.stem}.tabel-{n}"
        sep = _w("csv_separator", lang)  # ';' is what a Danish spreadsheet expects

        def write_csv(p: Path) -> None:
            with p.open("w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh, delimiter=sep)
                w.writerow(head)
                w.writerows(rows)

        def write_xlsx(p: Path) -> None:
            wb = Workbook()
            ws = wb.active
            ws.title = _w("sheet", lang)
            if caption:
                ws.append([caption])
            ws.append(head)
            for r in rows:
                ws.append([_as_number(v, lang) for v in r])
            wb.save(p)

        for suffix, writer in ((".csv", write_csv), (".xlsx", write_xlsx)):
            atomic_write(html_path.parent / f"{stem}{suffix}", writer).chmod(0o644)
        links = (f'<p class="ua-download"><small>{label}: '
                 f'<a href="{html.escape(stem)}.csv" download>CSV</a> · '
                 f'<a href="{html.escape(stem)}.xlsx" download>Excel</a></small></p>')
        return m.group(0) + links

    return _READER_TABLE.sub(visit, body)


# -- the index ------------------------------------------------------------------------------------

COLUMNS = ("02_maaltal", "03_hvad_virker_for_hvem", "04_slutevaluering", "04_pixi")
"""The index's columns: one report per column (``page.column.<name>``)."""


def write_index(reports_root: str | Path, lang: str | None = None) -> Path:
    """``reports/index.html``: every project with a manifest, each unit's reports and status.

    The index speaks ``lang``; by default the language of the most recent run."""
    from .files import atomic_write

    reports_root = Path(reports_root)
    manifests, headlines = [], []
    for path in sorted(reports_root.glob("*/manifest.json")):
        try:
            manifests.append(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue
        try:  # written by the runner from the published figures (see write_headline)
            headlines.append(json.loads((path.parent / "headline.json").read_text("utf-8")))
        except (OSError, ValueError):
            headlines.append(None)
    if lang is None:
        latest = max(manifests, key=lambda m: str(m.get("generated", "")), default={})
        lang = latest.get("lang", "da")
    sections = [_project_section(m, lang, h) for m, h in zip(manifests, headlines, strict=True)]
    title, intro = _w("index_title", lang), _w("index_intro", lang)
    page = f"""<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
 body {{ font-family: system-ui, sans-serif; max-width: 64rem; margin: 2rem auto; padding: 0 1rem;
        color: #1c1c1c; }}
 table {{ border-collapse: collapse; width: 100%; margin: .5rem 0 2rem; }}
 th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; }}
 .failed, .withheld {{ color: #a30000; font-weight: 600; }}
 .skipped {{ color: #777; }}
 .pending {{ color: #777; }}
 small {{ color: #555; }}
 .ua-headline {{ background: #f5f7fa; border: 1px solid #dde3ea; border-radius: 6px;
                padding: .2rem 1rem; margin: .5rem 0 1rem; }}
 @media print {{ a {{ color: inherit; }} }}
</style></head>
<body><h1>{title}</h1><p>{intro}</p>
{"".join(sections) or f"<p>{_w('no_reports', lang)}</p>"}
</body></html>
"""
    path = atomic_write(reports_root / "index.html",
                        lambda p: p.write_text(page, encoding="utf-8"))
    path.chmod(0o644)
    return path


def _stored_masks(results_dir: Path) -> dict[str, Any]:
    """The whole project's måltal masks from the disclosure step's ``disclosure_masks.json`` in
    the processed folder (``<processed>/results/all`` lies two levels below it); none found:
    every figure counts as hidden."""
    from .disclosure.plan import MASKS_FILE, _stored

    for folder in (results_dir.parent.parent, results_dir.parent, results_dir):
        path = folder / MASKS_FILE
        if path.exists():
            try:
                return ((_stored(path).get("masks") or {}).get("all") or {}).get("maaltal") or {}
            except (OSError, ValueError, AttributeError):
                break
    return {}


def headline_figures(results_dir: str | Path, masks: dict[str, Any] | None = None
                     ) -> dict[str, Any]:
    """The whole project's headline figures for the index, as the reports publish them.

    Read from the saved ``maaltal.json`` and ``cmo.json`` of unit ``all``; every figure the
    disclosure plan hides in the reports is left out here too (``None``). ``masks`` is the
    whole project's måltal plan (``load_masks(cfg, "all")["maaltal"]``), else the one stored by
    the disclosure step; without either, every maskable figure is left out."""
    results_dir = Path(results_dir)
    m = json.loads((results_dir / "maaltal.json").read_text(encoding="utf-8"))
    masks = masks if masks is not None else _stored_masks(results_dir)
    if not masks:
        masks = {"group": {"goal_met": True}, "rate": True}
    group_hidden = (masks.get("group") or {}).get("goal_met", False)
    rate_hidden = masks.get("rate", False)
    success = m.get("success") or {}
    by_group = []
    tg_masks = (masks.get("breakdowns") or {}).get("target_group") or {}
    for row in (m.get("breakdowns") or {}).get("target_group") or []:
        hide = tg_masks.get(row["category"], {"n": True, "rate": True})
        # where the rate among closed forløb is hidden but goal met and the group's size are
        # published, goal met as a share of everyone in the group
        share = (row["goal_met"] / row["n_participants"]
                 if hide.get("rate") and not hide.get("goal", True) and not hide.get("n")
                 and row.get("n_participants") else None)
        by_group.append({"label": row.get("category_label", row["category"]),
                         "n": None if hide.get("rate") else row.get("n_closed"),
                         "rate": None if hide.get("rate") else row.get("rate"),
                         "share_of_all": share,
                         "n_all": row.get("n_participants") if share is not None else None})
    verdicts = []
    cmo_path = results_dir / "cmo.json"
    if cmo_path.exists():
        for h in json.loads(cmo_path.read_text(encoding="utf-8")).get("hypotheses", []):
            verdicts.append({"id": h["id"], "title": h.get("title", ""),
                             "title_en": h.get("title_en") or h.get("title", ""),
                             "verdict_code": h["verdict_code"]})
    return {
        "participants": m.get("n_participants"),
        "goal_met": None if group_hidden else m.get("goal_met"),
        "goal_met_share": None if group_hidden else m.get("goal_met_share_of_participants"),
        "success_rate": None if rate_hidden else success.get("rate"),
        "success_ci": None if rate_hidden else [success.get("ci_low"), success.get("ci_high")],
        "by_target_group": by_group,
        "hypotheses": verdicts,
    }


def write_headline(results_dir: str | Path, path: str | Path) -> Path | None:
    """Save the headline figures next to a project's reports (None when 02 has not run)."""
    from .io import write_json

    if not (Path(results_dir) / "maaltal.json").exists():
        return None
    return write_json(headline_figures(results_dir), path)


def _headline_html(h: dict[str, Any], lang: str) -> str:
    from .reader.headline import headline_html

    return headline_html(h, lang)


def _project_section(m: dict[str, Any], lang: str, headline: dict[str, Any] | None = None
                     ) -> str:
    """One project in the index: its headline, the data-quality and effect pages, and a row of
    reports per unit."""
    from . import i18n
    from .fmt import fmt_datetime

    tasks = m.get("tasks", {})
    head = "".join(f"<th>{html.escape(_w(f'column.{c}', lang))}</th>" for c in COLUMNS)
    rows = []
    for unit in m.get("units", []):
        name = _w("whole_project", lang) if unit == "all" else m.get("unit_names", {}).get(unit,
                                                                                           unit)
        cells = "".join(_cell(tasks.get(f"{unit}/{col}"), lang) for col in COLUMNS)
        rows.append(f"<tr><th scope=\"row\">{html.escape(name)}</th>{cells}</tr>")
    links = ""
    quality = tasks.get("all/01_rens_data")
    if quality and quality.get("html"):
        # the data-quality page lists quarantined rows one by one: for the evaluator and the
        # partners (who have the files), not for publication next to the reports
        links = (f'<p><a href="{_href(quality["html"])}">{_w("quality_page", lang)}</a> '
                 f'<small>({_status(quality["status"], lang)}; {_w("internal", lang)})'
                 f'</small></p>')
    effect = tasks.get("all/05_virkning")
    if effect and effect.get("html"):  # effects against a register comparison group
        links += (f'<p><a href="{_href(effect["html"])}">{_w("effect_page", lang)}</a> '
                  f'<small>({_status(effect["status"], lang)})</small></p>')
    when = html.escape(fmt_datetime(m.get("generated") or None, lang))
    head_html = _headline_html(headline, lang) if headline else ""
    return (f"<h2>{html.escape(m.get('name', m.get('project', '')))}</h2>{head_html}{links}"
            f"<table><thead><tr><th>{_w('unit', lang)}</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            f"<p><small>{i18n.t('when.last_run', lang)} {when}; "
            f"{_w('config', lang)} {html.escape(m.get('config', ''))}; "
            f"ungeanalyse {html.escape(m.get('package_version', ''))}.</small></p>")


def _status(status: str, lang: str) -> str:
    from . import i18n

    return i18n.t_or(f"page.status.{status}", lang, status)


def _href(path: str) -> str:
    """Links relative to the index: manifests store report paths relative to the reports
    folder (older ones relative to the repository root, with a leading 'reports/')."""
    return html.escape(path.removeprefix("reports/"))


def _cell(t: dict[str, Any] | None, lang: str) -> str:
    """One report's cell in the index: a link and its status, or why there is none."""
    if t is None:
        return f'<td class="pending">{_status("skipped", lang)}</td>'
    status = t.get("status", "")
    label = html.escape(_status(status, lang))
    if t.get("html") and status in ("ran", "cached"):
        docs = "".join(f' · <a href="{_href(d)}">{Path(d).suffix.lstrip(".").upper()}</a>'
                       for d in t.get("documents") or [])
        return (f'<td><a href="{_href(t["html"])}">{_w("open", lang)}</a>{docs} '
                f"<small>({label})</small></td>")
    err = f"<br><small>{html.escape(t['error'])}</small>" if t.get("error") else ""
    return f'<td class="{html.escape(status)}">{label}{err}</td>'
