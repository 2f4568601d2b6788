"""money receipts: one numbered receipt an application's paid fee, its counter per union and year, and the fee's
lines as the application was admitted under them on the read model (issue 15)

Revision ID: 0016
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'receipts',
        sa.Column('receipt_no', sa.String(length=60), nullable=False),
        sa.Column('application_id', sa.String(length=40), nullable=False),
        sa.Column('union_slug', sa.String(length=40), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('transaction_id', sa.String(length=100), nullable=False),
        sa.Column('method', sa.String(length=20), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('lines', sa.JSON(), nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('pdf_path', sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint('receipt_no'),
        sa.UniqueConstraint('application_id'),
        sa.UniqueConstraint('union_slug', 'year', 'seq'),
    )
    op.create_table(
        'receipt_counters',
        sa.Column('union_slug', sa.String(length=40), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('last_no', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('union_slug', 'year'),
    )
    # plain ALTER TABLE, not batch mode: SQLite's batch copy cannot carry 0008's expression index over
    op.add_column('applications', sa.Column('fee_lines', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE applications DROP COLUMN fee_lines')
    op.drop_table('receipt_counters')
    op.drop_table('receipts')
