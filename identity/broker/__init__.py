"""Upstream token broker: hands internal callers a ready ``Authorization`` header for Infobip.

A side branch of the house: never imports ``identity.http``, ``identity.services`` or Flask.
It receives settings values, a clock, a storage port and an httpx client (``Broker.__init__``).
"""

from identity.broker.broker import Broker
from identity.broker.model import BrokerPolicy, ConnectionSpec, Token

__all__ = ["Broker", "BrokerPolicy", "ConnectionSpec", "Token"]
