"""Unbound extensions and typed accessors for per-app objects kept in ``app.extensions``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

if TYPE_CHECKING:
    from identity.config import Settings
    from identity.services.keys import KeyService
    from identity.storage.shared import SharedState

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
api = Api()


def _get(name: str, app: Flask | None = None) -> Any:
    return (app or current_app).extensions[f"identity.{name}"]


def put(app: Flask, name: str, value: Any) -> None:
    app.extensions[f"identity.{name}"] = value


def get_settings(app: Flask | None = None) -> Settings:
    return _get("settings", app)  # type: ignore[no-any-return]


def get_keys(app: Flask | None = None) -> KeyService:
    return _get("keys", app)  # type: ignore[no-any-return]


def get_shared(app: Flask | None = None) -> SharedState:
    return _get("shared", app)  # type: ignore[no-any-return]


def get_service(name: str, app: Flask | None = None) -> Any:
    """Services registered by feature areas (``identity.<name>``), e.g. ``broker``."""
    return _get(name, app)
