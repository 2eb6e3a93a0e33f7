"""The comparison group as readers see it: naive and adjusted side by side, only the adjusted
estimates called virkning (with their assumptions), small groups hidden, the saved result read
back the same; nothing renders without masks."""

from __future__ import annotations

import json

import pytest

from tests.test_comparison import cfg, people, register, result  # noqa: F401 (fixtures)
from ungeanalyse import comparison as cmp
from ungeanalyse.errors import UserError
from ungeanalyse.reader import comparison as reader

MASKS = {"maaltal": None, "cmo": {}}
"""A unit's masks (the comparison's own cells are hidden by its counts)."""


def test_only_the_adjusted_sentences_say_virkning_and_name_the_assumptions(result, cfg):  # noqa: F811
    naive, adjusted, evalue = reader.effect_sentences(result, MASKS, cfg, "da")
    assert "sammenhæng, ikke en virkning" in naive
    assert "virkningen af at deltage" in adjusted
    assert "ingen umålt confounding" in adjusted and "(overlap)" in adjusted
    ipw = result.primary("ipw")
    assert f"{ipw['att_pp']:.1f}".replace(".", ",") in adjusted
    assert "E-værdien er" in evalue


def test_the_effect_table_shows_naive_and_adjusted_side_by_side(result, cfg):  # noqa: F811
    table = reader.effect_table(result, MASKS, cfg, 12, "da").frame
    rows = table[table["Gruppe"].eq("Alle deltagere")]
    assert list(rows["Metode"]) == ["Ujusteret sammenhæng (alle øvrige unge)",
                                    "Virkning, matchning", "Virkning, vægtning (IPW)"]
    ipw = result.primary("ipw")
    assert rows.iloc[2]["Forskel (procentpoint)"] == (
        f"{ipw['att_pp']:+.1f}".replace(".", ",").replace("-", "−"))


def test_disclosure_control_hides_small_groups_and_their_partner(cfg, people, register):  # noqa: F811
    few = people[people["target_group"].eq("paabegynde")
                 | people.index.isin(people.index[people["target_group"].eq("fastholde")][:3])]
    keep = register.frame["pnr"].isin(set(few["person_id"])) | ~register.frame["pnr"].isin(
        set(people["person_id"]))
    res = cmp.estimate_effects(cfg, few, cmp.check_register(register.frame[keep], cfg))
    table = reader.effect_table(res, MASKS, cfg, 12, "da").frame.set_index(["Gruppe", "Metode"])
    fast = table.loc[("Fastholde", "Virkning, vægtning (IPW)")]
    assert fast["Deltagere"] == "–" and fast["Forskel (procentpoint)"] == "–"
    # 3 + 120 = 123 is shown, so påbegynde's 120 would give the 3 away: hidden too
    start = table.loc[("Påbegynde", "Virkning, vægtning (IPW)")]
    assert start["Forskel (procentpoint)"] == "–"
    hidden = {(r["group"], r["months"]): r["hidden"] for r in cmp.att_estimates(res)}
    assert hidden[("tg_fastholde", 12)] and not hidden[("all", 12)]


def test_the_saved_result_reads_back_the_same(result, cfg):  # noqa: F811
    again = cmp.ComparisonResult.from_dict(json.loads(json.dumps(result.to_dict())))
    for lang in ("da", "en"):
        assert reader.effect_table(again, MASKS, cfg, 12, lang).as_html() == \
            reader.effect_table(result, MASKS, cfg, 12, lang).as_html()
        assert reader.effect_text(again, MASKS, cfg, lang) == \
            reader.effect_text(result, MASKS, cfg, lang)
        assert reader.sample_notes(again, MASKS, cfg, lang) == \
            reader.sample_notes(result, MASKS, cfg, lang)
    assert "person_id" not in json.dumps(result.to_dict())  # no person-level rows saved
    fig = cmp.overlap_plot(again, "en")  # drawn from the saved histogram
    assert fig.axes[0].get_xlabel() == "Probability of taking part (propensity score, logit)"


def test_the_english_sentences_and_the_refusal_without_masks(result, cfg):  # noqa: F811
    naive, adjusted, evalue = reader.effect_sentences(result, MASKS, cfg, "en")
    assert "That is an association, not an effect" in naive
    assert adjusted.startswith("Compared with young people who were like them at the start, "
                               "the effect of taking part is ")
    with pytest.raises(UserError, match="the comparison group: no disclosure masks"):
        reader.effect_table(result, None, cfg)
