"""inbox apps: vendor formats and imported vendor keys (docs/inbox.md)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inbox_apps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("vendor", sa.String(length=20), nullable=False),
        sa.Column("api_key", sa.String(length=255), nullable=True),
        sa.Column("own_key", sa.Boolean(), nullable=False),
        sa.Column("key_sealed", sa.Text(), nullable=True),
        sa.Column("key_description", sa.String(length=100), nullable=True),
        sa.Column("lifetime", sa.Integer(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_replaced_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_apps")),
        sa.UniqueConstraint("name", name=op.f("uq_inbox_apps_name")),
    )


def downgrade():
    op.drop_table("inbox_apps")
