"""print batches: issued certificates made into one print-ready PDF, the certificates' printed_at and print_batch, a
union's letterhead margins (issue 16)

Revision ID: 0020
Revises: 0017
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'print_batches',
        sa.Column('id', sa.String(length=60), nullable=False),
        sa.Column('union_slug', sa.String(length=40), nullable=False),
        sa.Column('requested_by', sa.String(length=80), nullable=False),
        sa.Column('filters', sa.JSON(), nullable=False),
        sa.Column('letterhead', sa.Boolean(), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('certificate_nos', sa.JSON(), nullable=True),
        sa.Column('total', sa.Integer(), nullable=False),
        sa.Column('done', sa.Integer(), nullable=False),
        sa.Column('skipped', sa.JSON(), nullable=False),
        sa.Column('pdf_path', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_print_batches_union_created', 'print_batches', ['union_slug', 'created_at'])
    op.add_column('certificates', sa.Column('printed_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('certificates', sa.Column('print_batch', sa.String(length=60), nullable=True))
    op.add_column('unions', sa.Column('letterhead', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('unions', 'letterhead')
    op.drop_column('certificates', 'print_batch')
    op.drop_column('certificates', 'printed_at')
    op.drop_index('ix_print_batches_union_created', table_name='print_batches')
    op.drop_table('print_batches')
