"""client authentication (private_key_jwt, secret rotation) and audit log

Revision ID: 0005
Revises: 0004
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    pass  # placeholder, filled in by its feature branch


def downgrade():
    pass
