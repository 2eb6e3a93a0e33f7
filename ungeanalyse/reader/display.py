"""Putting reader output into a notebook (and so into the HTML, PDF and Word reports)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .table import ReaderTable


def show(item: ReaderTable | str | None) -> None:
    """Display a reader table, or Markdown text; ``None`` or an empty text shows nothing."""
    if item is None or (isinstance(item, str) and not item.strip()):
        return
    if isinstance(item, str):
        show_markdown(item)
        return
    from IPython.display import HTML, display

    display(HTML(item.as_html()))


def show_table(df: pd.DataFrame, caption: str | None = None, lang: str = "da",
               note: str | None = None) -> None:
    """Display a formatted frame as a reader table."""
    show(ReaderTable(df, caption, lang, note))


def show_markdown(text: str) -> None:
    """Display Markdown text (headings become part of the table of contents)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def show_figure(fig: Any, alt: str | None = None) -> None:
    """Display a matplotlib figure once and close it; its alt text (``alt``, else the one
    ``ua.plot`` gave it) travels in the output's metadata to the HTML, PDF and Word reports."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    alt = alt or getattr(fig, "ua_alt", None)
    display(fig, metadata={"image/png": {"alt": alt}} if alt else None)
    plt.close(fig)


def prose(key: str, lang: str = "da", **params: Any) -> None:
    """Display a notebook's prose from the catalogue (``i18n.t(key, lang, **params)``) as
    Markdown: one cell for both report languages. ``<!-- data:… -->`` spans in it are kept or
    dropped by the unit's declared sources when the report is rendered (in JupyterLab the
    comments are invisible and all of it shows)."""
    from .. import i18n

    show_markdown(i18n.t(key, lang, **params))
