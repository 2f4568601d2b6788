"""the trade licences' register: a union's licence numbers kept from fiscal year to fiscal year, each with its
current certificate; a union's own licence fees by business category (issue 16)

Revision ID: 0018
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'licences',
        sa.Column('union_slug', sa.String(length=40), nullable=False),
        sa.Column('licence_no', sa.String(length=60), nullable=False),
        sa.Column('seq', sa.Integer(), nullable=False),
        sa.Column('certificate_no', sa.String(length=60), nullable=False),
        sa.Column('application_id', sa.String(length=40), nullable=False),
        sa.Column('fiscal_year', sa.String(length=9), nullable=False),
        sa.Column('holder_name_bn', sa.String(length=200), nullable=True),
        sa.Column('holder_name_en', sa.String(length=200), nullable=True),
        sa.Column('business_name_bn', sa.String(length=200), nullable=False),
        sa.Column('business_category', sa.String(length=40), nullable=True),
        sa.Column('mobile', sa.String(length=20), nullable=True),
        sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['union_slug'], ['unions.slug']),
        sa.PrimaryKeyConstraint('union_slug', 'licence_no'),
        sa.UniqueConstraint('union_slug', 'seq', name='licences_union_slug_seq_key'),
        sa.UniqueConstraint('certificate_no', name='licences_certificate_no_key'),
    )
    op.create_index('ix_licences_union_year', 'licences', ['union_slug', 'fiscal_year', 'seq'])
    op.add_column('union_rules', sa.Column('tax_table', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('union_rules', 'tax_table')
    op.drop_index('ix_licences_union_year', table_name='licences')
    op.drop_table('licences')
