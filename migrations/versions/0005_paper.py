"""paper: batches of printed sheets, entries (double entry) and the sheet of a response

Adding the sheet to `response` rebuilds that table on SQLite; env.py keeps foreign keys off
meanwhile, so that no answer is lost (tests/test_migrations.py).

Revision ID: 0005_paper
Revises: 0004_api_tokens
Create Date: 2026-11-26 17:49:04.647957

"""
from alembic import op
import sqlalchemy as sa

import survey.extensions  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0005_paper'
down_revision = '0004_api_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('questionnaire_version', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('leader_id', sa.Integer(), nullable=True),
    sa.Column('sheet_count', sa.Integer(), nullable=False),
    sa.Column('returned_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('double_entry', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('note', sa.String(length=200), server_default='', nullable=False),
    sa.Column('created_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('returned_count BETWEEN 0 AND sheet_count', name=op.f('ck_batch_returned_range')),
    sa.CheckConstraint('sheet_count BETWEEN 1 AND 2000', name=op.f('ck_batch_sheet_count_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_batch_created_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['leader_id'], ['app_user.id'], name=op.f('fk_batch_leader_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['questionnaire_id', 'questionnaire_version'], ['questionnaire_version.questionnaire_id', 'questionnaire_version.version'], name='fk_batch_questionnaire_version', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_batch_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch'))
    )
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batch_unit_id'), ['unit_id'], unique=False)

    op.create_table('sheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('serial', sa.Integer(), nullable=False),
    sa.Column('verified_at', survey.extensions.UTCDateTime(), nullable=True),
    sa.CheckConstraint('serial > 0', name=op.f('ck_sheet_serial_positive')),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_sheet_batch_id_batch'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sheet')),
    sa.UniqueConstraint('serial', name=op.f('uq_sheet_serial'))
    )
    with op.batch_alter_table('sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sheet_batch_id'), ['batch_id'], unique=False)

    op.create_table('sheet_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('pass_no', sa.Integer(), nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.CheckConstraint('pass_no IN (1, 2)', name=op.f('ck_sheet_entry_pass_known')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['app_user.id'], name=op.f('fk_sheet_entry_entered_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['sheet_id'], ['sheet.id'], name=op.f('fk_sheet_entry_sheet_id_sheet'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sheet_entry')),
    sa.UniqueConstraint('sheet_id', 'pass_no', name='uq_sheet_entry_sheet_pass')
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sheet_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_response_sheet_id'), ['sheet_id'])
        batch_op.create_foreign_key(batch_op.f('fk_response_sheet_id_sheet'), 'sheet', ['sheet_id'], ['id'], ondelete='RESTRICT')

    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sample_target', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(op.f('ck_unit_target_positive'),
                                         'sample_target IS NULL OR sample_target > 0')



def downgrade():
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_unit_target_positive'), type_='check')
        batch_op.drop_column('sample_target')

    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_response_sheet_id_sheet'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_response_sheet_id'), type_='unique')
        batch_op.drop_column('sheet_id')

    op.drop_table('sheet_entry')
    with op.batch_alter_table('sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sheet_batch_id'))

    op.drop_table('sheet')
    with op.batch_alter_table('batch', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batch_unit_id'))

    op.drop_table('batch')
