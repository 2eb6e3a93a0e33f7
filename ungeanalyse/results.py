"""Where a unit's analysis results live, so the text notebook assembles instead of recomputing.

Each analysis notebook saves key figures as JSON, tables as CSV and figures as PNG under
``data/processed/<project>/results/<unit>/``; ``04_slutevaluering`` reads them back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import units
from .config import ProjectConfig
from .errors import UserError
from .io import atomic_write, read_processed, write_json

SAVE_DPI = 110
"""Resolution of a saved figure (and of the figure the notebook shows when it was saved)."""


@dataclass
class ResultStore:
    """The results folder of one unit (``all`` or a delprojekt id)."""

    cfg: ProjectConfig
    unit: str
    root: Path

    @classmethod
    def for_unit(cls, cfg: ProjectConfig, unit: str, output_dir: str | Path | None = None
                 ) -> ResultStore:
        """The store for a unit; ``output_dir`` overrides the default location."""
        units.check(cfg, unit)  # a clear error for an unknown unit
        root = Path(output_dir) if output_dir else cfg.processed_dir / "results" / unit
        root.mkdir(parents=True, exist_ok=True)
        return cls(cfg, unit, root)

    def save(self, name: str, figures: dict[str, Any]) -> Path:
        """Save key figures (JSON-serialisable) under a name, e.g. ``maaltal``."""
        return write_json(figures, self.root / f"{name}.json")

    def save_table(self, name: str, table: pd.DataFrame) -> Path:
        """Save a table as CSV (UTF-8) for the text notebook and for readers who want the data."""
        return atomic_write(self.root / f"{name}.csv",
                            lambda p: table.to_csv(p, index=False, encoding="utf-8"))

    def save_figure(self, name: str, fig: Any) -> Path | None:
        """Save a matplotlib figure as PNG, and its alt text (``ua.plot``) beside it; ``None``
        (nothing to draw) removes an earlier run's figure, so it cannot stand in for one the
        report no longer shows."""
        path = self.root / f"{name}.png"
        if fig is None:
            path.unlink(missing_ok=True)
            (self.root / f"{name}.alt.txt").unlink(missing_ok=True)
            return None
        import io

        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=SAVE_DPI, bbox_inches="tight")
        png = buffer.getvalue()
        atomic_write(path, lambda p: p.write_bytes(png))
        fig.ua_png = png  # reader.display.show_figure shows these bytes instead of drawing again
        alt = getattr(fig, "ua_alt", None)
        if alt:
            atomic_write(self.root / f"{name}.alt.txt",
                         lambda p: p.write_text(alt, encoding="utf-8"))
        return path

    def load(self, name: str) -> dict[str, Any]:
        """Key figures saved by an earlier notebook; a clear error if it has not run."""
        path = self.root / f"{name}.json"
        if not path.exists():
            raise UserError(f"{path} is missing: run the notebook that makes {name!r} first "
                            "(02_maaltal or 03_hvad_virker_for_hvem) for this unit")
        return json.loads(path.read_text(encoding="utf-8"))

    def load_table(self, name: str) -> pd.DataFrame:
        """A table saved by an earlier notebook."""
        path = self.root / f"{name}.csv"
        if not path.exists():
            raise UserError(f"{path} is missing: run the notebook that makes it first")
        return pd.read_csv(path)

    def figure_alt(self, name: str) -> str | None:
        """The alt text of a saved figure (what it shows, in the language it was made in)."""
        path = self.root / f"{name}.alt.txt"
        return path.read_text(encoding="utf-8") if path.exists() else None

    def figure_path(self, name: str) -> Path | None:
        """The PNG of a saved figure, if there is one."""
        path = self.root / f"{name}.png"
        return path if path.exists() else None


def load_unit(cfg: ProjectConfig, unit: str) -> dict[str, pd.DataFrame]:
    """The clean tables restricted to one unit (``all`` = the whole project; which rows belong
    to a unit is ``units.select_tables``'). A table the clean stage did not write is empty."""
    units.check(cfg, unit)
    tables = {"participants": read_processed(cfg, "participants")}
    for name in ("survey_responses", "steps", "quotes"):
        path = cfg.processed_dir / f"{name}.parquet"
        tables[name] = read_processed(cfg, name) if path.exists() else pd.DataFrame()
    return units.select_tables(tables, cfg, unit)


def load_quality(cfg: ProjectConfig) -> dict[str, Any]:
    """quality.json of the clean stage (rows in, clean, quarantined, by reason and file)."""
    path = cfg.processed_dir / "quality.json"
    if not path.exists():
        raise UserError(f"{path} is missing: run `ungeanalyse clean --config "
                        f"{cfg.source_path}` first")
    return json.loads(path.read_text(encoding="utf-8"))


def load_quality_or_clean(cfg: ProjectConfig) -> dict[str, Any]:
    """quality.json, running the clean stage first when it has not run (plain papermill use)."""
    if not (cfg.processed_dir / "quality.json").exists():
        from .clean import clean_project

        clean_project(cfg)
    return load_quality(cfg)


@dataclass
class EvaluationResults:
    """A unit's saved results, rebuilt as the result objects the analysis notebooks made, for
    the evaluation text (``reader.evaluation``): the måltal as saved, the CMO table, the
    voices, the data quality, the QCA, the business case, steps and survey (None: not made)."""

    maaltal: dict[str, Any]
    cmo: Any = None
    voices: dict[str, Any] | None = None
    quality: dict[str, Any] | None = None
    qca: Any = None
    business_case: Any = None
    steps: Any = None
    survey: Any = None
    sources: list[str] | None = None
    """The unit's data sources (``sources.data_sources``: which the method section names)."""


def _optional(store: ResultStore, name: str) -> dict[str, Any] | None:
    try:
        return store.load(name)
    except UserError:
        return None


def load_evaluation(store: ResultStore, lang: str = "da") -> EvaluationResults:
    """Every result the evaluation text uses, from the unit's store, rebuilt with
    ``from_dict`` (``maaltal`` must be there; the others are optional). A result saved by an
    older version (no codes to word) is an error asking to rerun its notebook."""
    from .business_case import BusinessCase
    from .qca import QCAResult
    from .realist import CMOTable
    from .sources import data_sources
    from .steps import StepsResult
    from .survey import SurveyResult

    cmo, qca = _optional(store, "cmo"), _optional(store, "qca")
    for name, saved, key in (("cmo", cmo, "hypotheses"), ("qca", qca, "participants")):
        stale = saved is not None and (key not in saved or (name == "cmo" and any(
            "decision" not in h for h in saved["hypotheses"])))
        if stale:
            raise UserError(f"{store.root / (name + '.json')} was saved by an older version: "
                            "run 03_hvad_virker_for_hvem again for this unit")
    case, steps, survey = (_optional(store, n) for n in ("business_case", "steps", "survey"))
    return EvaluationResults(
        maaltal=store.load("maaltal"),
        cmo=None if cmo is None else CMOTable.from_dict(cmo, lang),
        voices=_optional(store, "voices") or {}, quality=_optional(store, "datakvalitet"),
        qca=None if qca is None else QCAResult.from_dict(qca),
        business_case=None if case is None else BusinessCase.from_dict(case),
        steps=StepsResult.from_dict(steps) if steps else None,
        survey=SurveyResult.from_dict(survey) if survey else None,
        sources=data_sources(store.cfg, store.unit))
