"""search: a folded copy of free-text answers (lower case, no diacritics, đ as d)

Existing text answers get their folded copy here, a thousand rows at a time, with the same
function the app writes it with (survey.services.text.fold_text).

Revision ID: 0007_answer_text_folded
Revises: 0006_integrity
Create Date: 2026-12-04 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from survey.services.text import fold_text


# revision identifiers, used by Alembic.
revision = '0007_answer_text_folded'
down_revision = '0006_integrity'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_folded', sa.Text(), nullable=True))

    answer = sa.table('answer', sa.column('response_pk', sa.Integer()),
                      sa.column('question_id', sa.String()), sa.column('text_value', sa.Text()),
                      sa.column('text_folded', sa.Text()))
    bind = op.get_bind()
    after = (-1, '')
    while True:
        rows = bind.execute(
            sa.select(answer.c.response_pk, answer.c.question_id, answer.c.text_value)
            .where(answer.c.text_value.is_not(None),
                   sa.tuple_(answer.c.response_pk, answer.c.question_id) > sa.tuple_(*after))
            .order_by(answer.c.response_pk, answer.c.question_id).limit(BATCH)).all()
        if not rows:
            break
        bind.execute(
            answer.update().where(answer.c.response_pk == sa.bindparam('pk'),
                                  answer.c.question_id == sa.bindparam('qid'))
            .values(text_folded=sa.bindparam('folded')),
            [{'pk': pk, 'qid': qid, 'folded': fold_text(text)} for pk, qid, text in rows])
        after = (rows[-1][0], rows[-1][1])


def downgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_column('text_folded')
