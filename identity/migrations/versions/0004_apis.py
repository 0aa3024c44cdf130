"""APIs (resource servers) and per-API client grants; ES256 keys in the ring

Revision ID: 0004
Revises: 0003

The built-in API ``identity`` is a row (grants refer to it) whose audience, scopes and lifetime
come from the settings and the scope registry at run time, so it stores none of them. Every
existing client's scope becomes its grant on ``identity``. ``oauth_clients.scope`` is no longer
read; it stays (defaulting to '') so that the previous release keeps running on this schema
during a rolling upgrade, and a later migration drops it.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BUILTIN = "identity"


def upgrade():
    apis = op.create_table(
        "apis",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("audience", sa.String(length=1000), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("lifetime", sa.Integer(), nullable=True),
        sa.Column("alg", sa.String(length=10), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apis")),
        sa.UniqueConstraint("name", name=op.f("uq_apis_name")),
        sa.UniqueConstraint("audience", name=op.f("uq_apis_audience")),
    )
    op.create_table(
        "client_grants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_pk", sa.Integer(), nullable=False),
        sa.Column("api_id", sa.Integer(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_pk"],
            ["oauth_clients.id"],
            name=op.f("fk_client_grants_client_pk_oauth_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["api_id"], ["apis.id"], name=op.f("fk_client_grants_api_id_apis"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_grants")),
        sa.UniqueConstraint("client_pk", "api_id", name="uq_client_grants_client_api"),
    )
    op.create_index(op.f("ix_client_grants_api_id"), "client_grants", ["api_id"], unique=False)

    op.bulk_insert(
        apis,
        [
            {
                "name": BUILTIN,
                "audience": None,
                "scopes": "",
                "lifetime": None,
                "alg": "RS256",
                "builtin": True,
                "created_at": datetime.now(UTC),
            }
        ],
    )
    op.execute(
        sa.text(
            "INSERT INTO client_grants (client_pk, api_id, scopes) "
            "SELECT c.id, a.id, c.scope FROM oauth_clients c, apis a "
            "WHERE a.name = :builtin AND c.scope <> ''"
        ).bindparams(builtin=BUILTIN)
    )
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.alter_column("scope", existing_type=sa.Text(), server_default="")

    with op.batch_alter_table("signing_keys") as batch_op:
        batch_op.add_column(
            sa.Column("alg", sa.String(length=10), nullable=False, server_default="RS256")
        )


def downgrade():
    op.execute(sa.text("DELETE FROM signing_keys WHERE alg <> 'RS256'"))
    with op.batch_alter_table("signing_keys") as batch_op:
        batch_op.drop_column("alg")
    op.execute(
        sa.text(
            "UPDATE oauth_clients SET scope = COALESCE((SELECT g.scopes FROM client_grants g "
            "JOIN apis a ON a.id = g.api_id "
            "WHERE a.builtin AND g.client_pk = oauth_clients.id), '')"
        )
    )
    with op.batch_alter_table("oauth_clients") as batch_op:
        batch_op.alter_column("scope", existing_type=sa.Text(), server_default=None)
    op.drop_index(op.f("ix_client_grants_api_id"), table_name="client_grants")
    op.drop_table("client_grants")
    op.drop_table("apis")
