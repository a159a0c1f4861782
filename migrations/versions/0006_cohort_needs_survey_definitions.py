"""cohort needs (needs analysis → push choice), surveys written in chat, activities' publish key

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 11:15:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('publish_key', sa.String(length=32), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_activities_publish_key'), ['publish_key'])

    op.create_table('cohort_needs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.String(length=64), nullable=False),
    sa.Column('analysed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_needs')),
    sa.UniqueConstraint('cohort', 'topic', name='uq_cohort_needs_topic')
    )
    with op.batch_alter_table('cohort_needs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_needs_cohort'), ['cohort'], unique=False)

    op.create_table('survey_definitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=64), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_definitions')),
    sa.UniqueConstraint('title', name='uq_survey_definitions_title')
    )


def downgrade() -> None:
    op.drop_table('survey_definitions')
    with op.batch_alter_table('cohort_needs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_needs_cohort'))

    op.drop_table('cohort_needs')
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_activities_publish_key'), type_='unique')
        batch_op.drop_column('publish_key')
