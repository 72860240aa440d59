"""Standard Webhooks verification (https://www.standardwebhooks.com), as the bridge signs deliveries."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from typing import Any, Mapping, Optional, Union

#: Default tolerance between webhook-timestamp and now, both ways (seconds): the spec's 5 minutes.
DEFAULT_TOLERANCE_SECONDS = 300
#: Bounds on what is looked at before any HMAC is computed.
MAX_SIGNATURE_HEADER_CHARS = 8192
MAX_SIGNATURES = 16
MAX_BODY_BYTES = 16 * 1024 * 1024


class WebhookVerificationError(Exception):
    """The delivery is not authentic (forged, altered, too old or too new, malformed): refuse it."""


def _secret_bytes(secret: Union[str, bytes]) -> bytes:
    if isinstance(secret, bytes):
        return secret
    text = secret[len("whsec_"):] if secret.startswith("whsec_") else secret
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("the webhook secret must be whsec_<base64>") from error


def sign_webhook(secret: Union[str, bytes], msg_id: str, timestamp: int, body: Union[str, bytes]) -> str:
    """The ``v1,<base64>`` signature of a delivery (what the bridge sends; useful in tests)."""
    payload = body.encode("utf-8") if isinstance(body, str) else body
    signed = f"{msg_id}.{timestamp}.".encode("utf-8") + payload
    digest = hmac.new(_secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def _header(headers: Mapping[str, str], name: str) -> str:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    raise WebhookVerificationError(f"missing header {name}")


def verify_webhook(
    secret: Union[str, bytes],
    headers: Mapping[str, str],
    body: Union[str, bytes],
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[float] = None,
) -> Any:
    """Checks a delivery and returns its parsed JSON body: the CloudEvent, or for a subscription
    created with ``maxEventsPerBatch`` a list of CloudEvents (``application/cloudevents-batch+json``).

    ``secret`` is the subscription's ``whsec_…`` secret, ``headers`` the request's headers (any
    case), ``body`` the raw body exactly as received. Raises WebhookVerificationError when the
    ``webhook-signature`` holds no valid ``v1`` signature over ``id.timestamp.body`` (several
    space-separated signatures are allowed: one must match; compared in constant time) or when
    ``webhook-timestamp`` is more than ``tolerance_seconds`` away from now (replays)."""
    payload = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if len(payload) > MAX_BODY_BYTES:
        raise WebhookVerificationError(f"the body is over {MAX_BODY_BYTES} bytes")
    msg_id = _header(headers, "webhook-id")
    timestamp_text = _header(headers, "webhook-timestamp")
    signature_header = _header(headers, "webhook-signature")
    if len(signature_header) > MAX_SIGNATURE_HEADER_CHARS:
        raise WebhookVerificationError("the webhook-signature header is too long")
    try:
        timestamp = int(timestamp_text)
    except ValueError as error:
        raise WebhookVerificationError("webhook-timestamp is not a number") from error
    current = time.time() if now is None else now
    if timestamp < current - tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp is too old")
    if timestamp > current + tolerance_seconds:
        raise WebhookVerificationError("webhook-timestamp is in the future")
    expected = sign_webhook(secret, msg_id, timestamp, payload).split(",", 1)[1].encode("ascii")
    candidates = signature_header.split()[:MAX_SIGNATURES]
    matched = False
    for candidate in candidates:
        version, _, signature = candidate.partition(",")
        if version != "v1":
            continue
        # compare_digest on every candidate: no early exit that would leak which one matched
        if hmac.compare_digest(signature.encode("ascii", errors="replace"), expected):
            matched = True
    if not matched:
        raise WebhookVerificationError("no matching signature")
    try:
        return json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise WebhookVerificationError("the body is not JSON") from error
