"""The evaluation text and the pixi (notebook 04): one template per document, its words from
the catalogue, its figures from the results notebooks 02 and 03 saved, rebuilt with
``from_dict`` and worded by the same reader functions, on the AUMI demo in both languages."""

from __future__ import annotations

import json

import pytest

from ungeanalyse import disclosure, i18n
from ungeanalyse.errors import UserError
from ungeanalyse.reader import cmo as cmo_reader
from ungeanalyse.reader import evaluation
from ungeanalyse.results import ResultStore, load_evaluation


def render_text(cfg, unit, store, variant: str = "full", lang: str = "da", masks=None) -> str:
    """The evaluation (or pixi) of a unit's store, as notebook 04 makes it, with the unit's
    masks (a store of made-up måltal passes their plan: ``disclosure.maaltal.maaltal_plan``)."""
    masks = {"cmo": {}, **(masks or {})}
    results = load_evaluation(store, lang)
    return evaluation.render_text(results, masks, cfg, unit, store, variant, lang)


# -- the AUMI demo ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aumi_store(demo_project, tmp_path_factory):
    """The AUMI demo's results of notebooks 02 and 03 for the whole project in a store (as the
    notebooks save them), and its masks."""
    import ungeanalyse as ua

    cfg = demo_project("aumi").cfg()
    masks = disclosure.load_masks(cfg, "all")
    project = ua.results.load_unit(cfg, "all")
    stores = {}
    for lang in ("da", "en"):
        store = ResultStore.for_unit(cfg, "all", tmp_path_factory.mktemp(f"results_{lang}"))
        m = ua.outcomes.maaltal(project["participants"], cfg, lang=lang)
        store.save("maaltal", m.to_dict())
        cmo = ua.realist.evaluate_hypotheses(project["participants"], cfg)
        store.save("cmo", cmo.to_dict())
        display = ua.realist.joint_display(cmo, project["quotes"], cfg, max_quotes=2, lang=lang)
        store.save("voices", cmo_reader.voices(display))
        store.save("qca", ua.qca.analyse(project["participants"], cfg, "all").to_dict())
        stores[lang] = store
    return cfg, stores, masks


def test_the_summary_gives_the_seed_figures_in_both_languages(aumi_store):
    cfg, stores, masks = aumi_store
    da = render_text(cfg, "all", stores["da"], masks=masks)
    assert ("AUMI – Alle unge med imidt har haft **195** unge i forløb (2. oktober 2017 – "
            "31. december 2022).") in da
    assert "**126 unge (65 % af deltagerne)** har indfriet målet: " in da
    assert ("Blandt de afsluttede forløb er succesraten **65 %** (95 %-konfidensinterval "
            "58–71 %).") in da
    assert "- Påbegynde: 48 % (58 af 120; 95 %-CI 40–57 %)" in da
    assert "- Mål: Antal med mål indfriet: 126 mod målet 200 (63 % af målet)." in da
    en = render_text(cfg, "all", stores["en"], lang="en", masks=masks)
    assert "**195** young people in its courses (2 October 2017 – 31 December 2022)." in en
    # the evaluator's own text, with the live figures
    assert ("Projektet har haft 195 unge i forløb, og 126 af dem (65 %) har påbegyndt eller "
            "fastholdt en ungdomsuddannelse. Blandt de afsluttede forløb er succesraten 65 % "
            "(95 %-konfidensinterval 58–71 %).") in da
    # the English summary has the share the Danish one has (it had lost it)
    assert "**126 young people (65% of the participants)** met the goal: " in en


def test_the_hypotheses_read_as_notebook_03_words_them(aumi_store):
    cfg, stores, masks = aumi_store
    text = render_text(cfg, "all", stores["da"], masks=masks)
    results = load_evaluation(stores["da"])
    for r in results.cmo.results:
        h = cmo_reader.hypothesis_text(r, results.voices.get(r.id, {}), masks, cfg, "da")
        assert h.figures in text and h.rule in text, r.id
    assert "**Dom: støttet.** Regel 2: støttet, fordi samspillet" in text
    # the main findings: H2 is the one supported
    assert ("1. H2: Mestringskursus hænger stærkere sammen med udfaldet »mål indfriet« blandt "
            "unge i konteksten »Psykiske udfordringer« end blandt andre (støttet; en sammenhæng, "
            "ikke en målt virkning).") in text
    assert ("Afprøv mestringskursus for unge i konteksten »Psykiske udfordringer« i et design "
            "med en sammenligningsgruppe, før indsatsen udbredes: H2 er støttet") in text
    # no text says why a figure is hidden
    assert "færre end 5 i en gruppe" not in text and "for få i en gruppe" not in text
    assert 'sådanne tal skrives "færre end 5"' not in text


def test_the_qca_text_is_the_section_notebook_03_shows(aumi_store):
    from ungeanalyse.reader import qca as qca_reader

    cfg, stores, masks = aumi_store
    text = render_text(cfg, "all", stores["da"], masks=masks)
    results = load_evaluation(stores["da"])
    assert qca_reader.text(results.qca, masks, cfg, "da") in text
    assert "## Konfigurationer af kontekst og mekanisme (QCA)\n\nBetingelser: PAABEG = " in text


def test_the_pixi_has_the_key_figures_and_no_table_of_contents_page(aumi_store):
    cfg, stores, masks = aumi_store
    pixi = render_text(cfg, "all", stores["da"], "pixi", masks=masks)
    assert pixi.startswith("# Slutevaluering: AUMI – Alle unge med imidt – pixi-udgave\n")
    assert "| Unge i forløb | **195** |" in pixi
    assert "| Succesrate, påbegynde | 48 % |" in pixi and "| Succesrate, fastholde | 91 % |" in pixi
    assert "2. Succesraten var 48 % for påbegynde og 91 % for fastholde." in pixi
    en = render_text(cfg, "all", stores["en"], "pixi", "en", masks=masks)
    assert "2. The success rate was 48% for start an education and 91% for stay in education." \
        in en
    from ungeanalyse.document import MIN_TOC_ENTRIES, _sections

    assert _sections("<h2>Det vigtigste</h2>") < MIN_TOC_ENTRIES  # one section: no outline


def test_english_and_danish_come_from_one_template(aumi_store):
    from pathlib import Path

    import ungeanalyse

    templates = Path(ungeanalyse.__file__).parent / "templates"
    assert sorted(p.name for p in templates.glob("*.j2")) == ["evaluering.md.j2", "pixi.md.j2"]
    cfg, stores, masks = aumi_store
    da = render_text(cfg, "all", stores["da"], masks=masks)
    en = render_text(cfg, "all", stores["en"], lang="en", masks=masks)
    heads = [line for line in da.splitlines() if line.startswith("## ")]
    assert len(heads) == len([line for line in en.splitlines() if line.startswith("## ")])
    # what the English template had lost: the operator, the municipalities, the threshold
    if cfg.project.operator:
        assert f"and {cfg.project.operator} is the operator." in en
    for d in cfg.delprojekter:
        if d.municipality:
            assert f"**{d.tr('name', 'en')}** ({d.municipality}):" in en
    assert i18n.t("evaluation.privacy", "en", k=5) in en
    assert i18n.t("evaluation.privacy", "da", k=5) in da


def test_no_recommendation_is_said_in_one_sentence(aumi_store, tmp_path):
    cfg, stores, masks = aumi_store
    saved = stores["da"].load("cmo")
    for h in saved["hypotheses"]:  # every verdict 'ikke støttet'
        h["verdict_code"], h["decision"] = "not_supported", {
            "rule": 4, "main_dir": False, "in_dir": False, "nominal": False, "adjusted": False,
            "cluster_ok": True, "in_alone": False}
    store = ResultStore.for_unit(cfg, "all", tmp_path)
    store.save("maaltal", {**stores["da"].load("maaltal"), "target_group_gaps": []})
    store.save("cmo", saved)
    none = i18n.t("evaluation.no_recommendations", "da")
    # the demo's evaluator keeps the generated recommendations in her own text: the sentence
    text = render_text(cfg, "all", store, masks=masks)
    assert ("Anbefalingerne, der følger direkte af dommene over hypoteserne:\n\n" + none) in text
    # without the evaluator's texts the section is that one sentence
    plain = cfg.model_copy(deep=True)
    plain.files.texts_dir = str(tmp_path / "no_texts")
    section = render_text(plain, "all", store, masks=masks).split(
        "## Konklusioner og anbefalinger\n")[1]
    assert section.strip() == none


def test_a_stale_result_asks_for_its_notebook(aumi_store, tmp_path):
    cfg, stores, _ = aumi_store
    store = ResultStore.for_unit(cfg, "all", tmp_path)
    store.save("maaltal", stores["da"].load("maaltal"))
    store.save("qca", {"text": "Betingelser: …"})  # an older version's saved text
    with pytest.raises(UserError, match="qca.json was saved by an older version: run "
                                        "03_hvad_virker_for_hvem again"):
        load_evaluation(store)


def test_the_text_refuses_without_masks(aumi_store):
    cfg, stores, _ = aumi_store
    with pytest.raises(UserError, match="the evaluation text: no disclosure masks"):
        evaluation.context(load_evaluation(stores["da"]), None, cfg, "all")


@pytest.mark.parametrize("lang", ["da", "en"])
def test_each_quote_is_its_own_block_and_the_next_heading_is_outside_it(lang):
    """Two quotes under H1 are two blockquotes, and H2's heading does not fall inside the last
    (Markdown joins '>' lines that follow each other, and a heading right after a quote)."""
    import jinja2

    env = evaluation._environment(lang)
    env.undefined = jinja2.ChainableUndefined
    voices = [{"text": "Hun ringede, når jeg ikke kom", "source": "ung"},
              {"text": "Vi mødtes hver uge", "source": "partner"}]
    hypotheses = [{"id": "H1", "title": "Vi forventer, at …", "voices": voices,
                   "voice_counts": "2"}, {"id": "H2", "title": "Vi forventer også, at …"}]

    class Project:  # what the template calls on the project: its texts, here empty
        def tr(self, *_: str) -> str:
            return ""

        def __getattr__(self, _: str) -> str:
            return ""

    text = env.get_template("evaluering.md.j2").render(hypotheses_results=hypotheses,
                                                       project=Project(), lang=lang)
    lines = text.splitlines()
    quotes = [i for i, line in enumerate(lines) if line.startswith("> ")]
    assert len(quotes) == 2 and quotes[1] - quotes[0] == 2  # a blank line between the two
    marks = {"da": "»{}«", "en": "“{}”"}[lang]  # the language's own quotation marks
    assert lines[quotes[0]] == "> " + marks.format("Hun ringede, når jeg ikke kom") + " – ung"
    heading = next(i for i, line in enumerate(lines) if line.startswith("### H2."))
    assert lines[quotes[1] + 1] == "" and heading > quotes[1] + 1


def test_the_saved_results_round_trip(aumi_store):
    from ungeanalyse.qca import QCAResult

    cfg, stores, masks = aumi_store
    saved = stores["da"].load("qca")
    again = QCAResult.from_dict(json.loads(json.dumps(saved)))
    assert again.to_dict() == json.loads(json.dumps(saved))


def test_the_cost_per_goal_met_is_hidden_with_the_goal_count(aumi_store):
    """Budget ÷ cost per goal met gives the goal count back: where the plan hides the count,
    the evaluation's cost sentence hides that figure too, as notebook 02's does."""
    import copy

    cfg, stores, masks = aumi_store
    results = load_evaluation(stores["da"])
    shown = evaluation._maaltal(results, masks, cfg, "da")["cost_text"]
    assert "201.155 kr. pr. ung, der har indfriet målet" in shown
    hidden_goal = copy.deepcopy(masks)
    hidden_goal["maaltal"]["group"]["goal_met"] = True
    text = evaluation._maaltal(results, hidden_goal, cfg, "da")["cost_text"]
    assert text == ("Med et budget på 25.345.510 kr. er udgiften 129.977 kr. pr. deltager og – "
                    "pr. ung, der har indfriet målet.")
