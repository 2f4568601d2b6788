"""certificates in two languages, corrections and duplicate copies (issue 16)

- `certificates.language`: "bn", or "en" for the English certificate `<number>-EN` of a Bengali one, which shares
  its application, year and sequence number: the two unique constraints take the language in;
- `certificates.superseded_by`: the number of the correction that revoked it;
- `applications.language`, `.corrects`, `.attestation`: the certificates asked for, the certificate corrected, and a
  free-text attestation's text as its officer approved it (for the chairman to read);
- `unions.copy_fee`: what the union charges for a duplicate copy (None: sonod's default);
- `certificate_copies`: every duplicate copy asked for, its fee and its PDF.

Revision ID: 0019
Revises: 0020
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0020'
branch_labels = None
depends_on = None

# the names PostgreSQL gave 0001's unnamed constraints, given to SQLite's reflected ones too, so that its batch copy
# can drop them
NAMING = {"uq": "certificates_%(column_0_N_name)s_key"}
REVOKED = sa.text('revoked_at IS NOT NULL')


def _renumber(old: tuple[list[str], list[str]], new: tuple[list[str], list[str]]) -> None:
    """Replace the unique constraints `old` (number, application) with `new`, on PostgreSQL in place, on SQLite by
    its batch copy (whose partial index of the revoked is made again, as the copy loses its WHERE)."""
    if op.get_bind().dialect.name == 'postgresql':
        for columns in old:
            op.drop_constraint(f"certificates_{'_'.join(columns)}_key", 'certificates', type_='unique')
        for columns in new:
            op.create_unique_constraint(f"certificates_{'_'.join(columns)}_key", 'certificates', columns)
        return
    op.drop_index('ix_certificates_revoked_at', table_name='certificates')
    with op.batch_alter_table('certificates', recreate='always', naming_convention=NAMING) as batch_op:
        for columns in old:
            batch_op.drop_constraint(f"certificates_{'_'.join(columns)}_key", type_='unique')
        for columns in new:
            batch_op.create_unique_constraint(f"certificates_{'_'.join(columns)}_key", columns)
    op.create_index('ix_certificates_revoked_at', 'certificates', ['revoked_at'], postgresql_where=REVOKED,
                    sqlite_where=REVOKED)


def upgrade() -> None:
    op.add_column('certificates', sa.Column('language', sa.String(length=2), server_default='bn', nullable=False))
    op.add_column('certificates', sa.Column('superseded_by', sa.String(length=60), nullable=True))
    _renumber((['union_slug', 'year', 'seq'], ['application_id']),
              (['union_slug', 'year', 'seq', 'language'], ['application_id', 'language']))
    op.add_column('unions', sa.Column('copy_fee', sa.Integer(), nullable=True))
    # plain ALTER TABLE, not batch mode: SQLite's batch copy cannot carry 0008's expression index over
    op.add_column('applications', sa.Column('language', sa.String(length=4), server_default='bn', nullable=False))
    op.add_column('applications', sa.Column('corrects', sa.String(length=60), nullable=True))
    op.add_column('applications', sa.Column('attestation', sa.JSON(), nullable=True))
    op.create_table(
        'certificate_copies',
        sa.Column('copy_id', sa.String(length=40), nullable=False),
        sa.Column('certificate_no', sa.String(length=60), nullable=False),
        sa.Column('union_slug', sa.String(length=40), nullable=False),
        sa.Column('requested_by', sa.String(length=80), nullable=False),
        sa.Column('fee', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('transaction_id', sa.String(length=100), nullable=True),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('made_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('pdf_path', sa.String(length=300), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('copy_id'),
    )
    op.create_index('ix_certificate_copies_certificate_no', 'certificate_copies', ['certificate_no'])


def downgrade() -> None:
    op.drop_index('ix_certificate_copies_certificate_no', table_name='certificate_copies')
    op.drop_table('certificate_copies')
    op.drop_column('unions', 'copy_fee')
    for column in ('attestation', 'corrects', 'language'):
        op.execute(f'ALTER TABLE applications DROP COLUMN {column}')
    op.execute("DELETE FROM certificates WHERE language <> 'bn'")
    _renumber((['union_slug', 'year', 'seq', 'language'], ['application_id', 'language']),
              (['union_slug', 'year', 'seq'], ['application_id']))
    op.drop_column('certificates', 'superseded_by')
    op.drop_column('certificates', 'language')
