"""Måltal: the AUMI seed table built by hand, active participants, units, targets, breakdowns."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from tests import factories
from ungeanalyse.errors import UserError
from ungeanalyse.outcomes import TARGET_RULE_DA, maaltal, wilson

# The seed's table (AUMI, final conference 16/9 2021): outcome counts per target group.
AUMI_COUNTS = {
    "fastholde": {"completed_or_retained": 68, "left_project_continued_education": 7},
    "paabegynde": {"started_youth_education": 58, "other_education": 29, "employment": 5,
                   "referred_elsewhere": 22, "unknown": 6},
}
DELPROJEKTER = ["kommed", "hoeretab", "fgu_motivation", "autisme", "blended_hf", "ny_virkelighed"]


def aumi_table(extra_active: int = 0) -> pd.DataFrame:
    """195 young people with exactly the seed's outcome counts (plus optional active ones)."""
    rows = []
    for group, counts in AUMI_COUNTS.items():
        for code, n in counts.items():
            rows += [(group, code)] * n
    rows += [("paabegynde", "active")] * extra_active
    df = pd.DataFrame(rows, columns=["target_group", "outcome"])
    i = pd.RangeIndex(len(df))
    df["delprojekt"] = [DELPROJEKTER[k % 6] for k in i]
    df["gender"] = ["kvinde" if k % 2 == 0 else "mand" for k in i]
    df["age_band"] = ["15–17" if k % 3 == 0 else "18–20" if k % 3 == 1 else "21–24" for k in i]
    return df


def ci(k: int, n: int) -> tuple[float, float]:
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return float(low), float(high)


def test_aumi_seed_table_every_figure(aumi_cfg):
    m = maaltal(aumi_table(), aumi_cfg)
    assert m.n_participants == 195 and m.n_active == 0 and m.n_closed == 195
    assert m.goal_met == 126 and round(100 * m.goal_met / m.n_participants) == 65
    expected = {"started_youth_education": 58, "completed_or_retained": 68,
                "other_education": 29, "employment": 5, "left_project_continued_education": 7,
                "referred_elsewhere": 22, "unknown": 6, "active": 0}
    assert m.outcomes["code"].tolist() == list(aumi_cfg.outcomes)  # config order
    for code, n in expected.items():
        assert m.outcome_count(code) == n
        row = m.outcomes.set_index("code").loc[code]
        assert row["share_of_participants"] == pytest.approx(n / 195)
    assert m.group_count("goal_met") == 126
    assert m.group_count("derived_effect") == 34
    assert m.group_count("not_met") == 29
    assert m.group_count("unknown") == 6
    assert m.group_count("active") == 0
    # success rate with its Wilson interval
    assert m.success.k == 126 and m.success.n == 195
    assert m.success_rate == pytest.approx(126 / 195)
    assert (m.success.ci_low, m.success.ci_high) == pytest.approx(ci(126, 195))
    tg = m.success_by_target_group.set_index("category")
    assert tg.loc["fastholde", ["goal_met", "n_closed"]].tolist() == [68, 75]
    assert tg.loc["paabegynde", ["goal_met", "n_closed"]].tolist() == [58, 120]
    assert round(100 * tg.loc["fastholde", "rate"]) == 91
    assert round(100 * tg.loc["paabegynde", "rate"]) == 48
    assert tuple(tg.loc["fastholde", ["ci_low", "ci_high"]]) == pytest.approx(ci(68, 75))
    assert tuple(tg.loc["paabegynde", ["ci_low", "ci_high"]]) == pytest.approx(ci(58, 120))
    # target (200 participants), cost from the budget
    (target,) = m.targets
    assert (target.target, target.target_value, target.actual) == ("participants", 200, 195)
    assert target.attainment == pytest.approx(0.975)
    assert m.cost_per_participant == pytest.approx(25345510 / 195)
    assert m.cost_per_goal_met == pytest.approx(25345510 / 126)


def test_tables_have_danish_and_english_labels(aumi_cfg):
    m = maaltal(aumi_table(), aumi_cfg)
    da = m.table("outcomes")
    assert list(da.columns) == ["Status", "Gruppe", "Antal", "% af alle deltagere",
                                "% af afsluttede"]
    row = da[da["Status"] == "Påbegyndt anden uddannelse (fx FGU, STU)"].iloc[0]
    assert row["Antal"] == 29 and row["% af alle deltagere"] == pytest.approx(14.9)
    en = m.table("outcomes", lang="en")
    assert "Started other education (e.g. FGU, STU)" in en["Status"].tolist()
    assert m.table("target_group")["Målgruppe"].tolist() == ["Påbegynde", "Fastholde"]
    assert m.table("target_group", lang="en")["Target group"].tolist() == [
        "Start an education", "Stay in education"]
    assert "Mål indfriet (%)" in m.table("gender").columns
    with pytest.raises(UserError, match="Unknown måltal table"):
        m.table("nonsense")
    text = m.summary()
    assert "195" in text and "65 %" in text and "129.977 kr." in text


def test_to_dict_is_json(aumi_cfg):
    d = maaltal(aumi_table(), aumi_cfg).to_dict()
    again = json.loads(json.dumps(d))
    assert again["n_participants"] == 195 and again["goal_met"] == 126
    assert again["success"]["k"] == 126
    assert {r["category"]: r["goal_met"] for r in again["breakdowns"]["target_group"]} == {
        "paabegynde": 58, "fastholde": 68}


def test_active_participants_are_excluded_from_rates_and_said_so(aumi_cfg):
    m = maaltal(aumi_table(extra_active=5), aumi_cfg)
    assert m.n_participants == 200 and m.n_active == 5 and m.n_closed == 195
    assert m.success.n == 195 and m.success_rate == pytest.approx(126 / 195)
    tg = m.success_by_target_group.set_index("category")
    assert tg.loc["paabegynde", ["n_participants", "n_active", "n_closed"]].tolist() == [
        125, 5, 120]
    active = m.outcomes.set_index("code").loc["active"]
    assert active["n"] == 5 and pd.isna(active["share_of_closed"])
    other = m.outcomes.set_index("code").loc["other_education"]
    assert other["share_of_participants"] == pytest.approx(29 / 200)
    assert other["share_of_closed"] == pytest.approx(29 / 195)
    assert any("stadig er i forløb" in n and "blandt de afsluttede" in n for n in m.notes)


def test_delprojekt_unit(aumi_cfg):
    df = aumi_table()
    m = maaltal(df, aumi_cfg, unit="kommed")
    mine = df[df["delprojekt"] == "kommed"]
    assert m.n_participants == len(mine)
    expected_goal = mine["outcome"].isin(["started_youth_education", "completed_or_retained"])
    assert m.goal_met == int(expected_goal.sum())
    assert m.unit_label.startswith("#KomMed")
    assert m.cost_per_participant is None and m.cost_per_goal_met is None
    assert m.budget_kr is None
    assert any("Budgettet er ikke fordelt på delprojekter" in n for n in m.notes)
    assert m.targets == []  # count targets are for the whole project
    assert m.breakdowns["delprojekt"]["category"].tolist() == ["kommed"]
    with pytest.raises(UserError, match="Unknown delprojekt 'nowhere'"):
        maaltal(df, aumi_cfg, unit="nowhere")


@pytest.mark.parametrize(("target", "position"), [(0.55, "above"), (0.65, "around"),
                                                  (0.75, "below")])
def test_goal_met_share_target_is_compared_with_the_interval(aumi_cfg, target, position):
    cfg = aumi_cfg.model_copy(deep=True)
    cfg.targets.goal_met_share = target
    m = maaltal(aumi_table(), cfg)
    check = {t.target: t for t in m.targets}["goal_met_share"]
    low, high = ci(126, 195)  # 0.577 to 0.710
    assert (check.ci_low, check.ci_high) == pytest.approx((low, high))
    assert check.actual == pytest.approx(126 / 195)
    assert check.position == position
    assert check.rule == TARGET_RULE_DA
    assert "hele 95 %-konfidensintervallet" in check.rule
    table = m.table("targets")
    assert table["Målværdi"].iloc[-1] == pytest.approx(100 * target)


def test_breakdowns_by_gender_and_age_band(aumi_cfg):
    df = aumi_table()
    m = maaltal(df, aumi_cfg)
    goal = df["outcome"].isin(["started_youth_education", "completed_or_retained"])
    for dim in ("gender", "age_band", "delprojekt"):
        b = m.breakdowns[dim].set_index("category")
        for cat, sub in goal.groupby(df[dim]):
            assert b.loc[cat, "n_closed"] == len(sub)
            assert b.loc[cat, "goal_met"] == int(sub.sum())
            assert tuple(b.loc[cat, ["ci_low", "ci_high"]]) == pytest.approx(
                ci(int(sub.sum()), len(sub)))
    assert m.breakdowns["gender"]["category_label"].tolist() == ["Kvinde", "Mand"]
    assert m.breakdowns["age_band"]["category"].tolist() == ["15–17", "18–20", "21–24"]


def test_factory_table_and_bad_input(aumi_cfg):
    df = factories.make_participants(aumi_cfg, n=120, seed=3)
    m = maaltal(df, aumi_cfg, lang="en")
    assert m.n_participants == 120
    assert m.n_active == int(df["outcome_group"].eq("active").sum())
    assert m.goal_met == int(df["outcome_group"].eq("goal_met").sum())
    assert "Participants: 120" in m.summary()
    bad = df.copy()
    bad.loc[0, "outcome"] = "moved_abroad"
    with pytest.raises(UserError, match="moved_abroad"):
        maaltal(bad, aumi_cfg)
    with pytest.raises(UserError, match="lacks the column"):
        maaltal(df.drop(columns=["outcome"]), aumi_cfg)
    with pytest.raises(UserError, match="lang"):
        maaltal(df, aumi_cfg, lang="de")


def test_wilson_helper_matches_statsmodels_and_handles_zero():
    assert wilson(3, 10) == pytest.approx(ci(3, 10))
    assert all(pd.isna(x) for x in wilson(0, 0))
