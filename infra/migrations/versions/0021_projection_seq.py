"""applications: the sequence number of the projection written, so that a retried activity's older projection never
overwrites a newer one (issue 14)

Revision ID: 0021
Revises: 0018
"""
import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('applications', sa.Column('projection_seq', sa.Integer(), nullable=False, server_default='0'))


def downgrade() -> None:
    op.drop_column('applications', 'projection_seq')
