"""Figures for the reports (seaborn on matplotlib): Danish labels, a colour-blind-safe palette.

Every function takes a small, already privacy-filtered DataFrame or result object (the glue in
``ua.report`` builds them) and returns a matplotlib ``Figure``; nothing is shown or saved here.
The palette is Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
"""Okabe–Ito colours; blue and orange first, as they stay apart in print too."""

GROUP_COLOURS = {"goal_met": "#0072B2", "derived_effect": "#56B4E9", "not_met": "#E69F00",
                 "unknown": "#999999", "active": "#CC79A7"}

WORDS = {
    "da": {"share": "Andel af deltagerne", "n": "Antal", "diff": "Forskel i procentpoint",
           "rate": "Andel, der indfriede målet", "none": "Ingen data at vise",
           "hidden": "tomme felter: for få unge til at vise"},
    "en": {"share": "Share of participants", "n": "Count", "diff": "Difference, percentage points",
           "rate": "Share meeting the goal", "none": "No data to show",
           "hidden": "blank cells: too few young people to show"},
}


def _w(key: str, lang: str) -> str:
    return WORDS.get(lang, WORDS["da"])[key]


def _pct_axis(ax: Any, axis: str = "x", lang: str = "da") -> None:
    """Tick labels as percent, with the Danish space before %."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v * 100:.0f} %" if lang == "da" else f"{v * 100:.0f}%")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def new_figure(width: float = 7.5, height: float = 4.0) -> tuple[Any, Any]:
    """A figure in the house style: white grid, readable fonts, the Okabe–Ito colour cycle."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", palette=OKABE_ITO, font_scale=0.95)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def _empty(ax: Any, lang: str) -> None:
    ax.text(0.5, 0.5, _w("none", lang), ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


def maaltal_bars(data: pd.DataFrame, lang: str = "da") -> Any:
    """Horizontal bars: share of participants per outcome, coloured by outcome group.

    ``data`` has columns label, group (label of the group), n and share; rows whose n is
    missing were suppressed and are drawn without a bar, with "<k" said in the caption.
    """
    fig, ax = new_figure(7.5, 0.45 * max(len(data), 3) + 1.2)
    if data.empty:
        _empty(ax, lang)
        return fig
    groups = list(dict.fromkeys(data["group"]))
    colours = dict(zip(groups, OKABE_ITO, strict=False))
    shares = data["share"].fillna(0.0).astype(float)
    ax.barh(data["label"], shares, color=[colours[g] for g in data["group"]])
    for y, (share, n) in enumerate(zip(data["share"], data["n"], strict=True)):
        if pd.notna(share):
            text = f"{share * 100:.0f} % (n = {int(n)})" if lang == "da" else \
                f"{share * 100:.0f}% (n = {int(n)})"
        else:
            text = "for få til at vise" if lang == "da" else "too few to show"
        ax.text(float(share) if pd.notna(share) else 0.0, y, "  " + text, va="center",
                fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, min(1.0, max(0.25, float(shares.max()) * 1.35)))
    _pct_axis(ax, "x", lang)
    ax.set_xlabel(_w("share", lang))
    ax.set_ylabel("")
    from matplotlib.patches import Patch

    ax.legend(handles=[Patch(color=colours[g], label=g) for g in groups], loc="lower right",
              fontsize=8, frameon=True)
    return fig


def subgroup_heatmap(pivot: pd.DataFrame, lang: str = "da") -> Any:
    """Goal-met rate by subgroup (rows) × mechanism yes/no (columns); suppressed cells blank.

    ``pivot`` is ``realist.subgroup_pivot``: a (context, category) row index, columns ja/nej
    and, if present, the difference (drawn on its own diverging scale).
    """
    import seaborn as sns

    rows = [f"{c}: {k}" for c, k in pivot.index] if isinstance(pivot.index, pd.MultiIndex) \
        else [str(i) for i in pivot.index]
    rates = pivot.iloc[:, :2].astype(float)
    rates.index = rows
    fig, ax = new_figure(6.5, 0.38 * max(len(rows), 4) + 1.4)
    if rates.isna().all().all():
        _empty(ax, lang)
        return fig
    labels = rates.map(lambda v: "" if pd.isna(v) else
                       (f"{v * 100:.0f} %" if lang == "da" else f"{v * 100:.0f}%"))
    sns.heatmap(rates, ax=ax, vmin=0, vmax=1, cmap="cividis", annot=labels, fmt="",
                linewidths=0.5, linecolor="white",
                cbar_kws={"label": _w("rate", lang), "format": "%.1f"})
    ax.set_ylabel("")
    ax.set_xlabel("")
    ax.set_title(_w("hidden", lang), fontsize=8, loc="left")
    return fig


def forest(data: pd.DataFrame, lang: str = "da") -> Any:
    """Forest plot of the hypotheses: rate difference in the context with its 95 % interval.

    ``data`` has columns id, title, diff, diff_lo, diff_hi (shares, -1..1) and verdict.
    """
    fig, ax = new_figure(7.5, 0.55 * max(len(data), 2) + 1.3)
    if data.empty:
        _empty(ax, lang)
        return fig
    y = range(len(data))
    verdicts = list(dict.fromkeys(data["verdict"]))
    colours = dict(zip(verdicts, OKABE_ITO, strict=False))
    for i, row in enumerate(data.itertuples(index=False)):
        c = colours[row.verdict]
        ax.plot([row.diff_lo * 100, row.diff_hi * 100], [i, i], color=c, lw=2)
        ax.plot(row.diff * 100, i, "o", color=c, ms=7, label=row.verdict)
    ax.axvline(0, color="#555555", lw=1, ls="--")
    ax.set_yticks(list(y))
    ax.set_yticklabels([f"{r.id}: {_wrap(r.title, 45)}" for r in data.itertuples()], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(_w("diff", lang))
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=True))
    ax.legend(unique.values(), unique.keys(), fontsize=8, loc="best")
    return fig


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(str(text), width)[:2])


# -- steps on the way (ua.steps) -------------------------------------------------------------


# -- survey (ua.survey) ----------------------------------------------------------------------
