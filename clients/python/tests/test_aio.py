"""AsyncBridge: the same surface on asyncio, and the async subscription."""
from __future__ import annotations

import asyncio
from typing import Any, Dict, List

from portal_bridge import AsyncBridge, NotFound, PreconditionFailed

from .support import HostTestCase


class AsyncBridgeTest(HostTestCase):
    def run_async(self, coroutine: Any) -> Any:
        return asyncio.run(asyncio.wait_for(coroutine, timeout=60))

    def test_calls(self) -> None:
        async def scenario() -> None:
            bridge = AsyncBridge(self.host.base_url, api_key=self.host.admin_key)
            synced = await bridge.sync_user_data("py-async", {"name": "Ann"})
            self.assertEqual(synced["version"], 1)
            user, metrics = await asyncio.gather(bridge.get_user("py-async"), bridge.get_performance_metrics())
            self.assertEqual(user["data"], {"name": "Ann"})
            self.assertTrue(user.etag)
            self.assertGreaterEqual(metrics["syncCount"], 1)
            entry = await bridge.set_state("py-async", 1)
            with self.assertRaises(PreconditionFailed):
                await bridge.set_state("py-async", 2, if_match='"stale"')
            self.assertEqual((await bridge.get_state("py-async")).etag, entry.etag)
            await bridge.delete_state("py-async", if_match=entry.etag)
            published = await bridge.publish_event("py_async", {"n": 1})
            page = await bridge.replay_events("0", types=["py_async"])
            self.assertEqual([e["id"] for e in page["events"]], [published["id"]])
            bayes = await bridge.portal_bayesian_inference(
                {"role": "Data Engineer", "profile": {"skillsMatched": 1, "skillsRequired": 2, "experienceYears": 1, "requiredExperienceYears": 2}}
            )
            self.assertIn("posterior", bayes["result"])
            geo = await bridge.portal_geographic_analysis({"location": {"lat": 59.91, "lon": 10.75}, "radiusKm": 10, "limit": 1})
            self.assertEqual(geo["metadata"]["provider"], "local")
            cv = await bridge.portal_comprehensive_analysis(
                {"targetRole": "Data Engineer", "skills": ["SQL"], "experienceYears": 1, "education": "BSc"}
            )
            self.assertIn("score", cv["result"])
            await bridge.delete_user("py-async")
            with self.assertRaises(NotFound):
                await bridge.get_user("py-async")

        self.run_async(scenario())

    def test_async_subscription_iterates_and_closes(self) -> None:
        async def scenario() -> None:
            bridge = AsyncBridge(self.host.base_url, api_key=self.host.admin_key)
            async with await bridge.subscribe_to_events(["user_update"], subject="py-aiter") as sub:
                self.assertIsNotNone(sub.cursor)
                acks = [await bridge.sync_user_data("py-aiter", {"i": i}) for i in range(3)]
                got: List[str] = []
                async for event in sub:
                    got.append(event["id"])
                    if len(got) == 3:
                        break
            self.assertEqual(got, [f"user:py-aiter:{a['version']}" for a in acks])
            with self.assertRaises(StopAsyncIteration):
                await sub.__anext__()

        self.run_async(scenario())

    def test_async_subscription_with_a_coroutine_callback(self) -> None:
        async def scenario() -> None:
            bridge = AsyncBridge(self.host.base_url, api_key=self.host.admin_key)
            seen: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()

            async def on_event(event: Dict[str, Any]) -> None:
                await seen.put(event)

            sub = await bridge.subscribe_to_events(["py_async_cb"], on_event)
            try:
                await bridge.publish_event("py_async_cb", {"n": 1}, id="py-acb-1")
                event = await asyncio.wait_for(seen.get(), timeout=20)
                self.assertEqual(event["data"], {"n": 1})
            finally:
                await sub.close()

        self.run_async(scenario())
