"""The register comparison group: planted effects recovered, bad extracts refused by name."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from ungeanalyse import comparison as cmp
from ungeanalyse.demo import make_truth
from ungeanalyse.errors import UserError

CONFOUNDERS = ["age", "gender", "months_neet", "psychiatric_contact", "social_services_contact"]


@pytest.fixture(scope="module")
def cfg(aumi_cfg):
    return aumi_cfg.model_copy(deep=True)


@pytest.fixture(scope="module")
def people(cfg) -> pd.DataFrame:
    """The AUMI demo's 195 participants under made-up pseudonyms."""
    truth = make_truth(cfg)
    truth["person_id"] = [f"{i:016x}" for i in range(1, len(truth) + 1)]
    truth["source_file"] = "deltagere.xlsx"
    truth["source_row"] = np.arange(2, len(truth) + 2)
    truth["n_challenges"] = truth.filter(like="challenge_").sum(axis=1)
    return truth


@pytest.fixture(scope="module")
def register(cfg, people) -> cmp.SyntheticRegister:
    return cmp.synthetic_register(cfg, people, population=20_000, seed=1)


@pytest.fixture(scope="module")
def result(cfg, people, register) -> cmp.ComparisonResult:
    return cmp.estimate_effects(cfg, people, cmp.check_register(register.frame, cfg))


def test_the_adjusted_estimate_recovers_the_planted_effect_and_the_naive_one_does_not(
        result, register):
    planted = register.planted_att_pp[12]
    assert planted == pytest.approx(12.0, abs=0.05)
    naive, ipw, matching = (result.primary(m) for m in ("naive", "ipw", "matching"))
    assert ipw["ci_low_pp"] < planted < ipw["ci_high_pp"]
    assert matching["ci_low_pp"] < planted < matching["ci_high_pp"]
    # planted confounding: participants start worse off, so the naive difference understates
    assert naive["ci_high_pp"] < planted
    assert naive["att_pp"] < ipw["att_pp"] - 10
    assert ipw["n_treated"] == 195 and naive["n_comparison"] == 20_000 - 195


def test_balance_after_adjustment_on_the_planted_confounders(result):
    bal = result.balance.set_index("covariate")
    assert bal.loc["psychiatric_contact", "before"] > 0.5  # the planted confounding
    assert bal.loc["months_neet", "before"] > 0.5
    for method in ("after_matching", "after_ipw"):
        assert bal.loc[CONFOUNDERS, method].abs().max() < 0.1, method
    # exact matching on municipality and target group: no difference left at all
    exact = [c for c in bal.index if c.startswith(("municipality=", "target_group="))]
    assert bal.loc[exact, "after_matching"].abs().max() < 1e-12


def test_estimates_per_target_group_and_hypothesis_context(result, cfg):
    e = result.estimates[result.estimates["months"].eq(12)]
    groups = set(e["group"])
    assert {"all", "tg_paabegynde", "tg_fastholde"} <= groups
    assert {h.id for h in cfg.hypotheses} <= groups
    h2 = e[e["group"].eq("H2")]
    # a hypothesis context exists for the participants only: matching, not weighting
    assert set(h2["method"]) == {"naive", "matching"}
    tg = e[e["kind"].eq("target_group") & e["method"].eq("ipw")]
    assert tg["n_treated"].sum() == 195


def test_e_value_of_a_risk_difference_goes_through_the_risk_ratio():
    assert cmp.e_value(2.0) == pytest.approx(2 + math.sqrt(2))
    assert cmp.e_value(0.5) == pytest.approx(2 + math.sqrt(2))
    # 60 % treated against 40 % untreated: RR 1.5, E = 1.5 + sqrt(1.5 * 0.5)
    est, limit = cmp.e_values(0.6, 0.2, 0.1, 0.3)
    assert est == pytest.approx(1.5 + math.sqrt(0.75))
    assert limit == pytest.approx(cmp.e_value(0.6 / 0.5))
    assert cmp.e_values(0.6, 0.05, -0.02, 0.12)[1] == 1.0  # an interval over 0


def test_att_estimates_are_plain_numbers_for_the_business_case(result):
    rows = cmp.att_estimates(result)
    first = next(r for r in rows if r["group"] == "all" and r["months"] == 12)
    assert first["att_pp"] == pytest.approx(result.primary("ipw")["att_pp"])
    assert all(type(first[k]) in (float, int) for k in ("att_pp", "ci_low_pp", "n_treated"))
    assert {r["method"] for r in rows} == {"ipw"}


# -- bad extracts --------------------------------------------------------------------------------


def _check(frame, cfg):
    return cmp.check_register(frame, cfg, "ungeregister.parquet")


def test_a_missing_column_is_named_with_the_config_key(register, cfg):
    with pytest.raises(UserError, match=r"'psykiatri' \(psychiatric_contact\) not found"):
        _check(register.frame.drop(columns="psykiatri"), cfg)


def test_out_of_range_and_missing_covariates_name_file_column_and_rows(register, cfg):
    bad = register.frame.copy()
    bad.loc[[4, 9], "alder"] = 41
    with pytest.raises(UserError, match=r"ungeregister.parquet, column 'alder' \(age\): 2 row\(s\)"
                       r" have an age outside 15–29 .*rows 5, 10"):
        _check(bad, cfg)
    bad = register.frame.copy()
    bad["mdr_uden_udd_job"] = bad["mdr_uden_udd_job"].astype(float)
    bad.loc[7, "mdr_uden_udd_job"] = np.nan
    with pytest.raises(UserError, match=r"'mdr_uden_udd_job' \(months_neet\): 1 row\(s\) have no"
                       r" number .*row 8\)"):
        _check(bad, cfg)
    bad = register.frame.copy()
    bad.loc[3, "hfudd"] = "ph.d."
    with pytest.raises(UserError, match=r"'hfudd' \(prior_education\).*not one of"):
        _check(bad, cfg)


def test_a_repeated_person_key_is_refused(register, cfg):
    bad = pd.concat([register.frame, register.frame.iloc[[0]]], ignore_index=True)
    with pytest.raises(UserError, match=r"'pnr' \(person_id\): 2 row\(s\) repeat a person key"):
        _check(bad, cfg)


def test_participants_not_in_the_register_are_named_by_their_file_row(register, cfg, people):
    frame = register.frame[register.frame["pnr"].ne(people["person_id"].iloc[0])]
    with pytest.raises(UserError, match=r"1 of 195 participants are not in the register .*"
                       r"deltagere.xlsx row 2"):
        cmp.estimate_effects(cfg, people, _check(frame, cfg))


def test_an_outcome_window_outside_the_data_is_refused(register, cfg, people):
    short = cfg.model_copy(deep=True)
    short.comparison.data_end = pd.Timestamp("2019-06-30").date()
    # the extract has 24-month outcomes for young people followed only until mid-2019
    with pytest.raises(UserError, match=r"'udd_job_6m' \(y_6\).*window ends after "
                       r"comparison.data_end \(30-06-2019\)"):
        _check(register.frame, short)
    late = register.frame.copy()
    end = pd.Timestamp("2019-06-30")
    for m, col in short.comparison.outcomes.items():
        late.loc[late["indeksdato"] > end - pd.DateOffset(months=m), col] = pd.NA
    checked = _check(late, short)
    with pytest.raises(UserError, match=r"no participant is followed 24 months"):
        cmp.estimate_effects(short, people, checked)


def test_a_csv_extract_reads_like_the_parquet(register, cfg, tmp_path):
    path = cmp.write_register(register, tmp_path / "ungeregister.csv")
    assert (tmp_path / "ungeregister.planted.json").exists()
    from_csv = _check(cmp.read_table(path), cfg)
    from_frame = _check(register.frame, cfg)
    pd.testing.assert_frame_equal(from_csv, from_frame, check_dtype=False)


def test_a_sas_transport_extract_reads_like_the_parquet(register, cfg, tmp_path):
    import pyreadstat

    frame = register.frame.head(2000).copy()
    frame = frame.astype({c: float for c in ("udd_job_6m", "udd_job_12m", "udd_job_24m")})
    pyreadstat.write_xport(frame, str(tmp_path / "ungeregister.xpt"), file_format_version=8)
    from_sas = _check(cmp.read_table(tmp_path / "ungeregister.xpt"), cfg)
    pd.testing.assert_frame_equal(from_sas, _check(frame, cfg), check_dtype=False)


def test_an_unknown_extract_format_is_named(tmp_path):
    (tmp_path / "udtraek.xlsx").write_bytes(b"x")
    with pytest.raises(UserError, match=r"udtraek.xlsx: a register extract must be .parquet"):
        cmp.read_table(tmp_path / "udtraek.xlsx")


def test_the_runner_plans_the_effect_notebook_only_with_a_comparison_group(cfg):
    from ungeanalyse.pipeline import plan

    assert "all/05_virkning" in [t.id for t in plan(cfg)]
    without = cfg.model_copy(deep=True)
    without.comparison = None
    assert not [t for t in plan(without) if t.notebook == "05_virkning"]


# -- participants keyed as on a research machine ------------------------------------------------


def _keyed_config(cfg, tmp_path, rows: list[str]):
    from ungeanalyse.config import TableFiles

    keyed = cfg.model_copy(deep=True)
    keyed.privacy.id_column = "pnr"
    keyed.files.raw_dir = str(tmp_path)
    keyed.files.processed_dir = str(tmp_path / "processed")
    keyed.files.participants = [TableFiles(path="deltagere.csv", delprojekt="kommed")]
    keyed.files.survey, keyed.files.steps, keyed.files.quotes = [], [], []
    (tmp_path / "deltagere.csv").write_text(
        "pnr;fødselsdato;køn;startdato;status;målgruppe\n" + "\n".join(rows) + "\n",
        encoding="utf-8")
    return keyed


def test_participants_keyed_by_an_already_pseudonymised_id(cfg, tmp_path):
    from ungeanalyse.clean import clean_participants

    status = next(iter(cfg.outcomes.values())).label
    keyed = _keyed_config(cfg, tmp_path, [
        f"a91f0c22e1b7;03-05-2001;K;01-02-2019;{status};Fastholde",
        f"77be01d4c9aa;17-11-1999;M;15-03-2019;{status};Fastholde",
        f"0102991234;17-11-1999;M;15-03-2019;{status};Fastholde",  # a CPR number as the key
        f"c0ffee000001;;M;15-03-2019;{status};Fastholde"])
    result = clean_participants(keyed, key=b"unused-for-pseudonymised-keys-00", today=None)
    clean = result.clean.set_index("person_id")
    assert list(clean.index) == ["a91f0c22e1b7", "77be01d4c9aa"]  # the key as it is
    assert clean.loc["a91f0c22e1b7", "gender"] == "kvinde"
    assert clean.loc["a91f0c22e1b7", "age_at_start"] == 17
    assert clean.loc["77be01d4c9aa", "age_at_start"] == 19
    reasons = dict(zip(result.quarantine["source_row"], result.quarantine["reason"],
                       strict=True))
    assert sorted(reasons.values()) == ["cpr_as_person_key", "invalid_date"]
    assert "0102991234" not in result.quarantine.to_string()  # a CPR number never shown


@pytest.mark.slow
def test_the_aumi_demo_register_balances_every_covariate_and_recovers_every_window(cfg, people):
    """The demo's own register (200.000 young people, the config's seed)."""
    register = cmp.synthetic_register(cfg, people)
    assert len(register.frame) == 200_000
    res = cmp.estimate_effects(cfg, people, cmp.check_register(register.frame, cfg))
    assert res.balance["after_ipw"].abs().max() < 0.1
    assert res.balance[["before"]].abs().max().item() > 0.5
    e = res.estimates[res.estimates["group"].eq("all")].set_index(["method", "months"])
    for m, planted in register.planted_att_pp.items():
        assert e.loc[("ipw", m), "ci_low_pp"] < planted < e.loc[("ipw", m), "ci_high_pp"]
        assert e.loc[("naive", m), "ci_high_pp"] < planted
