"""Måltal: the AUMI seed table built by hand, active participants, units, targets, breakdowns."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from tests import factories
from ungeanalyse import i18n
from ungeanalyse.errors import UserError
from ungeanalyse.outcomes import Maaltal, Rate, maaltal, unknown_changes_reading, wilson

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
    # the seed's target: 200 young people start or stay in education (goal met), not 200
    # participants: 126 of 200 = 63 %; the 6 with unknown status would give 132 (66 %)
    (target,) = m.targets
    assert (target.target, target.target_value, target.actual) == ("goal_met_count", 200, 126)
    assert target.attainment == pytest.approx(0.63)
    assert target.actual_upper == 132 and not target.unknown_matters
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
    assert "masks" not in again  # the reader takes the masks; the result carries none


@pytest.mark.parametrize("unit", ["all", "kommed"])
def test_from_dict_round_trips(aumi_cfg, unit):
    m = maaltal(aumi_table(extra_active=5), aumi_cfg, unit=unit, lang="en")
    d = json.loads(json.dumps(m.to_dict()))
    again = Maaltal.from_dict(d)
    assert again.to_dict() == m.to_dict()
    assert (again.goal_met, again.success.k, again.success.n) == (m.goal_met, m.success.k,
                                                                  m.success.n)
    pd.testing.assert_frame_equal(again.breakdowns["target_group"],
                                  m.breakdowns["target_group"], check_dtype=False)
    assert [g.supported for g in again.target_group_gaps] == [
        g.supported for g in m.target_group_gaps]
    assert again.summary() == m.summary()


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
    assert {"code": "active_excluded", "n": 200} in m.notes
    said = [i18n.word(n, "da", "maaltal.note") for n in m.notes]
    assert any("stadig er i forløb" in n and "blandt de afsluttede" in n for n in said)


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
    assert i18n.code("budget_not_split") in m.notes
    assert any("Budgettet er ikke fordelt på delprojekter" in i18n.word(n, "da", "maaltal.note")
               for n in m.notes)
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
    assert check.rule == i18n.t("maaltal.target_rule.goal_met_share", "da")
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


# -- status ukendt: lower and upper bound -------------------------------------------------------


def test_unknown_status_bounds_every_rate(aumi_cfg):
    m = maaltal(aumi_table(), aumi_cfg)
    # overall: 126 of 195 with unknown as not met, 132 of 195 (68 %) with the 6 as met; 68 %
    # lies inside 58–71 %, so the range does not change the reading
    assert m.n_unknown == 6 and (m.success_upper.k, m.success_upper.n) == (132, 195)
    assert round(100 * m.success_upper.rate) == 68 and not m.unknown_matters
    tg = m.breakdowns["target_group"].set_index("category")
    assert tg.loc["paabegynde", "unknown"] == 6 and tg.loc["fastholde", "unknown"] == 0
    assert tg.loc["paabegynde", "rate_upper"] == pytest.approx(64 / 120)
    assert tg.loc["fastholde", "rate_upper"] == pytest.approx(68 / 75)
    assert not tg["unknown_matters"].any()
    for dim in ("gender", "age_band", "delprojekt"):  # every breakdown has both bounds
        b = m.breakdowns[dim]
        assert b["unknown"].sum() == 6
        assert ((b["goal_met"] + b["unknown"]) / b["n_closed"]).tolist() == pytest.approx(
            b["rate_upper"].tolist())
    again = json.loads(json.dumps(m.to_dict()))
    assert again["success_upper"]["k"] == 132 and again["n_unknown"] == 6


@pytest.mark.parametrize(("k", "unknown", "n", "target", "matters"), [
    (126, 6, 195, None, False),    # AUMI: 65 % → 68 %, inside 58–71 %
    (78, 4, 100, 0.80, True),      # 78 % → 82 %: the target 80 % lies in the range
    (600, 60, 1000, None, True),   # 60 % → 66 %, outside 57–63 %
    (65000, 400, 100000, None, False),  # 65,0 → 65,4 %: outside the CI, same whole percent
    (40, 0, 100, 0.80, False),     # no unknown status: never
        (50, 5, 100, 0.30, False),     # 50–55 %, above 30 % both ways, inside 40–60 %
    (70, 4, 100, 0.80, True),      # 70 % is below 80 % (CI 61–78 %), 74 % is around it
])
def test_when_the_unknown_status_changes_the_reading(k, unknown, n, target, matters):
    lower, upper = Rate.of(k, n), Rate.of(k + unknown, n)
    assert unknown_changes_reading(lower, upper, target) is matters


# -- differences between target groups -----------------------------------------------------------


def test_rate_gaps_give_the_newcombe_interval_lower_group_first(aumi_cfg):
    m = maaltal(aumi_table(), aumi_cfg)
    (gap,) = m.target_group_gaps
    from statsmodels.stats.proportion import confint_proportions_2indep

    low, high = confint_proportions_2indep(58, 120, 68, 75, method="newcomb", compare="diff")
    assert (gap.low, gap.high) == ("paabegynde", "fastholde")
    assert gap.difference == pytest.approx(58 / 120 - 68 / 75)  # −42 percentage points
    assert (gap.ci_low, gap.ci_high) == pytest.approx((low, high))
    assert gap.alpha == 0.05 and gap.supported
    # with påbegynde's 6 unknown as met (64 of 120) the gap is still clear of 0
    worst = confint_proportions_2indep(64, 120, 68, 75, method="newcomb", compare="diff")[1]
    assert gap.worst_ci_high == pytest.approx(worst) and worst < 0
