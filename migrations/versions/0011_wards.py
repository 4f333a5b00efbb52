"""wards as the unit of tenancy: accounts limited to a ward, the city role, ward settings

Revision ID: 0011_wards
Revises: 0010_service_indicators
Create Date: 2026-12-04

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0011_wards'
down_revision = '0010_service_indicators'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settings', sa.JSON(), nullable=True))
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ward_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_app_user_ward_id'), ['ward_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_app_user_ward_id_unit'), 'unit', ['ward_id'],
                                    ['id'], ondelete='RESTRICT')
        batch_op.drop_constraint(batch_op.f('ck_app_user_role_known'), type_='check')
        batch_op.create_check_constraint(
            'role_known', "role IN ('admin', 'staff', 'leader', 'city')")


def downgrade():
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_app_user_role_known'), type_='check')
        batch_op.create_check_constraint('role_known', "role IN ('admin', 'staff', 'leader')")
        batch_op.drop_constraint(batch_op.f('fk_app_user_ward_id_unit'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_app_user_ward_id'))
        batch_op.drop_column('ward_id')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('settings')
