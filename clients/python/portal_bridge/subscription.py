"""subscribe_to_events: the bridge's SSE stream as a resumable, deduplicated iterator of CloudEvents."""
from __future__ import annotations

import http.client
import json
import logging
import random
import socket
import threading
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence

from .errors import (
    BridgeError,
    RateLimited,
    RequestTimeout,
    ServerError,
    StreamError,
    TransportError,
    from_response,
)
from .sse import DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_LINE_BYTES, Frame, read_frames
from .transport import Endpoint

log = logging.getLogger("portal_bridge")

Event = Dict[str, Any]
Callback = Callable[[Event], None]

#: Consecutive failed (re)connects before the subscription gives up with StreamError.
DEFAULT_MAX_RETRIES = 8
DEFAULT_BACKOFF_BASE = 0.5
DEFAULT_BACKOFF_MAX = 30.0
#: How many recent event ids are remembered to drop duplicates (the window is bounded).
DEFAULT_DEDUPE_WINDOW = 10_000
#: Seconds to wait for the connection and the ``ready`` frame.
DEFAULT_READY_TIMEOUT = 15.0


class _Retryable(Exception):
    """Internal: a (re)connect failed in a way worth another attempt (after ``delay`` at least)."""

    def __init__(self, cause: BaseException, delay: float = 0.0) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.delay = delay


class Subscription:
    """An open subscription; iterate it for CloudEvent dicts, or give a callback (background thread).

    Guarantees: it is live once constructed (the stream sent ``ready``: every change committed
    afterwards reaches it); after a dropped connection or a ``close`` frame it reconnects with
    exponential backoff and jitter and resumes from ``cursor`` (Last-Event-ID), so no committed event
    is skipped; events already delivered (by id, in a bounded window) are not delivered again."""

    def __init__(
        self,
        endpoint: Endpoint,
        auth_headers: Mapping[str, str],
        types: Optional[Sequence[str]] = None,
        callback: Optional[Callback] = None,
        after: Optional[str] = None,
        *,
        subject: Optional[str] = None,
        on_reset: Optional[Callable[[Dict[str, Any]], None]] = None,
        on_error: Optional[Callable[[BaseException], None]] = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        backoff_base: float = DEFAULT_BACKOFF_BASE,
        backoff_max: float = DEFAULT_BACKOFF_MAX,
        ready_timeout: float = DEFAULT_READY_TIMEOUT,
        idle_timeout: Optional[float] = None,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        dedupe_window: int = DEFAULT_DEDUPE_WINDOW,
    ) -> None:
        if max_retries < 0 or backoff_base < 0 or backoff_max < 0 or ready_timeout <= 0 or dedupe_window < 1:
            raise ValueError("max_retries, backoff_* must be >= 0; ready_timeout and dedupe_window > 0")
        self._endpoint = endpoint
        self._auth = dict(auth_headers)
        self.types: List[str] = list(types or [])
        self.subject = subject
        #: Where the stream resumes: the last cursor seen (``ready``, an event's ``id:``, ``close``).
        self.cursor: Optional[str] = after
        #: How many times the stream was (re)opened; 1 after the first ``ready``.
        self.connections = 0
        #: The error that ended the subscription, if one did (callback mode).
        self.error: Optional[BaseException] = None
        self._on_reset = on_reset
        self._on_error = on_error
        self._max_retries = max_retries
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._ready_timeout = ready_timeout
        self._idle_timeout = idle_timeout
        self._max_line = max_line_bytes
        self._max_frame = max_frame_bytes
        self._seen: "OrderedDict[str, None]" = OrderedDict()
        self._window = dedupe_window
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self._conn: Optional[http.client.HTTPConnection] = None
        self._frames: Optional[Iterator[Frame]] = None
        self._reconnect_now = False
        self._immediate = False
        self._thread: Optional[threading.Thread] = None
        self._connect_with_retries(first=True)
        if callback is not None:
            self._thread = threading.Thread(
                target=self._run_callback, args=(callback,), name="portal-bridge-subscription", daemon=True
            )
            self._thread.start()

    # -- public -------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def close(self) -> None:
        """Stops the subscription (from any thread); a running callback thread ends soon after."""
        self._stop.set()
        self._drop_connection()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=self._ready_timeout)

    def reconnect(self) -> None:
        """Drops the connection; the subscription resumes from ``cursor`` (which a caller may set)."""
        self._lost("reconnect() was called")

    def join(self, timeout: Optional[float] = None) -> None:
        """Waits for the callback thread to end (after close() or a fatal error)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> "Subscription":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        while not self._stop.is_set():
            frames = self._frames
            if frames is None or self._reconnect_now:
                self._connect_with_retries(first=False)
                continue
            try:
                frame = next(frames)
            except StopIteration:
                self._lost("the stream ended without a close frame")
                continue
            except StreamError:
                # an oversized or malformed frame would come again on every resume: give up
                self._drop_connection()
                raise
            except Exception as error:  # noqa: BLE001 - http.client raises several kinds on a cut connection
                if self._stop.is_set():
                    break
                self._lost(f"{error.__class__.__name__}: {error}")
                continue
            event = self._accept(frame)
            if event is not None:
                return event
        raise StopIteration

    # -- frames -------------------------------------------------------------------------------

    def _accept(self, frame: Frame) -> Optional[Event]:
        """Applies one frame after ``ready``; returns the event to deliver, if any."""
        if frame.comment:
            return None
        if frame.event is None:
            try:
                event = json.loads(frame.data)
            except ValueError as error:
                raise StreamError("an event frame's data is not JSON") from error
            if frame.id:
                self.cursor = frame.id
            event_id = event.get("id") if isinstance(event, dict) else None
            if not isinstance(event_id, str):
                return event if isinstance(event, dict) else None
            if event_id in self._seen:
                self._seen.move_to_end(event_id)
                return None
            self._seen[event_id] = None
            if len(self._seen) > self._window:
                self._seen.popitem(last=False)
            return event
        if frame.event == "close":
            data = _json_object(frame.data)
            cursor = data.get("cursor") or frame.id
            if isinstance(cursor, str) and cursor:
                self.cursor = cursor
            log.debug("portal_bridge: stream closed by the bridge (%s); resuming", data.get("reason"))
            self._drop_connection()
            self._reconnect_now = True
            self._immediate = True
            return None
        if frame.event == "reset":
            self._reset(_json_object(frame.data))
        return None

    def _reset(self, data: Dict[str, Any]) -> None:
        log.warning("portal_bridge: the cursor %s is older than the retention; reload mirrored state", data.get("after"))
        if self._on_reset is not None:
            self._on_reset(data)

    # -- connections --------------------------------------------------------------------------

    def _lost(self, why: str) -> None:
        log.info("portal_bridge: event stream lost (%s); resuming from %s", why, self.cursor)
        self._drop_connection()
        self._reconnect_now = True
        self._immediate = False

    def _drop_connection(self) -> None:
        with self._lock:
            sock, conn = self._sock, self._conn
            self._sock, self._conn, self._frames = None, None, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # wakes a reader blocked in another thread
            except OSError:
                pass
        if conn is not None:
            conn.close()

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._backoff_max, self._backoff_base * (2 ** min(attempt, 30)))
        return ceiling / 2 + random.uniform(0, ceiling / 2)  # "equal jitter": never 0, never in lockstep

    def _connect_with_retries(self, first: bool) -> None:
        """Opens the stream: at once the first time and after a ``close`` frame, otherwise after a
        backoff; at most ``max_retries`` consecutive failures, then StreamError."""
        attempt = 0
        wait = 0.0 if first or self._immediate else self._backoff(0)
        while not self._stop.is_set():
            if wait > 0 and self._stop.wait(wait):
                return
            try:
                self._open()
                self._reconnect_now = False
                self._immediate = False
                return
            except _Retryable as retry:
                if self._stop.is_set():
                    return
                attempt += 1
                if attempt > self._max_retries:
                    raise StreamError(
                        f"the event stream could not be opened after {attempt} attempts: {retry.cause}"
                    ) from retry.cause
                wait = max(self._backoff(attempt), min(retry.delay, self._backoff_max))

    def _open(self) -> None:
        query: Dict[str, Any] = {}
        if self.types:
            query["types"] = ",".join(self.types)
        if self.subject is not None:
            query["subject"] = self.subject
        headers = {"accept": "text/event-stream", "cache-control": "no-store", **self._auth}
        if self.cursor:
            headers["last-event-id"] = self.cursor
        conn = self._endpoint.connection(self._ready_timeout)
        try:
            conn.connect()
            sock = conn.sock
            with self._lock:  # from here on close() can interrupt the wait for the answer and `ready`
                self._sock, self._conn, self._frames = sock, conn, None
            conn.request("GET", self._endpoint.target("/events/stream", query), headers=headers)
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as error:
            self._drop_connection()
            conn.close()
            raise _Retryable(TransportError(f"cannot open the event stream: {error}")) from error
        if response.status != 200:
            try:
                body = response.read(64 * 1024)
            except (OSError, http.client.HTTPException):
                body = b""
            self._drop_connection()
            error = from_response(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
            if isinstance(error, (ServerError, RateLimited, RequestTimeout)):
                raise _Retryable(error, error.retry_after or 0.0)
            raise error
        frames = read_frames(response, max_line_bytes=self._max_line, max_frame_bytes=self._max_frame)  # type: ignore[arg-type]
        try:
            ready = self._until_ready(frames)
        except Exception as error:  # noqa: BLE001 - a cut connection surfaces in several ways
            self._drop_connection()
            if self._stop.is_set():
                return
            raise _Retryable(TransportError(f"the event stream ended before ready: {error}")) from error
        self.cursor = ready.get("cursor") if isinstance(ready.get("cursor"), str) else self.cursor
        heartbeat = ready.get("heartbeatSeconds")
        idle = self._idle_timeout
        if idle is None:
            # Three missed heartbeats: the connection is dead even if no RST ever arrives.
            idle = 3 * float(heartbeat) + 5 if isinstance(heartbeat, (int, float)) and heartbeat > 0 else 60.0
        if sock is not None:
            sock.settimeout(idle)
        with self._lock:
            if self._sock is sock:
                self._frames = frames
        self.connections += 1

    def _until_ready(self, frames: Iterator[Frame]) -> Dict[str, Any]:
        for frame in frames:
            if frame.event == "ready":
                return _json_object(frame.data)
            if frame.event == "reset":
                self._reset(_json_object(frame.data))
        raise StreamError("the stream ended before its ready frame")

    # -- callback mode ------------------------------------------------------------------------

    def _run_callback(self, callback: Callback) -> None:
        try:
            for event in self:
                try:
                    callback(event)
                except Exception as error:  # one bad event never stops the others
                    log.exception("portal_bridge: the subscription callback failed on %s", event.get("id"))
                    if self._on_error is not None:
                        self._on_error(error)
        except BridgeError as error:
            self.error = error
            log.error("portal_bridge: the subscription ended: %s", error)
            if self._on_error is not None:
                self._on_error(error)


def _json_object(text: str) -> Dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise StreamError("a control frame's data is not JSON") from error
    return value if isinstance(value, dict) else {}
