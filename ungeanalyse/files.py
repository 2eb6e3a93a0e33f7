"""Atomic file writes without pandas, so that a no-change rerun need not import it."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: str | Path, writer: Callable[[Path], None]) -> Path:
    """Write via a temp file in the same directory, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(obj: Any, path: str | Path) -> Path:
    """Write JSON atomically (UTF-8, indented, dates as ISO strings)."""
    text = json.dumps(obj, ensure_ascii=False, indent=2, default=str)
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))
