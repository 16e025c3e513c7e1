"""The managers' web console (``/console``): server-rendered pages for admins, dispatchers,
finance and canteen staff.

A layer above the domains: its views call the same service functions as the API, so permissions, state
machines and audit cannot diverge (docs/architecture.md, "Console").
"""
