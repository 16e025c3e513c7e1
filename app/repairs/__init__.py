"""Repairs: reports with photos, dispatch to workers' phones, enforced deadlines, ratings, statistics."""
