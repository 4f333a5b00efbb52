"""rollups indexed by unit: a ward's summary reads its own rows, not every unit's

Revision ID: 0013_rollup_unit_index
Revises: 0012_response_low
Create Date: 2026-12-04

With a hundred wards on one instance, the rollups' key (questionnaire, day, unit, channel)
made a ward's month read the rows of every unit of that month (1 s per query at a million
responses on PostgreSQL, bench/dashboard); with these indexes it reads its own (0.01 s).
"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013_rollup_unit_index'
down_revision = '0012_response_low'
branch_labels = None
depends_on = None

TABLES = ('stat_response', 'stat_answer', 'stat_group')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f'ix_{table}_unit', ['questionnaire_id', 'unit_id', 'day'],
                                  unique=False)


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f'ix_{table}_unit')
