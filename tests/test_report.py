"""The evaluation text's templates (the måltal sentences it carries are tested with their reader
functions in tests/test_reader_maaltal.py)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("lang", ["da", "en"])
def test_each_quote_is_its_own_block_and_the_next_heading_is_outside_it(lang):
    """Two quotes under H1 are two blockquotes, and H2's heading does not fall inside the last
    (Markdown joins '>' lines that follow each other, and a heading right after a quote)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("ungeanalyse", "templates"),
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.ChainableUndefined)
    voices = [{"text": "Hun ringede, når jeg ikke kom", "source": "ung"},
              {"text": "Vi mødtes hver uge", "source": "partner"}]
    hypotheses = [{"id": "H1", "title": "Vi forventer, at …", "voices": voices,
                   "voice_counts": "2"}, {"id": "H2", "title": "Vi forventer også, at …"}]
    class Project:  # what the template calls on the project: its texts, here empty
        def tr(self, *_: str) -> str:
            return ""

        def __getattr__(self, _: str) -> str:
            return ""

    text = env.get_template(f"evaluering_{lang}.md.j2").render(hypotheses_results=hypotheses,
                                                               project=Project())
    lines = text.splitlines()
    quotes = [i for i, line in enumerate(lines) if line.startswith("> ")]
    assert len(quotes) == 2 and quotes[1] - quotes[0] == 2  # a blank line between the two
    heading = next(i for i, line in enumerate(lines) if line.startswith("### H2."))
    assert lines[quotes[1] + 1] == "" and heading > quotes[1] + 1
