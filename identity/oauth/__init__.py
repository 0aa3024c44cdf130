"""Authlib wiring: the authorization server, client-credentials grant, RFC 7662/7009 endpoints."""
