"""A seeded generator of Canada–India person pairs for the matching benchmark: one person as each side recorded them
(Latin spellings, Devanagari, Gurmukhi; Singh/Kaur as middle name, surname or dropped; initials; honorifics; dates
with day and month exchanged or a year alone; phones written locally or with +91), and hard negatives: different
people of the same name."""

from __future__ import annotations

import random
from dataclasses import replace

from accord.matching.records import PersonRecord

# (Latin spellings, Devanagari, Gurmukhi); the first spelling is the most common.
GIVEN_M = [
    (["Gurpreet", "Gurprit", "Gurpreeth"], "गुरप्रीत", "ਗੁਰਪ੍ਰੀਤ"),
    (["Harjeet", "Harjit", "Harjeeth"], "हरजीत", "ਹਰਜੀਤ"),
    (["Jaswinder", "Jasvinder", "Jaswindar"], "जसविंदर", "ਜਸਵਿੰਦਰ"),
    (["Manpreet", "Manprit"], "मनप्रीत", "ਮਨਪ੍ਰੀਤ"),
    (["Rajesh", "Rajes"], "राजेश", "ਰਾਜੇਸ਼"),
    (["Sukhwinder", "Sukhvinder", "Sukhwindar"], "सुखविंदर", "ਸੁਖਵਿੰਦਰ"),
    (["Amarjeet", "Amarjit"], "अमरजीत", "ਅਮਰਜੀਤ"),
    (["Balwinder", "Balvinder"], "बलविंदर", "ਬਲਵਿੰਦਰ"),
    (["Kuldeep", "Kuldip"], "कुलदीप", "ਕੁਲਦੀਪ"),
    (["Paramjit", "Paramjeet"], "परमजीत", "ਪਰਮਜੀਤ"),
    (["Ravinder", "Ravindar", "Rabinder"], "रविंदर", "ਰਵਿੰਦਰ"),
    (["Sandeep", "Sandip"], "संदीप", "ਸੰਦੀਪ"),
    (["Vikram", "Vikramjit"], "विक्रम", "ਵਿਕਰਮ"),
    (["Amit", "Ameet"], "अमित", "ਅਮਿਤ"),
    (["Sunil", "Suneel"], "सुनील", "ਸੁਨੀਲ"),
    (["Rakesh", "Rakes"], "राकेश", "ਰਾਕੇਸ਼"),
    (["Deepak", "Dipak"], "दीपक", "ਦੀਪਕ"),
    (["Hardeep", "Hardip"], "हरदीप", "ਹਰਦੀਪ"),
    (["Tejinder", "Tajinder"], "तजिंदर", "ਤਜਿੰਦਰ"),
    (["Navjot", "Navjyot"], "नवजोत", "ਨਵਜੋਤ"),
    (["Arjun"], "अर्जुन", "ਅਰਜੁਨ"),
    (["Rahul"], "राहुल", "ਰਾਹੁਲ"),
    (["Sanjay", "Sanjai"], "संजय", "ਸੰਜੇ"),
    (["Vijay", "Vijai"], "विजय", "ਵਿਜੇ"),
    (["Ajay", "Ajai"], "अजय", "ਅਜੇ"),
    (["Mohan"], "मोहन", "ਮੋਹਨ"),
    (["Suresh", "Sures"], "सुरेश", "ਸੁਰੇਸ਼"),
    (["Mahesh"], "महेश", "ਮਹੇਸ਼"),
    (["Ramesh"], "रमेश", "ਰਮੇਸ਼"),
    (["Anil", "Aneel"], "अनिल", "ਅਨਿਲ"),
    (["Manoj"], "मनोज", "ਮਨੋਜ"),
    (["Ashok", "Asok"], "अशोक", "ਅਸ਼ੋਕ"),
    (["Harinder", "Harindar"], "हरिंदर", "ਹਰਿੰਦਰ"),
    (["Jagdeep", "Jagdip"], "जगदीप", "ਜਗਦੀਪ"),
    (["Gurdev"], "गुरदेव", "ਗੁਰਦੇਵ"),
    (["Baljinder"], "बलजिंदर", "ਬਲਜਿੰਦਰ"),
    (["Lakhwinder", "Lakhvinder"], "लखविंदर", "ਲਖਵਿੰਦਰ"),
    (["Inderjit", "Inderjeet"], "इंदरजीत", "ਇੰਦਰਜੀਤ"),
    (["Karan"], "करण", "ਕਰਨ"),
    (["Nitin"], "नितिन", "ਨਿਤਿਨ"),
    (["Pradeep", "Pradip"], "प्रदीप", "ਪ੍ਰਦੀਪ"),
    (["Yashpal"], "यशपाल", "ਯਸ਼ਪਾਲ"),
    (["Gurmeet", "Gurmit"], "गुरमीत", "ਗੁਰਮੀਤ"),
    (["Jatinder", "Jatindar"], "जतिंदर", "ਜਤਿੰਦਰ"),
    (["Arshdeep", "Arshdip"], "अर्शदीप", "ਅਰਸ਼ਦੀਪ"),
]
GIVEN_F = [
    (["Harpreet", "Harprit"], "हरप्रीत", "ਹਰਪ੍ਰੀਤ"),
    (["Simran", "Simren"], "सिमरन", "ਸਿਮਰਨ"),
    (["Navneet", "Navnit"], "नवनीत", "ਨਵਨੀਤ"),
    (["Priya", "Pria"], "प्रिया", "ਪ੍ਰਿਆ"),
    (["Lakshmi", "Laxmi"], "लक्ष्मी", "ਲਕਸ਼ਮੀ"),
    (["Sunita", "Suneeta"], "सुनीता", "ਸੁਨੀਤਾ"),
    (["Kiranjeet", "Kiranjit"], "किरणजीत", "ਕਿਰਨਜੀਤ"),
    (["Rajwinder", "Rajvinder"], "राजविंदर", "ਰਾਜਵਿੰਦਰ"),
    (["Parminder", "Parmindar"], "परमिंदर", "ਪਰਮਿੰਦਰ"),
    (["Jasleen", "Jaslin"], "जसलीन", "ਜਸਲੀਨ"),
    (["Gurleen", "Gurlin"], "गुरलीन", "ਗੁਰਲੀਨ"),
    (["Amandeep", "Amandip"], "अमनदीप", "ਅਮਨਦੀਪ"),
    (["Pooja", "Puja"], "पूजा", "ਪੂਜਾ"),
    (["Neha", "Nehaa"], "नेहा", "ਨੇਹਾ"),
    (["Anjali", "Anjlee"], "अंजलि", "ਅੰਜਲੀ"),
    (["Manjeet", "Manjit"], "मनजीत", "ਮਨਜੀਤ"),
    (["Rupinder"], "रुपिंदर", "ਰੁਪਿੰਦਰ"),
    (["Sukhpreet", "Sukhprit"], "सुखप्रीत", "ਸੁਖਪ੍ਰੀਤ"),
    (["Jaspreet", "Jasprit"], "जसप्रीत", "ਜਸਪ੍ਰੀਤ"),
    (["Mandeep", "Mandip"], "मनदीप", "ਮਨਦੀਪ"),
    (["Kavita", "Kavitha"], "कविता", "ਕਵਿਤਾ"),
    (["Meena"], "मीना", "ਮੀਨਾ"),
    (["Rekha"], "रेखा", "ਰੇਖਾ"),
    (["Asha"], "आशा", "ਆਸ਼ਾ"),
    (["Divya"], "दिव्या", "ਦਿਵਿਆ"),
    (["Shalini"], "शालिनी", "ਸ਼ਾਲਿਨੀ"),
    (["Ritu"], "रितु", "ਰਿਤੂ"),
    (["Sarabjit", "Sarabjeet"], "सरबजीत", "ਸਰਬਜੀਤ"),
    (["Gurpreet", "Gurprit"], "गुरप्रीत", "ਗੁਰਪ੍ਰੀਤ"),
    (["Harleen", "Harlin"], "हरलीन", "ਹਰਲੀਨ"),
    (["Manisha"], "मनीषा", "ਮਨੀਸ਼ਾ"),
    (["Nisha"], "निशा", "ਨਿਸ਼ਾ"),
    (["Sonia", "Sonya"], "सोनिया", "ਸੋਨੀਆ"),
    (["Komal"], "कोमल", "ਕੋਮਲ"),
]
SURNAMES = [
    (["Sandhu", "Sandu"], "संधू", "ਸੰਧੂ"),
    (["Dhillon", "Dhilon"], "ढिल्लों", "ਢਿੱਲੋਂ"),
    (["Grewal", "Garewal"], "ग्रेवाल", "ਗਰੇਵਾਲ"),
    (["Sidhu", "Sidhoo"], "सिद्धू", "ਸਿੱਧੂ"),
    (["Gill"], "गिल", "ਗਿੱਲ"),
    (["Brar", "Barar"], "बराड़", "ਬਰਾੜ"),
    (["Sharma", "Sarma"], "शर्मा", "ਸ਼ਰਮਾ"),
    (["Verma", "Varma"], "वर्मा", "ਵਰਮਾ"),
    (["Chaudhary", "Choudhury", "Chaudhry"], "चौधरी", "ਚੌਧਰੀ"),
    (["Aggarwal", "Agarwal", "Agrawal"], "अग्रवाल", "ਅਗਰਵਾਲ"),
    (["Bains", "Bance"], "बैंस", "ਬੈਂਸ"),
    (["Randhawa", "Randawa"], "रंधावा", "ਰੰਧਾਵਾ"),
    (["Kang"], "कंग", "ਕੰਗ"),
    (["Johal", "Johl"], "जौहल", "ਜੌਹਲ"),
    (["Malhotra", "Malhautra"], "मल्होत्रा", "ਮਲਹੋਤਰਾ"),
    (["Khanna", "Khana"], "खन्ना", "ਖੰਨਾ"),
    (["Bhatia", "Bhatiya"], "भाटिया", "ਭਾਟੀਆ"),
    (["Saini", "Sainy"], "सैनी", "ਸੈਣੀ"),
    (["Mann", "Man"], "मान", "ਮਾਨ"),
    (["Dhaliwal", "Dhaliwaal"], "धालीवाल", "ਧਾਲੀਵਾਲ"),
    (["Bajwa", "Bajva"], "बाजवा", "ਬਾਜਵਾ"),
    (["Cheema", "Chima"], "चीमा", "ਚੀਮਾ"),
    (["Dhami"], "धामी", "ਧਾਮੀ"),
    (["Hundal"], "हुंदल", "ਹੁੰਦਲ"),
    (["Sekhon"], "सेखों", "ਸੇਖੋਂ"),
    (["Virk"], "विर्क", "ਵਿਰਕ"),
    (["Toor", "Tur"], "तूर", "ਤੂਰ"),
    (["Aulakh", "Olakh"], "औलख", "ਔਲਖ"),
    (["Pannu"], "पन्नू", "ਪੰਨੂ"),
    (["Sohal"], "सोहल", "ਸੋਹਲ"),
    (["Gupta"], "गुप्ता", "ਗੁਪਤਾ"),
    (["Kapoor", "Kapur"], "कपूर", "ਕਪੂਰ"),
    (["Arora"], "अरोड़ा", "ਅਰੋੜਾ"),
    (["Mehta"], "मेहता", "ਮਹਿਤਾ"),
    (["Chopra"], "चोपड़ा", "ਚੋਪੜਾ"),
    (["Bhalla"], "भल्ला", "ਭੱਲਾ"),
    (["Sethi"], "सेठी", "ਸੇਠੀ"),
    (["Thakur"], "ठाकुर", "ਠਾਕੁਰ"),
    (["Yadav"], "यादव", "ਯਾਦਵ"),
    (["Patel"], "पटेल", "ਪਟੇਲ"),
    (["Joshi"], "जोशी", "ਜੋਸ਼ੀ"),
    (["Nair"], "नायर", "ਨਾਇਰ"),
    (["Reddy", "Reddi"], "रेड्डी", "ਰੈੱਡੀ"),
    (["Chauhan", "Chouhan"], "चौहान", "ਚੌਹਾਨ"),
    (["Rana"], "राणा", "ਰਾਣਾ"),
]
WEAK = {"M": (["Singh", "Sing"], "सिंह", "ਸਿੰਘ"), "F": (["Kaur", "Kour"], "कौर", "ਕੌਰ")}
MIDDLE = [(["Kumar"], "कुमार", "ਕੁਮਾਰ"), (["Pal"], "पाल", "ਪਾਲ"), (["Deep", "Dip"], "दीप", "ਦੀਪ")]
Word = tuple[list[str], str, str]


def _common(rng: random.Random, words: list[Word]) -> Word:
    """Names are not equally common: the first of a list a few times as common as the last."""
    return rng.choices(words, weights=[1 / (1 + 0.08 * rank) for rank in range(len(words))])[0]


def _spell(rng: random.Random, word: Word, script: str) -> str:
    latin, devanagari, gurmukhi = word
    if script == "deva":
        return devanagari
    if script == "guru":
        return gurmukhi
    return latin[0] if rng.random() < 0.55 else rng.choice(latin)


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 4 or not text.isascii():
        return text
    at = rng.randrange(1, len(text) - 1)
    kind = rng.random()
    if kind < 0.4:
        return text[:at] + text[at + 1 :]
    if kind < 0.7:
        return text[:at] + text[at] + text[at:]
    return text[: at - 1] + text[at] + text[at - 1] + text[at + 1 :]


class Person:
    def __init__(self, rng: random.Random, number: int) -> None:
        self.sex = rng.choice("MF")
        self.given = _common(rng, GIVEN_M if self.sex == "M" else GIVEN_F)
        self.middle = rng.choice(MIDDLE) if rng.random() < 0.15 else None
        self.sikh = rng.random() < 0.6
        self.surname = _common(rng, SURNAMES)
        self.year, self.month, self.day = rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)
        self.phone = f"9{rng.randint(100000000, 999999999)}"
        self.document = f"{rng.choice('JKLMNPRSTUVWZ')}{rng.randint(1000000, 9999999)}" if rng.random() < 0.5 else ""
        self.number = number


def recorded(rng: random.Random, person: Person, record_id: str, *, indian_side: bool, noisy: float) -> PersonRecord:
    """The person as one side wrote them down."""
    script = "latin"
    if indian_side and rng.random() < 0.6:
        script = rng.choice(["deva", "guru"]) if rng.random() < 0.9 else "deva"
    words: list[str] = []
    given = _spell(rng, person.given, script)
    if script == "latin" and rng.random() < 0.06 * noisy:
        given = _typo(rng, given)
    initials = script == "latin" and rng.random() < 0.05 * noisy
    words.append(given[0] + "." if initials else given)
    if person.middle is not None and rng.random() < 0.6:
        words.append(_spell(rng, person.middle, script))
    weak = WEAK[person.sex] if person.sikh else None
    surname_dropped = weak is not None and rng.random() < 0.15 * noisy  # Singh/Kaur as the surname
    if weak is not None and rng.random() < 0.75:
        words.append(_spell(rng, weak, script)[0] + "." if initials else _spell(rng, weak, script))
    if not surname_dropped:
        surname = _spell(rng, person.surname, script)
        words.append(_typo(rng, surname) if script == "latin" and rng.random() < 0.05 * noisy else surname)
    if rng.random() < 0.1:
        words.insert(0, rng.choice(["Mr", "Shri", "Dr"] if person.sex == "M" else ["Mrs", "Ms", "Smt", "Kumari"]))
    date = _date(rng, person, noisy)
    document = person.document
    if document and rng.random() < 0.05 * noisy:
        document = document[:-2] + document[-1] + document[-2]  # two digits exchanged
    elif document and rng.random() < 0.05 * noisy:
        document = f"{rng.choice('JKLMNPRSTUVWZ')}{rng.randint(1000000, 9999999)}"  # a renewed passport
    phone = ""
    if rng.random() < 0.6:
        phone = rng.choice([person.phone, f"+91 {person.phone[:5]} {person.phone[5:]}", f"0{person.phone}"])
    return PersonRecord(
        id=record_id,
        name=" ".join(words),
        date_of_birth=date,
        sex=(person.sex if rng.random() < 0.5 else {"M": "Male", "F": "Female"}[person.sex])
        if rng.random() < 0.7
        else "",
        nationality=rng.choice(["IN", "IND", "Indian", "India"]) if rng.random() < 0.5 else "",
        document_number=(document.lower() if rng.random() < 0.3 else document) if rng.random() < 0.7 else "",
        phone=phone,
    )


def _date(rng: random.Random, person: Person, noisy: float) -> str:
    y, m, d = person.year, person.month, person.day
    roll = rng.random()
    if roll < 0.04:
        return ""
    if roll < 0.04 + 0.05 * noisy:
        return str(y)
    if roll < 0.04 + 0.15 * noisy and d <= 12:
        m, d = d, m  # the day and the month exchanged by whoever wrote it down
    elif roll < 0.04 + 0.19 * noisy:
        d = min(28, d + rng.choice([-1, 1])) or 1  # a digit wrong
    elif roll < 0.04 + 0.191 * noisy:
        y, m, d = rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)  # another person's date entered
    form = rng.random()
    if form < 0.4:
        return f"{y:04d}-{m:02d}-{d:02d}"
    if form < 0.8:
        return f"{d:02d}/{m:02d}/{y:04d}"
    return f"{d} {['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][m - 1]} {y}"


def generate(
    seed: int, n: int, *, overlap: float = 0.5, hard_negatives: float = 0.2, noisy: float = 1.0
) -> tuple[list[PersonRecord], list[PersonRecord], set[tuple[str, str]]]:
    """(Canadian side, Indian side, true pairs): `overlap` of the persons are on both sides; `hard_negatives` of the
    Indian side's others are another person of the very same name."""
    rng = random.Random(seed)
    left: list[PersonRecord] = []
    right: list[PersonRecord] = []
    truth: set[tuple[str, str]] = set()
    for number in range(n):
        person = Person(rng, number)
        left_record = recorded(rng, person, f"ca-{number}", indian_side=False, noisy=noisy)
        left.append(left_record)
        if rng.random() < overlap:
            right.append(recorded(rng, person, f"in-{number}", indian_side=True, noisy=noisy))
            truth.add((f"ca-{number}", f"in-{number}"))
        elif rng.random() < hard_negatives:
            other = Person(rng, number)
            other.given, other.surname, other.middle, other.sikh = (
                person.given,
                person.surname,
                person.middle,
                person.sikh,
            )
            other.sex = person.sex
            right.append(recorded(rng, other, f"in-{number}", indian_side=True, noisy=noisy))
        else:
            right.append(recorded(rng, Person(rng, number), f"in-{number}", indian_side=True, noisy=noisy))
    rng.shuffle(right)
    return left, right, truth


def with_unique_ids(records: list[PersonRecord], prefix: str) -> list[PersonRecord]:
    return [replace(r, id=f"{prefix}{r.id}") for r in records]
