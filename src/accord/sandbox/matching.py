"""The sandbox's matching: one matching key both nodes hold (as if the operators had carried it across), and the
SAMPLE holdings each agency keeps (data/sandbox/matching/: fictional persons and identifiers, made by
tools/sample_holdings.py). IRCC's 200 study-permit applicants to query with are in docs/examples/matching/."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path

from sqlalchemy import select

from accord.matching.holdings import RecordType, check_holding, record_import
from accord.matching.keys import export_key, generate_key, import_key, list_keys
from accord.node import Node
from accord.store.tables import match_holdings

SANDBOX_KEY_ID = "sandbox-1"
SEEDED_BY = "sandbox"
RETAIN_DAYS = 3 * 365
# File → (the agency that holds it, the record type); files of a party's agencies seed that party's node.
SAMPLE_FILES: dict[str, tuple[str, RecordType]] = {
    "boi-persons.csv": ("BOI", RecordType.PERSON),
    "boi-documents.csv": ("BOI", RecordType.DOCUMENT),
    "boi-consultants.csv": ("BOI", RecordType.CONSULTANT),
    "i4c-phones.csv": ("I4C", RecordType.PHONE),
    "i4c-accounts.csv": ("I4C", RecordType.ACCOUNT),
    "i4c-wallets.csv": ("I4C", RecordType.WALLET),
    "ircc-admission-letters.csv": ("IRCC", RecordType.ADMISSION_LETTER),
    "ircc-consultants.csv": ("IRCC", RecordType.CONSULTANT),
    "cafc-phones.csv": ("CAFC", RecordType.PHONE),
}


def share_sandbox_key(first: Node, second: Node) -> None:
    """Both nodes hold the sandbox's matching key (made once on the first, carried to the second)."""
    held = {info.key_id for info in list_keys(first.settings.data_dir)}
    if SANDBOX_KEY_ID not in held:
        generate_key(first.settings.data_dir, SANDBOX_KEY_ID)
    if SANDBOX_KEY_ID in {info.key_id for info in list_keys(second.settings.data_dir)}:
        return
    with tempfile.TemporaryDirectory() as folder:
        carried = Path(folder) / f"{SANDBOX_KEY_ID}.json"
        export_key(first.settings.data_dir, SANDBOX_KEY_ID, carried)
        import_key(second.settings.data_dir, carried)


def seed_sample_holdings(node: Node) -> int:
    """The SAMPLE holdings of the node's agencies, once; returns how many records were stored."""
    agencies = {a.code for a in node.agreement.agencies if a.party is node.party}
    today = datetime.now(UTC).date()
    stored = 0
    with node.engine.begin() as conn:
        if conn.execute(select(match_holdings.c.id).where(match_holdings.c.source == "SAMPLE").limit(1)).first():
            return 0
        for name, (agency, kind) in SAMPLE_FILES.items():
            if agency not in agencies:
                continue
            rows = _sample_rows(name)
            holdings = [
                check_holding(kind, row, source="SAMPLE", retain_until=today + timedelta(days=RETAIN_DAYS), today=today)
                for row in rows
            ]
            record_import(conn, agency, SEEDED_BY, kind, holdings, datetime.now(UTC))
            stored += len(holdings)
    return stored


def _sample_rows(name: str) -> list[dict[str, str]]:
    text = resources.files("accord").joinpath("data", "sandbox", "matching", name).read_text(encoding="utf-8")
    return [row for row in csv.DictReader(io.StringIO(text)) if not row.get("id", "").startswith("#")]
