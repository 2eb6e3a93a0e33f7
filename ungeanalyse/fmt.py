"""Number, money, percent and date formats for reports: Danish by default, English on request.

Danish: ``25.345.510 kr.``, ``65 %``, ``0,85``, ``56–73 %``, ``1. februar 2024``.
English: ``DKK 25,345,510``, ``65%``, ``0.85``, ``56–73%``, ``1 February 2024``.
Missing values (None, NaN) are shown as an en dash, so a table never prints ``nan``; a negative
number has the minus sign (−, U+2212) in both languages, never a hyphen.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

DASH = "–"
MINUS = "\u2212"
MONTHS_DA = ("januar", "februar", "marts", "april", "maj", "juni", "juli", "august",
             "september", "oktober", "november", "december")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


def md_text(text: Any) -> str:
    """A name or label as literal Markdown text: '#KomMed' stays text, not a heading."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def _swap(text: str, lang: str) -> str:
    """Python writes -1,234.5; Danish swaps the separators to −1.234,5 (both get the minus)."""
    text = text.replace("-", MINUS)
    if lang != "da":
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def fmt_int(n: Any, lang: str = "da") -> str:
    """A whole number with thousands separators: 25.345.510 (da) or 25,345,510 (en)."""
    if _missing(n):
        return DASH
    return _swap(f"{round(float(n)):,d}", lang)


def fmt_float(x: Any, digits: int = 1, lang: str = "da") -> str:
    """A decimal number: 0,85 (da) or 0.85 (en), with thousands separators."""
    if _missing(x):
        return DASH
    return _swap(f"{float(x):,.{digits}f}", lang)


def fmt_signed(x: Any, digits: int = 0, lang: str = "da") -> str:
    """A signed difference: +6, −10, 0 (da: +0,5; en: +0.5); what rounds to zero is 0."""
    if _missing(x):
        return DASH
    value = round(float(x), digits)
    if value == 0:
        return fmt_float(0, digits, lang)
    return _swap(f"{value:+,.{digits}f}", lang)


def fmt_kr(amount: Any, lang: str = "da") -> str:
    """Danish kroner rounded to whole kroner: 25.345.510 kr. (da) or DKK 25,345,510 (en)."""
    if _missing(amount):
        return DASH
    return f"{fmt_int(amount, lang)} kr." if lang == "da" else f"DKK {fmt_int(amount, lang)}"


def fmt_pct(share: Any, digits: int = 0, lang: str = "da") -> str:
    """A share (0–1) as percent: 65 % (da, with a space as Danish style has it) or 65% (en)."""
    if _missing(share):
        return DASH
    number = fmt_float(100 * float(share), digits, lang)
    return f"{number} %" if lang == "da" else f"{number}%"


def fmt_ci(low: Any, high: Any, lang: str = "da", digits: int = 0) -> str:
    """A confidence interval of shares: 56–73 % (da) or 56–73% (en)."""
    if _missing(low) or _missing(high):
        return DASH
    lo = fmt_float(100 * float(low), digits, lang)
    hi = fmt_float(100 * float(high), digits, lang)
    return f"{lo}–{hi} %" if lang == "da" else f"{lo}–{hi}%"


def fmt_p(p: Any, lang: str = "da", label: str = "p") -> str:
    """A p-value with its relation sign: 'p = 0,036', 'p < 0,001', 'p = –' when missing; with
    ``label=""`` only the relation ('= 0,036'), for a table column headed 'p'."""
    if _missing(p):
        text = f"= {DASH}"
    elif float(p) < 0.001:
        text = f"< {fmt_float(0.001, 3, lang)}"
    else:
        text = f"= {fmt_float(p, 3, lang)}"
    return f"{label} {text}" if label else text


def fmt_date(value: Any, lang: str = "da") -> str:
    """A date in words: 1. februar 2024 (da) or 1 February 2024 (en)."""
    if value is None or _missing_date(value):
        return DASH
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime):
        value = value.date()
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime().date()
    if lang == "da":
        return f"{value.day}. {MONTHS_DA[value.month - 1]} {value.year}"
    return f"{value.day} {MONTHS_EN[value.month - 1]} {value.year}"


def fmt_datetime(value: Any, lang: str = "da") -> str:
    """A moment in words: 2. december 2026 kl. 04.24 (da) or 2 December 2026, 04:24 (en); an
    ISO string as the runner stores it is read first."""
    from . import i18n

    if value is None or value == "" or _missing_date(value):
        return DASH
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if not isinstance(value, dt.datetime):
        return fmt_date(value, lang)
    clock = f"{value:%H.%M}" if lang == "da" else f"{value:%H:%M}"
    return i18n.t("when.date_time", "en" if lang == "en" else "da",
                  date=fmt_date(value, lang), time=clock)


def _missing_date(value: Any) -> bool:
    """NaT/NaN as missing; a string or a datetime is never missing (no pandas import for them:
    the runner's no-change rerun words its timestamp without loading pandas)."""
    if isinstance(value, str | dt.date):
        return False
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
