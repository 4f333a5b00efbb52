"""cases: phản ánh, kiến nghị opened from responses, their internal notes, and contacts kept apart

Revision ID: 0009_cases
Revises: 0008_demo_sample
Create Date: 2026-12-04 10:51:51.638943

"""
from alembic import op
import sqlalchemy as sa

import survey.extensions  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0009_cases'
down_revision = '0008_demo_sample'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pakn_case',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_pk', sa.Integer(), nullable=False),
    sa.Column('receipt', sa.String(length=12), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('handling_unit_id', sa.Integer(), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('reasons', sa.String(length=40), server_default='', nullable=False),
    sa.Column('status', sa.String(length=12), server_default='new', nullable=False),
    sa.Column('opened_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.Column('opened_by', sa.String(length=64), nullable=True),
    sa.Column('due', sa.Date(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('answered_at', survey.extensions.UTCDateTime(), nullable=True),
    sa.Column('closed_at', survey.extensions.UTCDateTime(), nullable=True),
    sa.Column('published', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('citizen_satisfied', sa.Boolean(), nullable=True),
    sa.Column('rated_at', survey.extensions.UTCDateTime(), nullable=True),
    sa.Column('updated_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.CheckConstraint("status <> 'answered' OR answered_at IS NOT NULL", name=op.f('ck_pakn_case_answered_has_time')),
    sa.CheckConstraint("status IN ('new', 'in_progress', 'answered', 'closed')", name=op.f('ck_pakn_case_status_known')),
    sa.ForeignKeyConstraint(['assignee_id'], ['app_user.id'], name=op.f('fk_pakn_case_assignee_id_app_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['handling_unit_id'], ['unit.id'], name=op.f('fk_pakn_case_handling_unit_id_unit'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['response_pk'], ['response.id'], name=op.f('fk_pakn_case_response_pk_response'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_pakn_case_unit_id_unit'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pakn_case')),
    sa.UniqueConstraint('response_pk', name=op.f('uq_pakn_case_response_pk'))
    )
    with op.batch_alter_table('pakn_case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pakn_case_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pakn_case_receipt'), ['receipt'], unique=False)
        batch_op.create_index('ix_pakn_case_status_due', ['status', 'due'], unique=False)
        batch_op.create_index(batch_op.f('ix_pakn_case_unit_id'), ['unit_id'], unique=False)

    op.create_table('case_contact',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('value', sa.String(length=254), nullable=False),
    sa.Column('consented_at', survey.extensions.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('phone', 'email')", name=op.f('ck_case_contact_kind_known')),
    sa.ForeignKeyConstraint(['case_id'], ['pakn_case.id'], name=op.f('fk_case_contact_case_id_pakn_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_contact'))
    )
    op.create_table('case_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('at', survey.extensions.UTCDateTime(), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['pakn_case.id'], name=op.f('fk_case_note_case_id_pakn_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_note'))
    )
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_note_case_id'), ['case_id'], unique=False)



def downgrade():
    with op.batch_alter_table('case_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_note_case_id'))

    op.drop_table('case_note')
    op.drop_table('case_contact')
    with op.batch_alter_table('pakn_case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pakn_case_unit_id'))
        batch_op.drop_index('ix_pakn_case_status_due')
        batch_op.drop_index(batch_op.f('ix_pakn_case_receipt'))
        batch_op.drop_index(batch_op.f('ix_pakn_case_assignee_id'))

    op.drop_table('pakn_case')
