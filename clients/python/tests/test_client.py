"""Every Bridge method against a real local host."""
from __future__ import annotations

import http.server
import threading
import unittest
from typing import Dict, List

from portal_bridge import Bridge, Conflict, Entry, NotFound, PreconditionFailed, Unauthorized

from .support import HostTestCase


class BridgeMethodsTest(HostTestCase):
    def test_sync_user_data_get_user_delete_user(self) -> None:
        first = self.admin.sync_user_data("py-ann", {"name": "Ann", "role": "member"})
        self.assertTrue(first["success"])
        self.assertEqual(first["version"], 1)
        self.assertEqual(sorted(first["applied"]), ["name", "role"])
        portal = self.client("user")
        second = portal.sync_user_data("py-ann", {"name": "Annie", "role": "admin"}, base_version=1)
        self.assertEqual(second["applied"], ["name"])
        self.assertEqual(second["rejected"], [{"field": "role", "reason": "protected"}])
        user = portal.get_user("py-ann")
        self.assertIsInstance(user, Entry)
        self.assertEqual(user["data"], {"name": "Annie", "role": "member"})
        self.assertEqual(user["version"], 2)
        self.assertTrue(user.etag)
        removed = self.admin.sync_user_data("py-ann", {"name": None})
        self.assertEqual(removed["data"], {"role": "member"})
        self.admin.delete_user("py-ann")
        with self.assertRaises(NotFound):
            portal.get_user("py-ann")
        with self.assertRaises(NotFound):
            self.admin.delete_user("py-ann")

    def test_ids_are_path_escaped(self) -> None:
        # "a/b" is not a valid user id: it must reach the bridge as one segment and be refused there
        with self.assertRaises(Exception) as caught:
            self.admin.get_user("a/b")
        self.assertEqual(getattr(caught.exception, "status", None), 400)

    def test_state_with_etags(self) -> None:
        created = self.admin.set_state("py-flags", {"dark": True}, if_none_match="*", ttl_seconds=3600)
        self.assertEqual(created["value"], {"dark": True})
        self.assertIn("expiresAt", created)
        self.assertTrue(created.etag)
        with self.assertRaises(PreconditionFailed):
            self.admin.set_state("py-flags", {"dark": False}, if_none_match="*")
        read = self.client("user").get_state("py-flags")
        self.assertEqual(read.etag, created.etag)
        updated = self.admin.set_state("py-flags", {"dark": False}, if_match=created.etag)
        self.assertNotEqual(updated.etag, created.etag)
        self.assertEqual(updated["version"], created["version"] + 1)
        with self.assertRaises(PreconditionFailed) as stale:
            self.admin.set_state("py-flags", {"dark": True}, if_match=created.etag)
        self.assertIsInstance(stale.exception, Conflict)  # a lost race, whichever way it is caught
        with self.assertRaises(PreconditionFailed):
            self.admin.delete_state("py-flags", if_match=created.etag)
        self.admin.delete_state("py-flags", if_match=updated.etag)
        with self.assertRaises(NotFound):
            self.admin.get_state("py-flags")
        with self.assertRaises(NotFound):
            self.admin.delete_state("py-flags")

    def test_publish_event_and_replay_events(self) -> None:
        portal = self.client("user")
        start = portal.replay_events("0", limit=1000)["next"]
        one = portal.publish_event("py_note", {"n": 1}, subject="py-bob", id="py-note-1")
        again = portal.publish_event("py_note", {"n": 1}, subject="py-bob", id="py-note-1")
        self.assertFalse(one["duplicate"])
        self.assertTrue(again["duplicate"])
        self.assertEqual(one["id"], again["id"])
        portal.publish_event("py_other", {"n": 2})
        portal.publish_event("py_note", {"n": 3}, subject="py-bob")
        seen: List[Dict[str, object]] = []
        after = start
        for _ in range(10):  # page by page, one event a page
            page = portal.replay_events(after, types=["py_note"], limit=1)
            seen.extend(page["events"])
            if not page["events"]:
                break
            after = page["next"]
        self.assertEqual([e["data"] for e in seen], [{"n": 1}, {"n": 3}])
        self.assertEqual({e["subject"] for e in seen}, {"py-bob"})
        by_subject = portal.replay_events(start, subject="py-bob")
        self.assertEqual(len(by_subject["events"]), 2)

    def test_get_performance_metrics(self) -> None:
        before = self.admin.get_performance_metrics()["syncCount"]
        self.admin.sync_user_data("py-metrics", {"n": 1})
        metrics = self.client("user").get_performance_metrics()
        self.assertEqual(metrics["syncCount"], before + 1)
        for key in ("successRate", "latencyMs", "syncHealth", "eventCount", "propagationMs", "streams"):
            self.assertIn(key, metrics)

    def test_analyses(self) -> None:
        portal = self.client("user")
        comprehensive = portal.portal_comprehensive_analysis(
            {
                "userId": "py-cv",
                "targetRole": "Senior Data Engineer",
                "skills": ["Python", "SQL", "Spark"],
                "experienceYears": 3,
                "education": "MSc Computer Science",
            }
        )
        self.assertTrue(0 <= comprehensive["result"]["score"] <= 100)
        self.assertIn("provider", comprehensive["metadata"])
        self.assertIn("sequence", comprehensive["event"])
        geographic = portal.portal_geographic_analysis({"location": "Leeds, GB", "radiusKm": 30, "limit": 3})
        self.assertEqual(geographic["metadata"]["model"], "gazetteer-haversine")
        self.assertLessEqual(len(geographic["result"]["nearby"]), 3)
        bayesian = portal.portal_bayesian_inference(
            {
                "role": "Data Engineer",
                "profile": {"skillsMatched": 7, "skillsRequired": 10, "experienceYears": 2, "requiredExperienceYears": 3},
            }
        )
        low, high = bayesian["result"]["credibleInterval"]
        self.assertTrue(0 <= low <= bayesian["result"]["probability"] <= high <= 1)

    def test_health(self) -> None:
        self.assertEqual(self.admin.get_health()["status"], "ok")

    def test_a_token_that_is_not_valid_is_unauthorized(self) -> None:
        with self.assertRaises(Unauthorized):
            Bridge(self.host.base_url, token="not-a-valid-token").get_performance_metrics()


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: List[Dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802
        _Recorder.seen.append({k.lower(): v for k, v in self.headers.items()})
        body = b'{"ok":true}'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class CredentialsTest(unittest.TestCase):
    def test_exactly_one_credential(self) -> None:
        with self.assertRaises(ValueError):
            Bridge("http://127.0.0.1:1/api")
        with self.assertRaises(ValueError):
            Bridge("http://127.0.0.1:1/api", api_key="a", token="b")
        with self.assertRaises(ValueError):
            Bridge("ftp://example/api", api_key="a")

    def test_token_is_sent_as_bearer(self) -> None:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/api"
            self.assertEqual(Bridge(url, token="tok-1").get_performance_metrics(), {"ok": True})
            Bridge(url, api_key="key-1").get_performance_metrics()
        finally:
            server.shutdown()
            server.server_close()
        self.assertEqual(_Recorder.seen[0].get("authorization"), "Bearer tok-1")
        self.assertNotIn("x-api-key", _Recorder.seen[0])
        self.assertEqual(_Recorder.seen[1].get("x-api-key"), "key-1")
        self.assertNotIn("authorization", _Recorder.seen[1])
