"""The WSGI application, importable from an installed package: ``identity.wsgi:app``.

``identity serve`` runs it under granian; any other WSGI server works too
(``gunicorn 'identity.wsgi:app'``).
"""

from identity.app import create_app
from identity.setup import prepare_worker

app = create_app()
prepare_worker(app)
