"""integrity: flags on responses, staff exclusions, opening hours of units

Existing responses get their flags at the first scan (init-db, or any staff page that reads
flags); their excluded count starts at 0, as nothing was excluded before.

Revision ID: 0006_integrity
Revises: 0005_paper
Create Date: 2026-12-03 22:17:54.631393

"""
from alembic import op
import sqlalchemy as sa

import survey.extensions  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0006_integrity'
down_revision = '0005_paper'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('integrity_dirty',
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.PrimaryKeyConstraint('questionnaire_id', 'unit_id', 'day', name=op.f('pk_integrity_dirty'))
    )
    op.create_table('integrity_state',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_integrity_state'))
    )
    op.create_table('flag_group',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('first_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.Column('last_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('updated_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_flag_group_unit_id_unit'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_group')),
    sa.UniqueConstraint('key', name=op.f('uq_flag_group_key'))
    )
    with op.batch_alter_table('flag_group', schema=None) as batch_op:
        batch_op.create_index('ix_flag_group_questionnaire_day', ['questionnaire_id', 'day'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_group_unit_id'), ['unit_id'], unique=False)

    op.create_table('response_flag',
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('response_pk', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['flag_group.id'], name=op.f('fk_response_flag_group_id_flag_group'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_pk'], ['response.id'], name=op.f('fk_response_flag_response_pk_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('group_id', 'response_pk', name=op.f('pk_response_flag'))
    )
    with op.batch_alter_table('response_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_flag_response_pk'), ['response_pk'], unique=False)

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flags', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('imported_flags', sa.String(length=80), server_default='', nullable=False))
        batch_op.add_column(sa.Column('excluded', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('excluded_at', survey.extensions.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('excluded_by', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('excluded_reason', sa.Text(), nullable=True))

    with op.batch_alter_table('stat_response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('n_excluded', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_check_constraint('excluded_valid', 'n_excluded >= 0')

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.String(length=200), nullable=True))



def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_column('opening_hours')

    with op.batch_alter_table('stat_response', schema=None) as batch_op:
        batch_op.drop_constraint('excluded_valid', type_='check')
        batch_op.drop_column('n_excluded')

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_column('excluded_reason')
        batch_op.drop_column('excluded_by')
        batch_op.drop_column('excluded_at')
        batch_op.drop_column('excluded')
        batch_op.drop_column('imported_flags')
        batch_op.drop_column('flags')

    with op.batch_alter_table('response_flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_flag_response_pk'))

    op.drop_table('response_flag')
    with op.batch_alter_table('flag_group', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_group_unit_id'))
        batch_op.drop_index('ix_flag_group_questionnaire_day')

    op.drop_table('flag_group')
    op.drop_table('integrity_state')
    op.drop_table('integrity_dirty')
