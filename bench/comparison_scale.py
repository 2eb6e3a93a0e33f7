"""Register comparison group at scale: checking the extract, propensity scores, matching and
weighting (``ungeanalyse.comparison``) against 10k, 100k and 1,000,000 comparison persons.

Each size runs in a fresh subprocess so that its peak memory (ru_maxrss) is its own. The register
is the synthetic one of the AUMI demo (``comparison.synthetic_register``), with the demo's 195
participants repeated ``--copies`` times (975 by default) under new keys; generating it is not
timed. Timed: ``check_register`` (every covariate and outcome checked) and ``estimate_effects``
(one logit fit, 5-nearest-neighbour matching in exact strata with a caliper, ATT weights,
balance, naive/matched/weighted estimates for 3 windows × 10 groups).

Usage: python bench/comparison_scale.py [--sizes 10000 100000 1000000] [--copies 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(n: int, copies: int) -> dict[str, float]:
    """Generate, then time check + estimate for one size (in this process)."""
    import numpy as np
    import pandas as pd

    from ungeanalyse import comparison as cmp
    from ungeanalyse.config import load_config
    from ungeanalyse.demo import make_truth

    cfg = load_config(ROOT / "config" / "aumi.yml")
    truth = make_truth(cfg)
    people = pd.concat([truth] * copies, ignore_index=True)
    people["person_id"] = [f"{i:016x}" for i in range(1, len(people) + 1)]
    people["source_file"], people["source_row"] = "bench", np.arange(len(people))
    people["n_challenges"] = people.filter(like="challenge_").sum(axis=1)
    register = cmp.synthetic_register(cfg, people, population=n + len(people), seed=7)
    frame = register.frame
    import scipy.spatial  # noqa: F401 - imported before the clock starts, as in a notebook
    import statsmodels.discrete.discrete_model  # noqa: F401

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    checked = cmp.check_register(frame, cfg, "bench")
    t1 = time.perf_counter()
    result = cmp.estimate_effects(cfg, people, checked)
    t2 = time.perf_counter()
    ipw = result.primary("ipw")
    return {"comparison": n, "participants": len(people), "check_s": t1 - t0,
            "estimate_s": t2 - t1, "total_s": t2 - t0,
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "rss_after_generation_mib": rss_before / 1024,
            "planted_pp": register.planted_att_pp[cfg.comparison.primary_months],
            "ipw_pp": ipw["att_pp"], "ipw_ci": [ipw["ci_low_pp"], ipw["ci_high_pp"]],
            "max_abs_smd_ipw": float(result.balance["after_ipw"].abs().max())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(one(args.child, args.copies)))
        return
    print(f"{'comparison':>12} {'check':>8} {'estimate':>9} {'total':>8} {'s/100k':>7} "
          f"{'peak RSS':>10}  planted vs IPW estimate (95 % CI), max |SMD| after IPW")
    # one BLAS thread, as the runner gives its kernels: on a shared 2-core machine a threaded
    # BLAS makes the logit's Hessian many times slower (see README, BLAS threads)
    env = {**os.environ, **dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                          "MKL_NUM_THREADS"), "1")}
    for n in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--copies",
                              str(args.copies)], capture_output=True, text=True, check=False,
                             cwd=ROOT, env=env)
        if out.returncode:
            print(f"{n:>12,}  failed: {out.stderr.strip().splitlines()[-1:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{n:>12,} {r['check_s']:7.1f}s {r['estimate_s']:8.1f}s {r['total_s']:7.1f}s "
              f"{100_000 * r['total_s'] / n:6.2f}s {r['peak_rss_mib']:8.0f} MiB  "
              f"{r['planted_pp']:.1f} vs {r['ipw_pp']:.1f} ({r['ipw_ci'][0]:.1f} to "
              f"{r['ipw_ci'][1]:.1f}), {r['max_abs_smd_ipw']:.3f}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
