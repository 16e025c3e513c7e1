"""Every table of the application, so that Alembic sees them all."""

from app.core.audit import AuditEvent  # noqa: F401
