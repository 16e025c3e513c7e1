"""canteen orders expire with their payment: the order's own timer (canteen.order_expiry) is gone; each
unpaid order's payment has its close timer (payments.close), whose payment_closed expires the order. Pending
timers of the old kind would fire into a kind no longer registered, so they go.

Revision ID: 6a2d4c8e1f37
Revises: 5b1e0c7d9a21
Create Date: 2026-12-05 22:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '6a2d4c8e1f37'
down_revision = '5b1e0c7d9a21'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM timers WHERE kind = 'canteen.order_expiry'")


def downgrade():
    pass  # the payments' close timers expire the orders either way
