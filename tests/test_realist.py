"""The CMO engine: hand-computed 2×2 tables, planted interactions, each verdict rule, quotes."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from tests import factories
from ungeanalyse.config import Hypothesis
from ungeanalyse.errors import UserError
from ungeanalyse.reader.cmo import verdict_rules
from ungeanalyse.realist import (
    CMOTable,
    HypothesisResult,
    evaluate_hypotheses,
    evaluate_hypothesis,
    joint_display,
    subgroup_matrix,
    subgroup_pivot,
    unlinked_quotes,
)

CTX, MECH = "challenge_psykisk", "element_mestringskursus"


def hyp(hid: str = "H1", expected: str = "stronger_in_context", **kw) -> Hypothesis:
    return Hypothesis(id=hid, title=f"Test {hid}", context=kw.pop("context", CTX),
                      context_label="Psykiske udfordringer", mechanism=kw.pop("mechanism", MECH),
                      mechanism_label="Mestringskursus", expected=expected, **kw)


def with_hypotheses(cfg, *hyps: Hypothesis):
    return cfg.model_copy(update={"hypotheses": list(hyps)})


def from_cells(in_yes, in_no, out_yes, out_no, delprojekter=("kommed",), active=0):
    """Participants built from (goal met, n) per cell; ``active`` rows have an NA outcome."""
    rows = []
    for (ctx, mech), (k, n) in {(True, True): in_yes, (True, False): in_no,
                                (False, True): out_yes, (False, False): out_no}.items():
        rows += [(ctx, mech, i < k) for i in range(n)]
    df = pd.DataFrame(rows, columns=[CTX, MECH, "goal"])
    df["delprojekt"] = [delprojekter[i % len(delprojekter)] for i in range(len(df))]
    df["target_group"] = "paabegynde"
    df["outcome"] = np.where(df["goal"], "started_youth_education", "referred_elsewhere")
    df["goal_met"] = df.pop("goal").astype("boolean")
    if active:
        extra = df.iloc[:active].copy()
        extra["outcome"] = "active"
        extra["goal_met"] = pd.array([pd.NA] * active, dtype="boolean")
        df = pd.concat([df, extra], ignore_index=True)
    return df


def synthetic(cfg, b_interaction: float, b_mechanism: float, seed: int = 0, n: int = 2000):
    """n young people in the six AUMI delprojekter with a planted logit model."""
    rng = np.random.default_rng(seed)
    c = rng.random(n) < 0.5
    m = rng.random(n) < 0.5
    d = rng.choice(cfg.delprojekt_ids, n)
    cluster_effect = rng.normal(0, 0.2, len(cfg.delprojekt_ids))[
        pd.factorize(pd.Series(d), sort=True)[0]]
    lp = -0.5 + 0.2 * c + b_mechanism * m + b_interaction * (c & m) + cluster_effect
    y = rng.random(n) < 1 / (1 + np.exp(-lp))
    df = pd.DataFrame({CTX: c, MECH: m, "delprojekt": d, "target_group": "paabegynde"})
    df["outcome"] = np.where(y, "started_youth_education", "referred_elsewhere")
    df["goal_met"] = pd.array(y, dtype="boolean")
    return df


def wilson(k, n):
    return tuple(float(x) for x in proportion_confint(k, n, method="wilson"))


# -- a 2×2 computed on paper -------------------------------------------------------------------


def test_hand_computed_two_by_two(aumi_cfg):
    # in context: 15/20 with, 5/20 without; outside: 10/20 with, 8/20 without.
    df = from_cells((15, 20), (5, 20), (10, 20), (8, 20))
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.n == 80 and r.n_active == 0 and r.n_missing == 0
    cells = r.cells.set_index("cell")
    assert cells["n"].tolist() == [20, 20, 20, 20]
    assert cells["k"].tolist() == [15, 5, 10, 8]
    assert cells["rate"].tolist() == pytest.approx([0.75, 0.25, 0.5, 0.4])
    for key, (k, n) in {"in_yes": (15, 20), "in_no": (5, 20), "out_yes": (10, 20),
                        "out_no": (8, 20)}.items():
        assert tuple(cells.loc[key, ["ci_low", "ci_high"]]) == pytest.approx(wilson(k, n))
    # rate differences with Newcombe intervals, and their difference (MOVER)
    assert r.diff_in.estimate == pytest.approx(0.5)
    assert r.diff_out.estimate == pytest.approx(0.1)
    assert r.did.estimate == pytest.approx(0.4)
    lo1, hi1 = confint_proportions_2indep(15, 20, 5, 20, method="newcomb", compare="diff")
    lo2, hi2 = confint_proportions_2indep(10, 20, 8, 20, method="newcomb", compare="diff")
    assert (r.diff_in.ci_low, r.diff_in.ci_high) == pytest.approx((lo1, hi1))
    assert (r.diff_out.ci_low, r.diff_out.ci_high) == pytest.approx((lo2, hi2))
    assert r.did.ci_low == pytest.approx(0.4 - math.hypot(0.5 - lo1, hi2 - 0.1))
    assert r.did.ci_high == pytest.approx(0.4 + math.hypot(hi1 - 0.5, 0.1 - lo2))
    # one delprojekt, one target group: nothing to adjust for, and the model is saturated, so
    # Firth's estimates are the cell log-odds with ½ added to every count: in context
    # (15.5/5.5)/(5.5/15.5) = 7.94; outside (10.5/10.5)/(8.5/12.5) = 1.47; interaction 5.40
    assert r.model.ok and r.model.cov_type == "model" and r.model.adjusted_for == []
    assert r.model.or_mechanism_in_context.estimate == pytest.approx((15.5 / 5.5) ** 2)
    assert r.model.or_mechanism_outside.estimate == pytest.approx(12.5 / 8.5)
    assert r.model.or_interaction.estimate == pytest.approx((15.5 / 5.5) ** 2 * 8.5 / 12.5)
    # the marginal risk differences follow from the same cells: (15.5 − 5.5) / 21
    assert r.model.rd_in.estimate == pytest.approx(10 / 21)
    assert r.model.rd_did.estimate == pytest.approx(10 / 21 - (10.5 / 21 - 8.5 / 21))
    # alone, the adjusted p is the p; the interaction's penalised LR p = 0.069 > 0.05, and a
    # hypothesis about a *stronger* association needs the interaction: rule 4, though the
    # mechanism goes with the goal in the context
    assert r.p == r.p_interaction and r.p_adj == r.p
    assert 0.05 < r.p < 0.1 and r.p_mechanism_in_context < 0.01
    assert r.verdict == "ikke støttet" and r.verdict_en == "not supported"
    assert r.rule.startswith("Regel 4") and r.rule_en.startswith("Rule 4")
    assert "ikke tydeligt stærkere end uden for konteksten" in r.rule
    # power honesty: every cell is under 30
    assert any(n.startswith("n = 20 i konteksten med mekanismen; usikkert") for n in r.notes())
    assert any("intervallet for forskellen i konteksten er 50 procentpoint" in n.lower()
               for n in r.notes())


def test_summary_says_association_not_effect(aumi_cfg):
    r = evaluate_hypothesis(from_cells((15, 20), (5, 20), (10, 20), (8, 20)), hyp(), aumi_cfg)
    text = r.summary()
    assert "sammenhænge, ikke virkninger" in text
    assert "virkning " not in text and "effekt" not in text
    assert "associations, not effects" in r.summary("en")
    assert "sammenhæng" in verdict_rules("da") and "associations" in verdict_rules("en")
    # the saved result holds codes, not words; rebuilt, it words the same verdict and rule
    saved = json.loads(json.dumps(r.to_dict()))
    assert saved["verdict_code"] == "not_supported" and "verdict" not in saved
    again = HypothesisResult.from_dict(saved)
    assert again.verdict == "ikke støttet" and again.rule == r.rule
    assert again.summary("en") == r.summary("en")


# -- planted interactions (n = 2000) -----------------------------------------------------------


def test_planted_interaction_is_found(aumi_cfg):
    df = synthetic(aumi_cfg, b_interaction=1.0, b_mechanism=0.0, seed=0)
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.model.cov_type == "CR2" and r.model.n_clusters == 6
    assert r.model.adjusted_for == ["delprojekt"]  # one target group here
    b = r.model.params
    assert b["mechanism_in_context"] - b["mechanism_outside"] == pytest.approx(1.0, abs=0.25)
    assert abs(b["mechanism_outside"]) < 0.25
    assert r.model.or_interaction.ci_low > 1
    assert r.model.rd_in.ci_low > 0 and r.model.rd_did.estimate > 0
    # the penalised LR test leads (p < 0.001); the CR2 cluster check, t with Bell–McCaffrey df
    # (≈ 5 with six similar delprojekter), must be under 0.05 too: p = 0.025
    assert r.p == r.model.p_model_interaction < 0.001
    assert 4.5 < r.model.df_cluster_interaction <= 5 and 0.01 < r.p_cluster < 0.05
    assert "klyngetjekket (CR2-t-test, 5,0 frihedsgrader) p = 0,02" in r.rule
    assert r.verdict == "støttet" and r.rule.startswith("Regel 2")


def test_main_effect_without_interaction_is_not_supported_as_stronger(aumi_cfg):
    df = synthetic(aumi_cfg, b_interaction=0.0, b_mechanism=0.8, seed=0)
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.p > 0.05
    # the mechanism goes with the goal everywhere, not especially in the context: no support
    assert r.model.rd_in.ci_low > 0 and r.p_mechanism_in_context < 0.05
    assert r.verdict == "ikke støttet" and "samspillet" in r.rule


def test_no_association_is_not_supported(aumi_cfg):
    r = evaluate_hypothesis(synthetic(aumi_cfg, 0.0, 0.0, seed=0), hyp(), aumi_cfg)
    assert r.verdict == "ikke støttet" and r.rule.startswith("Regel 4")


# -- each verdict rule pinned ------------------------------------------------------------------


def test_rule1_cell_below_the_disclosure_threshold(aumi_cfg):
    df = from_cells((30, 40), (10, 40), (2, 4), (15, 40))  # outside, with mechanism: n = 4
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.verdict == "for få data" and r.verdict_code == "too_few_data"
    assert r.rule.startswith("Regel 1") and "diskretionsgrænsen på 5" in r.rule
    assert "n = 4, 2 med udfaldet" in r.rule
    lower = aumi_cfg.model_copy(update={"privacy": aumi_cfg.privacy.model_copy(
        update={"min_cell": 2})})
    assert evaluate_hypothesis(df, hyp(), lower).verdict != "for få data"
    # a large cell with too few *without* the outcome decides it too (35 of 36)
    r = evaluate_hypothesis(from_cells((30, 40), (10, 40), (35, 36), (15, 40)), hyp(), aumi_cfg)
    assert r.verdict == "for få data" and "n = 36, 35 med udfaldet" in r.rule


def test_rule1_perfect_separation(aumi_cfg):
    df = from_cells((20, 20), (10, 40), (20, 40), (15, 40))  # everyone with it in context
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    # Firth's penalty keeps the estimates finite, but the verdict may not rest on the cell
    assert r.model.ok and np.isfinite(r.model.or_mechanism_in_context.estimate)
    assert r.verdict == "for få data" and "n = 20, 20 med udfaldet" in r.rule
    assert math.isnan(r.p_adj) and r.diff_in.estimate == pytest.approx(0.75)


def test_rule1_model_that_fails_or_does_not_converge(aumi_cfg, monkeypatch):
    from dataclasses import replace

    from ungeanalyse import realist

    df = from_cells((15, 20), (5, 20), (10, 20), (8, 20))
    original = realist._firth_fit

    def not_converging(*args, **kwargs):
        return replace(original(*args, **kwargs), converged=False)

    monkeypatch.setattr(realist, "_firth_fit", not_converging)
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.verdict == "for få data" and "konvergerede ikke" in r.rule

    def failing(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(realist, "_firth_fit", failing)
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.verdict == "for få data" and "Singular matrix" in r.rule
    assert "The logistic model was not estimated" in " ".join(r.notes("en"))


def test_rule2_and_rule3_positive_expectation(aumi_cfg):
    strong = from_cells((30, 40), (10, 40), (20, 40), (20, 40))
    r = evaluate_hypothesis(strong, hyp(expected="positive"), aumi_cfg)
    assert r.primary_test == "mechanism_in_context" and r.p == r.p_mechanism_in_context
    assert r.verdict == "støttet" and "mekanismens sammenhæng i konteksten" in r.rule
    # p = 0.026 alone (rule 2); among three tested hypotheses Holm makes it 0.079 (rule 3)
    weaker = from_cells((24, 40), (14, 40), (20, 40), (20, 40))
    assert evaluate_hypothesis(weaker, hyp(expected="positive"), aumi_cfg).verdict == "støttet"
    cfg = with_hypotheses(aumi_cfg, *[hyp(f"H{i}", expected="positive") for i in range(3)])
    first = evaluate_hypotheses(weaker, cfg)["H0"]
    assert first.p < 0.05 < first.p_adj
    assert first.model.rd_in.ci_low > 0
    assert first.verdict == "delvist støttet" and first.rule.startswith("Regel 3")
    assert "holm-justeret p = 0,079" in first.rule


def test_rule2_negative_expectation(aumi_cfg):
    df = from_cells((8, 40), (28, 40), (20, 40), (20, 40))
    r = evaluate_hypothesis(df, hyp(expected="negative"), aumi_cfg)
    assert r.diff_in.estimate < 0
    assert r.verdict == "støttet"
    assert evaluate_hypothesis(df, hyp(expected="positive"), aumi_cfg).verdict == "ikke støttet"


def test_rule4_opposite_direction(aumi_cfg):
    df = from_cells((5, 40), (30, 40), (20, 40), (20, 40))
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.verdict == "ikke støttet" and "ikke går i den forventede retning" in r.rule


def test_interaction_must_point_the_expected_way(aumi_cfg):
    # the mechanism goes with the goal in the context, but even more strongly outside it: the
    # association in the context alone is no longer "delvist støttet"
    df = from_cells((30, 40), (15, 40), (34, 40), (8, 40))
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.model.rd_in.ci_low > 0 and r.model.or_interaction.estimate < 1
    assert r.verdict == "ikke støttet"
    assert "ikke går i den forventede retning både som odds ratio" in r.rule


def test_a_pure_main_effect_does_not_support_a_stronger_association(aumi_cfg):
    # +50 percentage points inside and outside (blended_hf H4 had +51 and +50): no support
    df = from_cells((54, 60), (24, 60), (51, 60), (21, 60))
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.diff_in.estimate == pytest.approx(0.5) and r.diff_out.estimate == pytest.approx(0.5)
    assert r.model.rd_in.ci_low > 0.25
    assert r.verdict == "ikke støttet"
    assert "ikke tydeligt stærkere" in r.rule or "ikke går i den forventede" in r.rule


# -- multiplicity ------------------------------------------------------------------------------


def test_pvalues_are_adjusted_across_the_table(aumi_cfg):
    cfg = with_hypotheses(
        aumi_cfg,
        hyp("H1"),
        hyp("H2", context="target_group == 'paabegynde'"),
        hyp("H3", context="age_at_start < 18", mechanism="element_faellesskab"),
    )
    df = factories.make_participants(cfg, n=600, seed=4)
    holm = evaluate_hypotheses(df, cfg)
    raw = holm.frame["p"].to_numpy()
    assert holm.frame["p_adj"].to_numpy() == pytest.approx(
        multipletests(raw, method="holm")[1])
    bonf = evaluate_hypotheses(df, cfg, p_adjust="bonferroni")
    assert bonf.frame["p_adj"].to_numpy() == pytest.approx(
        np.minimum(1, 3 * raw))
    assert (evaluate_hypotheses(df, cfg, p_adjust="none").frame["p_adj"].to_numpy()
            == pytest.approx(raw))
    with pytest.raises(UserError, match="p_adjust"):
        evaluate_hypotheses(df, cfg, p_adjust="magic")


def test_single_significant_hypothesis_loses_support_among_five(aumi_cfg):
    df = from_cells((21, 30), (9, 30), (15, 30), (16, 30))
    alone = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert 0.01 < alone.p < 0.05 and alone.verdict == "støttet"  # p = 0.017
    cfg = with_hypotheses(aumi_cfg, *[hyp(f"H{i}") for i in range(1, 6)])
    table = evaluate_hypotheses(df, cfg)
    assert table.frame["p_adj"].tolist() == pytest.approx([min(1, 5 * alone.p)] * 5)
    assert set(table.frame["verdict"]) == {"delvist støttet"}
    assert "holm-justeret p = 0,086" in table["H1"].rule


# -- inputs, units and exclusions --------------------------------------------------------------


def test_unknown_column_names_hypothesis_key_and_column(aumi_cfg):
    df = from_cells((15, 20), (5, 20), (10, 20), (8, 20))
    with pytest.raises(UserError) as err:
        evaluate_hypothesis(df, hyp("H7", context="challenge_angst and age_at_start < 18"),
                            aumi_cfg)
    msg = str(err.value)
    assert "hypothesis H7" in msg and "context" in msg
    assert "age_at_start, challenge_angst" in msg and "Available columns" in msg
    with pytest.raises(UserError, match="H7, mechanism.*not a valid expression"):
        evaluate_hypothesis(df, hyp("H7", mechanism="element_x ==="), aumi_cfg)
    with pytest.raises(UserError, match="not yes/no"):
        evaluate_hypothesis(df.assign(age=17), hyp("H7", context="age"), aumi_cfg)
    with pytest.raises(UserError, match="Unknown hypothesis 'H99'"):
        evaluate_hypothesis(df, "H99", aumi_cfg)


def test_active_participants_are_excluded_and_counted(aumi_cfg):
    df = from_cells((15, 20), (5, 20), (10, 20), (8, 20), active=7)
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.n_in_scope == 87 and r.n_active == 7 and r.n == 80 and r.n_missing == 0
    assert r.diff_in.estimate == pytest.approx(0.5)
    assert any("7 stadig i forløb" in n for n in r.notes())
    # without outcome codes, an NA outcome marks an active young person
    r2 = evaluate_hypothesis(df.drop(columns=["outcome"]), hyp(), aumi_cfg)
    assert r2.n_active == 7 and r2.n == 80


def test_delprojekt_unit_filters_participants_and_hypotheses(aumi_cfg):
    df = synthetic(aumi_cfg, 1.0, 0.0, seed=1, n=1200)
    cfg = with_hypotheses(aumi_cfg, hyp("H1"), hyp("H2", delprojekter=["kommed"]),
                          hyp("H3", delprojekter=["autisme"]))
    table = evaluate_hypotheses(df, cfg, unit="kommed")
    assert [r.id for r in table.results] == ["H1", "H2"]
    n_kommed = int(df["delprojekt"].eq("kommed").sum())
    assert {r.n for r in table.results} == {n_kommed}
    assert table["H1"].model.cov_type == "model"
    everything = evaluate_hypotheses(df, cfg)
    assert [r.id for r in everything.results] == ["H1", "H2", "H3"]
    assert everything["H1"].n == 1200 and everything["H1"].model.cov_type == "CR2"
    assert "sekundær" in table.summary() and "sekundær" not in everything.summary()
    assert everything["H3"].n == int(df["delprojekt"].eq("autisme").sum())
    with pytest.raises(KeyError):
        everything["H9"]


def test_cmo_table_frame_and_json(aumi_cfg):
    cfg = with_hypotheses(aumi_cfg, hyp("H1"), hyp("H2", expected="positive"))
    table = evaluate_hypotheses(synthetic(cfg, 1.0, 0.0, seed=2, n=800), cfg)
    f = table.frame
    for col in ("id", "title", "context_label", "mechanism_label", "n", "rate_in_yes",
                "ci_low_in_yes", "diff_in", "diff_in_ci_low", "did", "or_in", "or_interaction",
                "rd_in", "rd_in_ci_low", "rd_in_ci_high", "rd_did",
                "p", "p_adj", "verdict", "rule"):
        assert col in f.columns
    assert len(f) == 2 and list(f["id"]) == ["H1", "H2"]
    d = json.loads(json.dumps(table.to_dict()))
    assert table.rules == verdict_rules("da", 5)
    assert "diskretionsgrænsen (5)" in table.rules and len(d["hypotheses"]) == 2
    # the saved table rebuilds to the same figures, verdicts and rules (notebook 04 reads it)
    again = CMOTable.from_dict(d)
    pd.testing.assert_frame_equal(again.frame, table.frame)
    assert again.summary("en") == table.summary("en")
    assert "Dom" in table.table().columns and "Verdict" in table.table("en").columns
    assert "sammenhænge, ikke virkninger" in table.summary()


def test_aumi_config_hypotheses_run_on_factory_data(aumi_cfg):
    df = factories.make_participants(aumi_cfg, n=300, seed=1)
    table = evaluate_hypotheses(df, aumi_cfg)
    assert [r.id for r in table.results] == ["H1", "H2", "H3", "H4", "H5"]
    assert set(table.frame["verdict"]) <= {"støttet", "delvist støttet", "ikke støttet",
                                          "for få data"}
    assert table["H1"].n_active == int(df["outcome_group"].eq("active").sum())


# -- subgroup matrix ---------------------------------------------------------------------------


def test_subgroup_matrix_counts_and_suppression(aumi_cfg):
    df = factories.make_participants(aumi_cfg, n=300, seed=5)
    mat = subgroup_matrix(df, aumi_cfg, "fast_kontaktperson")
    closed = df[df["outcome_group"] != "active"]
    mech = closed["element_fast_kontaktperson"]
    row = mat[(mat["context"] == "gender") & (mat["category"] == "kvinde") & mat["mechanism"]]
    sel = closed[(closed["gender"] == "kvinde") & mech]
    k = int(sel["goal_met"].sum())
    assert row["n"].item() == len(sel) and row["n_outcome"].item() == k
    assert (row["ci_low"].item(), row["ci_high"].item()) == pytest.approx(wilson(k, len(sel)))
    challenges = mat[mat["context"].str.startswith("challenge_")]
    assert set(challenges["context"]) == {f"challenge_{c}" for c in aumi_cfg.challenges}
    assert set(challenges["category"]) == {"ja", "nej"}
    assert set(mat["context"]) >= {"target_group", "gender", "age_band", "delprojekt"}
    # hidden: fewer than 5 in the cell, or 1–4 with or without the outcome (the rate of such a
    # cell gives the small count back, as in the CMO table)
    miss = mat["n"] - mat["n_outcome"]
    small = (mat["n"] < 5) | mat["n_outcome"].between(1, 4) | miss.between(1, 4)
    assert (small & (mat["n"] >= 5)).any()  # the sample has such a cell
    # ... and its partner (the other mechanism value in the same category) is hidden too, and
    # with it every category of that context (the mechanism's totals would give a lone blank
    # row back from its siblings)
    partner = small.groupby([mat["context"], mat["category"]]).transform("any")
    block = partner.groupby(mat["context"]).transform("any")
    assert (mat["suppressed"] == block).all() and (partner & ~small).any()
    assert (block & ~partner).any()
    # a tiny table: small cells are flagged and blanked in the pivot
    small = df.head(40)
    m2 = subgroup_matrix(small, aumi_cfg, "element_fast_kontaktperson",
                         contexts=("target_group", "challenge_*"))
    assert m2["suppressed"].any()
    wide = subgroup_pivot(m2)
    assert list(wide.columns) == ["ja", "nej", "forskel"]
    flagged = m2[m2["suppressed"]].iloc[0]
    column = "ja" if flagged["mechanism"] else "nej"
    assert math.isnan(wide.loc[(flagged["context_label"], flagged["category_label"]), column])
    assert not math.isnan(flagged["rate"]) or flagged["n"] == 0  # the long form keeps it
    with pytest.raises(UserError, match="context column 'shoe_size'"):
        subgroup_matrix(df, aumi_cfg, "fast_kontaktperson", contexts=("shoe_size",))


# -- qualitative linkage -----------------------------------------------------------------------


def test_joint_display_counts_and_unlinked_quotes(aumi_cfg):
    df = factories.make_participants(aumi_cfg, n=300, seed=1)
    table = evaluate_hypotheses(df, aumi_cfg)
    quotes = factories.make_quotes(aumi_cfg, df, seed=1)
    extra = pd.DataFrame([
        {"quote_id": "X-1", "hypothesis_id": "H9", "source_type": "partner",
         "delprojekt": "kommed", "person_id": None, "text": "Om en hypotese, der ikke findes."},
        {"quote_id": "H1-9", "hypothesis_id": "H1", "source_type": "ung",
         "delprojekt": "kommed", "person_id": None, "text": "Kort."},
    ])
    quotes = pd.concat([quotes, extra], ignore_index=True)
    jd = joint_display(table, quotes, aumi_cfg, max_quotes=2)
    h1 = jd.set_index("id").loc["H1"]
    assert (h1["n_quotes"], h1["n_ung"], h1["n_partner"], h1["n_case"]) == (5, 3, 1, 1)
    # deterministic: the shortest quotes first, ties by quote_id
    assert [q["quote_id"] for q in h1["quotes"]] == ["H1-9", "H1-0", "H1-2", "H1-3"]
    assert h1["verdict"] == table["H1"].verdict
    assert h1["diff_in"] == pytest.approx(table["H1"].diff_in.estimate)
    assert "Unge: »Kort.«" in h1["quotes_text"]
    assert jd.attrs["n_unlinked"] == 1 and jd.attrs["unlinked_quote_ids"] == ["X-1"]
    un = unlinked_quotes(quotes, aumi_cfg)
    assert un["quote_id"].tolist() == ["X-1"]
    assert "'H9' is not in the config" in un["reason"].item()
    assert json.dumps(jd.to_dict(orient="records"), default=str)


def _empty_display(cmo, cfg):
    """The joint display of a CMO table with no quotes."""
    from ungeanalyse.realist import joint_display

    quotes = pd.DataFrame({"quote_id": pd.Series(dtype="string"),
                           "hypothesis_id": pd.Series(dtype="string"),
                           "source_type": pd.Series(dtype="string"),
                           "text": pd.Series(dtype="string")})
    return joint_display(cmo, quotes, cfg)


def test_a_small_context_hides_the_other_contexts_cells_too():
    from ungeanalyse.realist import hidden_cells

    def cells(*nk):
        return {c: {"n": n, "k": k} for c, (k, n) in zip(("in_yes", "in_no", "out_yes", "out_no"),
                                                       nk, strict=True)}

    # outside the context 19 of 20 met the goal: with the unit's totals shown, the cells inside
    # would give that 1 back, so all four are hidden
    assert all(hidden_cells(cells((30, 40), (10, 40), (10, 10), (9, 10)), 5).values())
    # 4 outside the context in all
    assert all(hidden_cells(cells((30, 40), (10, 40), (2, 2), (2, 2)), 5).values())
    # a safe outside context hides nothing
    assert not any(hidden_cells(cells((30, 40), (10, 40), (20, 30), (10, 10)), 5).values())


def test_a_few_left_out_hide_the_pair_outside_the_context():
    from ungeanalyse.realist import hidden_cells

    cells = {c: {"n": 20, "k": 10} for c in ("in_yes", "in_no", "out_yes", "out_no")}
    # 82 in scope, 80 in the cells: with the unit's 82 shown, the four n would say 2 are left
    # out (still active or missing), so one pair's n is withheld
    assert hidden_cells(cells, 5, left_out=2) == {
        "in_yes": False, "in_no": False, "out_yes": True, "out_no": True}
    assert not any(hidden_cells(cells, 5, left_out=0).values())
    assert not any(hidden_cells(cells, 5, left_out=7).values())


def test_subgroup_matrix_blanks_a_category_that_is_a_hidden_cmo_context(aumi_cfg):
    df = factories.make_participants(aumi_cfg, n=300, seed=5)
    # a hypothesis whose context is 'fastholde' and whose in-context cells the CMO table hides:
    # the heatmap's Fastholde row shows the same people, so it goes (and with it the context)
    plain = subgroup_matrix(df, aumi_cfg, "fast_kontaktperson", contexts=("target_group",))
    assert not plain["suppressed"].any()
    guarded = subgroup_matrix(df, aumi_cfg, "fast_kontaktperson", contexts=("target_group",),
                              protect=[("target_group == 'fastholde'", True, False)])
    assert guarded["suppressed"].all()
    # outside the context is the other target group: hiding the out cells blanks it too
    out = subgroup_matrix(df, aumi_cfg, "fast_kontaktperson", contexts=("target_group",),
                          protect=[("target_group == 'fastholde'", False, True)])
    assert out["suppressed"].all()
    # a context no category equals (two challenges or more) protects nothing here
    other = subgroup_matrix(df, aumi_cfg, "fast_kontaktperson", contexts=("target_group",),
                            protect=[("n_challenges >= 2", True, True)])
    assert not other["suppressed"].any()


# -- the inference: Firth, CR2, adjustment, the family, calibration ---------------------------


def test_firth_logit_is_the_half_added_estimate_when_saturated_and_ml_when_large():
    from statsmodels.api import GLM, families

    from ungeanalyse.realist import firth_logit

    fit = firth_logit(np.array([[1.0, 0], [1, 1]]), np.array([3.0, 10]), np.array([10.0, 10]))
    assert fit.converged
    assert fit.beta == pytest.approx([math.log(3.5 / 7.5),
                                      math.log(10.5 / 0.5) - math.log(3.5 / 7.5)])
    rng = np.random.default_rng(1)
    x = rng.normal(size=4000)
    X = np.column_stack([np.ones_like(x), x])
    y = (rng.random(4000) < 1 / (1 + np.exp(-(0.3 + 0.8 * x)))).astype(float)
    ml = GLM(y, X, family=families.Binomial()).fit()
    firth = firth_logit(X, y, np.ones_like(y))
    assert firth.beta == pytest.approx(ml.params, abs=0.005)
    assert np.sqrt(np.diag(firth.cov)) == pytest.approx(ml.bse, rel=0.01)


def test_cr2_is_close_to_cluster_robust_with_many_clusters():
    from statsmodels.api import GLM, families

    from ungeanalyse.realist import _cr2_cov, firth_logit

    rng = np.random.default_rng(2)
    g = rng.integers(0, 200, 4000)
    x = rng.normal(size=4000)
    X = np.column_stack([np.ones_like(x), x])
    lp = 0.3 + 0.8 * x + rng.normal(0, 0.5, 200)[g]
    y = (rng.random(4000) < 1 / (1 + np.exp(-lp))).astype(float)
    cr1 = GLM(y, X, family=families.Binomial()).fit(cov_type="cluster", cov_kwds={"groups": g})
    cr2 = _cr2_cov(X, y, np.ones_like(y), firth_logit(X, y, np.ones_like(y)), g)
    assert np.sqrt(np.diag(cr2)) == pytest.approx(cr1.bse, rel=0.02)


def test_bell_mccaffrey_df_are_g_minus_1_when_balanced_and_fewer_when_one_cluster_dominates():
    from ungeanalyse.realist import _bm_df, firth_logit

    rng = np.random.default_rng(3)
    for sizes, expected in (([50] * 6, 5.0), ([100] * 15, 14.0)):
        g = np.repeat(np.arange(len(sizes)), sizes)
        y = (rng.random(len(g)) < 0.4).astype(float)
        X, ones = np.ones((len(g), 1)), np.ones(len(g))
        # intercept only, equal clusters: the Satterthwaite df of CR2 are exactly G − 1
        assert _bm_df(X, ones, firth_logit(X, y, ones), g)(np.array([1.0])) == \
            pytest.approx(expected)
    g = np.repeat(np.arange(6), [200, 20, 20, 20, 20, 20])
    y = (rng.random(len(g)) < 0.4).astype(float)
    X = np.column_stack([np.ones(len(g)), rng.random(len(g)) < 0.5]).astype(float)
    ones = np.ones(len(g))
    df = _bm_df(X, ones, firth_logit(X, y, ones), g)(np.array([0.0, 1.0]))
    assert 1.5 < df < 2.5  # one delprojekt with most of the young people: far fewer than 5


def test_a_finding_carried_by_one_delprojekt_fails_the_cluster_check(aumi_cfg):
    # the mechanism goes with the goal in the context in one of six delprojekter only: the
    # penalised LR test (one common association) is significant, the cluster check is not
    rng = np.random.default_rng(3)
    n = 1200
    d = rng.choice(aumi_cfg.delprojekt_ids, n)
    c, m = rng.random(n) < 0.5, rng.random(n) < 0.5
    lp = -0.2 + 3.0 * (c & m & (d == aumi_cfg.delprojekt_ids[0]))
    y = rng.random(n) < 1 / (1 + np.exp(-lp))
    df = pd.DataFrame({CTX: c, MECH: m, "delprojekt": d, "target_group": "paabegynde"})
    df["outcome"] = np.where(y, "started_youth_education", "referred_elsewhere")
    df["goal_met"] = pd.array(y, dtype="boolean")
    r = evaluate_hypothesis(df, hyp(), aumi_cfg)
    assert r.p < 0.01 and r.p_cluster > 0.1
    assert r.verdict == "ikke støttet"
    assert "men ikke holder i klyngetjekket (CR2-t-test, 5,0 frihedsgrader) p = 0,128" in r.rule
    assert "kan bæres af få delprojekter" in r.rule
    assert "the association may be carried by a few sub-projects" in r.rule_en


def test_delprojekt_confounding_is_adjusted_away(aumi_cfg):
    # the mechanism is given mostly where success is high: a large crude difference, ~none within
    rows = []
    for d, share, rate in (("kommed", 0.8, 0.8), ("hoeretab", 0.2, 0.3),
                           ("autisme", 0.5, 0.55)):
        for i in range(200):
            mech = i < 200 * share
            goal = (i % 10) < 10 * rate if mech else ((i + 3) % 10) < 10 * rate
            rows.append((d, i % 2 == 0, mech, goal))
    df = pd.DataFrame(rows, columns=["delprojekt", CTX, MECH, "goal"])
    df["target_group"] = "paabegynde"
    df["outcome"] = np.where(df["goal"], "started_youth_education", "referred_elsewhere")
    df["goal_met"] = df.pop("goal").astype("boolean")
    r = evaluate_hypothesis(df, hyp(expected="positive"), aumi_cfg)
    assert r.diff_in.estimate > 0.25 and r.diff_in.ci_low > 0  # the crude difference
    assert abs(r.model.rd_in.estimate) < 0.1 and r.model.rd_in.ci_low < 0
    assert r.verdict == "ikke støttet"
    assert "justeret for delprojekt" in " ".join(r.notes())


def test_a_hypothesis_with_too_few_data_stays_in_the_family(aumi_cfg):
    df = from_cells((21, 30), (9, 30), (15, 30), (16, 30))
    alone = evaluate_hypothesis(df, hyp(), aumi_cfg)
    # H2's context has 1..4 without the goal in a cell: 'for få data', counted with p = 1
    df["challenge_x"] = df[CTX]
    cfg = with_hypotheses(aumi_cfg, hyp("H1"), hyp("H2", context="goal_met & challenge_x"))
    table = evaluate_hypotheses(df, cfg)
    assert table["H2"].verdict_code == "too_few_data" and math.isnan(table["H2"].p_adj)
    assert table["H1"].p_adj == pytest.approx(2 * alone.p)


def _calibration():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "bench" / "calibrate_verdicts.py"
    spec = importlib.util.spec_from_file_location("calibrate_verdicts", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow  # a simulation: dozens of synthetic projects
def test_null_calibration_small(aumi_cfg):
    # outcome depends on delprojekt and target group only; 5 hypotheses × 40 replicates. At
    # a true rate of 5 % the 200 verdicts give ≥ 18 supports with probability 0.003; the old
    # rules (10–18 % per hypothesis) would give 20–36
    cal = _calibration()
    cfg = cal.synthetic_config(aumi_cfg, 6)
    rng = np.random.default_rng(11)
    codes = [cal.table_support(cal.synthetic_project(rng, n=1000), cfg) for _ in range(40)]
    supports = sum(v in cal.SUPPORT for c in codes for v in c.values())
    assert supports <= 17
    # and the demo-style permutation keeps the strata's outcome counts
    df = cal.synthetic_project(rng, n=400)
    perm = cal.permute_within(df, rng)
    key = ["delprojekt", "target_group"]
    assert (perm.groupby(key)["goal_met"].sum() == df.groupby(key)["goal_met"].sum()).all()
    assert not perm["goal_met"].equals(df["goal_met"])


@pytest.mark.slow  # a simulation: dozens of synthetic projects
def test_planted_interaction_power_small(aumi_cfg):
    # n = 2000 in only 6 delprojekter, the hard case: the bench finds S2 'støttet' in about
    # 98 % (the old rule, CR2 t(G − 1) inside Holm, in 72 %: it would give ≥ 13 of 15 with
    # probability 0.07)
    cal = _calibration()
    cfg = cal.synthetic_config(aumi_cfg, 6)
    rng = np.random.default_rng(12)
    codes = [cal.table_support(cal.synthetic_project(rng, n_delprojekter=6,
                                                     scenario="interaction"), cfg)
             for _ in range(15)]
    assert sum(c["S2"] == "supported" for c in codes) >= 13
