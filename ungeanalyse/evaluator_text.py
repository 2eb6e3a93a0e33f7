"""The evaluator's own words: Markdown files beside the config, merged into the final texts.

A project's texts live in ``files.texts_dir`` (default ``tekster/`` beside the config):
``forord.md`` (a foreword), ``konklusioner.md``, ``anbefalinger.md`` and one file per
hypothesis (``H1.md`` …) with the evaluator's interpretation. A delprojekt's report reads
``tekster/<delprojekt id>/``; an English report reads ``<name>.en.md``. Where the evaluator
wrote a section, it takes that place in the evaluation and the pixi; where not, the generated
text stays.

The files may quote live results by name (``{{ maaltal.goal_met }}``, ``{{ H1.verdict }}``,
``{{ deltagere }}``), rendered in a sandboxed Jinja2 environment: an unknown name is an error
naming the file and line and the names there are. A number typed by hand that matches no
published figure ("126 unge" where 130 met the goal) is flagged in the report where it stands.
"""

from __future__ import annotations

import hashlib
import re
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import ProjectConfig
from .errors import UserError

PLACES = ("forord", "konklusioner", "anbefalinger")
"""The named sections besides the per-hypothesis interpretations (``<hypothesis id>.md``)."""

DEFAULT_DIR = "tekster"

def _msg(key: str, lang: str, **params: Any) -> str:
    """A message about the evaluator's texts in the report language (catalogue
    ``evaluation.evaluator``)."""
    from . import i18n

    return i18n.t(f"evaluation.evaluator.{key}", i18n.known(lang), **params)


@dataclass
class Section:
    """One rendered evaluator text: its Markdown (warnings included) and the warnings."""

    place: str
    path: Path
    markdown: str
    warnings: list[str] = field(default_factory=list)


def texts_dir(cfg: ProjectConfig) -> Path:
    """The folder of the evaluator's texts (``files.texts_dir``, default ``tekster/``)."""
    return cfg.path(getattr(cfg.files, "texts_dir", None) or DEFAULT_DIR)


def _unit_dir(cfg: ProjectConfig, unit: str) -> Path:
    return texts_dir(cfg) if unit == "all" else texts_dir(cfg) / unit


def text_files(cfg: ProjectConfig, unit: str, lang: str = "da") -> dict[str, Path]:
    """The evaluator's files for a unit and language, by place (``forord`` …, ``H1`` …)."""
    folder = _unit_dir(cfg, unit)
    places = [*PLACES, *(h.id for h in cfg.hypotheses)]
    out = {}
    for place in places:
        path = folder / (f"{place}.md" if lang == "da" else f"{place}.{lang}.md")
        if path.is_file():
            out[place] = path
    return out


def fingerprint(cfg: ProjectConfig, unit: str, lang: str = "da") -> str:
    """A hash of the unit's texts, so that an edited text reruns the final evaluation."""
    h = hashlib.sha256()
    for place, path in sorted(text_files(cfg, unit, lang).items()):
        h.update(place.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


# -- the live results by name ---------------------------------------------------------------------


def namespace(ctx: dict[str, Any], m: dict[str, Any], cfg: ProjectConfig, lang: str = "da"
              ) -> dict[str, Any]:
    """The results an evaluator's text may name, formatted as the report shows them and
    hidden where the report hides them (from ``reader.evaluation.context`` and ``maaltal``)."""
    from . import i18n
    from .fmt import fmt_kr, fmt_pct
    from .reader.evaluation import count

    hidden = i18n.t("evaluation.not_shown", lang)
    n, goal = m.get("n_participants", 0), m.get("goal_met", 0)
    min_cell = cfg.privacy.min_cell

    goal_hidden = bool(ctx.get("goal_met_hidden"))
    succ = ctx.get("success") or {}
    maaltal = {
        "n_participants": ctx["n_participants"],
        "goal_met": hidden if goal_hidden else count(goal, min_cell, lang),
        "goal_met_pct": (hidden if goal_hidden or not n or goal < min_cell else
                         fmt_pct(goal / n, 0, lang)),
        "success_rate": succ.get("rate") or hidden,
        "success_ci": succ.get("ci") or hidden,
        "goal_description": ctx.get("goal_description") or "",
    }
    if ctx.get("budget") and m.get("cost_per_participant"):
        maaltal["cost_per_participant"] = fmt_kr(m["cost_per_participant"], lang)
        if m.get("cost_per_goal_met") and not goal_hidden:
            maaltal["cost_per_goal_met"] = fmt_kr(m["cost_per_goal_met"], lang)
    labels = {g.tr("label", lang): code for code, g in cfg.target_groups.items()}
    groups = {labels.get(t["label"], t["label"]): {"label": t["label"], "rate": t["rate"]}
              for t in ctx.get("target_groups", [])}
    hyps = {h["id"]: {"id": h["id"], "title": h["title"], "verdict": h["verdict"],
                      "mechanism": h["mechanism"], "context": h["context"],
                      "outcome": h["outcome_label"], "rate_in_yes": h["rate_in_yes"],
                      "finding": h["finding"] or ""}
            for h in ctx.get("hypotheses_results", [])}
    ns: dict[str, Any] = {
        "deltagere": ctx["n_participants"], "projekt": ctx.get("unit_name", ""),
        "periode": ctx.get("period", ""), "budget": ctx.get("budget") or "–",
        "maaltal": maaltal, "maalgrupper": groups, "hypoteser": hyps,
        # the recommendations the verdicts give, as a list, for a text that keeps them (or the
        # one sentence that says there are none)
        "genererede_anbefalinger": "\n".join(f"- {c}" for c in ctx.get("conclusions", []))
        or i18n.t("evaluation.no_recommendations", lang),
    }
    ns.update({hid: h for hid, h in hyps.items() if hid.isidentifier() and hid not in ns})
    return ns


def _flat(ns: dict[str, Any], prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in ns.items():
        if key == "hypoteser":
            continue  # the same values as H1 …
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_flat(value, name + "."))
        else:
            out[name] = str(value)
    return out


# -- hand-typed numbers ---------------------------------------------------------------------------

_NUMBER = {"da": r"(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?",
           "en": r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?"}
_PCT_UNIT = r"\s?(?:%|procent\b|pct\.|per ?cent\b)"
_COUNT_UNIT = (r"\s+(?:unge|deltagere|forløb|personer|borgere|elever|young people|participants|"
               r"people|persons)\b")
_KR_UNIT = r"\s?kr\.|\s?kroner\b"


def _value(whole: str, frac: str | None, lang: str) -> float:
    sep = "." if lang == "da" else ","
    return float(whole.replace(sep, "") + (f".{frac}" if frac else ""))


def _numbers(text: str, unit: str, lang: str) -> list[tuple[float, str, int]]:
    """(value, the text typed, offset) of each number followed by ``unit``."""
    pattern = re.compile(rf"(?<![\w.,]){_NUMBER[lang]}(?:{unit})", re.I)
    return [(_value(mt.group(1), mt.group(2), lang), mt.group(0).strip(), mt.start())
            for mt in pattern.finditer(text)]


def published_numbers(texts: list[str], ns: dict[str, Any], lang: str = "da"
                      ) -> dict[str, set[float]]:
    """Every count, percentage and amount the generated texts and the named results show."""
    pct_range = re.compile(rf"{_NUMBER[lang]}\s?[–-]\s?{_NUMBER[lang]}(?={_PCT_UNIT})")
    whole = "\n".join([*texts, *_flat(ns).values()])
    pct = {v for v, _, _ in _numbers(whole, _PCT_UNIT, lang)}
    for mt in pct_range.finditer(whole):
        pct.add(_value(mt.group(1), mt.group(2), lang))
        pct.add(_value(mt.group(3), mt.group(4), lang))
    counts = {_value(mt.group(1), mt.group(2), lang)
              for mt in re.finditer(rf"(?<![\w.,]){_NUMBER[lang]}", whole)}
    kr = {v for v, _, _ in _numbers(whole.replace("DKK ", ""), _KR_UNIT, lang)}
    kr |= {_value(mt.group(1), None, lang)
           for mt in re.finditer(rf"DKK ({_NUMBER[lang]})", whole)}
    return {"pct": pct, "count": counts, "kr": kr}


def _blank_expressions(source: str) -> str:
    """The text with Jinja expressions, statements and comments blanked (lines kept)."""
    return re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}",
                  lambda mt: re.sub(r"[^\n]", " ", mt.group(0)), source, flags=re.S)


def _nearest(kind: str, value: float, ns: dict[str, Any], lang: str) -> tuple[str, str] | None:
    """The named result of the same kind closest to a typed number: (name, its text)."""
    best = None
    for name, text in _flat(ns).items():
        if kind == "count":
            mt = re.fullmatch(_NUMBER[lang], text.strip())
            values = [_value(mt.group(1), mt.group(2), lang)] if mt else []
        else:
            values = [v for v, _, _ in _numbers(text, _PCT_UNIT if kind == "pct" else _KR_UNIT,
                                                 lang)]
        for v in values:
            if best is None or abs(v - value) < best[0]:
                best = (abs(v - value), name, text)
    return (best[1], best[2]) if best else None


def check_numbers(source: str, rel: str, ns: dict[str, Any], published: dict[str, set[float]],
                  lang: str = "da") -> list[str]:
    """Warnings for the numbers typed by hand in an evaluator's text that no result shows."""
    text = _blank_expressions(source)
    found = []
    for kind, unit in (("pct", _PCT_UNIT), ("count", _COUNT_UNIT), ("kr", _KR_UNIT)):
        for value, typed, offset in _numbers(text, unit, lang):
            if any(abs(value - p) < 1e-9 for p in published[kind]):
                continue
            near = _nearest(kind, value, ns, lang)
            nearest = _msg("nearest", lang, label=near[0], value=near[1]) if near else ""
            found.append((offset, _msg(
                "mismatch", lang, file=rel, line=text.count("\n", 0, offset) + 1, typed=typed,
                nearest=nearest, name=near[0] if near else "maaltal.goal_met")))
    return [w for _, w in sorted(found)]


# -- rendering ------------------------------------------------------------------------------------


def _rel(cfg: ProjectConfig, path: Path) -> str:
    """The file as the evaluator knows it: from the project root (``config/tekster/…``)."""
    for base in (cfg.root, cfg.base_dir):
        try:
            return path.resolve().relative_to(Path(base).resolve()).as_posix()
        except (ValueError, TypeError):
            continue
    return str(path)


def _template_line(exc: BaseException) -> int | None:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__)
             if not f.filename.endswith(".py")]
    return lines[-1] if lines else None


def _unknown_name(source: str, line: int | None, ns: dict[str, Any]
                  ) -> tuple[str, int | None, list[str], str]:
    """The first name in the text's expressions that the results lack: (name, line, the names
    known where it fails, the known prefix)."""
    rows = source.splitlines()
    order = ([line] if line else []) + list(range(1, len(rows) + 1))
    for ln in order:
        if not 1 <= ln <= len(rows):
            continue
        for expr in re.findall(r"\{\{(.*?)\}\}|\{%(.*?)%\}", rows[ln - 1]):
            body = re.sub(r"\"[^\"]*\"|'[^']*'", "", expr[0] or expr[1]).split("|")[0]
            for ref in re.findall(r"(?<![\w.])[A-Za-z_]\w*(?:\.\w+)*", body):
                parts, node = ref.split("."), ns
                if parts[0] in {"if", "else", "elif", "endif", "for", "in", "endfor", "not",
                                "and", "or", "is", "true", "false", "none", "True", "False",
                                "None", "loop", "set"}:
                    continue
                for i, part in enumerate(parts):
                    if isinstance(node, dict) and part in node:
                        node = node[part]
                        continue
                    known = sorted(node) if isinstance(node, dict) else []
                    return ref, ln, known, ".".join(parts[:i])
    return "?", line, sorted(ns), ""


def render_file(cfg: ProjectConfig, path: Path, ns: dict[str, Any], lang: str = "da") -> str:
    """One evaluator text with its named results filled in; a clear ``UserError`` naming the
    file and line for an unknown name, a syntax error or anything the sandbox refuses."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    rel = _rel(cfg, path)
    try:
        source = path.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as exc:
        raise UserError(_msg("unreadable", lang, file=rel, detail=exc)) from None
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                               keep_trailing_newline=True)
    try:
        return env.from_string(source).render(**ns)
    except jinja2.TemplateSyntaxError as exc:
        raise UserError(_msg("syntax", lang, file=rel, line=exc.lineno, detail=exc.message)
                        ) from None
    except jinja2.UndefinedError as exc:
        name, line, known, prefix = _unknown_name(source, _template_line(exc), ns)
        where = _msg("in", lang, prefix=prefix) if prefix else ""
        raise UserError(_msg("unknown", lang, file=rel, line=line or "?", name=name,
                             where=where, names=", ".join(known))) from None
    except jinja2.exceptions.SecurityError as exc:
        raise UserError(_msg("unsafe", lang, file=rel, line=_template_line(exc) or "?",
                                             detail=exc)) from None


def _shift_headings(text: str, level: int) -> str:
    """Drop a leading heading (the report gives the section its heading) and put the text's
    own headings below ``level``."""
    text = re.sub(r"\A\s*#{1,6}[ \t][^\n]*\n", "", text)
    found = [len(h) for h in re.findall(r"^(#{1,6})[ \t]", text, re.M)]
    if not found:
        return text.strip()
    shift = max(0, level + 1 - min(found))
    return re.sub(r"^(#{1,6})(?=[ \t])", lambda mt: "#" * min(6, len(mt.group(1)) + shift),
                  text, flags=re.M).strip()


LEVELS = {"forord": 2, "konklusioner": 3, "anbefalinger": 3}
"""The heading level each place sits under in the evaluation (hypotheses: 3)."""


def sections(cfg: ProjectConfig, unit: str, ns: dict[str, Any], published_texts: list[str],
             lang: str = "da") -> dict[str, Section]:
    """The unit's evaluator texts, rendered and checked, by place."""
    out = {}
    files = text_files(cfg, unit, lang)
    if not files:
        return out
    published = published_numbers(published_texts, ns, lang)
    for place, path in files.items():
        rendered = render_file(cfg, path, ns, lang)
        warnings = check_numbers(path.read_text(encoding="utf-8-sig"), _rel(cfg, path), ns,
                                 published, lang)
        body = _shift_headings(rendered, LEVELS.get(place, 3))
        if warnings:
            body += "\n\n" + "\n".join(f"> **{_msg('check', lang)}:** {w}\n>" for w in warnings
                                       ).rstrip(">\n")
        out[place] = Section(place, path, body, warnings)
    return out


def attach(cfg: ProjectConfig, unit: str, store: Any, ctx: dict[str, Any], m: dict[str, Any],
           lang: str, published_texts: list[str]) -> list[str]:
    """Put the evaluator's texts into the template context (``evaluator``, and
    ``interpretation`` per hypothesis) with the unit's saved måltal ``m``; returns the
    warnings, also saved for the run."""
    ns = namespace(ctx, m, cfg, lang)
    found = sections(cfg, unit, ns, published_texts, lang)
    ctx["evaluator"] = {p: (found[p].markdown if p in found else None) for p in PLACES}
    for h in ctx.get("hypotheses_results", []):
        h["interpretation"] = found[h["id"]].markdown if h["id"] in found else None
    warnings = [w for s in found.values() for w in s.warnings]
    if hasattr(store, "save"):
        store.save("evaluator_text", {"files": {p: _rel(cfg, s.path) for p, s in found.items()},
                                      "warnings": warnings})
    return warnings


def empty(ctx: dict[str, Any], store: Any = None) -> None:
    """The template context without evaluator texts (today's generated text everywhere); with
    a ``store``, an earlier run's warnings about texts since deleted are cleared."""
    ctx["evaluator"] = dict.fromkeys(PLACES)
    for h in ctx.get("hypotheses_results", []):
        h["interpretation"] = None
    if store is not None and hasattr(store, "root") and (
            Path(store.root) / "evaluator_text.json").exists():
        store.save("evaluator_text", {"files": {}, "warnings": []})
