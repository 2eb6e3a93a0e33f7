"""The runner: clean, then every notebook for every unit in parallel, HTML reports and the index.

``ungeanalyse run --config config/aumi.yml`` plans one task per notebook and unit (the whole
project ``all`` plus each delprojekt), skips a task whose fingerprint is unchanged (notebook,
parameters, the unit's input data, the config, the package's code), runs the rest on local worker
processes (or a Dask cluster), renders each executed notebook to HTML, scans the outputs for
personal data, and writes ``reports/<project>/manifest.json`` and ``reports/index.html``.

A failing task never stops the others: it is marked failed, its executed notebook is kept for
debugging, tasks that need its results are skipped, and the exit status is non-zero.

A run holds a lock on its project (``.run.lock`` in the processed folder), stops its workers and
their kernels on SIGINT, SIGTERM and SIGHUP (and they stop by themselves when the run is killed
outright), writes the manifest after every notebook so that the next run redoes exactly what is
unfinished, and recomputes a damaged processed file instead of failing on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .config import ProjectConfig
from .errors import UserError

NOTEBOOKS = ("01_rens_data", "02_maaltal", "03_hvad_virker_for_hvem", "04_slutevaluering")
COMPARISON_NOTEBOOK = "05_virkning"  # planned only when the config has a comparison group
TABLES = ("participants", "survey_responses", "steps", "quotes")
OK = ("ran", "cached")


@dataclass
class Task:
    """One notebook for one unit, with the tasks whose saved results it reads."""

    unit: str
    notebook: str
    name: str
    params: dict[str, Any]
    deps: list[str] = field(default_factory=list)
    key: str = ""

    @property
    def id(self) -> str:
        return f"{self.unit}/{self.name}"


@dataclass
class TaskResult:
    """What happened to a task: ran, cached, failed, skipped (a dependency failed) or withheld."""

    id: str
    unit: str
    name: str
    status: str
    key: str = ""
    seconds: float = 0.0
    html: str | None = None
    notebook: str | None = None
    error: str | None = None
    scan_hits: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)  # PDF and .docx of the final texts
    phases: dict[str, float] = field(default_factory=dict)  # seconds per step in the worker
    started: str = ""  # when the worker began it (ISO time)


@dataclass
class RunSummary:
    """The end of a run: counts by status, the wall time, and where the reports are."""

    project: str
    results: list[TaskResult]
    seconds: float
    index: Path
    clean: str
    file_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def exit_code(self) -> int:
        """0 when every task ran or was cached; 1 otherwise (failed, skipped or withheld)."""
        return 0 if all(r.status in OK for r in self.results) else 1

    def summary(self) -> str:
        """One paragraph for the terminal: what ran, what was cached, what failed and why."""
        lines = [f"{self.project}: {len(self.results)} notebooks: {self.count('ran')} ran, "
                 f"{self.count('cached')} cached (unchanged), {self.count('failed')} failed, "
                 f"{self.count('skipped')} skipped, {self.count('withheld')} withheld; "
                 f"clean stage {self.clean}; {self.seconds:.1f} s."]
        for r in self.results:
            if r.status == "failed":
                lines.append(f"  FAILED {r.id}: {r.error} (executed notebook kept: {r.notebook})")
            elif r.status == "skipped":
                lines.append(f"  skipped {r.id}: {r.error}")
            elif r.status == "withheld":
                lines.append(f"  WITHHELD {r.id}: personal data found ({'; '.join(r.scan_hits)})")
        for err in self.file_errors:
            lines.append(f"  warning: file not used: {err}")
        lines.extend(f"  note: {note}" for note in self.notes)
        lines.append(f"Reports: {os.path.normpath(self.index)}")  # no "config/../"
        return "\n".join(lines)


# -- stopping, the lock, damaged files -----------------------------------------------------------

MESSAGES = {
    "da": {
        "locked": "{project} køres allerede: proces {pid} på {host}, startet {started} "
                  "({command}). Vent til den er færdig, eller stop den (kill {pid}), og kør "
                  "så igen.",
        "locked_unknown": "{project} køres allerede af en anden proces (låsen {path} er "
                          "taget). Vent til den er færdig, og kør så igen.",
        "stale": "den forrige kørsel (proces {pid}, startet {started}) blev afbrudt; det, den "
                 "ikke nåede, køres nu",
        "stopped": "stoppet ({signal}): {done} af {total} notebooks er færdige og gemt; arbejderne "
                   "og deres kerner er lukket. Kør samme kommando igen for at lave resten.",
        "stopped_early": "stoppet ({signal}) før notebooks blev kørt; intet halvt skrevet er "
                         "gemt. Kør samme kommando igen.",
        "damaged": "{path} er beskadiget ({reason}); {what}",
        "again_clean": "rensningen køres igen",
        "again_masks": "diskretionsplanen beregnes igen",
        "again_all": "alle notebooks køres igen",
        "again_task": "{task} køres igen",
    },
    "en": {
        "locked": "{project} is already running: process {pid} on {host}, started {started} "
                  "({command}). Wait for it to finish, or stop it (kill {pid}), then run again.",
        "locked_unknown": "{project} is already being run by another process (the lock {path} "
                          "is held). Wait for it to finish, then run again.",
        "stale": "the previous run (process {pid}, started {started}) was interrupted; what it "
                 "did not finish runs now",
        "stopped": "stopped ({signal}): {done} of {total} notebooks are finished and saved; the "
                   "workers and their kernels are closed. Run the same command again to do the "
                   "rest.",
        "stopped_early": "stopped ({signal}) before any notebook ran; nothing half-written is "
                         "kept. Run the same command again.",
        "damaged": "{path} is damaged ({reason}); {what}",
        "again_clean": "the clean stage runs again",
        "again_masks": "the disclosure plan is computed again",
        "again_all": "every notebook runs again",
        "again_task": "{task} runs again",
    },
}
"""What the runner tells the user about stops, locks and repairs, in the report language."""

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")
LOCK_FILE = ".run.lock"


def message(lang: str, key: str, **values: Any) -> str:
    """One of the runner's messages in the report language (Danish unless ``en``)."""
    return MESSAGES.get(lang, MESSAGES["da"])[key].format(**values)


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by SIGINT, SIGTERM or SIGHUP; ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int, text: str = ""):
        super().__init__(signum)
        self.signum = signum
        self.text = text

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name


class DamagedFile(UserError):
    """A processed file that exists but cannot be read (truncated, not parquet/JSON)."""

    def __init__(self, path: Path, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _damage_reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:200]


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """While a run lasts, SIGINT, SIGTERM and SIGHUP raise RunInterrupted in the main thread
    (the run then stops its workers); a second signal during that cleanup is ignored. A signal
    ignored already (``nohup``) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = [getattr(signal, n) for n in STOP_SIGNALS if hasattr(signal, n)]
    wanted = [s for s in wanted if signal.getsignal(s) is not signal.SIG_IGN]

    def handler(signum: int, frame: Any) -> None:
        for s in wanted:
            signal.signal(s, signal.SIG_IGN)
        if _STOP["defer"]:  # waiting on the workers: raised at the next safe point
            _STOP["signum"] = signum
            return
        raise RunInterrupted(signum)

    previous = {s: signal.signal(s, handler) for s in wanted}
    _STOP.update(defer=False, signum=None)
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _STOP.update(defer=False, signum=None)


_STOP: dict[str, Any] = {"defer": False, "signum": None}
"""A run's stop signal noted while the main thread waits on its workers (``signals_deferred``)."""

STOP_POLL = 0.25
"""Seconds between two looks at a noted stop signal while waiting on the workers."""


@contextmanager
def signals_deferred() -> Iterator[None]:
    """While the main thread waits on its workers' futures, a stop signal is only noted and
    raised by :func:`raise_if_stopped` between two waits: raised inside the lock code of
    threading and concurrent.futures, it could leave a future's lock held, and then the
    pool's manager thread, ``shutdown`` and the interpreter's exit (which join it) hang. A
    signal noted after the last look is raised on leaving."""
    _STOP["defer"] = True
    try:
        yield
    finally:
        _STOP["defer"] = False
    raise_if_stopped()


def raise_if_stopped() -> None:
    """Raise the stop signal noted while signals were deferred, if any (RunInterrupted)."""
    signum, _STOP["signum"] = _STOP["signum"], None
    if signum is not None:
        raise RunInterrupted(signum)


def _fmt_started(iso: str, lang: str) -> str:
    from .fmt import fmt_date

    try:
        when = dt.datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    clock = when.strftime("%H:%M:%S")
    return f"{fmt_date(when, lang)} {'kl.' if lang == 'da' else 'at'} {clock}"


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    return True


@contextmanager
def project_lock(cfg: ProjectConfig, lang: str = "da", notes: list[str] | None = None
                 ) -> Iterator[Path]:
    """Hold the project's run lock (an flock on ``.run.lock`` in its processed folder).

    A second run of the same project is refused with a UserError naming the running process.
    The operating system releases the lock when its process dies, so a crashed or killed run
    never leaves it stuck; finding its record left behind adds a note to ``notes``.
    """
    import socket
    import sys

    path = cfg.processed_dir / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, the run goes ahead
        fcntl = None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise UserError(_locked_text(cfg, path, _read_lock(fd), lang)) from None
        left = _read_lock(fd)
        if left.get("pid") and notes is not None:
            notes.append(message(lang, "stale", pid=left["pid"],
                                 started=_fmt_started(left.get("started", ""), lang)))
        record = {"pid": os.getpid(), "host": socket.gethostname(),
                  "started": dt.datetime.now().isoformat(timespec="seconds"),
                  "command": " ".join([Path(sys.argv[0]).name if sys.argv else "python",
                                       *sys.argv[1:]])[:200]}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(record).encode("utf-8"), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)  # a clean end leaves no record: only a crash does
    finally:
        os.close(fd)  # closing the file releases the flock


def _read_lock(fd: int) -> dict[str, Any]:
    try:
        data = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _locked_text(cfg: ProjectConfig, path: Path, holder: dict[str, Any], lang: str) -> str:
    import socket

    name = cfg.project.tr("name", lang)
    pid = holder.get("pid")
    here = holder.get("host") == socket.gethostname()
    if pid is None or (here and not _pid_alive(pid)):
        return message(lang, "locked_unknown", project=name, path=path)
    return message(lang, "locked", project=name, pid=pid, host=holder.get("host", "?"),
                   started=_fmt_started(holder.get("started", ""), lang),
                   command=holder.get("command", "ungeanalyse run"))


# -- planning and fingerprints ------------------------------------------------------------------


def plan(cfg: ProjectConfig, only: str | None = None, lang: str = "da",
         notebooks_dir: Path | None = None) -> list[Task]:
    """The tasks of a run: data quality once (before the whole project's text, which quotes
    it), then måltal, CMO, text and pixi per unit, and the effect notebook for the whole
    project when the config has a comparison group (and the notebook folder has it: a folder
    copied before it existed runs without it)."""
    effect = cfg.comparison is not None and (
        (notebooks_dir or cfg.notebooks_dir) / f"{COMPARISON_NOTEBOOK}.ipynb").is_file()
    units = cfg.units()
    if only is not None:
        if only not in units:
            raise UserError(f"--only {only!r}: not a unit of {cfg.project.id} "
                            f"(units: {', '.join(units)})")
        units = [only]
    config = str(cfg.source_path)
    tasks: list[Task] = []
    for unit in units:
        base = {"config": config, "unit": unit, "lang": lang}
        if unit == "all":
            tasks.append(Task(unit, "01_rens_data", "01_rens_data", dict(base)))
        tasks.append(Task(unit, "02_maaltal", "02_maaltal", dict(base)))
        tasks.append(Task(unit, "03_hvad_virker_for_hvem", "03_hvad_virker_for_hvem", dict(base)))
        deps = [f"{unit}/02_maaltal", f"{unit}/03_hvad_virker_for_hvem"]
        if unit == "all":  # the evaluation text reads the data quality 01 saves (datakvalitet)
            deps.insert(0, "all/01_rens_data")
        tasks.append(Task(unit, "04_slutevaluering", "04_slutevaluering",
                          {**base, "variant": "full"}, list(deps)))
        tasks.append(Task(unit, "04_slutevaluering", "04_pixi", {**base, "variant": "pixi"},
                          list(deps)))
        if unit == "all" and effect:  # effects against a register comparison group
            tasks.append(Task(unit, COMPARISON_NOTEBOOK, COMPARISON_NOTEBOOK, dict(base)))
    return tasks


def _sha(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else p.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def package_fingerprint() -> str:
    """The package version plus a hash of its code and templates (a code change reruns all)."""
    from . import __version__

    root = Path(__file__).parent
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in {".py", ".j2",
                                                                               ".json", ".csv"})
    return _sha(__version__, *(p.relative_to(root).as_posix().encode() + p.read_bytes()
                               for p in files))


def raw_fingerprint(cfg: ProjectConfig) -> str:
    """A hash of the package code, the config and every raw file it names, globs expanded as
    the clean stage expands them (content, not modification time)."""
    parts: list[bytes | str] = [package_fingerprint(),
                                cfg.source_path.read_bytes() if cfg.source_path else b""]
    for kind in TABLES_FILES:
        for spec in getattr(cfg.files, kind):
            parts.append(spec.path)
            matches = sorted(cfg.raw_dir.glob(spec.path))
            if not matches:
                parts.append(b"<missing>")
            for path in matches:
                parts.extend([path.name, path.read_bytes()])
                if not _may_have_companions(path):
                    continue
                from .survey_export import companion_files

                for extra in companion_files(path):  # a SurveyXact CSV's labels and structure
                    parts.extend([extra.name, extra.read_bytes()])
    return _sha(*parts)


TABLES_FILES = ("participants", "survey", "steps", "quotes")
PROCESSED_FILES = (*(f"{t}.parquet" for t in (*TABLES, "quarantine")), "quality.json",
                   "name_fingerprints.json", "disclosure_masks.json")
"""What the clean stage and the disclosure step write, and the data fingerprints read."""


def _may_have_companions(path: Path) -> bool:
    """Whether ``survey_export.companion_files`` can find anything for ``path`` (a SurveyXact
    dataset CSV): the check without importing that module, which imports pandas."""
    return path.suffix.lower() in {".csv", ".txt", ".tsv"} and "dataset" in path.name.casefold()


def processed_digest(cfg: ProjectConfig) -> str:
    """A hash of the bytes of every processed file the notebooks' inputs come from: when it,
    the config and the code are what the last run recorded, that run's checks and data
    fingerprints still hold (a no-change rerun then reads no table and imports no pandas)."""
    parts: list[bytes | str] = []
    for name in PROCESSED_FILES:
        path = cfg.processed_dir / name
        parts.extend([name, path.read_bytes() if path.is_file() else b"<missing>"])
    return _sha(*parts)


def unit_data_fingerprints(cfg: ProjectConfig, units: Iterable[str],
                           notes: list[str] | None = None, lang: str = "da") -> dict[str, str]:
    """Per unit, a hash of the clean rows that belong to it, so new data from one partner
    reruns only that partner's unit and the whole project.

    Raises DamagedFile when a clean table or quality.json is there but cannot be read; a
    damaged ``disclosure_masks.json`` is recomputed, with a note in ``notes``.
    """
    return _fingerprints_and_masks(cfg, units, notes, lang)[0]


ROW_HASH = "__ungeanalyse_row_hash"
"""The column that carries each clean row's hash through a unit's selection."""


def read_clean_tables(cfg: ProjectConfig, names: Iterable[str]) -> dict[str, Any]:
    """The named clean tables, an empty table where one is missing; a table that is there but
    cannot be read, or is not the table the clean stage wrote, is named (:class:`DamagedFile`)."""
    import pandas as pd

    from .io import read_processed
    from .schemas import TableCheckError

    tables = {}
    for name in names:
        try:
            tables[name] = read_processed(cfg, name)
        except TableCheckError as exc:  # readable, but not the table the clean stage wrote
            raise DamagedFile(exc.path, exc.reason) from None
        except UserError:
            tables[name] = pd.DataFrame()
        except Exception as exc:  # there, but not a readable parquet file (truncated, …)
            raise DamagedFile(cfg.processed_dir / f"{name}.parquet", _damage_reason(exc)
                              ) from None
    return tables


def row_hashes(table: Any) -> Any:
    """Each row's hash, from its values alone (the same row hashes the same in any table)."""
    import pandas as pd

    return pd.util.hash_pandas_object(table.astype("string"), index=False).to_numpy()


def hash_sum(hashes: Any) -> int:
    """The rows' hashes summed as one 64-bit number (the order of the rows does not count)."""
    return int(hashes.sum()) & (2**64 - 1)


def _fingerprints_and_masks(cfg: ProjectConfig, units: Iterable[str],
                            notes: list[str] | None = None, lang: str = "da"
                            ) -> tuple[dict[str, str], dict[str, Any]]:
    tables = read_clean_tables(cfg, TABLES)
    quality = cfg.processed_dir / "quality.json"
    try:
        quality_hash = _sha(_stable_quality(quality)) if quality.exists() else ""
    except (ValueError, AttributeError) as exc:
        raise DamagedFile(quality, _damage_reason(exc)) from None
    from .units import select_tables  # which rows belong to a unit: decided there

    parts = tables["participants"]
    # a row's hash depends on that row alone: hash each table once, carry the hashes as a
    # column through the unit's selection, and sum them (not convert and hash per unit)
    hashed = {name: table.assign(**{ROW_HASH: row_hashes(table)})
              for name, table in tables.items() if not table.empty}
    digests = {}
    for unit in units:
        digest = [quality_hash] if unit == "all" else []
        rows = hashed if parts.empty else select_tables({**tables, **hashed}, cfg, unit)
        for name in tables:
            if tables[name].empty:
                digest.append(f"{name}:empty")
                continue
            sums = rows[name][ROW_HASH]
            digest.append(f"{name}:{len(sums)}:{hash_sum(sums)}")
        digests[unit] = digest
    # what a unit hides is decided for all units together: new data from another partner that
    # changes it reruns this unit too (the plan is stored under the whole project's data)
    from .disclosure.plan import plan_project

    masks = plan_project(cfg, notes, lang, tables=tables,
                         row_sums={name: hash_sum(t[ROW_HASH]) for name, t in hashed.items()})
    return ({unit: _sha(*digest, json.dumps(masks.get(unit), sort_keys=True))
             for unit, digest in digests.items()}, masks)


def _stable_quality(path: Path) -> str:
    """quality.json without its timestamp (a rerun of clean on the same data changes nothing)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("generated", None)
    data.pop("disclosure", None)  # written from the masks, which are keyed on the rest
    return json.dumps(data, sort_keys=True)


def task_keys(tasks: list[Task], cfg: ProjectConfig, notebooks_dir: Path,
              data: dict[str, str], package: str) -> None:
    """Fill each task's fingerprint; a task's key includes the keys of the tasks it reads."""
    config_hash = _sha(cfg.source_path.read_bytes()) if cfg.source_path else ""
    nb_hash = {}
    by_id = {t.id: t for t in tasks}
    for t in tasks:
        if t.notebook not in nb_hash:
            nb_hash[t.notebook] = _sha((notebooks_dir / f"{t.notebook}.ipynb").read_bytes())
        upstream = [by_id[d].key for d in t.deps if d in by_id]
        if t.notebook == COMPARISON_NOTEBOOK:  # the register extract is read by 05 only
            upstream.append(_register_fingerprint(cfg))
        if t.notebook == "04_slutevaluering":  # an edited evaluator text reruns the text
            from .evaluator_text import fingerprint

            upstream.append(fingerprint(cfg, t.unit, str(t.params.get("lang", "da"))))
        t.key = _sha(nb_hash[t.notebook], json.dumps(t.params, sort_keys=True), data[t.unit],
                     config_hash, package, *upstream)


def _register_fingerprint(cfg: ProjectConfig) -> str:
    """Size and modification time of the register extract (a new extract reruns 05)."""
    from .config import register_file

    path = register_file(cfg)
    stat = path.stat() if path.exists() else None
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}" if stat else f"{path}:missing"


# -- the run ------------------------------------------------------------------------------------


def reports_dir(cfg: ProjectConfig) -> Path:
    """Where the HTML of a project goes: ``<project id>/`` in the config's reports folder."""
    return cfg.reports_dir / cfg.project.id


def run(cfg: ProjectConfig, jobs: int = 2, force: bool = False, only: str | None = None,
        lang: str = "da", executor: str = "local", scheduler: str | None = None,
        progress: bool = True, notebooks_dir: str | Path | None = None) -> RunSummary:
    """Clean (if the raw files changed), run what changed, render HTML and write the index.

    Holds the project's lock (a second run is refused with a UserError naming the first).
    SIGINT, SIGTERM and SIGHUP stop the workers and their kernels, keep what finished, and
    raise RunInterrupted, whose ``text`` says so in the report language.
    """
    notes: list[str] = []
    with stop_on_signals(), _main_threads(jobs if executor == "local" else 0):
        try:
            with project_lock(cfg, lang, notes):
                return _run(cfg, jobs, force, only, lang, executor, scheduler, progress,
                            notebooks_dir, notes)
        except RunInterrupted as exc:
            exc.text = exc.text or message(lang, "stopped_early", signal=exc.signal_name)
            raise


@contextmanager
def _main_threads(jobs: int) -> Iterator[None]:
    """While a run cleans and solves the disclosure plans, its own process takes one kernel's
    share of BLAS/OpenMP threads (numpy reads them when first imported): beside the workers'
    kernels, which start and import meanwhile, a thread per core made the plans 2-4x slower
    on a busy 2-core machine. The user's own setting stands; the environment is restored."""
    import sys

    if jobs < 1 or "numpy" in sys.modules or any(os.environ.get(n) for n in THREAD_VARS):
        yield
        return
    for name in THREAD_VARS:  # the same value the workers give their kernels
        os.environ[name] = str(kernel_threads(jobs))
    try:
        yield
    finally:
        for name in THREAD_VARS:
            os.environ.pop(name, None)


def _run(cfg: ProjectConfig, jobs: int, force: bool, only: str | None, lang: str,
         executor: str, scheduler: str | None, progress: bool,
         notebooks_dir: str | Path | None, notes: list[str]) -> RunSummary:
    """The run itself, under the project's lock (see ``run``)."""

    t0 = time.perf_counter()
    root = cfg.root or Path.cwd()
    from .bundled import check_notebooks

    notebooks_dir = check_notebooks(Path(notebooks_dir) if notebooks_dir else cfg.notebooks_dir)
    out_dir = reports_dir(cfg)
    manifest_path = out_dir / "manifest.json"
    old = _read_manifest(manifest_path, notes, lang)
    _remove_leftovers(out_dir, cfg.processed_dir / "notebooks")

    package = package_fingerprint()
    inputs = old.get("inputs") if isinstance(old.get("inputs"), dict) else {}
    known = inputs.get("units") if isinstance(inputs.get("units"), dict) else {}
    verified = (not force and inputs.get("package") == package
                and inputs.get("processed") == processed_digest(cfg))
    # the data changed (or the code, or nothing was run yet): notebooks will run, so start the
    # workers' kernels and their imports now, while this process cleans and fingerprints
    early = None
    if not verified and executor == "local":
        early = _executor(executor, jobs, scheduler)
        early.warm(str(root))
    try:
        return _run_tasks(cfg, force, only, lang, executor, jobs, scheduler, progress,
                          notebooks_dir, notes, t0, root, out_dir, manifest_path, old,
                          package, inputs, known, verified, early)
    except BaseException:
        if early is not None and not early.closed:
            early.terminate()
            early.close()
        raise


def _run_tasks(cfg: ProjectConfig, force: bool, only: str | None, lang: str, executor: str,
               jobs: int, scheduler: str | None, progress: bool, notebooks_dir: Path,
               notes: list[str], t0: float, root: Path, out_dir: Path, manifest_path: Path,
               old: dict[str, Any], package: str, inputs: dict[str, Any],
               known: dict[str, Any], verified: bool, early: Any) -> RunSummary:
    """The rest of ``_run``: clean, fingerprints, then the notebooks that changed (on the
    ``early`` executor when one was started). Long because the run's steps share the
    manifest, which is saved after every notebook, and one clean-up on a stop or an error."""
    from . import __version__
    from .files import write_json
    from .render import write_index

    clean_status, errors, clean_key = _clean_if_changed(cfg, old, force, notes, lang,
                                                        verified)
    tasks = plan(cfg, only, lang, notebooks_dir)
    if cfg.comparison is not None and (only in (None, "all")) and not any(
            t.notebook == COMPARISON_NOTEBOOK for t in tasks):
        notes.append(
            f"{notebooks_dir}: mangler {COMPARISON_NOTEBOOK}.ipynb, så virkningen over for "
            "sammenligningsgruppen er ikke i rapporterne; kopiér notebooks igen (`ungeanalyse "
            "notebooks DIR --force`) eller brug `ungeanalyse effect`" if lang == "da" else
            f"{notebooks_dir}: no {COMPARISON_NOTEBOOK}.ipynb, so the effects against the "
            "comparison group are not in the reports; copy the shipped notebooks again "
            "(`ungeanalyse notebooks DIR --force`) or run `ungeanalyse effect`")
    units = list(dict.fromkeys(t.unit for t in tasks))
    try:
        if verified and clean_status == "cached" and all(u in known for u in units):
            data = {u: known[u] for u in units}  # the same bytes as last time: the same hashes
        else:
            known = {}
            data = unit_data_fingerprints(cfg, units, notes, lang)
    except DamagedFile as exc:
        if clean_status == "ran":  # written a moment ago and unreadable already: the disk
            raise
        notes.append(message(lang, "damaged", path=exc.path, reason=exc.reason,
                             what=message(lang, "again_clean")))
        clean_status, errors, clean_key = _clean_if_changed(cfg, old, True, notes, lang)
        known = {}
        data = unit_data_fingerprints(cfg, units, notes, lang)
    task_keys(tasks, cfg, notebooks_dir, data, package)
    inputs = {"processed": processed_digest(cfg), "package": package,
              "units": {**known, **data}}

    old_tasks = old.get("tasks", {})
    results: dict[str, TaskResult] = {}
    todo: list[Task] = []
    for t in tasks:
        prev = old_tasks.get(t.id)
        if not force and prev and prev.get("key") == t.key and prev.get("status") in OK \
                and _outputs_exist(root, cfg.reports_dir, prev):
            results[t.id] = TaskResult(**{**prev, "status": "cached", "seconds": 0.0})
        else:
            todo.append(t)

    def save_manifest() -> None:
        """The manifest as of now: written after every notebook, so that a run stopped in
        any way leaves a record of exactly what it finished."""
        # a partial run (--only) keeps the other units' entries
        merged = {**{k: v for k, v in old_tasks.items() if k not in results},
                  **{t.id: asdict(results[t.id]) for t in tasks if t.id in results}}
        manifest = {
            "project": cfg.project.id, "name": cfg.project.tr("name", lang), "lang": lang,
            "config": _rel(cfg.source_path, root), "package_version": __version__,
            "generated": dt.datetime.now().isoformat(timespec="seconds"),
            "clean_key": clean_key, "units": cfg.units(),
            "unit_names": {d.id: d.tr("name", lang) for d in cfg.delprojekter},
            "inputs": inputs, "tasks": merged,
        }
        write_json(manifest, manifest_path)

    bar = _progress(len(tasks), progress and bool(todo))
    bar.update(len(results))
    if todo:
        fps = _name_fingerprints(cfg)
        specs = {t.id: _spec(t, cfg, notebooks_dir, out_dir, fps, __version__) for t in todo}
        runner = early or _executor(executor, jobs, scheduler)
        try:
            with signals_deferred():
                for res in _schedule(todo, specs, runner, results, old_tasks):
                    results[res.id] = res
                    save_manifest()
                    bar.update(1)
        except BaseException as exc:  # stopped (or a bug here): no worker or kernel lives on
            runner.terminate()
            bar.close()
            if isinstance(exc, RunInterrupted):
                save_manifest()
                write_index(cfg.reports_dir, lang)
                exc.text = message(lang, "stopped", signal=exc.signal_name, total=len(tasks),
                                   done=sum(r.status in OK for r in results.values()))
            raise
        finally:
            runner.close()
    elif early is not None:  # warmed for nothing: everything was cached after all
        early.terminate()
        early.close()
    bar.close()

    ordered = [results[t.id] for t in tasks]
    save_manifest()
    notes.extend(_evaluator_warnings(cfg, ordered))
    index = write_index(cfg.reports_dir, lang)
    return RunSummary(cfg.project.id, ordered, time.perf_counter() - t0, index, clean_status,
                      errors, notes)


def _evaluator_warnings(cfg: ProjectConfig, results: list[TaskResult]) -> list[str]:
    """The numbers typed by hand in the evaluator's texts that no result shows (as the final
    texts flagged them), once each, for the run's summary."""
    out: list[str] = []
    for r in results:
        if r.name != "04_slutevaluering" or r.status not in OK:
            continue
        path = cfg.processed_dir / "results" / r.unit / "evaluator_text.json"
        try:
            found = json.loads(path.read_text(encoding="utf-8")).get("warnings", [])
        except (OSError, ValueError):
            continue
        out += [w for w in found if w not in out]
    return out


def _remove_leftovers(*folders: Path) -> None:
    """Delete the temp files of atomic writes that a stopped run left half-written (under the
    lock no other run is writing here)."""
    for folder in folders:
        if folder.exists():
            for tmp in folder.rglob(".*.tmp"):
                tmp.unlink(missing_ok=True)


def _read_manifest(path: Path, notes: list[str] | None = None, lang: str = "da"
                   ) -> dict[str, Any]:
    """The last run's manifest; a damaged one is named in ``notes`` and everything reruns."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("tasks", {}), dict):
            raise ValueError("not a manifest")
    except ValueError as exc:
        if notes is not None:
            notes.append(message(lang, "damaged", path=path, reason=_damage_reason(exc),
                                 what=message(lang, "again_all")))
        return {}
    return data


def _outputs_exist(root: Path, reports: Path, prev: dict[str, Any]) -> bool:
    """Whether a cached task's HTML (relative to the reports folder) and executed notebook
    (relative to the project root) are still there."""
    html, notebook = prev.get("html"), prev.get("notebook")
    return (not html or (reports / html).exists()) and (not notebook or (root / notebook).exists())


def _rel(path: Path | None, root: Path) -> str:
    if path is None:
        return ""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _clean_if_changed(cfg: ProjectConfig, old: dict[str, Any], force: bool,
                      notes: list[str] | None = None, lang: str = "da",
                      verified: bool = False) -> tuple[str, list[str], str]:
    """Run the clean stage unless the config and raw files are byte-identical to last time
    and its outputs are whole; returns "ran" or "cached", the files that could not be used
    (warnings) and the fingerprint of the raw files.

    A damaged output of the clean stage is named in ``notes`` and the stage runs again;
    ``verified`` (the outputs are byte-identical to what the last run read) skips that check.
    Raises UserError when no participant file could be read: there is nothing to report on.
    """
    key = raw_fingerprint(cfg)
    quality_path = cfg.processed_dir / "quality.json"
    have = (cfg.processed_dir / "participants.parquet").exists() and quality_path.exists()
    quality = None
    if not force and have and old.get("clean_key") == key:
        try:
            quality = (json.loads(quality_path.read_text(encoding="utf-8")) if verified
                       else _check_clean_outputs(cfg))
            status = "cached"
        except DamagedFile as exc:
            if notes is not None:
                notes.append(message(lang, "damaged", path=exc.path, reason=exc.reason,
                                     what=message(lang, "again_clean")))
    if quality is None:
        from .clean import clean_project

        status = "ran"
        quality = clean_project(cfg).quality
    problem = no_participant_files(quality, quality_path)
    if problem:
        raise UserError(problem)
    return status, file_errors(quality), key


def _check_clean_outputs(cfg: ProjectConfig) -> dict[str, Any]:
    """quality.json, after checking that every file of the clean stage can be opened (JSON
    parses, parquet has its footer); raises DamagedFile naming the first that cannot."""
    import pyarrow.parquet as pq

    folder = cfg.processed_dir
    for name in (*TABLES, "quarantine"):
        path = folder / f"{name}.parquet"
        if path.exists():
            try:
                pq.read_metadata(path)
            except Exception as exc:  # truncated, empty, not parquet
                raise DamagedFile(path, _damage_reason(exc)) from None
    parsed: dict[str, Any] = {}
    for name, kind in (("name_fingerprints.json", list), ("quality.json", dict)):
        path = folder / name
        if not path.exists():
            continue
        try:
            parsed[name] = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(parsed[name], kind):
                raise ValueError(f"not a JSON {kind.__name__}")
        except ValueError as exc:
            raise DamagedFile(path, _damage_reason(exc)) from None
    return parsed.get("quality.json", {})


def file_errors(quality: dict[str, Any]) -> list[str]:
    """Every file the clean stage could not use, as '<table>: <message naming the file>'."""
    return [f"{name}: {e['error']}" for name, table in quality.get("tables", {}).items()
            for e in table.get("file_errors", [])]


def no_participant_files(quality: dict[str, Any], where: Path | str = "quality.json"
                         ) -> str | None:
    """A message naming the files when every participant file failed to read, else None.

    Partial failures (some files read) return None: they are warnings, not errors.
    """
    table = quality.get("tables", {}).get("participants", {})
    failed = {e["file"]: e["error"] for e in table.get("file_errors", [])}
    if not failed or table.get("clean") or set(table.get("by_file", {})) - set(failed):
        return None
    which = "the only participant file" if len(failed) == 1 else \
        f"all {len(failed)} participant files"
    lines = [f"no participant data: {which} could not be used ({', '.join(failed)}):"]
    lines += [f"  {error}" for error in failed.values()]
    lines.append(f"Fix or replace the file(s) and run again (details in {where}).")
    return "\n".join(lines)


def _name_fingerprints(cfg: ProjectConfig) -> list[str]:
    path = cfg.processed_dir / "name_fingerprints.json"
    if not path.exists():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")))


def _spec(t: Task, cfg: ProjectConfig, notebooks_dir: Path, out_dir: Path, fps: list[str],
          version: str) -> dict[str, Any]:
    """Everything a worker needs, as plain data (it may run in another process or machine)."""
    root = cfg.root or Path.cwd()
    return {
        "id": t.id, "unit": t.unit, "name": t.name, "key": t.key, "params": t.params,
        "root": str(root), "notebook": str(notebooks_dir / f"{t.notebook}.ipynb"),
        "executed": str(cfg.processed_dir / "notebooks" / t.unit / f"{t.name}.ipynb"),
        "html": str(out_dir / t.unit / f"{t.name}.html"),
        "title": _title(cfg, t), "lang": t.params["lang"],
        "project_id": cfg.project.id, "demo": cfg.privacy.demo, "name_fps": fps,
        "key_file": str(cfg.key_file) if cfg.key_file else None,
        "reports": str(cfg.reports_dir),
        "provenance": {
            "config": _rel(cfg.source_path, root), "unit": t.unit, "notebook": t.notebook,
            "parameters": {k: v for k, v in t.params.items() if k != "config"},
            "package_version": version, "fingerprint": t.key[:12],
        },
    }


TITLES = {
    "da": {"01_rens_data": "Datagrundlag og datakvalitet", "02_maaltal": "Måltal",
           "03_hvad_virker_for_hvem": "Hvad virker for hvem",
           "04_slutevaluering": "Slutevaluering", "04_pixi": "Pixi-udgave",
           "05_virkning": "Virkning"},
    "en": {"01_rens_data": "Data and data quality", "02_maaltal": "Targets",
           "03_hvad_virker_for_hvem": "What works for whom",
           "04_slutevaluering": "Final evaluation", "04_pixi": "Summary",
           "05_virkning": "Effect"},
}
"""The HTML page title of each report, before the unit's name."""


def _title(cfg: ProjectConfig, t: Task) -> str:
    lang = t.params.get("lang", "da")
    unit = (cfg.project if t.unit == "all" else cfg.delprojekt(t.unit)).tr("name", lang)
    return f"{TITLES.get(lang, TITLES['da'])[t.name]} – {unit}"


EXPECTED_SECONDS = {"01_rens_data": 1.5, "02_maaltal": 3.5, "03_hvad_virker_for_hvem": 2.5,
                    "04_slutevaluering": 1.0, "04_pixi": 1.0, COMPARISON_NOTEBOOK: 5.0}
"""A first run's guess of each notebook's seconds for a delprojekt (AUMI demo, idle machine);
the whole project's take about twice as long, its final texts more (PDF and Word)."""


def expected_seconds(t: Task, previous: dict[str, Any] | None = None) -> float:
    """How long a task will take: what it took last time, else a guess by notebook."""
    seconds = ((previous or {}).get(t.id) or {}).get("seconds")
    if isinstance(seconds, int | float) and seconds > 0:
        return float(seconds)
    guess = EXPECTED_SECONDS.get(t.name, 2.0)
    if t.unit == "all":
        guess *= 2
        if t.name in DOCUMENT_TASKS:
            guess += 4.0
    return guess


def critical_path(tasks: list[Task], previous: dict[str, Any] | None = None
                  ) -> dict[str, float]:
    """Per task, the seconds from its start to the end of the longest chain of tasks that
    wait for it: run the largest first, so that no worker idles at the end behind one long
    notebook (the whole project's final text waits for its måltal and CMO notebooks)."""
    after: dict[str, list[str]] = {t.id: [] for t in tasks}
    for t in tasks:
        for d in t.deps:
            if d in after:
                after[d].append(t.id)
    own = {t.id: expected_seconds(t, previous) for t in tasks}
    out: dict[str, float] = {}

    def length(tid: str) -> float:
        if tid not in out:
            out[tid] = own[tid] + max((length(n) for n in after[tid]), default=0.0)
        return out[tid]

    for t in tasks:
        length(t.id)
    return out


def _schedule(todo: list[Task], specs: dict[str, dict[str, Any]], runner: Any,
              done: dict[str, TaskResult], previous: dict[str, Any] | None = None
              ) -> Iterable[TaskResult]:
    """Submit tasks as their dependencies finish, the longest chain first, no more at a time
    than the executor has slots (so that the order is decided when a worker is free, not all
    at once); yield results as they arrive."""
    priority = critical_path(todo, previous)
    waiting = sorted(todo, key=lambda t: -priority[t.id])
    running: dict[Any, str] = {}
    finished = {k: v.status for k, v in done.items()}
    slots = getattr(runner, "slots", None) or len(todo)
    while waiting or running:
        for t in list(waiting):
            states = [finished.get(d) for d in t.deps if d in specs or d in finished]
            if any(s is not None and s not in OK for s in states):
                waiting.remove(t)
                bad = [d for d in t.deps if finished.get(d) not in (None, *OK)]
                res = TaskResult(t.id, t.unit, t.name, "skipped", t.key,
                                 error=f"needs {', '.join(bad)}, which did not succeed")
                finished[t.id] = res.status
                yield res
            elif all(s in OK for s in states) and len(running) < slots:
                waiting.remove(t)
                running[runner.submit(execute_task, specs[t.id])] = t.id
        if not running:
            continue
        ready = runner.wait_first(list(running), STOP_POLL)
        raise_if_stopped()
        for fut in ready:
            tid = running.pop(fut)
            try:
                res = TaskResult(**fut.result())
            except Exception as exc:  # the worker itself died
                spec = specs[tid]
                res = TaskResult(tid, spec["unit"], spec["name"], "failed", spec["key"],
                                 error=f"worker error: {type(exc).__name__}: {exc}")
            finished[tid] = res.status
            yield res


class _NoBar:
    """The progress bar of a run that shows none (tqdm is not even imported)."""

    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="notebooks", unit="nb", disable=not enabled, leave=False)


# -- executors ------------------------------------------------------------------------------------


THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
"""The thread counts of BLAS and OpenMP (numpy, scipy, statsmodels, pyarrow read them)."""


def kernel_threads(jobs: int) -> int:
    """BLAS/OpenMP threads per kernel so that ``jobs`` kernels together use the CPUs once."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus // max(1, jobs))


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker with SIGHUP ignored (it ignores SIGINT and
    SIGTERM itself): a closed terminal would kill it, and its replacement prints tracebacks."""
    from multiprocessing import resource_tracker

    hup = getattr(signal, "SIGHUP", None)
    if hup is None or threading.current_thread() is not threading.main_thread():
        resource_tracker.ensure_running()
        return
    previous = signal.signal(hup, signal.SIG_IGN)  # an ignored signal stays so across exec
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(hup, previous)


class LocalExecutor:
    """Worker processes on this machine, each keeping one warm Jupyter kernel.

    Each worker gives its kernel its share of the CPUs for BLAS/OpenMP threads (unless the
    user set them): left alone, every kernel starts one BLAS thread per core, and two kernels
    on two cores ran the AUMI demo 1.7× slower than with one thread each (Dask's nanny sets
    one thread, which is why the Dask executor looked faster). Workers ignore the terminal's
    SIGINT and SIGHUP (the run decides), kill their kernel on SIGTERM, and stop by themselves
    when the run's process dies (Linux PR_SET_PDEATHSIG, and a thread watching the parent).
    """

    def __init__(self, jobs: int):
        import multiprocessing as mp
        import tempfile
        from concurrent.futures import ProcessPoolExecutor

        jobs = max(1, jobs)
        self.jobs, self.slots, self.closed = jobs, jobs, False
        _start_resource_tracker()
        self.sockets = Path(tempfile.mkdtemp(prefix="ungeanalyse-run-"))
        self.pool = ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn"),
                                        initializer=_worker_init,
                                        initargs=(os.getpid(), str(self.sockets),
                                                  kernel_threads(jobs)))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.pool.submit(fn, *args)

    def warm(self, root: str) -> None:
        """Start the workers, each with its kernel and the notebooks' imports, before any
        task is known (one warm-up per worker; a task waits behind it)."""
        for _ in range(self.jobs):  # the list as this process has it (a test may shorten it)
            self.pool.submit(warm_worker, root, WARM_MODULES)

    def wait_first(self, futures: list[Any], timeout: float | None = None) -> set[Any]:
        """The futures done once the first is (none after ``timeout`` seconds)."""
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(futures, timeout=timeout, return_when=FIRST_COMPLETED).done

    def terminate(self, grace: float = 3.0) -> None:
        """Stop now: SIGTERM to every worker (it kills its kernel and exits), SIGKILL to any
        still alive after ``grace`` seconds; queued tasks are cancelled."""
        procs = list((getattr(self.pool, "_processes", None) or {}).values())
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + grace
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        for proc in procs:
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        self.closed = True
        self.pool.shutdown(wait=True, cancel_futures=True)
        import shutil

        shutil.rmtree(self.sockets, ignore_errors=True)


class DaskExecutor:
    """Tasks on a Dask distributed cluster (``--executor dask --scheduler tcp://…``).

    The workers need ungeanalyse installed and the repository (notebooks, config, data) at
    the same path, as on a shared file system; each worker keeps one warm kernel.
    """

    def __init__(self, scheduler: str | Any):
        try:
            from distributed import Client
        except ImportError:
            raise UserError("--executor dask needs the optional extra: "
                            "pip install 'ungeanalyse[dask]'") from None
        if scheduler is None:
            raise UserError("--executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
        self.client = scheduler if hasattr(scheduler, "submit") else Client(scheduler)
        self.owns = not hasattr(scheduler, "submit")
        self.futures: list[Any] = []

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        fut = self.client.submit(fn, *args, pure=False)
        self.futures.append(fut)
        return fut

    def terminate(self) -> None:
        """Cancel what has not finished; a notebook already running on a Dask worker finishes
        there (the cluster's workers are not ours to kill), its result is not used."""
        try:
            self.client.cancel([f for f in self.futures if not f.done()])
        except Exception:  # pragma: no cover - the scheduler is gone already
            pass

    def wait_first(self, futures: list[Any], timeout: float | None = None) -> set[Any]:
        """The futures done once the first is (none after ``timeout`` seconds)."""
        from distributed import wait

        try:
            return set(wait(futures, timeout=timeout, return_when="FIRST_COMPLETED").done)
        except TimeoutError:
            return set()

    def close(self) -> None:
        if self.owns:
            self.client.close()


def _executor(kind: str, jobs: int, scheduler: Any) -> Any:
    if kind == "local":
        return LocalExecutor(jobs)
    if kind == "dask":
        return DaskExecutor(scheduler)
    raise UserError(f"Unknown executor {kind!r}: use local or dask")


# -- the worker side ----------------------------------------------------------------------------

_KERNEL: dict[str, Any] = {}
_SOCKET_DIRS: list[Path] = []
_LOCAL: dict[str, Any] = {}
"""Set in a local pool's worker by ``_worker_init``: where kernel sockets go, thread count."""


def _worker_init(parent: int, sockets: str, threads: int) -> None:
    """Prepare a local worker process: BLAS threads, signals, and dying with the run."""
    _LOCAL.update(parent=parent, sockets=sockets, threads=threads)
    _skip_iri_grammar()
    if not any(os.environ.get(name) for name in THREAD_VARS):
        for name in THREAD_VARS:  # inherited by the kernel this worker starts
            os.environ[name] = str(threads)
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):  # the terminal's signals go to the run, which stops us
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _worker_stop)
    _die_with_parent(signal.SIGTERM)
    if os.getppid() != parent:  # the run died before we got here
        _worker_stop(signal.SIGTERM, None)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="ungeanalyse-watch-parent").start()


def _skip_iri_grammar() -> None:
    """Leave out jsonschema's optional IRI format checks in a worker: on import they build a
    grammar parser (rfc3987-syntax, about 1.4 s of CPU in every worker, through nbformat),
    and neither nbformat's schema nor anything else a worker validates uses an IRI format."""
    import sys

    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)  # importing it raises ImportError


def _die_with_parent(sig: int) -> bool:
    """Ask Linux to send ``sig`` to this process when its parent dies (PR_SET_PDEATHSIG)."""
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(1, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):  # pragma: no cover
        return False


def _kernel_preexec() -> None:
    """In a local worker's kernel, between fork and exec: die when the worker dies."""
    _die_with_parent(signal.SIGKILL)


def _watch_parent(parent: int) -> None:
    """Stop this worker (and its kernel) once the run that started it is gone."""
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            _worker_stop(signal.SIGTERM, None)


def _worker_stop(signum: int, frame: Any) -> None:
    """SIGTERM in a local worker: kill the kernel (and anything it started), then exit."""
    _kill_kernels()
    os._exit(128 + signum)


def _kill_kernels() -> None:
    """Kill every kernel of this worker at once, with its process group, and its files."""
    import shutil

    for km in list(_KERNEL.values()):
        proc = getattr(getattr(km, "provisioner", None), "process", None)
        pid = getattr(proc, "pid", None)
        if pid:
            try:
                os.killpg(pid, signal.SIGKILL)  # the kernel leads its own session
            except OSError:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        try:
            km.cleanup_connection_file()
        except Exception:  # pragma: no cover
            pass
    _KERNEL.clear()
    for d in _SOCKET_DIRS:
        shutil.rmtree(d, ignore_errors=True)
RESET_CODE = """import sys as _sys
if 'matplotlib.pyplot' in _sys.modules:
    import matplotlib as _mpl
    import matplotlib.pyplot as _plt
    _plt.close('all')
    if hasattr(_mpl, '_ungeanalyse_rc'):
        _mpl.rcParams.update(_mpl._ungeanalyse_rc)
    else:
        _mpl._ungeanalyse_rc = dict(_mpl.rcParams)
    del _mpl, _plt
del _sys
get_ipython().run_line_magic('reset', '-f')
import gc as _gc
_gc.freeze()
del _gc
get_ipython().execution_count = 1"""
"""Run silently before each notebook in a reused kernel: no figures, matplotlib's settings as
the kernel had them after its warm-up imports (which include pyplot; a kernel that has not
imported it is left without it), an empty namespace, and cell numbers from 1 as under
papermill. What outlives the reset (the libraries and their caches) is then frozen out of
the garbage collector (``gc.freeze``): the reset's full collection, and every full
collection while a notebook runs, walks only what was made since (0.45 s a reset before,
0.05 s after, with the notebooks' libraries loaded); the notebook's own garbage, figures
included, is collected by the reset before the freeze."""

WARM_MODULES = ("numpy", "pandas", "pyarrow.parquet", "scipy.stats", "statsmodels.api",
                "matplotlib.pyplot", "seaborn", "IPython.display", "ungeanalyse.config",
                "ungeanalyse.results", "ungeanalyse.disclosure", "ungeanalyse.outcomes",
                "ungeanalyse.realist", "ungeanalyse.plot", "ungeanalyse.privacy",
                "ungeanalyse.steps", "ungeanalyse.survey", "ungeanalyse.qca",
                "ungeanalyse.fmt", "ungeanalyse.reader.display", "ungeanalyse.reader.quality",
                "ungeanalyse.reader.maaltal", "ungeanalyse.reader.steps",
                "ungeanalyse.reader.survey", "ungeanalyse.reader.cmo", "ungeanalyse.reader.qca",
                "ungeanalyse.reader.evaluation")
"""What the notebooks import, imported in each kernel while the run cleans."""


def warm_code(modules: Iterable[str]) -> str:
    """Code that imports ``modules`` in a kernel and leaves nothing in its namespace."""
    return f"""def _ungeanalyse_warm():
    import importlib
    for name in {tuple(modules)!r}:
        try:
            importlib.import_module(name)
        except Exception:
            pass
_ungeanalyse_warm()
del _ungeanalyse_warm
import gc as _gc
_gc.freeze()  # the libraries stay: keep them out of every collection to come
del _gc"""


WORKER_MODULES = ("nbformat", "nbclient", "papermill.parameterize", "nbconvert.exporters.html",
                  "ungeanalyse.render", "ungeanalyse.privacy", "bs4", "openpyxl")
"""What a worker itself needs to run, render and scan a notebook (imported while its kernel
starts, so the first notebook does not wait for them)."""


def warm_worker(root: str, modules: Iterable[str] = WARM_MODULES) -> None:
    """Start this worker's kernel and import the notebooks' libraries (``modules``) in it,
    silently (no cell number used, nothing left in its namespace), while the worker imports
    what it needs itself; a failure here only costs the time."""
    import importlib

    try:
        km = _kernel(root)  # the kernel process starts; it imports while we do
        for name in WORKER_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # reported where it is needed
                pass
        import nbformat

        from .render import html_exporter

        html_exporter().from_notebook_node(nbformat.v4.new_notebook())  # compiles templates
        kc = _client(root, km)
        _kernel_exec(kc, warm_code(modules))
        _send_reset(root, kc)
    except Exception:  # the first notebook starts the kernel again and reports what fails
        pass


def _kernel_exec(kc: Any, code: str) -> None:
    """Run ``code`` in the kernel silently (no output kept, no cell number used) and wait."""
    reply = kc.execute_interactive(code, silent=True, store_history=False, timeout=600)
    if reply["content"].get("status") != "ok":
        raise RuntimeError(f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}")


_CLIENT: dict[str, Any] = {}
_RESET: dict[str, str] = {}
"""Per repository root in a worker: the one client of its kernel (connected and ready once,
kept across notebooks), and the message id of a namespace reset sent and not yet confirmed."""


def _client(root: str, km: Any) -> Any:
    """The worker's client of kernel ``km``: connected and checked ready once, then reused
    (each new client waits at least 0.2 s for the kernel's IOPub to fall quiet)."""
    kc = _CLIENT.get(root)
    if kc is not None and getattr(kc, "parent", None) is km:
        return kc
    if kc is not None:
        kc.stop_channels()
    _RESET.pop(root, None)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=120)
    _CLIENT[root] = kc
    return kc


def _send_reset(root: str, kc: Any) -> None:
    """Ask the kernel to reset its namespace (``RESET_CODE``) without waiting: it clears up
    while this worker renders and scans; the next notebook checks the reply first."""
    _RESET[root] = kc.execute(RESET_CODE, silent=True, store_history=False)


def _ready_kernel(root: str) -> tuple[Any, Any]:
    """This worker's kernel and client, with a reset namespace: the reset sent after the last
    notebook is confirmed (or one is run now)."""
    km = _kernel(root)
    kc = _client(root, km)
    if root not in _RESET:
        _send_reset(root, kc)
    msg_id = _RESET.pop(root)
    from queue import Empty

    deadline = time.monotonic() + 600
    while True:
        try:
            msg = kc.get_shell_msg(timeout=1)
        except Empty:
            if not km.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the kernel did not reset its namespace") from None
            continue
        if msg["parent_header"].get("msg_id") == msg_id:
            break
    if msg["content"].get("status") != "ok":
        raise RuntimeError(f"{msg['content'].get('ename')}: {msg['content'].get('evalue')}")
    return km, kc


def _kernel(root: str) -> Any:
    """This worker's kernel, started once in the repository root and reused across tasks.

    Reuse saves the kernel start and the heavy imports (pandas, statsmodels, matplotlib) for
    every notebook after the first; the namespace is reset before each notebook.
    """
    km = _KERNEL.get(root)
    if km is not None and km.is_alive():
        return km
    import tempfile

    from jupyter_client import KernelManager

    # IPC sockets in a private temp dir: local only, and no plain-TCP warning in the log
    sockets = Path(tempfile.mkdtemp(prefix="ungeanalyse-kernel-",
                                    dir=_LOCAL.get("sockets"))) / "kernel"
    _SOCKET_DIRS.append(sockets.parent)
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(sockets))
    extra = {"preexec_fn": _kernel_preexec} if _LOCAL else {}
    km.start_kernel(cwd=root, env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
                    **extra)
    _KERNEL[root] = km
    try:
        from multiprocessing import util

        util.Finalize(None, _shutdown_kernels, exitpriority=10)
    except Exception:  # pragma: no cover - not in a multiprocessing worker
        pass
    return km


def _shutdown_kernels() -> None:
    for kc in _CLIENT.values():
        try:
            kc.stop_channels()
        except Exception:  # pragma: no cover
            pass
    _CLIENT.clear()
    for km in _KERNEL.values():
        try:
            km.shutdown_kernel(now=True)
        except Exception:  # pragma: no cover
            pass
    _KERNEL.clear()
    import shutil

    for d in _SOCKET_DIRS:
        shutil.rmtree(d, ignore_errors=True)
    _SOCKET_DIRS.clear()


DOCUMENT_TASKS = ("04_slutevaluering", "04_pixi")  # also written as PDF and Word (unit all)


class _Laps:
    """Seconds per step of a task in its worker, kept in the manifest as ``phases`` (where a
    run's time goes: waiting for the kernel, executing, HTML, PDF/Word, the privacy scan)."""

    def __init__(self) -> None:
        self.started = dt.datetime.now().isoformat(timespec="milliseconds")
        self.t0 = self.t = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def __call__(self, step: str) -> None:
        now = time.perf_counter()
        self.seconds[step] = round(now - self.t, 2)
        self.t = now


def execute_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook with its parameters, save it, render HTML, scan both; never raises."""
    import nbformat
    from papermill.parameterize import parameterize_notebook

    from .io import atomic_write

    laps = _Laps()
    executed = Path(spec["executed"])
    result = {"id": spec["id"], "unit": spec["unit"], "name": spec["name"], "key": spec["key"],
              "notebook": _rel(executed, Path(spec["root"])), "html": None, "error": None,
              "scan_hits": [], "started": laps.started}
    nb = nbformat.read(spec["notebook"], as_version=4)
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    nb.metadata.setdefault("papermill", {})
    nb = parameterize_notebook(nb, spec["params"], report_mode=False)
    status, result["error"] = _execute_notebook(nb, spec["root"], laps)
    atomic_write(executed, lambda p: nbformat.write(nb, str(p)))
    if status == "ran":
        status = _publish(nb, spec, result, laps)
    result.update(status=status, seconds=round(time.perf_counter() - laps.t0, 2),
                  phases=laps.seconds)
    return result


def _execute_notebook(nb: Any, root: str, laps: _Laps) -> tuple[str, str | None]:
    """Execute ``nb`` in this worker's warm kernel: ("ran", None) or ("failed", why)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    try:
        km, kc = _ready_kernel(root)
        laps("kernel")
        client = NotebookClient(nb, km=km, timeout=900, kernel_name="python3",
                                resources={"metadata": {"path": root}})
        client.kc = kc  # the worker's own, ready client: nbclient neither waits nor closes it
        try:
            _execute_off_main_thread(client)
        finally:
            laps("execute")
            if km.is_alive():  # the kernel clears up while this worker renders and scans
                _send_reset(root, kc)
    except CellExecutionError as exc:
        return "failed", _short_error(exc)
    except DeadKernelError:
        _KERNEL.pop(root, None)
        return "failed", "the kernel died (out of memory?)"
    except Exception as exc:  # a broken notebook file or kernel start-up: report, don't crash
        return "failed", f"{type(exc).__name__}: {exc}"
    return "ran", None


def _publish(nb: Any, spec: dict[str, Any], result: dict[str, Any], laps: _Laps) -> str:
    """Render an executed notebook to HTML (and PDF/Word for the whole project's final
    texts), scan everything written, and withhold it all on a hit; returns the status."""
    from .render import render_html, table_files

    html, executed = Path(spec["html"]), Path(spec["executed"])
    render_html(nb, html, title=spec["title"], lang=spec["lang"],
                provenance={**spec["provenance"], "date": dt.date.today().isoformat()})
    reports = Path(spec.get("reports") or Path(spec["root"]) / "reports")
    result["html"] = _rel(html, reports)
    laps("html")
    docs: list[Path] = []
    if spec["unit"] == "all" and spec["name"] in DOCUMENT_TASKS:
        from .document import write_deliverables

        docs, result["error"] = write_deliverables(nb, spec, html, executed)
        result["documents"] = [_rel(d, reports) for d in docs if d.suffix != ".json"]
        laps("documents")
    tables = table_files(html)
    hits = _scan(spec, [executed, html, *docs, *tables])
    laps("scan")
    if not hits:
        return "ran"
    for p in (html, *docs, *tables):
        p.unlink(missing_ok=True)
    result["html"], result["scan_hits"], result["documents"] = None, hits, []
    return "withheld"


def _execute_off_main_thread(client: Any) -> None:
    """Run the notebook in a helper thread: in the main thread nbclient swaps this process's
    SIGINT and SIGTERM handlers for its own (which leave the worker running when the run
    stops), and afterwards resets them to the defaults. The kernel stays started by the main
    thread, which matters for PR_SET_PDEATHSIG (it follows the thread that started a child)."""
    if threading.current_thread() is not threading.main_thread():
        client.execute()
        return
    failure: list[BaseException] = []

    def target() -> None:
        try:
            client.execute()
        except BaseException as exc:  # handed to the caller below
            failure.append(exc)

    worker = threading.Thread(target=target, name="ungeanalyse-notebook", daemon=True)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def _short_error(exc: Exception) -> str:
    """The exception name and the first line of its message, without the traceback."""
    ename = getattr(exc, "ename", type(exc).__name__)
    evalue = str(getattr(exc, "evalue", "") or exc).strip().splitlines()
    return f"{ename}: {evalue[0] if evalue else ''}"[:300]


def _scan(spec: dict[str, Any], paths: list[Path]) -> list[str]:
    """Personal data in a task's outputs, as 'file: location' strings (never the value)."""
    from . import privacy

    key = None
    fps = set(spec.get("name_fps") or [])
    if fps:
        try:
            key = privacy.load_key(spec["project_id"], demo=spec["demo"],
                                   key_file=spec.get("key_file"))
        except UserError:
            fps = set()
    hits = privacy.scan_paths(paths, name_fps=fps or None, key=key)
    return [_hit_text(h) for h in hits]


def _hit_text(hit: Any) -> str:
    if hasattr(hit, "where"):
        return f"{Path(str(getattr(hit, 'path', ''))).name}: {hit.kind} at {hit.where}"
    return str(hit)
