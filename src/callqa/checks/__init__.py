"""Service-standard checks: a transcript and a check's config in, findings out.

One check per module; each registers itself in registry.py.
"""
