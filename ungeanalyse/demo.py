"""Deterministic demo data shaped like what partners really send.

``make_demo(cfg)`` first draws the *truth* (one row per young person, calibrated by the config's
``demo:`` section: exact outcome counts per target group and planted associations), then writes
it the way six different partners would: one file per delprojekt, some .xlsx with a title row
(merged across the columns) above the header, CPR numbers stored as numbers (leading zero lost)
or text with and without a dash, Excel dates and date serials, semicolon CSV in cp1252 with
dd-mm-yyyy or dd.mm.yyyy dates, column names and status spellings that differ between partners,
and a handful of deliberately broken rows that the clean stage must quarantine. Survey waves,
the step log and coded quotes follow the same people.

Every CPR number and name is fictitious. The data are pseudonymised with the marked demo key.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .config import ProjectConfig
from .errors import UserError
from .io import atomic_write

FIRST_NAMES = {
    "kvinde": ["Emma", "Ida", "Clara", "Freja", "Sofie", "Laura", "Anna", "Maja", "Mathilde",
               "Karla", "Josefine", "Alma", "Nanna", "Signe", "Cecilie", "Amalie", "Sara",
               "Julie", "Line", "Malou"],
    "mand": ["William", "Noah", "Oscar", "Lucas", "Carl", "Victor", "Malthe", "Emil", "Frederik",
             "Magnus", "Alfred", "Elias", "Mikkel", "Kasper", "Jonas", "Mads", "Rasmus",
             "Sebastian", "Tobias", "Anton"],
}
LAST_NAMES = ["Nielsen", "Jensen", "Hansen", "Pedersen", "Andersen", "Christensen", "Larsen",
              "Sørensen", "Rasmussen", "Jørgensen", "Petersen", "Madsen", "Kristensen", "Olsen",
              "Thomsen", "Christiansen", "Poulsen", "Johansen", "Møller", "Mortensen", "Kjær",
              "Bruun", "Lund", "Dahl", "Skov", "Holm", "Juhl", "Bach", "Vestergaard", "Lauridsen"]

# Quotes in the voices the seed documents report (young people, partners, case descriptions),
# keyed by the kind of mechanism they speak to; the hypothesis' mechanism column picks the bank.
QUOTE_BANK = {
    "kontaktperson": {
        "ung": ["Det betød alt, at det var den samme voksne hver gang. Jeg skulle ikke forklare "
                "mig forfra.",
                "Hun har ikke skubbet mig op ad bjerget, men givet mig iltmasken til at nå "
                "toppen.",
                "Når jeg gik i stå, ringede han bare. Så kom jeg afsted igen."],
        "partner": ["Kontaktpersonen bliver en vejviser, der kender både den unge og "
                    "uddannelsesstedet.",
                    "Relationen skaber ro og tryghed; det er først derefter, vi kan tale "
                    "uddannelse."],
        "case": ["Casebeskrivelse: Den unge havde tre afbrudte forløb bag sig. Med en fast "
                 "kontaktperson blev der lagt en plan, som den unge selv var med til at lave, "
                 "og efter fem måneder startede den unge på en erhvervsuddannelse."],
    },
    "mestring": {
        "ung": ["Jeg fik indsigt i mine egne udfordringer, og nu ved jeg, hvad jeg skal gøre, "
                "når angsten kommer.",
                "Kurset lærte mig, at jeg godt kan gå ind i en klasse, selvom det er svært."],
        "partner": ["Mestringskurset giver de unge et sprog for deres udfordringer.",
                    "Vi ser, at de unge med angst får mest ud af mestringsforløbet."],
        "case": ["Casebeskrivelse: En ung med angst deltog i mestringskurset og brugte "
                 "redskaberne til at komme tilbage i skole efter længere tids fravær."],
    },
    "faellesskab": {
        "ung": ["Det var rart at opdage, at jeg ikke var den eneste.",
                "I gruppen kunne vi grine af det, der ellers var svært."],
        "partner": ["Fællesaktiviteterne var svære at samle de unge til; dem, der kom, fik "
                    "meget ud af det.",
                    "Det er svært at få de unge til at deltage i fællesskabet, men det virker "
                    "for nogle."],
        "case": ["Casebeskrivelse: Gruppeforløbet blev et fast holdepunkt for en ung, der "
                 "ellers havde trukket sig fra venner og skole."],
    },
    "individuel": {
        "ung": ["De tog udgangspunkt i mig og ikke i et skema.",
                "Jeg følte mig inddraget og medbestemmende, og jeg har fundet en retning."],
        "partner": ["Individuelt tilpassede indsatser er nøglen, når den unge har mange "
                    "udfordringer på én gang.",
                    "Visiteringen var nogle gange forkert; vejen var for lang for nogle unge."],
        "case": ["Casebeskrivelse: Planen blev lagt om tre gange undervejs, fordi den unges "
                 "situation ændrede sig; til sidst startede den unge på FGU."],
    },
    "droemme": {
        "ung": ["For første gang spurgte nogen, hvad jeg drømte om.",
                "Nu ved jeg, hvad jeg vil, og jeg har søgt ind."],
        "partner": ["Når vi tager udgangspunkt i de unges drømme og ønsker, bliver de "
                    "motiverede.",
                    "Fokus på drømme virker, men nogle unge har brug for mere tid, end "
                    "projektet har."],
        "case": ["Casebeskrivelse: Den unge ønskede at arbejde med dyr; et besøg på en "
                 "landbrugsskole blev vendepunktet."],
    },
}


def _bank_for(mechanism: str, banks: dict | None = None) -> dict:
    banks = QUOTE_BANK if banks is None else banks
    for key, bank in banks.items():
        if key in mechanism:
            return bank
    return banks["individuel"]


# Answers in the coded interviews of the demo's REFI-QDA project (.qdpx): what an evaluator's
# transcripts hold, next to the quotes sheet's sayings. Each is coded to the hypothesis whose
# mechanism it speaks to.
INTERVIEW_BANK = {
    "kontaktperson": {
        "ung": ["Jeg havde hendes nummer, og jeg måtte skrive, også om aftenen.",
                "Han kom med mig op på skolen den første dag, så jeg ikke stod alene i døren."],
        "partner": ["Den faste kontaktperson er den, der holder fast, når den unge giver slip."],
        "case": ["Kontaktpersonen mødtes med den unge hver uge i et halvt år; fraværet faldt, "
                 "og den unge søgte ind på en erhvervsuddannelse."],
    },
    "mestring": {
        "ung": ["Vi øvede, hvad jeg skal sige, når jeg har brug for en pause i timen.",
                "Før kurset troede jeg, at det var mig, der var forkert."],
        "partner": ["Redskaberne fra mestringskurset bruger de unge også, når vi ikke er der."],
        "case": ["Den unge lærte på kurset at lægge en plan for dage med meget angst og kom "
                 "tilbage i undervisningen på nedsat tid."],
    },
    "faellesskab": {
        "ung": ["Vi har stadig en gruppe på telefonen, hvor vi hepper på hinanden.",
                "Det var første gang, jeg glædede mig til at komme et sted."],
        "partner": ["Fællesskabet virker, når der er en voksen, der sørger for, at alle er med."],
        "case": ["Gruppeforløbet gav den unge to venner fra samme skole, og de begyndte at tage "
                 "bussen sammen om morgenen."],
    },
    "individuel": {
        "ung": ["Vi lavede planen om, da jeg flyttede, og det var helt okay.",
                "Jeg kunne starte med to dage om ugen og så bygge op."],
        "partner": ["Vi tilpasser forløbet, fordi ingen af de unge har de samme udfordringer."],
        "case": ["Forløbet blev tilrettelagt med korte dage og faste pauser, fordi den unge "
                 "både havde ordblindhed og højt fravær."],
    },
    "droemme": {
        "ung": ["Hun spurgte, hvad jeg ville, hvis alt var muligt, og så lavede vi en plan.",
                "Jeg har altid gerne villet være frisør, og nu er jeg i gang."],
        "partner": ["Drømmene giver retning, men vi skal også hjælpe med de små skridt derhen."],
        "case": ["Den unge ville være tømrer; efter en dag i praktik søgte den unge ind på "
                 "grundforløbet."],
    },
}
_QUESTIONS = ["Kan du fortælle, hvordan det startede?", "Hvad har betydet mest for dig?",
              "Kan du give et eksempel?"]


@dataclass
class DemoFiles:
    """What ``make_demo`` wrote, and the truth it was drawn from (for tests)."""

    raw_dir: Path
    files: list[Path]
    truth: pd.DataFrame
    broken_rows: int
    duplicate_rows: int


# -- the truth ------------------------------------------------------------------------------


def _cpr(birth: pd.Timestamp, gender: str, rng: np.random.Generator, dash: bool) -> str:
    """A fictitious CPR number with a valid date and century digit for the birth date."""
    yy = birth.year % 100
    if birth.year >= 2000:
        digit7 = int(rng.choice([4, 9])) if yy <= 36 else int(rng.integers(5, 9))
    else:
        digit7 = int(rng.integers(0, 4))
    middle = int(rng.integers(0, 100))
    last = int(rng.integers(0, 5)) * 2 + (1 if gender == "mand" else 0)
    serial = f"{digit7}{middle:02d}{last}"
    date = f"{birth.day:02d}{birth.month:02d}{yy:02d}"
    return f"{date}-{serial}" if dash else f"{date}{serial}"


def make_truth(cfg: ProjectConfig) -> pd.DataFrame:
    """One row per young person, calibrated by ``cfg.demo``: exact outcome counts, planted links."""
    demo = cfg.demo
    if demo is None:
        raise UserError(f"{cfg.project.id}: the config has no 'demo:' section to generate from")
    rng = np.random.default_rng(demo.seed)
    rows = []
    for d in cfg.delprojekt_ids:
        for g, n in demo.participants.get(d, {}).items():
            rows += [(d, g)] * n
    df = pd.DataFrame(rows, columns=["delprojekt", "target_group"])
    n = len(df)
    df["outcome"] = ""
    for g, counts in demo.outcomes.items():
        idx = df.index[df["target_group"].eq(g)].to_numpy()
        codes = np.repeat(list(counts), list(counts.values()))
        df.loc[idx, "outcome"] = rng.permutation(codes)
    groups = cfg.group_of()
    df["goal_met"] = df["outcome"].map(groups).eq("goal_met")
    df["gender"] = rng.choice(["kvinde", "mand"], n)
    lo_hi = [demo.age_range.get(g, [cfg.age.min, min(cfg.age.max, 25)])
             for g in df["target_group"]]
    df["age_at_start"] = [int(rng.integers(lo, hi + 1)) for lo, hi in lo_hi]
    period_start = pd.Timestamp(cfg.project.period.start)
    extract = pd.Timestamp(demo.extract_date)
    span = max((extract - period_start).days - 240, 60)
    df["start_date"] = period_start + pd.to_timedelta(rng.integers(30, span, n), unit="D")
    length = rng.integers(90, 540, n)
    end = df["start_date"] + pd.to_timedelta(length, unit="D")
    active = df["outcome"].map(groups).eq("active")
    end = end.where(~active).where(end <= extract, extract - pd.Timedelta(days=1))
    df["end_date"] = end.where(~active)
    birth = [s - pd.DateOffset(years=int(a)) - pd.Timedelta(days=int(rng.integers(1, 360)))
             for s, a in zip(df["start_date"], df["age_at_start"], strict=True)]
    df["birth_date"] = pd.to_datetime(birth)
    for c in cfg.challenges:
        p = np.array([demo.challenges_by_delprojekt.get(d, {}).get(c, demo.challenges.get(c, 0.2))
                      for d in df["delprojekt"]])
        df[f"challenge_{c}"] = rng.random(n) < p
    for e in cfg.elements:
        spec = demo.elements.get(e)
        if spec is None:
            df[f"element_{e}"] = rng.random(n) < 0.4
            continue
        base = np.array([spec.by_delprojekt.get(d, spec.share) for d in df["delprojekt"]])
        lift = df["target_group"].map(spec.lift_goal).fillna(0.0).to_numpy(dtype=float)
        for c, extra in spec.lift_goal_challenge.items():
            lift = lift + np.where(df[f"challenge_{c}"], extra, 0.0)
        p = np.clip(base + np.where(df["goal_met"], lift / 2, -lift / 2), 0.02, 0.98)
        df[f"element_{e}"] = rng.random(n) < p
    df["name"] = [f"{rng.choice(FIRST_NAMES[g])} {rng.choice(LAST_NAMES)}" for g in df["gender"]]
    dash = rng.random(n) < 0.5
    df["cpr"] = [_cpr(b, g, rng, bool(d)) for b, g, d in
                 zip(df["birth_date"], df["gender"], dash, strict=True)]
    # A fictitious CPR number must be unique; redraw the rare collision.
    while df["cpr"].str.replace("-", "").duplicated().any():
        i = df.index[df["cpr"].str.replace("-", "").duplicated()][0]
        df.loc[i, "cpr"] = _cpr(df.loc[i, "birth_date"], df.loc[i, "gender"], rng, True)
    return df


# -- partner-shaped raw files ---------------------------------------------------------------


def _alias(cfg: ProjectConfig, canonical: str, i: int) -> str:
    names = cfg.columns.get(canonical) or cfg.aliases(canonical)[1:]
    return names[i % len(names)]


def _variant(text: str, rng: np.random.Generator) -> str:
    """How partners spell the same status: case, stray spaces."""
    r = rng.random()
    if r < 0.25:
        return text.upper() if len(text) < 6 else text.capitalize()
    if r < 0.5:
        return text.lower() + " "
    if r < 0.75:
        return text.capitalize()
    return text


def _raw_participants(cfg: ProjectConfig, truth: pd.DataFrame, i: int,
                      rng: np.random.Generator) -> pd.DataFrame:
    """The truth of one delprojekt as this partner writes it (columns, spellings, formats)."""
    out = pd.DataFrame()
    out[_alias(cfg, "cpr", i)] = truth["cpr"]
    out[_alias(cfg, "name", i)] = truth["name"]
    tg_alias = {g: [t.label, *t.aliases][i % (len(t.aliases) + 1)]
                for g, t in cfg.target_groups.items()}
    out[_alias(cfg, "target_group", i)] = truth["target_group"].map(tg_alias)
    out[_alias(cfg, "start_date", i)] = truth["start_date"]
    out[_alias(cfg, "end_date", i)] = truth["end_date"]
    status = []
    for code in truth["outcome"]:
        o = cfg.outcomes[code]
        choices = [o.label, *o.aliases]
        status.append(_variant(choices[int(rng.integers(len(choices)))], rng))
    out[_alias(cfg, "status", i)] = status
    if i % 2 == 0:  # one list column with the elements received
        sep = "; " if i % 4 == 0 else ", "
        out[_alias(cfg, "elements", i)] = [
            sep.join(_token(cfg.elements[e], rng) for e in cfg.elements if row[f"element_{e}"])
            for _, row in truth.iterrows()
        ]
    else:  # one yes/no column per element
        mark = "x" if i % 3 == 1 else "Ja"
        for e, spec in cfg.elements.items():
            out[spec.label] = np.where(truth[f"element_{e}"], mark, "" if mark == "x" else "Nej")
    out[_alias(cfg, "challenges", i)] = [
        ", ".join(_token(cfg.challenges[c], rng) for c in cfg.challenges if row[f"challenge_{c}"])
        for _, row in truth.iterrows()
    ]
    return out.reset_index(drop=True)


def _token(entry, rng: np.random.Generator) -> str:
    names = [entry.label, *[a for a in entry.aliases if not any(s in a for s in ";,+|")]]
    return names[int(rng.integers(len(names)))]


def _broken_rows(cfg: ProjectConfig, frame: pd.DataFrame, i: int, rng: np.random.Generator,
                 truth: pd.DataFrame) -> tuple[pd.DataFrame, int, int]:
    """Append this partner's share of deliberately broken rows; returns (frame, broken, dups)."""
    cols = list(frame.columns)
    template = frame.iloc[0].copy()
    start_col, end_col = cols[3], cols[4]
    status_col, cpr_col = cols[5], cols[0]
    extras: list[pd.Series] = []
    dups = 0
    period_mid = pd.Timestamp(cfg.project.period.start) + pd.Timedelta(days=200)

    def person(age: int = 19) -> pd.Series:
        row = template.copy()
        birth = period_mid - pd.DateOffset(years=age) - pd.Timedelta(days=40)
        row[cpr_col] = _cpr(birth, "mand", rng, True)
        row[cols[1]] = f"{rng.choice(FIRST_NAMES['mand'])} {rng.choice(LAST_NAMES)}"
        row[start_col] = period_mid
        row[end_col] = period_mid + pd.Timedelta(days=200)
        return row

    kind = i % 6
    if kind == 0:
        bad = person()
        bad[cpr_col] = "12345-678"  # too short
        young = person(age=11)      # outside the target group's ages
        extras += [bad, young]
    elif kind == 1:
        bad = person()
        bad[cpr_col] = "310299-1235"  # 31 February is no date
        extras.append(bad)
        extras.append(frame.iloc[1].copy())  # an exact duplicate: reported, not quarantined
        dups += 1
    elif kind == 2:
        bad = person()
        bad[status_col] = "Holder pause"  # not in the status vocabulary: never guessed
        tg = person()
        tg[cols[2]] = "Afklaring"        # not a target group
        extras += [bad, tg]
    elif kind == 3:
        bad = person()
        bad[start_col] = None            # missing start date
        twin_a, twin_b = person(), person()
        twin_b[cpr_col] = twin_a[cpr_col]  # the same person twice, conflicting statuses
        twin_b[status_col] = "Visiteret til andre tilbud"
        twin_a[status_col] = "Gennemført"
        extras += [bad, twin_a, twin_b]
    elif kind == 4:
        bad = person()
        bad[end_col] = period_mid - pd.Timedelta(days=30)  # ends before it starts
        extras.append(bad)
    else:
        bad = person()
        bad[start_col] = pd.Timestamp("2031-01-05")  # a date in the future
        extras.append(bad)
    broken = len(extras) - dups
    return pd.concat([frame, pd.DataFrame(extras)], ignore_index=True), broken, dups


def _write_table(frame: pd.DataFrame, path: Path, i: int, title: str,
                 stamp: dt.datetime) -> None:
    """Write like partner ``i`` would: xlsx (title row, serials) or csv (cp1252/utf-8, ; or ,).

    ``stamp`` is the time stored in a workbook (not the clock), so the same data give the same
    bytes.
    """
    frame = frame.copy()
    date_cols = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])
                 or frame[c].map(lambda v: isinstance(v, pd.Timestamp)).any()]
    if path.suffix == ".xlsx":
        if i % 3 == 2:  # dates as Excel serial numbers and CPR as a number (leading zero lost)
            for c in date_cols:
                ts = pd.to_datetime(frame[c], errors="coerce")
                frame[c] = ((ts - pd.Timestamp("1899-12-30")).dt.days).astype("Int64")
            cpr_col = frame.columns[0]
            digits = frame[cpr_col].astype(str).str.replace("-", "")
            frame[cpr_col] = [int(d) if d.isdigit() else d for d in digits]
        else:
            for c in date_cols:
                frame[c] = pd.to_datetime(frame[c], errors="coerce").dt.date
        atomic_write(path, lambda p: _write_xlsx(frame, p, title if i % 2 == 0 else None,
                                                 stamp))
    else:
        fmt = "%d-%m-%Y" if i % 2 else "%d.%m.%Y"
        for c in date_cols:
            frame[c] = pd.to_datetime(frame[c], errors="coerce").dt.strftime(fmt)
        encoding, sep = ("cp1252", ";") if i % 4 != 3 else ("utf-8-sig", ",")
        text = frame.to_csv(index=False, sep=sep, lineterminator="\r\n")
        atomic_write(path, lambda p: p.write_bytes(text.encode(encoding)))


def _write_xlsx(frame: pd.DataFrame, path: Path, title: str | None,
                stamp: dt.datetime) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        writer.book.properties.created = stamp
        start = 2 if title else 0
        frame.to_excel(writer, index=False, startrow=start, sheet_name="Deltagere")
        if title:
            ws = writer.sheets["Deltagere"]
            ws.cell(row=1, column=1, value=title)
            ws.merge_cells(start_row=1, start_column=1, end_row=1,
                           end_column=max(2, frame.shape[1]))
    _pin_zip_times(path, stamp)


_MODIFIED = re.compile(rb"(<dcterms:modified\b[^>]*>)[^<]*(</dcterms:modified>)")


def _pin_zip_times(path: Path, stamp: dt.datetime) -> None:
    """Give a workbook fixed times: docProps' 'modified' and every zip entry's date.

    openpyxl stamps both with the time of saving; the entries keep their order, compression
    and attributes, so the same workbook always has the same bytes.
    """
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w") as zf:
        for info, data in entries:
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(lambda m: m.group(1) + iso + m.group(2), data)
            pinned = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            pinned.compress_type = info.compress_type
            pinned.external_attr = info.external_attr
            pinned.create_system = info.create_system
            zf.writestr(pinned, data)


# -- surveys, steps, quotes -----------------------------------------------------------------


def _survey(cfg: ProjectConfig, truth: pd.DataFrame, rng: np.random.Generator
            ) -> dict[str, pd.DataFrame]:
    """One wide file per wave with Danish labels; follow-up answers depend on the outcome."""
    demo = cfg.demo
    scale_of = {i: s for s in cfg.survey.scales for i in s.items}
    level = rng.normal(2.6, 0.55, len(truth))
    answered = rng.random(len(truth)) < demo.survey_response_rate[0]
    waves = {}
    for w, wave in enumerate(cfg.survey.waves):
        if w > 0:
            rate = demo.survey_response_rate[min(w, len(demo.survey_response_rate) - 1)]
            p = np.clip(rate + np.where(truth["goal_met"], 0.1, -0.15), 0.05, 0.95)
            answered = answered & (rng.random(len(truth)) < p)
            level = level + 0.25 + np.where(truth["goal_met"], 0.35, 0.0)
        rows = []
        for k in np.flatnonzero(answered):
            row = {"CPR-nr." if w == 0 else "Cpr": truth["cpr"].iloc[k]}
            for item_id, item in cfg.survey.items.items():
                scale = scale_of[item_id]
                labels = list(cfg.survey.response_sets[scale.response_set])
                v = level[k] + rng.normal(0, 0.65)
                if item_id in scale.reverse:
                    v = 6 - v
                idx = int(np.clip(np.rint(v), 1, len(labels))) - 1
                label = labels[idx]
                r = rng.random()
                if r < 0.03:
                    label = ""  # skipped
                elif r < 0.15:
                    label = label.lower()
                row[item.text] = label
            rows.append(row)
        frame = pd.DataFrame(rows)
        if w == 0 and len(frame) > 3:  # a typo and an answer off the scale: read as missing
            frame.iloc[1, 2] = "Ofe"
            frame.iloc[2, 3] = "7"
            stranger = frame.iloc[0].copy()
            stranger.iloc[0] = "150203-1236"  # someone who is not on any participant list
            frame = pd.concat([frame, stranger.to_frame().T], ignore_index=True)
        waves[wave] = frame
    return waves


def _survey_export(cfg: ProjectConfig, wave: pd.DataFrame, path: Path, kind: str,
                   stamp: dt.datetime) -> list[Path]:
    """One wave as a survey tool exports it: a respondent id, the CPR number as a background
    variable, variables ``q<scale>_<item>`` holding answer codes, the question texts in a
    structure and the codes' labels (plus an unused 'Ved ikke'). Codes count up in the response
    set's order for the first scale and down for the next, so only the labels give the values.
    SurveyXact workbooks put each scale on its own Dataset sheet, joined by the respondent id."""
    from .survey_export import write_surveyxact

    cpr_col = wave.columns[0]
    ids = pd.Series(range(1001, 1001 + len(wave)), index=wave.index)
    sheets = [pd.DataFrame({"respondentid": ids, "bv_cpr": wave[cpr_col]})]
    structure = [("bv_cpr", "bv_cpr", "Background", "Text", "CPR-nr.", None, None)]
    labels, value_labels, column_labels = [], {}, {"bv_cpr": "CPR-nr."}
    for n, scale in enumerate(cfg.survey.scales, start=1):
        order = list(cfg.survey.response_sets[scale.response_set])
        if n % 2 == 0:
            order = order[::-1]
        code = {normalise(lab): k for k, lab in enumerate(order, start=1)}
        sheet = pd.DataFrame({"respondentid": ids})
        for k, item in enumerate(scale.items, start=1):
            var = f"q{n}_{k}"
            text = cfg.survey.items[item].text
            answers = wave[text] if text in wave.columns else pd.Series("", index=wave.index)
            sheet[var] = [code.get(normalise(a)) if normalise(a) else None for a in answers]
            structure.append((f"q{n}", var, "Closed", "Single", f"{scale.label} - {text}",
                              None, None))
            labels += [(var, k2, lab) for k2, lab in enumerate(order, start=1)]
            labels.append((var, 9, "Ved ikke"))
            value_labels[var] = {**{k2: lab for k2, lab in enumerate(order, start=1)},
                                 9: "Ved ikke"}
            column_labels[var] = f"{scale.label} - {text}"
        sheets.append(sheet)
    if kind == "spss":
        import pyreadstat

        data = sheets[0]
        for sheet in sheets[1:]:
            data = data.merge(sheet, on="respondentid")
        data = data.astype({c: "float64" for c in data.columns if c.startswith("q")})
        atomic_write(path, lambda p: pyreadstat.write_sav(
            data, str(p), column_labels=column_labels, variable_value_labels=value_labels,
            missing_ranges={v: [9] for v in value_labels}))
        return [path]
    sheets[1] = sheets[0].merge(sheets[1], on="respondentid")
    sheets = sheets[1:]
    sheets[1:] = [s.iloc[::-1] for s in sheets[1:]]  # the second sheet in another order
    frame_structure = pd.DataFrame(structure, columns=[
        "questionName", "variableName", "questionType", "subType", "questionText", "choiceValue",
        "choiceText"])
    frame_labels = pd.DataFrame(labels)
    fmt = {"surveyxact": None, "surveyxact_utf16": "utf16", "surveyxact_cp1252": "cp1252"}[kind]
    if fmt:
        merged = sheets[0]
        for sheet in sheets[1:]:
            merged = merged.merge(sheet, on="respondentid")
        sheets = [merged]
    return write_surveyxact(path, sheets, frame_structure, frame_labels, fmt, stamp)


def normalise(text: object) -> str:
    """Answer text compared ignoring case and spacing (as the clean stage compares it)."""
    return " ".join(str(text if isinstance(text, str) else "").split()).casefold()


def _steps(cfg: ProjectConfig, truth: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The step log: påbegynde climb the ladder (to the top if the goal was met)."""
    ladder = cfg.steps.ladder
    top_rank = {s.id: i for i, s in enumerate(ladder)}
    edu = top_rank.get(cfg.steps.education_start_step or "", len(ladder) - 1)
    rows = []
    for _, p in truth.iterrows():
        if p["target_group"] == next(iter(cfg.target_groups)):  # the 'start' group climbs
            top = edu if p["goal_met"] else int(rng.integers(0, edu))
        else:
            top = int(rng.integers(0, min(3, edu)))
        end = p["end_date"] if pd.notna(p["end_date"]) else pd.Timestamp(cfg.demo.extract_date)
        span = max((end - p["start_date"]).days, top + 2)
        days = np.sort(rng.choice(np.arange(1, span), size=top + 1, replace=False))
        for rank in range(top + 1):
            if 0 < rank < top and rng.random() < 0.1:
                continue  # a rung nobody logged
            step = ladder[rank]
            rows.append({"Cpr": p["cpr"], "Dato": p["start_date"] + pd.Timedelta(
                days=int(days[rank])), "Skridt": step.label if rng.random() < 0.7 else
                step.aliases[0] if step.aliases else step.label})
    frame = pd.DataFrame(rows)
    frame["Dato"] = pd.to_datetime(frame["Dato"]).dt.strftime("%d-%m-%Y")
    extra = pd.DataFrame([
        {"Cpr": truth["cpr"].iloc[0], "Dato": "12-03-2019", "Skridt": "Tog på højskole"},
        {"Cpr": "150203-1236", "Dato": "12-03-2019", "Skridt": ladder[0].label},
    ])
    return pd.concat([frame, extra], ignore_index=True)


def _quotes(cfg: ProjectConfig, truth: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Coded quotes and case descriptions per hypothesis, from young people and partners."""
    rows = []
    for h in cfg.hypotheses:
        bank = _bank_for(h.mechanism)
        pool = truth if h.delprojekter == "all" else truth[truth["delprojekt"].isin(
            h.delprojekter)]
        for source, texts in bank.items():
            for text in texts:
                p = pool.iloc[int(rng.integers(len(pool)))]
                rows.append({
                    "Hypotese": h.id,
                    "Kilde": {"ung": "Ung", "partner": "Partner", "case": "Casebeskrivelse"}[
                        source],
                    "Delprojekt": p["delprojekt"],
                    "CPR": p["cpr"] if source == "ung" else "",
                    "Citat": text,
                })
    rows.append({"Hypotese": "H9", "Kilde": "Partner", "Delprojekt": "",
                 "CPR": "", "Citat": "Et citat kodet til en hypotese, der ikke findes."})
    return pd.DataFrame(rows)


def _qdpx(cfg: ProjectConfig, truth: pd.DataFrame, rng: np.random.Generator, path: Path
          ) -> None:
    """A REFI-QDA project of coded interviews: per hypothesis an interview with a young person
    (a case with the young person's CPR number), a partner interview and a case description,
    coded with the codes that ``qda.codes`` maps to the hypothesis."""
    from .qda import SegmentSpec, SourceSpec, write_qdpx

    code_of = {}
    for code, h in cfg.qda.codes.items():
        code_of.setdefault(h, code)
    background = cfg.qda.ignore_codes[0] if cfg.qda.ignore_codes else None
    patterns = {kind: pattern.rstrip("*").strip() for pattern, kind in
                cfg.qda.source_types.items()}
    sources: list[SourceSpec] = []
    cases: list[tuple[str, dict[str, str], list[int]]] = []
    dp_var = cfg.qda.delprojekt_variable or "Delprojekt"
    for n, h in enumerate(cfg.hypotheses, start=1):
        code = code_of.get(h.id)
        if code is None:
            continue
        bank = _bank_for(h.mechanism, INTERVIEW_BANK)
        pool = truth if h.delprojekter == "all" else truth[truth["delprojekt"].isin(
            h.delprojekter)]
        for kind in ("ung", "partner", "case"):
            p = pool.iloc[int(rng.integers(len(pool)))]
            dp_name = cfg.delprojekt(p["delprojekt"]).name
            lines, segments = [], []
            pos = 0
            answers = bank[kind]
            if kind != "case":
                intro = {"ung": "Jeg er ", "partner": "Jeg har arbejdet med unge i "}[kind] + \
                    f"{int(rng.integers(17, 24)) if kind == 'ung' else int(rng.integers(5, 20))}" \
                    + (" år og bor hos min mor." if kind == "ung" else " år.")
                answers = [intro, *answers]
            for k, answer in enumerate(answers):
                if kind != "case":
                    q = f"I: {_QUESTIONS[k % len(_QUESTIONS)]}\n"
                    lines.append(q)
                    pos += len(q)
                    lines.append("U: " if kind == "ung" else "P: ")
                    pos += 3
                codes = [background] if (k == 0 and kind != "case") else [code]
                if codes[0] is not None:
                    segments.append(SegmentSpec(pos, pos + len(answer), codes))
                lines.append(answer + "\n")
                pos += len(answer) + 1
            name = f"{patterns.get(kind, kind)} {n:02d} – {dp_name}"
            source = SourceSpec(name, "".join(lines), segments)
            if kind == "partner":
                source.variables = {dp_var: dp_name}
            else:
                variables = {dp_var: dp_name}
                if cfg.qda.participant_variable:
                    variables[cfg.qda.participant_variable] = p["cpr"]
                cases.append((p["name"], variables, [len(sources)]))
            sources.append(source)
    codes = sorted({*cfg.qda.codes, *cfg.qda.ignore_codes})
    write_qdpx(path, sources, codes, cases, user="Mette Vinther")


def make_demo(cfg: ProjectConfig, raw_dir: Path | None = None, *,
              register: bool = True) -> DemoFiles:
    """Write the project's demo raw files (deterministic for the config's seed). ``register``:
    also the comparison group's register extract, read only by the effect notebook (05);
    tests that never run it leave the 200.000 young people of AUMI's out."""
    if not cfg.privacy.demo:
        raise UserError(f"{cfg.project.id}: privacy.demo is not true; refusing to write demo "
                        "data over a project that may hold real data")
    truth = make_truth(cfg)
    rng = np.random.default_rng(cfg.demo.seed + 1)
    raw_dir = raw_dir or cfg.raw_dir
    raw_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    broken_total = dups_total = 0
    stamp = dt.datetime.combine(cfg.demo.extract_date, dt.time())  # not the clock: same bytes
    specs = {s.delprojekt: s for s in cfg.files.participants}
    for i, d in enumerate(cfg.delprojekt_ids):
        spec = specs.get(d)
        if spec is None:
            continue
        frame = _raw_participants(cfg, truth[truth["delprojekt"].eq(d)], i, rng)
        if cfg.demo.broken_rows and len(frame) > 2:
            frame, broken, dups = _broken_rows(cfg, frame, i, rng, truth)
            broken_total += broken
            dups_total += dups
        path = raw_dir / spec.path
        title = (f"Deltagerliste – {cfg.delprojekt(d).name} – "
                 f"udtræk {cfg.demo.extract_date:%d.%m.%Y}")
        _write_table(frame, path, i, title, stamp)
        written.append(path)
    if cfg.files.survey and cfg.survey.items:
        waves = _survey(cfg, truth, rng)
        for j, spec in enumerate(cfg.files.survey):
            path = raw_dir / spec.path
            kind = cfg.demo.survey_exports.get(spec.wave)
            if kind:
                written += _survey_export(cfg, waves[spec.wave], path, kind, stamp)
                continue
            _write_table(waves[spec.wave], path, j + 1, "Spørgeskema", stamp)
            written.append(path)
    if cfg.files.steps and cfg.steps.ladder:
        path = raw_dir / cfg.files.steps[0].path
        _write_table(_steps(cfg, truth, rng), path, 1, "Skridt på vejen", stamp)
        written.append(path)
    sheets = [s for s in cfg.files.quotes if not s.path.lower().endswith(".qdpx")]
    if sheets and cfg.hypotheses:
        path = raw_dir / sheets[0].path
        _write_table(_quotes(cfg, truth, rng), path, 1, "Kodede citater", stamp)
        written.append(path)
    for spec in cfg.files.quotes:
        if spec.path.lower().endswith(".qdpx") and cfg.hypotheses:
            path = raw_dir / spec.path
            _qdpx(cfg, truth, np.random.default_rng(cfg.demo.seed + 2), path)
            written.append(path)
    if register and cfg.comparison is not None and cfg.comparison.demo is not None:
        written.append(_register(cfg, truth, raw_dir))
    readme = raw_dir / "LAES_MIG.txt"
    atomic_write(readme, lambda p: p.write_text(
        "DEMODATA – genereret af ungeanalyse demo. Alle CPR-numre og navne er opdigtede.\n"
        f"Seed {cfg.demo.seed}, udtræksdato {cfg.demo.extract_date:%d-%m-%Y}.\n",
        encoding="utf-8"))
    return DemoFiles(raw_dir, written, truth.drop(columns=["cpr", "name"]), broken_total,
                     dups_total)


def _register(cfg: ProjectConfig, truth: pd.DataFrame, raw_dir: Path) -> Path:
    """The synthetic register extract (``comparison.demo``): the participants under the
    pseudonym the clean stage gives them (the shared person key of a research machine) among
    other young people, with a planted effect and planted confounding."""
    from .comparison import synthetic_register, write_register
    from .privacy import load_key, pseudonymise

    key = load_key(cfg.project.id, demo=cfg.privacy.demo, key_file=cfg.key_file)
    people = truth.assign(person_id=pseudonymise(truth["cpr"].str.replace("-", ""), key))
    register = synthetic_register(cfg, people)
    return write_register(register, raw_dir / cfg.comparison.file)


def today_for(cfg: ProjectConfig) -> dt.date | None:
    """The 'today' the demo was drawn for, so future-date rules are stable over time."""
    return cfg.demo.extract_date if cfg.demo is not None and cfg.privacy.demo else None
