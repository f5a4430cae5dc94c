"""formula proposals of the analyst workbench

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 21:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('formula_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=False),
    sa.Column('base_version_id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('old_formula', sa.Text(), nullable=False),
    sa.Column('new_formula', sa.Text(), nullable=False),
    sa.Column('yaml_text', sa.Text(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('impact', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('result_version_id', sa.Integer(), nullable=True),
    sa.Column('written_file', sa.String(length=500), nullable=True),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['base_version_id'], ['scheme_versions.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['result_version_id'], ['scheme_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('formula_proposals', schema=None) as batch_op:
        batch_op.create_index('ix_formula_proposals_scheme_status', ['scheme_code', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('formula_proposals', schema=None) as batch_op:
        batch_op.drop_index('ix_formula_proposals_scheme_status')
    op.drop_table('formula_proposals')
