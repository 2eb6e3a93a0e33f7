"""The project's headline on the index page (``render.write_index``): a few figures and the
verdicts, worded from the catalogue. Light on purpose: the index is rewritten by every run,
a no-change rerun included, so this module imports neither pandas nor the analysis."""

from __future__ import annotations

import html
from typing import Any

from .. import i18n
from ..fmt import fmt_ci, fmt_int, fmt_pct


def headline_html(h: dict[str, Any], lang: str = "da") -> str:
    """The project's headline figures on the index page (``render.headline_figures``: every
    figure the reports hide is None here), its verdicts worded from their codes."""
    def t(key: str) -> str:
        return i18n.t(f"evaluation.headline.{key}", lang)

    items = [f"<li><strong>{fmt_int(h['participants'], lang)}</strong> "
             f"{t('participants')}</li>"]
    if h.get("goal_met") is not None:
        items.append(f"<li><strong>{fmt_int(h['goal_met'], lang)}</strong> "
                     f"({fmt_pct(h['goal_met_share'], lang=lang)}) {t('goal_met')}</li>")
    else:
        items.append(f"<li>{t('goal_met_hidden')}</li>")
    if h.get("success_rate") is not None:
        ci = h.get("success_ci") or [None, None]
        items.append(f"<li>{t('success')} <strong>{fmt_pct(h['success_rate'], lang=lang)}"
                     f"</strong> <small>({t('ci')} {fmt_ci(ci[0], ci[1], lang)})</small></li>")
    groups = []
    for g in h.get("by_target_group", []):
        rate = fmt_pct(g["rate"], lang=lang) if g.get("rate") is not None else t("not_shown")
        n = f" <small>(n = {fmt_int(g['n'], lang)})</small>" if g.get("n") is not None else ""
        if g.get("rate") is None and g.get("share_of_all") is not None:
            rate = f"{fmt_pct(g['share_of_all'], lang=lang)} {t('of_all')}"
            n = f" <small>(n = {fmt_int(g['n_all'], lang)})</small>"
        groups.append(f"{html.escape(str(g['label']))}: <strong>{rate}</strong>{n}")
    if groups:
        items.append(f"<li>{t('by_group')}: " + "; ".join(groups) + "</li>")
    verdicts = "".join(
        f"<li><strong>{html.escape(v['id'])}</strong> "
        f"{html.escape(v.get(f'title_{lang}') or v['title'])}: "
        f"<em>{html.escape(_verdict(v['verdict_code'], lang))}</em></li>"
        for v in h.get("hypotheses", []))
    hyp = f"<p>{t('hypotheses')}</p><ul>{verdicts}</ul>" if verdicts else ""
    return f'<div class="ua-headline"><ul>{"".join(items)}</ul>{hyp}</div>'


def _verdict(code: str, lang: str) -> str:
    """A verdict code as the CMO table words it (``reader.cmo.verdict``)."""
    return i18n.t(f"cmo.verdict.{code}", lang)
