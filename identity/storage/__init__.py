"""Database and Redis implementations of the small interfaces the services and broker use."""
