"""A reader table: a formatted frame with its caption and note, which renders itself.

Reader functions return a :class:`ReaderTable`; JupyterLab shows it through ``_repr_html_``
(as statsmodels' ``Summary`` does), ``display.show`` puts it in the report, and ``as_html`` is
the one place a table becomes HTML (Danish number formats, numbers right-aligned, one mark for
every hidden cell).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

HIDDEN = "–"
"""The one mark every hidden cell shows, whatever the reason (the note says the reasons once)."""

_NUMERIC_TEXT = re.compile(r"^(?=.*[\d–])[<>–\-−\d.,\s%()]*(kr\.)?$")
"""Pre-formatted numbers ("65 %", "25.345.510 kr.", "40–57 %") are right-aligned too."""


def hidden_note(min_cell: int, lang: str) -> str:
    """The note under a table with hidden cells: what the one mark means, said once."""
    from .. import i18n

    return i18n.t("common.hidden_note", lang, mark=HIDDEN, min_cell=min_cell)


def fmt_cell(value: Any, lang: str) -> str:
    """One table cell as text: numbers in the report language's format, missing as the mark."""
    from ..fmt import fmt_float, fmt_int

    if value is None or (isinstance(value, float) and pd.isna(value)):
        return HIDDEN
    if isinstance(value, bool):
        from .. import i18n

        return i18n.t("ui.yes" if value else "ui.no", lang)
    if isinstance(value, int) or (hasattr(value, "is_integer") and float(value).is_integer()
                                  and not isinstance(value, str)):
        return fmt_int(int(value), lang)
    if isinstance(value, float):
        return fmt_float(value, 1, lang)
    return html.escape(str(value))


def html_table(df: pd.DataFrame, caption: str | None = None, lang: str = "da",
               note: str | None = None) -> str:
    """A plain HTML table with the language's number formats, numbers right-aligned, optional
    note; a table without rows is only its caption and note (an empty grid says nothing)."""
    if df.empty:
        cap = f"<p><strong>{html.escape(caption)}</strong></p>" if caption else ""
        return cap + (f'<p class="table-note">{html.escape(note)}</p>' if note else "")
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for _, r in df.iterrows():
        cells = []
        for v in r.tolist():
            numeric = (isinstance(v, int | float) and not isinstance(v, bool)) or (
                isinstance(v, str) and _NUMERIC_TEXT.match(v) is not None)
            style = ' class="num"' if numeric else ""
            cells.append(f"<td{style}>{fmt_cell(v, lang)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    foot = f'<p class="table-note">{html.escape(note)}</p>' if note else ""
    return (f'<table class="ua-table">{cap}<thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>{foot}")


@dataclass
class ReaderTable:
    """A table as readers see it: cells already formatted and masked, a caption, a note."""

    frame: pd.DataFrame
    caption: str | None = None
    lang: str = "da"
    note: str | None = None

    def as_html(self) -> str:
        """The table as HTML, the way every report shows it."""
        return html_table(self.frame, self.caption, self.lang, self.note)

    def _repr_html_(self) -> str:  # JupyterLab shows a reader table without a call
        return self.as_html()

    def __iter__(self) -> Iterator[Any]:
        """``frame, caption, lang, note``: the tuple the older ``show_table(*…)`` calls take."""
        return iter((self.frame, self.caption, self.lang, self.note))

    def __len__(self) -> int:
        return len(self.frame)
