"""Exceptions: every problem+json answer (RFC 9457) becomes a BridgeError subclass with its fields."""
from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Type

PROBLEM_PREFIX = "urn:portal-bridge:problem:"
_KNOWN_FIELDS = ("type", "title", "status", "detail", "instance", "errors")


class BridgeError(Exception):
    """Base of every error the client raises.

    For an HTTP problem: ``status``, ``type`` (the full URN), ``slug`` (the part after
    ``urn:portal-bridge:problem:``), ``title``, ``detail``, ``instance``, ``errors`` (field errors),
    ``extra`` (any other member of the problem, e.g. ``balance``) and ``headers`` of the answer.
    Transport failures have ``status`` None.
    """

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        type: Optional[str] = None,
        title: Optional[str] = None,
        detail: Optional[str] = None,
        instance: Optional[str] = None,
        errors: Optional[List[Dict[str, Any]]] = None,
        extra: Optional[Dict[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.instance = instance
        self.errors: List[Dict[str, Any]] = list(errors or [])
        self.extra: Dict[str, Any] = dict(extra or {})
        self.headers: Dict[str, str] = {k.lower(): v for k, v in (headers or {}).items()}

    @property
    def slug(self) -> Optional[str]:
        if self.type and self.type.startswith(PROBLEM_PREFIX):
            return self.type[len(PROBLEM_PREFIX):]
        return self.type

    @property
    def retry_after(self) -> Optional[float]:
        """Seconds from the ``Retry-After`` header (delta-seconds form), when the answer had one."""
        value = self.headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            return None


class TransportError(BridgeError):
    """No usable answer: connection refused or reset, a timeout, a malformed or oversized answer."""


class StreamError(BridgeError):
    """The event stream could not be (re)opened within the retry bound, or sent a malformed frame."""


class ValidationError(BridgeError):
    """400: the request is not valid (``errors`` names each bad field); also malformed JSON."""


class Unauthorized(BridgeError):
    """401: no credentials, or they are not valid (revoked key, expired ticket)."""


class PaymentRequired(BridgeError):
    """402: the user's token balance cannot cover a metered operation (nothing was charged)."""


class Forbidden(BridgeError):
    """403: this principal may not touch this object."""


class NotFound(BridgeError):
    """404: unknown object or route."""


class MethodNotAllowed(BridgeError):
    """405."""


class RequestTimeout(BridgeError):
    """408: the request did not arrive in time (the bridge's header/body timeouts)."""


class Conflict(BridgeError):
    """409: the write conflicts with the current state (e.g. a baseVersion ahead of the profile)."""


class PreconditionFailed(Conflict):
    """412: an If-Match / If-None-Match precondition does not hold (someone else wrote first)."""


class PayloadTooLarge(BridgeError):
    """413: the body is over the bridge's limit."""


class UnsupportedMediaType(BridgeError):
    """415."""


class RangeNotSatisfiable(BridgeError):
    """416."""


class IdempotencyKeyReused(BridgeError):
    """422: the same Idempotency-Key was used with a different request."""


class RateLimited(BridgeError):
    """429: over a rate limit; wait ``retry_after`` seconds."""


class ServerError(BridgeError):
    """5xx: the bridge's own failure."""


class ServiceUnavailable(ServerError):
    """503: busy or unavailable (store throttled, too many streams); wait ``retry_after`` seconds."""


_BY_SLUG: Dict[str, Type[BridgeError]] = {
    "validation": ValidationError,
    "malformed-json": ValidationError,
    "bad-path": ValidationError,
    "bad-request": ValidationError,
    "json-too-deep": ValidationError,
    "request-timeout": RequestTimeout,
    "unauthorized": Unauthorized,
    "payment-required": PaymentRequired,
    "forbidden": Forbidden,
    "not-found": NotFound,
    "realtime-off": NotFound,
    "method-not-allowed": MethodNotAllowed,
    "conflict": Conflict,
    "precondition-failed": PreconditionFailed,
    "payload-too-large": PayloadTooLarge,
    "unsupported-media-type": UnsupportedMediaType,
    "range-not-satisfiable": RangeNotSatisfiable,
    "idempotency-key-reused": IdempotencyKeyReused,
    "rate-limited": RateLimited,
    "too-many-requests": RateLimited,
    "unavailable": ServiceUnavailable,
    "store-unavailable": ServiceUnavailable,
    "too-many-streams": ServiceUnavailable,
    "token-verification-unavailable": ServiceUnavailable,
}

_BY_STATUS: Dict[int, Type[BridgeError]] = {
    400: ValidationError,
    401: Unauthorized,
    402: PaymentRequired,
    403: Forbidden,
    404: NotFound,
    405: MethodNotAllowed,
    408: RequestTimeout,
    409: Conflict,
    412: PreconditionFailed,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    416: RangeNotSatisfiable,
    422: IdempotencyKeyReused,
    429: RateLimited,
    503: ServiceUnavailable,
}


def error_class(status: int, slug: Optional[str]) -> Type[BridgeError]:
    """The exception class for an answer: by problem type first, then by status."""
    if slug is not None and slug in _BY_SLUG:
        return _BY_SLUG[slug]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    return ServerError if status >= 500 else BridgeError


def from_response(status: int, headers: Mapping[str, str], body: bytes) -> BridgeError:
    """Builds the exception for a non-2xx answer; a body that is not a problem still gives one."""
    problem: Dict[str, Any] = {}
    try:
        parsed = json.loads(body.decode("utf-8")) if body else {}
        if isinstance(parsed, dict):
            problem = parsed
    except (UnicodeDecodeError, ValueError):
        problem = {}
    ptype = problem.get("type") if isinstance(problem.get("type"), str) else None
    slug = ptype[len(PROBLEM_PREFIX):] if ptype and ptype.startswith(PROBLEM_PREFIX) else ptype
    title = problem.get("title") if isinstance(problem.get("title"), str) else None
    detail = problem.get("detail") if isinstance(problem.get("detail"), str) else None
    errors = problem.get("errors") if isinstance(problem.get("errors"), list) else None
    instance = problem.get("instance") if isinstance(problem.get("instance"), str) else None
    extra = {k: v for k, v in problem.items() if k not in _KNOWN_FIELDS}
    cls = error_class(status, slug)
    message = f"{status} {title or 'HTTP error'}" + (f": {detail}" if detail else "")
    return cls(
        message,
        status=status,
        type=ptype,
        title=title,
        detail=detail,
        instance=instance,
        errors=errors,
        extra=extra,
        headers=headers,
    )
