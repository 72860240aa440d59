"""verify_webhook: a real delivery from the local host is accepted; forged, altered, expired and
malformed ones are refused."""
from __future__ import annotations

import base64
import http.server
import queue
import threading
import time
import unittest
from typing import Dict, Tuple

from portal_bridge import Bridge, WebhookVerificationError, sign_webhook, verify_webhook

from .support import HostTestCase

Delivery = Tuple[Dict[str, str], bytes]
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


class _Receiver(http.server.BaseHTTPRequestHandler):
    deliveries: "queue.Queue[Delivery]" = queue.Queue()

    def do_POST(self) -> None:  # noqa: N802
        length = min(int(self.headers.get("content-length", "0")), 1_000_000)
        body = self.rfile.read(length)
        type(self).deliveries.put(({k: v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _serve(test: unittest.TestCase, handler: type, path: str) -> str:
    """Runs `handler` on a loopback port until the test ends; returns its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    test.addCleanup(server.server_close)
    test.addCleanup(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


class RealDeliveryTest(HostTestCase):
    def test_a_delivery_from_the_bridge_verifies_and_a_forged_one_does_not(self) -> None:
        url = _serve(self, _Receiver, "/hooks")
        portal = self.client("user")
        created = portal.request("POST", "/subscriptions", json={"eventTypes": ["py_hook"], "url": url}).json()
        secret = created["secret"]
        self.assertTrue(secret.startswith("whsec_"))
        published = portal.publish_event("py_hook", {"hello": "world"}, id="py-hook-1")
        headers, body = _Receiver.deliveries.get(timeout=30)

        event = verify_webhook(secret, headers, body)
        self.assertEqual(event["id"], published["id"])
        self.assertEqual(event["data"], {"hello": "world"})
        self.assertEqual(Bridge.verify_webhook(secret, headers, body.decode())["id"], published["id"])

        with self.assertRaises(WebhookVerificationError):
            verify_webhook(secret, headers, body.replace(b"world", b"w0rld"))  # altered body
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(SECRET, headers, body)  # another subscription's secret
        forged = dict(headers, **{"webhook-signature": sign_webhook(SECRET, headers["webhook-id"], int(headers["webhook-timestamp"]), body)})
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(secret, forged, body)
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(secret, headers, body, now=time.time() + 3600)  # replayed an hour later


class _BatchReceiver(_Receiver):
    """The same receiver with a queue of its own."""

    deliveries: "queue.Queue[Delivery]" = queue.Queue()


class BatchedDeliveryTest(HostTestCase):
    def test_a_batched_subscription_gets_verified_lists_of_events(self) -> None:
        url = _serve(self, _BatchReceiver, "/batched")
        portal = self.client("user")
        created = portal.request(
            "POST", "/subscriptions", json={"eventTypes": ["py_batch"], "url": url, "maxEventsPerBatch": 5}
        ).json()
        self.assertEqual(created["maxEventsPerBatch"], 5)
        ids = [portal.publish_event("py_batch", {"n": n}, id=f"py-batch-{n}")["id"] for n in range(3)]
        received = []
        while len(received) < len(ids):
            headers, body = _BatchReceiver.deliveries.get(timeout=30)
            content_type = next(v for k, v in headers.items() if k.lower() == "content-type")
            self.assertTrue(content_type.startswith("application/cloudevents-batch+json"))
            batch = verify_webhook(created["secret"], headers, body)
            self.assertIsInstance(batch, list)
            self.assertLessEqual(len(batch), 5)
            received.extend(event["id"] for event in batch)
        self.assertEqual(sorted(received), sorted(ids))
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(created["secret"], headers, body.replace(b"py_batch", b"py_bat_h"))


class VerifyTest(unittest.TestCase):
    body = b'{"id":"evt-1","type":"user_update"}'

    def headers(self, timestamp: int, signature: str) -> Dict[str, str]:
        return {"Webhook-Id": "evt-1", "Webhook-Timestamp": str(timestamp), "Webhook-Signature": signature}

    def test_valid_with_any_header_case_and_several_signatures(self) -> None:
        now = int(time.time())
        good = sign_webhook(SECRET, "evt-1", now, self.body)
        other = sign_webhook("whsec_" + base64.b64encode(b"x" * 32).decode(), "evt-1", now, self.body)
        self.assertEqual(verify_webhook(SECRET, self.headers(now, good), self.body)["type"], "user_update")
        self.assertEqual(verify_webhook(SECRET, self.headers(now, f"v1a,xyz {other} {good}"), self.body)["id"], "evt-1")

    def test_refused(self) -> None:
        now = int(time.time())
        good = sign_webhook(SECRET, "evt-1", now, self.body)
        cases = {
            "no signature matches": self.headers(now, "v1," + base64.b64encode(b"\0" * 32).decode()),
            "only another version": self.headers(now, "v2," + good.split(",", 1)[1]),
            "too old": self.headers(now - 301, sign_webhook(SECRET, "evt-1", now - 301, self.body)),
            "in the future": self.headers(now + 301, sign_webhook(SECRET, "evt-1", now + 301, self.body)),
            "timestamp not a number": self.headers(now, good) | {"Webhook-Timestamp": "soon"},
            "id changed": self.headers(now, good) | {"Webhook-Id": "evt-2"},
            "signature header too long": self.headers(now, good + " " + "v1,AAAA" * 2000),
        }
        for name, headers in cases.items():
            with self.subTest(name), self.assertRaises(WebhookVerificationError):
                verify_webhook(SECRET, headers, self.body)
        for missing in ("Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"):
            headers = self.headers(now, good)
            del headers[missing]
            with self.subTest(missing=missing), self.assertRaises(WebhookVerificationError):
                verify_webhook(SECRET, headers, self.body)

    def test_tolerance_is_configurable(self) -> None:
        then = int(time.time()) - 600
        headers = self.headers(then, sign_webhook(SECRET, "evt-1", then, self.body))
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(SECRET, headers, self.body)
        self.assertEqual(verify_webhook(SECRET, headers, self.body, tolerance_seconds=900)["id"], "evt-1")

    def test_a_secret_that_is_not_base64_is_a_value_error(self) -> None:
        with self.assertRaises(ValueError):
            verify_webhook("whsec_!!!", self.headers(0, "v1,x"), self.body, now=0)
