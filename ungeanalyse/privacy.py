"""Privacy: keyed pseudonyms and a scanner for personal data.

Two jobs, one module (disclosure control of reader figures is the ``disclosure`` package):

* **Keys and pseudonyms.** CPR numbers become HMAC-SHA256 pseudonyms under a project key that
  lives outside the repository (``UNGEANALYSE_KEY``, ``UNGEANALYSE_KEY_FILE`` or
  ``~/.config/ungeanalyse/<project_id>.key``). The demo has its own, clearly marked key. The key
  itself is never written anywhere; ``quality.json`` holds only :func:`key_fingerprint`.
* **Scanner.** :func:`scan_paths` looks through processed data and reports for CPR numbers, the
  participants' names (matched against keyed fingerprints, never stored in clear), e-mail
  addresses and Danish phone numbers. A :class:`Hit` says where, never what.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import html
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

# The suppression engine and the hidden-cell marks live in the disclosure package; they are
# named here too for callers that still import them from privacy.
from .disclosure.marks import (  # noqa: F401
    HIDDEN_MARK,
    count_text,
    hidden_count_text,
    render_counts,
    render_masked,
)
from .disclosure.solver import (  # noqa: F401
    Line,
    dear,
    determined_cells,
    plan_across_units,
    primary_mask,
    rate_hidden,
    solve_plan,
    suppress,
    suppress_cells,
    suppress_grouped,
    suppress_series,
    suppress_table,
    widen_small_sums,
    with_margins,
)
from .errors import UserError

# -- keys and pseudonyms --------------------------------------------------------------------

DEMO_KEY = b"ungeanalyse-DEMO-KEY-not-secret-never-use-for-real-data"
"""The demo's key. Public on purpose: it protects only generated data."""

MIN_KEY_LENGTH = 16
KEY_ENV = "UNGEANALYSE_KEY"
KEY_FILE_ENV = "UNGEANALYSE_KEY_FILE"


def key_instructions(project_id: str) -> str:
    """How to create a key file for a project, as shell commands."""
    return ("Create a key outside the repository, readable only by you:\n"
            "  mkdir -p ~/.config/ungeanalyse\n"
            "  python -c \"import secrets; print(secrets.token_hex(32))\" "
            f"> ~/.config/ungeanalyse/{project_id}.key\n"
            f"  chmod 600 ~/.config/ungeanalyse/{project_id}.key\n"
            f"or point {KEY_FILE_ENV} at a key file, or set {KEY_ENV}. Keep the key: the same "
            "key gives the same pseudonyms, so later data can be linked to earlier data.")


def default_key_path(project_id: str, home: Path | None = None) -> Path:
    """Where a project's key file is looked for when no environment variable names one."""
    return (home or Path.home()) / ".config" / "ungeanalyse" / f"{project_id}.key"


def git_work_tree(path: Path) -> Path | None:
    """The git work tree a path lies in (a parent holding ``.git``), or None."""
    path = path.expanduser().resolve()
    for folder in [path, *path.parents] if path.is_dir() else path.parents:
        if (folder / ".git").exists():
            return folder
    return None


def _checked_key(raw: bytes, source: str, project_id: str) -> bytes:
    key = raw.strip()
    if len(key) < MIN_KEY_LENGTH:
        raise UserError(f"The pseudonymisation key from {source} is too short ({len(key)} "
                        f"characters; at least {MIN_KEY_LENGTH}).\n" + key_instructions(project_id))
    return key


def load_key(project_id: str, demo: bool, env: Mapping[str, str] | None = None,
             home: Path | None = None, key_file: Path | str | None = None) -> bytes:
    """The project's key: ``UNGEANALYSE_KEY``, ``UNGEANALYSE_KEY_FILE``, the config's
    ``privacy.key_file`` (``key_file``), then ``~/.config/ungeanalyse/<project_id>.key``; the
    demo key only for demo configs.

    A key file inside a git work tree is refused (it could be committed), and so is the demo key
    for a project that is not a demo.
    """
    env = os.environ if env is None else env
    if env.get(KEY_ENV):
        key = _checked_key(env[KEY_ENV].encode("utf-8"), f"${KEY_ENV}", project_id)
    else:
        explicit = bool(env.get(KEY_FILE_ENV)) or key_file is not None
        source = KEY_FILE_ENV if env.get(KEY_FILE_ENV) else "privacy.key_file in the config"
        path = (Path(env[KEY_FILE_ENV]).expanduser() if env.get(KEY_FILE_ENV)
                else Path(key_file).expanduser() if key_file is not None
                else default_key_path(project_id, home))
        if path.is_file():
            tree = git_work_tree(path)
            if tree is not None:
                raise UserError(f"The key file {path} lies inside the git work tree {tree}, "
                                "where it could be committed. Move it out of the repository, "
                                f"e.g. to {default_key_path(project_id)}, and delete it here.")
            key = _checked_key(path.read_bytes(), str(path), project_id)
        elif explicit:
            raise UserError(f"{source} points at {path}, which is not a file.\n"
                            + key_instructions(project_id))
        elif demo:
            return DEMO_KEY
        else:
            raise UserError(f"No pseudonymisation key for project {project_id!r}.\n"
                            + key_instructions(project_id))
    if key == DEMO_KEY and not demo:
        raise UserError(f"Project {project_id!r} is not a demo but its key is the public demo key. "
                        + key_instructions(project_id))
    return key


class PseudonymCache:
    """Pseudonyms already computed in this run, looked up vectorised (raw values: memory only)."""

    def __init__(self) -> None:
        import pyarrow as pa

        self.keys = pa.array([], pa.large_string())
        self.values = pa.array([], pa.large_string())

    def lookup(self, uniques: object) -> object:
        """Cached pseudonyms for distinct values (an Arrow array, null where not cached)."""
        import pyarrow.compute as pc

        return self.values.take(pc.index_in(uniques, value_set=self.keys))

    def add(self, keys: object, values: object) -> None:
        """Remember new pseudonyms."""
        import pyarrow as pa

        self.keys = pa.concat_arrays([self.keys, keys])
        self.values = pa.concat_arrays([self.values, values])


def pseudonymise(values: pd.Series, key: bytes, length: int = 16,
                 cache: PseudonymCache | None = None) -> pd.Series:
    """HMAC-SHA256 of each value, hex, truncated to ``length``; NA stays NA.

    Each distinct value is hashed once; pass one ``cache`` to reuse pseudonyms across the tables
    of a run (the same person is in the participant list, the survey and the step log); a cache
    is for one key and one ``length``.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    text = values.astype("string[pyarrow]").array._pa_array
    encoded = pc.dictionary_encode(text.cast(pa.large_string())).combine_chunks()
    uniques, codes = encoded.dictionary, encoded.indices
    hexed = (cache or PseudonymCache()).lookup(uniques)
    todo = np.flatnonzero(hexed.is_null().to_numpy(zero_copy_only=False))
    inner = hmac.new(key, digestmod=hashlib.sha256)
    new = []
    for text_value in uniques.take(pa.array(todo, pa.int64())).to_pylist():
        h = inner.copy()
        h.update(text_value.encode("utf-8"))
        new.append(h.hexdigest()[:length])
    if len(todo):
        new_values = pa.array(new, pa.large_string())
        if cache is not None:
            cache.add(uniques.take(pa.array(todo, pa.int64())), new_values)
        position = np.full(len(uniques), -1, dtype=np.int64)
        position[todo] = np.arange(len(todo))
        filled = new_values.take(pa.array(position, mask=position < 0))
        hexed = pc.coalesce(hexed, filled)
    out = hexed.take(codes)
    return pd.Series(pd.arrays.ArrowStringArray(pa.chunked_array([out])), index=values.index)


def key_fingerprint(key: bytes) -> str:
    """A short, non-reversible id of the key, for provenance footers and quality.json."""
    return hashlib.sha256(b"fingerprint:" + key).hexdigest()[:12]


_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")


def name_tokens(text: str) -> list[str]:
    """Words of a text as the name matcher sees them: letters only, NFC, case-folded."""
    return [w.casefold() for w in _WORD.findall(unicodedata.normalize("NFC", text))]


def _name_hash(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()[:16]


def name_fingerprints(names: Iterable[str], key: bytes) -> set[str]:
    """Keyed hashes of each full name and of each pair of neighbouring name words.

    The scanner hashes word pairs of a text the same way, so it finds names without the names
    ever being stored in clear. One-word names are left out (too many false alarms).
    """
    out: set[str] = set()
    for name in names:
        tokens = name_tokens(str(name))
        if len(tokens) < 2:
            continue
        out.add(_name_hash(key, " ".join(tokens)))
        for a, b in zip(tokens, tokens[1:], strict=False):
            out.add(_name_hash(key, f"{a} {b}"))
    return out


SURNAME_MIN_LETTERS = 5
"""A surname is looked for on its own only from this length (short ones are often words)."""

COMMON_WORD_SURNAMES = frozenset({
    "bonde", "fisker", "skytte", "frost", "storm", "vinter", "winther", "sommer", "strand",
    "bjerg", "lykke", "hjort", "lange", "stærk", "præst", "skriver", "møller", "mølle", "smith",
    "young", "brown", "green", "white", "black", "glade", "kirke", "skoven", "lunde", "hvide",
    "sorte", "store", "lille", "holme", "bakke", "bakker", "engel", "vogel", "fugl", "ørnen",
    "kjærgaard", "rytter", "ridder", "konge", "kejser", "greve", "hertz", "dansk", "norsk",
    "svensk", "tysk", "frank", "frisk", "rasken", "hellig", "blomst", "rosen", "bugge",
})
"""Surnames that are also everyday Danish or English words: never looked for on their own
(as parts of a full name they still are)."""

SHINGLE_WORDS = 6
MIN_SHINGLE_WORDS = 4
"""Free text from an identifying column (a note) is looked for as runs of six of its words (a
shorter note, of four or five words, as a whole); shorter runs are everyday phrases."""

_ALNUM = re.compile(r"[^\W_]+")


@dataclass
class Identifiers:
    """Identifying values read from the raw files, in memory only: the clean stage turns them
    into keyed fingerprints for the scanner and drops the values."""

    names: set[str] = field(default_factory=set)
    surnames: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)

    def update(self, other: Identifiers) -> None:
        """Add another table's identifiers to these."""
        for name in ("names", "surnames", "addresses", "texts"):
            getattr(self, name).update(getattr(other, name))


def _address_keys(text: str) -> list[str]:
    """A street and its house number ('vestergade 12', 'bohrs allé 5'): what identifies an
    address; the words alone (a street, a town) do not."""
    tokens = [t.casefold() for t in _ALNUM.findall(unicodedata.normalize("NFC", text))]
    keys = []
    for i, tok in enumerate(tokens):
        if i and tok[0].isdigit() and tokens[i - 1].isalpha():
            keys.append(f"{tokens[i - 1]} {tok}")
            if i > 1 and tokens[i - 2].isalpha():
                keys.append(f"{tokens[i - 2]} {tokens[i - 1]} {tok}")
    return keys


def _shingles(tokens: Sequence[str], size: int) -> list[str]:
    return [" ".join(tokens[i:i + size]) for i in range(len(tokens) - size + 1)]


def identifier_fingerprints(ids: Identifiers, key: bytes,
                            known_words: Iterable[str] = ()) -> set[str]:
    """Keyed fingerprints of every identifier the scanner looks for: full names and their word
    pairs (:func:`name_fingerprints`), surnames on their own (``s:``; at least
    ``SURNAME_MIN_LETTERS`` letters, not a common word and not one of ``known_words``, the
    words of the texts the package and the config write: ``clean.own_vocabulary``), street +
    house number (``a:``) and runs of words of free-text notes (``t:``)."""
    out = name_fingerprints(ids.names, key)
    words = set(known_words)
    for surname in ids.surnames:
        for tok in name_tokens(surname):
            if len(tok) >= SURNAME_MIN_LETTERS and tok not in COMMON_WORD_SURNAMES \
                    and tok not in words:
                out.add("s:" + _name_hash(key, tok))
    for address in ids.addresses:
        out.update("a:" + _name_hash(key, "address " + k) for k in _address_keys(address))
    for text in ids.texts:
        tokens = name_tokens(text)
        if len(tokens) >= MIN_SHINGLE_WORDS:
            size = min(SHINGLE_WORDS, len(tokens))
            out.update("t:" + _name_hash(key, "text " + sh) for sh in _shingles(tokens, size))
    return out


# -- scanner ----------------------------------------------------------------------------------

SCANNED_SUFFIXES = (".parquet", ".json", ".ipynb", ".html", ".htm", ".csv", ".md", ".txt",
                    ".pdf", ".docx", ".xlsx")
KINDS = {"cpr": "CPR number", "name": "name", "email": "e-mail address", "phone": "phone number",
         "address": "address", "text": "text from an identifying column",
         "unreadable": "file could not be read, so not checked"}
KINDS_DA = {"cpr": "CPR-nummer", "name": "navn", "email": "e-mailadresse",
            "phone": "telefonnummer", "address": "adresse",
            "text": "tekst fra en identificerende kolonne",
            "unreadable": "filen kunne ikke læses og er ikke tjekket"}

_CPR = re.compile(r"(?<![\w+])(?<!\d[.,])(\d{6})-?(\d{4})(?!\w)(?![.,]\d)")
_PHONE = re.compile(
    r"(?<![\w+/=])(?<![.,-])(?:(?:\+|00)45[ ]?)?"
    r"([2-9]\d{7}|[2-9]\d [0-9]{2} [0-9]{2} [0-9]{2}|[2-9]\d{3} \d{4})(?![\w/=])(?![.,]\d)")
_EMAIL = re.compile(r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}(?![\w])")
_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Hit:
    """Personal data found: which file, what kind, where (never the value itself)."""

    path: Path
    kind: str
    where: str
    count: int = 1

    def __str__(self) -> str:
        times = f" ({self.count}×)" if self.count > 1 else ""
        return f"{self.path}: {KINDS.get(self.kind, self.kind)} at {self.where}{times}"


def is_cpr(digits: str, today: dt.date | None = None) -> bool:
    """Ten digits that form a CPR number: a real birth date under the century rule, not in the
    future and not before 1900 (nobody alive); the modulus-11 check is not required."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    day, month, yy, c7 = int(digits[0:2]), int(digits[2:4]), int(digits[4:6]), int(digits[6])
    if c7 <= 3:
        century = 1900
    elif c7 in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:
        century = 2000 if yy <= 57 else 1800
    try:
        birth = dt.date(century + yy, month, day)
    except ValueError:
        return False
    return dt.date(1900, 1, 1) <= birth <= (today or dt.date.today())


def _is_date8(d: str) -> bool:
    for y, m, dd in ((d[0:4], d[4:6], d[6:8]), (d[4:8], d[2:4], d[0:2])):
        try:
            if 1900 <= int(y) <= 2099:
                dt.date(int(y), int(m), int(dd))
                return True
        except ValueError:
            pass
    return False


def find_cpr(text: str) -> int:
    """How many CPR-like numbers a text holds."""
    return sum(is_cpr(m.group(1) + m.group(2)) for m in _CPR.finditer(text))


def find_phones(text: str) -> int:
    """How many Danish phone numbers (8 digits, optional +45, grouped 2-2-2-2 or 4-4)."""
    n = 0
    for m in _PHONE.finditer(text):
        digits = m.group(1).replace(" ", "")
        if not _is_date8(digits) or m.group(0) != m.group(1):
            n += 1
    return n


def find_emails(text: str) -> int:
    """How many e-mail addresses a text holds."""
    return len(_EMAIL.findall(text))


class NameMatcher:
    """Finds participants' names, surnames, addresses and notes by hashing a text's word pairs,
    words, street + number and word runs with the key (the values are never in clear)."""

    def __init__(self, fingerprints: Iterable[str], key: bytes) -> None:
        self.fingerprints = set(fingerprints)
        self.key = key
        self._cache: dict[str, bool] = {}
        kinds = {fp[:2] for fp in self.fingerprints if fp[1:2] == ":"}
        self.surnames, self.addresses, self.texts = "s:" in kinds, "a:" in kinds, "t:" in kinds

    def _known(self, items: list[str], prefix: str = "", salt: str = "") -> int:
        """How many of the items are fingerprinted (each distinct item hashed once)."""
        cache = self._cache
        for item in set(items):
            tag = prefix + item
            if tag not in cache:
                cache[tag] = prefix + _name_hash(self.key, salt + item) in self.fingerprints
        return sum(cache[prefix + item] for item in items)

    def count(self, text: str) -> int:
        """How many neighbouring word pairs (and lone surnames) of the text are a name."""
        return self.kinds(text).get("name", 0)

    def kinds(self, text: str) -> dict[str, int]:
        """Hits in a text by kind: 'name', 'address' and 'text'."""
        tokens = name_tokens(text)
        pairs = [f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False)]
        found = {"name": self._known(pairs)}
        if self.surnames:
            found["name"] += self._known(tokens, "s:")
        if self.addresses:
            found["address"] = self._known(_address_keys(text), "a:", "address ")
        if self.texts:
            runs = [sh for size in range(MIN_SHINGLE_WORDS, SHINGLE_WORDS + 1)
                    for sh in _shingles(tokens, size)]
            found["text"] = self._known(runs, "t:", "text ")
        return {k: v for k, v in found.items() if v}


def _kinds_in(text: str, names: NameMatcher | None) -> dict[str, int]:
    found = {"cpr": find_cpr(text), "phone": find_phones(text), "email": find_emails(text),
             **(names.kinds(text) if names is not None else {})}
    return {k: v for k, v in found.items() if v}


def _strip_html(text: str) -> str:
    """Markup off, data URIs (base64 images) out; cell borders kept apart by ' | '."""
    text = _DATA_URI.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    text = re.sub(r"<(script|style)\b.*?</\1>", lambda m: "\n" * m.group(0).count("\n"), text,
                  flags=re.S | re.I)
    return html.unescape(_TAG.sub(" | ", text))


def _scan_lines(path: Path, text: str, names: NameMatcher | None, prefix: str = ""
                ) -> list[Hit]:
    found: dict[str, list[int]] = {}
    for no, line in enumerate(text.splitlines(), start=1):
        if not line or line.isspace():  # most of a page: its stylesheet, stripped to blanks
            continue
        for kind, n in _kinds_in(line, names).items():
            found.setdefault(kind, []).extend([no] * n)
    return [Hit(path, kind, prefix + _numbers("line", sorted(set(where))), len(where))
            for kind, where in found.items()]


def _numbers(word: str, nums: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(str(n) for n in nums[:limit])
    more = f" … ({len(nums)} in all)" if len(nums) > limit else ""
    return f"{word}{'s' if len(nums) > 1 else ''} {shown}{more}"


def _walk_json(obj: Any, where: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield f"{where} key", str(k)
            yield from _walk_json(v, f"{where}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _walk_json(v, f"{where}[{i}]")
    elif obj is not None and not isinstance(obj, bool):
        yield where, str(obj)


def _scan_json(path: Path, names: NameMatcher | None) -> list[Hit]:
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError:
        return _scan_lines(path, path.read_text(encoding="utf-8", errors="replace"), names)
    found: dict[str, list[str]] = {}
    for where, text in _walk_json(data):
        for kind, n in _kinds_in(text, names).items():
            found.setdefault(kind, []).extend([where] * n)
    return [Hit(path, kind, ", ".join(list(dict.fromkeys(w))[:5]), len(w))
            for kind, w in found.items()]


def _notebook_texts(nb: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for i, cell in enumerate(nb.get("cells", []), start=1):
        src = cell.get("source", "")
        yield f"cell {i} source", "".join(src) if isinstance(src, list) else str(src)
        for j, out in enumerate(cell.get("outputs", []), start=1):
            where = f"cell {i} output {j}"
            parts: list[str] = []
            if "text" in out:
                parts.append("".join(out["text"]) if isinstance(out["text"], list)
                             else str(out["text"]))
            for mime, value in (out.get("data") or {}).items():
                if mime.startswith("text/") or mime in ("application/json",
                                                        "application/javascript"):
                    text = "".join(value) if isinstance(value, list) else (
                        value if isinstance(value, str) else json.dumps(value))
                    parts.append(_strip_html(text) if mime == "text/html" else text)
            parts.extend(str(x) for x in out.get("traceback", []))
            if out.get("evalue"):
                parts.append(str(out["evalue"]))
            yield where, "\n".join(parts)


def _scan_notebook(path: Path, names: NameMatcher | None) -> list[Hit]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError:
        return _scan_lines(path, path.read_text(encoding="utf-8", errors="replace"), names)
    hits = []
    for where, text in _notebook_texts(nb):
        for kind, n in _kinds_in(text, names).items():
            hits.append(Hit(path, kind, where, n))
    return hits


def _scan_parquet(path: Path, names: NameMatcher | None) -> list[Hit]:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    hits = []
    for name in table.column_names:
        col = table.column(name).to_pandas()
        if pd.api.types.is_integer_dtype(col):
            # A CPR number that lost its leading zero or its dash to a number format.
            num = pd.to_numeric(col, errors="coerce")
            big = num[(num >= 10**8) & (num < 10**10)].dropna()
            text = big.astype("int64").astype(str).str.zfill(10)
            rows = [int(i) for i, v in zip(text.index, text, strict=True) if is_cpr(v)]
            if rows:
                hits.append(Hit(path, "cpr", f"column {name!r}, " + _numbers("row", rows),
                                len(rows)))
            continue
        if not (pd.api.types.is_string_dtype(col) or pd.api.types.is_object_dtype(col)
                or isinstance(col.dtype, pd.CategoricalDtype)):
            continue
        values = col.dropna().astype(str)
        uniques = pd.unique(values.to_numpy())
        if not _kinds_in("\n".join(uniques), names):  # fast path: one pass over the column
            continue
        flagged: dict[str, set[str]] = {}
        for v in uniques:
            for kind in _kinds_in(v, names):
                flagged.setdefault(kind, set()).add(v)
        for kind, bad in flagged.items():
            rows = values.index[values.isin(bad)].tolist()
            hits.append(Hit(path, kind, f"column {name!r}, " + _numbers("row", rows),
                            len(rows)))
    return hits


def scan_file(path: Path, names: NameMatcher | None = None) -> list[Hit]:
    """Hits in one file, read according to its suffix (rows count from 0 in parquet)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _scan_parquet(path, names)
    if suffix == ".ipynb":
        return _scan_notebook(path, names)
    if suffix == ".json":
        return _scan_json(path, names)
    if suffix in (".pdf", ".docx", ".xlsx"):
        from .document import document_text

        try:
            text = _xlsx_text(path) if suffix == ".xlsx" else document_text(path)
        except Exception as exc:  # a file we cannot read cannot be cleared either
            return [Hit(path, "unreadable", f"{type(exc).__name__}", 1)]
        return _scan_lines(path, text, names)
    text = path.read_text(encoding="utf-8", errors="replace")
    if suffix in (".html", ".htm"):
        text = _strip_html(text)
    return _scan_lines(path, text, names)


def _xlsx_text(path: Path) -> str:
    """Every cell of every sheet of a workbook, one row a line."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    lines = ["\t".join("" if v is None else str(v) for v in row)
             for ws in wb.worksheets for row in ws.iter_rows(values_only=True)]
    wb.close()
    return "\n".join(lines)


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SCANNED_SUFFIXES \
                        and f.name != "name_fingerprints.json":
                    yield f
        elif p.is_file():
            yield p
        else:
            raise UserError(f"Nothing to scan at {p}: no such file or folder.")


def scan_paths(paths: Iterable[Path | str], name_fps: Iterable[str] | None = None,
               key: bytes | None = None, names: Iterable[str] | None = None) -> list[Hit]:
    """Scan files and folders (recursively) for CPR numbers, names, e-mails and phone numbers.

    Names are found through ``name_fps`` (the clean stage's ``name_fingerprints.json``) and the
    key they were made with; ``names`` in clear may be given instead (they are hashed at once).
    """
    matcher = None
    if key is not None and (name_fps is not None or names is not None):
        fps = set(name_fps or ()) | (name_fingerprints(names, key) if names is not None else set())
        matcher = NameMatcher(fps, key)
    hits: list[Hit] = []
    for f in _files(Path(p) for p in paths):
        hits.extend(scan_file(f, matcher))
    return hits


def scan_report(hits: Sequence[Hit], lang: str = "en") -> str:
    """A short text: where personal data were found (never what), or that none was."""
    if not hits:
        return ("Privatlivsscanning: ingen CPR-numre, navne, e-mailadresser eller "
                "telefonnumre fundet." if lang == "da" else
                "Privacy scan: no CPR numbers, names, e-mail addresses or phone numbers found.")
    files = sorted({h.path for h in hits})
    kinds = KINDS_DA if lang == "da" else KINDS
    head = (f"Privatlivsscanning: mulige personoplysninger i {len(files)} fil(er):"
            if lang == "da" else
            f"Privacy scan: possible personal data in {len(files)} file(s):")
    lines = [head]
    for f in files:
        lines.append(f"  {f}")
        for h in (h for h in hits if h.path == f):
            times = f" ({h.count}×)" if h.count > 1 else ""
            lines.append(f"    {kinds.get(h.kind, h.kind)}: {h.where}{times}")
    lines.append("Fjern dem, før filerne deles." if lang == "da" else
                 "Remove them before the files are shared.")
    return "\n".join(lines)
