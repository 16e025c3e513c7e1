"""Notifications: an outbox written in the business transaction, delivered by workers to the
in-app inbox, mini-program subscribe messages and WeCom, with quiet hours, retries and a sweeper."""
