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
    table, source_file, source_row, column, reason (a code), detail (a code with its
    parameters, as JSON; never a CPR number)

Every table is checked against its schema when the clean stage writes it and when it is read
(:func:`ungeanalyse.io.read_processed`); a table that fails raises :class:`TableCheckError`,
which names the file, the column, the check and the failing rows (pandera's failure cases) in
plain words. The clean stage writes the :func:`fingerprint` of the schema a table passed (the
config's vocabulary and this module's own text) into the parquet file's metadata: reading a
table whose fingerprint is the current one takes that as its check, and any other table (written
by hand, by an older version, or under another config) is checked row by row. pandera is only
imported for a full check.
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UserError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import pandera.pandas as pa

    from .config import ProjectConfig

TABLES = ("participants", "survey_responses", "steps", "quotes", "quarantine")
"""The tables the clean stage writes, each with a schema below."""

QUARANTINE_COLUMNS = ["table", "source_file", "source_row", "column", "reason", "detail"]
"""``reason`` is a code (counted by reason); ``detail`` says exactly what, never a CPR."""

FINGERPRINT_KEY = b"ungeanalyse.schema"
"""The parquet metadata key of the fingerprint of the schema a table passed when written."""


class TableCheckError(UserError):
    """A clean table that does not match its schema; names the file, column, check and rows."""

    def __init__(self, path: Path | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = Path(path), reason


def _person_id(cfg: ProjectConfig) -> pa.Column:
    """A keyed pseudonym (16 hex digits), or with ``privacy.id_column`` an already
    pseudonymised key: any text without blanks."""
    import pandera.pandas as pa

    if cfg.privacy.id_column:
        return pa.Column(str, pa.Check.str_matches(r"^\S+$"), nullable=False)
    return pa.Column(str, pa.Check.str_matches(r"^[0-9a-f]{16}$"), nullable=False)


def _source() -> dict[str, pa.Column]:
    import pandera.pandas as pa

    return {"source_file": pa.Column(str), "source_row": pa.Column(int, pa.Check.ge(1))}


def participants_schema(cfg: ProjectConfig) -> pa.DataFrameSchema:
    """Schema of the clean participants table for this project's vocabulary."""
    import pandera.pandas as pa

    from .config import OUTCOME_GROUPS

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
        **_source(),
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
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {
            "person_id": _person_id(cfg),
            "wave": pa.Column(str, pa.Check.isin(cfg.survey.waves)),
            "item": pa.Column(str, pa.Check.isin(list(cfg.survey.items))),
            "value": pa.Column(float, nullable=True),
            **_source(),
        },
        unique=["person_id", "wave", "item"],
        strict=True,
        coerce=True,
        name="survey_responses",
    )


def steps_schema(cfg: ProjectConfig) -> pa.DataFrameSchema:
    """Schema of the step log: one row per step a young person reached."""
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {
            "person_id": _person_id(cfg),
            "step": pa.Column(str, pa.Check.isin([s.id for s in cfg.steps.ladder])),
            "step_rank": pa.Column(int, pa.Check.ge(1)),
            "date": pa.Column("datetime64[ns]", nullable=True),
            **_source(),
        },
        strict=True,
        coerce=True,
        name="steps",
    )


def quotes_schema(cfg: ProjectConfig) -> pa.DataFrameSchema:
    """Schema of coded quotes and case descriptions tied to hypothesis ids."""
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {
            "quote_id": pa.Column(str, unique=True),
            "hypothesis_id": pa.Column(str, pa.Check.isin([h.id for h in cfg.hypotheses])),
            "source_type": pa.Column(str, pa.Check.isin(["ung", "partner", "case"])),
            "delprojekt": pa.Column(str, pa.Check.isin(cfg.delprojekt_ids), nullable=True),
            "person_id": pa.Column(str, nullable=True),
            "text": pa.Column(str),
            **_source(),
        },
        strict=True,
        coerce=True,
        name="quotes",
    )


def quarantine_schema(cfg: ProjectConfig) -> pa.DataFrameSchema:
    """Schema of the quarantine: where each row came from and why it was left out."""
    import pandera.pandas as pa

    return pa.DataFrameSchema(
        {
            "table": pa.Column(str, pa.Check.isin(list(TABLES[:4]))),
            "source_file": pa.Column(str),
            "source_row": pa.Column(int, pa.Check.ge(1)),
            "column": pa.Column(str, nullable=True),
            "reason": pa.Column(str),
            "detail": pa.Column(str, nullable=True),
        },
        strict=True,
        coerce=True,
        name="quarantine",
    )


SCHEMAS = {"participants": participants_schema, "survey_responses": survey_schema,
           "steps": steps_schema, "quotes": quotes_schema, "quarantine": quarantine_schema}


@functools.cache
def _own_text() -> bytes:
    return Path(__file__).read_bytes()


def _vocabulary(cfg: ProjectConfig, table: str) -> list[Any]:
    """What a table's schema takes from the config."""
    person = bool(cfg.privacy.id_column)
    return {
        "participants": [person, cfg.delprojekt_ids, list(cfg.target_groups), cfg.age.min,
                         cfg.age.max, list(cfg.outcomes), list(cfg.elements),
                         list(cfg.challenges)],
        "survey_responses": [person, cfg.survey.waves, list(cfg.survey.items)],
        "steps": [person, [s.id for s in cfg.steps.ladder]],
        "quotes": [[h.id for h in cfg.hypotheses], cfg.delprojekt_ids],
        "quarantine": [],
    }[table]


def fingerprint(cfg: ProjectConfig, table: str) -> str:
    """The fingerprint of a table's schema under this config (without importing pandera)."""
    h = hashlib.sha256(_own_text())
    h.update(json.dumps([table, _vocabulary(cfg, table)]).encode())
    return h.hexdigest()[:32]


def check(df: pd.DataFrame, cfg: ProjectConfig, table: str, where: Path | str
          ) -> pd.DataFrame:
    """The table validated against its schema (dtypes coerced as the schema says); a
    :class:`TableCheckError` naming ``where``, the columns, checks and rows when it fails."""
    import pandera.pandas as pa

    try:
        return SCHEMAS[table](cfg).validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise TableCheckError(where, describe_failures(exc.failure_cases, table)) from None


def _plain_check(check: str) -> str:
    """A pandera check as words ('isin([...])' → 'is one of the config's ...')."""
    words = {
        "not_nullable": "is filled in",
        "field_uniqueness": "is unique",
        "multiple_fields_uniqueness": "is unique together with the other key columns",
        "column_in_dataframe": "is present",
        "column_in_schema": "belongs to this table",
    }
    if check in words:
        return words[check]
    for prefix, text in (("isin(", "is one of "), ("str_matches(", "matches the pattern "),
                         ("in_range(", "lies in the range "),
                         ("greater_than_or_equal_to(", "is at least "),
                         ("coerce_dtype(", "can be read as "), ("dtype(", "has the type ")):
        if check.startswith(prefix):
            inner = check[len(prefix):-1].strip("'")
            if prefix == "in_range(":
                inner = inner.replace(", ", "–")
            return text + (inner if len(inner) <= 80 else inner[:77] + "…")
    return f"passes the check {check!r}"


def describe_failures(cases: pd.DataFrame, table: str, most: int = 10) -> str:
    """pandera's failure cases (column, check, failure_case, index) as plain sentences: one per
    column and check, naming up to ``most`` rows (the table's 0-based row numbers) and their
    values; checks on whole rows (a unique key, end before start) name the rows. A value shaped
    like a CPR number is never shown."""
    from .io import redact_cpr

    lines = []
    whole = cases["schema_context"].eq("DataFrameSchema") & ~cases["check"].isin(
        ["column_in_dataframe", "column_in_schema"])
    for check, group in cases[whole].groupby("check", sort=False):
        rows = sorted({int(i) for i in group["index"].dropna()})
        what = (f"{', '.join(dict.fromkeys(map(str, group['column'])))} repeat together"
                if check == "multiple_fields_uniqueness" else str(check))
        lines.append(f"{_rows(rows, most)}: {what}")
    for (column, check), group in cases[~whole].groupby(["column", "check"], sort=False):
        if check in ("column_in_dataframe", "column_in_schema"):
            names = ", ".join(repr(str(v)) for v in group["failure_case"])
            lines.append(f"column(s) {names} " + ("missing" if check == "column_in_dataframe"
                                                  else f"not part of the {table} table"))
            continue
        shown = [f"row {int(i)} ({_value(v, redact_cpr)})" if i is not None and i == i
                 else _value(v, redact_cpr)
                 for i, v in zip(group["index"], group["failure_case"], strict=True)]
        lines.append(f"column {column!r} fails the check that it {_plain_check(str(check))}: "
                     f"{_list(shown, most)}")
    return (f"the {table} table does not match its schema (rows are counted from 0, as pandas "
            "shows them):\n  " + "\n  ".join(lines)
            + "\nRun the clean stage again (`ungeanalyse clean`); if it happens again, the file "
              "was changed after cleaning or the config no longer fits the data.")


def _value(value: Any, redact: Any) -> str:
    """A failing value for the message: 'empty' for a missing one."""
    if value is None or value != value:
        return "empty"
    return repr(redact(str(value)))


def _rows(rows: list[int], most: int) -> str:
    return ("row " if len(rows) == 1 else "rows ") + _list(rows, most)


def _list(items: list[Any], most: int) -> str:
    shown = ", ".join(map(str, items[:most]))
    return shown + (f" and {len(items) - most} more" if len(items) > most else "")
