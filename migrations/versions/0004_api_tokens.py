"""api tokens: scripts read /api/v1/summary with a token; only its SHA-256 is stored

Revision ID: 0004_api_tokens
Revises: 0003_rollups
Create Date: 2026-11-26

"""
import sqlalchemy as sa
from alembic import op

import survey.extensions  # noqa: F401  (UTCDateTime)

# revision identifiers, used by Alembic.
revision = '0004_api_tokens'
down_revision = '0003_rollups'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('created_at', survey.extensions.UTCDateTime(), nullable=False),
        sa.Column('last_used_at', survey.extensions.UTCDateTime(), nullable=True),
        sa.Column('revoked', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['app_user.id'],
                                name=op.f('fk_api_token_user_id_app_user'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
        sa.UniqueConstraint('token_sha256', name=op.f('uq_api_token_token_sha256')),
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))
    op.drop_table('api_token')
