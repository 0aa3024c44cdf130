"""identity: issues and brokers the tokens a customer-messaging stack runs on."""

from __future__ import annotations

__version__ = "0.1.0"
# The name on PyPI and in `pip install`: "identity" there is an unrelated library. The import
# package and the `identity` command keep the short name.
DISTRIBUTION = "msgstack-identity"
