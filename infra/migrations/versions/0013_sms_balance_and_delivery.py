"""SMS: the unions' balance in segments, and on the outbox the union, segments, charge, provider, retry and
delivery report of each message (issue 15)

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

def outbox_columns() -> list[sa.Column]:
    return [
        sa.Column('union_slug', sa.String(length=40), nullable=True),
        sa.Column('segments', sa.Integer(), nullable=True),
        sa.Column('charged', sa.Integer(), nullable=True),
        sa.Column('provider', sa.String(length=20), nullable=True),
        sa.Column('provider_ref', sa.String(length=100), nullable=True),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('dlr_status', sa.String(length=20), nullable=True),
        sa.Column('dlr_at', sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    op.add_column('unions', sa.Column('sms_balance', sa.Integer(), nullable=True))
    for column in outbox_columns():
        op.add_column('outbox', column)
    op.create_index('ix_outbox_retry', 'outbox', ['status', 'next_attempt_at'])
    op.create_index('ix_outbox_provider_ref', 'outbox', ['provider', 'provider_ref'])
    # an SMS that failed before: Temporal retried the whole notification; now the worker's retry loop takes it up
    outbox = sa.table('outbox', sa.column('channel', sa.String), sa.column('status', sa.String),
                      sa.column('attempts', sa.Integer), sa.column('next_attempt_at', sa.DateTime))
    op.execute(outbox.update().where(outbox.c.channel == 'sms', outbox.c.status == 'pending', outbox.c.attempts > 0)
               .values(next_attempt_at=sa.func.current_timestamp()))


def downgrade() -> None:
    op.drop_index('ix_outbox_provider_ref', table_name='outbox')
    op.drop_index('ix_outbox_retry', table_name='outbox')
    for column in reversed(outbox_columns()):
        op.drop_column('outbox', column.name)
    op.drop_column('unions', 'sms_balance')
