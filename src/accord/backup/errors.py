"""What can go wrong with a backup archive or a restore, each saying what to do."""

from __future__ import annotations

from accord.errors import AccordError, Conflict, InvalidInput
from accord.i18n import N_


class BackupError(AccordError):
    slug = "backup-failed"
    title = N_("The backup could not be taken")


class WrongPassphrase(InvalidInput):
    slug = "wrong-passphrase"
    title = N_("The passphrase does not open the archive's keys")


class DamagedArchive(InvalidInput):
    slug = "damaged-archive"
    title = N_("The backup archive is damaged or was changed")


class LiveNode(Conflict):
    slug = "live-node"
    title = N_("A node lives where the backup would be restored")


class LedgerDoesNotMatch(InvalidInput):
    slug = "restored-ledger-mismatch"
    title = N_("The restored ledger is not the history the manifest names")
