"""Every problem type the bridge answers maps to an exception carrying the problem's fields."""
from __future__ import annotations

import http.server
import json
import socket
import threading
import unittest
from typing import Any, ClassVar, Dict, Tuple

from portal_bridge import (
    Bridge,
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

from .support import HostTestCase

URN = "urn:portal-bridge:problem:"


class ProblemMappingTest(HostTestCase):
    ENV = {"BRIDGE_MAX_BODY_BYTES": "4096", "BRIDGE_STREAM_MAX_CONNECTIONS": "1"}

    def assertProblem(self, error: BridgeError, cls: type, status: int, slug: str) -> None:
        self.assertIsInstance(error, cls)
        self.assertEqual(error.status, status)
        self.assertEqual(error.type, URN + slug)
        self.assertEqual(error.slug, slug)
        self.assertTrue(error.title)
        self.assertIn(str(status), str(error))

    def test_validation_names_each_field(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.admin.sync_user_data("py-v", {"bad field": 1})
        error = caught.exception
        self.assertProblem(error, ValidationError, 400, "validation")
        self.assertTrue(error.detail)
        self.assertTrue(any("bad field" in e["path"] for e in error.errors), error.errors)

    def test_malformed_json(self) -> None:
        with self.assertRaises(ValidationError) as caught:
            self.admin.request("POST", "/events", json=b"{", headers={"content-type": "application/json"})
        self.assertProblem(caught.exception, ValidationError, 400, "malformed-json")

    def test_unauthorized_carries_headers(self) -> None:
        with self.assertRaises(Unauthorized) as caught:
            Bridge(self.host.base_url, api_key="pbk_not_a_key").get_user("py-x")
        self.assertProblem(caught.exception, Unauthorized, 401, "unauthorized")
        self.assertIn("x-api-key", caught.exception.headers["www-authenticate"])

    def test_forbidden(self) -> None:
        with self.assertRaises(Forbidden) as caught:
            self.client("user").delete_user("py-anyone")
        self.assertProblem(caught.exception, Forbidden, 403, "forbidden")
        self.assertIn("user", caught.exception.detail or "")

    def test_not_found(self) -> None:
        with self.assertRaises(NotFound) as caught:
            self.admin.get_user("py-nobody")
        self.assertProblem(caught.exception, NotFound, 404, "not-found")
        with self.assertRaises(NotFound) as route:
            self.admin.request("GET", "/no-such-route")
        self.assertEqual(route.exception.status, 404)
        with self.assertRaises(NotFound) as off:
            self.admin.request("POST", "/realtime/negotiate", json={})
        self.assertProblem(off.exception, NotFound, 404, "realtime-off")

    def test_method_not_allowed(self) -> None:
        with self.assertRaises(MethodNotAllowed) as caught:
            self.admin.request("PATCH", "/users/py-x", json={})
        self.assertProblem(caught.exception, MethodNotAllowed, 405, "method-not-allowed")
        self.assertIn("GET", caught.exception.headers.get("allow", ""))

    def test_conflict(self) -> None:
        self.admin.sync_user_data("py-c", {"a": 1})
        with self.assertRaises(Conflict) as caught:
            self.admin.sync_user_data("py-c", {"a": 2}, base_version=99)
        self.assertProblem(caught.exception, Conflict, 409, "conflict")
        self.assertNotIsInstance(caught.exception, PreconditionFailed)

    def test_precondition_failed(self) -> None:
        self.admin.set_state("py-p", 1)
        with self.assertRaises(PreconditionFailed) as caught:
            self.admin.set_state("py-p", 2, if_match='"not-the-etag"')
        self.assertProblem(caught.exception, PreconditionFailed, 412, "precondition-failed")

    def test_payload_too_large(self) -> None:
        with self.assertRaises(PayloadTooLarge) as caught:
            self.admin.set_state("py-big", "x" * 10_000)
        self.assertProblem(caught.exception, PayloadTooLarge, 413, "payload-too-large")

    def test_unsupported_media_type(self) -> None:
        with self.assertRaises(UnsupportedMediaType) as caught:
            self.admin.request("POST", "/events", json=b"hello", headers={"content-type": "text/plain"})
        self.assertProblem(caught.exception, UnsupportedMediaType, 415, "unsupported-media-type")

    def test_range_not_satisfiable(self) -> None:
        self.admin.request("PUT", "/files/users/py-f/a.txt", json=b"hello", headers={"content-type": "text/plain"})
        with self.assertRaises(RangeNotSatisfiable) as caught:
            self.admin.request("GET", "/files/users/py-f/a.txt", headers={"range": "bytes=100-200"})
        self.assertProblem(caught.exception, RangeNotSatisfiable, 416, "range-not-satisfiable")
        self.assertEqual(caught.exception.headers["content-range"], "bytes */5")

    def test_payment_required_and_idempotency_key_reused(self) -> None:
        path = "/job-titles/Data%20Engineer/pathways"
        with self.assertRaises(PaymentRequired) as caught:
            self.admin.request("GET", path, query={"userId": "py-broke"})
        self.assertProblem(caught.exception, PaymentRequired, 402, "payment-required")
        self.admin.request("POST", "/tokens/py-rich/grant", json={"amount": 100})
        key = {"idempotency-key": "py-idem-1"}
        self.admin.request("GET", path, query={"userId": "py-rich"}, headers=key)
        with self.assertRaises(IdempotencyKeyReused) as reused:
            self.admin.request("GET", "/job-titles/Data%20Analyst/pathways", query={"userId": "py-rich"}, headers=key)
        self.assertProblem(reused.exception, IdempotencyKeyReused, 422, "idempotency-key-reused")

    def test_too_many_streams_is_service_unavailable_with_retry_after(self) -> None:
        with self.admin.subscribe_to_events(["py_none"]):
            with self.assertRaises(StreamError) as caught:
                self.admin.subscribe_to_events(["py_none"], max_retries=0)
        cause = caught.exception.__cause__
        self.assertIsInstance(cause, ServiceUnavailable)
        assert isinstance(cause, ServiceUnavailable)
        self.assertProblem(cause, ServiceUnavailable, 503, "too-many-streams")
        self.assertEqual(cause.retry_after, 5.0)

    def test_a_refused_stream_is_raised_at_once(self) -> None:
        with self.assertRaises(ValidationError):
            self.admin.subscribe_to_events(["not a type!"])
        with self.assertRaises(Unauthorized):
            Bridge(self.host.base_url, api_key="pbk_bad").subscribe_to_events()


class _Scripted(http.server.BaseHTTPRequestHandler):
    """Answers what the test put in ``answers[path]``: (status, headers, body)."""

    answers: ClassVar[Dict[str, Tuple[int, Dict[str, str], bytes]]] = {}

    def do_GET(self) -> None:  # noqa: N802
        status, headers, body = self.answers[self.path.split("?")[0]]
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class AnswersTheHostDoesNotGiveTest(unittest.TestCase):
    """429 and 5xx (the host gives them only under load or failure), and answers that are not problems."""

    def setUp(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.bridge = Bridge(f"http://127.0.0.1:{self.server.server_address[1]}/api", api_key="k", timeout=5)

    def tearDown(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def problem(self, path: str, status: int, body: Dict[str, Any], headers: Dict[str, str]) -> None:
        _Scripted.answers["/api" + path] = (
            status,
            {"content-type": "application/problem+json", **headers},
            json.dumps(body).encode(),
        )

    def test_rate_limited_with_retry_after_and_extension_fields(self) -> None:
        self.problem(
            "/metrics",
            429,
            {"type": URN + "rate-limited", "title": "Too many requests", "status": 429,
             "detail": "Slow down.", "instance": "/api/metrics", "limit": 100},
            {"retry-after": "7"},
        )
        with self.assertRaises(RateLimited) as caught:
            self.bridge.get_performance_metrics()
        error = caught.exception
        self.assertEqual((error.status, error.slug, error.retry_after), (429, "rate-limited", 7.0))
        self.assertEqual(error.instance, "/api/metrics")
        self.assertEqual(error.detail, "Slow down.")
        self.assertEqual(error.extra, {"limit": 100})

    def test_internal_and_store_unavailable(self) -> None:
        self.problem("/metrics", 500, {"type": URN + "internal", "title": "Internal error", "status": 500}, {})
        with self.assertRaises(ServerError) as internal:
            self.bridge.get_performance_metrics()
        self.assertNotIsInstance(internal.exception, ServiceUnavailable)
        self.problem("/health", 503, {"type": URN + "store-unavailable", "title": "Busy", "status": 503}, {"retry-after": "2"})
        with self.assertRaises(ServiceUnavailable) as busy:
            self.bridge.get_health()
        self.assertEqual(busy.exception.retry_after, 2.0)

    def test_an_answer_that_is_not_a_problem_still_maps_by_status(self) -> None:
        _Scripted.answers["/api/users/x"] = (404, {"content-type": "text/html"}, b"<h1>no</h1>")
        with self.assertRaises(NotFound) as caught:
            self.bridge.get_user("x")
        self.assertIsNone(caught.exception.type)
        _Scripted.answers["/api/health"] = (408, {}, b"")
        with self.assertRaises(RequestTimeout):
            self.bridge.get_health()
        _Scripted.answers["/api/metrics"] = (502, {}, b"bad gateway")
        with self.assertRaises(ServerError):
            self.bridge.get_performance_metrics()

    def test_a_2xx_answer_that_is_not_json_is_a_transport_error(self) -> None:
        _Scripted.answers["/api/metrics"] = (200, {"content-type": "application/json"}, b"{nope")
        with self.assertRaises(TransportError):
            self.bridge.get_performance_metrics()

    def test_an_oversized_answer_is_refused(self) -> None:
        _Scripted.answers["/api/metrics"] = (200, {"content-type": "application/json"}, b"[" + b"1," * 600 + b"1]")
        small = Bridge(self.bridge.base_url, api_key="k", max_response_bytes=1000)
        with self.assertRaises(TransportError):
            small.get_performance_metrics()

    def test_no_server_is_a_transport_error_within_the_timeout(self) -> None:
        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        with self.assertRaises(TransportError):
            Bridge(f"http://127.0.0.1:{port}/api", api_key="k", timeout=2).get_health()
