"""Shared test plumbing: one local host per test class, keys, and bounded waits."""
from __future__ import annotations

import sys
import time
import unittest
from pathlib import Path
from typing import Callable, ClassVar, Dict, Optional, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the package from this checkout

from portal_bridge import Bridge  # noqa: E402

from .localhost import LocalHost  # noqa: E402

T = TypeVar("T")

#: What every test host gets: heartbeats every second, so a dead connection is noticed fast.
BASE_ENV = {"BRIDGE_STREAM_HEARTBEAT_SECONDS": "1", "BRIDGE_EVENTS_FAST_PATH": "true"}


def wait_for(probe: Callable[[], Optional[T]], timeout: float = 20.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class HostTestCase(unittest.TestCase):
    """Starts one host for the class (``ENV`` adds settings) and cleans it up afterwards."""

    ENV: ClassVar[Dict[str, str]] = {}
    host: ClassVar[LocalHost]
    admin: ClassVar[Bridge]

    @classmethod
    def setUpClass(cls) -> None:
        cls.host = LocalHost(env={**BASE_ENV, **cls.ENV})
        cls.addClassCleanup(cls.host.cleanup)
        cls.host.start()
        cls.admin = Bridge(cls.host.base_url, api_key=cls.host.admin_key)

    @classmethod
    def new_key(cls, role: str = "user") -> str:
        answer = cls.admin.request("POST", "/keys", json={"role": role, "name": f"python tests {role}"})
        return str(answer.json()["key"])

    @classmethod
    def client(cls, role: str = "user") -> Bridge:
        return Bridge(cls.host.base_url, api_key=cls.new_key(role))
