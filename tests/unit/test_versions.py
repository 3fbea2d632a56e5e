"""Wire versions between peers (accord.crypto.versions): the choice of the version to send in, what descriptors and
envelopes carry, and the artefacts of the release before versions (tests/data/golden) read as version 1."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accord.crypto.descriptors import NodeDescriptor, sign_descriptor, verify_descriptor
from accord.crypto.envelope import PinnedPeer, open_envelope, seal_envelope
from accord.crypto.errors import MalformedArtefact
from accord.crypto.versions import (
    OWN_VERSIONS,
    UNADVERTISED,
    Negotiated,
    NoCommonVersion,
    UnsupportedEnvelopeVersion,
    VersionKind,
    WireVersions,
    envelope_version,
    highest_common,
    negotiate,
    read_versions,
    require_known_envelope_version,
)
from tests.golden import CA, ENVELOPE, IN, SEALED_AT, descriptor_path, load_keys, read_text

versions = st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=8).map(
    lambda listed: tuple(sorted(set(listed)))
)
wire_versions = st.builds(WireVersions, envelope=versions, protocol=versions)


# --- negotiation ------------------------------------------------------------------------------------------------------


@given(versions, versions)
def test_the_version_chosen_is_the_highest_both_sides_understand(
    ours: tuple[int, ...], theirs: tuple[int, ...]
) -> None:
    chosen = highest_common(ours, theirs)
    common = set(ours) & set(theirs)
    if not common:
        assert chosen is None
        return
    assert chosen in ours and chosen in theirs
    assert all(v <= chosen for v in common)


@given(versions, versions)
def test_the_choice_does_not_depend_on_which_side_chooses(ours: tuple[int, ...], theirs: tuple[int, ...]) -> None:
    assert highest_common(ours, theirs) == highest_common(theirs, ours)


@given(wire_versions, wire_versions)
def test_negotiation_gives_both_kinds_or_refuses_naming_both_sides(ours: WireVersions, theirs: WireVersions) -> None:
    try:
        negotiated = negotiate(ours, theirs)
    except NoCommonVersion as refusal:
        assert highest_common(ours.of(refusal.kind), theirs.of(refusal.kind)) is None
        assert refusal.extensions() == {"kind": refusal.kind.value, "supported": ours.claim(), "peer": theirs.claim()}
        return
    assert negotiated == Negotiated(
        envelope=max(set(ours.envelope) & set(theirs.envelope)),
        protocol=max(set(ours.protocol) & set(theirs.protocol)),
    )


@given(wire_versions)
def test_a_peer_that_advertised_nothing_is_spoken_to_in_version_1_if_we_still_speak_it(ours: WireVersions) -> None:
    if 1 in ours.envelope and 1 in ours.protocol:
        assert negotiate(ours, None) == Negotiated(envelope=1, protocol=1)
    else:
        with pytest.raises(NoCommonVersion):
            negotiate(ours, None)


def test_this_release_speaks_version_1_to_an_older_node_and_the_highest_shared_to_a_newer_one() -> None:
    assert negotiate(OWN_VERSIONS, None) == Negotiated(1, 1)
    assert negotiate(OWN_VERSIONS, WireVersions(envelope=(1,), protocol=(1,))) == Negotiated(1, 1)
    assert negotiate(OWN_VERSIONS, WireVersions(envelope=(1, 2, 3), protocol=(1, 2))) == Negotiated(2, 1)


def test_a_peer_that_dropped_every_version_we_speak_is_refused_with_both_lists_in_the_detail() -> None:
    with pytest.raises(NoCommonVersion) as refused:
        negotiate(OWN_VERSIONS, WireVersions(envelope=(3, 4), protocol=(1,)))
    assert refused.value.kind is VersionKind.ENVELOPE
    assert refused.value.status == 409
    assert "this node understands [1, 2], the peer advertises [3, 4]" in refused.value.detail


# --- the claims -------------------------------------------------------------------------------------------------------


@given(wire_versions)
def test_advertised_versions_read_back_as_written(advertised: WireVersions) -> None:
    assert read_versions({"versions": advertised.claim()}, "hello") == advertised


def test_a_claim_without_versions_is_a_release_before_versions() -> None:
    assert read_versions({"iss": CA}, "hello") is None


@pytest.mark.parametrize(
    "claim",
    [
        [1],
        {"envelope": [1]},
        {"envelope": [], "protocol": [1]},
        {"envelope": [0], "protocol": [1]},
        {"envelope": [True], "protocol": [1]},
        {"envelope": ["1"], "protocol": [1]},
        {"envelope": [1], "protocol": list(range(1, 40))},
        {"envelope": [2**40], "protocol": [1]},
    ],
    ids=["not-an-object", "no-protocol", "empty", "zero", "boolean", "string", "too-many", "too-large"],
)
def test_a_malformed_versions_claim_is_refused_naming_it(claim: Any) -> None:
    with pytest.raises(MalformedArtefact, match="claim 'versions'"):
        read_versions({"versions": claim}, "hello")


@pytest.mark.parametrize("value", ["1", 0, -1, True, 1.0, None])
def test_an_envelope_version_that_is_not_a_positive_integer_is_malformed(value: Any) -> None:
    with pytest.raises(MalformedArtefact, match="claim 'ver'"):
        envelope_version({"ver": value})


def test_an_unknown_envelope_version_is_refused_naming_it_and_the_ones_read_here() -> None:
    require_known_envelope_version(1)
    require_known_envelope_version(2)
    with pytest.raises(UnsupportedEnvelopeVersion) as refused:
        require_known_envelope_version(3)
    assert refused.value.extensions() == {"version": 3, "supported": [1, 2]}
    assert refused.value.slug == "unsupported-envelope-version"


def test_a_descriptor_advertising_versions_verifies_to_them_and_an_old_verifier_sees_only_an_extra_claim() -> None:
    keys = load_keys(CA)
    descriptor = NodeDescriptor(CA, "CA", "https://ca.example", keys.public, "2026-11-30T08:00:00+00:00", OWN_VERSIONS)
    token = sign_descriptor(descriptor, keys)
    assert verify_descriptor(token) == descriptor
    assert descriptor.claims()["versions"] == {"envelope": [1, 2], "protocol": [1]}


def test_an_envelope_sealed_in_a_later_version_carries_it_in_its_signed_claims() -> None:
    ca, india = load_keys(CA), load_keys(IN)
    now = int(time.time())
    claims = {"ver": 3, "iss": CA, "aud": IN, "jti": "j-1", "iat": now, "kind": "message", "seq": 1, "body": {}}
    opened = open_envelope(
        seal_envelope(claims, ca, india.public), IN, india, lambda kid: PinnedPeer(CA, ca.public), now, 300, 60
    )
    assert opened.claims.ver == 3
    with pytest.raises(UnsupportedEnvelopeVersion):
        require_known_envelope_version(opened.claims.ver)


# --- the release before versions: the golden artefacts ---------------------------------------------------------------


def test_the_golden_envelope_of_the_release_before_versions_opens_as_version_1_and_is_read() -> None:
    india, ca = load_keys(IN), load_keys(CA)
    opened = open_envelope(read_text(ENVELOPE), IN, india, lambda kid: PinnedPeer(CA, ca.public), SEALED_AT, 300, 60)
    assert opened.claims.ver == 1
    require_known_envelope_version(opened.claims.ver)


@pytest.mark.parametrize("node_id", [CA, IN])
def test_a_golden_descriptor_advertises_nothing_and_its_node_is_spoken_to_in_version_1(node_id: str) -> None:
    descriptor = verify_descriptor(read_text(descriptor_path(node_id)))
    assert descriptor.versions is None
    assert "versions" not in descriptor.claims()
    assert negotiate(OWN_VERSIONS, descriptor.versions) == negotiate(OWN_VERSIONS, UNADVERTISED) == Negotiated(1, 1)
