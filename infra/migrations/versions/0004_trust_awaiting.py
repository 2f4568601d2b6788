"""the workflow's published awaited step and deciders in the read model (issue 12)

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('unions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timing', sa.JSON(), nullable=False, server_default='{}'))
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('awaiting', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('applications', schema=None) as batch_op:
        batch_op.drop_column('awaiting')
    with op.batch_alter_table('unions', schema=None) as batch_op:
        batch_op.drop_column('timing')
