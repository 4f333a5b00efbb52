"""indexes the lists read by key need: cases newest first, flag groups, excluded responses

Revision ID: 0017_keyset_indexes
Revises: 0016_answer_text_index
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0017_keyset_indexes'
down_revision = '0016_answer_text_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pakn_case', schema=None) as batch_op:
        batch_op.create_index('ix_pakn_case_opened', ['opened_at', 'id'], unique=False)
    with op.batch_alter_table('flag_group', schema=None) as batch_op:
        batch_op.create_index('ix_flag_group_last', ['last_at', 'id'], unique=False)
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index('ix_response_excluded', ['excluded_at', 'id'], unique=False,
                              # as SQLAlchemy writes the list's condition on SQLite
                              sqlite_where=sa.text('excluded IS 1'),
                              postgresql_where=sa.text('excluded IS TRUE'))


def downgrade():
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_excluded')
    with op.batch_alter_table('flag_group', schema=None) as batch_op:
        batch_op.drop_index('ix_flag_group_last')
    with op.batch_alter_table('pakn_case', schema=None) as batch_op:
        batch_op.drop_index('ix_pakn_case_opened')
