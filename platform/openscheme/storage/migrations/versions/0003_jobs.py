"""jobs: long runs followed from the browser; targeting results without a per-row foreign key

A targeting run writes one result row per unit of the registry in one INSERT ... SELECT;
on PostgreSQL the foreign key run_id -> targeting_runs fired a trigger per row, half of
the run's time at 1,000,000 households (benchmarks/payments.py). The rows are only ever
written by `run_targeting`, right after their run, in the same transaction.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _results_table(with_foreign_key: bool) -> sa.Table:
    return sa.Table(
        'targeting_results', sa.MetaData(),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('eligible', sa.Boolean(), nullable=False),
        sa.Column('failed_rules', sa.String(length=1000), nullable=False),
        *([sa.ForeignKeyConstraint(['run_id'], ['targeting_runs.id'], ondelete='CASCADE',
                                   name='targeting_results_run_id_fkey')] if with_foreign_key else []),
        sa.PrimaryKeyConstraint('run_id', 'unit_id'),
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_constraint('targeting_results_run_id_fkey', 'targeting_results', type_='foreignkey')
    else:
        with op.batch_alter_table('targeting_results', copy_from=_results_table(False), recreate='always'):
            pass
    op.create_table('jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('result', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_user_created', ['created_by', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_user_created')
    op.drop_table('jobs')
    if op.get_bind().dialect.name == 'postgresql':
        op.create_foreign_key('targeting_results_run_id_fkey', 'targeting_results', 'targeting_runs', ['run_id'],
                              ['id'], ondelete='CASCADE')
    else:
        with op.batch_alter_table('targeting_results', copy_from=_results_table(True), recreate='always'):
            pass
