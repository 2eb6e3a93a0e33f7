"""Shared fixtures: the AUMI config, small synthetic clean tables, and the demo projects built
(and the AUMI pipeline run) once per test session.

The built projects are shared by many test files: treat them as read-only. A test that changes a
project's files copies it first (``demo_copy``). Under pytest-xdist the workers share one build
of each demo (the first to need it builds it under a lock); the tests that use the AUMI pipeline
run are kept on one worker (``xdist_group``, ``make test`` runs ``--dist loadgroup``) so it runs
once.
"""

from __future__ import annotations

import os
import pickle
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

try:
    import fcntl
except ImportError:  # Windows: each xdist worker builds its own demos
    fcntl = None

from tests import factories
from ungeanalyse import clean, demo, disclosure
from ungeanalyse.config import ProjectConfig, load_config

ROOT = Path(__file__).resolve().parents[1]
PIPELINE_GROUP = "aumi_pipeline"


def pytest_configure(config: pytest.Config) -> None:
    """Test processes go without ``rfc3987_syntax``: jsonschema (through nbformat) imports it
    for its 'iri' format checks, and it compiles an Earley grammar at import, about 1.7 s of
    CPU in every process, half of collecting the tests. nbformat's schemas check no 'iri'
    format, so nothing here is checked less; jsonschema just has no 'iri' checker."""
    sys.modules.setdefault("rfc3987_syntax", None)  # `import rfc3987_syntax` raises ImportError


@pytest.fixture(scope="session")
def aumi_cfg() -> ProjectConfig:
    return load_config(ROOT / "config" / "aumi.yml")


@pytest.fixture()
def participants(aumi_cfg):
    return factories.make_participants(aumi_cfg, n=300, seed=1)


@dataclass(frozen=True)
class DemoProject:
    """A demo project in a copy of the repo's config: its raw files written and cleaned (AUMI's
    without the comparison group's register: ``make_demo(cfg, register=False)``)."""

    root: Path  # holds config/, data/raw/<id>/, data/processed/<id>/
    name: str  # the config's file name without .yml
    files: demo.DemoFiles
    result: clean.CleanResult

    @property
    def config(self) -> Path:
        return self.root / "config" / f"{self.name}.yml"

    def cfg(self) -> ProjectConfig:
        """A fresh config of this project (tests may change it freely)."""
        return load_config(self.config)

    def copy_to(self, root: Path) -> DemoProject:
        """The same project copied to ``root``, for a test that changes its files."""
        shutil.copytree(self.root, root, symlinks=True, dirs_exist_ok=True)
        return DemoProject(root, self.name, self.files, self.result)


def _build(root: Path, name: str) -> DemoProject:
    shutil.copytree(ROOT / "config", root / "config")
    cfg = load_config(root / "config" / f"{name}.yml")
    files = demo.make_demo(cfg, register=False)  # no test of these runs the effect notebook
    result = clean.clean_project(cfg)
    # the disclosure plan solved and stored once, as the runner does after cleaning: every copy
    # (``demo_fresh``, ``demo_copy``) reads it instead of solving it again; a test of solving
    # removes or changes the stored file first
    disclosure.plan_project(cfg)
    return DemoProject(root, name, files, result)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (a file), waiting for another process to let go."""
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build_shared(shared: Path, name: str) -> DemoProject:
    """The demo built once in ``shared`` for every xdist worker of this run: the first worker
    builds it under a lock and saves what it returned; the others wait for it and load that."""
    root, saved = shared / f"demo_{name}", shared / f"demo_{name}.pickle"
    with _exclusive(shared / f"demo_{name}.lock"):
        if saved.exists():
            files, result = pickle.loads(saved.read_bytes())
            return DemoProject(root, name, files, result)
        shutil.rmtree(root, ignore_errors=True)  # a build that stopped halfway
        project = _build(root, name)
        saved.write_bytes(pickle.dumps((project.files, project.result)))
        return project


@pytest.fixture(scope="session")
def demo_project(tmp_path_factory) -> Callable[[str], DemoProject]:
    """``demo_project("aumi")``: the named demo, written and cleaned once per test run (under
    xdist, one worker builds it in the folder all workers share, where fcntl can lock it)."""
    built: dict[str, DemoProject] = {}
    base = tmp_path_factory.getbasetemp()

    def get(name: str = "aumi") -> DemoProject:
        if name not in built:
            if os.environ.get("PYTEST_XDIST_WORKER") and fcntl is not None:
                built[name] = _build_shared(base.parent, name)  # the run's, above popen-gwN
            else:
                built[name] = _build(tmp_path_factory.mktemp(f"demo_{name}"), name)
        return built[name]

    return get


@pytest.fixture(scope="session")
def demo_fresh(demo_project, tmp_path_factory) -> Callable[..., DemoProject]:
    """``demo_fresh("aumi")``: a new copy of the session's demo in a folder of its own, for a
    module's fixture whose tests write into it (the stored disclosure plan, reports)."""

    def get(name: str = "aumi", folder: str | None = None) -> DemoProject:
        return demo_project(name).copy_to(tmp_path_factory.mktemp(folder or name))

    return get


@pytest.fixture()
def demo_copy(demo_project, tmp_path) -> Callable[[str], DemoProject]:
    """``demo_copy("aumi")``: a copy of the session's demo in this test's tmp_path, to change."""

    def get(name: str = "aumi") -> DemoProject:
        return demo_project(name).copy_to(tmp_path / f"demo_{name}")

    return get


@dataclass(frozen=True)
class PipelineRun:
    """The whole AUMI demo through the runner, as `make report` does it."""

    root: Path
    cfg: ProjectConfig
    summary: object  # pipeline.RunSummary


@pytest.fixture(scope="session")
def aumi_pipeline(tmp_path_factory) -> PipelineRun:
    """AUMI's demo written and run through ``pipeline.run`` (every unit, every notebook, HTML,
    PDF and Word) once per session; tests read its reports and must not change them."""
    from ungeanalyse.pipeline import run

    root = tmp_path_factory.mktemp("runner")
    shutil.copytree(ROOT / "config", root / "config")
    (root / "notebooks").symlink_to(ROOT / "notebooks")
    cfg = load_config(root / "config" / "aumi.yml")
    demo.make_demo(cfg)
    summary = run(cfg, jobs=2, progress=False)
    return PipelineRun(root, cfg, summary)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Tests on the session's pipeline run share one xdist worker, so it runs once; the long
    work goes first (groups of tests on one run, then the other slow tests, then the rest, each
    in file order), so that no worker is left with a long test at the end while the other
    idles."""
    for item in items:
        if "aumi_pipeline" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(PIPELINE_GROUP))
    items.sort(key=lambda item: 0 if item.get_closest_marker("xdist_group") else
               1 if item.get_closest_marker("slow") else 2)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail a grouped test before its fixtures when ``--dist loadgroup`` could not group it: its
    node id lacks the group, so xdist spreads the group over every worker and each one would
    run the session's pipeline (pytest 9.2 with pytest-xdist 3.8, pytest-dev/pytest-xdist#1386)."""
    if getattr(item.config.option, "loadgroup", False) and "@" not in item.nodeid \
            and item.get_closest_marker("xdist_group"):  # option set on xdist's workers
        pytest.fail("--dist loadgroup did not group this test: this pytest and pytest-xdist do "
                    "not work together (see the dev dependencies in pyproject.toml)",
                    pytrace=False)
