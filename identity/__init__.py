"""identity: issues and brokers the tokens a customer-messaging stack runs on."""

from __future__ import annotations

__version__ = "0.1.0"
