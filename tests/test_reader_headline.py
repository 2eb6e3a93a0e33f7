"""reader.headline: the index page's headline, worded from the catalogue, light to import."""

from __future__ import annotations

import subprocess
import sys

from ungeanalyse.reader.headline import headline_html

HEADLINE = {"participants": 240, "goal_met": 162, "goal_met_share": 0.675,
            "success_rate": 0.70, "success_ci": [0.64, 0.76],
            "by_target_group": [
                {"label": "Påbegynde", "rate": None, "n": None, "share_of_all": 0.59,
                 "n_all": 155},
                {"label": "Fastholde", "rate": 0.82, "n": 85}],
            "hypotheses": [{"id": "H1", "title": "Mentor", "title_en": "Mentor",
                            "verdict_code": "partly_supported"}]}


def test_the_headline_in_danish_and_english():
    da = headline_html(HEADLINE, "da")
    assert "<li><strong>240</strong> deltagere</li>" in da
    assert "<li><strong>162</strong> (68 %) har indfriet målet</li>" in da
    assert "Succesrate <strong>70 %</strong> <small>(95 %-CI 64–76 %)</small>" in da
    # a rate that would give the still active back reads as goal met of everyone
    assert ("Påbegynde: <strong>59 % af alle</strong> <small>(n = 155)</small>; "
            "Fastholde: <strong>82 %</strong> <small>(n = 85)</small>") in da
    assert "<strong>H1</strong> Mentor: <em>delvist støttet</em>" in da
    en = headline_html(HEADLINE, "en")
    assert "<li><strong>240</strong> participants</li>" in en
    assert "<em>partly supported</em>" in en and "støttet" not in en


def test_a_hidden_goal_count_is_not_shown():
    page = headline_html({**HEADLINE, "goal_met": None, "success_rate": None}, "da")
    assert "Mål indfriet: vises ikke" in page and "162" not in page and "Succesrate <" not in page


def test_the_headline_imports_neither_pandas_nor_the_analysis():
    """The index is rewritten by every run, a no-change rerun included."""
    code = ("import sys; import ungeanalyse.reader.headline; "
            "print(sorted(m for m in ('pandas', 'numpy', 'ungeanalyse.realist', "
            "'ungeanalyse.reader.evaluation') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
