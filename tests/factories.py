"""Small synthetic clean tables that follow ``ungeanalyse.schemas``, for unit tests.

They are random but deterministic (seeded) and do not pretend to match the seed figures; the
demo generator (``ungeanalyse.demo``) makes the calibrated data set.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ungeanalyse.config import ProjectConfig


def make_participants(cfg: ProjectConfig, n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A clean participants table with random but plausible values."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp(cfg.project.period.start) + pd.to_timedelta(
        rng.integers(0, 900, n), unit="D"
    )
    days = rng.integers(60, 500, n).astype(float)
    groups = cfg.group_of()
    outcomes = rng.choice(list(cfg.outcomes), n)
    outcome_group = pd.Series(outcomes).map(groups)
    active = outcome_group.eq("active").to_numpy()
    end = start + pd.to_timedelta(days, unit="D")
    end = pd.Series(end).where(~active)
    ages = rng.integers(cfg.age.min, min(cfg.age.max, 25) + 1, n)
    bands = cfg.age.bands
    labels = [f"{lo}–{hi - 1}" for lo, hi in zip(bands[:-1], bands[1:], strict=True)]
    df = pd.DataFrame(
        {
            "person_id": [f"{i:016x}" for i in rng.integers(0, 2**62, n)],
            "delprojekt": rng.choice(cfg.delprojekt_ids, n),
            "target_group": rng.choice(list(cfg.target_groups), n),
            "gender": rng.choice(["kvinde", "mand"], n),
            "age_at_start": ages,
            "age_band": pd.cut(ages, bins=bands, right=False, labels=labels).astype(str),
            "start_date": start,
            "end_date": end,
            "days_in_project": np.where(active, np.nan, days),
            "outcome": outcomes,
            "outcome_group": outcome_group,
        }
    )
    df["goal_met"] = pd.array(np.where(active, pd.NA, outcome_group.eq("goal_met")),
                              dtype="boolean")
    df["derived_effect"] = pd.array(
        np.where(active, pd.NA, outcome_group.eq("derived_effect")), dtype="boolean"
    )
    for e in cfg.elements:
        df[f"element_{e}"] = rng.random(n) < 0.5
    for c in cfg.challenges:
        df[f"challenge_{c}"] = rng.random(n) < 0.3
    df["n_elements"] = df.filter(like="element_").sum(axis=1).astype(int)
    df["n_challenges"] = df.filter(like="challenge_").sum(axis=1).astype(int)
    df["source_file"] = df["delprojekt"] + ".csv"
    df["source_row"] = np.arange(2, n + 2)
    return df


def make_survey(cfg: ProjectConfig, participants: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Long survey answers: every participant at baseline, ~70 % at follow-up."""
    rng = np.random.default_rng(seed)
    rows = []
    for wave_i, wave in enumerate(cfg.survey.waves):
        answered = participants if wave_i == 0 else participants.sample(
            frac=0.7, random_state=seed
        )
        for pid in answered["person_id"]:
            level = rng.normal(3 + 0.4 * wave_i, 0.6)
            for item in cfg.survey.items:
                value = float(np.clip(np.rint(level + rng.normal(0, 0.7)), 1, 5))
                rows.append((pid, wave, item, value))
    df = pd.DataFrame(rows, columns=["person_id", "wave", "item", "value"])
    df["source_file"] = "survey.csv"
    df["source_row"] = np.arange(2, len(df) + 2)
    return df


def make_steps(cfg: ProjectConfig, participants: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Each participant climbs a random number of rungs of the ladder, in order."""
    rng = np.random.default_rng(seed)
    ladder = [s.id for s in cfg.steps.ladder]
    rows = []
    for pid, start in zip(participants["person_id"], participants["start_date"], strict=True):
        top = int(rng.integers(0, len(ladder) + 1))
        date = start
        for rank, step in enumerate(ladder[:top], start=1):
            date = date + pd.Timedelta(days=int(rng.integers(5, 60)))
            rows.append((pid, step, rank, date))
    df = pd.DataFrame(rows, columns=["person_id", "step", "step_rank", "date"])
    df["source_file"] = "steps.csv"
    df["source_row"] = np.arange(2, len(df) + 2)
    return df


def make_quotes(cfg: ProjectConfig, participants: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """A few coded quotes per hypothesis from young people, partners and case descriptions."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in cfg.hypotheses:
        for j, source in enumerate(["ung", "ung", "partner", "case"]):
            pid = participants["person_id"].iloc[int(rng.integers(len(participants)))]
            rows.append((f"{h.id}-{j}", h.id, source, participants["delprojekt"].iloc[0],
                         pid if source == "ung" else None, f"Citat {j} om {h.mechanism_label}."))
    df = pd.DataFrame(
        rows, columns=["quote_id", "hypothesis_id", "source_type", "delprojekt", "person_id",
                       "text"]
    )
    df["source_file"] = "quotes.xlsx"
    df["source_row"] = np.arange(2, len(df) + 2)
    return df
