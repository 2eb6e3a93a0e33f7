"""A whole report in one language: a Danish run of one unit of a demo project holds none of the
package's own English reader strings, and an English run none of its Danish ones; figures have
alt texts in the language, dates are in words, numbers have the minus sign.

The strings are the package's own: the catalogue's values (``i18n/en.yml``, ``da.yml``) and the
literals still written inline as ``"…" if da else "…"`` (read from the source, so a new English
literal is checked as soon as it is written)."""

from __future__ import annotations

import ast
import html
import json
import re
from pathlib import Path

import pytest

from tests.pages import plain
from ungeanalyse import i18n

ROOT = Path(__file__).resolve().parents[1]
PROJECT = "ungeindsats_aalborg"  # the smallest demo with steps and quotes

pytestmark = [pytest.mark.slow,
              pytest.mark.xdist_group("aalborg_languages")]  # one worker runs `reports` once


def _is_da_test(node: ast.expr) -> bool:
    """``da`` or ``lang == "da"`` (and ``lang != "en"``): the condition of a language branch."""
    if isinstance(node, ast.Name):
        return node.id == "da"
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = node.left, node.comparators[0]
        if isinstance(left, ast.Name) and left.id == "lang" and isinstance(right, ast.Constant):
            return (isinstance(node.ops[0], ast.Eq) and right.value == "da") or (
                isinstance(node.ops[0], ast.NotEq) and right.value == "en")
    return False


def _texts(node: ast.AST) -> list[str]:
    """The literal text parts of an expression (f-string parts split at their fields)."""
    return [n.value for n in ast.walk(node) if isinstance(n, ast.Constant)
            and isinstance(n.value, str)]


def _phrases(texts: list[str]) -> set[str]:
    """Phrases of at least two words long enough to be telling ('per participant and')."""
    out = set()
    for text in texts:
        for part in re.split(r"\{[^}]*\}|\n|\*\*|`|(?<=[.;:!?])\s+", text):
            part = part.strip(" .,;:()'»«\"*-–")
            words = re.findall(r"[A-Za-zÆØÅæøå]{2,}", part)
            if len(words) >= 2 and len(part) >= 12 and not part.startswith(("<", "#")):
                out.add(part)
    return out


def package_strings() -> dict[str, set[str]]:
    """The package's reader phrases per language: catalogue values and inline branches."""
    da, en = [], []
    for path in sorted((ROOT / "ungeanalyse").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.IfExp) and _is_da_test(node.test):
                da += _texts(node.body)
                en += _texts(node.orelse)
            elif isinstance(node, ast.Dict) and {getattr(k, "value", None) for k in node.keys} \
                    == {"da", "en"}:  # a table of words by language: {"da": …, "en": …}
                for k, v in zip(node.keys, node.values, strict=True):
                    (da if k.value == "da" else en).extend(_texts(v))
    da += i18n.catalogue("da").values()
    en += i18n.catalogue("en").values()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):  # prose cells by language
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            {"da": da, "en": en}.get(cell["metadata"].get("lang"), []).append(
                "".join(cell["source"]))
    for path in sorted((ROOT / "ungeanalyse" / "templates").glob("*_??.md.j2")):
        text = re.sub(r"\{[{%#].*?[}%#]\}", "\n", path.read_text(encoding="utf-8"), flags=re.S)
        {"da": da, "en": en}[path.name[-8:-6]].append(text)
    da_set, en_set = _phrases(da), _phrases(en)
    return {"da": da_set - en_set, "en": en_set - da_set}


def _visible(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r'src="data:[^"]+"', "", page)
    alts = " ".join(re.findall(r'alt="([^"]*)"', page))
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + alts).split())


@pytest.fixture(scope="module")
def reports(demo_fresh) -> dict[str, dict[str, str]]:
    """The HTML of every page (and the index) of one unit, run once per language (each on a
    copy of the session's demo)."""
    from ungeanalyse.pipeline import run

    out: dict[str, dict[str, str]] = {}
    for lang in ("da", "en"):
        cfg = demo_fresh(PROJECT, f"language_{lang}").cfg()
        summary = run(cfg, jobs=1, only="all", lang=lang, progress=False)
        assert summary.exit_code == 0, summary.summary()
        pages = sorted((cfg.reports_dir / cfg.project.id / "all").glob("*.html"))
        assert len(pages) == 5, pages
        out[lang] = {p.name: p.read_text(encoding="utf-8") for p in pages}
        out[lang]["index.html"] = (cfg.reports_dir / "index.html").read_text(encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def phrases() -> dict[str, set[str]]:
    return package_strings()


@pytest.mark.parametrize("lang,other", [("da", "en"), ("en", "da")])
def test_a_report_holds_none_of_the_other_languages_strings(reports, phrases, lang, other):
    assert len(phrases[other]) > 300  # the catalogue and the inline branches were read
    visible = {name: _visible(page) for name, page in reports[lang].items()}
    found = {name: sorted(p for p in phrases[other] if p in text)
             for name, text in visible.items()}
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize("lang", ["da", "en"])
def test_figures_dates_and_numbers_in_the_report_language(reports, lang):
    pages = reports[lang]
    alts = [a for page in pages.values() for a in re.findall(r'<img[^>]*alt="([^"]*)"', page)]
    assert len(alts) >= 6
    figure = i18n.t("alt.figure", lang, what="").strip()
    assert all(a.startswith(figure) and len(a) > 40 for a in alts), alts
    assert all("No description" not in p for p in pages.values())
    for name, page in pages.items():
        text = _visible(page)
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text), (name, "an ISO date")
        # a negative number has the minus sign, not a hyphen (ranges use an en dash)
        assert not re.search(r"(?<![\w./-])-\d", text), (name, re.findall(r".{30}-\d.{10}",
                                                                          text)[:3])
        assert not re.search(r"[a-zæøå]{3}\.[A-ZÆØÅ][a-zæøå]", text), (name, "no space")
    index = _visible(pages["index.html"])
    assert re.search(r"Senest kørt \d{1,2}\. [a-z]+ \d{4} kl\. \d\d\.\d\d" if lang == "da" else
                     r"Last run \d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d", index)
    quality = plain(pages["01_rens_data.html"])
    # the reasons and the worklist in the language; the worklist's note names the real file
    expected = QUALITY_DA if lang == "da" else QUALITY_EN
    assert [e for e in expected if e not in quality] == []


QUALITY_DA = ["Årsager Tabel Årsag Antal Deltagere alder uden for målgruppen 1 Deltagere "
              "ugyldigt CPR-nummer 2 Deltagere ukendt status 1 Deltagere ukendt målgruppe 1",
              "brobygning.csv 62 Status efter forløb ukendt status",
              "jobcenter_ung.xlsx 94 CPR-nr. ugyldigt CPR-nummer",
              "Værdierne står i kildefilen og i "
              "data/processed/ungeindsats_aalborg/quarantine.parquet."]
QUALITY_EN = ["Reasons Table Reason Count Participants age outside the target range 1 "
              "Participants invalid CPR 2 Participants unknown status value 1 Participants "
              "unknown target group 1",
              "brobygning.csv 62 Status efter forløb unknown status value",
              "jobcenter_ung.xlsx 94 CPR-nr. invalid CPR",
              "The values are in the source file and in "
              "data/processed/ungeindsats_aalborg/quarantine.parquet."]
"""Aalborg's quality page: quarantined rows by reason, two rows of the worklist (file, row,
the partner's column, the reason) and where the values are."""
