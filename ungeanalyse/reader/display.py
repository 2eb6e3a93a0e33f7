"""Putting reader output into a notebook (and so into the HTML, PDF and Word reports)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from .table import ReaderTable


def show(item: ReaderTable | str | list[Any] | None) -> None:
    """Display a reader table, or Markdown text, or each of a list of them; ``None`` or an
    empty text shows nothing."""
    if isinstance(item, list | tuple):
        for one in item:
            show(one)
        return
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


def draw(plot: Callable[..., Any], data: Any, lang: str) -> Any:
    """``plot(data, lang=lang)``, or None when a reader function gave no input (nothing to
    draw: ``results.ResultStore.save_figure`` then removes an earlier run's figure)."""
    return None if data is None else plot(data, lang=lang)


def show_markdown(text: str) -> None:
    """Display Markdown text (headings become part of the table of contents)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


def show_figure(fig: Any, alt: str | None = None) -> None:
    """Display a matplotlib figure once and close it; its alt text (``alt``, else the one
    ``ua.plot`` gave it) travels in the output's metadata to the HTML, PDF and Word reports.
    ``None`` (nothing drawn, :func:`draw`) shows nothing."""
    if fig is None:
        return
    import matplotlib.pyplot as plt
    from IPython.display import display

    alt = alt or getattr(fig, "ua_alt", None)
    png = getattr(fig, "ua_png", None)
    if png is None:
        display(fig, metadata={"image/png": {"alt": alt}} if alt else None)
    else:  # saved a moment ago (ResultStore.save_figure): show those bytes, not a second drawing
        meta = {"width": _shown_width(png)} | ({"alt": alt} if alt else {})
        import base64

        display({"image/png": base64.b64encode(png).decode("ascii")}, raw=True,
                metadata={"image/png": meta})
    plt.close(fig)


def _shown_width(png: bytes) -> int:
    """The width in pixels a saved PNG is shown at: the size the notebook's own drawing has
    (matplotlib's 100 dpi), not the saved file's (``results.SAVE_DPI``)."""
    import struct

    from ..results import SAVE_DPI

    width = struct.unpack(">I", png[16:20])[0]  # the IHDR chunk's width
    return round(width * 100 / SAVE_DPI)


def prose(key: str, lang: str = "da", **params: Any) -> None:
    """Display a notebook's prose from the catalogue (``i18n.t(key, lang, **params)``) as
    Markdown: one cell for both report languages. ``<!-- data:… -->`` spans in it are kept or
    dropped by the unit's declared sources when the report is rendered (in JupyterLab the
    comments are invisible and all of it shows)."""
    from .. import i18n

    show_markdown(i18n.t(key, lang, **params))
