"""Portal Bridge's Python client: standard library only, Python 3.9+.

    from portal_bridge import Bridge
    bridge = Bridge("http://127.0.0.1:7071/api", api_key="pbk_…")
"""
from .aio import AsyncBridge, AsyncSubscription
from .client import Bridge, Entry
from .errors import (
    BridgeError,
    Conflict,
    Forbidden,
    IdempotencyKeyReused,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    PaymentRequired,
    PreconditionFailed,
    RangeNotSatisfiable,
    RateLimited,
    RequestTimeout,
    ServerError,
    ServiceUnavailable,
    StreamError,
    TransportError,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
)
from .subscription import Subscription
from .webhooks import WebhookVerificationError, sign_webhook, verify_webhook

__version__ = "0.1.0"

__all__ = [
    "AsyncBridge",
    "AsyncSubscription",
    "Bridge",
    "BridgeError",
    "Conflict",
    "Entry",
    "Forbidden",
    "IdempotencyKeyReused",
    "MethodNotAllowed",
    "NotFound",
    "PayloadTooLarge",
    "PaymentRequired",
    "PreconditionFailed",
    "RangeNotSatisfiable",
    "RateLimited",
    "RequestTimeout",
    "ServerError",
    "ServiceUnavailable",
    "StreamError",
    "Subscription",
    "TransportError",
    "Unauthorized",
    "UnsupportedMediaType",
    "ValidationError",
    "WebhookVerificationError",
    "sign_webhook",
    "verify_webhook",
]
