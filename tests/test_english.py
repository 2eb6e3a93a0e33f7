"""English reports: every shipped config gives an English text for what a reader sees, and the
English tables and text of the AUMI demo use those texts and none of the Danish labels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from ungeanalyse import outcomes, realist
from ungeanalyse.config import GROUP_LABELS, ProjectConfig, load_config
from ungeanalyse.disclosure import maaltal as dmaaltal
from ungeanalyse.reader import maaltal as reader_maaltal
from ungeanalyse.results import ResultStore
from ungeanalyse.texts import text_fields

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "config").glob("*.yml"))


def _missing_english(model: Any, where: str = "") -> tuple[list[str], int]:
    """Every config text (a ``Text`` field: a plain string or a ``{da, en}`` pair) whose Danish
    text is given but whose English text is not, named by key; and how many texts there were."""
    if isinstance(model, BaseModel):
        missing, pairs = [], 0
        for name in type(model).model_fields:
            value = getattr(model, name)
            key = f"{where}.{name}" if where else name
            if name in text_fields(type(model)) and value is not None and value.strip():
                pairs += 1
                if not value.en:
                    missing.append(key)
            sub_missing, sub_pairs = _missing_english(value, key)
            missing += sub_missing
            pairs += sub_pairs
        return missing, pairs
    items = (model.items() if isinstance(model, dict) else
             enumerate(model) if isinstance(model, list) else ())
    missing, pairs = [], 0
    for k, v in items:
        sub_missing, sub_pairs = _missing_english(v, f"{where}[{k}]" if isinstance(k, int)
                                                  else f"{where}.{k}")
        missing += sub_missing
        pairs += sub_pairs
    return missing, pairs


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_every_reader_label_has_an_english_text(path):
    cfg = load_config(path)
    missing, pairs = _missing_english(cfg)
    assert not missing, f"{path.name}: no English text for {', '.join(missing)}"
    # the walk reached the label-bearing entries (vocabularies, ladder, hypotheses, delprojekter)
    expected = (2 + len(cfg.outcomes) + len(cfg.target_groups) + len(cfg.elements)
                + len(cfg.challenges) + len(cfg.steps.ladder) + len(cfg.survey.scales)
                + 4 * len(cfg.hypotheses) + len(cfg.delprojekter))
    assert pairs >= expected


def test_english_falls_back_to_danish_when_no_english_is_given(aumi_cfg):
    cfg = aumi_cfg.model_copy(deep=True)
    h = cfg.hypotheses[0]
    h.context_label_en = None
    assert h.tr("context_label", "en") == h.context_label
    assert h.tr("mechanism_label", "en") == "Fixed contact person"
    assert h.tr("mechanism_label", "da") == "Fast kontaktperson"
    cfg.delprojekter[0].name_en = None
    assert outcomes.category_labels(cfg, "delprojekt", "en")["kommed"] == cfg.delprojekter[0].name
    # the default outcome label and goal description have English defaults
    assert h.tr("outcome_label", "en") == GROUP_LABELS["en"]["goal_met"]
    bare = ProjectConfig.model_validate({**cfg.model_dump(exclude={"targets"}), "targets": {}})
    assert bare.targets.tr("goal_met_description", "en") == "started or completed a youth education"


# -- the AUMI demo in English ---------------------------------------------------------------


@pytest.fixture(scope="module")
def aumi_demo(demo_project):
    """The AUMI demo, cleaned, in a copy of the repo's config (the repo's data are not touched;
    built once per session, conftest)."""
    aumi = demo_project("aumi")
    return aumi.cfg(), aumi.result.participants.copy()


def _danish_labels(cfg: ProjectConfig) -> set[str]:
    """The Danish labels of the config that differ from their English text."""
    out = {"Målopfyldelse", "Mål indfriet", "Påbegynde", "Fastholde", "Fast kontaktperson",
           *GROUP_LABELS["da"].values()}
    for vocab in (cfg.outcomes, cfg.target_groups, cfg.elements, cfg.challenges):
        out |= {e.label for e in vocab.values() if e.label != e.label_en}
    out |= {s.label for s in cfg.steps.ladder if s.label != s.label_en}
    out |= {s.label for s in cfg.survey.scales if s.label != s.label_en}
    for h in cfg.hypotheses:
        out |= {h.title, h.context_label, h.mechanism_label, h.outcome_label}
    out |= {d.name for d in cfg.delprojekter if d.name != d.name_en}
    out |= {cfg.project.name, cfg.targets.goal_met_description}
    return out


def _assert_english(text: str, english: set[str], danish: set[str]) -> None:
    absent = sorted(e for e in english if e not in text)
    assert not absent, f"English labels missing: {absent}"
    found = sorted(d for d in danish if d in text)
    assert not found, f"Danish labels in the English output: {found}"


def test_english_maaltal_tables_use_english_labels(aumi_demo):
    cfg, participants = aumi_demo
    m = outcomes.maaltal(participants, cfg, lang="en")
    masks = {"maaltal": dmaaltal.maaltal_plan(participants, cfg)["all"]}
    html = "".join(reader_maaltal.table(m, masks, cfg, name, "en").as_html()
                   for name in ("outcomes", "groups", "targets", "target_group", "delprojekt"))
    shown = set(m.outcomes.loc[m.outcomes["n"] > 0, "code"])
    english = {o.label_en for code, o in cfg.outcomes.items() if code in shown}
    english |= {g.label_en for g in cfg.target_groups.values()}
    english |= {d.name_en for d in cfg.delprojekter}
    english |= {"Goal met", "Derived effect", "Goal not met", "Status unknown"}
    _assert_english(html, english, _danish_labels(cfg))
    assert "Start an education" in html and "Stay in education" in html
    assert m.unit_label == cfg.project.name_en


def test_english_cmo_table_uses_english_labels(aumi_demo):
    cfg, participants = aumi_demo
    from ungeanalyse.disclosure import load_masks
    from ungeanalyse.reader import cmo as reader

    cmo = realist.evaluate_hypotheses(participants, cfg, lang="en")
    masks = load_masks(cfg, "all")
    html = reader.table(cmo, masks, cfg, "en").as_html()
    english = {h.title_en for h in cfg.hypotheses} | {h.context_label_en for h in cfg.hypotheses}
    english |= {h.mechanism_label_en for h in cfg.hypotheses}
    _assert_english(html, english, _danish_labels(cfg))
    assert " til " not in html
    # the library's own table and text say the same
    table = cmo.table("en")
    assert table["Context"].tolist() == [h.context_label_en for h in cfg.hypotheses]
    assert table["Mechanism"].tolist() == [h.mechanism_label_en for h in cfg.hypotheses]
    assert "Context: To start an education; mechanism: Fixed contact person; outcome: Goal met" \
        in cmo.summary("en")
    # Danish is untouched
    da = reader.table(cmo, masks, cfg, "da").frame
    assert da["Kontekst"].tolist() == [h.context_label for h in cfg.hypotheses]


def test_english_evaluation_text_uses_english_config_texts(aumi_demo, tmp_path):
    cfg, participants = aumi_demo
    store = ResultStore.for_unit(cfg, "all", tmp_path)
    store.save("maaltal", outcomes.maaltal(participants, cfg, lang="en").to_dict())
    store.save("cmo", realist.evaluate_hypotheses(participants, cfg, lang="en").to_dict())
    from tests.test_reader_evaluation import render_text
    from ungeanalyse.disclosure import load_masks

    masks = load_masks(cfg, "all")
    text = render_text(cfg, "all", store, lang="en", masks=masks)
    english = {cfg.project.name_en, cfg.project.description_en, cfg.project.purpose_en,
               cfg.targets.goal_met_description_en}
    english |= {d.name_en for d in cfg.delprojekter} | {d.theory_of_change_en
                                                         for d in cfg.delprojekter}
    english |= {h.context_label_en for h in cfg.hypotheses} | {"Goal met"}
    danish = _danish_labels(cfg) | {cfg.project.description, cfg.project.purpose}
    danish |= {d.theory_of_change for d in cfg.delprojekter}
    _assert_english(text, english, danish)
    pixi = render_text(cfg, "all", store, variant="pixi", lang="en", masks=masks)
    # the target group inside a sentence: "48% for start an education"
    _assert_english(pixi, {cfg.targets.goal_met_description_en, "start an education"},
                    _danish_labels(cfg))


def test_html_keeps_the_prose_of_the_report_language(tmp_path):
    import nbformat

    from ungeanalyse.render import render_html

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Måltal", metadata={"lang": "da"}),
                nbformat.v4.new_markdown_cell("# Target figures", metadata={"lang": "en"}),
                nbformat.v4.new_markdown_cell("Both languages")]
    for lang, keep, drop in (("en", "Target figures", "Måltal"),
                             ("da", "Måltal", "Target figures")):
        page = render_html(nb, tmp_path / f"{lang}.html", title="t", lang=lang).read_text(
            encoding="utf-8")
        assert keep in page and drop not in page and "Both languages" in page
