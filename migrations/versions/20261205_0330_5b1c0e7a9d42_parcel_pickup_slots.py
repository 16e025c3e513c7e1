"""parcel pickup slots: the half-hour slot a parcel's message suggested

Revision ID: 5b1c0e7a9d42
Revises: e492ef9d5454
Create Date: 2026-12-05 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b1c0e7a9d42'
down_revision = 'e492ef9d5454'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('parcels', sa.Column('pickup_slot_at', sa.DateTime(timezone=True), nullable=True))
    op.create_index('ix_parcels_stored_slot', 'parcels', ['pickup_slot_at'], unique=False,
                    postgresql_where=sa.text("status = 'stored'"))


def downgrade():
    op.drop_index('ix_parcels_stored_slot', table_name='parcels', postgresql_where=sa.text("status = 'stored'"))
    op.drop_column('parcels', 'pickup_slot_at')
