"""workflow tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 20:04:54.472590
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=False),
    sa.Column('scheme_version_id', sa.Integer(), nullable=False),
    sa.Column('benefit_code', sa.String(length=64), nullable=False),
    sa.Column('unit_type', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('enrol_date', sa.Date(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('expiry_date', sa.Date(), nullable=True),
    sa.Column('renewal_of_id', sa.Integer(), nullable=True),
    sa.Column('premium', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('premium_explanation', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['renewal_of_id'], ['policies.id'], ),
    sa.ForeignKeyConstraint(['scheme_version_id'], ['scheme_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.create_index('ix_policies_scheme_status', ['scheme_code', 'status', 'expiry_date'], unique=False)
        batch_op.create_index('ix_policies_unit', ['unit_type', 'unit_id'], unique=False)

    op.create_table('targeting_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=False),
    sa.Column('scheme_version_id', sa.Integer(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('eligible_count', sa.Integer(), nullable=False),
    sa.Column('excluded_count', sa.Integer(), nullable=False),
    sa.Column('method', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['scheme_version_id'], ['scheme_versions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('targeting_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_targeting_runs_scheme_code'), ['scheme_code'], unique=False)

    op.create_table('claim_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scheme_code', 'facility_id', 'period', name='uq_claim_batch')
    )
    op.create_table('contributions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('method', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('payer', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('received_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], ),
    sa.ForeignKeyConstraint(['received_by'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('method', 'reference', name='uq_contributions_reference')
    )
    with op.batch_alter_table('contributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contributions_policy_id'), ['policy_id'], unique=False)

    op.create_table('payment_cycles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=False),
    sa.Column('scheme_version_id', sa.Integer(), nullable=False),
    sa.Column('benefit_code', sa.String(length=64), nullable=False),
    sa.Column('cycle_no', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('targeting_run_id', sa.Integer(), nullable=True),
    sa.Column('payment_count', sa.Integer(), nullable=False),
    sa.Column('total', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('prepared_by', sa.Integer(), nullable=True),
    sa.Column('approved_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['approved_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['prepared_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['scheme_version_id'], ['scheme_versions.id'], ),
    sa.ForeignKeyConstraint(['targeting_run_id'], ['targeting_runs.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('scheme_code', 'benefit_code', 'cycle_no', name='uq_payment_cycle')
    )
    op.create_table('targeting_results',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('eligible', sa.Boolean(), nullable=False),
    sa.Column('failed_rules', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['targeting_runs.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'unit_id')
    )
    op.create_table('claims',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=False),
    sa.Column('scheme_version_id', sa.Integer(), nullable=False),
    sa.Column('benefit_code', sa.String(length=64), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('individual_id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=True),
    sa.Column('date_from', sa.Date(), nullable=False),
    sa.Column('date_to', sa.Date(), nullable=True),
    sa.Column('care_type', sa.String(length=16), nullable=False),
    sa.Column('diagnosis', sa.String(length=8), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('asked', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('payable', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('selected_for_review', sa.Boolean(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('feedback', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['claim_batches.id'], ),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], ),
    sa.ForeignKeyConstraint(['individual_id'], ['individuals.id'], ),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], ),
    sa.ForeignKeyConstraint(['scheme_version_id'], ['scheme_versions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('facility_id', 'code', name='uq_claims_facility_code')
    )
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.create_index('ix_claims_person_date', ['individual_id', 'date_from'], unique=False)
        batch_op.create_index('ix_claims_scheme_status', ['scheme_code', 'status'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=False),
    sa.Column('benefit_code', sa.String(length=64), nullable=False),
    sa.Column('cycle_no', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('failure_reason', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('explanation', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['payment_cycles.id'], ),
    sa.ForeignKeyConstraint(['recipient_id'], ['individuals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference'),
    sa.UniqueConstraint('scheme_code', 'benefit_code', 'cycle_no', 'unit_id', name='uq_payment_key')
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index('ix_payments_cycle_status', ['cycle_id', 'status'], unique=False)

    op.create_table('vouchers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('scheme_code', sa.String(length=64), nullable=False),
    sa.Column('benefit_code', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('individual_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('reimbursement', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['individual_id'], ['individuals.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.create_index('ix_vouchers_person', ['individual_id', 'status'], unique=False)

    op.create_table('claim_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('claim_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('price_asked', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('quantity_approved', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('price', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('valuated', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('co_payment', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('payable', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reasons', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['claim_id'], ['claims.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('claim_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_claim_lines_claim_id'), ['claim_id'], unique=False)

    op.create_table('voucher_redemptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('voucher_id', sa.Integer(), nullable=False),
    sa.Column('facility_id', sa.Integer(), nullable=False),
    sa.Column('service_code', sa.String(length=32), nullable=False),
    sa.Column('redeemed_on', sa.Date(), nullable=False),
    sa.Column('redeemed_by', sa.Integer(), nullable=True),
    sa.Column('reimbursement_period', sa.String(length=7), nullable=True),
    sa.Column('reimbursed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['facility_id'], ['facilities.id'], ),
    sa.ForeignKeyConstraint(['redeemed_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['voucher_id'], ['vouchers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('voucher_id', name='uq_voucher_redemption')
    )
    with op.batch_alter_table('voucher_redemptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voucher_redemptions_facility_id'), ['facility_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('voucher_redemptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voucher_redemptions_facility_id'))

    op.drop_table('voucher_redemptions')
    with op.batch_alter_table('claim_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_claim_lines_claim_id'))

    op.drop_table('claim_lines')
    with op.batch_alter_table('vouchers', schema=None) as batch_op:
        batch_op.drop_index('ix_vouchers_person')

    op.drop_table('vouchers')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_cycle_status')

    op.drop_table('payments')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_scheme_status')
        batch_op.drop_index('ix_claims_person_date')

    op.drop_table('claims')
    op.drop_table('targeting_results')
    op.drop_table('payment_cycles')
    with op.batch_alter_table('contributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contributions_policy_id'))

    op.drop_table('contributions')
    op.drop_table('claim_batches')
    with op.batch_alter_table('targeting_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_targeting_runs_scheme_code'))

    op.drop_table('targeting_runs')
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_index('ix_policies_unit')
        batch_op.drop_index('ix_policies_scheme_status')

    op.drop_table('policies')
