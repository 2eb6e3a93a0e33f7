"""The QCA section as readers see it: the intermediate solution first with its bounds, the
figures that could reveal fewer than 5 young people left out (the legend says why, once), the
same text in notebook 03 and the evaluation, and the saved result read back the same."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from ungeanalyse import qca
from ungeanalyse.errors import UserError
from ungeanalyse.reader import qca as reader
from ungeanalyse.reader.table import ReaderTable

MASKS = {"maaltal": None, "cmo": {}}
"""A unit's masks (the QCA figures are guarded by their own counts)."""


def _shown(result, cfg, lang="da") -> list[tuple[str, object]]:
    """The section's parts as the notebook shows them: ('md', text), ('table', html) or
    ('fig', the XY plot's input)."""
    out = []
    for part in reader.section(result, MASKS, cfg, lang):
        if isinstance(part, ReaderTable):
            out.append(("table", part.as_html()))
        elif isinstance(part, reader.XYInput):
            out.append(("fig", part))
        else:
            out.append(("md", part))
    return out


def test_the_section_runs_on_aumi_like_data(aumi_cfg, participants):
    result = qca.analyse(participants, aumi_cfg, "all")
    shown = _shown(result, aumi_cfg)
    text = reader.text(result, MASKS, aumi_cfg, "da")
    assert "Forbehold:" in text and "Delprojekter (fuzzy-set QCA)" in text
    assert any("Nødvendige betingelser?" in str(v) for _, v in shown)
    # random data have configurations with 1..4 young people: participant figures are withheld,
    # in a sentence that does not say why (the legend says the reasons once)
    assert "Skævhed, XY-plot og robusthedstabel for de unge vises ikke." in text
    assert "færre end 5 unge med eller uden målet" not in text
    assert text.count("Tal, tabeller og figurer, der kunne afsløre en gruppe med færre end 5 "
                      "unge, vises ikke.") == 1
    assert not any("Robusthed: profiler af unge" in str(v) for _, v in shown)
    assert "effekt" not in text.lower()
    english = reader.text(result, MASKS, aumi_cfg, "en")
    assert "Limits:" in english and "effect" not in english.lower()
    # the evaluation repeats exactly the text the notebook says, legend first
    said = [v for k, v in shown if k == "md" and isinstance(v, reader.Said)]
    assert text == "\n\n".join(said) and text.startswith("Betingelser: PAABEG = Påbegynde")
    with pytest.raises(UserError, match="QCA: no disclosure masks"):
        reader.section(result, None, aumi_cfg)


def _safe_participants(cfg) -> pd.DataFrame:
    """400 young people in eight blocks of 50 (target group × contact person × coping course,
    nobody in community): every configuration has 0, 10, 40 or 50 with and without the goal,
    so no figure can reveal fewer than 5."""
    from tests import factories

    p = factories.make_participants(cfg, n=400, seed=2)
    block = np.arange(400) // 50
    met = {0: 50, 1: 40, 2: 0, 3: 0, 4: 50, 5: 10, 6: 40, 7: 0}
    p["target_group"] = np.where(block < 4, "paabegynde", "fastholde")
    p["element_fast_kontaktperson"] = (block % 4) < 2
    p["element_mestringskursus"] = (block % 2) == 0
    p["element_faellesskab"] = False
    p["goal_met"] = np.arange(400) % 50 < pd.Series(block).map(met).to_numpy()
    return p


def test_the_intermediate_solution_is_read_first(aumi_cfg):
    result = qca.analyse(_safe_participants(aumi_cfg), aumi_cfg, "x")
    shown = _shown(result, aumi_cfg)
    text = reader.text(result, MASKS, aumi_cfg, "da")
    assert ("FAST_K til stede, MESTRI til stede, FAELLE til stede" in text
            and "PAABEG begge dele" in text)
    first = text.index("**Intermediær løsning (den, der skal læses).**")
    # ~P*M: 90 of 100 met the goal, P*F: 90 of 100; 180 of the 190 who met it are covered
    assert "Løsningen `~PAABEG*MESTRI + PAABEG*FAST_K` har konsistens 0,90 og dækning 0,95" in text
    # the four easy counterfactuals: each positive row with community added (expected present)
    assert "bruger 4 lette kontrafaktiske antagelser" in text
    bounds = text.index("Grænserne er den konservative løsning "
                        "`~PAABEG*MESTRI*~FAELLE + PAABEG*FAST_K*~FAELLE` (konsistens 0,90")
    assert first < bounds
    assert "Ingen af de forenklende antagelser er uholdbare" in text
    # at 0.85 only the two rows where all 50 met the goal are sufficient
    rob = next(str(v) for k, v in shown if k == "table" and "Robusthed: profiler" in str(v))
    assert re.search(r"0,85</td>\s*<td[^>]*>FAST_K\*MESTRI</td>", rob)
    assert ("Robusthed: analysens løsning kommer igen i 2 af de 4 andre varianter, og ingen term "
            "findes i dem alle" in text)
    skew = next(str(v) for k, v in shown if k == "table" and "Skævhed" in str(v))
    assert re.search(r"FAELLE</td>\s*<td[^>]*>0 %</td>\s*<td[^>]*>ja", skew)
    assert [k for k, _ in shown].count("fig") == 1  # the solution's XY plot
    english = reader.text(result, MASKS, aumi_cfg, "en")
    assert "**Intermediate solution (the one to read).**" in english
    assert "Robustness: the analysis's solution comes back in 2 of the 4 other variants" in english
    # the saved result reads back to the same section
    again = qca.QCAResult.from_dict(json.loads(json.dumps(result.to_dict())))
    for lang in ("da", "en"):
        assert reader.text(again, MASKS, aumi_cfg, lang) == reader.text(result, MASKS, aumi_cfg,
                                                                         lang)
    assert [k for k, _ in _shown(again, aumi_cfg)] == [k for k, _ in shown]


def test_directions_from_the_theory_and_the_config(aumi_cfg):
    cols = ["tg_paabegynde", "element_fast_kontaktperson", "element_faellesskab"]
    assert qca.directions(aumi_cfg, cols) == {
        "tg_paabegynde": "-", "element_fast_kontaktperson": 1, "element_faellesskab": 1}
    cfg = aumi_cfg.model_copy(deep=True)
    cfg.qca.directions = {"element_faellesskab": 0, "tg_paabegynde": 1}
    cfg.hypotheses[0].expected = "negative"
    assert qca.directions(cfg, cols) == {
        "tg_paabegynde": 1, "element_fast_kontaktperson": 0, "element_faellesskab": 0}


def test_untenable_text_names_the_configurations_and_reasons():
    bad = pd.DataFrame({"row": [2, 2, 5], "configuration": ["~A*B", "~A*B", "A*~B"],
                        "reason": ["contradictory", "necessity", "impossible"],
                        "detail": ["~Y", "A", "A*~B"]})
    assert reader.untenable_text(bad, "da") == (
        "Uholdbare antagelser holdt ude (2 kombination(er)): `~A*B` (antages også for det "
        "modsatte udfald; mangler den nødvendige betingelse A), `A*~B` (umulig efter "
        "konfigurationen).")
    assert reader.untenable_text(bad, "en").startswith(
        "Untenable assumptions left out (2 combination(s)): `~A*B` (also assumed for the "
        "opposite outcome; lacks the necessary condition A)")


def test_delprojekt_xy_points_are_withheld_when_a_share_gives_a_small_count():
    closed = pd.DataFrame({"delprojekt": ["a"] * 10 + ["b"] * 10,
                           "goal_met": [True] * 10 + [True] * 5 + [False] * 5,
                           "element_x": [True] * 6 + [False] * 4 + [False] * 10})

    def disclose(columns: list[str], k: int) -> bool:
        return any(reader._small(c, k) for c in qca._group_counts(closed, columns))

    assert not disclose(["goal_met"], 5)
    assert disclose(["goal_met", "element_x"], 5)  # 4 in a without the element
    assert not disclose(["element_x"], 4)


def test_the_aumi_demo_withholds_the_delprojekt_plot_in_one_sentence(demo_project):
    import ungeanalyse as ua

    cfg = demo_project("aumi").cfg()
    result = qca.analyse(ua.results.load_unit(cfg, "all")["participants"], cfg, "all")
    text = reader.text(result, MASKS, cfg, "da")
    assert "XY-plottet for delprojekterne vises ikke." in text
    assert "i mindst ét delprojekt er der færre end 5" not in text
    assert "Skævhed, XY-plot og robusthedstabel for de unge vises ikke." in text
    assert ("**Delprojekter (fuzzy-set QCA).** Andele i hvert delprojekt er kalibreret med "
            "direkte metode (20 %, 50 %, 80 %; målet: 35 %, 60 %, 85 %).") in text
    en = reader.text(result, MASKS, cfg, "en")
    assert "(20%, 50%, 80%; the goal: 35%, 60%, 85%)." in en
