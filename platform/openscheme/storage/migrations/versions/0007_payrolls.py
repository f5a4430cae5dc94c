"""payrolls: each payroll file as it was handed out, to download it again

A payroll marks its payments sent, so asking again gave an empty file: an officer
who lost it could not get it back. The text is kept (compressed) with its SHA-256.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('payrolls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('payment_count', sa.Integer(), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['cycle_id'], ['payment_cycles.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('payrolls', schema=None) as batch_op:
        batch_op.create_index('ix_payrolls_cycle', ['cycle_id', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('payrolls', schema=None) as batch_op:
        batch_op.drop_index('ix_payrolls_cycle')
    op.drop_table('payrolls')
