"""Starts the built local host (node dist/local/main.js, or dist/local/host.js before the split) for
the tests: a temporary data directory, a free loopback port, a known admin key; bounded in time and
cleaned up (SIGTERM, then SIGKILL; the data directory is removed unless a test keeps it)."""
from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

ROOT = Path(__file__).resolve().parents[3]
ENTRIES = [ROOT / "dist" / "local" / "main.js", ROOT / "dist" / "local" / "host.js"]
LISTENING = re.compile(r"Portal Bridge local host listening on http://[^:\s]+:(\d+)(/\S*)")
START_TIMEOUT = 40.0
STOP_TIMEOUT = 15.0
MAX_OUTPUT_CHARS = 1_000_000


def host_entry() -> Path:
    for entry in ENTRIES:
        if entry.exists():
            return entry
    raise RuntimeError(
        f"the local host is not built ({' or '.join(str(e) for e in ENTRIES)} missing): run npm run build in {ROOT}"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalHost:
    """One host process. ``start()`` again after ``kill9()``/``stop()`` restarts it on the same data
    directory and port."""

    def __init__(self, env: Optional[Dict[str, str]] = None, port: int = 0) -> None:
        self.data_dir = tempfile.mkdtemp(prefix="bridge-py-")
        self.admin_key = secrets.token_urlsafe(32)
        self.extra_env = dict(env or {})
        self.port = port
        self.base_url = ""
        self.process: Optional[subprocess.Popen] = None
        self._output: List[str] = []
        self._drainer = threading.Thread()

    def env(self) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("BRIDGE_") and k != "PORT"}
        env.update(
            PORT=str(self.port),
            BRIDGE_DATA_DIR=self.data_dir,
            BRIDGE_ADMIN_KEY=self.admin_key,
            BRIDGE_ACCESS_LOG="false",
        )
        env.update(self.extra_env)
        return env

    def output(self) -> str:
        return "".join(self._output)

    def _drain(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        size = 0
        for line in iter(process.stdout.readline, ""):
            if size < MAX_OUTPUT_CHARS:
                self._output.append(line)
                size += len(line)

    def start(self) -> "LocalHost":
        entry = host_entry()
        self._output = []
        process = subprocess.Popen(
            ["node", str(entry)],
            cwd=str(ROOT),
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.process = process
        self._drainer = threading.Thread(target=self._drain, args=(process,), daemon=True)
        self._drainer.start()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            match = LISTENING.search(self.output())
            if match:
                self.port = int(match.group(1))
                self.base_url = f"http://127.0.0.1:{self.port}{match.group(2)}"
                return self
            if process.poll() is not None:
                break
            time.sleep(0.05)
        self.kill9()
        raise RuntimeError(f"the local host did not start within {START_TIMEOUT} s\n--- output ---\n{self.output()}")

    def _reap(self) -> None:
        assert self.process is not None
        self._drainer.join(STOP_TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def kill9(self) -> None:
        """A crash: SIGKILL, nothing flushed."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(STOP_TIMEOUT)
            self._reap()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is not None:
            self._reap()
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(STOP_TIMEOUT)
            self._reap()
        except subprocess.TimeoutExpired:
            self.kill9()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
