"""Django's PostgreSQL backend, with a limit on how long it waits for the server to answer.

Set as the engine for a ``postgres://`` DATABASE_URL (``railsite/settings.py``).
"""
