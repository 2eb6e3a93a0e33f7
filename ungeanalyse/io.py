"""Reading partner files and writing outputs atomically.

Partners send .xlsx (sometimes with a title row above the header, merged cells, Excel date
serials), .csv (utf-8, utf-8 with BOM or cp1252; ``;`` or ``,``) and SPSS .sav. ``read_raw``
turns any of them into a frame of text cells plus ``__row__``, the row number a person sees when
they open the file, so that every message can point at file, row and column.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from . import i18n
from .errors import UserError
from .files import atomic_write, write_json  # noqa: F401  (were defined here)

ENCODINGS = ("utf-8-sig", "utf-8", "cp1252")
ROW = "__row__"
HEADER_SEARCH_ROWS = 15
UNNAMED = "Unavngivet kolonne"
"""Name given to a column without a header cell (followed by its 1-based position)."""
_CPR_LIKE = re.compile(r"(?<!\d)\d{6}[-\s]?\d{4}(?!\d)|(?<!\d)\d{9}(?:\.0)?(?!\d)")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def normalise_value(value: object) -> str:
    """Compare cell values (statuses, target groups, answers) ignoring case, spacing and a
    trailing dot; unlike headers, "-1" stays apart from "1"."""
    return " ".join(str(value).split()).casefold().rstrip(".").strip()


_JOINERS = re.compile(r"[\s_\-./]+")


def normalise_header(name: object) -> str:
    """Compare column names ignoring case, spacing, trailing punctuation and how words are
    joined ("CPR nummer" = "cpr-nummer" = "CPR_nummer", "Tlf.nr" = "tlf nr")."""
    text = str(name).casefold().strip().rstrip(".:")
    return _JOINERS.sub(" ", text).strip()


class RawFileError(UserError):
    """A partner file that cannot be read at all; names the file and says why.

    Raised with a code of the catalogue's ``file_error`` section and its parameters
    (``RawFileError("empty", file="a.csv")``): ``message`` keeps them for quality.json, where
    the data-quality page words them in the report's language, and the exception's own text
    is the English wording (what the command line prints)."""

    def __init__(self, code: str, /, **params: Any) -> None:
        self.message = i18n.code(f"file_error.{code}", **params)
        super().__init__(i18n.word(self.message, "en"))


def redact_cpr(text: str) -> str:
    """Replace anything shaped like a CPR number (also 9 digits, Excel-style) in a message."""
    return _CPR_LIKE.sub("[CPR-like number removed]", text)


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """Decode bytes as utf-8 (with or without BOM), utf-16/32 with a BOM, or cp1252.

    Binary junk and files that switch from utf-8 to cp1252 part-way (two exports pasted together)
    are refused with the line where the trouble starts, rather than read as garbled text.
    """
    for bom, enc in _BOMS:  # Excel's "Unicode text" is utf-16 with a BOM
        if data.startswith(bom):
            try:
                return data.decode(enc), enc
            except UnicodeDecodeError as exc:
                raise RawFileError("encoding_broken", file=path.name, encoding=enc.upper(),
                                   byte=exc.start) from None
    if b"\x00" in data[:4096]:
        if _looks_like_utf16(data[:4096]):
            raise RawFileError("utf16_no_bom", file=path.name)
        raise RawFileError("binary", file=path.name)
    try:
        return data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        if any(b >= 0x80 for b in data[:exc.start]):  # real utf-8 above, something else here
            line = data[:exc.start].count(b"\n") + 1
            raise RawFileError("mixed_encoding", file=path.name, line=line) from None
    for enc in ENCODINGS[1:]:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise RawFileError("unknown_encoding", file=path.name, encodings=", ".join(ENCODINGS))


def _looks_like_utf16(head: bytes) -> bool:
    """Text of mostly Latin letters in UTF-16: every other byte is zero."""
    even, odd = head[0::2], head[1::2]
    return max(even.count(0), odd.count(0)) > 0.9 * min(len(even), len(odd))


def _sniff_delimiter(text: str) -> str:
    sample = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
    except csv.Error:
        counts = {d: sample.count(d) for d in ";,\t"}
        return max(counts, key=counts.get)


def _read_grid(path: Path, sheet: str | int | None) -> pd.DataFrame:
    """The file as a grid of cells without a header (row 0 = the file's first row)."""
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        _check_workbook_magic(path)
        _check_sheet(path, sheet)
        try:
            grid = pd.read_excel(path, sheet_name=sheet or 0, header=None, dtype=object,
                                 engine="openpyxl")
        except Exception as exc:  # openpyxl raises many kinds for broken files
            raise RawFileError("excel_unreadable", file=path.name, error=str(exc)) from None
        return _fill_vertical_merges(grid, path, sheet)
    if suffix == ".sav":
        try:
            import pyreadstat

            frame, _ = pyreadstat.read_sav(str(path), apply_value_formats=True)
        except Exception as exc:
            raise RawFileError("spss_unreadable", file=path.name, error=str(exc)) from None
        header = pd.DataFrame([list(frame.columns)], columns=range(frame.shape[1]))
        body = pd.DataFrame(frame.to_numpy(dtype=object), columns=range(frame.shape[1]))
        return pd.concat([header, body], ignore_index=True)
    if suffix in {".csv", ".txt", ".tsv"}:
        text, _ = decode(path.read_bytes(), path)
        if not text.strip():
            return pd.DataFrame()
        delimiter = _sniff_delimiter(text)
        head = list(csv.reader(io.StringIO("\n".join(text.splitlines()[:50])),
                               delimiter=delimiter))
        width = max((len(r) for r in head), default=0)
        try:  # the C parser: fast for register-scale files
            return pd.read_csv(io.StringIO(text), sep=delimiter, header=None,
                               names=range(width), dtype=object, keep_default_na=False,
                               na_values=[""], skip_blank_lines=False)
        except pd.errors.ParserError:  # ragged rows further down: the forgiving way
            rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
            width = max((len(r) for r in rows), default=0)
            return pd.DataFrame([r + [None] * (width - len(r)) for r in rows], dtype=object)
    if suffix == ".xls":
        raise RawFileError("old_xls", file=path.name)
    raise RawFileError("unsupported_type", file=path.name, suffix=repr(suffix))


def _check_workbook_magic(path: Path) -> None:
    """Say in plain words what a file named .xlsx really is when it is not a workbook."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(b"PK"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile:
            raise RawFileError("broken_zip", file=path.name) from None
        if "xl/workbook.xml" in names:
            return
        raise RawFileError("renamed_word" if "word/document.xml" in names else
                           "renamed_powerpoint" if "ppt/presentation.xml" in names else
                           "renamed_zip", file=path.name)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise RawFileError("old_office", file=path.name)
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF")):
        raise RawFileError("image_or_pdf", file=path.name)
    raise RawFileError("not_a_workbook", file=path.name)


def _check_sheet(path: Path, sheet: str | int | None) -> None:
    """Name the sheets a workbook does have when the config asks for one it does not."""
    if sheet is None:
        return
    try:
        with zipfile.ZipFile(path) as zf:
            book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError):
        return
    names = re.findall(r'<(?:\w+:)?sheet\b[^>]*?name="([^"]*)"', book)
    ok = sheet in names if isinstance(sheet, str) else 0 <= sheet < len(names)
    if names and not ok:
        raise RawFileError("no_sheet", file=path.name, sheet=repr(sheet),
                           sheets=", ".join(map(repr, names)))


def _fill_vertical_merges(grid: pd.DataFrame, path: Path, sheet: str | int | None
                          ) -> pd.DataFrame:
    """Give every cell of a merged block in one column the value a reader sees (the top one).

    Merges across columns (titles) are left alone: copying them would put a value in a column it
    does not belong to.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            target = _sheet_xml(zf, sheet)
            xml = zf.read(target).decode("utf-8", "replace") if target else ""
    except (zipfile.BadZipFile, KeyError):
        return grid
    tail = xml[xml.rfind("<mergeCells"):] if "<mergeCells" in xml else ""
    from openpyxl.utils.cell import range_boundaries

    grid = grid.copy()
    for ref in re.findall(r'<mergeCell ref="([A-Z]+\d+:[A-Z]+\d+)"', tail):
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        c, r0 = min_col - 1, min_row - 1
        if min_col != max_col or c >= grid.shape[1] or r0 >= len(grid):
            continue
        grid.iloc[r0 + 1:max_row, c] = grid.iat[r0, c]
    return grid


def _sheet_xml(zf: zipfile.ZipFile, sheet: str | int | None) -> str | None:
    """The worksheet XML part of a sheet given by name or position (None: the first)."""
    try:
        book = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return None
    sheets = re.findall(r'<(?:\w+:)?sheet\b[^>]*?name="([^"]*)"[^>]*?r:id="([^"]*)"', book)
    if not sheets:
        return None
    if isinstance(sheet, str):
        rid = next((r for n, r in sheets if n == sheet), None)
    else:
        rid = sheets[sheet or 0][1] if (sheet or 0) < len(sheets) else None
    m = rid and re.search(rf'<Relationship\b[^>]*Id="{rid}"[^>]*Target="([^"]*)"', rels)
    if not m:
        m = rid and re.search(rf'<Relationship\b[^>]*Target="([^"]*)"[^>]*Id="{rid}"', rels)
    return ("xl/" + m.group(1).lstrip("/").removeprefix("xl/")) if m else None


def read_raw(path: str | Path, known: Iterable[str], sheet: str | int | None = None
             ) -> tuple[pd.DataFrame, int]:
    """Read a partner file; returns its rows as text-like cells with ``__row__`` and the header row.

    The header is the first of the top rows that holds at least two known column names (after
    :func:`normalise_header`), so title rows above the header are skipped.
    """
    path = Path(path)
    if not path.exists():
        raise RawFileError("not_found", file=str(path))
    grid = _read_grid(path, sheet)
    if grid.empty or grid.dropna(how="all").empty:
        raise RawFileError("empty", file=path.name)
    known_norm = {normalise_header(k) for k in known}
    header_idx = None
    for i in range(min(HEADER_SEARCH_ROWS, len(grid))):
        cells = {normalise_header(v) for v in grid.iloc[i].tolist() if _present(v)}
        if len(cells & known_norm) >= 2:
            header_idx = i
            break
    if header_idx is None:  # never quote the cells: without a header they may be CPR numbers
        raise RawFileError("no_header", file=path.name, n=HEADER_SEARCH_ROWS)
    names = [str(v).strip() if _present(v) else f"{UNNAMED} {j + 1}"
             for j, v in enumerate(grid.iloc[header_idx].tolist())]
    body = grid.iloc[header_idx + 1:].copy()
    body.columns = _dedupe(names)
    body[ROW] = body.index + 1  # 1-based row number as shown in Excel / a text editor
    cells = body.drop(columns=[ROW])
    text = cells.astype("string[pyarrow]")
    filled = pd.DataFrame({c: text[c].str.strip().ne("").fillna(False).astype(bool)
                           for c in text.columns}, index=text.index)
    body = body[filled.any(axis=1)]
    if body.empty:
        raise RawFileError("header_only", file=path.name, row=header_idx + 1)
    return body.reset_index(drop=True), header_idx + 1


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}__dup{seen[n]}")
    return out


def _present(v: Any) -> bool:
    if v is None:
        return False
    if isinstance(v, float) and pd.isna(v):
        return False
    return str(v).strip() != ""


# -- atomic writes --------------------------------------------------------------------------


def write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a DataFrame to parquet atomically."""
    return atomic_write(path, lambda p: df.to_parquet(p, index=False))


def write_table(df: pd.DataFrame, cfg: Any, table: str, path: str | Path | None = None,
                checked: bool = False) -> Path:
    """Write a clean table atomically after checking it against its schema (``checked``: the
    caller has just done so), with the schema's fingerprint in the file's metadata, so that
    :func:`read_processed` knows it was checked (see :mod:`ungeanalyse.schemas`)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from . import schemas

    path = Path(path) if path is not None else Path(cfg.processed_dir) / f"{table}.parquet"
    if not checked:
        schemas.check(df, cfg, table, path)
    stamp = schemas.fingerprint(cfg, table).encode()

    def write(target: Path) -> None:
        arrow = pa.Table.from_pandas(df, preserve_index=False)
        meta = {**(arrow.schema.metadata or {}), schemas.FINGERPRINT_KEY: stamp}
        pq.write_table(arrow.replace_schema_metadata(meta), target)

    return atomic_write(path, write)


def read_processed(cfg: Any, table: str) -> pd.DataFrame:
    """Read a clean table (participants, survey_responses, steps, quotes, quarantine), checked
    against its schema: a table the clean stage wrote under the same schema carries its
    fingerprint, any other is checked row by row (a ``schemas.TableCheckError`` naming the
    file, columns, checks and rows when it does not match)."""
    from . import schemas

    path = Path(cfg.processed_dir) / f"{table}.parquet"
    if not path.exists():
        raise UserError(
            f"{path} does not exist: run `ungeanalyse clean --config {cfg.source_path}` first"
        )
    df = pd.read_parquet(path)
    if table in schemas.SCHEMAS:
        import pyarrow.parquet as pq

        stamp = (pq.read_schema(path).metadata or {}).get(schemas.FINGERPRINT_KEY)
        if stamp != schemas.fingerprint(cfg, table).encode():
            schemas.check(df, cfg, table, path)
    return df
