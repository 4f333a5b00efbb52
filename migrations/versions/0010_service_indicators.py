"""service indicators: monthly dossier counts per counter or ward (chỉ tiêu phục vụ hành chính công)

Revision ID: 0010_service_indicators
Revises: 0009_cases
Create Date: 2026-12-04 14:28:52.999681

"""
from alembic import op
import sqlalchemy as sa

import survey.extensions  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0010_service_indicators'
down_revision = '0009_cases'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('service_indicator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('month', sa.Integer(), nullable=False),
    sa.Column('field', sa.Integer(), server_default='0', nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('late_apology', sa.Integer(), nullable=False),
    sa.Column('online', sa.Integer(), nullable=False),
    sa.Column('paid_online', sa.Integer(), nullable=False),
    sa.Column('postal', sa.Integer(), nullable=False),
    sa.Column('digitised', sa.Integer(), nullable=False),
    sa.Column('recorded_by', sa.String(length=64), nullable=False),
    sa.Column('updated_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.CheckConstraint('digitised <= received', name=op.f('ck_service_indicator_digitised_within_received')),
    sa.CheckConstraint('field BETWEEN 0 AND 999', name=op.f('ck_service_indicator_field_range')),
    sa.CheckConstraint('late_apology <= resolved - on_time', name=op.f('ck_service_indicator_apology_within_late')),
    sa.CheckConstraint('month BETWEEN 1 AND 12', name=op.f('ck_service_indicator_month_range')),
    sa.CheckConstraint('on_time <= resolved', name=op.f('ck_service_indicator_on_time_within_resolved')),
    sa.CheckConstraint('online <= received', name=op.f('ck_service_indicator_online_within_received')),
    sa.CheckConstraint('paid_online <= received', name=op.f('ck_service_indicator_paid_within_received')),
    sa.CheckConstraint('postal <= received', name=op.f('ck_service_indicator_postal_within_received')),
    sa.CheckConstraint('received >= 0 AND resolved >= 0 AND on_time >= 0 AND late_apology >= 0 AND online >= 0 AND paid_online >= 0 AND postal >= 0 AND digitised >= 0', name=op.f('ck_service_indicator_not_negative')),
    sa.CheckConstraint('year BETWEEN 2000 AND 2100', name=op.f('ck_service_indicator_year_range')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_service_indicator_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_indicator')),
    sa.UniqueConstraint('unit_id', 'year', 'month', 'field', name='uq_service_indicator_unit_month_field')
    )


def downgrade():
    op.drop_table('service_indicator')
