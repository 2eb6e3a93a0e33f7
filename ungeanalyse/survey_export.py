"""Survey exports as they come: SurveyXact (Excel or CSV) and SPSS ``.sav`` with their labels.

SurveyXact (Ramboll) exports a survey as

- an Excel workbook with a ``Dataset`` sheet (one row per respondent, one column per variable,
  answers as numeric codes; a wide survey is split over ``Dataset``, ``Dataset (2)``, …), a
  ``Structure`` sheet (``questionName``, ``variableName``, ``questionType``, ``subType``,
  ``questionText``, ``choiceValue``, ``choiceText``; some versions call it ``Variables``) and a
  ``Labels`` sheet without a header (variable name, value, value label);
- or three CSV files, ``dataset.csv``, ``structure.csv`` and ``labels.csv``, in UTF-16 with tabs
  or in Windows cp1252 with ``;`` (the "European" format).

This layout follows the public R reader ``readSX`` (NIFU) and its example exports. An SPSS file
carries the same information itself: variable labels (the question texts), value labels and
user-missing values (answers such as "Ved ikke" declared missing), read with ``pyreadstat``.

``read_export`` gives a frame like ``io.read_raw``'s (text cells with the *labels* applied, the
variable names as headers, ``__row__``), the question text of each variable, the value labels
and where they came from, so that the clean stage can map an item by its variable name or its
question text and compare labels between waves.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import i18n
from .io import ROW, RawFileError, _sniff_delimiter, decode, normalise_header

_DATASET = re.compile(r"^dataset\b", re.I)
_STRUCTURE = ("structure", "variables")
_VAR_COLS = ("variablename", "variable", "variabel", "variabelnavn", "varname", "name")
_TEXT_COLS = ("questiontext", "question text", "spørgsmålstekst", "label", "text", "tekst")
_WHOLE = re.compile(r"^-?\d+[.,]0+$")
_RESPONDENT = ("respondentid", "respondent id", "respondent", "respondentnummer")


class ExportError(RawFileError):
    """An export that cannot be used; ``frame`` holds its respondents' rows, so that they are
    counted (and quarantined) rather than lost."""

    def __init__(self, code: str, /, frame: pd.DataFrame | None = None, **params: Any) -> None:
        super().__init__(code, **params)
        self.frame = frame


@dataclass
class SurveyExport:
    """A survey export read with its metadata; ``frame`` holds label texts, not codes."""

    file: str
    kind: str  # "SurveyXact" or "SPSS"
    frame: pd.DataFrame
    question: dict[str, str] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)
    sheet_of: dict[str, str] = field(default_factory=dict)
    labels_at: str | dict[str, Any] = ""
    """Where the value labels are: a file name, or a code ('sheet 'Labels'', 'value labels')."""
    user_missing: dict[str, int] = field(default_factory=dict)
    warnings: list[str | dict[str, Any]] = field(default_factory=list)

    def names_for(self, variable: str) -> list[str]:
        """The names an item may be mapped by: the variable name, its question text and the
        text after the last ' - ' (a matrix question's item)."""
        names = [variable]
        text = self.question.get(variable)
        if text:
            names.append(text)
            if " - " in text:
                names.append(text.rsplit(" - ", 1)[1])
        return names

    def where(self, variable: str) -> str:
        """'sheet 'Dataset (2)', column 'u_3'' for messages."""
        sheet = self.sheet_of.get(variable)
        return f"sheet {sheet!r}, column {variable!r}" if sheet else f"column {variable!r}"


def export_kind(path: Path) -> str | None:
    """'surveyxact' (a workbook with a Dataset sheet, or a dataset CSV with a structure/labels
    file beside it), 'spss' (.sav) or None (a plain table)."""
    suffix = path.suffix.lower()
    if suffix == ".sav":
        return "spss"
    if suffix in {".xlsx", ".xlsm"}:
        return "surveyxact" if any(_DATASET.match(s) for s in _sheet_names(path)) else None
    if suffix in {".csv", ".txt", ".tsv"} and "dataset" in path.name.casefold():
        return "surveyxact" if (_sibling(path, "structure") or _sibling(path, "labels")) \
            else None
    return None


def _sheet_names(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as zf:
            book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError):
        return []
    import html

    return [html.unescape(n) for n in re.findall(r'<(?:\w+:)?sheet\b[^>]*?name="([^"]*)"', book)]


def companion_files(path: Path) -> list[Path]:
    """The files read together with ``path``: a SurveyXact dataset.csv's structure and labels
    files (so that a change in one of them is a change in the raw data)."""
    if path.suffix.lower() not in {".csv", ".txt", ".tsv"} or "dataset" not in \
            path.name.casefold():
        return []
    return [p for p in (_sibling(path, "structure"), _sibling(path, "labels")) if p]


def _sibling(path: Path, part: str) -> Path | None:
    """``labels.csv`` next to ``dataset.csv`` (also ``baseline_labels.csv`` next to
    ``baseline_dataset.csv``)."""
    i = path.name.casefold().find("dataset")
    name = path.name[:i] + part + path.name[i + len("dataset"):]
    for candidate in path.parent.iterdir():
        if candidate.name.casefold() == name.casefold():
            return candidate
    return None


def read_export(path: str | Path, key: str | None = None,
                known_keys: list[str] | None = None) -> SurveyExport:
    """Read a SurveyXact export or an SPSS file; ``key`` (or one of ``known_keys``, e.g. the CPR
    aliases, or a respondent id) joins a SurveyXact dataset split over several sheets."""
    path = Path(path)
    kind = export_kind(path)
    if kind == "spss":
        return _read_spss(path)
    if kind != "surveyxact":
        raise RawFileError("not_an_export", file=path.name)
    if path.suffix.lower() in {".xlsx", ".xlsm"}:
        return _read_surveyxact_xlsx(path, key, known_keys or [])
    return _read_surveyxact_csv(path)


# -- SurveyXact -------------------------------------------------------------------------------


def _cell(v: Any) -> str | None:
    """A cell as text: 3.0 → '3', blank → None."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    text = str(v).strip()
    if _WHOLE.match(text):  # '4.0' from a column that also holds blanks
        text = text.split(".")[0].split(",")[0]
    return text or None


def _in_sheet(file: str, sheet: str) -> dict[str, Any]:
    """'file, sheet 'X'' as a code the report words in its language."""
    return i18n.code("file_error.in_sheet", file=file, sheet=repr(sheet))


def _structure(rows: list[list[Any]], where: str | dict[str, Any]) -> dict[str, str]:
    """variable name → question text (a multiple-choice variable: question - choice);
    ``where`` is the file, or the file and sheet (:func:`_in_sheet`)."""
    if not rows:
        raise RawFileError("structure_empty", where=where)
    header = [normalise_header(h or "") for h in rows[0]]
    var = next((header.index(c) for c in _VAR_COLS if c in header), None)
    text = next((header.index(c) for c in _TEXT_COLS if c in header), None)
    if var is None or text is None:
        raise RawFileError("structure_no_columns", where=where,
                           header=", ".join(repr(h) for h in rows[0] if h))
    sub = header.index("subtype") if "subtype" in header else None
    choice = header.index("choicetext") if "choicetext" in header else None
    out = {}
    for r in rows[1:]:
        r = list(r) + [None] * (len(header) - len(r))
        name, question = _cell(r[var]), _cell(r[text])
        if not name:
            continue
        question = " ".join((question or "").split())
        if sub is not None and choice is not None and (_cell(r[sub]) or "").casefold() \
                == "multiple" and _cell(r[choice]):
            question = f"{question} - {' '.join(_cell(r[choice]).split())}"
        out[name] = question
    return out


def _labels(rows: list[list[Any]], where: str | dict[str, Any]) -> dict[str, dict[str, str]]:
    """variable name → {value: label} from the header-less Labels sheet or labels.csv."""
    out: dict[str, dict[str, str]] = {}
    for i, r in enumerate(rows):
        r = [*r, None, None, None][:3]
        name, value, label = (_cell(c) for c in r)
        if i == 0 and (normalise_header(label or "") in {"valuelabel", "label"}):
            continue  # a header row after all
        if name and value is not None and label is not None:
            out.setdefault(name, {})[value] = " ".join(label.split())
    if not out:
        raise RawFileError("labels_empty", where=where)
    return out


def _apply_labels(frame: pd.DataFrame, labels: dict[str, dict[str, str]]) -> pd.DataFrame:
    """Codes → label texts, per distinct value; values without a label stay as they are."""
    out = frame.copy()
    for col in out.columns:
        if col == ROW:
            continue
        values = out[col].map(_cell, na_action="ignore")
        lookup = labels.get(col)
        if lookup:
            values = values.map(lambda v, lk=lookup: lk.get(v, v), na_action="ignore")
        out[col] = values.astype(object)
    return out


def _read_surveyxact_xlsx(path: Path, key: str | None, known_keys: list[str]) -> SurveyExport:
    from .io import _check_workbook_magic

    _check_workbook_magic(path)
    sheets = _sheet_names(path)
    data_sheets = [s for s in sheets if _DATASET.match(s)]
    missing = [want for want, names in (("Labels", ("labels",)),
                                        ("Structure", _STRUCTURE))
               if not any(s.casefold() in names for s in sheets)]
    if missing:
        try:
            rows = pd.read_excel(path, sheet_name=data_sheets[0], dtype=object,
                                 engine="openpyxl")
            rows[ROW] = rows.index + 2
        except Exception:  # the message below is what matters
            rows = None
        which = (repr(missing[0]) if len(missing) == 1 else i18n.code(
            "file_error.either_sheet", first=repr(missing[0]), second=repr(missing[1])))
        raise ExportError(
            "sx_missing_sheet", rows, file=path.name, missing=which,
            sheets=", ".join(map(repr, sheets)),
            why=i18n.code("file_error.why_labels" if "Labels" in missing
                          else "file_error.why_structure"))
    try:
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise RawFileError("excel_unreadable", file=path.name, error=str(exc)) from None
    structure_sheet = next(s for s in sheets if s.casefold() in _STRUCTURE)
    question = _structure(_rows(book[structure_sheet]), _in_sheet(path.name, structure_sheet))
    labels_sheet = next(s for s in sheets if s.casefold() == "labels")
    labels = _labels(_rows(book[labels_sheet]), _in_sheet(path.name, labels_sheet))
    parts = []
    for s in data_sheets:
        grid = book[s].dropna(how="all")
        if grid.empty:
            raise RawFileError("sheet_empty", file=path.name, sheet=repr(s))
        header = [_cell(v) or f"Unavngivet kolonne {j + 1}" for j, v in enumerate(grid.iloc[0])]
        body = grid.iloc[1:].copy()
        body.columns = header
        body[ROW] = body.index + 1
        parts.append((s, body.reset_index(drop=True)))
    frame, sheet_of, warnings = _join(path.name, parts, key, known_keys)
    return SurveyExport(path.name, "SurveyXact", _apply_labels(frame, labels), question, labels,
                        sheet_of, i18n.code("file_error.sheet", sheet=repr(labels_sheet)),
                        warnings=warnings)


def _rows(grid: pd.DataFrame) -> list[list[Any]]:
    return grid.dropna(how="all").to_numpy(dtype=object).tolist()


def _join(file: str, parts: list[tuple[str, pd.DataFrame]], key: str | None,
          known_keys: list[str]) -> tuple[pd.DataFrame, dict[str, str], list[str]]:
    """One frame from the Dataset sheets: joined on the respondent key (the config's ``key``,
    a respondent id, or the CPR column), row by row only when no sheet repeats a key."""
    sheet_of = {c: s for s, body in parts for c in body.columns if c != ROW}
    if len(parts) == 1:
        return parts[0][1], sheet_of, []
    norm = [{normalise_header(c): c for c in body.columns if c != ROW} for _, body in parts]
    wanted = [key] if key else [*_RESPONDENT, *known_keys]
    join = next((normalise_header(k) for k in wanted
                 if all(normalise_header(k) in n for n in norm)), None)
    if key and join is None:
        lacking = [s for (s, _), n in zip(parts, norm, strict=True)
                   if normalise_header(key) not in n]
        raise RawFileError("key_not_in_sheets", file=file, key=repr(key),
                           sheets=", ".join(map(repr, lacking)))
    first_sheet, frame = parts[0]
    warnings = []
    if join is None:
        sizes = {s: len(b) for s, b in parts}
        if len(set(sizes.values())) != 1:
            raise RawFileError("sheets_differ", file=file,
                               sizes=", ".join(f"{s!r} {n}" for s, n in sizes.items()))
        warnings.append(i18n.code("sheets_joined", file=file))
        for _, body in parts[1:]:
            frame = pd.concat([frame, body.drop(columns=[ROW])], axis=1)
        return frame, sheet_of, warnings
    for (s, body), n in zip(parts, norm, strict=True):
        col = n[join]
        keys = body[col].map(_cell, na_action="ignore")
        dup = keys[keys.notna() & keys.duplicated()]
        if len(dup):
            rows = ", ".join(str(int(r)) for r in body.loc[dup.index, ROW][:5])
            raise RawFileError("key_repeats", file=file, sheet=repr(s), column=repr(col),
                               rows=rows)
        body[col] = keys
    key_col = norm[0][join]
    for (s, body), n in zip(parts[1:], norm[1:], strict=True):
        body = body.drop(columns=[ROW]).rename(columns={n[join]: key_col})
        extra = set(body[key_col].dropna()) - set(frame[key_col].dropna())
        if extra:
            raise RawFileError("not_in_first_sheet", file=file, sheet=repr(s), n=len(extra),
                               first=repr(first_sheet))
        frame = frame.merge(body, on=key_col, how="left", suffixes=("", f"__{s}"))
    return frame, sheet_of, warnings


def _read_text(path: Path) -> list[list[str]]:
    text, _ = decode(path.read_bytes(), path)
    if not text.strip():
        raise RawFileError("empty", file=path.name)
    rows = list(csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(text)))
    return [r for r in rows if any(c.strip() for c in r)]


def _read_surveyxact_csv(path: Path) -> SurveyExport:
    structure_path, labels_path = _sibling(path, "structure"), _sibling(path, "labels")
    rows = _read_text(path)
    header, body = rows[0], rows[1:]
    width = len(header)
    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in body],
                         columns=[h.strip() or f"Unavngivet kolonne {j + 1}"
                                  for j, h in enumerate(header)], dtype=object)
    frame = frame.replace({"": None})
    frame[ROW] = range(2, len(frame) + 2)
    if labels_path is None:
        raise ExportError("sx_no_labels_file", frame, file=path.name,
                          expected=path.name.replace("dataset", "labels"))
    if structure_path is None:
        raise ExportError("sx_no_structure_file", frame, file=path.name,
                          expected=path.name.replace("dataset", "structure"))
    question = _structure(_read_text(structure_path), structure_path.name)
    labels = _labels(_read_text(labels_path), labels_path.name)
    return SurveyExport(path.name, "SurveyXact", _apply_labels(frame, labels), question, labels,
                        {}, labels_path.name)


# -- SPSS ---------------------------------------------------------------------------------------


def _read_spss(path: Path) -> SurveyExport:
    try:
        import pyreadstat

        data, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except Exception as exc:
        raise RawFileError("spss_unreadable", file=path.name, error=str(exc)) from None
    labels = {var: {_cell(float(k)) if isinstance(k, int | float) else str(k): " ".join(
        str(v).split()) for k, v in vl.items()} for var, vl in meta.variable_value_labels.items()}
    missing: dict[str, int] = {}
    frame = data.astype(object)
    for var, ranges in (meta.missing_ranges or {}).items():
        values = pd.to_numeric(data[var], errors="coerce") if var in data else None
        if values is None:
            continue
        hit = pd.Series(False, index=data.index)
        for r in ranges:
            lo, hi = r["lo"], r["hi"]
            if isinstance(lo, int | float) and isinstance(hi, int | float):
                hit |= values.between(lo, hi)
            else:
                hit |= data[var].astype(str).eq(str(lo))
        if hit.any():
            missing[var] = int(hit.sum())
            frame.loc[hit, var] = None
    frame[ROW] = range(2, len(frame) + 2)
    question = {k: " ".join(str(v).split()) for k, v in meta.column_names_to_labels.items()
                if v}
    return SurveyExport(path.name, "SPSS", _apply_labels(frame, labels), question, labels, {},
                        i18n.code("file_error.spss_labels"), missing)


# -- writing (the demo and the tests) ---------------------------------------------------------


def write_surveyxact(path: str | Path, datasets: list[pd.DataFrame],
                     structure: pd.DataFrame, labels: pd.DataFrame, csv_format: str | None = None,
                     stamp: Any = None) -> list[Path]:
    """Write a SurveyXact-shaped export: a workbook with ``Dataset`` (``Dataset (2)``, …),
    ``Structure`` and ``Labels`` sheets, or with ``csv_format`` 'utf16' / 'cp1252' three files
    ``<stem>dataset.csv``, ``…structure.csv``, ``…labels.csv``. Returns the paths written."""
    from .io import atomic_write

    path = Path(path)
    if csv_format is None:
        def write(tmp: Path) -> None:
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                if stamp is not None:
                    writer.book.properties.created = stamp
                for i, d in enumerate(datasets):
                    d.to_excel(writer, index=False,
                               sheet_name="Dataset" if i == 0 else f"Dataset ({i + 1})")
                structure.to_excel(writer, index=False, sheet_name="Structure")
                labels.to_excel(writer, index=False, header=False, sheet_name="Labels")
        atomic_write(path, write)
        if stamp is not None:
            from .demo import _pin_zip_times

            _pin_zip_times(path, stamp)
        return [path]
    encoding, sep = {"utf16": ("utf-16", "\t"), "cp1252": ("cp1252", ";")}[csv_format]
    out = []
    for part, frame, header in (("dataset", datasets[0], True), ("structure", structure, True),
                                ("labels", labels, False)):
        target = path.with_name(path.name.replace("dataset", part))
        text = frame.to_csv(index=False, header=header, sep=sep, lineterminator="\r\n")
        atomic_write(target, lambda p, t=text: p.write_bytes(t.encode(encoding)))
        out.append(target)
    return out
