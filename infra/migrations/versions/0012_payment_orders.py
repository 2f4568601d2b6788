"""payment orders and raw notifications of the providers' gateways, and the union's provider (issue 15)

Revision ID: 0012
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'payment_orders',
        sa.Column('order_id', sa.String(length=60), nullable=False),
        sa.Column('application_id', sa.String(length=40), nullable=False),
        sa.Column('union_slug', sa.String(length=40), nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('provider_ref', sa.String(length=200), nullable=True),
        sa.Column('redirect_url', sa.Text(), nullable=True),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('state', sa.String(length=20), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('transaction_id', sa.String(length=100), nullable=True),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refund_ref', sa.String(length=200), nullable=True),
        sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('refund_claim', sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint('order_id'),
    )
    op.create_index(op.f('ix_payment_orders_application_id'), 'payment_orders', ['application_id'], unique=False)
    op.create_index('ix_payment_orders_state_created', 'payment_orders', ['state', 'created_at'], unique=False)
    op.create_table(
        'payment_notifications',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('provider', sa.String(length=20), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('order_id', sa.String(length=60), nullable=True),
        sa.Column('provider_ref', sa.String(length=200), nullable=True),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('headers', sa.JSON(), nullable=False),
        sa.Column('body', sa.LargeBinary(), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('outcome', sa.String(length=30), nullable=False),
        sa.Column('dedupe_key', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('dedupe_key'),
    )
    op.create_index(op.f('ix_payment_notifications_order_id'), 'payment_notifications', ['order_id'], unique=False)
    # plain ALTER TABLE, not batch mode: SQLite's batch copy cannot carry 0008's expression index over
    op.add_column('unions', sa.Column('payment_provider', sa.String(length=20), nullable=True))


def downgrade() -> None:
    op.execute('ALTER TABLE unions DROP COLUMN payment_provider')
    op.drop_index(op.f('ix_payment_notifications_order_id'), table_name='payment_notifications')
    op.drop_table('payment_notifications')
    op.drop_index('ix_payment_orders_state_created', table_name='payment_orders')
    op.drop_index(op.f('ix_payment_orders_application_id'), table_name='payment_orders')
    op.drop_table('payment_orders')
