"""Places: campus → building → floor → room, each with a short code and a printable QR code."""
