"""The only package that touches ``flask.request``: blueprints, security decorators, schemas,
and the one error renderer."""
