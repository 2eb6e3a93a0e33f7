"""Register-scale benchmark: clean + måltal + CMO engine at 10k, 100k and 1,000,000 participants.

Each size runs in a fresh subprocess so that its peak memory (ru_maxrss) is its own. The raw data
are synthetic and written as one semicolon CSV per delprojekt (cp1252, dd-mm-yyyy), one survey
file per wave with 5 items, and a step log with 3 steps per person, like partners send them.

Usage: python bench/register_scale.py [--sizes 10000 100000 1000000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
N_ITEMS = 5


def make_config(base: Path, n: int) -> Path:
    """A copy of the AUMI config pointing at the synthetic files, with a 5-item scale."""
    data = yaml.safe_load((ROOT / "config" / "aumi.yml").read_text(encoding="utf-8"))
    data.pop("demo", None)
    data["project"]["id"] = f"register_{n}"
    data["files"] = {
        "raw_dir": str(base / "raw"),
        "processed_dir": str(base / "processed"),
        "participants": [{"path": f"{d['id']}.csv", "delprojekt": d["id"]}
                         for d in data["delprojekter"]],
        "survey": [{"path": "survey_baseline.csv", "wave": "baseline"},
                   {"path": "survey_opfoelgning.csv", "wave": "opfoelgning"}],
        "steps": [{"path": "steps.csv"}],
    }
    items = [f"swemwbs_{i}" for i in range(1, N_ITEMS + 1)]
    data["survey"]["scales"] = [{"id": "trivsel", "label": "Trivsel (5 items)", "items": items,
                                 "response_set": "hyppighed", "min_items": 4, "score": "mean"}]
    data["age"] = {"min": 15, "max": 29, "bands": [15, 18, 21, 25, 30]}
    data["project"]["period"] = {"start": "2015-01-01", "end": "2024-12-31"}
    path = base / "register.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def make_raw(base: Path, n: int, seed: int = 7) -> None:
    """Synthetic partner files for n participants (vectorised; not part of the timing)."""
    rng = np.random.default_rng(seed)
    raw = base / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    start = pd.Timestamp("2016-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")
    age = rng.integers(15, 26, n)
    birth = start - pd.to_timedelta(age * 365.25 + rng.integers(1, 300, n), unit="D")
    yy = birth.year % 100
    digit7 = np.where(birth.year >= 2000, 4, rng.integers(0, 4, n))
    serial = rng.integers(0, 1000, n)
    # unique fictitious numbers: serial digits drawn per birth date, collisions resolved below
    cpr = pd.Series(birth.strftime("%d%m") + pd.Series(yy).map("{:02d}".format).to_numpy()
                    + "-" + pd.Series(digit7).astype(str).to_numpy()
                    + pd.Series(serial).map("{:03d}".format).to_numpy())
    dup = cpr.duplicated()
    while dup.any():
        serial = rng.integers(0, 1000, int(dup.sum()))
        cpr[dup] = cpr[dup].str[:8] + pd.Series(serial).map("{:03d}".format).to_numpy()
        dup = cpr.duplicated()
    end = start + pd.to_timedelta(rng.integers(60, 500, n), unit="D")
    tg = rng.choice(["Påbegynde", "Fastholde"], n, p=[0.6, 0.4])
    status = rng.choice(["Påbegyndt ungdomsuddannelse", "Gennemført", "Anden uddannelse",
                         "I job", "Visiteret", "Ukendt"], n)
    elements = rng.choice(["Fast kontaktperson; Mestringskursus", "Fællesskab",
                           "Individuelt tilpasset forløb, Fast kontaktperson", ""], n)
    challenges = rng.choice(["Angst", "ADHD, Ordblind", "", "Sociale"], n)
    delprojekt = rng.integers(0, 6, n)
    ids = ["kommed", "hoeretab", "fgu_motivation", "autisme", "blended_hf", "ny_virkelighed"]
    frame = pd.DataFrame({
        "CPR-nr.": cpr, "Navn": "Demo Person", "Målgruppe": tg,
        "Startdato": start.strftime("%d-%m-%Y"), "Slutdato": end.strftime("%d-%m-%Y"),
        "Status": status, "Indsatser": elements, "Udfordringer": challenges})
    for i, d in enumerate(ids):
        frame[delprojekt == i].to_csv(raw / f"{d}.csv", sep=";", index=False,
                                      encoding="cp1252")
    labels = np.array(["Aldrig", "Sjældent", "Noget af tiden", "Ofte", "Hele tiden"])
    texts = ["Jeg har følt mig optimistisk med hensyn til fremtiden", "Jeg har følt mig nyttig",
             "Jeg har følt mig afslappet", "Jeg har klaret problemer godt", "Jeg har tænkt klart"]
    for wave in ("baseline", "opfoelgning"):
        survey = pd.DataFrame({"CPR-nr.": cpr})
        for text in texts:
            survey[text] = labels[rng.integers(0, 5, n)]
        survey.to_csv(raw / f"survey_{wave}.csv", sep=";", index=False, encoding="cp1252")
    ladder = ["Kontakt og relation etableret", "Besøgt en ungdomsuddannelse",
              "Samtale hos studievejleder"]
    steps = pd.DataFrame({
        "Cpr": np.repeat(cpr.to_numpy(), 3),
        "Dato": np.repeat(start, 3).strftime("%d-%m-%Y"),
        "Skridt": np.tile(ladder, n)})
    steps.to_csv(raw / "steps.csv", sep=";", index=False, encoding="cp1252")


def run_one(config: Path) -> dict:
    """Clean, måltal and the CMO engine on one config; times each stage (in this process)."""
    import ungeanalyse as ua

    cfg = ua.load_config(config)
    times = {}
    t0 = time.perf_counter()
    result = ua.clean.clean_project(cfg, key=b"benchmark-key")
    times["clean"] = time.perf_counter() - t0
    p = result.participants
    try:
        t1 = time.perf_counter()
        ua.outcomes.maaltal(p, cfg)
        times["maaltal"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        ua.realist.evaluate_hypotheses(p, cfg)
        times["cmo"] = time.perf_counter() - t2
    except (ImportError, AttributeError) as exc:
        times["skipped"] = f"analysis not available: {exc}"
    times["participants"] = len(p)
    times["survey_rows"] = len(result.survey_responses)
    times["steps_rows"] = len(result.steps)
    times["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(Path(args.child))))
        return
    print(f"{'n':>10} {'clean s':>8} {'måltal s':>9} {'CMO s':>7} {'total s':>8} "
          f"{'peak MiB':>9} {'µs/person':>10}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            base = Path(tmp)
            make_raw(base, n)
            config = make_config(base, n)
            out = subprocess.run([sys.executable, __file__, "--child", str(config)],
                                 capture_output=True, text=True, check=False)
            if out.returncode:
                print(f"{n:>10} failed: {out.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            total = r["clean"] + r.get("maaltal", 0) + r.get("cmo", 0)
            print(f"{n:>10} {r['clean']:8.2f} {r.get('maaltal', float('nan')):9.2f} "
                  f"{r.get('cmo', float('nan')):7.2f} {total:8.2f} {r['peak_mib']:9.0f} "
                  f"{1e6 * total / n:10.1f}" + (f"  ({r['skipped']})" if "skipped" in r else ""))


if __name__ == "__main__":
    main()
