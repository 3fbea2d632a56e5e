"""A party's policy pack: Cedar policies with their legal citations, the screens' facts, and its identity (version
and content hash). Packs are data under accord/data/policy/<party>/; a node runs the copy its operator installed
and signed, so a pack edited on disk after installation is refused."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import cedarpy
from pydantic import BaseModel, ConfigDict, Field, model_validator

from accord.crypto.canonical import canonical_json
from accord.crypto.keys import NodeKeys, PublicKeys
from accord.crypto.signing import sign_claims, signed_kid, verify_claims
from accord.datafiles import parse, read_text, shipped
from accord.domain.parties import Party
from accord.errors import AccordError
from accord.i18n import N_, _
from accord.policy.screens import Screens
from accord.policy.screens.neutrality import context_of

PACKS_DIR = Path(__file__).resolve().parent.parent / "data" / "policy"
MANIFEST = "manifest.yaml"
SIGNATURE = "pack.sig"
PACK_TYP = "accord-policy-pack+jws"


class PackError(AccordError):
    status = 422
    slug = "invalid-policy-pack"
    title = N_("The policy pack cannot be used")


class PackVersionReused(PackError):
    status = 409
    slug = "policy-pack-version-reused"
    title = N_("A policy pack of this version was installed with other contents")


class Retention(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    message_days: int = Field(gt=0)
    refused_days: int = Field(gt=0)


class Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pack: str = Field(min_length=1, max_length=64)
    party: Party
    version: str = Field(min_length=1, max_length=32)
    title: str
    policies: str = "policies.cedar"
    screens: Screens
    retention: Retention

    @model_validator(mode="after")
    def _neutrality_context_is_this_partys(self) -> Manifest:
        for name in self.screens.neutrality.lexicons:
            other = context_of(name)
            if other is not None and other is not self.party:
                raise ValueError(f"screens.neutrality.lexicons: {name} is {other}'s own context, not {self.party}'s")
        return self


@dataclass(frozen=True, slots=True)
class PolicyInfo:
    id: str
    citation: str
    review: bool
    effect: str  # permit or forbid
    # A review hold a reviewer cannot simply approve: approval re-decides the message as it would leave, and the
    # hold must no longer apply (an assurance recorded, a field removed). `remedy` says what lifts it.
    gate: bool = False
    remedy: str | None = None
    # Who may lift a hold: @review("legal") a legal officer (level 1), @review("deputy_head") only the deputy head
    # (level 2; ACMFEA Directions s.1(2)-(3)).
    review_level: int = 1
    # Problem types (slugs) of the send path's checks that enforce this same rule before the pack is asked (e.g. a
    # classification above the channel's ceiling): their refusals cite this policy's law; "*" for any other check.
    validates: tuple[str, ...] = ()


# @review("originator") holds a forward for the originating party's consent, asked through the exchange (Europol H3);
# no reviewer of this node lifts it.
REVIEW_LEVELS = {"legal": 1, "deputy_head": 2, "originator": 1}


@dataclass(frozen=True)
class PolicyPack:
    manifest: Manifest
    cedar_text: str
    policy_set: Any  # cedarpy.PolicySet
    policies: dict[str, PolicyInfo]  # by Cedar's own id (policy0, policy1, …)
    sha256: str
    deployment: str | None = None  # the hash of the deployment's settings that adjusted the screens, if any

    @property
    def label(self) -> str:
        """How decisions name the pack: id, version and the first 12 hex digits of its content hash (and of the
        deployment's settings, where they adjust the screens' thresholds)."""
        adjusted = f"+deployment#{self.deployment[:12]}" if self.deployment else ""
        return f"{self.manifest.pack}@{self.manifest.version}#{self.sha256[:12]}{adjusted}"

    def citation_for(self, slug: str) -> str | None:
        """The law a send-path check with problem type `slug` enforces: the citation of the policy that says so, or
        of the one that validates "*" (the arrangement every disclosure is made under) for any other check."""
        for wanted in (slug, "*"):
            found = next((info.citation for info in self.policies.values() if wanted in info.validates), None)
            if found is not None:
                return found
        return None

    def by_annotated_id(self) -> dict[str, PolicyInfo]:
        return {info.id: info for info in self.policies.values()}

    def __reduce__(self) -> tuple[Any, ...]:
        # Cedar's policy set does not pickle: a worker process that decides with the pack compiles it again from the
        # text, once per pack (`accord.exchange.screen_workers`).
        return (_unpickled_pack, (self.manifest, self.cedar_text, self.policies, self.sha256, self.deployment))


def _unpickled_pack(
    manifest: Manifest, cedar_text: str, policies: dict[str, PolicyInfo], sha256: str, deployment: str | None
) -> PolicyPack:
    return PolicyPack(manifest, cedar_text, _policy_set(cedar_text), policies, sha256, deployment)


@lru_cache(maxsize=4)
def _policy_set(cedar_text: str) -> Any:
    return cedarpy.PolicySet.from_str(cedar_text)


@cache
def entity_schema() -> Any:
    """The Cedar schema of the entities and actions the packs decide on (cedarpy.Schema), shipped with Accord: the
    contract between the screens, which compute the attributes, and the packs, which read them."""
    text = read_text(shipped("policy", "schema.cedarschema"), "data/policy/schema.cedarschema")
    try:
        return cedarpy.Schema.from_str(text)
    except ValueError as exc:
        raise PackError(_("data/policy/schema.cedarschema is not a valid Cedar schema: {exc}").format(exc=exc)) from exc


def validate_against_schema(cedar_text: str, label: str) -> None:
    """Cedar's validator: every attribute a policy reads exists with the type it is used as, every action and entity
    type is known. A pack that fails is refused with each error."""
    result = cedarpy.validate_policies(cedar_text, entity_schema())
    if not result.validation_passed:
        errors = "; ".join(str(error) for error in result.errors)
        raise PackError(
            _("{label} does not validate against the entity schema: {errors}").format(label=label, errors=errors)
        )


def pack_hash(manifest_text: str, cedar_text: str) -> str:
    return hashlib.sha256(canonical_json({"manifest": manifest_text, "policies": cedar_text})).hexdigest()


def load_pack(directory: Path) -> PolicyPack:
    """Parse and check a pack directory: a valid manifest, Cedar that parses and validates against the entity schema,
    an @id and @citation on every policy."""
    manifest_text = read_text(directory / MANIFEST, f"the pack in {directory}", PackError)
    manifest = parse(Manifest, manifest_text, str(directory / MANIFEST), PackError, kind="manifest")
    cedar_text = read_text(directory / manifest.policies, f"the pack in {directory}", PackError)
    try:
        policy_set = cedarpy.PolicySet.from_str(cedar_text)
        parsed = json.loads(cedarpy.policies_to_json_str(cedar_text))
    except ValueError as exc:
        raise PackError(
            _("{value} is not valid Cedar: {exc}").format(value=directory / manifest.policies, exc=exc)
        ) from exc
    validate_against_schema(cedar_text, str(directory / manifest.policies))
    policies = _policy_infos(parsed, directory)
    return PolicyPack(manifest, cedar_text, policy_set, policies, pack_hash(manifest_text, cedar_text))


def _policy_infos(parsed: dict[str, Any], directory: Path) -> dict[str, PolicyInfo]:
    infos: dict[str, PolicyInfo] = {}
    seen: set[str] = set()
    for cedar_id, policy in parsed.get("staticPolicies", {}).items():
        notes = policy.get("annotations", {})
        policy_id, citation = notes.get("id"), notes.get("citation")
        if not policy_id or not citation:
            raise PackError(
                _("every policy in {directory} needs @id and @citation; {cedar_id} lacks one").format(
                    directory=directory, cedar_id=cedar_id
                )
            )
        if policy_id in seen:
            raise PackError(
                _("policy id {policy_id!r} appears twice in {directory}").format(
                    policy_id=policy_id, directory=directory
                )
            )
        seen.add(policy_id)
        gate = "gate" in notes
        if gate and "review" not in notes:
            raise PackError(
                _("policy {policy_id!r} is a @gate, which only a @review hold can be").format(policy_id=policy_id)
            )
        if gate and not notes.get("remedy"):
            raise PackError(
                _("policy {policy_id!r} is a @gate and must say in @remedy what lifts it").format(policy_id=policy_id)
            )
        reviewer = notes.get("review")
        if "review" in notes and reviewer not in REVIEW_LEVELS:
            raise PackError(
                _("policy {policy_id!r}: @review names who decides: {join}").format(
                    policy_id=policy_id, join=" or ".join(REVIEW_LEVELS)
                )
            )
        validates = tuple(s.strip() for s in notes.get("validates", "").split(",") if s.strip())
        infos[cedar_id] = PolicyInfo(
            policy_id,
            citation,
            "review" in notes,
            policy["effect"],
            gate,
            notes.get("remedy"),
            REVIEW_LEVELS.get(reviewer or "legal", 1),
            validates,
        )
    if parsed.get("templates"):
        raise PackError(_("policy packs hold static policies only"))
    if not any(info.effect == "permit" for info in infos.values()):
        raise PackError(_("the pack in {directory} permits nothing").format(directory=directory))
    return infos


def shipped_pack_dir(party: Party) -> Path:
    return PACKS_DIR / party.value.lower()


# ------------------------------------------------------------------------------------------ installed, signed


def install_pack(source: Path, target: Path, keys: NodeKeys, party: Party) -> PolicyPack:
    """Check a pack, copy it into the node's data directory and sign its hash with the node's key."""
    pack = load_pack(source)
    if pack.manifest.party is not party:
        raise PackError(
            _("the pack is for {party}, this node is {party2}").format(party=pack.manifest.party, party2=party)
        )
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in (MANIFEST, pack.manifest.policies):
        shutil.copyfile(source / name, staging / name)
    claims = {"pack": pack.manifest.pack, "version": pack.manifest.version, "sha256": pack.sha256}
    (staging / SIGNATURE).write_text(sign_claims(claims, keys.signing, PACK_TYP) + "\n", encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return pack


def require_new_version(pack: PolicyPack, installed_labels: Iterable[str]) -> None:
    """Refuse a pack whose id and version name other contents than a pack this node installed before (its labels, as
    the ledger recorded them): every decision names its pack by id and version, so one version must mean one text."""
    prefix = f"{pack.manifest.pack}@{pack.manifest.version}#"
    for label in installed_labels:
        if not label.startswith(prefix):
            continue
        recorded = label[len(prefix) :].split("+", 1)[0]
        if recorded and not pack.sha256.startswith(recorded):
            raise PackVersionReused(
                _(
                    "{pack} version {version} was installed before with other contents (#{recorded}, this one is "
                    "#{sha256}); a changed pack needs a new version: raise `version` in its {manifest}"
                ).format(
                    pack=pack.manifest.pack,
                    version=pack.manifest.version,
                    recorded=recorded,
                    sha256=pack.sha256[: len(recorded)],
                    manifest=MANIFEST,
                )
            )


def reseal_installed_pack(directory: Path, old: PublicKeys, keys: NodeKeys) -> None:
    """After a signing-key rotation: check the installed pack's seal with the old key, then seal it with the new one
    (written to a new file renamed into place, so a running node never reads half a signature)."""
    token = (directory / SIGNATURE).read_text(encoding="utf-8").strip()
    load_installed_pack(directory, old)
    claims = verify_claims(token, old.signing)
    staged = directory / (SIGNATURE + ".new")
    staged.unlink(missing_ok=True)
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # the node's files are the owner's alone
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(sign_claims(claims, keys.signing, PACK_TYP) + "\n")
    staged.replace(directory / SIGNATURE)


def load_installed_pack(directory: Path, keys: PublicKeys) -> PolicyPack:
    """The node's installed pack; refused unless signed by this node's key over exactly these contents."""
    try:
        token = (directory / SIGNATURE).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PackError(
            _("the installed pack in {directory} is not signed ({exc}); run `accord policy install`").format(
                directory=directory, exc=exc
            )
        ) from exc
    pack = load_pack(directory)
    try:
        if signed_kid(token, PACK_TYP) != keys.signing_fingerprint:
            raise PackError(_("the pack was signed by another key than this node's"))
        claims = verify_claims(token, keys.signing)
    except PackError:
        raise
    except AccordError as exc:
        raise PackError(_("the pack signature does not verify: {detail}").format(detail=exc.detail)) from exc
    if claims.get("sha256") != pack.sha256:
        raise PackError(
            _(
                "the pack in {directory} was changed after it was installed (hash {sha256}, signed "
                "{str}); install it again to use it"
            ).format(directory=directory, sha256=pack.sha256[:12], str=str(claims.get("sha256"))[:12])
        )
    return pack
