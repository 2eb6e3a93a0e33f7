"""The business case as readers see it: the evaluation's section, the pixi's headline and note
(a scenario left out where goal met is hidden), from the saved result read back."""

from __future__ import annotations

import pytest

from tests.test_business_case import SBST, _settings
from ungeanalyse import business_case as bc
from ungeanalyse.config import load_config
from ungeanalyse.errors import UserError
from ungeanalyse.reader import business_case as reader

MASKS = {"maaltal": None, "cmo": {}}
"""Masks of a unit whose tables hide nothing (the business case itself has no cells)."""


def test_the_reader_context_hides_a_scenario_where_goal_met_is_hidden():
    cfg = load_config(SBST)
    case = bc.BusinessCase.from_dict(
        bc.for_unit(cfg, "all", {"n_participants": 182, "goal_met": 96}).to_dict())
    shown = reader.context(case, MASKS, cfg, "all", False)
    assert shown["business_case_headline"] == (
        "tjent hjem i år 8 (2031); nettonutidsværdi 7.412.308 kr. over 10 år (scenarie)")
    assert shown["business_case_note"] == (
        "Business casen er et scenarie: den antager, at 25 % af de unge, der har indfriet "
        "målet, ikke ville have gjort det uden projektet. Priserne er illustrative.")
    en = reader.context(case, MASKS, cfg, "all", False, "en")
    assert en["business_case_headline"] == (
        "pays back in year 8 (2031); net present value DKK 7,412,308 over 10 years (scenario)")
    hidden = reader.context(case, MASKS, cfg, "all", True)
    assert hidden["business_case_headline"] is None
    assert hidden["business_case_text"] == ("Business casen vises ikke for denne enhed: den "
                                            "bygger på antallet, der har indfriet målet, og det "
                                            "vises ikke her.")
    unit = reader.context(None, MASKS, cfg, "koege", False)
    assert unit["business_case_text"].startswith("Business casen er regnet for hele projektet")
    with pytest.raises(UserError, match="the business case: no disclosure masks"):
        reader.context(case, None, cfg, "all", False)


def test_the_tornado_is_worded_in_the_report_language():
    cfg = load_config(SBST)
    case = bc.for_unit(cfg, "all", {"n_participants": 182, "goal_met": 96})
    da, en = reader.tornado_input(case, "da"), reader.tornado_input(case, "en")
    assert da["label"].iloc[0] == "Scenariets andel" and en["label"].iloc[0] == "Scenario share"
    assert (da["low_text"].iloc[0], da["high_text"].iloc[0]) == ("12,5 %", "37,5 %")
    assert reader.tornado_sentence(case, "da").startswith(
        "Resultatet er mest følsomt for scenariets andel: nettonutidsværdien spænder fra ")
    assert reader.tornado_sentence(case, "en").startswith(
        "The result is most sensitive to scenario share: the net present value ranges from ")


def test_the_evaluation_and_pixi_carry_the_section_and_the_headline(aumi_cfg, tmp_path):
    """AUMI's måltal (195 participants, 126 goal met, 25.345.510 kr.) with a quarter as the
    scenario: 31,5 extra young people × 100.000 kr. a year at 0 % pass the cost in year 9
    (28.350.000 kr.; year 8: 25.200.000 kr.)."""
    from tests.test_outcomes import aumi_table
    from tests.test_reader_evaluation import render_text
    from ungeanalyse.outcomes import maaltal
    from ungeanalyse.results import ResultStore

    cfg = aumi_cfg.model_copy(update={"business_case": _settings(
        horizon_years=10, discount_rate=0, scenario_share=0.25, prices=[
            {"id": "a", "label": "Mindre kontanthjælp", "label_en": "Less income support",
             "payer": "kommune", "amount_kr": 100_000, "source": "testpris"}])})
    store = ResultStore.for_unit(cfg, "all", tmp_path)
    store.save("maaltal", maaltal(aumi_table(), cfg).to_dict())
    case = bc.run(cfg, "all", store)
    assert case.extra == pytest.approx(31.5) and case.break_even_year == 9
    assert store.figure_path("tornado") is not None
    year = cfg.project.period.end.year + 9
    text = render_text(cfg, "all", store)
    section = text.split("## Business case: investering og gevinster\n")[1]
    assert section.index("<!-- figure:tornado -->") < section.index("## Styrker og")
    assert "Udgiften er 25.345.510 kr., dvs. 129.977 kr. pr. deltager (195 deltagere)" \
        in section
    assert f"**Investeringen er tjent hjem i år 9 ({year}): det år" in section
    assert "| Kommune | 31.500.000 kr. | 100 % |" in section  # 31,5 × 100.000 kr. × 10 years
    assert "nettonutidsværdien er **6.154.490 kr.**" in section  # minus the cost
    pixi = render_text(cfg, "all", store, variant="pixi")
    assert (f"| Budget | 25.345.510 kr. |\n| Business case | tjent hjem i år 9 ({year}); "
            "nettonutidsværdi 6.154.490 kr. over 10 år (scenarie) |\n\n*Business casen er et "
            "scenarie: den antager, at 25 % af de unge") in pixi
    en = render_text(cfg, "all", store, lang="en")
    assert f"**The investment pays back its cost in year 9 ({year}): that year" in en
    assert "| Less income support | Municipality | DKK 100,000 | from year 1 | testpris |" in en
    # without a business case in the config the section and a stale result are gone
    plain = aumi_cfg.model_copy(update={"business_case": None})
    assert bc.run(plain, "all", store) is None and store.figure_path("tornado") is None
    assert "Business case" not in render_text(plain, "all", store, variant="pixi")
