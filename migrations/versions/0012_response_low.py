"""low ratings kept with each response: the follow-up list reads an index, not every answer

Revision ID: 0012_response_low
Revises: 0011_wards
Create Date: 2026-12-04

The flag of the responses already stored is set by init-db (services/rollups.fill_low), which
knows the questionnaires' scales; until then it is NULL.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0012_response_low'
down_revision = '0011_wards'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('low', sa.Boolean(), nullable=True))
        batch_op.create_index('ix_response_questionnaire_low',
                              ['questionnaire_id', 'low', 'submitted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_questionnaire_low')
        batch_op.drop_column('low')
