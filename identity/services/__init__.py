"""Use cases. Each service owns its transaction and receives plain values, never a request."""
