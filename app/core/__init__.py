"""Pieces every domain uses: database base, errors, auth helpers, pagination, state machines,
jobs, clock and logging. ``core`` imports no domain."""
