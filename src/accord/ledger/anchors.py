"""The verifier's trust anchors: signing-key fingerprints an oversight body obtained out of band, given one by one or
in a trust file that names each key's party and node, and never taken from the bundle under audit.

A trust file (JSON, format `accord-trust/1`):

    {"format": "accord-trust/1", "written_at": "2026-01-05T09:30:00.000000Z", "written_by": "ca-node-1",
     "keys": [{"party": "CA", "node_id": "ca-node-1", "fingerprint": "<RFC 7638 thumbprint>"},
              {"party": "IN", "node_id": "in-node-1", "fingerprint": "<RFC 7638 thumbprint>"}]}
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accord.errors import AccordError
from accord.i18n import N_, _
from accord.ledger.bundle import TrustedKey
from accord.ledger.leaves import TIME_FORMAT

TRUST_FORMAT = "accord-trust/1"
# An RFC 7638 JWK thumbprint with SHA-256, base64url-encoded without padding (RFC 7515 §2): 43 characters.
_FINGERPRINT = re.compile(r"[A-Za-z0-9_-]{43}")


class UnusableAnchors(AccordError):
    slug = "unusable-trust-anchors"
    title = N_("The trust anchors cannot be used")


def fingerprint_anchor(value: str) -> TrustedKey:
    """A fingerprint given on its own (`--expect-fingerprint`): trusted for whichever node the bundle says has it."""
    value = value.strip()
    if not _FINGERPRINT.fullmatch(value):
        raise UnusableAnchors(
            _("{value!r} is not a signing-key fingerprint (43 base64url characters, RFC 7638)").format(value=value)
        )
    return TrustedKey(value)


def read_trust_file(path: Path) -> tuple[TrustedKey, ...]:
    """The keys of a trust file; raises UnusableAnchors naming the first thing wrong with it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UnusableAnchors(
            _("cannot read trust file {path}: {value}").format(path=path, value=exc.strerror or exc)
        ) from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise UnusableAnchors(_("trust file {path} is not JSON: {exc}").format(path=path, exc=exc)) from exc
    if not isinstance(document, dict) or document.get("format") != TRUST_FORMAT:
        raise UnusableAnchors(
            _("trust file {path} is not in the {TRUST_FORMAT} format").format(path=path, TRUST_FORMAT=TRUST_FORMAT)
        )
    entries = document.get("keys")
    if not isinstance(entries, list) or not entries:
        raise UnusableAnchors(_("trust file {path} lists no keys").format(path=path))
    return tuple(_trusted_key(path, position, entry) for position, entry in enumerate(entries))


def _trusted_key(path: Path, position: int, entry: Any) -> TrustedKey:
    fields = ("party", "node_id", "fingerprint")
    if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) and entry[f] for f in fields):
        raise UnusableAnchors(
            _("trust file {path}: key {position} lacks one of {join}").format(
                path=path, position=position, join=", ".join(fields)
            )
        )
    anchor = fingerprint_anchor(entry["fingerprint"])
    return TrustedKey(anchor.fingerprint, entry["node_id"], entry["party"])


def write_trust_file(keys: Sequence[TrustedKey], out: Path, written_by: str) -> None:
    document = {
        "format": TRUST_FORMAT,
        "written_at": datetime.now(UTC).strftime(TIME_FORMAT),
        "written_by": written_by,
        "keys": [{"party": k.party, "node_id": k.node_id, "fingerprint": k.fingerprint} for k in keys],
    }
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def merge_anchors(anchors: Iterable[TrustedKey]) -> tuple[TrustedKey, ...]:
    """One anchor per key; raises UnusableAnchors when two anchors disagree on whose key it is or on a node's or a
    party's key (two trust files that differ: one of them is wrong, and the oversight body must find out which)."""
    by_fingerprint: dict[str, TrustedKey] = {}
    for anchor in anchors:
        known = by_fingerprint.get(anchor.fingerprint)
        if known is None or known.node_id is None:
            by_fingerprint[anchor.fingerprint] = anchor
        elif anchor.node_id is not None and (known.node_id, known.party) != (anchor.node_id, anchor.party):
            raise UnusableAnchors(
                _(
                    "the trust anchors disagree: key {fingerprint} is {node_id}'s ({party}) and {node_id2}'s ({party2})"
                ).format(
                    fingerprint=anchor.fingerprint,
                    node_id=known.node_id,
                    party=known.party,
                    node_id2=anchor.node_id,
                    party2=anchor.party,
                )
            )
    return tuple(by_fingerprint.values())


def _check_agreement(sources: Sequence[Sequence[TrustedKey]]) -> None:
    """A node or party may have several keys (its key rotations), but two sources that give it keys must share one:
    keys with nothing in common mean one of them is wrong, and the oversight body must find out which."""
    for name in ("node_id", "party"):
        seen: dict[str, set[str]] = {}
        for source in sources:
            mine: dict[str, set[str]] = {}
            for anchor in source:
                value = getattr(anchor, name)
                if value is not None:
                    mine.setdefault(value, set()).add(anchor.fingerprint)
            for value, fingerprints in mine.items():
                known = seen.setdefault(value, fingerprints)
                if not known & fingerprints:
                    raise UnusableAnchors(
                        _("the trust anchors disagree: {value} has key {keys} and key {fingerprint}").format(
                            value=value, keys=min(known), fingerprint=min(fingerprints)
                        )
                    )
                known |= fingerprints


def load_anchors(trust_files: Iterable[Path], fingerprints: Iterable[str]) -> tuple[TrustedKey, ...]:
    """Every trust file's keys and every fingerprint given on its own, merged."""
    sources = [read_trust_file(path) for path in trust_files]
    _check_agreement(sources)
    anchors = [key for source in sources for key in source]
    anchors.extend(fingerprint_anchor(value) for value in fingerprints)
    return merge_anchors(anchors)
