"""Coded interviews from QDA software: REFI-QDA projects (``.qdpx``).

NVivo, MAXQDA, ATLAS.ti and QualCoder export a project as a ``.qdpx`` file: a zip archive with
``project.qde`` (XML in the namespace ``urn:QDA-XML:project:1.0``) and the sources under
``sources/``. ``read_qdpx`` reads the parts the evaluation uses: text sources, the code book,
coded text selections (``PlainTextSelection`` with ``startPosition``/``endPosition``, counted in
characters of the source's plain text, end exclusive), cases with their variables and the sources
they hold, and the users. ``coded_segments`` turns them into one row per coding (segment × code),
shaped like a quotes sheet, for the clean stage. Names of cases and users are identifiers: they
are handed to the scanner, never written to a clean table.

No maintained Python reader of whole REFI-QDA projects exists on PyPI (``portableqda`` reads
code books only and was last released in 2021), so the XML is read with the standard library.
"""

from __future__ import annotations

import fnmatch
import posixpath
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pandas as pd

from . import i18n
from .io import ROW, RawFileError, redact_cpr

NS = "urn:QDA-XML:project:1.0"
_Q = f"{{{NS}}}"
_VALUE_TAGS = ("TextValue", "BooleanValue", "IntegerValue", "FloatValue", "DateValue",
               "DateTimeValue")


@dataclass
class QdaCode:
    """A code of the code book; ``path`` joins the names from the top (``Parent/Child``)."""

    guid: str
    name: str
    path: str
    parent: str | None = None


@dataclass
class QdaSource:
    """A text source (or a PDF's text representation) with its plain text."""

    guid: str
    name: str
    text: str | None
    variables: dict[str, str] = field(default_factory=dict)
    problem: dict[str, Any] | None = None  # why the text could not be read (an i18n code)


@dataclass
class QdaSegment:
    """A coded text selection: where in which source, and the codes applied to it."""

    guid: str
    source: str
    start: int
    end: int
    codes: list[str]
    user: str | None = None


@dataclass
class QdaCase:
    """A case (usually a person) with its variables and the sources that belong to it."""

    guid: str
    name: str
    variables: dict[str, str] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)


@dataclass
class QdaProject:
    """The parts of a REFI-QDA project the evaluation reads."""

    file: str
    codes: dict[str, QdaCode]
    sources: dict[str, QdaSource]
    segments: list[QdaSegment]
    cases: dict[str, QdaCase]
    users: dict[str, str]
    other_selections: int = 0  # codings of pictures, audio or video: no text to quote

    def identifiers(self) -> set[str]:
        """Names of cases and users: personal data for the scanner, never for a table."""
        return {n for n in [*(c.name for c in self.cases.values()), *self.users.values()] if n}


def _tag(el: ET.Element) -> str:
    return el.tag.removeprefix(_Q)


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if _tag(c) == name]


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if _tag(c) == name), None)


def _variable_values(el: ET.Element, variables: dict[str, str]) -> dict[str, str]:
    """``VariableValue`` children as {variable name: value as text}."""
    out = {}
    for vv in _children(el, "VariableValue"):
        ref = _child(vv, "VariableRef")
        name = variables.get(ref.get("targetGUID", "")) if ref is not None else None
        value = next((c.text for c in vv if _tag(c) in _VALUE_TAGS), None)
        if name and value is not None and value.strip():
            out[name] = value.strip()
    return out


def read_qdpx(path: str | Path) -> QdaProject:
    """Read a ``.qdpx`` project; a file that is not one is a RawFileError naming it."""
    path = Path(path)
    name = path.name
    if not path.exists():
        raise RawFileError("not_found", file=str(path))
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise RawFileError("qdpx_not_zip", file=name) from None
    with zf:
        members = {m.casefold(): m for m in zf.namelist()}
        qde = members.get("project.qde")
        if qde is None:
            raise RawFileError("qdpx_no_project", file=name)
        try:
            root = ET.fromstring(zf.read(qde))
        except ET.ParseError as exc:
            raise RawFileError("qde_not_xml", file=name, error=str(exc)) from None
        if root.tag != f"{_Q}Project":
            raise RawFileError("qde_not_project", file=name, root=root.tag.split("}")[-1],
                               namespace=NS)
        return _parse(root, zf, members, name)


def _parse(root: ET.Element, zf: zipfile.ZipFile, members: dict[str, str], file: str
           ) -> QdaProject:
    users = {u.get("guid", ""): u.get("name", "") for u in root.iter(f"{_Q}User")}
    variables = {v.get("guid", ""): v.get("name", "") for v in root.iter(f"{_Q}Variable")}
    codes: dict[str, QdaCode] = {}

    def walk(el: ET.Element, parent: QdaCode | None) -> None:
        for c in _children(el, "Code"):
            code_name = (c.get("name") or "").strip()
            code = QdaCode(c.get("guid", ""), code_name,
                           f"{parent.path}/{code_name}" if parent else code_name,
                           parent.guid if parent else None)
            codes[code.guid] = code
            walk(c, code)

    book = _child(root, "CodeBook")
    codes_el = _child(book, "Codes") if book is not None else None
    if codes_el is not None:
        walk(codes_el, None)
    sources: dict[str, QdaSource] = {}
    segments: list[QdaSegment] = []
    other = 0
    sources_el = _child(root, "Sources")
    for src in (list(sources_el) if sources_el is not None else []):
        kind = _tag(src)
        text_els = [src] if kind == "TextSource" else _children(src, "Representation")
        values = _variable_values(src, variables)
        for tel in text_els:
            guid = tel.get("guid") or src.get("guid", "")
            source = QdaSource(guid, src.get("name", ""), None, values)
            source.text, source.problem = _source_text(tel, zf, members)
            sources[guid] = source
            for sel in _children(tel, "PlainTextSelection"):
                refs = [r.get("targetGUID", "") for coding in _children(sel, "Coding")
                        for r in _children(coding, "CodeRef")]
                try:
                    start, end = int(sel.get("startPosition", "")), int(sel.get("endPosition", ""))
                except ValueError:
                    start, end = -1, -1
                segments.append(QdaSegment(sel.get("guid", ""), guid, start, end, refs,
                                           sel.get("creatingUser")))
        for sel in src.iter():
            if _tag(sel).endswith("Selection") and _tag(sel) != "PlainTextSelection":
                other += len(_children(sel, "Coding"))
    cases = {}
    cases_el = _child(root, "Cases")
    for c in (_children(cases_el, "Case") if cases_el is not None else []):
        cases[c.get("guid", "")] = QdaCase(
            c.get("guid", ""), c.get("name", ""), _variable_values(c, variables),
            [r.get("targetGUID", "") for r in _children(c, "SourceRef")])
    return QdaProject(file, codes, sources, segments, cases, users, other)


def _source_text(el: ET.Element, zf: zipfile.ZipFile, members: dict[str, str]
                 ) -> tuple[str | None, dict[str, Any] | None]:
    """The plain text of a source: inline ``PlainTextContent`` or ``internal://`` in sources/;
    else None and why (an i18n code)."""
    inline = _child(el, "PlainTextContent")
    if inline is not None and inline.text is not None:
        return inline.text, None
    ref = el.get("plainTextPath") or ""
    if not ref:
        return None, i18n.code("detail.qda_no_plain_text")
    if not ref.startswith("internal://"):
        return None, i18n.code("detail.qda_external_text", scheme=ref.split("://")[0])
    member = posixpath.join("sources", ref.removeprefix("internal://"))
    real = members.get(member.casefold())
    if real is None:
        return None, i18n.code("detail.qda_text_missing", member=member)
    data = zf.read(real)
    for enc in ("utf-8-sig", "utf-16"):
        try:
            return data.decode(enc), None
        except UnicodeDecodeError:
            continue
    return None, i18n.code("detail.qda_not_utf8", member=member)


# -- segments → quote rows ----------------------------------------------------------------------


def _code_lookup(cfg: Any) -> tuple[dict[str, str], set[str]]:
    """The config's code mapping and ignored codes, compared ignoring case and spacing."""
    from .io import normalise_header

    mapped = {normalise_header(k): v for k, v in cfg.qda.codes.items()}
    ignored = {normalise_header(k) for k in cfg.qda.ignore_codes}
    return mapped, ignored


def _resolve(code: QdaCode, codes: dict[str, QdaCode], mapped: dict[str, str],
             ignored: set[str]) -> str | None:
    """A code's hypothesis id (its own, or its nearest mapped parent's), '' if ignored."""
    from .io import normalise_header

    node: QdaCode | None = code
    while node is not None:
        for key in (normalise_header(node.path), normalise_header(node.name)):
            if key in mapped:
                return mapped[key]
            if key in ignored:
                return ""
        node = codes.get(node.parent) if node.parent else None
    return None


def _source_type(source: QdaSource, case: QdaCase | None, cfg: Any) -> str | None:
    """ung / partner / case from the source-type variable, else a name pattern; else None."""
    var = cfg.qda.source_type_variable
    if var:
        for values in (source.variables, case.variables if case else {}):
            hit = next((v for k, v in values.items() if k.casefold() == var.casefold()), None)
            if hit:
                return hit
    for pattern, kind in cfg.qda.source_types.items():
        if fnmatch.fnmatch(source.name.casefold(), pattern.casefold()):
            return kind
    return None


def _variable(values: dict[str, str], name: str | None) -> str | None:
    if not name:
        return None
    return next((v for k, v in values.items() if k.casefold() == name.casefold()), None)


def coded_segments(project: QdaProject, cfg: Any) -> tuple[pd.DataFrame, list[str]]:
    """One row per coding (segment × code) in file order, shaped like a quotes sheet.

    Columns: ``__row__`` (the coding's number, 1-based), ``hypothesis_id``, ``source_type``,
    ``quote`` (the selected text), ``cpr`` and ``delprojekt`` (from case or source variables),
    and ``_reason``/``_column``/``_detail`` for codings the project itself makes unusable (a code
    not mapped, a selection outside its source, a source without text). Codings with an ignored
    code are left out; returns the rows and warnings. Long because each coding's row is
    made in one pass over the sources, in file order, with its reason when unusable.
    """
    mapped, ignored = _code_lookup(cfg)
    if not mapped:
        paths = sorted(c.path for c in project.codes.values())
        raise RawFileError(
            "qda_no_mapped_codes", file=project.file, codes=", ".join(map(repr, paths[:8])),
            more=i18n.code("file_error.and_more", n=len(paths) - 8) if len(paths) > 8 else "")
    case_of = {s: c.guid for c in project.cases.values() for s in c.sources}
    names = project.identifiers()
    rows: list[dict[str, Any]] = []
    skipped = 0
    for seg in project.segments:
        source = project.sources[seg.source]
        case = project.cases.get(case_of.get(seg.source, ""))
        label = _safe(source.name, names) or "(unnamed)"
        where = i18n.code("detail.qda_where", source=repr(label), start=seg.start, end=seg.end)
        for ref in seg.codes or [""]:
            row: dict[str, Any] = {"_reason": None, "_column": None, "_detail": None}
            code = project.codes.get(ref)
            hyp = _resolve(code, project.codes, mapped, ignored) if code else None
            if hyp == "":
                skipped += 1
                continue
            row["hypothesis_id"] = hyp
            row["source_type"] = _source_type(source, case, cfg)
            values = {**source.variables, **(case.variables if case else {})}
            row["cpr"] = _variable(values, cfg.qda.participant_variable)
            row["delprojekt"] = _variable(values, cfg.qda.delprojekt_variable)
            text = source.text
            if code is None:
                problem = ("code", "code_not_in_codebook",
                           i18n.code("detail.code_not_in_codebook", where=where))
            elif hyp is None:
                problem = ("code", "code_not_mapped",
                           i18n.code("detail.code_not_mapped", name=repr(code.path), where=where))
            elif text is None:
                problem = ("segment", "source_without_text", i18n.code(
                    "detail.source_without_text", source=repr(label), problem=source.problem))
            elif not 0 <= seg.start < seg.end <= len(text):
                problem = ("segment", "segment_outside_source",
                           i18n.code("detail.segment_outside_source", where=where, n=len(text)))
            else:
                problem = None
                row["quote"] = " ".join(text[seg.start:seg.end].split())
            if problem is not None:
                row["_column"], row["_reason"], row["_detail"] = problem
            if row["source_type"] is None and problem is None:
                row["_column"], row["_reason"] = "source_type", "unknown_source_type"
                var = cfg.qda.source_type_variable
                row["_detail"] = (
                    i18n.code("detail.qda_no_source_type_var", source=repr(label),
                              variable=repr(var)) if var else
                    i18n.code("detail.qda_no_source_type", source=repr(label)))
            rows.append(row)
    frame = pd.DataFrame(rows, columns=["hypothesis_id", "source_type", "quote", "cpr",
                                        "delprojekt", "_reason", "_column", "_detail"])
    frame[ROW] = range(1, len(frame) + 1)
    frame["_detail"] = frame["_detail"].map(i18n.as_json, na_action="ignore")
    for c in frame.columns:
        if c != ROW:
            frame[c] = frame[c].astype("string")
    warnings = []
    if skipped:
        warnings.append(i18n.code("qda_ignored", file=project.file, n=skipped))
    if project.other_selections:
        warnings.append(i18n.code("qda_media", file=project.file, n=project.other_selections))
    return frame, warnings


def _safe(text: str, names: set[str]) -> str:
    """A source name for a message: CPR-like numbers and case or user names taken out."""
    out = redact_cpr(text)
    for n in sorted(names, key=len, reverse=True):
        if len(n) >= 3:
            out = _replace_ci(out, n, "[navn]")
    return out


def _replace_ci(text: str, old: str, new: str) -> str:
    low, target = text.casefold(), old.casefold()
    i = low.find(target)
    while i >= 0 and len(low) == len(text):
        text = text[:i] + new + text[i + len(old):]
        low = text.casefold()
        i = low.find(target, i + len(new))
    return text


# -- writing (the demo and the tests) ---------------------------------------------------------


@dataclass
class SegmentSpec:
    """A selection to code: ``start``/``end`` in characters of the source text, code names."""

    start: int
    end: int
    codes: list[str]


@dataclass
class SourceSpec:
    """A text source to write, with its coded segments and variables."""

    name: str
    text: str
    segments: list[SegmentSpec] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)


def write_qdpx(path: str | Path, sources: list[SourceSpec], codes: list[str],
               cases: list[tuple[str, dict[str, str], list[int]]] | None = None,
               user: str = "Evaluator", origin: str = "ungeanalyse demo") -> Path:
    """Write a REFI-QDA project: ``codes`` are paths (``Parent/Child``); ``cases`` are
    (name, variables, indices of their sources). GUIDs are derived from names, so the same
    input gives the same bytes. Long because it writes one XML document top to bottom, as
    the standard orders it (users, codebook, sources with their codings, cases)."""
    import uuid

    def guid(*parts: object) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, "ungeanalyse:" + "/".join(map(str, parts))))

    ET.register_namespace("", NS)
    root = ET.Element(f"{_Q}Project", {"name": Path(path).stem, "origin": origin})
    uid = guid("user", user)
    ET.SubElement(ET.SubElement(root, f"{_Q}Users"), f"{_Q}User", {"guid": uid, "name": user})
    book = ET.SubElement(ET.SubElement(root, f"{_Q}CodeBook"), f"{_Q}Codes")
    nodes: dict[str, ET.Element] = {}
    for code_path in codes:
        parent = book
        for depth, part in enumerate(code_path.split("/")):
            key = "/".join(code_path.split("/")[:depth + 1])
            if key not in nodes:
                nodes[key] = ET.SubElement(parent, f"{_Q}Code", {
                    "guid": guid("code", key), "name": part, "isCodable": "true"})
            parent = nodes[key]
    var_names = sorted({k for s in sources for k in s.variables}
                       | {k for _, v, _ in cases or [] for k in v})
    if var_names:
        vars_el = ET.SubElement(root, f"{_Q}Variables")
        for v in var_names:
            ET.SubElement(vars_el, f"{_Q}Variable", {"guid": guid("var", v), "name": v,
                                                     "typeOfVariable": "Text"})

    def values(parent: ET.Element, given: dict[str, str]) -> None:
        for k, v in given.items():
            vv = ET.SubElement(parent, f"{_Q}VariableValue")
            ET.SubElement(vv, f"{_Q}VariableRef", {"targetGUID": guid("var", k)})
            ET.SubElement(vv, f"{_Q}TextValue").text = v

    if cases:
        cases_el = ET.SubElement(root, f"{_Q}Cases")
        for name, given, idx in cases:
            c = ET.SubElement(cases_el, f"{_Q}Case", {"guid": guid("case", name), "name": name})
            values(c, given)
            for i in idx:
                ET.SubElement(c, f"{_Q}SourceRef", {"targetGUID": guid("source", i)})
    sources_el = ET.SubElement(root, f"{_Q}Sources")
    texts = {}
    stamp = "2021-10-31T12:00:00Z"
    for i, s in enumerate(sources):
        sid = guid("source", i)
        el = ET.SubElement(sources_el, f"{_Q}TextSource", {
            "guid": sid, "name": s.name, "plainTextPath": f"internal://{sid}.txt",
            "creatingUser": uid, "creationDateTime": stamp})
        for j, seg in enumerate(s.segments):
            sel = ET.SubElement(el, f"{_Q}PlainTextSelection", {
                "guid": guid("sel", i, j), "name": s.text[max(seg.start, 0):seg.end][:40],
                "startPosition": str(seg.start), "endPosition": str(seg.end),
                "creatingUser": uid, "creationDateTime": stamp})
            for code in seg.codes:
                coding = ET.SubElement(sel, f"{_Q}Coding", {"guid": guid("coding", i, j, code),
                                                            "creatingUser": uid})
                ET.SubElement(coding, f"{_Q}CodeRef", {"targetGUID": guid("code", code)})
        values(el, s.variables)
        texts[f"sources/{sid}.txt"] = s.text.encode("utf-8")
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    from .io import atomic_write

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for member, data in [("project.qde", xml), *sorted(texts.items())]:
                info = zipfile.ZipInfo(member, date_time=(2021, 10, 31, 12, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)

    return atomic_write(path, write)
