"""Signing in: WeChat login, login sessions, access and refresh tokens."""
