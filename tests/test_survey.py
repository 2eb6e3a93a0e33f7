"""Surveys: scores, Cronbach's α, paired change and attrition on tiny hand-made frames and the
AUMI demo."""

from __future__ import annotations

import json
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ungeanalyse import plot, survey
from ungeanalyse.config import MissingItems, Scale, Survey, load_config
from ungeanalyse.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"Aldrig": 1, "Sjældent": 2, "Noget af tiden": 3, "Ofte": 4, "Hele tiden": 5}


@pytest.fixture()
def cfg(aumi_cfg):
    """The AUMI config with a small survey (:func:`survey_cfg`)."""
    return survey_cfg(aumi_cfg)


def survey_cfg(aumi_cfg):
    """The AUMI config with a small survey: a sum and a mean scale on i1–i3 (i3 reversed) and
    the seven SWEMWBS items with the metric conversion."""
    c = aumi_cfg.model_copy(deep=True)
    items = {f"i{k}": {"text": f"i{k}"} for k in (1, 2, 3)}
    items |= {f"s{k}": {"text": f"s{k}"} for k in range(1, 8)}
    c.survey = Survey(
        waves=["start", "slut"], wave_labels={"start": "Start af forløb", "slut": "Opfølgning"},
        response_sets={"r5": LABELS}, items=items,
        scales=[
            Scale(id="sumscale", label="Sum", items=["i1", "i2", "i3"], reverse=["i3"],
                  response_set="r5", min_items=2, score="sum"),
            Scale(id="meanscale", label="Gennemsnit", label_en="Mean",
                  items=["i1", "i2", "i3"], reverse=["i3"], response_set="r5", score="mean"),
            Scale(id="sw", label="SWEMWBS", items=[f"s{k}" for k in range(1, 8)],
                  response_set="r5", min_items=7, score="sum", conversion="swemwbs_metric"),
        ])
    c.privacy.min_cell = 5
    return c


def long(rows: dict[tuple[str, str], dict[str, float]]) -> pd.DataFrame:
    """{(person, wave): {item: value}} → the clean long survey table."""
    out = [(p, w, i, float(v)) for (p, w), answers in rows.items() for i, v in answers.items()]
    df = pd.DataFrame(out, columns=["person_id", "wave", "item", "value"])
    df["source_file"] = "s.csv"
    df["source_row"] = np.arange(2, len(df) + 2)
    return df


# -- scores -----------------------------------------------------------------------------------


def test_reverse_items_min_items_sum_and_mean(cfg):
    responses = long({
        ("a", "start"): {"i1": 4, "i2": 2, "i3": 1},  # i3 reversed: 6 - 1 = 5
        ("b", "start"): {"i1": 3, "i3": 5},           # two of three: sum prorated, mean missing
        ("c", "start"): {"i1": 5},                    # one item: under min_items for both
    })
    s = survey.score_scales(responses, cfg).set_index("person_id")
    assert list(s.columns) == ["wave", "sumscale", "meanscale", "sw"]
    assert s.loc["a", "sumscale"] == 11
    assert s.loc["a", "meanscale"] == pytest.approx(11 / 3)
    assert s.loc["b", "sumscale"] == pytest.approx((3 + 1) / 2 * 3)  # mean of answered × 3
    assert math.isnan(s.loc["b", "meanscale"])  # min_items unset: all three needed
    assert math.isnan(s.loc["c", "sumscale"]) and math.isnan(s.loc["c", "meanscale"])
    assert s["sw"].isna().all()


def test_missing_items_rule_prorates_as_declared(cfg):
    sw = [f"s{k}" for k in range(1, 8)]
    responses = long({
        ("a", "start"): {"s1": 4, "s2": 4, "s3": 3, "s4": 5, "s5": 4},   # two of seven missing
        ("b", "start"): {"s1": 2, "s2": 2, "s3": 2},                     # four missing
        ("c", "start"): dict.fromkeys(sw, 3),                            # complete: raw 21
    })
    # SWEMWBS with its conversion table: no pro-rating unless declared
    assert cfg.survey.scales[2].missing_rule.rule == "complete"
    s = survey.score_scales(responses, cfg).set_index("person_id")["sw"]
    assert math.isnan(s["a"]) and math.isnan(s["b"]) and s["c"] == survey.SWEMWBS_METRIC[21]
    cfg.survey.scales[2] = cfg.survey.scales[2].model_copy(
        update={"min_items": None, "missing_items": MissingItems(rule="prorate", max_missing=2)})
    s = survey.score_scales(responses, cfg).set_index("person_id")["sw"]
    # a: mean of the five answered items 4.0 × 7 = raw 28 → metric 25.03; b: four missing
    assert s["a"] == pytest.approx(survey.SWEMWBS_METRIC[28]) and math.isnan(s["b"])


def test_missing_items_config_keys_and_the_min_items_alias():
    base = {"id": "x", "label": "X", "items": ["a", "b", "c", "d"], "response_set": "r"}
    assert Scale(**base).missing_rule.rule == "complete" and Scale(**base).min_answered == 4
    alias = Scale(**base, min_items=3)
    assert (alias.missing_rule.rule, alias.missing_rule.max_missing) == ("prorate", 1)
    assert Scale(**base, min_items=4).missing_rule.rule == "complete"
    both = Scale(**base, min_items=2, missing_items={"rule": "prorate", "max_missing": 2})
    assert both.min_answered == 2
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="disagree"):
        Scale(**base, min_items=3, missing_items={"rule": "prorate", "max_missing": 2})
    with pytest.raises(ValidationError, match="max_missing must be under the number of items"):
        Scale(**base, missing_items={"rule": "prorate", "max_missing": 4})
    with pytest.raises(ValidationError, match="max_missing needs rule: prorate"):
        Scale(**base, missing_items={"rule": "complete", "max_missing": 1})
    with pytest.raises(ValidationError, match="min_items must be 1 to the number of items"):
        Scale(**base, min_items=5)


def test_the_shipped_configs_load_with_either_key():
    aumi = load_config(ROOT / "config" / "aumi.yml")
    rules = {s.id: (s.missing_rule.rule, s.missing_rule.max_missing) for s in aumi.survey.scales}
    assert rules == {"swemwbs": ("complete", 0), "uddannelsestro": ("prorate", 1)}
    sbst = load_config(ROOT / "config" / "sbst_helhedsorienteret.yml")  # min_items: 7
    assert sbst.survey.scales[0].missing_rule.rule == "complete"


def test_swemwbs_metric_conversion(cfg):
    sw = [f"s{k}" for k in range(1, 8)]
    responses = long({
        ("lowest", "start"): dict.fromkeys(sw, 1),                        # raw 7
        ("highest", "start"): dict.fromkeys(sw, 5),                       # raw 35
        ("twenty", "start"): dict(zip(sw, [2, 3, 3, 3, 3, 3, 3], strict=True)),  # raw 20
        ("six", "start"): dict.fromkeys(sw[:6], 3),                       # one missing: NaN
    })
    s = survey.score_scales(responses, cfg).set_index("person_id")["sw"]
    assert s["lowest"] == 7.00
    assert s["highest"] == 35.00
    assert s["twenty"] == 18.59
    assert math.isnan(s["six"])
    assert survey.SWEMWBS_METRIC[7] == 7.00 and survey.SWEMWBS_METRIC[35] == 35.00
    assert sorted(survey.SWEMWBS_METRIC) == list(range(7, 36))
    values = [survey.SWEMWBS_METRIC[k] for k in range(7, 36)]
    assert values == sorted(values)


def test_conversion_rounds_a_prorated_raw_score_and_refuses_unknown_tables():
    raw = pd.Series([19.5, 19.4, 6.0, np.nan])
    out = survey.convert(raw, "swemwbs_metric")
    assert out[0] == 18.59 and out[1] == 17.98
    assert out[2:].isna().all()
    with pytest.raises(UserError, match="unknown conversion 'wemwbs'"):
        survey.convert(raw, "wemwbs")


def test_duplicate_answers_are_refused(cfg):
    responses = long({("a", "start"): {"i1": 4}})
    with pytest.raises(UserError, match="survey_responses: 2 rows answer the same item twice"):
        survey.score_scales(pd.concat([responses, responses]), cfg)


def test_scores_one_row_per_person_and_wave_in_wave_order(cfg):
    responses = long({("b", "slut"): {"i1": 1}, ("b", "start"): {"i1": 2}, ("a", "slut"): {}})
    s = survey.score_scales(responses, cfg)
    assert s[["person_id", "wave"]].values.tolist() == [["b", "start"], ["b", "slut"]]


# -- reliability ------------------------------------------------------------------------------


ALPHA_ITEMS = {"i1": [1, 2, 3, 4], "i2": [2, 2, 3, 5], "i3": [1, 3, 3, 5]}
# By hand: item variances 5/3, 2, 8/3 (sum 19/3); totals 4, 7, 9, 14 have variance 53/3;
# α = 3/2 · (1 − 19/53) = 51/53.
ALPHA = 51 / 53


def test_cronbach_alpha_by_hand():
    alpha, n = survey.cronbach_alpha(pd.DataFrame(ALPHA_ITEMS))
    assert n == 4
    assert alpha == pytest.approx(ALPHA)


def test_reliability_is_computed_among_the_pairs_with_their_n(cfg):
    rows = {}
    for k in range(4):
        answers = {"i1": ALPHA_ITEMS["i1"][k], "i2": ALPHA_ITEMS["i2"][k],
                   "i3": 6 - ALPHA_ITEMS["i3"][k]}  # stored as answered; i3 is reversed
        rows[(f"p{k}", "start")] = rows[(f"p{k}", "slut")] = answers
    rows[("p9", "start")] = {"i1": 5, "i2": 1, "i3": 5}  # no follow-up: not a pair, not in α
    cfg.privacy.min_cell = 1
    rel = survey.reliability(long(rows), cfg)
    assert list(rel.columns) == ["scale_id", "wave", "items", "n", "alpha"]
    by = rel.set_index(["scale_id", "wave"])
    # the sum scale pro-rates (min_items 2 of 3): its pairs are p0–p3 at both waves
    assert by.loc[("sumscale", "start"), "n"] == 4
    assert by.loc[("sumscale", "start"), "alpha"] == pytest.approx(ALPHA)
    assert by.loc[("sumscale", "slut"), "n"] == 4
    assert by.loc[("sw", "start"), "n"] == 0
    scores = survey.score_scales(long(rows), cfg)
    assert len(survey.analysed_pairs(scores, cfg, "sumscale")) == 4


def test_pairwise_alpha_equals_complete_case_alpha_without_gaps_and_uses_all_rows():
    items = pd.DataFrame(ALPHA_ITEMS, dtype="float64")
    assert survey.cronbach_alpha_pairwise(items) == pytest.approx((ALPHA, 4))
    gap = pd.concat([items, pd.DataFrame({"i1": [5.0], "i2": [np.nan], "i3": [4.0]})],
                    ignore_index=True)
    alpha, n = survey.cronbach_alpha_pairwise(gap)
    cov = gap.cov()  # pairwise complete
    assert n == 5 and alpha == pytest.approx(1.5 * (1 - np.trace(cov) / cov.to_numpy().sum()))
    assert alpha != pytest.approx(ALPHA)


# -- paired change ----------------------------------------------------------------------------


BASE = [10, 12, 9, 15, 11, 13]
FOLLOW = [12, 13, 9, 18, 10, 16]


def paired_scores() -> pd.DataFrame:
    rows = [(f"p{k}", "start", b) for k, b in enumerate(BASE)]
    rows += [(f"p{k}", "slut", f) for k, f in enumerate(FOLLOW)]
    rows += [("only_start", "start", 20.0), ("only_end", "slut", 1.0), ("empty", "slut", np.nan)]
    df = pd.DataFrame(rows, columns=["person_id", "wave", "sumscale"])
    df["meanscale"] = df["sumscale"] / 3
    df["sw"] = np.nan
    return df


def test_paired_change_against_scipy(cfg):
    change = survey.paired_change(paired_scores(), cfg, "sumscale")
    diff = np.array(FOLLOW) - np.array(BASE)  # 2, 1, 0, 3, -1, 3
    assert change.n == 6
    assert change.mean_baseline == pytest.approx(np.mean(BASE))
    assert change.mean_followup == pytest.approx(np.mean(FOLLOW))
    assert change.mean_diff == pytest.approx(8 / 6)
    assert change.sd_diff == pytest.approx(math.sqrt(40 / 3 / 5))
    assert change.d_z == pytest.approx((8 / 6) / math.sqrt(8 / 3))
    ci = stats.ttest_rel(FOLLOW, BASE).confidence_interval(0.95)
    assert (change.ci_low, change.ci_high) == pytest.approx((ci.low, ci.high))
    assert change.wilcoxon_p == pytest.approx(stats.wilcoxon(diff).pvalue)
    assert change.pairs.loc["p3"].tolist() == [15, 18]
    assert change.higher_is_better


@pytest.mark.parametrize("diff", [
    [2, 1, 0, 3, -1, 3],  # a zero and a tie: the exact sign-flip distribution
    [1, 1, 2, -1, 0, 3, 2, 2, -2, 1, 1, 0.5, 1.0],  # n = 13, scipy's slowest case
    [0.5, -1.5, 2.5, 3.5, -4.5, 5.5, 6.5],  # no ties: scipy's exact distribution
    [1, 2, 2, -3, 1, 4, 0, 2, -1, 3, 2, 1, 5, 2, 1],  # ties and n > 13: the normal approximation
    [0, 0, 1],
])
def test_signed_rank_p_is_scipys_wilcoxon_p(diff):
    assert survey.signed_rank_p(np.array(diff)) == pytest.approx(stats.wilcoxon(diff).pvalue,
                                                                 rel=1e-12)


def test_signed_rank_p_matches_scipy_on_random_small_samples_with_ties():
    rng = np.random.default_rng(7)
    for _ in range(40):  # up to n = 10: scipy's own answer takes a second at n = 13
        diff = rng.integers(-3, 4, size=int(rng.integers(2, 11))) / 2
        if np.any(diff != 0):
            assert survey.signed_rank_p(diff) == pytest.approx(stats.wilcoxon(diff).pvalue,
                                                               rel=1e-12), diff


def test_paired_change_dict_round_trips_without_the_pairs(cfg):
    change = survey.paired_change(paired_scores(), cfg, "sumscale")
    d = change.to_dict()
    json.dumps(d, allow_nan=False)
    assert "pairs" not in d and "p0" not in json.dumps(d) and "plan_hidden" not in d
    assert d["n"] == 6 and d["d_av"] == pytest.approx(D_AV)
    again = survey.PairedChange.from_dict(json.loads(json.dumps(d)))
    assert again.to_dict() == d and again.pairs.empty


# By hand: baseline SD √(14/3) = 2.1602, follow-up SD √12 = 3.4641, their mean 2.8122; the mean
# change 4/3 over it is d_av = 0.4741. The change's SD is √(8/3), so t = (4/3)/(√(8/3)/√6) = 2
# on 5 df and d_z = 2/√6 = 0.8165. The noncentral t with 5 df puts t = 2 at its 97.5th
# percentile for λ = −0.3692 and at its 2.5th for λ = 4.2325: d_z's interval is λ/√6, d_av's
# λ·√(8/3)/(√6·2.8122) = λ·0.23706 (Algina & Keselman).
D_AV = (4 / 3) / ((math.sqrt(14 / 3) + math.sqrt(12)) / 2)
LAMBDA = (-0.369216, 4.232451)


def test_d_av_and_d_z_with_their_intervals_by_hand():
    es = survey.paired_effect_sizes(BASE, FOLLOW)
    assert es.d_av == pytest.approx(0.47413, abs=1e-5) and es.d_av == pytest.approx(D_AV)
    assert es.d_z == pytest.approx(2 / math.sqrt(6))
    lam = survey.noncentral_t_interval(2.0, 5)
    assert lam == pytest.approx(LAMBDA, abs=1e-5)
    assert stats.nct.cdf(2.0, 5, lam[0]) == pytest.approx(0.975)
    assert stats.nct.cdf(2.0, 5, lam[1]) == pytest.approx(0.025)
    assert (es.d_z_low, es.d_z_high) == pytest.approx((-0.150732, 1.727891), abs=1e-5)
    ratio = math.sqrt(8 / 3) / (math.sqrt(6) * (math.sqrt(14 / 3) + math.sqrt(12)) / 2)
    assert ratio == pytest.approx(0.237064, abs=1e-6)
    assert (es.d_av_low, es.d_av_high) == pytest.approx((LAMBDA[0] * ratio, LAMBDA[1] * ratio),
                                                        abs=1e-5)
    # d_z is inflated by the pre-post correlation (r = 0.94 here): d_z > d_av
    assert es.r == pytest.approx(np.corrcoef(BASE, FOLLOW)[0, 1]) and es.d_z > es.d_av
    # large n: the noncentral-t limits approach t ± 1.96·√(1 + t²/2df)
    low, high = survey.noncentral_t_interval(10.0, 400)
    half = 1.96 * math.sqrt(1 + 100 / 800)
    assert (low, high) == pytest.approx((10 - half, 10 + half), abs=0.1)


def test_d_av_interval_covers_in_simulation():
    rng = np.random.default_rng(3)
    hits = 0
    for _ in range(300):
        b = rng.normal(0, 1, 40)
        f = 0.6 * b + rng.normal(0, 0.8, 40) + 0.5  # SD 1 at both waves, true d_av 0.5
        es = survey.paired_effect_sizes(b, f)
        hits += es.d_av_low <= 0.5 <= es.d_av_high
    assert 0.90 <= hits / 300 <= 0.99


def test_paired_change_with_too_few_or_no_pairs(cfg):
    scores = paired_scores()
    few = survey.paired_change(scores[scores["person_id"].isin(["p0", "p1", "p2"])], cfg,
                               "sumscale")
    assert few.n == 3
    none = survey.paired_change(scores, cfg, "sw")
    assert none.n == 0 and none.to_dict()["mean_diff"] is None
    with pytest.raises(UserError, match="survey scale 'nope'"):
        survey.paired_change(scores, cfg, "nope")


def test_prepost_plot_draws_pairs_and_means(cfg):
    fig = plot.prepost_plot(survey.paired_change(paired_scores(), cfg, "sumscale"))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Start af forløb", "Opfølgning"]
    assert len(ax.lines) >= 6  # one grey line per person, and the means
    assert "6 unge" in ax.get_title()
    plt.close(fig)


def _dropout_frames(n: int = 2000, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Drop-out depends on the baseline score, and so does the change: the pairs' change is
    biased upwards. Returns scores, participants and the true mean change of all (1.0)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(10, 2, n)
    change = 1.0 + 0.5 * (base - 10) + rng.normal(0, 1, n)
    answered = rng.random(n) < 1 / (1 + np.exp(-0.8 * (base - 10)))
    ids = [f"p{k}" for k in range(n)]
    rows = [(i, "start", b) for i, b in zip(ids, base, strict=True)]
    rows += [(i, "slut", b + c) for i, b, c, a in zip(ids, base, change, answered, strict=True)
             if a]
    scores = pd.DataFrame(rows, columns=["person_id", "wave", "sumscale"])
    scores["meanscale"], scores["sw"] = np.nan, np.nan
    participants = pd.DataFrame({"person_id": ids,
                                 "target_group": rng.choice(["paabegynde", "fastholde"], n),
                                 "delprojekt": rng.choice(["a", "b", "c"], n)})
    return scores, participants, 1.0


def test_weighted_change_corrects_dropout_that_depends_on_the_baseline(cfg):
    scores, participants, truth = _dropout_frames()
    change = survey.paired_change(scores, cfg, "sumscale", participants=participants)
    w = change.weighted
    assert w is not None and w.covariates == ["baseline", "target_group", "delprojekt"]
    assert change.mean_diff - truth > 0.3  # the pairs started higher, and changed more
    assert abs(w.mean_diff - truth) < 0.1 and w.ci_low < truth < w.ci_high
    # the same figure by hand: a logistic model of answering on the same terms, 1/p weights
    import statsmodels.api as sm

    base = scores[scores["wave"].eq("start")].set_index("person_id")["sumscale"]
    pairs = survey.analysed_pairs(scores, cfg, "sumscale")
    people = participants.set_index("person_id").reindex(base.index)
    x = pd.get_dummies(people[["target_group", "delprojekt"]], drop_first=True, dtype=float)
    x.insert(0, "baseline", base)
    x.insert(0, "const", 1.0)
    p = sm.Logit(base.index.isin(pairs.index).astype(float), x).fit(disp=0).predict(x)
    weights = 1 / p.reindex(pairs.index)
    d = pairs["followup"] - pairs["baseline"]
    assert w.mean_diff == pytest.approx(float((weights * d).sum() / weights.sum()), rel=1e-6)
    assert w.weight_min == pytest.approx(float(weights.min()), rel=1e-6)
    # without non-response there is nothing to weight
    full = scores[scores["person_id"].isin(pairs.index)]
    assert survey.weighted_change(full, participants, cfg, "sumscale") is None


# -- attrition --------------------------------------------------------------------------------


def attrition_frames(n_dropped: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seven people answer both times, n_dropped only at the start."""
    ids = [f"f{k}" for k in range(7)] + [f"d{k}" for k in range(n_dropped)]
    start = [10, 12, 14, 11, 13, 15, 12] + [8, 9, 10, 7, 11][:n_dropped]
    rows = [(p, "start", float(v)) for p, v in zip(ids, start, strict=True)]
    rows += [(p, "slut", 14.0) for p in ids[:7]]
    scores = pd.DataFrame(rows, columns=["person_id", "wave", "sumscale"])
    scores["meanscale"], scores["sw"] = scores["sumscale"] / 3, np.nan
    goal = [True] * 6 + [False] + [True, False, False, None, False][:n_dropped]
    tg = ["fastholde"] * 4 + ["paabegynde"] * 3 + ["paabegynde"] * n_dropped
    participants = pd.DataFrame({"person_id": ids + ["never"], "goal_met": goal + [True],
                                 "target_group": tg + ["fastholde"]})
    participants["goal_met"] = participants["goal_met"].astype("boolean")
    return scores, participants


def test_attrition_by_hand(cfg):
    scores, participants = attrition_frames()
    att = survey.attrition(scores, participants, cfg)  # the first scale: sumscale
    assert att.scale_id == "sumscale"
    assert (att.n_followed, att.n_dropped) == (7, 5)
    followed, dropped = [10, 12, 14, 11, 13, 15, 12], [8, 9, 10, 7, 11]
    assert att.mean_followed == pytest.approx(87 / 7)
    assert att.mean_dropped == pytest.approx(9.0)
    welch = stats.ttest_ind(followed, dropped, equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert (att.diff, att.diff_low, att.diff_high, att.welch_p) == pytest.approx(
        (87 / 7 - 9, ci.low, ci.high, welch.pvalue))
    # goal met among the closed: 6 of 7 followed, 1 of 4 dropped (one still active)
    assert (att.goal_met_followed, att.goal_met_closed_followed) == (6, 7)
    assert (att.goal_met_dropped, att.goal_met_closed_dropped) == (1, 4)
    assert att.goal_met_p == pytest.approx(stats.fisher_exact([[6, 1], [1, 3]]).pvalue)
    assert att.target_groups == {"followed": {"fastholde": 4, "paabegynde": 3},
                                 "dropped": {"fastholde": 0, "paabegynde": 5}}
    assert att.target_group_p == pytest.approx(
        stats.chi2_contingency([[4, 0], [3, 5]]).pvalue)
    # two target groups: the config's first one's share, pairs minus the others (Newcombe)
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(3, 7, 5, 5, method="newcomb", compare="diff")
    assert att.tg_code == "paabegynde"
    assert (att.tg_diff, att.tg_low, att.tg_high) == pytest.approx((3 / 7 - 1, low, high))
    json.dumps(att.to_dict(), allow_nan=False)
    assert survey.Attrition.from_dict(json.loads(json.dumps(att.to_dict()))).to_dict() == \
        att.to_dict()
    # the other scale has no pairs (meanscale needs all three items, sw none were given)
    assert survey.attrition(scores, participants, cfg, scale_id="sw").n_followed == 0


# -- the AUMI demo ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aumi_tables(demo_project):
    """The AUMI demo, generated in a temp dir and cleaned (once per session, conftest)."""
    aumi = demo_project("aumi")
    return aumi.cfg(), aumi.result.participants.copy(), aumi.result.survey_responses.copy()


def test_aumi_demo_gives_finite_numbers(aumi_tables):
    cfg, participants, responses = aumi_tables
    scores = survey.score_scales(responses, cfg)
    assert set(scores["wave"]) == set(cfg.survey.waves)
    assert scores["swemwbs"].dropna().between(7, 35).all()
    assert scores["uddannelsestro"].dropna().between(1, 5).all()
    rel = survey.reliability(responses, cfg)
    assert len(rel) == 4 and np.isfinite(rel["alpha"]).all()
    assert rel["alpha"].between(0, 1).all()
    for scale in cfg.survey.scales:
        change = survey.paired_change(scores, cfg, scale.id, participants=participants)
        assert change.n >= cfg.privacy.min_cell
        d = change.to_dict()
        assert all(d[k] is not None for k in ("mean_diff", "ci_low", "ci_high", "d_z", "d_z_low",
                                              "d_z_high", "d_av", "d_av_low", "d_av_high",
                                              "wilcoxon_p"))
        assert change.ci_low < change.mean_diff < change.ci_high
        assert change.d_av_low < change.d_av < change.d_av_high
        assert change.mean_diff > 0  # the demo's follow-up answers are better
        w = change.weighted
        assert w is not None and w.covariates == ["baseline", "target_group", "delprojekt"]
        assert w.ci_low < w.mean_diff < w.ci_high and w.weight_min >= 1
        att = survey.attrition(scores, participants, cfg, scale_id=scale.id)
        assert att.n_followed == change.n and att.n_dropped > 0
        assert np.isfinite([att.mean_followed, att.mean_dropped, att.diff_low, att.diff_high,
                            att.welch_p, att.tg_low, att.tg_high]).all()
        assert math.isfinite(att.goal_met_p) and math.isfinite(att.target_group_p)


def test_the_survey_result_round_trips(aumi_tables):
    cfg, participants, responses = aumi_tables
    tables = {"survey_responses": responses, "participants": participants}
    result = survey.analyse(tables, cfg)
    assert result.status == "ok" and [c.n for c in result.changes] == [64, 98]
    assert [a.n_followed for a in result.attrition] == [64, 98]
    d = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    again = survey.SurveyResult.from_dict(d)
    assert again.to_dict() == result.to_dict()
    pd.testing.assert_frame_equal(again.reliability, result.reliability, check_dtype=False)
    none = survey.analyse({**tables, "survey_responses": responses.iloc[0:0]}, cfg, tables)
    assert none.status == "none_here"
    assert survey.SurveyResult.from_dict(none.to_dict()).to_dict() == none.to_dict()
    cfg = cfg.model_copy(deep=True)
    cfg.survey.scales = []
    assert survey.analyse(tables, cfg).status == "not_delivered"
