"""Danish and English number formats as readers see them."""

import datetime as dt

import pytest

from ungeanalyse.fmt import fmt_ci, fmt_date, fmt_float, fmt_int, fmt_kr, fmt_pct


@pytest.mark.parametrize(
    ("func", "args", "da", "en"),
    [
        (fmt_kr, (25_345_510,), "25.345.510 kr.", "DKK 25,345,510"),
        (fmt_kr, (2_205_538.4,), "2.205.538 kr.", "DKK 2,205,538"),
        (fmt_int, (195,), "195", "195"),
        (fmt_int, (1_000_000,), "1.000.000", "1,000,000"),
        (fmt_pct, (126 / 195,), "65 %", "65%"),
        (fmt_pct, (0.9067, 1), "90,7 %", "90.7%"),
        (fmt_float, (0.853, 2), "0,85", "0.85"),
        (fmt_float, (1234.5, 1), "1.234,5", "1,234.5"),
        (fmt_ci, (0.58, 0.716), "58–72 %", "58–72%"),
        (fmt_date, (dt.date(2024, 2, 1),), "1. februar 2024", "1 February 2024"),
        (fmt_date, ("2023-12-31",), "31. december 2023", "31 December 2023"),
    ],
)
def test_formats(func, args, da, en):
    assert func(*args, lang="da") == da
    assert func(*args, lang="en") == en


@pytest.mark.parametrize("func", [fmt_int, fmt_kr, fmt_pct, fmt_float, fmt_date])
def test_missing_is_a_dash(func):
    assert func(None) == "–"
    assert func(float("nan")) == "–"


def test_p_values_in_one_format():
    from ungeanalyse.fmt import fmt_p

    assert fmt_p(0.0364, "da") == "p = 0,036"
    assert fmt_p(0.0364, "en") == "p = 0.036"
    assert fmt_p(0.0004, "da") == "p < 0,001"
    assert fmt_p(float("nan"), "da") == "p = –"
    assert fmt_p(0.5, "en", label="") == "= 0.500"
