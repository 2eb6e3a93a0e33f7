"""Configurational analysis (QCA): calibration, truth tables, Boolean minimisation, necessity.

Crisp-set and fuzzy-set QCA as defined by Ragin (2008) *Redesigning Social Inquiry: Fuzzy Sets
and Beyond* and Schneider & Wagemann (2012) *Set-Theoretic Methods for the Social Sciences*.
Scores, truth-table rows, the solution notation (``A*~B + C``) and the order of terms and
models follow R's QCA package (Dusa), so results can be checked against it.

A QCA solution describes set relations in the data (which combinations of conditions are
subsets of the outcome); it is not an estimate of what a condition does.

    tt = qca.truth_table(data, ["MENTOR", "PRAKTIK"], "MAAL", incl_cut=0.8, n_cut=5)
    sol = qca.minimize(tt)                            # conservative (complex) solution
    par = qca.minimize(tt, include_remainders=True)   # parsimonious solution
    print(qca.describe_solution_da(sol, tt))
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

Implicant = tuple[int, ...]
"""One value per condition: 1 = present, 0 = absent, -1 = not part of the term."""

DASH = -1
NEG = "~"

# -- calibration ----------------------------------------------------------------------------


def calibrate_crisp(frame: pd.DataFrame, expressions: dict[str, str]) -> pd.DataFrame:
    """Crisp sets (0/1) from pandas expressions, e.g. ``{"HOEJ": "fremmoede >= 0.8"}``.

    Each expression is evaluated with ``DataFrame.eval`` on ``frame``; a row is in the set (1)
    where it is true. Rows where the expression reads a missing value get a missing membership.
    """
    out = {}
    for name, expr in expressions.items():
        try:
            value = frame.eval(expr)
        except Exception as exc:  # noqa: BLE001 - re-raised as a sentence for the user
            raise ValueError(
                f"Kalibreringen af {name!r} kunne ikke læse udtrykket {expr!r}: {exc}. "
                "Brug kolonnenavne fra data og sammenligninger som 'kolonne >= 3'."
            ) from exc
        if not isinstance(value, pd.Series) or not pd.api.types.is_bool_dtype(value):
            raise ValueError(f"Udtrykket for {name!r} ({expr!r}) skal give sandt/falsk pr. række.")
        member = value.astype("Int64")
        used = [c for c in frame.columns if isinstance(c, str) and c in expr]
        if used:
            member[frame[used].isna().any(axis=1)] = pd.NA
        out[name] = member
    return pd.DataFrame(out, index=frame.index)


def calibrate_fuzzy(x: pd.Series, excl: float, cross: float, incl: float) -> pd.Series:
    """Fuzzy membership by Ragin's direct method (Ragin 2008, ch. 5).

    The distance from the crossover is scaled so that the full-membership anchor ``incl`` has
    log odds 3, the crossover 0 and the full non-membership anchor ``excl`` −3; membership is
    ``exp(lo) / (1 + exp(lo))`` (so the anchors give 0.95, 0.5 and 0.05). Anchors may decrease
    (``excl > cross > incl``) when a high raw value means less membership. Missing stays missing.
    """
    if not (excl < cross < incl or excl > cross > incl):
        raise ValueError(
            f"Ankrene for kalibrering skal ligge i rækkefølge: fuldt ude ({excl}), overgang "
            f"({cross}), fuldt inde ({incl}) – enten stigende eller faldende."
        )
    values = pd.to_numeric(pd.Series(x), errors="coerce").astype(float)
    dev = values - cross
    toward_incl = np.sign(dev) == np.sign(incl - cross)
    log_odds = np.where(toward_incl, 3.0 * dev / (incl - cross), 3.0 * dev / (cross - excl))
    member = 1.0 / (1.0 + np.exp(-log_odds))
    return pd.Series(member, index=values.index, name=getattr(x, "name", None))


# -- set-theoretic scores -------------------------------------------------------------------


def _sufficiency(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Consistency, PRI and coverage of 'x is sufficient for y' (Ragin 2008, ch. 3 and 4)."""
    xy = np.minimum(x, y)
    xyn = np.minimum(xy, 1 - y)
    sx, sy, sxy, sxyn = x.sum(), y.sum(), xy.sum(), xyn.sum()
    incl = sxy / sx if sx > 0 else math.nan
    pri = (sxy - sxyn) / (sx - sxyn) if sx - sxyn > 0 else math.nan
    cov = sxy / sy if sy > 0 else math.nan
    return float(incl), float(pri), float(cov)


def _term_membership(data: np.ndarray, term: Implicant) -> np.ndarray:
    """Membership of every case in a conjunction: min over its literals (x or 1 − x)."""
    member = np.ones(data.shape[0])
    for j, v in enumerate(term):
        if v == 1:
            member = np.minimum(member, data[:, j])
        elif v == 0:
            member = np.minimum(member, 1 - data[:, j])
    return member


def term_name(term: Implicant, conditions: list[str]) -> str:
    """R QCA notation: ``DEV*~URB*STB`` (upper case present, ``~`` absent, ``*`` AND)."""
    parts = [c if v == 1 else NEG + c for c, v in zip(conditions, term, strict=True) if v != DASH]
    return "*".join(parts) if parts else "1"


def _term_order(term: Implicant) -> tuple:
    """Sort terms as R QCA does: fewer literals first, then absent < present < not used."""
    return (sum(v != DASH for v in term), tuple({0: 0, 1: 1, DASH: 2}[v] for v in term))


# -- truth table ----------------------------------------------------------------------------


@dataclass
class TruthTable:
    """A truth table: one row per configuration (all 2^k), with scores and output value.

    ``table`` has the condition columns, ``OUT`` (1, 0, ``"C"`` contradiction, ``"?"``
    remainder), ``n`` (cases with membership > 0.5 in the row), ``incl`` (consistency), ``PRI``,
    ``cov`` (raw coverage) and ``cases``. Rows are numbered as in R: the binary number + 1,
    first condition most significant. ``data`` holds the calibrated case data the scores came from.
    """

    table: pd.DataFrame
    conditions: list[str]
    outcome: str
    data: pd.DataFrame
    incl_cut: float
    incl_cut0: float
    n_cut: int
    pri_cut: float
    fuzzy: bool
    unassigned: list = field(default_factory=list)

    @property
    def positive(self) -> pd.DataFrame:
        return self.table[self.table["OUT"] == 1]

    @property
    def remainders(self) -> pd.DataFrame:
        return self.table[self.table["OUT"] == "?"]

    @property
    def contradictions(self) -> pd.DataFrame:
        return self.table[self.table["OUT"] == "C"]

    @property
    def n_cases(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        shown = self.table[self.table["OUT"] != "?"].copy()
        for col in ("incl", "PRI", "cov"):
            shown[col] = shown[col].map(lambda v: "-" if pd.isna(v) else f"{v:.3f}")
        cut = (f"{self.incl_cut}" if self.incl_cut0 == self.incl_cut
               else f"{self.incl_cut0}–{self.incl_cut}")
        head = (f"Truth table: {self.outcome} ~ {', '.join(self.conditions)} "
                f"({self.n_cases} cases, {'fuzzy' if self.fuzzy else 'crisp'} sets, "
                f"incl cut {cut}, n cut {self.n_cut})\n"
                "  OUT: 1 sufficient, 0 not, C contradiction, ? remainder\n")
        foot = f"\n{len(self.remainders)} of {len(self.table)} configurations are remainders (?)"
        return head + shown.to_string() + foot

    def to_dict(self) -> dict[str, Any]:
        """The truth table and its case data as JSON-serialisable values."""
        return {"table": frame_to_dict(self.table), "conditions": list(self.conditions),
                "outcome": self.outcome, "data": frame_to_dict(self.data),
                "incl_cut": self.incl_cut, "incl_cut0": self.incl_cut0, "n_cut": self.n_cut,
                "pri_cut": self.pri_cut, "fuzzy": self.fuzzy,
                "unassigned": [_plain(c) for c in self.unassigned]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TruthTable:
        """The truth table again from ``to_dict``."""
        return cls(table=frame_from_dict(d["table"]), conditions=list(d["conditions"]),
                   outcome=d["outcome"], data=frame_from_dict(d["data"]),
                   incl_cut=float(d["incl_cut"]), incl_cut0=float(d["incl_cut0"]),
                   n_cut=int(d["n_cut"]), pri_cut=float(d["pri_cut"]), fuzzy=bool(d["fuzzy"]),
                   unassigned=list(d.get("unassigned") or []))


def _plain(value: Any) -> Any:
    """A numpy scalar as a plain Python value; NaN as None (JSON has no NaN)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def frame_to_dict(df: pd.DataFrame) -> dict[str, Any]:
    """A frame as JSON-serialisable values, its index and column names kept
    (:func:`frame_from_dict` reads it back)."""
    return {"columns": [str(c) for c in df.columns], "index": [_plain(i) for i in df.index],
            "index_name": df.index.name,
            "data": [[_plain(v) if not isinstance(v, list | dict) else v for v in row]
                     for row in df.itertuples(index=False, name=None)]}


def frame_from_dict(d: dict[str, Any]) -> pd.DataFrame:
    """A frame from :func:`frame_to_dict`: numeric columns numeric again (None as NaN)."""
    df = pd.DataFrame(d["data"], columns=d["columns"],
                      index=pd.Index(d["index"], name=d.get("index_name")))
    for col in df.columns:
        if df[col].map(lambda v: v is None or isinstance(v, bool | int | float)).all() and \
                not df[col].map(lambda v: isinstance(v, bool)).any():
            df[col] = pd.to_numeric(df[col], errors="coerce")
    return df


def _check_memberships(data: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise KeyError(f"QCA: kolonnerne {missing} findes ikke i data (har: {list(data.columns)}).")
    for c in columns:
        col = pd.to_numeric(data[c], errors="coerce")
        bad = data.index[col.isna() | (col < 0) | (col > 1)]
        if len(bad):
            raise ValueError(
                f"QCA: kolonnen {c!r} skal have medlemskaber mellem 0 og 1 uden tomme felter; "
                f"række(r) {list(bad[:5])} gør ikke. Kalibrér først (calibrate_crisp/_fuzzy)."
            )


def truth_table(data: pd.DataFrame, conditions: list[str], outcome: str, incl_cut: float = 0.8,
                n_cut: int = 1, case_col: str | None = None, pri_cut: float = 0.0,
                incl_cut0: float | None = None) -> TruthTable:
    """Build the truth table of ``outcome`` on ``conditions`` (crisp 0/1 or fuzzy memberships).

    Consistency of a row X is ``sum(min(X, Y)) / sum(X)`` over all cases, with X the membership
    in the configuration (min over conditions of x or 1 − x); PRI and raw coverage as in Ragin
    (2008, ch. 3). A row is a remainder (``?``) with fewer than ``n_cut`` cases of membership
    > 0.5; else 1 if consistency ≥ ``incl_cut`` (and PRI ≥ ``pri_cut``), 0 if consistency
    < ``incl_cut0`` and ``"C"`` (contradiction) in between. ``incl_cut0`` defaults to
    1 − ``incl_cut``: a row whose cases clearly neither show nor lack the outcome is
    contradictory (Schneider & Wagemann 2012, sect. 5.2 and 7.2). R QCA's default is
    ``incl_cut0 = incl_cut``; the minimisation is the same either way, as C and 0 rows are both
    excluded. ``outcome`` may be negated as ``"~MAAL"``. Case ids come from ``case_col`` or the
    index. (A little over 60 lines: checks, then one loop over the 2^k rows.)
    """
    negate = outcome.startswith(NEG)
    out_col = outcome.removeprefix(NEG)
    conditions = list(conditions)
    if not conditions:
        raise ValueError("QCA: angiv mindst én betingelse.")
    _check_memberships(data, [*conditions, out_col])
    if n_cut < 1:
        raise ValueError(f"QCA: n_cut skal være mindst 1 (fik {n_cut}).")
    if incl_cut0 is None:
        incl_cut0 = min(incl_cut, 1 - incl_cut)
    if not 0 <= incl_cut0 <= incl_cut <= 1:
        raise ValueError(f"QCA: kræver 0 ≤ incl_cut0 ({incl_cut0}) ≤ incl_cut ({incl_cut}) ≤ 1.")
    ids = data[case_col] if case_col else data.index.to_series()
    cases = pd.DataFrame(data[[*conditions, out_col]].astype(float).to_numpy(),
                         columns=[*conditions, out_col], index=pd.Index(ids, name="case"))
    if negate:
        cases[out_col] = 1 - cases[out_col]
        cases = cases.rename(columns={out_col: outcome})
    x = cases[conditions].to_numpy()
    y = cases[outcome].to_numpy()
    fuzzy = bool(((x > 0) & (x < 1)).any() or ((y > 0) & (y < 1)).any())
    k = len(conditions)
    rows = []
    assigned = np.zeros(len(cases), dtype=bool)
    for config in itertools.product((0, 1), repeat=k):
        member = _term_membership(x, config)
        inside = member > 0.5
        assigned |= inside
        n = int(inside.sum())
        incl, pri, cov = _sufficiency(member, y)
        if n < n_cut:
            out: int | str = "?"
        elif incl >= incl_cut and not (pri < pri_cut):
            out = 1
        elif incl < incl_cut0 or incl >= incl_cut:
            out = 0
        else:
            out = "C"
        rows.append({**dict(zip(conditions, config, strict=True)), "OUT": out, "n": n,
                     "incl": incl, "PRI": pri, "cov": cov,
                     "cases": ",".join(str(c) for c in cases.index[inside])})
    table = pd.DataFrame(rows, index=pd.RangeIndex(1, 2 ** k + 1, name="row"))
    return TruthTable(table=table, conditions=conditions, outcome=outcome, data=cases,
                      incl_cut=incl_cut, incl_cut0=incl_cut0, n_cut=n_cut, pri_cut=pri_cut,
                      fuzzy=fuzzy, unassigned=list(cases.index[~assigned]))


# -- Boolean minimisation -------------------------------------------------------------------


def prime_implicants(on: set[Implicant], dc: set[Implicant] = frozenset()) -> list[Implicant]:
    """Quine–McCluskey: all prime implicants of ON ∪ DC that cover at least one ON minterm."""
    current = set(on) | set(dc)
    primes: set[Implicant] = set()
    while current:
        merged: set[Implicant] = set()
        used: set[Implicant] = set()
        groups: dict[tuple, list[Implicant]] = {}
        for imp in current:  # only terms with dashes in the same places can merge
            groups.setdefault(tuple(v == DASH for v in imp), []).append(imp)
        for members in groups.values():
            for a, b in itertools.combinations(members, 2):
                diff = [i for i, (u, v) in enumerate(zip(a, b, strict=True)) if u != v]
                if len(diff) == 1:
                    new = list(a)
                    new[diff[0]] = DASH
                    merged.add(tuple(new))
                    used.update((a, b))
        primes |= current - used
        current = merged
    return sorted((p for p in primes if any(_covers(p, m) for m in on)), key=_term_order)


def _covers(term: Implicant, minterm: Implicant) -> bool:
    return all(t == DASH or t == m for t, m in zip(term, minterm, strict=True))


MAX_SEARCH_STEPS = 200_000
"""Cap on the cover search; real truth tables with a handful of conditions need far fewer."""


def minimal_covers(primes: list[Implicant], on: list[Implicant]) -> list[list[int]]:
    """All covers of the ON minterms with the fewest prime implicants (exact, like Petrick).

    Essential prime implicants are taken first. The rest is an exact branch-and-bound search:
    some chosen implicant must cover the open minterm with the fewest candidates, so branching
    over those (each set once: a later branch excludes the earlier candidates) reaches every
    minimum cover; branches that cannot beat the best cover found so far are cut. Indices
    refer to ``primes``; covers are sorted by their sorted indices, R QCA's order of models.
    """
    if not on:
        return [[]]
    chart = [sum(1 << j for j, m in enumerate(on) if _covers(p, m)) for p in primes]
    essential = set()
    for j in range(len(on)):
        by = [i for i, cov in enumerate(chart) if cov >> j & 1]
        if len(by) == 1:
            essential.add(by[0])
    full = (1 << len(on)) - 1
    covered = 0
    for i in essential:
        covered |= chart[i]
    covering = {j: [i for i, cov in enumerate(chart) if cov >> j & 1 and i not in essential]
                for j in range(len(on))}
    best = [len(primes) + 1]
    found: set[frozenset[int]] = set()
    steps = [0]

    def search(chosen: frozenset[int], done: int, banned: frozenset[int]) -> None:
        steps[0] += 1
        if steps[0] > MAX_SEARCH_STEPS:
            raise ValueError(
                f"QCA: tabellen med {len(primes)} primimplikanter er for kompleks til at finde "
                "alle minimale løsninger i rimelig tid. Brug færre betingelser."
            )
        if done == full:
            if len(chosen) < best[0]:
                best[0] = len(chosen)
                found.clear()
            found.add(chosen)
            return
        left = full & ~done
        widest = max((chart[i] & left).bit_count() for i in range(len(primes))
                     if i not in banned)
        if widest == 0 or len(chosen) + -(-left.bit_count() // widest) > best[0]:
            return  # no cover of this branch can be as small as the best one
        row = min((j for j in range(len(on)) if left >> j & 1),
                  key=lambda j: len([i for i in covering[j] if i not in banned]))
        for i in covering[row]:  # the cover holds i, or (from here on) not i
            if i not in banned:
                search(chosen | {i}, done | chart[i], banned)
                banned = banned | {i}

    search(frozenset(), covered, frozenset(essential))
    return sorted(sorted(essential | c) for c in found)


@dataclass
class Solution:
    """A minimised solution: the main model, alternative models and their parameters of fit.

    ``terms`` is the main (first) model; ``models`` all models with the minimal number of
    terms. ``table`` has, per term of the main model, consistency (``incl``), ``PRI``, raw
    coverage (``cov_raw``), unique coverage (``cov_unique``) and the cases with membership > 0.5,
    computed on the case data. ``consistency``/``coverage``/``pri`` belong to the main model.
    ``simplifying_assumptions`` are the remainder rows the main model covers. An intermediate
    solution (``directional`` set) also lists its ``easy_counterfactuals`` (the remainders it
    uses, all in line with the directional expectations) and ``difficult_counterfactuals`` (the
    parsimonious solution's simplifying assumptions it does not make); ``excluded`` are the
    remainder rows kept out of the minimisation as untenable.
    """

    outcome: str
    conditions: list[str]
    include_remainders: bool
    terms: list[str]
    models: list[list[str]]
    table: pd.DataFrame
    consistency: float
    coverage: float
    pri: float
    model_fit: pd.DataFrame
    simplifying_assumptions: list[int]
    essential: list[str]
    directional: dict[str, int | str] | None = None
    easy_counterfactuals: list[int] = field(default_factory=list)
    difficult_counterfactuals: list[int] = field(default_factory=list)
    excluded: list[int] = field(default_factory=list)

    @property
    def expression(self) -> str:
        return " + ".join(self.terms)

    @property
    def kind(self) -> str:
        if self.directional is not None:
            return "intermediate"
        return "parsimonious" if self.include_remainders else "conservative"

    def __str__(self) -> str:
        if not self.terms:
            return f"(no solution) -> {self.outcome}"
        return "\n".join(f"M{i}: {' + '.join(m)} -> {self.outcome}"
                         for i, m in enumerate(self.models, start=1))

    def __repr__(self) -> str:
        if not self.terms:
            return f"{self.kind.capitalize()} solution: none (no row passes the cut-offs)"
        shown = self.table.drop(columns="cases").to_string(float_format=lambda v: f"{v:.3f}")
        return (f"{self.kind.capitalize()} solution\n{self}\n\n{shown}\n"
                f"M1: incl {self.consistency:.3f}, PRI {self.pri:.3f}, cov {self.coverage:.3f}")


    _LISTS = ("simplifying_assumptions", "essential", "easy_counterfactuals",
              "difficult_counterfactuals", "excluded")

    def to_dict(self) -> dict[str, Any]:
        """The solution as JSON-serialisable values."""
        return {"outcome": self.outcome, "conditions": list(self.conditions),
                "include_remainders": self.include_remainders, "terms": list(self.terms),
                "models": [list(m) for m in self.models], "table": frame_to_dict(self.table),
                "consistency": _plain(self.consistency), "coverage": _plain(self.coverage),
                "pri": _plain(self.pri), "model_fit": frame_to_dict(self.model_fit),
                "directional": self.directional,
                **{k: [_plain(v) for v in getattr(self, k)] for k in self._LISTS}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Solution:
        """The solution again from ``to_dict``."""
        def num(v: Any) -> float:
            return math.nan if v is None else float(v)

        return cls(outcome=d["outcome"], conditions=list(d["conditions"]),
                   include_remainders=bool(d["include_remainders"]), terms=list(d["terms"]),
                   models=[list(m) for m in d["models"]], table=frame_from_dict(d["table"]),
                   consistency=num(d["consistency"]), coverage=num(d["coverage"]),
                   pri=num(d["pri"]), model_fit=frame_from_dict(d["model_fit"]),
                   directional=d.get("directional"),
                   **{k: list(d.get(k) or []) for k in cls._LISTS})


def _row_minterm(row: pd.Series, conditions: list[str]) -> Implicant:
    return tuple(int(row[c]) for c in conditions)


def _parse_term(name: str, conditions: list[str]) -> Implicant:
    term = [DASH] * len(conditions)
    if name == "1":  # every condition eliminated: the outcome in all observed configurations
        return tuple(term)
    for lit in name.split("*"):
        neg = lit.startswith(NEG)
        term[conditions.index(lit.removeprefix(NEG))] = 0 if neg else 1
    return tuple(term)


def fit(terms: list[str], tt: TruthTable) -> pd.DataFrame:
    """Parameters of fit for a disjunction of terms on the case data (Ragin 2008, ch. 3).

    Unique coverage of a term is the model's coverage minus the coverage of the model without
    that term.
    """
    x = tt.data[tt.conditions].to_numpy()
    y = tt.data[tt.outcome].to_numpy()
    members = {t: _term_membership(x, _parse_term(t, tt.conditions)) for t in terms}
    whole = np.max(np.vstack(list(members.values())), axis=0) if members else np.zeros(len(y))
    _, _, cov_all = _sufficiency(whole, y)
    rows = []
    for t, m in members.items():
        incl, pri, cov = _sufficiency(m, y)
        others = [members[o] for o in terms if o != t]
        rest = np.max(np.vstack(others), axis=0) if others else np.zeros(len(y))
        rows.append({"term": t, "incl": incl, "PRI": pri, "cov_raw": cov,
                     "cov_unique": cov_all - _sufficiency(rest, y)[2],
                     "cases": ",".join(str(c) for c in tt.data.index[m > 0.5])})
    return pd.DataFrame(rows, columns=["term", "incl", "PRI", "cov_raw", "cov_unique", "cases"])


DIRECTIONS = (1, 0, "-")
"""A directional expectation per condition: expected present (1), absent (0), or either ("-")."""


def _directions(tt: TruthTable, directional: dict[str, Any]) -> list[int | str]:
    """One expectation per condition, in the truth table's order; unknown names are an error."""
    unknown = sorted(set(directional) - set(tt.conditions))
    if unknown:
        raise ValueError(f"QCA: retningsforventninger for ukendte betingelser {unknown}; "
                         f"betingelserne er {tt.conditions}.")
    out: list[int | str] = []
    for c in tt.conditions:
        v = directional.get(c, "-")
        v = int(v) if isinstance(v, (bool, int, np.integer)) or v in ("0", "1") else v
        if v not in DIRECTIONS:
            raise ValueError(f"QCA: retningsforventningen for {c!r} skal være 1 (til stede), "
                             f"0 (fraværende) eller '-' (begge dele); fik {v!r}.")
        out.append(v)
    return out


def _easy(remainder: Implicant, positives: list[Implicant], expect: list[int | str]) -> bool:
    """Whether a remainder is an easy counterfactual: it differs from some observed positive row
    only in conditions with a directional expectation, and there takes the expected value – so
    theory says the outcome should be there at least as much (Ragin & Sonnett 2005; Ragin 2008,
    ch. 9)."""
    return any(all(r == p or (d != "-" and r == d) for r, p, d in zip(remainder, pos, expect,
                                                                    strict=True))
               for pos in positives)


def _covers_chart(primes: list[Implicant], on: list[Implicant]) -> list[list[Implicant]]:
    """All minimal covers of ``on`` by ``primes``, each as its implicants, shared ones first."""
    covers = minimal_covers(primes, on)
    common = set.intersection(*(set(c) for c in covers))
    return [[primes[i] for i in c if i in common] + [primes[i] for i in c if i not in common]
            for c in covers]


def minimize(tt: TruthTable, include_remainders: bool = False,
             directional: dict[str, Any] | None = None,
             exclude: list[int] | tuple[int, ...] = ()) -> Solution:
    """Exact Boolean minimisation of the positive rows (OUT = 1) of a truth table.

    Conservative (complex) solution: only observed positive rows. Parsimonious solution:
    remainders (``?``) may be used as don't-cares – simplifying assumptions about configurations
    nobody observed (Schneider & Wagemann 2012, ch. 6 and 8). Contradictions and 0 rows are
    never used. Prime implicants by Quine–McCluskey; all covers with the fewest prime implicants
    are returned as models, ordered as R QCA orders them; the first is the main model.

    Intermediate solution (``directional`` given, with ``include_remainders=True``): one
    expectation per condition name, 1 (present expected to go with the outcome), 0 (absent) or
    "-" (either; the default for a condition left out). For each parsimonious model, only its
    simplifying assumptions that are easy counterfactuals (see ``_easy``) are used, as R QCA's
    ``minimize(..., include = "?", dir.exp = ...)`` does; models found from several
    parsimonious models are listed once. ``exclude`` lists remainder row numbers that may not be
    used at all (untenable assumptions, Enhanced Standard Analysis). Long because the three
    kinds of solution share the charts and the fit of their models (R QCA's order).
    """
    conds = tt.conditions
    if directional is not None and not include_remainders:
        raise ValueError("QCA: en intermediær løsning bruger logiske rester; sæt "
                         "include_remainders=True sammen med retningsforventningerne.")
    expect = _directions(tt, directional) if directional is not None else None
    on = [_row_minterm(r, conds) for _, r in tt.positive.iterrows()]
    excluded = sorted(int(i) for i in exclude if i in tt.remainders.index)
    remainders = {int(i): _row_minterm(r, conds) for i, r in tt.remainders.iterrows()
                  if int(i) not in excluded}
    dc = set(remainders.values()) if include_remainders else set()
    if not on:
        empty = pd.DataFrame(columns=["term", "incl", "PRI", "cov_raw", "cov_unique", "cases"])
        return Solution(tt.outcome, conds, include_remainders, [], [], empty, math.nan, math.nan,
                        math.nan, pd.DataFrame(), [], [], directional=directional,
                        excluded=excluded)
    models_imp = _covers_chart(prime_implicants(set(on), dc), on)
    easy: list[int] = []
    difficult: list[int] = []
    if expect is not None:  # one intermediate chart per parsimonious model (R's C1P1, C1P2, ...)
        found: list[list[Implicant]] = []
        charts = []
        for par in models_imp:
            assumed = {i: r for i, r in remainders.items() if any(_covers(t, r) for t in par)}
            ec = {i: r for i, r in assumed.items() if _easy(r, on, expect)}
            for model in _covers_chart(prime_implicants(set(on), set(ec.values())), on):
                if sorted(model) not in [sorted(m) for m in found]:
                    found.append(model)
                    charts.append((assumed, ec))
        models_imp = found
        assumed, ec = charts[0]
        main = models_imp[0]
        easy = sorted(i for i, r in ec.items() if any(_covers(t, r) for t in main))
        difficult = sorted(set(assumed) - set(easy))
    models = [[term_name(p, conds) for p in m] for m in models_imp]
    common = set.intersection(*(set(m) for m in models_imp))
    fits = []
    x = tt.data[conds].to_numpy()
    y = tt.data[tt.outcome].to_numpy()
    for i, m in enumerate(models, start=1):
        member = np.max(np.vstack([_term_membership(x, _parse_term(t, conds)) for t in m]), axis=0)
        incl, pri, cov = _sufficiency(member, y)
        fits.append({"model": f"M{i}", "expression": " + ".join(m), "incl": incl, "PRI": pri,
                     "cov": cov})
    model_fit = pd.DataFrame(fits).set_index("model")
    main_terms = models_imp[0]
    assumed_rows = [i for i, r in remainders.items() if include_remainders
                    and any(_covers(p, r) for p in main_terms)]
    return Solution(
        outcome=tt.outcome, conditions=conds, include_remainders=include_remainders,
        terms=models[0], models=models, table=fit(models[0], tt), consistency=fits[0]["incl"],
        coverage=fits[0]["cov"], pri=fits[0]["PRI"], model_fit=model_fit,
        simplifying_assumptions=sorted(assumed_rows),
        essential=[term_name(p, conds) for p in models_imp[0] if p in common],
        directional=None if expect is None else dict(zip(conds, expect, strict=True)),
        easy_counterfactuals=easy, difficult_counterfactuals=difficult, excluded=excluded)


# -- Enhanced Standard Analysis: untenable assumptions ---------------------------------------

NECESSITY_CUT = 0.9
"""Consistency from which a condition counts as necessary for the ESA (Schneider & Wagemann
2012, sect. 9.1), together with a relevance (RoN) of at least ``NECESSITY_RON``."""
NECESSITY_RON = 0.5


def negated(tt: TruthTable) -> TruthTable:
    """The truth table of the outcome's negation, with the same conditions and cut-offs."""
    base = tt.outcome.removeprefix(NEG)
    data = tt.data.rename(columns={tt.outcome: base})
    if tt.outcome.startswith(NEG):  # back to the outcome itself
        data[base] = 1 - data[base]
        name = base
    else:
        name = NEG + base
    return truth_table(data, tt.conditions, name, incl_cut=tt.incl_cut, n_cut=tt.n_cut,
                       pri_cut=tt.pri_cut, incl_cut0=tt.incl_cut0)


def _sop_terms(expression: str, conditions: list[str]) -> list[Implicant]:
    """Parse a sum of products such as ``"A*~B + C"`` over the conditions, with a clear error."""
    terms = []
    for raw in expression.split("+"):
        term = raw.strip().replace(" ", "")
        lits = [lit.removeprefix(NEG) for lit in term.split("*")]
        bad = [lit for lit in lits if lit not in conditions]
        if not term or bad:
            raise ValueError(f"QCA: udtrykket {expression!r} bruger {bad or 'intet'}, som ikke er "
                             f"en betingelse; brug {conditions} med * for og, + for eller og ~ "
                             "for ikke.")
        terms.append(_parse_term(term, conditions))
    return terms


def untenable_assumptions(tt: TruthTable, impossible: list[str] | tuple[str, ...] = (),
                          necessity_cut: float = NECESSITY_CUT,
                          ron_cut: float = NECESSITY_RON) -> pd.DataFrame:
    """Remainders that may not serve as simplifying assumptions (Enhanced Standard Analysis,
    Schneider & Wagemann 2012, ch. 8; 2013): one row per (remainder, reason).

    ``contradictory``: used as a simplifying assumption by a parsimonious solution for the
    outcome and by one for its negation (R QCA ``findRows(type = 2)``). ``necessity``: lacks a
    condition that is necessary for the outcome (consistency ≥ ``necessity_cut`` with RoN ≥
    ``ron_cut``), so assuming the outcome there contradicts the necessity claim.
    ``impossible``: covered by one of the ``impossible`` expressions (configurations that cannot
    exist by definition, e.g. ``"A*~B"`` when A implies B).
    """
    conds = tt.conditions
    rem = {int(i): _row_minterm(r, conds) for i, r in tt.remainders.iterrows()}
    rows: list[dict] = []

    def add(i: int, reason: str, detail: str) -> None:
        rows.append({"row": i, "configuration": term_name(rem[i], conds), "reason": reason,
                     "detail": detail})

    def assumed(t: TruthTable) -> set[int]:
        if t.positive.empty:
            return set()
        sol = minimize(t, include_remainders=True)
        return {i for i, r in rem.items()
                if any(_covers(_parse_term(term, conds), r) for m in sol.models for term in m)}

    for i in sorted(assumed(tt) & assumed(negated(tt))):
        add(i, "contradictory", NEG + tt.outcome if not tt.outcome.startswith(NEG)
            else tt.outcome.removeprefix(NEG))
    nec = necessity(tt.data.rename(columns={tt.outcome: "_Y"}), conds, "_Y")
    for name, r in nec.iterrows():
        if r["consistency"] >= necessity_cut and r["RoN"] >= ron_cut:
            col = conds.index(str(name).removeprefix(NEG))
            need = 0 if str(name).startswith(NEG) else 1
            for i, m in rem.items():
                if m[col] != need:
                    add(i, "necessity", str(name))
    for expr in impossible:
        terms = _sop_terms(expr, conds)
        for i, m in rem.items():
            if any(_covers(t, m) for t in terms):
                add(i, "impossible", expr)
    return pd.DataFrame(rows, columns=["row", "configuration", "reason", "detail"])


# -- robustness -------------------------------------------------------------------------------


@dataclass
class Robustness:
    """Solutions across alternative cut-offs and calibrations (in the spirit of SetMethods'
    ``rob.inclrange``, ``rob.ncutrange`` and ``rob.calibrange``; Oana & Schneider 2024).

    ``table``: one row per setting (``test``, ``setting``, ``expression``; ``base`` marks the
    analysis reported). ``terms``: per term of the base solution, in how many of the settings it
    appears (``kept``) out of ``n_settings``; ``robust`` lists the terms found in every setting.
    """

    table: pd.DataFrame
    terms: pd.DataFrame
    kind: str

    @property
    def robust(self) -> list[str]:
        return list(self.terms.loc[self.terms["kept"] == self.terms["n_settings"], "term"])

    @property
    def changes(self) -> bool:
        return bool((self.table["expression"] != self.table.loc[self.table["base"],
                                                                "expression"].iloc[0]).any())


    def to_dict(self) -> dict[str, Any]:
        """The runs as JSON-serialisable values."""
        return {"table": frame_to_dict(self.table), "terms": frame_to_dict(self.terms),
                "kind": self.kind}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Robustness:
        """The runs again from ``to_dict``."""
        table = frame_from_dict(d["table"])
        table["base"] = table["base"].astype(bool)
        table["expression"] = table["expression"].fillna("").astype(str)
        table["setting"] = table["setting"].map(lambda v: "" if v is None or v != v else v)
        return cls(table=table, terms=frame_from_dict(d["terms"]), kind=d["kind"])


def _solve(tt: TruthTable, kind: str, directional: dict[str, Any] | None,
           impossible: tuple[str, ...]) -> Solution:
    """Conservative, parsimonious or intermediate solution; the last two leave untenable
    assumptions out (ESA)."""
    if kind == "conservative":
        return minimize(tt)
    exclude = list(untenable_assumptions(tt, impossible)["row"].unique())
    return minimize(tt, include_remainders=True,
                    directional=directional if kind == "intermediate" else None,
                    exclude=exclude)


def robustness(data: pd.DataFrame, conditions: list[str], outcome: str, incl_cut: float,
               n_cut: int, incl_cuts: list[float] = (), n_cuts: list[int] = (),
               calibrations: dict[str, pd.DataFrame] | None = None, kind: str = "intermediate",
               directional: dict[str, Any] | None = None, case_col: str | None = None,
               impossible: tuple[str, ...] = ()) -> Robustness:
    """Re-run the analysis at other consistency cut-offs (``incl_cuts``), frequency cut-offs
    (``n_cuts``) and calibrations (``calibrations``: label → data calibrated with other anchors,
    same columns), one change at a time from the base (``incl_cut``, ``n_cut``, ``data``), and
    record which terms of the base solution survive."""
    if kind not in ("conservative", "parsimonious", "intermediate"):
        raise ValueError(f"QCA: ukendt løsningstype {kind!r}.")

    def solve(d: pd.DataFrame, ic: float, nc: int) -> Solution:
        tt = truth_table(d, conditions, outcome, incl_cut=ic, n_cut=nc, case_col=case_col)
        return _solve(tt, kind, directional, tuple(impossible))

    runs = [("base", "", data, incl_cut, n_cut)]
    runs += [("incl_cut", c, data, c, n_cut) for c in incl_cuts if c != incl_cut]
    runs += [("n_cut", c, data, incl_cut, c) for c in n_cuts if c != n_cut]
    runs += [("calibration", label, d, incl_cut, n_cut)
             for label, d in (calibrations or {}).items()]
    rows = []
    solutions = []
    for test, setting, d, ic, nc in runs:
        sol = solve(d, ic, nc)
        solutions.append(sol)
        rows.append({"test": test, "setting": setting, "incl_cut": ic, "n_cut": nc,
                     "expression": sol.expression, "n_terms": len(sol.terms),
                     "base": test == "base"})
    table = pd.DataFrame(rows)
    base_terms = solutions[0].terms
    terms = pd.DataFrame([{"term": t, "kept": sum(t in s.terms for s in solutions),
                           "n_settings": len(solutions)} for t in base_terms],
                         columns=["term", "kept", "n_settings"])
    return Robustness(table=table, terms=terms, kind=kind)


# -- set diagnostics --------------------------------------------------------------------------

SKEW_LIMIT = 0.8
"""A set with more than this share of cases inside (or outside) is skewed (SetMethods'
``skew.check``; Oana, Schneider & Thomann 2021, sect. 3.3): its consistency says little."""


def skewness(data: pd.DataFrame, sets: list[str]) -> pd.DataFrame:
    """Per calibrated set: the share of cases with membership above 0.5 and whether the set is
    skewed (share above ``SKEW_LIMIT`` or below 1 − ``SKEW_LIMIT``)."""
    _check_memberships(data, sets)
    share = {s: float((data[s].astype(float) > 0.5).mean()) for s in sets}
    out = pd.DataFrame({"share_in": share}).rename_axis("set")
    out["skewed"] = (out["share_in"] > SKEW_LIMIT) | (out["share_in"] < 1 - SKEW_LIMIT)
    return out


def xy_points(member: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Consistency, coverage (sufficiency) and their necessity readings of X for Y: the numbers
    an XY plot carries (Schneider & Wagemann 2012, sect. 3.3)."""
    x = np.asarray(member, dtype=float)
    y = np.asarray(y, dtype=float)
    incl, pri, cov = _sufficiency(x, y)
    return {"consistency": incl, "coverage": cov, "PRI": pri}


def membership(tt: TruthTable, terms: list[str]) -> pd.Series:
    """Each case's membership in a disjunction of terms (max over terms of min over literals)."""
    x = tt.data[tt.conditions].to_numpy()
    if not terms:
        return pd.Series(np.zeros(len(x)), index=tt.data.index)
    member = np.max(np.vstack([_term_membership(x, _parse_term(t, tt.conditions))
                               for t in terms]), axis=0)
    return pd.Series(member, index=tt.data.index)


# -- necessity ------------------------------------------------------------------------------


def necessity(data: pd.DataFrame, conditions: list[str], outcome: str) -> pd.DataFrame:
    """Necessity of each condition and its negation for the outcome.

    Consistency ``sum(min(X, Y)) / sum(Y)``, coverage ``sum(min(X, Y)) / sum(X)`` (Ragin 2008,
    ch. 3) and relevance of necessity ``RoN = sum(1 − X) / sum(1 − min(X, Y))`` (Schneider &
    Wagemann 2012, sect. 9.2): a low RoN means X is so common it is trivially necessary.
    """
    out_col = outcome.removeprefix(NEG)
    _check_memberships(data, [*conditions, out_col])
    y = data[out_col].astype(float).to_numpy()
    if outcome.startswith(NEG):
        y = 1 - y
    rows = {}
    for c in conditions:
        raw = data[c].astype(float).to_numpy()
        for name, x in ((c, raw), (NEG + c, 1 - raw)):
            xy = np.minimum(x, y)
            rows[name] = {
                "consistency": xy.sum() / y.sum() if y.sum() > 0 else math.nan,
                "RoN": (1 - x).sum() / (1 - xy).sum() if (1 - xy).sum() > 0 else math.nan,
                "coverage": xy.sum() / x.sum() if x.sum() > 0 else math.nan,
            }
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("condition")


# -- disclosure control for reader text -------------------------------------------------------


def discloses(x: np.ndarray, y: np.ndarray, min_cell: int) -> bool:
    """Whether consistency and coverage of crisp membership ``x`` for outcome ``y`` would let a
    reader work out a count of 1..min_cell-1 people: X and Y, X without Y, or Y without X
    (the total with the outcome is shown elsewhere)."""
    x, y = np.asarray(x, dtype=float) > 0.5, np.asarray(y, dtype=float) > 0.5
    counts = ((x & y).sum(), (x & ~y).sum(), (~x & y).sum(), (~x & ~y).sum())
    return any(0 < c < min_cell for c in counts)


def rows_disclose(tt: TruthTable, min_cell: int) -> bool:
    """Whether any figure of a crisp truth table's solutions could reveal fewer than
    ``min_cell`` people: some configuration with cases has 1..min_cell-1 with or without the
    outcome. Every crisp consistency and coverage (and their differences between paths and
    solutions) is a ratio of sums of these row counts, so when no row is small none of them
    can give a small count back; when one is, a reader can often work it out by combining
    figures, so they are all withheld."""
    if tt.fuzzy:
        return False
    y = tt.data[tt.outcome].to_numpy(dtype=float) > 0.5
    keys = pd.Series([tuple(r) for r in (tt.data[tt.conditions].to_numpy() > 0.5)])
    frame = pd.DataFrame({"row": keys, "y": y})
    counts = frame.groupby("row")["y"].agg(["sum", "count"])
    k, n = counts["sum"].to_numpy(), counts["count"].to_numpy()
    return bool((((k > 0) & (k < min_cell)) | (((n - k) > 0) & ((n - k) < min_cell))).any())


def necessity_hidden(data: pd.DataFrame, conditions: list[str], outcome: str,
                     min_cell: int) -> pd.Series:
    """Per row of ``necessity`` (condition and its negation): whether its figures would reveal
    a count under ``min_cell`` in crisp data."""
    y = data[outcome].to_numpy(dtype=float)
    out = {}
    for c in conditions:
        x = data[c].to_numpy(dtype=float)
        out[c] = out[NEG + c] = discloses(x, y, min_cell)
    return pd.Series(out, name="hidden").rename_axis("condition")


# -- plain-language reading -----------------------------------------------------------------

FEW_CASES = 3
"""Positive rows with fewer cases than this are flagged as resting on few cases."""


def _guard(tt: TruthTable, solutions: list[Solution], min_cell: int | None) -> Any:
    """The reader's guard for readings of these solutions (none for fuzzy data)."""
    from .reader.qca import guard

    crisp = min_cell is not None and not tt.fuzzy
    return guard(tt, solution_counts(tt, solutions) if crisp else {},
                 _row_counts(tt) if crisp else [], min_cell)


def describe_solution(sol: Solution, tt: TruthTable, lang: str = "da",
                      labels: dict[str, str] | None = None, min_cell: int | None = None) -> str:
    """The solution in plain words (``reader.qca.describe``), with consistency, coverage and
    its limits. ``labels`` (condition or outcome name → reader label) names the conditions in
    the reading; with ``min_cell``, figures that would reveal fewer than that many people
    (crisp data) are left out."""
    from .reader.qca import describe

    return describe(sol, tt, _guard(tt, [sol], min_cell), lang, labels)


def describe_solution_da(sol: Solution, tt: TruthTable, labels: dict[str, str] | None = None,
                         min_cell: int | None = None) -> str:
    """The solution in plain Danish (:func:`describe_solution`)."""
    return describe_solution(sol, tt, "da", labels, min_cell)


def describe_solution_en(sol: Solution, tt: TruthTable, labels: dict[str, str] | None = None,
                         min_cell: int | None = None) -> str:
    """The solution in plain English (:func:`describe_solution`)."""
    return describe_solution(sol, tt, "en", labels, min_cell)


def describe_bounds(conservative: Solution, parsimonious: Solution, tt: TruthTable,
                    lang: str = "da", min_cell: int | None = None) -> str:
    """The conservative and parsimonious solutions as the bounds of the intermediate one: the
    first uses no unobserved combination, the second every simplifying assumption. Their fit is
    left out when it could reveal fewer than ``min_cell`` people (crisp data)."""
    from .reader.qca import bounds

    return bounds(conservative, parsimonious, tt,
                  _guard(tt, [conservative, parsimonious], min_cell), lang)


# -- the analysis a report shows: one call, one result ------------------------------------------

ANCHORS = (0.2, 0.5, 0.8)
"""Direct-method anchors for shares at delprojekt level: fully out / crossover / fully in."""
GOAL_ANCHORS = (0.35, 0.6, 0.85)
"""Anchors for the share who met the goal in a delprojekt."""
INCL_CUTS = (0.75, 0.8, 0.85, 0.9)
"""Consistency cut-offs tried in the robustness table (the analysis uses 0.8)."""
ANCHOR_SHIFTS = (-0.05, 0.05)
"""Shifts of all calibration anchors tried in the robustness table (delprojekt level)."""
INCL_CUT = 0.8
OUTCOME = "MAAL"
"""The outcome's short name in the report's truth tables (mål indfriet)."""


def directions(cfg: Any, columns: list[str]) -> dict[str, int | str]:
    """Directional expectations per condition column for the intermediate solution: a
    mechanism (element) of a CMO hypothesis is expected present for the goal (absent when the
    hypothesis expects a negative association); a context has no expectation ("-"). The
    config's ``qca.directions`` overrides."""
    out: dict[str, int | str] = dict.fromkeys(columns, "-")
    for h in cfg.hypotheses:
        if h.mechanism in out and out[h.mechanism] == "-":
            out[h.mechanism] = 0 if h.expected == "negative" else 1
    out.update({c: v for c, v in cfg.qca.directions.items() if c in out})
    return out


def _rename(expression: str, names: dict[str, str]) -> str:
    """A config expression over columns (``element_a*~tg_b``) in the QCA short names."""
    import re

    return re.sub(r"[A-Za-z_][A-Za-z0-9_]*",
                  lambda m: names.get(m.group(0), m.group(0)), expression)


def expression_names(expression: str) -> list[str]:
    """The column names an expression of ``qca.impossible`` uses."""
    import re

    return re.findall(r"[A-Za-z_][A-Za-z0-9_]*", expression)


def _crisp_counts(x: np.ndarray, y: np.ndarray) -> list[int]:
    """[X and Y, X without Y, Y without X, neither] of crisp memberships (over 0.5)."""
    x, y = np.asarray(x, dtype=float) > 0.5, np.asarray(y, dtype=float) > 0.5
    return [int((x & y).sum()), int((x & ~y).sum()), int((~x & y).sum()), int((~x & ~y).sum())]


def _row_counts(tt: TruthTable) -> list[list[int]]:
    """Per observed configuration of crisp data: [with the outcome, without]."""
    y = tt.data[tt.outcome].to_numpy(dtype=float) > 0.5
    keys = pd.Series([tuple(r) for r in (tt.data[tt.conditions].to_numpy() > 0.5)])
    counts = pd.DataFrame({"row": keys, "y": y}).groupby("row")["y"].agg(["sum", "count"])
    return [[int(k), int(n - k)] for k, n in zip(counts["sum"], counts["count"], strict=True)]


def solution_counts(tt: TruthTable, solutions: list[Solution | None]) -> dict[str, list[int]]:
    """The crisp counts behind each solution's figures (its whole expression and each term):
    what a reader could work out from its consistency and coverage."""
    y = tt.data[tt.outcome].to_numpy(dtype=float)
    out: dict[str, list[int]] = {}
    for sol in solutions:
        if sol is None or not sol.terms:
            continue
        for terms in [sol.terms, *[[t] for t in sol.table["term"]]]:
            out.setdefault(" + ".join(terms), _crisp_counts(membership(tt, terms).to_numpy(), y))
    return out


@dataclass
class QCAAnalysis:
    """One QCA of a report: crisp sets of young people or fuzzy sets of delprojekter.

    ``columns`` maps each short name (the conditions and the outcome ``MAAL``) to its column;
    ``intermediate`` is the solution to read, ``conservative`` and ``parsimonious`` its bounds
    (the intermediate and parsimonious are None when no row is positive); ``robustness`` is
    None when there is nothing to test. The counts are the disclosure facts a reader needs
    (:mod:`ungeanalyse.reader.qca` decides with the threshold): ``counts`` per solution
    expression and term and per necessity condition ([X and Y, X without Y, Y without X,
    neither]), ``row_counts`` per observed configuration ([with the goal, without]) and
    ``group_counts`` per delprojekt and column ([with, without]).
    """

    level: str
    columns: dict[str, str]
    directions: dict[str, int | str]
    truth_table: TruthTable
    necessity: pd.DataFrame
    skewness: pd.DataFrame
    conservative: Solution
    intermediate: Solution | None
    parsimonious: Solution | None
    untenable: pd.DataFrame
    robustness: Robustness | None
    counts: dict[str, list[int]] = field(default_factory=dict)
    row_counts: list[list[int]] = field(default_factory=list)
    group_counts: list[list[int]] = field(default_factory=list)

    @property
    def conditions(self) -> list[str]:
        return list(self.truth_table.conditions)

    def to_dict(self) -> dict[str, Any]:
        """The analysis as JSON-serialisable values."""
        def sol(s: Solution | None) -> dict[str, Any] | None:
            return None if s is None else s.to_dict()

        return {"level": self.level, "columns": self.columns, "directions": self.directions,
                "truth_table": self.truth_table.to_dict(),
                "necessity": frame_to_dict(self.necessity),
                "skewness": frame_to_dict(self.skewness),
                "conservative": sol(self.conservative), "intermediate": sol(self.intermediate),
                "parsimonious": sol(self.parsimonious),
                "untenable": frame_to_dict(self.untenable),
                "robustness": None if self.robustness is None else self.robustness.to_dict(),
                "counts": self.counts, "row_counts": self.row_counts,
                "group_counts": self.group_counts}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QCAAnalysis:
        """The analysis again from ``to_dict``."""
        def sol(s: dict[str, Any] | None) -> Solution | None:
            return None if s is None else Solution.from_dict(s)

        skew = frame_from_dict(d["skewness"])
        skew["skewed"] = skew["skewed"].astype(bool)
        untenable = frame_from_dict(d["untenable"])
        return cls(level=d["level"], columns=dict(d["columns"]),
                   directions=dict(d["directions"]),
                   truth_table=TruthTable.from_dict(d["truth_table"]),
                   necessity=frame_from_dict(d["necessity"]), skewness=skew,
                   conservative=Solution.from_dict(d["conservative"]),
                   intermediate=sol(d["intermediate"]), parsimonious=sol(d["parsimonious"]),
                   untenable=untenable,
                   robustness=(None if d["robustness"] is None
                               else Robustness.from_dict(d["robustness"])),
                   counts={k: list(v) for k, v in d["counts"].items()},
                   row_counts=[list(r) for r in d["row_counts"]],
                   group_counts=[list(r) for r in d["group_counts"]])


@dataclass
class QCAResult:
    """The configurations of a unit: young people (crisp) and, for the whole project with at
    least three delprojekter, delprojekter (fuzzy shares); ``min_cell`` is the threshold the
    crisp analysis used as its frequency cut-off."""

    unit: str
    min_cell: int
    participants: QCAAnalysis
    delprojekter: QCAAnalysis | None = None

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-serialisable values (``store.save("qca", …)``)."""
        return {"unit": self.unit, "min_cell": self.min_cell,
                "participants": self.participants.to_dict(),
                "delprojekter": None if self.delprojekter is None else self.delprojekter.to_dict()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> QCAResult:
        """The result again from ``to_dict`` (a saved ``qca.json``)."""
        return cls(unit=d["unit"], min_cell=int(d["min_cell"]),
                   participants=QCAAnalysis.from_dict(d["participants"]),
                   delprojekter=(None if d.get("delprojekter") is None
                                 else QCAAnalysis.from_dict(d["delprojekter"])))


def _solutions(tt: TruthTable, directional: dict[str, Any], impossible: list[str]
               ) -> tuple[Solution, Solution | None, Solution | None, pd.DataFrame]:
    """Conservative, intermediate and parsimonious solutions with the untenable assumptions
    left out of the last two (Enhanced Standard Analysis)."""
    cons = minimize(tt)
    if tt.positive.empty:
        return cons, None, None, pd.DataFrame(columns=["row", "configuration", "reason",
                                                       "detail"])
    untenable = untenable_assumptions(tt, impossible)
    exclude = list(untenable["row"].unique())
    inter = minimize(tt, include_remainders=True, directional=directional, exclude=exclude)
    pars = minimize(tt, include_remainders=True, exclude=exclude)
    return cons, inter, pars, untenable


def _analysis(level: str, data: pd.DataFrame, columns: dict[str, str],
              directional: dict[str, Any], impossible: list[str], n_cut: int,
              robustness_args: dict[str, Any]) -> QCAAnalysis:
    """One QCA: truth table, necessity, skewness, the three solutions and the robustness
    runs, with the counts its figures rest on."""
    conds = [c for c in columns if c != OUTCOME]
    tt = truth_table(data, conds, OUTCOME, incl_cut=INCL_CUT, n_cut=n_cut)
    cons, inter, pars, untenable = _solutions(tt, directional, impossible)
    rob = (robustness(data, conds, OUTCOME, incl_cut=INCL_CUT, n_cut=n_cut,
                      directional=directional, impossible=tuple(impossible), **robustness_args)
           if len(tt.positive) else None)
    y = data[OUTCOME].to_numpy(dtype=float)
    counts = solution_counts(tt, [cons, inter, pars]) if not tt.fuzzy else {}
    if not tt.fuzzy:
        counts |= {f"necessity:{c}": _crisp_counts(data[c].to_numpy(dtype=float), y)
                   for c in conds}
    return QCAAnalysis(level=level, columns=columns, directions=directional, truth_table=tt,
                       necessity=necessity(data, conds, OUTCOME),
                       skewness=skewness(data, [*conds, OUTCOME]), conservative=cons,
                       intermediate=inter, parsimonious=pars, untenable=untenable,
                       robustness=rob, counts=counts,
                       row_counts=[] if tt.fuzzy else _row_counts(tt))


def _group_counts(closed: pd.DataFrame, columns: list[str]) -> list[list[int]]:
    """Per delprojekt and column: [with, without] (what a delprojekt's point in an XY plot
    gives back with its size)."""
    out = []
    for col in columns:
        g = closed.groupby("delprojekt")[col].agg(["sum", "count"])
        out += [[int(w), int(n - w)] for w, n in zip(g["sum"], g["count"], strict=True)]
    return out


def analyse(participants: pd.DataFrame, cfg: Any, unit: str = "all") -> QCAResult:
    """QCA of a unit's young people with a closed course (crisp sets: the first target group as
    the context and up to three elements of the project-wide hypotheses as conditions;
    frequency cut-off = the disclosure threshold) and, for the whole project with at least
    three delprojekter, of the delprojekter (fuzzy sets from their shares, calibrated by the
    direct method at ``ANCHORS`` / ``GOAL_ANCHORS``, with the anchors shifted by
    ``ANCHOR_SHIFTS`` in the robustness runs)."""
    k = cfg.privacy.min_cell
    elements = list(dict.fromkeys(h.mechanism for h in cfg.hypotheses
                                  if h.delprojekter == "all"
                                  and h.mechanism.startswith("element_")))[:3]
    closed = participants[participants["goal_met"].notna()].copy()
    closed["goal_met"] = closed["goal_met"].astype(bool)
    first_group = next(iter(cfg.target_groups))
    context_col = f"tg_{first_group}"
    closed[context_col] = closed["target_group"].eq(first_group)
    conditions = [context_col, *elements]
    names = {e: e.removeprefix("element_").upper()[:6] for e in elements}
    names[context_col] = first_group.upper()[:6]
    columns = {names[c]: c for c in conditions} | {OUTCOME: "goal_met"}
    directional = {names[c]: v for c, v in directions(cfg, conditions).items()}
    impossible = [_rename(e, names) for e in cfg.qca.impossible
                  if all(n in names for n in expression_names(e))]
    data = closed[conditions + ["goal_met"]].astype(int).rename(
        columns={**names, "goal_met": OUTCOME})
    people = _analysis("participants", data, columns, directional, impossible, k,
                       {"incl_cuts": list(INCL_CUTS), "n_cuts": [k, 2 * k]})
    result = QCAResult(unit, k, people)
    if unit == "all" and closed["delprojekt"].nunique() >= 3:
        shares = closed.groupby("delprojekt")[[*conditions, "goal_met"]].mean()

        def calibrated(shift: float = 0.0) -> pd.DataFrame:
            fz = pd.DataFrame({names[c]: calibrate_fuzzy(shares[c], *(a + shift for a in ANCHORS))
                               for c in conditions})
            fz[OUTCOME] = calibrate_fuzzy(shares["goal_met"], *(a + shift for a in GOAL_ANCHORS))
            return fz

        shifted = {f"shift:{sh:+.2f}": calibrated(sh) for sh in ANCHOR_SHIFTS}
        result.delprojekter = _analysis(
            "delprojekter", calibrated(), columns, directional, impossible, 1,
            {"incl_cuts": list(INCL_CUTS), "n_cuts": [1, 2], "calibrations": shifted})
        result.delprojekter.group_counts = _group_counts(closed, [*conditions, "goal_met"])
    return result
