"""From sammenhæng to virkning: effect estimates against a register comparison group.

The participants are found in a register extract by the pseudonymised person key they share with
it (as on Danmarks Statistik's research machines); the other young people in the extract are the
comparison population. A logistic propensity score model (statsmodels) gives each person's
probability of taking part from the baseline covariates; the effect on the participants (ATT) is
estimated by nearest-neighbour matching on the logit of the score (with a caliper, exact on
municipality and target group) and by inverse probability weighting (ATT weights). Balance is
shown before and after, with the E-value of VanderWeele & Ding (2017) for unmeasured confounding.

Only these estimates may be called *virkning*, and each sentence that does names its assumptions
(no unmeasured confounding, overlap). Reading is at the edge (:func:`read_register`); the rest
are functions of DataFrames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .config import Comparison, ComparisonDemo, ProjectConfig, register_file
from .errors import UserError

BINARY = ("psychiatric_contact", "social_services_contact")
METHODS = ("naive", "matching", "ipw")
Z = 1.959963984540054

GENDERS = {"m": "mand", "mand": "mand", "male": "mand", "1": "mand", "dreng": "mand",
           "k": "kvinde", "kvinde": "kvinde", "f": "kvinde", "female": "kvinde", "2": "kvinde",
           "pige": "kvinde"}
YES_NO = {"1": 1, "ja": 1, "j": 1, "true": 1, "yes": 1, "1.0": 1,
          "0": 0, "nej": 0, "n": 0, "false": 0, "no": 0, "0.0": 0}


def register_path(cfg: ProjectConfig) -> Path:
    """The register extract named by ``comparison.file`` (relative to ``files.raw_dir``)."""
    _spec(cfg)
    return register_file(cfg)


def _spec(cfg: ProjectConfig) -> Comparison:
    if cfg.comparison is None:
        raise UserError(f"{cfg.project.id}: the config has no 'comparison:' section, so there is "
                        "no register comparison group to estimate effects against")
    return cfg.comparison


def read_table(path: Path) -> pd.DataFrame:
    """A register extract as delivered: parquet, CSV (; or ,; utf-8 or cp1252) or SAS
    (``.sas7bdat``, or a ``.xpt`` transport file), the SAS ones read by pyreadstat."""
    if not path.exists():
        raise UserError(f"The register extract {path} does not exist (comparison.file in the "
                        "config, relative to files.raw_dir)")
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix in (".sas7bdat", ".xpt"):  # SAS data set or SAS transport file
            import pyreadstat

            read = pyreadstat.read_sas7bdat if suffix == ".sas7bdat" else pyreadstat.read_xport
            frame, _ = read(str(path))
            return frame
        if suffix in (".csv", ".txt"):
            head = path.read_bytes()[:4096]
            try:
                head.decode("utf-8")
                encoding = "utf-8-sig"
            except UnicodeDecodeError:
                encoding = "cp1252"
            first = head.decode(encoding, errors="replace").splitlines()[0] if head else ""
            sep = ";" if first.count(";") > first.count(",") else ","
            return pd.read_csv(path, sep=sep, encoding=encoding, dtype=str,
                               keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise UserError(f"{path.name}: the register extract cannot be read ({exc})") from None
    raise UserError(f"{path.name}: a register extract must be .parquet, .csv, .sas7bdat or .xpt, "
                    f"not {suffix or 'a file without an extension'}")


def _rows(mask: pd.Series | np.ndarray, limit: int = 5) -> str:
    """Data row numbers (from 1, after the header) of the first few failing rows."""
    idx = np.flatnonzero(np.asarray(mask)) + 1
    shown = ", ".join(str(i) for i in idx[:limit])
    return f"row {shown}" if len(idx) == 1 else f"rows {shown}" + (" …" if len(idx) > limit
                                                                    else "")


def _text(values: pd.Series) -> pd.Series:
    out = values.astype("string").str.strip().str.casefold()
    return out.mask(out.eq(""))


def check_register(raw: pd.DataFrame, cfg: ProjectConfig, file: str = "register"
                   ) -> pd.DataFrame:
    """The register extract with canonical columns, checked; a UserError names the file, the
    column, how many rows and which, for any key, covariate or outcome that is missing or out of
    range. Nothing is dropped here. Long because it is a list of checks, one per column, each
    with its own message."""
    spec = _spec(cfg)
    cols = spec.columns.model_dump()
    wanted = {**cols, **{f"y_{m}": c for m, c in spec.outcomes.items()}}
    missing = [f"{c!r} ({k})" for k, c in wanted.items() if c not in raw.columns]
    if missing:
        raise UserError(f"{file}: column(s) {', '.join(missing)} not found; the file has "
                        f"{', '.join(map(str, raw.columns[:30]))}. Name them under "
                        "comparison.columns / comparison.outcomes in the config.")
    raw = raw.reset_index(drop=True)
    out = pd.DataFrame(index=raw.index)

    def fail(mask: Any, key: str, what: str) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            raise UserError(f"{file}, column {wanted[key]!r} ({key}): {int(mask.sum()):,} "
                            f"row(s) {what} ({_rows(mask)}). Fix the extract; no row is left "
                            "out silently.")

    pid = raw[cols["person_id"]].astype("string").str.strip()
    fail(pid.isna() | pid.eq(""), "person_id", "have no person key")
    fail(pid.duplicated(keep=False), "person_id", "repeat a person key that is already in the "
         "file (one row per person)")
    out["person_id"] = pid
    idx = pd.to_datetime(raw[cols["index_date"]], errors="coerce", dayfirst=True)
    fail(idx.isna(), "index_date", "have no valid index date")
    out["index_date"] = idx
    age = pd.to_numeric(raw[cols["age"]], errors="coerce")
    fail(age.isna(), "age", "have no age")
    fail((age < cfg.age.min) | (age > cfg.age.max), "age",
         f"have an age outside {cfg.age.min}–{cfg.age.max} (age in the config)")
    out["age"] = age.astype(float)
    gender = _text(raw[cols["gender"]]).map(GENDERS)
    fail(gender.isna(), "gender", "have a gender that is not mand/kvinde (M/K, 1/2)")
    out["male"] = gender.eq("mand").astype(float)
    muni = raw[cols["municipality"]].astype("string").str.strip()
    fail(muni.isna() | muni.eq(""), "municipality", "have no municipality")
    out["municipality"] = pd.Categorical(muni.astype(str))
    lookup = {}
    for code, tg in cfg.target_groups.items():
        for alias in [code, tg.label, *tg.aliases]:
            lookup[alias.strip().casefold()] = code
    tg = _text(raw[cols["target_group"]]).map(lookup)
    fail(tg.isna(), "target_group", "have a target group that is not in the config's "
         f"target_groups ({', '.join(cfg.target_groups)})")
    out["target_group"] = pd.Categorical(tg.astype(str), categories=list(cfg.target_groups))
    levels = {lv.casefold(): lv for lv in spec.prior_education_levels}
    edu = _text(raw[cols["prior_education"]]).map(levels)
    fail(edu.isna(), "prior_education", "have a prior education that is not one of "
         f"comparison.prior_education_levels ({', '.join(spec.prior_education_levels)})")
    out["prior_education"] = pd.Categorical(edu.astype(str),
                                            categories=spec.prior_education_levels)
    neet = pd.to_numeric(raw[cols["months_neet"]], errors="coerce")
    fail(neet.isna(), "months_neet", "have no number of months outside education and work")
    fail((neet < 0) | (neet > spec.months_neet_max), "months_neet",
         f"have a number of months outside 0–{spec.months_neet_max} "
         "(comparison.months_neet_max)")
    out["months_neet"] = neet.astype(float)
    for key in BINARY:
        values = _binary(raw[cols[key]])
        fail(values.isna(), key, "are not 0/1 (nej/ja)")
        out[key] = values.astype(float)
    end = pd.Timestamp(spec.data_end)
    for m in spec.outcomes:
        y = _binary(raw[wanted[f"y_{m}"]])
        followed = idx <= end - pd.DateOffset(months=m)  # the window ends by data_end
        raw_y = raw[wanted[f"y_{m}"]]
        present = raw_y.notna() & raw_y.astype("string").str.strip().ne("")
        fail(present & y.isna(), f"y_{m}", "are not 0/1")
        fail(followed & y.isna(), f"y_{m}",
             f"have no outcome although the {m}-month window ends before comparison.data_end "
             f"({spec.data_end:%d-%m-%Y})")
        fail(~followed & present, f"y_{m}",
             f"have an outcome although the {m}-month window ends after comparison.data_end "
             f"({spec.data_end:%d-%m-%Y}): is data_end right?")
        out[f"y_{m}"] = y.astype(float)
        out[f"followed_{m}"] = followed.to_numpy()
    return out


def _binary(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        v = pd.to_numeric(values, errors="coerce").astype(float)
        return v.where(v.isin([0.0, 1.0]))
    return _text(values).map(YES_NO).astype(float)


def _member(values: pd.Series, pool: Any) -> np.ndarray:
    """Whether each value is in ``pool`` (pyarrow's hash set: fast for a million keys)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    pool = pool if isinstance(pool, pd.Series) else pd.Series(list(pool), dtype="string")
    arr = pa.array(values.astype("string"))
    return np.asarray(pc.is_in(arr, value_set=pa.array(pool.astype("string"))).to_numpy(
        zero_copy_only=False), dtype=bool)


def _codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Integer codes and the values they stand for (categorical or not)."""
    cat = values if isinstance(values.dtype, pd.CategoricalDtype) else values.astype("category")
    return cat.cat.codes.to_numpy(), [str(c) for c in cat.cat.categories]


def _strata(data: pd.DataFrame) -> np.ndarray:
    """The exact-matching stratum of each row: municipality × target group, as one integer."""
    muni, _ = _codes(data["municipality"])
    tg, groups = _codes(data["target_group"])
    return muni.astype(np.int64) * (len(groups) + 1) + tg


def _dummies(values: pd.Series, present: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """One 0/1 column per value (only values seen where ``present``, when given)."""
    codes, cats = _codes(values)
    seen = np.unique(codes if present is None else codes[present])
    return {cats[c]: (codes == c).astype(float) for c in seen if c >= 0}


def read_register(cfg: ProjectConfig) -> pd.DataFrame:
    """Read and check the register extract the config names (see :func:`check_register`)."""
    path = register_path(cfg)
    return check_register(read_table(path), cfg, path.name)


# -- the analysis sample ------------------------------------------------------------------------


@dataclass
class Sample:
    """Participants and comparison persons with covariates, outcomes and a ``treated`` flag, plus
    the counts of everyone not used and why (shown in the report: nothing silently dropped)."""

    data: pd.DataFrame
    participants: pd.DataFrame
    notes: list[dict[str, Any]] = field(default_factory=list)


def build_sample(cfg: ProjectConfig, participants: pd.DataFrame, register: pd.DataFrame
                 ) -> Sample:
    """Join the participants to the register by the person key: they are the treated; the other
    young people in strata (municipality × target group) with participants are the comparison."""
    spec = _spec(cfg)
    file = Path(spec.file).name
    people = (participants.sort_values("start_date")
              .drop_duplicates("person_id").reset_index(drop=True))
    found = _member(people["person_id"], register["person_id"])
    if not found.all():
        miss = people[~found]
        where = ", ".join(f"{f} row {r}" for f, r in
                          zip(miss["source_file"].head(5), miss["source_row"].head(5),
                              strict=True)) if "source_file" in miss else ""
        raise UserError(f"{file}: {len(miss):,} of {len(people):,} participants are not in the "
                        f"register extract (column {spec.columns.person_id!r}); both must carry "
                        f"the same pseudonymised person key. Not found: {where}")
    data = register.copy()
    data["treated"] = _member(data["person_id"], people["person_id"])
    t = data["treated"].to_numpy()
    merged = data.loc[t, ["person_id", "index_date"]].astype({"person_id": str}).merge(
        people[["person_id", "start_date"]].astype({"person_id": str}), on="person_id")
    off = (merged["index_date"] - merged["start_date"]).abs() > pd.Timedelta(days=31)
    if off.any():
        raise UserError(f"{file}: {int(off.sum())} participant(s) have an index date "
                        f"(column {spec.columns.index_date!r}) more than a month from their "
                        "start date in the project data; the outcome windows must count from "
                        "the start")
    notes = []
    strata = _strata(data)
    out = ~np.isin(strata, np.unique(strata[t]))
    if out.any():
        notes.append({"reason": "no_participants_in_stratum", "treated": 0,
                      "comparison": int(out.sum())})
    data = data[~out].reset_index(drop=True)
    strata = strata[~out]
    t = data["treated"].to_numpy()
    alone = ~np.isin(strata, np.unique(strata[~t]))
    if alone.any():
        notes.append({"reason": "no_comparison_in_stratum", "treated": int(alone.sum()),
                      "comparison": 0})
        data = data[~alone].reset_index(drop=True)
    ctx = people.set_index(people["person_id"].astype(str))
    part = ctx.reindex(data.loc[data["treated"], "person_id"].astype(str))
    return Sample(data, part.reset_index(drop=True), notes)


# -- propensity scores, matching, weights --------------------------------------------------------


def design_matrix(data: pd.DataFrame, levels: list[str]) -> tuple[np.ndarray, list[str]]:
    """The propensity model's covariates: age (and its square), gender, months outside education
    and work, prior contacts, prior education, municipality and target group (dummies)."""
    age = data["age"].to_numpy()
    cols = {"const": np.ones(len(data)), "age": age - 20.0, "age2": (age - 20.0) ** 2 / 10,
            "male": data["male"].to_numpy(), "months_neet": data["months_neet"].to_numpy(),
            "psychiatric_contact": data["psychiatric_contact"].to_numpy(),
            "social_services_contact": data["social_services_contact"].to_numpy()}
    for var in ("prior_education", "municipality", "target_group"):
        for v, dummy in list(_dummies(data[var]).items())[1:]:
            cols[f"{var}={v}"] = dummy
    names = list(cols)
    return np.column_stack([cols[n] for n in names]), names


def propensity_scores(data: pd.DataFrame, levels: list[str]) -> np.ndarray:
    """The logit of each person's probability of taking part (statsmodels Logit, Newton)."""
    from statsmodels.discrete.discrete_model import Logit

    x, names = design_matrix(data, levels)
    keep = x[:, 1:].std(axis=0) > 0
    x = x[:, np.r_[True, keep]]
    model = Logit(data["treated"].to_numpy(dtype=float), x)
    try:
        fit = model.fit(disp=0, method="newton", maxiter=50)
    except np.linalg.LinAlgError:
        fit = model.fit(disp=0, method="bfgs", maxiter=500)
    return x @ np.asarray(fit.params)


@dataclass
class Matches:
    """Nearest-neighbour matches: for each pair the treated row, the control row and its weight
    (1/k for a participant with k matches); ``caliper`` on the logit scale."""

    treated_rows: np.ndarray
    control_rows: np.ndarray
    weight: np.ndarray
    unmatched: np.ndarray
    caliper: float

    def control_weights(self, n: int, treated_mask: np.ndarray | None = None) -> np.ndarray:
        """Each row's weight as a comparison person (matched to the given participants)."""
        keep = (np.ones(len(self.weight), bool) if treated_mask is None
                else treated_mask[self.treated_rows])
        return np.bincount(self.control_rows[keep], self.weight[keep], minlength=n)


def match(logit: np.ndarray, treated: np.ndarray, strata: np.ndarray, caliper_sd: float,
          k: int = 1) -> Matches:
    """Match each participant to its k nearest comparison persons on the logit of the score,
    with replacement, within exact strata, and no farther than ``caliper_sd`` standard
    deviations of the logit (Austin 2011)."""
    from scipy.spatial import cKDTree

    caliper = caliper_sd * float(np.std(logit))
    codes, _ = pd.factorize(strata)
    t_rows, c_rows, weights, unmatched = [], [], [], []
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(codes.max() + 2))
    for s in np.unique(codes[treated]):
        rows = order[bounds[s]:bounds[s + 1]]
        trs, ctl = rows[treated[rows]], rows[~treated[rows]]
        if len(ctl) == 0:
            unmatched.append(trs)
            continue
        kk = min(k, len(ctl))
        dist, nn = cKDTree(logit[ctl, None]).query(logit[trs, None], k=kk,
                                                   distance_upper_bound=caliper)
        dist, nn = dist.reshape(len(trs), kk), nn.reshape(len(trs), kk)
        ok = np.isfinite(dist)
        n_ok = ok.sum(axis=1)
        unmatched.append(trs[n_ok == 0])
        i, j = np.nonzero(ok)
        t_rows.append(trs[i])
        c_rows.append(ctl[nn[i, j]])
        weights.append(1.0 / n_ok[i])
    def cat(xs: list[np.ndarray], dt: Any = np.int64) -> np.ndarray:
        return np.concatenate(xs).astype(dt) if xs else np.array([], dtype=dt)

    return Matches(cat(t_rows), cat(c_rows), cat(weights, float), cat(unmatched), caliper)


def ipw_weights(logit: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """ATT weights: 1 for a participant, e/(1−e) = exp(logit) for a comparison person."""
    return np.where(treated, 1.0, np.exp(np.clip(logit, -50, 50)))


def att(y: np.ndarray, treated: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """The weighted difference of means (participants − weighted comparison) and its standard
    error, treating the weights as fixed (a sandwich that counts repeated comparison persons)."""
    yt = y[treated]
    wc, yc = w[~treated], y[~treated]
    keep = wc > 0
    wc, yc = wc[keep], yc[keep]
    n_t = len(yt)
    if n_t < 2 or wc.sum() <= 0:
        return float("nan"), float("nan")
    mc = float(np.sum(wc * yc) / wc.sum())
    wn = wc / wc.sum()
    var = yt.var(ddof=1) / n_t + float(np.sum(wn ** 2 * (yc - mc) ** 2))
    return float(yt.mean() - mc), math.sqrt(var)


def e_value(rr: float) -> float:
    """VanderWeele & Ding's E-value of a risk ratio: the risk ratio an unmeasured confounder
    would need with both treatment and outcome to explain the estimate away."""
    if not np.isfinite(rr) or rr <= 0:
        return float("nan")
    rr = rr if rr >= 1 else 1 / rr
    return float(rr + math.sqrt(rr * (rr - 1)))


def e_values(p_treated: float, diff: float, low: float, high: float) -> tuple[float, float]:
    """E-values of a risk difference (estimate and the confidence limit nearest 1), converted via
    the risk ratio p1 / (p1 − difference)."""
    def rr(d: float) -> float:
        p0 = p_treated - d
        return p_treated / p0 if p0 > 0 else float("inf")

    est = e_value(rr(diff))
    if low <= 0 <= high:
        return est, 1.0
    return est, e_value(rr(low if diff > 0 else high))


# -- balance --------------------------------------------------------------------------------------


def _covariate_columns(data: pd.DataFrame, levels: list[str]) -> dict[str, np.ndarray]:
    cols = {"age": data["age"].to_numpy(), "gender": data["male"].to_numpy(),
            "months_neet": data["months_neet"].to_numpy(),
            "psychiatric_contact": data["psychiatric_contact"].to_numpy(),
            "social_services_contact": data["social_services_contact"].to_numpy()}
    codes, _ = _codes(data["prior_education"])
    for i, lv in enumerate(levels):
        cols[f"prior_education={lv}"] = (codes == i).astype(float)
    for var in ("municipality", "target_group"):
        for v, dummy in _dummies(data[var], data["treated"].to_numpy()).items():
            cols[f"{var}={v}"] = dummy
    return cols


def smd(x: np.ndarray, treated: np.ndarray, w: np.ndarray | None = None) -> float:
    """Standardised mean difference: participants minus the (weighted) comparison, over the
    pooled unweighted standard deviation, so before and after share one yardstick."""
    xt, xc = x[treated], x[~treated]
    sd = math.sqrt((xt.var() + xc.var()) / 2)
    wc = np.ones(len(xc)) if w is None else w[~treated]
    if sd == 0 or wc.sum() == 0:
        return 0.0
    return float((xt.mean() - np.sum(wc * xc) / wc.sum()) / sd)


def balance(data: pd.DataFrame, levels: list[str], w_match: np.ndarray, matched: np.ndarray,
            w_ipw: np.ndarray) -> pd.DataFrame:
    """SMD per covariate before adjustment, after matching (matched participants against their
    matches) and after weighting, with the participants' mean and count (for disclosure)."""
    t = data["treated"].to_numpy()
    rows = []
    keep_m = ~t & (w_match > 0) | (t & matched)
    for name, x in _covariate_columns(data, levels).items():
        after_m = smd(x[keep_m], t[keep_m], w_match[keep_m]) if matched.any() else float("nan")
        rows.append({"covariate": name, "treated_mean": float(x[t].mean()),
                     "treated_n": int(t.sum()), "treated_k": int(x[t].sum())
                     if set(np.unique(x)) <= {0.0, 1.0} else None,
                     "comparison_mean": float(x[~t].mean()),
                     "before": smd(x, t), "after_matching": after_m,
                     "after_ipw": smd(x, t, w_ipw)})
    return pd.DataFrame(rows)


# -- the whole estimate ---------------------------------------------------------------------------


@dataclass
class ComparisonResult:
    """Effect estimates, balance and the propensity scores behind the figures."""

    estimates: pd.DataFrame
    balance: pd.DataFrame
    scores: pd.DataFrame  # logit of the score and the treated flag (no person key)
    notes: list[dict[str, Any]]
    caliper: float
    primary_months: int
    n_population: int
    windows: dict[int, dict[str, int]] = field(default_factory=dict)

    overlap: dict[str, list[float]] = field(default_factory=dict)
    """The overlap plot's input: histogram ``edges`` of the score's logit and the densities of
    the participants (``treated``) and the others (``comparison``); filled by
    :func:`overlap_histogram` (``scores`` stays in memory only: it has a row per person)."""

    def primary(self, method: str = "ipw", group: str = "all") -> dict[str, Any]:
        """The estimate of one method and group at the primary window, as plain numbers."""
        e = self.estimates
        row = e[e["method"].eq(method) & e["group"].eq(group)
                & e["months"].eq(self.primary_months)]
        return row.iloc[0].to_dict() if len(row) else {}

    def to_dict(self) -> dict[str, Any]:
        """The estimates, balance, notes and the overlap histogram as JSON-serialisable values
        (``store.save("comparison", …)``; no person-level rows)."""
        from .outcomes import jsonable

        return jsonable({"estimates": self.estimates, "balance": self.balance,
                         "notes": self.notes, "caliper": self.caliper,
                         "primary_months": self.primary_months,
                         "n_population": self.n_population,
                         "windows": {str(m): w for m, w in self.windows.items()},
                         "overlap": self.overlap or overlap_histogram(self.scores)})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ComparisonResult:
        """The result again from ``to_dict`` (without the person-level scores)."""
        estimates = pd.DataFrame(d["estimates"])
        for col in ("e_value", "e_value_ci", "effective_n_comparison"):
            if col in estimates:
                estimates[col] = pd.to_numeric(estimates[col], errors="coerce")
        balance = pd.DataFrame(d["balance"])
        for col in ("treated_k", "treated_n", "before", "after_matching", "after_ipw"):
            if col in balance:
                balance[col] = pd.to_numeric(balance[col], errors="coerce")
        return cls(estimates=estimates, balance=balance,
                   scores=pd.DataFrame(columns=["logit", "treated"]), notes=list(d["notes"]),
                   caliper=float(d["caliper"]), primary_months=int(d["primary_months"]),
                   n_population=int(d["n_population"]),
                   windows={int(m): w for m, w in d["windows"].items()},
                   overlap=dict(d["overlap"]))


def overlap_histogram(scores: pd.DataFrame, edges: int = 40) -> dict[str, list[float]]:
    """The distribution of the score's logit among participants and the others: densities on
    equal bins (``edges`` bin edges) from the 0.1 % quantile to the maximum (the overlap
    plot's input)."""
    if scores.empty:
        return {"edges": [], "treated": [], "comparison": []}
    edges = np.linspace(scores["logit"].quantile(0.001), scores["logit"].max(), edges)
    treated = scores["treated"].astype(bool)
    out = {"edges": edges.tolist()}
    for name, sel in (("treated", treated), ("comparison", ~treated)):
        density, _ = np.histogram(scores.loc[sel, "logit"], bins=edges, density=True)
        out[name] = density.tolist()
    return out


def _groups(cfg: ProjectConfig, sample: Sample) -> list[tuple[str, str, str, np.ndarray]]:
    """(id, kind, label, mask over the sample's participants) for every subgroup estimated."""
    part = sample.participants
    out = [("all", "all", "all", np.ones(len(part), bool))]
    for code, tg in cfg.target_groups.items():
        out.append((f"tg_{code}", "target_group", tg.label,
                    part["target_group"].astype(str).eq(code).to_numpy()))
    for h in cfg.hypotheses:
        try:
            mask = part.eval(h.context).astype(bool).to_numpy()
        except Exception as exc:  # noqa: BLE001 - a context over columns this table lacks
            raise UserError(f"hypothesis {h.id}: its context {h.context!r} cannot be evaluated "
                            f"on the participants ({exc})") from None
        out.append((h.id, "hypothesis", h.context_label, mask))
    return out


@dataclass
class _Fit:
    data: pd.DataFrame
    logit: np.ndarray
    matches: Matches
    w_ipw: np.ndarray
    matched: np.ndarray


def _fit(data: pd.DataFrame, levels: list[str], spec: Comparison) -> _Fit:
    """Scores, matches and weights for one analysis sample."""
    t = data["treated"].to_numpy()
    strata = _strata(data)
    logit = propensity_scores(data, levels)
    matches = match(logit, t, strata, spec.caliper, spec.neighbours)
    matched = np.zeros(len(data), bool)
    matched[np.unique(matches.treated_rows)] = True
    return _Fit(data, logit, matches, ipw_weights(logit, t), matched)


def _estimate_window(fit: _Fit, groups: list[tuple[str, str, str, np.ndarray]],
                     t_index: np.ndarray, m: int, naive_pool: pd.DataFrame
                     ) -> list[dict[str, Any]]:
    """Naive, matched and weighted estimates of every subgroup at one outcome window."""
    data, matches, w_ipw, matched = fit.data, fit.matches, fit.w_ipw, fit.matched
    t = data["treated"].to_numpy()
    y = data[f"y_{m}"].to_numpy()
    tg_codes, tg_names = _codes(data["target_group"])
    pool_tg, pool_names = _codes(naive_pool["target_group"])
    pool_y = naive_pool[f"y_{m}"].to_numpy()
    n = len(data)
    rows = []
    for gid, kind, label, mask in groups:
        in_group = np.zeros(n, bool)
        in_group[np.flatnonzero(t)] = mask[t_index]
        if in_group.sum() < 2:
            continue
        # naive: the participants in the group against every other young person followed
        yt = y[in_group]
        code = gid.removeprefix("tg_")
        yc = pool_y if kind != "target_group" else pool_y[
            pool_tg == (pool_names.index(code) if code in pool_names else -2)]
        if len(yc) > 1:
            d = yt.mean() - yc.mean()
            se = math.sqrt(yt.var(ddof=1) / len(yt) + yc.var(ddof=1) / len(yc))
            rows.append(_row(gid, kind, label, m, "naive", yt, len(yc), yc.mean(), d, se))
        # matching: the matched participants in the group against their matches
        sel = in_group & matched
        wm = matches.control_weights(n, sel)
        keep = sel | (~t & (wm > 0))
        if sel.sum() > 1:
            d, se = att(y[keep], t[keep], wm[keep])
            mc = float(np.sum(wm[~t] * y[~t]) / wm[~t].sum())
            rows.append(_row(gid, kind, label, m, "matching", y[sel], int((wm > 0).sum()), mc,
                             d, se, unmatched=int((in_group & ~matched).sum())))
        # weighting: only where the group is defined for the comparison persons too
        if kind in ("all", "target_group"):
            cmask = ~t if kind == "all" else (~t & (tg_codes == (
                tg_names.index(code) if code in tg_names else -2)))
            keep = in_group | cmask
            d, se = att(y[keep], t[keep], w_ipw[keep])
            wc = w_ipw[cmask]
            mc = float(np.sum(wc * y[cmask]) / wc.sum())
            ess = float(wc.sum() ** 2 / np.sum(wc ** 2))
            rows.append(_row(gid, kind, label, m, "ipw", yt, int(cmask.sum()), mc, d, se,
                             ess=ess))
    return rows


def _row(gid: str, kind: str, label: str, m: int, method: str, yt: np.ndarray, n_c: int,
         rate_c: float, d: float, se: float, unmatched: int = 0, ess: float | None = None
         ) -> dict[str, Any]:
    low, high = d - Z * se, d + Z * se
    p1 = float(yt.mean())
    ev, ev_ci = e_values(p1, d, low, high) if method != "naive" else (float("nan"),) * 2
    return {"group": gid, "kind": kind, "label": label, "months": m, "method": method,
            "n_treated": int(len(yt)), "k_treated": int(yt.sum()), "n_comparison": int(n_c),
            "treated_rate": p1, "comparison_rate": float(rate_c),
            "att_pp": 100 * d, "ci_low_pp": 100 * low, "ci_high_pp": 100 * high,
            "se_pp": 100 * se, "e_value": ev, "e_value_ci": ev_ci,
            "unmatched": unmatched, "effective_n_comparison": ess}


def estimate_effects(cfg: ProjectConfig, participants: pd.DataFrame, register: pd.DataFrame
                     ) -> ComparisonResult:
    """Naive, matched and weighted ATT per outcome window and subgroup, balance and scores."""
    spec = _spec(cfg)
    sample = build_sample(cfg, participants, register)
    groups = _groups(cfg, sample)
    levels = spec.prior_education_levels
    data = sample.data
    t_index_all = np.arange(int(data["treated"].sum()))
    notes = list(sample.notes)
    rows: list[dict[str, Any]] = []
    windows: dict[int, dict[str, int]] = {}
    fits: dict[bytes, _Fit] = {}
    primary: _Fit | None = None
    pool_all = register[~_member(register["person_id"], participants["person_id"])]
    t = data["treated"].to_numpy()
    for m in sorted(spec.outcomes):
        followed = data[f"followed_{m}"].to_numpy()
        windows[m] = {"treated": int((t & followed).sum()),
                      "treated_not_followed": int((t & ~followed).sum()),
                      "comparison_not_followed": int((~t & ~followed).sum())}
        if not (t & followed).any():
            raise UserError(f"{Path(spec.file).name}: no participant is followed {m} months "
                            f"(column {spec.outcomes[m]!r}): the window ends after "
                            f"comparison.data_end ({spec.data_end:%d-%m-%Y}) for all of them. "
                            "Drop the window or use a later extract.")
        key = followed.tobytes()
        if key not in fits:
            fits[key] = _fit(data[followed].reset_index(drop=True), levels, spec)
        fit = fits[key]
        rows += _estimate_window(fit, groups, t_index_all[followed[t]], m,
                                 pool_all[pool_all[f"followed_{m}"]])
        if m == spec.primary_months:
            primary = fit
    sub, matched = primary.data, primary.matched
    w_match = primary.matches.control_weights(len(sub))
    bal = balance(sub, levels, w_match, matched, primary.w_ipw)
    n_unmatched = int((sub["treated"].to_numpy() & ~matched).sum())
    if n_unmatched:
        notes.append({"reason": "outside_caliper", "treated": n_unmatched, "comparison": 0})
    scores = pd.DataFrame({"logit": primary.logit, "treated": sub["treated"].to_numpy()})
    return ComparisonResult(pd.DataFrame(rows), bal, scores, notes, primary.matches.caliper,
                            spec.primary_months, len(register), windows)


# -- plain numbers for other modules (the business case) -----------------------------------------


def att_estimates(result: ComparisonResult, method: str = "ipw", min_cell: int = 5
                  ) -> list[dict[str, Any]]:
    """The adjusted effects as plain numbers, one dict per (group, window): ``group``, ``months``,
    ``att_pp``, ``ci_low_pp``, ``ci_high_pp``, ``n_treated``, ``e_value``; for other modules
    (e.g. a business case) that turn effects into kroner. ``hidden`` says the figure must not be
    published (too few participants, or a share built on too few; ``min_cell``)."""
    keys = ["group", "kind", "label", "months", "method", "n_treated", "att_pp", "ci_low_pp",
            "ci_high_pp", "se_pp", "e_value", "e_value_ci"]
    e = result.estimates[result.estimates["method"].eq(method)].reset_index(drop=True)
    hidden = hidden_rows(e, min_cell)
    rows = e[keys].to_dict("records")
    return [{**{k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()},
             "hidden": bool(h)} for r, h in zip(rows, hidden, strict=True)]


# -- a synthetic register for demos and tests -----------------------------------------------------


@dataclass
class SyntheticRegister:
    """A generated register extract with what was planted: the participants' true ATT per window
    (mean of p(treated) − p(untreated) over the participants, in percentage points)."""

    frame: pd.DataFrame
    planted_att_pp: dict[int, float]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def synthetic_register(cfg: ProjectConfig, participants: pd.DataFrame,
                       population: int | None = None, seed: int | None = None
                       ) -> SyntheticRegister:
    """A register-style extract of ``population`` young people that holds the participants
    (``person_id``, ``delprojekt``, ``target_group``, ``gender``, ``age_at_start``,
    ``start_date``) and others like them, with a planted effect of taking part and planted
    confounding: participants start with more psychiatric and social-services contact and more
    months outside education and work, all of which lower the outcome, so a naive comparison
    understates the effect. Column names follow ``comparison.columns``/``outcomes``. Long
    because it draws one population column by column, each from the ones before (a recipe,
    read top to bottom)."""
    spec = _spec(cfg)
    demo = spec.demo or ComparisonDemo()
    population = population or demo.population
    rng = np.random.default_rng(demo.seed if seed is None else seed)
    part = participants.sort_values("start_date").drop_duplicates("person_id")
    n_t = len(part)
    n_c = population - n_t
    if n_c < 10:
        raise UserError(f"comparison.demo.population ({population}) must exceed the "
                        f"{n_t} participants")
    munis_of = {d.id: (d.municipality or d.name) for d in cfg.delprojekter}
    munis = list(dict.fromkeys([*munis_of.values(), *demo.other_municipalities]))
    groups = list(cfg.target_groups)
    shares = part["target_group"].astype(str).value_counts(normalize=True)
    p_tg = np.array([shares.get(g, 0.0) + 0.05 for g in groups])
    ranges = cfg.demo.age_range if cfg.demo else {}
    start = pd.Timestamp(part["start_date"].min())
    span = max((pd.Timestamp(part["start_date"].max()) - start).days, 30)

    tg_c = rng.choice(groups, n_c, p=p_tg / p_tg.sum())
    span_of = {g: ranges.get(g, [cfg.age.min, min(cfg.age.max, 25)]) for g in groups}
    lo = pd.Series(tg_c).map({g: a for g, (a, _) in span_of.items()}).to_numpy()
    hi = pd.Series(tg_c).map({g: b for g, (_, b) in span_of.items()}).to_numpy()
    frame_c = pd.DataFrame({
        "person_id": np.char.mod("%016x", rng.integers(0, 2 ** 62, n_c)),
        "index_date": start + pd.to_timedelta(rng.integers(0, span + 1, n_c), unit="D"),
        "age": rng.integers(lo, hi + 1), "gender": rng.choice(["mand", "kvinde"], n_c),
        "municipality": rng.choice(munis, n_c), "target_group": tg_c, "treated": False})
    frame_t = pd.DataFrame({
        "person_id": part["person_id"].astype(str).to_numpy(),
        "index_date": pd.to_datetime(part["start_date"]).to_numpy(),
        "age": part["age_at_start"].astype(int).to_numpy(),
        "gender": part["gender"].astype(str).to_numpy(),
        "municipality": part["delprojekt"].map(munis_of).to_numpy(),
        "target_group": part["target_group"].astype(str).to_numpy(), "treated": True})
    df = pd.concat([frame_c, frame_t], ignore_index=True)
    n = len(df)
    t = df["treated"].to_numpy()
    stays = df["target_group"].map({g: tg.goal == "stay" for g, tg in
                                    cfg.target_groups.items()}).to_numpy(dtype=bool)
    # confounders: participants start worse off
    psych_p = np.where(t, demo.psychiatric_contact[0], demo.psychiatric_contact[1])
    if "challenge_psykisk" in part:
        psych_p = psych_p.copy()
        psych_p[t] = np.where(part["challenge_psykisk"].astype(bool).to_numpy(),
                              0.85, 0.3 * demo.psychiatric_contact[0])
    df["psychiatric_contact"] = (rng.random(n) < psych_p).astype(int)
    social_p = np.where(t, demo.social_services_contact[0], demo.social_services_contact[1])
    df["social_services_contact"] = (rng.random(n) < social_p).astype(int)
    lam = np.where(stays, 1.0, 4.0) * np.where(t, 1.8, 1.0) * (1 + 0.5 * df[
        "psychiatric_contact"].to_numpy())
    df["months_neet"] = np.minimum(rng.poisson(lam), spec.months_neet_max)
    levels = spec.prior_education_levels
    p_edu = np.where(stays[:, None], [0.02, 0.78, 0.1, 0.1], [0.25, 0.65, 0.05, 0.05])
    p_edu = p_edu[:, :len(levels)] / p_edu[:, :len(levels)].sum(axis=1, keepdims=True)
    pick = (rng.random(n)[:, None] > np.cumsum(p_edu, axis=1)).sum(axis=1)
    df["prior_education"] = np.asarray(levels)[np.minimum(pick, len(levels) - 1)]
    # the outcome without the project: worse with each confounder
    muni_effect = dict(zip(munis, rng.normal(0, 0.15, len(munis)), strict=True))
    lin = (0.9 + 0.6 * stays - 0.04 * (df["age"].to_numpy() - 19)
           - 0.9 * df["psychiatric_contact"].to_numpy()
           - 0.6 * df["social_services_contact"].to_numpy()
           - 0.12 * df["months_neet"].to_numpy()
           + 0.3 * (df["prior_education"].to_numpy() != levels[0])
           + 0.1 * (df["gender"].to_numpy() == "kvinde")
           + df["municipality"].map(muni_effect).to_numpy())
    end = pd.Timestamp(spec.data_end)
    planted = {}
    u = rng.random(n)  # one draw per person: the same young person across windows
    for m, col in spec.outcomes.items():
        p0 = _sigmoid(lin + 0.15 * math.log(m / spec.primary_months))
        p1 = np.clip(p0 + demo.effect_pp.get(m, 0.0) / 100, 0, 1)
        p = np.where(t, p1, p0)
        y = (u < p).astype(float)
        followed = df["index_date"] <= end - pd.DateOffset(months=m)
        df[col] = pd.array(np.where(followed, y, np.nan), dtype="Float64").astype("Int64")
        planted[m] = float(100 * np.mean(p1[t] - p0[t]))
    cols = spec.columns
    out = df.drop(columns="treated").rename(columns={
        "person_id": cols.person_id, "index_date": cols.index_date, "age": cols.age,
        "gender": cols.gender, "municipality": cols.municipality,
        "target_group": cols.target_group, "prior_education": cols.prior_education,
        "months_neet": cols.months_neet, "psychiatric_contact": cols.psychiatric_contact,
        "social_services_contact": cols.social_services_contact})
    out = out.sample(frac=1.0, random_state=int(rng.integers(0, 2 ** 31))).reset_index(drop=True)
    return SyntheticRegister(out, planted)


def write_register(register: SyntheticRegister, path: Path) -> Path:
    """Write a synthetic extract as parquet, CSV or SAS-like (.sas7bdat is read-only in
    pyreadstat, so that suffix is refused), with the planted effects beside it as JSON."""
    from .io import atomic_write, write_json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        atomic_write(path, lambda p: register.frame.to_parquet(p, index=False))
    elif suffix == ".csv":
        atomic_write(path, lambda p: register.frame.to_csv(p, index=False, sep=";",
                                                           date_format="%d-%m-%Y"))
    else:
        raise UserError(f"{path.name}: the demo register is written as .parquet or .csv")
    write_json({"planted_att_pp": {str(k): v for k, v in register.planted_att_pp.items()},
                "rows": len(register.frame)}, path.with_suffix(".planted.json"))
    return path


# -- what the reader sees ------------------------------------------------------------------------

def run_comparison(cfg: ProjectConfig, participants: pd.DataFrame | None = None
                   ) -> ComparisonResult:
    """Read the clean participants and the register extract and estimate the effects."""
    from .io import read_processed

    if participants is None:
        participants = read_processed(cfg, "participants")
    return estimate_effects(cfg, participants, read_register(cfg))


def hidden_rows(est: pd.DataFrame, min_cell: int) -> np.ndarray:
    """Estimates to hide: a participant count under the limit (also as a difference of two shown
    counts), or a share of them in or out of education/work that is."""
    from .privacy import rate_hidden

    return np.asarray(rate_hidden(est["k_treated"], est["n_treated"], min_cell), dtype=bool)


def love_plot(result: ComparisonResult, cfg: ProjectConfig, lang: str = "da") -> Any:
    """Standardised mean differences before and after adjustment, with the 0.1 line; a
    'before' difference the balance table hides is not drawn."""
    from .plot import OKABE_ITO, new_figure
    from .reader.comparison import balance_hidden, covariate_label, word

    bal = result.balance
    fig, ax = new_figure(7.5, 0.32 * len(bal) + 1.2)
    y = np.arange(len(bal))[::-1]
    before = bal["before"].abs().where(~balance_hidden(result, cfg.privacy.min_cell))
    for col, colour, marker in (("before", OKABE_ITO[1], "o"),
                                ("after_matching", OKABE_ITO[2], "s"),
                                ("after_ipw", OKABE_ITO[0], "D")):
        x = before if col == "before" else bal[col].abs()
        ax.scatter(x, y, label=word(col, lang), color=colour, marker=marker, zorder=3)
    ax.axvline(0.1, color="#555555", linestyle="--", linewidth=1)
    ax.set_yticks(y, [covariate_label(c, cfg, lang) for c in bal["covariate"]])
    ax.set_xlabel(f"|{word('smd', lang)}|")
    ax.legend(loc="lower right", frameon=True)
    return fig


def overlap_plot(result: ComparisonResult, lang: str = "da") -> Any:
    """The distribution of the score's logit among participants and the others (overlap),
    from the result's histogram (:func:`overlap_histogram`)."""
    from .plot import OKABE_ITO, new_figure
    from .reader.comparison import word

    fig, ax = new_figure(7.5, 3.5)
    h = result.overlap or overlap_histogram(result.scores)
    edges = np.asarray(h["edges"])
    for name, colour in (("comparison", OKABE_ITO[1]), ("treated", OKABE_ITO[0])):
        ax.hist(edges[:-1], bins=edges, weights=h[name], alpha=0.55, color=colour,
                label=word(name, lang))
    ax.set_xlabel(word("ps", lang))
    ax.set_ylabel(word("density", lang))
    ax.legend()
    return fig
