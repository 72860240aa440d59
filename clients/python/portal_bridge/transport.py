"""One HTTP exchange with the bridge over http.client: bounded in time and in size."""
from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple
from urllib.parse import urlencode, urlsplit

from .errors import BridgeError, TransportError, from_response

#: Largest answer read into memory (bytes); the bridge's largest answers are far smaller.
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str
    port: int
    prefix: str

    @staticmethod
    def parse(base_url: str) -> "Endpoint":
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, e.g. http://127.0.0.1:7071/api; got {base_url!r}")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return Endpoint(parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    def connection(self, timeout: float) -> http.client.HTTPConnection:
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def target(self, path: str, query: Optional[Mapping[str, Any]] = None) -> str:
        pairs = {k: v for k, v in (query or {}).items() if v is not None}
        return self.prefix + path + (("?" + urlencode(pairs)) if pairs else "")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as error:
            raise TransportError(f"the bridge answered {self.status} with a body that is not JSON") from error


def encode_body(body: Any) -> Tuple[Optional[bytes], Dict[str, str]]:
    if body is None:
        return None, {}
    if isinstance(body, (bytes, bytearray)):
        return bytes(body), {}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), {
        "content-type": "application/json"
    }


def exchange(
    endpoint: Endpoint,
    method: str,
    target: str,
    headers: Mapping[str, str],
    body: Optional[bytes],
    *,
    timeout: float,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
) -> Answer:
    """Sends one request and reads the whole answer; a non-2xx answer raises its BridgeError.
    ``timeout`` bounds the connect and every read."""
    conn = endpoint.connection(timeout)
    try:
        conn.request(method, target, body=body, headers=dict(headers))
        response = conn.getresponse()
        data = response.read(max_response_bytes + 1)
        if len(data) > max_response_bytes:
            raise TransportError(f"the answer is over {max_response_bytes} bytes")
        answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    except BridgeError:
        raise
    except (OSError, http.client.HTTPException, socket.timeout) as error:
        raise TransportError(f"{method} {target}: {error.__class__.__name__}: {error}") from error
    finally:
        conn.close()
    if answer.status >= 400:
        raise from_response(answer.status, answer.headers, answer.body)
    return answer
