"""Framework-free HTTP cores: request bodies, error rendering and the signing endpoints.

Nothing in this package imports Flask; ``identity.http.wsgi`` is the one adapter that calls
the endpoint cores, and the Flask app renders its errors with the same functions.
"""
