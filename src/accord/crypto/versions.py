"""The wire versions this release speaks, what a peer advertises, and the choice of the version to send in.

Version 1 is the wire format as released before nodes advertised versions: an envelope without a `ver` claim, a
descriptor or hello without a `versions` claim, is version 1. A node upgraded before its peer keeps sending version 1
until the peer advertises more; a later envelope format (batched envelopes) is rolled out by adding its number here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from accord.crypto._claims import json_type
from accord.crypto.errors import MalformedArtefact
from accord.errors import AccordError
from accord.i18n import N_, _

VERSIONS_CLAIM = "versions"  # in a descriptor and a hello: {"envelope": [1], "protocol": [1]}
ENVELOPE_VERSION_CLAIM = "ver"  # in an envelope's signed claims
LEGACY_VERSION = 1  # what a peer that advertises nothing speaks, and what an envelope without `ver` is

# The envelope's format. 1: one JWE per message, notice or attachment around its JWS, one receipt each. 2: one JWE
# around a batch of JWS, each message still signed on its own, one receipt for the batch (accord.ledger.batch_receipts).
ENVELOPE_VERSIONS: tuple[int, ...] = (1, 2)
BATCH_VERSION = 2  # the first envelope version that carries a batch
# The federation calls between nodes (/federation/v1: envelope batches, attachments, hello, checkpoints, proofs).
PROTOCOL_VERSIONS: tuple[int, ...] = (1,)
# A peer's list is read up to this length, a version up to this number: anything beyond is not a version list.
MAX_ADVERTISED = 32
MAX_VERSION = 2**31 - 1


class VersionKind(StrEnum):
    ENVELOPE = "envelope"
    PROTOCOL = "protocol"


@dataclass(frozen=True, slots=True)
class WireVersions:
    """The versions a node understands, each list ascending and without repeats."""

    envelope: tuple[int, ...]
    protocol: tuple[int, ...]

    def of(self, kind: VersionKind) -> tuple[int, ...]:
        return self.envelope if kind is VersionKind.ENVELOPE else self.protocol

    def claim(self) -> dict[str, list[int]]:
        return {VersionKind.ENVELOPE.value: list(self.envelope), VersionKind.PROTOCOL.value: list(self.protocol)}

    def describe(self) -> str:
        return "; ".join(f"{kind.value} {_listed(self.of(kind))}" for kind in VersionKind)


OWN_VERSIONS = WireVersions(envelope=ENVELOPE_VERSIONS, protocol=PROTOCOL_VERSIONS)
UNADVERTISED = WireVersions(envelope=(LEGACY_VERSION,), protocol=(LEGACY_VERSION,))


@dataclass(frozen=True, slots=True)
class Negotiated:
    """What this node sends a peer in: the highest version of each kind both understand."""

    envelope: int
    protocol: int


class NoCommonVersion(AccordError):
    """The two nodes share no version of a kind: nothing can travel until one of them is upgraded or rolled back."""

    status = 409
    slug = "no-common-version"
    title = N_("The two nodes share no wire version")

    def __init__(self, kind: VersionKind, ours: WireVersions, theirs: WireVersions) -> None:
        super().__init__(
            _(
                "no {kind} version in common: this node understands {ours}, the peer advertises {theirs}; upgrade "
                "the node that is behind"
            ).format(kind=kind.value, ours=_listed(ours.of(kind)), theirs=_listed(theirs.of(kind)))
        )
        self.kind = kind
        self.ours = ours
        self.theirs = theirs

    def extensions(self) -> dict[str, object]:
        return {"kind": self.kind.value, "supported": self.ours.claim(), "peer": self.theirs.claim()}


class UnsupportedEnvelopeVersion(AccordError):
    """An envelope that verified but is in a format this node does not read."""

    status = 422
    slug = "unsupported-envelope-version"
    title = N_("The envelope's format version is not one this node reads")

    def __init__(self, version: int) -> None:
        super().__init__(
            _(
                "the envelope is in format version {version}; this node reads {supported}; the sender must seal "
                "in a version its peer advertises"
            ).format(version=version, supported=_listed(ENVELOPE_VERSIONS))
        )
        self.version = version

    def extensions(self) -> dict[str, object]:
        return {"version": self.version, "supported": list(ENVELOPE_VERSIONS)}


def highest_common(ours: Iterable[int], theirs: Iterable[int]) -> int | None:
    """The highest version in both lists, None if they share none."""
    return max(set(ours) & set(theirs), default=None)


def negotiate(ours: WireVersions, theirs: WireVersions | None) -> Negotiated:
    """The versions to send in; a peer that advertised nothing runs a release from before versions: version 1.

    Raises NoCommonVersion naming the first kind without a shared version, and both sides' lists.
    """
    peer = theirs or UNADVERTISED
    chosen: dict[VersionKind, int] = {}
    for kind in VersionKind:
        common = highest_common(ours.of(kind), peer.of(kind))
        if common is None:
            raise NoCommonVersion(kind, ours, peer)
        chosen[kind] = common
    return Negotiated(envelope=chosen[VersionKind.ENVELOPE], protocol=chosen[VersionKind.PROTOCOL])


def read_versions(claims: Mapping[str, Any], artefact: str) -> WireVersions | None:
    """The `versions` claim of a descriptor or hello (None when absent: a release before versions)."""
    if VERSIONS_CLAIM not in claims:
        return None
    value = claims[VERSIONS_CLAIM]
    if not isinstance(value, dict):
        raise MalformedArtefact(
            _("{artefact} claim 'versions' is {json_type}, expected an object").format(
                artefact=artefact, json_type=json_type(value)
            )
        )
    return WireVersions(
        envelope=_version_list(value, VersionKind.ENVELOPE, artefact),
        protocol=_version_list(value, VersionKind.PROTOCOL, artefact),
    )


def _version_list(value: Mapping[str, Any], kind: VersionKind, artefact: str) -> tuple[int, ...]:
    listed = value.get(kind.value)
    if (
        not isinstance(listed, list)
        or not 1 <= len(listed) <= MAX_ADVERTISED
        or not all(type(v) is int and 1 <= v <= MAX_VERSION for v in listed)
    ):
        raise MalformedArtefact(
            _(
                "{artefact} claim 'versions' lists {kind} versions as {value!r}; expected 1 to {most} positive integers"
            ).format(artefact=artefact, kind=kind.value, value=str(listed)[:80], most=MAX_ADVERTISED)
        )
    return tuple(sorted(set(listed)))


def envelope_version(claims: Mapping[str, Any]) -> int:
    """The envelope's `ver` claim; an envelope without one is in the format released before versions (1)."""
    value = claims.get(ENVELOPE_VERSION_CLAIM, LEGACY_VERSION)
    if type(value) is not int or not 1 <= value <= MAX_VERSION:
        raise MalformedArtefact(
            _("envelope claim 'ver' is {value!r}, expected a positive integer").format(value=str(value)[:40])
        )
    return value


def require_known_envelope_version(version: int) -> None:
    if version not in ENVELOPE_VERSIONS:
        raise UnsupportedEnvelopeVersion(version)


def _listed(versions: Iterable[int]) -> str:
    return "[" + ", ".join(str(v) for v in versions) + "]"
