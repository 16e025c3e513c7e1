"""Signals the canteen emits: none yet. Its orders learn about payments through ``handlers.py``."""
