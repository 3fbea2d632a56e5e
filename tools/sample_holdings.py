"""Make the sandbox's SAMPLE matching holdings (src/accord/data/sandbox/matching/) and IRCC's 200 study-permit
applicants to query them with (docs/examples/matching/ircc-study-permit-applicants.csv), from a fixed seed.

Every person is fictional. Names are built from common Punjabi and Hindi given names and surnames, written as officers
write them: in Latin letters (several romanisations), in Devanagari or in Gurmukhi, with Singh/Kaur as a middle name,
as the surname, or left out. Twenty-four applicants are persons Bureau of Immigration holds, written differently (the
script, the spelling, Singh/Kaur, a day/month swap, a year only); ten more share a held person's name but are other
people (another date of birth and passport). Run: `python tools/sample_holdings.py`."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOLDINGS = ROOT / "src" / "accord" / "data" / "sandbox" / "matching"
APPLICANTS = ROOT / "docs" / "examples" / "matching" / "ircc-study-permit-applicants.csv"
SEED = 20261129
NOTE = "SAMPLE — fictional record"

# (romanisations, Devanagari, Gurmukhi, sex)
GIVEN = [
    (("Gurpreet", "Gurprit", "Gurpreeth"), "गुरप्रीत", "ਗੁਰਪ੍ਰੀਤ", "U"),
    (("Harpreet", "Harprit"), "हरप्रीत", "ਹਰਪ੍ਰੀਤ", "U"),
    (("Manpreet", "Manprit"), "मनप्रीत", "ਮਨਪ੍ਰੀਤ", "U"),
    (("Jaspreet", "Jasprit"), "जसप्रीत", "ਜਸਪ੍ਰੀਤ", "U"),
    (("Simranjeet", "Simranjit"), "सिमरनजीत", "ਸਿਮਰਨਜੀਤ", "U"),
    (("Amandeep", "Amndeep"), "अमनदीप", "ਅਮਨਦੀਪ", "U"),
    (("Navdeep", "Navdip"), "नवदीप", "ਨਵਦੀਪ", "U"),
    (("Harjinder", "Harjindar"), "हरजिंदर", "ਹਰਜਿੰਦਰ", "M"),
    (("Kuldeep", "Kuldip"), "कुलदीप", "ਕੁਲਦੀਪ", "M"),
    (("Rajinder", "Rajender"), "राजिंदर", "ਰਾਜਿੰਦਰ", "M"),
    (("Sukhwinder", "Sukhvinder"), "सुखविंदर", "ਸੁਖਵਿੰਦਰ", "U"),
    (("Baljit", "Baljeet"), "बलजीत", "ਬਲਜੀਤ", "U"),
    (("Paramjit", "Paramjeet"), "परमजीत", "ਪਰਮਜੀਤ", "U"),
    (("Lovepreet", "Lovprit"), "लवप्रीत", "ਲਵਪ੍ਰੀਤ", "U"),
    (("Arshdeep", "Arshdip"), "अर्शदीप", "ਅਰਸ਼ਦੀਪ", "U"),
    (("Rajesh", "Rajesh"), "राजेश", "ਰਾਜੇਸ਼", "M"),
    (("Amit", "Ameet"), "अमित", "ਅਮਿਤ", "M"),
    (("Vikram", "Vikrum"), "विक्रम", "ਵਿਕਰਮ", "M"),
    (("Deepak", "Dipak"), "दीपक", "ਦੀਪਕ", "M"),
    (("Rohit", "Rohith"), "रोहित", "ਰੋਹਿਤ", "M"),
    (("Priya", "Pria"), "प्रिया", "ਪ੍ਰਿਆ", "F"),
    (("Sunita", "Suneeta"), "सुनीता", "ਸੁਨੀਤਾ", "F"),
    (("Pooja", "Puja"), "पूजा", "ਪੂਜਾ", "F"),
    (("Neha", "Nehaa"), "नेहा", "ਨੇਹਾ", "F"),
]
SURNAMES = [
    (("Sandhu", "Sandu"), "संधू", "ਸੰਧੂ"),
    (("Gill", "Gil"), "गिल", "ਗਿੱਲ"),
    (("Dhillon", "Dhilon"), "ढिल्लों", "ਢਿੱਲੋਂ"),
    (("Sidhu", "Sidhoo"), "सिद्धू", "ਸਿੱਧੂ"),
    (("Grewal", "Grewaal"), "ग्रेवाल", "ਗਰੇਵਾਲ"),
    (("Randhawa", "Randhava"), "रंधावा", "ਰੰਧਾਵਾ"),
    (("Bajwa", "Bajva"), "बाजवा", "ਬਾਜਵਾ"),
    (("Sharma", "Sharmaa"), "शर्मा", "ਸ਼ਰਮਾ"),
    (("Verma", "Varma"), "वर्मा", "ਵਰਮਾ"),
    (("Gupta", "Gupt"), "गुप्ता", "ਗੁਪਤਾ"),
    (("Kumar", "Kumaar"), "कुमार", "ਕੁਮਾਰ"),
    (("Chauhan", "Chouhan"), "चौहान", "ਚੌਹਾਨ"),
]
SIKH_SURNAMES = {"Sandhu", "Gill", "Dhillon", "Sidhu", "Grewal", "Randhawa", "Bajwa"}
SINGH = ("Singh", "सिंह", "ਸਿੰਘ")
KAUR = ("Kaur", "कौर", "ਕੌਰ")
SCRIPTS = ("latin", "devanagari", "gurmukhi")


class Person:
    def __init__(self, rng: random.Random, number: int) -> None:
        self.given = rng.randrange(len(GIVEN))
        self.surname = rng.randrange(len(SURNAMES))
        sex = GIVEN[self.given][3]
        self.sex = sex if sex != "U" else rng.choice("MF")
        self.sikh = SURNAMES[self.surname][0][0] in SIKH_SURNAMES or rng.random() < 0.2
        self.born = date(1975, 1, 1) + timedelta(days=rng.randrange(0, 365 * 30))
        self.passport = f"{rng.choice('KLMNPRSTUVWZ')}{rng.randrange(10**6, 10**7)}"
        self.phone = f"+91 9{rng.randrange(10**8, 10**9)}"
        self.number = number

    def name(self, rng: random.Random, script: str, variant: bool = False, sikh_form: str = "middle") -> str:
        at = SCRIPTS.index(script)
        given = GIVEN[self.given][0][1 if variant else 0] if at == 0 else GIVEN[self.given][at]
        surname = SURNAMES[self.surname][0][1 if variant else 0] if at == 0 else SURNAMES[self.surname][at]
        words = [given]
        if self.sikh and sikh_form != "dropped":
            words.append((SINGH if self.sex == "M" else KAUR)[at])
        if sikh_form != "surname-only":
            words.append(surname)
        return " ".join(words)

    def date(self, form: str) -> str:
        d = self.born
        return {
            "iso": d.isoformat(),
            "dmy": f"{d.day:02d}/{d.month:02d}/{d.year}",
            "mdy": f"{d.month:02d}/{d.day:02d}/{d.year}",
            "year": str(d.year),
        }[form]


def _person_row(
    person: Person, label: str, name: str, born: str, rng: random.Random, *, with_ids: bool
) -> dict[str, str]:
    return {
        "id": label,
        "name": name,
        "date_of_birth": born,
        "sex": person.sex,
        "nationality": "IND",
        "document_number": person.passport if with_ids else "",
        "phone": person.phone if with_ids and rng.random() < 0.6 else "",
    }


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    rng = random.Random(SEED)
    held = [Person(rng, n) for n in range(1, 601)]
    boi = []
    for p in held:
        script = rng.choices(SCRIPTS, (0.7, 0.15, 0.15))[0]
        row = _person_row(p, f"BOI-P-{p.number:04d}", p.name(rng, script), p.date("iso"), rng, with_ids=True)
        row["notes"] = f"{NOTE}: " + rng.choice(["overstay", "refused entry", "forged document used", "deported"])
        boi.append(row)
    _write(HOLDINGS / "boi-persons.csv", boi)

    applicants: list[dict[str, str]] = []
    for p in rng.sample(held, 24):  # persons BOI holds, written as IRCC's files write them
        script = rng.choice(SCRIPTS)
        form = rng.choice(["middle", "dropped", "surname-only"]) if p.sikh else "middle"
        born = p.date(rng.choice(["iso", "dmy", "mdy", "year"]))
        name = p.name(rng, script, variant=rng.random() < 0.5, sikh_form=form)
        applicants.append(_person_row(p, f"held:BOI-P-{p.number:04d}", name, born, rng, with_ids=rng.random() < 0.5))
    for twin in rng.sample(held, 10):  # same name, another person
        other = Person(rng, 0)
        other.given, other.surname, other.sikh, other.sex = twin.given, twin.surname, twin.sikh, twin.sex
        other.born = twin.born + timedelta(days=rng.randrange(400, 4000))
        applicants.append(
            _person_row(
                other,
                f"namesake:BOI-P-{twin.number:04d}",
                other.name(rng, "latin"),
                other.date("iso"),
                rng,
                with_ids=True,
            )
        )
    while len(applicants) < 200:
        other = Person(rng, 0)
        script = rng.choices(SCRIPTS, (0.8, 0.1, 0.1))[0]
        label = "new:"
        applicants.append(_person_row(other, label, other.name(rng, script), other.date("iso"), rng, with_ids=True))
    rng.shuffle(applicants)
    for n, row in enumerate(applicants, start=1):
        row["id"] = f"IRCC-SP-2026-{n:04d}|{row['id']}"
    # The label's second half says what the row is (held: BOI holds the person; namesake: another person of a held
    # person's name; new: a person BOI does not hold), for an evaluator; the node never reads it. An
    # evaluator reads it, the node never does: keep only the first half as the id.
    _write(
        APPLICANTS.with_name("ircc-study-permit-applicants-truth.csv"),
        [
            {"id": r["id"].split("|")[0], "kind": r["id"].split("|")[1].split(":")[0], "boi_id": r["id"].split(":")[1]}
            for r in applicants
        ],
    )
    for row in applicants:
        row["id"] = row["id"].split("|")[0]
    _write(APPLICANTS, applicants)

    _write(
        HOLDINGS / "boi-documents.csv",
        [
            {
                "id": f"BOI-D-{n:03d}",
                "document_number": f"{rng.choice('KLMNPRSTUVWZ')}{rng.randrange(10**6, 10**7)}",
                "document_type": "passport",
                "issuing_country": "IN",
                "status": rng.choice(["forged", "stolen", "lost"]),
                "notes": NOTE,
            }
            for n in range(1, 41)
        ],
    )
    _write(
        HOLDINGS / "boi-consultants.csv",
        [
            {
                "id": f"BOI-C-{n:03d}",
                "name": Person(rng, 0).name(rng, "latin") + " Overseas Consultancy",
                "licence_number": "",
                "phone": f"+91 98{rng.randrange(10**7, 10**8)}",
                "email": f"visa{n}@example.in",
                "notes": f"{NOTE}: unregistered immigration agent",
            }
            for n in range(1, 16)
        ],
    )
    _write(
        HOLDINGS / "i4c-phones.csv",
        [
            {
                "id": f"I4C-T-{n:03d}",
                "number": f"+91 9{rng.randrange(10**8, 10**9)}",
                "notes": f"{NOTE}: impersonation call centre",
            }
            for n in range(1, 51)
        ],
    )
    _write(
        HOLDINGS / "i4c-accounts.csv",
        [
            {
                "id": f"I4C-A-{n:03d}",
                "account_number": f"{rng.randrange(10**11, 10**12)}",
                "bank": "SAMPLE Bank",
                "notes": f"{NOTE}: mule account",
            }
            for n in range(1, 41)
        ],
    )
    _write(
        HOLDINGS / "i4c-wallets.csv",
        [
            {
                "id": f"I4C-W-{n:03d}",
                "address": "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40)),
                "currency": "USDT",
                "notes": f"{NOTE}: scam proceeds",
            }
            for n in range(1, 21)
        ],
    )
    _write(
        HOLDINGS / "ircc-admission-letters.csv",
        [
            {
                "id": f"IRCC-L-{n:03d}",
                "letter_number": f"LOA-{rng.randrange(10**7, 10**8)}",
                "institution_id": f"O{rng.randrange(10**10, 10**11)}",
                "institution_name": "SAMPLE College",
                "notes": f"{NOTE}: fraudulent letter of acceptance",
            }
            for n in range(1, 31)
        ],
    )
    _write(
        HOLDINGS / "ircc-consultants.csv",
        [
            {
                "id": f"IRCC-C-{n:03d}",
                "name": Person(rng, 0).name(rng, "latin") + " Immigration Services",
                "licence_number": f"R{rng.randrange(10**5, 10**6)}",
                "phone": f"+1 416 {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}",
                "email": f"info{n}@example.ca",
                "notes": f"{NOTE}: unauthorised representative",
            }
            for n in range(1, 16)
        ],
    )
    _write(
        HOLDINGS / "cafc-phones.csv",
        [
            {
                "id": f"CAFC-T-{n:03d}",
                "number": f"+1 647 {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}",
                "notes": f"{NOTE}: CRA impersonation calls",
            }
            for n in range(1, 31)
        ],
    )


if __name__ == "__main__":
    main()
