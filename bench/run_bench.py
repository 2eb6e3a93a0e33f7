"""`make bench`: the performance figures of issue 7, measured in one run and printed as ratios.

1. The full AUMI demo through the runner (``ungeanalyse run``, 2 jobs) vs a naive sequential loop
   of plain ``papermill`` calls over the same notebooks and units.
2. A no-change rerun vs the first run, and a rerun after one partnership's file changed (which
   units reran).
3. ``import ungeanalyse`` time (net of Python's own start-up).
4. Clean + måltal + CMO engine at register scale (bench/register_scale.py).
5. Matching and weighting against a register comparison group (bench/comparison_scale.py).

Everything runs in a temporary copy of the repository's config and notebooks, so the working
tree's data/ and reports/ are left alone. The machine is shared and noisy: compare the ratios,
not the absolute seconds.

Usage: python bench/run_bench.py [--sizes 10000 100000 1000000] [--skip-naive]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "ungeanalyse"]


def _repo_copy(base: Path) -> Path:
    root = base / "repo"
    root.mkdir()
    shutil.copytree(ROOT / "config", root / "config")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    return root


def _timed(cmd: list[str], cwd: Path) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t0
    if out.returncode not in (0,):
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return seconds, out.stdout


def bench_runner(skip_naive: bool) -> dict[str, float | str]:
    """First run, no-change rerun, one-partner rerun, and the naive papermill loop."""
    sys.path.insert(0, str(ROOT))
    from ungeanalyse.config import load_config
    from ungeanalyse.pipeline import plan

    out: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = _repo_copy(Path(tmp))
        config = "config/aumi.yml"
        subprocess.run([*CLI, "demo", "--config", config], cwd=root, check=True,
                       capture_output=True)
        out["first_run"], _ = _timed([*CLI, "run", "--config", config, "--no-progress"], root)
        out["no_change"], _ = _timed([*CLI, "run", "--config", config, "--no-progress"], root)
        cfg = load_config(root / config)
        _drop_one_young_person(cfg, "kommed")
        out["one_partner"], text = _timed([*CLI, "run", "--config", config, "--no-progress"],
                                          root)
        manifest = json.loads((root / "reports" / "aumi" / "manifest.json").read_text())
        reran = sorted({t["unit"] for t in manifest["tasks"].values() if t["status"] == "ran"})
        out["one_partner_units"] = ", ".join(reran)
        out["tasks"] = len(plan(cfg))
        if not skip_naive:
            out["naive"] = _naive_papermill(root, cfg)
    return out


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


def _naive_papermill(root: Path, cfg) -> float:
    """What an evaluator's own script does: clean, then papermill each notebook in turn."""
    from ungeanalyse.pipeline import plan

    script = ["import papermill as pm, ungeanalyse as ua",
              f"cfg = ua.load_config({str(cfg.source_path)!r})", "ua.clean.clean_project(cfg)"]
    for t in plan(cfg):
        out = root / "naive" / f"{t.unit}-{t.name}.ipynb"
        script.append(f"pm.execute_notebook({str(root / 'notebooks' / (t.notebook + '.ipynb'))!r}"
                      f", {str(out)!r}, parameters={t.params!r}, cwd={str(root)!r}, "
                      "kernel_name='python3', progress_bar=False)")
    (root / "naive").mkdir(exist_ok=True)
    seconds, _ = _timed([sys.executable, "-c", "\n".join(script)], root)
    return seconds


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--skip-naive", action="store_true", help="skip the papermill loop")
    parser.add_argument("--skip-scale", action="store_true", help="skip register scale")
    parser.add_argument("--skip-comparison", action="store_true",
                        help="skip the register comparison group at scale")
    args = parser.parse_args()

    print(f"Machine: {machine()}\n")
    imp, bare = bench_import()
    print(f"import ungeanalyse: {1000 * max(imp - bare, 0):.0f} ms (python start-up "
          f"{1000 * bare:.0f} ms excluded; goal ≤ 1 s)")
    r = bench_runner(args.skip_naive)
    print(f"\nAUMI demo, {r['tasks']} notebooks (7 units), 2 jobs:")
    print(f"  runner, first run:        {r['first_run']:7.1f} s")
    if "naive" in r:
        print(f"  naive papermill loop:     {r['naive']:7.1f} s   -> runner is "
              f"{r['naive'] / r['first_run']:.2f}x faster (goal ≥ 1.8x)")
    print(f"  no-change rerun:          {r['no_change']:7.1f} s   -> "
          f"{r['first_run'] / r['no_change']:.0f}x faster than the first run "
          "(goal ≤ 3 s, ≥ 20x)")
    print(f"  one partner file changed: {r['one_partner']:7.1f} s   -> reran units: "
          f"{r['one_partner_units']} (goal: kommed and all)")
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
