"""The disclosure package: one plan per project, solved on demand, stored, loaded, refused
without it, and what it costs readers (information loss)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ungeanalyse import disclosure
from ungeanalyse.disclosure import heatmap, plan
from ungeanalyse.disclosure import maaltal as dmaaltal
from ungeanalyse.errors import UserError
from ungeanalyse.fmt import fmt_pct

AREAS = ("maaltal", "funnel", "cmo", "survey", "heatmap", "qca")


@pytest.fixture(scope="module")
def umk(demo_fresh):
    """Unge med kant (two delprojekter), copied: the tests write and remove the stored plan."""
    return demo_fresh("unge_med_kant", "umk").cfg()


def test_load_masks_solves_the_plan_on_demand_stores_it_and_reads_it_back(umk, monkeypatch):
    path = umk.processed_dir / "disclosure_masks.json"
    path.unlink(missing_ok=True)
    masks = disclosure.load_masks(umk, "vejle")  # a plain papermill run: solved here
    assert path.exists() and set(AREAS) <= set(masks)
    participants = plan.read_tables(umk)["participants"]
    assert masks["maaltal"] == dmaaltal.maaltal_plan(participants, umk)["vejle"]
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert set(stored["masks"]) == set(umk.units())

    def never(*args, **kwargs):
        raise AssertionError("the stored plan was solved again")

    monkeypatch.setattr(plan, "compute_masks", never)
    assert disclosure.load_masks(umk, "vejle") == masks  # the next notebook reads the file


def test_a_changed_or_damaged_stored_plan_is_solved_again(umk):
    path = umk.processed_dir / "disclosure_masks.json"
    good = disclosure.plan_project(umk)
    path.write_text(json.dumps({"key": "an older plan", "masks": {}}), encoding="utf-8")
    assert disclosure.plan_project(umk) == good
    path.write_text("{not json", encoding="utf-8")
    notes: list[str] = []
    assert disclosure.plan_project(umk, notes) == good
    assert len(notes) == 1 and "disclosure_masks.json" in notes[0]


def test_the_plan_refuses_without_clean_data_and_readers_refuse_without_masks(
        demo_copy):
    cfg = demo_copy("unge_med_kant").cfg()
    (cfg.processed_dir / "participants.parquet").unlink()
    with pytest.raises(UserError, match="ungeanalyse clean --config"):
        disclosure.load_masks(cfg, "all")
    with pytest.raises(UserError, match="no disclosure masks"):
        disclosure.require_masks(None, "måltal table")
    with pytest.raises(UserError, match="no disclosure masks"):
        heatmap.apply(pd.DataFrame({"context": [], "category": []}), {}, "element_x")


def test_information_loss_counts_every_area_and_the_whole_report(umk):
    masks = {"maaltal": {"outcome": {"a": True, "b": False}, "rate": False, "min_cell": 5,
                         "breakdowns": {"gender": {"kvinde": {"n": False, "rate": True}}}},
             "funnel": {"all": {"s1": False, "s2": True}}, "cmo": None, "survey": {},
             "heatmap": {"element_x": {"gender": {"kvinde": True, "mand": True}}},
             "qca": {"necessity": {"tg_a": False, "~tg_a": False}, "profiles": True}}
    loss = disclosure.information_loss(masks)
    assert loss["maaltal"] == {"hidden": 2, "cells": 5}
    assert loss["funnel"] == {"hidden": 1, "cells": 2}
    assert loss["heatmap"] == {"hidden": 2, "cells": 2}
    assert loss["qca"] == {"hidden": 1, "cells": 3}
    assert loss["all"] == {"hidden": 6, "cells": 12, "share": 0.5}
    stored = disclosure.plan_project(umk)
    quality = json.loads((umk.processed_dir / "quality.json").read_text(encoding="utf-8"))
    for unit in umk.units():  # per report, on the data-quality page and in quality.json
        assert quality["disclosure"][unit] == stored[unit]["loss"]
        assert set(AREAS) <= set(stored[unit]["loss"])
    from ungeanalyse.reader import quality

    table = quality.loss_table(stored, umk, "da")
    assert len(table) == len(umk.units()) and table.frame.columns[1] == "Tal i rapportens tabeller"
    first = stored[umk.units()[0]]["loss"]["all"]
    assert table.frame.iloc[0, 1:].tolist() == [str(first["cells"]), str(first["hidden"]),
                                                fmt_pct(first["share"], 1)]
    assert table.caption == "Tal skjult af diskretionsplanen, pr. rapport"
    assert table.note.endswith("Skjulte tal vises alle med samme tegn (–).")


def test_a_heatmap_row_the_plan_hides_is_blank_whatever_its_own_counts(umk):
    masks = disclosure.load_masks(umk, "all")
    mech, contexts = next(iter(masks["heatmap"].items()))
    col, cats = next(iter(contexts.items()))
    matrix = pd.DataFrame({"context": [col] * len(cats), "category": list(cats)})
    out = heatmap.apply(matrix, masks, mech)
    assert out["suppressed"].tolist() == list(cats.values())
    with pytest.raises(UserError, match="no masks for it"):
        heatmap.apply(matrix, masks, "element_not_a_mechanism")


def test_the_plan_reads_row_wise_expressions_of_the_whole_project_per_unit(aumi_cfg):
    """The CMO area evaluates a row-wise expression once on the whole project and reads each
    unit's rows from it: the same values as evaluating it on the unit; an expression that
    is not row-wise, or that fails on the whole project, is evaluated on the unit."""
    from tests import factories
    from ungeanalyse.disclosure.cmo import Prepared
    from ungeanalyse.realist import evaluate_expression, is_rowwise
    from ungeanalyse.units import select

    assert is_rowwise("target_group == 'paabegynde' and not (age_at_start < 18)")
    assert is_rowwise("gender in ['kvinde', 'mand'] or age_at_start + 1 > 20")
    assert not is_rowwise("age_at_start > age_at_start.mean()")
    assert not is_rowwise("abs(age_at_start) > 18") and not is_rowwise("((")
    p = factories.make_participants(aumi_cfg, n=300, seed=4)
    p["score"] = (p.index % 2).astype("Int64")  # 0/1: a yes/no in every unit
    unit = aumi_cfg.units()[1]
    rows = select(p, aumi_cfg, unit).index
    p.loc[p.index.difference(rows)[:3], "score"] = 2  # not yes/no in the whole project
    prepared = Prepared(p, aumi_cfg)
    for expr in ("target_group == 'paabegynde' and not (age_at_start < 18)",
                 "age_at_start > age_at_start.mean()", "score"):
        df = select(p, aumi_cfg, unit)
        got = prepared.evaluate(df, expr, "hypothesis H9", "context")
        pd.testing.assert_series_equal(got, evaluate_expression(df, expr, "h", "context"))
    assert prepared.whole["score"] is None  # failed on the whole project: the unit's own
    assert prepared.whole["age_at_start > age_at_start.mean()"] is None
    assert prepared.whole["target_group == 'paabegynde' and not (age_at_start < 18)"] is not None
    with pytest.raises(UserError, match="score"):
        prepared.evaluate(p, "score", "hypothesis H9", "context")


def test_a_delprojekt_none_of_whose_rows_could_be_used_is_named_not_sent_to_clean(demo_copy):
    """A partner file that could not be used at all leaves its delprojekt without clean rows;
    its notebooks say so (and where to look), not "run clean first", and no local path."""
    from ungeanalyse.io import read_processed, write_table

    cfg = demo_copy("unge_med_kant").cfg()
    participants = read_processed(cfg, "participants")
    gone = cfg.delprojekt_ids[0]
    write_table(participants[participants["delprojekt"].astype(str).ne(gone)]
                .reset_index(drop=True), cfg, "participants")
    with pytest.raises(UserError) as caught:
        disclosure.load_masks(cfg, gone, "da")
    text = str(caught.value)
    assert text == (f"Delprojektet {gone!r} har ingen unge i de rensede data: ingen af dets "
                    "rækker kunne bruges. Se datakvalitetssiden, eller kør `ungeanalyse check "
                    "--config unge_med_kant.yml`, ret filen og kør igen.")
    assert str(cfg.processed_dir) not in text
    assert disclosure.load_masks(cfg, "all", "da")["maaltal"]  # the project still has its plan
