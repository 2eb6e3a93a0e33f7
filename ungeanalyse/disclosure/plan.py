"""The disclosure step: one plan per project, solved once, stored as ``disclosure_masks.json``.

:func:`plan_project` reads the clean tables, and returns every unit's masks from the stored
file when it was made from the same data, config and package code; else it solves the plan
(:func:`compute_masks`) and stores it. The runner calls it once before the notebooks; a plain
papermill run of one notebook calls it through :func:`~ungeanalyse.disclosure.load_masks`.
"""

from __future__ import annotations

import json
from typing import Any

from ..config import ProjectConfig
from ..errors import UserError

TABLES = ("participants", "steps", "survey_responses")
"""The clean tables the plan is solved from."""

MASKS_FILE = "disclosure_masks.json"


def read_tables(cfg: ProjectConfig) -> dict[str, Any]:
    """The clean tables the plan needs (``pipeline.read_clean_tables``: an empty table where
    one is missing, a damaged one named)."""
    from ..pipeline import read_clean_tables

    return read_clean_tables(cfg, TABLES)


def plan_key(cfg: ProjectConfig, tables: dict[str, Any],
             row_sums: dict[str, int] | None = None) -> str:
    """What the plan is made from: the clean tables, the config and the package code;
    ``row_sums`` are the tables' summed row hashes where the caller has them already
    (``pipeline.hash_sum`` of ``pipeline.row_hashes``)."""
    from ..pipeline import _sha, hash_sum, package_fingerprint, row_hashes

    parts = []
    for name in TABLES:
        table = tables.get(name)
        if table is None or table.empty:
            parts.append(f"{name}:empty")
            continue
        total = (row_sums or {}).get(name)
        total = hash_sum(row_hashes(table)) if total is None else total
        parts.append(f"{name}:{len(table)}:{','.join(map(str, table.columns))}:{total}")
    return _sha(*parts, cfg.source_path.read_bytes().hex() if cfg.source_path else "",
                package_fingerprint())


def files_digest(cfg: ProjectConfig) -> str:
    """A hash of what a plan is made from, as bytes: the clean tables' files, quality.json
    without its timestamp and loss, the config and the package's code (milliseconds, no table
    read)."""
    from ..pipeline import TABLES as CLEAN_TABLES
    from ..pipeline import _sha, _stable_quality, package_fingerprint

    parts: list[bytes | str] = [package_fingerprint(),
                                cfg.source_path.read_bytes() if cfg.source_path else b""]
    for name in CLEAN_TABLES:
        path = cfg.processed_dir / f"{name}.parquet"
        parts.extend([name, path.read_bytes() if path.is_file() else b"<missing>"])
    quality = cfg.processed_dir / "quality.json"
    try:
        parts.append(_stable_quality(quality) if quality.is_file() else "<missing>")
    except (ValueError, AttributeError):
        parts.append("<damaged>")
    return _sha(*parts)


def _stored(path: Any) -> dict[str, Any]:
    """The stored plan file as a dict with a ``masks`` dict, or a ValueError saying why not."""
    cached = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(cached, dict) or not isinstance(cached.get("masks", {}), dict):
        raise ValueError("not a JSON object with masks")
    return cached


def plan_project(cfg: ProjectConfig, notes: list[str] | None = None, lang: str = "da",
                 tables: dict[str, Any] | None = None,
                 row_sums: dict[str, int] | None = None) -> dict[str, Any]:
    """Every unit's masks: from ``disclosure_masks.json`` in the processed folder when it was
    made from the same data, config and code (a no-change rerun), else solved and stored; a
    damaged file is named in ``notes`` and solved again. ``tables`` saves reading the clean
    tables when the caller has them, ``row_sums`` hashing them again (:func:`plan_key`).

    Without ``tables`` (every notebook of a run asks) the stored plan is first checked against
    the bytes of the files it was made from (:func:`files_digest`); only when they differ are
    the tables read and the plan checked by their content (the same data in new files keep it)."""
    from ..pipeline import _damage_reason, message

    path = cfg.processed_dir / MASKS_FILE
    if not cfg.processed_dir.exists():
        return compute_masks(read_tables(cfg) if tables is None else tables, cfg)
    files = files_digest(cfg)
    if tables is None and path.exists():
        try:
            cached = _stored(path)
            if cached.get("files") == files and "masks" in cached:
                record_loss(cfg, cached["masks"])
                return cached["masks"]
        except (OSError, ValueError, KeyError):
            pass  # missing or damaged: the check below names it and solves again
    tables = read_tables(cfg) if tables is None else tables
    key = plan_key(cfg, tables, row_sums)
    from ..files import write_json

    if path.exists():
        try:
            cached = _stored(path)
            if cached.get("key") == key:
                record_loss(cfg, cached["masks"])  # quality.json may be a new clean's
                if cached.get("files") != files:  # the same data in new files (a new clean)
                    write_json({**cached, "files": files}, path)
                return cached["masks"]
        except (OSError, ValueError, KeyError) as exc:
            if notes is not None:
                notes.append(message(lang, "damaged", path=path, reason=_damage_reason(exc),
                                     what=message(lang, "again_masks")))
    masks = compute_masks(tables, cfg)
    write_json({"key": key, "files": files, "masks": masks}, path)
    record_loss(cfg, masks)
    return masks


def record_loss(cfg: ProjectConfig, masks: dict[str, Any]) -> None:
    """The plan's information loss per report (cells hidden of cells published) in
    quality.json, under ``disclosure`` (left out of the data's fingerprint)."""
    from ..files import write_json

    quality = cfg.processed_dir / "quality.json"
    if not quality.exists():
        return
    try:
        data = json.loads(quality.read_text(encoding="utf-8"))
    except ValueError:
        return  # a damaged quality.json is reported where it is read
    loss = {u: (m or {}).get("loss") for u, m in masks.items()}
    if data.get("disclosure") != loss:
        data["disclosure"] = loss
        write_json(data, quality)


def compute_masks(tables: dict[str, Any], cfg: ProjectConfig) -> dict[str, Any]:
    """Per unit, what each area of the plan hides, with the report's information loss;
    nothing when the tables cannot give a plan (no participants: the notebooks then report the
    problem).

    The areas are solved in order, each across all units and taking the decisions before it
    as given: the måltal (the funder's figures), then the CMO cells (a pair of cells that adds
    up to a breakdown row the måltal hide is hidden), the funnel (which hides a start count
    the måltal hide), the survey counts, the subgroup heatmaps (rows whose totals the måltal or
    the CMO table hide) and the QCA figures (rows that give a hidden total back)."""
    from . import information_loss
    from .cmo import Prepared, cmo_plan
    from .funnel import funnel_plan
    from .heatmap import heatmap_plan
    from .maaltal import maaltal_plan
    from .qca import qca_plan
    from .survey import survey_plan

    participants = tables["participants"].reset_index(drop=True)
    steps, responses = tables["steps"], tables["survey_responses"]
    if not len(participants):
        return {}
    try:
        maaltal = maaltal_plan(participants, cfg)
        prepared = Prepared(participants, cfg)  # the hypotheses' scopes, worked out once
        cmo = cmo_plan(participants, cfg, maaltal, prepared) if cfg.hypotheses else {}
        funnel = (funnel_plan(steps, participants, cfg, maaltal=maaltal)
                  if cfg.steps.ladder and len(steps) else {})
        survey = (survey_plan(responses, participants, cfg, maaltal)
                  if cfg.survey.scales and len(responses) else {})
        heatmap = (heatmap_plan(participants, cfg, maaltal, cmo, prepared)
                   if cfg.hypotheses else {})
        qca = qca_plan(participants, cfg, maaltal, cmo, heatmap) if cfg.hypotheses else {}
    except (UserError, KeyError):
        return {}
    out = {u: {"maaltal": maaltal.get(u), "funnel": funnel.get(u), "cmo": cmo.get(u),
               "survey": survey.get(u), "heatmap": heatmap.get(u), "qca": qca.get(u)}
           for u in cfg.units()}
    for u in out:  # per report: cells hidden of cells published
        out[u]["loss"] = information_loss(out[u])
    return out
