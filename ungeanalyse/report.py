"""The names notebooks and callers used before the reader package: each now lives in
:mod:`ungeanalyse.reader` by topic, and is re-exported here until every caller uses the reader
package (the lead removes this module at the end of the move).

Data quality: :mod:`ungeanalyse.reader.quality`; måltal: :mod:`ungeanalyse.reader.maaltal`
(whose functions take ``(m, masks, cfg, lang)``); steps: :mod:`ungeanalyse.reader.steps`;
survey: :mod:`ungeanalyse.reader.survey`; CMO, QCA, the business case, the comparison group and
the evaluation text: ``reader.cmo``, ``reader.qca``, ``reader.business_case``,
``reader.comparison``, ``reader.evaluation``.
"""

from __future__ import annotations

import pandas as pd

from . import i18n
from .reader.display import show_figure, show_markdown, show_table  # noqa: F401
from .reader.maaltal import breakdown_masks as _breakdown_masks  # noqa: F401
from .reader.maaltal import (  # noqa: F401
    cost_text,
    count_text,
    goal_met_hidden,
    share_of_all_text,
    target_group_findings,
)
from .reader.maaltal import delprojekt_text as _breakdown_text  # noqa: F401
from .reader.maaltal import intro as maaltal_intro  # noqa: F401
from .reader.maaltal import plot_input as maaltal_plot_input  # noqa: F401
from .reader.maaltal import table as maaltal_reader_table  # noqa: F401
from .reader.maaltal import target_sentence as _target_sentence  # noqa: F401
from .reader.maaltal import unknown_text as maaltal_unknown_text  # noqa: F401
from .reader.quality import by_file as quality_by_file  # noqa: F401
from .reader.quality import figures as quality_figures  # noqa: F401
from .reader.quality import intro as quality_intro  # noqa: F401
from .reader.quality import location as quarantine_location  # noqa: F401
from .reader.quality import overview as quality_overview  # noqa: F401
from .reader.quality import problems as quality_problems  # noqa: F401
from .reader.quality import reasons as quality_reasons  # noqa: F401
from .reader.quality import worklist_frame as quarantine_list  # noqa: F401
from .reader.steps import funnel_table as funnel_reader_table  # noqa: F401
from .reader.table import _NUMERIC_TEXT, html_table  # noqa: F401
from .reader.table import fmt_cell as _fmt_cell  # noqa: F401


def t(key: str, lang: str = "da") -> str:
    """A UI word in the report language (the ``ui`` section of the i18n catalogue)."""
    lang = lang if lang in i18n.LANGS else "da"
    return i18n.t(f"ui.{key}", lang) if i18n.has(f"ui.{key}", lang) else key


def small_cells(counts: pd.Series, min_cell: int) -> pd.Series:
    """Cells to hide in a column of counts whose total is shown: counts 1..min_cell-1 and, by
    secondary suppression, enough others that none can be found by subtraction."""
    from . import privacy

    return privacy.suppress_series(counts, min_cell, total=True)
