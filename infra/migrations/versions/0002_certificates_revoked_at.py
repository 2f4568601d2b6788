"""certificates: a partial index of the revoked ones

What the API's verifiers poll every few seconds for revocations made by other processes (api/verification.py),
and what the revocation list reads: without it, both scan every certificate.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index('ix_certificates_revoked_at', ['revoked_at'], unique=False,
                              postgresql_where=sa.text('revoked_at IS NOT NULL'),
                              sqlite_where=sa.text('revoked_at IS NOT NULL'))


def downgrade() -> None:
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index('ix_certificates_revoked_at')
