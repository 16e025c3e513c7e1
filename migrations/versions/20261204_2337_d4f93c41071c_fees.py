"""fees: fee items, bills (one item for one student, unique per pair) and fee orders (several bills of one
student paid as one payment of the payments domain)

Revision ID: d4f93c41071c
Revises: 03d16833d381
Create Date: 2026-12-04 23:37:54.604877

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'd4f93c41071c'
down_revision = '03d16833d381'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('fee_items',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('category', sa.String(length=10), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('term', sa.String(length=20), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('description', sa.Text(), server_default=sa.text("''"), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("category IN ('学费', '住宿费', '教材费', '校服费', '其他')", name=op.f('ck_fee_items_category')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_fee_items_amount_positive')),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_fee_items_created_by_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_items'))
    )
    op.create_table('fee_orders',
    sa.Column('student_id', sa.BigInteger(), nullable=False),
    sa.Column('payer_id', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('bill_ids', postgresql.ARRAY(sa.BigInteger()), nullable=False),
    sa.Column('payment_id', sa.BigInteger(), nullable=True),
    sa.Column('transaction_id', sa.String(length=32), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('open', 'paid', 'closed')", name=op.f('ck_fee_orders_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_fee_orders_amount_positive')),
    sa.ForeignKeyConstraint(['payer_id'], ['users.id'], name=op.f('fk_fee_orders_payer_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_fee_orders_student_id_students'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_orders')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_fee_orders_payment_id'))
    )
    with op.batch_alter_table('fee_orders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_orders_payer_id'), ['payer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fee_orders_student_id'), ['student_id'], unique=False)

    op.create_table('fee_bills',
    sa.Column('item_id', sa.BigInteger(), nullable=False),
    sa.Column('student_id', sa.BigInteger(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('order_id', sa.BigInteger(), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paid_by', sa.BigInteger(), nullable=True),
    sa.Column('receipt_no', sa.String(length=24), nullable=True),
    sa.Column('refund_id', sa.BigInteger(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("status IN ('unpaid', 'paying', 'paid', 'waived', 'refunded')", name=op.f('ck_fee_bills_status')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_fee_bills_amount_positive')),
    sa.ForeignKeyConstraint(['item_id'], ['fee_items.id'], name=op.f('fk_fee_bills_item_id_fee_items'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['order_id'], ['fee_orders.id'], name=op.f('fk_fee_bills_order_id_fee_orders'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['paid_by'], ['users.id'], name=op.f('fk_fee_bills_paid_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['student_id'], ['students.id'], name=op.f('fk_fee_bills_student_id_students'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fee_bills')),
    sa.UniqueConstraint('item_id', 'student_id', name=op.f('uq_fee_bills_item_id_student_id')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_fee_bills_receipt_no')),
    sa.UniqueConstraint('refund_id', name=op.f('uq_fee_bills_refund_id'))
    )
    with op.batch_alter_table('fee_bills', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fee_bills_item_id'), ['item_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fee_bills_order_id'), ['order_id'], unique=False)
        batch_op.create_index('ix_fee_bills_student', ['student_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('fee_bills', schema=None) as batch_op:
        batch_op.drop_index('ix_fee_bills_student')
        batch_op.drop_index(batch_op.f('ix_fee_bills_order_id'))
        batch_op.drop_index(batch_op.f('ix_fee_bills_item_id'))

    op.drop_table('fee_bills')
    with op.batch_alter_table('fee_orders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fee_orders_student_id'))
        batch_op.drop_index(batch_op.f('ix_fee_orders_payer_id'))

    op.drop_table('fee_orders')
    op.drop_table('fee_items')
