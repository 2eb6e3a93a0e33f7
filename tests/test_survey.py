"""Surveys: scores, Cronbach's α, paired change and attrition on tiny hand-made frames and the
AUMI demo."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ungeanalyse import clean, demo, plot, report, survey
from ungeanalyse.config import Scale, Survey, load_config
from ungeanalyse.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
LABELS = {"Aldrig": 1, "Sjældent": 2, "Noget af tiden": 3, "Ofte": 4, "Hele tiden": 5}


@pytest.fixture()
def cfg(aumi_cfg):
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


def test_reliability_reverses_items_first_and_uses_complete_cases(cfg):
    rows = {(f"p{k}", "start"): {"i1": ALPHA_ITEMS["i1"][k], "i2": ALPHA_ITEMS["i2"][k],
                                 "i3": 6 - ALPHA_ITEMS["i3"][k]}  # stored as answered
            for k in range(4)}
    rows[("p9", "start")] = {"i1": 5, "i2": 1}  # incomplete: left out of α
    cfg.privacy.min_cell = 1
    rel = survey.reliability(long(rows), cfg)
    assert list(rel.columns) == ["Skala", "Bølge", "Items", "n", "α"]
    first = rel.iloc[0]
    assert (first["Skala"], first["Bølge"], first["n"]) == ("Sum", "Start af forløb", 4)
    assert first["α"] == pytest.approx(ALPHA)
    # at a limit of 3, n = 4 of the 5 who answered would say that 1 left an item out
    cfg.privacy.min_cell = 3
    first = survey.reliability(long(rows), cfg).iloc[0]
    assert pd.isna(first["n"]) and first["α"] == pytest.approx(ALPHA)
    assert rel.set_index(["Skala", "Bølge"]).loc[("Sum", "Opfølgning"), "n"] == 0
    assert list(survey.reliability(long(rows), cfg, lang="en").columns)[:2] == ["Scale", "Wave"]


def test_reliability_hides_alpha_and_n_under_min_cell(cfg):
    rows = {(f"p{k}", "start"): {i: v[k] for i, v in ALPHA_ITEMS.items()} for k in range(4)}
    rel = survey.reliability(long(rows), cfg)  # min_cell 5, n 4
    assert rel["n"].isna().iloc[0] and rel["α"].isna().iloc[0]
    assert "4" not in report.html_table(rel)


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


def test_paired_change_text_and_dict(cfg):
    change = survey.paired_change(paired_scores(), cfg, "sumscale")
    text = change.summary()
    assert "Blandt de 6 unge" in text
    assert "ændring 1,3" in text and "sammenhæng" in text and "ikke en påvist effekt" in text
    assert "start af forløb" in text and "opfølgning" in text
    assert "association" in change.summary("en")
    d = change.to_dict()
    json.dumps(d, allow_nan=False)
    assert "pairs" not in d and "p0" not in json.dumps(d)
    assert d["n"] == 6 and d["n_answered_both"] == 6


def test_paired_change_text_hides_n_when_a_few_answered_without_a_score(cfg):
    scores = pd.concat([paired_scores(), pd.DataFrame(
        {"person_id": ["gap", "gap"], "wave": ["start", "slut"], "sumscale": [12.0, np.nan],
         "meanscale": [4.0, 4.0], "sw": [np.nan, np.nan]})], ignore_index=True)
    change = survey.paired_change(scores, cfg, "sumscale")
    # 7 have a score (on some scale) both times, as the attrition text counts them, and 6 on
    # this one: "6" next to the attrition text's 7 would say that 1 left items out
    assert (change.n, change.n_answered_both) == (6, 7)
    text = change.summary()
    assert "Blandt de unge, der svarede både" in text and "6" not in text.split("(")[0]
    assert "Among the young people who answered" in change.summary("en")
    # nor does the effect size: change / d_z is the SD, and then the interval gives n back
    assert "d_z" not in text and "95 %-CI" in text
    assert "d_z" in survey.paired_change(paired_scores(), cfg, "sumscale").summary()
    from ungeanalyse import plot

    fig = plot.prepost_plot(change)
    assert fig.axes[0].get_title() == "Unge, der svarede begge gange"
    assert len(fig.axes[0].lines) < 7  # no line per young person that could be counted


def test_paired_change_with_too_few_or_no_pairs(cfg):
    scores = paired_scores()
    few = survey.paired_change(scores[scores["person_id"].isin(["p0", "p1", "p2"])], cfg,
                               "sumscale")
    assert few.n == 3
    assert "for få" in few.summary() and "3" not in few.summary()
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
    att = survey.attrition(scores, participants, cfg)
    assert (att.n_followed, att.n_dropped) == (7, 5)
    sum_scale = att.scales[0]
    assert sum_scale.mean_followed == pytest.approx(87 / 7)
    assert sum_scale.mean_dropped == pytest.approx(9.0)
    assert sum_scale.welch_p == pytest.approx(stats.ttest_ind(
        [10, 12, 14, 11, 13, 15, 12], [8, 9, 10, 7, 11], equal_var=False).pvalue)
    # goal met among the closed: 6 of 7 followed, 1 of 4 dropped (one still active)
    assert (att.goal_met_followed, att.goal_met_closed_followed) == (6, 7)
    assert (att.goal_met_dropped, att.goal_met_closed_dropped) == (1, 4)
    assert att.goal_met_p == pytest.approx(stats.fisher_exact([[6, 1], [1, 3]]).pvalue)
    assert att.target_groups == {"followed": {"fastholde": 4, "paabegynde": 3},
                                 "dropped": {"fastholde": 0, "paabegynde": 5}}
    assert att.target_group_p == pytest.approx(
        stats.chi2_contingency([[4, 0], [3, 5]]).pvalue)
    json.dumps(att.to_dict(), allow_nan=False)


def test_attrition_text_never_shows_small_counts(cfg):
    scores, participants = attrition_frames()
    text = survey.attrition(scores, participants, cfg).summary()
    assert "Af de 12 unge" in text and "7 (58 %)" in text
    assert "Welch" in text
    assert "Målet blev indfriet" not in text  # 1 of 4 dropped met the goal: hidden
    # the target groups' table has a 0 and 3s and 4s: its χ² p-value would pin them
    assert "χ²" not in text
    scores, participants = attrition_frames(n_dropped=3)
    att = survey.attrition(scores, participants, cfg)
    assert att.n_dropped == 3
    for lang in ("da", "en"):
        text = att.summary(lang)
        assert re.search(r"(?<![\d,.])[1-4](?![\d,.])", text) is None, text
        assert "10" not in text  # the total would give the hidden count away
    assert "færre end 5" in att.summary() and "for små til at sammenligne" in att.summary()
    assert "fewer than 5" in att.summary("en")


def test_attrition_goal_rates_hide_a_small_remainder(cfg):
    from dataclasses import replace

    scores, participants = attrition_frames()
    att = survey.attrition(scores, participants, cfg)
    assert (att.goal_met_unit, att.closed_unit) == (8, 12)  # one never answered, and met it
    shown = replace(att, goal_met_followed=20, goal_met_closed_followed=30, goal_met_dropped=10,
                    goal_met_closed_dropped=20, goal_met_unit=30, closed_unit=50)
    assert "Målet blev indfriet" in shown.summary()
    # 3 more met the goal among those who never answered: the unit's total would count them
    assert "Målet blev indfriet" not in replace(shown, goal_met_unit=33,
                                                closed_unit=60).summary()


# -- the AUMI demo ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aumi_tables(tmp_path_factory):
    """The AUMI demo, generated in a temp dir and cleaned in memory."""
    tmp = tmp_path_factory.mktemp("aumi_survey")
    shutil.copytree(ROOT / "config", tmp / "config")
    cfg = load_config(tmp / "config" / "aumi.yml")
    demo.make_demo(cfg)
    result = clean.clean_project(cfg, write=False)
    return cfg, result.participants, result.survey_responses


def test_aumi_demo_gives_finite_numbers(aumi_tables):
    cfg, participants, responses = aumi_tables
    scores = survey.score_scales(responses, cfg)
    assert set(scores["wave"]) == set(cfg.survey.waves)
    assert scores["swemwbs"].dropna().between(7, 35).all()
    assert scores["uddannelsestro"].dropna().between(1, 5).all()
    rel = survey.reliability(responses, cfg)
    assert len(rel) == 4 and np.isfinite(rel["α"]).all() and rel["α"].between(0, 1).all()
    for scale in cfg.survey.scales:
        change = survey.paired_change(scores, cfg, scale.id)
        assert change.n >= cfg.privacy.min_cell
        d = change.to_dict()
        assert all(d[k] is not None for k in ("mean_diff", "ci_low", "ci_high", "d_z",
                                              "wilcoxon_p"))
        assert change.ci_low < change.mean_diff < change.ci_high
        assert change.mean_diff > 0  # the demo's follow-up answers are better
    att = survey.attrition(scores, participants, cfg)
    assert att.n_followed > 0 and att.n_dropped > 0
    assert all(np.isfinite([s.mean_followed, s.mean_dropped, s.welch_p]).all()
               for s in att.scales)
    assert math.isfinite(att.goal_met_p) and math.isfinite(att.target_group_p)
    assert "færre end" not in att.summary()


def test_report_survey_section_on_the_demo(aumi_tables):
    cfg, participants, responses = aumi_tables

    class Store:
        def __init__(self) -> None:
            self.saved: dict[str, object] = {}

        def save(self, name: str, obj: object) -> None:
            self.saved[name] = json.loads(json.dumps(obj, allow_nan=False))

        def save_figure(self, name: str, fig: object) -> None:
            self.saved[f"figure:{name}"] = fig

    store = Store()
    out = report.survey_section({"survey_responses": responses, "participants": participants},
                                cfg, store)
    plt.close("all")
    assert set(out["changes"]) == {s.id for s in cfg.survey.scales}
    assert "ændring" in out["text"] and "figure:prepost" in store.saved
