"""rollups: counts kept in step with every response, so that summaries stay fast

Existing responses are counted by `flask --app wsgi init-db`, which rebuilds the rollups
when they do not match the responses (survey/services/stats.py).

Revision ID: 0003_rollups
Revises: 0002_session_token
Create Date: 2026-11-26 16:35:53.732134

"""
from alembic import op
import sqlalchemy as sa

import survey.extensions  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0003_rollups'
down_revision = '0002_session_token'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('stat_answer',
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('option_code', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.CheckConstraint('n >= 0', name=op.f('ck_stat_answer_n_valid')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_stat_answer_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('questionnaire_id', 'day', 'unit_id', 'channel', 'question_id', 'option_code', name=op.f('pk_stat_answer'))
    )
    op.create_table('stat_group',
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('group_id', sa.String(length=64), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.CheckConstraint('n >= 0', name=op.f('ck_stat_group_n_valid')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_stat_group_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('questionnaire_id', 'day', 'unit_id', 'channel', 'group_id', name=op.f('pk_stat_group'))
    )
    op.create_table('stat_response',
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('score_n', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.BigInteger(), nullable=False),
    sa.Column('score_sqsum', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('n >= 0 AND score_n >= 0 AND score_n <= n', name=op.f('ck_stat_response_counts_valid')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_stat_response_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('questionnaire_id', 'day', 'unit_id', 'channel', name=op.f('pk_stat_response'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('score_milli', sa.BigInteger(), nullable=True))




def downgrade():

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('score_milli')

    op.drop_table('stat_response')
    op.drop_table('stat_group')
    op.drop_table('stat_answer')

