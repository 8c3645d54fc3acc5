"""The read-only JSON API under /api/v1/ (see docs/api.md).

schemas.py says what every answer looks like (and so the OpenAPI document), views.py answers
from the same published queryset and loading plans as the reader site, cursor.py pages long
listings by an opaque cursor, and edge.py is the middleware around it: CORS, the anonymous
rate limit and conditional GET.
"""
