"""A bare Flask app: the ceiling the broker's cached read is compared with (same gunicorn)."""

from __future__ import annotations

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue

app = Flask(__name__)


@app.get("/bare")
def bare() -> ResponseReturnValue:
    return jsonify({"authorization": "IBSSO 0123456789abcdef", "token_type": "IBSSO"})
