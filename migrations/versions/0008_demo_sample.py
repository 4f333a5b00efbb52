"""demo: mark the demo sample's responses in a table of their own

Before, the sample was found by a reserved range of response ids; a real response can carry any
id (the public form's hidden field, an import), so the range could take real rows with it. A
database seeded before this revision has its sample marked here by that range, once.

Revision ID: 0008_demo_sample
Revises: 0007_answer_text_folded
Create Date: 2026-12-05 03:00:00.000000

"""
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_demo_sample'
down_revision = '0007_answer_text_folded'
branch_labels = None
depends_on = None

SAMPLE_PREFIX = 0xDE30_5A3F_0000_0000


def upgrade():
    op.create_table('demo_response',
    sa.Column('response_pk', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['response_pk'], ['response.id'], name=op.f('fk_demo_response_response_pk_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_pk', name=op.f('pk_demo_response'))
    )
    # A sample seeded by an earlier version: its rows are the audited demo.seed's, in the range.
    bind = op.get_bind()
    seeded = bind.execute(sa.text(
        "SELECT count(*) FROM audit_log WHERE action = 'demo.seed'")).scalar()
    if seeded:
        response = sa.table('response', sa.column('id', sa.Integer()),
                            sa.column('response_id', sa.Uuid()))
        low = uuid.UUID(int=SAMPLE_PREFIX << 64)
        high = uuid.UUID(int=(SAMPLE_PREFIX << 64) | (2**64 - 1))
        demo_response = sa.table('demo_response', sa.column('response_pk', sa.Integer()))
        bind.execute(demo_response.insert().from_select(
            ['response_pk'],
            sa.select(response.c.id).where(response.c.response_id.between(low, high))))


def downgrade():
    op.drop_table('demo_response')
