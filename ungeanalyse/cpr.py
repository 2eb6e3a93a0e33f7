"""Danish CPR numbers: shape, birth date with the century rule, gender, and the modulus-11 check.

All functions are vectorised over pandas Series (no row-wise Python), so that a register-scale
file of a million rows cleans in seconds.

Rules (CPR-kontoret):

* ten digits, written ``DDMMYY-SSSS`` or ``DDMMYYSSSS``;
* the century follows from the 7th digit and the year: 0–3 → 1900s; 4 and 9 → 2000s if YY ≤ 36,
  else 1900s; 5–8 → 2000s if YY ≤ 57, else 1800s;
* the last digit is even for women and odd for men;
* the modulus-11 check has not been guaranteed since 2007, so a failure is only a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MOD11_WEIGHTS = np.array([4, 3, 2, 7, 6, 5, 4, 3, 2, 1])


def normalise(values: pd.Series) -> pd.Series:
    """Digits only, as text; a 9-digit number (Excel dropped the leading zero) is padded."""
    text = values.astype("string[pyarrow]").str.strip()
    # Excel may have turned the number into a float: "101095123.0"
    text = text.str.replace(r"\.0$", "", regex=True)
    digits = text.str.replace(r"[\s\-]", "", regex=True)
    was_number = text.str.fullmatch(r"\d{9}").fillna(False)  # "22120-4009" is a typo, not Excel
    digits = digits.where(~was_number, "0" + digits)
    return digits


def parse(values: pd.Series) -> pd.DataFrame:
    """Validate CPR values; returns digits, birth_date, gender, and flags for shape/date/mod11."""
    digits = normalise(values)
    shape_ok = digits.str.fullmatch(r"\d{10}").fillna(False).astype(bool)
    d = digits.where(shape_ok, "0101000000")
    day = pd.to_numeric(d.str[0:2]).astype("int64")
    month = pd.to_numeric(d.str[2:4]).astype("int64")
    yy = pd.to_numeric(d.str[4:6]).astype("int64")
    c7 = pd.to_numeric(d.str[6]).astype("int64")
    century = np.select(
        [c7 <= 3, c7.isin([4, 9]) & (yy <= 36), c7.isin([4, 9]), (c7 >= 5) & (yy <= 57)],
        [1900, 2000, 1900, 2000],
        default=1800,
    )
    year = century + yy
    birth = pd.to_datetime(
        pd.DataFrame({"year": year, "month": month, "day": day}), errors="coerce"
    )
    date_ok = shape_ok & birth.notna()
    gender = np.where(pd.to_numeric(d.str[9]).astype("int64") % 2 == 0, "kvinde", "mand")
    mod11_ok = (_digit_matrix(d) @ MOD11_WEIGHTS) % 11 == 0
    return pd.DataFrame(
        {
            "digits": digits.where(shape_ok),
            "birth_date": birth.where(date_ok),
            "gender": pd.Series(gender, index=values.index).where(date_ok),
            "shape_ok": shape_ok,
            "date_ok": date_ok,
            "mod11_ok": pd.Series(mod11_ok, index=values.index) & date_ok,
        },
        index=values.index,
    )


def _digit_matrix(digits: pd.Series) -> np.ndarray:
    """Ten-digit strings as an (n, 10) integer matrix, without a Python loop per row."""
    raw = np.frombuffer("".join(digits.tolist()).encode("ascii"), dtype=np.uint8)
    return (raw.reshape(-1, 10) - ord("0")).astype(np.int64)


def age_at(birth: pd.Series, when: pd.Series) -> pd.Series:
    """Whole years of age at a date (birthday counted on the day itself)."""
    years = when.dt.year - birth.dt.year
    before_birthday = (when.dt.month < birth.dt.month) | (
        (when.dt.month == birth.dt.month) & (when.dt.day < birth.dt.day)
    )
    return (years - before_birthday.astype("Int64")).astype("Int64")
