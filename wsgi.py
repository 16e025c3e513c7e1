"""WSGI entry point: ``gunicorn wsgi:app``; the worker starts from here too (``flask --app wsgi worker``)."""

import gc

from app import create_app

app = create_app()

# What the start made (modules, mappers, the app) lives as long as the process: moved out of the cyclic
# collector's way, the first full collection (due within the first requests) does not walk it all (~0.1 s),
# and forked gunicorn workers keep sharing its pages.
gc.collect()
gc.freeze()
