"""Config validation: every shipped config loads; mistakes name the key."""

import copy
import pickle
from pathlib import Path

import pytest
import yaml

from ungeanalyse.cli import main
from ungeanalyse.config import ProjectConfig, load_config, parse_config, text
from ungeanalyse.errors import UserError
from ungeanalyse.partner_files import check_config
from ungeanalyse.texts import migrate

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted((ROOT / "config").glob("*.yml"))


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs_load(path):
    cfg = load_config(path)
    assert cfg.root == ROOT
    assert cfg.units()[0] == "all"
    assert cfg.hypotheses


def test_seed_figures_in_configs():
    aumi = load_config(ROOT / "config" / "aumi.yml")
    assert aumi.project.budget_kr == 25_345_510
    assert aumi.targets.goal_met_count == 200 and aumi.targets.participants is None
    assert len(aumi.delprojekter) == 6
    umk = load_config(ROOT / "config" / "unge_med_kant.yml")
    assert umk.project.budget_kr == 2_205_538 and umk.targets.participants == 90
    assert sum(sum(g.values()) for g in umk.demo.participants.values()) == 106
    aalborg = load_config(ROOT / "config" / "ungeindsats_aalborg.yml")
    assert aalborg.targets.goal_met_share == 0.80
    sbst = load_config(ROOT / "config" / "sbst_helhedsorienteret.yml")
    assert {d.municipality for d in sbst.delprojekter} == {
        "Frederiksberg", "Kalundborg", "Køge", "Svendborg"}
    assert (sbst.age.min, sbst.age.max) == (15, 25)


def _aumi() -> dict:
    return yaml.safe_load((ROOT / "config" / "aumi.yml").read_text(encoding="utf-8"))


def test_unknown_key_is_named():
    data = _aumi()
    data["project"]["budjet_kr"] = 1
    with pytest.raises(UserError, match=r"project\.budjet_kr: unknown key"):
        parse_config(data)


def test_unknown_delprojekt_in_hypothesis_is_named():
    data = _aumi()
    data["hypotheses"][4]["delprojekter"] = ["atlantis"]
    with pytest.raises(UserError, match=r"hypotheses\[4\]\.delprojekter: unknown delprojekt"):
        parse_config(data)


def test_missing_required_key_is_named():
    data = _aumi()
    del data["outcomes"]["employment"]["group"]
    with pytest.raises(UserError, match=r"outcomes\.employment\.group: required key is missing"):
        parse_config(data)


def test_demo_counts_must_add_up():
    data = _aumi()
    data["demo"]["outcomes"]["fastholde"]["completed_or_retained"] = 67
    with pytest.raises(UserError, match="demo.outcomes.fastholde"):
        parse_config(data)


def test_missing_file_and_bad_yaml(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_config(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("project: [unclosed", encoding="utf-8")
    with pytest.raises(UserError, match="not valid YAML"):
        load_config(bad)


def test_qca_directions_and_impossible_name_known_conditions():
    data = _aumi()
    data["qca"] = {"directions": {"element_faellesskab": 0, "tg_paabegynde": "-"},
                   "impossible": ["element_faellesskab*~element_mestringskursus"]}
    cfg = parse_config(data)
    assert cfg.qca.directions == {"element_faellesskab": 0, "tg_paabegynde": "-"}
    data["qca"] = {"directions": {"element_yoga": 1}}
    with pytest.raises(UserError, match=r"qca\.directions\.element_yoga: not a QCA condition"):
        parse_config(data)
    data["qca"] = {"impossible": ["element_faellesskab*~alder"]}
    with pytest.raises(UserError, match=r"qca\.impossible\[0\]: alder is not a QCA condition"):
        parse_config(data)
    data["qca"] = {"directions": {"element_faellesskab": 2}}
    with pytest.raises(UserError, match=r"qca\.directions\.element_faellesskab"):
        parse_config(data)


def test_data_extract_date_and_target_group_goal():
    import datetime as dt

    cfg = parse_config(_aumi())
    assert cfg.project.data_extract_date == dt.date(2021, 10, 31)
    assert {c: g.goal for c, g in cfg.target_groups.items()} == {"paabegynde": "start",
                                                                "fastholde": "stay"}
    data = _aumi()
    del data["project"]["data_extract_date"]
    del data["target_groups"]["fastholde"]["goal"]
    cfg = parse_config(data)  # both optional: the latest date in the data, and 'start'
    assert cfg.project.data_extract_date is None and cfg.target_groups["fastholde"].goal == "start"
    data["project"]["data_extract_date"] = "2016-01-01"
    with pytest.raises(UserError, match=r"data_extract_date: 2016-01-01 is before the project"):
        parse_config(data)
    data = _aumi()
    data["target_groups"]["fastholde"]["goal"] = "keep"
    with pytest.raises(UserError, match=r"target_groups\.fastholde\.goal"):
        parse_config(data)


def test_shipped_hypothesis_titles_read_as_hypotheses_not_claims():
    # the report prints "Hypotese: <title>" and puts the title next to the verdict, so a title
    # must state an expectation ("Vi forventer, at …"), never a finding ("… virker for …")
    for path in CONFIGS:
        for h in load_config(path).hypotheses:
            assert h.title.startswith("Vi forventer, at "), (path.name, h.id, h.title)
            assert h.title_en.startswith("We expect "), (path.name, h.id, h.title_en)
            assert "virker" not in h.title and "Hypotese" not in h.title


# -- texts: a plain string or a {da, en} pair ------------------------------------------------


def _old_form(node):
    """The config mapping as it was written before the pairs: ``key: {da, en}`` becomes
    ``key`` (Danish) and ``key_en`` beside it."""
    if isinstance(node, list):
        return [_old_form(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if isinstance(value, dict) and set(value) == {"da", "en"}:
            out[key], out[f"{key}_en"] = value["da"], value["en"]
        else:
            out[key] = _old_form(value)
    return out


def test_a_text_is_a_plain_string_or_a_pair():
    data = _aumi()
    data["project"]["name"] = "Alle unge med"                 # Danish only: both languages
    data["delprojekter"][1]["name"] = {"da": "Høretab", "en": "Hearing loss"}
    data["hypotheses"][0]["title"] = {"da": "Vi forventer, at …"}  # a pair without English
    cfg = parse_config(data)
    assert (text(cfg.project.name, "da"), text(cfg.project.name, "en")) == ("Alle unge med",) * 2
    hoeretab = cfg.delprojekt("hoeretab")
    assert (text(hoeretab.name, "da"), text(hoeretab.name, "en")) == ("Høretab", "Hearing loss")
    assert hoeretab.name == "Høretab" and f"{hoeretab.name}" == "Høretab"  # reads as Danish
    assert text(cfg.hypotheses[0].title, "en") == "Vi forventer, at …"
    assert cfg.outcomes["employment"].text("en") == "In employment"
    # the accessor also takes saved results' dicts, plain strings and nothing
    assert text({"da": "Mål indfriet", "en": "Goal met"}, "en") == "Goal met"
    assert text("Mål indfriet", "en") == "Mål indfriet" and text(None, "da") == ""
    with pytest.raises(ValueError, match="lang must be 'da' or 'en'"):
        text("x", "de")


def test_texts_survive_dump_pickle_and_copy():
    cfg = load_config(ROOT / "config" / "aumi.yml")
    dumped = cfg.model_dump()
    assert dumped["project"]["name"] == {"da": "AUMI – Alle unge med imidt",
                                         "en": "AUMI – All young people included in Central "
                                               "Denmark"}
    assert dumped["elements"]["fast_kontaktperson"]["label"] == {
        "da": "Fast kontaktperson", "en": "Fixed contact person"}
    assert ProjectConfig.model_validate(dumped).model_dump() == dumped
    again = pickle.loads(pickle.dumps(cfg))
    assert again.hypotheses[2].title_en == cfg.hypotheses[2].title_en is not None
    assert copy.deepcopy(cfg).model_dump() == dumped
    assert yaml.safe_load(yaml.safe_dump({"n": cfg.project.name}, allow_unicode=True)) == {
        "n": dumped["project"]["name"]}


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_the_older_en_keys_load_into_the_same_pairs(path):
    new = yaml.safe_load(path.read_text(encoding="utf-8"))
    old = _old_form(new)
    assert "title_en" in old["hypotheses"][0] and "label_en" in old["target_groups"]["fastholde"]
    assert parse_config(old).model_dump() == parse_config(new).model_dump()


def test_the_older_attribute_names_read_and_write_the_pair():
    cfg = parse_config(_aumi())
    h = cfg.hypotheses[0]
    assert h.title_en == text(h.title, "en") != h.title
    h.mechanism_label_en = None
    assert h.tr("mechanism_label", "en") == "Fast kontaktperson"
    h.mechanism_label_en = "Contact person"
    assert text(h.mechanism_label, "en") == "Contact person" and h.mechanism_label == \
        "Fast kontaktperson"
    assert cfg.project.short_name_en == "AUMI" and cfg.targets.goal_met_description_en == (
        "started or completed a youth education")


def test_default_texts_keep_their_english():
    data = _aumi()
    data["targets"].pop("goal_met_description")
    data["hypotheses"][0].pop("outcome_label", None)
    data["hypotheses"][1]["outcome_label"] = "Mål indfriet"   # the default, written out
    cfg = parse_config(data)
    assert text(cfg.targets.goal_met_description, "en") == "started or completed a youth education"
    assert [text(h.outcome_label, "en") for h in cfg.hypotheses[:2]] == ["Goal met"] * 2


@pytest.mark.parametrize(("key", "value", "message"), [
    ("hypotheses.0.title", {"da": "Vi forventer", "fr": "Nous"},
     r"hypotheses\[0\]\.title: unknown language 'fr' in the pair; a text is a string or "
     r"\{da: \.\.\., en: \.\.\.\}"),
    ("project.name", {"en": "AUMI"}, r"project\.name: the pair needs the Danish text"),
    ("outcomes.unknown.label", 5, r"outcomes\.unknown\.label: 5 is not a text"),
    ("delprojekter.1.name", {"da": "Høretab", "en": ["Hearing"]},
     r"delprojekter\[1\]\.name\.en: \['Hearing'\] is not a text"),
    ("hypotheses.0.title_en", "Another English title",
     r"hypotheses\[0\]\.title_en: the English text is also in the pair title: give it once"),
])
def test_a_bad_text_is_named_by_its_key(key, value, message):
    data = _aumi()
    *parents, last = key.split(".")
    node = data
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    node[last] = value
    with pytest.raises(UserError, match=message):
        parse_config(data, "aumi.yml")


OLD_FORM = """\
# a config as written before the pairs
project:
  id: p
  name: Videre i uddannelse   # the project's name
  name_en: Onwards in education
  description: >-
    Unge skal videre
    i uddannelse.
  description_en: >-
    Young people are to move on
    in education.
  period: {start: 2023-01-01, end: 2024-12-31}
  budget_kr: 0
delprojekter:
  - id: a
    name: Skolen
    municipality: Kolding
    name_en: The school
files: {participants: [{path: a.csv, delprojekt: a}]}
outcomes:
  started_youth_education: {label: Påbegyndt, label_en: Started, group: goal_met}
target_groups:
  paabegynde: {label: Påbegynde,
               label_en: Start an education, aliases: [p]}
"""


def test_migrate_rewrites_en_keys_as_pairs_keeping_comments():
    new = migrate(OLD_FORM)
    assert "_en:" not in new
    assert "  name:\n    da: Videre i uddannelse   # the project's name\n" \
           "    en: Onwards in education\n" in new
    assert "  description:\n    da: >-\n      Unge skal videre\n      i uddannelse.\n" \
           "    en: >-\n      Young people are to move on\n" in new
    assert "    name:\n      da: Skolen\n      en: The school\n    municipality: Kolding\n" in new
    assert "{label: {da: Påbegyndt, en: Started}, group: goal_met}" in new
    assert "# a config as written before the pairs" in new
    assert parse_config(yaml.safe_load(new)).model_dump() == \
        parse_config(yaml.safe_load(OLD_FORM)).model_dump()
    assert migrate(new) == new


def test_migrate_command_rewrites_the_file(tmp_path, capsys):
    path = tmp_path / "project.yml"
    path.write_text(OLD_FORM, encoding="utf-8")
    before = load_config(path).model_dump()
    hint = "texts: English texts are written as <key>_en beside <key> (the older form, still read)"
    assert any(n.startswith(hint) for n in check_config(load_config(path)).notes)
    assert main(["migrate", "--config", str(path)]) == 0
    assert "texts rewritten as {da, en} pairs" in capsys.readouterr().out
    assert "name_en" not in path.read_text(encoding="utf-8")
    assert load_config(path).model_dump() == before
    assert main(["migrate", "--config", str(path)]) == 0
    assert "nothing to rewrite" in capsys.readouterr().out
    assert not any(n.startswith(hint) for n in check_config(load_config(path)).notes)
