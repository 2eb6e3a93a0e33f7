"""Write the two partner files of the README's worked example (run: python make_files.py).

``kommune.csv`` is a municipality's list as Excel on Windows saves it (cp1252, ``;``, dd-mm-yyyy);
``skole.xlsx`` is a school's workbook with a title row, first and last names in separate columns,
an address and a phone column, and one Ja/Nej column per element. Every person is fictitious.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd

HERE = Path(__file__).resolve().parent
FIRST = ["Anna", "Bo", "Carla", "Dennis", "Emma", "Frederik", "Gitte", "Hassan", "Ida", "Jonas",
         "Katrine", "Lars", "Maja", "Nikolaj", "Olivia", "Peter", "Rikke", "Sami", "Tilde", "Ulrik"]
LAST = ["Testesen", "Prøvesen", "Eksempel", "Demosen", "Fiktivsen", "Opdigt", "Påfund", "Skitse"]
STATUS_KOMMUNE = ["Påbegyndt uddannelse", "Påbegyndt uddannelse", "Afbrudt", "Stadig i forløb",
                  "Beskæftigelse", "Påbegyndt uddannelse", "Ukendt"]
STATUS_SKOLE = ["Gennemført", "Fastholdt", "Gennemført", "Afbrudt", "Stadig i forløb", "FGU"]


def _cpr(birth: dt.date, man: bool, i: int) -> str:
    """A fictitious CPR number with a valid date and century digit (born 2000–2009)."""
    serial = f"4{i % 100:02d}{(i % 5) * 2 + (1 if man else 0)}"
    return f"{birth:%d%m%y}-{serial}"


def _people(n: int, seed: int, offset: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        birth = dt.date(2003, 1, 1) + dt.timedelta(days=int(rng.integers(0, 5 * 365)))
        start = dt.date(2023, 8, 1) + dt.timedelta(days=int(rng.integers(0, 400)))
        rows.append({"cpr": _cpr(birth, bool(i % 2), offset + i), "first": FIRST[i % len(FIRST)],
                     "last": LAST[(i * 7 + offset) % len(LAST)], "start": start,
                     "end": start + dt.timedelta(days=int(rng.integers(60, 500))),
                     "rng": float(rng.random())})
    return pd.DataFrame(rows)


def write_kommune(path: Path) -> None:
    """The municipality's list: young people to start an education (cp1252, semicolons)."""
    people = _people(60, seed=1, offset=0)
    lines = ["CPR nummer;Navn;Målgruppe;Forløb start;Forløb slut;Status;Indsats"]
    for i, p in people.iterrows():
        status = STATUS_KOMMUNE[i % len(STATUS_KOMMUNE)]
        end = "" if status == "Stadig i forløb" else f"{p.end:%d-%m-%Y}"
        indsats = ["Mentor", "Mentor, Fællesskab", "Fællesskab", ""][i % 4]
        lines.append(f"{p.cpr};{p['first']} {p['last']};Påbegynde;{p.start:%d-%m-%Y};{end};"
                     f"{status};{indsats}")
    lines.append(lines[5])  # the same young person sent twice
    lines.append("010203-44;Vera Fejlsen;Påbegynde;01-09-2023;;Stadig i forløb;Mentor")
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def write_skole(path: Path) -> None:
    """The school's workbook: young people to stay in education, with a title row."""
    people = _people(48, seed=2, offset=60)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Elever"
    ws.append(["Elevliste, Skole Syd, skoleåret 2023/24"])
    ws.append(["Cpr", "Fornavn", "Efternavn", "Adresse", "Tlf", "Gruppe", "Startdato",
               "Slutdato", "Resultat", "Mentor", "Fællesskab"])
    for i, p in people.iterrows():
        status = STATUS_SKOLE[i % len(STATUS_SKOLE)]
        end = None if status == "Stadig i forløb" else dt.datetime.combine(p.end, dt.time())
        ws.append([p.cpr, p["first"], p["last"], f"Skolevej {i + 1}, 6000 Kolding",
                   f"2{i:07d}", "Fastholde", dt.datetime.combine(p.start, dt.time()), end,
                   status, "Ja" if i % 3 else "Nej", "Ja" if i % 2 else "Nej"])
    stamp = dt.datetime(2024, 6, 30)
    wb.properties.created = wb.properties.modified = stamp
    wb.save(path)


if __name__ == "__main__":
    write_kommune(HERE / "kommune.csv")
    write_skole(HERE / "skole.xlsx")
