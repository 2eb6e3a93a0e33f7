"""QCA against published textbook examples and small hand-worked ones.

Published results are those of R's QCA package (Dusa), which reproduce Rihoux & De Meur (2009)
for Lipset's crisp data (LC) and Krook (2010) for women's representation (d.represent).
The crisp data sets below are rebuilt case by case from the published truth tables with case
names, so every number here is checked against a published value or worked by hand.
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd
import pytest

from ungeanalyse import qca


def _crisp(rows: list[tuple[str, str, int]], conditions: list[str], outcome: str) -> pd.DataFrame:
    """Cases from truth-table rows: (configuration bits, comma-separated case names, outcome)."""
    records = {}
    for bits, names, out in rows:
        for name in names.split(","):
            records[name] = [int(b) for b in bits] + [out]
    return pd.DataFrame.from_dict(records, orient="index", columns=[*conditions, outcome])


LIPSET = ["DEV", "URB", "LIT", "IND", "STB"]
# Lipset (1959) crisp version (R QCA "LC"; Rihoux & De Meur 2009), 18 cases
LC = _crisp([
    ("00000", "GR,PT,ES", 0), ("00001", "IT,RO", 0), ("00100", "HU,PL", 0), ("00101", "EE", 0),
    ("10101", "FI,IE", 1), ("10110", "AU", 0), ("10111", "FR,SE", 1), ("11110", "DE", 0),
    ("11111", "BE,CZ,NL,UK", 1),
], LIPSET, "SURV")

KROOK = ["ES", "QU", "WS", "WM", "LP"]
# Krook (2010), women's parliamentary representation (R QCA "d.represent"), 22 cases
KRO = _crisp([
    ("00011", "NZ", 1), ("01011", "DE", 1), ("10100", "FI", 1), ("10111", "DK", 1),
    ("11001", "AT", 1), ("11010", "ES", 1), ("11100", "SE", 1), ("11011", "NL,BE", 1),
    ("11111", "NO,IS", 1), ("01000", "IT", 0), ("10001", "LU", 0), ("00010", "CA,US", 0),
    ("11000", "CH,PT,GR", 0), ("01010", "AU,GB,FR,IE", 0),
], KROOK, "WNP")

# Lipset fuzzy data as printed in Ragin's (2008/2009) fsQCA chapter (transcribed)
LF = pd.read_csv(io.StringIO("""case DEV URB LIT IND STB SURV
AU 0.81 0.12 0.99 0.73 0.43 0.05
BE 0.99 0.89 0.98 1.00 0.98 0.95
CZ 0.58 0.98 0.98 0.90 0.91 0.89
EE 0.16 0.07 0.98 0.01 0.91 0.12
FI 0.58 0.03 0.99 0.08 0.58 0.77
FR 0.98 0.03 0.99 0.81 0.95 0.95
DE 0.89 0.79 0.99 0.96 0.12 0.05
GR 0.04 0.09 0.13 0.00 0.06 0.06
HU 0.07 0.16 0.88 0.07 0.02 0.42
IE 0.72 0.05 0.98 0.01 0.98 0.92
IT 0.34 0.10 0.41 0.01 0.01 0.05
NL 1.00 1.00 0.99 1.00 0.98 0.95
PL 0.02 0.17 0.59 0.00 0.01 0.05
PT 0.01 0.02 0.01 0.00 0.14 0.05
RO 0.01 0.03 0.16 0.00 0.09 0.05
ES 0.03 0.30 0.09 0.01 0.07 0.05
SE 0.95 0.13 0.99 0.94 0.98 0.95
UK 0.98 0.99 0.99 1.00 0.99 0.95
"""), sep=" ")


def approx(x: float) -> object:
    """Published values are rounded to three decimals."""
    return pytest.approx(x, abs=5e-4)


# -- calibration ----------------------------------------------------------------------------


def test_fuzzy_anchors_give_005_05_095():
    m = qca.calibrate_fuzzy(pd.Series([0.2, 0.5, 0.8], name="andel"), 0.2, 0.5, 0.8)
    assert list(m.round(2)) == [0.05, 0.5, 0.95]
    assert m.name == "andel"
    # log odds exactly ±3 at the anchors
    assert m.iloc[2] == pytest.approx(math.exp(3) / (1 + math.exp(3)))


def test_fuzzy_by_hand_asymmetric_anchors():
    m = qca.calibrate_fuzzy(pd.Series([0.5, 0.65, 0.95, 0.1]), 0.35, 0.6, 0.85)
    # 0.5: log odds 3*(-0.1)/0.25 = -1.2; 0.65: 3*0.05/0.25 = 0.6; 0.95: 3*0.35/0.25 = 4.2
    expected = [1 / (1 + math.exp(v)) for v in (1.2, -0.6, -4.2, 3 * 0.5 / 0.25)]
    assert list(m) == pytest.approx(expected)


def test_fuzzy_decreasing_anchors_mirror_increasing():
    x = pd.Series([150.0, 165, 172, 175, 185, 199, np.nan])
    up = qca.calibrate_fuzzy(x, 165, 175, 185)
    down = qca.calibrate_fuzzy(x, 185, 175, 165)
    assert list(down[:-1]) == pytest.approx(list(1 - up[:-1]))
    assert list(down.round(2)[[1, 3, 4]]) == [0.95, 0.5, 0.05]
    assert np.isnan(down.iloc[-1])


def test_fuzzy_anchors_out_of_order_is_an_error():
    with pytest.raises(ValueError, match="rækkefølge"):
        qca.calibrate_fuzzy(pd.Series([1.0]), 0.5, 0.2, 0.8)


def test_calibrate_crisp_from_expressions():
    raw = pd.DataFrame({"fremmoede": [0.9, 0.5, None], "alder": [17, 22, 19]})
    sets = qca.calibrate_crisp(raw, {"HOEJ": "fremmoede >= 0.8", "UNG": "alder < 18"})
    assert sets["HOEJ"].tolist()[:2] == [1, 0] and pd.isna(sets["HOEJ"].iloc[2])
    assert sets["UNG"].tolist() == [1, 0, 0]
    with pytest.raises(ValueError, match="HOEJ"):
        qca.calibrate_crisp(raw, {"HOEJ": "ukendt >= 1"})


# -- truth table ----------------------------------------------------------------------------


def test_lipset_crisp_truth_table_matches_published():
    tt = qca.truth_table(LC, LIPSET, "SURV")
    t = tt.table
    assert len(t) == 32 and list(t.index[:2]) == [1, 2]
    observed = t[t["OUT"] != "?"]
    assert list(observed.index) == [1, 2, 5, 6, 22, 23, 24, 31, 32]
    assert list(observed["OUT"]) == [0, 0, 0, 0, 1, 0, 1, 0, 1]
    assert list(observed["n"]) == [3, 2, 2, 1, 2, 1, 2, 1, 4]
    assert list(observed["incl"]) == [0, 0, 0, 0, 1, 0, 1, 0, 1]
    assert t.loc[32, "cases"] == "BE,CZ,NL,UK"
    assert t.loc[22, "cases"] == "FI,IE"
    assert len(tt.remainders) == 23 and t.loc[3, "n"] == 0 and np.isnan(t.loc[3, "incl"])
    assert "23 of 32 configurations are remainders" in repr(tt)


def test_krook_truth_table_cases():
    tt = qca.truth_table(KRO, KROOK, "WNP")
    t = tt.table
    assert t.loc[11, "cases"] == "AU,GB,FR,IE" and t.loc[11, "OUT"] == 0
    assert t.loc[28, "n"] == 2 and t.loc[28, "OUT"] == 1
    assert len(tt.remainders) == 18


def test_case_col_and_n_cut_make_remainders():
    data = LC.reset_index(names="land")
    tt = qca.truth_table(data, LIPSET, "SURV", n_cut=2, case_col="land")
    assert tt.table.loc[32, "cases"] == "BE,CZ,NL,UK"
    # rows with one case become remainders
    assert set(tt.remainders.index) >= {6, 23, 31}
    assert tt.table.loc[22, "OUT"] == 1


def _contradictory() -> pd.DataFrame:
    """A*B always with Y; A*~B half with Y (contradiction); ~A*~B without Y; ~A*B not seen."""
    rows = [(1, 1, 1)] * 3 + [(1, 0, 1), (1, 0, 1), (1, 0, 0), (1, 0, 0)] + [(0, 0, 0)]
    return pd.DataFrame(rows, columns=["A", "B", "Y"])


def test_contradictions_and_remainders():
    tt = qca.truth_table(_contradictory(), ["A", "B"], "Y", incl_cut=0.8)
    out = tt.table["OUT"].to_dict()
    assert out == {1: 0, 2: "?", 3: "C", 4: 1}
    assert tt.table.loc[3, "incl"] == 0.5 and tt.table.loc[3, "n"] == 4
    # with R QCA's default (incl_cut0 = incl_cut) the row is plainly 0
    r_default = qca.truth_table(_contradictory(), ["A", "B"], "Y", incl_cut0=0.8)
    assert r_default.table.loc[3, "OUT"] == 0
    # the contradiction is no don't-care (else A would do); the remainder ~A*B is, so the
    # conservative and parsimonious solutions differ
    assert qca.minimize(tt).expression == "A*B"
    par = qca.minimize(tt, include_remainders=True)
    assert par.expression == "B"
    assert par.simplifying_assumptions == [2]


def test_pri_cut_turns_rows_to_zero():
    data = pd.DataFrame({"A": [0.9, 0.8, 0.2], "Y": [0.7, 0.75, 0.1]})
    # incl = 1.55 / 1.9 = 0.816; PRI = (1.55 - 0.65) / (1.9 - 0.65) = 0.72
    assert qca.truth_table(data, ["A"], "Y", incl_cut=0.7).table.loc[2, "OUT"] == 1
    tt = qca.truth_table(data, ["A"], "Y", incl_cut=0.7, pri_cut=0.9)
    assert tt.table.loc[2, "PRI"] == pytest.approx(0.72)
    assert tt.table.loc[2, "OUT"] == 0


def test_hand_worked_fuzzy_scores():
    data = pd.DataFrame({"A": [0.8, 0.3, 0.6], "Y": [0.9, 0.4, 0.3]}, index=["a", "b", "c"])
    tt = qca.truth_table(data, ["A"], "Y", incl_cut=0.8)
    row = tt.table.loc[2]  # A present
    # sum min(A,Y) = 1.4, sum A = 1.7, sum Y = 1.6, sum min(A,Y,1-Y) = 0.1+0.3+0.3 = 0.7
    assert row["incl"] == pytest.approx(1.4 / 1.7)
    assert row["PRI"] == pytest.approx((1.4 - 0.7) / (1.7 - 0.7))
    assert row["cov"] == pytest.approx(1.4 / 1.6)
    assert row["n"] == 2 and row["cases"] == "a,c" and row["OUT"] == 1
    absent = tt.table.loc[1]  # ~A: memberships 0.2, 0.7, 0.4; min with Y 0.2, 0.4, 0.3
    assert absent["incl"] == pytest.approx(0.9 / 1.3) and absent["cases"] == "b"
    assert tt.fuzzy


def test_bad_memberships_name_the_column():
    data = pd.DataFrame({"A": [0.2, 1.4], "Y": [0, 1]})
    with pytest.raises(ValueError, match="'A'"):
        qca.truth_table(data, ["A"], "Y")
    with pytest.raises(KeyError, match="B"):
        qca.truth_table(data, ["B"], "Y")


# -- minimisation ---------------------------------------------------------------------------


def test_lipset_crisp_conservative_solution():
    sol = qca.minimize(qca.truth_table(LC, LIPSET, "SURV"))
    assert str(sol) == "M1: DEV*~URB*LIT*STB + DEV*LIT*IND*STB -> SURV"
    t = sol.table.set_index("term")
    assert list(t["incl"]) == [1, 1]
    assert list(t["cov_raw"]) == [approx(0.5), approx(0.75)]
    assert list(t["cov_unique"]) == [approx(0.25), approx(0.5)]
    assert t.loc["DEV*~URB*LIT*STB", "cases"] == "FI,IE,FR,SE"
    assert (sol.consistency, sol.pri, sol.coverage) == (1, 1, 1)
    assert sol.simplifying_assumptions == []


def test_lipset_crisp_parsimonious_solution_and_simplifying_assumptions():
    sol = qca.minimize(qca.truth_table(LC, LIPSET, "SURV"), include_remainders=True)
    assert sol.terms == ["DEV*STB"] and sol.models == [["DEV*STB"]]
    assert sol.coverage == 1 and sol.consistency == 1
    # published simplifying assumptions: rows 18, 20, 26, 28, 30
    assert sol.simplifying_assumptions == [18, 20, 26, 28, 30]


def test_lipset_crisp_negated_outcome():
    tt = qca.truth_table(LC, LIPSET, "~SURV")
    assert qca.minimize(tt).expression == "~DEV*~URB*~IND + DEV*LIT*IND*~STB"
    par = qca.minimize(tt, include_remainders=True)
    assert par.expression == "~DEV + ~STB"
    t = par.table.set_index("term")
    assert list(t["cov_raw"]) == [approx(0.8), approx(0.7)]
    assert list(t["cov_unique"]) == [approx(0.3), approx(0.2)]


def test_krook_conservative_solution():
    sol = qca.minimize(qca.truth_table(KRO, KROOK, "WNP"))
    assert sol.expression == ("~ES*~WS*WM*LP + ES*QU*~WS*WM + ES*QU*~WS*LP + ES*WS*~WM*~LP"
                              " + ES*WS*WM*LP")
    neg = qca.minimize(qca.truth_table(KRO, KROOK, "~WNP"))
    assert neg.expression == "~ES*~WS*WM*~LP + QU*~WS*~WM*~LP + ES*~QU*~WS*~WM*LP"


def test_krook_parsimonious_has_two_models_in_r_order():
    sol = qca.minimize(qca.truth_table(KRO, KROOK, "WNP"), include_remainders=True)
    assert sol.models == [["WS", "ES*WM", "QU*LP", "~ES*LP"], ["WS", "ES*WM", "QU*LP", "WM*LP"]]
    assert sol.terms == sol.models[0]
    assert sol.essential == ["WS", "ES*WM", "QU*LP"]
    t = sol.table.set_index("term")
    assert list(t["cov_raw"]) == [approx(0.455), approx(0.545), approx(0.545), approx(0.182)]
    assert list(t["cov_unique"]) == [approx(0.182), approx(0.091), approx(0.091), approx(0.091)]
    assert t.loc["WS", "cases"] == "FI,DK,SE,NO,IS"  # published: FI; DK; SE; NO,IS
    assert list(sol.model_fit["incl"]) == [1, 1] and list(sol.model_fit["cov"]) == [1, 1]
    second = qca.fit(sol.models[1], qca.truth_table(KRO, KROOK, "WNP")).set_index("term")
    assert second.loc["WM*LP", "cov_raw"] == approx(0.636)
    assert second.loc["WM*LP", "cov_unique"] == approx(0.091)
    assert "M2: WS + ES*WM + QU*LP + WM*LP -> WNP" in str(sol)


def test_quine_mccluskey_and_petrick_on_a_classic_function():
    # f(a,b,c) = sum m(0,1,2,5,6,7): the textbook cyclic chart with two minimal covers
    on = {tuple(int(b) for b in f"{m:03b}") for m in (0, 1, 2, 5, 6, 7)}
    primes = qca.prime_implicants(on)
    assert len(primes) == 6
    covers = qca.minimal_covers(primes, sorted(on))
    names = [sorted(qca.term_name(primes[i], ["A", "B", "C"]) for i in c) for c in covers]
    assert sorted(names) == sorted([sorted(["~A*~B", "B*~C", "A*C"]),
                                    sorted(["~A*~C", "~B*C", "A*B"])])


def test_minimal_covers_agree_with_brute_force_on_random_functions():
    import itertools
    import random

    rng = random.Random(3)
    for _ in range(60):
        k = rng.choice([2, 3, 4])
        cells = list(itertools.product((0, 1), repeat=k))
        on = {c for c in cells if rng.random() < 0.35}
        dc = {c for c in cells if c not in on and rng.random() < 0.3}
        if not on:
            continue
        primes = qca.prime_implicants(on, dc)
        # every implicant of ON ∪ DC is inside some prime implicant
        for t in itertools.product((0, 1, -1), repeat=k):
            inside = [m for m in cells if qca._covers(t, m)]
            if all(m in on | dc for m in inside) and any(m in on for m in inside):
                assert any(all(p == -1 or p == v for p, v in zip(p_, t, strict=True))
                           for p_ in primes)
        covers = qca.minimal_covers(primes, sorted(on))
        size = len(covers[0])
        every = [list(c) for n in range(size + 1)
                 for c in itertools.combinations(range(len(primes)), n)
                 if all(any(qca._covers(primes[i], m) for i in c) for m in on)]
        assert min(len(c) for c in every) == size
        assert covers == sorted(c for c in every if len(c) == size)


def test_cover_search_has_a_cap_with_a_readable_error(monkeypatch):
    monkeypatch.setattr(qca, "MAX_SEARCH_STEPS", 1)
    with pytest.raises(ValueError, match="færre betingelser"):
        qca.minimize(qca.truth_table(KRO, KROOK, "WNP"), include_remainders=True)


def test_no_positive_rows_gives_an_empty_solution():
    data = pd.DataFrame({"A": [1, 0, 1], "Y": [0, 0, 0]})
    tt = qca.truth_table(data, ["A"], "Y")
    sol = qca.minimize(tt)
    assert sol.terms == [] and math.isnan(sol.consistency)
    assert "ingen løsning" in qca.describe_solution_da(sol, tt)
    assert "no solution" in qca.describe_solution_en(sol, tt)


def test_lipset_fuzzy_solutions_match_the_published_expressions():
    data = LF.set_index("case")
    tt = qca.truth_table(data, LIPSET, "SURV", incl_cut=0.7)
    assert list(tt.positive.index) == [22, 24, 32]
    assert tt.table.loc[32, "cases"] == "BE,CZ,NL,UK" and tt.table.loc[1, "n"] == 5
    sol = qca.minimize(tt)
    assert sol.expression == "DEV*~URB*LIT*STB + DEV*LIT*IND*STB"
    assert qca.minimize(tt, include_remainders=True).expression == "DEV*STB"
    # unique coverage is the model's coverage without the term, computed on the cases
    t = sol.table.set_index("term")
    x = data[LIPSET].to_numpy()
    y = data["SURV"].to_numpy()
    a = np.min(np.c_[x[:, 0], 1 - x[:, 1], x[:, 2], x[:, 4]], axis=1)
    b = np.min(np.c_[x[:, 0], x[:, 2], x[:, 3], x[:, 4]], axis=1)
    cov = np.minimum(np.maximum(a, b), y).sum() / y.sum()
    assert sol.coverage == pytest.approx(cov)
    assert t.loc["DEV*~URB*LIT*STB", "cov_unique"] == pytest.approx(
        cov - np.minimum(b, y).sum() / y.sum())
    assert sol.consistency == pytest.approx(
        np.minimum(np.maximum(a, b), y).sum() / np.maximum(a, b).sum())


# -- necessity ------------------------------------------------------------------------------


def test_necessity_lipset_crisp_matches_published():
    nec = qca.necessity(LC, LIPSET, "SURV")
    # R QCA superSubset(LC, "SURV"): inclN, RoN, covN
    assert nec.loc["DEV"].tolist() == [approx(1), approx(0.8), approx(0.8)]
    assert nec.loc["LIT"].tolist() == [approx(1), approx(0.5), approx(0.615)]
    assert nec.loc["STB"].tolist() == [approx(1), approx(0.7), approx(0.727)]
    assert list(nec.columns) == ["consistency", "RoN", "coverage"]
    assert "~URB" in nec.index


def test_necessity_by_hand_fuzzy():
    data = pd.DataFrame({"A": [0.8, 0.3, 0.6], "Y": [0.9, 0.4, 0.3]})
    nec = qca.necessity(data, ["A"], "Y")
    assert nec.loc["A"].tolist() == pytest.approx([1.4 / 1.6, 1.3 / 1.6, 1.4 / 1.7])
    assert nec.loc["~A"].tolist() == pytest.approx([0.9 / 1.6, 1.7 / 2.1, 0.9 / 1.3])


# -- plain-language reading -----------------------------------------------------------------


def test_describe_danish_reads_the_solution_and_its_limits():
    tt = qca.truth_table(KRO, KROOK, "WNP")
    text = qca.describe_solution_da(qca.minimize(tt, include_remainders=True), tt)
    assert text.startswith("WNP ses, når WS, eller når ES og WM, eller når QU og LP, eller når "
                           "ikke ES og LP.")
    assert "konsistens 1,00 og dækning 1,00" in text
    assert "2 lige enkle løsninger" in text
    assert "18 af 32 mulige kombinationer (56 %)" in text
    assert "forenklende antagelser" in text and "22 tilfælde" in text
    assert "effekt" not in text.lower()


def test_describe_conservative_mentions_contradictions_english():
    tt = qca.truth_table(_contradictory(), ["A", "B"], "Y")
    text = qca.describe_solution_en(qca.minimize(tt), tt)
    assert text.startswith("Y is seen when A and B.")
    assert "1 combination(s) are contradictory (consistency between 0.20 and 0.80" in text
    assert "observed combinations only" in text
    assert "effect" not in text.lower()
    da = qca.describe_solution_da(qca.minimize(tt), tt)
    assert "modstridende" in da and "0,20" in da


def test_describe_multi_term_lists_paths_in_danish_numbers():
    data = LF.set_index("case")
    tt = qca.truth_table(data, LIPSET, "SURV", incl_cut=0.7)
    text = qca.describe_solution_da(qca.minimize(tt), tt)
    assert "SURV ses, når DEV, ikke URB, LIT og STB, eller når DEV, LIT, IND og STB." in text
    assert "unik dækning 0," in text and "rå dækning" in text


def test_tautology_when_every_condition_is_eliminated():
    """All four configurations positive (two of them only as remainders): the parsimonious
    solution is '1', which must still get its fit parameters."""
    data = pd.DataFrame({"A": [1, 1, 0, 0, 1, 0], "B": [1, 0, 1, 0, 1, 1],
                         "Y": [1, 1, 1, 1, 1, 1]})
    tt = qca.truth_table(data, ["A", "B"], "Y", incl_cut=0.8, n_cut=1)
    sol = qca.minimize(tt, include_remainders=True)
    assert [" + ".join(m) for m in sol.models] == ["1"]
    assert sol.consistency == 1.0
    text = qca.describe_solution_da(sol, tt)
    assert "ses uanset betingelserne" in text and "ses, når 1" not in text


# -- disclosure control in reader text --------------------------------------------------------


def _people() -> pd.DataFrame:
    """40 young people: A*B 19 of 20 met the goal (one did not), ~A*B 10 of 10, ~B 0 of 10."""
    rows = ([(1, 1, 1)] * 19 + [(1, 1, 0)] + [(0, 1, 1)] * 10 + [(1, 0, 0)] * 5
            + [(0, 0, 0)] * 5)
    return pd.DataFrame(rows, columns=["A", "B", "Y"])


def test_discloses_counts_under_the_limit():
    data = _people()
    y = data["Y"].to_numpy()
    assert qca.discloses(data["B"].to_numpy(), y, 5)  # B without Y: 1 person
    assert not qca.discloses(data["A"].to_numpy(), y, 5)  # 19, 6 and 10
    assert not qca.discloses(data["B"].to_numpy(), y, 1)
    hidden = qca.necessity_hidden(data, ["A", "B"], "Y", 5)
    assert hidden.to_dict() == {"A": False, "~A": False, "B": True, "~B": True}


def test_reader_reading_leaves_out_figures_that_reveal_few_people():
    tt = qca.truth_table(_people(), ["A", "B"], "Y", incl_cut=0.8, n_cut=5)
    sol = qca.minimize(tt)
    assert sol.terms == ["B"] and sol.consistency == pytest.approx(29 / 30)
    full = qca.describe_solution_da(sol, tt, labels={"B": "Fast kontaktperson", "Y": "målet"})
    assert "»målet« ses, når »Fast kontaktperson«." in full and "konsistens 0,97" in full
    reader = qca.describe_solution_da(sol, tt, min_cell=5)
    # the figures read "vises ikke" whatever the reason (the legend says the reasons once)
    assert "0,97" not in reader and "Løsningen `B`: tallene vises ikke." in reader
    assert "færre end" not in reader
    assert "`B`" in reader  # the formula is still given, as inline code
    assert "figures not shown" in qca.describe_solution_en(sol, tt, min_cell=5)
    # fuzzy data (delprojekter, not people) are not guarded
    assert "0,97" in qca.describe_solution_da(sol, tt)


def test_rows_disclose_withholds_every_figure_when_a_configuration_is_small():
    tt = qca.truth_table(_people(), ["A", "B"], "Y", incl_cut=0.8, n_cut=5)
    assert qca.rows_disclose(tt, 5)  # A*B: 19 of 20, so 1 did not meet the goal
    text = qca.describe_solution_da(qca.minimize(tt), tt, min_cell=5)
    assert "Konsistens og dækning vises ikke" in text and not re.search(r"\d,\d\d", text)
    # every configuration with 0 or at least 5 with and without the outcome: figures shown
    safe = pd.DataFrame([(1, 1, 1)] * 15 + [(1, 1, 0)] * 5 + [(0, 1, 1)] * 10
                        + [(1, 0, 0)] * 5 + [(0, 0, 0)] * 5, columns=["A", "B", "Y"])
    tt = qca.truth_table(safe, ["A", "B"], "Y", incl_cut=0.7, n_cut=5)
    assert not qca.rows_disclose(tt, 5)
    assert "konsistens 0,83" in qca.describe_solution_da(qca.minimize(tt), tt, min_cell=5)


# -- intermediate solutions (directional expectations) ----------------------------------------
#
# References, all output of R's QCA package (Dusa):
#  [M] QCA 3.15 reference manual, minimize(), examples "Lipset fuzzy sets data (Ragin 2009,
#      p.112)": ttLF <- truthTable(LF, "SURV", incl.cut = 0.8); minimize(ttLF, include = "?",
#      dir.exp = "DEV, URB, LIT, IND, STB") (cran/QCA inst/staticdocs/minimize.html);
#  [S] the package's own regression snapshots, dusadrian/QCA tests/testthat/_snaps/minimize.md
#      (ttLF at incl.cut = 0.7 with dir.exp = "1,1,1,1,1"; Emm.si, Emmenegger's d.jobsecurity
#      with incl.cut = 0.9, dir.exp = "1,1,1,1,1,0", and its easy counterfactuals EC1) and
#      tests/testthat/_snaps/truthTable.md (the d.jobsecurity truth table).
# A solution's terms depend only on the truth table's output column. The package's LF has other
# SURV scores than the chapter transcribed above (R's inclusion of row 24, FR and SE, is below
# 0.8; ours is 0.82), so incl_cut = 0.85 on our transcription gives exactly R's 0.8 truth table:
# positive rows 22 (FI, IE) and 32 (BE, CZ, NL, UK), the other 12 cases negative. The figures
# of fit are checked on the case data elsewhere in this file, not against R's (other data).

ALL_PRESENT = dict.fromkeys(LIPSET, 1)


def _lf_like_r_08() -> qca.TruthTable:
    # incl_cut0 = incl_cut is R's default: no row is a contradiction
    return qca.truth_table(LF.set_index("case"), LIPSET, "SURV", incl_cut=0.85, incl_cut0=0.85)


def test_lf_truth_table_has_the_output_column_of_r_at_08():
    tt = _lf_like_r_08()
    assert list(tt.positive.index) == [22, 32]
    assert tt.positive["n"].sum() == 6  # R [M]: "n OUT = 1/0/C: 6/12/0"
    assert tt.table.loc[tt.table["OUT"] == 0, "n"].sum() == 12


def test_lf_conservative_and_parsimonious_terms_equal_r_at_08():
    tt = _lf_like_r_08()
    # R [M] prints the conservative terms in its truth table's incl order (sort.by = "incl")
    assert set(qca.minimize(tt).terms) == {"DEV*URB*LIT*IND*STB", "DEV*~URB*LIT*~IND*STB"}
    assert qca.minimize(tt, include_remainders=True).expression == "DEV*~IND + URB*STB"


def test_lf_intermediate_all_present_equals_r():
    sol = qca.minimize(_lf_like_r_08(), include_remainders=True, directional=ALL_PRESENT)
    assert sol.kind == "intermediate"
    assert str(sol) == "M1: DEV*URB*LIT*STB + DEV*LIT*~IND*STB -> SURV"  # R [M]
    assert sol.models == [["DEV*URB*LIT*STB", "DEV*LIT*~IND*STB"]]
    # the one easy counterfactual, DEV*URB*LIT*~IND*STB, joins row 32 and row 22
    assert sol.easy_counterfactuals == [30] and sol.simplifying_assumptions == [30]
    par = qca.minimize(_lf_like_r_08(), include_remainders=True)
    assert sorted([30, *sol.difficult_counterfactuals]) == par.simplifying_assumptions
    # the intermediate terms lie between the conservative and the parsimonious ones
    t = sol.table.set_index("term")
    assert t.loc["DEV*URB*LIT*STB", "cases"] == "BE,CZ,NL,UK"
    assert t.loc["DEV*LIT*~IND*STB", "cases"] == "FI,IE"


def test_lf_intermediate_at_07_equals_r_snapshot():
    tt = qca.truth_table(LF.set_index("case"), LIPSET, "SURV", incl_cut=0.7)
    sol = qca.minimize(tt, include_remainders=True, directional=ALL_PRESENT)
    assert str(sol) == "M1: DEV*LIT*STB -> SURV"  # R [S]
    assert sol.table.loc[0, "cases"] == "BE,CZ,FI,FR,IE,NL,SE,UK"  # R: FI,IE; FR,SE; BE,CZ,NL,UK


def _jobsecurity_truth_table() -> qca.TruthTable:
    """Emmenegger (2011), R's d.jobsecurity at incl.cut = 0.9: one case per observed row of R's
    truth table [S] with its output (C rows are 0 at a single cut-off)."""
    positive, negative = [27, 37, 47, 48, 56, 64], [2, 5, 10, 20, 25, 33, 57]
    rows = [[int(b) for b in f"{r - 1:06b}"] + [int(r in positive)] for r in positive + negative]
    data = pd.DataFrame(rows, columns=[*"SCLRPV", "JSR"])
    return qca.truth_table(data, list("SCLRPV"), "JSR", incl_cut=0.9)


def test_jobsecurity_parsimonious_models_equal_r():
    sol = qca.minimize(_jobsecurity_truth_table(), include_remainders=True)
    assert sol.models == [["S*R", "L*P"], ["S*R", "P*~V"]]  # R [S]: M1 S*R + (L*P), M2 P*~V


def test_jobsecurity_intermediate_and_easy_counterfactuals_equal_r():
    sol = qca.minimize(_jobsecurity_truth_table(), include_remainders=True,
                       directional=dict(zip("SCLRPV", [1, 1, 1, 1, 1, 0], strict=True)))
    # R [S]: "From C1P1, C1P2: M1: S*R*~V + S*C*R*P + S*L*R*P + C*L*P*~V -> JSR"
    assert sol.models == [["S*R*~V", "S*C*R*P", "S*L*R*P", "C*L*P*~V"]]
    assert sol.easy_counterfactuals == [31, 39, 45, 53, 55, 59, 61, 63]  # R [S]: EC1 == EC2
    assert not set(sol.easy_counterfactuals) & set(sol.difficult_counterfactuals)


def test_dont_care_and_absent_expectations_by_hand():
    # A*B observed positive, ~A*~B negative; ~A*B and A*~B remainders
    data = pd.DataFrame({"A": [1, 0], "B": [1, 0], "Y": [1, 0]})
    tt = qca.truth_table(data, ["A", "B"], "Y")
    assert qca.minimize(tt, include_remainders=True).models == [["A"], ["B"]]
    # A expected present: A*~B differs from A*B only in B, which has no expectation: not easy
    sol = qca.minimize(tt, include_remainders=True, directional={"A": 1})
    assert sol.expression == "A*B" and sol.easy_counterfactuals == []
    # B expected absent: A*~B has B at its expected value, so it is easy and B drops out
    sol = qca.minimize(tt, include_remainders=True, directional={"A": 1, "B": 0})
    assert sol.expression == "A" and sol.easy_counterfactuals == [3]
    assert sol.difficult_counterfactuals == []


def test_directional_expectations_are_checked():
    tt = _lf_like_r_08()
    with pytest.raises(ValueError, match="include_remainders"):
        qca.minimize(tt, directional=ALL_PRESENT)
    with pytest.raises(ValueError, match="ukendte betingelser"):
        qca.minimize(tt, include_remainders=True, directional={"GDP": 1})
    with pytest.raises(ValueError, match="'URB'"):
        qca.minimize(tt, include_remainders=True, directional={"URB": 2})


# -- Enhanced Standard Analysis -----------------------------------------------------------------


def test_untenable_contradictory_assumptions_by_hand():
    # A*B always with Y, ~A*~B never; A*~B and ~A*B unobserved: each parsimonious solution
    # (Y: A or B; ~Y: ~A or ~B) assumes both remainders, so both are contradictory
    data = pd.DataFrame({"A": [1, 1, 0, 0], "B": [1, 1, 0, 0], "Y": [1, 1, 0, 0]})
    tt = qca.truth_table(data, ["A", "B"], "Y")
    bad = qca.untenable_assumptions(tt, necessity_cut=1.01)
    assert list(bad["row"]) == [2, 3] and set(bad["reason"]) == {"contradictory"}
    assert list(bad["configuration"]) == ["~A*B", "A*~B"]
    sol = qca.minimize(tt, include_remainders=True, exclude=list(bad["row"]))
    assert sol.expression == "A*B" and sol.excluded == [2, 3]


def test_untenable_necessity_and_impossible():
    tt = qca.truth_table(LC, LIPSET, "SURV")
    bad = qca.untenable_assumptions(tt)
    # R superSubset(LC): DEV, LIT and STB are necessary (inclN 1) with RoN 0.8, 0.5, 0.7
    nec = bad[bad["reason"] == "necessity"]
    assert set(nec["detail"]) == {"DEV", "LIT", "STB"}
    assert set(nec.loc[nec["detail"] == "DEV", "row"]) == {3, 4, 7, 8, *range(9, 17)}
    imp = qca.untenable_assumptions(tt, impossible=["URB*~LIT"], necessity_cut=1.01)
    assert set(imp.loc[imp["reason"] == "impossible", "row"]) == {9, 10, 11, 12, 25, 26, 27, 28}
    with pytest.raises(ValueError, match="GDP"):
        qca.untenable_assumptions(tt, impossible=["GDP*URB"])


# -- robustness and set diagnostics -------------------------------------------------------------


def test_robustness_records_which_terms_survive():
    data = LF.set_index("case")
    rob = qca.robustness(data, LIPSET, "SURV", incl_cut=0.85, n_cut=1, incl_cuts=[0.7, 0.85],
                         n_cuts=[1, 3], directional=ALL_PRESENT)
    t = rob.table.set_index(["test", "setting"])
    assert t.loc[("base", ""), "expression"] == "DEV*URB*LIT*STB + DEV*LIT*~IND*STB"
    assert t.loc[("incl_cut", 0.7), "expression"] == "DEV*LIT*STB"
    # n cut 3: FI,IE (2 cases) becomes a remainder and only row 32 is explained; the ESA
    # leaves out every assumption the negated outcome also makes, so nothing is simplified
    assert t.loc[("n_cut", 3), "expression"] == "DEV*URB*LIT*IND*STB"
    assert len(rob.table) == 3 and rob.changes
    assert rob.terms.set_index("term")["kept"].to_dict() == {"DEV*URB*LIT*STB": 1,
                                                             "DEV*LIT*~IND*STB": 1}
    assert rob.robust == []
    cal = qca.robustness(data, LIPSET, "SURV", 0.85, 1, calibrations={"same": data},
                         directional=ALL_PRESENT)
    assert not cal.changes and cal.robust == ["DEV*URB*LIT*STB", "DEV*LIT*~IND*STB"]


def test_skewness_shares_of_cases_inside():
    sk = qca.skewness(LC, ["DEV", "URB", "SURV"])
    assert sk.loc["DEV", "share_in"] == pytest.approx(10 / 18)
    assert sk.loc["URB", "share_in"] == pytest.approx(5 / 18)  # DE, BE, CZ, NL, UK
    assert not sk["skewed"].any()
    one_sided = pd.DataFrame({"A": [1] * 9 + [0]})
    assert qca.skewness(one_sided, ["A"]).loc["A", "skewed"]


def test_xy_plot_carries_fit_and_draws_crisp_data_as_bubbles():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ungeanalyse import plot

    data = LF.set_index("case")
    tt = qca.truth_table(data, LIPSET, "SURV", incl_cut=0.7)
    sol = qca.minimize(tt, include_remainders=True, directional=ALL_PRESENT)
    fig = plot.xy_plot(qca.membership(tt, sol.terms), tt.data["SURV"], sol.expression, "SURV",
                       sol.consistency, sol.coverage, "da")
    ax = fig.axes[0]
    assert ax.get_title() == (f"Konsistens {sol.consistency:.2f}, dækning "
                              f"{sol.coverage:.2f}").replace(".", ",")
    assert len(ax.texts) == 18  # one label per country
    plt.close(fig)
    crisp = plot.xy_plot(LC["DEV"] * LC["STB"], LC["SURV"], "DEV*STB", "SURV", 1.0, 1.0, "en")
    # DEV*STB holds exactly the 8 survivors: two occupied corners, no case labels
    assert len(crisp.axes[0].collections) == 2 and not crisp.axes[0].texts
    plt.close(crisp)
