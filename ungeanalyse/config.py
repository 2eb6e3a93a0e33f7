"""Project configuration: one YAML file per project holds everything project-specific.

A new project needs a config and no code. ``load_config`` validates the file with pydantic and
turns every mistake into a :class:`~ungeanalyse.errors.UserError` that names the offending key
(``hypotheses[2].context``) and says what is wrong.

Texts a reader sees (names, labels, titles) are :class:`~ungeanalyse.texts.Text` values: a plain
string (Danish, used for both languages until an English one is given) or a pair
``{da: ..., en: ...}``, read in a report language with ``text(value, lang)`` (see
:mod:`ungeanalyse.texts`). The older ``<field>_en`` keys still load into the pairs, and the
``<field>_en`` attributes still read them, while the code that reads them moves to ``text``.
"""

from __future__ import annotations

import ast
import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .business_case import BusinessCaseSettings, check_cost
from .errors import UserError
from .texts import Text, english, fold_english, text

__all__ = ["ProjectConfig", "Text", "load_config", "parse_config", "text"]

OUTCOME_GROUPS = ("goal_met", "derived_effect", "not_met", "unknown", "active")
"""The fixed outcome groups. ``active`` participants are excluded from success rates."""

GROUP_LABELS = {
    "da": {
        "goal_met": "Mål indfriet",
        "derived_effect": "Afledt effekt",
        "not_met": "Mål ikke indfriet",
        "unknown": "Status ukendt",
        "active": "Stadig i forløb",
    },
    "en": {
        "goal_met": "Goal met",
        "derived_effect": "Derived effect",
        "not_met": "Goal not met",
        "unknown": "Status unknown",
        "active": "Still active",
    },
}

GOAL_MET_DESCRIPTION = {"da": "påbegyndt eller gennemført en ungdomsuddannelse",
                        "en": "started or completed a youth education"}
"""The default of ``targets.goal_met_description`` and its English text."""

GOAL_MET_LABEL = Text(GROUP_LABELS["da"]["goal_met"], GROUP_LABELS["en"]["goal_met"])
"""The default of a hypothesis' ``outcome_label``."""

DEFAULT_ALIASES: dict[str, list[str]] = {
    "cpr": ["cpr", "cpr-nr", "cpr-nummer", "cprnr", "cprnummer", "personnummer", "cpr nr"],
    "name": ["navn"],
    "start_date": ["startdato", "start", "forløb start", "forløbsstart", "start på forløb",
                   "opstart", "opstartsdato", "indskrevet", "indskrivningsdato", "start date"],
    "end_date": ["slutdato", "slut", "forløb slut", "forløbsslut", "afslutning",
                 "afslutningsdato", "udskrevet", "udskrivningsdato", "end date"],
    "status": ["status", "resultat", "udfald", "afslutningsstatus", "status ved afslutning"],
    "target_group": ["målgruppe", "gruppe", "målgruppe påbegynde fastholde", "target group"],
    "elements": ["indsatser", "indsats", "elementer", "tilbud"],
    "challenges": ["udfordringer", "udfordring", "problematikker"],
    "delprojekt": ["delprojekt", "partnerskab", "kommune"],
    "birth_date": ["fødselsdato", "foedselsdato", "fødselsdag", "født", "birth date",
                   "date of birth"],
    "gender": ["køn", "koen", "sex"],
    "step": ["skridt", "skridt på vejen", "trin"],
    "step_date": ["dato", "skridtdato", "dato for skridt"],
    "hypothesis_id": ["hypotese", "hypotese-id", "cmo", "cmo-id"],
    "source_type": ["kilde", "kildetype", "informant"],
    "quote": ["citat", "tekst", "casebeskrivelse", "uddrag"],
    "first_name": ["fornavn", "fornavne", "first name", "given name"],
    "middle_name": ["mellemnavn", "mellemnavne", "middle name"],
    "last_name": ["efternavn", "efternavne", "last name", "surname", "family name"],
    "address": ["adresse", "bopæl", "bopælsadresse", "vejnavn", "gade", "address"],
    "phone": ["telefon", "telefonnummer", "tlf", "tlf.nr", "tlf. nr", "tlf nr", "mobil",
              "mobilnummer", "mobilnr", "phone"],
    "email": ["e-mail", "email", "mail", "e-mailadresse", "mailadresse"],
    "note": ["note", "noter", "notat", "notater", "bemærkning", "bemærkninger", "kommentar",
             "kommentarer", "fritekst", "comment", "comments"],
}
"""Column names every project understands; a config's ``columns`` adds its partners' names."""

IDENTIFIER_COLUMNS = ("name", "first_name", "middle_name", "last_name", "address", "phone",
                      "email", "note")
"""Columns that identify a person: read only to teach the scanner what to look for, then
dropped in the clean stage (a file may hold several of one kind, e.g. two note columns)."""

CANONICAL_COLUMNS = tuple(DEFAULT_ALIASES)
"""Raw columns the clean stage understands (after alias mapping)."""

_ID = re.compile(r"^[a-z][a-z0-9_]*$")

CLEAN_PARTICIPANT_COLUMNS = ("person_id", "delprojekt", "target_group", "gender", "age_at_start",
                             "age_band", "start_date", "end_date", "days_in_project", "outcome",
                             "outcome_group", "goal_met", "derived_effect")
"""The fixed columns of the clean participants table (``element_<id>``, ``challenge_<id>``,
``n_elements`` and ``n_challenges`` follow from the config's vocabularies)."""

_BACKTICKED = re.compile(r"`([^`]*)`")


def expression_columns(expr: str) -> set[str]:
    """Column names a pandas ``eval`` expression refers to; string literals and called
    functions are not columns. Raises SyntaxError for an expression that does not parse."""
    backticked: dict[str, str] = {}

    def stash(m: re.Match[str]) -> str:
        placeholder = f"_backticked_{len(backticked)}"
        backticked[placeholder] = m.group(1)
        return placeholder

    tree = ast.parse(_BACKTICKED.sub(stash, expr.strip()), mode="eval")
    funcs = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    return {backticked.get(node.id, node.id) for node in ast.walk(tree)
            if isinstance(node, ast.Name) and id(node) not in funcs}


def _check_expression(expr: str, key: str, known: list[str]) -> None:
    """Refuse an expression that does not parse or names a column the clean table lacks."""
    try:
        names = expression_columns(expr)
    except SyntaxError as exc:
        raise ValueError(f"{key}: {expr!r} is not a valid expression ({exc.msg}); write e.g. "
                         "\"target_group == 'paabegynde'\" or 'element_fast_kontaktperson'"
                         ) from None
    unknown = sorted(names - set(known))
    if unknown:
        raise ValueError(f"{key}: unknown column {', '.join(map(repr, unknown))} "
                         f"(known: {', '.join(known)})")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)

    @model_validator(mode="before")
    @classmethod
    def _pairs(cls, data: Any) -> Any:
        return fold_english(cls, data)

    def tr(self, field: str, lang: str = "da") -> str:
        """The config text ``field`` in the report language (``text(self.<field>, lang)``)."""
        return text(getattr(self, field), lang)


def _with_english(value: Text | None, default: Text) -> Text | None:
    """A text that is the default's Danish wording without an English one gets the default's
    English (a config that keeps the default need not translate it)."""
    if value is not None and not value.en and value.da == default.da:
        return default
    return value


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(
            f"{value!r} is not a valid id: use lower-case letters, digits and '_' "
            "(start with a letter)"
        )
    return value


class Coded(_Model):
    """A vocabulary entry: canonical id with its label (a config text) and raw aliases."""

    label: Text
    aliases: list[str] = Field(default_factory=list)

    label_en = english("label")

    def text(self, lang: str = "da") -> str:
        """The label in the report language."""
        return text(self.label, lang)


class Outcome(Coded):
    """A canonical outcome code at exit, with the group it counts in."""

    group: Literal["goal_met", "derived_effect", "not_met", "unknown", "active"]


class TargetGroup(Coded):
    """A target group; ``goal`` says whether its young people are to *start* an education or to
    *stay* in one (the time to start is estimated for the start groups only)."""

    goal: Literal["start", "stay"] = "start"


class Period(_Model):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.end < self.start:
            raise ValueError("the period ends before it starts")
        return self


class Project(_Model):
    id: str
    name: Text
    short_name: Text | None = None
    description: Text = Text("")
    purpose: Text = Text("")
    funder: Text = Text("")
    operator: str = ""
    period: Period
    data_extract_date: dt.date | None = None
    """The day the data were drawn: open forløb are followed until then (time to start). When
    absent, the latest date in the data is used, and the report says so."""
    budget_kr: float = Field(ge=0)
    eu_support_kr: float | None = None
    sources: list[str] = Field(default_factory=list)

    name_en = english("name")
    short_name_en = english("short_name")
    description_en = english("description")
    purpose_en = english("purpose")
    funder_en = english("funder")

    _id = field_validator("id")(_check_id)

    @model_validator(mode="after")
    def _extract_after_start(self) -> Project:
        if self.data_extract_date is not None and self.data_extract_date < self.period.start:
            raise ValueError(
                f"data_extract_date: {self.data_extract_date} is before the project period "
                f"starts ({self.period.start}); give the day the data were drawn")
        return self


class Targets(_Model):
    """The funder's targets; any may be absent. Each key says what it counts: ``participants``
    young people taking part (forløb), ``goal_met_count`` young people with the goal met,
    ``goal_met_share`` the share with the goal met among closed cases (0–1)."""

    participants: int | None = Field(default=None, ge=0)
    goal_met_count: int | None = Field(default=None, ge=0)
    goal_met_share: float | None = Field(default=None, ge=0, le=1)
    goal_met_description: Text = Text(GOAL_MET_DESCRIPTION["da"], GOAL_MET_DESCRIPTION["en"])

    goal_met_description_en = english("goal_met_description")

    @model_validator(mode="after")
    def _default_english(self) -> Targets:
        self.goal_met_description = _with_english(
            self.goal_met_description, Text(GOAL_MET_DESCRIPTION["da"], GOAL_MET_DESCRIPTION["en"]))
        return self


class Delprojekt(_Model):
    id: str
    name: Text
    municipality: str = ""
    description: str = ""
    theory_of_change: Text = Text("")
    participants_file: str | None = None

    name_en = english("name")
    theory_of_change_en = english("theory_of_change")

    _id = field_validator("id")(_check_id)


class TableFiles(_Model):
    """Raw files of one kind; ``path`` is relative to ``files.raw_dir`` and may hold a glob.

    ``key`` names the respondent column that joins a survey export split over several
    ``Dataset`` sheets (SurveyXact); without it the sheets are joined on the CPR column.
    """

    path: str
    delprojekt: str | None = None
    wave: str | None = None
    sheet: str | int | None = None
    key: str | None = None


class Files(_Model):
    """Where a project's files are; every relative path resolves from the config's folder."""

    raw_dir: str = "raw"
    processed_dir: str | None = None  # default: processed/<project id> beside the config
    reports_dir: str | None = None  # default: reports beside the config (index.html there)
    notebooks_dir: str | None = None  # default: the notebooks shipped in the package
    texts_dir: str | None = None  # the evaluator's own texts; default: tekster beside the config
    participants: list[TableFiles] = Field(default_factory=list)
    survey: list[TableFiles] = Field(default_factory=list)
    steps: list[TableFiles] = Field(default_factory=list)
    quotes: list[TableFiles] = Field(default_factory=list)


class Privacy(_Model):
    min_cell: int = Field(default=5, ge=1)
    demo: bool = False
    key_file: str | None = None  # the pseudonymisation key; relative to the config's folder
    id_column: str | None = None
    """The raw column that holds a person key that is already pseudonymised (as on Danmarks
    Statistik's research machines, where project data and register extracts share it and no CPR
    number is present). When set, no CPR column is read: the key is the person id as it is, and
    birth date and gender come from the ``birth_date`` and ``gender`` columns."""


class AgeRule(_Model):
    min: int = 15
    max: int = 29
    bands: list[int] = Field(default_factory=lambda: [15, 18, 21, 25, 30])

    @model_validator(mode="after")
    def _bands(self) -> AgeRule:
        if self.bands != sorted(self.bands) or len(self.bands) < 2:
            raise ValueError("bands must be two or more increasing ages, e.g. [15, 18, 25, 30]")
        return self


class MissingItems(_Model):
    """A scale's missing-item rule: ``complete`` (every item answered) or ``prorate`` (up to
    ``max_missing`` items left out; the score is the mean of the answered items, times the
    number of items for a sum score)."""

    rule: Literal["complete", "prorate"] = "complete"
    max_missing: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> MissingItems:
        if self.rule == "complete" and self.max_missing:
            raise ValueError("max_missing needs rule: prorate (rule complete allows no missing "
                             "items)")
        return self


class Scale(_Model):
    """A survey scale: items, response labels, reversal, scoring and the missing-item rule.

    ``missing_items`` declares the rule; ``min_items`` (the older key) is an alias for
    ``{rule: prorate, max_missing: len(items) − min_items}``. Without either every item is
    needed: a scale with a published conversion table (SWEMWBS) pro-rates only if declared."""

    id: str
    label: Text
    items: list[str]
    response_set: str
    reverse: list[str] = Field(default_factory=list)
    min_items: int | None = None
    missing_items: MissingItems | None = None
    score: Literal["sum", "mean"] = "mean"
    conversion: str | None = None
    higher_is_better: bool = True

    label_en = english("label")

    _id = field_validator("id")(_check_id)

    @model_validator(mode="after")
    def _missing_rule(self) -> Scale:
        k = len(self.items)
        if self.min_items is not None and not 1 <= self.min_items <= k:
            raise ValueError(f"min_items must be 1 to the number of items ({k}), "
                             f"not {self.min_items}")
        if self.missing_items is not None:
            if self.missing_items.max_missing >= k:
                raise ValueError(f"missing_items.max_missing must be under the number of items "
                                 f"({k}), not {self.missing_items.max_missing}")
            if self.min_items is not None and self.min_items != self.min_answered:
                raise ValueError(f"min_items ({self.min_items}) and missing_items (at most "
                                 f"{self.missing_items.max_missing} of {k} missing) disagree; "
                                 "give one of them")
        return self

    @property
    def missing_rule(self) -> MissingItems:
        """The declared missing-item rule, with ``min_items`` read as its alias."""
        if self.missing_items is not None:
            return self.missing_items
        if self.min_items is not None and self.min_items < len(self.items):
            return MissingItems(rule="prorate", max_missing=len(self.items) - self.min_items)
        return MissingItems()

    @property
    def min_answered(self) -> int:
        """Answered items a score needs under the missing-item rule."""
        return len(self.items) - self.missing_rule.max_missing


class SurveyItem(_Model):
    text: str
    aliases: list[str] = Field(default_factory=list)


class Survey(_Model):
    waves: list[str] = Field(default_factory=lambda: ["baseline", "opfoelgning"])
    wave_labels: dict[str, str] = Field(default_factory=dict)
    response_sets: dict[str, dict[str, float]] = Field(default_factory=dict)
    items: dict[str, SurveyItem] = Field(default_factory=dict)
    scales: list[Scale] = Field(default_factory=list)


class Qda(_Model):
    """How a REFI-QDA project (``.qdpx`` under ``files.quotes``) maps to hypotheses.

    ``codes``: code name or path (``Mekanismer/Fast kontaktperson``) → hypothesis id; a code
    inherits its nearest mapped parent's. ``ignore_codes``: codes that are no evidence for any
    hypothesis (their segments are not read). ``source_types``: glob on a source's name →
    ``ung``/``partner``/``case``; ``source_type_variable``: a source or case variable holding it.
    ``participant_variable``: a case variable holding the young person's CPR number (pseudonymised
    in the clean stage); ``delprojekt_variable``: a case or source variable naming the delprojekt.
    """

    codes: dict[str, str] = Field(default_factory=dict)
    ignore_codes: list[str] = Field(default_factory=list)
    source_types: dict[str, Literal["ung", "partner", "case"]] = Field(default_factory=dict)
    source_type_variable: str | None = None
    participant_variable: str | None = None
    delprojekt_variable: str | None = None


class Step(Coded):
    id: str

    _id = field_validator("id")(_check_id)


class Steps(_Model):
    ladder: list[Step] = Field(default_factory=list)
    education_start_step: str | None = None


class Hypothesis(_Model):
    """A CMO hypothesis: context, mechanism and outcome as expressions over clean columns."""

    id: str
    title: Text
    delprojekter: list[str] | Literal["all"] = "all"
    context: str
    context_label: Text
    mechanism: str
    mechanism_label: Text
    outcome: str = "goal_met"
    outcome_label: Text = GOAL_MET_LABEL
    expected: Literal["stronger_in_context", "positive", "negative"] = "stronger_in_context"
    theory: str = ""

    title_en = english("title")
    context_label_en = english("context_label")
    mechanism_label_en = english("mechanism_label")
    outcome_label_en = english("outcome_label")

    @model_validator(mode="after")
    def _default_english(self) -> Hypothesis:
        self.outcome_label = _with_english(self.outcome_label, GOAL_MET_LABEL)
        return self


class DemoElement(_Model):
    """How often the demo gives an element, and the association it plants with the outcome.

    P(element) = share (or the delprojekt's share) + lift/2 if the goal was met, − lift/2 if not,
    where lift sums ``lift_goal[target group]`` and ``lift_goal_challenge[c]`` for each challenge
    the young person has. Clipped to [0.02, 0.98].
    """

    share: float = Field(ge=0, le=1)
    by_delprojekt: dict[str, float] = Field(default_factory=dict)
    lift_goal: dict[str, float] = Field(default_factory=dict)
    lift_goal_challenge: dict[str, float] = Field(default_factory=dict)


class Demo(_Model):
    """Calibration of the generated demo data (only for configs with privacy.demo: true)."""

    seed: int = 2021
    extract_date: dt.date
    participants: dict[str, dict[str, int]]
    outcomes: dict[str, dict[str, int]]
    age_range: dict[str, list[int]] = Field(default_factory=dict)
    challenges: dict[str, float] = Field(default_factory=dict)
    challenges_by_delprojekt: dict[str, dict[str, float]] = Field(default_factory=dict)
    elements: dict[str, DemoElement] = Field(default_factory=dict)
    survey_response_rate: list[float] = Field(default_factory=lambda: [0.85, 0.6])
    survey_exports: dict[str, Literal["surveyxact", "surveyxact_utf16", "surveyxact_cp1252",
                                      "spss"]] = Field(default_factory=dict)
    """Waves the demo writes as a survey tool's export (answer codes with a labels sheet)
    instead of a plain table of answer texts."""
    broken_rows: bool = True


class QcaSettings(_Model):
    """QCA choices. ``directions``: directional expectations for the intermediate solution,
    condition column (``element_<id>`` or ``tg_<target group>``) → 1 (present expected to go
    with the goal), 0 (absent) or "-" (either); they override those read from the CMO theory.
    ``impossible``: configurations that cannot exist by definition, as Boolean expressions over
    the same columns (``element_a*~element_b``; ``*`` and, ``+`` or, ``~`` not), left out of the
    simplifying assumptions."""

    directions: dict[str, Literal[1, 0, "-"]] = Field(default_factory=dict)
    impossible: list[str] = Field(default_factory=list)


COMPARISON_COVARIATES = ("age", "gender", "municipality", "target_group", "prior_education",
                         "months_neet", "psychiatric_contact", "social_services_contact")
"""The baseline covariates of a register comparison population (canonical names)."""


class ComparisonColumns(_Model):
    """Column names in the register extract, canonical name → the file's column."""

    person_id: str = "person_id"
    index_date: str = "index_date"
    age: str = "age"
    gender: str = "gender"
    municipality: str = "municipality"
    target_group: str = "target_group"
    prior_education: str = "prior_education"
    months_neet: str = "months_neet"
    psychiatric_contact: str = "psychiatric_contact"
    social_services_contact: str = "social_services_contact"


class ComparisonDemo(_Model):
    """The demo's synthetic register: its size and the effect and confounding it plants.

    ``effect_pp``: the planted effect of taking part (percentage points) per outcome window.
    ``psychiatric_contact`` / ``social_services_contact``: the share with contact among
    participants and among the other young people (participants start with more)."""

    population: int = Field(default=200_000, ge=100)
    seed: int = 16
    effect_pp: dict[int, float] = Field(default_factory=lambda: {6: 8.0, 12: 12.0, 24: 10.0})
    psychiatric_contact: tuple[float, float] = (0.55, 0.12)
    social_services_contact: tuple[float, float] = (0.45, 0.10)
    other_municipalities: list[str] = Field(default_factory=list)


class Comparison(_Model):
    """A register comparison group: a population extract keyed by the same pseudonymised person
    key as the participants, with baseline covariates and the outcome (in education or
    employment) ``months`` after the start or the matched index date.

    ``file`` is relative to ``files.raw_dir`` (parquet, CSV or SAS .sas7bdat). ``outcomes``:
    months → the 0/1 column. ``data_end``: the last day the register covers; a window that ends
    after it is not observed. ``caliper``: the matching caliper in standard deviations of the
    logit of the propensity score. ``neighbours``: comparison persons per participant."""

    file: str
    columns: ComparisonColumns = Field(default_factory=ComparisonColumns)
    outcomes: dict[int, str] = Field(default_factory=lambda: {
        6: "edu_or_work_6m", 12: "edu_or_work_12m", 24: "edu_or_work_24m"})
    primary_months: int = 12
    data_end: dt.date
    prior_education_levels: list[str] = Field(
        default_factory=lambda: ["ingen", "grundskole", "gymnasial", "erhvervsfaglig"])
    months_neet_max: int = Field(default=24, ge=1)
    caliper: float = Field(default=0.2, gt=0)
    neighbours: int = Field(default=1, ge=1, le=10)
    demo: ComparisonDemo | None = None

    @model_validator(mode="after")
    def _windows(self) -> Comparison:
        if not self.outcomes:
            raise ValueError("outcomes: give at least one window, e.g. {12: edu_or_work_12m}")
        bad = [m for m in self.outcomes if m <= 0]
        if bad:
            raise ValueError(f"outcomes: windows are months after the start and must be "
                             f"positive, not {bad}")
        if self.primary_months not in self.outcomes:
            raise ValueError(f"primary_months: {self.primary_months} is not one of the outcome "
                             f"windows ({', '.join(map(str, sorted(self.outcomes)))})")
        return self


class ProjectConfig(_Model):
    """A whole project config; the only place a project's specifics live."""

    project: Project
    targets: Targets = Field(default_factory=Targets)
    privacy: Privacy = Field(default_factory=Privacy)
    age: AgeRule = Field(default_factory=AgeRule)
    delprojekter: list[Delprojekt]
    files: Files
    columns: dict[str, list[str]] = Field(default_factory=dict)
    identifiers: list[str] = Field(default_factory=list)  # further identifying raw columns
    date_formats: list[str] = Field(default_factory=lambda: ["%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"])
    yes_values: list[str] = Field(
        default_factory=lambda: ["ja", "j", "x", "1", "yes", "y", "true", "sand"]
    )
    no_values: list[str] = Field(default_factory=lambda: ["nej", "n", "0", "no", "false", "falsk"])
    outcomes: dict[str, Outcome]
    target_groups: dict[str, TargetGroup]
    elements: dict[str, Coded] = Field(default_factory=dict)
    challenges: dict[str, Coded] = Field(default_factory=dict)
    survey: Survey = Field(default_factory=Survey)
    steps: Steps = Field(default_factory=Steps)
    hypotheses: list[Hypothesis] = Field(default_factory=list)
    qda: Qda = Field(default_factory=Qda)
    demo: Demo | None = None
    qca: QcaSettings = Field(default_factory=QcaSettings)
    business_case: BusinessCaseSettings | None = None
    comparison: Comparison | None = None

    # Set by load_config: where the file was (relative paths resolve from its folder), and the
    # project root (the folder above config/, else the config's folder) for display and cwd.
    source_path: Path | None = Field(default=None, exclude=True)
    root: Path | None = Field(default=None, exclude=True)

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(CANONICAL_COLUMNS))
        if unknown:
            raise ValueError(
                f"unknown canonical column(s) {unknown}; known: {', '.join(CANONICAL_COLUMNS)}"
            )
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> ProjectConfig:
        ids = [d.id for d in self.delprojekter]
        if len(set(ids)) != len(ids):
            raise ValueError("delprojekter: ids must be unique")
        for i, f in enumerate(self.files.participants):
            if f.delprojekt is not None and f.delprojekt not in ids:
                raise ValueError(
                    f"files.participants[{i}].delprojekt: unknown delprojekt {f.delprojekt!r}; "
                    f"known: {', '.join(ids)}"
                )
        for i, f in enumerate(self.files.survey):
            if f.wave not in self.survey.waves:
                raise ValueError(
                    f"files.survey[{i}].wave: {f.wave!r} is not one of survey.waves "
                    f"({', '.join(self.survey.waves)})"
                )
        for i, h in enumerate(self.hypotheses):
            if h.delprojekter != "all":
                for d in h.delprojekter:
                    if d not in ids:
                        raise ValueError(
                            f"hypotheses[{i}].delprojekter: unknown delprojekt {d!r}; "
                            f"known: {', '.join(ids)}"
                        )
        hyp_ids = [h.id for h in self.hypotheses]
        if len(set(hyp_ids)) != len(hyp_ids):
            raise ValueError("hypotheses: ids must be unique")
        for code, h in self.qda.codes.items():
            if h not in hyp_ids:
                raise ValueError(f"qda.codes.{code}: {h!r} is not a hypothesis id "
                                 f"(known: {', '.join(hyp_ids) or 'none'})")
        known = self.participant_columns()
        for i, h in enumerate(self.hypotheses):
            for part in ("context", "mechanism", "outcome"):
                _check_expression(getattr(h, part), f"hypotheses[{i}].{part}", known)
        for i, s in enumerate(self.survey.scales):
            if s.response_set not in self.survey.response_sets:
                raise ValueError(
                    f"survey.scales[{i}].response_set: unknown response set {s.response_set!r}"
                )
            for item in [*s.items, *s.reverse]:
                if item not in self.survey.items:
                    raise ValueError(f"survey.scales[{i}].items: unknown item {item!r}")
        step_ids = [s.id for s in self.steps.ladder]
        if self.steps.education_start_step and self.steps.education_start_step not in step_ids:
            raise ValueError(
                f"steps.education_start_step: {self.steps.education_start_step!r} "
                "is not a step of the ladder"
            )
        for key, vocab in (("outcomes", self.outcomes), ("target_groups", self.target_groups),
                           ("elements", self.elements), ("challenges", self.challenges)):
            for code in vocab:
                try:
                    _check_id(code)
                except ValueError as exc:
                    raise ValueError(f"{key}.{code}: {exc}") from None
        if self.demo is not None:
            self._check_demo(ids)
        return self

    @model_validator(mode="after")
    def _qca_references(self) -> ProjectConfig:
        known = [*(f"element_{e}" for e in self.elements),
                 *(f"tg_{g}" for g in self.target_groups)]
        for col in self.qca.directions:
            if col not in known:
                raise ValueError(f"qca.directions.{col}: not a QCA condition; known: "
                                 f"{', '.join(known)}")
        for i, expr in enumerate(self.qca.impossible):
            names = [lit.strip().removeprefix("~") for term in expr.split("+")
                     for lit in term.split("*")]
            bad = [n for n in names if n not in known]
            if bad:
                raise ValueError(f"qca.impossible[{i}]: {', '.join(bad) or 'empty term'} is not "
                                 f"a QCA condition; known: {', '.join(known)}")
        return self

    @model_validator(mode="after")
    def _business_case_cost(self) -> ProjectConfig:
        check_cost(self)
        return self

    def _check_demo(self, ids: list[str]) -> None:
        demo = self.demo
        for d in demo.participants:
            if d not in ids:
                raise ValueError(f"demo.participants.{d}: unknown delprojekt; known: {ids}")
        for d, groups in demo.participants.items():
            for g in groups:
                if g not in self.target_groups:
                    raise ValueError(f"demo.participants.{d}.{g}: unknown target group")
        for g, counts in demo.outcomes.items():
            n = sum(demo.participants[d].get(g, 0) for d in demo.participants)
            if sum(counts.values()) != n:
                raise ValueError(f"demo.outcomes.{g}: counts sum to {sum(counts.values())}, "
                                 f"but demo.participants has {n} in this target group")
            for code in counts:
                if code not in self.outcomes:
                    raise ValueError(f"demo.outcomes.{g}.{code}: unknown outcome code")
        for e in demo.elements:
            if e not in self.elements:
                raise ValueError(f"demo.elements.{e}: unknown element")

    # -- conveniences -------------------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        """The folder every relative path of the config resolves from: the config's own."""
        return self.source_path.parent if self.source_path else Path.cwd()

    def path(self, relative: str | Path) -> Path:
        """Resolve a path from the config (``~`` expanded) against the config's folder."""
        p = Path(relative).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    @property
    def raw_dir(self) -> Path:
        """The partners' files (``files.raw_dir``, default ``raw/`` beside the config)."""
        return self.path(self.files.raw_dir)

    @property
    def processed_dir(self) -> Path:
        """Clean tables and results (default ``processed/<project id>/`` beside the config)."""
        return self.path(self.files.processed_dir or Path("processed") / self.project.id)

    @property
    def reports_dir(self) -> Path:
        """The folder of ``index.html``; the project's pages go in ``<project id>/`` under it
        (default ``reports/`` beside the config)."""
        return self.path(self.files.reports_dir or "reports")

    @property
    def notebooks_dir(self) -> Path:
        """The notebooks the runner executes: ``files.notebooks_dir`` (an edited copy from
        ``ungeanalyse notebooks DIR``) or the ones shipped in the package."""
        if self.files.notebooks_dir:
            return self.path(self.files.notebooks_dir)
        from .bundled import notebooks_dir

        return notebooks_dir()

    @property
    def key_file(self) -> Path | None:
        """The key file named by ``privacy.key_file``, resolved from the config's folder."""
        return self.path(self.privacy.key_file) if self.privacy.key_file else None

    @property
    def delprojekt_ids(self) -> list[str]:
        return [d.id for d in self.delprojekter]

    def delprojekt(self, delprojekt_id: str) -> Delprojekt:
        """The delprojekt with this id, or a UserError naming the known ids."""
        for d in self.delprojekter:
            if d.id == delprojekt_id:
                return d
        raise UserError(
            f"Unknown delprojekt {delprojekt_id!r}; known: {', '.join(self.delprojekt_ids)}"
        )

    def outcome_labels(self, lang: str = "da") -> dict[str, str]:
        return {code: o.text(lang) for code, o in self.outcomes.items()}

    def group_of(self) -> dict[str, str]:
        return {code: o.group for code, o in self.outcomes.items()}

    def aliases(self, canonical: str) -> list[str]:
        """Every raw name that means this canonical column (defaults plus the config's); with
        ``privacy.id_column`` the person key column takes the place of the CPR column."""
        if canonical == "cpr" and self.privacy.id_column:
            return [self.privacy.id_column]
        return [canonical, *DEFAULT_ALIASES.get(canonical, []), *self.columns.get(canonical, [])]

    def participant_columns(self) -> list[str]:
        """The columns of the clean participants table, which hypothesis expressions may name."""
        return [*CLEAN_PARTICIPANT_COLUMNS, *(f"element_{e}" for e in self.elements),
                "n_elements", *(f"challenge_{c}" for c in self.challenges), "n_challenges"]

    def units(self) -> list[str]:
        """Report units: the whole project ("all") and each delprojekt (see ``units.units``)."""
        from .units import units

        return units(self)


def _loc(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


_KEY_FIRST = re.compile(r"^([a-z_][a-z0-9_]*(?:\.[a-z0-9_]+)*): (.*)$", re.S)


def parse_config(data: dict[str, Any], source: str = "<config>") -> ProjectConfig:
    """Validate a config mapping; errors name the key and say what is wrong."""
    if not isinstance(data, dict):
        raise UserError(f"{source}: the config must be a YAML mapping of keys to values")
    try:
        return ProjectConfig.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key (check the spelling; see config/aumi.yml for the known keys)"
            elif err["type"] == "missing":
                msg = "required key is missing"
            where = _loc(err["loc"]) if err["loc"] else ""
            key = _KEY_FIRST.match(msg)
            if where and key:  # 'title_en: …' from a check on a whole entry: one key path
                where, msg = f"{where}.{key[1]}", key[2]
            lines.append(f"  {where}: {msg}" if where else f"  {msg}")
        raise UserError(f"{source}: the config is not valid:\n" + "\n".join(lines)) from None


def yaml_error(path: Path, text: str, exc: Exception) -> str:
    """A YAML parse error as a user reads it: the file, line and column (1-based), what is
    wrong, and that YAML indents with spaces where a tab is the cause."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if mark is None:
        return f"{path}: not valid YAML: {problem}"
    lines = text.splitlines()
    line = lines[mark.line] if mark.line < len(lines) else ""
    tab = "\t" in line[:mark.column + 1]
    return (f"{path}: not valid YAML, line {mark.line + 1}, column {mark.column + 1}: {problem}"
            + (f" ({context})" if context else "")
            + ("; YAML indents with spaces, not tabs" if tab else ""))


def load_config(path: str | Path, root: str | Path | None = None) -> ProjectConfig:
    """Read and validate a project config; its relative paths resolve from its own folder.

    ``root`` (default: the folder above ``config/``, else the config's folder) is only where
    notebooks run and what provenance paths are shown relative to."""
    path = _locate(Path(path))
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # C parser
    except yaml.YAMLError as exc:
        raise UserError(yaml_error(path, text, exc)) from None
    cfg = parse_config(data, source=str(path))
    cfg.source_path = path.resolve()
    cfg.root = Path(root).resolve() if root else _find_root(path.resolve())
    return cfg


def migrate_config(path: str | Path) -> bool:
    """Rewrite a config file's older ``<key>_en`` texts as ``{da, en}`` pairs, keeping its
    comments (``ungeanalyse migrate``); True when the file changed. The file is only replaced
    when the rewritten text loads to the same config."""
    from .files import atomic_write
    from .texts import migrate

    path = _locate(Path(path))
    source = path.read_text(encoding="utf-8")
    rewritten = migrate(source)
    if rewritten == source:
        return False
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        before = parse_config(yaml.load(source, Loader=loader), source=str(path))
    except yaml.YAMLError as exc:
        raise UserError(yaml_error(path, source, exc)) from None
    try:
        after = parse_config(yaml.load(rewritten, Loader=loader), source=str(path))
    except (UserError, yaml.YAMLError):
        after = None
    if after is None or after.model_dump() != before.model_dump():
        raise UserError(f"{path}: the texts could not be rewritten safely (an unusual layout); "
                        "the file is unchanged: write each <key>_en by hand as "
                        "<key>: {da: ..., en: ...}")
    atomic_write(path, lambda p: p.write_text(rewritten, encoding="utf-8"))
    return True


def _locate(path: Path) -> Path:
    """Find a relative config path from here or a parent (a notebook runs in notebooks/)."""
    if path.exists() or path.is_absolute():
        if not path.exists():
            raise UserError(f"Config file not found: {path}")
        return path
    for parent in [Path.cwd(), *Path.cwd().parents][:4]:
        if (parent / path).exists():
            return parent / path
    raise UserError(f"Config file not found: {path} (looked in {Path.cwd()} and its parents)")


def _find_root(config_path: Path) -> Path:
    """The directory that holds ``config/``: the project root for relative paths."""
    parent = config_path.parent
    return parent.parent if parent.name == "config" else parent


def register_file(cfg: ProjectConfig) -> Path:
    """Where the comparison group's register extract is: ``comparison.file``, relative to
    ``files.raw_dir`` (here, not in ``comparison``, so the runner need not import pandas)."""
    assert cfg.comparison is not None
    p = Path(cfg.comparison.file).expanduser()
    return p if p.is_absolute() else cfg.raw_dir / p
