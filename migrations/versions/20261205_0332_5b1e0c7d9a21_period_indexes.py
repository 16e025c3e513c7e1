"""period indexes: repairs.created_at and notification_deliveries (created_at, status), so the statistics,
月报 and 首页 read one period instead of a school year of history (bench/scenarios/year.py)

Revision ID: 5b1e0c7d9a21
Revises: 5b7c1d2e9f10
Create Date: 2026-12-05 03:30:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5b1e0c7d9a21'
down_revision = '5b7c1d2e9f10'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_repairs_created_at', 'repairs', ['created_at'], unique=False)
    op.create_index('ix_notification_deliveries_created_status', 'notification_deliveries',
                    ['created_at', 'status'], unique=False)


def downgrade():
    op.drop_index('ix_notification_deliveries_created_status', table_name='notification_deliveries')
    op.drop_index('ix_repairs_created_at', table_name='repairs')
