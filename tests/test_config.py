"""Config validation: every shipped config loads; mistakes name the key."""

from pathlib import Path

import pytest
import yaml

from ungeanalyse.config import load_config, parse_config
from ungeanalyse.errors import UserError

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
