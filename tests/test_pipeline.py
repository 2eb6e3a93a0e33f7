"""The runner: cache, reruns after a change, failure isolation, HTML and the index; stopping,
the lock, restarting and damaged files.

These tests run a tiny demo project (``tests/data/runner/tiny.yml``: two delprojekter, 40 young
people, participant lists only) with small stand-in notebooks (same names and parameters as the
real ones), so that the runner's behaviour is pinned in seconds; the real notebooks run through
the runner on the AUMI demo in the session's ``aumi_pipeline`` (tests/test_notebooks.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from ungeanalyse import pipeline
from ungeanalyse.config import load_config
from ungeanalyse.demo import make_demo
from ungeanalyse.errors import UserError
from ungeanalyse.pipeline import NOTEBOOKS, plan, project_lock, run

ROOT = Path(__file__).resolve().parents[1]
TINY = ROOT / "tests" / "data" / "runner" / "tiny.yml"

BODY = '''import ungeanalyse as ua
cfg = ua.load_config(config)
ua.reader.display.show_markdown(f"# {NAME} for {unit}\\n\\n## Første afsnit\\n\\n126 unge (65 %)"
                        "\\n\\n## Andet afsnit\\n\\nslut")
'''


def _notebook(name: str, fail_unit: str | None = None, hold_unit: str | None = None
              ) -> nbformat.NotebookNode:
    params = ('config = "config/tiny.yml"\nunit = "all"\nlang = "da"\noutput_dir = None\n'
              + ('variant = "full"\n' if name.startswith("04") else ""))
    body = BODY.replace("{NAME}", name)
    if fail_unit:
        body += f'if unit == "{fail_unit}":\n    raise RuntimeError("deliberate failure")\n'
    if hold_unit:  # running until the file "hold" in the repository root is removed
        body += ("import pathlib, time\n"
                 f'while unit == "{hold_unit}" and pathlib.Path("hold").exists():\n'
                 "    time.sleep(0.02)\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(params, metadata={"tags": ["parameters"]}),
                nbformat.v4.new_code_cell(body)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory) -> Path:
    """The tiny project's repository, built once: config, demo partner files, stand-ins."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "config").mkdir()
    shutil.copy(TINY, root / "config" / "tiny.yml")
    (root / "notebooks").mkdir()
    for name in NOTEBOOKS:
        nbformat.write(_notebook(name), str(root / "notebooks" / f"{name}.ipynb"))
    make_demo(load_config(root / "config" / "tiny.yml"))
    return root


@pytest.fixture
def project(tiny_project, tmp_path, monkeypatch):
    """A fresh copy of the tiny project for one test (the test may change anything in it).

    Its runs start their kernels without the real notebooks' imports (pandas, statsmodels,
    matplotlib, …), which the stand-in notebooks do not use (the AUMI run of
    tests/test_notebooks.py warms them up as ``make report`` does)."""
    shutil.copytree(tiny_project, tmp_path / "repo")
    monkeypatch.setattr(pipeline, "WARM_MODULES", ())
    return load_config(tmp_path / "repo" / "config" / "tiny.yml")


CLI = ("import signal, sys\n"
       "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
       "signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
       "signal.signal(signal.SIGHUP, signal.SIG_DFL)\n"
       "import ungeanalyse.pipeline as p\np.WARM_MODULES = ()\n"
       "from ungeanalyse.cli import main\nsys.exit(main(sys.argv[1:]))")
"""``python -m ungeanalyse`` for the stand-in notebooks (no warm-up imports in the kernels),
started as from a terminal's shell: the stop signals at their defaults. A child inherits an
ignored signal: a test run started where SIGINT is ignored (``nohup``, or ``cmd &`` in a shell
without job control) passed that on to the run, which then rightly ignored Ctrl-C. No test
changes SIGINT in the test workers (probed after every test of a full run: Python's handler
and the process's ignored-signal mask)."""


def _statuses(summary) -> dict[str, str]:
    return {r.id: r.status for r in summary.results}


def test_plan_has_every_unit_and_the_pixi(project):
    ids = [t.id for t in plan(project)]
    assert ids[0] == "all/01_rens_data"
    assert {"all/04_pixi", "nord/04_slutevaluering", "syd/02_maaltal"} <= set(ids)
    assert len(ids) == 1 + 4 * len(project.units())
    deps = {t.id: t.deps for t in plan(project)}
    # the whole project's texts quote the data quality 01 saves; a delprojekt's do not
    assert deps["all/04_slutevaluering"] == deps["all/04_pixi"] == [
        "all/01_rens_data", "all/02_maaltal", "all/03_hvad_virker_for_hvem"]
    assert deps["nord/04_slutevaluering"] == ["nord/02_maaltal", "nord/03_hvad_virker_for_hvem"]


@pytest.mark.slow  # runs notebooks in kernels
def test_first_run_then_cached_then_config_change(project):
    first = run(project, jobs=2, progress=False)
    assert first.exit_code == 0, first.summary()
    assert set(_statuses(first).values()) == {"ran"}
    root = project.root
    index = (root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "tiny/nord/02_maaltal.html" in index and "tiny/all/04_pixi.html" in index
    assert "intern: til evaluator og partnere, offentliggøres ikke" in index  # the 01 page
    page = (root / "reports" / "tiny" / "all" / "02_maaltal.html").read_text(encoding="utf-8")
    assert "126 unge (65 %)" in page
    assert 'class="jp-CodeMirrorEditor' not in page and "import ungeanalyse" not in page
    assert 'class="ua-toc"' in page and "Første afsnit" in page  # table of contents
    assert 'class="ua-provenance"' in page and "config/tiny.yml" in page  # provenance
    assert "@media print" in page and 'lang="da"' in page
    assert "cdnjs" not in page and "<script src=\"http" not in page  # opens offline

    for r in first.results:  # where the time went, per notebook, in the manifest
        steps = {"kernel", "execute", "html", "scan"} | (
            {"documents"} if r.id in ("all/04_slutevaluering", "all/04_pixi") else set())
        assert set(r.phases) == steps and all(v >= 0 for v in r.phases.values()), r
        assert r.started and sum(r.phases.values()) <= r.seconds + 0.05, r
    assert (root / "reports" / "tiny" / "all" / "04_slutevaluering.pdf").exists()

    again = run(project, jobs=2, progress=False)
    assert set(_statuses(again).values()) == {"cached"}, again.summary()
    assert again.clean == "cached"

    cfg_file = project.source_path
    cfg_file.write_text(cfg_file.read_text(encoding="utf-8") + "\n# a comment\n",
                        encoding="utf-8")
    changed = run(load_config(cfg_file), jobs=2, progress=False)
    assert set(_statuses(changed).values()) == {"ran"}


@pytest.mark.slow  # runs notebooks in kernels
def test_cells_numbered_as_papermill_and_a_no_change_rerun_without_pandas(project):
    """One kernel runs four notebooks: each is numbered from 1, as papermill numbers them; a
    no-change rerun in a new process reads no clean table (pandas is not even imported)."""
    first = run(project, jobs=1, only="nord", progress=False)
    assert first.exit_code == 0, first.summary()
    for r in first.results:
        nb = nbformat.read(str(project.root / r.notebook), as_version=4)
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
        assert counts == [1, 2, 3], (r.id, counts)  # parameters, injected parameters, body
        assert [c.source for c in nb.cells][2].startswith("import ungeanalyse as ua")
    code = ("import sys\nfrom ungeanalyse.config import load_config\n"
            "from ungeanalyse.pipeline import run\n"
            f"s = run(load_config({str(project.source_path)!r}), jobs=1, only='nord', "
            "progress=False)\n"
            "print(sorted({r.status for r in s.results}), s.clean, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "['cached'] cached False", out.stdout + out.stderr


@pytest.mark.slow  # runs notebooks in kernels
def test_one_partner_file_changes_reruns_that_unit_and_the_whole(project):
    run(project, jobs=2, progress=False)
    import pandas as pd

    parts = pd.read_parquet(project.processed_dir / "participants.parquet")
    first = parts[parts["delprojekt"] == "nord"].sort_values("source_row").iloc[0]
    path = project.raw_dir / first["source_file"]  # a young person leaves nord's list
    if path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path)
        wb.worksheets[0].delete_rows(int(first["source_row"]))
        wb.save(path)
    else:
        lines = path.read_bytes().split(b"\n")
        del lines[int(first["source_row"]) - 1]
        path.write_bytes(b"\n".join(lines))
    summary = run(project, jobs=2, progress=False)
    status = _statuses(summary)
    assert summary.clean == "ran"
    reran = {tid.split("/")[0] for tid, s in status.items() if s == "ran"}
    assert reran == {"all", "nord"}, summary.summary()
    assert all(s == "cached" for tid, s in status.items() if tid.split("/")[0] not in reran)


@pytest.mark.slow  # runs notebooks in kernels
def test_a_failing_unit_leaves_the_others(project):
    nbformat.write(_notebook("03_hvad_virker_for_hvem", fail_unit="nord"),
                   str(project.root / "notebooks" / "03_hvad_virker_for_hvem.ipynb"))
    summary = run(project, jobs=2, progress=False)
    status = _statuses(summary)
    assert summary.exit_code == 1
    assert status["nord/03_hvad_virker_for_hvem"] == "failed"
    assert status["nord/04_slutevaluering"] == "skipped"
    assert status["nord/02_maaltal"] == "ran"
    assert all(s == "ran" for tid, s in status.items() if not tid.startswith("nord/"))
    failed = next(r for r in summary.results if r.status == "failed")
    assert "deliberate failure" in failed.error
    assert (project.root / failed.notebook).exists()  # kept for debugging
    assert "FAILED nord/03_hvad_virker_for_hvem" in summary.summary()
    index = (project.root / "reports" / "index.html").read_text(encoding="utf-8")
    assert "fejlet" in index and "tiny/syd/04_slutevaluering.html" in index
    manifest = json.loads((project.root / "reports" / "tiny" / "manifest.json").read_text())
    assert manifest["tasks"]["nord/03_hvad_virker_for_hvem"]["status"] == "failed"


@pytest.mark.slow  # runs notebooks in kernels
def test_only_one_unit_and_unknown_unit(project):
    summary = run(project, jobs=1, only="syd", progress=False)
    assert {r.unit for r in summary.results} == {"syd"}
    with pytest.raises(UserError, match="not a unit"):
        run(project, only="nowhere", progress=False)


@pytest.mark.slow  # runs notebooks in kernels
def test_dask_executor_on_a_local_cluster(project):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        summary = run(project, only="nord", executor="dask", scheduler=client,
                      progress=False)
    assert summary.exit_code == 0, summary.summary()
    assert (project.root / "reports" / "tiny" / "nord" / "04_pixi.html").exists()


def test_clean_cache_follows_globbed_files_and_package_code(project, monkeypatch):
    """A raw file named by a glob, or a change in the package code, reruns the clean stage;
    the same files and code do not. (The stage's decision, given the last run's manifest; that
    a run keeps and passes it on is pinned by the first-run and one-partner tests.)"""
    import yaml

    path = project.source_path
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["files"]["participants"][0]["path"] = "no*.csv"
    matches = sorted(project.raw_dir.glob("no*.csv"))
    assert len(matches) == 1, "the tiny demo has one list for nord"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    cfg = load_config(path)
    status, _, key = pipeline._clean_if_changed(cfg, {}, False)
    assert status == "ran"
    assert pipeline._clean_if_changed(cfg, {"clean_key": key}, False)[0] == "cached"
    matches[0].write_bytes(matches[0].read_bytes() + b"\n")  # the partner re-sends the list
    status, _, changed = pipeline._clean_if_changed(cfg, {"clean_key": key}, False)
    assert status == "ran" and changed != key
    assert pipeline._clean_if_changed(cfg, {"clean_key": changed}, False)[0] == "cached"
    monkeypatch.setattr(pipeline, "package_fingerprint", lambda: "a new version of the code")
    assert pipeline._clean_if_changed(cfg, {"clean_key": changed}, False)[0] == "ran"


def test_index_speaks_the_language_of_the_latest_run(tmp_path):
    from ungeanalyse.render import write_index

    for project, lang, when in (("aumi", "en", "2026-11-01T10:00:00"),
                                ("unge_med_kant", "da", "2026-11-02T10:00:00")):
        (tmp_path / project).mkdir()
        (tmp_path / project / "manifest.json").write_text(json.dumps(
            {"project": project, "name": project, "lang": lang, "generated": when,
             "units": ["all"], "tasks": {}}), encoding="utf-8")
    page = write_index(tmp_path).read_text(encoding="utf-8")
    assert 'lang="da"' in page and "Evalueringsrapporter" in page  # the later run, not the first
    page = write_index(tmp_path, "en").read_text(encoding="utf-8")
    assert 'lang="en"' in page and "Evaluation reports" in page and "Whole project" in page


# -- stopping, the lock, restarting, damaged files -----------------------------------------------


def _manifest(cfg) -> dict:
    path = cfg.root / "reports" / cfg.project.id / "manifest.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _command_line(process) -> str:
    """A process's command line, or "" for one that ended (or is a zombie) since it was listed:
    a run starts and reaps short-lived helpers all the time."""
    psutil = pytest.importorskip("psutil")
    try:
        return " ".join(process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return ""


def _start_held_run(cfg):
    """A CLI run in its own session whose whole-project CMO notebook stays busy (file "hold"),
    returned once the other notebooks are under way: the process and its descendants."""
    psutil = pytest.importorskip("psutil")
    root = cfg.root
    nbformat.write(_notebook("03_hvad_virker_for_hvem", hold_unit="all"),
                   str(root / "notebooks" / "03_hvad_virker_for_hvem.ipynb"))
    (root / "hold").touch()
    proc = subprocess.Popen([sys.executable, "-c", CLI, "run", "--config",
                             "config/tiny.yml", "--jobs", "2", "--no-progress"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)  # its own process group, like a terminal's
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        ran = [k for k, t in _manifest(cfg).get("tasks", {}).items() if t["status"] == "ran"]
        kernels = [c for c in psutil.Process(proc.pid).children(recursive=True)
                   if "ipykernel" in _command_line(c)]
        if len(ran) >= 3 and len(kernels) == 2:
            return proc, psutil.Process(proc.pid).children(recursive=True), ran
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.3)
    proc.kill()
    pytest.fail("the run did not get going in 240 s")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_stopped_run_leaves_no_process_and_the_next_run_finishes_the_rest(project, how):
    """kill -TERM, Ctrl-C (SIGINT to the process group) and a closed terminal (SIGHUP to it):
    the run ends within seconds with 128 + the signal, a Danish message and no traceback; no
    worker or kernel is left; the next run redoes exactly what was unfinished."""
    psutil = pytest.importorskip("psutil")
    proc, children, ran = _start_held_run(project)
    sig = getattr(signal, how)
    t0 = time.monotonic()
    if how == "SIGTERM":
        proc.send_signal(sig)
    else:
        os.killpg(proc.pid, sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert f"stoppet ({how})" in err and "Kør samme kommando igen" in err, err
    assert "Traceback" not in err, err
    gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, [_command_line(p) for p in alive]
    assert time.monotonic() - t0 < 15
    assert not (project.processed_dir / ".run.lock").read_text()  # ended cleanly: no record
    manifest = _manifest(project)["tasks"]
    assert "all/03_hvad_virker_for_hvem" not in manifest  # was running: not counted as done
    finished = {k for k, t in manifest.items() if t["status"] == "ran"}
    assert set(ran) <= finished

    (project.root / "hold").unlink()
    summary = run(load_config(project.source_path), jobs=1, progress=False)
    status = _statuses(summary)
    assert summary.exit_code == 0, summary.summary()
    assert {k for k, s in status.items() if s == "cached"} == finished
    assert {"all/03_hvad_virker_for_hvem", "all/04_slutevaluering", "all/04_pixi"} <= \
        {k for k, s in status.items() if s == "ran"}


@pytest.mark.slow
def test_a_killed_run_leaves_no_process_and_no_stuck_lock(project):
    """SIGKILL of the run itself: its workers and kernels stop by themselves within seconds,
    the lock is free, and the next run says the previous one was interrupted."""
    psutil = pytest.importorskip("psutil")
    proc, children, _ = _start_held_run(project)
    proc.kill()
    proc.communicate(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=8)
    assert not alive, [_command_line(p) for p in alive]
    (project.root / "hold").unlink()
    summary = run(load_config(project.source_path), jobs=1, only="nord", progress=False)
    assert summary.exit_code == 0, summary.summary()
    assert any(f"den forrige kørsel (proces {proc.pid}," in n and "blev afbrudt" in n
               for n in summary.notes), summary.notes


def test_a_second_run_is_refused_while_one_holds_the_lock(project):
    """The refusal names the process that runs and when it started; once that process is gone
    (without cleaning up) the lock is free again and its record is reported as interrupted."""
    import datetime as dt

    from ungeanalyse.fmt import fmt_date

    code = ("import sys, time\nfrom ungeanalyse.config import load_config\n"
            "from ungeanalyse.pipeline import project_lock\n"
            "lock = project_lock(load_config(sys.argv[1]))\nlock.__enter__()\n"
            "print('held', flush=True)\ntime.sleep(120)\n")
    holder = subprocess.Popen([sys.executable, "-c", code, str(project.source_path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(UserError) as refused:
            run(project, jobs=1, progress=False)
        text = str(refused.value)
        assert f"Lille testprojekt køres allerede: proces {holder.pid} på " in text
        assert f"startet {fmt_date(dt.date.today())} kl. " in text
        assert f"kill {holder.pid}" in text
        from ungeanalyse.cli import main

        assert main(["clean", "--config", str(project.source_path)]) == 2
    finally:
        holder.kill()
        holder.wait()
    notes: list[str] = []
    with project_lock(project, "en", notes):  # stale: the holder died holding it
        pass
    assert len(notes) == 1 and f"the previous run (process {holder.pid}, started " in notes[0]
    with project_lock(project, "da", notes):  # and a clean end leaves nothing behind
        pass
    assert len(notes) == 1


@pytest.mark.slow
def test_damaged_processed_files_are_named_and_recomputed(project):
    """A truncated clean table, a damaged disclosure plan, manifest or quality.json, and a
    half-written page left by a killed worker: each is named in a note (in the report
    language) and recomputed, and only what depends on it runs again."""
    import pandas as pd

    first = run(project, jobs=1, only="nord", progress=False)
    assert first.exit_code == 0, first.summary()
    path = project.processed_dir / "participants.parquet"
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # a truncated copy
    again = run(project, jobs=1, only="nord", progress=False)
    assert again.exit_code == 0, again.summary()
    assert again.clean == "ran"
    assert any(n.startswith(f"{path} er beskadiget (") and n.endswith("rensningen køres igen")
               for n in again.notes), again.notes
    assert f"note: {path} er beskadiget" in again.summary()
    assert len(pd.read_parquet(path)) == 40  # readable again
    assert set(_statuses(again).values()) == {"cached"}  # the same data as before

    masks = project.processed_dir / "disclosure_masks.json"
    manifest = project.reports_dir / "tiny" / "manifest.json"
    good_masks = json.loads(masks.read_text(encoding="utf-8"))
    masks.write_text(masks.read_text(encoding="utf-8")[:40], encoding="utf-8")
    manifest.write_text("{", encoding="utf-8")
    half = project.reports_dir / "tiny" / "nord" / ".02_maaltal.html.x1y2.tmp"
    half.write_text("<html>half a page", encoding="utf-8")  # left by a worker killed mid-write
    summary = run(project, jobs=1, only="nord", progress=False, lang="en")
    assert not half.exists()
    assert summary.exit_code == 0, summary.summary()
    notes = "\n".join(summary.notes)
    assert f"{masks} is damaged (JSONDecodeError: " in notes
    assert "the disclosure plan is computed again" in notes
    assert f"{manifest} is damaged (JSONDecodeError: " in notes and "every notebook runs" in notes
    assert json.loads(masks.read_text(encoding="utf-8")) == good_masks
    assert set(_statuses(summary).values()) == {"ran"}
    quality = project.processed_dir / "quality.json"
    quality.write_bytes(b"\x00\x00")
    summary = run(project, jobs=1, only="nord", progress=False, lang="en")
    assert summary.clean == "ran" and any(str(quality) in n for n in summary.notes)
    assert set(_statuses(summary).values()) == {"cached"}  # same data: nothing else reruns


def _worker_environment(names: tuple[str, ...]) -> dict[str, str | None]:
    return {n: os.environ.get(n) for n in names}


@pytest.mark.slow  # starts two workers with a kernel each
def test_local_workers_share_the_cpus_between_their_kernels(monkeypatch):
    """Each worker gives its kernel cpus // jobs BLAS threads; a user's own setting stands."""
    from ungeanalyse.pipeline import THREAD_VARS, LocalExecutor, kernel_threads

    for name in THREAD_VARS:
        monkeypatch.delenv(name, raising=False)
    pool = LocalExecutor(2)
    try:
        env = pool.submit(_worker_environment, THREAD_VARS).result(timeout=120)
    finally:
        pool.close()
    assert env == dict.fromkeys(THREAD_VARS, str(kernel_threads(2)))
    assert kernel_threads(1) == len(os.sched_getaffinity(0))
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    pool = LocalExecutor(2)
    try:
        env = pool.submit(_worker_environment, THREAD_VARS).result(timeout=120)
    finally:
        pool.close()
    assert env == {"OMP_NUM_THREADS": "3", "OPENBLAS_NUM_THREADS": None, "MKL_NUM_THREADS": None}


def test_notebooks_read_the_stored_plan_by_the_bytes_of_the_clean_tables(project, monkeypatch):
    """``disclosure.plan_project`` (every notebook's ``load_masks``) hands out the stored plan
    when the clean tables' files are the ones it was made from, without reading a table; the
    same data in new files is recognised by content (the plan is kept), new data get a new
    plan."""
    import pandas as pd

    from ungeanalyse.disclosure import plan as disclosure_plan
    from ungeanalyse.disclosure.plan import plan_project

    pipeline._clean_if_changed(project, {}, False)
    masks = plan_project(project)
    stored = project.processed_dir / "disclosure_masks.json"
    assert json.loads(stored.read_text(encoding="utf-8"))["masks"] == masks

    def no_table(*args, **kwargs):
        raise AssertionError("the tables were read")

    with monkeypatch.context() as m:
        m.setattr(disclosure_plan, "read_tables", no_table)
        assert plan_project(project) == masks

    path = project.processed_dir / "participants.parquet"
    parts = pd.read_parquet(path)
    parts.to_parquet(path, index=False, compression="gzip")  # same rows, other bytes
    solved: list[int] = []
    real = disclosure_plan.compute_masks
    monkeypatch.setattr(disclosure_plan, "compute_masks",
                        lambda *a: solved.append(1) or real(*a))
    assert plan_project(project) == masks and not solved  # by content: not solved again
    with monkeypatch.context() as m:
        m.setattr(disclosure_plan, "read_tables", no_table)
        assert plan_project(project) == masks  # and the new bytes are known from now on

    parts.iloc[1:].to_parquet(path, index=False)  # one young person fewer
    assert plan_project(project)["all"]["loss"] is not None and solved == [1]


class _InlineExecutor:
    """An executor that runs nothing: each task 'finishes' when submitted, and it records how
    many were handed over at once and in which order."""

    slots = 2

    def __init__(self) -> None:
        self.order: list[str] = []
        self.pending: list = []
        self.most = 0

    def submit(self, fn, spec):
        from concurrent.futures import Future

        fut: Future = Future()
        fut.set_result({"id": spec["id"], "unit": spec["unit"], "name": spec["name"],
                        "status": "ran", "key": spec["key"]})
        self.order.append(spec["id"])
        self.pending.append(fut)
        self.most = max(self.most, len(self.pending))
        return fut

    def wait_first(self, futures, timeout=None):
        done = {self.pending.pop(0)}
        return done & set(futures) or done


def test_the_longest_chain_goes_first_and_no_more_than_the_workers_are_queued(project):
    """The whole project's måltal and CMO notebooks (which its final texts wait for) go first,
    a delprojekt's final texts after its own notebooks, and never more tasks are handed over
    than the executor has workers; last run's seconds change the order."""
    tasks = plan(project)
    specs = {t.id: {"id": t.id, "unit": t.unit, "name": t.name, "key": ""} for t in tasks}
    runner = _InlineExecutor()
    results = list(pipeline._schedule(tasks, specs, runner, {}))
    assert {r.id for r in results} == set(specs) and runner.most <= runner.slots
    assert runner.order[:2] == ["all/02_maaltal", "all/03_hvad_virker_for_hvem"]
    assert runner.order.index("all/04_slutevaluering") > runner.order.index("all/01_rens_data")
    for unit in ("nord", "syd"):
        assert runner.order.index(f"{unit}/04_slutevaluering") > max(
            runner.order.index(f"{unit}/02_maaltal"),
            runner.order.index(f"{unit}/03_hvad_virker_for_hvem"))
    last = {t.id: {"seconds": 1.0} for t in tasks} | {"syd/02_maaltal": {"seconds": 60.0}}
    runner = _InlineExecutor()
    list(pipeline._schedule(tasks, specs, runner, {}, last))
    assert runner.order[0] == "syd/02_maaltal"


def test_the_runs_own_process_takes_one_kernels_share_of_blas_threads():
    """While a run solves the disclosure plans beside the starting kernels, its own process
    gets cpus // jobs BLAS threads (numpy reads them on import); afterwards the environment is
    as it was, and a user's own setting is never touched."""
    from ungeanalyse.pipeline import THREAD_VARS, kernel_threads

    code = ("import os\nfrom ungeanalyse.pipeline import THREAD_VARS, _main_threads\n"
            "with _main_threads(2):\n"
            "    import numpy\n"
            "    print([os.environ.get(n) for n in THREAD_VARS])\n"
            "print([os.environ.get(n) for n in THREAD_VARS])\n")
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env).stdout.splitlines()
    share = str(kernel_threads(2))
    assert out == [str([share] * 3), str([None] * 3)]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**env, "OPENBLAS_NUM_THREADS": "3"}).stdout
    assert out.splitlines() == [str([None, "3", None])] * 2


@pytest.mark.slow  # starts a kernel
def test_a_reset_kernel_has_an_empty_namespace_and_has_collected_the_notebooks_figures(
        tmp_path):
    """Between notebooks a worker's kernel forgets the last one's names and collects its
    garbage, figures included, before the libraries are frozen out of the collector."""
    root = str(tmp_path)
    try:
        kc = pipeline._client(root, pipeline._kernel(root))
        pipeline._kernel_exec(kc, "import sys, weakref\nimport matplotlib\n"
                                  "matplotlib.use('agg')  # the figure stays open\n"
                                  "import matplotlib.pyplot as plt\n"
                                  "fig = plt.figure()\nfig.gca().plot([1, 2])\n"
                                  "sys.ua_figure = weakref.ref(fig)\nnotebook_name = 1")
        pipeline._send_reset(root, kc)
        pipeline._ready_kernel(root)
        pipeline._kernel_exec(kc, "import gc, sys\n"
                                  "assert sys.ua_figure() is None, 'the figure lives on'\n"
                                  "assert 'notebook_name' not in globals(), 'a name lives on'\n"
                                  "assert gc.get_freeze_count() > 0")
    finally:
        pipeline._shutdown_kernels()


def test_a_stop_signal_while_waiting_on_the_workers_is_raised_between_two_waits():
    """Inside lock code (a future's wait) an exception could leave a lock held, so there the
    signal is only noted; the run raises it at its next look, within STOP_POLL seconds."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers live in the main thread")
    with pytest.raises(pipeline.RunInterrupted) as stopped:
        with pipeline.stop_on_signals(), pipeline.signals_deferred():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler has run by now: noted, nothing raised
            noted = pipeline._STOP["signum"]
            pipeline.raise_if_stopped()
    assert noted == signal.SIGTERM and stopped.value.exit_code == 128 + signal.SIGTERM
    assert pipeline._STOP == {"defer": False, "signum": None}
