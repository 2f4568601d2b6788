"""unions: each union's own code, from which its memo numbers come (issue 13)

Revision ID: 0007
Revises: 0006

Existing unions get codes in the order of their upazila and slug (01, 02, ...); set the real ones (the BBS
geo-codes) with `sonod admin union-code SLUG CODE`.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('unions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sa.String(length=12), nullable=True))
    unions = sa.table('unions', sa.column('slug', sa.String), sa.column('upazila_slug', sa.String),
                      sa.column('code', sa.String))
    connection = op.get_bind()
    slugs = connection.execute(sa.select(unions.c.slug).order_by(unions.c.upazila_slug, unions.c.slug)).scalars()
    for n, slug in enumerate(list(slugs), 1):
        connection.execute(unions.update().where(unions.c.slug == slug).values(code=f"{n:02d}"))
    with op.batch_alter_table('unions', schema=None) as batch_op:
        batch_op.alter_column('code', existing_type=sa.String(length=12), nullable=False)
        batch_op.create_unique_constraint('uq_unions_code', ['code'])


def downgrade() -> None:
    with op.batch_alter_table('unions', schema=None) as batch_op:
        batch_op.drop_constraint('uq_unions_code', type_='unique')
        batch_op.drop_column('code')
