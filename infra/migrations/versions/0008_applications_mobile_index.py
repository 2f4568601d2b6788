"""applications: an index on the mobile number given with each application (issue 18)

The officers' search finds a union's applications by mobile number, newest first, with an index seek instead of
reading every row of the union (`contact` is JSON: the index is on the expression `sonod.db.contact_mobile`).

Revision ID: 0008
Revises: 0007
"""
from alembic import op

from sonod.db import contact_mobile

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_applications_union_mobile', 'applications',
                    ['union_slug', contact_mobile(), 'created_at', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_applications_union_mobile', table_name='applications')
