"""Shared by the forest-plot tests: a one-hypothesis table with a given cell outside the
context."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ungeanalyse.config import Hypothesis
from ungeanalyse.realist import evaluate_hypotheses

CTX, MECH = "challenge_psykisk", "element_mestringskursus"


def participants(out_no: tuple[int, int]) -> pd.DataFrame:
    """Two delprojekter; in context 30/40 with, 12/40 without the mechanism; outside 20/40
    with and ``out_no`` (goal met, n) without."""
    rows = []
    for (ctx, mech), (k, n) in {(True, True): (30, 40), (True, False): (12, 40),
                                (False, True): (20, 40), (False, False): out_no}.items():
        rows += [(ctx, mech, i < k, ("kommed", "autisme")[i % 2]) for i in range(n)]
    df = pd.DataFrame(rows, columns=[CTX, MECH, "goal", "delprojekt"])
    df["target_group"] = "paabegynde"
    df["outcome"] = np.where(df["goal"], "started_youth_education", "referred_elsewhere")
    df["goal_met"] = df.pop("goal").astype("boolean")
    return df


def forest_table(cfg, out_no):
    """(config with the one hypothesis, its CMO table, the participants)."""
    hyp = Hypothesis(id="H1", title="Hypotese: mestringskurser hjælper især", context=CTX,
                     context_label="Psykiske udfordringer", mechanism=MECH,
                     mechanism_label="Mestringskursus")
    cfg = cfg.model_copy(update={"hypotheses": [hyp]})
    df = participants(out_no)
    return cfg, evaluate_hypotheses(df, cfg), df
