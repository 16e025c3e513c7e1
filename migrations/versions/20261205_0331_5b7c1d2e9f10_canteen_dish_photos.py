"""canteen dish photos: the photo of a dish and its thumbnail (canteen_dishes.photo_key, photo_thumb_key)

Revision ID: 5b7c1d2e9f10
Revises: 5b1c0e7a9d42
Create Date: 2026-12-05 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b7c1d2e9f10'
down_revision = '5b1c0e7a9d42'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('canteen_dishes', sa.Column('photo_key', sa.String(length=200), nullable=True))
    op.add_column('canteen_dishes', sa.Column('photo_thumb_key', sa.String(length=200), nullable=True))


def downgrade():
    op.drop_column('canteen_dishes', 'photo_thumb_key')
    op.drop_column('canteen_dishes', 'photo_key')
