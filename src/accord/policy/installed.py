"""The pack a node runs: the signed copy in its data directory, reloaded when an operator installs another."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog

from accord.crypto.keys import NodeKeys, PublicKeys
from accord.domain.agreement import Agreement
from accord.domain.messages import Message
from accord.domain.parties import Party
from accord.errors import ConfigurationError
from accord.i18n import Language, _, language_scope
from accord.policy.deployment import Deployment
from accord.policy.engine import (
    PACK_UNUSABLE_DISCLOSURE,
    PACK_UNUSABLE_FORWARD,
    CedarPolicy,
    DisclosureDecision,
    DisclosurePolicy,
    Principal,
    Reader,
    Verdict,
)
from accord.policy.pack import SIGNATURE, PackError, PolicyPack, install_pack, load_installed_pack, shipped_pack_dir
from accord.policy.screens import Evidence
from accord.policy.wording import fill

POLICY_DIR = "policy"
log = structlog.get_logger(__name__)


def installed_dir(data_dir: Path) -> Path:
    return data_dir / POLICY_DIR


def install_shipped_pack(data_dir: Path, keys: NodeKeys, party: Party) -> PolicyPack:
    return install_pack(shipped_pack_dir(party), installed_dir(data_dir), keys, party)


class InstalledPolicy:
    """Decides with the installed pack; notices a newly installed one (its signature file changes) and, if the
    installed pack ever stops verifying, holds every disclosure for review rather than letting one through."""

    def __init__(
        self,
        data_dir: Path,
        keys: PublicKeys | Callable[[], PublicKeys],
        agreement: Agreement,
        deployment: Deployment | None = None,
    ) -> None:
        self.directory = installed_dir(data_dir)
        # A callable reads the node's key in force each time the pack is reloaded: a key rotation re-signs the pack
        # with the new key while this process runs.
        self.keys = keys if callable(keys) else lambda: keys
        self.agreement = agreement
        self.deployment = deployment or Deployment()
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._engine: CedarPolicy | None = None
        self._problem: str | None = None
        self._reload()
        if self._engine is None:
            raise PackError(self._problem or _("no policy pack installed"))

    @property
    def pack(self) -> PolicyPack | None:
        self._refresh()
        return self._engine.pack if self._engine else None

    def engine(self) -> CedarPolicy | None:
        """What decides now: the installed pack's engine, None if it does not load (every disclosure is then held)."""
        self._refresh()
        return self._engine

    def decide(
        self, message: Message, principal: Principal | None = None, evidence: Evidence | None = None
    ) -> DisclosureDecision:
        self._refresh()
        if self._engine is None:
            reason = fill(PACK_UNUSABLE_DISCLOSURE, {"problem": str(self._problem)})
            return DisclosureDecision(Verdict.REVIEW, (reason,), "none")
        return self._engine.decide(message, principal, evidence)

    def readable(self, reader: Reader, items: Sequence[tuple[str, dict[str, Any]]]) -> list[bool]:
        self._refresh()
        if self._engine is None:
            return [False for _ in items]  # no usable pack: nobody reads until an operator installs one
        return self._engine.readable(reader, items)

    def decide_forward(self, forwarder: Reader, item_id: str, attrs: dict[str, Any]) -> DisclosureDecision:
        self._refresh()
        if self._engine is None:
            reason = fill(PACK_UNUSABLE_FORWARD, {"problem": str(self._problem)})
            return DisclosureDecision(Verdict.DENY, (reason,), "none")
        return self._engine.decide_forward(forwarder, item_id, attrs)

    def citation_for(self, slug: str) -> str | None:
        self._refresh()
        return self._engine.citation_for(slug) if self._engine else None

    def _signature_stamp(self) -> tuple[float, int] | None:
        try:
            stat = (self.directory / SIGNATURE).stat()
        except OSError:
            return None
        return (stat.st_mtime, stat.st_size)

    def _refresh(self) -> None:
        if self._signature_stamp() != self._stamp:
            self._reload()

    def _reload(self) -> None:
        with self._lock:
            self._stamp = self._signature_stamp()
            try:
                # In English whatever the request that noticed the new pack: the problem goes into the log and
                # into the reasons decisions record.
                with language_scope(Language.EN):
                    pack = self.deployment.adjust(load_installed_pack(self.directory, self.keys()))
            except (PackError, ConfigurationError) as exc:
                self._engine, self._problem = None, exc.detail
                log.error("policy pack refused", problem=exc.detail)
                return
            self._engine, self._problem = CedarPolicy(pack, self.agreement), None
            log.info("policy pack loaded", pack=pack.label)


def shown_decision(recorded: Mapping[str, Any], policy: DisclosurePolicy) -> dict[str, Any]:
    """A decision as it was stored (`DisclosureDecision.as_json()`) as an officer reads it: its reasons and remedies
    in the current language, the node's pack saying how the screens' values fit its remedies. Display only."""
    pack = policy.pack if isinstance(policy, InstalledPolicy | CedarPolicy) else None
    return DisclosureDecision.from_json(recorded, pack).shown()
