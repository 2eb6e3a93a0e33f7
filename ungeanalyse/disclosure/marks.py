"""How a hidden figure reads: one mark for every hidden cell, the reasons said once per table.

A mark that told a small count from a partner hidden to protect one would be a side channel
(it says the count is 1..min_cell-1), so every hidden figure shows ``HIDDEN_MARK`` and no text
says why that one figure is hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from .solver import primary_mask

HIDDEN_MARK = "–"
"""The one mark of a hidden cell, whatever the reason it is hidden (a mark that told a small
count from a partner would be a side channel); the reasons are in the table's note."""


def hidden_count_text(value: Any, min_cell: int) -> str:
    """How a hidden count reads: the one mark, small count or partner alike."""
    return HIDDEN_MARK


def render_counts(counts: Iterable[Any], mask: Iterable[bool], min_cell: int, lang: str = "da"
                  ) -> list[str]:
    """Counts as reader text: Danish thousands separators, hidden cells as '–'."""
    from ..fmt import fmt_int

    return [hidden_count_text(n, min_cell) if h else fmt_int(int(n), lang)
            for n, h in zip(counts, mask, strict=True)]


def render_masked(values: Iterable[Any], mask: Iterable[bool], fmt: Callable[[Any], str]
                  ) -> list[str]:
    """Any values (shares, intervals) as text with hidden cells shown as '–'."""
    return ["–" if h else fmt(v) for v, h in zip(values, mask, strict=True)]


def count_text(n: int | None, min_cell: int, lang: str = "da", hidden: bool = False) -> str:
    """A person count for running text: the number, or the catalogue's "nogle" / "some" when it
    is hidden, because it is under the disclosure limit or because the plan hides it
    (``hidden``) to protect another: the same word either way (words that told them apart would
    say which is small), and the same word the reader modules use."""
    from .. import i18n
    from ..fmt import fmt_int

    if n is None:
        return HIDDEN_MARK
    if hidden or primary_mask(n, min_cell):
        return i18n.t("common.some", i18n.known(lang, "en"))
    return fmt_int(int(n), lang)
