"""subscribe_to_events against the local host: ready, live events, callbacks, resume, dedupe,
the bridge closing a stream, and the host killed and restarted mid-stream."""
from __future__ import annotations

import queue
import threading
import time
import unittest
from typing import Any, Dict, List

from portal_bridge import Bridge, Subscription

from .localhost import LocalHost, free_port
from .support import BASE_ENV, HostTestCase, wait_for

Event = Dict[str, Any]


def take(sub: Subscription, count: int, timeout: float = 20.0) -> List[Event]:
    """The next ``count`` events of an iterator-mode subscription, within ``timeout`` (else the test fails)."""
    out: List[Event] = []
    done = threading.Event()

    def run() -> None:
        for event in sub:
            out.append(event)
            if len(out) == count:
                break
        done.set()

    threading.Thread(target=run, daemon=True).start()
    if not done.wait(timeout):
        sub.close()
        raise AssertionError(f"got {len(out)} of {count} events within {timeout} s")
    return out


def event_ids(acks: List[Dict[str, Any]]) -> List[str]:
    return [f"user:{a['userId']}:{a['version']}" for a in acks]


class StreamTest(HostTestCase):
    ENV = {"BRIDGE_STREAM_MAX_SECONDS": "10"}

    def test_ready_then_every_later_change_once_in_order(self) -> None:
        portal = self.client("user")
        with portal.subscribe_to_events(["user_update"]) as sub:
            self.assertEqual(sub.connections, 1)
            ready_cursor = sub.cursor
            self.assertRegex(ready_cursor or "", r"^\d{16}$")
            self.admin.publish_event("py_other", {"skip": True})
            acks = [self.admin.sync_user_data(f"py-s{i % 3}", {"i": i}) for i in range(6)]
            got = take(sub, 6)
        self.assertEqual([e["id"] for e in got], event_ids(acks))
        self.assertEqual(sub.cursor, got[-1]["sequence"])
        self.assertTrue(sub.closed)

    def test_after_resumes_from_a_kept_cursor(self) -> None:
        start = self.admin.replay_events("0", limit=1000)["next"]
        acks = [self.admin.sync_user_data("py-after", {"i": i}) for i in range(3)]
        with self.admin.subscribe_to_events(["user_update"], after=start, subject="py-after") as sub:
            got = take(sub, 3)
        self.assertEqual([e["id"] for e in got], event_ids(acks))

    def test_callback_thread_survives_a_failing_callback(self) -> None:
        received: "queue.Queue[Event]" = queue.Queue()
        errors: List[BaseException] = []

        def callback(event: Event) -> None:
            if event["data"]["changes"]["i"] == 0:
                raise RuntimeError("a bad event")
            received.put(event)

        sub = self.admin.subscribe_to_events(["user_update"], callback, subject="py-cb", on_error=errors.append)
        try:
            with self.assertLogs("portal_bridge", "ERROR") as logged:
                acks = [self.admin.sync_user_data("py-cb", {"i": i}) for i in range(3)]
                got = [received.get(timeout=20) for _ in range(2)]
        finally:
            sub.close()
        self.assertIn("callback failed on user:py-cb:1", logged.output[0])
        self.assertEqual([e["id"] for e in got], event_ids(acks)[1:])
        self.assertEqual([str(e) for e in errors], ["a bad event"])
        sub.join(5)
        self.assertIsNone(sub.error)

    def test_events_seen_again_after_a_resume_are_dropped(self) -> None:
        with self.admin.subscribe_to_events(["user_update"], subject="py-dup") as sub:
            ready_cursor = sub.cursor
            first = [self.admin.sync_user_data("py-dup", {"i": i}) for i in range(3)]
            self.assertEqual([e["id"] for e in take(sub, 3)], event_ids(first))
            sub.cursor = ready_cursor  # as if the last cursor had been lost: the stream replays all 3
            sub.reconnect()
            later = self.admin.sync_user_data("py-dup", {"i": 3})
            (only,) = take(sub, 1)
        self.assertEqual(only["id"], event_ids([later])[0])
        self.assertGreaterEqual(sub.connections, 2)

    def test_a_stream_the_bridge_closes_resumes_with_nothing_lost(self) -> None:
        # BRIDGE_STREAM_MAX_SECONDS=10: the bridge sends `close` after 10 s, the client resumes at once.
        received: "queue.Queue[Event]" = queue.Queue()
        sub = self.admin.subscribe_to_events(["user_update"], received.put, subject="py-close")
        try:
            acks = [self.admin.sync_user_data("py-close", {"i": 0})]
            wait_for(lambda: sub.connections >= 2, timeout=25, what="the resume after close")
            acks += [self.admin.sync_user_data("py-close", {"i": i}) for i in range(1, 4)]
            got = [received.get(timeout=20)["id"] for _ in range(4)]
        finally:
            sub.close()
        self.assertEqual(got, event_ids(acks))
        self.assertTrue(received.empty())


class HostRestartTest(unittest.TestCase):
    def test_the_host_killed_and_restarted_resumes_with_no_gap_and_no_duplicate(self) -> None:
        host = LocalHost(env=BASE_ENV, port=free_port())
        self.addCleanup(host.cleanup)
        host.start()
        port = host.port
        admin = Bridge(host.base_url, api_key=host.admin_key)
        received: "queue.Queue[Event]" = queue.Queue()
        sub = admin.subscribe_to_events(
            ["user_update"], received.put, backoff_base=0.2, backoff_max=1.0, max_retries=60
        )
        self.addCleanup(sub.close)
        acks = [admin.sync_user_data(f"py-r{i % 3}", {"i": i}) for i in range(5)]
        got = [received.get(timeout=20)["id"] for _ in range(5)]
        # More writes, then a crash right after their acks: some may not have reached the client.
        acks += [admin.sync_user_data(f"py-r{i % 3}", {"i": i}) for i in range(5, 10)]
        host.kill9()
        time.sleep(0.5)  # the client is now retrying against a closed port
        host.start()
        self.assertEqual(host.port, port)
        acks += [admin.sync_user_data(f"py-r{i % 3}", {"i": i}) for i in range(10, 15)]
        while len(got) < 15:
            got.append(received.get(timeout=30)["id"])
        time.sleep(1.0)  # anything extra (a duplicate) would arrive now
        self.assertTrue(received.empty(), "a duplicate arrived")
        self.assertEqual(got, event_ids(acks))
        self.assertGreaterEqual(sub.connections, 2)
        self.assertIsNone(sub.error)
        # While it retries against a host that is gone, close() ends the subscription promptly.
        host.kill9()
        time.sleep(0.5)
        started = time.monotonic()
        sub.close()
        self.assertLess(time.monotonic() - started, 3.0)
        self.assertIsNone(sub.error)
