"""The places domain emits no signals yet: places change only by admin edits and imports."""
