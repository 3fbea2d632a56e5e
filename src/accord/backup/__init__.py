"""Backup and restore of a node: a consistent online snapshot (database, blobs, configuration, keys sealed under a
passphrase) with a signed manifest of its ledger head, and a restore that refuses a live node and checks everything
before it writes."""

from accord.backup.restore import RestoredBackup, restore_backup
from accord.backup.take import BackupSummary, take_backup

__all__ = ["BackupSummary", "RestoredBackup", "restore_backup", "take_backup"]
