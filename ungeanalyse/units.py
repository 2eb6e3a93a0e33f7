"""Report units: the whole project (:data:`ALL`, ``"all"``) and each delprojekt.

The one place that says which units a project has (:func:`units`, :func:`units_with_data`),
what a unit is called in a report (:func:`label`) and which rows of the clean tables belong to
one (:func:`select` for participants, :func:`select_tables` for all four tables):

- participants: those of the delprojekt (everyone for ``all``);
- survey_responses and steps: the rows of those participants;
- quotes: the quotes of the delprojekt and the quotes of its participants.

No pandas import here: the runner lists units on a no-change rerun without loading pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import UserError
from .texts import text

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .config import ProjectConfig

ALL = "all"
"""The unit of the whole project."""


def units(cfg: ProjectConfig) -> list[str]:
    """Every report unit of a project: ``all``, then each delprojekt in config order."""
    return [ALL, *cfg.delprojekt_ids]


def check(cfg: ProjectConfig, unit: str) -> str:
    """The unit itself, or a UserError naming the known units."""
    if unit != ALL and unit not in cfg.delprojekt_ids:
        raise UserError(f"Unknown delprojekt {unit!r}; known: {', '.join(cfg.delprojekt_ids)} "
                        f"(and {ALL}, the whole project)")
    return unit


def label(cfg: ProjectConfig, unit: str, lang: str = "da") -> str:
    """The unit's name in a report: the project's name, or the delprojekt's."""
    if unit == ALL:
        return text(cfg.project.name, lang)
    check(cfg, unit)
    return text(cfg.delprojekt(unit).name, lang)


def _in_delprojekt(table: pd.DataFrame, unit: str) -> pd.Series:
    """Rows whose ``delprojekt`` is the unit (a missing delprojekt is no unit's)."""
    return table["delprojekt"].astype("string").eq(unit).fillna(False).astype(bool)


def units_with_data(cfg: ProjectConfig, participants: pd.DataFrame) -> list[str]:
    """``all`` and the delprojekter with at least one participant, in config order."""
    present = set(participants["delprojekt"].astype("string").dropna().unique())
    return [ALL, *(d for d in cfg.delprojekt_ids if d in present)]


def select(participants: pd.DataFrame, cfg: ProjectConfig, unit: str) -> pd.DataFrame:
    """The participants of a unit: everyone for ``all``, else those of one delprojekt (the
    frame's own index is kept)."""
    if unit == ALL:
        return participants
    check(cfg, unit)
    if "delprojekt" not in participants.columns:
        raise UserError(
            f"unit {unit!r}: the participants table lacks the column delprojekt; it should be the "
            "clean participants table (see ungeanalyse.schemas). Columns present: "
            f"{', '.join(map(str, participants.columns))}")
    return participants[_in_delprojekt(participants, unit)]


def select_tables(tables: dict[str, pd.DataFrame], cfg: ProjectConfig, unit: str
                  ) -> dict[str, pd.DataFrame]:
    """The clean tables (by name: participants, survey_responses, steps, quotes) restricted to
    one unit, each with a fresh index; an empty or absent table stays as it is."""
    if unit == ALL:
        return dict(tables)
    parts = select(tables["participants"], cfg, unit)
    persons = parts["person_id"]
    out: dict[str, Any] = {"participants": parts.reset_index(drop=True)}
    for name, table in tables.items():
        if name == "participants":
            continue
        if table.empty or "person_id" not in table.columns:
            out[name] = table
            continue
        keep = table["person_id"].isin(persons)
        if name == "quotes" and "delprojekt" in table.columns:
            keep = keep | _in_delprojekt(table, unit)
        out[name] = table[keep].reset_index(drop=True)
    return out
