"""client authentication (private_key_jwt, secret rotation) and audit log

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(
            sa.Column(
                "auth_method",
                sa.String(length=32),
                nullable=False,
                server_default="client_secret_basic",
            )
        )
        batch.add_column(sa.Column("jwks", sa.Text(), nullable=True))
        batch.add_column(sa.Column("jwks_uri", sa.String(length=2000), nullable=True))
        batch.add_column(sa.Column("old_secret_hash", sa.String(length=128), nullable=True))
        batch.add_column(
            sa.Column("old_secret_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("bucket", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("bucket", name=op.f("uq_audit_events_bucket")),
    )
    op.create_index(op.f("ix_audit_events_at"), "audit_events", ["at"])
    op.create_index(op.f("ix_audit_events_action"), "audit_events", ["action"])
    op.create_index(op.f("ix_audit_events_target"), "audit_events", ["target"])


def downgrade():
    op.drop_table("audit_events")
    with op.batch_alter_table("oauth_clients") as batch:
        for column in ("old_secret_expires_at", "old_secret_hash", "jwks_uri", "jwks"):
            batch.drop_column(column)
        batch.drop_column("auth_method")
