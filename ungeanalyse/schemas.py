"""The clean tables as pandera schemas: the contract between the clean stage and the analysis.

Everything after ``clean`` reads these tables from ``data/processed/<project>/`` and never sees a
CPR number or a name: ``person_id`` is a keyed pseudonym (HMAC-SHA256).

participants (one row per young person and forløb)
    person_id, delprojekt, target_group, gender ("kvinde"/"mand"), age_at_start, age_band,
    start_date, end_date (NaT while active), days_in_project, outcome (canonical code),
    outcome_group (goal_met / derived_effect / not_met / unknown / active),
    goal_met (boolean, NA while active), derived_effect (boolean, NA while active),
    element_<id> (boolean per intervention element in the config), n_elements,
    challenge_<id> (boolean per challenge in the config), n_challenges,
    source_file, source_row (traceability to the partner's file; no personal data)
survey_responses (long: one row per person, wave and item)
    person_id, wave, item, value (float, NA if unanswered), source_file, source_row
steps (one row per step reached)
    person_id, step, step_rank (1 = first rung of the ladder), date, source_file, source_row
quotes (coded interview quotes and case descriptions)
    quote_id, hypothesis_id, source_type ("ung" / "partner" / "case"), delprojekt, person_id
    (NA when not tied to a participant), text
quarantine (rows that could not be cleaned)
    table, source_file, source_row, column, reason (category), detail (never a CPR number)
"""

from __future__ import annotations

import pandera.pandas as pa

from .config import OUTCOME_GROUPS, ProjectConfig

PERSON_ID = pa.Column(str, pa.Check.str_matches(r"^[0-9a-f]{16}$"), nullable=False)
KEYED_PERSON_ID = pa.Column(str, pa.Check.str_matches(r"^\S+$"), nullable=False)
"""An already pseudonymised key (``privacy.id_column``): any text without blanks."""


def _person_id(cfg: ProjectConfig) -> pa.Column:
    return KEYED_PERSON_ID if cfg.privacy.id_column else PERSON_ID
SOURCE = {
    "source_file": pa.Column(str),
    "source_row": pa.Column(int, pa.Check.ge(1)),
}


def participants_schema(cfg: ProjectConfig) -> pa.DataFrameSchema:
    """Schema of the clean participants table for this project's vocabulary."""
    columns = {
        "person_id": _person_id(cfg),
        "delprojekt": pa.Column(str, pa.Check.isin(cfg.delprojekt_ids)),
        "target_group": pa.Column(str, pa.Check.isin(list(cfg.target_groups))),
        "gender": pa.Column(str, pa.Check.isin(["kvinde", "mand"])),
        "age_at_start": pa.Column(int, pa.Check.in_range(cfg.age.min, cfg.age.max)),
        "age_band": pa.Column(str),
        "start_date": pa.Column("datetime64[ns]"),
        "end_date": pa.Column("datetime64[ns]", nullable=True),
        "days_in_project": pa.Column(float, pa.Check.ge(0), nullable=True),
        "outcome": pa.Column(str, pa.Check.isin(list(cfg.outcomes))),
        "outcome_group": pa.Column(str, pa.Check.isin(list(OUTCOME_GROUPS))),
        "goal_met": pa.Column("boolean", nullable=True),
        "derived_effect": pa.Column("boolean", nullable=True),
        "n_elements": pa.Column(int, pa.Check.ge(0)),
        "n_challenges": pa.Column(int, pa.Check.ge(0)),
        **{f"element_{e}": pa.Column(bool) for e in cfg.elements},
        **{f"challenge_{c}": pa.Column(bool) for c in cfg.challenges},
        **SOURCE,
    }
    return pa.DataFrameSchema(
        columns,
        unique=["person_id", "delprojekt"],
        checks=pa.Check(
            lambda df: df["end_date"].isna() | (df["end_date"] >= df["start_date"]),
            error="end_date before start_date",
        ),
        strict=True,
        coerce=True,
        name="participants",
    )


def survey_schema(cfg: ProjectConfig) -> pa.DataFrameSchema:
    """Schema of the long survey table: one row per person, wave and item."""
    return pa.DataFrameSchema(
        {
            "person_id": _person_id(cfg),
            "wave": pa.Column(str, pa.Check.isin(cfg.survey.waves)),
            "item": pa.Column(str, pa.Check.isin(list(cfg.survey.items))),
            "value": pa.Column(float, nullable=True),
            **SOURCE,
        },
        unique=["person_id", "wave", "item"],
        strict=True,
        coerce=True,
        name="survey_responses",
    )


def steps_schema(cfg: ProjectConfig) -> pa.DataFrameSchema:
    """Schema of the step log: one row per step a young person reached."""
    return pa.DataFrameSchema(
        {
            "person_id": _person_id(cfg),
            "step": pa.Column(str, pa.Check.isin([s.id for s in cfg.steps.ladder])),
            "step_rank": pa.Column(int, pa.Check.ge(1)),
            "date": pa.Column("datetime64[ns]", nullable=True),
            **SOURCE,
        },
        strict=True,
        coerce=True,
        name="steps",
    )


def quotes_schema(cfg: ProjectConfig) -> pa.DataFrameSchema:
    """Schema of coded quotes and case descriptions tied to hypothesis ids."""
    return pa.DataFrameSchema(
        {
            "quote_id": pa.Column(str, unique=True),
            "hypothesis_id": pa.Column(str, pa.Check.isin([h.id for h in cfg.hypotheses])),
            "source_type": pa.Column(str, pa.Check.isin(["ung", "partner", "case"])),
            "delprojekt": pa.Column(str, pa.Check.isin(cfg.delprojekt_ids), nullable=True),
            "person_id": pa.Column(str, nullable=True),
            "text": pa.Column(str),
            **SOURCE,
        },
        strict=True,
        coerce=True,
        name="quotes",
    )


QUARANTINE_COLUMNS = ["table", "source_file", "source_row", "column", "reason", "detail"]
"""``reason`` is a category (counted by reason); ``detail`` says exactly what, never a CPR."""
