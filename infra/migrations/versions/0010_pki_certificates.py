"""pki_certificates: the sonod root, issuing CAs, TSA and the unions' PDF-signing certificates; unions.pdf_signer,
whose certificate signs a union's PDFs (issue 17)

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'pki_certificates',
        sa.Column('name', sa.String(120), primary_key=True),
        sa.Column('role', sa.String(20), nullable=False),
        sa.Column('issuer', sa.String(120), nullable=True),
        sa.Column('serial', sa.String(40), nullable=False),
        sa.Column('certificate', sa.LargeBinary(), nullable=False),
        sa.Column('sealed_private_key', sa.LargeBinary(), nullable=False),
        sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
        sa.Column('not_after', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column('unions', sa.Column('pdf_signer', sa.String(10), nullable=False, server_default='union'))


def downgrade() -> None:
    op.execute('ALTER TABLE unions DROP COLUMN pdf_signer')
    op.drop_table('pki_certificates')
