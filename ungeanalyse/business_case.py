"""The business case: a socioeconomic investment calculation in the style of Social- og
Boligstyrelsen's investment model (SØM).

The project's cost is an investment in year 0; every additional young person in education or
employment brings yearly gains (unit prices from the config's price table, each with its source
and who gains it: kommune, region or stat) from year 1 to the time horizon, discounted at the
config's rate. The additional young people come either from an estimated effect (percentage
points with a confidence interval, from a comparison group: :class:`Effect`) or, without one,
from a *scenario*: an assumed share of the young people who met the goal would not have met it
without the project. The result gives the net present value, the break-even year, the gains by
payer and a sensitivity analysis (tornado) over the main assumptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import texts
from .errors import UserError
from .fmt import fmt_float
from .texts import Text, english, fold_english

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .config import ProjectConfig

PAYERS = ("kommune", "region", "stat")
"""Who gains (the reader words them: catalogue ``business_case.payer``)."""


# -- the config section `business_case` -----------------------------------------------------

class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _pairs(cls, data: Any) -> Any:
        return fold_english(cls, data)  # the older label_en beside label


class Price(_Section):
    """One unit price: the yearly gain (kr., negative for a cost) to one payer for each
    additional young person in education or employment, with its source."""

    id: str
    label: Text
    payer: Literal["kommune", "region", "stat"]
    amount_kr: float
    source: str = Field(default="", validate_default=True)
    illustrative: bool = False
    start_year: int = Field(default=1, ge=1)
    years: int | None = Field(default=None, ge=1)
    """How many years the gain lasts from ``start_year``; none: to the time horizon."""

    @field_validator("source")
    @classmethod
    def _has_source(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("every price needs its source (e.g. 'SØM, Social- og "
                             "Boligstyrelsen, 2023: kontanthjælp pr. år'); mark a made-up "
                             "price with illustrative: true and say so in the source")
        return value

    label_en = english("label")

    def text(self, lang: str = "da") -> str:
        """The label in the report language."""
        return texts.text(self.label, lang)


class EffectSettings(_Section):
    """An effect estimated elsewhere (e.g. a register study), in percentage points."""

    pp: float = Field(ge=-100, le=100)
    ci_low: float = Field(ge=-100, le=100)
    ci_high: float = Field(ge=-100, le=100)
    source: str = Field(default="", validate_default=True)

    @field_validator("source")
    @classmethod
    def _has_source(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("an effect needs its source (the study or analysis it comes from)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> EffectSettings:
        if not self.ci_low <= self.pp <= self.ci_high:
            raise ValueError(f"the interval must hold the estimate: ci_low ({self.ci_low}) ≤ pp "
                             f"({self.pp}) ≤ ci_high ({self.ci_high})")
        return self


def _pair(value: list[float] | None, name: str) -> list[float] | None:
    if value is not None and (len(value) != 2 or value[0] > value[1]):
        raise ValueError(f"{name} must be [low, high] with low ≤ high, not {value}")
    return value


class Sensitivity(_Section):
    """The ranges of the tornado plot; each left out takes the default named."""

    scenario_share: list[float] | None = None  # default: half and 1.5 times the share
    price_change: float = Field(default=0.25, gt=0, lt=1)  # each price ± this share
    discount_rate: list[float] | None = None  # default: the rate ± 2 percentage points
    horizon_years: list[int] | None = None  # default: half and 1.5 times the horizon

    @field_validator("scenario_share")
    @classmethod
    def _share(cls, value: list[float] | None) -> list[float] | None:
        _pair(value, "scenario_share")
        if value is not None and not all(0 <= v <= 1 for v in value):
            raise ValueError("scenario_share must be shares between 0 and 1, e.g. [0.1, 0.4]")
        return value

    @field_validator("discount_rate")
    @classmethod
    def _rate(cls, value: list[float] | None) -> list[float] | None:
        _pair(value, "discount_rate")
        if value is not None:
            for v in value:
                _check_rate(v)
        return value

    @field_validator("horizon_years")
    @classmethod
    def _horizon(cls, value: list[int] | None) -> list[int] | None:
        _pair(value, "horizon_years")
        if value is not None and min(value) < 1:
            raise ValueError("horizon_years must be whole years, 1 or more")
        return value


def _check_rate(value: float) -> float:
    if value < 0:
        raise ValueError(f"the discount rate cannot be negative ({value}); give a yearly rate "
                         "as a share, e.g. 0.035 for 3,5 % (Finansministeriet's rate)")
    if value >= 1:
        raise ValueError(f"{value} is not a yearly rate as a share: write 0.035 for 3,5 %")
    return value


class BusinessCaseSettings(_Section):
    """The config section ``business_case``: cost, horizon, discount rate, the scenario or an
    effect, the price table and the sensitivity ranges."""

    cost_kr: float | None = Field(default=None, ge=0)
    """The project's total cost; default ``project.budget_kr``."""
    cost_per_participant_kr: float | None = Field(default=None, ge=0)
    cost_source: str = ""
    horizon_years: int = Field(default=10, ge=1, le=60)
    discount_rate: float = 0.035
    scenario_share: float | None = Field(default=None, ge=0, le=1)
    """Without an effect estimate: the assumed share of the young people who met the goal who
    would not have met it without the project."""
    scenario_reason: Text = Text("")
    effect: EffectSettings | None = None
    prices: list[Price] = Field(min_length=1)
    sensitivity: Sensitivity = Field(default_factory=Sensitivity)

    scenario_reason_en = english("scenario_reason")

    @field_validator("discount_rate")
    @classmethod
    def _rate(cls, value: float) -> float:
        return _check_rate(value)

    @model_validator(mode="after")
    def _consistent(self) -> BusinessCaseSettings:
        if self.cost_kr is not None and self.cost_per_participant_kr is not None:
            raise ValueError("give cost_kr (the total) or cost_per_participant_kr, not both")
        if self.effect is None and self.scenario_share is None:
            raise ValueError("scenario_share is missing: without an effect estimate the gains "
                             "rest on an assumed share of the young people who met the goal who "
                             "would not have met it without the project (e.g. 0.25)")
        ids = [p.id for p in self.prices]
        if len(set(ids)) != len(ids):
            raise ValueError("prices: ids must be unique")
        return self


def check_cost(cfg: ProjectConfig) -> None:
    """Refuse a business case without a cost: neither its own nor the project's budget."""
    bc = cfg.business_case
    if bc is not None and bc.cost_kr is None and bc.cost_per_participant_kr is None \
            and not cfg.project.budget_kr:
        raise ValueError("business_case.cost_kr: the project has no budget (project.budget_kr "
                         "is 0); give cost_kr or cost_per_participant_kr")


# -- the calculation ------------------------------------------------------------------------

@dataclass(frozen=True)
class Effect:
    """An effect on the participants (ATT) as a risk difference in percentage points, with its
    95 % interval, e.g. ``Effect(8.2, 3.1, 13.3, "registersammenligning, 12 mdr.")``."""

    pp: float
    ci_low: float
    ci_high: float
    label: str = ""


def present_values(cost_kr: float, extra: float, prices: list[Price], horizon: int,
                   rate: float) -> pd.DataFrame:
    """Year by year (1 … horizon): gains by payer, discounted, and cumulative net value.

    The cost falls in year 0; each additional young person gains every price active that year.
    """
    import pandas as pd

    rows = []
    cumulative = -float(cost_kr)
    for year in range(1, horizon + 1):
        factor = (1 + rate) ** -year
        by_payer = dict.fromkeys(PAYERS, 0.0)
        for p in prices:
            last = p.start_year + p.years - 1 if p.years else horizon
            if p.start_year <= year <= last:
                by_payer[p.payer] += extra * p.amount_kr
        gain = sum(by_payer.values())
        cumulative += gain * factor
        rows.append({"year": year, **{f"gain_{k}": v for k, v in by_payer.items()},
                     "gain": gain, "discount_factor": factor, "pv_gain": gain * factor,
                     **{f"pv_{k}": v * factor for k, v in by_payer.items()},
                     "cumulative_net": cumulative})
    return pd.DataFrame(rows)


def break_even_year(years: pd.DataFrame) -> int | None:
    """The first year the discounted gains have paid back the cost; none within the horizon."""
    paid = years[years["cumulative_net"] >= -1e-9]
    return int(paid["year"].iloc[0]) if len(paid) else None


@dataclass
class BusinessCase:
    """The investment calculation of one unit; numbers as attributes, ``to_dict`` for JSON."""

    mode: Literal["scenario", "effect"]
    n_participants: int
    goal_met: int
    extra: float
    cost_kr: float
    horizon_years: int
    discount_rate: float
    scenario_share: float | None
    effect: Effect | None
    years: pd.DataFrame
    pv_gains: float
    pv_by_payer: dict[str, float]
    npv: float
    break_even_year: int | None
    base_year: int | None
    tornado: pd.DataFrame
    prices: list[dict[str, Any]] = field(default_factory=list)
    cost_source: str = ""
    scenario_reason: str = ""
    scenario_reason_en: str | None = None

    @property
    def cost_per_participant(self) -> float | None:
        return self.cost_kr / self.n_participants if self.n_participants else None

    def to_dict(self) -> dict[str, Any]:
        """The figures for ``ResultStore.save`` (tables as lists of records)."""
        out = {k: getattr(self, k) for k in (
            "mode", "n_participants", "goal_met", "extra", "cost_kr", "horizon_years",
            "discount_rate", "scenario_share", "pv_gains", "pv_by_payer", "npv",
            "break_even_year", "base_year", "prices", "cost_source", "scenario_reason",
            "scenario_reason_en")}
        out["cost_per_participant"] = self.cost_per_participant
        out["effect"] = None if self.effect is None else vars(self.effect).copy()
        out["years"] = self.years.to_dict("records")
        out["tornado"] = self.tornado.to_dict("records")
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BusinessCase:
        """The business case again from ``to_dict`` (a saved ``business_case.json``)."""
        import pandas as pd

        effect = None if d.get("effect") is None else Effect(**d["effect"])
        keep = {k: d.get(k) for k in (
            "mode", "n_participants", "goal_met", "extra", "cost_kr", "horizon_years",
            "discount_rate", "scenario_share", "pv_gains", "pv_by_payer", "npv",
            "break_even_year", "base_year", "cost_source", "scenario_reason",
            "scenario_reason_en")}
        return cls(**keep, effect=effect, years=pd.DataFrame(d["years"]),
                   tornado=pd.DataFrame(d["tornado"], columns=TORNADO_COLUMNS),
                   prices=list(d.get("prices") or []))


def _extra(n: int, goal_met: int, share: float | None, effect_pp: float | None) -> float:
    """Additional young people in education or employment: n × effect, or goal met × share."""
    if effect_pp is not None:
        return n * effect_pp / 100
    return goal_met * float(share)


def _npv(cost: float, extra: float, prices: list[Price], horizon: int, rate: float) -> float:
    return float(present_values(cost, extra, prices, horizon, rate)["cumulative_net"].iloc[-1])


TORNADO_COLUMNS = ["parameter", "low", "high", "npv_low", "npv_high", "swing"]
"""The sensitivity table: an assumption's code (``price:<id>`` for a price), its low and high
value and the net present value at each (the reader words them)."""


def tornado_table(settings: BusinessCaseSettings, cost_kr: float, n: int, goal_met: int,
                  effect: Effect | None = None) -> pd.DataFrame:
    """Net present value when one assumption at a time takes its low and its high value,
    ordered by swing (largest first): parameter, low, high, npv_low, npv_high, swing."""
    import pandas as pd

    sens = settings.sensitivity
    rate, horizon, prices = settings.discount_rate, settings.horizon_years, settings.prices
    share = settings.scenario_share
    pp = effect.pp if effect is not None else None
    extra = _extra(n, goal_met, share, pp)
    rows = []

    def add(param: str, low: Any, high: Any, npv_low: float, npv_high: float) -> None:
        rows.append({"parameter": param, "low": low, "high": high, "npv_low": npv_low,
                     "npv_high": npv_high, "swing": abs(npv_high - npv_low)})

    if effect is not None:
        lo, hi = effect.ci_low, effect.ci_high
        add("effect", lo, hi, _npv(cost_kr, _extra(n, goal_met, None, lo), prices, horizon, rate),
            _npv(cost_kr, _extra(n, goal_met, None, hi), prices, horizon, rate))
    else:
        lo, hi = sens.scenario_share or [share / 2, min(1.0, share * 1.5)]
        add("scenario_share", lo, hi,
            _npv(cost_kr, _extra(n, goal_met, lo, None), prices, horizon, rate),
            _npv(cost_kr, _extra(n, goal_met, hi, None), prices, horizon, rate))
    change = sens.price_change
    for i, p in enumerate(prices):
        varied = []
        for f in (1 - change, 1 + change):
            ps = list(prices)
            ps[i] = p.model_copy(update={"amount_kr": p.amount_kr * f})
            varied.append(_npv(cost_kr, extra, ps, horizon, rate))
        add(f"price:{p.id}", p.amount_kr * (1 - change), p.amount_kr * (1 + change), *varied)
    lo, hi = sens.discount_rate or [max(0.0, rate - 0.02), rate + 0.02]
    add("discount_rate", lo, hi, _npv(cost_kr, extra, prices, horizon, lo),
        _npv(cost_kr, extra, prices, horizon, hi))
    lo, hi = sens.horizon_years or [max(1, round(horizon / 2)), round(horizon * 1.5)]
    add("horizon_years", lo, hi, _npv(cost_kr, extra, prices, lo, rate),
        _npv(cost_kr, extra, prices, hi, rate))
    table = pd.DataFrame(rows, columns=TORNADO_COLUMNS)
    return table.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def calculate(settings: BusinessCaseSettings, n_participants: int, goal_met: int,
              cost_kr: float | None = None, effect: Effect | None = None,
              base_year: int | None = None) -> BusinessCase:
    """The business case for ``n_participants`` with ``goal_met`` goal met. ``cost_kr``: the
    total cost (default: the settings' cost); ``effect``: an estimated effect in percentage
    points (default: the settings' effect, else the scenario); ``base_year``: the calendar year
    of year 0 (the project's last year), for the text."""
    if effect is None and settings.effect is not None:
        e = settings.effect
        effect = Effect(e.pp, e.ci_low, e.ci_high, e.source)
    if settings.cost_per_participant_kr is not None:
        cost_kr = settings.cost_per_participant_kr * n_participants
    elif settings.cost_kr is not None:
        cost_kr = settings.cost_kr
    if cost_kr is None:
        raise UserError("business_case.cost_kr: no cost given (nor a project budget)")
    extra = _extra(n_participants, goal_met, settings.scenario_share,
                   effect.pp if effect else None)
    years = present_values(cost_kr, extra, settings.prices, settings.horizon_years,
                           settings.discount_rate)
    pv_by_payer = {k: float(years[f"pv_{k}"].sum()) for k in PAYERS}
    return BusinessCase(
        mode="effect" if effect is not None else "scenario", n_participants=n_participants,
        goal_met=goal_met, extra=extra, cost_kr=float(cost_kr),
        horizon_years=settings.horizon_years, discount_rate=settings.discount_rate,
        scenario_share=None if effect is not None else settings.scenario_share, effect=effect,
        years=years, pv_gains=float(years["pv_gain"].sum()), pv_by_payer=pv_by_payer,
        npv=float(years["cumulative_net"].iloc[-1]), break_even_year=break_even_year(years),
        base_year=base_year,
        tornado=tornado_table(settings, cost_kr, n_participants, goal_met, effect),
        prices=[p.model_dump() for p in settings.prices], cost_source=settings.cost_source,
        scenario_reason=texts.text(settings.scenario_reason, "da"),
        scenario_reason_en=settings.scenario_reason_en)


def for_unit(cfg: ProjectConfig, unit: str, maaltal: dict[str, Any],
             effect: Effect | None = None) -> BusinessCase | None:
    """The business case of a unit from its saved måltal, or None when the config has none or
    the cost is only known for the whole project (a delprojekt without a per-participant cost).
    """
    bc = cfg.business_case
    if bc is None or (unit != "all" and bc.cost_per_participant_kr is None):
        return None
    return calculate(bc, int(maaltal["n_participants"]), int(maaltal["goal_met"]),
                     cost_kr=cfg.project.budget_kr or None, effect=effect,
                     base_year=cfg.project.period.end.year)


def run(cfg: ProjectConfig, unit: str, store: Any, effect: Effect | None = None,
        lang: str = "da") -> BusinessCase | None:
    """Compute the unit's business case from its saved måltal and save it (``business_case``
    JSON, and the ``tornado`` figure in the report's language) for the evaluation text;
    removes a stale one. (The full text and the pixi may run at once: both write the same
    figures, atomically.)"""
    try:
        maaltal = store.load("maaltal")
    except UserError:
        maaltal = None
    case = for_unit(cfg, unit, maaltal, effect) if maaltal else None
    if case is None:
        for name in ("business_case.json", "tornado.png"):
            (store.root / name).unlink(missing_ok=True)
        return None
    store.save("business_case", case.to_dict())
    import matplotlib.pyplot as plt

    from .reader import business_case as reader

    fig = tornado_figure(reader.tornado_input(case, lang), case.npv, lang)
    store.save_figure("tornado", fig)
    plt.close(fig)
    return case


def tornado_figure(tornado: pd.DataFrame, npv: float, lang: str = "da") -> Any:
    """Horizontal bars from the base net present value to its value at each assumption's low
    and high end, the widest on top (``tornado``: ``reader.business_case.tornado_input``)."""
    import textwrap

    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter

    from .plot import OKABE_ITO, new_figure
    from .reader.business_case import figure_words

    words = figure_words(lang)
    fig, ax = new_figure(7.5, 0.5 * max(len(tornado), 3) + 1.4)
    scale = 1e6
    for i, r in enumerate(tornado.itertuples()):
        y = len(tornado) - 1 - i
        for value, colour, text in ((r.npv_low, OKABE_ITO[1], r.low_text),
                                    (r.npv_high, OKABE_ITO[0], r.high_text)):
            ax.barh(y, (value - npv) / scale, left=npv / scale, color=colour, height=0.6)
            ax.text(value / scale, y, f" {text} ", va="center", fontsize=8,
                    ha="left" if value >= npv else "right")
    ax.axvline(npv / scale, color="black", linewidth=1)
    ax.axvline(0, color="#999999", linewidth=0.8, linestyle="--")
    ax.legend(handles=[
        Patch(color=OKABE_ITO[1], label=words["low"]),
        Patch(color=OKABE_ITO[0], label=words["high"]),
        Line2D([], [], color="black", linewidth=1, label=words["base"]),
        Line2D([], [], color="#999999", linewidth=0.8, linestyle="--",
               label=words["break_even"])], loc="lower right", fontsize=8, frameon=True)
    ax.set_yticks(range(len(tornado)),
                  [textwrap.fill(str(x), 34) for x in tornado["label"]][::-1])
    ax.set_xlabel(words["axis"])
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_float(v, 1, lang)))
    lo = min(tornado["npv_low"].min(), tornado["npv_high"].min(), npv, 0) / scale
    hi = max(tornado["npv_low"].max(), tornado["npv_high"].max(), npv, 0) / scale
    pad = 0.25 * (hi - lo or 1)
    ax.set_xlim(lo - pad, hi + pad)
    ax.grid(axis="y", visible=False)
    return fig
