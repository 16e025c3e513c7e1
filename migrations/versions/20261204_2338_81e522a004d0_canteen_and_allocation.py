"""canteen and allocation: the core allocation primitive (stocks with a CHECK remaining >= 0, takes keyed
by an idempotency key) and the canteen (canteens, windows, dishes, menus and their items, orders and their
lines; a partial unique index keeps pickup codes unique among a canteen's paid orders)

Revision ID: 81e522a004d0
Revises: d4f93c41071c
Create Date: 2026-12-04 23:36:39.130583

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '81e522a004d0'
down_revision = 'd4f93c41071c'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('allocation_stocks',
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('remaining', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('remaining >= 0', name=op.f('ck_allocation_stocks_remaining_not_negative')),
    sa.CheckConstraint('total >= 0', name=op.f('ck_allocation_stocks_total_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation_stocks')),
    sa.UniqueConstraint('kind', 'subject_id', name=op.f('uq_allocation_stocks_kind_subject_id'))
    )
    op.create_table('canteens',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('location', sa.String(length=80), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canteens')),
    sa.UniqueConstraint('name', name=op.f('uq_canteens_name'))
    )
    op.create_table('allocations',
    sa.Column('stock_id', sa.BigInteger(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('released_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_allocations_quantity_positive')),
    sa.ForeignKeyConstraint(['stock_id'], ['allocation_stocks.id'], name=op.f('fk_allocations_stock_id_allocation_stocks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocations')),
    sa.UniqueConstraint('key', name=op.f('uq_allocations_key'))
    )
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_allocations_stock_id'), ['stock_id'], unique=False)

    op.create_table('canteen_menus',
    sa.Column('canteen_id', sa.BigInteger(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('meal', sa.String(length=10), nullable=False),
    sa.Column('max_per_order', sa.Integer(), nullable=False),
    sa.Column('orders_close_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancel_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pickup_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pickup_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("meal IN ('breakfast', 'lunch', 'dinner')", name=op.f('ck_canteen_menus_meal')),
    sa.CheckConstraint('cancel_until <= orders_close_at', name=op.f('ck_canteen_menus_cancel_before_close')),
    sa.CheckConstraint('pickup_from < pickup_until', name=op.f('ck_canteen_menus_pickup_window')),
    sa.ForeignKeyConstraint(['canteen_id'], ['canteens.id'], name=op.f('fk_canteen_menus_canteen_id_canteens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canteen_menus')),
    sa.UniqueConstraint('canteen_id', 'day', 'meal', name=op.f('uq_canteen_menus_canteen_id_day_meal'))
    )
    op.create_table('canteen_windows',
    sa.Column('canteen_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['canteen_id'], ['canteens.id'], name=op.f('fk_canteen_windows_canteen_id_canteens'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canteen_windows')),
    sa.UniqueConstraint('canteen_id', 'name', name=op.f('uq_canteen_windows_canteen_id_name'))
    )
    op.create_table('canteen_dishes',
    sa.Column('canteen_id', sa.BigInteger(), nullable=False),
    sa.Column('window_id', sa.BigInteger(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('price_fen', sa.Integer(), nullable=False),
    sa.Column('tags', postgresql.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('allergens', postgresql.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('price_fen >= 0', name=op.f('ck_canteen_dishes_price_not_negative')),
    sa.ForeignKeyConstraint(['canteen_id'], ['canteens.id'], name=op.f('fk_canteen_dishes_canteen_id_canteens'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['window_id'], ['canteen_windows.id'], name=op.f('fk_canteen_dishes_window_id_canteen_windows')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canteen_dishes'))
    )
    with op.batch_alter_table('canteen_dishes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_canteen_dishes_canteen_id'), ['canteen_id'], unique=False)

    op.create_table('canteen_orders',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('canteen_id', sa.BigInteger(), nullable=False),
    sa.Column('menu_id', sa.BigInteger(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('price_group', sa.String(length=10), nullable=False),
    sa.Column('total_fen', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.BigInteger(), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pickup_code', sa.String(length=8), nullable=True),
    sa.Column('qr_token', sa.String(length=40), nullable=True),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('picked_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('picked_up_by', sa.BigInteger(), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('total_fen > 0', name=op.f('ck_canteen_orders_total_positive')),
    sa.ForeignKeyConstraint(['canteen_id'], ['canteens.id'], name=op.f('fk_canteen_orders_canteen_id_canteens')),
    sa.ForeignKeyConstraint(['menu_id'], ['canteen_menus.id'], name=op.f('fk_canteen_orders_menu_id_canteen_menus')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canteen_orders')),
    sa.UniqueConstraint('qr_token', name=op.f('uq_canteen_orders_qr_token')),
    sa.UniqueConstraint('user_id', 'request_id', name=op.f('uq_canteen_orders_user_id_request_id'))
    )
    with op.batch_alter_table('canteen_orders', schema=None) as batch_op:
        batch_op.create_index('ix_canteen_orders_menu', ['menu_id', 'status'], unique=False)
        batch_op.create_index('ix_canteen_orders_user', ['user_id', 'id'], unique=False)
        batch_op.create_index('uq_canteen_orders_open_code', ['canteen_id', 'pickup_code'], unique=True, postgresql_where=sa.text("status = 'paid'"))

    op.create_table('canteen_menu_items',
    sa.Column('menu_id', sa.BigInteger(), nullable=False),
    sa.Column('dish_id', sa.BigInteger(), nullable=False),
    sa.Column('window_id', sa.BigInteger(), nullable=False),
    sa.Column('stock_id', sa.BigInteger(), nullable=False),
    sa.Column('max_per_person', sa.Integer(), nullable=False),
    sa.Column('prices', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('max_per_person > 0', name=op.f('ck_canteen_menu_items_cap_positive')),
    sa.ForeignKeyConstraint(['dish_id'], ['canteen_dishes.id'], name=op.f('fk_canteen_menu_items_dish_id_canteen_dishes')),
    sa.ForeignKeyConstraint(['menu_id'], ['canteen_menus.id'], name=op.f('fk_canteen_menu_items_menu_id_canteen_menus'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['stock_id'], ['allocation_stocks.id'], name=op.f('fk_canteen_menu_items_stock_id_allocation_stocks')),
    sa.ForeignKeyConstraint(['window_id'], ['canteen_windows.id'], name=op.f('fk_canteen_menu_items_window_id_canteen_windows')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canteen_menu_items')),
    sa.UniqueConstraint('menu_id', 'dish_id', name=op.f('uq_canteen_menu_items_menu_id_dish_id'))
    )
    with op.batch_alter_table('canteen_menu_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_canteen_menu_items_menu_id'), ['menu_id'], unique=False)

    op.create_table('canteen_order_lines',
    sa.Column('order_id', sa.BigInteger(), nullable=False),
    sa.Column('menu_item_id', sa.BigInteger(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price_fen', sa.Integer(), nullable=False),
    sa.Column('allocation_key', sa.String(length=120), nullable=False),
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_canteen_order_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['menu_item_id'], ['canteen_menu_items.id'], name=op.f('fk_canteen_order_lines_menu_item_id_canteen_menu_items')),
    sa.ForeignKeyConstraint(['order_id'], ['canteen_orders.id'], name=op.f('fk_canteen_order_lines_order_id_canteen_orders'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_canteen_order_lines')),
    sa.UniqueConstraint('order_id', 'menu_item_id', name=op.f('uq_canteen_order_lines_order_id_menu_item_id'))
    )
    with op.batch_alter_table('canteen_order_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_canteen_order_lines_menu_item_id'), ['menu_item_id'], unique=False)



def downgrade():
    with op.batch_alter_table('canteen_order_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_canteen_order_lines_menu_item_id'))

    op.drop_table('canteen_order_lines')
    with op.batch_alter_table('canteen_menu_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_canteen_menu_items_menu_id'))

    op.drop_table('canteen_menu_items')
    with op.batch_alter_table('canteen_orders', schema=None) as batch_op:
        batch_op.drop_index('uq_canteen_orders_open_code', postgresql_where=sa.text("status = 'paid'"))
        batch_op.drop_index('ix_canteen_orders_user')
        batch_op.drop_index('ix_canteen_orders_menu')

    op.drop_table('canteen_orders')
    with op.batch_alter_table('canteen_dishes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_canteen_dishes_canteen_id'))

    op.drop_table('canteen_dishes')
    op.drop_table('canteen_windows')
    op.drop_table('canteen_menus')
    with op.batch_alter_table('allocations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_allocations_stock_id'))

    op.drop_table('allocations')
    op.drop_table('canteens')
    op.drop_table('allocation_stocks')
