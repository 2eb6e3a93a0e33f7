"""The clean stage: partner files in, pseudonymised clean tables and a quarantine out.

read → map columns → validate → pseudonymise → derive → quarantine. Every raw row ends in exactly
one place: the clean table, the quarantine (with a reason, the source file and row number, never
the raw CPR), or the list of reported exact duplicates. ``quality.json`` proves it:
rows in = clean + quarantined + duplicates, per table and per file.

Nothing is guessed: a status, target group or step that the config does not know is quarantined
and reported with its count, so the evaluator can add the alias to the config and rerun.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import cpr as cprlib
from . import i18n, texts
from .config import IDENTIFIER_COLUMNS, ProjectConfig, TableFiles
from .errors import UserError
from .io import (
    ROW,
    UNNAMED,
    RawFileError,
    normalise_header,
    normalise_value,
    read_raw,
    redact_cpr,
    write_json,
    write_table,
)
from .privacy import Identifiers, PseudonymCache, pseudonymise
from .schemas import QUARANTINE_COLUMNS, check
from .survey_export import export_kind, read_export

TABLES = ("participants", "survey_responses", "steps", "quotes")
SOURCE_TYPES = {
    "ung": ["ung", "unge", "den unge", "ungeinterview", "elev", "deltager"],
    "partner": ["partner", "fagperson", "medarbejder", "kontaktperson", "partnerinterview"],
    "case": ["case", "casebeskrivelse", "cases"],
}
_LIST_SPLIT = r"\s*[;,+|\n]\s*(?![^()]*\))"
"""List separators, except inside parentheses: "Psykiske udfordringer (fx angst, depression)"
is one value."""


# -- small vectorised helpers -----------------------------------------------------------------


def _norm_one(value: object) -> str | None:
    return normalise_value(value) or None


def norm_text(values: pd.Series) -> pd.Series:
    """Casefolded, whitespace-collapsed text without trailing dots; empty → NA.

    Partner columns repeat a few values many times, so the work is done once per distinct value
    (``pd.factorize``) and spread back with a vectorised take: no row-wise Python.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    normed = np.array([_norm_one(u) for u in uniques] + [None], dtype=object)
    return pd.Series(normed[codes], index=values.index, dtype="string")


def map_text(values: pd.Series, lookup: dict[str, Any], dtype: str = "string") -> pd.Series:
    """Normalise each distinct value and map it through ``lookup`` (unknown → NA)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([lookup.get(_norm_one(u) or "") for u in uniques] + [None], dtype=object)
    return pd.Series(mapped[codes], index=values.index, dtype=dtype)


def vocabulary(entries: dict[str, Any]) -> dict[str, str]:
    """Map every normalised code, label and alias of a vocabulary to its canonical code."""
    out: dict[str, str] = {}
    for code, entry in entries.items():
        label = entry.label
        names = [code, texts.text(label, "da"), texts.text(label, "en"), *(entry.aliases or [])]
        for name in names:
            out[normalise_value(name)] = code
    return out


def parse_dates(values: pd.Series, formats: list[str]) -> pd.Series:
    """Danish dates (the config's formats), Excel datetimes and Excel serial numbers → datetime."""
    text = values.astype("string").str.strip()
    text = text.mask(text.eq(""))
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in [*formats, "%Y-%m-%d %H:%M:%S"]:
        todo = out.isna() & text.notna()
        if not todo.any():
            break
        out[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    serial = pd.to_numeric(text.where(out.isna()), errors="coerce")
    ok = serial.between(20000, 80000)  # 1954–2119 as Excel serials
    if ok.any():
        out[ok] = pd.Timestamp("1899-12-30") + pd.to_timedelta(serial[ok].round(), unit="D")
    return out


def yes_no(values: pd.Series, cfg: ProjectConfig) -> tuple[pd.Series, pd.Series]:
    """Map yes/no cells; returns (bool values, mask of cells that were neither)."""
    lookup = {v.casefold(): "yes" for v in cfg.yes_values}
    lookup.update({v.casefold(): "no" for v in cfg.no_values})
    mapped = map_text(values, lookup)
    empty = norm_text(values).isna()
    yes = mapped.eq("yes").fillna(False).astype(bool)
    no = empty | mapped.eq("no").fillna(False).astype(bool)
    return yes, ~(yes | no)


CONFLICT = "conflicting_repeat"
"""The quarantine reason of repeats that disagree (see ``_dedupe``)."""

DERIVED_FROM = {"outcome": "status", "outcome_group": "status", "goal_met": "status",
                "person_id": "cpr", "birth_date": "cpr", "gender": "cpr", "age_at_start": "cpr",
                "step_rank": "step"}
"""Clean columns made from a raw one: a quarantine names the raw column the partner sent."""


@dataclass
class TableResult:
    """One clean table with its quarantine and the bookkeeping behind quality.json."""

    name: str
    clean: pd.DataFrame
    quarantine: pd.DataFrame
    rows_in: int = 0
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    by_file: dict[str, dict[str, int]] = field(default_factory=dict)
    file_errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str | dict[str, Any]] = field(default_factory=list)  # i18n.code(...)
    unmapped: dict[str, dict[str, int]] = field(default_factory=dict)
    ignored_columns: dict[str, list[str]] = field(default_factory=dict)
    cell_issues: list[dict[str, Any]] = field(default_factory=list)
    identifiers: Identifiers = field(default_factory=Identifiers, repr=False)  # for the scanner
    identifier_columns: dict[str, list[str]] = field(default_factory=dict)  # file → dropped
    raw_names: dict[str, dict[str, str]] = field(default_factory=dict)  # file → canon → header

    def partner_columns(self) -> None:
        """Name each quarantined row's column as the partner's own file does ('Status', not
        'status'), so the worklist can be sent back as it is."""
        q = self.quarantine
        if q.empty or not self.raw_names:
            return

        def header(file: str, column: str) -> str:
            names = self.raw_names.get(file, {})
            for source in (column, DERIVED_FROM.get(column),
                           "elements" if column.startswith("element_") else None,
                           "challenges" if column.startswith("challenge_") else None):
                if source in names:
                    return names[source]
            return column

        q["column"] = [c if pd.isna(c) or not c else header(f, c)
                       for f, c in zip(q["source_file"], q["column"], strict=True)]
        # 'rows 4, 5 disagree on outcome, start_date' → the partner's headers
        conflict = q["reason"].eq(CONFLICT).to_numpy(dtype=bool)
        if conflict.any():
            def reword(file: str, detail: str) -> str:
                message = json.loads(detail)
                message["columns"] = [header(file, c) for c in message["columns"]]
                return i18n.as_json(message)
            q.loc[conflict, "detail"] = [reword(f, d) for f, d in zip(
                q.loc[conflict, "source_file"], q.loc[conflict, "detail"], strict=True)]

    @property
    def clean_rows(self) -> int:
        """Raw rows that became clean (a survey row becomes one long row per item)."""
        if "source_row" in self.clean.columns and self.name == "survey_responses":
            return int(self.clean[["source_file", "source_row"]].drop_duplicates().shape[0])
        return len(self.clean)

    def quality(self) -> dict[str, Any]:
        """Counts for quality.json; raises if a row was lost (a bug, never a user error)."""
        q = {
            "rows_in": self.rows_in,
            "clean": self.clean_rows,
            "quarantined": len(self.quarantine),
            "duplicates": len(self.duplicates),
            "by_reason": self.quarantine["reason"].value_counts().sort_index().to_dict(),
            "by_file": self.by_file,
            "file_errors": self.file_errors,
            "warnings": self.warnings,
            "unmapped_values": self.unmapped,
            "ignored_columns": self.ignored_columns,
            "identifier_columns": self.identifier_columns,
            "duplicate_rows": self.duplicates,
        }
        if q["rows_in"] != q["clean"] + q["quarantined"] + q["duplicates"]:
            raise AssertionError(f"{self.name}: rows were lost in cleaning: {q}")
        return q


class _Batch:
    """Rows of one raw file on their way through the rules; the first failed rule wins."""

    def __init__(self, table: str, file: str, frame: pd.DataFrame,
                 header_aliases: list[str] | None = None):
        self.table, self.file, self.frame = table, file, frame
        self.header_aliases = header_aliases or []
        self.reason = pd.Series(pd.NA, index=frame.index, dtype="string")
        self.detail = pd.Series(pd.NA, index=frame.index, dtype="string")
        self.column = pd.Series(pd.NA, index=frame.index, dtype="string")

    def fail(self, mask: pd.Series, column: str, reason: str,
             detail: pd.Series | str | Callable[[pd.Series], pd.Series]) -> None:
        """Mark rows that break a rule (unless an earlier rule already did). ``detail`` says
        exactly what (a stored code as JSON: :func:`_detail`); it may be a function of the mask
        (:func:`_per_row`), so a costly message is only built for the rows that need it."""
        mask = mask.fillna(False).astype(bool) & self.reason.isna()
        if not mask.any():
            return
        if callable(detail):
            detail = detail(mask).reindex(self.detail.index)
        self.reason[mask] = reason
        self.column[mask] = column
        self.detail[mask] = detail[mask] if isinstance(detail, pd.Series) else detail

    @property
    def ok(self) -> pd.Series:
        return self.reason.isna()

    def quarantine(self) -> pd.DataFrame:
        bad = ~self.ok
        return pd.DataFrame(
            {
                "table": self.table,
                "source_file": self.file,
                "source_row": self.frame.loc[bad, ROW].astype(int),
                "column": self.column[bad],
                "reason": self.reason[bad],
                "detail": self.detail[bad].map(redact_cpr, na_action="ignore"),
            }
        )


def _map_columns(raw: pd.DataFrame, cfg: ProjectConfig, file: str, canon: list[str],
                 extra: dict[str, str] | None = None, result: TableResult | None = None
                 ) -> tuple[pd.DataFrame, list[str]]:
    """Rename raw columns to canonical ones; returns the frame and the ignored column names,
    and records the partner's header of each canonical column in ``result.raw_names``."""
    lookup = identifier_headers(cfg)
    lookup.update({normalise_header(a): c for c in canon for a in cfg.aliases(c)})
    lookup.update(extra or {})
    rename, ignored, seen = {}, [], {}
    for col in raw.columns:
        if col == ROW:
            continue
        target = lookup.get(normalise_header(str(col).split("__dup")[0]))
        if target is None:
            ignored.append(str(col))
            continue
        if target in IDENTIFIER_KINDS and target in seen:  # e.g. two note columns: all dropped
            target = f"{target}__{sum(t.split('__')[0] == target for t in rename.values()) + 1}"
        if target in seen and str(col).split("__dup")[0] == str(seen[target]):
            raise RawFileError("column_twice", file=file, column=repr(seen[target]))
        if target in seen:
            raise RawFileError("same_meaning", file=file, first=repr(seen[target]),
                               second=repr(col), canonical=repr(target))
        seen[target] = col
        rename[col] = target
    if result is not None:
        result.raw_names[file] = {target: str(col).split("__dup")[0].strip()
                                  for col, target in rename.items()}
    return raw.rename(columns=rename)[[*rename.values(), ROW]], ignored


IDENTIFIER_KINDS = (*IDENTIFIER_COLUMNS, "identifier")
"""The identifier columns' kinds; ``identifier`` is a column the config lists under
``identifiers:``."""


def identifier_headers(cfg: ProjectConfig) -> dict[str, str]:
    """Normalised header → identifier kind, for the known aliases, the config's ``columns:`` and
    its ``identifiers:`` list."""
    out = {normalise_header(a): c for c in IDENTIFIER_COLUMNS for a in cfg.aliases(c)}
    out.update({normalise_header(c): "identifier" for c in cfg.identifiers})
    return out


_NAME_LIKE = re.compile(r"[^\W\d_]+(?:[ '’-][^\W\d_]+){1,3}")
"""Two to four words of letters: a value that may be a person's name."""


def _clean_text(values: pd.Series) -> list[str]:
    """The distinct non-blank values of a column, whitespace collapsed (distinct first: a
    register-scale column has few distinct values per row)."""
    distinct = values.astype("string[pyarrow]").dropna().unique()
    return list(dict.fromkeys(v for v in (" ".join(str(u).split()) for u in distinct) if v))


def _split_names(first: str, middle: str, last: str) -> list[str]:
    """The ways a reader may meet a person whose name came in separate columns:
    'Anne Marie Jensen', and 'Anne Jensen' without the second or middle names."""
    full = " ".join(p for p in (first, middle, last) if p)
    out = [full] if full else []
    if first and last:
        short = f"{first.split()[0]} {last.split()[-1]}"
        if short != full:
            out.append(short)
    return out


def _take_identifiers(result: TableResult, file: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Hand the identifying columns' values to the scanner (``result.identifiers``, memory only)
    and drop the columns: nothing after this sees them."""
    kind = {c: str(c).split("__")[0] for c in frame.columns if c != ROW}
    cols = [c for c, k in kind.items() if k in IDENTIFIER_KINDS]
    if not cols:
        return frame
    ids = result.identifiers
    for col in cols:
        if kind[col] == "name":
            for name in _clean_text(frame[col]):
                last, comma, first = name.partition(",")  # 'Jensen, Anne'
                ids.names.update([name, f"{first.strip()} {last.strip()}"] if comma else [name])
                ids.surnames.add(last if comma else name.split()[-1])
        elif kind[col] == "address":
            ids.addresses.update(_clean_text(frame[col]))
        elif kind[col] in ("note", "identifier"):
            values = _clean_text(frame[col])
            ids.texts.update(values)
            if kind[col] == "identifier":  # a listed column holding names: 'Forælders navn'
                ids.names.update(v for v in values if _NAME_LIKE.fullmatch(v))
    split = [c for c in ("first_name", "middle_name", "last_name") if c in frame.columns]
    if split:
        columns = [frame[c] if c in frame.columns else None
                   for c in ("first_name", "middle_name", "last_name")]
        key = np.zeros(len(frame), dtype=np.int64)  # one row per distinct combination
        for col in columns:
            if col is not None:
                codes, uniques = pd.factorize(col)
                key = key * (len(uniques) + 1) + codes + 1
        _, rows = np.unique(key, return_index=True)
        picked = [[str(v) if pd.notna(v) else "" for v in col.iloc[rows]] if col is not None
                  else [""] * len(rows) for col in columns]
        for first, middle, last in zip(*picked, strict=True):
            ids.names.update(_split_names(*(" ".join(v.split()) for v in (first, middle, last))))
            if last:
                ids.surnames.add(last)
    headers = result.raw_names.get(file, {})
    result.identifier_columns[file] = [redact_cpr(headers.get(c, str(c))) for c in cols]
    return frame.drop(columns=cols)


def _count_unknown(result: TableResult, batch: _Batch, reasons: dict[str, str]) -> None:
    """Count, per raw value, the rows quarantined because the config does not know the value
    (reason → column), for ``unmapped_values`` in quality.json and ``ungeanalyse check``."""
    for reason, column in reasons.items():
        rows = batch.reason.eq(reason).fillna(False).astype(bool)
        if column not in batch.frame.columns or not rows.any():
            continue
        counts = result.unmapped.setdefault(column, {})
        values = batch.frame.loc[rows, column].astype("string").str.strip().fillna("")
        for value, n in values.value_counts().items():
            counts[redact_cpr(str(value))] = counts.get(redact_cpr(str(value)), 0) + int(n)


def _note_ignored(result: TableResult, file: str, raw: pd.DataFrame, ignored: list[str]) -> None:
    """Record columns the config does not know; warn when cells without a header hold values
    (rows with more cells than the header), naming the rows but never the values."""
    if not ignored:
        return
    result.ignored_columns[file] = [redact_cpr(c) for c in ignored]
    for col in ignored:
        if not col.startswith(UNNAMED):
            continue
        cells = raw[col].astype("string").str.strip()
        filled = (cells.notna() & cells.ne("")).fillna(False).astype(bool)
        if filled.any():
            rows = [str(int(r)) for r in raw.loc[filled, ROW]]
            more = f" (+{len(rows) - 10})" if len(rows) > 10 else ""
            result.warnings.append(i18n.code(
                "no_header", file=file, column=col.removeprefix(UNNAMED).strip(),
                rows=", ".join(rows[:10]) + more))


def _require(frame: pd.DataFrame, file: str, required: list[str], cfg: ProjectConfig) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RawFileError("missing_column", file=file, columns=[
            i18n.code("file_error.accepted", column=repr(c),
                      names=", ".join(cfg.aliases(c)[1:6] or cfg.aliases(c)))
            for c in missing])


def _file_failure(result: TableResult, file: str, exc: Exception, raw: pd.DataFrame | None
                  ) -> pd.DataFrame:
    """A file that cannot be used: every readable row is quarantined with the file's reason.
    quality.json keeps the message as text in English (``error``, for the command line) and as
    a code (``message``, worded in the report's language); the rows' detail is that code."""
    msg = redact_cpr(str(exc))
    code = getattr(exc, "message", None) or i18n.code("file_error.unusable", error=str(exc))
    code = json.loads(redact_cpr(json.dumps(code, ensure_ascii=False)))
    result.file_errors.append({"file": file, "error": msg, "message": code})
    n = 0 if raw is None else len(raw)
    result.by_file[file] = {"rows_in": n, "clean": 0, "quarantined": n, "duplicates": 0}
    result.rows_in += n
    if raw is None or not n:
        return pd.DataFrame(columns=QUARANTINE_COLUMNS)
    return pd.DataFrame(
        {
            "table": result.name,
            "source_file": file,
            "source_row": raw[ROW].astype(int).to_numpy(),
            "column": "",
            "reason": "file_unusable",
            "detail": i18n.as_json(code),
        }
    )


def _person_keys(batch: _Batch, cfg: ProjectConfig) -> pd.Series:
    """An already pseudonymised person key (``privacy.id_column``) as the person id; birth date
    and gender from their own columns. A key shaped like a CPR number is refused: it would put
    personal data in the clean tables."""
    from .privacy import find_cpr

    raw = batch.frame["cpr"].astype("string").str.strip()
    header_names = {normalise_header(a) for a in batch.header_aliases}
    batch.fail(raw.map(normalise_header, na_action="ignore").isin(header_names), "cpr",
               "repeated_header_row", _detail("repeated_header"))
    batch.fail(raw.isna() | raw.eq(""), "cpr", "missing_person_key", _detail("no_person_key"))
    looks = raw.fillna("").map(lambda v: find_cpr(v) > 0).astype(bool)
    batch.fail(looks, "cpr", "cpr_as_person_key",
               _detail("cpr_as_key", column=repr(cfg.privacy.id_column)))
    index = batch.frame.index
    if "birth_date" in batch.frame.columns:
        birth = parse_dates(batch.frame["birth_date"], cfg.date_formats)
        batch.fail(birth.isna(), "birth_date", "invalid_date", _detail("no_birth_date"))
    else:
        birth = pd.Series(pd.NaT, index=index, dtype="datetime64[ns]")
    if "gender" in batch.frame.columns:
        from .comparison import GENDERS

        gender = norm_text(batch.frame["gender"]).map(GENDERS).astype("string")
        batch.fail(gender.isna(), "gender", "unknown_gender", _detail("unknown_gender"))
    else:
        gender = pd.Series(pd.NA, index=index, dtype="string")
    batch.frame["_birth"] = birth
    batch.frame["_gender"] = gender
    batch.frame["_mod11"] = True
    return raw.mask(looks)


def _person_ids(batch: _Batch, key: bytes, cache: PseudonymCache | None = None,
                cfg: ProjectConfig | None = None) -> pd.Series:
    """Validate the CPR column and return keyed pseudonyms (NA where invalid); with
    ``privacy.id_column`` the already pseudonymised key instead (see ``_person_keys``)."""
    if cfg is not None and cfg.privacy.id_column:
        return _person_keys(batch, cfg)
    raw = batch.frame["cpr"]
    parsed = cprlib.parse(raw)
    header_names = {normalise_header(a) for a in batch.header_aliases}
    odd = ~parsed["shape_ok"]  # only these can be a header, a blank or junk
    normed = norm_text(raw[odd]).reindex(raw.index)
    as_header = raw[odd].dropna().astype(str).map(normalise_header).reindex(raw.index)
    batch.fail(odd & as_header.isin(header_names), "cpr", "repeated_header_row",
               _detail("repeated_header"))
    batch.fail(odd & normed.isna(), "cpr", "missing_cpr", _detail("no_cpr"))
    batch.fail(~parsed["shape_ok"], "cpr", "invalid_cpr", _detail("cpr_shape"))
    batch.fail(~parsed["date_ok"], "cpr", "invalid_cpr", _detail("cpr_date"))
    batch.frame["_birth"] = parsed["birth_date"]
    batch.frame["_gender"] = parsed["gender"]
    batch.frame["_mod11"] = parsed["mod11_ok"]
    return pseudonymise(parsed["digits"], key, cache=cache)


def _known(pid: pd.Series, persons: Iterable[str]) -> pd.Series:
    """Whether each pseudonym is a clean participant (a hash lookup; NA is unknown)."""
    index = persons if isinstance(persons, pd.Index) else pd.Index(list(persons), dtype=object)
    index = index.unique()
    return pd.Series(index.get_indexer(pid.astype(object)) >= 0, index=pid.index)


def _detail(code: str, **params: Any) -> str:
    """A quarantine detail: the code of the catalogue's ``detail`` section and its parameters,
    as the JSON text the ``detail`` column holds (worded by ``i18n.word`` in the report's
    language)."""
    return i18n.as_json(i18n.code(f"detail.{code}", **params))


def _per_row(code: str, **params: Any) -> Callable[[pd.Series], pd.Series]:
    """A quarantine detail per row, built only for the rows a rule marks (see
    ``_Batch.fail``): a parameter that is a Series gives each row its own value (a date as
    dd-mm-yyyy; missing: '')."""
    def text(values: pd.Series) -> pd.Series:
        if pd.api.types.is_datetime64_any_dtype(values):
            values = _dmy(values)
        return values.astype("string").fillna("")

    def build(mask: pd.Series) -> pd.Series:
        rows = mask[mask].index
        columns = {k: text(v[mask]) for k, v in params.items() if isinstance(v, pd.Series)}
        fixed = {k: v for k, v in params.items() if not isinstance(v, pd.Series)}
        return pd.Series([_detail(code, **fixed, **{k: str(c.loc[i]) for k, c in columns.items()})
                          for i in rows], index=rows, dtype="string")
    return build


def _dmy(dates: pd.Series) -> pd.Series:
    """Dates as dd-mm-yyyy for messages."""
    return dates.dt.strftime("%d-%m-%Y")


def _where(rows: pd.DataFrame, columns: list[str]) -> str:
    """The detail of repeats that disagree: 'rows 4, 5' within one file, 'a.csv row 3,
    b.csv row 3' across files, and the columns they disagree on."""
    if rows["source_file"].nunique() > 1:
        places = [i18n.code("detail.place", file=f, row=int(r))
                  for f, r in zip(rows["source_file"], rows[ROW], strict=True)]
        return _detail("conflict_places", places=places, columns=columns)
    return _detail("conflict_rows", rows=[int(r) for r in rows[ROW]], columns=columns)


def _dedupe(frame: pd.DataFrame, keys: list[str], compare: list[str], table: str
            ) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, Any]]]:
    """Drop exact repeats (reported), quarantine repeats that disagree (never pick one)."""
    dup_mask = frame.duplicated(keys, keep=False)
    if not dup_mask.any():
        return frame, pd.DataFrame(columns=QUARANTINE_COLUMNS), []
    groups = frame[dup_mask]
    content = groups[keys + compare].astype("string").fillna("∅")
    per_column = content.groupby(keys)[compare].nunique()
    n_versions = per_column.max(axis=1)
    conflicting_keys = n_versions[n_versions > 1].index
    differ = {k: [c for c in compare if per_column.loc[k, c] > 1] for k in conflicting_keys}
    key_index = pd.MultiIndex.from_frame(groups[keys]) if len(keys) > 1 else pd.Index(
        groups[keys[0]])
    conflict = pd.Series(key_index.isin(conflicting_keys), index=groups.index)
    conflicted = groups[conflict]
    rows_by_key = {(k if len(keys) > 1 else k[0]): g
                   for k, g in conflicted.groupby(keys)[["source_file", ROW]]}
    key_of = [tuple(k) if len(keys) > 1 else k[0]
              for k in conflicted[keys].itertuples(index=False)]
    q = pd.DataFrame(
        {
            "table": table,
            "source_file": conflicted["source_file"],
            "source_row": conflicted[ROW].astype(int),
            "column": [differ[k][0] if differ[k] else "" for k in key_of],
            "reason": CONFLICT,
            "detail": [_where(rows_by_key[k], differ[k]) for k in key_of],
        }
    )
    exact = groups[~conflict]
    repeats = exact[exact.duplicated(keys, keep="first")]
    dups = [{"file": f, "row": int(r)} for f, r in zip(repeats["source_file"], repeats[ROW],
                                                        strict=True)]
    keep = frame.drop(index=conflicted.index.union(repeats.index))
    return keep, q, dups


# -- participants ---------------------------------------------------------------------------

PARTICIPANT_COLUMNS = ["cpr", "name", "start_date", "end_date", "status", "target_group",
                       "elements", "challenges", "delprojekt"]


def _known_participant_headers(cfg: ProjectConfig) -> set[str]:
    names = {a for c in PARTICIPANT_COLUMNS for a in cfg.aliases(c)} | set(identifier_headers(cfg))
    for vocab in (cfg.elements, cfg.challenges):
        for code, e in vocab.items():
            names.update([code, e.label, *e.aliases])
    return names


def _flags(frame: pd.DataFrame, cfg: ProjectConfig, kind: str, vocab: dict[str, Any],
           batch: _Batch, result: TableResult) -> pd.DataFrame:
    """Boolean columns per element/challenge from a list column and/or one column per code."""
    flags = pd.DataFrame(False, index=frame.index, columns=list(vocab))
    lookup = vocabulary(vocab)
    if kind in frame.columns:
        codes, uniques = pd.factorize(frame[kind], use_na_sentinel=True)
        matrix = np.zeros((len(uniques) + 1, len(vocab)), dtype=bool)
        position = {code: j for j, code in enumerate(vocab)}
        counts = result.unmapped.setdefault(kind, {})
        for u, cell in enumerate(uniques):
            for token in re.split(_LIST_SPLIT, str(cell)):
                norm = _norm_one(token)
                if norm is None:
                    continue
                if norm in lookup:
                    matrix[u, position[lookup[norm]]] = True
                else:
                    norm = redact_cpr(norm)
                    counts[norm] = counts.get(norm, 0) + int((codes == u).sum())
        if not counts:
            result.unmapped.pop(kind)
        flags |= pd.DataFrame(matrix[codes], index=frame.index, columns=list(vocab))
    for code in vocab:
        col = f"{kind}:{code}"
        if col in frame.columns:
            yes, odd = yes_no(frame[col], cfg)
            flags[code] |= yes
            if odd.any():
                rows = ", ".join(str(int(r)) for r in frame.loc[odd, ROW][:10])
                result.warnings.append(i18n.code("yes_no", file=batch.file,
                                                 column=vocab[code].label, rows=rows))
    return flags


def clean_participants(cfg: ProjectConfig, key: bytes, today: dt.date | None = None,
                       cache: PseudonymCache | None = None) -> TableResult:
    """Read every participant file of the project and return the clean participants table.

    Long because one loop takes each file from its headers to its clean rows, checks in the
    order its quarantine reports them; the date and code checks are helpers
    (:func:`_participant_dates`, :func:`_participant_codes`)."""
    today = pd.Timestamp(today or dt.date.today())
    result = TableResult("participants", pd.DataFrame(), pd.DataFrame(columns=QUARANTINE_COLUMNS))
    known = _known_participant_headers(cfg)
    element_cols = {normalise_header(a): f"elements:{code}" for code, e in cfg.elements.items()
                    for a in [code, e.label, *e.aliases]}
    challenge_cols = {normalise_header(a): f"challenges:{code}"
                      for code, e in cfg.challenges.items() for a in [code, e.label, *e.aliases]}
    outcomes = vocabulary(cfg.outcomes)
    target_groups = vocabulary(cfg.target_groups)
    delprojekter = {normalise_value(d.id): d.id for d in cfg.delprojekter}
    delprojekter.update({normalise_value(d.name): d.id for d in cfg.delprojekter})
    delprojekter.update({normalise_value(d.municipality): d.id for d in cfg.delprojekter
                         if d.municipality})
    frames, quarantines = [], []
    for spec, path in _files(cfg, cfg.files.participants):
        file = path.name
        raw = None
        try:
            raw, _ = read_raw(path, known, spec.sheet)
            canon = PARTICIPANT_COLUMNS + (["birth_date", "gender"] if cfg.privacy.id_column
                                           else [])
            frame, ignored = _map_columns(raw, cfg, file, canon,
                                          {**element_cols, **challenge_cols}, result=result)
            frame = _take_identifiers(result, file, frame)
            _note_ignored(result, file, raw, ignored)
            _require(frame, file, ["cpr", "start_date", "status", "target_group",
                                   *(["birth_date", "gender"] if cfg.privacy.id_column
                                     else [])], cfg)
            if spec.delprojekt is None and "delprojekt" not in frame.columns:
                raise RawFileError("no_delprojekt", file=file)
        except RawFileError as exc:
            quarantines.append(_file_failure(result, file, exc, raw))
            continue
        batch = _Batch("participants", file, frame, cfg.aliases("cpr"))
        batch.frame["person_id"] = _person_ids(batch, key, cache, cfg)
        # delprojekt
        if spec.delprojekt is not None:
            batch.frame["delprojekt"] = spec.delprojekt
        else:
            dp = map_text(frame["delprojekt"], delprojekter)
            batch.fail(dp.isna(), "delprojekt", "unknown_delprojekt",
                       _per_row("unknown_delprojekt", value=frame["delprojekt"]))
            batch.frame["delprojekt"] = dp
        start, end = _participant_dates(batch, frame, cfg, today)
        outcome, tg = _participant_codes(batch, frame, outcomes, target_groups, result)
        # age
        age = cprlib.age_at(batch.frame["_birth"], start)
        batch.fail(age.notna() & ((age < cfg.age.min) | (age > cfg.age.max)), "cpr",
                   "age_outside_range",
                   _per_row("age_outside", age=age, min=cfg.age.min, max=cfg.age.max))
        elements = _flags(frame, cfg, "elements", cfg.elements, batch, result)
        challenges = _flags(frame, cfg, "challenges", cfg.challenges, batch, result)
        ok = batch.ok
        n_mod11 = int((~batch.frame["_mod11"] & ok).sum())
        if n_mod11:
            result.warnings.append(i18n.code("mod11", file=file, n=n_mod11))
        clean = pd.DataFrame(
            {
                "person_id": batch.frame["person_id"],
                "delprojekt": batch.frame["delprojekt"],
                "target_group": tg,
                "gender": batch.frame["_gender"],
                "age_at_start": age,
                "start_date": start,
                "end_date": end,
                "outcome": outcome,
                **{f"element_{c}": elements[c] for c in cfg.elements},
                **{f"challenge_{c}": challenges[c] for c in cfg.challenges},
                "source_file": file,
                ROW: frame[ROW],
            }
        )[ok]
        frames.append(clean)
        _count_unknown(result, batch, {"unknown_target_group": "target_group",
                                       "unknown_delprojekt": "delprojekt"})
        quarantines.append(batch.quarantine())
        result.rows_in += len(frame)
        result.by_file[file] = {"rows_in": len(frame), "clean": int(ok.sum()),
                                "quarantined": int((~ok).sum()), "duplicates": 0}
    participants = pd.concat(frames, ignore_index=True) if frames else _empty_participants(cfg)
    compare = [c for c in participants.columns if c not in ("person_id", "delprojekt",
                                                             "source_file", ROW)]
    participants, q_dup, dups = _dedupe(participants, ["person_id", "delprojekt"], compare,
                                        "participants")
    _move_counts(result, q_dup, dups)
    result.duplicates = dups
    result.clean = _derive_participants(participants, cfg)
    result.quarantine = _concat_q([*quarantines, q_dup])
    return result


def _participant_dates(batch: _Batch, frame: pd.DataFrame, cfg: ProjectConfig,
                       today: pd.Timestamp) -> tuple[pd.Series, pd.Series]:
    """A participant file's start and end dates, parsed; the rows with a missing, unreadable,
    future, out-of-period or reversed date failed in ``batch``."""
    start = parse_dates(frame["start_date"], cfg.date_formats)
    end = (parse_dates(frame["end_date"], cfg.date_formats) if "end_date" in frame.columns
           else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]"))
    raw_start = frame["start_date"].astype("string")
    batch.fail(raw_start.isna() | raw_start.str.strip().eq(""), "start_date",
               "missing_start_date", _detail("no_start_date"))
    batch.fail(start.isna(), "start_date", "invalid_date",
               _per_row("not_a_date", value=raw_start))
    if "end_date" in frame.columns:
        raw_end = frame["end_date"].astype("string").str.strip()
        batch.fail(raw_end.notna() & raw_end.ne("") & end.isna(), "end_date", "invalid_date",
                   _per_row("not_a_date", value=raw_end))
    batch.fail(start > today, "start_date", "date_in_future",
               _per_row("start_in_future", date=start))
    batch.fail(end > today, "end_date", "date_in_future",
               _per_row("end_in_future", date=end))
    period_start = pd.Timestamp(cfg.project.period.start) - pd.DateOffset(years=1)
    batch.fail((start < period_start) | (start > pd.Timestamp(cfg.project.period.end)),
               "start_date", "start_outside_period",
               _per_row("start_outside_period", date=start,
                        start=f"{cfg.project.period.start:%d-%m-%Y}",
                        end=f"{cfg.project.period.end:%d-%m-%Y}"))
    batch.fail(end < start, "end_date", "end_before_start",
               _per_row("end_before_start", end=end, start=start))
    return start, end


def _participant_codes(batch: _Batch, frame: pd.DataFrame, outcomes: dict[str, str],
                       target_groups: dict[str, str], result: TableResult
                       ) -> tuple[pd.Series, pd.Series]:
    """A participant file's status and target group mapped through the config's vocabulary,
    never guessed: the rows with a missing or unknown value failed in ``batch``, the unknown
    statuses counted in ``result.unmapped`` (CPR numbers redacted)."""
    outcome = map_text(frame["status"], outcomes)
    raw_status = frame["status"].astype("string").str.strip()
    batch.fail(raw_status.isna() | raw_status.eq(""), "status", "missing_status",
               _detail("no_status"))
    unknown_status = outcome.isna() & raw_status.notna() & raw_status.ne("")
    batch.fail(unknown_status, "status", "unknown_status",
               _per_row("unknown_status", value=raw_status))
    counted = unknown_status & batch.reason.ne("repeated_header_row").fillna(True)
    for value, n in raw_status[counted].value_counts().items():
        counts = result.unmapped.setdefault("status", {})
        counts[redact_cpr(str(value))] = counts.get(redact_cpr(str(value)), 0) + int(n)
    tg = map_text(frame["target_group"], target_groups)
    raw_tg = frame["target_group"].astype("string").str.strip()
    batch.fail(raw_tg.isna() | raw_tg.eq(""), "target_group", "missing_target_group",
               _detail("no_target_group"))
    batch.fail(tg.isna(), "target_group", "unknown_target_group",
               _per_row("unknown_target_group", value=raw_tg))
    return outcome, tg


def _move_counts(result: TableResult, q_dup: pd.DataFrame, dups: list[dict[str, Any]]) -> None:
    """Rows removed after per-file counting move from 'clean' to quarantined/duplicates."""
    for file, n in q_dup["source_file"].value_counts().items():
        result.by_file[file]["clean"] -= int(n)
        result.by_file[file]["quarantined"] += int(n)
    for d in dups:
        result.by_file[d["file"]]["clean"] -= 1
        result.by_file[d["file"]]["duplicates"] += 1


def _empty_participants(cfg: ProjectConfig) -> pd.DataFrame:
    """No usable participant file: an empty table with the dtypes the derivations expect."""
    text = ["person_id", "delprojekt", "target_group", "gender", "outcome", "source_file"]
    dtypes = {**dict.fromkeys(text, "string"), "age_at_start": "Int64",
              "start_date": "datetime64[ns]", "end_date": "datetime64[ns]",
              **{f"element_{c}": "bool" for c in cfg.elements},
              **{f"challenge_{c}": "bool" for c in cfg.challenges}, ROW: "int64"}
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in dtypes.items()})


def _derive_participants(df: pd.DataFrame, cfg: ProjectConfig) -> pd.DataFrame:
    """Add age band, outcome group, goal-met flags, counts and days in project; the table is
    checked against its schema (and its dtypes coerced as the schema says)."""
    df = df.copy()
    bands = cfg.age.bands
    labels = [f"{lo}–{hi - 1}" for lo, hi in zip(bands[:-1], bands[1:], strict=True)]
    age = df["age_at_start"].astype("int64")
    df["age_at_start"] = age
    df["age_band"] = pd.cut(age, bins=bands, right=False, labels=labels).astype("string")
    df["age_band"] = df["age_band"].fillna(f"{bands[-1]}+")
    group = df["outcome"].astype("category").map(cfg.group_of()).astype("string")
    df["outcome_group"] = group
    active = group.eq("active")
    df["goal_met"] = group.eq("goal_met").astype("boolean").mask(active)
    df["derived_effect"] = group.eq("derived_effect").astype("boolean").mask(active)
    df["days_in_project"] = (df["end_date"] - df["start_date"]).dt.days.astype("float64")
    df["n_elements"] = df.filter(regex="^element_").sum(axis=1).astype("int64")
    df["n_challenges"] = df.filter(regex="^challenge_").sum(axis=1).astype("int64")
    df = df.rename(columns={ROW: "source_row"})
    order = ["person_id", "delprojekt", "target_group", "gender", "age_at_start", "age_band",
             "start_date", "end_date", "days_in_project", "outcome", "outcome_group", "goal_met",
             "derived_effect", *[f"element_{c}" for c in cfg.elements], "n_elements",
             *[f"challenge_{c}" for c in cfg.challenges], "n_challenges", "source_file",
             "source_row"]
    df = df[order].sort_values(["delprojekt", "source_file", "source_row"]).reset_index(drop=True)
    return check(df, cfg, "participants", "participants.parquet")


def _concat_q(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c == "source_row" else "string")
                             for c in QUARANTINE_COLUMNS})
    q = pd.concat(frames, ignore_index=True)[QUARANTINE_COLUMNS]
    q["source_row"] = q["source_row"].astype("int64")
    for c in QUARANTINE_COLUMNS:
        if c != "source_row":
            q[c] = q[c].astype("string")
    return q


def _files(cfg: ProjectConfig, specs: list[TableFiles]) -> list[tuple[TableFiles, Path]]:
    """Each configured file (globs expanded); a missing file is a clear error."""
    out = []
    for spec in specs:
        matches = sorted(cfg.raw_dir.glob(spec.path))
        if not matches:
            raise UserError(
                f"{os.path.normpath(cfg.raw_dir / spec.path)}: file not found (listed under "
                f"files: in {cfg.source_path.name if cfg.source_path else 'the config'}); "
                f"relative paths resolve from the config's folder{_old_layout_hint(cfg)}"
            )
        for m in matches:
            if redact_cpr(m.name) != m.name:  # the name would reach quality.json and reports
                raise UserError(
                    f"{cfg.raw_dir / redact_cpr(m.name)}: the file name holds a CPR number; "
                    "rename the file (e.g. after the delprojekt) and list the new name under "
                    "files: in the config")
        out.extend((spec, m) for m in matches)
    return out


def _old_layout_hint(cfg: ProjectConfig) -> str:
    """A hint when ``files.raw_dir`` is written relative to the folder above ``config/``, as
    configs were before paths resolved from the config's own folder."""
    raw = Path(cfg.files.raw_dir)
    if raw.is_absolute() or cfg.root is None or cfg.root == cfg.base_dir:
        return ""
    if (cfg.root / raw).is_dir() and not cfg.raw_dir.is_dir():
        fixed = Path(os.path.relpath(cfg.root / raw, cfg.base_dir)).as_posix()
        return f"; the folder is at {cfg.root / raw}: write raw_dir: {fixed}"
    return ""


# -- surveys, steps, quotes -----------------------------------------------------------------


def clean_survey(cfg: ProjectConfig, key: bytes, persons: Iterable[str],
                 cache: PseudonymCache | None = None) -> TableResult:
    """Survey waves (wide, Danish labels) → long numeric answers; bad answers become missing.

    Long because its three stages share the item lookup and the per-file bookkeeping: each
    file to wide answers, respondents twice in a wave, the long form file by file."""
    result = TableResult("survey_responses", pd.DataFrame(),
                         pd.DataFrame(columns=QUARANTINE_COLUMNS))
    item_lookup = {}
    for item_id, item in cfg.survey.items.items():
        for name in [item_id, item.text, *item.aliases]:
            item_lookup[normalise_header(name)] = item_id
    scale_of = {i: s for s in cfg.survey.scales for i in s.items}
    known = {*cfg.aliases("cpr"), *(n for n in item_lookup), *identifier_headers(cfg)}
    frames, quarantines, cell_issues = [], [], []
    seen_labels: dict[str, tuple[str, dict[str, str]]] = {}
    for spec, path in _files(cfg, cfg.files.survey):
        file, raw = path.name, None
        try:
            lookup = item_lookup
            if spec.sheet is None and export_kind(path):  # SurveyXact or SPSS, with labels
                export = read_export(path, spec.key, cfg.aliases("cpr"))
                raw = export.frame  # read first: its rows are counted
                lookup = _export_lookup(export, item_lookup, cfg)
                _check_export(export, lookup, cfg, seen_labels, result)
            else:
                raw, _ = read_raw(path, known, spec.sheet)  # read first: its rows are counted
            if spec.wave not in cfg.survey.waves:
                raise RawFileError("unknown_wave", file=file, wave=repr(spec.wave),
                                   waves=", ".join(cfg.survey.waves))
            frame, ignored = _map_columns(raw, cfg, file, ["cpr"], lookup, result=result)
            frame = _take_identifiers(result, file, frame)
            _note_ignored(result, file, raw, ignored)
            _require(frame, file, ["cpr"], cfg)
        except RawFileError as exc:
            raw = raw if getattr(exc, "frame", None) is None else exc.frame
            quarantines.append(_file_failure(result, file, exc, raw))
            continue
        batch = _Batch("survey_responses", file, frame, cfg.aliases("cpr"))
        pid = _person_ids(batch, key, cache, cfg)
        batch.fail(~_known(pid, persons), "cpr", "unknown_participant",
                   _detail("unknown_participant"))
        items = [c for c in frame.columns if c in cfg.survey.items]
        ok = batch.ok
        wide = pd.DataFrame({"person_id": pid[ok], "wave": spec.wave, "source_file": file,
                             ROW: frame.loc[ok, ROW]})
        for item in items:  # per distinct answer of each item column: no row-wise Python
            scale = scale_of.get(item)
            labels = cfg.survey.response_sets[scale.response_set] if scale else {}
            lookup = {normalise_value(k): float(v) for k, v in labels.items()}
            lookup.update({normalise_value(str(int(v) if float(v).is_integer() else v)): float(v)
                           for v in labels.values()})
            answers = frame.loc[ok, item]
            value = map_text(answers, lookup, dtype="Float64").astype("float64")
            wide[item] = value
            bad = norm_text(answers).notna() & value.isna()
            for row, text in zip(frame.loc[bad[bad].index, ROW], answers[bad], strict=True):
                cell_issues.append({"file": file, "row": int(row), "column": item,
                                    "problem": i18n.code("detail.off_scale",
                                                         answer=repr(redact_cpr(str(text))))})
        frames.append((items, wide))
        quarantines.append(batch.quarantine())
        result.rows_in += len(frame)
        result.by_file[file] = {"rows_in": len(frame), "clean": int(ok.sum()),
                                "quarantined": int((~ok).sum()), "duplicates": 0}
    # A respondent twice in the same wave: identical answers are a duplicate, others conflict.
    wide = pd.concat([w for _, w in frames], ignore_index=True) if frames else pd.DataFrame(
        columns=["person_id", "wave", "source_file", ROW])
    compare = sorted(c for c in wide.columns if c in cfg.survey.items)
    wide, q_dup, dups = _dedupe(wide, ["person_id", "wave"], compare, "survey_responses")
    _move_counts(result, q_dup, dups)
    result.duplicates = dups
    # long form, one row per answer, file by file and item by item (each file's own items)
    longs = [wide[wide["source_file"].eq(file)][["person_id", ROW, *items, "wave", "source_file"]]
             .melt(id_vars=["person_id", ROW, "wave", "source_file"], var_name="item",
                   value_name="value")
             for items, file in ((i, w["source_file"].iloc[0]) for i, w in frames if len(w))]
    long = pd.concat(longs, ignore_index=True) if longs else pd.DataFrame(
        columns=["person_id", "wave", "item", "value", "source_file", ROW])
    result.clean = long.rename(columns={ROW: "source_row"})[
        ["person_id", "wave", "item", "value", "source_file", "source_row"]
    ].reset_index(drop=True)
    result.quarantine = _concat_q([*quarantines, q_dup])
    if cell_issues:
        result.warnings.append(i18n.code("off_scale", n=len(cell_issues)))
    result.cell_issues = cell_issues
    return result


def _export_lookup(export: Any, item_lookup: dict[str, str], cfg: ProjectConfig
                   ) -> dict[str, str]:
    """Header → item id (or 'cpr') for an export: by variable name, else by question text."""
    cpr_names = {normalise_header(a) for a in cfg.aliases("cpr")}
    out = dict(item_lookup)
    for var in export.frame.columns:
        if var == ROW:
            continue
        for name in export.names_for(var):
            norm = normalise_header(name)
            if norm in item_lookup or norm in cpr_names:
                out[normalise_header(var)] = item_lookup.get(norm, "cpr")
                break
    return out


def _check_export(export: Any, lookup: dict[str, str], cfg: ProjectConfig,
                  seen: dict[str, tuple[str, dict[str, str]]], result: TableResult) -> None:
    """A scale whose items are only partly in the export, and value labels that changed
    meaning since an earlier wave, make the file unusable; the message names file, sheet and
    variable. Labels of a usable file are remembered for the next wave."""
    file = export.file
    if export.frame.empty:
        raise RawFileError("export_no_respondents", file=file)
    item_of = {var: lookup.get(normalise_header(var)) for var in export.frame.columns
               if var != ROW}
    found = {i for i in item_of.values() if i in cfg.survey.items}
    for scale in cfg.survey.scales:
        missing = [i for i in scale.items if i not in found]
        if missing and len(missing) < len(scale.items):
            names = "; ".join(f"survey.items.{i} ({', '.join(repr(n) for n in [i, cfg.survey.items[i].text, *cfg.survey.items[i].aliases])})" for i in missing)  # noqa: E501
            raise RawFileError("scale_items_missing", file=file, missing=len(missing),
                               total=len(scale.items), scale=repr(scale.id), names=names)
        if missing:
            result.warnings.append(i18n.code("scale_not_in_export", file=file, scale=scale.id))
    new: dict[str, tuple[str, dict[str, str]]] = {}
    for var, item in item_of.items():
        if item not in cfg.survey.items or var not in export.labels:
            continue
        here = export.labels[var]
        new[item] = (i18n.code("file_error.label_place", file=file, labels_at=export.labels_at,
                               variable=repr(var)), here)
        if item not in seen:
            continue
        where, there = seen[item]
        scale = next((s for s in cfg.survey.scales if item in s.items), None)
        numbers = {normalise_header(k): v for k, v in (
            cfg.survey.response_sets[scale.response_set].items() if scale else [])}
        for code in sorted(set(here) & set(there)):
            a, b = there[code], here[code]
            same = normalise_header(a) == normalise_header(b) or (
                numbers.get(normalise_header(a)) is not None
                and numbers.get(normalise_header(a)) == numbers.get(normalise_header(b)))
            if not same:
                raise RawFileError("labels_changed", place=new[item][0], item=repr(item),
                                   earlier=where, value=code, before=repr(a), now=repr(b))
    seen.update(new)
    result.warnings.extend(export.warnings)
    for var, n in export.user_missing.items():
        result.warnings.append(i18n.code("spss_user_missing", file=file, n=n, var=var))


def clean_steps(cfg: ProjectConfig, key: bytes, persons: Iterable[str],
                cache: PseudonymCache | None = None) -> TableResult:
    """The log of 'skridt på vejen': one row per step reached, mapped to the ladder."""
    result = TableResult("steps", pd.DataFrame(), pd.DataFrame(columns=QUARANTINE_COLUMNS))
    ladder = vocabulary({s.id: s for s in cfg.steps.ladder})
    rank = {s.id: i for i, s in enumerate(cfg.steps.ladder, start=1)}
    known = {*cfg.aliases("cpr"), *cfg.aliases("step"), *cfg.aliases("step_date"),
             *identifier_headers(cfg)}
    frames, quarantines = [], []
    for spec, path in _files(cfg, cfg.files.steps):
        file, raw = path.name, None
        try:
            raw, _ = read_raw(path, known, spec.sheet)
            frame, ignored = _map_columns(raw, cfg, file, ["cpr", "step", "step_date"],
                                          result=result)
            frame = _take_identifiers(result, file, frame)
            _note_ignored(result, file, raw, ignored)
            _require(frame, file, ["cpr", "step"], cfg)
        except RawFileError as exc:
            quarantines.append(_file_failure(result, file, exc, raw))
            continue
        batch = _Batch("steps", file, frame, cfg.aliases("cpr"))
        pid = _person_ids(batch, key, cache, cfg)
        batch.fail(~_known(pid, persons), "cpr", "unknown_participant",
                   _detail("unknown_participant"))
        step = map_text(frame["step"], ladder)
        batch.fail(step.isna(), "step", "unknown_step",
                   _per_row("unknown_step", value=frame["step"]))
        date = (parse_dates(frame["step_date"], cfg.date_formats) if "step_date" in frame.columns
                else pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]"))
        if "step_date" in frame.columns:
            raw_date = frame["step_date"].astype("string").str.strip()
            batch.fail(raw_date.notna() & raw_date.ne("") & date.isna(), "step_date",
                       "invalid_date", _per_row("not_a_date", value=raw_date))
        ok = batch.ok
        step_rank = step.astype("category").map(rank)
        frames.append(pd.DataFrame({"person_id": pid, "step": step, "step_rank": step_rank,
                                    "date": date, "source_file": file, ROW: frame[ROW]})[ok])
        _count_unknown(result, batch, {"unknown_step": "step"})
        quarantines.append(batch.quarantine())
        result.rows_in += len(frame)
        result.by_file[file] = {"rows_in": len(frame), "clean": int(ok.sum()),
                                "quarantined": int((~ok).sum()), "duplicates": 0}
    steps = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["person_id", "step", "step_rank", "date", "source_file", ROW])
    steps, q_dup, dups = _dedupe(steps, ["person_id", "step", "date"], ["step_rank"], "steps")
    _move_counts(result, q_dup, dups)
    result.duplicates = dups
    result.clean = steps.rename(columns={ROW: "source_row"}).reset_index(drop=True)
    result.clean["step_rank"] = result.clean["step_rank"].astype("int64")
    result.quarantine = _concat_q([*quarantines, q_dup])
    return result


def clean_quotes(cfg: ProjectConfig, key: bytes, persons: Iterable[str],
                 cache: PseudonymCache | None = None, names: Iterable[str] = ()
                 ) -> TableResult:
    """Coded quotes and case descriptions, each tied to a hypothesis id of the config.

    A quotes sheet has a row per quote; a REFI-QDA project (``.qdpx``) a coding per code and
    selected text (see :mod:`ungeanalyse.qda`). ``names`` (the participant lists' names) and the
    names of a project's cases and users are looked for in every quote: a quote that names a
    person or holds a CPR number, phone number or e-mail address is quarantined, never kept.
    Long because quotes sheets and REFI-QDA projects share one loop, so that every quote meets
    the same privacy checks whatever file it came from.
    """
    from .privacy import NameMatcher, find_cpr, find_emails, find_phones, name_fingerprints
    from .qda import coded_segments, read_qdpx

    result = TableResult("quotes", pd.DataFrame(), pd.DataFrame(columns=QUARANTINE_COLUMNS))
    known_names = set(names)
    hyp = {normalise_header(h.id): h.id for h in cfg.hypotheses}
    sources = {normalise_header(a): k for k, names in SOURCE_TYPES.items() for a in names}
    delprojekter = {normalise_value(d.id): d.id for d in cfg.delprojekter}
    delprojekter.update({normalise_value(d.name): d.id for d in cfg.delprojekter})
    canon = ["cpr", "hypothesis_id", "source_type", "quote", "delprojekt"]
    known = {a for c in canon for a in cfg.aliases(c)} | set(identifier_headers(cfg))
    frames, quarantines = [], []
    for spec, path in _files(cfg, cfg.files.quotes):
        file, raw = path.name, None
        try:
            if path.suffix.lower() == ".qdpx":
                project = read_qdpx(path)
                result.identifiers.names.update(project.identifiers())
                raw, qda_warnings = coded_segments(project, cfg)
                result.warnings.extend(qda_warnings)
                if raw.empty:
                    raise RawFileError("no_coded_segments", file=file)
                frame = raw
            else:
                raw, _ = read_raw(path, known, spec.sheet)
                frame, ignored = _map_columns(raw, cfg, file, canon, result=result)
                frame = _take_identifiers(result, file, frame)
                _note_ignored(result, file, raw, ignored)
            _require(frame, file, ["hypothesis_id", "source_type", "quote"], cfg)
        except RawFileError as exc:
            quarantines.append(_file_failure(result, file, exc, raw))
            continue
        batch = _Batch("quotes", file, frame)
        if "_reason" in frame.columns:  # what the QDA project itself makes unusable
            judged = frame[frame["_reason"].notna()]
            for (column, reason), _ in judged.groupby(["_column", "_reason"]):
                batch.fail(frame["_reason"].eq(reason) & frame["_column"].eq(column), column,
                           reason, frame["_detail"])
        h = map_text(frame["hypothesis_id"], hyp)
        batch.fail(h.isna(), "hypothesis_id", "unknown_hypothesis",
                   _per_row("unknown_hypothesis", value=frame["hypothesis_id"]))
        src = map_text(frame["source_type"], sources)
        batch.fail(src.isna(), "source_type", "unknown_source_type",
                   _per_row("unknown_source_type", value=frame["source_type"]))
        text = frame["quote"].astype("string").str.strip()
        batch.fail(text.isna() | text.eq(""), "quote", "empty_quote", _detail("no_text"))
        matcher = NameMatcher(name_fingerprints(known_names | result.identifiers.names,
                                                key), key)
        personal = pd.Series([bool(t) and bool(find_cpr(t) or find_phones(t) or find_emails(t)
                                               or matcher.count(t))
                              for t in text.fillna("")], index=frame.index)
        batch.fail(personal, "quote", "quote_personal_data", _detail("quote_personal"))
        if "delprojekt" in frame.columns:
            dp = map_text(frame["delprojekt"], delprojekter)
            batch.fail(norm_text(frame["delprojekt"]).notna() & dp.isna(), "delprojekt",
                       "unknown_delprojekt",
                       _per_row("unknown_delprojekt", value=frame["delprojekt"]))
        else:
            dp = pd.Series(pd.NA, index=frame.index, dtype="string")
        pid = pd.Series(pd.NA, index=frame.index, dtype="string")
        if "cpr" in frame.columns:
            has_cpr = norm_text(frame["cpr"]).notna()
            sub = _Batch("quotes", file, frame[has_cpr].copy(), cfg.aliases("cpr"))
            if has_cpr.any():
                sub_pid = _person_ids(sub, key, cache, cfg)
                batch.fail(sub.reason.reindex(frame.index).notna(), "cpr", "invalid_cpr",
                           sub.detail.reindex(frame.index).fillna(""))
                batch.fail(has_cpr & ~_known(sub_pid.reindex(frame.index), persons), "cpr",
                           "unknown_participant",
                           _detail("unknown_participant"))
                pid[has_cpr] = sub_pid
        ok = batch.ok
        frames.append(pd.DataFrame({
            "quote_id": Path(file).stem + "-" + frame[ROW].astype(int).astype(str),
            "hypothesis_id": h, "source_type": src, "delprojekt": dp, "person_id": pid,
            "text": text, "source_file": file, "source_row": frame[ROW].astype(int)})[ok])
        _count_unknown(result, batch, {"unknown_hypothesis": "hypothesis_id",
                                       "unknown_source_type": "source_type",
                                       "unknown_delprojekt": "delprojekt"})
        quarantines.append(batch.quarantine())
        result.rows_in += len(frame)
        result.by_file[file] = {"rows_in": len(frame), "clean": int(ok.sum()),
                                "quarantined": int((~ok).sum()), "duplicates": 0}
    result.clean = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=["quote_id", "hypothesis_id", "source_type", "delprojekt", "person_id", "text",
                 "source_file", "source_row"]))
    result.quarantine = _concat_q(quarantines)
    return result


# -- the whole project ----------------------------------------------------------------------


@dataclass
class CleanResult:
    """All clean tables of a project, the quarantine and the quality report."""

    participants: pd.DataFrame
    survey_responses: pd.DataFrame
    steps: pd.DataFrame
    quotes: pd.DataFrame
    quarantine: pd.DataFrame
    quality: dict[str, Any]

    def summary(self) -> str:
        """Rows in, clean, quarantined and duplicates per table, and file-level problems."""
        lines = []
        for name, q in self.quality["tables"].items():
            lines.append(f"{name:17s} rows in {q['rows_in']:>7}  clean {q['clean']:>7}  "
                         f"quarantined {q['quarantined']:>5}  duplicates {q['duplicates']:>3}")
            for err in q["file_errors"]:
                lines.append(f"  ! {err['error']}")
            for reason, n in q["by_reason"].items():
                lines.append(f"    {n:>5} × {i18n.reason(reason, 'en')}")
        return "\n".join(lines)


EMPTY_COLUMNS = {
    "survey_responses": {"person_id": "string", "wave": "string", "item": "string",
                         "value": "float64", "source_file": "string", "source_row": "int64"},
    "steps": {"person_id": "string", "step": "string", "step_rank": "int64",
              "date": "datetime64[ns]", "source_file": "string", "source_row": "int64"},
    "quotes": {"quote_id": "string", "hypothesis_id": "string", "source_type": "string",
               "delprojekt": "string", "person_id": "string", "text": "string",
               "source_file": "string", "source_row": "int64"},
}
"""The columns of a table the config lists no files for: it is written empty, not shapeless,
so that a project without survey, steps or quotes reads like one with none."""


def _empty_table(name: str) -> pd.DataFrame:
    """The table of that name with its columns and no rows (it passes its schema under any
    config: tests/test_clean.py)."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in EMPTY_COLUMNS.get(name, {}).items()})


def own_vocabulary(cfg: ProjectConfig) -> set[str]:
    """The words of the texts the package and the config may write into a report (code, the
    language catalogues, templates, notebooks, the config's labels): a surname that is one of
    them is not looked for on its own."""
    from .privacy import name_tokens

    words = set(_package_words())
    if cfg.source_path and cfg.source_path.exists():
        words.update(name_tokens(cfg.source_path.read_text(encoding="utf-8",
                                                           errors="replace")))
    return words


@functools.lru_cache(maxsize=1)
def _package_words() -> frozenset[str]:
    """The words of the package's own texts (code, catalogues, templates, shipped notebooks),
    read once per process."""
    from .bundled import notebooks_dir
    from .privacy import name_tokens

    root = Path(__file__).resolve().parent
    files = [*sorted(root.rglob("*")), *sorted(notebooks_dir().glob("*.ipynb"))]
    return frozenset(w for p in files if p.is_file() and "__pycache__" not in p.parts
                     and p.suffix in {".py", ".yml", ".j2", ".ipynb"}
                     for w in name_tokens(p.read_text(encoding="utf-8", errors="replace")))


def clean_project(cfg: ProjectConfig, key: bytes | None = None, write: bool = True,
                  today: dt.date | None = None) -> CleanResult:
    """Clean every raw file of a project; writes parquet tables and quality.json atomically."""
    from . import __version__
    from .privacy import identifier_fingerprints, key_fingerprint, load_key

    if key is None:
        key = load_key(cfg.project.id, demo=cfg.privacy.demo, key_file=cfg.key_file)
    cache = PseudonymCache()  # CPR digits → pseudonym, in memory for this run only
    parts = clean_participants(cfg, key, today, cache)
    persons = pd.Index(parts.clean["person_id"].astype(object)).unique()
    results = [parts]
    results.append(clean_survey(cfg, key, persons, cache) if cfg.files.survey else None)
    results.append(clean_steps(cfg, key, persons, cache) if cfg.files.steps else None)
    results.append(clean_quotes(cfg, key, persons, cache, parts.identifiers.names)
                   if cfg.files.quotes else None)
    tables = {}
    empty = {name for name, res in zip(TABLES, results, strict=True) if res is None}
    for name, res in zip(TABLES, results, strict=True):
        tables[name] = res if res is not None else TableResult(
            name, _empty_table(name), pd.DataFrame(columns=QUARANTINE_COLUMNS))
        tables[name].partner_columns()
    quality = {
        "project": cfg.project.id,
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "package_version": __version__,
        "key_fingerprint": key_fingerprint(key),
        "tables": {n: t.quality() for n, t in tables.items()},
        "cell_issues": tables["survey_responses"].cell_issues,
    }
    quarantine = _concat_q([t.quarantine for t in tables.values()])
    out = CleanResult(
        participants=tables["participants"].clean,
        survey_responses=tables["survey_responses"].clean,
        steps=tables["steps"].clean,
        quotes=tables["quotes"].clean,
        quarantine=quarantine,
        quality=quality,
    )
    if write:
        target = cfg.processed_dir
        for name in TABLES:  # each checked against its schema (participants: when derived;
            # an empty table of a kind the config lists no files for passes by construction)
            write_table(getattr(out, name), cfg, name,
                        checked=name == "participants" or name in empty)
        write_table(quarantine, cfg, "quarantine")
        ids = Identifiers()
        for table in tables.values():
            ids.update(table.identifiers)
        fps = identifier_fingerprints(ids, key, own_vocabulary(cfg))
        write_json(sorted(fps), target / "name_fingerprints.json")
        write_json(quality, target / "quality.json")
    return out
