"""The language catalogue: both languages have the same keys and placeholders, the package ships
it, and every code the clean stage stores has a wording in both languages."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from ungeanalyse import i18n

ROOT = Path(__file__).resolve().parents[1]


def test_both_languages_have_the_same_keys_and_placeholders():
    da, en = i18n.catalogue("da"), i18n.catalogue("en")
    assert sorted(set(da) ^ set(en)) == []
    differ = {k: (i18n.placeholders(da[k]), i18n.placeholders(en[k])) for k in da
              if i18n.placeholders(da[k]) != i18n.placeholders(en[k])}
    assert differ == {}
    assert all(v.strip() for v in [*da.values(), *en.values()]), "an empty text"


def test_a_text_is_looked_up_by_key_with_its_parameters():
    assert i18n.t("reason.end_before_start", "da") == "slutdato før startdato"
    assert i18n.t("reason.end_before_start", "en") == "end before start"
    assert i18n.t("quality.duplicates_one", "da", n="1") == "1 var en dublet"
    assert i18n.t("quality.duplicates_many", "en", n="3") == "3 were duplicates"
    warning = i18n.code("mod11", file="a.csv", n=2)
    assert i18n.word(warning, "da").startswith("a.csv: 2 CPR-nummer/-numre består ikke modulus")
    assert i18n.word("a text that is not a code yet", "da") == "a text that is not a code yet"
    assert i18n.reason("not_a_known_code", "da") == "not_a_known_code"
    with pytest.raises(KeyError):
        i18n.t("reason.no_such_code", "da")
    with pytest.raises(KeyError):  # a missing parameter is an error, not a '{n}' in a report
        i18n.t("quality.duplicates_one", "da")


def test_the_catalogue_ships_with_the_package():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "i18n/*.yml" in data["tool"]["setuptools"]["package-data"]["ungeanalyse"]
    assert (ROOT / "ungeanalyse" / "i18n" / "__init__.py").exists()  # a package, found by find


def _stored_codes(path: Path, pattern: str) -> set[str]:
    return set(re.findall(pattern, path.read_text(encoding="utf-8"), flags=re.S))


def test_every_quarantine_reason_and_warning_the_code_stores_is_worded():
    pkg = ROOT / "ungeanalyse"
    # batch.fail(mask, "column", "reason", ...): the third argument
    reasons = _stored_codes(pkg / "clean.py", r'\.fail\([^"]*?"[a-z_]+",\s*"([a-z_]+)"')
    reasons |= _stored_codes(pkg / "clean.py", r'"reason":\s*"([a-z_]+)"')
    reasons |= _stored_codes(pkg / "qda.py", r'\("(?:code|segment|source_type)",\s*"([a-z_ ]+)"')
    reasons |= _stored_codes(pkg / "qda.py", r'row\["_reason"\] = "[a-z_]+", "([a-z_ ]+)"')
    from ungeanalyse.clean import CONFLICT

    reasons.add(CONFLICT)
    assert len(reasons) >= 20, sorted(reasons)
    warnings = set()
    for name in ("clean.py", "qda.py", "survey_export.py"):
        warnings |= _stored_codes(pkg / name, r'i18n\.code\(\s*"([a-z_0-9]+)"')
    assert len(warnings) >= 9, sorted(warnings)
    for lang in i18n.LANGS:
        assert [r for r in sorted(reasons) if not i18n.has(f"reason.{r}", lang)] == []
        assert [w for w in sorted(warnings) if not i18n.has(f"warning.{w}", lang)] == []
    assert i18n.reason("invalid_cpr", "da") == "ugyldigt CPR-nummer"


def test_stored_messages_with_nested_codes_lists_and_json_are_worded():
    place = [i18n.code("detail.place", file="a.csv", row=3),
             i18n.code("detail.place", file="b.csv", row=4)]
    conflict = i18n.code("detail.conflict_places", places=place, columns=["Status", "Slutdato"])
    assert i18n.word(conflict, "en") == "a.csv row 3, b.csv row 4 disagree on Status, Slutdato"
    assert i18n.word(conflict, "da") == "a.csv række 3, b.csv række 4 er uenige om Status, Slutdato"
    assert i18n.word(i18n.as_json(conflict), "da") == i18n.word(conflict, "da")  # as stored
    # items that hold commas are separated by semicolons
    missing = i18n.code("file_error.missing_column", file="x.csv", columns=[
        i18n.code("file_error.accepted", column="'status'", names="resultat, udfald"),
        i18n.code("file_error.accepted", column="'cpr'", names="cpr-nr")])
    assert i18n.word(missing, "en") == ("x.csv: missing required column 'status' (accepted "
                                        "names: resultat, udfald); 'cpr' (accepted names: cpr-nr)")
    assert i18n.word('{"not": "a code"}', "da") == '{"not": "a code"}'  # plain text stays


def test_t_or_gives_the_catalogue_text_or_the_code_as_it_is():
    assert i18n.t_or("cmo.adjusted_for.delprojekt", "da", "x") == i18n.t(
        "cmo.adjusted_for.delprojekt", "da")
    assert i18n.t_or("cmo.adjusted_for.kommune_made_up", "en", "kommune_made_up") == \
        "kommune_made_up"


def test_the_words_drawn_in_figures_come_from_the_catalogue():
    from ungeanalyse import plot

    assert plot._w("reached", "da") == "Andel, der nåede skridtet eller videre"
    assert plot._w("reached", "en") == "Share reaching the step or further"
    assert plot._w("diff", "xx") == "Forskel i procentpoint"  # an unknown language: Danish


def test_known_gives_a_language_with_a_catalogue_or_the_fallback():
    assert i18n.known("en") == "en" and i18n.known("da") == "da"
    assert i18n.known("sv") == "da" and i18n.known("sv", "en") == "en"
