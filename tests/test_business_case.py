"""The business case: NPV and break-even against hand calculations, the tornado's ordering, the
config's errors, and (slow) the Social- og Boligstyrelsen demo report's section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ungeanalyse import business_case as bc
from ungeanalyse.config import load_config, parse_config
from ungeanalyse.errors import UserError
from ungeanalyse.reader import business_case as reader

ROOT = Path(__file__).resolve().parents[1]
SBST = ROOT / "config" / "sbst_helhedsorienteret.yml"


def _settings(**over) -> bc.BusinessCaseSettings:
    data = {"horizon_years": 5, "discount_rate": 0.10, "scenario_share": 0.5,
            "prices": [{"id": "hjaelp", "label": "Mindre forsørgelse", "payer": "kommune",
                        "amount_kr": 50, "source": "hånd"}]}
    data.update(over)
    return bc.BusinessCaseSettings.model_validate(data)


def test_npv_and_break_even_match_a_hand_calculation():
    """10 extra young people (50 % of 20) × 50 kr. a year for 5 years at 10 %, cost 1.000 kr.:
    the gains' present value is 500 × (1 − 1,1⁻⁵)/0,1 = 1.895,39 kr., so NPV 895,39 kr.;
    cumulative 454,55 → 867,77 → 1.243,43 passes the cost in year 3."""
    case = bc.calculate(_settings(), n_participants=40, goal_met=20, cost_kr=1000)
    assert case.extra == pytest.approx(10)
    assert case.pv_gains == pytest.approx(500 * (1 - 1.1 ** -5) / 0.1)
    assert case.npv == pytest.approx(895.393, abs=1e-3)
    assert case.break_even_year == 3
    assert list(case.years["cumulative_net"].round(2)) == pytest.approx(
        [-545.45, -132.23, 243.43, 584.93, 895.39], abs=0.01)
    assert case.pv_by_payer == pytest.approx({"kommune": 1895.393, "region": 0, "stat": 0},
                                             abs=1e-3)
    assert case.cost_per_participant == 25


def test_break_even_on_the_day_and_never():
    """At 0 %, 4 young people × 50 kr. = 200 kr. a year: gains equal to the cost count as paid
    back (800 kr. in year 4, 1.000 kr. in year 5); 1.001 kr. is not paid back in 5 years."""
    s = _settings(discount_rate=0, scenario_share=1.0)
    assert bc.calculate(s, 10, 4, cost_kr=800).break_even_year == 4
    assert bc.calculate(s, 10, 4, cost_kr=1000).break_even_year == 5
    assert bc.calculate(s, 10, 4, cost_kr=1001).break_even_year is None
    text = reader.break_even_text(bc.calculate(s, 10, 4, cost_kr=1001))
    assert text == "Investeringen er ikke tjent hjem inden for tidshorisonten på 5 år."


def test_prices_by_payer_with_start_and_duration():
    """A tax gain to the state from year 2 for two years, and a cost (SU) in year 1 only."""
    s = _settings(discount_rate=0, scenario_share=1.0, prices=[
        {"id": "skat", "label": "Skat", "payer": "stat", "amount_kr": 100, "start_year": 2,
         "years": 2, "source": "x"},
        {"id": "su", "label": "SU", "payer": "stat", "amount_kr": -30, "years": 1,
         "source": "y"},
        {"id": "psyk", "label": "Psykiatri", "payer": "region", "amount_kr": 10, "source": "z"}])
    case = bc.calculate(s, 2, 2, cost_kr=300)
    assert list(case.years["gain"]) == [2 * (-30 + 10), 2 * 110, 2 * 110, 20, 20]
    assert case.pv_by_payer == {"kommune": 0.0, "region": 100.0, "stat": 2 * (200 - 30)}
    assert case.npv == pytest.approx(140)
    assert case.break_even_year == 3  # -40, 180, 400 ≥ 300


def test_an_effect_in_percentage_points_replaces_the_scenario():
    """ATT 5 pp (1–9) on 200 participants: 10 extra young people; the tornado varies the CI."""
    effect = bc.Effect(5.0, 1.0, 9.0, "registersammenligning")
    case = bc.calculate(_settings(), n_participants=200, goal_met=20, cost_kr=1000,
                        effect=effect)
    assert case.mode == "effect" and case.extra == pytest.approx(10)
    assert case.npv == pytest.approx(895.393, abs=1e-3)
    row = case.tornado.set_index("parameter").loc["effect"]
    annuity = (1 - 1.1 ** -5) / 0.1
    assert row["npv_low"] == pytest.approx(2 * 50 * annuity - 1000)
    assert row["npv_high"] == pytest.approx(18 * 50 * annuity - 1000)
    text = reader.section_text(bc.BusinessCase.from_dict(case.to_dict()))  # as 04 reads it
    assert "den estimerede virkning for deltagerne (registersammenligning): 5,0 procentpoint" \
        in text
    assert "(95 %-CI 1,0 til 9,0), dvs. 10 ekstra unge blandt de 200 deltagere" in text
    assert "scenarie" not in text


def test_tornado_is_ordered_by_swing():
    """Scenario share 25–75 % moves 10 young people ±5, the horizon 4–8 years, each price ±25 %,
    the rate 0–2 %: the bars come widest first (not in the order they are computed), and each
    end is the NPV with only that assumption changed."""
    s = _settings(discount_rate=0, sensitivity={"horizon_years": [4, 8]}, prices=[
        {"id": "a", "label": "A", "payer": "kommune", "amount_kr": 40, "source": "x"},
        {"id": "b", "label": "B", "payer": "stat", "amount_kr": 10, "source": "y"}])
    t = bc.calculate(s, 40, 20, cost_kr=1000).tornado
    # at 0 %: NPV = extra × 50 × years − 1000 (base 10 × 50 × 5 − 1000 = 1.500)
    expected = {"scenario_share": (5 * 250 - 1000, 15 * 250 - 1000),  # swing 2.500
                "horizon_years": (10 * 50 * 4 - 1000, 10 * 50 * 8 - 1000),  # swing 2.000
                "price:a": (10 * 5 * 30 + 500 - 1000, 10 * 5 * 50 + 500 - 1000),  # swing 1.000
                "price:b": (10 * 5 * 40 + 375 - 1000, 10 * 5 * 40 + 625 - 1000),  # swing 250
                "discount_rate": (1500, 500 * (1 - 1.02 ** -5) / 0.02 - 1000)}  # 143
    got = t.set_index("parameter")
    for param, (low, high) in expected.items():
        assert got.loc[param, "npv_low"] == pytest.approx(low), param
        assert got.loc[param, "npv_high"] == pytest.approx(high), param
    assert list(t["parameter"]) == ["scenario_share", "horizon_years", "price:a", "price:b",
                                    "discount_rate"]
    assert list(t["swing"]) == sorted(t["swing"], reverse=True)
    words = reader.tornado_input(bc.calculate(s, 40, 20, cost_kr=1000)).set_index("parameter")
    assert words.loc["discount_rate", "high_text"] == "2 %"  # 0 % + 2 points
    assert words.loc["price:a", "label"] == "Pris: A"
    assert bc.tornado_figure(words.reset_index(), 1500).axes[0].get_yticklabels()[-1] \
        .get_text() == "Scenariets andel"  # widest on top


def _sbst_with(**business_case) -> dict:
    data = yaml.safe_load(SBST.read_text(encoding="utf-8"))
    data["business_case"].update(business_case)
    return data


def test_the_sbst_demo_prices_are_marked_illustrative_and_sourced():
    cfg = load_config(SBST)
    assert cfg.business_case.prices and all(p.illustrative and p.source
                                            for p in cfg.business_case.prices)
    case = bc.for_unit(cfg, "all", {"n_participants": 182, "goal_met": 96})
    assert case.cost_kr == 24_400_000  # the seed's 24,4 mio. kr. (project.budget_kr)
    text = reader.section_text(case)
    assert "Udgiften er 24.400.000 kr. (kilde: BUIP-bevillingen" in text
    assert "134.066 kr. pr. deltager (182 deltagere)" in text
    assert "**Et scenarie, ikke en målt virkning.**" in text
    assert "antager, at **25 %** af de 96 unge, der har indfriet målet" in text
    assert "| Mindre uddannelses- og kontanthjælp (kommunens andel) * | Kommune | 65.000 kr. |" \
        in text
    assert "\\* Illustrativ pris" in text
    assert bc.for_unit(cfg, "koege", {"n_participants": 50, "goal_met": 30}) is None


@pytest.mark.parametrize("change, field, words", [
    ({"discount_rate": -0.02}, "business_case.discount_rate", "cannot be negative"),
    ({"discount_rate": 3.5}, "business_case.discount_rate", "write 0.035 for 3,5 %"),
    ({"scenario_share": None}, "business_case", "scenario_share is missing"),
    ({"cost_kr": 1, "cost_per_participant_kr": 2}, "business_case", "not both"),
    ({"horizon_years": 0}, "business_case.horizon_years", "greater than or equal to 1"),
    ({"sensitivity": {"discount_rate": [0.05, 0.01]}}, "business_case.sensitivity.discount_rate",
     "low ≤ high"),
])
def test_bad_business_case_config_names_the_field(change, field, words):
    with pytest.raises(UserError) as exc:
        parse_config(_sbst_with(**change), "sbst.yml")
    message = str(exc.value)
    assert f"  {field}: " in message and words in message, message


def test_a_price_without_source_names_the_price():
    data = _sbst_with()
    del data["business_case"]["prices"][2]["source"]
    data["business_case"]["prices"][4]["source"] = "  "
    with pytest.raises(UserError) as exc:
        parse_config(data, "sbst.yml")
    message = str(exc.value)
    assert "  business_case.prices[2].source: every price needs its source" in message
    assert "  business_case.prices[4].source: every price needs its source" in message


def test_no_cost_at_all_is_refused():
    data = _sbst_with()
    data["project"]["budget_kr"] = 0
    with pytest.raises(UserError, match=r"business_case.cost_kr: the project has no budget"):
        parse_config(data, "sbst.yml")


@pytest.mark.slow
def test_the_sbst_report_shows_the_break_even_year(demo_copy):
    """The demo through notebooks 02 and 04: the evaluation has the section, its sentence and
    the tornado figure; the pixi has the headline."""
    import papermill as pm

    project = demo_copy("sbst_helhedsorienteret")  # the session's demo, cleaned, copied
    cfg = project.cfg()

    def run(name: str, **params) -> list[dict]:
        out = project.root / f"{name}-{params.get('variant', '')}.ipynb"
        pm.execute_notebook(ROOT / "notebooks" / f"{name}.ipynb", out, cwd=str(project.root),
                            parameters={"config": f"config/{SBST.name}", "unit": "all",
                                        **params}, kernel_name="python3", progress_bar=False)
        return [o for c in json.loads(out.read_text(encoding="utf-8"))["cells"]
                for o in c.get("outputs", [])]

    run("02_maaltal")
    outputs = run("04_slutevaluering", variant="full")
    text = "".join("".join(o.get("data", {}).get("text/markdown", [])) for o in outputs)
    assert "## Business case: investering og gevinster" in text
    saved = json.loads((cfg.processed_dir / "results" / "all" / "business_case.json")
                       .read_text(encoding="utf-8"))
    year = saved["break_even_year"]
    assert (saved["n_participants"], saved["goal_met"], year) == (182, 96, 8)
    assert (f"**Investeringen er tjent hjem i år {year} ({2023 + year}): det år overstiger de "
            "samlede tilbagediskonterede gevinster første gang udgiften.**") in text
    assert "Et scenarie, ikke en målt virkning" in text
    assert (cfg.processed_dir / "results" / "all" / "tornado.png").exists()
    section = text.split("## Business case")[1]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 2  # måltal and the tornado
    assert "Følsomhedsanalysen (tornadodiagrammet)" in section
    pixi = run("04_slutevaluering", variant="pixi")
    pixi_text = "".join("".join(o.get("data", {}).get("text/markdown", [])) for o in pixi)
    assert f"| Business case | tjent hjem i år {year} ({2023 + year}); nettonutidsværdi" \
        in pixi_text


def test_the_business_case_round_trips_through_json():
    """What notebook 04 saves, it reads back as the same object (the reader words that)."""
    cfg = load_config(SBST)
    case = bc.for_unit(cfg, "all", {"n_participants": 182, "goal_met": 96})
    again = bc.BusinessCase.from_dict(json.loads(json.dumps(case.to_dict())))
    assert again.to_dict() == json.loads(json.dumps(case.to_dict()))
    assert (again.npv, again.break_even_year, again.mode) == (case.npv, 8, "scenario")
    assert list(again.tornado["parameter"]) == list(case.tornado["parameter"])
    assert reader.section_text(again, "en") == reader.section_text(case, "en")
