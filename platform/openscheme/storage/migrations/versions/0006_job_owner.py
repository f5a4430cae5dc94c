"""jobs: the process running a job, its heartbeat and how to run it again

A job whose process stopped (a restart) stayed "running" for ever; with the owner
(host|pid|token) and the heartbeat it is marked "interrupted", and its page offers
the form that started it (`rerun`) again.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('jobs', sa.Column('owner', sa.String(length=200), nullable=True))
    op.add_column('jobs', sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
    op.add_column('jobs', sa.Column(
        'rerun', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('rerun')
        batch_op.drop_column('heartbeat_at')
        batch_op.drop_column('owner')
