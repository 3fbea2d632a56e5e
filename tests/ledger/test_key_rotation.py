"""Key rotation between two real nodes open in this process: Canada replaces its signing key with a statement signed by
the old one, India verifies it against the key it pinned, and the offline verifier follows the rotation in Canada's
bundle from the key the auditor pinned before it. Then the attacks: a stranger's statement, a replay, a non-rotation,
a statement signed by a retired key, an envelope signed by the old key after the overlap, a forged rotation in a
bundle; and an emergency rotation, applied only once the operator confirms its fingerprint.

One pair for the module (SQLite): the tests run in order on its state, the emergency last."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from joserfc.jwk import OKPKey
from sqlalchemy import func, select

from accord.crypto.envelope import open_envelope, seal_envelope
from accord.crypto.errors import BadSignature, UnknownSender
from accord.crypto.keys import KeyRole, NodeKeys
from accord.crypto.rotation import RotationRefused, RotationStatement, sign_rotation
from accord.errors import InvalidInput
from accord.exchange.audit import export_trust_file, verify_own_ledger
from accord.ledger.anchors import load_anchors
from accord.ledger.bundle import Outcome
from accord.ledger.verify import verify_bundle
from accord.node import KEY_DIR
from accord.store.tables import events, key_rotations, peers
from accord.trust.peers import load_peers
from accord.trust.rotation import (
    accept_rotation,
    confirm_rotation,
    mark_delivered,
    rotate_own_key,
    unsent_rotations,
)
from tests.ledger.pairs import Ledger, cli, cover_tail, fill, fingerprint, open_pair, read, write


@dataclass(frozen=True)
class Rotated:
    """The pair after Canada rotated its signing key (India applied it), with what the auditor pinned before."""

    ledger: Ledger
    old_trust: Path  # Canada's trust file written before the rotation: the old key only
    old_signing: OKPKey  # Canada's old private signing key, as the archive holds it
    old_fingerprint: str
    new_fingerprint: str
    statement: str
    overlap_until: datetime


@pytest.fixture(scope="module")
def rotated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rotated]:
    ledger = fill(open_pair(tmp_path_factory.mktemp("rotation"), None, None))
    old_trust = ledger.root / "before.trust.json"
    export_trust_file(ledger.ca, old_trust)
    old_signing = ledger.ca.keys.signing
    rotation = rotate_own_key(ledger.ca, KeyRole.SIGNING)
    [unsent] = unsent_rotations(ledger.ca)
    accept_rotation(ledger.india, unsent.statement)
    mark_delivered(ledger.ca, unsent, held=False)
    cover_tail(ledger)  # a checkpoint under the new key, countersigned by India
    yield Rotated(
        ledger,
        old_trust,
        old_signing,
        rotation.old_fingerprint,
        rotation.new_fingerprint,
        unsent.statement,
        rotation.overlap_until,
    )
    ledger.close()


def stored(ledger: Ledger) -> tuple[int, int, str]:
    """What a refused statement must leave alone at India: its rotations, its ledger size, Canada's pinned key."""
    with ledger.india.engine.connect() as conn:
        return (
            conn.execute(select(func.count()).select_from(key_rotations)).scalar_one(),
            conn.execute(select(func.count()).select_from(events)).scalar_one(),
            conn.execute(select(peers.c.signing_fingerprint).where(peers.c.node_id == "ca-node-1")).scalar_one(),
        )


def statement(ledger: Ledger, old: OKPKey, new: OKPKey, **overrides: object) -> RotationStatement:
    issued = datetime.now(UTC).replace(microsecond=0)
    fields: dict[str, object] = {
        "node_id": ledger.ca.node_id,
        "aud": ledger.india.node_id,
        "role": KeyRole.SIGNING,
        "old_key": OKPKey.import_key(old.as_dict(private=False)),
        "new_key": OKPKey.import_key(new.as_dict(private=False)),
        "issued_at": issued,
        "overlap_until": issued + timedelta(days=7),
        "emergency": False,
    } | overrides
    return RotationStatement(**fields)  # type: ignore[arg-type]


def events_of(node_engine: object, event_type: str) -> list[dict[str, object]]:
    with node_engine.connect() as conn:  # type: ignore[attr-defined]
        rows = conn.execute(select(events.c.refs).where(events.c.type == event_type).order_by(events.c.id)).all()
    return [json.loads(row.refs) for row in rows]


# ---------------------------------------------------------------------------------------------- the rotation


def test_the_rotating_node_signs_with_the_new_key_and_keeps_the_old_one_archived_owner_only(rotated: Rotated) -> None:
    ca = rotated.ledger.ca
    assert fingerprint(ca) == rotated.new_fingerprint != rotated.old_fingerprint
    archived = ca.settings.data_dir / KEY_DIR / "archive" / f"signing-{rotated.old_fingerprint}.pem"
    assert stat.S_IMODE(os.stat(archived).st_mode) == 0o600
    assert NodeKeys.load(ca.settings.data_dir / KEY_DIR).signing.thumbprint() == rotated.new_fingerprint
    [recorded] = events_of(ca.engine, "key.rotated")
    assert recorded["key"] == "signing" and recorded["old"] == rotated.old_fingerprint
    assert recorded["new"] == rotated.new_fingerprint and "emergency" not in recorded


def test_the_peer_pins_the_new_key_and_keeps_the_old_one_for_the_overlap(rotated: Rotated) -> None:
    india = rotated.ledger.india
    with india.engine.connect() as conn:
        [canada] = load_peers(india, conn)
    assert canada.pinned.keys.signing_fingerprint == rotated.new_fingerprint
    assert canada.pinned.signing_fingerprints == (rotated.new_fingerprint, rotated.old_fingerprint)
    [retired] = canada.pinned.retired_signing
    assert retired.accepted_until == rotated.overlap_until
    assert canada.pinned.signing_key(rotated.old_fingerprint, datetime.now(UTC)) is not None
    assert canada.pinned.signing_key(rotated.old_fingerprint, rotated.overlap_until) is None
    assert canada.pinned.signing_key(rotated.old_fingerprint, None) is not None  # history
    [recorded] = events_of(india.engine, "peer.key_rotated")
    assert recorded["peer"] == "ca-node-1" and recorded["new"] == rotated.new_fingerprint


def test_an_envelope_signed_by_the_old_key_opens_during_the_overlap_and_is_refused_after_it(rotated: Rotated) -> None:
    ca, india = rotated.ledger.ca, rotated.ledger.india
    with india.engine.connect() as conn:
        [canada] = load_peers(india, conn)
    old_keys = NodeKeys(signing=rotated.old_signing, encryption=ca.keys.encryption)
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": ca.node_id, "aud": india.node_id, "jti": "j-1", "iat": now, "kind": "notice", "body": {}}
    token = seal_envelope(claims, old_keys, india.keys.public)

    def opened(at: int) -> object:
        return open_envelope(token, india.node_id, india.keys, lambda kid: canada.pinned, at, 10**9, 60)

    assert opened(now)
    with pytest.raises(UnknownSender, match="was retired by a key rotation"):
        opened(int(rotated.overlap_until.timestamp()) + 1)


def test_the_old_log_verifies_offline_from_the_key_the_auditor_pinned_before_the_rotation(
    rotated: Rotated,
) -> None:
    bundle = rotated.ledger.export("after.json.gz")
    assert [r["node_id"] for r in read(bundle)["rotations"]] == ["ca-node-1"]

    verdict = verify_bundle(bundle, anchors=load_anchors([rotated.old_trust], []))

    assert verdict.outcome is Outcome.VERIFIED, verdict.problems
    result = cli(None, "verify", str(bundle), "--trust", str(rotated.old_trust))
    assert result.exit_code == 0, result.output
    for node in (rotated.ledger.ca, rotated.ledger.india):
        own = verify_own_ledger(node)
        assert own.outcome is Outcome.VERIFIED, own.problems


def test_a_bundle_with_a_forged_rotation_is_rejected_naming_the_key_that_signed_it(rotated: Rotated) -> None:
    ledger = rotated.ledger
    forger = OKPKey.generate_key("Ed25519")
    forged = read(ledger.export("forged.json.gz"))
    forged["rotations"][0]["statement"] = sign_rotation(statement(ledger, rotated.old_signing, forger), forger)

    verdict = verify_bundle(
        write(ledger.root / "forged.json.gz", forged), anchors=load_anchors([rotated.old_trust], [])
    )

    assert verdict.outcome is Outcome.FAILED
    assert verdict.problems[0] == (
        "rotation statement 0 of ca-node-1 is refused: the key rotation statement is signed by key "
        f"{forger.thumbprint()}, not by the key in force {rotated.old_fingerprint}"
    )


# ------------------------------------------------------------------------------------------------- attacks


def test_a_strangers_rotation_statement_is_refused_and_changes_nothing(rotated: Rotated) -> None:
    ledger = rotated.ledger
    stranger = OKPKey.generate_key("Ed25519")
    token = sign_rotation(statement(ledger, stranger, OKPKey.generate_key("Ed25519")), stranger)
    before = stored(ledger)

    with pytest.raises(UnknownSender, match="no pinned peer has signing key"):
        accept_rotation(ledger.india, token)

    assert stored(ledger) == before


def test_a_statement_carrying_the_pinned_key_but_signed_by_another_is_refused(rotated: Rotated) -> None:
    """The key a statement names as old is never the key it is verified with."""
    ledger = rotated.ledger
    forger = OKPKey.generate_key("Ed25519")
    current = ledger.ca.keys.signing
    token = sign_rotation(statement(ledger, current, forger), forger)
    before = stored(ledger)

    with pytest.raises(UnknownSender):
        accept_rotation(ledger.india, token)

    assert stored(ledger) == before


def test_the_same_statement_sent_again_changes_nothing(rotated: Rotated) -> None:
    before = stored(rotated.ledger)

    again = accept_rotation(rotated.ledger.india, rotated.statement)

    assert (again.new_fingerprint, again.held) == (rotated.new_fingerprint, False)
    assert stored(rotated.ledger) == before


def test_an_old_statement_replayed_under_the_retired_key_is_refused(rotated: Rotated) -> None:
    """A replay of the rotation re-signed (so not byte for byte the one applied), or any statement by the old key."""
    ledger = rotated.ledger
    issued = rotated.overlap_until - timedelta(days=7, minutes=1)
    replay = sign_rotation(
        statement(ledger, rotated.old_signing, ledger.ca.keys.signing, issued_at=issued, overlap_until=issued),
        rotated.old_signing,
    )
    before = stored(ledger)

    with pytest.raises(RotationRefused, match="signed by ca-node-1's retired key"):
        accept_rotation(ledger.india, replay)

    assert stored(ledger) == before


def test_a_statement_whose_new_key_is_the_old_key_is_refused(rotated: Rotated) -> None:
    ledger = rotated.ledger
    current = ledger.ca.keys.signing
    token = sign_rotation(statement(ledger, current, current), current)
    before = stored(ledger)

    with pytest.raises(RotationRefused, match="is its old key"):
        accept_rotation(ledger.india, token)

    assert stored(ledger) == before


def test_a_statement_back_to_a_retired_key_or_for_another_node_is_refused(rotated: Rotated) -> None:
    ledger = rotated.ledger
    current = ledger.ca.keys.signing
    back = sign_rotation(statement(ledger, current, rotated.old_signing), current)
    elsewhere = sign_rotation(statement(ledger, current, OKPKey.generate_key("Ed25519"), aud="in-node-9"), current)
    before = stored(ledger)

    with pytest.raises(RotationRefused, match="a retired key is never reused"):
        accept_rotation(ledger.india, back)
    with pytest.raises(RotationRefused, match="addressed to 'in-node-9'"):
        accept_rotation(ledger.india, elsewhere)

    assert stored(ledger) == before


def test_a_statement_signed_with_a_tampered_payload_does_not_verify(rotated: Rotated) -> None:
    ledger = rotated.ledger
    current = ledger.ca.keys.signing
    header, _, signature = sign_rotation(statement(ledger, current, OKPKey.generate_key("Ed25519")), current).split(".")
    other = sign_rotation(statement(ledger, current, OKPKey.generate_key("Ed25519")), current).split(".")[1]
    before = stored(ledger)

    with pytest.raises(BadSignature):
        accept_rotation(ledger.india, f"{header}.{other}.{signature}")

    assert stored(ledger) == before


# ------------------------------------------------------------------------------------------------ emergency


def test_an_emergency_rotation_is_held_until_the_operator_confirms_the_fingerprint_read_out(rotated: Rotated) -> None:
    """India's signing key is compromised: Canada holds the statement, refuses a wrong fingerprint, applies the right
    one; the old key is not accepted after it, and both ledgers mark the rotation as an emergency."""
    ledger = rotated.ledger
    india_old = fingerprint(ledger.india)
    rotation = rotate_own_key(ledger.india, KeyRole.SIGNING, emergency=True)
    [unsent] = unsent_rotations(ledger.india)

    held = accept_rotation(ledger.ca, unsent.statement)

    assert held.held and held.emergency
    with ledger.ca.engine.connect() as conn:
        [india] = load_peers(ledger.ca, conn)
    assert india.pinned.keys.signing_fingerprint == india_old  # nothing applied yet
    with pytest.raises(InvalidInput, match="does not match"):
        confirm_rotation(ledger.ca, OKPKey.generate_key("Ed25519").thumbprint())

    applied = confirm_rotation(ledger.ca, rotation.new_fingerprint)

    assert not applied.held
    with ledger.ca.engine.connect() as conn:
        [india] = load_peers(ledger.ca, conn)
    assert india.pinned.keys.signing_fingerprint == rotation.new_fingerprint
    assert india.pinned.signing_key(india_old, datetime.now(UTC)) is None  # no overlap
    assert india.pinned.signing_key(india_old, None) is not None  # history
    assert events_of(ledger.india.engine, "key.rotated")[-1]["emergency"] == "yes"
    assert events_of(ledger.ca.engine, "peer.key_rotation_held")[-1]["emergency"] == "yes"
    confirmed = events_of(ledger.ca.engine, "peer.key_rotated")[-1]
    assert (confirmed["emergency"], confirmed["confirmed_by"]) == ("yes", "operator")
