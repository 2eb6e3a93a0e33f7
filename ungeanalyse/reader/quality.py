"""Data quality for readers (notebook 01, an internal page for the evaluator and the partners):
rows received, cleaned and quarantined, the worklist of quarantined rows, and what the clean
stage could not map, from ``quality.json`` and ``quarantine.parquet``.

These are counts of rows, not of young people's outcomes, so no disclosure plan covers them;
the one count that could describe a person (how often an unknown value was typed) is hidden
under the limit with the one mark, and the list's note says so once. Wording: the catalogue's
``ui``, ``quality``, ``reason`` and ``warning`` sections.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from .. import i18n
from ..config import ProjectConfig
from ..fmt import fmt_date, fmt_int
from .table import HIDDEN, ReaderTable


def _ui(key: str, lang: str) -> str:
    return i18n.t_or(f"ui.{key}", lang, key)


def _counts(c: dict[str, Any], lang: str) -> dict[str, Any]:
    return {_ui("rows_in", lang): c["rows_in"], _ui("clean", lang): c["clean"],
            _ui("quarantined", lang): c["quarantined"], _ui("duplicates", lang): c["duplicates"]}


def overview(quality: dict[str, Any], lang: str) -> ReaderTable:
    """Rows in, clean, quarantined and duplicates per table (rows in = the other three)."""
    rows = [{_ui("table", lang): _ui(name, lang), **_counts(q, lang)}
            for name, q in quality["tables"].items()
            if q["rows_in"] or q["file_errors"]]
    return ReaderTable(pd.DataFrame(rows), _ui("rows_per_table", lang), lang)


def by_file(quality: dict[str, Any], lang: str) -> ReaderTable:
    """The same counts per source file."""
    rows = [{_ui("table", lang): _ui(name, lang), _ui("file", lang): file, **_counts(c, lang)}
            for name, q in quality["tables"].items() for file, c in q["by_file"].items()]
    return ReaderTable(pd.DataFrame(rows), _ui("rows_per_file", lang), lang)


def reasons(quality: dict[str, Any], lang: str) -> ReaderTable:
    """Quarantined rows counted by table and reason."""
    rows = [{_ui("table", lang): _ui(name, lang), _ui("reason", lang): i18n.reason(reason, lang),
             _ui("count", lang): n}
            for name, q in quality["tables"].items() for reason, n in q["by_reason"].items()]
    return ReaderTable(pd.DataFrame(rows), _ui("reasons", lang), lang)


def worklist_frame(quarantine: pd.DataFrame, lang: str, detail: bool = False) -> pd.DataFrame:
    """The quarantine as a worklist for partners: file, row, column and reason (no CPR).

    The detail (the offending value: an age, a date, a status as typed) describes one young
    person's row, so the report leaves it out; the partner sees it in the file at that row,
    and the evaluator in ``quarantine.parquet``. ``detail=True`` adds it for work in Python.
    """
    q = quarantine.sort_values(["table", "source_file", "source_row"])
    out = pd.DataFrame({
        _ui("file", lang): q["source_file"], _ui("row", lang): q["source_row"].astype(int),
        _ui("column", lang): q["column"].fillna(""),
        _ui("reason", lang): q["reason"].map(lambda r: i18n.reason(r, lang))})
    if detail:
        out[_ui("detail", lang)] = q["detail"].map(lambda d: i18n.word(d, lang),
                                                   na_action="ignore").fillna("")
    return out


def location(cfg: ProjectConfig, lang: str) -> str:
    """Where the quarantined values are, as the real path of ``quarantine.parquet`` (relative
    to the project's folder when it lies inside it), for the note under the worklist."""
    path = cfg.processed_dir / "quarantine.parquet"
    base = cfg.root or (cfg.source_path.parent if cfg.source_path else None)
    shown = str(path)
    if base is not None:
        rel = os.path.relpath(path, base)
        shown = shown if rel.startswith("..") else rel
    return i18n.t("quality.quarantine_file", lang, path=shown.replace(os.sep, "/"))


def worklist(quarantine: pd.DataFrame, cfg: ProjectConfig, lang: str) -> ReaderTable:
    """The worklist as a reader table, with where the values are as its note."""
    return ReaderTable(worklist_frame(quarantine, lang), _ui("worklist", lang), lang,
                       location(cfg, lang))


def intro(cfg: ProjectConfig, quality: dict[str, Any], lang: str) -> str:
    """One paragraph: project, when the data were cleaned, and how many young people are in."""
    p = quality["tables"]["participants"]
    return i18n.t("quality.intro", lang, name=cfg.project.tr("name", lang),
                  rows=fmt_int(p["rows_in"], lang), files=len(p["by_file"]),
                  clean=fmt_int(p["clean"], lang), date=fmt_date(quality["generated"], lang))


def problems(quality: dict[str, Any], cfg: ProjectConfig, lang: str) -> str:
    """File-level errors, unmapped values (a count under the limit as the one mark: next to
    the worklist's row it would say what one young person's row holds), where answers were
    read as missing (where, not what), and warnings, as Markdown."""
    k = cfg.privacy.min_cell
    parts = []
    errors = [e for q in quality["tables"].values() for e in q["file_errors"]]
    if errors:
        parts += ["### " + i18n.t("quality.files_unusable", lang),
                  *[f"- {i18n.word(e.get('message') or e['error'], lang)}" for e in errors]]
    unmapped = [(col, vals) for q in quality["tables"].values()
                for col, vals in q["unmapped_values"].items()]
    if unmapped:
        parts.append("### " + i18n.t("quality.unmapped", lang))
        hidden = False
        for col, vals in unmapped:
            cells = []
            for v, n in sorted(vals.items()):
                hidden |= 0 < n < k
                cells.append(f"'{v}' ({fmt_int(n, lang) if n >= k else HIDDEN})")
            parts.append(f"- `{col}`: {', '.join(cells)}")
        if hidden:
            parts.append("\n" + i18n.t("quality.unmapped_note", lang, mark=HIDDEN, min_cell=k))
    issues = quality.get("cell_issues", [])
    if issues:
        parts.append("### " + i18n.t("quality.off_scale", lang))
        parts += [f"- {i['file']}, {i18n.t('quality.row', lang)} {i['row']}, `{i['column']}`"
                  for i in issues[:50]]
    warnings = [w for q in quality["tables"].values() for w in q["warnings"]]
    if warnings:
        parts += ["### " + i18n.t("quality.warnings", lang),
                  *[f"- {i18n.word(w, lang)}" for w in warnings]]
    return "\n".join(parts) if parts else i18n.t("quality.no_problems", lang)


def figures(quality: dict[str, Any]) -> dict[str, Any]:
    """The key data-quality figures the evaluation text reads (saved as ``datakvalitet``)."""
    return {
        name: {k: q[k] for k in ("rows_in", "clean", "quarantined", "duplicates", "by_reason")}
        for name, q in quality["tables"].items()
    } | {"generated": quality["generated"], "key_fingerprint": quality.get("key_fingerprint")}


def sentence(figures: dict[str, Any] | None, lang: str) -> str:
    """The evaluation text's sentence on the data: rows sent, cleaned, quarantined and
    duplicates ('' without the figures)."""
    if not figures:
        return ""
    p = figures["participants"]
    dups = i18n.t("quality.duplicates_one" if p["duplicates"] == 1 else
                  "quality.duplicates_many", lang, n=fmt_int(p["duplicates"], lang))
    return i18n.t("quality.sentence", lang, rows=fmt_int(p["rows_in"], lang),
                  clean=fmt_int(p["clean"], lang),
                  quarantined=fmt_int(p["quarantined"], lang), duplicates=dups)


def loss_table(masks: dict[str, Any], cfg: ProjectConfig, lang: str) -> ReaderTable:
    """What the disclosure plan costs readers: per report, figures hidden of figures its
    tables publish (``disclosure.information_loss``), for the data-quality page."""
    from ..disclosure import information_loss
    from ..fmt import fmt_pct
    from ..units import label

    def q(key: str, **params: Any) -> str:
        return i18n.t(f"quality.{key}", lang, **params)

    rows = []
    for unit in cfg.units():
        total = ((masks.get(unit) or {}).get("loss") or information_loss(masks.get(unit)))["all"]
        rows.append({q("loss_report"): label(cfg, unit, lang),
                     q("loss_cells"): fmt_int(total["cells"], lang),
                     q("loss_hidden"): fmt_int(total["hidden"], lang),
                     q("loss_share"): fmt_pct(total["share"], 1, lang)})
    return ReaderTable(pd.DataFrame(rows), q("loss_caption"), lang, q("loss_note", mark=HIDDEN))
