"""The fees domain emits no signals yet: payers learn about their bills through notifications
(``fees.paid``) and finance through its lists."""
