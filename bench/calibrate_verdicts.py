"""Calibration of the CMO verdict rules: false support under null data, power on planted effects.

A verdict rule is only as good as how often it says "støttet" / "delvist støttet" when nothing
is there, and how often it finds what is. This bench measures both with the engine the reports
use (``realist.evaluate_hypotheses``, Holm across each table's hypotheses):

1. **Demo nulls.** Each of the four demo projects (config/*.yml; generate the data first with
   ``ungeanalyse demo --config …`` and ``ungeanalyse clean --config …``), with the outcome
   permuted within delprojekt × target group: no mechanism goes with the outcome once those two
   are known, while the mechanisms keep their real (delprojekt-dependent) shares.
2. **Synthetic project** (n = 2,000, 6 or 15 delprojekter, two target groups): success depends
   on delprojekt and target group only, the mechanisms' shares differ by delprojekt (so a crude
   analysis is confounded); five hypotheses (four "stronger in the context", one "positive").
   Scenarios: ``null``; ``main`` (mechanism c has a main effect, log-OR 0.6, everywhere: S3
   should be found, and S4, which claims c works *especially* for psykisk, must not be
   supported); ``interaction`` (mechanism b goes with the outcome only for psykisk, log-OR 1.0:
   S2 should be found); ``slopes`` (every mechanism's association varies by delprojekt, SD 0.5
   on the log-odds scale, inside and outside its contexts, around 0: no hypothesis holds on
   average, and support would rest on a few delprojekter; the cluster check is what guards
   against it).

Prints one table: per hypothesis the share of replicates judged støttet, støttet or delvist
støttet, and (per null) the share of tables with any support.

Usage: python bench/calibrate_verdicts.py [--reps 200] [--seed 1] [--only demo|synthetic]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ungeanalyse.config import Hypothesis, ProjectConfig, load_config  # noqa: E402
from ungeanalyse.io import read_processed  # noqa: E402
from ungeanalyse.realist import evaluate_hypotheses  # noqa: E402

DEMO_PROJECTS = ("aumi", "sbst_helhedsorienteret", "unge_med_kant", "ungeindsats_aalborg")
OUTCOME_COLUMNS = ("outcome", "outcome_group", "goal_met")
SUPPORT = ("supported", "partly_supported")


def permute_within(df: pd.DataFrame, rng: np.random.Generator,
                   by: tuple[str, ...] = ("delprojekt", "target_group")) -> pd.DataFrame:
    """The participants with their outcome columns shuffled within ``by`` among closed forløb
    (the still active stay where they are, so the same rows are left out)."""
    out = df.copy()
    cols = [c for c in OUTCOME_COLUMNS if c in df.columns]
    closed = ~df["outcome_group"].astype("string").eq("active").fillna(False).to_numpy()
    keys = [df[c].astype("string").fillna("") for c in by if c in df.columns]
    groups = pd.Series(np.where(closed, 0, 1)).astype(str).str.cat(keys, sep="|") if keys else \
        pd.Series(np.where(closed, "0", "1"))
    for _, idx in groups.groupby(groups.to_numpy()).indices.items():
        if closed[idx[0]] and len(idx) > 1:
            shuffled = rng.permutation(idx)
            for c in cols:
                out.iloc[idx, out.columns.get_loc(c)] = df.iloc[shuffled][c].to_numpy()
    return out


def table_support(df: pd.DataFrame, cfg: ProjectConfig) -> dict[str, str]:
    """Verdict code per hypothesis of the whole project's table."""
    table = evaluate_hypotheses(df, cfg)
    return {r.id: r.verdict_code for r in table.results}


def synthetic_config(cfg: ProjectConfig, n_delprojekter: int) -> ProjectConfig:
    """``cfg`` with the synthetic project's hypotheses S1–S5 (delprojekt ids d01, d02, …)."""
    def h(hid: str, context: str, mechanism: str, expected: str) -> Hypothesis:
        return Hypothesis(id=hid, title=f"Hypotese {hid}", context=context,
                          context_label=context, mechanism=mechanism, mechanism_label=mechanism,
                          expected=expected)

    hyps = [h("S1", "target_group == 'paabegynde'", "element_a", "stronger_in_context"),
            h("S2", "challenge_psykisk", "element_b", "stronger_in_context"),
            h("S3", "age_at_start < 18", "element_c", "positive"),
            h("S4", "challenge_psykisk", "element_c", "stronger_in_context"),
            h("S5", "n_challenges >= 2", "element_d", "stronger_in_context")]
    return cfg.model_copy(update={"hypotheses": hyps})


def synthetic_project(rng: np.random.Generator, n: int = 2000, n_delprojekter: int = 6,
                      scenario: str = "null", b_main: float = 0.6,
                      b_interaction: float = 1.0, slope_sd: float = 0.5) -> pd.DataFrame:
    """n young people: success depends on delprojekt and target group (and in ``main`` on
    mechanism c everywhere, in ``interaction`` on mechanism b for psykisk only). In
    ``slopes`` every mechanism's log-OR varies by delprojekt around 0 (SD ``slope_sd``), both
    everywhere and in its hypotheses' contexts: associations that hold in some delprojekter
    and reverse in others, none on average."""
    d = rng.integers(0, n_delprojekter, n)
    dp_logit = np.linspace(-0.6, 1.4, n_delprojekter)[d]  # success 35-80 % by delprojekt
    share_tg = np.linspace(0.2, 0.8, n_delprojekter)[d]
    paabegynde = rng.random(n) < share_tg
    age = np.where(paabegynde, rng.integers(15, 26, n), rng.integers(16, 22, n))
    psykisk = rng.random(n) < 0.45
    n_ch = psykisk.astype(int) + (rng.random((n, 3)) < 0.3).sum(1)
    # the mechanisms are given more often where success is high: crude analyses are confounded
    shares = {e: np.clip(np.linspace(0.25, 0.75, n_delprojekter)[d] + shift, 0.05, 0.95)
              for e, shift in (("a", 0.0), ("b", -0.05), ("c", 0.05), ("d", 0.0))}
    mech = {e: rng.random(n) < s for e, s in shares.items()}
    lp = dp_logit - 0.8 * paabegynde
    if scenario == "main":
        lp = lp + b_main * mech["c"]
    elif scenario == "interaction":
        lp = lp + b_interaction * (mech["b"] & psykisk)
    elif scenario == "slopes":
        contexts = {"a": paabegynde, "b": psykisk, "c": psykisk, "d": n_ch >= 2}
        for e, inside in contexts.items():
            everywhere, extra = rng.normal(0, slope_sd, (2, n_delprojekter))
            lp = lp + mech[e] * (everywhere[d] + extra[d] * inside)
    elif scenario != "null":
        raise ValueError(f"unknown scenario {scenario!r}")
    y = rng.random(n) < 1 / (1 + np.exp(-lp))
    return pd.DataFrame({
        "delprojekt": [f"d{i + 1:02d}" for i in d],
        "target_group": np.where(paabegynde, "paabegynde", "fastholde"),
        "age_at_start": age, "challenge_psykisk": psykisk, "n_challenges": n_ch,
        **{f"element_{e}": v for e, v in mech.items()},
        "outcome": np.where(y, "started_youth_education", "referred_elsewhere"),
        "outcome_group": np.where(y, "goal_met", "not_met"),
        "goal_met": pd.array(y, dtype="boolean"),
    })


def rates(codes: list[dict[str, str]]) -> pd.DataFrame:
    """Per hypothesis: replicates, share støttet, share støttet or delvist støttet."""
    frame = pd.DataFrame(codes)
    rows = []
    for hid in frame.columns:
        col = frame[hid]
        rows.append({"hypothesis": hid, "reps": len(col),
                     "supported": float(col.eq("supported").mean()),
                     "supported_or_partly": float(col.isin(SUPPORT).mean()),
                     "too_few_data": float(col.eq("too_few_data").mean())})
    any_support = frame.isin(SUPPORT).any(axis=1).mean()
    rows.append({"hypothesis": "any", "reps": len(frame), "supported": math_nan(),
                 "supported_or_partly": float(any_support), "too_few_data": math_nan()})
    return pd.DataFrame(rows)


def math_nan() -> float:
    return float("nan")


def demo_nulls(reps: int, seed: int) -> pd.DataFrame:
    """False support per hypothesis on the four demo projects, outcome permuted in strata."""
    out = []
    for name in DEMO_PROJECTS:
        cfg = load_config(ROOT / "config" / f"{name}.yml")
        df = read_processed(cfg, "participants")
        rng = np.random.default_rng(seed)
        codes = [table_support(permute_within(df, rng), cfg) for _ in range(reps)]
        out.append(rates(codes).assign(setting=f"{name} (null)"))
    return pd.concat(out, ignore_index=True)


def synthetic_runs(reps: int, seed: int) -> pd.DataFrame:
    """Null, main-effect, interaction and random-slopes scenarios, 6 and 15 delprojekter."""
    base = load_config(ROOT / "config" / "aumi.yml")
    out = []
    for g in (6, 15):
        cfg = synthetic_config(base, g)
        for scenario in ("null", "main", "interaction", "slopes"):
            rng = np.random.default_rng([seed, g, len(scenario)])
            codes = [table_support(synthetic_project(rng, n_delprojekter=g, scenario=scenario),
                                   cfg) for _ in range(reps)]
            out.append(rates(codes).assign(setting=f"synthetic {scenario}, {g} delprojekter"))
    return pd.concat(out, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    """Run the calibration and print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", choices=("demo", "synthetic"))
    args = ap.parse_args(argv)
    start = time.perf_counter()
    parts = []
    if args.only in (None, "demo"):
        parts.append(demo_nulls(args.reps, args.seed))
    if args.only in (None, "synthetic"):
        parts.append(synthetic_runs(args.reps, args.seed))
    table = pd.concat(parts, ignore_index=True)
    with pd.option_context("display.width", 140, "display.max_rows", 200):
        shown = table.copy()
        for c in ("supported", "supported_or_partly", "too_few_data"):
            shown[c] = (100 * shown[c]).round(1)
        print(shown[["setting", "hypothesis", "reps", "supported", "supported_or_partly",
                     "too_few_data"]].to_string(index=False))
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
