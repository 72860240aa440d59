"""Bridge: the synchronous client of Portal Bridge's HTTP API (the seeds' method names)."""
from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Sequence, Union
from urllib.parse import quote

from .subscription import Callback, Subscription
from .transport import DEFAULT_MAX_RESPONSE_BYTES, Answer, Endpoint, encode_body, exchange
from .webhooks import DEFAULT_TOLERANCE_SECONDS
from .webhooks import verify_webhook as _verify_webhook

#: Seconds allowed for one call (connect, and each read of the answer).
DEFAULT_TIMEOUT = 10.0
#: Seconds allowed for an analysis call (an AI provider may take a while; the bridge bounds it too).
DEFAULT_ANALYSIS_TIMEOUT = 60.0


class Entry(Dict[str, Any]):
    """A JSON object answer that came with an ``ETag`` (users, state entries): a dict plus ``etag``."""

    etag: Optional[str] = None

    def __init__(self, data: Mapping[str, Any], etag: Optional[str]) -> None:
        super().__init__(data)
        self.etag = etag


def _segment(value: str) -> str:
    if not isinstance(value, str) or value == "":
        raise ValueError("an id must be a non-empty string")
    return quote(value, safe="")


class Bridge:
    """Synchronous client. ``Bridge("http://127.0.0.1:7071/api", api_key="pbk_…")`` (sent as
    ``x-api-key``) or ``token="…"`` (an OIDC access token, sent as ``Authorization: Bearer``).

    Every call is bounded by ``timeout`` seconds (analyses by ``analysis_timeout``) and reads at most
    ``max_response_bytes``; a non-2xx answer raises a BridgeError subclass (see errors.py); calls
    are not retried automatically (subscriptions are, see subscribe_to_events). Thread-safe: each
    call uses its own connection."""

    def __init__(
        self,
        base_url: str,
        api_key: Optional[str] = None,
        token: Optional[str] = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        analysis_timeout: float = DEFAULT_ANALYSIS_TIMEOUT,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        if (api_key is None) == (token is None):
            raise ValueError("give exactly one of api_key= or token=")
        if timeout <= 0 or analysis_timeout <= 0 or max_response_bytes <= 0:
            raise ValueError("timeouts and max_response_bytes must be positive")
        self.base_url = base_url.rstrip("/")
        self._endpoint = Endpoint.parse(self.base_url)
        self._auth: Dict[str, str] = (
            {"x-api-key": api_key} if api_key is not None else {"authorization": f"Bearer {token}"}
        )
        self.timeout = timeout
        self.analysis_timeout = analysis_timeout
        self.max_response_bytes = max_response_bytes

    # -- the raw call -------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        query: Optional[Mapping[str, Any]] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: Optional[float] = None,
    ) -> Answer:
        """Any route under the base URL (``path`` like ``/users/ann``); raises BridgeError on non-2xx.
        ``json`` may be bytes to send a raw body (then set content-type in ``headers``)."""
        body, body_headers = encode_body(json)
        all_headers = {"accept": "application/json", **body_headers, **self._auth, **(headers or {})}
        return exchange(
            self._endpoint,
            method,
            self._endpoint.target(path, query),
            all_headers,
            body,
            timeout=timeout or self.timeout,
            max_response_bytes=self.max_response_bytes,
        )

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.request(method, path, **kwargs).json()

    # -- users --------------------------------------------------------------------------------

    def sync_user_data(
        self, user_id: str, data: Mapping[str, Any], base_version: Optional[int] = None
    ) -> Dict[str, Any]:
        """Merges ``data`` into the profile (``None`` removes a field) →
        ``{success, userId, version, data, applied, rejected, conflicts, latencyMs}``."""
        body: Dict[str, Any] = {"data": dict(data)}
        if base_version is not None:
            body["baseVersion"] = base_version
        return self._json("POST", f"/users/{_segment(user_id)}/sync", json=body)

    def get_user(self, user_id: str) -> Entry:
        """The profile ``{userId, data, version, createdAt, updatedAt, fields}`` (``.etag`` set)."""
        answer = self.request("GET", f"/users/{_segment(user_id)}")
        return Entry(answer.json(), answer.headers.get("etag"))

    def delete_user(self, user_id: str) -> None:
        """Deletes the profile (admin keys only)."""
        self.request("DELETE", f"/users/{_segment(user_id)}")

    # -- shared state -------------------------------------------------------------------------

    def get_state(self, key: str) -> Entry:
        """``{key, value, version, updatedAt, expiresAt?}`` with ``.etag``; NotFound if absent."""
        answer = self.request("GET", f"/state/{_segment(key)}")
        return Entry(answer.json(), answer.headers.get("etag"))

    def set_state(
        self,
        key: str,
        value: Any,
        *,
        ttl_seconds: Optional[int] = None,
        if_match: Optional[str] = None,
        if_none_match: Optional[str] = None,
    ) -> Entry:
        """Writes an entry (admin and service keys). ``if_match=<etag>`` (or ``"*"``) and
        ``if_none_match="*"`` make it conditional: PreconditionFailed when they do not hold."""
        body: Dict[str, Any] = {"value": value}
        if ttl_seconds is not None:
            body["ttlSeconds"] = ttl_seconds
        headers: Dict[str, str] = {}
        if if_match is not None:
            headers["if-match"] = if_match
        if if_none_match is not None:
            headers["if-none-match"] = if_none_match
        answer = self.request("PUT", f"/state/{_segment(key)}", json=body, headers=headers)
        return Entry(answer.json(), answer.headers.get("etag"))

    def delete_state(self, key: str, *, if_match: Optional[str] = None) -> None:
        """Deletes an entry; NotFound if absent, PreconditionFailed if ``if_match`` does not hold."""
        headers = {"if-match": if_match} if if_match is not None else {}
        self.request("DELETE", f"/state/{_segment(key)}", headers=headers)

    # -- events -------------------------------------------------------------------------------

    def publish_event(
        self,
        event_type: str,
        data: Any,
        *,
        subject: Optional[str] = None,
        id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Commits a portal event → ``{id, sequence, duplicate}``; the same ``id`` twice is one event."""
        body: Dict[str, Any] = {"type": event_type, "data": data}
        if subject is not None:
            body["subject"] = subject
        if id is not None:
            body["id"] = id
        return self._json("POST", "/events", json=body)

    def replay_events(
        self,
        after: Optional[str] = None,
        *,
        types: Optional[Sequence[str]] = None,
        subject: Optional[str] = None,
        limit: Optional[int] = None,
    ) -> Dict[str, Any]:
        """One page of committed events after a cursor, in commit order → ``{events, next}``;
        pass ``next`` as ``after`` to continue (``limit`` 1-1000, default 100)."""
        query = {
            "after": after,
            "types": ",".join(types) if types else None,
            "subject": subject,
            "limit": limit,
        }
        return self._json("GET", "/events", query=query)

    def subscribe_to_events(
        self,
        types: Optional[Sequence[str]] = None,
        callback: Optional[Callback] = None,
        after: Optional[str] = None,
        **options: Any,
    ) -> Subscription:
        """Opens the event stream and returns once it is live (its ``ready`` frame arrived).

        Without ``callback``: iterate the returned Subscription for CloudEvent dicts. With one: a
        daemon thread calls it for each event (an exception in it is logged and the next event
        follows). ``after`` resumes from a cursor you kept (``subscription.cursor``). Options:
        ``subject``, ``on_reset``, ``on_error``, ``max_retries`` (8), ``backoff_base`` (0.5 s),
        ``backoff_max`` (30 s), ``ready_timeout`` (15 s), ``idle_timeout`` (3 heartbeats + 5 s),
        ``max_line_bytes`` / ``max_frame_bytes`` (4 MiB), ``dedupe_window`` (10 000 ids)."""
        return Subscription(self._endpoint, self._auth, types, callback, after, **options)

    # -- metrics and analyses -----------------------------------------------------------------

    def get_performance_metrics(self) -> Dict[str, Any]:
        """This instance's sync and event metrics (``GET /metrics``)."""
        return self._json("GET", "/metrics")

    def get_health(self) -> Dict[str, Any]:
        """``GET /health`` (needs no key; sent anyway)."""
        return self._json("GET", "/health")

    def portal_comprehensive_analysis(self, candidate_data: Mapping[str, Any]) -> Dict[str, Any]:
        """``{skills, experienceYears, education, targetRole, text?, userId?}`` → ``{result, metadata, event}``."""
        return self._json(
            "POST", "/analysis/comprehensive", json=dict(candidate_data), timeout=self.analysis_timeout
        )

    def portal_geographic_analysis(self, location_data: Mapping[str, Any]) -> Dict[str, Any]:
        """``{location, radiusKm, limit?, country?}`` → ``{result, metadata}``."""
        return self._json("POST", "/analysis/geographic", json=dict(location_data), timeout=self.analysis_timeout)

    def portal_bayesian_inference(self, prediction_request: Mapping[str, Any]) -> Dict[str, Any]:
        """``{role, roleFamily?, profile:{…}}`` → ``{result, metadata}``."""
        return self._json(
            "POST", "/analysis/bayesian", json=dict(prediction_request), timeout=self.analysis_timeout
        )

    # -- webhooks -----------------------------------------------------------------------------

    @staticmethod
    def verify_webhook(
        secret: Union[str, bytes],
        headers: Mapping[str, str],
        body: Union[str, bytes],
        *,
        tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
        now: Optional[float] = None,
    ) -> Any:
        """See webhooks.verify_webhook: the parsed CloudEvent, or WebhookVerificationError."""
        return _verify_webhook(secret, headers, body, tolerance_seconds=tolerance_seconds, now=now)


__all__ = ["Bridge", "Entry"]
