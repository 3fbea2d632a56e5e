"""A decision and an arrival screen are recorded the same whichever process makes them. Python salts string hashes per
process and Cedar gives its reasons as a set, so anything taken from a set in its own order (the policies that
decided, the sensitive words found) changed from one process to the next: with the code before, four hash seeds gave
four different records of these drafts. Drafts as officers write them: French, Hindi, Punjabi and English, suspects,
victims and witnesses, words that differ only by case, an empty body."""

from __future__ import annotations

import json
import os
import subprocess
import sys

_DECIDE = """
import json
from accord.datafiles import load_agreement
from accord.domain.parties import Party
from accord.exchange.disclosure import ArrivalScreen, screen_arriving
from accord.policy.cases import Case, build_message, load_table
from accord.policy.engine import CedarPolicy
from accord.policy.pack import load_pack, shipped_pack_dir

TEXTS = [
    "La victime, une femme sikh, a vu le suspect au Gurdwara ; le témoin dit que le gurdwara était fermé. Merci de "
    "confirmer son appartenance religieuse.",
    "पीड़ित ने बताया कि आरोपी मंदिर जाता है। कृपया बताएं वह किस जाति का है और किस पार्टी का समर्थक है।",
    "ਗਵਾਹ ਨੇ ਦੱਸਿਆ ਕਿ ਸ਼ੱਕੀ ਗੁਰਦੁਆਰੇ ਜਾਂਦਾ ਹੈ। ਕਿਰਪਾ ਕਰਕੇ ਉਸ ਦੀ ਧਾਰਮਿਕ ਪਛਾਣ ਦੱਸੋ।",
    "Witness states the Sikh man and another sikh man attended a Khalistan rally; the victim was threatened. Who does "
    "he meet at the gurdwara? Use as evidence in court.",
    "Anti-national elements; the anti-national suspect's biradari and Biradari elders; please send for his trial.",
    " ",
]
SUBJECTS = [[], [{"kind": "person", "name": "Harpreet Singh", "role": "victim"}],
            [{"kind": "person", "name": "Ram Kumar", "role": "witness"}]]
agreement = load_agreement()
records = []
for party in Party:
    pack = load_pack(shipped_pack_dir(party))
    engine = CedarPolicy(pack, agreement)
    table = load_table(shipped_pack_dir(party) / "cases.yaml")
    screen = ArrivalScreen(pack.label, pack.manifest.screens.neutrality)
    for index, text in enumerate(TEXTS):
        for subjects in SUBJECTS:
            case = Case.model_validate(
                {"name": "probe", "message": {"body": text, "subjects": subjects}, "expect": {"decision": "allow"}}
            )
            message, principal = build_message(table, case, agreement, index)
            records.append([engine.decide(message, principal, None).as_json(), screen_arriving(screen, message)])
print(json.dumps(records, ensure_ascii=False))
"""


def recorded_with_hash_seed(seed: int) -> list[object]:
    env = os.environ | {"PYTHONHASHSEED": str(seed)}
    done = subprocess.run([sys.executable, "-c", _DECIDE], env=env, capture_output=True, text=True, check=True)
    records: list[object] = json.loads(done.stdout)
    return records


def test_the_same_drafts_are_recorded_alike_under_every_hash_seed() -> None:
    first = recorded_with_hash_seed(1)
    assert len(first) == 36
    verdicts = {record[0]["verdict"] for record in first}  # type: ignore[index]
    assert {"allow", "review"} <= verdicts  # drafts held on more than one policy are among them
    for seed in (2, 3):
        assert recorded_with_hash_seed(seed) == first
