"""applications: when the application's certificate was revoked, for every list to show it (issue 18)

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not batch mode: SQLite's batch copy cannot carry 0008's expression index over.
def upgrade() -> None:
    op.add_column('applications', sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
    applications = sa.table('applications', sa.column('id', sa.String), sa.column('revoked_at', sa.DateTime))
    certificates = sa.table('certificates', sa.column('application_id', sa.String),
                            sa.column('revoked_at', sa.DateTime))
    op.execute(applications.update().values(revoked_at=sa.select(certificates.c.revoked_at)
                                            .where(certificates.c.application_id == applications.c.id)
                                            .scalar_subquery()))


def downgrade() -> None:
    op.execute('ALTER TABLE applications DROP COLUMN revoked_at')
