"""CPR rules: shape, century from the 7th digit, gender, modulus 11 only a warning."""

import pandas as pd
import pytest

from ungeanalyse import cpr


@pytest.mark.parametrize(
    ("value", "birth", "gender"),
    [
        ("010203-1234", "1903-02-01", "kvinde"),   # digit 7 = 1: 1900s
        ("0102031235", "1903-02-01", "mand"),      # no dash, odd last digit
        ("010170-4123", "1970-01-01", "mand"),     # digit 7 = 4, YY > 36: 1900s
        ("010105-4124", "2005-01-01", "kvinde"),   # digit 7 = 4, YY <= 36: 2000s
        ("010158-5123", "1858-01-01", "mand"),     # digit 7 = 5, YY > 57: 1800s
        ("010108-6122", "2008-01-01", "kvinde"),   # digit 7 = 6, YY <= 57: 2000s
        ("010199-9121", "1999-01-01", "mand"),     # digit 7 = 9, YY > 36: 1900s
        ("010110-9120", "2010-01-01", "kvinde"),   # digit 7 = 9, YY <= 36: 2000s
    ],
)
def test_century_rule_and_gender(value, birth, gender):
    row = cpr.parse(pd.Series([value])).iloc[0]
    assert row["date_ok"]
    assert row["birth_date"] == pd.Timestamp(birth)
    assert row["gender"] == gender


def test_invalid_shapes_and_dates():
    out = cpr.parse(pd.Series(["12345", "310299-1234", "abcdefghij", None, "0101031234567"]))
    assert list(out["shape_ok"]) == [False, True, False, False, False]
    assert not out["date_ok"].any()


def test_excel_number_without_leading_zero_is_repaired():
    out = cpr.parse(pd.Series([101051234, "101051234.0"]))
    assert list(out["digits"]) == ["0101051234", "0101051234"]
    assert out["date_ok"].all()


def test_mod11_is_reported_not_required():
    # 070761-4285 is a textbook valid mod-11 number; changing the last digit breaks the check
    out = cpr.parse(pd.Series(["070761-4285", "070761-4286"]))
    assert list(out["mod11_ok"]) == [True, False]
    assert out["date_ok"].all()


def test_age_at_counts_birthday_on_the_day():
    birth = pd.Series(pd.to_datetime(["2000-03-15", "2000-03-15"]))
    when = pd.Series(pd.to_datetime(["2018-03-15", "2018-03-14"]))
    assert list(cpr.age_at(birth, when)) == [18, 17]
