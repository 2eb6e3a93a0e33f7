"""Shared fixtures: the AUMI config and small synthetic clean tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import factories
from ungeanalyse.config import ProjectConfig, load_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def aumi_cfg() -> ProjectConfig:
    return load_config(ROOT / "config" / "aumi.yml")


@pytest.fixture()
def participants(aumi_cfg):
    return factories.make_participants(aumi_cfg, n=300, seed=1)
