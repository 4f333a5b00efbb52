"""rollups by month and profile answer: a breakdown by field, sex or age reads them, not answers

Revision ID: 0015_profile_rollups
Revises: 0014_month_rollups
Create Date: 2026-12-04

The tables are created empty; init-db fills them from the stored answers
(services/rollups.rebuild_profiles, which knows which questions are profile questions and
which are scored items), and every writer keeps them in step from then on.
"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0015_profile_rollups'
down_revision = '0014_month_rollups'
branch_labels = None
depends_on = None

KEY = ['questionnaire_id', 'profile_id', 'month', 'unit_id', 'channel', 'profile_code']


def _key():
    return [
        sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
        sa.Column('profile_id', sa.String(length=64), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('channel', sa.String(length=8), nullable=False),
        sa.Column('profile_code', sa.Integer(), nullable=False),
    ]


def _fk(table):
    return sa.ForeignKeyConstraint(['unit_id'], ['unit.id'],
                                   name=op.f(f'fk_{table}_unit_id_unit'), ondelete='RESTRICT')


def upgrade():
    op.create_table(
        'stat_profile', *_key(),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('score_n', sa.Integer(), nullable=False),
        sa.Column('score_sum', sa.BigInteger(), nullable=False),
        sa.Column('score_sqsum', sa.BigInteger(), nullable=False),
        sa.CheckConstraint('n >= 0 AND score_n >= 0 AND score_n <= n',
                           name=op.f('ck_stat_profile_counts_valid')),
        _fk('stat_profile'),
        sa.PrimaryKeyConstraint(*KEY, name=op.f('pk_stat_profile')))
    op.create_table(
        'stat_profile_answer', *_key(),
        sa.Column('question_id', sa.String(length=64), nullable=False),
        sa.Column('option_code', sa.Integer(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.CheckConstraint('n >= 0', name=op.f('ck_stat_profile_answer_n_valid')),
        _fk('stat_profile_answer'),
        sa.PrimaryKeyConstraint(*KEY, 'question_id', 'option_code',
                                name=op.f('pk_stat_profile_answer')))
    op.create_table(
        'stat_profile_group', *_key(),
        sa.Column('group_id', sa.String(length=64), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.CheckConstraint('n >= 0', name=op.f('ck_stat_profile_group_n_valid')),
        _fk('stat_profile_group'),
        sa.PrimaryKeyConstraint(*KEY, 'group_id', name=op.f('pk_stat_profile_group')))
    for table in ('stat_profile', 'stat_profile_answer', 'stat_profile_group'):
        op.create_index(f'ix_{table}_unit', table,
                        ['questionnaire_id', 'profile_id', 'unit_id', 'month'])


def downgrade():
    for table in ('stat_profile_group', 'stat_profile_answer', 'stat_profile'):
        op.drop_index(f'ix_{table}_unit', table_name=table)
        op.drop_table(table)
