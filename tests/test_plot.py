"""Figures: an alt text in the report language that says what the figure shows, decimal commas
on Danish ticks (colour scales included), the minus sign; the forest plot and its input, crude
and adjusted differences side by side."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ungeanalyse import plot  # noqa: E402

FOREST = pd.DataFrame({"id": ["H1", "H2"], "title": ["Fast kontaktperson", "Brobygning"],
                       "diff": [0.12, -0.05], "diff_lo": [0.02, -0.2], "diff_hi": [0.22, 0.1],
                       "verdict": ["støttet", "ikke støttet"]})


def _ticks(axis) -> list[str]:
    fig = axis.figure
    fig.canvas.draw()
    return [t.get_text() for t in axis.get_ticklabels() if t.get_text()]


def test_a_figure_has_an_alt_text_in_the_report_language():
    da = plot.forest(FOREST, lang="da")
    assert da.ua_alt == (
        "Figur: Forest-plot: forskellen i procentpoint i konteksten med 95 %-konfidensinterval "
        "for hver hypotese, farvet efter dommen. vandret akse: Forskel i procentpoint; "
        "lodret akse: H1: Fast kontaktperson, H2: Brobygning")
    en = plot.forest(FOREST, lang="en")
    assert en.ua_alt.startswith("Figure: Forest plot: the difference in percentage points")
    assert "horizontal axis: Difference, percentage points; vertical axis: H1: Fast" in en.ua_alt
    empty = plot.forest(FOREST.iloc[:0], lang="da")
    assert empty.ua_alt == "Figur: Tom figur: ingen data at vise"
    plt.close("all")


def test_danish_ticks_have_decimal_commas_and_the_minus_sign():
    x = pd.Series([0.1, 0.4, 0.8], index=["a", "b", "c"])
    fig = plot.xy_plot(x, x, "X", "Y", 0.9, 0.8, lang="da")
    ticks = _ticks(fig.axes[0].xaxis)
    assert "0,2" in ticks and "0,4" in ticks and "−0,2" in ticks
    assert not any("." in t or "-" in t for t in ticks)
    en = plot.xy_plot(x, x, "X", "Y", 0.9, 0.8, lang="en")
    assert "0.2" in _ticks(en.axes[0].xaxis)
    pivot = pd.DataFrame({"ja": [0.5, 0.7], "nej": [0.4, None]},
                         index=pd.MultiIndex.from_tuples([("Køn", "Kvinde"), ("Køn", "Mand")]))
    heat = plot.subgroup_heatmap(pivot, lang="da")
    colour_bar = heat.axes[1]
    labels = _ticks(colour_bar.yaxis)
    assert labels and all(t.endswith(" %") for t in labels), labels
    assert "vandret akse: ja, nej; lodret akse: Køn: Kvinde, Køn: Mand" in heat.ua_alt
    plt.close("all")


def test_forest_draws_crude_open_and_adjusted_filled_with_a_legend():
    data = pd.DataFrame({"id": ["H1", "H2"], "title": ["Hypotese: a", "Hypotese: b"],
                         "diff": [0.40, 0.10], "diff_lo": [0.2, -0.1], "diff_hi": [0.6, 0.3],
                         "adj": [0.35, np.nan], "adj_lo": [0.05, np.nan],
                         "adj_hi": [0.65, np.nan], "verdict": ["støttet", "ikke støttet"],
                         "verdict_code": ["supported", "not_supported"]})
    fig = plot.forest(data, lang="da")
    ax = fig.axes[0]
    points = [(tuple(ln.get_xdata()), tuple(ln.get_ydata()), ln.get_markerfacecolor())
              for ln in ax.lines if ln.get_marker() == "o"]
    # H1: crude open at 40 just above the row, adjusted filled at 35 just below; H2 crude only
    assert ((40.0,), (-0.17,), "white") in points
    assert any(p[0] == (35.0,) and p[1] == (0.17,) and p[2] != "white" for p in points)
    assert len(points) == 3
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["støttet", "ikke støttet", "rå forskel (andelene i tabellen)",
                      "justeret forskel (modellen)"]
    english = plot.forest(data.drop(columns=["adj", "adj_lo", "adj_hi"]), lang="en")
    assert [t.get_text() for t in english.legends[0].get_texts()][-1] == \
        "crude difference (the table's shares)"


def test_a_heatmap_with_long_row_names_keeps_its_cells(recwarn):
    names = ["Selvforståelse, eksponering og spejling – unge med autisme",
             "#KomMed – samtaler for frafaldstruede HF-elever", "Motivation på FGU"]
    pivot = pd.DataFrame({"ja": [0.5, 0.7, 0.2], "nej": [0.4, 0.6, 0.3]},
                         index=pd.MultiIndex.from_tuples([("Delprojekt", n) for n in names]))
    heat = plot.subgroup_heatmap(pivot, lang="da")
    heat.savefig(io.BytesIO(), format="png", bbox_inches="tight")
    assert not [w for w in recwarn if "constrained_layout" in str(w.message)]
    cells = heat.axes[0].get_window_extent()
    assert cells.width > 0.3 * heat.bbox.width  # the cells, not the labels, have the room
    assert "Delprojekt: Selvforståelse, eksponering og spejling – unge med autisme" \
        in heat.ua_alt  # a wrapped name reads whole in the alt text
    plt.close("all")
