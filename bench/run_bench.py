"""`make bench`: the performance figures of issues 7 and 17, measured in one run.

1. The full AUMI demo through the runner (``ungeanalyse run``, 2 jobs), first run, vs a naive
   sequential loop that does what an evaluator's own script does: clean, then for each
   notebook and unit ``papermill`` and an nbconvert HTML page.
2. A no-change rerun, and a rerun after one partnership's file changed (which units reran).
3. ``import ungeanalyse`` time (net of Python's own start-up).
4. Clean + måltal + CMO engine at register scale (bench/register_scale.py).
5. Matching and weighting against a register comparison group (bench/comparison_scale.py).

Each timing is repeated (``--repeat``, 3 by default) and the median printed, the runner and
the naive loop alternating (naive first in odd rounds, the runner first in even ones) so that
both see the same load. The runner's manifest says where its time went (before the first
notebook; per step in the workers), printed for the median round. The machine is
shared: the bench samples the load average and the CPU that other processes used before and
during each timed run, and says whether the machine was busy (figures from a busy machine are
slower and noisier; compare the ratios of one run).

Everything runs in a temporary copy of the repository's config and notebooks, so the working
tree's data/ and reports/ are left alone.

Usage: python bench/run_bench.py [--repeat 3] [--sizes 10000 100000 1000000] [--skip-naive]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "ungeanalyse"]
BUSY_CORES = 0.25
"""Other processes using more CPU than this (in cores, on average) make the machine busy."""


# -- the load of the machine -------------------------------------------------------------------


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def _children_cpu() -> float:
    """CPU seconds of this process's finished (reaped) children and theirs."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _proc_cpu() -> dict[int, tuple[str, int]]:
    """Per live process: its command name and clock ticks used (user + system)."""
    out = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                rest = stat[stat.rindex(")") + 2:].split()
                out[int(d.name)] = (name, int(rest[11]) + int(rest[12]))
            except (OSError, ValueError, IndexError):
                pass
    return out


@dataclass
class Load:
    """The machine's load over one interval: load average at its end, and the CPU (in cores,
    on average) that all processes and that other processes than ours used."""

    seconds: float
    loadavg: float
    total_cores: float
    other_cores: float
    top: list[str] = field(default_factory=list)

    @property
    def busy(self) -> bool:
        return self.other_cores > BUSY_CORES

    def text(self) -> str:
        verdict = "BUSY" if self.busy else "idle"
        top = f"; others: {', '.join(self.top)}" if self.top else ""
        return (f"{verdict}: other processes used {self.other_cores:.2f} of "
                f"{os.cpu_count()} cores, load average {self.loadavg:.2f}{top}")


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def sample_idle(seconds: float = 5.0) -> Load:
    """The load while the bench itself does nothing: everything that runs is someone else's,
    with the three processes that used most CPU."""
    procs0, (busy0, _) = _proc_cpu(), _cpu_jiffies()
    t0 = time.perf_counter()
    time.sleep(seconds)
    procs1, (busy1, _) = _proc_cpu(), _cpu_jiffies()
    wall = time.perf_counter() - t0
    used = sorted(((ticks - procs0.get(pid, (name, 0))[1], name)
                   for pid, (name, ticks) in procs1.items() if pid != os.getpid()), reverse=True)
    top = [f"{name} {100 * t / TICK / wall:.0f} %" for t, name in used[:3] if t > 0]
    cores = (busy1 - busy0) / TICK / wall
    return Load(wall, os.getloadavg()[0], cores, cores, top)


@dataclass
class Timed:
    """One timed command: wall seconds, the load during it, and what it printed."""

    seconds: float
    load: Load
    stdout: str = ""


def _timed(cmd: list[str], cwd: Path) -> Timed:
    """Run ``cmd`` and measure its wall time and the CPU others used meanwhile (the machine's
    busy time minus the CPU of this command and its children)."""
    busy0, child0 = _cpu_jiffies()[0], _children_cpu()
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    busy1, child1 = _cpu_jiffies()[0], _children_cpu()
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n"
                         f"{out.stderr}")
    total = (busy1 - busy0) / TICK / seconds
    ours = (child1 - child0) / seconds
    load = Load(seconds, os.getloadavg()[0], total, max(0.0, total - ours))
    return Timed(seconds, load, out.stdout)


# -- the runs ----------------------------------------------------------------------------------


def _repo_copy(base: Path) -> Path:
    root = base / "repo"
    root.mkdir()
    shutil.copytree(ROOT / "config", root / "config")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    subprocess.run([*CLI, "demo", "--config", CONFIG], cwd=root, check=True,
                   capture_output=True)
    return root


CONFIG = "config/aumi.yml"
RUN = [*CLI, "run", "--config", CONFIG, "--no-progress"]


def bench_runner(repeat: int, skip_naive: bool) -> dict[str, object]:
    """Per round: the naive loop and the runner's first run on fresh copies, then no-change
    reruns; after the last round, one partner's file changed."""
    sys.path.insert(0, str(ROOT))
    from ungeanalyse.config import load_config
    from ungeanalyse.pipeline import plan

    out: dict[str, object] = {"first_run": [], "no_change": [], "naive": [], "phases": []}

    def naive(i: int) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            root = _repo_copy(Path(tmp))
            out["naive"].append(_naive_loop(root, load_config(root / CONFIG)))
        _progress(f"round {i + 1}: naive loop", out["naive"][-1])

    for i in range(repeat):
        if not skip_naive and i % 2 == 0:  # naive first in odd rounds, runner first in even
            naive(i)
        with tempfile.TemporaryDirectory() as tmp:
            root = _repo_copy(Path(tmp))
            started = time.time()
            out["first_run"].append(_timed(RUN, root))
            out["phases"].append(_phases(root / "reports" / "aumi" / "manifest.json", started))
            _progress(f"round {i + 1}: runner, first run", out["first_run"][-1])
            out["no_change"].append(_timed(RUN, root))
            _progress(f"round {i + 1}: runner, no-change rerun", out["no_change"][-1])
            if i == repeat - 1:
                cfg = load_config(root / CONFIG)
                out["tasks"] = len(plan(cfg))
                _drop_one_young_person(cfg, "kommed")
                out["one_partner"] = _timed(RUN, root)
                manifest = json.loads((root / "reports" / "aumi" / "manifest.json")
                                      .read_text())
                reran = sorted({t["unit"] for t in manifest["tasks"].values()
                                if t["status"] == "ran"})
                out["one_partner_units"] = ", ".join(reran)
        if not skip_naive and i % 2 == 1:
            naive(i)
    return out


STEPS = {"kernel": "waiting for a kernel (its reset)", "execute": "executing notebooks",
         "html": "HTML pages and table downloads", "documents": "PDF and Word",
         "scan": "privacy scan"}
"""The steps a worker records per notebook (``TaskResult.phases``), as the bench prints them."""


def _phases(manifest: Path, started: float) -> dict[str, float]:
    """Where a first run's time went, from its manifest: seconds before the first notebook
    started (clean, disclosure plan, kernels warming up), the notebooks' seconds per step in
    the workers summed over all of them (waiting for a kernel, executing, HTML, PDF/Word, the
    privacy scan), and the longest notebook."""
    import datetime as dt

    tasks = json.loads(manifest.read_text(encoding="utf-8"))["tasks"].values()
    starts = [dt.datetime.fromisoformat(t["started"]).timestamp() for t in tasks
              if t.get("started")]
    out = {"before the first notebook": min(starts) - started if starts else float("nan")}
    for t in tasks:
        for step, seconds in (t.get("phases") or {}).items():
            step = STEPS.get(step, step)
            out[step] = out.get(step, 0.0) + seconds
    longest = max(tasks, key=lambda t: t.get("seconds", 0.0))
    out[f"longest notebook ({longest['id']})"] = longest.get("seconds", 0.0)
    return out


def _progress(what: str, t: Timed) -> None:
    print(f"  {what}: {t.seconds:.1f} s ({t.load.text()})", flush=True)


def _drop_one_young_person(cfg, unit: str) -> None:
    """Delete one clean row from a partner's raw file, as when a partner sends a new list."""
    import pandas as pd

    parts = pd.read_parquet(cfg.processed_dir / "participants.parquet")
    first = parts[parts["delprojekt"] == unit].sort_values("source_row").iloc[0]
    path = cfg.raw_dir / first["source_file"]
    if path.suffix == ".xlsx":
        import openpyxl

        wb = openpyxl.load_workbook(path)
        wb.worksheets[0].delete_rows(int(first["source_row"]))
        wb.save(path)
    else:
        lines = path.read_bytes().split(b"\n")
        del lines[int(first["source_row"]) - 1]
        path.write_bytes(b"\n".join(lines))


def _naive_loop(root: Path, cfg) -> Timed:
    """What an evaluator's own script does: clean, then for each notebook in turn papermill
    (a new kernel each time) and nbconvert's HTML export, in one Python process."""
    from ungeanalyse.pipeline import plan

    script = ["import papermill as pm, ungeanalyse as ua",
              "from nbconvert import HTMLExporter",
              f"cfg = ua.load_config({str(cfg.source_path)!r})", "ua.clean.clean_project(cfg)",
              "html = HTMLExporter()"]
    for t in plan(cfg):
        out = root / "naive" / f"{t.unit}-{t.name}.ipynb"
        script.append(f"pm.execute_notebook({str(root / 'notebooks' / (t.notebook + '.ipynb'))!r}"
                      f", {str(out)!r}, parameters={t.params!r}, cwd={str(root)!r}, "
                      "kernel_name='python3', progress_bar=False)")
        script.append(f"open({str(out.with_suffix('.html'))!r}, 'w', encoding='utf-8')"
                      f".write(html.from_filename({str(out)!r})[0])")
    (root / "naive").mkdir(exist_ok=True)
    return _timed([sys.executable, "-c", "\n".join(script)], root)


def bench_import() -> tuple[float, float]:
    """Best of five: ``python -c 'import ungeanalyse'`` and ``python -c pass``."""
    def best(code: str) -> float:
        times = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
            times.append(time.perf_counter() - t0)
        return min(times)

    return best("import ungeanalyse"), best("pass")


def machine() -> str:
    """The machine in one line: CPU model, cores, memory, Python."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{mem}, Python {platform.python_version()}"


def _median(runs: list[Timed]) -> float:
    return statistics.median(t.seconds for t in runs)


def _others(runs: list[Timed]) -> str:
    cores = [t.load.other_cores for t in runs]
    return (f"others used {min(cores):.2f}–{max(cores):.2f} cores"
            if len(cores) > 1 else f"others used {cores[0]:.2f} cores")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="rounds (median printed)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--skip-naive", action="store_true", help="skip the papermill loop")
    parser.add_argument("--skip-scale", action="store_true", help="skip register scale")
    parser.add_argument("--skip-comparison", action="store_true",
                        help="skip the register comparison group at scale")
    args = parser.parse_args()

    print(f"Machine: {machine()}")
    before = sample_idle()
    print(f"Before the bench (5 s, nothing of ours running): {before.text()}\n", flush=True)
    imp, bare = bench_import()
    print(f"import ungeanalyse: {1000 * max(imp - bare, 0):.0f} ms (python start-up "
          f"{1000 * bare:.0f} ms excluded; goal ≤ 1 s)")
    print(f"\nAUMI demo, {args.repeat} rounds:", flush=True)
    r = bench_runner(max(1, args.repeat), args.skip_naive)
    first, again = r["first_run"], r["no_change"]
    n = len(first)
    print(f"\nAUMI demo, {r['tasks']} notebooks (7 units), 2 jobs, median of {n}:")
    print(f"  runner, first run:        {_median(first):7.1f} s   ({_others(first)})")
    if r["naive"]:
        naive = r["naive"]
        ratios = ", ".join(f"{a.seconds / b.seconds:.2f}x"
                           for a, b in zip(naive, first, strict=True))
        print(f"  naive papermill + nbconvert loop: {_median(naive):.1f} s   "
              f"({_others(naive)})")
        print(f"    -> runner is {_median(naive) / _median(first):.2f}x faster (per round: "
              f"{ratios}; goal ≥ 5x)")
    print(f"  no-change rerun:          {_median(again):7.2f} s   ({_others(again)}; "
          f"goal ≤ 1 s)")
    median_round = sorted(range(n), key=lambda i: first[i].seconds)[n // 2]
    print(f"  where the runner's first run went (round {median_round + 1}, the median; steps "
          "summed over the notebooks, which run on 2 workers):")
    for step, seconds in r["phases"][median_round].items():
        print(f"    {step:42s} {seconds:6.1f} s")
    one = r["one_partner"]
    print(f"  one partner file changed: {one.seconds:7.1f} s   -> reran units: "
          f"{r['one_partner_units']} (goal: kommed and all)")
    runs = [*first, *again, *r["naive"], one]
    busy = [t for t in runs if t.load.busy]
    worst = max(t.load.other_cores for t in runs)
    if before.busy or busy:
        print(f"\nThe machine was BUSY: other processes used {before.other_cores:.2f} cores "
              f"before the bench and up to {worst:.2f} cores during {len(busy)} of the "
              f"{len(runs)} timed runs (load average {before.loadavg:.2f} before, "
              f"{os.getloadavg()[0]:.2f} after). The seconds are slower than on an idle "
              "machine; the ratios of one round share its load.")
    else:
        print(f"\nThe machine was idle: other processes used at most {worst:.2f} cores "
              "during the timed runs.")
    if not args.skip_scale:
        print("\nRegister scale (clean + måltal + CMO engine; goal at 1M: ≤ 90 s, ≤ 4 GiB):")
        sys.stdout.flush()
        subprocess.run([sys.executable, str(ROOT / "bench" / "register_scale.py"), "--sizes",
                        *map(str, args.sizes)], check=False)
    if not args.skip_comparison:
        print("\nRegister comparison group (check extract + scores, matching, weighting; goal at "
              "1M comparison persons: ≤ 60 s, ≤ 4 GiB):")
        sys.stdout.flush()
        subprocess.run([sys.executable, str(ROOT / "bench" / "comparison_scale.py"), "--sizes",
                        *map(str, args.sizes)], check=False)


if __name__ == "__main__":
    main()
