"""Figures for the reports (seaborn on matplotlib): Danish labels, a colour-blind-safe palette.

Every function takes a small, already privacy-filtered DataFrame or result object (the glue in
``ua.reader`` builds them) and returns a matplotlib ``Figure``; nothing is shown or saved here.
The palette is Okabe & Ito (2008), distinguishable with the common colour-vision deficiencies.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from . import i18n
from .fmt import fmt_int, fmt_pct

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
             "#000000"]
"""Okabe–Ito colours; blue and orange first, as they stay apart in print too."""

GROUP_COLOURS = {"goal_met": "#0072B2", "derived_effect": "#56B4E9", "not_met": "#E69F00",
                 "unknown": "#999999", "active": "#CC79A7"}
"""Outcome group colours: goal met dark blue, derived effect light blue, not met orange."""

VERDICT_COLOURS = {"supported": "#0072B2", "partly_supported": "#56B4E9",
                   "not_supported": "#E69F00", "too_few_data": "#999999"}
"""Verdict colours, fixed so that a verdict looks the same in every report."""


def _tick(value: float, lang: str) -> str:
    """A plain tick number in the report language: 0,25 (da) or 0.25 (en), minus as −."""
    text = f"{round(value, 6):g}".replace("-", "\u2212")
    return text.replace(".", ",") if lang == "da" else text


def _localise(fig: Any, lang: str) -> None:
    """Plain number ticks (matplotlib's default formatter, colour bars included) in the report
    language's decimal mark."""
    from matplotlib.ticker import FuncFormatter, ScalarFormatter

    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if isinstance(axis.get_major_formatter(), ScalarFormatter):
                axis.set_major_formatter(FuncFormatter(lambda v, _: _tick(v, lang)))


_NUMBER = re.compile(r"[−+-]?[\d.,]+\s*%?")


def _categories(axis: Any) -> list[str]:
    """The tick labels of an axis that name categories (not numbers), as drawn."""
    ticks = [" ".join(t.get_text().split()) for t in axis.get_ticklabels()]
    return [t for t in ticks if t and not _NUMBER.fullmatch(t)]


def _alt_text(fig: Any, kind: str, lang: str) -> str:
    """What a figure shows, in words, for readers who cannot see it: the kind of figure, then
    its title, axes and categories as drawn."""
    ax = fig.axes[0] if fig.axes else None
    if ax is None or not ax.axison:
        return i18n.t("alt.figure", lang, what=i18n.t("alt.empty", lang))
    parts = [i18n.t(f"alt.{kind}", lang)]
    title = " ".join(" ".join(ax.get_title(loc=w) for w in ("left", "center", "right")).split())
    if title:
        parts.append(title)
    axes = []
    for key, label, axis in (("x", ax.get_xlabel(), ax.xaxis), ("y", ax.get_ylabel(), ax.yaxis)):
        label, cats = " ".join(label.split()), _categories(axis)[:12]
        if label or cats:
            shown = ", ".join(([label] if label else []) + cats)
            axes.append(i18n.t(f"alt.axis_{key}", lang, text=shown))
    if axes:
        parts.append("; ".join(axes))
    return i18n.t("alt.figure", lang, what=". ".join(parts))


def reader_figure(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a figure function: its figure gets decimal marks in the report language and an
    alt text (``fig.ua_alt``, from the catalogue's ``alt.<kind>``) that ``show_figure`` uses."""

    def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def inner(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            lang = bound.arguments.get("lang", "da")
            lang = i18n.known(lang)
            fig = func(*args, **kwargs)
            _localise(fig, lang)
            fig.ua_alt = _alt_text(fig, kind, lang)
            return fig

        return inner

    return wrap


def _w(key: str, lang: str, **params: Any) -> str:
    """A word drawn in a figure (catalogue ``figure.<key>``; Danish for an unknown language)."""
    return i18n.t(f"figure.{key}", i18n.known(lang), **params)


def _pct_axis(ax: Any, axis: str = "x", lang: str = "da") -> None:
    """Tick labels as percent, with the Danish space before %."""
    from matplotlib.ticker import FuncFormatter

    fmt = FuncFormatter(lambda v, _: f"{v * 100:.0f} %" if lang == "da" else f"{v * 100:.0f}%")
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(fmt)


def new_figure(width: float = 7.5, height: float = 4.0) -> tuple[Any, Any]:
    """A figure in the house style: white grid, readable fonts, the Okabe–Ito colour cycle."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid", palette=OKABE_ITO, font_scale=0.95)
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return fig, ax


def _empty(ax: Any, lang: str) -> None:
    ax.text(0.5, 0.5, _w("none", lang), ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()


@reader_figure("bars")
def maaltal_bars(data: pd.DataFrame, lang: str = "da") -> Any:
    """Horizontal bars: share of participants per outcome, coloured by outcome group.

    ``data`` has columns label, group (label of the group), n and share, and optionally
    group_code (goal_met, derived_effect, not_met, unknown, active), which fixes each group's
    colour so that a group looks the same in every report; rows whose n is missing were
    suppressed and are drawn without a bar.
    """
    fig, ax = new_figure(7.5, 0.45 * max(len(data), 3) + 1.2)
    if data.empty:
        _empty(ax, lang)
        return fig
    groups = list(dict.fromkeys(data["group"]))
    if "group_code" in data:
        codes = dict(zip(data["group"], data["group_code"], strict=False))
        colours = {g: GROUP_COLOURS.get(codes[g], "#999999") for g in groups}
    else:
        colours = dict(zip(groups, OKABE_ITO, strict=False))
    shares = data["share"].fillna(0.0).astype(float)
    ax.barh(data["label"], shares, color=[colours[g] for g in data["group"]])
    for y, (share, n) in enumerate(zip(data["share"], data["n"], strict=True)):
        if pd.notna(share):
            text = _w("bar_label", lang, share=fmt_pct(float(share), 0, lang),
                          n=fmt_int(int(n), lang))
        else:
            text = _w("not_shown", lang)  # whatever the reason
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


def _heatmap(ax: Any, rates: pd.DataFrame, text: Callable[[float], str], label: str) -> None:
    """Shares 0..1 as coloured cells with their value written in (blank where NaN) and a
    colour bar, as seaborn's heatmap draws them, without the full extra draw of the figure
    that seaborn makes to decide whether tick labels overlap (half the figure's time)."""
    import numpy as np
    from matplotlib import colormaps
    from matplotlib.ticker import FuncFormatter
    from seaborn.utils import relative_luminance

    shares = rates.to_numpy(dtype=float)
    values = np.ma.masked_invalid(shares)
    cmap = colormaps["cividis"]
    mesh = ax.pcolormesh(values, cmap=cmap, vmin=0, vmax=1, edgecolors="white", linewidth=0.5)
    n_rows, n_cols = values.shape
    ax.set(xlim=(0, n_cols), ylim=(n_rows, 0))
    ax.set_xticks([i + 0.5 for i in range(n_cols)], [str(c) for c in rates.columns])
    ax.set_yticks([i + 0.5 for i in range(n_rows)], [str(r) for r in rates.index])
    ax.tick_params(length=0)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    for (i, j), v in np.ndenumerate(shares):
        if not np.isnan(v):  # dark text on light cells, white on dark (seaborn's rule)
            dark = relative_luminance(cmap(v)) > 0.408
            ax.text(j + 0.5, i + 0.5, text(v), ha="center", va="center",
                    color=".15" if dark else "white")
    bar = ax.figure.colorbar(mesh, ax=ax, label=label,
                             format=FuncFormatter(lambda v, _: text(v)))
    bar.outline.set_linewidth(0)


@reader_figure("heatmap")
def subgroup_heatmap(pivot: pd.DataFrame, lang: str = "da", title: str | None = None) -> Any:
    """Goal-met rate by subgroup (rows) × mechanism yes/no (columns); suppressed cells blank.

    ``pivot`` is ``realist.subgroup_pivot``: a (context, category) row index, columns ja/nej
    and, if present, the difference (drawn on its own diverging scale). ``title`` names the
    mechanism (``reader.cmo.subgroup_heatmap``), and so the figure's alt text.
    """
    rows = [f"{c}: {k}" for c, k in pivot.index] if isinstance(pivot.index, pd.MultiIndex) \
        else [str(i) for i in pivot.index]
    # long names (a delprojekt's) on up to three lines: on one they squeezed the cells away
    rows = [_wrap(r, 40, 3) for r in rows]
    rates = pivot.iloc[:, :2].astype(float)
    rates.index = rows
    label = 0.075 * max(len(line) for r in rows for line in r.split("\n"))  # inches, roughly
    fig, ax = new_figure(max(6.5, label + 4.2),
                         0.38 * max(len(rows), 4) + 0.2 * sum(r.count("\n") for r in rows) + 1.4)
    if rates.isna().all().all():
        _empty(ax, lang)
        return fig
    _heatmap(ax, rates, lambda v: fmt_pct(v, 0, lang), _w("rate", lang))
    ax.set_ylabel("")
    ax.set_xlabel("")
    ax.set_title(title or _w("hidden", lang), fontsize=8, loc="left")
    return fig


@reader_figure("forest")
def forest(data: pd.DataFrame, lang: str = "da") -> Any:
    """Forest plot of the hypotheses: the difference in the context with its 95 % interval,
    crude (open marker) and, where given, adjusted (filled marker, just below).

    ``data`` has columns id, title, diff, diff_lo, diff_hi (shares, -1..1) and verdict, and
    optionally verdict_code, which fixes each verdict's colour, and adj, adj_lo, adj_hi (the
    model's marginal difference; NaN where it is not shown).
    """
    import math

    from matplotlib.lines import Line2D

    fig, ax = new_figure(7.5, 0.65 * max(len(data), 2) + 1.8)
    if data.empty:
        _empty(ax, lang)
        return fig
    y = range(len(data))
    verdicts = list(dict.fromkeys(data["verdict"]))
    if "verdict_code" in data:
        codes = dict(zip(data["verdict"], data["verdict_code"], strict=False))
        colours = {v: VERDICT_COLOURS.get(codes[v], "#999999") for v in verdicts}
    else:
        colours = dict(zip(verdicts, OKABE_ITO, strict=False))
    has_adj = "adj" in data and data["adj"].notna().any()
    for i, row in enumerate(data.itertuples(index=False)):
        c = colours[row.verdict]
        adj = getattr(row, "adj", math.nan) if has_adj else math.nan
        y_crude = i - 0.17 if has_adj else i
        ax.plot([row.diff_lo * 100, row.diff_hi * 100], [y_crude, y_crude], color=c, lw=1.2,
                alpha=0.8)
        ax.plot(row.diff * 100, y_crude, "o", mfc="white", mec=c, mew=1.5, ms=6)
        if not math.isnan(adj):
            ax.plot([row.adj_lo * 100, row.adj_hi * 100], [i + 0.17, i + 0.17], color=c, lw=2.2)
            ax.plot(adj * 100, i + 0.17, "o", color=c, ms=7)
    ax.axvline(0, color="#555555", lw=1, ls="--")
    ax.set_yticks(list(y))
    ax.set_yticklabels([f"{r.id}: {_wrap(r.title, 45, 3)}" for r in data.itertuples()],
                       fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(_w("diff", lang))
    handles = [Line2D([], [], color=colours[v], marker="o", lw=2, label=v) for v in verdicts]
    handles.append(Line2D([], [], color="#555555", marker="o", mfc="white", lw=1.2,
                          label=_w("crude", lang)))
    if has_adj:
        handles.append(Line2D([], [], color="#555555", marker="o", lw=2.2,
                              label=_w("adjusted", lang)))
    fig.legend(handles=handles, fontsize=8, loc="outside lower center", ncol=2, frameon=False)
    return fig


def _wrap(text: str, width: int, lines: int = 2) -> str:
    import textwrap

    return textwrap.fill(str(text), width, max_lines=lines, placeholder=" …")


# -- steps on the way (ua.steps) -------------------------------------------------------------


@reader_figure("funnel")
def funnel_plot(funnel: pd.DataFrame, lang: str = "da") -> Any:
    """Grouped horizontal bars: the share of each group that reached each step or a later one.

    ``funnel`` is ``steps.funnel``: columns group, step, rank, n_reached, share, suppressed and
    a group and a step label column (named in ``funnel.attrs``, else "Målgruppe"/"Skridt").
    Steps run top to bottom in ladder order; suppressed points are left out and marked.
    """
    import numpy as np

    group_col = funnel.attrs.get("group_label") or next(
        (c for c in funnel.columns if c not in _FUNNEL_MACHINE and funnel[c].dtype == object
         and c not in ("Skridt", "Step")), "group")
    step_col = funnel.attrs.get("step_label") or next(
        (c for c in ("Skridt", "Step") if c in funnel.columns), "step")
    steps = (funnel.sort_values("rank", kind="stable").drop_duplicates("step")[step_col]
             .astype(str).tolist() if not funnel.empty else [])
    fig, ax = new_figure(7.5, 0.75 * max(len(steps), 3) + 1.4)
    if funnel.empty or funnel["share"].isna().all():
        _empty(ax, lang)
        return fig
    codes = list(dict.fromkeys(funnel["group"]))
    if len(codes) == 2 and "all" in codes:  # one group: its bars and the overall are the same
        codes = [c for c in codes if c != "all"]
    if "size_suppressed" in funnel:  # shares would give a hidden group size back
        hidden_size = set(funnel.loc[funnel["size_suppressed"].astype(bool), "group"])
        codes = [c for c in codes if c not in hidden_size] or codes[:0]
    if not codes:
        _empty(ax, lang)
        return fig
    height = 0.8 / len(codes)
    y0 = np.arange(len(steps))
    position = {step: j for j, step in enumerate(steps)}
    data = funnel.assign(plot_step=funnel[step_col].astype(str),
                         plot_hidden=funnel["suppressed"].astype(bool) if "suppressed" in funnel
                         else False)
    for i, code in enumerate(codes):
        rows = data[data["group"] == code]
        colour = "#555555" if code == "all" and len(codes) > 1 else OKABE_ITO[i % len(OKABE_ITO)]
        ys, shares = [], []
        for row in rows.itertuples(index=False):
            y = y0[position[row.plot_step]] - 0.4 + height * (i + 0.5)
            if row.plot_hidden:
                ax.text(0.005, y, _w("not_shown", lang), va="center", fontsize=7,
                        color="#555555")
            elif pd.notna(row.share):
                ys.append(y)
                shares.append(float(row.share))
        label = str(rows[group_col].iloc[0]) if group_col in rows.columns and len(rows) else code
        ax.barh(ys, shares, height=height * 0.92, color=colour, label=label)
        for y, share in zip(ys, shares, strict=True):
            ax.text(share + 0.01, y, fmt_pct(share, 0, lang), va="center", fontsize=7)
    ax.set_yticks(list(y0))
    ax.set_yticklabels([_wrap(s, 28) for s in steps], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.1)
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    _pct_axis(ax, "x", lang)
    ax.set_xlabel(_w("reached", lang))
    if len(codes) > 1:
        ax.legend(fontsize=8, loc="best")
    return fig


_FUNNEL_MACHINE = ("group", "step", "rank", "n_reached", "share", "n_group", "suppressed",
                   "size_suppressed")


@reader_figure("cif")
def cif_plot(tte: Any, lang: str = "da") -> Any:
    """Cumulative incidence of starting an education (solid, with its 95 % band) and of the
    competing event, the forløb ended without a start (dashed), one colour per group.

    ``tte`` is ``steps.time_to_education``'s result; only its ``shown_groups`` are drawn (not
    the suppressed ones), the competing curve only where it is not hidden, and no curve at all
    when the groups' sizes are hidden. x: days since start, y: cumulative share; the 3, 6 and
    12 months of the text are marked.
    """
    from .fmt import fmt_int

    fig, ax = new_figure(7.5, 4.6)
    groups = [] if getattr(tte, "sizes_hidden", True) else tte.shown_groups
    if not groups or tte.curves.empty:
        _empty(ax, lang)
        return fig
    for i, g in enumerate(groups):
        c = tte.curve(g.code)
        if c.empty:
            continue
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        name = f"{g.text_label(lang)} (n = {fmt_int(g.n, lang)})"
        ax.step(c["time"], c["cif"], where="post", color=colour, lw=1.8,
                label=f"{name}: {_w('started', lang)}")
        ax.fill_between(c["time"], c["ci_low"], c["ci_high"], step="post", color=colour,
                        alpha=0.18, lw=0)
        if not g.competing_hidden:
            ax.step(c["time"], c["cif_ended"], where="post", color=colour, lw=1.4, ls="--",
                    label=f"{name}: {_w('ended', lang)}")
    from .steps import HORIZONS

    last = float(tte.curves["time"].max())
    for months, day in HORIZONS.items():
        if day <= last:
            ax.axvline(day, color="#bbbbbb", lw=0.7, ls=":")
            ax.text(day, 1.0, f" {months} {'mdr.' if lang == 'da' else 'mo.'}", fontsize=7,
                    color="#777777", va="top", ha="left")
    ax.axhline(0.5, color="#999999", lw=0.8, ls=":")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    _pct_axis(ax, "y", lang)
    ax.set_xlabel(_w("days", lang))
    ax.set_ylabel(_w("cif", lang))
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2,
              frameon=False)
    return fig


# -- survey (ua.survey) ----------------------------------------------------------------------


@reader_figure("prepost")
def prepost_plot(change: Any, lang: str = "da") -> Any:
    """Each young person's score at start and follow-up (thin grey lines) and the means with 95 %
    t intervals; ``change`` is a ``ua.survey.PairedChange``. Too few pairs give an empty figure."""
    from scipy import stats

    from .fmt import fmt_int

    fig, ax = new_figure(5.5, 4.2)
    pairs = change.pairs
    if pairs.empty or change.n < change.min_cell:
        _empty(ax, lang)
        return fig
    da = lang == "da"
    x = [0, 1]
    values = pairs[["baseline", "followup"]].to_numpy(dtype=float)
    hide_n = bool(getattr(change, "n_hidden", False))
    if not hide_n:  # the lines could be counted
        ax.plot(x, values.T, color="#999999", linewidth=0.6, alpha=0.35, zorder=1)
    means = values.mean(axis=0)
    half = stats.sem(values, axis=0) * stats.t.ppf(0.975, max(len(values) - 1, 1))
    ax.errorbar(x, means, yerr=half, color=OKABE_ITO[0], linewidth=2.2, marker="o",
                markersize=7, capsize=6, zorder=3,
                label=_w("mean_ci", lang))
    if not hide_n:
        ax.plot([], [], color="#999999", linewidth=0.8,
                label=_w("one_person", lang))
    ax.set_xticks(x)
    ax.set_xticklabels([change.baseline_label, change.followup_label] if da
                       else ["Start", "Follow-up"])
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylabel(f"Score: {_wrap(change.scale_label(lang), 40)}")
    n = "" if hide_n else fmt_int(change.n, lang) + " "
    ax.set_title((f"{n}unge, der svarede begge gange" if da
                  else f"{n}young people who answered both times").capitalize(), fontsize=10)
    ax.grid(axis="x", visible=False)
    ax.legend(fontsize=8, loc="best")
    return fig


@reader_figure("xy")
def xy_plot(x: pd.Series, y: pd.Series, xlabel: str, ylabel: str, consistency: float,
            coverage: float, lang: str = "da", labels: bool = True) -> Any:
    """XY plot of set membership (Schneider & Wagemann 2012, sect. 3.3): X (a condition or a
    solution) against the outcome Y, the diagonal, and sufficiency consistency and coverage in
    the title. Cases above the diagonal agree with 'X is sufficient for Y'. Crisp data (0/1)
    are drawn as four bubbles whose area follows the number of cases, without numbers;
    fuzzy cases as labelled points (``labels``: the index, e.g. delprojekt names)."""
    from .fmt import fmt_float

    fig, ax = new_figure(4.8, 4.4)
    xv = pd.to_numeric(x, errors="coerce").astype(float)
    yv = pd.to_numeric(y, errors="coerce").astype(float)
    ok = xv.notna() & yv.notna()
    xv, yv = xv[ok], yv[ok]
    if xv.empty:
        _empty(ax, lang)
        return fig
    ax.plot([0, 1], [0, 1], color="#999999", linewidth=1, zorder=1)
    ax.axhline(0.5, color="#dddddd", linewidth=0.8, zorder=0)
    ax.axvline(0.5, color="#dddddd", linewidth=0.8, zorder=0)
    crisp = bool(xv.isin([0, 1]).all() and yv.isin([0, 1]).all())
    if crisp:
        counts = pd.DataFrame({"x": xv, "y": yv}).value_counts()
        for (cx, cy), n in counts.items():
            ax.scatter([cx], [cy], s=2400 * n / counts.max(), color=OKABE_ITO[0], alpha=0.55,
                       zorder=2)
    else:
        ax.scatter(xv, yv, color=OKABE_ITO[0], s=36, zorder=2)
        if labels:
            for name, a, b in zip(xv.index, xv, yv, strict=True):
                ax.annotate(str(name), (a, b), textcoords="offset points", xytext=(4, 4),
                            fontsize=7)
    ax.set_xlim(-0.08, 1.08)
    ax.set_ylim(-0.08, 1.08)
    ax.set_xlabel(_wrap(xlabel, 45))
    ax.set_ylabel(_wrap(ylabel, 45))
    cons, cov = fmt_float(consistency, 2, lang), fmt_float(coverage, 2, lang)
    ax.set_title(_w("xy_title", lang, cons=cons, cov=cov), fontsize=10)
    return fig
