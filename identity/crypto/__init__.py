"""Pure cryptography and token formats: no Flask, no SQLAlchemy, no I/O; time and keys passed in."""
