"""What the notebooks show a reader: headings, Danish-formatted tables, and the evaluation text.

Notebooks tell the story; this module turns results into display objects and text, so that the
wording rules (sammenhæng, not virkning; small n said; suppressed cells) live in one place.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from .config import ProjectConfig

TEXT = {
    "da": {
        "rows_in": "Rækker modtaget",
        "clean": "Rene rækker",
        "quarantined": "I karantæne",
        "duplicates": "Dubletter",
        "table": "Tabel",
        "file": "Fil",
        "reason": "Årsag",
        "count": "Antal",
        "participants": "Deltagere",
        "survey_responses": "Spørgeskemasvar (rækker)",
        "steps": "Skridt på vejen",
        "quotes": "Citater og cases",
        "row": "Række",
        "column": "Kolonne",
        "detail": "Hvad er galt",
    },
    "en": {
        "rows_in": "Rows received",
        "clean": "Clean rows",
        "quarantined": "Quarantined",
        "duplicates": "Duplicates",
        "table": "Table",
        "file": "File",
        "reason": "Reason",
        "count": "Count",
        "participants": "Participants",
        "survey_responses": "Survey answers (rows)",
        "steps": "Steps on the way",
        "quotes": "Quotes and cases",
        "row": "Row",
        "column": "Column",
        "detail": "What is wrong",
    },
}


def t(key: str, lang: str = "da") -> str:
    """A UI word in the report language."""
    return TEXT.get(lang, TEXT["da"]).get(key, key)


def _fmt_cell(value: Any, lang: str) -> str:
    from .fmt import fmt_float, fmt_int

    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "–"
    if isinstance(value, bool):
        return ("ja" if value else "nej") if lang == "da" else ("yes" if value else "no")
    if isinstance(value, int) or (hasattr(value, "is_integer") and float(value).is_integer()
                                  and not isinstance(value, str)):
        return fmt_int(int(value), lang)
    if isinstance(value, float):
        return fmt_float(value, 1, lang)
    return html.escape(str(value))


def html_table(df: pd.DataFrame, caption: str | None = None, lang: str = "da",
               note: str | None = None) -> str:
    """A plain HTML table with Danish number formats, numbers right-aligned, optional note."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for v in r.tolist():
            numeric = isinstance(v, int | float) and not isinstance(v, bool)
            style = ' class="num"' if numeric else ""
            cells.append(f"<td{style}>{_fmt_cell(v, lang)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    foot = f'<p class="table-note">{html.escape(note)}</p>' if note else ""
    return (f'<table class="ua-table">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>{foot}")


def show_table(df: pd.DataFrame, caption: str | None = None, lang: str = "da",
               note: str | None = None) -> None:
    """Display a table in a notebook (and so in the HTML report)."""
    from IPython.display import HTML, display

    display(HTML(html_table(df, caption, lang, note)))


def show_markdown(text: str) -> None:
    """Display Markdown text in a notebook (headings become part of the table of contents)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def show_figure(fig: Any) -> None:
    """Display a matplotlib figure once and close it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    display(fig)
    plt.close(fig)


# -- data quality ---------------------------------------------------------------------------


def quality_overview(quality: dict[str, Any], lang: str = "da") -> pd.DataFrame:
    """Rows in, clean, quarantined and duplicates per table (rows in = the other three)."""
    rows = []
    for name, q in quality["tables"].items():
        if q["rows_in"] == 0 and not q["file_errors"]:
            continue
        rows.append({t("table", lang): t(name, lang), t("rows_in", lang): q["rows_in"],
                     t("clean", lang): q["clean"], t("quarantined", lang): q["quarantined"],
                     t("duplicates", lang): q["duplicates"]})
    return pd.DataFrame(rows)


def quality_by_file(quality: dict[str, Any], lang: str = "da") -> pd.DataFrame:
    """The same counts per source file."""
    rows = []
    for name, q in quality["tables"].items():
        for file, c in q["by_file"].items():
            rows.append({t("table", lang): t(name, lang), t("file", lang): file,
                         t("rows_in", lang): c["rows_in"], t("clean", lang): c["clean"],
                         t("quarantined", lang): c["quarantined"],
                         t("duplicates", lang): c["duplicates"]})
    return pd.DataFrame(rows)


def quality_reasons(quality: dict[str, Any], lang: str = "da") -> pd.DataFrame:
    """Quarantined rows counted by table and reason."""
    rows = [{t("table", lang): t(name, lang), t("reason", lang): reason, t("count", lang): n}
            for name, q in quality["tables"].items() for reason, n in q["by_reason"].items()]
    return pd.DataFrame(rows)


def quarantine_list(quarantine: pd.DataFrame, lang: str = "da") -> pd.DataFrame:
    """The quarantine as a worklist for partners: file, row, column, reason, detail (no CPR)."""
    q = quarantine.sort_values(["table", "source_file", "source_row"])
    return pd.DataFrame({
        t("file", lang): q["source_file"], t("row", lang): q["source_row"].astype(int),
        t("column", lang): q["column"].fillna(""), t("reason", lang): q["reason"],
        t("detail", lang): q["detail"].fillna("")})


def quality_intro(cfg: ProjectConfig, quality: dict[str, Any], lang: str = "da") -> str:
    """One paragraph: project, when the data were cleaned, and how many young people are in."""
    from .fmt import fmt_int

    p = quality["tables"]["participants"]
    n_files = len(p["by_file"])
    if lang == "en":
        return (f"**{cfg.project.name}.** {fmt_int(p['rows_in'], lang)} rows were received in "
                f"{n_files} participant files; {fmt_int(p['clean'], lang)} young people are in "
                f"the clean data (cleaned {quality['generated'][:10]}).")
    return (f"**{cfg.project.name}.** Der er modtaget {fmt_int(p['rows_in'], lang)} rækker i "
            f"{n_files} deltagerfiler; {fmt_int(p['clean'], lang)} unge indgår i de rensede data "
            f"(renset {quality['generated'][:10]}).")


def quality_problems(quality: dict[str, Any], lang: str = "da") -> str:
    """File-level errors, unmapped values, answers read as missing and warnings, as Markdown."""
    da = lang != "en"
    parts = []
    errors = [e for q in quality["tables"].values() for e in q["file_errors"]]
    if errors:
        parts.append("### " + ("Filer, der ikke kunne bruges" if da else "Files that could not "
                                                                         "be used"))
        parts += [f"- {e['error']}" for e in errors]
    unmapped = {(name, col): vals for name, q in quality["tables"].items()
                for col, vals in q["unmapped_values"].items()}
    if unmapped:
        parts.append("### " + ("Værdier, som konfigurationen ikke kender" if da else
                               "Values the config does not know"))
        for (_, col), vals in unmapped.items():
            listed = ", ".join(f"'{v}' ({n})" for v, n in sorted(vals.items()))
            parts.append(f"- `{col}`: {listed}")
    issues = quality.get("cell_issues", [])
    if issues:
        parts.append("### " + ("Svar uden for skalaen (læst som manglende)" if da else
                               "Answers off the scale (read as missing)"))
        parts += [f"- {i['file']}, {'række' if da else 'row'} {i['row']}, `{i['column']}`: "
                  f"{i['problem']}" for i in issues[:50]]
    warnings = [w for q in quality["tables"].values() for w in q["warnings"]]
    if warnings:
        parts.append("### " + ("Advarsler" if da else "Warnings"))
        parts += [f"- {w}" for w in warnings]
    if not parts:
        return "Ingen problemer fundet." if da else "No problems found."
    return "\n".join(parts)


def quality_figures(quality: dict[str, Any]) -> dict[str, Any]:
    """The key data-quality figures for the text notebook (methods and data section)."""
    return {
        name: {k: q[k] for k in ("rows_in", "clean", "quarantined", "duplicates", "by_reason")}
        for name, q in quality["tables"].items()
    } | {"generated": quality["generated"], "key_fingerprint": quality.get("key_fingerprint")}
