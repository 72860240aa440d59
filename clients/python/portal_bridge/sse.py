"""A bounded parser of the Server-Sent Events wire format (text/event-stream), as the bridge sends it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Iterator, Optional

from .errors import StreamError

#: Longest line accepted (bytes, without its line break). The bridge's events are at most
#: BRIDGE_MAX_BODY_BYTES (1 MiB by default) of JSON, so the default leaves room for escaping.
DEFAULT_MAX_LINE_BYTES = 4 * 1024 * 1024
#: Largest frame accepted (the sum of its data lines).
DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Frame:
    """One dispatched frame. ``event`` is None for plain events (EventSource's ``message``)."""

    event: Optional[str]
    id: Optional[str]
    data: str
    retry_ms: Optional[int] = None
    comment: bool = False


def read_frames(
    stream: BinaryIO,
    *,
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
) -> Iterator[Frame]:
    """Yields frames until the stream ends. Comments (``: heartbeat``) come out as ``comment=True``
    frames so a reader can tell the connection is alive. A line or frame over its bound raises
    StreamError: the bridge never sends one, so it means a broken or hostile peer."""
    event: Optional[str] = None
    frame_id: Optional[str] = None
    data: list = []
    data_bytes = 0
    retry_ms: Optional[int] = None
    while True:
        raw = stream.readline(max_line_bytes + 2)
        if not raw:
            return  # EOF: a frame without its blank line is incomplete and dropped (as the spec says)
        if not raw.endswith(b"\n"):
            if len(raw) >= max_line_bytes:
                raise StreamError(f"an event-stream line is over {max_line_bytes} bytes")
            return  # the connection ended mid-line
        line = raw.rstrip(b"\n").rstrip(b"\r").decode("utf-8", errors="replace")
        if line == "":
            if data or event is not None or frame_id is not None:
                yield Frame(event=event, id=frame_id, data="\n".join(data), retry_ms=retry_ms)
            event, frame_id, data, data_bytes, retry_ms = None, None, [], 0, None
            continue
        if line.startswith(":"):
            yield Frame(event=None, id=None, data=line[1:].strip(), comment=True)
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            data_bytes += len(value) + 1
            if data_bytes > max_frame_bytes:
                raise StreamError(f"an event-stream frame is over {max_frame_bytes} bytes")
            data.append(value)
        elif name == "event":
            event = value
        elif name == "id":
            if "\0" not in value:
                frame_id = value
        elif name == "retry":
            if value.isdigit():
                retry_ms = int(value)
        # other field names are ignored, as the spec says
