"""From partner files to a working config: ``ungeanalyse init`` and ``ungeanalyse check``.

``init`` reads the files a partner sent, recognises their columns from the known aliases, counts
the distinct status, target-group, element and challenge values, and writes a draft config with a
TODO for everything it could not map. ``check`` validates a config against its raw files with
the clean stage's own rules, in memory (nothing is written, no notebook runs), and says what must
be fixed. Neither ever shows a value of an identifying column (CPR, name, address, phone,
e-mail, note), and counts under 5 are shown as "<5".
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import i18n
from .config import DEFAULT_ALIASES, IDENTIFIER_COLUMNS, ProjectConfig, parse_config
from .errors import UserError
from .io import ROW, RawFileError, normalise_header, normalise_value, read_raw, redact_cpr
from .texts import Text

READABLE = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".sav", ".xls", ".qdpx")
SMALL = 5
YES = {"ja", "j", "x", "1", "yes", "y", "true", "sand"}
"""Cells that mean yes in a Ja/Nej column (the clean stage's default ``yes_values``)."""
"""Counts under this are shown as '<5' (the reports' threshold)."""

DRAFT_OUTCOMES: dict[str, dict[str, Any]] = {
    "started_youth_education": {
        "label": {"da": "Påbegyndt ungdomsuddannelse", "en": "Started youth education"},
        "group": "goal_met",
        "aliases": ["påbegyndt ungdomsuddannelse", "påbegyndt uddannelse", "påbegyndt udd.",
                    "startet på ungdomsuddannelse", "startet på uddannelse"]},
    "completed_or_retained": {
        "label": {"da": "Gennemført / fastholdt på ungdomsuddannelse",
                  "en": "Completed or stayed in youth education"},
        "group": "goal_met",
        "aliases": ["gennemført", "fastholdt", "gennemført ungdomsuddannelse",
                    "fastholdt på uddannelse", "fastholdt/gennemført", "gennemført/fastholdt"]},
    "other_education": {
        "label": {"da": "Påbegyndt anden uddannelse (fx FGU, STU)",
                  "en": "Started other education (e.g. FGU, STU)"},
        "group": "derived_effect",
        "aliases": ["anden uddannelse", "påbegyndt anden uddannelse", "fgu", "stu",
                    "påbegyndt fgu"]},
    "employment": {
        "label": {"da": "I beskæftigelse", "en": "In employment"}, "group": "derived_effect",
        "aliases": ["beskæftigelse", "i beskæftigelse", "job", "i job", "arbejde"]},
    "left_project_continued_education": {
        "label": {"da": "Afbrudt forløbet, fortsat på ungdomsuddannelse",
                  "en": "Left the project, continued in youth education"},
        "group": "not_met",
        "aliases": ["afbrudt - fortsat på uddannelse", "afbrudt men fortsat i uddannelse"]},
    "referred_elsewhere": {
        "label": {"da": "Visiteret til andre tilbud", "en": "Referred to other services"},
        "group": "not_met",
        "aliases": ["visiteret", "visiteret til andet tilbud", "visiteret til andre tilbud",
                    "henvist"]},
    "unknown": {
        "label": {"da": "Status ukendt", "en": "Status unknown"}, "group": "unknown",
        "aliases": ["ukendt", "status ukendt", "ved ikke", "mistet kontakt"]},
    "active": {
        "label": {"da": "Stadig i forløb", "en": "Still active"}, "group": "active",
        "aliases": ["aktiv", "i forløb", "stadig i forløb", "igangværende"]},
}
"""The canonical outcome vocabulary a draft config starts from (the design's table)."""

DRAFT_TARGET_GROUPS: dict[str, dict[str, Any]] = {
    "paabegynde": {"label": {"da": "Påbegynde", "en": "Start an education"},
                   "aliases": ["påbegynde", "paabegynde", "p", "skal påbegynde"]},
    "fastholde": {"label": {"da": "Fastholde", "en": "Stay in education"},
                  "aliases": ["fastholde", "f", "skal fastholdes", "fastholdelse"]},
}

_LIST_SPLIT = r"\s*[;,+|\n]\s*(?![^()]*\))"

MORE_ALIASES: dict[str, list[str]] = {
    "cpr": ["cpr nr", "cprnr", "cpr_nummer", "cpr-nr"],
    "name": ["fulde navn", "fuldt navn", "deltager", "deltagernavn", "elevens navn",
             "den unges navn", "ungens navn"],
    "start_date": ["start", "opstart", "forløbsstart", "start dato", "dato for opstart",
                   "indskrevet", "indskrivningsdato"],
    "end_date": ["slut", "afslutning", "forløbsslut", "slut dato", "dato for afslutning",
                 "udskrevet", "udskrivningsdato"],
    "status": ["status ved afslutning", "resultat", "afslutningsstatus", "udfald"],
    "target_group": ["maalgruppe", "skal", "målgruppe (p/f)", "indsatstype"],
    "elements": ["elementer", "modtagne indsatser", "indsatselementer"],
    "challenges": ["problematikker", "særlige udfordringer"],
}
"""Partner spellings ``init`` also recognises; the draft lists each under ``columns:``."""

_KNOWN = {normalise_header(a): c for c, names in DEFAULT_ALIASES.items()
          for a in [c, *names, *MORE_ALIASES.get(c, [])]}


def shown_count(n: int) -> str:
    """A count for the evaluator's screen: '<5' under five, else the number."""
    return f"<{SMALL}" if 0 < n < SMALL else str(n)


def _slug(text: str) -> str:
    """A config id from a label: lower-case ASCII letters, digits and '_'."""
    text = text.casefold().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = re.sub(r"[^a-z0-9]+", "_", text).strip("_")
    return text if re.match(r"^[a-z]", text or "") else f"x_{text}".rstrip("_")


def _values(column: pd.Series, split: bool = False) -> Counter[str]:
    """Distinct non-blank values of a column with their row counts (list cells split); values
    that differ only in case or spacing count as one, as the clean stage reads them, under the
    most frequent spelling."""
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for value, n in column.astype("string").str.strip().dropna().value_counts().items():
        parts = re.split(_LIST_SPLIT, str(value)) if split else [str(value)]
        for part in parts:
            if part.strip():
                text = redact_cpr(" ".join(part.split()))
                norm = normalise_value(text)
                counts[norm] += int(n)
                spellings.setdefault(norm, Counter())[text] += int(n)
    return Counter({spellings[k].most_common(1)[0][0]: n for k, n in counts.items()})


# -- init ---------------------------------------------------------------------------------------


@dataclass
class PartnerFile:
    """One partner file as ``init`` saw it: its kind, recognised and unused columns, values."""

    path: Path
    kind: str = "unknown"
    rows: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # partner header → canonical
    unused: list[str] = field(default_factory=list)
    yes_no: list[str] = field(default_factory=list)  # unused columns holding only yes/no
    yes_counts: dict[str, int] = field(default_factory=dict)  # yes/no column → rows with yes
    values: dict[str, Counter[str]] = field(default_factory=dict)
    error: str | None = None
    years: tuple[int, ...] = ()  # first and last year of the start and end dates


def _partner_file(path: Path) -> PartnerFile:
    """Read one file and recognise what it holds (never keeps an identifying value)."""
    from .clean import parse_dates

    pf = PartnerFile(path)
    if path.suffix.lower() == ".qdpx":  # coded interviews: the codes are mapped under qda:
        pf.kind = "quotes"
        return pf
    try:
        raw, _ = read_raw(path, _KNOWN)
    except RawFileError as exc:
        pf.error = redact_cpr(str(exc))
        return pf
    pf.rows = len(raw)
    canon: dict[str, str] = {}
    for col in raw.columns:
        if col == ROW:
            continue
        target = _KNOWN.get(normalise_header(str(col).split("__dup")[0]))
        if target is None or (target in canon.values() and target not in IDENTIFIER_COLUMNS):
            pf.unused.append(redact_cpr(str(col)))
            values = {normalise_value(v) for v in raw[col].dropna().astype(str)} - {""}
            if values and values <= {"ja", "nej", "j", "n", "x", "1", "0", "yes", "no"}:
                pf.yes_no.append(redact_cpr(str(col)))
                yes = raw[col].dropna().astype(str).map(normalise_value)
                pf.yes_counts[redact_cpr(str(col))] = int(yes.isin(YES).sum())
            continue
        canon[col] = target
    pf.columns = {redact_cpr(str(c)): t for c, t in canon.items()}
    found = set(canon.values())
    pf.kind = ("participants" if found & {"status", "start_date", "target_group"} else
               "steps" if "step" in found else
               "quotes" if found & {"quote", "hypothesis_id"} else
               "survey" if "cpr" in found else "unknown")
    for col, target in canon.items():
        if target in ("start_date", "end_date"):
            dates = parse_dates(raw[col], ["%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]).dropna()
            if len(dates):
                years = [*pf.years, int(dates.min().year), int(dates.max().year)]
                pf.years = (min(years), max(years))
        if target in ("status", "target_group", "delprojekt", "step", "source_type",
                      "hypothesis_id"):
            pf.values[target] = _values(raw[col])
        elif target in ("elements", "challenges"):
            pf.values[target] = _values(raw[col], split=True)
    return pf


def _files_in(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.is_file()
                              and f.suffix.lower() in READABLE and not f.name.startswith(".")))
        elif p.is_file():
            out.append(p)
        else:
            raise UserError(f"{p}: no such file or folder")
    if not out:
        raise UserError(f"No partner files (.csv, .xlsx, .sav) in {', '.join(map(str, paths))}")
    return out


@dataclass
class Draft:
    """What ``init`` found and the draft config it wrote."""

    files: list[PartnerFile]
    config: Path
    todos: list[str]

    def summary(self) -> str:
        """The terminal report: each file, its columns, the values found, the TODOs."""
        lines = []
        for pf in self.files:
            if pf.error:
                lines.append(f"{pf.path.name}: cannot be read: {pf.error}")
                continue
            lines.append(f"{pf.path.name}: {pf.kind}, {pf.rows} rows")
            known = ", ".join(f"{h} → {c}" + (" (identifying: dropped, values not shown)"
                                              if c in IDENTIFIER_COLUMNS or c == "cpr" else "")
                              for h, c in pf.columns.items())
            lines.append(f"  columns: {known}")
            elements = pf.yes_no if pf.kind == "participants" else []  # drafted as elements
            other = [c for c in pf.unused if c not in elements]
            if other:
                lines.append(f"  not recognised: {', '.join(other)}")
            if elements:
                lines.append(f"  yes/no columns, drafted as elements (see the TODOs): "
                             f"{', '.join(elements)}")
            for kind, counts in pf.values.items():
                shown = "; ".join(f"{v!r} {shown_count(n)}" for v, n in counts.most_common())
                lines.append(f"  {kind} values: {shown}")
        lines.append(f"Draft config written to {self.config}")
        if self.todos:
            lines.append(f"{len(self.todos)} TODO(s) in it to settle before `ungeanalyse check "
                         f"--config {self.config}`:")
            lines += [f"  TODO {t}" for t in self.todos]
        return "\n".join(lines)


def _match(value: str, vocab: dict[str, dict[str, Any]]) -> str | None:
    norm = normalise_value(value)
    for code, entry in vocab.items():
        label = Text.parse(entry["label"]).da
        if norm in {normalise_value(a) for a in [code, label, *entry["aliases"]]}:
            return code
    return None


def draft_config(inputs: list[str | Path], config: str | Path | None = None,
                 overwrite: bool = False) -> Draft:
    """Read partner files (folders or files), write a draft config, and return what was found.

    Long because the draft is one document written top to bottom (project, delprojekter,
    files, columns, vocabularies, to-dos), each part from what the files showed."""
    paths = [Path(p).expanduser().resolve() for p in inputs]
    files = _files_in(paths)
    if config is None:
        config = (paths[0] if len(paths) == 1 and paths[0].is_dir() else Path.cwd()) / \
            "project.yml"
    config = Path(config).expanduser().resolve()
    if config.exists() and not overwrite:
        raise UserError(f"{config} exists already; use --force to overwrite it, or --config "
                        "to write the draft elsewhere")
    found = [_partner_file(f) for f in files]
    raw_dir = Path(os.path.commonpath([str(f.parent) for f in files]))
    todos: list[str] = []
    project_id = _slug(raw_dir.name) or "projekt"

    def total(kind: str) -> Counter[str]:
        """A kind's values over all files, spellings that differ only in case as one."""
        counts: Counter[str] = Counter()
        shown: dict[str, str] = {}
        for pf in found:
            for value, n in pf.values.get(kind, Counter()).items():
                counts[normalise_value(value)] += n
                shown.setdefault(normalise_value(value), value)
        return Counter({shown[k]: n for k, n in counts.items()})

    # delprojekter: from a delprojekt column, else one per participant file
    parts = [pf for pf in found if pf.kind == "participants"]
    delprojekter = [{"id": _slug(v), "name": v} for v in total("delprojekt")]
    delprojekter += [{"id": _slug(pf.path.stem), "name": pf.path.stem} for pf in parts
                     if "delprojekt" not in pf.columns.values()]
    delprojekter = list({d["id"]: d for d in delprojekter}.values())
    if len(delprojekter) > 1:
        todos.append("delprojekter: check the ids and names (made from the files' names and "
                     "delprojekt columns)")
    if not parts:
        todos.append("no participant list was recognised (a file with CPR, start date, status "
                     "and target group): add it under files.participants")
    if not delprojekter:
        delprojekter = [{"id": project_id, "name": raw_dir.name}]
    file_specs: dict[str, list[dict[str, Any]]] = {"participants": [], "survey": [],
                                                   "steps": [], "quotes": []}
    for pf in found:
        rel = Path(os.path.relpath(pf.path, raw_dir)).as_posix()
        if pf.error or pf.kind == "unknown":
            todos.append(f"{rel}: " + (f"cannot be read ({pf.error})" if pf.error else
                                       "not recognised (no two known column names); map its "
                                       "columns under columns:") + "; it is not listed")
            continue
        spec: dict[str, Any] = {"path": rel}
        if pf.kind == "participants" and "delprojekt" not in pf.columns.values():
            spec["delprojekt"] = _slug(pf.path.stem)
        if pf.path.suffix.lower() == ".qdpx":
            todos.append(f"{rel}: coded interviews (REFI-QDA): map its codes to hypothesis ids "
                         "under qda.codes (see the README)")
        if pf.kind == "survey":
            spec["wave"] = "baseline"
            todos.append(f"{rel}: a survey? set its wave and declare its items under survey:")
        file_specs[pf.kind].append(spec)
        for col in pf.unused:
            if pf.kind == "participants" and col in pf.yes_no:
                continue  # becomes an element below
            hint = (" (only yes/no: an element or challenge? add its name as an alias)"
                    if col in pf.yes_no else "")
            todos.append(f"{rel}: column {col!r} is not used{hint}; map it under columns:, list "
                         "it under identifiers: if it identifies a person, or leave it")
    # columns: the partners' headers of every recognised column (so the config documents them)
    columns: dict[str, list[str]] = {}
    for pf in found:
        for header, canon in pf.columns.items():
            if normalise_header(header) not in {normalise_header(a)
                                                for a in [canon, *DEFAULT_ALIASES[canon]]}:
                columns.setdefault(canon, []).append(header)
    outcomes = {k: {**v, "aliases": list(v["aliases"])} for k, v in DRAFT_OUTCOMES.items()}
    unmapped_status = {v: n for v, n in total("status").items() if _match(v, outcomes) is None}
    for v, n in sorted(unmapped_status.items(), key=lambda x: -x[1]):
        todos.append(f"status {v!r} ({shown_count(n)} rows): add it to the aliases of one of "
                     "the outcomes (or a new outcome with its group)")
    groups = {k: {**v, "aliases": list(v["aliases"])} for k, v in DRAFT_TARGET_GROUPS.items()}
    for v, n in total("target_group").items():
        if _match(v, groups) is None:
            todos.append(f"target group {v!r} ({shown_count(n)} rows): add it to the aliases "
                         "of påbegynde or fastholde, or add a target group")
    vocab: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in ("elements", "challenges"):
        vocab[kind] = {}
        for v, n in total(kind).most_common():
            code = _slug(v)
            entry = vocab[kind].setdefault(code, {"label": v, "aliases": []})
            if v != entry["label"]:
                entry["aliases"].append(v)
            todos.append(f"{kind[:-1]} {v!r} ({shown_count(n)} rows) became {kind}.{code}: check "
                         "the label, merge spellings of the same thing as aliases")
    for pf in parts:  # one Ja/Nej column per element: the column's header is the element
        for col in pf.yes_no:
            code = _slug(col)
            entry = vocab["elements"].setdefault(code, {"label": col, "aliases": []})
            if normalise_header(col) not in {normalise_header(a)
                                             for a in [code, entry["label"], *entry["aliases"]]}:
                entry["aliases"].append(col)
            yes = shown_count(pf.yes_counts.get(col, 0))
            todos.append(f"{pf.path.name}: yes/no column {col!r} ({yes} rows with yes) became "
                         f"elements.{code}: if it is a challenge, move it under challenges:")
    ladder = []
    for v, n in total("step").most_common():
        code = _slug(v)
        if code in {s["id"] for s in ladder}:
            next(s for s in ladder if s["id"] == code)["aliases"].append(v)
            continue
        ladder.append({"id": code, "label": v, "aliases": []})
        todos.append(f"step {v!r} ({shown_count(n)} rows) became steps.ladder {code}: put the "
                     "ladder in order (first step first) and merge spellings as aliases")
    dates = _period(found)
    data: dict[str, Any] = {
        "project": {"id": project_id, "name": raw_dir.name, "period": dates, "budget_kr": 0},
        "privacy": {"min_cell": SMALL, "demo": False},
        "delprojekter": delprojekter,
        "files": {"raw_dir": Path(os.path.relpath(raw_dir, config.parent)).as_posix(),
                  **{k: v for k, v in file_specs.items() if v}},
        "columns": columns,
        "outcomes": outcomes,
        "target_groups": groups,
        "elements": vocab["elements"],
        "challenges": vocab["challenges"],
        **({"steps": {"ladder": ladder}} if ladder else {}),
        "hypotheses": [],
    }
    todos.insert(0, "project: set name, period and budget_kr (the period is a guess from the "
                    "start dates)")
    todos.append("hypotheses: write the CMO hypotheses of the theory of change (see the README)")
    text = _yaml_with_todos(data, todos)
    parse_config(yaml.safe_load(text), source=str(config))  # the draft itself must be valid
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(text, encoding="utf-8")
    return Draft(found, config, todos)


def _period(found: list[PartnerFile]) -> dict[str, str]:
    """1 January of the first year in the files' dates to 31 December of the last (this year
    without dates): a guess for the evaluator to correct."""
    years = [y for pf in found for y in pf.years] or [dt.date.today().year]
    return {"start": f"{min(years)}-01-01", "end": f"{max(years)}-12-31"}


def _yaml_with_todos(data: dict[str, Any], todos: list[str]) -> str:
    """The draft as YAML, with every TODO as a comment at the top."""
    head = ["# Draft config written by `ungeanalyse init`. Settle each TODO, then run",
            "# `ungeanalyse check --config <this file>`. Paths resolve from this file's folder.",
            *(f"# TODO {t}" for t in todos), ""]
    body = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return "\n".join(head) + body


# -- check --------------------------------------------------------------------------------------


@dataclass
class CheckReport:
    """What ``check`` found: problems that must be fixed, and notes worth a look."""

    config: Path
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1 when something must be fixed, else 0."""
        return 1 if self.problems else 0

    def summary(self) -> str:
        """The terminal report."""
        lines = [f"Check of {self.config}:"]
        lines += [f"  MUST FIX {p}" for p in self.problems]
        lines += [f"  note: {n}" for n in self.notes]
        if not self.problems:
            lines.append("  Nothing to fix: `ungeanalyse run --config "
                         f"{self.config}` can go ahead.")
        return "\n".join(lines)


COUNTED = {"unknown_status", "unknown_target_group", "unknown_delprojekt",
           "unknown_step", "unknown_hypothesis", "unknown_source_type",
           "file_unusable"}
"""Quarantine reasons ``check`` already reports one by one (values, or the file's error)."""

UNMAPPED = {"status": "status", "target_group": "target group", "delprojekt": "delprojekt",
            "step": "step", "hypothesis_id": "hypothesis id", "source_type": "source type"}

UNMAPPED_REASON = {"status": "unknown_status", "target_group": "unknown_target_group",
                   "delprojekt": "unknown_delprojekt", "step": "unknown_step",
                   "hypothesis_id": "unknown_hypothesis", "source_type": "unknown_source_type"}
"""The quarantine reason of the rows whose value of that kind the config does not know."""


def _where(quarantine: pd.DataFrame, table: str, reason: str, value: str | None = None,
           most: int = 5) -> str:
    """Where the clean stage would quarantine rows of ``table`` for ``reason`` (and, given,
    the value as typed): file, row as the partner's spreadsheet numbers it, and the partner's
    column, the first ``most`` of them; never the value itself."""
    import json

    q = quarantine
    rows = q[q["table"].eq(table) & q["reason"].eq(reason)]
    if value is not None:
        def typed(detail: Any) -> Any:
            d = json.loads(detail) if isinstance(detail, str) else detail
            return d.get("value") if isinstance(d, dict) else None

        rows = rows[rows["detail"].map(typed).eq(value)]
    places = [f"{file} row {int(row)} ({column})" for file, row, column in
              zip(rows["source_file"], rows["source_row"], rows["column"].fillna("?"),
                  strict=True)]
    more = f"; and {len(places) - most} more" if len(places) > most else ""
    return "; ".join(places[:most]) + more


def _older_texts(cfg: ProjectConfig) -> bool:
    """Whether the config's file writes English texts in the older ``<key>_en`` form."""
    from .texts import migrate

    if cfg.source_path is None or not cfg.source_path.exists():
        return False
    source = cfg.source_path.read_text(encoding="utf-8")
    return "_en:" in source and migrate(source) != source


def check_config(cfg: ProjectConfig) -> CheckReport:
    """Validate a config against its raw files with the clean stage's rules, in memory."""
    from .clean import clean_project
    from .privacy import load_key

    report = CheckReport(cfg.source_path or Path("<config>"))
    missing = []
    kept: dict[str, list[Any]] = {}
    for kind in ("participants", "survey", "steps", "quotes"):
        kept[kind] = []
        for spec in getattr(cfg.files, kind):
            if sorted(cfg.raw_dir.glob(spec.path)):
                kept[kind].append(spec)
            else:
                missing.append(spec.path)
                report.problems.append(f"files.{kind}: {os.path.normpath(cfg.raw_dir / spec.path)}"
                                       " not found (relative paths resolve from the config's "
                                       "folder)")
    if not cfg.files.participants:
        report.problems.append("files.participants: no participant file is listed")
    if _older_texts(cfg):
        report.notes.append(f"texts: English texts are written as <key>_en beside <key> (the "
                            f"older form, still read); `ungeanalyse migrate --config "
                            f"{cfg.source_path}` rewrites them as {{da, en}} pairs")
    try:
        load_key(cfg.project.id, demo=cfg.privacy.demo, key_file=cfg.key_file)
    except UserError as exc:
        report.problems.append("pseudonymisation key: " + str(exc).replace("\n", "\n    "))
    if not kept["participants"]:
        return report
    trial = cfg.model_copy(update={"files": cfg.files.model_copy(update=kept)})
    trial.source_path, trial.root = cfg.source_path, cfg.root
    result = clean_project(trial, key=secrets.token_bytes(32), write=False)
    _report_trial(report, result, cfg)
    return report


def _report_trial(report: CheckReport, result: Any, cfg: ProjectConfig) -> None:
    """What the clean stage's trial run (``clean.CleanResult``, nothing written) found, as
    ``check`` reports it: file errors and unknown values to fix, the partners' rows it would
    quarantine (with where they are), unused and identifying columns, warnings."""
    for name, q in result.quality["tables"].items():
        for err in q["file_errors"]:
            report.problems.append(f"{name}: {err['error']}")
        for kind, counts in q.get("unmapped_values", {}).items():
            label = UNMAPPED.get(kind, kind.rstrip("s"))
            for value, n in sorted(counts.items(), key=lambda x: -x[1]):
                text = (f"{name}: {label} {value!r} in {shown_count(n)} row(s) is not in the "
                        "config")
                if kind in ("elements", "challenges"):  # the rows stay clean, the value is lost
                    report.problems.append(text + f"; add it to the aliases under {kind}:")
                else:
                    where = _where(result.quarantine, name,
                                   UNMAPPED_REASON.get(kind, f"unknown_{kind}"), value)
                    report.problems.append(text + "; those rows would be quarantined"
                                           + (f" ({where})" if where else ""))
        others = {r: n for r, n in q["by_reason"].items() if r not in COUNTED}
        for r, n in others.items():
            limits = (f" (the config's age: min {cfg.age.min}, max {cfg.age.max})"
                      if r == "age_outside_range" else "")
            report.notes.append(f"{name}: the clean stage quarantines {shown_count(int(n))} "
                                f"row(s): {i18n.reason(r, 'en')}{limits}, at "
                                f"{_where(result.quarantine, name, r)}")
        for file, cols in q.get("ignored_columns", {}).items():
            report.notes.append(f"{name}: {file}: unused column(s) {', '.join(map(repr, cols))}"
                                " (map them under columns:, or list them under identifiers: "
                                "if they identify a person)")
        for file, cols in q.get("identifier_columns", {}).items():
            report.notes.append(f"{name}: {file}: identifying column(s) "
                                f"{', '.join(map(repr, cols))} are dropped and taught to the "
                                "scanner")
        report.notes.extend(f"{name}: {i18n.word(w, 'en')}" for w in q.get("warnings", []))

