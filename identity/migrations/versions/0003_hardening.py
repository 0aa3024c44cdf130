"""invariants held by the database (hardening round 3)

Revision ID: 0003
Revises: 0002
"""

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder, filled in by its feature branch


def downgrade():
    pass
