"""AsyncBridge: the same surface on asyncio. Calls run the synchronous client in the loop's default
executor (bounded thread pool), so the event loop never blocks on the network; a subscription is
an async iterator fed by one reader thread through a bounded queue (backpressure reaches the socket)."""
from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import inspect
import logging
import threading
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Sequence, TypeVar, Union

from .client import Bridge, Entry
from .errors import BridgeError
from .subscription import Event, Subscription

T = TypeVar("T")
log = logging.getLogger("portal_bridge")
AsyncCallback = Callable[[Event], Union[None, Awaitable[None]]]

#: Events read ahead of the consumer at most, per async subscription.
DEFAULT_QUEUE_SIZE = 256

_END = object()


class AsyncSubscription:
    """``async for event in subscription`` yields CloudEvent dicts; ``await subscription.close()``."""

    def __init__(self, sync: Subscription, loop: asyncio.AbstractEventLoop, queue_size: int) -> None:
        self._sync = sync
        self._loop = loop
        self._queue: "asyncio.Queue[Any]" = asyncio.Queue(maxsize=queue_size)
        self._task: Optional["asyncio.Task[None]"] = None
        self._thread = threading.Thread(target=self._pump, name="portal-bridge-async-subscription", daemon=True)
        self._thread.start()

    @property
    def cursor(self) -> Optional[str]:
        return self._sync.cursor

    @property
    def connections(self) -> int:
        return self._sync.connections

    def _put(self, item: Any) -> bool:
        future = asyncio.run_coroutine_threadsafe(self._queue.put(item), self._loop)
        while True:
            try:
                future.result(timeout=0.5)
                return True
            except concurrent.futures.TimeoutError:
                if self._sync.closed or self._loop.is_closed():
                    future.cancel()
                    return False
            except (concurrent.futures.CancelledError, RuntimeError):
                return False

    def _pump(self) -> None:
        try:
            for event in self._sync:
                if not self._put(event):
                    return
            self._put(_END)
        except BaseException as error:  # handed to the consumer, raised from __anext__
            self._put(error)

    def __aiter__(self) -> "AsyncSubscription":
        return self

    async def __anext__(self) -> Event:
        if self._sync.closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is _END:
            raise StopAsyncIteration
        if isinstance(item, BaseException):
            raise item
        return item

    async def close(self) -> None:
        await self._loop.run_in_executor(None, self._sync.close)
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, BridgeError):
                pass
        # wake a consumer waiting in __anext__
        if self._queue.empty():
            self._queue.put_nowait(_END)

    async def __aenter__(self) -> "AsyncSubscription":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncBridge:
    """``await AsyncBridge(base_url, api_key=…).get_user("ann")``: every Bridge method, awaitable."""

    def __init__(self, base_url: str, api_key: Optional[str] = None, token: Optional[str] = None, **options: Any) -> None:
        self.sync = Bridge(base_url, api_key=api_key, token=token, **options)

    async def _run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(fn, *args, **kwargs))

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self._run(self.sync.request, method, path, **kwargs)

    async def sync_user_data(self, user_id: str, data: Mapping[str, Any], base_version: Optional[int] = None) -> Dict[str, Any]:
        return await self._run(self.sync.sync_user_data, user_id, data, base_version)

    async def get_user(self, user_id: str) -> Entry:
        return await self._run(self.sync.get_user, user_id)

    async def delete_user(self, user_id: str) -> None:
        await self._run(self.sync.delete_user, user_id)

    async def get_state(self, key: str) -> Entry:
        return await self._run(self.sync.get_state, key)

    async def set_state(self, key: str, value: Any, **kwargs: Any) -> Entry:
        return await self._run(self.sync.set_state, key, value, **kwargs)

    async def delete_state(self, key: str, **kwargs: Any) -> None:
        await self._run(self.sync.delete_state, key, **kwargs)

    async def publish_event(self, event_type: str, data: Any, **kwargs: Any) -> Dict[str, Any]:
        return await self._run(self.sync.publish_event, event_type, data, **kwargs)

    async def replay_events(self, after: Optional[str] = None, **kwargs: Any) -> Dict[str, Any]:
        return await self._run(self.sync.replay_events, after, **kwargs)

    async def get_performance_metrics(self) -> Dict[str, Any]:
        return await self._run(self.sync.get_performance_metrics)

    async def get_health(self) -> Dict[str, Any]:
        return await self._run(self.sync.get_health)

    async def portal_comprehensive_analysis(self, candidate_data: Mapping[str, Any]) -> Dict[str, Any]:
        return await self._run(self.sync.portal_comprehensive_analysis, candidate_data)

    async def portal_geographic_analysis(self, location_data: Mapping[str, Any]) -> Dict[str, Any]:
        return await self._run(self.sync.portal_geographic_analysis, location_data)

    async def portal_bayesian_inference(self, prediction_request: Mapping[str, Any]) -> Dict[str, Any]:
        return await self._run(self.sync.portal_bayesian_inference, prediction_request)

    async def subscribe_to_events(
        self,
        types: Optional[Sequence[str]] = None,
        callback: Optional[AsyncCallback] = None,
        after: Optional[str] = None,
        *,
        queue_size: int = DEFAULT_QUEUE_SIZE,
        **options: Any,
    ) -> AsyncSubscription:
        """Returns once the stream is live (``ready``). Iterate it with ``async for``; or give a
        ``callback`` (a function or a coroutine function) that a task calls for each event."""
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        loop = asyncio.get_running_loop()
        sync = await loop.run_in_executor(
            None, functools.partial(self.sync.subscribe_to_events, types, None, after, **options)
        )
        subscription = AsyncSubscription(sync, loop, queue_size)
        if callback is not None:
            subscription._task = loop.create_task(_drive(subscription, callback))
        return subscription

    verify_webhook = staticmethod(Bridge.verify_webhook)


async def _drive(subscription: AsyncSubscription, callback: AsyncCallback) -> None:
    async for event in subscription:
        try:
            result = callback(event)
            if inspect.isawaitable(result):
                await result
        except Exception:  # one bad event never stops the others
            log.exception("portal_bridge: the async callback failed")
            