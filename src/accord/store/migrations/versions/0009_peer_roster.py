"""the peer's roster of officers who may be named as recipients

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 19:30:00.000000
"""

from __future__ import annotations

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
