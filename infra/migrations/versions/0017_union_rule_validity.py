"""union rules: a union's own validity for a certificate type (issue 16)

Revision ID: 0017
Revises: 0016
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('union_rules', sa.Column('valid_days', sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column('union_rules', 'valid_days')
