"""Meeting check-in: QR codes that rotate every 15 seconds, attendance a school can trust."""
