"""The reader layer: turns result objects and their disclosure masks into what readers see.

One module per topic (``quality``, ``maaltal``, ``steps``, ``survey``, ``cmo``, ``qca``,
``evaluation``, …). A reader function takes a result object (or its ``from_dict`` twin), the
unit's masks from :mod:`ungeanalyse.disclosure` and the language, and returns a
:class:`~ungeanalyse.reader.table.ReaderTable`, a Markdown string or a figure's input frame.
It computes nothing (the analysis modules do), writes no file (the notebooks and ``results``
do) and words everything through the catalogue (:mod:`ungeanalyse.i18n`).

Submodules are imported on first use, as ``ungeanalyse`` itself does, so that
``ua.reader.maaltal`` costs nothing until a notebook reaches it.
"""

from __future__ import annotations

import importlib
from typing import Any

_SUBMODULES = {"table", "display", "quality", "maaltal", "steps", "survey", "cmo", "qca",
               "evaluation", "headline", "business_case", "comparison"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ungeanalyse.reader' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES])
