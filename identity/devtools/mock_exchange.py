"""Placeholder: the mock Exchange authorization server (built by the Exchange issue)."""

from __future__ import annotations

from flask import Blueprint

exchange_bp = Blueprint("mock_exchange", __name__)
