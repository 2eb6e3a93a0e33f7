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
    assert aumi.targets.participants == 200
    assert len(aumi.delprojekter) == 6
    umk = load_config(ROOT / "config" / "unge_med_kant.yml")
    assert umk.project.budget_kr == 2_205_538
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
