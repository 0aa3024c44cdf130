"""invariants held by the database (hardening round 3)

At most one default inbox app: a partial unique index, so that concurrent additions cannot
leave two (the service retries the one that loses the race).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEX = "uq_inbox_apps_one_default"


def upgrade():
    apps = sa.table("inbox_apps", sa.column("id", sa.Integer), sa.column("is_default", sa.Boolean))
    # A race before this revision may have left several defaults: the oldest one stays.
    oldest = sa.select(sa.func.min(apps.c.id)).where(apps.c.is_default).scalar_subquery()
    op.execute(apps.update().where(apps.c.is_default, apps.c.id != oldest).values(is_default=False))
    op.create_index(
        INDEX,
        "inbox_apps",
        ["is_default"],
        unique=True,
        postgresql_where=sa.text("is_default"),
        sqlite_where=sa.text("is_default"),
    )


def downgrade():
    op.drop_index(INDEX, table_name="inbox_apps")
