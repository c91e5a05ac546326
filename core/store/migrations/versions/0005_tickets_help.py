"""tickets and supervisor help requests

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import core.store.tables.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("contact_id", sa.String(length=64), nullable=True),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("assignee", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", core.store.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.store.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", core.store.tables.base.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('open','pending','resolved','closed')", name=op.f("ck_tickets_status")
        ),
        sa.CheckConstraint(
            "priority IN ('low','normal','high','urgent')", name=op.f("ck_tickets_priority")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tickets_contact_id"), ["contact_id"], unique=False)
        batch_op.create_index("ix_tickets_customer_status", ["customer_id", "status"], unique=False)
        batch_op.create_index("ix_tickets_status_created", ["status", "created_at"], unique=False)

    op.create_table(
        "help_requests",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("contact_id", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("supervisor_id", sa.String(length=64), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("created_at", core.store.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.store.tables.base.UtcDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", core.store.tables.base.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_requests")),
    )
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_help_requests_contact_id"), ["contact_id"], unique=False
        )
        batch_op.create_index(
            "ix_help_requests_status_created", ["status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("help_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_help_requests_status_created")
        batch_op.drop_index(batch_op.f("ix_help_requests_contact_id"))
    op.drop_table("help_requests")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_status_created")
        batch_op.drop_index("ix_tickets_customer_status")
        batch_op.drop_index(batch_op.f("ix_tickets_contact_id"))
    op.drop_table("tickets")
