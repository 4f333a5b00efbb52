"""a partial index of the free-text answers: the suggestions list counts them through it

Revision ID: 0016_answer_text_index
Revises: 0015_profile_rollups
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0016_answer_text_index'
down_revision = '0015_profile_rollups'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index('ix_answer_text', ['response_pk'], unique=False,
                              sqlite_where=sa.text('text_value IS NOT NULL'),
                              postgresql_where=sa.text('text_value IS NOT NULL'))


def downgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_text')
