"""Placeholder blueprint: this area is built by its own issue."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("admin_users", __name__, description="admin users")
