"""sender bindings (long-connection sender ids bound to roster members)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 11:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('sender_bindings',
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('userid', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('external_id', name=op.f('pk_sender_bindings'))
    )
    with op.batch_alter_table('sender_bindings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sender_bindings_userid'), ['userid'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('sender_bindings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sender_bindings_userid'))

    op.drop_table('sender_bindings')
