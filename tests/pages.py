"""The reader text of report pages, executed notebooks and documents, for tests that check a
figure in its sentence: markup removed, entities read, whitespace one space."""

from __future__ import annotations

import html
import re


def plain(text: str) -> str:
    """Reader text without markup: HTML tags, Markdown emphasis, headings and table pipes go,
    entities are read and whitespace (a PDF's line breaks, no-break spaces) is one space."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r'src="data:[^"]+"', "", text)
    text = html.unescape(re.sub(r"</?[A-Za-z][^>]*>", " ", text))  # not 'p < 0,05'…'>'
    text = re.sub(r"\*\*|(?<!\w)\*|\*(?!\w)|^#+ |\|", " ", text, flags=re.M)
    return re.sub(r"\s+([:;,.])", r"\1", " ".join(text.split()))


def notebook_text(nb: dict) -> str:
    """The reader text of an executed notebook's outputs (HTML where a cell has it)."""
    parts = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            data = o.get("data", {})
            for kind in ("text/html", "text/markdown", "text/plain"):
                if kind in data:
                    parts.append("".join(data[kind]))
                    break
            parts += o.get("text", [])
    return plain("\n".join(parts))


def headings(page: str) -> list[str]:
    """The section headings (level 2) of a page's HTML or of Markdown."""
    found = re.findall(r"<h2[^>]*>(.*?)<", page) + re.findall(r"^## (.+)$", page, flags=re.M)
    return [html.unescape(h).strip() for h in found]
