"""The runner: clean, then every notebook for every unit in parallel, HTML reports and the index.

``ungeanalyse run --config config/aumi.yml`` plans one task per notebook and unit (the whole
project ``all`` plus each delprojekt), skips a task whose fingerprint is unchanged (notebook,
parameters, the unit's input data, the config, the package's code), runs the rest on local worker
processes (or a Dask cluster), renders each executed notebook to HTML, scans the outputs for
personal data, and writes ``reports/<project>/manifest.json`` and ``reports/index.html``.

A failing task never stops the others: it is marked failed, its executed notebook is kept for
debugging, tasks that need its results are skipped, and the exit status is non-zero.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .config import ProjectConfig
from .errors import UserError

NOTEBOOKS = ("01_rens_data", "02_maaltal", "03_hvad_virker_for_hvem", "04_slutevaluering")
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


@dataclass
class RunSummary:
    """The end of a run: counts by status, the wall time, and where the reports are."""

    project: str
    results: list[TaskResult]
    seconds: float
    index: Path
    clean: str
    file_errors: list[str] = field(default_factory=list)

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
        lines.append(f"Reports: {self.index}")
        return "\n".join(lines)


# -- planning and fingerprints ------------------------------------------------------------------


def plan(cfg: ProjectConfig, only: str | None = None, lang: str = "da") -> list[Task]:
    """The tasks of a run: data quality once, then måltal, CMO, text and pixi per unit."""
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
        tasks.append(Task(unit, "04_slutevaluering", "04_slutevaluering",
                          {**base, "variant": "full"}, list(deps)))
        tasks.append(Task(unit, "04_slutevaluering", "04_pixi", {**base, "variant": "pixi"},
                          list(deps)))
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
                from .survey_export import companion_files

                for extra in companion_files(path):  # a SurveyXact CSV's labels and structure
                    parts.extend([extra.name, extra.read_bytes()])
    return _sha(*parts)


TABLES_FILES = ("participants", "survey", "steps", "quotes")


def unit_data_fingerprints(cfg: ProjectConfig, units: Iterable[str]) -> dict[str, str]:
    """Per unit, a hash of the clean rows that belong to it, so new data from one partner
    reruns only that partner's unit and the whole project."""
    import pandas as pd

    from .io import read_processed

    tables = {}
    for name in TABLES:
        try:
            tables[name] = read_processed(cfg, name)
        except UserError:
            tables[name] = pd.DataFrame()
    quality = cfg.processed_dir / "quality.json"
    quality_hash = _sha(_stable_quality(quality)) if quality.exists() else ""
    parts = tables["participants"]
    digests = {}
    for unit in units:
        digest = [quality_hash] if unit == "all" else []
        if unit == "all" or parts.empty:
            persons = None
        else:
            persons = set(parts.loc[parts["delprojekt"] == unit, "person_id"])
        for name, table in tables.items():
            if table.empty:
                digest.append(f"{name}:empty")
                continue
            if persons is not None:
                if name == "participants" or (name == "quotes" and "delprojekt" in table):
                    mask = table["delprojekt"] == unit
                    if name == "quotes":
                        mask = mask | table["person_id"].isin(persons)
                else:
                    mask = table["person_id"].isin(persons)
                table = table[mask]
            hashed = pd.util.hash_pandas_object(table.astype("string"), index=False)
            digest.append(f"{name}:{len(table)}:{int(hashed.sum()) & (2**64 - 1)}")
        digests[unit] = digest
    # what a unit hides is decided for all units together: new data from another partner that
    # changes it reruns this unit too (the plans are cached under the whole project's data)
    project = _sha(*(d for unit in sorted(digests) for d in digests[unit]),
                   cfg.source_path.read_bytes().hex() if cfg.source_path else "",
                   package_fingerprint())
    masks = _cached_masks(cfg, project, lambda: _disclosure_masks(
        parts, tables["steps"], tables["survey_responses"], cfg))
    return {unit: _sha(*digest, json.dumps(masks.get(unit), sort_keys=True))
            for unit, digest in digests.items()}


def _cached_masks(cfg: ProjectConfig, key: str, compute: Any) -> dict[str, Any]:
    """The disclosure masks of every unit, from ``disclosure_masks.json`` in the processed
    folder when it was made from the same data, config and code (a no-change rerun), else
    computed and stored."""
    path = cfg.processed_dir / "disclosure_masks.json"
    if not cfg.processed_dir.exists():
        return compute()
    if path.exists():
        try:
            cached = json.loads(path.read_text(encoding="utf-8"))
            if cached.get("key") == key:
                return cached["masks"]
        except (ValueError, KeyError):
            pass
    masks = compute()
    from .io import write_json

    write_json({"key": key, "masks": masks}, path)
    return masks


def _disclosure_masks(participants: Any, steps: Any, responses: Any, cfg: ProjectConfig
                      ) -> dict[str, Any]:
    """Per unit, what the project-wide disclosure plans of the måltal, the funnel, the CMO
    cells and the survey counts hide, or nothing when the tables cannot give them (the
    notebooks then report the problem)."""
    from .outcomes import disclosure_plan
    from .realist import cmo_plan
    from .steps import funnel_plan
    from .survey import survey_plan

    if not len(participants):
        return {}
    try:
        maaltal = disclosure_plan(participants, cfg)
        funnel = (funnel_plan(steps, participants, cfg, maaltal=maaltal)
                  if cfg.steps.ladder and len(steps) else {})
        cmo = cmo_plan(participants, cfg) if cfg.hypotheses else {}
        survey = (survey_plan(responses, participants, cfg)
                  if cfg.survey.scales and len(responses) else {})
    except (UserError, KeyError):
        return {}
    return {u: {"maaltal": maaltal.get(u), "funnel": funnel.get(u), "cmo": cmo.get(u),
                "survey": survey.get(u)} for u in cfg.units()}


def _stable_quality(path: Path) -> str:
    """quality.json without its timestamp (a rerun of clean on the same data changes nothing)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("generated", None)
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
        t.key = _sha(nb_hash[t.notebook], json.dumps(t.params, sort_keys=True), data[t.unit],
                     config_hash, package, *upstream)


# -- the run ------------------------------------------------------------------------------------


def reports_dir(cfg: ProjectConfig) -> Path:
    """Where the HTML of a project goes: ``reports/<project id>/`` under the repository root."""
    return (cfg.root or Path.cwd()) / "reports" / cfg.project.id


def run(cfg: ProjectConfig, jobs: int = 2, force: bool = False, only: str | None = None,
        lang: str = "da", executor: str = "local", scheduler: str | None = None,
        progress: bool = True, notebooks_dir: str | Path | None = None) -> RunSummary:
    """Clean (if the raw files changed), run what changed, render HTML and write the index."""
    from . import __version__
    from .io import write_json
    from .render import write_index

    t0 = time.perf_counter()
    root = cfg.root or Path.cwd()
    notebooks_dir = Path(notebooks_dir) if notebooks_dir else root / "notebooks"
    if not (notebooks_dir / "02_maaltal.ipynb").exists():
        raise UserError(f"No notebooks in {notebooks_dir}: run from the ungeanalyse repository")
    out_dir = reports_dir(cfg)
    manifest_path = out_dir / "manifest.json"
    old = _read_manifest(manifest_path)

    clean_status, errors = _clean_if_changed(cfg, old, force)
    tasks = plan(cfg, only, lang)
    units = list(dict.fromkeys(t.unit for t in tasks))
    package = package_fingerprint()
    task_keys(tasks, cfg, notebooks_dir, unit_data_fingerprints(cfg, units), package)

    old_tasks = old.get("tasks", {})
    results: dict[str, TaskResult] = {}
    todo: list[Task] = []
    for t in tasks:
        prev = old_tasks.get(t.id)
        if not force and prev and prev.get("key") == t.key and prev.get("status") in OK \
                and _outputs_exist(root, prev):
            results[t.id] = TaskResult(**{**prev, "status": "cached", "seconds": 0.0})
        else:
            todo.append(t)

    bar = _progress(len(tasks), progress)
    bar.update(len(results))
    if todo:
        fps = _name_fingerprints(cfg)
        specs = {t.id: _spec(t, cfg, notebooks_dir, out_dir, fps, __version__) for t in todo}
        runner = _executor(executor, jobs, scheduler)
        try:
            for res in _schedule(todo, specs, runner, results):
                results[res.id] = res
                bar.update(1)
        finally:
            runner.close()
    bar.close()

    ordered = [results[t.id] for t in tasks]
    # a partial run (--only) keeps the other units' entries
    merged = {**{k: v for k, v in old_tasks.items() if k not in results},
              **{r.id: asdict(r) for r in ordered}}
    manifest = {
        "project": cfg.project.id, "name": cfg.project.tr("name", lang), "lang": lang,
        "config": _rel(cfg.source_path, root), "package_version": __version__,
        "generated": dt.datetime.now().isoformat(timespec="seconds"),
        "clean_key": raw_fingerprint(cfg), "units": cfg.units(),
        "unit_names": {d.id: d.tr("name", lang) for d in cfg.delprojekter}, "tasks": merged,
    }
    write_json(manifest, manifest_path)
    index = write_index(root / "reports", lang)
    return RunSummary(cfg.project.id, ordered, time.perf_counter() - t0, index, clean_status,
                      errors)


def _read_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _outputs_exist(root: Path, prev: dict[str, Any]) -> bool:
    return all((root / p).exists() for p in (prev.get("html"), prev.get("notebook")) if p)


def _rel(path: Path | None, root: Path) -> str:
    if path is None:
        return ""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _clean_if_changed(cfg: ProjectConfig, old: dict[str, Any], force: bool
                      ) -> tuple[str, list[str]]:
    """Run the clean stage unless the config and raw files are byte-identical to last time;
    returns "ran" or "cached" and the files that could not be used (warnings).

    Raises UserError when no participant file could be read: there is nothing to report on.
    """
    from .clean import clean_project

    key = raw_fingerprint(cfg)
    quality_path = cfg.processed_dir / "quality.json"
    have = (cfg.processed_dir / "participants.parquet").exists() and quality_path.exists()
    if not force and have and old.get("clean_key") == key:
        status = "cached"
        quality = json.loads(quality_path.read_text(encoding="utf-8"))
    else:
        status = "ran"
        quality = clean_project(cfg).quality
    problem = no_participant_files(quality, quality_path)
    if problem:
        raise UserError(problem)
    return status, file_errors(quality)


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
        "provenance": {
            "config": _rel(cfg.source_path, root), "unit": t.unit, "notebook": t.notebook,
            "parameters": {k: v for k, v in t.params.items() if k != "config"},
            "package_version": version, "fingerprint": t.key[:12],
        },
    }


TITLES = {
    "da": {"01_rens_data": "Datagrundlag og datakvalitet", "02_maaltal": "Måltal",
           "03_hvad_virker_for_hvem": "Hvad virker for hvem",
           "04_slutevaluering": "Slutevaluering", "04_pixi": "Pixi-udgave"},
    "en": {"01_rens_data": "Data and data quality", "02_maaltal": "Targets",
           "03_hvad_virker_for_hvem": "What works for whom",
           "04_slutevaluering": "Final evaluation", "04_pixi": "Summary"},
}
"""The HTML page title of each report, before the unit's name."""


def _title(cfg: ProjectConfig, t: Task) -> str:
    lang = t.params.get("lang", "da")
    unit = (cfg.project if t.unit == "all" else cfg.delprojekt(t.unit)).tr("name", lang)
    return f"{TITLES.get(lang, TITLES['da'])[t.name]} – {unit}"


def _schedule(todo: list[Task], specs: dict[str, dict[str, Any]], runner: Any,
              done: dict[str, TaskResult]) -> Iterable[TaskResult]:
    """Submit tasks as their dependencies finish; yield results as they arrive."""
    waiting = list(todo)
    running: dict[Any, str] = {}
    finished = {k: v.status for k, v in done.items()}
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
            elif all(s in OK for s in states):
                waiting.remove(t)
                running[runner.submit(execute_task, specs[t.id])] = t.id
        if not running:
            continue
        for fut in runner.wait_first(list(running)):
            tid = running.pop(fut)
            try:
                res = TaskResult(**fut.result())
            except Exception as exc:  # the worker itself died
                spec = specs[tid]
                res = TaskResult(tid, spec["unit"], spec["name"], "failed", spec["key"],
                                 error=f"worker error: {type(exc).__name__}: {exc}")
            finished[tid] = res.status
            yield res


def _progress(total: int, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="notebooks", unit="nb", disable=not enabled, leave=False)


# -- executors ------------------------------------------------------------------------------------


class LocalExecutor:
    """Worker processes on this machine, each keeping one warm Jupyter kernel."""

    def __init__(self, jobs: int):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=max(1, jobs),
                                        mp_context=mp.get_context("spawn"))

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.pool.submit(fn, *args)

    def wait_first(self, futures: list[Any]) -> set[Any]:
        from concurrent.futures import FIRST_COMPLETED, wait

        return wait(futures, return_when=FIRST_COMPLETED).done

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


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

    def submit(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.client.submit(fn, *args, pure=False)

    def wait_first(self, futures: list[Any]) -> set[Any]:
        from distributed import wait

        return set(wait(futures, return_when="FIRST_COMPLETED").done)

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
RESET_TAG = "ungeanalyse-reset"
RESET_CODE = ("get_ipython().run_line_magic('reset', '-f')\n"
              "import matplotlib.pyplot as _plt\n_plt.close('all')\ndel _plt")


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
    sockets = Path(tempfile.mkdtemp(prefix="ungeanalyse-kernel-")) / "kernel"
    _SOCKET_DIRS.append(sockets.parent)
    km = KernelManager(kernel_name="python3", transport="ipc", ip=str(sockets))
    import os

    km.start_kernel(cwd=root, env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    _KERNEL[root] = km
    try:
        from multiprocessing import util

        util.Finalize(None, _shutdown_kernels, exitpriority=10)
    except Exception:  # pragma: no cover - not in a multiprocessing worker
        pass
    return km


def _shutdown_kernels() -> None:
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


def execute_task(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one notebook with its parameters, save it, render HTML, scan both; never raises."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    from papermill.parameterize import parameterize_notebook

    from .io import atomic_write
    from .render import render_html, table_files

    t0 = time.perf_counter()
    executed, html = Path(spec["executed"]), Path(spec["html"])
    root = Path(spec["root"])
    result = {"id": spec["id"], "unit": spec["unit"], "name": spec["name"], "key": spec["key"],
              "notebook": _rel(executed, root), "html": None, "error": None, "scan_hits": []}
    nb = nbformat.read(spec["notebook"], as_version=4)
    for cell in nb.cells:
        cell.metadata.setdefault("tags", [])
    nb.metadata.setdefault("papermill", {})
    nb = parameterize_notebook(nb, spec["params"], report_mode=False)
    reset = nbformat.v4.new_code_cell(RESET_CODE, metadata={"tags": [RESET_TAG]})
    nb.cells.insert(0, reset)
    status = "ran"
    try:
        km = _kernel(spec["root"])
        client = NotebookClient(nb, km=km, timeout=900, kernel_name="python3",
                                resources={"metadata": {"path": spec["root"]}})
        try:
            client.execute()
        finally:
            if client.kc is not None:
                client.kc.stop_channels()
    except CellExecutionError as exc:
        status, result["error"] = "failed", _short_error(exc)
    except DeadKernelError:
        _KERNEL.pop(spec["root"], None)
        status, result["error"] = "failed", "the kernel died (out of memory?)"
    except Exception as exc:  # a broken notebook file or kernel start-up: report, don't crash
        status, result["error"] = "failed", f"{type(exc).__name__}: {exc}"
    nb.cells = [c for c in nb.cells if RESET_TAG not in c.metadata.get("tags", [])]
    atomic_write(executed, lambda p: nbformat.write(nb, str(p)))
    if status == "ran":
        render_html(nb, html, title=spec["title"], lang=spec["lang"],
                    provenance={**spec["provenance"], "date": dt.date.today().isoformat()})
        result["html"] = _rel(html, root)
        docs: list[Path] = []
        if spec["unit"] == "all" and spec["name"] in DOCUMENT_TASKS:
            from .document import write_deliverables

            docs, result["error"] = write_deliverables(nb, spec, html, executed)
            result["documents"] = [_rel(d, root) for d in docs if d.suffix != ".json"]
        tables = table_files(html)
        hits = _scan(spec, [executed, html, *docs, *tables])
        if hits:
            for p in (html, *docs, *tables):
                p.unlink(missing_ok=True)
            status, result["html"], result["scan_hits"] = "withheld", None, hits
            result["documents"] = []
    result.update(status=status, seconds=round(time.perf_counter() - t0, 2))
    return result


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
            key = privacy.load_key(spec["project_id"], demo=spec["demo"])
        except UserError:
            fps = set()
    hits = privacy.scan_paths(paths, name_fps=fps or None, key=key)
    return [_hit_text(h) for h in hits]


def _hit_text(hit: Any) -> str:
    if hasattr(hit, "where"):
        return f"{Path(str(getattr(hit, 'path', ''))).name}: {hit.kind} at {hit.where}"
    return str(hit)
