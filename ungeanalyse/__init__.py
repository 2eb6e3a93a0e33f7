"""ungeanalyse: realist evaluation of youth-education projects.

``import ungeanalyse as ua`` gives the namespaces ``ua.config``, ``ua.clean``, ``ua.outcomes``,
``ua.survey``, ``ua.steps``, ``ua.realist``, ``ua.qca``, ``ua.plot``, ``ua.privacy``,
``ua.disclosure``, ``ua.reader``, ``ua.comparison`` and ``ua.pipeline``. They are imported on
first use so that ``import ungeanalyse`` stays fast (heavy libraries such as statsmodels load
only where they are used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_SUBMODULES = {
    "config", "clean", "demo", "io", "cpr", "outcomes", "survey", "steps", "realist", "qca",
    "plot", "privacy", "pipeline", "fmt", "schemas", "results", "qda", "survey_export",
    "business_case",
    "comparison",
    "disclosure",
    "sources", "evaluator_text", "reader", "i18n", "units", "texts",
}

if TYPE_CHECKING:  # pragma: no cover
    from . import (  # noqa: F401
        clean,
        comparison,
        config,
        disclosure,
        outcomes,
        pipeline,
        plot,
        privacy,
        qca,
        reader,
        realist,
        steps,
        survey,
    )


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    if name == "load_config":
        return importlib.import_module(".config", __name__).load_config
    raise AttributeError(f"module 'ungeanalyse' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_SUBMODULES, "load_config"])
