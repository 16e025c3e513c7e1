"""School fees (缴费): fee items, bills issued to students, paid through the payments domain."""
