"""initial schema

Revision ID: 0001_initial
Revises: (none)
Create Date: 2026-11-26 16:01:05.448579

"""
from alembic import op
import sqlalchemy as sa

import survey.extensions  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0001_initial'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.Column('last_login_at', survey.extensions.UTCDateTime(), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'staff', 'leader')", name=op.f('ck_app_user_role_known')),
    sa.CheckConstraint('length(username) BETWEEN 2 AND 64', name=op.f('ck_app_user_username_length')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('username', name=op.f('uq_app_user_username'))
    )
    op.create_table('questionnaire',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('index_kind', sa.String(length=8), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("index_kind IN ('sipas', 'papi')", name=op.f('ck_questionnaire_index_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire'))
    )
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('ward', 'counter', 'office', 'group')", name=op.f('ck_unit_kind_known')),
    sa.CheckConstraint('length(code) BETWEEN 1 AND 32', name=op.f('ck_unit_code_length')),
    sa.CheckConstraint('parent_id IS NULL OR parent_id <> id', name=op.f('ck_unit_not_own_parent')),
    sa.ForeignKeyConstraint(['parent_id'], ['unit.id'], name=op.f('fk_unit_parent_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('code', name=op.f('uq_unit_code'))
    )
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_unit_parent_id'), ['parent_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', survey.extensions.UTCDateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=200), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_audit_log_user_id_app_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_user_id'), ['user_id'], unique=False)

    op.create_table('questionnaire_version',
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('loaded_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.CheckConstraint('version >= 1', name=op.f('ck_questionnaire_version_version_positive')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaire.id'], name=op.f('fk_questionnaire_version_questionnaire_id_questionnaire'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('questionnaire_id', 'version', name=op.f('pk_questionnaire_version'))
    )
    op.create_table('survey_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False),
    sa.Column('created_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.CheckConstraint('length(code) BETWEEN 4 AND 16', name=op.f('ck_survey_link_code_length')),
    sa.ForeignKeyConstraint(['questionnaire_id'], ['questionnaire.id'], name=op.f('fk_survey_link_questionnaire_id_questionnaire'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_survey_link_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_link')),
    sa.UniqueConstraint('code', name=op.f('uq_survey_link_code')),
    sa.UniqueConstraint('unit_id', 'questionnaire_id', name='uq_survey_link_unit_questionnaire')
    )
    op.create_table('user_unit',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_user_unit_unit_id_unit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_user_unit_user_id_app_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'unit_id', name=op.f('pk_user_unit'))
    )
    op.create_table('response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Uuid(), nullable=False),
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('questionnaire_version', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('submitted_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.Column('receipt', sa.String(length=12), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("channel IN ('qr', 'kiosk', 'paper', 'import')", name=op.f('ck_response_channel_known')),
    sa.CheckConstraint('length(digest) = 64', name=op.f('ck_response_digest_length')),
    sa.ForeignKeyConstraint(['entered_by_id'], ['app_user.id'], name=op.f('fk_response_entered_by_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['link_id'], ['survey_link.id'], name=op.f('fk_response_link_id_survey_link'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['questionnaire_id', 'questionnaire_version'], ['questionnaire_version.questionnaire_id', 'questionnaire_version.version'], name='fk_response_questionnaire_version', ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_response_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_response')),
    sa.UniqueConstraint('response_id', name=op.f('uq_response_response_id'))
    )
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.create_index('ix_response_questionnaire_submitted', ['questionnaire_id', 'submitted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_response_receipt'), ['receipt'], unique=False)
        batch_op.create_index('ix_response_unit_submitted', ['unit_id', 'submitted_at'], unique=False)

    op.create_table('answer',
    sa.Column('response_pk', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.String(length=64), nullable=False),
    sa.Column('option_code', sa.Integer(), nullable=True),
    sa.Column('text_value', sa.Text(), nullable=True),
    sa.CheckConstraint('(option_code IS NULL) <> (text_value IS NULL)', name=op.f('ck_answer_one_value')),
    sa.CheckConstraint('option_code IS NULL OR option_code BETWEEN 0 AND 999', name=op.f('ck_answer_option_code_range')),
    sa.ForeignKeyConstraint(['response_pk'], ['response.id'], name=op.f('fk_answer_response_pk_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_pk', 'question_id', name=op.f('pk_answer'))
    )
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index('ix_answer_question_option', ['question_id', 'option_code'], unique=False)




def downgrade():

    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index('ix_answer_question_option')

    op.drop_table('answer')
    with op.batch_alter_table('response', schema=None) as batch_op:
        batch_op.drop_index('ix_response_unit_submitted')
        batch_op.drop_index(batch_op.f('ix_response_receipt'))
        batch_op.drop_index('ix_response_questionnaire_submitted')

    op.drop_table('response')
    op.drop_table('user_unit')
    op.drop_table('survey_link')
    op.drop_table('questionnaire_version')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    with op.batch_alter_table('unit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unit_parent_id'))

    op.drop_table('unit')
    op.drop_table('questionnaire')
    op.drop_table('app_user')

