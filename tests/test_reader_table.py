"""The reader table: one HTML path for every table, shown by JupyterLab without a call."""

from __future__ import annotations

import pandas as pd

from ungeanalyse.reader.table import HIDDEN, ReaderTable


def test_a_reader_table_renders_itself_in_the_report_language():
    frame = pd.DataFrame({"Delprojekt": ["#KomMed"], "Deltagere": [1200], "Succesrate": ["65 %"],
                          "Skjult": [None]})
    da = ReaderTable(frame, "Succesrate pr. delprojekt", "da", "Små tal vises ikke.")
    html = da._repr_html_()
    assert html == da.as_html()
    assert "<caption>Succesrate pr. delprojekt</caption>" in html
    assert '<td class="num">1.200</td>' in html and '<td class="num">65 %</td>' in html
    assert f"<td>{HIDDEN}</td>" in html
    assert html.endswith('<p class="table-note">Små tal vises ikke.</p>')
    en = ReaderTable(frame, "Success rate", "en")
    assert '<td class="num">1,200</td>' in en.as_html()


def test_a_reader_table_without_rows_is_its_caption_and_note():
    empty = ReaderTable(pd.DataFrame({"a": []}), "Ingen rækker", "da", "Note.")
    assert empty.as_html() == ("<p><strong>Ingen rækker</strong></p>"
                               '<p class="table-note">Note.</p>')
    frame, caption, lang, note = empty  # the tuple older show_table(*…) calls take
    assert (caption, lang, note) == ("Ingen rækker", "da", "Note.")
